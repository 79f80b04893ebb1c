"""Two regions, one chain: 北京市's and 上海市's verifier services (real ``elicense serve``
processes, each with its own home, mirror database and receipt key) follow one hardhat node. A
license issued in 北京市 is checked in 上海市's service, which signs the receipt; 上海市's relying
department subscribes to it there, and its webhook arrives when 北京市 revokes the license."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests
from _service_home import service_env

from api.security import ApiKeys
from api.subscription_secrets import WebhookKey
from devkit.nodes import HardhatNode
from devkit.samples import SampleFactory
from devkit.serving import ServedProcess, serve_command
from devkit.waiting import wait_until
from devkit.webhook_receiver import WebhookReceiver
from devkit.world import deploy_department
from registry import connect
from registry.issuer.store import IssuerStore
from verifier.receipt_check import check_receipt_against_chain
from verifier.receipt_keys import VerifierIdentity, VerifierPublicKey
from verifier.receipts import verify_receipt

pytestmark = pytest.mark.slow  # started first when the suite is spread over processes


ELICENSE = Path(sys.executable).parent / "elicense"
RELYING = "91310000MA1FL8LQ34"  # a 上海市 department that accepts 北京市's licenses
PASSWORD = "a receipt key password"


def _region_service(tmp_path: Path, name: str, service_id: str, node: HardhatNode, deployment: Path) -> ServedProcess:
    home = tmp_path / name
    home.mkdir(mode=0o700)
    (home / "deployment.json").write_bytes(deployment.read_bytes())
    VerifierIdentity.generate(service_id).save(home / "receipt.json", PASSWORD, scrypt_n=2**14)
    WebhookKey.generate().save(home / "keys" / "webhooks.json", PASSWORD, scrypt_n=2**14)
    env = service_env(
        home,
        node,
        webhook_key_password=PASSWORD,
        extra={"ELICENSE_RECEIPT_KEY": str(home / "receipt.json"), "ELICENSE_RECEIPT_KEY_PASSWORD": PASSWORD},
    )
    return serve_command(lambda port: [str(ELICENSE), "serve", "--port", str(port)], log_dir=home, env=env)


@pytest.mark.timeout(600)
def test_a_beijing_license_checked_receipted_and_watched_in_shanghai(tmp_path: Path, hardhat_node: HardhatNode):
    setup = deploy_department(connect(hardhat_node.url))  # 北京市市场监督管理局 in region 110000
    deployment = tmp_path / "deployment.json"
    setup.client.deployment.save(deployment)
    beijing_department = setup.department(IssuerStore.at(tmp_path / "beijing-issuer.db"))
    row = beijing_department.issue(SampleFactory(11).business_license())
    beijing_department.anchor_pending()
    text = beijing_department.presentation(row.license_id).to_text()

    beijing = _region_service(tmp_path, "beijing", "110000-beijing-verify", hardhat_node, deployment)
    shanghai = _region_service(tmp_path, "shanghai", "310000-shanghai-verify", hardhat_node, deployment)
    receiver = WebhookReceiver().start()
    try:
        # each service mirrors the chain into its own database
        assert (tmp_path / "beijing").resolve() != (tmp_path / "shanghai").resolve()

        # 上海市 checks 北京市's license and signs the receipt with its own key
        answer = requests.post(shanghai.url + "/v1/verify", json={"qr": text, "receipt": True}, timeout=30)
        assert answer.status_code == 200, answer.text
        data = answer.json()
        assert data["status"] == "valid"
        assert data["issuer"]["region"] == 110000
        shanghai_key = VerifierPublicKey.parse(requests.get(shanghai.url + "/v1/receipts/key", timeout=10).text)
        beijing_key = VerifierPublicKey.parse(requests.get(beijing.url + "/v1/receipts/key", timeout=10).text)
        assert isinstance(shanghai_key, VerifierPublicKey)
        assert isinstance(beijing_key, VerifierPublicKey)
        check = verify_receipt(data["receipt"], [shanghai_key])
        assert check.ok, check.detail
        assert check.receipt is not None
        assert check.receipt.verifier_id == "310000-shanghai-verify"
        assert check.receipt.subject == row.license_id
        assert verify_receipt(data["receipt"], [beijing_key]).code == "unknown_verifier"  # 北京市 did not sign it
        assert check_receipt_against_chain(check.receipt, setup.client).verdict == "right"

        # 上海市's relying department subscribes, in 上海市's service, to the license it accepted
        shanghai_store = IssuerStore.at(tmp_path / "shanghai" / "store.db")
        _, api_key = ApiKeys(shanghai_store.engine).create(RELYING, "relying on Beijing")
        shanghai_store.close()
        created = requests.post(
            shanghai.url + "/v1/subscriptions",
            json={"digest": "0x" + row.digest.hex(), "callback_url": receiver.url},
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        subscription = created.json()
        receiver.secrets[subscription["id"]] = subscription["secret"]

        # 北京市 revokes: 上海市's subscription fires, signed, and both services answer revoked
        beijing_department.revoke([row.license_id], reason=3)
        (delivery,) = receiver.wait_for(1, timeout=60)
        assert delivery.verified
        assert delivery.body is not None
        assert (delivery.body["event"], delivery.body["digest"]) == ("revoked", "0x" + row.digest.hex())
        for service in (beijing, shanghai):  # each follows the node on its own: 北京市's may sync later

            def revoked(url: str = service.url) -> bool:
                return requests.post(url + "/v1/verify", json={"qr": text}, timeout=30).json()["status"] == "revoked"

            wait_until(revoked, timeout=30, interval=0.2, what=f"{service.url} answering revoked")
        # the receipt filed before the revocation was right at its block, and stays so
        assert check_receipt_against_chain(check.receipt, setup.client).verdict == "right"
    finally:
        receiver.stop()
        shanghai.stop()
        beijing.stop()
