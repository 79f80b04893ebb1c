"""`elicense serve` as a user runs it: demo mode on the in-process chain, and against a hardhat
node whose node then stops (verification keeps answering from the mirror and says how stale it is)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import post_json

from devkit.nodes import HardhatNode, start_hardhat_node
from devkit.serving import ServedProcess, serve_command
from devkit.waiting import wait_until

pytestmark = pytest.mark.slow  # started first when the suite is spread over processes


ELICENSE = Path(sys.executable).parent / "elicense"


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_demo_mode_prints_the_counter_url_and_a_qr_text(tmp_path):
    served = serve_command(
        lambda port: [str(ELICENSE), "--home", str(tmp_path), "serve", "--port", str(port), "--licenses", "40"],
        log_dir=tmp_path,
        env={**os.environ, "ELICENSE_RPC_URL": ""},
    )
    output = served.stop()
    assert f"Counter page:   {served.url}/" in output
    text = re.search(r"QR text to try: (LC[12]:.*)", output)
    assert text is not None
    assert re.search(r"API key of \w{18} \(shown once\): elk_", output)


def _demo_on(node: HardhatNode, home: Path) -> dict[str, str]:
    """Run the demo on ``node`` into ``home``; returns the environment that points the CLI there."""
    env = {**os.environ, "ELICENSE_HOME": str(home), "ELICENSE_RPC_URL": node.url}
    env.pop("ELICENSE_CONFIRMATIONS", None)
    demo = subprocess.run(
        [str(ELICENSE), "demo", "--licenses", "20", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr
    return env


def _serve(env: dict[str, str], log_dir: Path) -> ServedProcess:
    return serve_command(lambda port: [str(ELICENSE), "serve", "--port", str(port)], log_dir=log_dir, env=env)


def test_finding7_every_demo_case_over_http_against_a_node_with_the_default_depth(tmp_path):
    """The demo on a hardhat node, then `elicense serve` with the default confirmation depth: the key
    compromise declared in the demo's last blocks applies at once over HTTP, as in the CLI."""
    node = start_hardhat_node(tmp_path)
    try:
        home = tmp_path / "home"
        served = _serve(_demo_on(node, home), tmp_path)
        cases = json.loads((home / "demo" / "presentations.json").read_text())
        try:
            base = served.url
            got = {name: post_json(base + "/v1/verify", {"qr": case["text"]})["status"] for name, case in cases.items()}
            assert got == {name: case["expected"] for name, case in cases.items()}
            assert got["compromised_key_after"] == "key_not_valid"
        finally:
            served.stop()
    finally:
        node.stop()


def test_verification_keeps_answering_when_the_node_stops(tmp_path):
    node = start_hardhat_node(tmp_path)
    home = tmp_path / "home"
    env = _demo_on(node, home)
    served = _serve(
        {**env, "ELICENSE_STALE_AFTER": "3", "ELICENSE_SYNC_INTERVAL": "0.5", "ELICENSE_CONFIRMATIONS": "1"}, tmp_path
    )
    base = served.url
    cases = json.loads((home / "demo" / "presentations.json").read_text())
    try:
        ready_status, _ = _get(base + "/readyz")
        assert post_json(base + "/v1/verify", {"qr": cases["revoked"]["text"]})["status"] == "revoked"
        node.stop()

        def stale_answer() -> dict | None:
            """The answer to a valid license once the service calls its mirror stale (3 s after the
            last sync that reached the node)."""
            result = post_json(base + "/v1/verify", {"qr": cases["valid"]["text"]})
            reasons = result["reasons"]
            assert isinstance(reasons, list)
            return result if any(r["code"] == "stale_mirror" for r in reasons) else None

        result = wait_until(stale_answer, timeout=30, interval=0.2, what="the mirror reported stale")
        assert result["status"] == "valid"
        assert result["chain"]["block_number"] > 0
        assert result["reasons"][-1]["code"] == "stale_mirror"
        status, ready = _get(base + "/readyz")
        assert status == 503
        assert ready["ready"] is False
        assert ready["last_sync_error"]
        assert ready_status == 200  # fresh before the node stopped
    finally:
        served.stop()
        node.stop()
