-- The change feed several processes on one file read to stay coherent (AUTOINCREMENT: ids are never reused).
CREATE TABLE changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX changes_created_ms ON changes (created_ms);
-- The node registry: one row per node, refreshed by its heartbeats.
CREATE TABLE nodes (
    id           TEXT    PRIMARY KEY,
    info         TEXT    NOT NULL,
    last_seen_ms INTEGER NOT NULL
);
