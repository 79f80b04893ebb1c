"""Replays the inputs the fuzzer kept (``tests/fuzz_corpus/``, one QR text per file, written by
``scripts/fuzz_verify.py``): each is decided without an exception escaping, a refusal is a
``malformed`` result with a reason, and nothing verifies as valid unless its payload is exactly a
presentation this test's issuer anchored (in either form, ``LC2:`` or ``LC1:``)."""

from __future__ import annotations

import zlib
from pathlib import Path

import base45
import pytest
from conftest import Issued

from registry.document.presentation import MalformedPresentationError, decode_presentation
from verifier.pipeline import Outcome

CORPUS = sorted((Path(__file__).resolve().parent / "fuzz_corpus").glob("*.txt"))


def test_the_corpus_is_kept_small_and_is_there():
    assert 20 <= len(CORPUS) <= 400
    names = {p.stem for p in CORPUS}
    assert len(names) == len(CORPUS)


@pytest.fixture(scope="module")
def anchored_payloads(issued: Issued) -> set[bytes]:
    """The presentations the issuer made, each as its LC1 CBOR (whichever form carries it)."""
    out = set()
    for row in issued.rows:
        keys = sorted(row.fields)
        for disclose in (None, keys, []):
            text = issued.text(issued.rows.index(row), disclose, form="LC1")
            out.add(zlib.decompress(base45.b45decode(text[4:])))
    return out


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_corpus_input_is_decided(issued: Issued, anchored_payloads: set[bytes], path: Path):
    text = path.read_bytes().decode("utf-8", "surrogatepass")
    try:
        presentation = decode_presentation(text)
    except MalformedPresentationError:
        presentation = None
    result = issued.verifier.verify(text)
    assert result.reasons
    assert result.to_dict()["status"] == result.status.value
    if presentation is None:
        assert result.status is Outcome.MALFORMED
    else:
        assert result.status is not Outcome.MALFORMED
        if text.startswith("LC1:"):
            assert presentation.to_cbor() == zlib.decompress(base45.b45decode(text[4:]))
        else:  # the same presentation whatever deflate stream carried it
            assert decode_presentation(presentation.to_text()) == presentation
    if result.status is Outcome.VALID:
        assert presentation is not None
        assert presentation.to_cbor() in anchored_payloads


def test_a_valid_presentation_replays_as_valid(issued: Issued, anchored_payloads: set[bytes]):
    """The replay can tell valid from not: the issuer's own presentations are valid."""
    for form in ("LC2", "LC1"):
        text = issued.text(1, form=form)
        assert issued.verifier.verify(text).status is Outcome.VALID
        assert decode_presentation(text).to_cbor() in anchored_payloads
