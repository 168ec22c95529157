"""The IndexStore protocol: where OpenSearch-style indices keep documents, terms and vectors.

Two engines implement it and pass one contract suite (tests/storage/test_index_store_contract.py): the
embedded one (``index_sqlite.py``: SQLite + FTS5 + a faiss vector index, in the data directory) and
PostgreSQL + pgvector (``index_postgres.py``), shared by several nodes.

What the store knows is what the domain produced (``domain/indices``): the analysed terms of each field
(``ParsedDocument.terms``) and its vectors; scores are the domain's (BM25, k-NN spaces) computed from the
statistics and distances returned here, never an engine's own score.

Semantics every engine keeps:

- **Durable on acknowledgement.** ``write`` returns after its items are committed; a crash loses no
  acknowledged item and never leaves half an item (a document without its terms or vector).
- **Items are independent.** A bulk's items share one commit, but one item's failure (a version conflict)
  touches no other item; results come back in request order.
- **Visible on acknowledgement.** Everything written is searchable when ``write`` returns; ``refresh``
  is accepted for compatibility and waits for nothing more.
- **One shard.** Statistics are index-wide (document count, document frequencies, sum of lengths).
- Documents get a fresh internal key on every write (an overwrite moves the document to the end, as a
  re-indexed Lucene document does): keys order ties as insertion order does in OpenSearch.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

# A bulk item's operation: ``index`` creates or replaces, ``create`` refuses an existing id.
WriteOp = Literal["index", "create", "delete"]


class IndexExists(Exception):
    """``create_index`` found the name taken; carries the existing index's uuid."""

    def __init__(self, uuid: str) -> None:
        super().__init__(uuid)
        self.uuid = uuid


class IndexMissing(Exception):
    """The named index does not exist."""


class MappingConflict(Exception):
    """``put_mappings``/``write`` with ``if_mapping_version`` lost the race: reload and redo."""


class VectorExtensionMissing(RuntimeError):
    """PostgreSQL has no ``vector`` extension available (raised when the engine opens)."""


@dataclass(frozen=True)
class IndexRecord:
    """An index's metadata: settings as flat ``index.*`` strings, mappings as their JSON."""

    name: str
    uuid: str
    creation_date_ms: int
    settings: Mapping[str, str]
    mappings: Mapping[str, Any]
    mapping_version: int = 1


@dataclass(frozen=True)
class VectorField:
    """A ``knn_vector`` field as the store indexes it."""

    dimension: int
    space_type: str


@dataclass(frozen=True)
class DocumentWrite:
    """One bulk item. ``source`` is the ``_source`` exactly as it will be returned (JSON bytes);
    ``terms`` the analysed values per field (``ParsedDocument.terms``), ``vectors`` per knn field.
    ``if_seq_no``/``if_primary_term`` make the write conditional (OpenSearch optimistic concurrency)."""

    op: WriteOp
    doc_id: str
    source: bytes | None = None
    terms: Mapping[str, Sequence[Sequence[str]]] = field(default_factory=dict)
    vectors: Mapping[str, Sequence[float]] = field(default_factory=dict)
    if_seq_no: int | None = None
    if_primary_term: int | None = None


@dataclass(frozen=True)
class WriteResult:
    """An applied item: ``created``, ``updated``, ``deleted`` or ``not_found`` (a delete of nothing)."""

    doc_id: str
    result: str
    version: int
    seq_no: int
    primary_term: int = 1


@dataclass(frozen=True)
class WriteConflict:
    """A refused item (``version_conflict_engine_exception``): nothing of it was written."""

    doc_id: str
    current_version: int | None
    current_seq_no: int | None
    current_primary_term: int | None


@dataclass(frozen=True)
class StoredDocument:
    """A stored document: its internal key orders ties; ``source`` is the bytes as written."""

    key: int
    doc_id: str
    source: bytes
    version: int
    seq_no: int
    primary_term: int = 1


@dataclass(frozen=True)
class Posting:
    """A document holding some of the queried terms in one field."""

    key: int
    length: int
    freqs: Mapping[str, int]
    # Lucene positions per term (values of a multi-valued field are 100 positions apart); only when asked.
    positions: Mapping[str, tuple[int, ...]] | None = None


@dataclass(frozen=True)
class TermStats:
    """One consistent snapshot of a field's statistics and the postings of some terms."""

    doc_count: int
    sum_length: int
    doc_freqs: Mapping[str, int]
    postings: Sequence[Posting]


@dataclass(frozen=True)
class VectorHit:
    """A k-NN candidate with its exact distance in the field's space (``domain.indices.knn.distance``)."""

    key: int
    distance: float


class IndexStore(Protocol):
    """Indices, their documents, terms and vectors."""

    async def open(self) -> None:
        """Create the schema and load what searching needs; must be called before anything else."""

    async def close(self) -> None:
        """Persist what speeds up the next start and release resources."""

    async def create_index(
        self,
        name: str,
        *,
        uuid: str,
        creation_date_ms: int,
        settings: Mapping[str, str],
        mappings: Mapping[str, Any],
    ) -> IndexRecord:
        """Create an empty index; IndexExists when the name is taken."""

    async def delete_index(self, name: str) -> bool:
        """Drop an index with everything in it; False when there was none."""

    async def load_index(self, name: str) -> IndexRecord | None:
        """An index's metadata, or None."""

    async def list_indices(self) -> list[IndexRecord]:
        """Every index, by name."""

    async def put_settings(self, name: str, settings: Mapping[str, str]) -> IndexRecord:
        """Replace an index's settings (the caller merged and validated them); IndexMissing."""

    async def put_mappings(
        self, name: str, mappings: Mapping[str, Any], *, if_mapping_version: int | None = None
    ) -> IndexRecord:
        """Replace an index's mappings (already merged); MappingConflict when the version moved on."""

    async def write(
        self,
        name: str,
        items: Sequence[DocumentWrite],
        *,
        vector_fields: Mapping[str, VectorField] | None = None,
        mappings: Mapping[str, Any] | None = None,
        if_mapping_version: int | None = None,
    ) -> list[WriteResult | WriteConflict]:
        """Apply a bulk of items in one commit, each independent; results in item order.

        ``vector_fields`` names the index's knn fields (from its mapping); ``mappings`` (dynamic fields
        added by these items) is saved in the same commit, conditional on ``if_mapping_version``
        (MappingConflict: nothing written). IndexMissing when the index is gone.
        """

    async def get(self, name: str, doc_id: str) -> StoredDocument | None:
        """A document by id."""

    async def get_many(self, name: str, keys: Collection[int]) -> dict[int, StoredDocument]:
        """Documents by internal key (missing keys are left out)."""

    async def scan(self, name: str, *, after_key: int = 0, limit: int = 1000) -> list[StoredDocument]:
        """Documents in key order, after ``after_key``."""

    async def count(self, name: str) -> int:
        """How many documents the index holds."""

    async def term_stats(
        self, name: str, field: str, terms: Collection[str], *, positions: bool = False
    ) -> TermStats:
        """The field's statistics, each term's document frequency and every document holding a term."""

    async def expand_terms(self, name: str, field: str, prefix: str, *, limit: int = 1000) -> list[str]:
        """The field's indexed terms starting with ``prefix``, sorted (for prefix and wildcard queries)."""

    async def knn(
        self,
        name: str,
        field: str,
        vector: Sequence[float],
        k: int,
        *,
        allowed: Collection[int] | None = None,
        exact: bool = False,
    ) -> list[VectorHit]:
        """The ``k`` nearest documents of ``field`` (among ``allowed`` keys when given), nearest first,
        each with its exact distance. Small fields and ``exact`` are searched exhaustively, large ones
        through the approximate index (recall@10 ≥ 0.95)."""

    async def within(
        self,
        name: str,
        field: str,
        vector: Sequence[float],
        max_distance: float,
        *,
        allowed: Collection[int] | None = None,
    ) -> list[VectorHit]:
        """Every document at distance ≤ ``max_distance`` (radial search), nearest first."""

    async def refresh(self, name: str) -> None:
        """Accepted for compatibility: writes are visible when acknowledged; IndexMissing."""
