"""Every written form of a credential value is masked; text without one is left alone."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.secret_forms import FORMS, leaks

from mlgate.domain.secret_mask import MASK, SecretMask

KEY = "sk-Abc/123+xyz=\"q'é!"


@pytest.mark.parametrize("form", FORMS)
def test_every_form_is_masked(form: str) -> None:
    text = f'{{"error": "invalid key [{FORMS[form](KEY)}] given"}}'
    assert leaks(text, KEY) != []  # the check below can fail
    masked = SecretMask([KEY]).mask(text)
    assert masked.startswith('{"error": "invalid key [') and masked.endswith('] given"}')
    assert MASK in masked
    assert leaks(masked, KEY) == []


def test_text_without_a_secret_is_unchanged() -> None:
    text = 'plain words, {"a": "\\u00e9\\n"} 100% done &amp; aGVsbG8gd29ybGQ= 68656c6c6f + more'
    assert SecretMask([KEY, "AKIDEXAMPLE"]).mask(text) == text


def test_short_values_are_not_masked() -> None:
    # A three-letter value is a common word: masking it would garble innocent text.
    assert SecretMask(["abc"]).mask("abc def") == "abc def"
    assert not SecretMask(["abc"])


def test_every_secret_of_a_credential_and_overlapping_forms() -> None:
    mask = SecretMask(["AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"])
    text = "Credential=AKIDEXAMPLE/20240101 secret wJalrXUtnFEMI%2FK7MDENG%2BbPxRfiCYEXAMPLEKEY."
    assert mask.mask(text) == f"Credential={MASK}/20240101 secret {MASK}."


def test_long_values_are_masked_in_literal_json_and_base64_forms() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\n" + "A" * 700 + "\n-----END PRIVATE KEY-----\n"
    mask = SecretMask([pem])
    for form in (pem, json.dumps(pem)[1:-1], base64.b64encode(pem.encode()).decode()):
        assert mask.mask(f"x {form} y") == f"x {MASK} y"


SECRET_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x2FF)


@given(
    key=st.text(SECRET_CHARS, min_size=8, max_size=40),
    form=st.sampled_from(sorted(FORMS)),
    before=st.text(max_size=20),
    after=st.text(max_size=20),
)
def test_no_form_survives_whatever_surrounds_it(key: str, form: str, before: str, after: str) -> None:
    text = before + FORMS[form](key) + after
    assert leaks(text, key) != []
    masked = SecretMask([key]).mask(text)
    assert leaks(masked, key) == []
