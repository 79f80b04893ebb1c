#!/usr/bin/env python3
"""Applications (秒批) decided per second, and the latency from request to signed license.

Sets up a department on the in-process chain, issues and anchors ``--holders`` business licenses,
then decides food-business-permit applications one after another, each presenting its business
license's QR text: verify it against the chain state, check the rules, sign the permit and record
the decision with its evidence (one transaction). Every ``--refuse-every``-th application presents
another company's license and is refused (and recorded). In process, then with ``--http`` through
``POST /v1/issuers/{uscc}/applications`` on a uvicorn server on loopback (one client, keep-alive).

    python scripts/bench_apply.py [--applications 2000] [--holders 200] [--refuse-every 10] [--http] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from api.main import create_app
from api.services import Services
from api.settings import Settings
from devkit.samples import SampleFactory, make_uscc
from devkit.serving import listening_socket
from devkit.world import DEPARTMENT_USCC, deploy_department
from registry import connect
from registry.document.presentation import present
from registry.issuer.applications import apply
from registry.issuer.department import Department, IssueRequest
from registry.issuer.prerequisites import evaluate_application
from registry.issuer.store import IssuerStore
from verifier.mirror import Mirror
from verifier.pipeline import Verifier
from verifier.state import ChainClientState


def _quantiles(seconds: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49] * 1000, 2), "p99_ms": round(cuts[98] * 1000, 2)}


def _applications(
    texts: list[str], holders: list[str], count: int, refuse_every: int
) -> list[tuple[IssueRequest, str]]:
    samples = SampleFactory(12)
    out = []
    for i in range(count):
        permit = samples.food_permit(valid_from=samples.today)
        holder = i % len(holders)
        shown = (holder + 1) % len(holders) if refuse_every and i % refuse_every == refuse_every - 1 else holder
        out.append((dataclasses.replace(permit, fields={**permit.fields, "uscc": holders[holder]}), texts[shown]))
    return out


def _evaluate_only(verifier: Verifier, work: list[tuple[IssueRequest, str]]) -> dict[str, Any]:
    """The decision without signing or storing: what the store's commit adds is the rest."""
    latencies = []
    started = time.perf_counter()
    for request, text in work:
        t0 = time.perf_counter()
        evaluate_application(verifier, request, [text], issuer_uscc=DEPARTMENT_USCC)
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    return {"decisions_per_second": round(len(work) / elapsed), **_quantiles(latencies)}


def _in_process(department: Department, verifier: Verifier, work: list[tuple[IssueRequest, str]]) -> dict[str, Any]:
    latencies, accepted = [], 0
    started = time.perf_counter()
    for request, text in work:
        t0 = time.perf_counter()
        decision = apply(department, verifier, request, [text])
        latencies.append(time.perf_counter() - t0)
        accepted += decision.accepted
    elapsed = time.perf_counter() - started
    return {"decisions_per_second": round(len(work) / elapsed), "accepted": accepted, **_quantiles(latencies)}


def _over_http(services: Services, work: list[tuple[IssueRequest, str]]) -> dict[str, Any]:
    sock = listening_socket()
    server = uvicorn.Server(uvicorn.Config(create_app(services), log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    _, key = services.api_keys.create(DEPARTMENT_USCC, "bench")
    base = f"http://127.0.0.1:{sock.getsockname()[1]}/v1/issuers/{DEPARTMENT_USCC}/applications"
    latencies, accepted = [], 0
    try:
        with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
            started = time.perf_counter()
            for request, text in work:
                t0 = time.perf_counter()
                response = client.post(base, json={**request.to_dict(), "prerequisites": [text]})
                latencies.append(time.perf_counter() - t0)
                if response.status_code not in (201, 422):
                    raise SystemExit(f"unexpected answer {response.status_code}: {response.text[:300]}")
                accepted += response.status_code == 201
            elapsed = time.perf_counter() - started
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return {"decisions_per_second": round(len(work) / elapsed), "accepted": accepted, **_quantiles(latencies)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applications", type=int, default=2000)
    parser.add_argument("--holders", type=int, default=200)
    parser.add_argument("--refuse-every", type=int, default=10, help="every n-th application is refused (0: none)")
    parser.add_argument("--http", action="store_true", help="also through the HTTP endpoint")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not 100 <= args.applications <= 100_000 or not 2 <= args.holders <= 10_000 or args.refuse_every < 0:
        parser.error("--applications 100 to 100000, --holders 2 to 10000, --refuse-every 0 or more")

    with tempfile.TemporaryDirectory() as tmp:
        setup = deploy_department(connect(None), license_types=("BL", "FB"))
        store = IssuerStore.at(Path(tmp) / "store.db")
        department = setup.department(store)
        rng = random.Random(7)  # noqa: S311 - sample data, not secrets
        holders = [make_uscc(rng, region=110108) for _ in range(args.holders)]
        samples = SampleFactory(13)
        rows = department.issue_many(
            [
                dataclasses.replace(r, fields={**r.fields, "uscc": h})
                for h in holders
                for r in [samples.business_license()]
            ]
        )
        department.anchor_pending()
        texts = [present(Department.license_of(r), r.signature, None).to_text() for r in rows]
        state = ChainClientState(setup.client)
        state.sync()
        d = setup.client.deployment
        verifier = Verifier(state, chain_id=d.chain_id, license_registry=d.license_registry)
        work = _applications(texts, holders, args.applications, args.refuse_every)
        figures: dict[str, Any] = {
            "applications": len(work),
            "evaluation_only": _evaluate_only(verifier, work),
            "in_process": _in_process(department, verifier, work),
        }
        if args.http:
            mirror = Mirror.at(Path(tmp) / "mirror.db", d, confirmations=1)
            services = Services(
                Settings(home=Path(tmp)),
                deployment=d,
                client=setup.client,
                mirror=mirror,
                store=store,
                departments={DEPARTMENT_USCC: department},
            )
            figures["http"] = _over_http(services, work)
        store.close()
    if args.json:
        print(json.dumps(figures))
    else:
        f = figures["evaluation_only"]
        print(
            f"evaluation only (verify, rules; no signing, no store): {f['decisions_per_second']:,} per second, "
            f"p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms"
        )
        for mode in ("in_process", "http"):
            if mode in figures:
                f = figures[mode]
                print(
                    f"{mode.replace('_', ' ')}: {figures['applications']:,} applications ({f['accepted']:,} accepted), "
                    f"{f['decisions_per_second']:,} decisions per second; request to signed license "
                    f"p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
