"""Index name validation as OpenSearch does it.

OpenSearch: ``server/src/main/java/org/opensearch/cluster/metadata/MetadataCreateIndexService.java``
(``validateIndexOrAliasName`` then the lower-case check of ``validateIndexName``), checked in this order.
"""

from __future__ import annotations

from mlgate.domain.indices.errors import InvalidIndexNameError

MAX_INDEX_NAME_BYTES = 255
# ``Strings.INVALID_FILENAME_CHARS`` is a Java HashSet; its toString order is this one.
INVALID_FILENAME_CHARS = '[ , ", *, \\, <, |, ,, >, /, ?]'
_INVALID_CHARS = frozenset('\\/*?"<>| ,')


def validate_index_name(index: str) -> None:
    """Raise InvalidIndexNameError with OpenSearch's reason when ``index`` cannot name an index."""
    if any(char in _INVALID_CHARS for char in index):
        raise InvalidIndexNameError(
            index, f"must not contain the following characters {INVALID_FILENAME_CHARS}"
        )
    if not index:
        raise InvalidIndexNameError(index, "must not be empty")
    if "#" in index:
        raise InvalidIndexNameError(index, "must not contain '#'")
    if ":" in index:
        raise InvalidIndexNameError(index, "must not contain ':'")
    if index[0] in "_-+":
        raise InvalidIndexNameError(index, "must not start with '_', '-', or '+'")
    size = len(index.encode("utf-8", "surrogatepass"))
    if size > MAX_INDEX_NAME_BYTES:
        raise InvalidIndexNameError(index, f"index name is too long, ({size} > {MAX_INDEX_NAME_BYTES})")
    if index in (".", ".."):
        raise InvalidIndexNameError(index, "must not be '.' or '..'")
    # Java's String.toLowerCase(Locale.ROOT) and Python's lower() share the special cases (U+0130,
    # final sigma).
    if index.lower() != index:
        raise InvalidIndexNameError(index, "must be lowercase")
