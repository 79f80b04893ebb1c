#!/usr/bin/env python3
"""How long the chain mirror takes to index N anchored licenses from a local node.

Starts a ``hardhat node`` on a free loopback port (or uses --rpc-url), deploys the registries,
anchors N random digests in batches of 1,000 (not timed), then times a fresh mirror (SQLite in a
temporary folder) syncing everything: fetching the logs, checking every batch's Merkle root,
writing the database and building the in-memory index.

    python scripts/bench_mirror.py [--licenses 100000] [--rpc-url URL] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from devkit.devchain import bootstrap_issuer
from registry import RegistryClient, connect, dev_accounts
from verifier.mirror import Mirror

ROOT = Path(__file__).resolve().parent.parent
DEPT = "11110000MB0195560T"


def start_node() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    node = shutil.which("node")
    if node is None:
        raise SystemExit("Node.js is needed to run a hardhat node")
    process = subprocess.Popen(
        [node, str(ROOT / "node_modules" / ".bin" / "hardhat"), "node", "--hostname", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connect(url)
            return process, url
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.2)
    process.kill()
    raise SystemExit("hardhat node did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--licenses", type=int, default=100_000)
    parser.add_argument("--rpc-url", help="a development node to use instead of starting one")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not 1000 <= args.licenses <= 1_000_000:
        parser.error("--licenses must be 1000 to 1000000")
    process = None
    url = args.rpc_url
    if url is None:
        process, url = start_node()
    try:
        w3 = connect(url)
        admin, authority, key = dev_accounts(w3)[:3]
        client, _ = RegistryClient.deploy(w3, admin)
        bootstrap_issuer(
            client,
            admin=admin,
            authority=authority,
            key=key,
            uscc="11110000MB0195560T",
            name="北京市市场监督管理局",
        )
        started = time.monotonic()
        for start in range(0, args.licenses, 1000):
            client.anchor(key, [os.urandom(32) for _ in range(min(1000, args.licenses - start))])
        anchoring = time.monotonic() - started
        with tempfile.TemporaryDirectory() as tmp:
            mirror = Mirror.at(Path(tmp) / "mirror.db", client.deployment, confirmations=1)
            started = time.monotonic()
            report = mirror.sync(client)
            seconds = time.monotonic() - started
            indexed = mirror.index.anchored_count
            mirror.close()
        figures = {
            "licenses_indexed": indexed,
            "mirror_sync_seconds": round(seconds, 2),
            "licenses_per_second": round(indexed / seconds),
            "events": report.events,
            "blocks": report.to_block - report.from_block + 1,
            "anchoring_seconds_not_timed_part": round(anchoring, 1),
        }
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
    if args.json:
        print(json.dumps(figures))
    else:
        print(
            f"indexed {figures['licenses_indexed']:,} anchored licenses ({figures['events']} events, "
            f"{figures['blocks']} blocks) in {figures['mirror_sync_seconds']} s "
            f"({figures['licenses_per_second']:,} per second) from a local hardhat node"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
