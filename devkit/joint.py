"""Joint issuance on a development chain (七证联办): 上海市 (310000) with five departments of 浦东新区
(commerce, market regulation, taxation, customs, public security), each with a signing key and a
co-signing key registered on chain with its proof of possession and permitted the types it issues;
and the seven license requests a foreign-invested enterprise receives in one joint application.
The demo, the tests and the benchmarks start from here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount
from stdnum.cn import uscc

from devkit.devchain import latest_timestamp
from registry import RegistryClient
from registry.document.identifiers import issuer_id_from_uscc
from registry.document.licensetypes import get_type
from registry.issuer.department import Department, IssueRequest
from registry.issuer.joint import JointApplication, JointDesk
from registry.issuer.store import IssuerStore
from signer import CoSigningKey, LicenseSigner, domain_separator

__all__ = [
    "SHANGHAI",
    "DepartmentSpec",
    "JointWorld",
    "add_departments",
    "cosigned_application",
    "credit_code",
    "seven_requests",
]


def credit_code(prefix: str) -> str:
    """A unified social credit code: 17 characters and python-stdnum's check character (GB 32100)."""
    return prefix + uscc.calc_check_digit(prefix)


@dataclass(frozen=True)
class DepartmentSpec:
    key: str
    uscc: str
    name: str
    region: int
    types: tuple[str, ...]


#: 上海市's departments of a joint application (浦东新区; state organs: authority 1, category 1).
SHANGHAI = (
    DepartmentSpec("sh-commerce", credit_code("11310115002417937"), "浦东新区商务委员会", 310000, ("FI",)),
    DepartmentSpec("sh-samr", credit_code("11310115MB2F30745"), "浦东新区市场监督管理局", 310000, ("BL", "OC", "FB")),
    DepartmentSpec("sh-tax", credit_code("11310115MB0T51203"), "国家税务总局上海市浦东新区税务局", 310000, ("TR",)),
    DepartmentSpec("sh-customs", credit_code("11310000000013269"), "中华人民共和国上海海关", 310000, ("CR",)),
    DepartmentSpec("sh-police", credit_code("11310115002420104"), "上海市公安局浦东分局", 310000, ("SE",)),
)

_SPEC_TYPES = {s.key: s.types for s in SHANGHAI}


@dataclass
class JointWorld:
    """Departments with their signing and co-signing keys, one store, and the joint desk over it."""

    client: RegistryClient
    store: IssuerStore
    departments: dict[str, Department]  # by spec key
    co_signing_keys: dict[str, CoSigningKey]  # by spec key
    desk: JointDesk

    def key_of(self, department: Department) -> CoSigningKey:
        return next(self.co_signing_keys[k] for k, d in self.departments.items() if d is department)

    def issuer_of(self, type_code: str) -> Department:
        """The department of this world that issues ``type_code``."""
        return next(d for k, d in self.departments.items() if type_code in _SPEC_TYPES.get(k, ()))


def cosigned_application(
    world: JointWorld, applicant_code: str, applicant_name: str, today: dt.date, *, lead: str = "sh-samr"
) -> JointApplication:
    """The seven licenses of :func:`seven_requests` issued by ``world``'s departments and anchored in
    their batches, in one joint application led by ``lead``, co-signed by every department: ready
    for ``world.desk.anchor``."""
    ids = [
        world.issuer_of(code).issue(r).license_id
        for code, r in seven_requests(applicant_code, applicant_name, today).items()
    ]
    for department in world.departments.values():
        department.anchor_pending()
    desk = world.desk
    application = desk.open(
        lead_uscc=world.departments[lead].issuer_uscc, applicant_uscc=applicant_code, applicant_name=applicant_name
    )
    desk.add(application.application_id, ids)
    for key, department in world.departments.items():
        desk.cosign(application.application_id, department.issuer_uscc, world.co_signing_keys[key])
    return desk.get(application.application_id)


def add_departments(
    client: RegistryClient,
    store: IssuerStore,
    *,
    admin: LocalAccount,
    authorities: dict[int, LocalAccount],
    specs: Sequence[DepartmentSpec] = SHANGHAI,
) -> JointWorld:
    """Register ``specs`` (their regions and authorities must exist), each with a fresh funded
    signing key and a fresh co-signing key valid from now, permitted its types."""
    d = client.deployment
    now = latest_timestamp(client.w3)
    departments: dict[str, Department] = {}
    co_keys: dict[str, CoSigningKey] = {}
    for spec in specs:
        authority = authorities[spec.region]
        issuer_id = issuer_id_from_uscc(spec.uscc)
        key: LocalAccount = Account.create()
        client.fund(admin, key.address, 10**19)
        client.register_issuer(authority, issuer_id, spec.region, spec.name)
        client.add_key(authority, issuer_id, key, valid_from=now)
        for code in spec.types:
            client.permit_license_type(authority, issuer_id, get_type(code).type_id, valid_from=now)
        co_key = CoSigningKey.generate()
        client.add_co_signing_key(authority, issuer_id, co_key.public_key, co_key.proof_of_possession(), valid_from=now)
        signer = LicenseSigner(key, chain_id=d.chain_id, license_registry=d.license_registry)
        departments[spec.key] = Department(
            issuer_uscc=spec.uscc, store=store, signer=signer, client=client, account=key
        )
        co_keys[spec.key] = co_key
    desk = JointDesk(store, domain=domain_separator(d.chain_id, d.license_registry), client=client)
    return JointWorld(client, store, departments, co_keys, desk)


ADDRESS = "中国（上海）自由贸易试验区临港新片区环湖西二路888号C楼"
SCOPE = "货物进出口；技术进出口；国际贸易代理；食品销售；日用百货、电子产品的批发、零售；商务信息咨询"


def seven_requests(applicant_code: str, applicant_name: str, today: dt.date) -> dict[str, IssueRequest]:
    """The seven licenses of a foreign-invested enterprise, by type code (issued by 上海市's
    departments in :data:`SHANGHAI`: FI commerce; BL, OC, FB market regulation; TR taxation; CR
    customs; SE public security)."""
    start = today - dt.timedelta(days=1)
    common = {"name": applicant_name, "uscc": applicant_code}
    values: dict[str, dict[str, object]] = {
        "FI": {
            **common,
            "approval_number": "商外资沪自贸字〔2026〕3581号",
            "enterprise_kind": 3,
            "investors": "某某国际控股有限公司（KINGSWAY INTERNATIONAL HOLDINGS LIMITED）",
            "investor_regions": "中国香港",
            "total_investment": 30_000_000,
            "registered_capital": 10_000_000,
            "address": ADDRESS,
            "approved_on": start.isoformat(),
            "business_scope": SCOPE,
        },
        "BL": {
            **common,
            "entity_type": 7,
            "legal_representative": "陈志强",
            "registered_capital": 10_000_000,
            "established": start.isoformat(),
            "domicile": ADDRESS,
            "business_scope": SCOPE,
        },
        "OC": {
            **common,
            "organization_kind": 1,
            "legal_representative": "陈志强",
            "address": ADDRESS,
            "region": 310115,
            "registration_number": "310141400012345",
        },
        "TR": {
            "taxpayer_name": applicant_name,
            "uscc": applicant_code,
            "legal_representative": "陈志强",
            "address": ADDRESS,
            "registration_kind": 2,
            "business_scope": SCOPE,
            "tax_office": "国家税务总局中国（上海）自由贸易试验区临港新片区税务局",
        },
        "FB": {
            "operator_name": applicant_name,
            "uscc": applicant_code,
            "legal_representative": "陈志强",
            "domicile": ADDRESS,
            "premises": ADDRESS,
            "main_format": 1,
            "business_items": "预包装食品销售（含冷藏冷冻食品）；保健食品销售",
            "supervisor": "浦东新区市场监督管理局临港新片区市场监督管理所",
        },
        "CR": {
            **common,
            "customs_code": "3122961A2K",
            "customs_district": "洋山海关",
            "registration_kind": 1,
            "legal_representative": "陈志强",
            "address": ADDRESS,
            "registered_on": start.isoformat(),
        },
        "SE": {
            **common,
            "seal_kind": 1,
            "seal_text": applicant_name,
            "seal_code": "3101150123456",
            "engraver": "上海某某印章刻制有限公司",
            "approved_on": start.isoformat(),
        },
    }
    ends = {"FB": start + dt.timedelta(days=5 * 365), "SE": start + dt.timedelta(days=365)}
    return {code: IssueRequest(code, fields, start, ends.get(code)) for code, fields in values.items()}
