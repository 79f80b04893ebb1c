"""License types validate field values and report every problem with field, problem and expectation."""

from __future__ import annotations

import datetime as dt

import pytest
from _joint_samples import VALUES

from devkit.samples import SampleFactory
from registry.document import catalog, licensetypes, schema
from registry.document.identifiers import FieldValueError
from registry.document.licensetypes import (
    CATALOG,
    DepartmentKind,
    FieldKind,
    get_type,
    get_type_by_number,
    types_issued_by,
)


@pytest.mark.parametrize("code", sorted(CATALOG))
def test_every_type_accepts_its_samples(code):
    samples = SampleFactory(3, today=dt.date(2026, 11, 23))
    make = {
        "BL": samples.business_license,
        "FB": samples.food_permit,
        "CP": samples.construction_permit,
        "RP": samples.residence_permit,
    }.get(code)
    fields = make().fields if make else VALUES[code]
    values = get_type(code).canonical_fields(fields)
    assert values
    for key, value in values.items():
        assert isinstance(value, str | int)
        spec = get_type(code).by_key[key]
        assert spec.unpack(spec.pack(value)) == value


def test_the_catalog_has_the_nine_types_under_stable_numbers():
    assert {t.code: t.number for t in CATALOG.values()} == {
        "BL": 1,
        "FB": 2,
        "CP": 3,
        "RP": 4,
        "FI": 5,
        "OC": 6,
        "TR": 7,
        "CR": 8,
        "SE": 9,
    }
    assert {t.zh for t in CATALOG.values()} == {
        "营业执照",
        "食品经营许可证",
        "建筑工程施工许可证",
        "居住证",
        "外商投资企业批准证书",
        "组织机构代码证",
        "税务登记证",
        "海关进出口货物收发货人备案",
        "印章刻制许可证（准刻证）",
    }
    assert get_type("bl").code == "BL"
    assert get_type_by_number(4).code == "RP"
    assert get_type_by_number(9).code == "SE"
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


# -- the types of a foreign-invested enterprise's joint opening, and issuing departments -------------

#: Published field numbers and kinds of the new types: changing one is a decision, never an accident.
NEW_FIELDS = {
    "FI": "name:1:text uscc:2:uscc approval_number:3:text enterprise_kind:4:enum investors:5:text "
    "investor_regions:6:text total_investment:7:money registered_capital:8:money address:9:text "
    "approved_on:10:date term_end:11:date business_scope:12:text",
    "OC": "name:1:text uscc:2:uscc organization_kind:3:enum legal_representative:4:text address:5:text "
    "region:6:region registration_number:7:text",
    "TR": "taxpayer_name:1:text uscc:2:uscc legal_representative:3:text address:4:text registration_kind:5:enum "
    "business_scope:6:text withholding:7:text tax_office:8:text",
    "CR": "name:1:text uscc:2:uscc customs_code:3:text customs_district:4:text registration_kind:5:enum "
    "legal_representative:6:text address:7:text registered_on:8:date",
    "SE": "name:1:text uscc:2:uscc seal_kind:3:enum seal_text:4:text seal_code:5:text engraver:6:text "
    "approved_on:7:date",
}


@pytest.mark.parametrize("code", sorted(NEW_FIELDS))
def test_new_types_pin_their_fields_and_hold_the_credit_code(code):
    ltype = get_type(code)
    assert " ".join(f"{f.key}:{f.number}:{f.kind.value}" for f in ltype.fields) == NEW_FIELDS[code]
    assert ltype.holder_field == "uscc"
    assert ltype.by_key["uscc"].kind is FieldKind.USCC
    assert ltype.type_id == code.encode() + bytes(30)


@pytest.mark.parametrize(
    ("code", "change", "field", "expected"),
    [
        ("FI", {"total_investment": -1}, "total_investment", "whole yuan"),
        ("FI", {"registered_capital": 10**15 + 1}, "registered_capital", "whole yuan"),
        ("FI", {"enterprise_kind": 6}, "enterprise_kind", "one of 1 (中外合资经营企业"),
        ("FI", {"investor_regions": "x" * 201}, "investor_regions", "at most 200 characters"),
        ("FI", {"approved_on": "2026-13-01"}, "approved_on", "YYYY-MM-DD"),
        ("OC", {"uscc": "91310115MA1H8Y2K30"}, "uscc", "GB 32100"),
        ("OC", {"region": 310199}, "region", "GB/T 2260"),
        ("TR", {"registration_kind": 5}, "registration_kind", "one of 1 (内资企业"),
        ("CR", {"customs_code": "3122961A2K0"}, "customs_code", "at most 10 characters"),
        ("CR", {"customs_district": ""}, "customs_district", "required"),
        ("SE", {"seal_kind": 7}, "seal_kind", "one of 1 (单位公章"),
        ("SE", {"seal_kind": None}, "seal_kind", "required"),
    ],
)
def test_new_types_refuse_bad_values_by_name(code, change, field, expected):
    with pytest.raises(FieldValueError) as info:
        get_type(code).canonical_fields({**VALUES[code], **change})
    assert field in info.value.field
    assert expected in info.value.expected


def test_new_types_take_names_of_choices_and_give_them_back():
    values = get_type("SE").canonical_fields({**VALUES["SE"], "seal_kind": "财务专用章"})
    assert values["seal_kind"] == 2
    assert get_type("SE").by_key["seal_kind"].display(2, "en") == "Finance seal"
    assert get_type("FI").by_key["total_investment"].display(30_000_000, "zh") == "3,000.00万元"


def test_every_type_names_its_issuing_department():
    expected = {
        "BL": DepartmentKind.MARKET_REGULATION,
        "FB": DepartmentKind.MARKET_REGULATION,
        "CP": DepartmentKind.HOUSING,
        "RP": DepartmentKind.PUBLIC_SECURITY,
        "FI": DepartmentKind.COMMERCE,
        "OC": DepartmentKind.MARKET_REGULATION,
        "TR": DepartmentKind.TAXATION,
        "CR": DepartmentKind.CUSTOMS,
        "SE": DepartmentKind.PUBLIC_SECURITY,
    }
    assert {code: t.department for code, t in CATALOG.items()} == expected
    assert [t.code for t in types_issued_by(DepartmentKind.MARKET_REGULATION)] == ["BL", "FB", "OC"]
    assert types_issued_by(DepartmentKind.FIRE_RESCUE) == []
    names = [(k.zh, k.en) for k in DepartmentKind]
    assert len({zh for zh, _ in names}) == len({en for _, en in names}) == len(DepartmentKind)
    assert DepartmentKind.CUSTOMS.zh == "海关"
    assert DepartmentKind.NATURAL_RESOURCES.zh == "自然资源和规划部门"
    assert DepartmentKind("fire_rescue").en == "Fire and rescue service"


def test_the_old_import_paths_give_the_same_objects():
    for name in licensetypes.__all__:
        source = catalog if name in catalog.__all__ else schema
        assert getattr(licensetypes, name) is getattr(source, name), name


def test_a_catalogue_with_a_repeated_field_number_is_refused():
    spec = get_type("SE").fields[0]
    with pytest.raises(ValueError, match="duplicate field keys or numbers"):
        schema.LicenseType(
            code="ZZ",
            number=99,
            zh="测试",
            en="Test",
            fields=(spec, spec),
            holder_field=spec.key,
            department=DepartmentKind.HEALTH,
        )
