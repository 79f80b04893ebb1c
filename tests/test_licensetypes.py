"""License types validate field values and report every problem with field, problem and expectation."""

from __future__ import annotations

import datetime as dt

import pytest

from devkit.samples import SampleFactory
from registry.document.identifiers import FieldValueError
from registry.document.licensetypes import CATALOG, FieldKind, get_type, get_type_by_number


@pytest.mark.parametrize("code", sorted(CATALOG))
def test_every_type_accepts_its_samples(code):
    samples = SampleFactory(3, today=dt.date(2026, 11, 23))
    make = {
        "BL": samples.business_license,
        "FB": samples.food_permit,
        "CP": samples.construction_permit,
        "RP": samples.residence_permit,
    }[code]
    request = make()
    values = get_type(code).canonical_fields(request.fields)
    assert values
    for key, value in values.items():
        assert isinstance(value, str | int)
        spec = get_type(code).by_key[key]
        assert spec.unpack(spec.pack(value)) == value


def test_the_catalog_has_the_four_types():
    assert {t.zh for t in CATALOG.values()} == {"营业执照", "食品经营许可证", "建筑工程施工许可证", "居住证"}
    assert get_type("bl").code == "BL"
    assert get_type_by_number(4).code == "RP"
    for ltype in CATALOG.values():
        assert len(ltype.fields) <= 16
        assert ltype.by_key[ltype.holder_field].kind in (FieldKind.USCC, FieldKind.RIC)
    with pytest.raises(FieldValueError, match="not a known type"):
        get_type("XX")
    with pytest.raises(FieldValueError):
        get_type_by_number(99)


BASE = {
    "name": "北京星辰科技有限公司",
    "uscc": "91110000600037341L",
    "entity_type": 1,
    "legal_representative": "张伟",
    "established": "2020-01-01",
    "domicile": "北京市海淀区中关村大街1号",
    "business_scope": "技术开发",
}


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        ({"uscc": "91110000600037341X"}, "uscc", "GB 32100"),
        ({"entity_type": 8}, "entity_type", "one of 1 (有限责任公司"),
        ({"established": "2020-02-30"}, "established", "YYYY-MM-DD"),
        ({"registered_capital": -5}, "registered_capital", "whole yuan"),
        ({"name": "x" * 101}, "name", "at most 100 characters"),
        ({"name": "北京\n科技"}, "name", "printable text"),
        ({"name": 5}, "name", "text"),
        ({"legal_representative": "  "}, "legal_representative", "required"),
        ({"colour": "red"}, "BL", "fields name, uscc"),
    ],
)
def test_bad_values_are_named(change, field, expected):
    with pytest.raises(FieldValueError) as info:
        get_type("BL").canonical_fields({**BASE, **change})
    assert field in info.value.field
    assert expected in info.value.expected


def test_missing_required_field():
    values = dict(BASE)
    del values["domicile"]
    with pytest.raises(FieldValueError, match="domicile"):
        get_type("BL").canonical_fields(values)


def test_canonical_forms():
    values = get_type("BL").canonical_fields(
        {**BASE, "entity_type": "股份有限公司", "name": " 北京星辰科技有限公司 ", "registered_capital": "5000000"}
    )
    assert values["entity_type"] == 2
    assert values["name"] == "北京星辰科技有限公司"
    assert values["registered_capital"] == 5_000_000
    assert values["established"] == (dt.date(2020, 1, 1) - dt.date(1970, 1, 1)).days
    spec = get_type("BL").by_key["registered_capital"]
    assert spec.display(5_000_000, "zh") == "500.00万元"
    assert spec.display(5_000_000, "en") == "CNY 5,000,000"
