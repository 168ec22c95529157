"""Crash safety: a writer killed with SIGKILL in the middle of bulk writes loses no acknowledged item and
leaves no half-written one (a document without its terms or its vector), on both engines."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import orjson
from tests.storage import index_store_support as support
from tests.storage.index_crash_writer import BATCH, INDEX, MAPPING, document
from tests.storage.index_store_support import IndexStoreFactory, create, item, vector_fields

from mlgate.domain.indices.mapping import parse_mappings

engine, index_pg_url, index_target, make_index_store = (
    support.engine,
    support.index_pg_url,
    support.index_target,
    support.make_index_store,
)
ROOT = Path(__file__).resolve().parents[2]
APPROXIMATE_FROM = 100
# Bulks acknowledged before the kill: enough that it lands in the middle of writing.
ACKNOWLEDGED_BULKS = 15


async def _run_writer_until_killed(engine: str, target: str, first: int) -> set[str]:
    """Start the writer, wait for enough acknowledged bulks, kill -9 it; returns the acknowledged ids."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.storage.index_crash_writer",
        engine,
        target,
        str(APPROXIMATE_FROM),
        str(first),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    assert process.stdout is not None
    acknowledged: set[str] = set()
    try:
        for _ in range(ACKNOWLEDGED_BULKS):
            line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
            assert line, (await process.stderr.read()).decode() if process.stderr else "writer ended"  # type: ignore[union-attr]
            acknowledged.update(line.decode().split())
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    # Whatever the writer printed before dying was acknowledged too.
    rest = await process.stdout.read()
    for line in rest.decode().splitlines():
        if len(line.split()) == BATCH:
            acknowledged.update(line.split())
    assert process.returncode == -signal.SIGKILL
    return acknowledged


async def test_kill_9_mid_bulk_loses_nothing_acknowledged(
    make_index_store: IndexStoreFactory, engine: str, index_target: object
) -> None:
    # A first batch written and closed cleanly: the embedded engine saves its HNSW snapshot, which the
    # restart must reconcile with what the killed writer committed after it.
    store = make_index_store(approximate_from=APPROXIMATE_FROM)
    await store.open()
    mappings = await create(store, INDEX, MAPPING)
    assert mappings == parse_mappings(MAPPING)
    first = [item(mappings, f"d{n}", document(n)) for n in range(200)]
    await store.write(INDEX, first, vector_fields=vector_fields(mappings))
    await store.close()

    acknowledged = await _run_writer_until_killed(engine, str(index_target), 200)
    assert len(acknowledged) >= ACKNOWLEDGED_BULKS * BATCH

    reopened = make_index_store(approximate_from=APPROXIMATE_FROM)
    await reopened.open()
    stored = {doc.doc_id: doc for doc in await reopened.scan(INDEX, limit=100_000)}
    assert acknowledged <= set(stored)
    for doc_id in acknowledged:
        assert orjson.loads(stored[doc_id].source) == document(int(doc_id[1:]))
    # Every stored document is whole: its terms and its vector are there, and the statistics agree.
    keys = {doc.key for doc in stored.values()}
    common = await reopened.term_stats(INDEX, "text", ["common"])
    assert common.doc_count == len(stored) == common.doc_freqs["common"]
    assert {posting.key for posting in common.postings} == keys
    assert common.sum_length == 3 * len(stored)
    everything = await reopened.knn(INDEX, "v", [0.0, 0.0, 1.0, -1.0], len(stored) + 10, exact=True)
    assert {hit.key for hit in everything} == keys
    # The (reloaded and reconciled) approximate index finds the newest acknowledged document.
    newest = max(int(doc_id[1:]) for doc_id in acknowledged)
    nearest = await reopened.knn(INDEX, "v", document(newest)["v"], 1)  # type: ignore[arg-type]
    assert stored[f"d{newest}"].key == nearest[0].key and nearest[0].distance == 0.0
