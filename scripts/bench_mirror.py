#!/usr/bin/env python3
"""How long the chain mirror takes to index N anchored licenses from a local node.

Starts a ``hardhat node`` on a loopback port of the kernel's choosing (or uses --rpc-url), deploys the registries,
anchors N random digests in batches of 1,000 (not timed), then times a fresh mirror (SQLite in a
temporary folder) syncing everything: fetching the logs, checking every batch's Merkle root,
writing the database and building the in-memory index.

    python scripts/bench_mirror.py [--licenses 100000] [--rpc-url URL] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from devkit.nodes import HardhatNode, start_hardhat_node
from devkit.world import deploy_department
from registry import connect
from verifier.mirror import Mirror


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--licenses", type=int, default=100_000)
    parser.add_argument("--rpc-url", help="a development node to use instead of starting one")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not 1000 <= args.licenses <= 1_000_000:
        parser.error("--licenses must be 1000 to 1000000")
    node: HardhatNode | None = None
    logs = tempfile.TemporaryDirectory()
    url = args.rpc_url
    if url is None:
        node = start_hardhat_node(Path(logs.name))
        url = node.url
    try:
        setup = deploy_department(connect(url), license_types=())
        client, key = setup.client, setup.key
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
        if node is not None:
            node.stop()
        logs.cleanup()
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
