"""The subscriber's command line against a real ``elicense serve`` (a hardhat node, the webhook key
from its keystore): ``subscription create|list|show|deliveries|replay|delete`` over HTTP with the
API key from an environment variable or a file (never an argument, never printed), and ``webhook
verify`` of a delivery exactly as a receiver got it (raw body and headers), refusing a tampered body,
another secret, a stale timestamp. Attacks first where they apply: another department's API key sees
nothing, an id crafted as a path is refused before any request."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from _service_home import ELICENSE, service_home
from click.testing import CliRunner

from api.cli import cli
from api.subscription_secrets import WebhookKey
from devkit.nodes import HardhatNode
from devkit.serving import ServedProcess
from devkit.waiting import wait_until
from devkit.world import DepartmentSetup
from registry.issuer.department import Department
from registry.issuer.store import LicenseRow

RELYING = "91310000MA1FL8LQ34"
OTHER = "11110000MB0195560T"  # 北京市市场监督管理局


class RawReceiver:
    """Records each POST's raw body and headers (what a subscriber's own endpoint would get)."""

    def __init__(self) -> None:
        self.got: list[tuple[bytes, dict[str, str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.got.append((body, dict(self.headers.items())))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"


@dataclass
class Served:
    setup: DepartmentSetup
    department: Department
    rows: list[LicenseRow]
    service: ServedProcess
    key: str
    other_key: str
    receiver: RawReceiver
    env: dict[str, str]


@pytest.fixture(scope="module")
def served(hardhat_node: HardhatNode, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = service_home(
        hardhat_node, tmp_path_factory.mktemp("cli"), seed=51, api_keys={RELYING: "cli", OTHER: "other"}
    )
    service = home.serve()
    receiver = RawReceiver()
    try:
        yield Served(
            home.setup,
            home.department,
            home.rows,
            service,
            home.api_keys[RELYING],
            home.api_keys[OTHER],
            receiver,
            home.env,
        )
    finally:
        service.stop()
        receiver.server.shutdown()
        receiver.server.server_close()


def run(served: Served, *args: str, key: str | None = None, input: bytes | None = None):
    env = {"ELICENSE_SERVICE": served.service.url, "ELICENSE_API_KEY": key or served.key, "HOOK_SECRET": ""}
    result = CliRunner().invoke(cli, list(args), env=env, input=input, catch_exceptions=False)
    assert served.key not in result.output
    assert served.other_key not in result.output
    return result


def test_a_subscriber_manages_subscriptions_and_checks_deliveries(served: Served, tmp_path: Path):
    secret_file = tmp_path / "secret"
    made = run(
        served,
        "subscription", "create", "--issuer", served.setup.uscc, "--callback-url", served.receiver.url,
        "--secret-file", str(secret_file), "--json",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    sub = json.loads(made.stdout)
    secret = secret_file.read_text().strip()
    assert secret.startswith("whsec_")
    assert secret not in made.output
    assert secret_file.stat().st_mode & 0o777 == 0o600
    listed = run(served, "subscription", "list")
    assert listed.exit_code == 0
    assert sub["id"] in listed.stdout
    assert "active" in listed.stdout
    shown = json.loads(run(served, "subscription", "show", sub["id"], "--json").stdout)
    assert shown == {k: v for k, v in sub.items() if k != "secret"}

    served.department.revoke([served.rows[0].license_id], reason=3)
    wait_until(lambda: len(served.receiver.got) >= 1, timeout=60, what="the delivery")
    body, headers = served.receiver.got[0]
    (tmp_path / "body.json").write_bytes(body)
    signed = [
        "--signature", headers["X-Elicense-Signature"], "--timestamp", headers["X-Elicense-Timestamp"],
        "--delivery", headers["X-Elicense-Delivery"],
    ]  # fmt: skip
    ok = run(
        served, "webhook", "verify", "--secret-file", str(secret_file), "--body", str(tmp_path / "body.json"), *signed
    )
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.strip() == headers["X-Elicense-Delivery"]
    os.environ["HOOK_SECRET_TEST"] = secret
    try:
        from_env = CliRunner().invoke(
            cli, ["webhook", "verify", "--secret-env", "HOOK_SECRET_TEST", "--body", "-", *signed], input=body
        )
    finally:
        del os.environ["HOOK_SECRET_TEST"]
    assert from_env.exit_code == 0, from_env.output
    tampered = run(served, "webhook", "verify", "--secret-file", str(secret_file), "--body", "-", *signed,
                   input=body.replace(b'"reason":3', b'"reason":1'))  # fmt: skip
    assert tampered.exit_code == 2
    assert "does not match" in tampered.output
    (tmp_path / "other").write_text("whsec_" + "x" * 40)
    other = run(
        served, "webhook", "verify", "--secret-file", str(tmp_path / "other"), "--body", "-", *signed, input=body
    )
    assert other.exit_code == 2
    assert "does not match" in other.output
    late = run(served, "webhook", "verify", "--secret-file", str(secret_file), "--body", "-", *signed[:2],
               "--timestamp", str(int(time.time()) - 3600), *signed[4:], input=body)  # fmt: skip
    assert late.exit_code == 2
    assert "away from now" in late.output

    deliveries = run(served, "subscription", "deliveries", sub["id"], "--json")
    (delivery,) = json.loads(deliveries.stdout)
    assert (delivery["event"], delivery["state"]) == ("revoked", "delivered")
    replayed = run(served, "subscription", "replay", sub["id"], delivery["delivery_id"])
    assert replayed.exit_code == 0
    assert delivery["delivery_id"] in replayed.stdout
    wait_until(lambda: len(served.receiver.got) >= 2, timeout=30, what="the replay")
    assert served.receiver.got[1][1]["X-Elicense-Delivery"] == delivery["delivery_id"]

    assert run(served, "subscription", "delete", sub["id"]).exit_code == 0
    assert sub["id"] not in run(served, "subscription", "list").stdout
    assert '"active": false' in run(served, "subscription", "show", sub["id"], "--json").stdout


def test_another_departments_key_sees_nothing_and_bad_input_is_refused(served: Served, tmp_path: Path):
    made = run(served, "subscription", "create", "--digest", "0x" + served.rows[1].digest.hex(),
               "--callback-url", served.receiver.url, "--json")  # fmt: skip
    assert made.exit_code == 0, made.output
    sub = json.loads(made.stdout)
    assert sub["secret"].startswith("whsec_")  # printed once when no --secret-file is given
    theirs = run(served, "subscription", "show", sub["id"], key=served.other_key)
    assert theirs.exit_code == 2
    assert "404" in theirs.output
    assert sub["id"] not in run(served, "subscription", "list", key=served.other_key).stdout
    assert run(served, "subscription", "delete", sub["id"], key=served.other_key).exit_code == 2
    wrong = run(served, "subscription", "list", key="elk_" + "0" * 40)
    assert wrong.exit_code == 2
    assert "401" in wrong.output
    crafted = run(served, "subscription", "show", "../../v1/issuers")
    assert crafted.exit_code == 2
    assert "not a subscription id" in crafted.output
    unset = CliRunner().invoke(
        cli, ["subscription", "list", "--service", served.service.url, "--api-key-env", "NO_SUCH"]
    )
    assert unset.exit_code == 2
    assert "NO_SUCH" in unset.output
    assert "is not set" in unset.output
    (tmp_path / "key").write_text(served.key + "\n")
    from_file = CliRunner().invoke(
        cli, ["subscription", "list", "--service", served.service.url, "--api-key-file", str(tmp_path / "key")]
    )
    assert from_file.exit_code == 0
    assert sub["id"] in from_file.stdout
    none = run(served, "subscription", "create", "--callback-url", served.receiver.url)
    assert none.exit_code == 2
    assert "exactly one target" in none.output
    private = run(served, "subscription", "create", "--issuer", served.setup.uscc, "--callback-url", "ftp://x/y")
    assert private.exit_code == 2
    assert "422" in private.output
    down = run(served, "subscription", "list", "--service", "http://127.0.0.1:9")
    assert down.exit_code == 2
    assert "cannot reach the service" in down.output


def test_the_operator_makes_a_webhook_key(tmp_path: Path):
    env = {"KEY_PW": "a long password"}
    made = CliRunner().invoke(
        cli, ["--home", str(tmp_path), "webhook", "key", "create", "hooks", "--password-env", "KEY_PW"], env=env
    )
    assert made.exit_code == 0, made.output
    path = tmp_path / "keys" / "hooks.json"
    key = WebhookKey.load(path, "a long password")
    assert key.key_id.hex() in made.output
    again = CliRunner().invoke(
        cli, ["--home", str(tmp_path), "webhook", "key", "create", "hooks", "--password-env", "KEY_PW"], env=env
    )
    assert again.exit_code != 0  # never overwritten
    assert WebhookKey.load(path, "a long password").key_id == key.key_id


def test_a_service_started_with_another_webhook_key_stops_and_says_why(served: Served, tmp_path: Path):
    made = run(served, "subscription", "create", "--issuer", served.setup.uscc, "--callback-url", served.receiver.url)
    assert made.exit_code == 0, made.output
    WebhookKey.generate().save(tmp_path / "other.json", "another key password", scrypt_n=2**14)
    env = {
        **served.env,
        "ELICENSE_WEBHOOK_KEY": str(tmp_path / "other.json"),
        "ELICENSE_WEBHOOK_KEY_PASSWORD": "another key password",
    }
    started = subprocess.run(
        [str(ELICENSE), "serve", "--port", "0"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert started.returncode == 2
    assert "error: the subscription secrets were sealed with webhook key" in started.stderr
    assert "start with the key they were sealed with" in started.stderr
