"""The ``charset`` request parameter: which text encodings a provider request body may be sent in.

ML Commons encodes the payload with ``Charset.forName(parameters.charset)`` (ml-commons:
ml-algorithms/.../remote/ConnectorUtils.java, ``buildSdkRequest``): an illegal or unknown name is an
``IllegalArgumentException``. Python knows more codecs than Java's charsets, some of which are not
text↔bytes encodings at all (rot13, base64, zlib) or are text codecs that are not charsets (idna,
punycode, unicode_escape, undefined); those are refused as unknown.
"""

from __future__ import annotations

import codecs
import re

from mlgate.domain.errors import InvalidRequestError

DEFAULT_CHARSET = "utf-8"

# java.nio.charset.Charset's legal names: a letter or digit, then letters, digits and - + : _ .
_LEGAL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9+:_.-]*")
# Text codecs of Python's that name no character set a provider could decode.
_NOT_CHARSETS = frozenset(
    {"charmap", "idna", "punycode", "raw-unicode-escape", "unicode-escape", "undefined"}
)


def unsupported_charset(name: str) -> InvalidRequestError:
    """The 400 for a ``charset`` that names no usable text encoding."""
    return InvalidRequestError(f"Unsupported charset [{name}]")


def codec_name(charset: str) -> str:
    """The Python codec for ``charset``; InvalidRequestError when it is no text encoding."""
    if not _LEGAL_NAME.fullmatch(charset):
        raise unsupported_charset(charset)
    try:
        info = codecs.lookup(charset)
    except LookupError:
        raise unsupported_charset(charset) from None
    if not info._is_text_encoding or info.name in _NOT_CHARSETS:
        raise unsupported_charset(charset)
    return info.name


def encode_payload(payload: str, charset: str | None) -> bytes:
    """``payload`` in ``charset`` (UTF-8 when absent).

    Raises InvalidRequestError for an unknown charset and for text the charset cannot represent (Java
    would silently send ``?`` in its place; a request that changes the caller's text is refused).
    """
    if not charset:
        return payload.encode(DEFAULT_CHARSET)
    name = codec_name(charset)
    try:
        return payload.encode(name)
    except UnicodeEncodeError as error:
        character = error.object[error.start : error.start + 1]
        raise InvalidRequestError(
            f"The request body cannot be encoded in charset [{charset}]: "
            f"character [{character}] (U+{ord(character):04X}) at position {error.start} has no mapping"
        ) from None
