"""The verifier's base45 decoder agrees with the reference package."""

from __future__ import annotations

import base45
import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.document._base45 import ALPHABET, b45decode


@given(st.binary(max_size=700))
def test_agrees_with_the_reference(data):
    assert b45decode(base45.b45encode(data).decode()) == data


@given(st.text(alphabet=ALPHABET + "abc#\u4e2d", max_size=60))
def test_rejects_exactly_what_the_reference_rejects(text):
    try:
        expected = base45.b45decode(text)
    except ValueError:
        expected = None
    if expected is None or not set(text) <= set(ALPHABET):
        with pytest.raises(ValueError, match="invalid base45"):
            b45decode(text)
    else:
        assert b45decode(text) == expected


@pytest.mark.parametrize("text", ["GGW", "A", "ab", ":::", "ZZ", "0000"])
def test_invalid(text):
    with pytest.raises(ValueError, match="invalid base45"):
        b45decode(text)
