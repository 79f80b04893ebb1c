"""The demo's joint cases: 七证联办 in 上海市 and 联合审批 in 北京市.

- 上海市: the five departments of :data:`devkit.joint.SHANGHAI` issue the seven licenses of three
  foreign-invested enterprises. The first application is co-signed by the five and anchored jointly
  (``joint_valid``); the second too, and its seal-engraving permit is revoked afterwards
  (``joint_member_revoked``); the third is co-signed but never anchored jointly
  (``joint_not_anchored``).
- 北京市: construction permits (CP) need the co-approval of the housing, planning and fire
  departments, a policy set after every earlier CP license of the demo is anchored (a policy
  applies only to licenses anchored while it is in force). One permit is co-signed by all three
  and anchored jointly (``co_approval_complete``); another was co-signed by housing and planning
  before the policy, is anchored under it, and the contract refuses a joint anchor of it without
  the fire department (``co_approval_missing``, naming 北京市消防救援总队).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from eth_account import Account
from eth_account.signers.local import LocalAccount

from devkit.devchain import latest_timestamp
from devkit.joint import SHANGHAI, DepartmentSpec, add_departments, credit_code, seven_requests
from devkit.samples import SampleFactory
from registry import RegistryClient
from registry.document.identifiers import uscc_from_issuer_id
from registry.document.licensetypes import get_type
from registry.errors import ConfigurationError, ContractRevertError
from registry.issuer.department import Department
from registry.issuer.joint import JointDesk
from registry.issuer.store import IssuerStore
from signer import CoSigningKey, LicenseSigner
from verifier.bundle import BundleOutcome
from verifier.results import Outcome

__all__ = ["BEIJING", "ENTERPRISES", "JointDemo", "add_joint_cases"]

#: 北京市's co-approving departments for construction permits (they issue nothing themselves).
BEIJING = (
    DepartmentSpec("bj-planning", credit_code("11110000000019712"), "北京市规划和自然资源委员会", 110000, ()),
    DepartmentSpec("bj-fire", credit_code("11110000MB1C75384"), "北京市消防救援总队", 110000, ()),
)

#: The foreign-invested enterprises of the three Shanghai applications (made up).
ENTERPRISES = (
    (credit_code("91310115MA1K4D7R2"), "上海临港星辰国际贸易有限公司"),
    (credit_code("91310115MA1K4D8T5"), "上海临港瑞丰供应链管理有限公司"),
    (credit_code("91310115MA1K4D9W7"), "上海临港鼎盛食品进出口有限公司"),
)

#: Adds one case: name, expected status, QR text, note, kind ("license" or "bundle").
AddCase = Callable[[str, str, str, str, str], None]


@dataclass
class JointDemo:
    """What the joint part built, for the demo's run and a service serving it."""

    desk: JointDesk
    departments: dict[str, Department] = field(default_factory=dict)  # new or re-keyed, by credit code
    co_signing_keys: dict[str, CoSigningKey] = field(default_factory=dict)  # by credit code
    applications: dict[str, str] = field(default_factory=dict)  # case name -> joint application id
    refusal: ContractRevertError | None = None  # the joint anchor the contract refused


def add_joint_cases(
    client: RegistryClient,
    store: IssuerStore,
    *,
    admin: LocalAccount,
    authorities: dict[int, LocalAccount],
    housing: Department,
    samples: SampleFactory,
    add: AddCase,
    say: Callable[[str], None],
) -> JointDemo:
    """Register the joint departments, build the joint cases and ``add`` each of them."""
    shanghai = add_departments(client, store, admin=admin, authorities={310000: authorities[310000]})
    desk = shanghai.desk
    demo = JointDemo(desk)
    for key, department in shanghai.departments.items():
        demo.departments[department.issuer_uscc] = department
        demo.co_signing_keys[department.issuer_uscc] = shanghai.co_signing_keys[key]
    say("上海市: " + ", ".join(s.name for s in SHANGHAI) + " (each with a co-signing key and its proof on chain)")

    issuer_of = {code: shanghai.departments[s.key] for s in SHANGHAI for code in s.types}
    issued: list[dict[str, str]] = []
    for applicant, name in ENTERPRISES:
        requests = seven_requests(applicant, name, samples.today)
        issued.append({code: issuer_of[code].issue(request).license_id for code, request in requests.items()})
    for department in shanghai.departments.values():
        department.anchor_pending()

    lead = shanghai.departments["sh-samr"]
    names = ("joint_valid", "joint_member_revoked", "joint_not_anchored")
    for case, (applicant, name), licenses in zip(names, ENTERPRISES, issued, strict=True):
        application = desk.open(lead_uscc=lead.issuer_uscc, applicant_uscc=applicant, applicant_name=name)
        desk.add(application.application_id, list(licenses.values()))
        for key, department in shanghai.departments.items():
            desk.cosign(application.application_id, department.issuer_uscc, shanghai.co_signing_keys[key])
        demo.applications[case] = application.application_id
        if case != "joint_not_anchored":
            desk.anchor(application.application_id, lead.account)  # type: ignore[arg-type]
            say(f"七证联办 {application.application_id} ({name}): 7 licenses, 5 co-signatures, one joint anchor")
    seal = issued[1]["SE"]
    shanghai.departments["sh-police"].revoke([seal], reason=3)
    say(f"seal-engraving permit {seal} of {ENTERPRISES[1][1]} revoked after the joint anchor")

    add(
        "joint_valid",
        BundleOutcome.VALID,
        desk.presentation(demo.applications["joint_valid"]),
        "七证联办: seven licenses of five departments, co-signed and anchored jointly",
        "bundle",
    )
    add(
        "joint_member_revoked",
        BundleOutcome.MEMBER_NOT_VALID,
        desk.presentation(demo.applications["joint_member_revoked"]),
        "the same kind of bundle; its seal-engraving permit revoked afterwards",
        "bundle",
    )
    add(
        "joint_not_anchored",
        BundleOutcome.NOT_ANCHORED,
        desk.presentation(demo.applications["joint_not_anchored"]),
        "co-signed by the five departments, never anchored jointly",
        "bundle",
    )
    _co_approval(
        client,
        store,
        admin=admin,
        authority=authorities[110000],
        housing=housing,
        samples=samples,
        demo=demo,
        add=add,
        say=say,
    )
    return demo


def _co_approval(
    client: RegistryClient,
    store: IssuerStore,
    *,
    admin: LocalAccount,
    authority: LocalAccount,
    housing: Department,
    samples: SampleFactory,
    demo: JointDemo,
    add: AddCase,
    say: Callable[[str], None],
) -> None:
    """联合审批 of construction permits in 北京市 (see the module's text)."""
    beijing = add_departments(client, store, admin=admin, authorities={110000: authority}, specs=BEIJING)
    planning, fire = beijing.departments["bj-planning"], beijing.departments["bj-fire"]
    # the housing department: a second signing key (the demo declares its first compromised) and a co-signing key
    now = latest_timestamp(client.w3)
    key: LocalAccount = Account.create()
    client.fund(admin, key.address, 10**19)
    client.add_key(authority, housing.issuer_id, key, valid_from=now)
    housing_co = CoSigningKey.generate()
    client.add_co_signing_key(
        authority, housing.issuer_id, housing_co.public_key, housing_co.proof_of_possession(), valid_from=now
    )
    d = client.deployment
    signer = LicenseSigner(key, chain_id=d.chain_id, license_registry=d.license_registry)
    housing = Department(issuer_uscc=housing.issuer_uscc, store=store, signer=signer, client=client, account=key)
    keys = {housing.issuer_uscc: housing_co}
    for spec_key, department in beijing.departments.items():
        keys[department.issuer_uscc] = beijing.co_signing_keys[spec_key]
    demo.departments[housing.issuer_uscc] = housing
    demo.departments.update({d.issuer_uscc: d for d in beijing.departments.values()})
    demo.co_signing_keys.update(keys)
    desk = demo.desk

    def joint(license_id: str, co_approvers: list[Department], case: str) -> str:
        row = housing.get(license_id)
        builder, builder_name = str(row.fields["builder_uscc"]), str(row.fields["builder"])
        application = desk.open(
            lead_uscc=housing.issuer_uscc,
            applicant_uscc=builder,
            applicant_name=builder_name,
            co_approvers=[c.issuer_uscc for c in co_approvers],
        )
        desk.add(application.application_id, [license_id])
        for department in (housing, *co_approvers):
            desk.cosign(application.application_id, department.issuer_uscc, keys[department.issuer_uscc])
        demo.applications[case] = application.application_id
        return application.application_id

    # co-signed by housing and planning while no policy was in force, anchored under the policy
    missing = housing.issue(samples.construction_permit())
    desk.anchor(joint(missing.license_id, [planning], "co_approval_missing_before_policy"), key)
    required = sorted(d.issuer_id for d in (housing, planning, fire))
    client.set_co_approval_policy(authority, 110000, get_type("CP").type_id, required)
    say(
        "北京市 co-approval policy for construction permits (CP): "
        + ", ".join(f"{d.issuer_uscc}" for d in (housing, planning, fire))
    )
    complete = housing.issue(samples.construction_permit())
    housing.anchor_pending()
    desk.anchor(joint(complete.license_id, [planning, fire], "co_approval_complete"), key)
    try:
        desk.anchor(joint(missing.license_id, [planning], "co_approval_missing"), key)
    except ContractRevertError as exc:
        if exc.error_name != "LicenseRegistryCoApprovalMissing":
            raise
        demo.refusal = exc
        missing_code = uscc_from_issuer_id(bytes(exc.arguments["issuer_id"]))
        say(
            f"expected: the contract refused a joint anchor of a construction permit without 北京市消防救援总队 "
            f"({missing_code}): {exc.error_name}"
        )
    else:
        raise ConfigurationError(
            "the contract anchored a construction permit without the fire department's co-signature"
        )
    add(
        "co_approval_complete",
        Outcome.VALID,
        housing.presentation(complete.license_id).to_text(),
        "construction permit co-signed by housing, planning and fire (联合审批)",
        "license",
    )
    add(
        "co_approval_missing",
        Outcome.CO_APPROVAL_MISSING,
        housing.presentation(missing.license_id).to_text(),
        "construction permit without the fire department's co-signature",
        "license",
    )
