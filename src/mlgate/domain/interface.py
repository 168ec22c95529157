"""A model's ``interface``: JSON-Schema checks of predict input and output, and the presets.

ml-commons: common/.../utils/ModelInterfaceUtils.java (presets).

ML Commons validates with JSON Schema draft 2020-12. The input instance is the predict input as ML
Commons serializes it (``{"algorithm": "REMOTE", "parameters": {…}, "action_type": "PREDICT"}``) with
each string parameter turned back into the JSON it holds unless the schema declares that parameter a
string; the output instance is the final ``{"inference_results": […]}``. Schemas are compiled once per
deploy; a schema that does not parse fails every predict with the validation message, as in ML Commons.

The error detail lists each violation as ``<JSON pointer>: <message>`` in the jsonschema library's
words, so it differs from ML Commons' validator text after the fixed prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
import orjson

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.predict_input import PredictInput
from mlgate.domain.template import stringify_parameter

INPUT_ERROR = (
    "Error validating input schema, if you think this is expected, please update your 'input' field in "
    "the 'interface' field for this model: "
)
OUTPUT_ERROR = (
    "Error validating output schema, if you think this is expected, please update your 'output' field "
    "in the 'interface' field for this model: "
)


@dataclass(frozen=True)
class CompiledSchema:
    """One schema ready to validate: its source text, and its validator or why it has none."""

    text: str
    validator: jsonschema.protocols.Validator | None
    error: str | None

    def violations(self, instance: Any) -> str | None:
        """ML Commons-style detail of why ``instance`` fails, or None when it conforms."""
        if self.validator is None:
            return self.error
        errors = sorted(self.validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if not errors:
            return None
        listed = ", ".join(f"{_pointer(e.absolute_path)}: {e.message}" for e in errors)
        shown = orjson.dumps(instance).decode()
        return f"Validation failed: [{listed}] for instance: {shown} with schema: {self.text}"

    @property
    def string_parameters(self) -> frozenset[str]:
        """Parameters the schema declares as strings (left as sent, never parsed as JSON)."""
        if self.validator is None:
            return frozenset()
        schema = self.validator.schema
        props = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
        params = props.get("parameters", {}) if isinstance(props, Mapping) else {}
        fields = params.get("properties", {}) if isinstance(params, Mapping) else {}
        if not isinstance(fields, Mapping):
            return frozenset()
        return frozenset(
            name
            for name, spec in fields.items()
            if isinstance(spec, Mapping) and spec.get("type") == "string"
        )


def _pointer(path: Any) -> str:
    parts = [str(p) for p in path]
    return "/" + "/".join(parts) if parts else "$"


def compile_schema(text: str) -> CompiledSchema:
    """Parse and compile one schema string (draft 2020-12); never raises."""
    try:
        schema = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return CompiledSchema(text, None, f"Invalid JSON schema: {exc}")
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        return CompiledSchema(text, None, f"Invalid JSON schema: {exc.message}")
    return CompiledSchema(text, jsonschema.Draft202012Validator(schema), None)


@dataclass(frozen=True)
class ModelInterface:
    """The compiled ``input`` and ``output`` schemas of a model (either may be absent)."""

    input: CompiledSchema | None
    output: CompiledSchema | None

    def check_input(self, inp: PredictInput) -> None:
        """Raise ML Commons' 400 when the predict input does not conform.

        ml-commons: plugin/.../action/prediction/TransportPredictionTaskAction.java.
        """
        if self.input is None or inp.action_type == "BATCH_PREDICT":
            return
        detail = self.input.violations(input_instance(inp, self.input.string_parameters))
        if detail is not None:
            raise InvalidRequestError(INPUT_ERROR + detail, error_type="status_exception")

    def check_output(self, output: Mapping[str, Any]) -> None:
        """Raise ML Commons' 400 when the predict output does not conform.

        ml-commons: plugin/.../task/MLPredictTaskRunner.java.
        """
        if self.output is None:
            return
        detail = self.output.violations(output)
        if detail is not None:
            raise InvalidRequestError(OUTPUT_ERROR + detail, error_type="status_exception")


def compile_interface(interface: Mapping[str, Any] | None) -> ModelInterface | None:
    """The model's interface ready for predict, or None when it has neither schema."""
    if not interface:
        return None
    schemas = {key: interface.get(key) for key in ("input", "output")}
    compiled = {
        key: compile_schema(value if isinstance(value, str) else orjson.dumps(value).decode())
        for key, value in schemas.items()
        if value is not None
    }
    if not compiled:
        return None
    return ModelInterface(input=compiled.get("input"), output=compiled.get("output"))


def input_instance(inp: PredictInput, string_parameters: frozenset[str]) -> dict[str, Any]:
    """The predict input as ML Commons serializes it for validation (see the module docstring)."""
    instance: dict[str, Any] = {"algorithm": inp.algorithm}
    if inp.kind == "remote" or inp.parameters:
        instance["parameters"] = {
            name: _typed(name, stringify_parameter(value), string_parameters)
            for name, value in inp.parameters.items()
        }
    if inp.kind == "remote":
        instance["action_type"] = inp.action_type
    elif inp.kind == "question_answering":
        instance.update(question=inp.question, context=inp.context)
    else:
        if inp.query_text is not None:
            instance["query_text"] = inp.query_text
        instance["text_docs"] = list(inp.text_docs or ())
    return instance


def _typed(name: str, text: str, string_parameters: frozenset[str]) -> Any:
    if name in string_parameters:
        return text
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
