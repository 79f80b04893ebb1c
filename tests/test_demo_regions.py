"""`elicense serve` in demo mode (what scripts/start runs) serves two regions on the one in-process
chain: 北京市's service and 上海市's verifier service, in one process, each with its own mirror
database, issuer store (API keys, subscriptions) and receipt key. Over real HTTP: a 北京市 license
checked in 上海市 with a receipt 上海市 signed, a subscription in 上海市 that fires when 北京市 revokes
the license, and neither service's API keys opening the other."""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
import requests

from devkit.serving import ServedProcess, serve_command
from devkit.waiting import wait_until
from devkit.webhook_receiver import WebhookReceiver
from verifier.receipt_keys import VerifierPublicKey
from verifier.receipts import verify_receipt

pytestmark = pytest.mark.slow  # started first when the suite is spread over processes


ELICENSE = Path(sys.executable).parent / "elicense"
BEIJING_SAMR = "11110000MB0195560T"  # 北京市市场监督管理局, the demo's first department
SHANGHAI_POLICE = "11310000002420136M"  # 上海市公安局, 上海市's relying department in the demo


def _demo(tmp_path: Path) -> ServedProcess:
    env = {
        **os.environ,
        "ELICENSE_RPC_URL": "",
        "ELICENSE_SYNC_INTERVAL": "0.2",
        "ELICENSE_WEBHOOK_INTERVAL": "0.2",
        "ELICENSE_WEBHOOK_ALLOW_PRIVATE": "1",  # the receiver listens on loopback
    }
    for name in ("ELICENSE_RECEIPT_KEY", "ELICENSE_MIRROR_DB", "ELICENSE_DB"):
        env.pop(name, None)
    command = [str(ELICENSE), "--home", str(tmp_path), "serve", "--licenses", "40"]
    return serve_command(lambda port: [*command, "--port", str(port)], log_dir=tmp_path, env=env, seconds=240)


def _found(pattern: str, text: str) -> re.Match[str]:
    found = re.search(pattern, text)
    assert found is not None, f"{pattern!r} not in the output:\n{text}"
    return found


def _key(base: str) -> VerifierPublicKey:
    published = requests.get(base + "/v1/receipts/key", timeout=10)
    assert published.status_code == 200, published.text
    key = VerifierPublicKey.parse(published.text)
    assert isinstance(key, VerifierPublicKey)
    return key


def _mirror_rows(path: Path) -> int:
    """Rows in every table of the SQLite file at ``path``, read only."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return sum(db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables)


@pytest.mark.timeout(600)
def test_two_regions_one_embedded_chain_receipt_and_subscription_across_them(tmp_path: Path):
    served = _demo(tmp_path)
    receiver = WebhookReceiver().start()
    try:
        out = served.output()
        beijing = served.url
        shanghai = _found(r"上海市 \(310000\) verifier service on (http://127\.0\.0\.1:\d+) ", out).group(1)
        assert shanghai != beijing
        beijing_key = _found(rf"API key of {BEIJING_SAMR} \(shown once\): (elk_\S+)", out).group(1)
        shanghai_key = _found(
            rf"API key of {SHANGHAI_POLICE} \(上海市公安局, for subscriptions; shown once\): (elk_\S+)", out
        ).group(1)
        assert f"Counter page:   {shanghai}/" in out
        _found(r"北京市 \(110000\) service: verifies, signs receipts as 110000-demo-verify", out)

        # both services answer, each from its own mirror file, both synced with the chain
        for base in (beijing, shanghai):
            ready = requests.get(base + "/readyz", timeout=10)
            assert ready.status_code == 200, ready.text
            assert ready.json()["mirror"]["block_number"] > 0
        beijing_mirror, shanghai_mirror = tmp_path / "demo" / "mirror.db", tmp_path / "demo" / "shanghai" / "mirror.db"
        assert not beijing_mirror.samefile(shanghai_mirror)
        assert _mirror_rows(beijing_mirror) > 0
        assert _mirror_rows(shanghai_mirror) > 0
        assert not (tmp_path / "demo" / "store.db").samefile(tmp_path / "demo" / "shanghai" / "store.db")

        # each service has its own receipt identity
        beijing_receipts, shanghai_receipts = _key(beijing), _key(shanghai)
        assert beijing_receipts.service_id == "110000-demo-verify"
        assert shanghai_receipts.service_id == "310000-demo-verify"
        assert beijing_receipts.public_key != shanghai_receipts.public_key

        # 北京市's license checked in 上海市: the receipt is 上海市's, checked offline
        cases = json.loads((tmp_path / "demo" / "presentations.json").read_text(encoding="utf-8"))
        text = cases["valid"]["text"]
        answer = requests.post(shanghai + "/v1/verify", json={"qr": text, "receipt": True}, timeout=30)
        assert answer.status_code == 200, answer.text
        data = answer.json()
        assert data["status"] == "valid"
        assert data["issuer"]["region"] == 110000
        check = verify_receipt(data["receipt"], [shanghai_receipts])
        assert check.ok, check.detail
        assert check.receipt is not None
        assert check.receipt.verifier_id == "310000-demo-verify"
        assert check.receipt.subject == data["license_id"]
        assert check.receipt.status == "valid"
        assert verify_receipt(data["receipt"], [beijing_receipts]).code == "unknown_verifier"
        forged = {**data["receipt"], "receipt": {**data["receipt"]["receipt"], "verifier_id": "110000-demo-verify"}}
        assert not verify_receipt(forged, [shanghai_receipts, beijing_receipts]).ok  # renamed: signature breaks

        # the API keys of one service open nothing in the other; 上海市's key revokes nothing
        license_id = data["license_id"]
        status_path = f"/v1/issuers/{BEIJING_SAMR}/licenses/{license_id}/status"
        revoke = {"action": "revoke", "reason": 3}
        as_beijing = {"Authorization": f"Bearer {beijing_key}"}
        as_shanghai = {"Authorization": f"Bearer {shanghai_key}"}
        assert requests.get(shanghai + "/v1/subscriptions", headers=as_beijing, timeout=10).status_code == 401
        assert requests.get(beijing + "/v1/subscriptions", headers=as_shanghai, timeout=10).status_code == 401
        assert requests.post(beijing + status_path, json=revoke, headers=as_shanghai, timeout=10).status_code == 401
        refused = requests.post(shanghai + status_path, json=revoke, headers=as_shanghai, timeout=10)
        assert refused.status_code in (403, 404), refused.text
        assert requests.post(shanghai + "/v1/verify", json={"qr": text}, timeout=30).json()["status"] == "valid"

        # 上海市's relying department subscribes in 上海市; 北京市 revokes through its own service
        created = requests.post(
            shanghai + "/v1/subscriptions",
            json={"digest": data["digest"], "callback_url": receiver.url},
            headers=as_shanghai,
            timeout=10,
        )
        assert created.status_code == 201, created.text
        subscription = created.json()
        receiver.secrets[subscription["id"]] = subscription["secret"]
        revoked = requests.post(beijing + status_path, json=revoke, headers=as_beijing, timeout=60)
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["status"] == "revoked"

        (delivery,) = receiver.wait_for(1, timeout=60)
        assert delivery.verified
        assert delivery.body is not None
        assert (delivery.body["event"], delivery.body["digest"]) == ("revoked", data["digest"])
        assert delivery.body["subscription_id"] == subscription["id"]

        def shanghai_says_revoked() -> bool:
            result = requests.post(shanghai + "/v1/verify", json={"qr": text}, timeout=30).json()
            return result["status"] == "revoked"

        wait_until(shanghai_says_revoked, timeout=30, interval=0.2, what="上海市's service answering revoked")
        assert requests.post(beijing + "/v1/verify", json={"qr": text}, timeout=30).json()["status"] == "revoked"
        assert verify_receipt(data["receipt"], [shanghai_receipts]).ok  # the receipt filed before stays genuine
    finally:
        receiver.stop()
        output = served.stop()
    assert "Traceback" not in output, output[-3000:]
    # both servers closed their ports on SIGTERM
    for base in (beijing, shanghai):
        with pytest.raises(requests.ConnectionError):
            requests.get(base + "/healthz", timeout=2)


def _serve_fails(tmp_path: Path, *args: str) -> str:
    """``elicense serve ARGS`` exits with status 2 before running anything; returns its error."""
    env = {**os.environ, "ELICENSE_HOME": str(tmp_path)}
    env.pop("ELICENSE_RPC_URL", None)
    done = subprocess.run([str(ELICENSE), *args], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert not (tmp_path / "demo").exists()  # refused before the demo ran
    return done.stderr


def test_second_region_port_taken_is_refused_before_the_demo_runs(tmp_path: Path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        error = _serve_fails(tmp_path, "serve", "--port", "0", "--second-region-port", str(port))
    assert f"cannot listen on 127.0.0.1:{port} for 上海市's service" in error
    assert "--no-second-region" in error


def test_second_region_flags_belong_to_demo_mode(tmp_path: Path):
    error = _serve_fails(tmp_path, "--rpc-url", "http://127.0.0.1:9", "serve", "--port", "0", "--second-region")
    assert "each region runs its own `elicense serve`" in error
    error = _serve_fails(tmp_path, "serve", "--port", "0", "--no-second-region", "--second-region-port", "9001")
    assert "--second-region-port" in error
