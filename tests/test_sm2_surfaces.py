"""The SM2 suite on the demo, the HTTP service and the counter page, on the in-process chain with the
demo's data: the demo's SM2 department (北京市海淀区市场监督管理局) gives its cases, its business
license fits a QR code of version 15 at level M (and the table says so), results say their suite and
the SM2 key's certificate subject, the service issues with the SM2 department through its API, and
the counter page (real Chromium) shows 国密 SM2 and the subject."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from eth_account import Account
from fastapi.testclient import TestClient
from playwright.sync_api import Page, sync_playwright
from stdnum.cn.uscc import calc_check_digit as uscc_check

from api.cli.licenses import _echo_license
from api.main import create_app
from api.models import VerificationResponse
from api.services import Services
from api.settings import Settings
from devkit.certificates import self_signed_certificate
from devkit.demo import DemoRun, run_demo
from devkit.samples import SampleFactory
from devkit.serving import listening_socket
from devkit.sm2_demo import SM2_DEPARTMENT_NAME, SM2_DEPARTMENT_USCC
from devkit.waiting import wait_until
from registry import SignatureSuite, connect, dev_accounts
from registry.chain.sm2 import Sm2KeyRegistration
from registry.document.identifiers import issuer_id_from_uscc
from registry.document.licensetypes import get_type
from registry.document.presentation import decode_presentation
from registry.document.qr import qr_info, render_png
from registry.issuer.department import Department
from signer import Sm2LicenseSigner, Sm2SigningKey, parse_sm2_certificate, sign_sm2_key_acceptance
from verifier.mirror import Mirror
from verifier.pipeline import Outcome, Verifier
from verifier.qr import read_qr_image
from verifier.state import ChainClientState

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
SUBJECT = f"CN=电子证照签名密钥,O={SM2_DEPARTMENT_NAME},C=CN"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoRun, Path, list[str]]:
    home = tmp_path_factory.mktemp("sm2-demo")
    lines: list[str] = []
    return run_demo(home, connect(None), rpc_url=None, licenses=20, echo=lines.append), home, lines


@pytest.fixture(scope="module")
def api(demo: tuple[DemoRun, Path, list[str]]) -> Iterator[TestClient]:
    run, home, _ = demo
    deployment = run.client.deployment
    services = Services(
        Settings(home=home),
        deployment=deployment,
        client=run.client,
        mirror=Mirror.at(home / "mirror.db", deployment, confirmations=1),
        store=run.store,
        departments=run.departments,
    )
    with TestClient(create_app(services)) as client:
        client.services = services  # type: ignore[attr-defined]
        yield client


def _cases(home: Path) -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads((home / "demo" / "presentations.json").read_text())
    return data


def test_the_demo_has_its_sm2_cases_and_the_business_license_fits_version_15(demo):
    run, home, lines = demo
    got = {c.name: (c.expected, c.got) for c in run.cases if c.name.startswith("sm2_")}
    assert got == {
        "sm2_valid": ("valid", "valid"),
        "sm2_tampered": ("tampered", "tampered"),
        "sm2_wrong_suite": ("tampered", "tampered"),
    }
    valid = next(c for c in run.cases if c.name == "sm2_valid")
    assert decode_presentation(valid.text).suite is SignatureSuite.SM2
    version = qr_info(valid.text).version
    assert version <= 15
    assert valid.qr_version == version
    print(f"SM2 business license QR: {len(valid.text)} characters, version {version} at level M")
    assert f"SM2 business license: {len(valid.text)} characters, QR version {version} at level M (at most 15)" in lines
    assert any(f"sm2_valid{' ' * 16}valid" in line and line.endswith("[ok]") for line in lines)
    assert read_qr_image((home / "demo" / "sm2_valid.png").read_bytes()) == valid.text
    # the wrong-suite case is a secp256k1 presentation by the SM2 department's account
    wrong = decode_presentation(_cases(home)["sm2_wrong_suite"]["text"])
    assert wrong.suite is SignatureSuite.SECP256K1
    department = run.departments[SM2_DEPARTMENT_USCC]
    assert department.suite is SignatureSuite.SM2
    # the certificate on chain certifies the bound key
    bound = [e for e in run.client.get_events(run.client.deployment.block_number) if type(e).__name__ == "Sm2KeyBound"]
    (binding,) = bound
    assert binding.key == department.address  # type: ignore[attr-defined]
    assert parse_sm2_certificate(binding.certificate).public_key == binding.public_key  # type: ignore[attr-defined]


def test_the_service_says_the_suite_and_the_certificate_subject(api, demo):
    _, home, _ = demo
    cases = _cases(home)
    sm2 = api.post("/v1/verify", json={"qr": cases["sm2_valid"]["text"]}).json()
    VerificationResponse.model_validate(sm2)
    assert (sm2["status"], sm2["suite"], sm2["certificate_subject"]) == ("valid", "sm2", SUBJECT)
    assert sm2["issuer"]["name"] == SM2_DEPARTMENT_NAME
    plain = api.post("/v1/verify", json={"qr": cases["valid"]["text"]}).json()
    assert (plain["suite"], plain["certificate_subject"]) == ("secp256k1", None)
    wrong = api.post("/v1/verify", json={"qr": cases["sm2_wrong_suite"]["text"]}).json()
    assert (wrong["status"], wrong["certificate_subject"]) == ("tampered", None)
    tampered = api.post("/v1/verify", json={"qr": cases["sm2_tampered"]["text"]}).json()
    assert (tampered["status"], tampered["certificate_subject"]) == ("tampered", None)
    batch = api.post("/v1/verify/batch", json={"qrs": [cases["sm2_valid"]["text"], cases["valid"]["text"]]}).json()
    assert [r["suite"] for r in batch["results"]] == ["sm2", "secp256k1"]
    schema = api.get("/openapi.json").json()["components"]["schemas"]["VerificationResponse"]["properties"]
    assert {"suite", "certificate_subject"} <= set(schema)
    assert "国密" in schema["suite"]["description"]


def test_the_service_issues_with_the_sm2_department(api):
    services: Services = api.services
    _, key = services.api_keys.create(SM2_DEPARTMENT_USCC, "sm2 test")
    auth = {"Authorization": f"Bearer {key}"}
    base = f"/v1/issuers/{SM2_DEPARTMENT_USCC}"
    issued = api.post(f"{base}/licenses", json=SampleFactory(91).business_license().to_dict(), headers=auth)
    assert issued.status_code == 201, issued.text
    license_id = issued.json()["license_id"]
    assert api.post(f"{base}/anchor", headers=auth).json()["anchored"] >= 1
    text = api.get(f"{base}/licenses/{license_id}/qr", params={"format": "text"}, headers=auth).text
    assert decode_presentation(text).suite is SignatureSuite.SM2
    data = api.post("/v1/verify", json={"qr": text}).json()
    assert (data["status"], data["suite"], data["certificate_subject"]) == ("valid", "sm2", SUBJECT)


@contextmanager
def _counter_page(run: DemoRun, tmp_path: Path) -> Iterator[Page]:
    """The counter page of a service over the demo's chain, in headless Chromium (a phone's viewport)."""
    deployment = run.client.deployment
    services = Services(
        Settings(home=tmp_path),
        deployment=deployment,
        client=run.client,
        mirror=Mirror.at(tmp_path / "mirror.db", deployment, confirmations=1),
        store=run.store,
        departments=run.departments,
    )
    sock = listening_socket()
    server = uvicorn.Server(uvicorn.Config(create_app(services), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    manager = None
    try:
        wait_until(lambda: server.started or not thread.is_alive(), timeout=30, what="uvicorn starting")
        manager = sync_playwright().start()
        browser = manager.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(f"http://127.0.0.1:{sock.getsockname()[1]}/")
        yield page
        browser.close()
    finally:
        if manager is not None:
            manager.stop()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@needs_chromium
def test_the_counter_page_shows_the_sm2_suite_and_the_subject(demo, tmp_path):
    run, home, _ = demo
    with _counter_page(run, tmp_path) as page:
        page.set_input_files("#file", str(home / "demo" / "sm2_valid.png"))
        page.wait_for_selector("#verdict[data-status=valid]", timeout=15000)
        details = page.locator("#details").inner_text()
        assert "签名算法" in details
        assert "国密 SM2（SM3）" in details
        assert "签名证书" in details
        assert SUBJECT in details
        assert page.get_attribute("#details dd[data-suite]", "data-suite") == "sm2"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "counter-sm2-valid.png"), full_page=True)
        page.click("#lang")
        assert "SM2 with SM3 (国密)" in page.locator("#details").inner_text()
        page.set_input_files("#file", str(home / "demo" / "valid.png"))
        page.wait_for_selector("#details dd[data-suite=secp256k1]", timeout=15000)
        details = page.locator("#details").inner_text()
        assert "secp256k1 (EIP-712)" in details
        assert "Certificate" not in details
        page.set_input_files("#file", str(home / "demo" / "sm2_wrong_suite.png"))
        page.wait_for_selector("#verdict[data-status=tampered]", timeout=15000)
        assert SUBJECT not in page.locator("#details").inner_text()


@needs_chromium
def test_a_rogue_certificate_subject_cannot_draw_on_the_clerks_terminal(demo, capsys, tmp_path):
    """Any department may register any certificate with its SM2 key: a subject with escape sequences,
    line breaks and a direction override comes out of the verifier escaped (RFC 4514 hex pairs), and
    so the command line and the counter page show it."""
    run, _, _ = demo
    client = run.client
    w3 = client.w3
    admin, authority = dev_accounts(w3)[:2]
    code = "11110105MB0927461"
    rogue_uscc = code + uscc_check(code)
    issuer_id = issuer_id_from_uscc(rogue_uscc)
    account = Account.create()
    client.fund(admin, account.address, 10**18)
    client.register_issuer(authority, issuer_id, 110000, "某区某局")
    key = Sm2SigningKey.generate()
    evil = "\x1b[2J\x1b[32mVALID\u202e"
    certificate = self_signed_certificate(key, evil, "org\r\nVALID  有效", today=dt.date.today())
    d = client.deployment
    proof = sign_sm2_key_acceptance(
        key, issuer_id=issuer_id, account=account.address, chain_id=d.chain_id, trust_registry=d.trust_registry
    )
    registration = Sm2KeyRegistration(public_key=key.public_key, proof=proof, certificate=certificate)
    now = int(w3.eth.get_block("latest")["timestamp"])
    client.add_sm2_key(authority, issuer_id, account, registration, valid_from=now)
    client.permit_license_type(authority, issuer_id, get_type("BL").type_id, valid_from=now)
    signer = Sm2LicenseSigner(key, chain_id=d.chain_id, license_registry=d.license_registry)
    department = Department(
        issuer_uscc=rogue_uscc, store=run.store, signer=signer, client=client, account=account, suite=SignatureSuite.SM2
    )
    row = department.issue(SampleFactory(3).business_license())
    department.anchor_pending()
    state = ChainClientState(client)
    state.sync()
    result = Verifier(state, chain_id=d.chain_id, license_registry=d.license_registry).verify(
        department.presentation(row.license_id).to_text()
    )
    assert result.status is Outcome.VALID
    assert result.certificate_subject is not None
    assert "\x1b" not in result.certificate_subject  # escaped where the subject is read
    assert "\\1B[2J\\1B[32mVALID\\E2\\80\\AE" in result.certificate_subject
    _echo_license(result, "en")
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "\u202e" not in out
    assert "\r" not in out
    assert "\\1B[2J\\1B[32mVALID\\E2\\80\\AE" in out
    lines = out.splitlines()
    assert sum(line.startswith("VALID") for line in lines) == 1  # the headline, and no line drawn by the subject
    (signature,) = [line for line in lines if "signature" in line]
    assert "\\0D\\0AVALID  有效" in signature
    # and on the counter page
    image = tmp_path / "rogue.png"
    image.write_bytes(render_png(department.presentation(row.license_id).to_text()))
    with _counter_page(run, tmp_path) as page:
        page.set_input_files("#file", str(image))
        page.wait_for_selector("#verdict[data-status=valid]", timeout=15000)
        shown = page.locator("#details dd").all_inner_texts()
        (subject,) = [text for text in shown if "VALID" in text]
        assert "\x1b" not in subject
        assert "\u202e" not in subject
        assert "\\1B[2J\\1B[32mVALID\\E2\\80\\AE" in subject
