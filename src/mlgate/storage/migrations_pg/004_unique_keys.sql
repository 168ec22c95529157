-- A document's unique key within its collection (storage/integrity.py derives it, e.g. a model group's
-- name), or NULL when it has none. Documents written before this migration get theirs on their next write.
ALTER TABLE documents ADD COLUMN unique_key TEXT;
CREATE UNIQUE INDEX documents_unique_key ON documents (collection, unique_key) WHERE unique_key IS NOT NULL;
