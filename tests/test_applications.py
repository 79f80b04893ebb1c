"""Applications (秒批) end to end on the in-process chain: prerequisites verified with the counter's
verifier, each rule accepted and refused, the license signed at once, every decision recorded with
its evidence and exported; then over HTTP, with unauthorised and hostile bodies."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from api.main import create_app
from api.services import Services
from api.settings import Settings
from devkit.devchain import bootstrap_issuer
from devkit.samples import SampleFactory, make_uscc
from devkit.world import deploy_department
from registry import RegistryClient, connect, dev_accounts
from registry.document.identifiers import FieldValueError
from registry.document.prerequisites import PREREQUISITES, RegionScope, prerequisites_of
from registry.document.presentation import present
from registry.issuer.applications import ApplicationBook, apply
from registry.issuer.department import Department, IssueRequest
from registry.issuer.prerequisites import MAX_PREREQUISITE_TEXTS, evaluate_application
from registry.issuer.store import IssuerStore
from signer import LicenseSigner
from verifier.mirror import Mirror
from verifier.pipeline import CHINA_TZ, Verifier
from verifier.state import ChainClientState

MARKET_BJ = "11110000MB0195560T"  # 北京市 market regulation (BL, FB)
MARKET_SH = "11310000000012345Y"  # 上海市 market regulation (BL)
TODAY = dt.datetime.now(CHINA_TZ).date()
RNG = random.Random(11)
COMPANY = make_uscc(RNG, region=110108)  # holds a BL in force
REVOKED_CO = make_uscc(RNG, region=110105)  # its BL was revoked
SHORT_CO = make_uscc(RNG, region=110102)  # its BL ends in ten days
EXPIRED_CO = make_uscc(RNG, region=110106)  # its BL ended yesterday
SHANGHAI_CO = make_uscc(RNG, region=310104)  # its BL was issued in 上海市
CONTRACTOR = make_uscc(RNG, region=320102)  # a contractor with a BL issued in 北京市
STRANGER = make_uscc(RNG, region=110101)  # holds nothing
HOUSING_BJ = make_uscc(RNG, region=110000, authority="1", category="1")  # 北京市 housing (CP)


def _bl(uscc: str, *, valid_to: dt.date | None = None) -> IssueRequest:
    sample = SampleFactory(3).business_license(valid_from=dt.date(2020, 1, 1), valid_to=valid_to)
    return dataclasses.replace(sample, fields={**sample.fields, "uscc": uscc})


def _fb(uscc: str, *, valid_from: dt.date = TODAY) -> IssueRequest:
    sample = SampleFactory(4).food_permit(valid_from=valid_from)
    return dataclasses.replace(sample, fields={**sample.fields, "uscc": uscc})


def _cp(builder: str, contractor: str) -> IssueRequest:
    sample = SampleFactory(5).construction_permit(valid_from=TODAY)
    return dataclasses.replace(sample, fields={**sample.fields, "builder_uscc": builder, "contractor_uscc": contractor})


@dataclass
class Registry:
    client: RegistryClient
    store: IssuerStore
    market: Department
    shanghai: Department
    housing: Department
    state: ChainClientState
    verifier: Verifier
    texts: dict[str, str]

    def sync(self) -> None:
        self.state.sync()


def _department(client: RegistryClient, store: IssuerStore, uscc: str, key: LocalAccount) -> Department:
    d = client.deployment
    signer = LicenseSigner(key, chain_id=d.chain_id, license_registry=d.license_registry)
    return Department(issuer_uscc=uscc, store=store, signer=signer, client=client, account=key)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    w3 = connect(None)
    setup = deploy_department(w3, license_types=("BL", "FB"), uscc=MARKET_BJ)
    accounts = dev_accounts(w3)
    sh_authority, sh_key, housing_key = accounts[5], accounts[6], accounts[7]
    client = setup.client
    bootstrap_issuer(
        client, admin=setup.admin, authority=sh_authority, key=sh_key, uscc=MARKET_SH,
        name="上海市市场监督管理局", region=310000, region_name="上海市", license_types=("BL",),
    )  # fmt: skip
    bootstrap_issuer(
        client, admin=setup.admin, authority=setup.authority, key=housing_key, uscc=HOUSING_BJ,
        name="北京市住房和城乡建设委员会", license_types=("CP",),
    )  # fmt: skip
    store = IssuerStore.at(tmp_path_factory.mktemp("applications") / "store.db")
    market = setup.department(store)
    shanghai = _department(client, store, MARKET_SH, sh_key)
    housing = _department(client, store, HOUSING_BJ, housing_key)
    rows = {
        "company": market.issue(_bl(COMPANY)),
        "revoked": market.issue(_bl(REVOKED_CO)),
        "short": market.issue(_bl(SHORT_CO, valid_to=TODAY + dt.timedelta(days=10))),
        "expired": market.issue(_bl(EXPIRED_CO, valid_to=TODAY - dt.timedelta(days=1))),
        "contractor": market.issue(_bl(CONTRACTOR)),
        "company_fb": market.issue(_fb(COMPANY, valid_from=TODAY - dt.timedelta(days=100))),
        "shanghai": shanghai.issue(_bl(SHANGHAI_CO)),
    }
    market.anchor_pending()
    shanghai.anchor_pending()
    market.revoke([rows["revoked"].license_id], reason=3)
    state = ChainClientState(client)
    state.sync()
    d = client.deployment
    verifier = Verifier(state, chain_id=d.chain_id, license_registry=d.license_registry)
    texts = {name: store_text(store, row.license_id) for name, row in rows.items()}
    texts["company_no_uscc"] = _presented(store, rows["company"].license_id, ["name", "legal_representative"])
    return Registry(client, store, market, shanghai, housing, state, verifier, texts)


def _presented(store: IssuerStore, license_id: str, disclose: list[str] | None) -> str:
    row = store.get(license_id)
    assert row is not None
    return present(Department.license_of(row), row.signature, disclose).to_text()


def store_text(store: IssuerStore, license_id: str) -> str:
    return _presented(store, license_id, None)


def _failed(decision) -> set[tuple[str, str]]:
    return {(r.prerequisite, r.rule) for r in decision.failed}


# -- the declarations ------------------------------------------------------------------------------


def test_the_declared_prerequisites():
    (fb,) = prerequisites_of("FB")
    assert fb.types == ("BL",)
    assert [(m.field, m.prerequisite_field) for m in fb.holder] == [("uscc", "uscc")]
    assert fb.region is RegionScope.PROVINCE
    builder, contractor = prerequisites_of("cp")
    assert [(m.field, m.prerequisite_field) for m in builder.holder] == [("builder_uscc", "uscc")]
    assert [(m.field, m.prerequisite_field) for m in contractor.holder] == [("contractor_uscc", "uscc")]
    assert prerequisites_of("BL") == ()
    assert set(PREREQUISITES) == {"FB", "CP"}
    assert RegionScope.PROVINCE.contains(110108, 110000)
    assert not RegionScope.PROVINCE.contains(310104, 110000)
    assert RegionScope.DIVISION.contains(110000, 110000)
    assert not RegionScope.DIVISION.contains(110108, 110000)


# -- accepted: signed at once, recorded with its evidence ------------------------------------------


def test_accepted_food_permit_is_signed_at_once_and_recorded(registry: Registry):
    point = registry.state.freshness()
    decision = apply(registry.market, registry.verifier, _fb(COMPANY), [registry.texts["company"]])
    assert decision.accepted, [r.en for r in decision.failed]
    assert {r.rule for r in decision.rules} == {"permitted", "presented", "valid", "type", "holder", "window", "region"}
    assert decision.block_number == point.block_number
    assert decision.block_hash == point.block_hash
    assert decision.block_hash == bytes(registry.client.w3.eth.get_block(point.block_number)["hash"])
    row = registry.store.get(decision.license_id)
    assert row is not None
    assert row.digest == decision.digest
    assert row.type_code == "FB"
    assert row.fields["uscc"] == COMPANY
    (evidence,) = decision.presented
    bl = registry.store.get(registry.verifier.verify(registry.texts["company"]).license_id)
    assert evidence.digest == bl.digest
    assert evidence.status == "valid"
    assert evidence.issuer_uscc == MARKET_BJ
    assert evidence.license_id == bl.license_id
    assert evidence.filled == ("business_license",)
    assert evidence.anchor_block is not None
    assert evidence.checked_block == point.block_number
    (recorded,) = [
        r for r in ApplicationBook(registry.store).list_decisions() if r["decision_id"] == decision.decision_id
    ]
    assert recorded["outcome"] == "accepted"
    assert recorded["license_id"] == decision.license_id
    assert recorded["chain"] == {
        "block_number": point.block_number,
        "block_hash": "0x" + point.block_hash.hex(),
        "block_time": point.block_time,
    }
    assert recorded["presented"][0]["digest"] == "0x" + bl.digest.hex()
    assert "text" not in recorded["presented"][0]
    assert all(r["passed"] for r in recorded["rules"])
    assert recorded["rules"][0]["reason"]["zh"]
    assert decision.decision_id in ApplicationBook(registry.store).citing(bl.digest)


def test_the_license_issued_on_an_application_verifies_once_anchored(registry: Registry):
    decision = apply(registry.market, registry.verifier, _fb(COMPANY), [registry.texts["company"]])
    registry.market.anchor_pending()
    registry.sync()
    assert registry.verifier.verify(store_text(registry.store, decision.license_id)).status == "valid"


def test_construction_permit_needs_both_business_licenses(registry: Registry):
    texts = [registry.texts["contractor"], registry.texts["company"]]  # any order
    decision = apply(registry.housing, registry.verifier, _cp(COMPANY, CONTRACTOR), texts)
    assert decision.accepted, [r.en for r in decision.failed]
    filled = {p.index: p.filled for p in decision.presented}
    assert filled == {0: ("contractor_business_license",), 1: ("builder_business_license",)}
    own = apply(registry.housing, registry.verifier, _cp(COMPANY, COMPANY), [registry.texts["company"]])
    assert own.accepted  # builder and contractor the same company: one license fills both
    one = apply(registry.housing, registry.verifier, _cp(COMPANY, CONTRACTOR), [registry.texts["company"]])
    assert _failed(one) == {("contractor_business_license", "holder")}
    revoked = apply(
        registry.housing,
        registry.verifier,
        _cp(COMPANY, REVOKED_CO),
        [registry.texts["company"], registry.texts["revoked"]],
    )
    assert _failed(revoked) == {("contractor_business_license", "valid")}


# -- refused, one rule at a time -------------------------------------------------------------------


def test_refused_when_the_prerequisite_is_missing(registry: Registry):
    decision = apply(registry.market, registry.verifier, _fb(STRANGER), [])
    assert not decision.accepted
    assert decision.license_id is None
    permitted, rule = decision.rules
    assert (permitted.rule, permitted.passed) == ("permitted", True)
    assert (rule.rule, rule.passed, rule.presented) == ("presented", False, None)
    assert "营业执照" in rule.zh
    assert "business license" in rule.en


def test_refused_when_the_prerequisite_is_revoked(registry: Registry):
    decision = apply(registry.market, registry.verifier, _fb(REVOKED_CO), [registry.texts["revoked"]])
    assert _failed(decision) == {("business_license", "valid")}
    (rule,) = decision.failed
    assert "revoked" in rule.en
    assert "吊销" in rule.zh
    assert decision.presented[0].status == "revoked"


def test_refused_when_the_prerequisite_ends_before_the_new_license_starts(registry: Registry):
    later = _fb(SHORT_CO, valid_from=TODAY + dt.timedelta(days=30))
    decision = apply(registry.market, registry.verifier, later, [registry.texts["short"]])
    assert _failed(decision) == {("business_license", "window")}
    assert apply(registry.market, registry.verifier, _fb(SHORT_CO), [registry.texts["short"]]).accepted
    expired = apply(registry.market, registry.verifier, _fb(EXPIRED_CO), [registry.texts["expired"]])
    assert _failed(expired) == {("business_license", "valid"), ("business_license", "window")}


def test_refused_for_another_holder(registry: Registry):
    decision = apply(registry.market, registry.verifier, _fb(STRANGER), [registry.texts["company"]])
    assert _failed(decision) == {("business_license", "holder")}
    hidden = apply(registry.market, registry.verifier, _fb(COMPANY), [registry.texts["company_no_uscc"]])
    assert _failed(hidden) == {("business_license", "holder")}
    assert "does not disclose uscc" in hidden.failed[0].en


def test_refused_for_the_wrong_type(registry: Registry):
    decision = apply(registry.market, registry.verifier, _fb(COMPANY), [registry.texts["company_fb"]])
    assert _failed(decision) == {("business_license", "type")}
    assert "expected BL" in decision.failed[0].en


def test_refused_for_the_wrong_region(registry: Registry):
    decision = apply(registry.market, registry.verifier, _fb(SHANGHAI_CO), [registry.texts["shanghai"]])
    assert _failed(decision) == {("business_license", "region")}
    assert "310000" in decision.failed[0].en
    # the construction permit's prerequisites may come from anywhere
    assert apply(registry.housing, registry.verifier, _cp(SHANGHAI_CO, COMPANY), [
        registry.texts["shanghai"], registry.texts["company"]
    ]).accepted  # fmt: skip


@pytest.mark.parametrize(
    "text",
    ["LC1:NOT-A-LICENSE", "", "LC1:" + "A" * 5000, "x" * 10_000, None, 17, b"LC1:", {"qr": "LC1:"}],
)
def test_refused_for_a_malformed_qr_text(registry: Registry, text):
    decision = apply(registry.market, registry.verifier, _fb(COMPANY), [text])
    assert _failed(decision) == {("business_license", "readable")}
    assert decision.presented[0].status == "malformed"


def test_every_presented_text_must_fill_a_prerequisite(registry: Registry):
    extra = apply(registry.market, registry.verifier, _fb(COMPANY), [registry.texts["company"], "LC1:NOT-A-LICENSE"])
    assert _failed(extra) == {("-", "unused")}
    assert extra.failed[0].presented == 1
    no_prerequisites = apply(registry.market, registry.verifier, _bl(STRANGER), [registry.texts["company"]])
    assert _failed(no_prerequisites) == {("-", "unused")}
    assert apply(registry.market, registry.verifier, _bl(STRANGER), []).accepted


def test_a_tampered_prerequisite_is_judged_on_validity_alone(registry: Registry):
    text = registry.texts["company"]
    flipped = text[:-6] + ("A" if text[-6] != "A" else "B") + text[-5:]
    decision = apply(registry.market, registry.verifier, _fb(COMPANY), [flipped])
    assert decision.failed
    assert decision.failed[0].rule in ("valid", "readable")
    assert {r.rule for r in decision.rules} <= {"permitted", "presented", "valid", "readable"}


def test_a_request_that_is_not_one_raises_and_records_nothing(registry: Registry):
    book = ApplicationBook(registry.store)
    before = len(book.list_decisions(limit=1000))
    bad_field = dataclasses.replace(_fb(COMPANY), fields={**_fb(COMPANY).fields, "uscc": "not a code"})
    for request, texts in [
        (bad_field, []),
        (dataclasses.replace(_fb(COMPANY), license_type="ZZ"), []),
        (dataclasses.replace(_fb(COMPANY), valid_to=TODAY - dt.timedelta(days=1)), []),
        (_fb(COMPANY), ["LC1:"] * (MAX_PREREQUISITE_TEXTS + 1)),
    ]:
        with pytest.raises(FieldValueError):
            apply(registry.market, registry.verifier, request, texts)
    assert len(book.list_decisions(limit=1000)) == before


def test_evaluation_alone_writes_nothing(registry: Registry):
    before = registry.store.count()
    decision = evaluate_application(registry.verifier, _fb(COMPANY), [registry.texts["company"]], issuer_uscc=MARKET_BJ)
    assert decision.accepted
    assert decision.license_id is None
    assert registry.store.count() == before


def test_a_department_the_chain_does_not_know_fails_the_region_rule(registry: Registry, tmp_path: Path):
    unknown = make_uscc(RNG, region=110000, authority="1", category="1")
    decision = evaluate_application(registry.verifier, _fb(COMPANY), [registry.texts["company"]], issuer_uscc=unknown)
    assert _failed(decision) == {("business_license", "region")}
    assert "not registered" in decision.failed[0].en


def test_decisions_are_exported_with_their_evidence(registry: Registry):
    refused = apply(registry.market, registry.verifier, _fb(REVOKED_CO), [registry.texts["revoked"]])
    records = list(ApplicationBook(registry.store).export_records(issuer_uscc=MARKET_BJ))
    by_id = {r["decision_id"]: r for r in records}
    record = by_id[refused.decision_id]
    assert record["outcome"] == "refused"
    assert record["license_id"] is None
    assert record["presented"][0]["text"] == registry.texts["revoked"]
    assert record["presented"][0]["status"] == "revoked"
    assert record["request"]["fields"]["uscc"] == REVOKED_CO
    assert [r["rule"] for r in record["rules"] if not r["passed"]] == ["valid"]
    assert all(r["issuer_uscc"] == MARKET_BJ for r in records)
    json.dumps(records, ensure_ascii=False)  # JSON lines as they are
    assert [r["decision_id"] for r in records] == [
        r["decision_id"] for r in ApplicationBook(registry.store).list_decisions(issuer_uscc=MARKET_BJ, limit=1000)
    ]


# -- over HTTP -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def http(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("applications-http")
    deployment = registry.client.deployment
    services = Services(
        Settings(home=home),
        deployment=deployment,
        client=registry.client,
        mirror=Mirror.at(home / "mirror.db", deployment, confirmations=1),
        store=registry.store,
        departments={MARKET_BJ: registry.market, HOUSING_BJ: registry.housing},
    )
    with TestClient(create_app(services)) as client:
        client.services = services  # type: ignore[attr-defined]
        yield client


def _auth(http: TestClient, uscc: str) -> dict[str, str]:
    _, key = http.services.api_keys.create(uscc, "test")  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {key}"}


def _body(request: IssueRequest, texts: list[str]) -> dict[str, object]:
    return {**request.to_dict(), "prerequisites": texts}


def test_http_accepts_with_the_signed_license(http: TestClient, registry: Registry):
    auth = _auth(http, MARKET_BJ)
    url = f"/v1/issuers/{MARKET_BJ}/applications"
    response = http.post(url, json=_body(_fb(COMPANY), [registry.texts["company"]]), headers=auth)
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["outcome"] == "accepted"
    assert data["license_id"].startswith("FB" + MARKET_BJ)
    row = registry.store.get(data["license_id"])
    assert row is not None
    assert data["digest"] == "0x" + row.digest.hex()
    assert registry.verifier.verify(data["qr_text"]).digest == row.digest  # the QR of that very license
    block = registry.client.w3.eth.get_block(data["chain"]["block_number"])  # the mirror's block, by its hash
    assert data["chain"]["block_hash"] == "0x" + bytes(block["hash"]).hex()
    listed = http.get(url, headers=auth, params={"limit": 1000}).json()
    assert data["decision_id"] in [d["decision_id"] for d in listed["decisions"]]
    assert listed["count"] == len(listed["decisions"])


def test_http_refuses_with_every_rule(http: TestClient, registry: Registry):
    auth = _auth(http, MARKET_BJ)
    url = f"/v1/issuers/{MARKET_BJ}/applications"
    response = http.post(url, json=_body(_fb(REVOKED_CO), [registry.texts["revoked"]]), headers=auth)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    data = response.json()
    assert data["title"] == "Application refused"
    assert data["outcome"] == "refused"
    failed = [r for r in data["rules"] if not r["passed"]]
    assert [r["rule"] for r in failed] == ["valid"]
    assert failed[0]["reason"]["zh"]
    assert failed[0]["reason"]["en"]
    assert data["presented"][0]["status"] == "revoked"
    listed = http.get(url, headers=auth, params={"limit": 1000}).json()["decisions"]
    assert data["decision_id"] in [d["decision_id"] for d in listed]
    cp = _body(_cp(COMPANY, CONTRACTOR), [registry.texts["company"], registry.texts["contractor"]])
    housing = http.post(f"/v1/issuers/{HOUSING_BJ}/applications", json=cp, headers=_auth(http, HOUSING_BJ))
    assert housing.status_code == 201, housing.text


def test_http_refuses_a_type_the_department_is_not_permitted_on_chain(http: TestClient, registry: Registry):
    """The market bureau is permitted BL and FB on chain, not CP: every prerequisite passes, yet the
    application is refused on ``permitted`` with the blocks read, and nothing is signed."""
    auth = _auth(http, MARKET_BJ)
    before = registry.store.count()
    cp = _body(_cp(COMPANY, CONTRACTOR), [registry.texts["company"], registry.texts["contractor"]])
    response = http.post(f"/v1/issuers/{MARKET_BJ}/applications", json=cp, headers=auth)
    assert response.status_code == 422, response.text
    data = response.json()
    failed = [r for r in data["rules"] if not r["passed"]]
    assert [(r["prerequisite"], r["rule"]) for r in failed] == [("-", "permitted")]
    assert failed[0]["evidence"]["code"] == "never_permitted"
    assert failed[0]["evidence"]["confirmed"]["block_number"] == data["chain"]["block_number"]
    assert "建筑工程施工许可证" in failed[0]["reason"]["zh"]
    assert "construction permit" in failed[0]["reason"]["en"].lower()
    assert [r["rule"] for r in data["rules"] if r["prerequisite"] != "-" and r["passed"]]  # the prerequisites passed
    assert registry.store.count() == before


def test_http_unauthorised(http: TestClient, registry: Registry):
    url = f"/v1/issuers/{MARKET_BJ}/applications"
    body = _body(_fb(COMPANY), [registry.texts["company"]])
    assert http.post(url, json=body).status_code == 401
    assert http.post(url, json=body, headers={"Authorization": "Bearer elk_nope"}).status_code == 401
    other = _auth(http, HOUSING_BJ)
    assert http.post(url, json=body, headers=other).status_code == 403
    assert http.get(url, headers=other).status_code == 403
    assert http.get(url).status_code == 401
    assert (
        http.post(f"/v1/issuers/{MARKET_SH}/applications", json=body, headers=_auth(http, MARKET_SH)).status_code == 404
    )


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"prerequisites": ["LC1:"] * (MAX_PREREQUISITE_TEXTS + 1)}, 422),
        ({"prerequisites": ["LC1:" + "A" * 5000]}, 422),
        ({"prerequisites": [""]}, 422),
        ({"prerequisites": [5]}, 422),
        ({"prerequisites": "LC1:ABC"}, 422),
        ({"type": "ZZ"}, 422),
        ({"valid_from": "yesterday"}, 422),
        ({"fields": {"uscc": "123"}}, 422),
        ({"fields": {f"k{i}": "v" for i in range(40)}}, 422),
        ({"unexpected": 1}, 422),
        ({"prerequisites": ["LC1:" + "😀" * 1000]}, 422),
    ],
)
def test_http_hostile_bodies(http: TestClient, registry: Registry, change, status):
    auth = _auth(http, MARKET_BJ)
    url = f"/v1/issuers/{MARKET_BJ}/applications"
    before = len(ApplicationBook(registry.store).list_decisions(limit=1000))
    body = {**_body(_fb(COMPANY), [registry.texts["company"]]), **change}
    response = http.post(url, json=body, headers=auth)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if response.json().get("title") != "Application refused":
        assert len(ApplicationBook(registry.store).list_decisions(limit=1000)) == before


def test_http_hostile_queries_and_bodies(http: TestClient):
    auth = _auth(http, MARKET_BJ)
    url = f"/v1/issuers/{MARKET_BJ}/applications"
    assert http.get(url, headers=auth, params={"limit": 0}).status_code == 422
    assert http.get(url, headers=auth, params={"limit": 100_000}).status_code == 422
    assert http.get(url, headers=auth, params={"offset": -1}).status_code == 422
    assert http.post(url, content=b"{not json", headers={**auth, "Content-Type": "application/json"}).status_code == 422
    huge = http.post(
        url, content=b"[" + b"0," * 5_000_000 + b"0]", headers={**auth, "Content-Type": "application/json"}
    )
    assert huge.status_code == 413
    assert http.get("/v1/issuers/not-a-code/applications", headers=auth).status_code == 422


def test_http_405_lists_every_method_of_the_path(http: TestClient):
    response = http.put(f"/v1/issuers/{MARKET_BJ}/applications", json={})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert http.delete("/v1/verify").headers["allow"] == "POST"


def test_http_an_accepted_application_retried_with_its_key_is_signed_once(http: TestClient, registry: Registry):
    auth = {**_auth(http, MARKET_BJ), "Idempotency-Key": "application-1"}
    url = f"/v1/issuers/{MARKET_BJ}/applications"
    body = _body(_fb(COMPANY), [registry.texts["company"]])
    first = http.post(url, json=body, headers=auth)
    again = http.post(url, json=body, headers=auth)
    assert first.status_code == again.status_code == 201
    assert again.json()["license_id"] == first.json()["license_id"]
    assert again.headers["Idempotent-Replayed"] == "true"
