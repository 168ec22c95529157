"""Built-in pre-process functions and text_docs chunking.

ml-commons: MLPreProcessFunction, RemoteConnectorExecutor (calculateChunkSize).
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.predict_input import PredictInput
from mlgate.domain.processing import (
    chunk_text_docs,
    is_builtin_post_process,
    is_builtin_pre_process,
    run_builtin_pre_process,
)
from mlgate.domain.template import escape_parameters, render_payload, stringify_parameter

TEXT_DOCS_ONLY = (
    "This pre_process_function can only support TextDocsInputDataSet which including a list of string with "
    "key 'text_docs'"
)
SIMILARITY_ONLY = "This pre_process_function can only support TextSimilarityInputDataSet"


def docs(*items: str | None) -> PredictInput:
    return PredictInput(algorithm="TEXT_EMBEDDING", parameters={}, text_docs=list(items))


def similarity(query: str, *items: str) -> PredictInput:
    return PredictInput(algorithm="TEXT_SIMILARITY", parameters={}, text_docs=list(items), query_text=query)


REMOTE = PredictInput(algorithm="REMOTE", parameters={"input": "x"})
QA = PredictInput(algorithm="QUESTION_ANSWERING", parameters={}, question="q", context="c")


@pytest.mark.parametrize(
    ("name", "inp", "expected"),
    [
        ("connector.pre_process.openai.embedding", docs("a", 'b "q"'), {"input": ["a", 'b "q"']}),
        ("connector.pre_process.default.embedding", docs("a", None), {"input": ["a", None]}),
        ("connector.pre_process.cohere.embedding", docs("a", "b"), {"texts": ["a", "b"]}),
        ("connector.pre_process.bedrock.embedding", docs("first", "second"), {"inputText": "first"}),
        ("connector.pre_process.bedrock.nova.text_embedding", docs("t1", "t2"), {"inputText": "t1"}),
        ("connector.pre_process.bedrock.multimodal_embedding", docs("text"), {"inputText": "text"}),
        (
            "connector.pre_process.bedrock.multimodal_embedding",
            docs(None, "aW1n"),
            {"inputText": None, "inputImage": "aW1n"},
        ),
        (
            "connector.pre_process.bedrock.multimodal_embedding",
            docs("t", "aW1n", "extra"),
            {"inputText": "t", "inputImage": "aW1n"},
        ),
        (
            "connector.pre_process.cohere.multimodal_embedding",
            docs("data:image/png;base64,AA"),
            {"images": ["data:image/png;base64,AA"]},
        ),
        ("connector.pre_process.bedrock.nova.image_embedding", docs("img", "x"), {"inputImage": "img"}),
        ("connector.pre_process.bedrock.nova.video_embedding", docs("vid"), {"inputVideo": "vid"}),
        ("connector.pre_process.bedrock.nova.audio_embedding", docs("aud"), {"inputAudio": "aud"}),
        ("connector.pre_process.bedrock.nova.embedding", docs("plain text"), {"text": "plain text"}),
        ("connector.pre_process.bedrock.nova.embedding", docs('{"image": "b64"}'), {"image": "b64"}),
        ("connector.pre_process.bedrock.nova.embedding", docs('{"video": "s3://v"}'), {"video": "s3://v"}),
        ("connector.pre_process.bedrock.nova.embedding", docs('{"audio": "s3://a"}'), {"audio": "s3://a"}),
        (
            "connector.pre_process.bedrock.nova.embedding",
            docs('{"text": "hi", "image": "b"}'),
            {"text": "hi"},
        ),
        ("connector.pre_process.bedrock.nova.embedding", docs('{"other": 1}'), {"text": '{"other": 1}'}),
        (
            "connector.pre_process.bedrock.nova.embedding",
            docs('{"video": "v", "audio": "a"}'),
            {"video": "a"},
        ),
        (
            "connector.pre_process.cohere.rerank",
            similarity("what?", "d1", "d2", "d3"),
            {"query": "what?", "documents": ["d1", "d2", "d3"], "top_n": 3},
        ),
        (
            "connector.pre_process.default.rerank",
            similarity("q", "d1"),
            {"query": "q", "documents": ["d1"], "top_n": 1},
        ),
        (
            "connector.pre_process.bedrock.rerank",
            similarity("q", "d1", "d2"),
            {
                "queries": [{"textQuery": {"text": "q"}, "type": "TEXT"}],
                "sources": [
                    {
                        "inlineDocumentSource": {"textDocument": {"text": "d1"}, "type": "TEXT"},
                        "type": "INLINE",
                    },
                    {
                        "inlineDocumentSource": {"textDocument": {"text": "d2"}, "type": "TEXT"},
                        "type": "INLINE",
                    },
                ],
                "numberOfResults": 2,
            },
        ),
    ],
)
def test_builtin_pre_process_outputs(name: str, inp: PredictInput, expected: dict[str, Any]) -> None:
    assert is_builtin_pre_process(name)
    assert run_builtin_pre_process(name, inp) == expected


@pytest.mark.parametrize(
    ("name", "inp", "message"),
    [
        ("connector.pre_process.openai.embedding", similarity("q", "d"), TEXT_DOCS_ONLY),
        ("connector.pre_process.bedrock.embedding", QA, TEXT_DOCS_ONLY),
        ("connector.pre_process.cohere.rerank", docs("a"), SIMILARITY_ONLY),
        ("connector.pre_process.bedrock.rerank", QA, SIMILARITY_ONLY),
        ("connector.pre_process.bedrock.multimodal_embedding", docs(), "No input text or image provided"),
        ("connector.pre_process.bedrock.multimodal_embedding", docs(None), "No input text or image provided"),
        ("connector.pre_process.cohere.multimodal_embedding", docs(None, "x"), "No image provided"),
        ("connector.pre_process.cohere.multimodal_embedding", docs(), "No image provided"),
        ("connector.pre_process.bedrock.nova.embedding", docs(None), "No input provided"),
        ("connector.pre_process.bedrock.nova.image_embedding", docs(), "No input image provided"),
        ("connector.pre_process.bedrock.nova.video_embedding", docs(), "No input video provided"),
        ("connector.pre_process.bedrock.nova.audio_embedding", docs(), "No input audio provided"),
    ],
)
def test_builtin_pre_process_validation(name: str, inp: PredictInput, message: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        run_builtin_pre_process(name, inp)
    assert caught.value.message == message


@pytest.mark.parametrize(
    "name", ["connector.pre_process.openai.embedding", "connector.pre_process.cohere.rerank"]
)
def test_remote_input_passes_through(name: str) -> None:
    assert run_builtin_pre_process(name, REMOTE) == {}


@pytest.mark.parametrize(
    ("name", "builtin"),
    [
        ("connector.pre_process.openai.embedding", True),
        ("connector.pre_process.openai.embeddings", False),
        ("connector.post_process.openai.embedding", False),
        ("return params.text_docs;", False),
        ("", False),
    ],
)
def test_is_builtin_pre_process(name: str, builtin: bool) -> None:
    assert is_builtin_pre_process(name) is builtin


@pytest.mark.parametrize(
    ("name", "builtin"),
    [
        ("connector.post_process.bedrock.embedding", True),
        ("connector.post_process.mlcommons.passthrough", True),
        ("connector.post_process.cohere_v2.embedding.ubinary", True),
        ("connector.pre_process.bedrock.embedding", False),
        ("def x = params.embedding; return x;", False),
    ],
)
def test_is_builtin_post_process(name: str, builtin: bool) -> None:
    assert is_builtin_post_process(name) is builtin


def _rendered(template: str, produced: dict[str, Any]) -> Any:
    params = escape_parameters({k: stringify_parameter(v) for k, v in produced.items()})
    return orjson.loads(render_payload(template, params) or "")


def test_openai_worked_example_wire_body() -> None:
    produced = run_builtin_pre_process(
        "connector.pre_process.openai.embedding", docs('hello "world"', "café")
    )
    params = escape_parameters({k: stringify_parameter(v) for k, v in produced.items()})
    assert params["input"] == '["hello \\"world\\"","café"]'
    body = render_payload('{ "input": ${parameters.input}, "model": "m" }', params)
    assert body == '{ "input": ["hello \\"world\\"","café"], "model": "m" }'


def test_bedrock_text_is_escaped_for_a_quoted_position() -> None:
    produced = run_builtin_pre_process("connector.pre_process.bedrock.embedding", docs('a "b"/c\n'))
    assert _rendered('{ "inputText": "${parameters.inputText}" }', produced) == {"inputText": 'a "b"/c\n'}


def test_bedrock_rerank_renders_as_json() -> None:
    produced = run_builtin_pre_process("connector.pre_process.bedrock.rerank", similarity('q "x"', "d1"))
    template = (
        '{"queries": ${parameters.queries}, "sources": ${parameters.sources}, '
        '"n": ${parameters.numberOfResults}}'
    )
    rendered = _rendered(template, produced)
    assert rendered["queries"][0]["textQuery"]["text"] == 'q "x"'
    assert rendered["n"] == 1


# ---------------------------------------------------------------- chunking


@pytest.mark.parametrize(
    ("connector_parameters", "function", "expected"),
    [
        ({}, None, [["a", "b", "c"]]),
        ({}, "connector.pre_process.openai.embedding", [["a", "b", "c"]]),
        ({}, "connector.pre_process.cohere.embedding", [["a", "b", "c"]]),
        ({}, "connector.pre_process.bedrock.embedding", [["a"], ["b"], ["c"]]),
        ({}, "connector.pre_process.bedrock.nova.text_embedding", [["a", "b", "c"]]),
        ({}, "return params.text_docs[0];", [["a"], ["b"], ["c"]]),
        ({"input_docs_processed_step_size": "2"}, None, [["a", "b"], ["c"]]),
        (
            {"input_docs_processed_step_size": "2"},
            "connector.pre_process.bedrock.embedding",
            [["a", "b"], ["c"]],
        ),
        ({"input_docs_processed_step_size": "3"}, None, [["a", "b", "c"]]),
        ({"input_docs_processed_step_size": "10"}, None, [["a", "b", "c"]]),
        ({"input_docs_processed_step_size": "1"}, None, [["a"], ["b"], ["c"]]),
    ],
)
def test_chunk_text_docs(
    connector_parameters: dict[str, str | None], function: str | None, expected: list[list[str]]
) -> None:
    assert chunk_text_docs(["a", "b", "c"], connector_parameters, function) == expected


@pytest.mark.parametrize("step", ["0", "-1", "abc", "1.5", " 2", None])
def test_chunk_text_docs_invalid_step_size(step: str | None) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        chunk_text_docs(["a"], {"input_docs_processed_step_size": step}, None)
    assert (
        caught.value.message
        == "Invalid parameter: input_docs_processed_step_size. It must be positive integer."
    )


def test_chunk_keeps_null_documents_in_place() -> None:
    assert chunk_text_docs(["a", None], {}, "connector.pre_process.bedrock.embedding") == [["a"], [None]]
