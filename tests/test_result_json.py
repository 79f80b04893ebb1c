"""A license's result written straight to JSON (verifier/result_json.py, and its compiled twin in
verifier/_speedups.pyx) is, byte for byte, what the dict path writes: ``orjson.dumps`` of
``{"kind": "license", **result.to_dict(), "stale": ...}``.

Checked on every outcome the demo shows (real results of a real chain), fresh and stale, and on
results Hypothesis makes up: strings with quotes, backslashes, control and non-BMP characters,
numbers of either type where the result allows both, parts missing. The memos stay bounded
whatever stream of results goes through them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.batch import stale_reason, verify_json, verify_safely, with_freshness
from devkit.demo import run_demo
from registry import connect
from registry.chain.records import Anchor, Issuer
from registry.document import _accel
from registry.document.suites import SignatureSuite
from verifier import result_json
from verifier.index import Freshness
from verifier.mirror import Mirror
from verifier.pipeline import Verifier
from verifier.result_json import MEMO_LIMIT, MEMOS, license_json, python_license_json
from verifier.results import (
    CoApproval,
    Department,
    DisclosedField,
    Outcome,
    Reason,
    VerificationResult,
)

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WRITERS = [pytest.param(python_license_json, id="pure"), pytest.param(license_json, id="selected")]


def dict_path(result: VerificationResult, stale: dict[str, str] | None) -> bytes:
    return orjson.dumps(with_freshness({"kind": "license", **result.to_dict()}, stale))


@pytest.fixture(scope="module")
def demo_verifier(tmp_path_factory) -> tuple[Verifier, dict[str, dict[str, str]]]:
    home = tmp_path_factory.mktemp("result-json")
    run = run_demo(home, connect(None), rpc_url=None, licenses=20, echo=lambda _m: None)
    deployment = run.client.deployment
    mirror = Mirror.at(home / "mirror-json.db", deployment, confirmations=1)
    mirror.sync(run.client)
    cases = json.loads((home / "demo" / "presentations.json").read_text())
    return Verifier(mirror.index, chain_id=deployment.chain_id, license_registry=deployment.license_registry), cases


def test_the_compiled_writer_runs_where_the_hot_path_is_built():
    assert (license_json is not python_license_json) == _accel.COMPILED
    if _accel.COMPILED:
        assert type(license_json).__name__ == "cython_function_or_method"


@pytest.mark.parametrize("writer", WRITERS)
def test_every_demo_outcome_is_written_as_the_dict_path_writes_it(demo_verifier, writer):
    verifier, cases = demo_verifier
    seen = set()
    for name, case in cases.items():
        result = verifier.check(case["text"])
        if not isinstance(result, VerificationResult):
            continue  # a joint bundle's result goes through the dict path
        seen.add(result.status)
        for stale in (None, stale_reason(True, 42.0), stale_reason(True, math.inf)):
            assert writer(result, stale) == dict_path(result, stale), (name, stale)
            assert writer(result, stale) == writer(result, stale)  # again, from the memos
    assert seen == set(Outcome)


def test_the_service_answers_the_same_bytes_either_way(demo_verifier):
    verifier, cases = demo_verifier
    now = 1_900_000_000.5
    for text in [c["text"] for c in cases.values()] + ["", "LC2:" + "%" * 90, "LB1:x", "not a license"]:
        for stale in (None, stale_reason(True, 300.0)):
            status, body = verify_json(verifier, text, now, stale)
            expected = with_freshness(verify_safely(verifier, text, now), stale)
            assert body == orjson.dumps(expected)
            assert status == expected["status"]


# -- results Hypothesis makes up -------------------------------------------------------------------

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=12) | st.sampled_from(
    ['"', "\\", "\x00", "\x1f\n\t", "\u2028", "😀", "北京市", "a\x7fb", "</script>"]
)
maybe_texts = st.none() | texts
ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)
floats = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)
dates = st.none() | st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))
small_bytes = st.none() | st.binary(min_size=0, max_size=40)

reasons = st.builds(Reason, texts, texts, texts)
fields = st.builds(DisclosedField, texts, texts, texts, texts | ints | st.booleans(), texts, texts)
issuers = st.builds(
    Issuer, st.binary(min_size=32, max_size=32), ints, st.booleans(), texts, st.binary(max_size=32), texts, texts
)
anchors = st.builds(
    Anchor, st.binary(min_size=32, max_size=32), st.binary(max_size=32), texts, st.integers(0, 2**37), ints
)
chains = st.builds(Freshness, ints, ints, floats | st.just(0.0) | st.integers(0, 2**40), st.binary(max_size=32))
co_approvals = st.builds(
    CoApproval, st.lists(st.builds(Department, texts, texts, st.booleans()), max_size=3).map(tuple), small_bytes
)
results = st.builds(
    VerificationResult,
    status=st.sampled_from(Outcome),
    reasons=st.lists(reasons, max_size=3),
    checked_at=floats | st.integers(0, 2**40),
    chain=st.none() | chains,
    license_id=maybe_texts,
    license_type=maybe_texts,
    license_type_name=st.none() | st.tuples(texts, texts),
    valid_from=dates,
    valid_to=dates,
    disclosed=st.lists(fields, max_size=4),
    hidden_fields=st.integers(0, 100),
    issuer=st.none() | issuers,
    issuer_uscc=maybe_texts,
    anchor=st.none() | anchors,
    digest=small_bytes,
    signer=maybe_texts,
    replacement=small_bytes,
    co_approval=st.none() | co_approvals,
    suite=st.none() | st.sampled_from(SignatureSuite),
    certificate_subject=maybe_texts,
)
stales = st.none() | st.builds(lambda code, zh, en: {"code": code, "zh": zh, "en": en}, texts, texts, texts)


@pytest.mark.parametrize("writer", WRITERS)
@SETTINGS
@given(result=results, stale=stales)
def test_any_result_is_written_as_the_dict_path_writes_it(writer, result, stale):
    expected = dict_path(result, stale)
    assert writer(result, stale) == expected
    assert writer(result, stale) == expected  # the second time from the memos
    # the same values with the other number type where both occur are other keys, not other bytes
    if result.chain is not None:
        other = dataclasses.replace(result, checked_at=float(result.checked_at))
        assert writer(other, stale) == dict_path(other, stale)


@pytest.mark.parametrize("writer", WRITERS)
def test_a_string_json_cannot_carry_is_refused_as_the_dict_path_refuses_it(demo_verifier, writer):
    verifier, cases = demo_verifier
    result = verifier.check(cases["valid"]["text"])
    assert isinstance(result, VerificationResult)
    broken = dataclasses.replace(result, license_id="\ud800")  # a lone surrogate: not UTF-8
    with pytest.raises(Exception):  # noqa: B017, PT011 - orjson's and CPython's errors differ
        dict_path(broken, None)
    with pytest.raises(Exception):  # noqa: B017, PT011
        writer(broken, None)


@pytest.mark.parametrize("writer", WRITERS)
def test_the_memos_stay_bounded_under_a_stream_of_distinct_results(demo_verifier, writer):
    verifier, cases = demo_verifier
    result = verifier.check(cases["valid"]["text"])
    assert isinstance(result, VerificationResult)
    for i in range(MEMO_LIMIT * 2 + 10):
        reason = Reason("valid", f"理由 {i}", f"reason {i}")
        field = dataclasses.replace(result.disclosed[0], label_en=f"label {i}")
        one = dataclasses.replace(result, reasons=[reason], disclosed=[field], checked_at=result.checked_at + i)
        if i % 997 == 0:
            assert writer(one, None) == dict_path(one, None)
        else:
            writer(one, None)
    assert all(len(memo.kept) <= MEMO_LIMIT for memo in MEMOS.values())
    assert result_json.MEMO_LIMIT == MEMO_LIMIT


long_texts = st.text(st.characters(exclude_categories=("Cs",)), min_size=2000, max_size=5000)


@pytest.mark.parametrize("writer", WRITERS)
@settings(max_examples=150, deadline=None)
@given(values=st.lists(texts | ints | long_texts, min_size=1, max_size=8), stale=stales)
def test_displays_that_are_their_values_and_answers_of_any_size(writer, values, stale):
    """Texts and identifiers are shown as they are: the display is the value object itself, which
    the compiled writer copies rather than writes again. Long values take the answer past the
    writer's first buffer (8 KB) into a grown one; the bytes are the dict path's either way."""
    disclosed = [DisclosedField(f"f{i}", "标签", "label", v, v, v) for i, v in enumerate(values)]
    result = VerificationResult(
        Outcome.VALID, [Reason("valid", "有效", "valid")], checked_at=1_796_313_992, chain=None, disclosed=disclosed
    )
    expected = dict_path(result, stale)
    assert writer(result, stale) == expected
    if sum(len(v) for v in values if isinstance(v, str)) > 10_000:
        assert len(expected) > 8192
