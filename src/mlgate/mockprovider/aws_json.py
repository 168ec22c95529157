"""AWS JSON 1.1 services (``POST /`` with ``X-Amz-Target``): Comprehend and Textract."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from mlgate.mockprovider import fake_model
from mlgate.mockprovider.shape import InvalidInput, ShapeRequest, require_str

CONTENT_TYPE = "application/x-amz-json-1.1"

# A few very common words per language: enough for demos to see a plausible, deterministic answer.
_LANGUAGE_WORDS = {
    "fr": {"le", "la", "les", "est", "et", "un", "une", "bonjour", "je", "vous", "avec", "pour"},
    "es": {"el", "los", "las", "es", "y", "una", "hola", "yo", "usted", "con", "para", "por"},
    "de": {"der", "die", "das", "ist", "und", "ein", "eine", "hallo", "ich", "sie", "mit", "für"},
}
_WORD = re.compile(r"\w+", re.UNICODE)
_CAPITALIZED = re.compile(r"\b[A-Z][\w'-]*")


def _text(request: ShapeRequest) -> str:
    return require_str(request.require_object().get("Text"), "Text")


def detect_dominant_language(request: ShapeRequest) -> dict[str, Any]:
    """``Comprehend_20171127.DetectDominantLanguage``."""
    words = [w.lower() for w in _WORD.findall(_text(request))]
    hits = {code: sum(w in vocabulary for w in words) for code, vocabulary in _LANGUAGE_WORDS.items()}
    best = max(hits, key=lambda code: hits[code])
    code = best if hits[best] else "en"
    other = "en" if code != "en" else "fr"
    return {"Languages": [{"LanguageCode": code, "Score": 0.9}, {"LanguageCode": other, "Score": 0.05}]}


def detect_entities(request: ShapeRequest) -> dict[str, Any]:
    """``Comprehend_20171127.DetectEntities``: every capitalized word is an entity."""
    text = _text(request)
    entities = [
        {"BeginOffset": m.start(), "EndOffset": m.end(), "Score": 0.99, "Text": m.group(), "Type": "OTHER"}
        for m in _CAPITALIZED.finditer(text)
    ]
    return {"Entities": entities}


def detect_sentiment(request: ShapeRequest) -> dict[str, Any]:
    """``Comprehend_20171127.DetectSentiment``: always neutral."""
    _text(request)
    return {
        "Sentiment": "NEUTRAL",
        "SentimentScore": {"Positive": 0.05, "Negative": 0.05, "Neutral": 0.85, "Mixed": 0.05},
    }


def detect_key_phrases(request: ShapeRequest) -> dict[str, Any]:
    """``Comprehend_20171127.DetectKeyPhrases``: every word of four letters or more."""
    text = _text(request)
    phrases = [
        {"BeginOffset": m.start(), "EndOffset": m.end(), "Score": 0.9, "Text": m.group()}
        for m in _WORD.finditer(text)
        if len(m.group()) >= 4
    ]
    return {"KeyPhrases": phrases}


def _block(block_type: str, text: str | None, index: int) -> dict[str, Any]:
    block: dict[str, Any] = {
        "BlockType": block_type,
        "Geometry": {"BoundingBox": {"Height": 1, "Left": 0, "Top": 0, "Width": 1}},
        "Id": fake_model.short_id(block_type, str(index), text or ""),
    }
    if text is not None:
        block["Confidence"] = 99.0
        block["Text"] = text
    return block


def detect_document_text(request: ShapeRequest) -> dict[str, Any]:
    """``Textract.DetectDocumentText``: the document bytes, read as UTF-8 text, become LINE/WORD blocks."""
    document = request.require_object().get("Document")
    encoded = document.get("Bytes") if isinstance(document, dict) else None
    try:
        raw = base64.b64decode(require_str(encoded, "Document.Bytes"), validate=True)
    except binascii.Error as exc:
        raise InvalidInput(
            "Document.Bytes must be base64 encoded.", error_type="InvalidParameterException"
        ) from exc
    content = raw.decode("utf-8", errors="replace")
    blocks = [_block("PAGE", None, 0)]
    for number, line in enumerate(content.splitlines()):
        if line.strip():
            blocks.append(_block("LINE", line.strip(), number))
            blocks.extend(_block("WORD", word, number) for word in line.split())
    return {"DocumentMetadata": {"Pages": 1}, "Blocks": blocks, "DetectDocumentTextModelVersion": "1.0"}


TARGETS: dict[str, Callable[[ShapeRequest], dict[str, Any]]] = {
    "Comprehend_20171127.DetectDominantLanguage": detect_dominant_language,
    "Comprehend_20171127.DetectEntities": detect_entities,
    "Comprehend_20171127.DetectSentiment": detect_sentiment,
    "Comprehend_20171127.DetectKeyPhrases": detect_key_phrases,
    "Textract.DetectDocumentText": detect_document_text,
}


def dispatch(request: ShapeRequest) -> dict[str, Any]:
    """``POST /``: the operation named by ``X-Amz-Target``."""
    target = request.headers.get("X-Amz-Target", "")
    operation = TARGETS.get(target)
    if operation is None:
        raise InvalidInput(f"Unknown operation {target!r}", error_type="UnknownOperationException")
    return operation(request)
