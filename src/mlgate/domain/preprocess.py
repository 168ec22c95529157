"""Built-in pre-process functions and the chunking of ``text_docs`` into remote calls.

ml-commons: common/.../connector/MLPreProcessFunction.java and common/.../connector/functions/preprocess/.

Each function turns a text-docs (or text-similarity) input into connector parameters. Values are
returned as plain JSON-able Python values *before* stringifying and escaping: lists/dicts for JSON
arrays/objects (inserted raw), ``str`` for text (escaped; quote it in the template), ``int`` for counts,
``None`` for an absent document. The caller stringifies and escapes them (:mod:`mlgate.domain.template`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import orjson

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.predict_input import PredictInput
from mlgate.domain.template import to_gson_json

DEFAULT_EMBEDDING = "connector.pre_process.default.embedding"
BEDROCK_EMBEDDING = "connector.pre_process.bedrock.embedding"
STEP_SIZE_PARAMETER = "input_docs_processed_step_size"

_TEXT_DOCS_ONLY = (
    "This pre_process_function can only support TextDocsInputDataSet "
    "which including a list of string with key 'text_docs'"
)
_SIMILARITY_ONLY = "This pre_process_function can only support TextSimilarityInputDataSet"
_STEP_SIZE_ERROR = "Invalid parameter: input_docs_processed_step_size. It must be positive integer."
_JAVA_INT = re.compile(r"[+-]?\d+")
_NOVA_DETECT_ORDER = ("text", "image", "video", "audio")
# ML Commons extracts the content in a different order than it detects the modality; kept as is.
_NOVA_EXTRACT_ORDER = ("text", "image", "audio", "video")

PreProcessFunction = Callable[[PredictInput], dict[str, Any]]


def _text_docs(inp: PredictInput) -> list[str | None]:
    if inp.kind != "text_docs":
        raise InvalidRequestError(_TEXT_DOCS_ONLY)
    return list(inp.text_docs or ())


def _similarity(inp: PredictInput) -> tuple[str | None, list[str | None]]:
    if inp.kind != "text_similarity":
        raise InvalidRequestError(_SIMILARITY_ONLY)
    return inp.query_text, list(inp.text_docs or ())


def _first(docs: Sequence[str | None]) -> str | None:
    return docs[0] if docs else None


def _openai_embedding(inp: PredictInput) -> dict[str, Any]:
    return {"input": _text_docs(inp)}


def _cohere_embedding(inp: PredictInput) -> dict[str, Any]:
    return {"texts": _text_docs(inp)}


def _bedrock_embedding(inp: PredictInput) -> dict[str, Any]:
    return {"inputText": _first(_text_docs(inp))}


def _bedrock_multimodal_embedding(inp: PredictInput) -> dict[str, Any]:
    docs = _text_docs(inp)
    if not docs or (len(docs) == 1 and docs[0] is None):
        raise InvalidRequestError("No input text or image provided")
    out: dict[str, Any] = {"inputText": docs[0]}
    if len(docs) > 1:
        out["inputImage"] = docs[1]
    return out


def _cohere_multimodal_embedding(inp: PredictInput) -> dict[str, Any]:
    docs = _text_docs(inp)
    if not docs or docs[0] is None:
        raise InvalidRequestError("No image provided")
    return {"images": docs}


def _single_media(parameter: str, media: str) -> PreProcessFunction:
    def run(inp: PredictInput) -> dict[str, Any]:
        docs = _text_docs(inp)
        if not docs:
            raise InvalidRequestError(f"No input {media} provided")
        return {parameter: docs[0]}

    return run


def _nova_embedding(inp: PredictInput) -> dict[str, Any]:
    docs = _text_docs(inp)
    if not docs or (len(docs) == 1 and docs[0] is None):
        raise InvalidRequestError("No input provided")
    doc = docs[0]
    parsed = _json_object(doc)
    modality = next((key for key in _NOVA_DETECT_ORDER if key in parsed), "text")
    content: Any = doc
    if doc is not None and doc.startswith("{"):
        key = next((key for key in _NOVA_EXTRACT_ORDER if key in parsed), None)
        if key is not None:
            value = parsed[key]
            content = value if isinstance(value, str) else to_gson_json(value)
    return {modality: content}


def _json_object(doc: str | None) -> dict[str, Any]:
    if doc is None:
        return {}
    try:
        parsed = orjson.loads(doc)
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _cohere_rerank(inp: PredictInput) -> dict[str, Any]:
    query, docs = _similarity(inp)
    return {"query": query, "documents": docs, "top_n": len(docs)}


def _bedrock_rerank(inp: PredictInput) -> dict[str, Any]:
    query, docs = _similarity(inp)
    return {
        "queries": [{"textQuery": {"text": query}, "type": "TEXT"}],
        "sources": [
            {"inlineDocumentSource": {"textDocument": {"text": doc}, "type": "TEXT"}, "type": "INLINE"}
            for doc in docs
        ],
        "numberOfResults": len(docs),
    }


PRE_PROCESS_FUNCTIONS: Mapping[str, PreProcessFunction] = MappingProxyType(
    {
        "connector.pre_process.openai.embedding": _openai_embedding,
        DEFAULT_EMBEDDING: _openai_embedding,
        "connector.pre_process.cohere.embedding": _cohere_embedding,
        BEDROCK_EMBEDDING: _bedrock_embedding,
        "connector.pre_process.bedrock.nova.text_embedding": _bedrock_embedding,
        "connector.pre_process.bedrock.multimodal_embedding": _bedrock_multimodal_embedding,
        "connector.pre_process.cohere.multimodal_embedding": _cohere_multimodal_embedding,
        "connector.pre_process.bedrock.nova.embedding": _nova_embedding,
        "connector.pre_process.bedrock.nova.image_embedding": _single_media("inputImage", "image"),
        "connector.pre_process.bedrock.nova.video_embedding": _single_media("inputVideo", "video"),
        "connector.pre_process.bedrock.nova.audio_embedding": _single_media("inputAudio", "audio"),
        "connector.pre_process.cohere.rerank": _cohere_rerank,
        "connector.pre_process.default.rerank": _cohere_rerank,
        "connector.pre_process.bedrock.rerank": _bedrock_rerank,
    }
)


def chunk_text_docs(
    docs: Sequence[str | None],
    connector_parameters: Mapping[str, str | None],
    pre_process_function: str | None,
) -> list[list[str | None]]:
    """Split ``text_docs`` into the batches sent as separate remote calls, in input order.

    ml-commons: ml-algorithms/.../algorithms/remote/RemoteConnectorExecutor.java (calculateChunkSize).

    The connector's ``input_docs_processed_step_size`` wins; else no function or a batching built-in ⇒
    one call; ``bedrock.embedding`` or any script ⇒ one call per document.
    """
    if STEP_SIZE_PARAMETER in connector_parameters:
        raw = connector_parameters[STEP_SIZE_PARAMETER]
        if raw is None or _JAVA_INT.fullmatch(raw) is None or int(raw) <= 0:
            raise InvalidRequestError(_STEP_SIZE_ERROR)
        step = int(raw)
        return [list(docs[start : start + step]) for start in range(0, len(docs), step)]
    if pre_process_function is None:
        return [list(docs)]
    if pre_process_function == BEDROCK_EMBEDDING or pre_process_function not in PRE_PROCESS_FUNCTIONS:
        return [[doc] for doc in docs]
    return [list(docs)]
