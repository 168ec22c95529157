"""``--store`` / MLGATE_STORE_URL pick the backend; SQLite stays the default."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from mlgate.bootstrap import build_node
from mlgate.config import Config, config_from
from mlgate.storage.postgres import PostgresStore
from mlgate.storage.sqlite import SqliteStore

MASTER_KEY = base64.b64encode(b"k" * 32).decode()


def test_sqlite_is_the_default() -> None:
    assert config_from({}).store_url is None
    assert config_from({"MLGATE_STORE_URL": ""}).store_url is None


def test_store_url_from_flag_or_environment() -> None:
    url = "postgresql://mlgate:secret@db.internal:5432/mlgate"
    assert config_from({"MLGATE_STORE_URL": url}).store_url == url
    assert config_from({"MLGATE_STORE_URL": "postgres://x@y/z"}, store_url=url).store_url == url


def test_store_url_must_be_postgresql_and_stays_out_of_logs() -> None:
    with pytest.raises(ValueError, match="postgresql://"):
        config_from({"MLGATE_STORE_URL": "mysql://root@localhost/db"})
    assert "secret" not in repr(config_from({}, store_url="postgresql://u:secret@h/db"))


async def test_a_node_on_sqlite(tmp_path: Path) -> None:
    node = await build_node(Config(data_dir=tmp_path, master_key=MASTER_KEY, security=False))
    try:
        assert isinstance(node.store, SqliteStore)
    finally:
        await node.stop()


async def test_two_nodes_on_postgresql_share_the_cluster_state(tmp_path: Path, pg_url: str) -> None:
    nodes = [
        await build_node(
            Config(data_dir=tmp_path / name, master_key=MASTER_KEY, security=False, store_url=pg_url)
        )
        for name in ("a", "b")
    ]
    try:
        for node in nodes:
            await node.start()
        assert all(isinstance(node.store, PostgresStore) for node in nodes)
        # Each node keeps its own identity (in its data directory); the documents are shared.
        assert nodes[0].services.env.node_id != nodes[1].services.env.node_id
        await nodes[0].store.save("shared", "doc", {"written_by": "a"})
        loaded = await nodes[1].store.load("shared", "doc")
        assert loaded is not None
        assert loaded.source == {"written_by": "a"}
    finally:
        for node in nodes:
            await node.stop()
