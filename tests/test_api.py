"""The HTTP API against the real app (in-process chain with the demo's data, real mirror)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from stdnum.cn import uscc

from api import errors
from api.main import create_app
from api.services import Services
from api.settings import Settings
from devkit.demo import DemoRun, run_demo
from devkit.samples import SampleFactory
from registry import connect
from registry import errors as error_tree
from registry.document.qr import render_png
from registry.errors import ElicenseError
from registry.issuer.worker import AnchorWorker
from verifier.mirror import Mirror

BUREAU = "11110000MB0195560T"
HOUSING = "11110000000021135M"


def _fixed(code: str) -> str:
    return code[:17] + uscc.calc_check_digit(code[:17])


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[DemoRun, Path]:
    home = tmp_path_factory.mktemp("api")
    return run_demo(home, connect(None), rpc_url=None, licenses=40, echo=lambda _m: None), home


def make_services(demo_run: DemoRun, home: Path, **settings: object) -> Services:
    deployment = demo_run.client.deployment
    mirror = Mirror.at(home / f"mirror-{len(list(home.glob('mirror-*')))}.db", deployment, confirmations=1)
    return Services(
        Settings(home=home, **settings),
        deployment=deployment,
        client=demo_run.client,
        mirror=mirror,
        store=demo_run.store,
        departments=demo_run.departments,
    )


@pytest.fixture(scope="module")
def api(demo) -> TestClient:
    demo_run, home = demo
    services = make_services(demo_run, home, max_body_bytes=2_000_000, max_batch=100)
    with TestClient(create_app(services)) as client:
        client.services = services  # type: ignore[attr-defined]
        yield client


def cases(demo) -> dict[str, dict[str, str]]:
    return json.loads((demo[1] / "demo" / "presentations.json").read_text())


def test_verify_every_demo_case(api, demo):
    for name, case in cases(demo).items():
        response = api.post("/v1/verify", json={"qr": case["text"]})
        assert response.status_code == 200, response.text
        data = response.json()
        assert data["status"] == case["expected"], name
        assert data["reasons"]
        assert data["chain"]["block_number"] > 0


def test_valid_result_shape(api, demo):
    data = api.post("/v1/verify", json={"qr": cases(demo)["valid"]["text"]}).json()
    assert data["headline"] == {"zh": "有效", "en": "Valid"}
    assert data["issuer"]["name"] == "北京市市场监督管理局"
    assert data["issuer"]["region_name"] == "北京市"
    assert data["anchor"]["time_iso"]
    assert {f["key"] for f in data["disclosed"]} >= {"name", "uscc", "legal_representative"}
    assert data["hidden_fields"] == 1


def test_verify_image_and_its_limits(api, demo):
    text = cases(demo)["revoked"]["text"]
    response = api.post("/v1/verify/image", files={"image": ("qr.png", render_png(text), "image/png")})
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    bad = api.post("/v1/verify/image", files={"image": ("x.png", b"not an image", "image/png")})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert "not a readable image" in bad.json()["detail"]
    missing = api.post("/v1/verify/image")
    assert missing.status_code == 422


def test_batch_in_order_and_bounded(api, demo):
    all_cases = cases(demo)
    texts = [c["text"] for c in all_cases.values()]
    response = api.post("/v1/verify/batch", json={"qrs": texts})
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == len(texts)
    assert [r["status"] for r in data["results"]] == [c["expected"] for c in all_cases.values()]
    over = api.post("/v1/verify/batch", json={"qrs": ["LC1:"] * 101})
    assert over.status_code == 413
    assert "at most 100" in over.json()["detail"]
    long = api.post("/v1/verify/batch", json={"qrs": [texts[0], "LC1:" + "A" * 5000]})
    assert long.status_code == 200
    assert [r["status"] for r in long.json()["results"]] == [all_cases[next(iter(all_cases))]["expected"], "malformed"]
    empty = api.post("/v1/verify/batch", json={"qrs": []})
    assert empty.status_code == 422


def test_bad_requests_are_problem_details(api):
    response = api.post("/v1/verify", json={"qr": 5})
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == 422
    assert body["title"] == "Invalid request"
    assert "qr" in body["detail"]
    assert api.post("/v1/verify", json={"qr": "x", "extra": 1}).status_code == 422
    too_long = api.post("/v1/verify", json={"qr": "LC1:" + "A" * 4093})
    assert too_long.status_code == 422
    longest = api.post("/v1/verify", json={"qr": "LC1:" + "A" * 4092})
    assert longest.status_code == 200
    assert longest.json()["status"] == "malformed"
    huge = api.post("/v1/verify", content=b"{" + b" " * 2_100_000 + b"}", headers={"Content-Type": "application/json"})
    assert huge.status_code == 413
    assert huge.json()["title"] == "Request too large"
    assert api.get("/v1/nothing").json()["status"] == 404


def test_public_reads(api, demo):
    issuers = api.get("/v1/issuers").json()
    names = {i["name"] for i in issuers}
    assert {"北京市市场监督管理局", "北京市住房和城乡建设委员会", "上海市公安局"} <= names
    bureau = next(i for i in issuers if i["name"] == "北京市市场监督管理局")
    assert set(bureau["permitted_types"]) == {"BL", "FB"}
    revoked = api.post("/v1/verify", json={"qr": cases(demo)["revoked"]["text"]}).json()
    status = api.get(f"/v1/licenses/{revoked['digest']}/status").json()
    assert status["status"] == "revoked"
    assert status["issuer"]["name"] == "北京市市场监督管理局"
    assert api.get("/v1/licenses/0x" + "00" * 32 + "/status").status_code == 404
    assert api.get("/v1/licenses/0x1234/status").status_code == 422


def test_health_readiness_metrics_openapi(api):
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["ready"] is True
    api.post("/v1/verify", json={"qr": "LC1:"})
    metrics = api.get("/metrics").text
    assert 'elicense_verifications_total{status="malformed"}' in metrics
    assert "elicense_mirror_block" in metrics
    spec = api.get("/openapi.json").json()
    verify = spec["paths"]["/v1/verify"]["post"]
    assert verify["description"]
    assert "examples" in json.dumps(spec["components"]["schemas"]["VerifyRequest"])
    assert "/v1/issuers/{uscc}/licenses" in spec["paths"]
    issue = spec["paths"]["/v1/issuers/{uscc}/licenses"]["post"]
    assert {"201", "400", "401", "403", "404", "409", "413", "422", "500"} <= set(issue["responses"])
    assert all("application/problem+json" in issue["responses"][s]["content"] for s in ("401", "403", "422"))
    assert issue["security"] == [{"ApiKey": []}]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    wrong_method = api.put("/v1/verify", json={"qr": "LC1:"})
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "POST"
    assert wrong_method.headers["content-type"].startswith("application/problem+json")


def test_counter_page_and_vendor_script(api):
    page = api.get("/")
    assert page.status_code == 200
    assert "电子证照核验" in page.text
    assert api.get("/static/app.js").status_code == 200
    script = api.get("/static/vendor/jsQR.js")
    assert script.status_code == 200
    assert "jsQR" in script.text


def test_issuer_endpoints(api, demo):
    services: Services = api.services
    _, key = services.api_keys.create(_fixed(BUREAU), "test")
    _, other_key = services.api_keys.create(_fixed(HOUSING), "test")
    auth = {"Authorization": f"Bearer {key}"}
    request = SampleFactory(77).business_license()
    body = request.to_dict()
    base = f"/v1/issuers/{_fixed(BUREAU)}"
    missing = api.post(f"{base}/licenses", json=body)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert missing.json()["title"] == "Unauthorized"
    assert api.post(f"{base}/licenses", json=body, headers={"Authorization": "Bearer elk_nope"}).status_code == 401
    forbidden = api.post(f"{base}/licenses", json=body, headers={"Authorization": f"Bearer {other_key}"})
    assert forbidden.status_code == 403
    first = api.post(f"{base}/licenses", json=body, headers={**auth, "Idempotency-Key": "order-1"})
    assert first.status_code == 201, first.text
    again = api.post(f"{base}/licenses", json=body, headers={**auth, "Idempotency-Key": "order-1"})
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    reused = api.post(
        f"{base}/licenses", json={**body, "valid_to": "2099-01-01"}, headers={**auth, "Idempotency-Key": "order-1"}
    )
    assert reused.status_code == 422
    license_id = first.json()["license_id"]
    bad = {**body, "fields": {**body["fields"], "uscc": "91110000600037341X"}}
    invalid = api.post(f"{base}/licenses", json=bad, headers=auth)
    assert invalid.status_code == 422
    assert invalid.json()["field"].startswith("license #1 uscc")

    text = api.get(f"{base}/licenses/{license_id}/qr", params={"format": "text"}, headers=auth).text
    assert api.post("/v1/verify", json={"qr": text}).json()["status"] == "not_anchored"
    batch = api.post(f"{base}/licenses/batch", json={"licenses": [body, body]}, headers=auth)
    assert batch.status_code == 201
    assert batch.json()["count"] == 2
    anchored = api.post(f"{base}/anchor", headers=auth).json()
    assert anchored["anchored"] >= 3
    assert api.post("/v1/verify", json={"qr": text}).json()["status"] == "valid"
    png = api.get(f"{base}/licenses/{license_id}/qr", headers=auth)
    assert png.headers["content-type"] == "image/png"
    svg = api.get(f"{base}/licenses/{license_id}/qr", params={"format": "svg"}, headers=auth)
    assert svg.text.startswith("<svg")
    revoked = api.post(f"{base}/licenses/{license_id}/status", json={"action": "revoke", "reason": 4}, headers=auth)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    assert api.post("/v1/verify", json={"qr": text}).json()["status"] == "revoked"
    again_revoke = api.post(f"{base}/licenses/{license_id}/status", json={"action": "suspend"}, headers=auth)
    assert again_revoke.status_code == 409
    assert again_revoke.json()["error"] == "LicenseRegistryStatusFinal"


def test_stale_mirror_policy(demo):
    demo_run, home = demo
    # synced once at start; no follower pass within the test (interval 60 s): the age only grows
    # a limit of 1 s: a loaded machine may take tens of milliseconds between the sync and a request
    warn = make_services(demo_run, home, stale_after=1.0, sync_interval=60)
    with TestClient(create_app(warn)) as client:
        fresh = client.post("/v1/verify", json={"qr": cases(demo)["valid"]["text"]}).json()
        assert all(r["code"] != "stale_mirror" for r in fresh["reasons"])
        assert fresh["stale"] is False
        time.sleep(1.1)
        data = client.post("/v1/verify", json={"qr": cases(demo)["valid"]["text"]}).json()
        assert data["status"] == "valid"
        assert data["stale"] is True
        assert data["reasons"][-1]["code"] == "stale_mirror"
        batch = client.post("/v1/verify/batch", json={"qrs": [cases(demo)["valid"]["text"]]}).json()
        assert batch["results"][0]["stale"] is True
        assert data["chain"]["age_seconds"] >= 1.0
        assert client.get("/readyz").status_code == 503
    refuse = make_services(demo_run, home, stale_after=1.0, sync_interval=60, stale_policy="refuse")
    with TestClient(create_app(refuse)) as client:
        time.sleep(1.1)
        response = client.post("/v1/verify", json={"qr": cases(demo)["valid"]["text"]})
        assert response.status_code == 503
        assert response.json()["title"] == "Chain mirror is stale"
        assert response.headers["Retry-After"]


def test_the_service_anchors_issued_licenses_by_itself(demo):
    demo_run, home = demo
    accounts = [d.account for d in demo_run.departments.values() if d.account is not None]
    services = make_services(demo_run, home, anchor_interval=0.2, sync_interval=0.2)
    services.anchor_worker = AnchorWorker(demo_run.store, demo_run.client, accounts, max_age=0.2)
    _, key = services.api_keys.create(_fixed(BUREAU), "worker test")
    auth = {"Authorization": f"Bearer {key}"}
    request = SampleFactory(78).business_license()
    body = request.to_dict()
    base = f"/v1/issuers/{_fixed(BUREAU)}"
    with TestClient(create_app(services)) as client:
        issued = client.post(f"{base}/licenses", json=body, headers=auth).json()
        text = client.get(f"{base}/licenses/{issued['license_id']}/qr", params={"format": "text"}, headers=auth).text
        deadline = time.monotonic() + 20
        status = client.post("/v1/verify", json={"qr": text}).json()["status"]
        while status != "valid" and time.monotonic() < deadline:
            time.sleep(0.2)
            status = client.post("/v1/verify", json={"qr": text}).json()["status"]
        assert status == "valid"
        assert "elicense_anchor_pending" in client.get("/metrics").text


def test_finding2_status_by_digest_when_another_issuer_anchored_it_too(demo):
    """A rogue department anchors a revoked license's digest: the license stays revoked, and a read by
    digest alone asks whose license is meant instead of answering for either issuer."""
    demo_run, home = demo
    police = next(d for d in demo_run.departments.values() if d.issuer_uscc.startswith("1131"))  # Shanghai
    assert police.account is not None
    revoked = cases(demo)["revoked"]["text"]
    services = make_services(demo_run, home)
    with TestClient(create_app(services)) as api:
        digest = api.post("/v1/verify", json={"qr": revoked}).json()["digest"]
        demo_run.client.anchor(police.account, [bytes.fromhex(digest[2:])])
        services.sync_once()
        assert api.post("/v1/verify", json={"qr": revoked}).json()["status"] == "revoked"
        ambiguous = api.get(f"/v1/licenses/{digest}/status")
        assert ambiguous.status_code == 409
        assert "?issuer=" in ambiguous.json()["detail"]
        mine = api.get(f"/v1/licenses/{digest}/status", params={"issuer": BUREAU}).json()
        assert (mine["status"], mine["issuer"]["uscc"]) == ("revoked", BUREAU)
        theirs = api.get(f"/v1/licenses/{digest}/status", params={"issuer": police.issuer_uscc}).json()
        assert (theirs["status"], theirs["issuer"]["uscc"]) == ("active", police.issuer_uscc)
        spec = api.get("/openapi.json").json()["paths"]["/v1/licenses/{digest}/status"]["get"]["responses"]
        assert {"200", "404", "409"} <= set(spec)


def test_every_refusal_of_the_service_is_in_the_error_tree():
    """Each refusal of the service is a class of the one error tree, with its status and title,
    and is drawn in the tree's picture (registry.errors)."""
    refusals = [getattr(errors, n) for n in errors.__all__ if n.endswith("Error")]
    assert len(refusals) >= 15
    for cls in refusals:
        assert issubclass(cls, errors.ServiceError), cls
        assert issubclass(cls, ElicenseError), cls
        assert cls is errors.ServiceError or 400 <= cls.http_status <= 599, cls
        assert cls.title, cls
        assert cls.__name__ in (error_tree.__doc__ or ""), cls
