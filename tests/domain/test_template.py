"""Template rendering: stringify, escapeJson, StringSubstitutor semantics, payload and header checks."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlgate.domain.errors import ExecutionError, InvalidRequestError
from mlgate.domain.template import (
    check_payload,
    compile_template,
    escape_json,
    escape_parameters,
    gson_escape,
    is_json_container,
    prepare_request_parameters,
    render_headers,
    render_payload,
    stringify_parameter,
    substitute,
    substitute_json_encoded,
    to_gson_json,
    validate_header_templates,
)

# ---------------------------------------------------------------- stringify (StringUtils.getParameterMap)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hello", "hello"),
        ("", ""),
        ('{"a": 1}', '{"a": 1}'),
        (100, "100"),
        (0.5, "0.5"),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        ([1, 2], "[1,2]"),
        ({"a": 1}, '{"a":1}'),
        ([{"role": "user", "content": "hi"}], '[{"role":"user","content":"hi"}]'),
        (["café", "<a&b>"], '["café","<a&b>"]'),
        (["line\u2028sep"], '["line\\u2028sep"]'),
        ([{"x": 'q"uote\n'}], '[{"x":"q\\"uote\\n"}]'),
    ],
)
def test_stringify_parameter(value: Any, expected: str) -> None:
    assert stringify_parameter(value) == expected


# ------------------------------------------------- escapeJson (ConnectorUtils.escapeRemoteInferenceInputData)


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain text 123", "plain text 123"),
        ('say "hi"', 'say \\"hi\\"'),
        ("back\\slash", "back\\\\slash"),
        ("a/b", "a\\/b"),
        ('Is 2/2 "one"?', 'Is 2\\/2 \\"one\\"?'),
        ("\b\f\n\r\t", "\\b\\f\\n\\r\\t"),
        ("\x00\x01\x1f", "\\u0000\\u0001\\u001F"),
        ("\x0b", "\\u000B"),
        ("\x7f", "\x7f"),
        ("\x80", "\\u0080"),
        ("café", "caf\\u00E9"),
        ("日本", "\\u65E5\\u672C"),
        ("\u2028", "\\u2028"),
        ("😀", "\\uD83D\\uDE00"),
        ("a😀b\n", "a\\uD83D\\uDE00b\\n"),
        ("<>&='", "<>&='"),
        ("", ""),
    ],
)
def test_escape_json(raw: str, escaped: str) -> None:
    assert escape_json(raw) == escaped


@given(st.text())
def test_escape_json_output_is_ascii_and_json_string_content(text: str) -> None:
    escaped = escape_json(text)
    assert escaped.isascii()
    assert json.loads(f'"{escaped}"') == text


# ---------------------------------------------------------------- parameter preparation


def test_prepare_request_parameters_escapes_strings_and_keeps_json() -> None:
    prepared = prepare_request_parameters(
        {
            "prompt": 'He said "hi"\n',
            "messages": [{"role": "user", "content": "a/b"}],
            "json_text": '{"k": "v/w"}',
            "array_text": ' ["x"]',
            "temperature": 0.5,
            "flag": True,
            "nothing": None,
            "url_part": "a/b",
        }
    )
    assert prepared == {
        "prompt": 'He said \\"hi\\"\\n',
        "messages": '[{"role":"user","content":"a/b"}]',
        "json_text": '{"k": "v/w"}',
        "array_text": ' ["x"]',
        "temperature": "0.5",
        "flag": "true",
        "nothing": "null",
        "url_part": "a\\/b",
    }


def test_prepare_request_parameters_honours_no_escape_params() -> None:
    prepared = prepare_request_parameters(
        {"raw": 'keep "me"', "other": 'esc "me"', "no_escape_params": "raw , unknown"}
    )
    assert prepared["raw"] == 'keep "me"'
    assert prepared["other"] == 'esc \\"me\\"'


def test_escape_parameters_keeps_none() -> None:
    assert escape_parameters({"a": None, "b": "x/y"}) == {"a": None, "b": "x\\/y"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{}", True),
        ("[]", True),
        (' {"a": [1, 2]} ', True),
        ("[1, 2", False),
        ('"string"', False),
        ("12", False),
        ("null", False),
        ("", False),
        ("{a: 1}", False),
        ('[]"', False),
    ],
)
def test_is_json_container(text: str, expected: bool) -> None:
    assert is_json_container(text) is expected


def test_gson_escape_is_string_literal_content() -> None:
    assert gson_escape('["doc a","doc \\"b\\""]') == '[\\"doc a\\",\\"doc \\\\\\"b\\\\\\"\\"]'
    assert gson_escape("é\u2029") == "é\\u2029"
    assert to_gson_json(None) == "null"


# ---------------------------------------------------------------- substitution (HttpConnector.createPayload)


@pytest.mark.parametrize(
    ("template", "params", "expected"),
    [
        ("no placeholders", {"a": "1"}, "no placeholders"),
        ("${parameters.a}", {"a": "1"}, "1"),
        ("x${parameters.a}y${parameters.b}z", {"a": "1", "b": "2"}, "x1y2z"),
        ("${parameters.missing}", {}, "${parameters.missing}"),
        ("${parameters.none}", {"none": None}, "${parameters.none}"),
        ("${parameters.a:-dflt}", {}, "dflt"),
        ("${parameters.a:-dflt}", {"a": None}, "dflt"),
        ("${parameters.a:-dflt}", {"a": "set"}, "set"),
        ("${parameters.a:-}", {}, ""),
        ("${parameters.a:-x:-y}", {}, "x:-y"),
        ("${parameters.a.b}", {"a.b": "dotted"}, "dotted"),
        ("${parameters.a b}", {"a b": "spaced"}, "spaced"),
        ("$${parameters.a}", {"a": "1"}, "${parameters.a}"),
        ("$$${parameters.a}", {"a": "1"}, "$${parameters.a}"),
        ("$ ${parameters.a}", {"a": "1"}, "$ 1"),
        ("${parameters.a}", {"a": "${parameters.b}"}, "${parameters.b}"),
        ("${parameters.a}", {"a": "<${parameters.b}>", "b": "B"}, "<B>"),
        ("${parameters.a}", {"a": "${parameters.b}", "b": "${parameters.c}", "c": "C"}, "C"),
        ("${parameters.a:-${parameters.b}}", {"b": "B"}, "${parameters.b}"),
        ("${parameters.x${parameters.a:-d}", {"a": "A"}, "${parameters.x${parameters.a:-d}"),
        ("${parameters.a:-d}}", {}, "d}"),
        ("${parameters.unterminated", {"unterminated": "x"}, "${parameters.unterminated"),
        ("${parameters.a}${parameters.b}", {"a": "x$", "b": "B"}, "x${parameters.b}"),
        ("${parameters.a}", {"a": "$${parameters.b}", "b": "B"}, "${parameters.b}"),
        ("${credential.k}", {"k": "v"}, "${credential.k}"),
        ("${parameters.a}", {"a": "$"}, "$"),
        ("${parameters.d}${parameters.e}${parameters.b}", {"d": "$", "e": "", "b": "B"}, "${parameters.e}B"),
        ("${parameters.e}${parameters.b}", {"e": "", "b": "B"}, "B"),
    ],
)
def test_substitute(template: str, params: dict[str, str | None], expected: str) -> None:
    assert substitute(template, params) == expected


@pytest.mark.parametrize(
    ("template", "params", "message"),
    [
        (
            '{"a": "${parameters.a}"}',
            {"a": "${parameters.b}", "b": "${parameters.a}"},
            'Infinite loop in property interpolation of {"a": "${parameters.a}"}: a->b',
        ),
        (
            "x ${parameters.a}",
            {"a": "again ${parameters.a}"},
            "Infinite loop in property interpolation of x ${parameters.a}: a",
        ),
        (
            "$${parameters.q} ${parameters.a}",
            {"a": "${parameters.a}"},
            "Infinite loop in property interpolation of ${parameters.q} ${parameters.a}: a",
        ),
    ],
)
def test_substitute_cycle(template: str, params: dict[str, str | None], message: str) -> None:
    with pytest.raises(ExecutionError) as caught:
        substitute(template, params)
    assert caught.value.message == message
    assert caught.value.error_type == "illegal_state_exception"


def test_substitute_json_encoded() -> None:
    text = "def x = ${parameters.name}; def n = ${parameters.n}; ${parameters.missing}"
    params = {"name": 'a "b"', "n": "3", "gone": None}
    assert substitute_json_encoded(text, params) == 'def x = "a \\"b\\""; def n = "3"; ${parameters.missing}'
    assert substitute_json_encoded("connector.post_process.openai.embedding", params) == (
        "connector.post_process.openai.embedding"
    )
    assert substitute_json_encoded("${parameters.gone}", params) == "null"


# --------------------------------------------------------------- render_payload (HttpConnector.createPayload)


def test_render_payload_http_body_fallback() -> None:
    assert render_payload(None, {"http_body": '{"raw": 1}'}) == '{"raw": 1}'
    assert render_payload(None, {}) is None


def test_render_payload_openai_embedding_worked_example() -> None:
    template = '{ "input": ${parameters.input}, "model": "${parameters.model}" }'
    params = {"model": "text-embedding-ada-002"}
    params.update(prepare_request_parameters({"input": ['hello "world"', "café"]}))
    payload = render_payload(template, params)
    assert payload == '{ "input": ["hello \\"world\\"","café"], "model": "text-embedding-ada-002" }'
    check_payload(payload, params)
    assert orjson.loads(payload or "") == {
        "input": ['hello "world"', "café"],
        "model": "text-embedding-ada-002",
    }


def test_render_payload_chat_worked_example() -> None:
    template = (
        '{ "model": "${parameters.model}", "messages": [{"role":"system","content":"${parameters.system}"},'
        ' {"role":"user","content":"${parameters.question}"}] }'
    )
    params: dict[str, str | None] = {"model": "gpt-4o-mini", "system": "You are terse.\\nAnswer briefly."}
    params.update(prepare_request_parameters({"question": 'Is 2/2 "one"?'}))
    payload = render_payload(template, params)
    assert payload is not None
    assert '{"role":"user","content":"Is 2\\/2 \\"one\\"?"}' in payload
    check_payload(payload, params)
    assert orjson.loads(payload)["messages"][0]["content"] == "You are terse.\nAnswer briefly."


@pytest.mark.parametrize(
    ("template", "params", "expected"),
    [
        ('{"a": "${parameters.a:-null}"}', {}, '{"a": null}'),
        ('{"a": "${parameters.a:-null}"}', {"a": None}, '{"a": null}'),
        ('{"a": "${parameters.a:-null}"}', {"a": "x"}, '{"a": "x"}'),
        ('{"a": ${parameters.a:-null}}', {}, '{"a": null}'),
        ('{"a": "${parameters.a:-null}", "b": "${parameters.a:-null}"}', {}, '{"a": null, "b": null}'),
        ('{"a": "${parameters.a.b:-null}"}', {}, '{"a": "null"}'),
        (
            '{"t": "${parameters.inputText:-null}", "i": "${parameters.inputImage:-null}"}',
            {"inputImage": "AAA"},
            '{"t": null, "i": "AAA"}',
        ),
    ],
)
def test_render_payload_null_default(template: str, params: dict[str, str | None], expected: str) -> None:
    assert render_payload(template, params) == expected


def test_render_payload_to_string_helper_worked_example() -> None:
    params: dict[str, str | None] = {
        "prompt": "Answer using: ${parameters.context.toString()}\\nQ: ${parameters.question}",
    }
    params.update(prepare_request_parameters({"context": ["doc a", 'doc "b"'], "question": "why?"}))
    payload = render_payload('{"prompt": "${parameters.prompt}"}', params)
    assert payload == '{"prompt": "Answer using: [\\"doc a\\",\\"doc \\\\\\"b\\\\\\"\\"]\\nQ: why?"}'
    assert orjson.loads(payload or "")["prompt"] == 'Answer using: ["doc a","doc \\"b\\""]\nQ: why?'


def test_render_payload_to_string_in_template_is_not_supported() -> None:
    params = {"context": '["a"]'}
    payload = render_payload('{"c": "${parameters.context.toString()}"}', params)
    assert payload == '{"c": "${parameters.context.toString()}"}'
    with pytest.raises(InvalidRequestError, match=r"not filled in payload: context\.toString\(\)$"):
        check_payload(payload, params)


def test_render_payload_does_not_mutate_params() -> None:
    params = {"p": "${parameters.c.toString()}", "c": "[1]"}
    render_payload('{"x": "${parameters.p}"}', params)
    assert params == {"p": "${parameters.c.toString()}", "c": "[1]"}


def test_compiled_template_renders_like_text() -> None:
    text = '{"a": "${parameters.a:-null}", "b": ${parameters.b}}'
    compiled = compile_template(text)
    assert compiled.null_default_keys == ("a",)
    params = {"b": "[1]"}
    assert render_payload(compiled, params) == render_payload(text, params) == '{"a": null, "b": [1]}'
    assert compile_template("{}").has_placeholders is False


# ------------------------------------- check_payload (HttpConnector.createPayload, Connector.validatePayload)


@pytest.mark.parametrize(
    "payload",
    ["{}", "[1]", ' {"a": 1} ', '{"index":{}}\n{"a":1}\n', '{"a":1}\r\n\r\n{"b":2}'],
)
def test_check_payload_accepts_json_and_ndjson(payload: str) -> None:
    check_payload(payload, {})


@pytest.mark.parametrize(
    "payload",
    ['{ "input": hello, "model": "m" }', "", "  ", "plain", '"str"', "12", '{"a":1}\nnot json', "{a: 1}"],
)
def test_check_payload_rejects_invalid_json(payload: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        check_payload(payload, {})
    assert caught.value.message == f"Invalid payload: {payload}"


def test_unquoted_unresolved_placeholder_is_invalid_payload() -> None:
    template = '{ "input": ${parameters.input}, "model": "${parameters.model}" }'
    payload = render_payload(template, {"model": "m"})
    with pytest.raises(InvalidRequestError) as caught:
        check_payload(payload, {"model": "m"})
    assert caught.value.message == 'Invalid payload: { "input": ${parameters.input}, "model": "m" }'


def test_quoted_unresolved_placeholders_are_listed_in_order() -> None:
    payload = render_payload('{"a": "${parameters.x}", "b": "${parameters.y:-}", "c": "${parameters.x}"}', {})
    with pytest.raises(InvalidRequestError) as caught:
        check_payload(payload, {})
    assert caught.value.message == "Some parameter placeholder not filled in payload: x, x"


@pytest.mark.parametrize("flag", ["true", "TRUE", "True"])
def test_skip_validating_missing_parameters(flag: str) -> None:
    check_payload('{"a": "${parameters.x}"}', {"skip_validating_missing_parameters": flag})


def test_skip_flag_other_values_do_not_skip() -> None:
    with pytest.raises(InvalidRequestError):
        check_payload('{"a": "${parameters.x}"}', {"skip_validating_missing_parameters": "yes"})


def test_http_body_is_not_json_checked_but_placeholder_checked() -> None:
    check_payload("not json at all", {}, from_template=False)
    with pytest.raises(InvalidRequestError, match=r"not filled in payload: q$"):
        check_payload("raw ${parameters.q}", {}, from_template=False)
    check_payload(None, {})


# ---------------------------------------------------------------- properties


json_template_values = st.text()


@given(json_template_values)
def test_any_string_in_quoted_position_round_trips(value: str) -> None:
    params = prepare_request_parameters({"v": value})
    payload = render_payload('{"value": "${parameters.v}"}', params)
    if is_json_container(value):
        # JSON object/array text is inserted raw by design (escape_parameters); only check it is verbatim.
        assert payload == '{"value": "' + value + '"}'
        return
    check_payload(payload, params)
    assert orjson.loads(payload or "") == {"value": value}


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        max_leaves=8,
    )
)
def test_any_json_value_in_unquoted_position_round_trips(value: Any) -> None:
    if not isinstance(value, list | dict):
        return
    params = prepare_request_parameters({"v": value})
    payload = render_payload('{"value": ${parameters.v}}', params)
    check_payload(payload, params)
    assert json.loads(payload or "") == {"value": value}


@given(st.dictionaries(st.sampled_from(["a", "b", "c"]), st.text(alphabet="ab${}parmets.:-", max_size=30)))
def test_substitution_never_crashes_except_cycles(params: dict[str, str | None]) -> None:
    try:
        result = substitute("${parameters.a}|${parameters.b}|${parameters.c}", params)
    except ExecutionError as error:
        assert error.message.startswith("Infinite loop in property interpolation of ")
    else:
        assert isinstance(result, str)


# ---------------------------------------------------------------- headers (AbstractConnector, ConnectorUtils)


@pytest.mark.parametrize("name", ["Authorization", "x-api-key", "HOST", "Cookie", "forwarded"])
def test_forbidden_parameter_headers(name: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        validate_header_templates({name: "Bearer ${parameters.token}"}, "http")
    assert caught.value.message == (
        f"Header '{name}' cannot use ${{parameters.*}} placeholders for security reasons. "
        "Use ${credential.*} instead."
    )


def test_mcp_headers_refuse_any_parameter_placeholder() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        validate_header_templates({"X-Custom": "${parameters.v}"}, "MCP_SSE")
    assert (
        caught.value.message == "Header 'X-Custom' cannot use ${parameters.*} placeholders in MCP connectors."
    )


def test_allowed_header_templates() -> None:
    validate_header_templates(
        {"Authorization": "Bearer ${credential.key}", "X-Amz-Target": "${parameters.target}", "X-None": None},
        "aws_sigv4",
    )
    validate_header_templates({"Authorization": "${parameters.}"}, "http")


def test_render_headers_resolves_credentials_and_parameters() -> None:
    headers = {
        "Authorization": "Bearer ${credential.openAI_key}",
        "X-Amz-Target": "${parameters.target}",
        "content-type": "application/json",
    }
    rendered = render_headers(
        headers, {"target": "Comprehend_20171127.DetectEntities"}, {"openAI_key": "sk-1"}
    )
    assert rendered == {
        "Authorization": "Bearer sk-1",
        "X-Amz-Target": "Comprehend_20171127.DetectEntities",
        "content-type": "application/json",
    }


def test_render_headers_unresolved_parameter() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        render_headers({"X-Target": "${parameters.target}"}, {}, {})
    assert (
        caught.value.message
        == "Header 'X-Target' contains unresolved placeholder. Required parameter is missing."
    )


def test_render_headers_unknown_credential_stays_verbatim() -> None:
    assert render_headers({"Authorization": "Bearer ${credential.nope}"}, {}, {}) == {
        "Authorization": "Bearer ${credential.nope}"
    }


def test_render_headers_credential_value_cannot_inject_parameters() -> None:
    with pytest.raises(InvalidRequestError, match="for security reasons"):
        render_headers({"Authorization": "${credential.k}"}, {"x": "1"}, {"k": "${parameters.x}"})


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "\x00", "x\x7f"])
def test_render_headers_control_characters(bad: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        render_headers({"X-V": "${parameters.v}"}, {"v": bad}, {})
    assert caught.value.message == "Header value contains invalid control character"


def test_render_headers_tab_is_allowed() -> None:
    assert render_headers({"X": "a\tb"}, {}, {}) == {"X": "a\tb"}


def test_render_headers_size_limits() -> None:
    render_headers({"X": "v" * (8192 - 1)}, {}, {})
    with pytest.raises(InvalidRequestError) as caught:
        render_headers({"X": "v" * 8192}, {}, {})
    assert caught.value.message == "Header size (key + value) exceeds 8KB limit"
    with pytest.raises(InvalidRequestError, match="exceeds 8KB limit"):
        render_headers({"X": "😀" * 4096}, {}, {})
    many = {f"H{i:02d}": "v" * 8000 for i in range(9)}
    with pytest.raises(InvalidRequestError) as caught:
        render_headers(many, {}, {})
    assert caught.value.message == "Total headers size (key + value) exceeds 64KB limit"
