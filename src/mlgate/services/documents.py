"""Shared document plumbing: OpenSearch write responses and searching a collection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from mlgate.domain.search import StoredDoc, search
from mlgate.services.cpu import CpuWorkers
from mlgate.storage.store import Store

SHARDS = {"total": 2, "successful": 1, "failed": 0}

# Fields ML Commons maps as keyword (exact match) in its system indices.
KEYWORD_FIELDS = frozenset(
    {
        "algorithm",
        "model_state",
        "state",
        "access",
        "task_type",
        "function_name",
        "model_group_id",
        "connector_id",
        "model_id",
        "protocol",
        "model_version",
        "version",
        "worker_node",
        "action_type",
        "input_type",
        "tenant_id",
        "model_content_hash_value",
        # flat_object fields in ML Commons' mappings: every leaf is an exact-match keyword.
        "parameters.*",
        "client_config.*",
        "actions.*",
        "deploy_setting.*",
        "rate_limiter.*",
        "interface.*",
        "remote_job.*",
        "model_config.additional_config.*",
    }
)
# Fields ML Commons maps as date (epoch milliseconds) in its system indices.
DATE_FIELDS = frozenset(
    {
        "created_time",
        "last_updated_time",
        "last_registered_time",
        "last_deployed_time",
        "last_undeployed_time",
        "create_time",
        "last_update_time",
    }
)


def write_response(index: str, doc_id: str, result: str, doc: StoredDoc | None) -> dict[str, Any]:
    """The core index/update/delete response ML Commons returns for writes."""
    return {
        "_index": index,
        "_id": doc_id,
        "_version": doc.version if doc else 1,
        "result": result,
        "forced_refresh": True,
        "_shards": SHARDS,
        "_seq_no": doc.seq_no if doc else 0,
        "_primary_term": doc.primary_term if doc else 1,
    }


async def search_collection(
    store: Store,
    cpu: CpuWorkers,
    collection: str,
    body: Mapping[str, Any] | None,
    *,
    url_params: Mapping[str, str] | None = None,
    extra_filter: Mapping[str, Any] | None = None,
    source_excludes: Sequence[str] = (),
    visible: Any = None,
) -> dict[str, Any]:
    """Run an OpenSearch query over one collection, in a worker thread of ``cpu`` (within the
    search's step budget) so that the event loop keeps serving other requests meanwhile."""
    docs = await store.load_all(collection)
    if visible is not None:
        docs = [d for d in docs if visible(d)]
    return await cpu.run(
        partial(
            search,
            docs,
            body,
            index=collection,
            extra_filter=extra_filter,
            source_excludes=source_excludes,
            keyword_fields=KEYWORD_FIELDS,
            date_fields=DATE_FIELDS,
            url_params=url_params,
        )
    )
