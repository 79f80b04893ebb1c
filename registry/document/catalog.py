"""The catalogue of license types: each type's code, number, issuing department's kind and fields.

Published numbers never change: a type's ``number`` and ``code`` and each field's ``number`` stay
as they are once licenses carry them; new types and fields only ever add (new types take the next
number and a two-letter code no other type has).
"""

from __future__ import annotations

from registry.document.identifiers import FieldValueError
from registry.document.schema import Choice, DepartmentKind, FieldKind, FieldSpec, LicenseType
from registry.errors import ConfigurationError

__all__ = [
    "BUSINESS_LICENSE",
    "CATALOG",
    "CONSTRUCTION_PERMIT",
    "CUSTOMS_REGISTRATION",
    "FOOD_BUSINESS_PERMIT",
    "FOREIGN_INVESTMENT_APPROVAL",
    "ORGANIZATION_CODE_CERTIFICATE",
    "RESIDENCE_PERMIT",
    "SEAL_ENGRAVING_PERMIT",
    "TAX_REGISTRATION_CERTIFICATE",
    "get_type",
    "get_type_by_number",
    "types_issued_by",
]

_T = FieldKind.TEXT

BUSINESS_LICENSE = LicenseType(
    code="BL",
    department=DepartmentKind.MARKET_REGULATION,
    number=1,
    zh="营业执照",
    en="Business license",
    holder_field="uscc",
    fields=(
        FieldSpec("name", 1, "名称", "Name", _T, max_length=100),
        FieldSpec("uscc", 2, "统一社会信用代码", "Unified social credit code", FieldKind.USCC),
        FieldSpec(
            "entity_type",
            3,
            "类型",
            "Entity type",
            FieldKind.ENUM,
            choices=(
                Choice(1, "有限责任公司", "Limited liability company"),
                Choice(2, "股份有限公司", "Joint-stock company"),
                Choice(3, "个人独资企业", "Sole proprietorship"),
                Choice(4, "合伙企业", "Partnership"),
                Choice(5, "个体工商户", "Individual business"),
                Choice(6, "农民专业合作社", "Farmers' cooperative"),
                Choice(7, "外商投资企业", "Foreign-invested enterprise"),
                Choice(9, "其他", "Other"),
            ),
        ),
        FieldSpec("legal_representative", 4, "法定代表人", "Legal representative", _T, max_length=50),
        FieldSpec("registered_capital", 5, "注册资本", "Registered capital", FieldKind.MONEY, required=False),
        FieldSpec("established", 6, "成立日期", "Date of establishment", FieldKind.DATE),
        FieldSpec("term_end", 7, "营业期限至", "Term of operation until", FieldKind.DATE, required=False),
        FieldSpec("domicile", 8, "住所", "Domicile", _T, max_length=200),
        FieldSpec("business_scope", 9, "经营范围", "Business scope", _T, max_length=2000, disclose_by_default=False),
    ),
)

FOOD_BUSINESS_PERMIT = LicenseType(
    code="FB",
    department=DepartmentKind.MARKET_REGULATION,
    number=2,
    zh="食品经营许可证",
    en="Food business permit",
    holder_field="uscc",
    fields=(
        FieldSpec("operator_name", 1, "经营者名称", "Operator", _T, max_length=100),
        FieldSpec("uscc", 2, "社会信用代码", "Unified social credit code", FieldKind.USCC),
        FieldSpec("legal_representative", 3, "法定代表人（负责人）", "Legal representative", _T, max_length=50),
        FieldSpec("domicile", 4, "住所", "Domicile", _T, max_length=200),
        FieldSpec("premises", 5, "经营场所", "Business premises", _T, max_length=200),
        FieldSpec(
            "main_format",
            6,
            "主体业态",
            "Main business format",
            FieldKind.ENUM,
            choices=(
                Choice(1, "食品销售经营者", "Food seller"),
                Choice(2, "餐饮服务经营者", "Catering service"),
                Choice(3, "单位食堂", "Institutional canteen"),
            ),
        ),
        FieldSpec("business_items", 7, "经营项目", "Business items", _T, max_length=1000, disclose_by_default=False),
        FieldSpec("supervisor", 8, "日常监督管理机构", "Supervising office", _T, required=False, max_length=100),
    ),
)

CONSTRUCTION_PERMIT = LicenseType(
    code="CP",
    department=DepartmentKind.HOUSING,
    number=3,
    zh="建筑工程施工许可证",
    en="Construction permit",
    holder_field="builder_uscc",
    fields=(
        FieldSpec("project_name", 1, "工程名称", "Project", _T, max_length=200),
        FieldSpec("builder", 2, "建设单位", "Builder (owner)", _T, max_length=100),
        FieldSpec("builder_uscc", 3, "建设单位统一社会信用代码", "Builder's credit code", FieldKind.USCC),
        FieldSpec("site_address", 4, "建设地址", "Site address", _T, max_length=200),
        FieldSpec("scale", 5, "建设规模", "Scale", _T, max_length=200),
        FieldSpec("contract_price", 6, "合同价格", "Contract price", FieldKind.MONEY),
        FieldSpec("contractor", 7, "施工单位", "Contractor", _T, max_length=100),
        FieldSpec("contractor_uscc", 8, "施工单位统一社会信用代码", "Contractor's credit code", FieldKind.USCC),
        FieldSpec("planned_start", 9, "合同开工日期", "Contracted start", FieldKind.DATE),
        FieldSpec("planned_end", 10, "合同竣工日期", "Contracted completion", FieldKind.DATE),
    ),
)

RESIDENCE_PERMIT = LicenseType(
    code="RP",
    department=DepartmentKind.PUBLIC_SECURITY,
    number=4,
    zh="居住证",
    en="Residence permit",
    holder_field="ric",
    fields=(
        FieldSpec("holder_name", 1, "姓名", "Name", _T, max_length=50),
        FieldSpec("ric", 2, "公民身份号码", "Resident identity number", FieldKind.RIC),
        FieldSpec("residence_region", 3, "居住地", "Place of residence", FieldKind.REGION),
        FieldSpec(
            "residence_address", 4, "居住地址", "Residence address", _T, max_length=200, disclose_by_default=False
        ),
    ),
)


# -- the licenses of a foreign-invested enterprise's joint opening (七证联办), besides BL and FB ---

_E = FieldKind.ENUM

FOREIGN_INVESTMENT_APPROVAL = LicenseType(
    code="FI",
    number=5,
    department=DepartmentKind.COMMERCE,
    zh="外商投资企业批准证书",
    en="Approval certificate of a foreign-invested enterprise",
    holder_field="uscc",
    fields=(
        FieldSpec("name", 1, "企业名称", "Enterprise name", _T, max_length=100),
        FieldSpec("uscc", 2, "统一社会信用代码", "Unified social credit code", FieldKind.USCC),
        FieldSpec("approval_number", 3, "批准号", "Approval number", _T, max_length=50),
        FieldSpec(
            "enterprise_kind",
            4,
            "企业类型",
            "Kind of enterprise",
            _E,
            choices=(
                Choice(1, "中外合资经营企业", "Sino-foreign equity joint venture"),
                Choice(2, "中外合作经营企业", "Sino-foreign contractual joint venture"),
                Choice(3, "外资企业", "Wholly foreign-owned enterprise"),
                Choice(4, "外商投资股份有限公司", "Foreign-invested joint-stock company"),
                Choice(5, "外商投资合伙企业", "Foreign-invested partnership"),
            ),
        ),
        FieldSpec("investors", 5, "投资者", "Investors", _T, max_length=500),
        FieldSpec("investor_regions", 6, "投资者国别（地区）", "Investors' countries or regions", _T, max_length=200),
        FieldSpec("total_investment", 7, "投资总额", "Total investment", FieldKind.MONEY),
        FieldSpec("registered_capital", 8, "注册资本", "Registered capital", FieldKind.MONEY),
        FieldSpec("address", 9, "企业地址", "Address", _T, max_length=200),
        FieldSpec("approved_on", 10, "批准日期", "Date of approval", FieldKind.DATE),
        FieldSpec("term_end", 11, "经营期限至", "Term of operation until", FieldKind.DATE, required=False),
        FieldSpec("business_scope", 12, "经营范围", "Business scope", _T, max_length=2000, disclose_by_default=False),
    ),
)

ORGANIZATION_CODE_CERTIFICATE = LicenseType(
    code="OC",
    number=6,
    department=DepartmentKind.MARKET_REGULATION,
    zh="组织机构代码证",
    en="Organization code certificate",
    holder_field="uscc",
    fields=(
        FieldSpec("name", 1, "机构名称", "Organization name", _T, max_length=100),
        FieldSpec("uscc", 2, "统一社会信用代码", "Unified social credit code", FieldKind.USCC),
        FieldSpec(
            "organization_kind",
            3,
            "机构类型",
            "Kind of organization",
            _E,
            choices=(
                Choice(1, "企业法人", "Enterprise legal person"),
                Choice(2, "企业非法人", "Unincorporated enterprise"),
                Choice(3, "事业单位", "Public institution"),
                Choice(4, "社会团体", "Social organization"),
                Choice(5, "机关", "Government body"),
                Choice(9, "其他", "Other"),
            ),
        ),
        FieldSpec("legal_representative", 4, "法定代表人（负责人）", "Legal representative", _T, max_length=50),
        FieldSpec("address", 5, "地址", "Address", _T, max_length=200),
        FieldSpec("region", 6, "行政区划", "Administrative division", FieldKind.REGION),
        FieldSpec("registration_number", 7, "登记号", "Registration number", _T, required=False, max_length=50),
    ),
)

TAX_REGISTRATION_CERTIFICATE = LicenseType(
    code="TR",
    number=7,
    department=DepartmentKind.TAXATION,
    zh="税务登记证",
    en="Tax registration certificate",
    holder_field="uscc",
    fields=(
        FieldSpec("taxpayer_name", 1, "纳税人名称", "Taxpayer", _T, max_length=100),
        FieldSpec("uscc", 2, "纳税人识别号（统一社会信用代码）", "Taxpayer identification number", FieldKind.USCC),
        FieldSpec("legal_representative", 3, "法定代表人（负责人）", "Legal representative", _T, max_length=50),
        FieldSpec("address", 4, "地址", "Address", _T, max_length=200),
        FieldSpec(
            "registration_kind",
            5,
            "登记注册类型",
            "Kind of registration",
            _E,
            choices=(
                Choice(1, "内资企业", "Domestic enterprise"),
                Choice(2, "港澳台商投资企业", "Enterprise invested from Hong Kong, Macao or Taiwan"),
                Choice(3, "外商投资企业", "Foreign-invested enterprise"),
                Choice(4, "个体经营", "Individual business"),
                Choice(9, "其他", "Other"),
            ),
        ),
        FieldSpec("business_scope", 6, "经营范围", "Business scope", _T, max_length=2000, disclose_by_default=False),
        FieldSpec("withholding", 7, "扣缴义务", "Withholding obligations", _T, required=False, max_length=200),
        FieldSpec("tax_office", 8, "主管税务机关", "Competent tax office", _T, required=False, max_length=100),
    ),
)

CUSTOMS_REGISTRATION = LicenseType(
    code="CR",
    number=8,
    department=DepartmentKind.CUSTOMS,
    zh="海关进出口货物收发货人备案",
    en="Customs registration of a consignee or consignor",
    holder_field="uscc",
    fields=(
        FieldSpec("name", 1, "企业名称", "Enterprise name", _T, max_length=100),
        FieldSpec("uscc", 2, "统一社会信用代码", "Unified social credit code", FieldKind.USCC),
        FieldSpec("customs_code", 3, "海关编码", "Customs code", _T, max_length=10),
        FieldSpec("customs_district", 4, "所在地海关", "Customs district", _T, max_length=50),
        FieldSpec(
            "registration_kind",
            5,
            "企业经营类别",
            "Kind of registration",
            _E,
            choices=(
                Choice(1, "进出口货物收发货人", "Consignee or consignor of imports and exports"),
                Choice(2, "报关企业", "Customs broker"),
            ),
        ),
        FieldSpec("legal_representative", 6, "法定代表人（负责人）", "Legal representative", _T, max_length=50),
        FieldSpec("address", 7, "注册地址", "Registered address", _T, max_length=200),
        FieldSpec("registered_on", 8, "备案日期", "Date of registration", FieldKind.DATE),
    ),
)

SEAL_ENGRAVING_PERMIT = LicenseType(
    code="SE",
    number=9,
    department=DepartmentKind.PUBLIC_SECURITY,
    zh="印章刻制许可证（准刻证）",
    en="Seal engraving permit",
    holder_field="uscc",
    fields=(
        FieldSpec("name", 1, "用章单位", "Seal user", _T, max_length=100),
        FieldSpec("uscc", 2, "统一社会信用代码", "Unified social credit code", FieldKind.USCC),
        FieldSpec(
            "seal_kind",
            3,
            "印章种类",
            "Kind of seal",
            _E,
            choices=(
                Choice(1, "单位公章", "Official seal"),
                Choice(2, "财务专用章", "Finance seal"),
                Choice(3, "发票专用章", "Invoice seal"),
                Choice(4, "合同专用章", "Contract seal"),
                Choice(5, "法定代表人名章", "Legal representative's seal"),
                Choice(6, "报关专用章", "Customs declaration seal"),
                Choice(9, "其他专用章", "Other special-purpose seal"),
            ),
        ),
        FieldSpec("seal_text", 4, "印文", "Seal inscription", _T, max_length=100),
        FieldSpec("seal_code", 5, "印章编码", "Seal code", _T, required=False, max_length=20),
        FieldSpec("engraver", 6, "承刻单位", "Engraver", _T, max_length=100),
        FieldSpec("approved_on", 7, "准刻日期", "Date of approval", FieldKind.DATE),
    ),
)

_TYPES = (
    BUSINESS_LICENSE,
    FOOD_BUSINESS_PERMIT,
    CONSTRUCTION_PERMIT,
    RESIDENCE_PERMIT,
    FOREIGN_INVESTMENT_APPROVAL,
    ORGANIZATION_CODE_CERTIFICATE,
    TAX_REGISTRATION_CERTIFICATE,
    CUSTOMS_REGISTRATION,
    SEAL_ENGRAVING_PERMIT,
)
CATALOG: dict[str, LicenseType] = {t.code: t for t in _TYPES}
_BY_NUMBER = {t.number: t for t in _TYPES}
if not len(CATALOG) == len(_BY_NUMBER) == len(_TYPES):
    raise ConfigurationError("the catalogue has two types with the same code or number")


def get_type(code: object) -> LicenseType:
    if isinstance(code, str) and code.upper() in CATALOG:
        return CATALOG[code.upper()]
    known = ", ".join(f"{t.code} ({t.zh})" for t in CATALOG.values())
    raise FieldValueError("license type", f"{code!r} is not a known type", f"one of {known}")


def get_type_by_number(number: object) -> LicenseType:
    if isinstance(number, int) and not isinstance(number, bool) and number in _BY_NUMBER:
        return _BY_NUMBER[number]
    raise FieldValueError("license type", f"number {number!r} is not known", f"one of {sorted(_BY_NUMBER)}")


def types_issued_by(kind: DepartmentKind) -> list[LicenseType]:
    """The catalogue's types a department of ``kind`` issues, in type-number order."""
    return [t for t in CATALOG.values() if t.department is kind]
