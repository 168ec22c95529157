"""The pure rules of OpenSearch indices: names, settings, mappings (explicit and dynamic), document
parsing against a mapping, the standard analyzer, BM25 and k-NN scores.

Nothing here does I/O; the index stores (``storage/index_store.py``) persist what these rules produce.
"""
