-- The change feed nodes read to stay coherent. Publishers take an advisory lock, so ids are assigned
-- and committed in the same order: a reader that saw id N never later finds a smaller id appear.
CREATE TABLE changes (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       TEXT   NOT NULL,
    key        TEXT   NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX changes_created_ms ON changes (created_ms);
-- The node registry: one row per node, refreshed by its heartbeats.
CREATE TABLE nodes (
    id           TEXT   PRIMARY KEY,
    info         JSON   NOT NULL,
    last_seen_ms BIGINT NOT NULL
);
