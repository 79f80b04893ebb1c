"""The seven licenses a foreign-invested enterprise in 上海市 receives in one joint application
(七证联办), from five departments, and the bundle they form; shared by the catalogue's and the
joint document's tests."""

from __future__ import annotations

import datetime as dt
import random

from eth_account.messages import encode_typed_data
from stdnum.cn import uscc

from devkit.joint import JointWorld, add_departments
from registry import RegistryClient, connect, dev_accounts
from registry.document.identifiers import LicenseIdentifier
from registry.document.joint import Applicant, JointApplicationId, JointBundle
from registry.document.license import License
from registry.document.licensetypes import DepartmentKind
from registry.issuer.store import IssuerStore
from signer import keccak256


def credit_code(prefix: str) -> str:
    """A unified social credit code: 17 characters of ``prefix`` and python-stdnum's check character."""
    assert len(prefix) == 17
    return prefix + uscc.calc_check_digit(prefix)


#: 浦东新区's departments (state organs: registration authority 1, category 1).
DEPARTMENTS: dict[DepartmentKind, str] = {
    DepartmentKind.COMMERCE: credit_code("11310115002417937"),
    DepartmentKind.MARKET_REGULATION: credit_code("11310115MB2F30745"),
    DepartmentKind.TAXATION: credit_code("11310115MB0T51203"),
    DepartmentKind.CUSTOMS: credit_code("11310000000013269"),
    DepartmentKind.PUBLIC_SECURITY: credit_code("11310115002420104"),
}
APPLICANT_CODE = credit_code("91310115MA1H8Y2K3")
APPLICANT_NAME = "上海某某国际贸易有限公司"
ADDRESS = "中国（上海）自由贸易试验区临港新片区环湖西二路888号C楼"
SCOPE = (
    "货物进出口；技术进出口；国际贸易代理；食品销售；日用百货、化妆品、电子产品的批发、零售；"
    "国内货物运输代理；商务信息咨询（不含投资类咨询）。（依法须经批准的项目，经相关部门批准后方可开展经营活动）"
)
TODAY = dt.date(2026, 12, 1)

#: Field values of every type, for the enterprise above.
VALUES: dict[str, dict[str, object]] = {
    "FI": {
        "name": APPLICANT_NAME,
        "uscc": APPLICANT_CODE,
        "approval_number": "商外资沪自贸字〔2026〕3581号",
        "enterprise_kind": 3,
        "investors": "某某国际控股有限公司（KINGSWAY INTERNATIONAL HOLDINGS LIMITED）",
        "investor_regions": "中国香港",
        "total_investment": 30_000_000,
        "registered_capital": 10_000_000,
        "address": ADDRESS,
        "approved_on": "2026-11-20",
        "term_end": "2056-11-19",
        "business_scope": SCOPE,
    },
    "BL": {
        "name": APPLICANT_NAME,
        "uscc": APPLICANT_CODE,
        "entity_type": 7,
        "legal_representative": "陈志强",
        "registered_capital": 10_000_000,
        "established": "2026-11-25",
        "term_end": "2056-11-24",
        "domicile": ADDRESS,
        "business_scope": SCOPE,
    },
    "OC": {
        "name": APPLICANT_NAME,
        "uscc": APPLICANT_CODE,
        "organization_kind": 1,
        "legal_representative": "陈志强",
        "address": ADDRESS,
        "region": 310115,
        "registration_number": "310141400012345",
    },
    "TR": {
        "taxpayer_name": APPLICANT_NAME,
        "uscc": APPLICANT_CODE,
        "legal_representative": "陈志强",
        "address": ADDRESS,
        "registration_kind": 2,
        "business_scope": SCOPE,
        "tax_office": "国家税务总局中国（上海）自由贸易试验区临港新片区税务局",
    },
    "FB": {
        "operator_name": APPLICANT_NAME,
        "uscc": APPLICANT_CODE,
        "legal_representative": "陈志强",
        "domicile": ADDRESS,
        "premises": ADDRESS,
        "main_format": 1,
        "business_items": "预包装食品销售（含冷藏冷冻食品）；保健食品销售",
        "supervisor": "浦东新区市场监督管理局临港新片区市场监督管理所",
    },
    "CR": {
        "name": APPLICANT_NAME,
        "uscc": APPLICANT_CODE,
        "customs_code": "3122961A2K",
        "customs_district": "洋山海关",
        "registration_kind": 1,
        "legal_representative": "陈志强",
        "address": ADDRESS,
        "registered_on": "2026-11-30",
    },
    "SE": {
        "name": APPLICANT_NAME,
        "uscc": APPLICANT_CODE,
        "seal_kind": 1,
        "seal_text": APPLICANT_NAME,
        "seal_code": "3101150123456",
        "engraver": "上海某某印章刻制有限公司",
        "approved_on": "2026-11-30",
    },
}
#: Who issues each of the seven licenses.
ISSUER_KIND = {
    "FI": DepartmentKind.COMMERCE,
    "BL": DepartmentKind.MARKET_REGULATION,
    "OC": DepartmentKind.MARKET_REGULATION,
    "FB": DepartmentKind.MARKET_REGULATION,
    "TR": DepartmentKind.TAXATION,
    "CR": DepartmentKind.CUSTOMS,
    "SE": DepartmentKind.PUBLIC_SECURITY,
}
VALIDITY = {"FB": dt.date(2031, 11, 29), "SE": dt.date(2027, 11, 29)}  # others open-ended


def seven_licenses(seed: int = 7) -> list[License]:
    rng = random.Random(seed)
    return [
        License.create(
            license_type=code,
            license_id=LicenseIdentifier(code, DEPARTMENTS[kind], rng.randrange(1, 10**8), 1),
            valid_from=dt.date(2026, 11, 30),
            valid_to=VALIDITY.get(code),
            fields=VALUES[code],
            secret=rng.randbytes(16),
        )
        for code, kind in ISSUER_KIND.items()
    ]


def seven_license_bundle(seed: int = 7) -> JointBundle:
    rng = random.Random(seed)
    lead = DEPARTMENTS[DepartmentKind.MARKET_REGULATION]
    return JointBundle.create(
        JointApplicationId(lead, 20261130),
        Applicant.create(APPLICANT_CODE, APPLICANT_NAME, rng.randbytes(16)),
        seven_licenses(seed),
    )


def typed_bundle_digest(
    application_id: bytes,
    applicant: bytes,
    members: list[tuple[bytes, bytes, bytes]],
    departments: list[bytes],
    *,
    chain_id: int,
    registry: str,
) -> bytes:
    """A bundle's digest by eth-account's EIP-712 encoder (the reference the project's own hashing
    is compared with): the typed data of a ``JointBundle`` of ``members`` (digest, license type id,
    issuer id) and ``departments``, in the registry's domain."""
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "JointMember": [
                {"name": "digest", "type": "bytes32"},
                {"name": "licenseType", "type": "bytes32"},
                {"name": "issuerId", "type": "bytes32"},
            ],
            "JointBundle": [
                {"name": "applicationId", "type": "bytes32"},
                {"name": "applicant", "type": "bytes32"},
                {"name": "members", "type": "JointMember[]"},
                {"name": "departments", "type": "bytes32[]"},
            ],
        },
        "primaryType": "JointBundle",
        "domain": {"name": "E-License Registry", "version": "1", "chainId": chain_id, "verifyingContract": registry},
        "message": {
            "applicationId": application_id,
            "applicant": applicant,
            "members": [{"digest": d, "licenseType": t, "issuerId": i} for d, t, i in members],
            "departments": departments,
        },
    }
    signable = encode_typed_data(full_message=typed)
    return keccak256(b"\x19" + signable.version + signable.header + signable.body)


def shanghai_world(store: IssuerStore) -> JointWorld:
    """A new in-process chain with 上海市 and its authority (the second dev account), and the five
    departments of a joint application (:data:`devkit.joint.SHANGHAI`) issuing into ``store``."""
    w3 = connect(None)
    admin, authority = dev_accounts(w3)[:2]
    client, _ = RegistryClient.deploy(w3, admin)
    client.add_region(admin, 310000, "上海市")
    client.add_region_authority(admin, 310000, authority.address)
    return add_departments(client, store, admin=admin, authorities={310000: authority})
