"""A writer to kill: bulk-writes documents forever, printing each bulk's ids once it is acknowledged.

python -m tests.storage.index_crash_writer ENGINE TARGET APPROXIMATE_FROM FIRST_NUMBER
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.storage.index_store_support import item, vector_fields

from mlgate.domain.indices.mapping import parse_mappings
from mlgate.storage.index_postgres import PostgresIndexStore
from mlgate.storage.index_sqlite import SqliteIndexStore
from mlgate.storage.index_store import IndexStore

INDEX = "crash"
MAPPING = {"properties": {"text": {"type": "text"}, "v": {"type": "knn_vector", "dimension": 4}}}
BATCH = 20


def document(number: int) -> dict[str, object]:
    return {"text": f"common word{number % 7} n{number}", "v": [float(number), float(number % 5), 1.0, -1.0]}


def open_store(engine: str, target: str, approximate_from: int) -> IndexStore:
    if engine == "embedded":
        return SqliteIndexStore(Path(target), approximate_from=approximate_from)
    return PostgresIndexStore(target)


async def main(engine: str, target: str, approximate_from: int, first: int) -> None:
    store = open_store(engine, target, approximate_from)
    await store.open()
    mappings = parse_mappings(MAPPING)
    fields = vector_fields(mappings)
    number = first
    while True:
        batch = [item(mappings, f"d{n}", document(n)) for n in range(number, number + BATCH)]
        results = await store.write(INDEX, batch, vector_fields=fields)
        print(" ".join(result.doc_id for result in results), flush=True)
        number += BATCH


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
