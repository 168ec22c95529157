"""Built-in post-process functions, response filters and generic tensors.

ml-commons: MLPostProcessFunction, ConnectorUtils (processOutput), AbstractConnector (parseResponse).
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from mlgate.domain.errors import ExecutionError, InvalidRequestError
from mlgate.domain.processing import (
    apply_response_filter,
    build_response_tensors,
    data_type_for_filter,
    run_builtin_post_process,
)

OPENAI_EMBEDDING = {
    "object": "list",
    "data": [
        {"object": "embedding", "index": 0, "embedding": [-0.0087, 0.0124, 1.5e-05]},
        {"object": "embedding", "index": 1, "embedding": [0.0031, -0.0198, 0]},
    ],
    "model": "text-embedding-ada-002",
    "usage": {"prompt_tokens": 8, "total_tokens": 8},
}
COHERE_EMBEDDING = {"id": "x", "texts": ["a"], "embeddings": [[0.1, 0.2], [0.3, 0.4]], "meta": {}}
COHERE_V2 = {
    "embeddings": {
        "float": [[0.5, 0.25]],
        "int8": [[-3, 7]],
        "uint8": [[3, 250]],
        "binary": [[-1]],
        "ubinary": [[255]],
    }
}
BEDROCK_TITAN = {"embedding": [0.52, 0.11, -0.3], "inputTextTokenCount": 3}
BEDROCK_V2 = {"embeddingsByType": {"float": [0.1, 0.2], "binary": [1, 0]}, "embedding": [0.1, 0.2]}
NOVA = {"embeddings": [{"embeddingType": "TEXT", "embedding": [0.9, 0.8]}]}
SAGEMAKER_DEFAULT = [[0.1, 0.2], [0.3, 0.4]]
COHERE_RERANK = {
    "results": [
        {"index": 2, "relevance_score": 0.9},
        {"index": 0, "relevance_score": 0.4},
        {"index": 1, "relevance_score": 0.01},
    ]
}
BEDROCK_RERANK = {"results": [{"index": 1, "relevanceScore": 0.7}, {"index": 0, "relevanceScore": 0.2}]}


def embedding(data: list[Any], data_type: str = "FLOAT32") -> dict[str, Any]:
    return {"name": "sentence_embedding", "data_type": data_type, "shape": [len(data)], "data": data}


def similarity(score: float) -> dict[str, Any]:
    return {"name": "similarity", "data_type": "FLOAT32", "shape": [1], "data": [score]}


@pytest.mark.parametrize(
    ("name", "body", "response_filter", "expected"),
    [
        (
            "connector.post_process.openai.embedding",
            OPENAI_EMBEDDING,
            None,
            [embedding([-0.0087, 0.0124, 1.5e-05]), embedding([0.0031, -0.0198, 0])],
        ),
        (
            "connector.post_process.cohere.embedding",
            COHERE_EMBEDDING,
            None,
            [embedding([0.1, 0.2]), embedding([0.3, 0.4])],
        ),
        (
            "connector.post_process.cohere.embedding",
            COHERE_EMBEDDING,
            "  ",
            [embedding([0.1, 0.2]), embedding([0.3, 0.4])],
        ),
        ("connector.post_process.cohere_v2.embedding.float", COHERE_V2, None, [embedding([0.5, 0.25])]),
        ("connector.post_process.cohere_v2.embedding.int8", COHERE_V2, None, [embedding([-3, 7], "INT8")]),
        ("connector.post_process.cohere_v2.embedding.uint8", COHERE_V2, None, [embedding([3, 250], "UINT8")]),
        ("connector.post_process.cohere_v2.embedding.binary", COHERE_V2, None, [embedding([-1], "BINARY")]),
        (
            "connector.post_process.cohere_v2.embedding.ubinary",
            COHERE_V2,
            None,
            [embedding([255], "UBINARY")],
        ),
        (
            "connector.post_process.cohere.embedding",
            COHERE_V2,
            "$.embeddings.int8",
            [embedding([-3, 7], "INT8")],
        ),
        (
            "connector.post_process.default.embedding",
            SAGEMAKER_DEFAULT,
            None,
            [embedding([0.1, 0.2]), embedding([0.3, 0.4])],
        ),
        ("connector.post_process.bedrock.nova.embedding", NOVA, None, [embedding([0.9, 0.8])]),
        ("connector.post_process.bedrock.embedding", BEDROCK_TITAN, None, [embedding([0.52, 0.11, -0.3])]),
        ("connector.post_process.bedrock_v2.embedding.float", BEDROCK_V2, None, [embedding([0.1, 0.2])]),
        (
            "connector.post_process.bedrock_v2.embedding.binary",
            BEDROCK_V2,
            None,
            [embedding([1, 0], "BINARY")],
        ),
        ("connector.post_process.openai.embedding", {"data": []}, None, []),
        ("connector.post_process.cohere.embedding", {"embeddings": []}, None, []),
        ("connector.post_process.bedrock.embedding", {"embedding": []}, None, [embedding([])]),
        (
            "connector.post_process.cohere.rerank",
            COHERE_RERANK,
            None,
            [similarity(0.4), similarity(0.01), similarity(0.9)],
        ),
        (
            "connector.post_process.default.rerank",
            COHERE_RERANK["results"],
            None,
            [similarity(0.4), similarity(0.01), similarity(0.9)],
        ),
        ("connector.post_process.cohere.rerank", {"results": []}, None, []),
        ("connector.post_process.bedrock.rerank", BEDROCK_RERANK, None, [similarity(0.2), similarity(0.7)]),
    ],
)
def test_builtin_post_process(
    name: str, body: Any, response_filter: str | None, expected: list[dict[str, Any]]
) -> None:
    tensors = run_builtin_post_process(name, body, response_filter)
    assert tensors == expected
    for tensor in tensors:
        assert list(tensor) == ["name", "data_type", "shape", "data"]


def test_batch_job_arn() -> None:
    body = {"jobArn": "arn:aws:bedrock:us-east-1:1234:model-invocation-job/abc"}
    assert run_builtin_post_process("connector.post_process.bedrock.batch_job_arn", body, None) == [
        {
            "name": "response",
            "dataAsMap": {
                "jobArn": "arn:aws:bedrock:us-east-1:1234:model-invocation-job/abc",
                "processedJobArn": "arn:aws:bedrock:us-east-1:1234:model-invocation-job%2Fabc",
            },
        }
    ]


def test_passthrough_unwraps_ml_commons_response() -> None:
    remote = {
        "inference_results": [
            {
                "output": [
                    {"name": "sentence_embedding", "data_type": "FLOAT32", "shape": [2], "data": [0.1, 0.2]},
                    {"dataAsMap": {"response": [{"hello": 0.5}]}},
                    {},
                ],
                "status_code": 200,
            },
            {"output": [{"name": "other", "data_type": "NOPE", "result": "text"}]},
        ]
    }
    assert run_builtin_post_process("connector.post_process.mlcommons.passthrough", remote, None) == [
        {"name": "sentence_embedding", "data_type": "FLOAT32", "shape": [2], "data": [0.1, 0.2]},
        {"name": "output", "dataAsMap": {"response": [{"hello": 0.5}]}},
        {"name": "other", "result": "text"},
    ]


def test_passthrough_other_responses() -> None:
    name = "connector.post_process.mlcommons.passthrough"
    assert run_builtin_post_process(name, {"a": 1}, None) == [{"name": "response", "dataAsMap": {"a": 1}}]
    assert run_builtin_post_process(name, [1], None) == [{"name": "response", "dataAsMap": {"response": [1]}}]


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        (
            "connector.post_process.cohere.embedding",
            {"embeddings": {"float": []}},
            "Post process function input is not a List.",
        ),
        (
            "connector.post_process.cohere.embedding",
            {"embeddings": [1, 2]},
            "The embedding should be a non-empty List containing List of Float values.",
        ),
        (
            "connector.post_process.cohere.embedding",
            {"embeddings": [[]]},
            "The embedding should be a non-empty List containing Float values.",
        ),
        (
            "connector.post_process.cohere.embedding",
            {"embeddings": [["x"]]},
            "The embedding should be a non-empty List containing Float values.",
        ),
        (
            "connector.post_process.cohere.embedding",
            {"embeddings": [[True]]},
            "The embedding should be a non-empty List containing Float values.",
        ),
        (
            "connector.post_process.cohere.embedding",
            {"embeddings": [[1.0], 2]},
            "The embedding should be a non-empty List containing List of Float values.",
        ),
        (
            "connector.post_process.bedrock.embedding",
            {"embedding": "v"},
            "Post process function input is not a List.",
        ),
        (
            "connector.post_process.bedrock.embedding",
            {"embedding": [[0.1]]},
            "The embedding should be a non-empty List containing Float values.",
        ),
        (
            "connector.post_process.bedrock.embedding",
            {"embedding": None},
            "Can't run post process function as model output is null",
        ),
        (
            "connector.post_process.cohere.rerank",
            {"results": {}},
            "Post process function input is not a List.",
        ),
        (
            "connector.post_process.cohere.rerank",
            {"results": [1]},
            "Post process function input is not a List of Map.",
        ),
        (
            "connector.post_process.cohere.rerank",
            {"results": [{}]},
            "The rerank result should contain index and relevance_score.",
        ),
        (
            "connector.post_process.cohere.rerank",
            {"results": [{"index": 0}]},
            "The rerank result should contain index and relevance_score.",
        ),
        ("connector.post_process.bedrock.rerank", {"results": []}, "Post process function input is empty."),
        (
            "connector.post_process.bedrock.rerank",
            {"results": "x"},
            "Post process function input is not a List.",
        ),
        ("connector.post_process.bedrock.rerank", {"results": [1]}, "Rerank result is not a Map."),
        ("connector.post_process.bedrock.rerank", {"results": [{}]}, "Rerank result is empty."),
        (
            "connector.post_process.bedrock.rerank",
            {"results": [{"index": 0, "score": 1.0}]},
            "Rerank result should have both index and relevanceScore.",
        ),
        (
            "connector.post_process.bedrock.rerank",
            {"results": [{"index": 0, "relevanceScore": 1}]},
            "relevanceScore is not BigDecimal or Double.",
        ),
        ("connector.post_process.bedrock.batch_job_arn", [1], "Post process function input is not a Map."),
        ("connector.post_process.bedrock.batch_job_arn", {"status": "x"}, "job arn is missing."),
        (
            "connector.post_process.mlcommons.passthrough",
            None,
            "Can't run post process function as model output is null",
        ),
    ],
)
def test_post_process_validation(name: str, body: Any, message: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        run_builtin_post_process(name, body, None)
    assert caught.value.message == message
    assert caught.value.error_type == "illegal_argument_exception"


@pytest.mark.parametrize(
    ("name", "body", "response_filter", "action", "cause"),
    [
        (
            "connector.post_process.bedrock.embedding",
            {"message": "oops"},
            None,
            "PREDICT",
            ("path_not_found_exception", "No results for path: $['embedding']"),
        ),
        (
            "connector.post_process.openai.embedding",
            {"error": {}},
            None,
            "PREDICT",
            ("path_not_found_exception", "Missing property in path $['data']"),
        ),
        (
            "connector.post_process.cohere.embedding",
            {"x": 1},
            "$.embeddings[0]",
            "BATCH_PREDICT",
            ("path_not_found_exception", "Missing property in path $['embeddings']"),
        ),
        (
            "connector.post_process.openai.embedding",
            {"data": "text"},
            "$.data[0]",
            "PREDICT",
            ("invalid_path_exception", "Filter: [0] can only be applied to arrays. Current context is: text"),
        ),
    ],
)
def test_post_process_path_not_found(
    name: str, body: Any, response_filter: str | None, action: str, cause: tuple[str, str]
) -> None:
    with pytest.raises(ExecutionError) as caught:
        run_builtin_post_process(name, body, response_filter, action=action)
    assert caught.value.message == f"Fail to execute {action} in aws connector"
    assert caught.value.error_type == "m_l_exception"
    assert caught.value.caused_by == cause


@pytest.mark.parametrize("data", ["text", {"embedding": [1]}, 3])
def test_wildcard_over_a_non_array_selects_nothing(data: Any) -> None:
    assert run_builtin_post_process("connector.post_process.openai.embedding", {"data": data}, None) == []


def test_rerank_index_out_of_range() -> None:
    with pytest.raises(ExecutionError) as caught:
        run_builtin_post_process(
            "connector.post_process.cohere.rerank", {"results": [{"index": 5, "relevance_score": 0.1}]}, None
        )
    assert caught.value.error_type == "array_index_out_of_bounds_exception"


@pytest.mark.parametrize(
    ("response_filter", "data_type"),
    [
        (None, "FLOAT32"),
        ("", "FLOAT32"),
        ("$.embedding", "FLOAT32"),
        ("$.embeddings.float", "FLOAT32"),
        ("$.embeddingsByType.float", "FLOAT32"),
        ("$.embeddings.int8", "INT8"),
        ("$.EMBEDDINGS.INT8", "INT8"),
        ("$.embeddings.uint8", "UINT8"),
        ("$.embeddingsByType.binary", "BINARY"),
        ("$.embeddings.ubinary", "UBINARY"),
        ("$.x.float64", "FLOAT64"),
        ("$.x.float16", "FLOAT16"),
        ("$.x.int64", "INT64"),
        ("$.x.int32", "INT32"),
        ("$.x.boolean", "BOOLEAN"),
        ("$.x.string_field", "STRING"),
        ("$.int8", "INT8"),
        ("int8", "FLOAT32"),
    ],
)
def test_data_type_for_filter(response_filter: str | None, data_type: str) -> None:
    assert data_type_for_filter(response_filter) == data_type


# ------------------------------------------------------------- response_filter (ConnectorUtils.processOutput)

CLAUDE3 = {"id": "msg_1", "content": [{"type": "text", "text": "Hello!"}], "usage": {"input_tokens": 3}}
CONVERSE = {
    "output": {"message": {"role": "assistant", "content": [{"text": "Hi there"}]}},
    "stopReason": "end_turn",
}
CLAUDE_V2 = {"completion": " The answer", "stop_reason": "stop_sequence"}
OPENAI_CHAT = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Yo"}}]}
COMPREHEND = {"Languages": [{"LanguageCode": "en", "Score": 0.99}]}
GUARDRAIL = {"action": "NONE", "outputs": []}


@pytest.mark.parametrize(
    ("body", "response_filter", "expected"),
    [
        (CLAUDE3, "$.content[0].text", "Hello!"),
        (CONVERSE, "$.output.message.content[0].text", "Hi there"),
        (CLAUDE_V2, "$.completion", " The answer"),
        (OPENAI_CHAT, "$.choices[0].message.content", "Yo"),
        (COMPREHEND, "$", COMPREHEND),
        (GUARDRAIL, "$.action", "NONE"),
        (OPENAI_CHAT, "$.choices[*].message.content", ["Yo"]),
        (OPENAI_CHAT, "$..content", ["Yo"]),
        (CLAUDE3, "$.missing", CLAUDE3),
        (CLAUDE3, "$.content[5].text", CLAUDE3),
        (CLAUDE3, "$.missing.deeper", CLAUDE3),
        ({"a": None}, "$.a", {"a": None}),
        (CLAUDE3, "$.content[*].missing", []),
        (CLAUDE3, "$.content", [{"type": "text", "text": "Hello!"}]),
        ({"a": [{"k": "x", "v": 1}, {"k": "y", "v": 2}]}, "$.a[?(@.k == 'y')].v", [2]),
    ],
)
def test_apply_response_filter(body: Any, response_filter: str, expected: Any) -> None:
    assert apply_response_filter(body, response_filter) == expected


def test_apply_response_filter_invalid_path() -> None:
    with pytest.raises(ExecutionError) as caught:
        apply_response_filter({}, "$.a[")
    assert caught.value.error_type == "invalid_path_exception"


# ---------------------------------------------------------- generic tensors (AbstractConnector.parseResponse)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"id": "x", "n": 1}, [{"name": "response", "dataAsMap": {"id": "x", "n": 1}}]),
        ("Hello!", [{"name": "response", "dataAsMap": {"response": "Hello!"}}]),
        (3, [{"name": "response", "dataAsMap": {"response": 3}}]),
        (None, [{"name": "response", "dataAsMap": {"response": None}}]),
        (["a", "b"], [{"name": "response", "dataAsMap": {"response": ["a", "b"]}}]),
        ('{"k": [1]}', [{"name": "response", "dataAsMap": {"k": [1]}}]),
        ("[1, 2]", [{"name": "response", "dataAsMap": {"response": [1, 2]}}]),
        ("{not json", [{"name": "response", "dataAsMap": {"response": "{not json"}}]),
    ],
)
def test_build_response_tensors_generic(value: Any, expected: list[dict[str, Any]]) -> None:
    assert build_response_tensors(value, from_script=False) == expected


def test_build_response_tensors_from_script_single_and_array() -> None:
    single = '{"name": "response", "dataAsMap": {"response": "text"}}'
    assert build_response_tensors(single, from_script=True) == [
        {"name": "response", "dataAsMap": {"response": "text"}}
    ]
    many = orjson.dumps(
        [
            {"name": "sentence_embedding", "data_type": "FLOAT32", "shape": [2], "data": [0.1, 0.2]},
            {"name": "no_type", "shape": [1], "data": [0.5]},
            {"name": "empty", "data_type": "FLOAT32", "data": []},
            {
                "dataAsMap": {"k": 1},
                "result": "r",
                "byte_buffer": {"array": "AAE=", "order": "BIG_ENDIAN"},
                "extra": 1,
            },
        ]
    ).decode()
    tensors = build_response_tensors(many, from_script=True)
    assert tensors == [
        {"name": "sentence_embedding", "data_type": "FLOAT32", "shape": [2], "data": [0.1, 0.2]},
        {"name": "no_type", "shape": [1]},
        {"name": "empty", "data_type": "FLOAT32"},
        {"result": "r", "dataAsMap": {"k": 1}},
    ]
    assert list(tensors[0]) == ["name", "data_type", "shape", "data"]
    assert list(tensors[3]) == ["result", "dataAsMap"]


def test_build_response_tensors_from_script_plain_text() -> None:
    assert build_response_tensors("just text", from_script=True) == [
        {"name": "response", "dataAsMap": {"response": "just text"}}
    ]


def test_build_response_tensors_from_script_bad_data_type() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        build_response_tensors('{"name": "x", "data_type": "FLOAT"}', from_script=True)
    assert (
        caught.value.message
        == "No enum constant org.opensearch.ml.common.output.model.MLResultDataType.FLOAT"
    )
