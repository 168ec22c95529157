-- Every ML Commons "index" is a collection of JSON documents with OpenSearch-style versioning.
CREATE TABLE documents (
    collection   TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    seq_no       INTEGER NOT NULL,
    primary_term INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (collection, id)
);
CREATE TABLE sequences (
    collection TEXT PRIMARY KEY,
    seq_no     INTEGER NOT NULL
);
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
