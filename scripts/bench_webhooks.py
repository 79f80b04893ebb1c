#!/usr/bin/env python3
"""Latency of status webhooks: from a status change mined on chain to the signed webhook received.

Starts a hardhat node, one department with licenses, ``elicense serve`` (a real process, mirror
depth 1) and a webhook receiver (``http.server`` on loopback, checking every signature), subscribes
to the department's licenses, then:

- **one at a time**: suspends one license per transaction, ``--changes`` times, at random moments
  (so changes do not line up with the mirror's sync), and measures from the transaction's receipt
  to the webhook's arrival: p50, p99, max;
- **a batch**: revokes ``--batch`` licenses in one transaction and measures until the last of
  their webhooks arrived.

The service's follow interval (``--sync-interval``, the service default is 2 s) bounds the latency:
a change waits for the next sync, then is produced and sent at once.

    python scripts/bench_webhooks.py [--changes 100] [--batch 100] [--sync-interval 0.2]
"""

# Random gaps between changes: no cryptographic randomness is wanted.
# ruff: noqa: S311

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

from api.security import ApiKeys
from api.subscription_secrets import WebhookKey
from devkit.nodes import start_hardhat_node
from devkit.samples import SampleFactory
from devkit.serving import serve_command
from devkit.waiting import wait_until
from devkit.webhook_receiver import WebhookReceiver
from devkit.world import deploy_department
from registry import connect
from registry.issuer.store import IssuerStore

ELICENSE = Path(sys.executable).parent / "elicense"
RELYING = "91310000MA1FL8LQ34"


def _arrival(receiver: WebhookReceiver, digest: str, event: str) -> float:
    def found() -> float | None:
        for r in receiver.accepted():
            if r.body and r.body["digest"] == digest and r.body["event"] == event:
                return r.at
        return None

    return wait_until(found, timeout=60, what=f"the {event} webhook of {digest[:12]}", interval=0.002)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=100, help="single-license changes to time")
    parser.add_argument("--batch", type=int, default=100, help="licenses revoked in one transaction")
    parser.add_argument("--sync-interval", type=float, default=0.2, help="the service's follow interval (s)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        node = start_hardhat_node(tmp_path)
        receiver = WebhookReceiver().start()
        served = None
        try:
            setup = deploy_department(connect(node.url))
            home = tmp_path / "home"
            home.mkdir(mode=0o700)
            setup.client.deployment.save(home / "deployment.json")
            department = setup.department(IssuerStore.at(tmp_path / "issuer.db"))
            samples = SampleFactory(41)
            rows = department.issue_many([samples.business_license() for _ in range(args.changes + args.batch)])
            department.anchor_pending()
            store = IssuerStore.at(home / "store.db")
            _, key = ApiKeys(store.engine).create(RELYING, "bench")
            store.close()
            WebhookKey.generate().save(home / "keys" / "webhooks.json", "a bench password", scrypt_n=2**14)
            env = {
                **os.environ,
                "ELICENSE_HOME": str(home),
                "ELICENSE_RPC_URL": node.url,
                "ELICENSE_CONFIRMATIONS": "1",
                "ELICENSE_SYNC_INTERVAL": str(args.sync_interval),
                "ELICENSE_WEBHOOK_ALLOW_PRIVATE": "1",  # the receiver listens on loopback
                "ELICENSE_WEBHOOK_KEY": "webhooks",  # seals the subscription's secret
                "ELICENSE_WEBHOOK_KEY_PASSWORD": "a bench password",
            }
            served = serve_command(
                lambda port: [str(ELICENSE), "serve", "--port", str(port)], log_dir=tmp_path, env=env
            )
            answer = requests.post(
                served.url + "/v1/subscriptions",
                json={"issuer": setup.uscc, "callback_url": receiver.url},
                headers={"Authorization": f"Bearer {key}"},
                timeout=10,
            )
            answer.raise_for_status()
            receiver.secrets[answer.json()["id"]] = answer.json()["secret"]

            latencies = []
            for row in rows[: args.changes]:
                time.sleep(random.uniform(0, args.sync_interval))
                department.suspend([row.license_id], reason=1)
                mined = time.time()
                latencies.append(_arrival(receiver, "0x" + row.digest.hex(), "suspended") - mined)
            ms = [x * 1000 for x in latencies]
            print(
                f"one change at a time ({len(ms)} changes, sync interval {args.sync_interval} s): "
                f"p50 {_percentile(ms, 0.5):.0f} ms, p99 {_percentile(ms, 0.99):.0f} ms, "
                f"max {max(ms):.0f} ms, mean {statistics.fmean(ms):.0f} ms"
            )
            batch = rows[args.changes :]
            if batch:
                department.revoke([r.license_id for r in batch], reason=2)
                mined = time.time()
                last = max(_arrival(receiver, "0x" + r.digest.hex(), "revoked") for r in batch)
                print(
                    f"{len(batch)} licenses revoked in one transaction: last webhook after "
                    f"{(last - mined) * 1000:.0f} ms ({len(batch) / max(last - mined, 1e-9):.0f} webhooks per second)"
                )
            assert all(r.verified for r in receiver.received)
        finally:
            if served is not None:
                served.stop()
            receiver.stop()
            node.stop()


if __name__ == "__main__":
    main()
