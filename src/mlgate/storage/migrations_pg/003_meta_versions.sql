-- Metadata values (cluster settings) carry a version, so a read-modify-write can be conditional on it.
ALTER TABLE meta ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
