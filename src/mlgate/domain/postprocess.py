"""Built-in post-process functions and the generic ``response_filter`` read.

ml-commons: common/.../connector/MLPostProcessFunction.java and common/.../connector/functions/postprocess/;
the filter: ml-algorithms/.../algorithms/remote/ConnectorUtils.java (processOutput).

A built-in reads the filter (or its default JSONPath) from the parsed response body and maps the
result to ModelTensor dicts. Divergences from ML Commons, all where Java fails with a 500 cast error:
rerank scores and indexes accept any JSON number, a later non-list embedding is a 400 like the first,
an out-of-range rerank index is a 500 ``array_index_out_of_bounds_exception``, and the passthrough
function wraps a top-level list as ``{"response": [...]}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from mlgate.domain.errors import ExecutionError, InvalidRequestError
from mlgate.domain.jsonpath import JsonPathSyntaxError, PathMiss, read_json_path
from mlgate.domain.tensor import DATA_TYPES, RESPONSE_KEY, data_type_for_filter, model_tensor

PostProcessFunction = Callable[[Any, str], list[dict[str, Any]]]

_LIST_OF_LISTS = "The embedding should be a non-empty List containing List of Float values."
_LIST_OF_FLOATS = "The embedding should be a non-empty List containing Float values."
_NOT_A_LIST = "Post process function input is not a List."


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _embedding_tensor(embedding: list[Any], data_type: str) -> dict[str, Any]:
    return model_tensor(
        name="sentence_embedding", data_type=data_type, shape=[len(embedding)], data=embedding
    )


def _embeddings(value: Any, data_type: str) -> list[dict[str, Any]]:
    """A list of vectors ⇒ one ``sentence_embedding`` tensor each."""
    if not isinstance(value, list):
        raise InvalidRequestError(_NOT_A_LIST)
    if value:
        first = value[0]
        if not isinstance(first, list):
            raise InvalidRequestError(_LIST_OF_LISTS)
        if not first or not _is_number(first[0]):
            raise InvalidRequestError(_LIST_OF_FLOATS)
    if not all(isinstance(embedding, list) for embedding in value):
        raise InvalidRequestError(_LIST_OF_LISTS)
    return [_embedding_tensor(embedding, data_type) for embedding in value]


def _single_embedding(value: Any, data_type: str) -> list[dict[str, Any]]:
    """One vector ⇒ exactly one tensor."""
    if not isinstance(value, list):
        raise InvalidRequestError(_NOT_A_LIST)
    if value and not _is_number(value[0]):
        raise InvalidRequestError(_LIST_OF_FLOATS)
    return [_embedding_tensor(value, data_type)]


def _similarity_tensors(scores: list[Any]) -> list[dict[str, Any]]:
    return [model_tensor(name="similarity", data_type="FLOAT32", shape=[1], data=[score]) for score in scores]


def _scores_by_index(results: list[Mapping[str, Any]], score_key: str) -> list[Any]:
    """Scores placed at their document ``index`` (the provider returns them sorted by relevance)."""
    scores: list[Any] = [None] * len(results)
    for result in results:
        index: Any = result.get("index")
        if not _is_number(index) or not 0 <= int(index) < len(scores):
            raise ExecutionError(
                f"Index {index} out of bounds for length {len(scores)}",
                error_type="array_index_out_of_bounds_exception",
            )
        scores[int(index)] = result.get(score_key)
    return scores


def _cohere_rerank(value: Any, _data_type: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise InvalidRequestError(_NOT_A_LIST)
    if value:
        first = value[0]
        if not isinstance(first, Mapping):
            raise InvalidRequestError("Post process function input is not a List of Map.")
        if "index" not in first or "relevance_score" not in first:
            raise InvalidRequestError("The rerank result should contain index and relevance_score.")
    if not all(isinstance(result, Mapping) for result in value):
        raise InvalidRequestError("Post process function input is not a List of Map.")
    return _similarity_tensors(_scores_by_index(value, "relevance_score"))


def _bedrock_rerank(value: Any, _data_type: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise InvalidRequestError(_NOT_A_LIST)
    if not value:
        raise InvalidRequestError("Post process function input is empty.")
    for result in value:
        if not isinstance(result, Mapping):
            raise InvalidRequestError("Rerank result is not a Map.")
        if not result:
            raise InvalidRequestError("Rerank result is empty.")
        if "index" not in result or "relevanceScore" not in result:
            raise InvalidRequestError("Rerank result should have both index and relevanceScore.")
        if not isinstance(result["relevanceScore"], float):
            raise InvalidRequestError("relevanceScore is not BigDecimal or Double.")
    return _similarity_tensors(_scores_by_index(value, "relevanceScore"))


def _batch_job_arn(value: Any, _data_type: str) -> list[dict[str, Any]]:
    if not isinstance(value, Mapping):
        raise InvalidRequestError("Post process function input is not a Map.")
    if "jobArn" not in value:
        raise InvalidRequestError("job arn is missing.")
    job_arn = value["jobArn"]
    processed = dict(value)
    processed["processedJobArn"] = job_arn.replace("/", "%2F") if isinstance(job_arn, str) else job_arn
    return [model_tensor(name=RESPONSE_KEY, data_as_map=processed)]


def _passthrough(value: Any, _data_type: str) -> list[dict[str, Any]]:
    """Unwrap an ML Commons predict response into its inner tensors; anything else is one ``response``."""
    if not isinstance(value, Mapping | list):
        raise InvalidRequestError("Post process function input must be a Map or List")
    if isinstance(value, list):
        return [model_tensor(name=RESPONSE_KEY, data_as_map={RESPONSE_KEY: value})]
    results = value.get("inference_results")
    if not isinstance(results, list):
        return [model_tensor(name=RESPONSE_KEY, data_as_map=value)]
    tensors: list[dict[str, Any]] = []
    for result in results:
        outputs = result.get("output") if isinstance(result, Mapping) else None
        if not isinstance(outputs, list):
            continue
        tensors.extend(
            _passthrough_tensor(output) for output in outputs if isinstance(output, Mapping) and output
        )
    return tensors


def _passthrough_tensor(output: Mapping[str, Any]) -> dict[str, Any]:
    name = output.get("name")
    data_type = output.get("data_type")
    shape = output.get("shape")
    data = output.get("data")
    data_as_map = output.get("dataAsMap")
    result = output.get("result")
    return model_tensor(
        name=name if isinstance(name, str) else "output",
        data_type=data_type if data_type in DATA_TYPES else None,
        shape=[int(n) for n in shape if _is_number(n)] if isinstance(shape, list) else None,
        data=[n if _is_number(n) else None for n in data] if isinstance(data, list) else None,
        result=result if isinstance(result, str) else None,
        data_as_map=data_as_map if isinstance(data_as_map, Mapping) else None,
    )


# name -> (default JSONPath, function)
POST_PROCESS_FUNCTIONS: Mapping[str, tuple[str, PostProcessFunction]] = MappingProxyType(
    {
        "connector.post_process.openai.embedding": ("$.data[*].embedding", _embeddings),
        "connector.post_process.cohere.embedding": ("$.embeddings", _embeddings),
        "connector.post_process.cohere_v2.embedding.float": ("$.embeddings.float", _embeddings),
        "connector.post_process.cohere_v2.embedding.int8": ("$.embeddings.int8", _embeddings),
        "connector.post_process.cohere_v2.embedding.uint8": ("$.embeddings.uint8", _embeddings),
        "connector.post_process.cohere_v2.embedding.binary": ("$.embeddings.binary", _embeddings),
        "connector.post_process.cohere_v2.embedding.ubinary": ("$.embeddings.ubinary", _embeddings),
        "connector.post_process.default.embedding": ("$[*]", _embeddings),
        "connector.post_process.bedrock.nova.embedding": ("$.embeddings[*].embedding", _embeddings),
        "connector.post_process.bedrock.embedding": ("$.embedding", _single_embedding),
        "connector.post_process.bedrock_v2.embedding.float": ("$.embeddingsByType.float", _single_embedding),
        "connector.post_process.bedrock_v2.embedding.binary": (
            "$.embeddingsByType.binary",
            _single_embedding,
        ),
        "connector.post_process.bedrock.batch_job_arn": ("$", _batch_job_arn),
        "connector.post_process.cohere.rerank": ("$.results", _cohere_rerank),
        "connector.post_process.default.rerank": ("$[*]", _cohere_rerank),
        "connector.post_process.bedrock.rerank": ("$.results", _bedrock_rerank),
        "connector.post_process.mlcommons.passthrough": ("$", _passthrough),
    }
)


def run_post_process(
    name: str, body: Any, response_filter: str | None, *, action: str = "PREDICT"
) -> list[dict[str, Any]]:
    """Apply built-in ``name`` to a parsed response body (see ``processing.run_builtin_post_process``)."""
    default_filter, function = POST_PROCESS_FUNCTIONS[name]
    path = response_filter if response_filter and response_filter.strip() else default_filter
    failure = f"Fail to execute {action} in aws connector"
    try:
        value = read_json_path(body, path)
    except JsonPathSyntaxError as error:
        raise ExecutionError(failure, caused_by=("invalid_path_exception", str(error))) from error
    if isinstance(value, PathMiss):
        kind = "invalid_path_exception" if value.reason.startswith("Filter: ") else "path_not_found_exception"
        raise ExecutionError(failure, caused_by=(kind, value.reason))
    if value is None:
        raise InvalidRequestError("Can't run post process function as model output is null")
    return function(value, data_type_for_filter(path))


def apply_response_filter(body: Any, response_filter: str) -> Any:
    """The filtered value; the whole body when the path is missing or selects ``null`` (processOutput).

    A definite path gives the value, an indefinite one a list (see :mod:`mlgate.domain.jsonpath`).
    Raises :class:`ExecutionError` (``invalid_path_exception``) for a filter that cannot be parsed.
    """
    try:
        value = read_json_path(body, response_filter)
    except JsonPathSyntaxError as error:
        raise ExecutionError(str(error), error_type="invalid_path_exception") from error
    if value is None or isinstance(value, PathMiss):
        return body
    return value
