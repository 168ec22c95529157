"""The predict request body in its four ML Commons shapes.

ml-commons: common/.../input/remote/RemoteInferenceMLInput.java, common/.../input/nlp/*MLInput.java.

``remote`` is the ``{"parameters": {...}, "action_type": ...}`` shape; ``text_embedding`` and the
``sparse_*`` algorithms take ``text_docs``; ``text_similarity`` takes ``query_text`` + ``text_docs``;
``question_answering`` takes ``question`` + ``context``. Unknown top-level fields are ignored, as in
ML Commons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.template import stringify_parameter

PredictKind = Literal["remote", "text_docs", "text_similarity", "question_answering"]

ACTION_TYPES = ("PREDICT", "EXECUTE", "BATCH_PREDICT", "CANCEL_BATCH_PREDICT", "BATCH_PREDICT_STATUS")
_KINDS: dict[str, PredictKind] = {
    "REMOTE": "remote",
    "TEXT_EMBEDDING": "text_docs",
    "SPARSE_ENCODING": "text_docs",
    "SPARSE_TOKENIZE": "text_docs",
    "TEXT_SIMILARITY": "text_similarity",
    "QUESTION_ANSWERING": "question_answering",
}
_PARAMETER_PACKAGE = "org.opensearch.ml.common.input.parameter.textembedding"
_CONTENT_TYPES = ("QUERY", "PASSAGE")
_SPARSE_FORMATS = ("WORD", "TOKEN_ID")


@dataclass(frozen=True)
class PredictInput:
    """A parsed predict body.

    ``parameters`` holds the raw request parameters for the remote shape, and the normalised
    algorithm parameters (string values, e.g. ``{"content_type": "QUERY", "sparse_embedding_format":
    "WORD"}``) for the text-docs shape — empty when the body had none.
    """

    algorithm: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    text_docs: Sequence[str | None] | None = None
    query_text: str | None = None
    question: str | None = None
    context: str | None = None
    action_type: str = "PREDICT"

    @property
    def kind(self) -> PredictKind:
        """Which of the four input shapes this is."""
        return _KINDS[self.algorithm]


def parse_predict_input(algorithm: str | None, body: Mapping[str, Any]) -> PredictInput:
    """Parse a predict body for ``algorithm`` (``None`` = the model's own remote shape).

    Raises :class:`InvalidRequestError` with ML Commons' messages (``Empty text docs``, ``No text
    documents were provided``, ``No query text was provided``, ``Wrong Action Type of <v>``, …).
    """
    name = "REMOTE" if algorithm is None else algorithm.upper()
    kind = _KINDS.get(name)
    if kind is None:
        raise InvalidRequestError("Wrong function name")
    if kind == "remote":
        return _parse_remote(body)
    if kind == "text_docs":
        return _parse_text_docs(name, body)
    if kind == "text_similarity":
        return _parse_text_similarity(body)
    return _parse_question_answering(body)


def _parse_remote(body: Mapping[str, Any]) -> PredictInput:
    parameters = _optional_object(body, "parameters")
    action_type = "PREDICT"
    raw_action = body.get("action_type")
    if raw_action is not None:
        if not isinstance(raw_action, str):
            raise _token_error("action_type", "VALUE_STRING", raw_action)
        action_type = raw_action.upper()
        if action_type not in ACTION_TYPES:
            # ML Commons' ActionType.from message, with the value as sent.
            raise InvalidRequestError(f"Wrong Action Type of {raw_action}")
    return PredictInput(algorithm="REMOTE", parameters=parameters, action_type=action_type)


def _parse_text_docs(algorithm: str, body: Mapping[str, Any]) -> PredictInput:
    docs = _doc_list(body, "text_docs", allow_null=True)
    if not docs:
        raise InvalidRequestError("Empty text docs")
    # Given parameters (even {}) are re-serialised with their defaults; absent ones add nothing
    # (ml-commons: ml-algorithms/.../algorithms/remote/RemoteConnectorExecutor.java, preparePayloadAndInvoke).
    raw_parameters = _optional_object(body, "parameters")
    parameters = _algorithm_parameters(raw_parameters) if body.get("parameters") is not None else {}
    return PredictInput(algorithm=algorithm, parameters=parameters, text_docs=docs)


def _parse_text_similarity(body: Mapping[str, Any]) -> PredictInput:
    docs = _doc_list(body, "text_docs", allow_null=False)
    query_text = _optional_text(body, "query_text")
    if not docs:
        raise InvalidRequestError("No text documents were provided")
    if query_text is None:
        raise InvalidRequestError("No query text was provided")
    return PredictInput(algorithm="TEXT_SIMILARITY", text_docs=docs, query_text=query_text)


def _parse_question_answering(body: Mapping[str, Any]) -> PredictInput:
    question = _optional_text(body, "question")
    context = _optional_text(body, "context")
    if question is None:
        raise InvalidRequestError("Question is not provided")
    if context is None:
        raise InvalidRequestError("Context is not provided")
    return PredictInput(algorithm="QUESTION_ANSWERING", question=question, context=context)


def _algorithm_parameters(raw: Mapping[str, Any]) -> dict[str, str]:
    """The asymmetric-embedding parameters as ML Commons re-serialises them (enum names, WORD default)."""
    out: dict[str, str] = {}
    content_type = raw.get("content_type")
    if content_type is not None:
        out["content_type"] = _enum_value(
            content_type, _CONTENT_TYPES, "AsymmetricTextEmbeddingParameters.EmbeddingContentType"
        )
    sparse_format = raw.get("sparse_embedding_format")
    out["sparse_embedding_format"] = (
        "WORD"
        if sparse_format is None
        else _enum_value(sparse_format, _SPARSE_FORMATS, "SparseEmbeddingFormat")
    )
    return out


def _enum_value(value: Any, allowed: tuple[str, ...], enum_name: str) -> str:
    text = _scalar_text(value, enum_name)
    upper = text.upper()
    if upper not in allowed:
        raise InvalidRequestError(f"No enum constant {_PARAMETER_PACKAGE}.{enum_name}.{upper}")
    return upper


def _optional_object(body: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _token_error(key, "START_OBJECT", value)
    return dict(value)


def _optional_text(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    return _scalar_text(value, key)


def _doc_list(body: Mapping[str, Any], key: str, *, allow_null: bool) -> list[str | None]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _token_error(key, "START_ARRAY", value)
    docs: list[str | None] = []
    for item in value:
        if item is None and allow_null:
            docs.append(None)
        elif item is None:
            raise InvalidRequestError(f"[{key}] must not contain null")
        else:
            docs.append(_scalar_text(item, key))
    return docs


def _scalar_text(value: Any, key: str) -> str:
    """A JSON scalar as the XContent parser's ``text()`` gives it (numbers/booleans as their text)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return stringify_parameter(value)
    raise InvalidRequestError(
        f"[{key}] must be a string, found {_json_kind(value)}", error_type="parsing_exception"
    )


def _token_error(key: str, expected: str, value: Any) -> InvalidRequestError:
    return InvalidRequestError(
        f"Failed to parse [{key}]: expected {expected} but found {_json_kind(value)}",
        error_type="parsing_exception",
    )


def _json_kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null"
