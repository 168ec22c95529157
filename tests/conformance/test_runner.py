"""The conformance runner over a few representative blueprints, so that ``make test`` exercises it.

Skipped only when the shared blueprint corpus is absent; ``make conformance`` runs the whole corpus.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.normalise import PRE_3_3_WRAPPER, compare_predict
from tests.conformance.provider import provider_bodies
from tests.conformance.runner import DEFAULT_FOLDER, main

REPRESENTATIVE = (
    "openai_embedding",  # OpenAI embedding; placeholder name refused as published, then replayed
    "cohere_embed_v1",  # Cohere embedding with the built-in pre/post functions
    "bedrock_titan_embed_v2_aksk",  # Bedrock, SigV4 verified by the mock
    "sagemaker_copali_inline_aksk",  # SageMaker, inline connector in the register body
    "amazon_comprehend_detect_dominant_language_rolearn",  # expected refusal: "Missing credential"
)

needs_corpus = pytest.mark.skipif(
    not (DEFAULT_FOLDER / "index.json").is_file(), reason=f"no blueprint corpus at {DEFAULT_FOLDER}"
)


@needs_corpus
def test_representative_blueprints_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(list(REPRESENTATIVE)) == 0
    lines = capsys.readouterr().out.splitlines()
    by_name = {line.split(" ")[1]: line for line in lines[:-1]}
    assert sorted(by_name) == sorted(REPRESENTATIVE)
    assert all(line.startswith("PASS ") for line in by_name.values()), lines
    assert "refused as published: Missing credential" in by_name[REPRESENTATIVE[4]]
    assert "placeholder name refused as published" in by_name[REPRESENTATIVE[0]]
    assert lines[-1] == "5 passed, 0 failed, 0 skipped"


def test_absent_corpus_is_skipped_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--blueprints", str(tmp_path / "nowhere")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("SKIP conformance: no blueprint corpus at ")
    assert out[-1] == "0 passed, 0 failed, 0 skipped"


def test_provider_body_is_derived_through_the_builtin_and_filter() -> None:
    expected = {
        "inference_results": [
            {
                "output": [
                    {"name": "sentence_embedding", "data": [0.5, 1.0]},
                    {"name": "sentence_embedding", "data": [2.0]},
                ]
            }
        ]
    }
    bodies = provider_bodies("connector.post_process.openai.embedding", None, expected)
    assert bodies == [{"data": [{"embedding": [0.5, 1.0]}, {"embedding": [2.0]}]}]
    chat = {"inference_results": [{"output": [{"name": "response", "dataAsMap": {"response": "Hi"}}]}]}
    assert provider_bodies(None, "$.choices[0].message.content", chat) == [
        {"choices": [{"message": {"content": "Hi"}}]}
    ]
    # A Painless post-process script cannot be inverted: only the shape is compared then.
    assert provider_bodies("return params;", None, chat) is None


def test_listed_version_difference_is_normalised_and_named() -> None:
    old = {"inference_results": [{"output": [{"name": "response", "dataAsMap": {"response": {"a": 1.0}}}]}]}
    head = {"inference_results": [{"output": [{"name": "response", "dataAsMap": {"a": 1}}]}]}
    comparison = compare_predict(old, 200, head, exact=True)
    assert comparison.ok, comparison.problems
    assert PRE_3_3_WRAPPER in comparison.normalised
    wrong = {"inference_results": [{"output": [{"name": "response", "dataAsMap": {"a": 2}}]}]}
    assert not compare_predict(old, 200, wrong, exact=True).ok
