"""Which vector index backs the embedded engine: candidates measured on one data set, one machine.

For each candidate library that is importable (numpy brute force, hnswlib, faiss-cpu, usearch, voyager,
sqlite-vec through apsw) a fresh subprocess builds an index of N × D float32 vectors (seeded, shaped like
sentence embeddings: see make_data), then measures: build time, save and reload time (what a restart
costs), query p50 for k=10 at concurrency 1, recall@10 against exact search, the RSS the index adds once
the input array is freed, and — where the library can filter inside its search — p50 and recall of a
k-NN query restricted to 10 % of the documents. ``--restart`` measures mlgate's embedded engine itself
(SqliteIndexStore): bulk ingest of N vectors, then a restart with its saved HNSW index and one that
rebuilds from SQLite. The figures and the choice are recorded in docs/search-engine.md.

    python bench/search_engines.py [--n 100000] [--dim 384] [--queries 200] [--only hnswlib,faiss] [--restart]

Libraries that are not installed are reported as such; install them in a scratch environment to
compare (pip install numpy hnswlib faiss-cpu usearch voyager apsw sqlite-vec); numpy and faiss-cpu
are mlgate's own dependencies, so ``make bench-engines`` compares at least those two.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CANDIDATES = ["numpy", "hnswlib", "faiss", "usearch", "voyager", "sqlite-vec"]
# HNSW parameters shared by every candidate: OpenSearch k-NN's defaults (m 16, ef_construction 100,
# ef_search 100).
M, EF_CONSTRUCTION, EF_SEARCH, K = 16, 100, 100, 10
# Spread of a cluster in the latent space (clusters overlap) and isotropic noise added after projection.
SPREAD, NOISE = 0.7, 0.05
# Share of documents a filtered k-NN query lets through.
FILTER_SHARE = 0.1


def make_data(n: int, dim: int, queries: int) -> tuple[Any, Any]:
    """Unit vectors shaped like sentence embeddings: a mixture of 1,000 clusters in a 48-dimensional
    latent space, projected to ``dim`` dimensions, plus a little isotropic noise (embeddings have a
    low intrinsic dimension; isotropic noise in every dimension is a much harder, unrealistic case)."""
    import numpy as np

    rng = np.random.default_rng(42)
    latent = 48
    centres = rng.standard_normal((1000, latent), dtype=np.float32)
    projection = rng.standard_normal((latent, dim), dtype=np.float32) / np.sqrt(latent)

    def draw(count: int) -> Any:
        picks = rng.integers(0, len(centres), count)
        points = centres[picks] + SPREAD * rng.standard_normal((count, latent), dtype=np.float32)
        points = points @ projection + NOISE * rng.standard_normal((count, dim), dtype=np.float32)
        points /= np.linalg.norm(points, axis=1, keepdims=True)
        return points.astype(np.float32)

    return draw(n), draw(queries)


def rss_bytes() -> int:
    """This process's resident set size (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def exact_top(data: Any, queries: Any) -> Any:
    """The exact k nearest (squared l2) of every query, by numpy in blocks."""
    import numpy as np

    norms = (data * data).sum(axis=1)
    tops = []
    for query in queries:
        distances = norms - 2.0 * (data @ query)
        part = np.argpartition(distances, K)[:K]
        tops.append(part[np.argsort(distances[part])])
    return np.array(tops)


class Candidate:
    """build(data) → None; search(query) → ids of the k nearest; save(path); load(path, dim);
    filtered(query, allowed ids as a sorted int64 array) → ids, or None when the library cannot filter."""

    filtered: Callable[[Any, Any], Any] | None = None

    def __init__(
        self,
        build: Callable[[Any], None],
        search: Callable[[Any], Any],
        save: Callable[[str], None],
        load: Callable[[str, int], None],
    ) -> None:
        self.build, self.search, self.save, self.load = build, search, save, load


def candidate(name: str) -> Candidate:
    import numpy as np

    state: dict[str, Any] = {}
    if name == "numpy":

        def build(data: Any) -> None:
            state["m"] = data.copy()
            state["norms"] = (state["m"] * state["m"]).sum(axis=1)

        def search(q: Any) -> Any:
            d = state["norms"] - 2.0 * (state["m"] @ q)
            part = np.argpartition(d, K)[:K]
            return part[np.argsort(d[part])]

        def save(path: str) -> None:
            np.save(path + ".npy", state["m"])

        def load(path: str, dim: int) -> None:
            build(np.load(path + ".npy"))

        def filtered(q: Any, allowed: Any) -> Any:
            d = state["norms"][allowed] - 2.0 * (state["m"][allowed] @ q)
            part = np.argpartition(d, K)[:K]
            return allowed[part[np.argsort(d[part])]]

        engine = Candidate(build, search, save, load)
        engine.filtered = filtered
        return engine
    if name == "hnswlib":
        import hnswlib

        def build(data: Any) -> None:
            index = hnswlib.Index(space="l2", dim=data.shape[1])
            index.init_index(max_elements=len(data), M=M, ef_construction=EF_CONSTRUCTION)
            index.add_items(data, np.arange(len(data)))
            index.set_ef(EF_SEARCH)
            state["i"] = index

        def save(path: str) -> None:
            state["i"].save_index(path)

        def load(path: str, dim: int) -> None:
            index = hnswlib.Index(space="l2", dim=dim)
            index.load_index(path)
            index.set_ef(EF_SEARCH)
            state["i"] = index

        def filtered_search(q: Any, allowed: Any) -> Any:
            members = set(allowed.tolist())
            return state["i"].knn_query(q, k=K, num_threads=1, filter=members.__contains__)[0][0]

        engine = Candidate(build, lambda q: state["i"].knn_query(q, k=K, num_threads=1)[0][0], save, load)
        engine.filtered = filtered_search
        return engine
    if name == "faiss":
        import faiss

        def build(data: Any) -> None:
            index = faiss.IndexHNSWFlat(data.shape[1], M)
            index.hnsw.efConstruction = EF_CONSTRUCTION
            index.hnsw.efSearch = EF_SEARCH
            index.add(data)
            state["i"] = index

        def load(path: str, dim: int) -> None:
            state["i"] = faiss.read_index(path)
            state["i"].hnsw.efSearch = EF_SEARCH

        def faiss_filtered(q: Any, allowed: Any) -> Any:
            params = faiss.SearchParametersHNSW(sel=faiss.IDSelectorBatch(allowed), efSearch=EF_SEARCH)
            return state["i"].search(q.reshape(1, -1), K, params=params)[1][0]

        engine = Candidate(
            build,
            lambda q: state["i"].search(q.reshape(1, -1), K)[1][0],
            lambda path: faiss.write_index(state["i"], path),
            load,
        )
        engine.filtered = faiss_filtered
        return engine
    if name == "usearch":
        from usearch.index import Index

        def make(dim: int) -> Any:
            return Index(
                ndim=dim,
                metric="l2sq",
                dtype="f32",
                connectivity=M,
                expansion_add=EF_CONSTRUCTION,
                expansion_search=EF_SEARCH,
            )

        def build(data: Any) -> None:
            state["i"] = make(data.shape[1])
            state["i"].add(np.arange(len(data)), data)

        def load(path: str, dim: int) -> None:
            state["i"] = make(dim)
            state["i"].load(path)

        return Candidate(
            build, lambda q: state["i"].search(q, K, threads=1).keys, lambda p: state["i"].save(p), load
        )
    if name == "voyager":
        import voyager

        def build(data: Any) -> None:
            index = voyager.Index(
                voyager.Space.Euclidean, num_dimensions=data.shape[1], M=M, ef_construction=EF_CONSTRUCTION
            )
            index.add_items(data, ids=list(range(len(data))))
            state["i"] = index

        def load(path: str, dim: int) -> None:
            state["i"] = voyager.Index.load(path)

        return Candidate(
            build,
            lambda q: state["i"].query(q, k=K, query_ef=EF_SEARCH)[0],
            lambda p: state["i"].save(p),
            load,
        )
    if name == "sqlite-vec":
        import apsw
        import sqlite_vec

        def connect(path: str) -> Any:
            conn = apsw.Connection(path)
            conn.enable_load_extension(True)
            conn.load_extension(sqlite_vec.loadable_path())
            return conn

        def build(data: Any) -> None:
            path = state.setdefault("path", tempfile.mktemp(suffix=".db"))
            conn = connect(path)
            conn.execute(f"CREATE VIRTUAL TABLE v USING vec0(embedding float[{data.shape[1]}])")
            with conn:
                conn.executemany(
                    "INSERT INTO v(rowid, embedding) VALUES (?, ?)",
                    ((i, row.tobytes()) for i, row in enumerate(data)),
                )
            state["c"] = conn

        def search(q: Any) -> Any:
            rows = (
                state["c"]
                .execute(
                    "SELECT rowid FROM v WHERE embedding MATCH ? AND k = ? ORDER BY distance",
                    (q.tobytes(), K),
                )
                .fetchall()
            )
            return np.array([r[0] for r in rows])

        def save(path: str) -> None:
            state["c"].close()
            os.replace(state["path"], path)

        def load(path: str, dim: int) -> None:
            state["c"] = connect(path)

        return Candidate(build, search, save, load)
    raise SystemExit(f"unknown candidate {name}")


def measure(name: str, n: int, dim: int, queries_n: int) -> dict[str, Any]:
    """Runs in its own process so that RSS figures belong to one library."""
    import numpy as np

    try:
        engine = candidate(name)
    except ImportError as exc:
        return {"name": name, "error": f"not installed ({exc.name})"}
    data, queries = make_data(n, dim, queries_n)
    truth = exact_top(data, queries)
    # The filtered ground truth needs the vectors after the index was built and the array freed.
    data_path = tempfile.mktemp(suffix=".npy")
    np.save(data_path, data)
    gc.collect()
    before = rss_bytes() - data.nbytes  # the input array is freed below
    started = time.perf_counter()
    engine.build(data)
    build_s = time.perf_counter() - started
    del data
    gc.collect()
    index_rss = rss_bytes() - before
    latencies, hits = [], 0
    for qi, query in enumerate(queries):
        started = time.perf_counter()
        found = engine.search(query)
        latencies.append(time.perf_counter() - started)
        hits += len(set(np.asarray(found).tolist()) & set(truth[qi].tolist()))
    filtered_p50, filtered_recall = None, None
    if engine.filtered is not None:
        rng = np.random.default_rng(7)
        allowed = np.sort(rng.choice(n, int(n * FILTER_SHARE), replace=False)).astype(np.int64)
        sub = np.load(data_path)[allowed] if data_path else None
        truth_filtered = allowed[exact_top(sub, queries)] if sub is not None else None
        del sub
        timings, found_hits = [], 0
        for qi, query in enumerate(queries):
            started = time.perf_counter()
            found = engine.filtered(query, allowed)
            timings.append(time.perf_counter() - started)
            found_hits += len(set(np.asarray(found).tolist()) & set(truth_filtered[qi].tolist()))
        filtered_p50 = round(sorted(timings)[len(timings) // 2] * 1000, 3)
        filtered_recall = round(found_hits / (K * len(queries)), 4)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "index")
        started = time.perf_counter()
        engine.save(path)
        save_s = time.perf_counter() - started
        started = time.perf_counter()
        engine.load(path, dim)
        load_s = time.perf_counter() - started
        engine.search(queries[0])
    os.remove(data_path)
    return {
        "name": name,
        "build_s": round(build_s, 2),
        "query_p50_ms": round(sorted(latencies)[len(latencies) // 2] * 1000, 3),
        "recall_at_10": round(hits / (K * len(queries)), 4),
        "index_rss_mb": round(index_rss / 2**20, 1),
        "raw_vectors_mb": round(n * dim * 4 / 2**20, 1),
        "filtered_p50_ms": filtered_p50 if filtered_p50 is not None else "no filter",
        "filtered_recall": filtered_recall if filtered_recall is not None else "",
        "save_s": round(save_s, 2),
        "load_s": round(load_s, 2),
    }


async def restart_figures(n: int, dim: int) -> dict[str, Any]:
    """mlgate's embedded engine: ingest N vectors in bulks of 1,000, restart with and without the
    saved HNSW index."""
    from mlgate.storage.index_sqlite import SqliteIndexStore
    from mlgate.storage.index_store import DocumentWrite, VectorField

    data, _ = make_data(n, dim, 1)
    fields = {"v": VectorField(dim, "l2")}
    figures: dict[str, Any] = {"n": n}
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteIndexStore(Path(tmp))
        await store.open()
        await store.create_index("bench", uuid="u", creation_date_ms=0, settings={}, mappings={})
        started = time.perf_counter()
        for first in range(0, n, 1000):
            items = [
                DocumentWrite("index", str(i), b"{}", vectors={"v": data[i]})
                for i in range(first, min(n, first + 1000))
            ]
            await store.write("bench", items, vector_fields=fields)
        figures["ingest_docs_per_s"] = round(n / (time.perf_counter() - started))
        started = time.perf_counter()
        await store.close()
        figures["close_with_snapshot_s"] = round(time.perf_counter() - started, 2)
        figures.update({f"{k}_from_snapshot": v for k, v in _open_in_fresh_process(tmp).items()})
        for snapshot in (Path(tmp) / "vectors").glob("*.npz"):
            snapshot.unlink()
        figures.update({f"{k}_rebuilding": v for k, v in _open_in_fresh_process(tmp).items()})
    return figures


def _open_in_fresh_process(directory: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--open-only", directory], capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


async def open_figures(directory: str) -> dict[str, Any]:
    """A restart: how long opening the engine takes and the RSS it adds (run in a fresh process)."""
    from mlgate.storage.index_sqlite import SqliteIndexStore

    before = rss_bytes()
    started = time.perf_counter()
    store = SqliteIndexStore(Path(directory))
    await store.open()
    figures = {
        "open_s": round(time.perf_counter() - started, 2),
        "rss_mb": round((rss_bytes() - before) / 2**20, 1),
    }
    await store.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--only", default=",".join(CANDIDATES))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--restart", action="store_true", help="measure mlgate's embedded engine instead")
    parser.add_argument("--open-only", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.open_only:
        print(json.dumps(asyncio.run(open_figures(args.open_only))))
        return 0
    if args.restart:
        print(json.dumps(asyncio.run(restart_figures(args.n, args.dim))))
        return 0
    if args.one:
        print(json.dumps(measure(args.one, args.n, args.dim, args.queries)))
        return 0
    print(
        f"{args.n} × {args.dim}-d float32 vectors, k={K}, HNSW m={M} ef_construction={EF_CONSTRUCTION} "
        f"ef_search={EF_SEARCH}; one process per candidate"
    )
    header = [
        "name",
        "build_s",
        "query_p50_ms",
        "recall_at_10",
        "index_rss_mb",
        "raw_vectors_mb",
        "save_s",
        "load_s",
        "filtered_p50_ms",
        "filtered_recall",
    ]
    print(" | ".join(header))
    for name in args.only.split(","):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                name,
                "--n",
                str(args.n),
                "--dim",
                str(args.dim),
                "--queries",
                str(args.queries),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            print(f"{name} | failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            " | ".join(str(row.get(key, "")) for key in header)
            if "error" not in row
            else f"{name} | {row['error']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
