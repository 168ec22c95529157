"""Every published blueprint script, run on realistic inputs, gives the output ML Commons gives.

Pre-process ``params`` are shaped as ML Commons builds them (the ML input serialised to JSON, documents
already JSON-escaped, numbers as doubles); post-process ``params`` are the provider's response body
(a top-level JSON array arrives as ``params.result``). P23-P25 are not in a saved connector body; they
are quoted from the docs in ``painless-usage.md``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest

from mlgate.painless import ScriptCompileError, ScriptRuntimeError, compile_script
from tests.painless.conftest import BLUEPRINTS, blueprint_scripts

Run = Callable[[str, str, dict[str, Any]], Any]
PRE, POST = "pre_process_function", "post_process_function"

RERANK_DOCS = [
    "Carson City is the capital city of the American state of Nevada.",
    "The Commonwealth of the Northern Mariana Islands is a group of islands in the Pacific Ocean. "
    "Its capital is Saipan.",
    "Washington, D.C. (also known as simply Washington or D.C., and officially as the District of Columbia) "
    "is the capital of the United States. It is a federal district.",
    "Capital punishment (the death penalty) has existed in the United States since beforethe United States "
    "was a country. As of 2017, capital punishment is legal in 30 of the 50 states.",
]
QUERY = "What is the capital city of America?"


def text_docs_params(*docs: str | None, **extra: Any) -> dict[str, Any]:
    """ML Commons' pre-process params for a text-docs input (docs are JSON-escaped first)."""
    escaped = [None if doc is None else json.dumps(doc, ensure_ascii=False)[1:-1] for doc in docs]
    return {"algorithm": "TEXT_EMBEDDING", "text_docs": escaped, **extra}


def similarity_tensor(score: str) -> str:
    return ' {"name": "similarity", "data_type": "FLOAT32", "shape": [1],"data": [' + score + "]}"


# --- the corpus as a whole -----------------------------------------------------------------------


def test_corpus_has_the_22_distinct_scripts_and_one_mistyped_builtin() -> None:
    if not BLUEPRINTS.is_dir():
        pytest.skip("the blueprint corpus is not available")
    scripts = blueprint_scripts()
    assert len(scripts) == 23
    compiled = 0
    for script in scripts:
        if script.startswith("onnector."):
            # bedrock_titan_embed_v2_partial_aksk: ML Commons hands the typo to Painless, which rejects it.
            with pytest.raises(ScriptCompileError):
                compile_script(script)
        else:
            compile_script(script)
            compiled += 1
    assert compiled == 22


# --- embeddings (P1, P2, P4, P5, P6, P22, P23, P25) ---------------------------------------------


def test_p1_aleph_alpha_pre_process(run_blueprint: Run) -> None:
    params = text_docs_params("Test string with German characters: Moët Hennessy")
    result = run_blueprint("aleph_alpha_luminous_base_embedding", PRE, params)
    assert result == '{"parameters":{"input":"Test string with German characters: Moët Hennessy"}}'


def test_p1_pastes_an_already_escaped_document_into_valid_json(run_blueprint: Run) -> None:
    doc = 'He said "hi" \\ bye\nnext line'
    result = run_blueprint("aleph_alpha_luminous_base_embedding", PRE, text_docs_params(doc))
    assert json.loads(result) == {"parameters": {"input": doc}}


def test_p2_titan_post_process_prints_java_doubles(run_blueprint: Run) -> None:
    params = {
        "embedding": [0.41992188, -0.7265625, -0.080078125, 2.487649e-05, 1.0],
        "inputTextTokenCount": 7,
    }
    result = run_blueprint("bedrock_titan_embed_v1_painless_rolearn", POST, params)
    assert result == (
        '{"name":"sentence_embedding","data_type":"FLOAT32","shape":[5],'
        '"data":[0.41992188, -0.7265625, -0.080078125, 2.487649E-5, 1.0]}'
    )


def test_p2_on_a_1536_float_embedding_is_json_that_round_trips(run_blueprint: Run) -> None:
    rng = random.Random(7)
    embedding = [rng.uniform(-1, 1) * 10 ** rng.randint(-6, 1) for _ in range(1536)]
    result = run_blueprint("aleph_alpha_luminous_base_embedding", POST, {"embedding": embedding})
    tensor = json.loads(result)
    assert tensor["shape"] == [1536]
    assert tensor["data"] == embedding


def test_p2_returns_the_message_when_there_is_no_embedding(run_blueprint: Run) -> None:
    name = "bedrock_titan_embed_v1_tutorial_painless"
    assert run_blueprint(name, POST, {"message": "Malformed input request"}) == "Malformed input request"
    assert run_blueprint(name, POST, {"embedding": []}) is None


def test_p4_titan_pre_process(run_blueprint: Run) -> None:
    result = run_blueprint(
        "bedrock_titan_embed_v1_painless_rolearn", PRE, text_docs_params("What is the meaning of life?")
    )
    assert result == '{"parameters":{"inputText":"What is the meaning of life?"}}'


def test_p5_multimodal_pre_process_text_image_and_both(run_blueprint: Run) -> None:
    name = "bedrock_titan_mm_embed_painless_aksk"
    image = load_json_sample("bedrock_titan_mm_embed_painless_aksk.predict_request_3.json")["parameters"][
        "inputImage"
    ]
    both = run_blueprint(name, PRE, text_docs_params("Say this is a test", image))
    assert both == '{"parameters":{"inputText":"Say this is a test","inputImage":"' + image + '"}}'
    assert run_blueprint(name, PRE, text_docs_params("Say this is a test")) == (
        '{"parameters":{"inputText":"Say this is a test"}}'
    )
    assert (
        run_blueprint(name, PRE, text_docs_params(None, image))
        == '{"parameters":{"inputImage":"' + image + '"}}'
    )


def test_p6_multimodal_post_process(run_blueprint: Run) -> None:
    name = "bedrock_titan_mm_embed_painless_rolearn"
    result = run_blueprint(name, POST, {"embedding": [0.0123, -0.5, 1e-07], "inputTextTokenCount": 6})
    assert result == (
        '{"name":"sentence_embedding","data_type":"FLOAT32","shape":[3],"data":[0.0123, -0.5, 1.0E-7]}'
    )
    assert run_blueprint(name, POST, {"message": "error"}) is None


COHERE_NAME = "cohere_embed_int8_tutorial_byte_vector_ingest"


def test_p22_cohere_int8_embeddings(run_blueprint: Run) -> None:
    params = {
        "id": "x",
        "embeddings": {"int8": [[20, -11, -60, -91], [58, -30, 9, -51]]},
        "texts": ["hello", "goodbye"],
    }
    result = run_blueprint(COHERE_NAME, POST, params)
    assert result == (
        '[{"name":"sentence_embedding","data_type":"FLOAT32","shape":[4],"data":[20,-11,-60,-91]},'
        '{"name":"sentence_embedding","data_type":"FLOAT32","shape":[4],"data":[58,-30,9,-51]}]'
    )


def test_p22_cohere_int8_as_gson_doubles_still_prints_integers(run_blueprint: Run) -> None:
    params = {"embeddings": {"int8": [[20.0, -11.0]]}}
    assert run_blueprint(COHERE_NAME, POST, params) == (
        '[{"name":"sentence_embedding","data_type":"FLOAT32","shape":[2],"data":[20,-11]}]'
    )


def test_p22_cohere_float_embeddings_print_java_floats(run_blueprint: Run) -> None:
    params = {"embeddings": {"float": [[0.0123291015625, -0.1, 3.0e-05]]}}
    result = run_blueprint("cohere_embed_int8_tutorial_byte_vector_search", POST, params)
    assert (
        result
        == '[{"name":"sentence_embedding","data_type":"FLOAT32","shape":[3],"data":[0.012329102,-0.1,3.0E-5]}]'
    )
    assert json.loads(result)[0]["data"] == [0.012329102, -0.1, 3.0e-05]


def test_p22_cohere_without_embeddings(run_blueprint: Run) -> None:
    assert run_blueprint(COHERE_NAME, POST, {"embeddings": {}}) == "Invalid embedding result"


P23 = """
      def name = "sentence_embedding";
      def dataType = "FLOAT32";
      if (params.embeddingsByType == null || params.embeddingsByType.length == 0) {
        return params.message;
      }
      def shape = [params.embeddingsByType.length];
      def json = "{" +
                 "\\"name\\":\\"" + name + "\\"," +
                 "\\"data_type\\":\\"" + dataType + "\\"," +
                 "\\"shape\\":" + shape + "," +
                 "\\"data\\":" + params.embeddingsByType +
                 "}";
      return json;
    """


def test_p23_titan_v2_binary_misbehaves_on_a_map_as_in_painless() -> None:
    # embeddingsByType is an object, so .length is a key lookup (null) and the map prints as {k=v}.
    result = compile_script(P23).execute(
        {"embeddingsByType": {"binary": [1, 0, 1]}, "inputTextTokenCount": 3}
    )
    assert (
        result
        == '{"name":"sentence_embedding","data_type":"FLOAT32","shape":[null],"data":{binary=[1, 0, 1]}}'
    )


def test_p23_titan_v2_with_a_list() -> None:
    result = compile_script(P23).execute({"embeddingsByType": [1, 0]})
    assert result == '{"name":"sentence_embedding","data_type":"FLOAT32","shape":[2],"data":[1, 0]}'


P25 = """
    StringBuilder builder = new StringBuilder();
    builder.append("\\"");
    String first = params.text_docs[0];// Get the first doc, ml-commons will iterate all docs
    builder.append(first);
    builder.append("\\"");
    def parameters = "{" +"\\"inputText\\":" + builder + "}"; // This is the Bedrock Titan embedding model input
    return  "{" +"\\"parameters\\":" + parameters + "}";"""


def test_p25_sagemaker_cfn_snippet_with_comments() -> None:
    result = compile_script(P25).execute(text_docs_params("hello world"))
    assert result == '{"parameters":{"inputText":"hello world"}}'


# --- text generation and judgment (P3, P7-P10, P12-P15, P24) ------------------------------------

LLM_TEXT = 'Rating: 3\n\n"Mostly" relevant \\ partly\r\tdone'
ESCAPED = 'Rating: 3\\n\\n\\"Mostly\\" relevant \\\\ partly\\r\tdone'


def test_p3_ai21_returns_the_text(run_blueprint: Run) -> None:
    text = "\nThe meaning of life is a question that has puzzled philosophers."
    params = {
        "id": 1234,
        "completions": [{"data": {"text": text, "tokens": []}, "finishReason": {"reason": "length"}}],
    }
    assert run_blueprint("bedrock_ai21_jurassic_aksk", POST, params) == text


@pytest.mark.parametrize(
    ("name", "params"),
    [
        (
            "bedrock_claude_llm_judgment_aksk",
            {"content": [{"type": "text", "text": LLM_TEXT}], "role": "assistant"},
        ),
        (
            "openai_chat_llm_judgment",
            {"choices": [{"index": 0, "message": {"role": "assistant", "content": LLM_TEXT}}]},
        ),
        ("bedrock_converse_llm_judgment_rolearn", {"output": {"message": {"content": [{"text": LLM_TEXT}]}}}),
        ("google_gemini_chat_llm_judgment", {"candidates": [{"content": {"parts": [{"text": LLM_TEXT}]}}]}),
    ],
)
def test_p7_to_p10_judgment_scripts_escape_into_a_response_tensor(
    run_blueprint: Run, name: str, params: Any
) -> None:
    result = run_blueprint(name, POST, params)
    assert result == '{"name":"response","dataAsMap":{"response":"' + ESCAPED + '"}}'
    assert json.loads(result.replace("\t", "\\t")) == {
        "name": "response",
        "dataAsMap": {"response": LLM_TEXT},
    }


def test_p12_deepseek_on_bedrock(run_blueprint: Run) -> None:
    generation = "<think>\n\n</think>\n\nHello! How can I assist you today? 😊"
    result = run_blueprint(
        "bedrock_deepseek_r1_tutorial", POST, {"generation": generation, "stop_reason": "stop"}
    )
    assert result == (
        '{"name": "response","dataAsMap": {"completion":"<think>\\n\\n</think>\\n\\nHello! How can I assist you today? 😊"}}'
    )
    assert json.loads(result)["dataAsMap"]["completion"] == generation


def test_p13_deepseek_on_sagemaker_reads_the_wrapped_array(run_blueprint: Run) -> None:
    params = {"result": [{"generated_text": 'hello<think>\n\n</think>\n\nHi "there"'}]}
    result = run_blueprint("sagemaker_deepseek_r1_tutorial", POST, params)
    assert json.loads(result) == {
        "name": "response",
        "dataAsMap": {"completion": 'hello<think>\n\n</think>\n\nHi "there"'},
    }


def test_p13_throws_plain_exception_without_result(run_blueprint: Run) -> None:
    with pytest.raises(ScriptRuntimeError) as caught:
        run_blueprint("sagemaker_deepseek_r1_tutorial", POST, {"result": []})
    assert caught.value.message == "No response available"
    assert caught.value.exception == "Exception"


COHERE_TEXT = (
    'It is difficult to provide a comprehensive answer. \n\nAs an AI language model, I have no "live" data.'
)


def test_p14_cohere_chat_with_its_own_escape(run_blueprint: Run) -> None:
    result = run_blueprint(
        "cohere_chat_tutorial_conversational_search", POST, {"text": COHERE_TEXT, "generation_id": "g"}
    )
    assert result == (
        '{ "name": "response","dataAsMap": { "completion":  "It is difficult to provide a comprehensive answer. '
        '\\n\\nAs an AI language model, I have no \\"live\\" data."}}'
    )
    assert json.loads(result)["dataAsMap"]["completion"] == COHERE_TEXT


P24 = (
    "\n    \n"
    + """    def name = 'response';
    def result = params.text;
    def json = '{ "name": "' + name + '",' +
                 '"dataAsMap": { "completion":  "' + escape(result) +
               '"}}';
    return json;"""
)


@pytest.mark.parametrize("text", [COHERE_TEXT, "tab\there, slash-t \\t, cr\r, bs\b, ff\f", ""])
def test_p24_builtin_escape_matches_the_script_defined_one_of_p14(
    blueprint_script: Callable[[str, str], str], text: str
) -> None:
    own = compile_script(blueprint_script("cohere_chat_tutorial_conversational_search", POST))
    assert compile_script(P24).execute({"text": text}) == own.execute({"text": text})


def test_p15_guardrail_throws_the_message(run_blueprint: Run) -> None:
    name = "bedrock_claude_v2_tutorial_guardrail_headers"
    with pytest.raises(ScriptRuntimeError) as caught:
        run_blueprint(name, POST, {"amazon-bedrock-guardrailAction": "INTERVENED", "completion": "Sorry"})
    assert caught.value.message == "test guardrail from post process function"
    assert caught.value.exception == "IllegalArgumentException"
    assert caught.value.line == 2
    assert run_blueprint(name, POST, {"amazon-bedrock-guardrailAction": "NONE", "completion": "ok"}) is None


# --- question answering (P11) -------------------------------------------------------------------

HIGHLIGHTER = "sagemaker_semantic_highlighter_standard"


def test_p11_single_question_and_context(run_blueprint: Run) -> None:
    params = {
        "question": "What are the symptoms of heart failure?",
        "context": "Heart failure means the heart is weak.",
    }
    assert run_blueprint(HIGHLIGHTER, PRE, params) == (
        '{"parameters":{"question":"What are the symptoms of heart failure?",'
        '"context":"Heart failure means the heart is weak."}}'
    )


def test_p11_batch_inputs_pass_through_as_json_text(run_blueprint: Run) -> None:
    inputs = load_json_sample(f"{HIGHLIGHTER}.predict_request_2.json")["parameters"]["inputs"]
    params = {"inputs": json.dumps(inputs)}  # request parameters reach the script as JSON text
    result = run_blueprint(HIGHLIGHTER, PRE, params)
    assert json.loads(result) == {"parameters": {"inputs": inputs}}


def test_p11_rejects_other_input(run_blueprint: Run) -> None:
    with pytest.raises(ScriptRuntimeError) as caught:
        run_blueprint(HIGHLIGHTER, PRE, {"question": "q"})
    assert (
        caught.value.message == "Invalid input format: must provide either (question and context) or (inputs)"
    )


# --- rerank (P16-P21) ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bedrock_amazon_rerank_aksk", "bedrock_cohere_rerank_rolearn"])
def test_p16_bedrock_rerank_pre_process(run_blueprint: Run, name: str) -> None:
    result = run_blueprint(
        name, PRE, {"algorithm": "TEXT_SIMILARITY", "query_text": QUERY, "text_docs": RERANK_DOCS}
    )
    assert result == (
        '{"parameters": { "query": "' + QUERY + '",  "documents": ["' + '","'.join(RERANK_DOCS) + '"] }}'
    )
    assert json.loads(result) == {"parameters": {"query": QUERY, "documents": RERANK_DOCS}}


BEDROCK_RERANK_RESPONSE = {
    "results": [
        {"index": 2, "relevanceScore": 0.7711549, "relevance_score": 0.7711549},
        {"index": 0, "relevance_score": 0.0025114636},
        {"index": 1, "relevance_score": 2.487649e-05},
        {"index": 3, "relevance_score": 6.3392104e-06},
    ]
}
BEDROCK_RERANK_OUTPUT = (
    "["
    + ",".join(similarity_tensor(s) for s in ["0.0025114636", "2.487649E-5", "0.7711549", "6.3392104E-6"])
    + "]"
)


def test_p17_bedrock_rerank_post_process_orders_by_index(run_blueprint: Run) -> None:
    result = run_blueprint("bedrock_amazon_rerank_rolearn", POST, BEDROCK_RERANK_RESPONSE)
    assert result == BEDROCK_RERANK_OUTPUT
    assert [t["data"] for t in json.loads(result)] == [
        [0.0025114636],
        [2.487649e-05],
        [0.7711549],
        [6.3392104e-06],
    ]


def test_p17_accepts_gson_double_indices(run_blueprint: Run) -> None:
    gson = {
        "results": [
            {"index": float(r["index"]), "relevance_score": r["relevance_score"]}
            for r in BEDROCK_RERANK_RESPONSE["results"]
        ]
    }
    assert run_blueprint("bedrock_cohere_rerank_aksk", POST, gson) == BEDROCK_RERANK_OUTPUT


def test_p17_rejects_an_empty_response(run_blueprint: Run) -> None:
    with pytest.raises(ScriptRuntimeError) as caught:
        run_blueprint("bedrock_amazon_rerank_aksk", POST, {"results": []})
    assert caught.value.message == "Post process function input is empty."


def test_p18_sagemaker_cross_encoder_pre_process(run_blueprint: Run) -> None:
    params = {"query_text": "I like you", "text_docs": ["I hate you", 'I "love" you']}
    result = run_blueprint("sagemaker_cross_encoder_rerank_aksk", PRE, params)
    assert result == (
        '{"parameters": { "inputs": [{"text":"I like you", "text_pair":"I hate you"},'
        '{"text":"I like you", "text_pair":"I \\"love\\" you"}] }}'
    )


def test_p19_sagemaker_cross_encoder_post_process(run_blueprint: Run) -> None:
    params = {
        "result": [
            {"label": "LABEL_0", "score": 0.054037678986787796},
            {"label": "LABEL_0", "score": 0.5877784490585327},
        ]
    }
    result = run_blueprint("sagemaker_cross_encoder_rerank_rolearn", POST, params)
    assert (
        result
        == "[ "
        + similarity_tensor("0.054037678986787796")
        + ","
        + similarity_tensor("0.5877784490585327")
        + "]"
    )
    assert (
        run_blueprint("sagemaker_cross_encoder_rerank_rolearn", POST, {"error": "x"}) == "no result generated"
    )


def test_p20_sagemaker_bge_pre_process(run_blueprint: Run) -> None:
    result = run_blueprint(
        "sagemaker_bge_rerank_m3_aksk", PRE, {"query_text": QUERY, "text_docs": RERANK_DOCS}
    )
    assert (
        result
        == '{"parameters": { "query": "' + QUERY + '",  "texts": ["' + '","'.join(RERANK_DOCS) + '"] }}'
    )


def test_p21_sagemaker_bge_post_process(run_blueprint: Run) -> None:
    params = {
        "result": [
            {"index": 2, "score": 0.92879725},
            {"index": 0, "score": 0.013636836},
            {"index": 1, "score": 0.013636836},
            {"index": 3, "score": 0.00012148176},
        ]
    }
    result = run_blueprint("sagemaker_bge_rerank_m3_rolearn", POST, params)
    scores = ["0.013636836", "0.013636836", "0.92879725", "1.2148176E-4"]
    assert result == "[" + ",".join(similarity_tensor(s) for s in scores) + "]"


def load_json_sample(file_name: str) -> Any:
    """A sample request or response saved next to the connector bodies."""
    return json.loads((BLUEPRINTS / file_name).read_text(encoding="utf-8"))
