"""Receipts over HTTP: the real app on the demo's chain signs its answers on request; the receipts
verify offline with the key it publishes and agree with the chain at their block."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.models import VerificationResponse, VerifyBatchResponse
from api.services import Services
from api.settings import Settings
from devkit.demo import DemoRun, run_demo
from registry import connect
from verifier.mirror import Mirror
from verifier.receipt_check import check_receipt_against_chain
from verifier.receipts import VerifierIdentity, VerifierPublicKey, parse_receipt, verify_receipt

pytestmark = pytest.mark.slow  # started first when the suite is spread over processes


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[DemoRun, Path]:
    home = tmp_path_factory.mktemp("receipts-api")
    return run_demo(home, connect(None), rpc_url=None, licenses=40, echo=lambda _m: None), home


def _services(demo_run: DemoRun, home: Path, identity: VerifierIdentity | None, **settings: object) -> Services:
    deployment = demo_run.client.deployment
    mirror = Mirror.at(home / f"mirror-{len(list(home.glob('mirror-*')))}.db", deployment, confirmations=1)
    return Services(
        Settings(home=home, **settings),
        deployment=deployment,
        client=demo_run.client,
        mirror=mirror,
        store=demo_run.store,
        departments=demo_run.departments,
        receipt_identity=identity,
    )


@pytest.fixture(scope="module")
def api(demo):
    services = _services(*demo, VerifierIdentity.generate("310000-shanghai-verify"), max_batch=100)
    with TestClient(create_app(services)) as client:
        yield client


def _cases(demo) -> dict[str, dict[str, str]]:
    return json.loads((demo[1] / "demo" / "presentations.json").read_text())


def _trusted(api) -> VerifierPublicKey:
    response = api.get("/v1/receipts/key")
    assert response.status_code == 200, response.text
    key = VerifierPublicKey.parse(response.text)
    assert isinstance(key, VerifierPublicKey)
    return key


def test_every_answer_is_receipted_and_right_at_its_block(api, demo):
    trusted = _trusted(api)
    assert trusted.service_id == "310000-shanghai-verify"
    client = demo[0].client
    for name, case in _cases(demo).items():
        response = api.post("/v1/verify", json={"qr": case["text"], "receipt": True})
        assert response.status_code == 200, response.text
        data = response.json()
        check = verify_receipt(data["receipt"], [trusted])
        assert check.ok, (name, check.detail)
        receipt = check.receipt
        assert receipt is not None
        assert receipt.status == data["status"] == case["expected"], name
        assert receipt.block_number == data["chain"]["block_number"]
        assert receipt.block_hash == "0x" + bytes(client.w3.eth.get_block(receipt.block_number)["hash"]).hex()
        assert receipt.subject == data.get("license_id", data.get("application_id"))
        on_chain = check_receipt_against_chain(receipt, client)
        expected = "not_checkable" if case["expected"] in ("tampered", "malformed") else "right"  # any tampered case
        assert on_chain.verdict == expected, (name, on_chain.detail)
        if data["kind"] == "license":
            VerificationResponse.model_validate(data)


def test_a_changed_status_is_refused_offline(api, demo):
    data = api.post("/v1/verify", json={"qr": _cases(demo)["revoked"]["text"], "receipt": True}).json()
    data["receipt"]["receipt"]["status"] = "valid"
    assert verify_receipt(data["receipt"], [_trusted(api)]).code == "bad_signature"


def test_no_receipt_unless_asked(api, demo):
    data = api.post("/v1/verify", json={"qr": _cases(demo)["valid"]["text"]}).json()
    assert "receipt" not in data


def test_batch_with_receipts(api, demo):
    texts = [c["text"] for c in _cases(demo).values()][:8]
    response = api.post("/v1/verify/batch", json={"qrs": texts, "receipt": True})
    assert response.status_code == 200, response.text
    body = response.json()
    VerifyBatchResponse.model_validate(body)
    trusted = _trusted(api)
    assert [verify_receipt(r["receipt"], [trusted]).receipt.status for r in body["results"]] == [
        r["status"] for r in body["results"]
    ]


def test_a_request_for_a_receipt_field_of_the_wrong_type_is_refused(api, demo):
    response = api.post("/v1/verify", json={"qr": _cases(demo)["valid"]["text"], "receipt": 1})
    assert response.status_code == 422


def test_a_service_without_a_receipt_key_says_so(demo):
    services = _services(*demo, None)
    with TestClient(create_app(services)) as api:
        text = _cases(demo)["valid"]["text"]
        assert api.post("/v1/verify", json={"qr": text}).status_code == 200
        for response in (
            api.post("/v1/verify", json={"qr": text, "receipt": True}),
            api.post("/v1/verify/batch", json={"qrs": [text], "receipt": True}),
            api.get("/v1/receipts/key"),
        ):
            assert response.status_code == 503, response.text
            assert "receipt" in response.json()["detail"]


def test_the_service_reads_its_identity_from_an_encrypted_keystore(demo, monkeypatch):
    demo_run, home = demo
    identity = VerifierIdentity.generate("310000-shanghai-verify")
    identity.save(home / "keys" / "receipts.json", "receipt key password", scrypt_n=2**14)
    monkeypatch.setenv("RECEIPT_PW", "receipt key password")
    services = _services(demo_run, home, None, receipt_key="receipts", receipt_key_password_env="RECEIPT_PW")
    assert services.receipts.identity is not None
    assert services.receipts.identity.public == identity.public
    with TestClient(create_app(services)) as api:
        data = api.post("/v1/verify", json={"qr": _cases(demo)["valid"]["text"], "receipt": True}).json()
    receipt, _ = parse_receipt(data["receipt"])
    assert verify_receipt(data["receipt"], [identity.public]).ok
    assert receipt.verifier_key == identity.public.fingerprint


def test_a_sync_during_the_answer_makes_it_again(demo):
    """The chain moves (a revocation, synced) while an answer is made: the answer is made again, so
    the receipt's status is that of the block it names. (Last in this file: it revokes a license.)"""
    demo_run, home = demo
    identity = VerifierIdentity.generate("310000-shanghai-verify")
    services = _services(demo_run, home, identity)
    services.sync_once()
    text = _cases(demo)["valid_full_disclosure"]["text"]
    calls: list[dict[str, object]] = []

    def verify_while_the_chain_moves(qr: str) -> dict[str, object]:
        result = services.verify(qr)
        if not calls:
            uscc = result["issuer"]["uscc"]
            demo_run.departments[uscc].revoke([result["license_id"]], reason=2)
            services.sync_once()
        calls.append(result)
        return result

    answered = services.receipts.answer(verify_while_the_chain_moves, text)
    assert [c["status"] for c in calls] == ["valid", "revoked"]
    receipt, _ = parse_receipt(answered["receipt"])
    assert receipt.status == "revoked"
    assert receipt.block_number == calls[1]["chain"]["block_number"] > calls[0]["chain"]["block_number"]
    assert check_receipt_against_chain(receipt, demo_run.client).verdict == "right"
