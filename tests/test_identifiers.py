"""Chinese identifiers: validated with python-stdnum, packed for QR codes, errors that say what is
wrong and what was expected."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devkit.samples import make_ric, make_uscc
from registry.document.identifiers import (
    FieldValueError,
    LicenseIdentifier,
    issuer_id_from_uscc,
    pack_ric,
    pack_uscc,
    region_name,
    unpack_ric,
    unpack_uscc,
    uscc_from_issuer_id,
    validate_region,
    validate_ric,
    validate_uscc,
)

GOOD_USCC = "91110000600037341L"


def test_uscc_valid_and_invalid():
    assert validate_uscc(" 91110000600037341l ") == GOOD_USCC
    with pytest.raises(FieldValueError) as info:
        validate_uscc("91110000600037341X", field="holder code")
    err = info.value
    assert err.field == "holder code"
    assert "91110000600037341X" in err.problem
    assert "GB 32100" in err.expected
    with pytest.raises(FieldValueError, match="got int"):
        validate_uscc(12345)
    with pytest.raises(FieldValueError):
        validate_uscc("9111000060003734")  # too short


def test_ric_valid_and_invalid():
    assert validate_ric("11010519491231002x") == "11010519491231002X"
    with pytest.raises(FieldValueError, match="GB 11643"):
        validate_ric("110105194912310021")
    with pytest.raises(FieldValueError):
        validate_ric("11010519491331002X")  # month 13


def test_regions():
    assert validate_region("110000") == 110000
    assert region_name(110105) == "北京市朝阳区"
    assert region_name(440305) == "广东省南山区"
    with pytest.raises(FieldValueError, match="six-digit"):
        validate_region(1100)
    with pytest.raises(FieldValueError, match="not a known administrative division"):
        validate_region(999999)


def test_issuer_ids():
    issuer_id = issuer_id_from_uscc(GOOD_USCC)
    assert len(issuer_id) == 32
    assert issuer_id.startswith(GOOD_USCC.encode())
    assert uscc_from_issuer_id(issuer_id) == GOOD_USCC
    assert uscc_from_issuer_id(b"\x01" * 32) is None


@given(st.integers(min_value=0, max_value=2**32))
def test_packed_codes_round_trip(seed):
    rng = random.Random(seed)
    code = make_uscc(rng, region=110108)
    assert len(pack_uscc(code)) == 12
    assert unpack_uscc(pack_uscc(code)) == code
    number = make_ric(rng, region=110105, born=__import__("datetime").date(1990, 1, 1 + seed % 28))
    assert unpack_ric(pack_ric(number)) == number


def test_bad_packed_codes():
    with pytest.raises(FieldValueError, match="12 bytes"):
        unpack_uscc(b"\x00" * 11)
    with pytest.raises(FieldValueError, match="out of range"):
        unpack_uscc(b"\xff" * 12)
    with pytest.raises(FieldValueError):
        unpack_ric(-1)
    with pytest.raises(FieldValueError):
        unpack_ric(True)


def test_license_identifier():
    lid = LicenseIdentifier("BL", GOOD_USCC, 123, 1)
    text = str(lid)
    assert len(text) == 31
    assert text.startswith("BL" + GOOD_USCC + "00000123" + "01")
    assert LicenseIdentifier.parse(text) == lid
    assert LicenseIdentifier.parse(text.lower()) == lid
    assert str(lid.next_version()).startswith("BL" + GOOD_USCC + "0000012302")
    wrong = text[:-1] + ("A" if text[-1] != "A" else "B")
    with pytest.raises(FieldValueError, match="check character"):
        LicenseIdentifier.parse(wrong)
    with pytest.raises(FieldValueError, match="wrong length"):
        LicenseIdentifier.parse(text[:-1])
    with pytest.raises(FieldValueError, match="two upper-case letters"):
        LicenseIdentifier("B1", GOOD_USCC, 1, 1)
    with pytest.raises(FieldValueError, match="serial"):
        LicenseIdentifier("BL", GOOD_USCC, 0, 1)
