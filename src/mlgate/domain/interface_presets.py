"""The preset ``interface`` ML Commons fills in for well-known AWS connectors (since 2.16).

ml-commons: common/.../utils/ModelInterfaceUtils.java.

Which preset applies depends on the connector's ``service_name`` and ``model`` / ``api_name``
parameters and, for embedding models, on whether the first action post-processes with the matching
built-in function (then the output is tensors; otherwise it is the provider's raw answer). The schemas
below are built from small helpers; each accepts exactly what the corresponding ML Commons preset does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

Schema = dict[str, Any]

COHERE_EMBEDDING = "connector.post_process.cohere.embedding"
BEDROCK_EMBEDDING = "connector.post_process.bedrock.embedding"

STRING: Schema = {"type": "string"}
NUMBER: Schema = {"type": "number"}
INTEGER: Schema = {"type": "integer"}


def _object(properties: Mapping[str, Schema], required: tuple[str, ...] = ()) -> Schema:
    schema: Schema = {"type": "object", "properties": dict(properties)}
    if required:
        schema["required"] = list(required)
    return schema


def _array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def _parameters(fields: Mapping[str, Schema], required: tuple[str, ...], *, top_required: bool) -> Schema:
    return _object({"parameters": _object(fields, required)}, ("parameters",) if top_required else ())


def _results(tensor: Schema, *, status: Schema = INTEGER, required: bool = True) -> Schema:
    """``{"inference_results": [{"output": [tensor…], "status_code"}]}``, optionally all required."""
    result = _object(
        {"output": _array(tensor), "status_code": status}, ("output", "status_code") if required else ()
    )
    return _object({"inference_results": _array(result)}, ("inference_results",) if required else ())


def _map_tensor(data_as_map: Schema, *, required: bool = True) -> Schema:
    return _object({"name": STRING, "dataAsMap": data_as_map}, ("name", "dataAsMap") if required else ())


CONVERSATIONAL_INPUT = _parameters({"inputs": STRING}, ("inputs",), top_required=True)
EMBEDDING_INPUT = _parameters({"texts": _array(STRING)}, ("texts",), top_required=False)
TITAN_TEXT_INPUT = _parameters({"inputText": STRING}, ("inputText",), top_required=False)
TITAN_MULTIMODAL_INPUT = _parameters({"inputText": STRING, "inputImage": STRING}, (), top_required=False)
COMPREHEND_LANGUAGE_INPUT = _parameters({"Text": STRING}, ("Text",), top_required=True)
TEXTRACT_TEXT_INPUT = _parameters({"bytes": STRING}, ("bytes",), top_required=True)

CONVERSATIONAL_OUTPUT = _results(_map_tensor(_object({"response": STRING}, ("response",))))
EMBEDDING_OUTPUT = _results(
    _object(
        {"name": STRING, "data_type": STRING, "shape": _array(INTEGER), "data": _array(NUMBER)},
        ("name", "data_type", "shape", "data"),
    )
)
CLAUDE_V2_OUTPUT = _results(
    _map_tensor(
        _object(
            {"type": STRING, "completion": STRING, "stop_reason": STRING, "stop": STRING},
            ("type", "completion"),
        )
    )
)
TITAN_EMBEDDING_RAW_OUTPUT = _results(
    _map_tensor(
        _object(
            {"embedding": _array(NUMBER), "inputTextTokenCount": INTEGER},
            ("embedding", "inputTextTokenCount"),
        )
    )
)
COHERE_EMBEDDING_RAW_OUTPUT = _results(
    _map_tensor(
        _object(
            {
                "id": STRING,
                "texts": _array(STRING),
                "embeddings": _array(_array(NUMBER)),
                "response_type": STRING,
            },
            ("id", "texts", "embeddings", "response_type"),
        )
    )
)
COMPREHEND_LANGUAGE_OUTPUT = _results(
    _map_tensor(
        _object(
            {
                "response": _object(
                    {
                        "Languages": _array(
                            _object({"LanguageCode": STRING, "Score": NUMBER}, ("LanguageCode", "Score"))
                        )
                    },
                    ("Languages",),
                )
            },
            ("response",),
        )
    )
)

# The two raw outputs below constrain types only: nothing in them is required.
_TOKEN = _object(
    {
        "generatedToken": _object({"token": STRING, "logprob": NUMBER, "raw_logprob": NUMBER}),
        "textRange": _object({"start": NUMBER, "end": NUMBER}),
    }
)
_TEXT_WITH_TOKENS = _object({"text": STRING, "tokens": _array(_TOKEN)})
AI21_RAW_OUTPUT = _results(
    _map_tensor(
        _object(
            {
                "id": NUMBER,
                "prompt": _TEXT_WITH_TOKENS,
                "completions": _array(
                    _object(
                        {
                            "data": _TEXT_WITH_TOKENS,
                            "finishReason": _object({"reason": STRING, "length": NUMBER}),
                        }
                    )
                ),
            }
        ),
        required=False,
    ),
    required=False,
)
_POINT = _object({"X": NUMBER, "Y": NUMBER})
_BLOCK = _object(
    {
        "BlockType": STRING,
        "Geometry": _object(
            {
                "BoundingBox": _object({"Height": NUMBER, "Left": NUMBER, "Top": NUMBER, "Width": NUMBER}),
                "Polygon": _array(_POINT),
            }
        ),
        "Id": STRING,
        "Relationships": _array(_object({"Ids": _array(STRING), "Type": STRING})),
    }
)
TEXTRACT_TEXT_OUTPUT = _results(
    _map_tensor(
        _object(
            {
                "Blocks": _array(_BLOCK),
                "DetectDocumentTextModelVersion": STRING,
                "DocumentMetadata": _object({"Pages": NUMBER}),
            }
        ),
        required=False,
    ),
    status=NUMBER,
    required=False,
)


def _pair(input_schema: Schema, output_schema: Schema) -> dict[str, str]:
    # Stored like a user-given interface: JSON schema strings.
    return {"input": orjson.dumps(input_schema).decode(), "output": orjson.dumps(output_schema).decode()}


def _is(post_process: str | None, name: str) -> bool:
    return post_process is not None and post_process.lower() == name.lower()


def _bedrock(model: str | None, post: str | None) -> dict[str, str] | None:
    if model == "ai21.j2-mid-v1":
        raw = post is None or not post.strip()
        return _pair(CONVERSATIONAL_INPUT, AI21_RAW_OUTPUT if raw else CONVERSATIONAL_OUTPUT)
    if model == "anthropic.claude-3-sonnet-20240229-v1:0":
        return _pair(CONVERSATIONAL_INPUT, CONVERSATIONAL_OUTPUT)
    if model == "anthropic.claude-v2":
        return _pair(CONVERSATIONAL_INPUT, CLAUDE_V2_OUTPUT)
    if model in ("cohere.embed-english-v3", "cohere.embed-multilingual-v3"):
        out = EMBEDDING_OUTPUT if _is(post, COHERE_EMBEDDING) else COHERE_EMBEDDING_RAW_OUTPUT
        return _pair(EMBEDDING_INPUT, out)
    if model in ("amazon.titan-embed-text-v1", "amazon.titan-embed-image-v1"):
        inp = TITAN_TEXT_INPUT if model == "amazon.titan-embed-text-v1" else TITAN_MULTIMODAL_INPUT
        out = EMBEDDING_OUTPUT if _is(post, BEDROCK_EMBEDDING) else TITAN_EMBEDDING_RAW_OUTPUT
        return _pair(inp, out)
    return None


def preset_interface(connector: Mapping[str, Any]) -> dict[str, str] | None:
    """The preset interface for a connector document (standalone or inline), or None."""
    parameters = connector.get("parameters")
    actions = connector.get("actions")
    if not isinstance(parameters, Mapping) or not isinstance(actions, list) or not actions:
        return None
    first = actions[0] if isinstance(actions[0], Mapping) else {}
    post = first.get("post_process_function")
    service = parameters.get("service_name")
    if service == "bedrock":
        return _bedrock(parameters.get("model"), post if isinstance(post, str) else None)
    if service == "comprehend":
        if parameters.get("api_name") == "DetectDominantLanguage":
            return _pair(COMPREHEND_LANGUAGE_INPUT, COMPREHEND_LANGUAGE_OUTPUT)
        return None
    if service == "textract":
        return _pair(TEXTRACT_TEXT_INPUT, TEXTRACT_TEXT_OUTPUT)
    return None
