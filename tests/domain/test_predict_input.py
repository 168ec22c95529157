"""Parsing of the four predict body shapes (ml-commons: RemoteInferenceMLInput, the nlp/*MLInput classes)."""

from __future__ import annotations

from typing import Any

import pytest

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.predict_input import PredictInput, parse_predict_input


def test_remote_shape_keeps_raw_parameters() -> None:
    body = {"parameters": {"messages": [{"role": "user"}], "temperature": 0.5}, "text_docs": ["ignored"]}
    parsed = parse_predict_input(None, body)
    assert parsed == PredictInput(algorithm="REMOTE", parameters=body["parameters"])
    assert parsed.kind == "remote"
    assert parsed.action_type == "PREDICT"
    assert parsed.text_docs is None


@pytest.mark.parametrize("algorithm", [None, "remote", "REMOTE", "Remote"])
def test_remote_aliases(algorithm: str | None) -> None:
    assert parse_predict_input(algorithm, {}).kind == "remote"


def test_remote_parameters_may_be_absent_or_null() -> None:
    assert parse_predict_input(None, {}).parameters == {}
    assert parse_predict_input(None, {"parameters": None}).parameters == {}


@pytest.mark.parametrize(("sent", "stored"), [("batch_predict", "BATCH_PREDICT"), ("Predict", "PREDICT")])
def test_action_type_case_insensitive(sent: str, stored: str) -> None:
    assert parse_predict_input("remote", {"action_type": sent}).action_type == stored


def test_unknown_action_type() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_predict_input(None, {"action_type": "explode"})
    assert caught.value.message == "Wrong Action Type of explode"
    assert caught.value.error_type == "illegal_argument_exception"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"parameters": ["a"]}, "[parameters]"),
        ({"parameters": "text"}, "[parameters]"),
        ({"action_type": 3}, "[action_type]"),
    ],
)
def test_remote_wrong_types(body: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_predict_input(None, body)
    assert fragment in caught.value.message
    assert caught.value.error_type == "parsing_exception"


@pytest.mark.parametrize("algorithm", ["text_embedding", "SPARSE_ENCODING", "sparse_tokenize"])
def test_text_docs_shape(algorithm: str) -> None:
    parsed = parse_predict_input(algorithm, {"text_docs": ["a", None, 3], "return_number": True})
    assert parsed.kind == "text_docs"
    assert parsed.algorithm == algorithm.upper()
    assert parsed.text_docs == ["a", None, "3"]
    assert parsed.parameters == {}


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({"content_type": "query"}, {"content_type": "QUERY", "sparse_embedding_format": "WORD"}),
        ({"sparse_embedding_format": "token_id"}, {"sparse_embedding_format": "TOKEN_ID"}),
        ({}, {"sparse_embedding_format": "WORD"}),
        ({"unknown": 1}, {"sparse_embedding_format": "WORD"}),
    ],
)
def test_text_docs_algorithm_parameters(parameters: dict[str, Any], expected: dict[str, str]) -> None:
    parsed = parse_predict_input("text_embedding", {"text_docs": ["x"], "parameters": parameters})
    assert parsed.parameters == expected


def test_text_docs_bad_content_type() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_predict_input("text_embedding", {"text_docs": ["x"], "parameters": {"content_type": "doc"}})
    assert caught.value.message == (
        "No enum constant org.opensearch.ml.common.input.parameter.textembedding."
        "AsymmetricTextEmbeddingParameters.EmbeddingContentType.DOC"
    )


@pytest.mark.parametrize("body", [{}, {"text_docs": []}, {"text_docs": None}])
def test_empty_text_docs(body: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_predict_input("text_embedding", body)
    assert caught.value.message == "Empty text docs"


@pytest.mark.parametrize("docs", ["one doc", {"a": 1}, [["nested"]], [{"a": 1}]])
def test_text_docs_wrong_types(docs: Any) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_predict_input("text_embedding", {"text_docs": docs})
    assert "text_docs" in caught.value.message


def test_text_similarity_shape() -> None:
    parsed = parse_predict_input("text_similarity", {"query_text": "q", "text_docs": ["d1", "d2"]})
    assert parsed.kind == "text_similarity"
    assert (parsed.query_text, parsed.text_docs) == ("q", ["d1", "d2"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"query_text": "q"}, "No text documents were provided"),
        ({"query_text": "q", "text_docs": []}, "No text documents were provided"),
        ({"text_docs": ["d"]}, "No query text was provided"),
        ({}, "No text documents were provided"),
    ],
)
def test_text_similarity_validation(body: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_predict_input("TEXT_SIMILARITY", body)
    assert caught.value.message == message


def test_question_answering_shape() -> None:
    parsed = parse_predict_input("question_answering", {"question": "why?", "context": "because"})
    assert parsed.kind == "question_answering"
    assert (parsed.question, parsed.context) == ("why?", "because")


@pytest.mark.parametrize(
    ("body", "message"),
    [({"context": "c"}, "Question is not provided"), ({"question": "q"}, "Context is not provided")],
)
def test_question_answering_validation(body: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_predict_input("question_answering", body)
    assert caught.value.message == message


def test_unknown_algorithm() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_predict_input("kmeans", {})
    assert caught.value.message == "Wrong function name"
