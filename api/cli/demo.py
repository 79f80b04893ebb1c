"""The demo, and the demo mode of ``serve``: the only commands built on the development helpers
(devkit), which they import when they run.

Demo mode serves two regions' services against the one in-process chain: 北京市's (the main one,
which also signs for the demo's departments) and 上海市's, a verifier service with its own mirror
database, issuer store (API keys, subscriptions and their outbox) and receipt key. The in-process
chain exists only inside this process, so both servers run here, the second in a thread with its
own event loop, and both services take the chain client under one lock."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from api.cli._context import Context, build_services, fail, licenses_option

if TYPE_CHECKING:
    from api.services import Services
    from api.settings import Settings
    from api.workers import VerifyWorkers
    from devkit.demo import DemoRun

#: The receipt signing identities of the demo's two services (made for each run, never written).
FIRST_SERVICE_ID = "110000-demo-verify"
SECOND_SERVICE_ID = "310000-demo-verify"
SECOND_REGION = "上海市 (310000)"


@click.command()
@licenses_option("How many licenses to issue")
@click.option("--json", "as_json", is_flag=True, help="Print the cases as JSON.")
@click.pass_obj
def demo(ctx: Context, /, licenses: int, as_json: bool) -> None:
    """Run the whole story on one chain: regions, departments, licenses, and every outcome."""
    if not 20 <= licenses <= 100_000:
        fail("--licenses must be from 20 to 100000")
    from devkit.demo import run_demo

    run_demo(ctx.home, ctx.w3(), rpc_url=ctx.rpc_url, licenses=licenses, as_json=as_json, echo=click.echo)


def demo_services(ctx: Context, settings: Settings, /, *, licenses: int, base_url: str) -> Services:
    """Run the demo on the in-process chain and wire 北京市's service to serve its data, with an
    anchoring worker for the demo's departments; prints where to look and an API key of the first
    department."""
    return demo_regions(ctx, settings, licenses=licenses, base_url=base_url, second_url=None)[0]


def demo_regions(
    ctx: Context, settings: Settings, /, *, licenses: int, base_url: str, second_url: str | None
) -> tuple[Services, Services | None]:
    """:func:`demo_services`, and with ``second_url`` 上海市's verifier service too (its own mirror,
    store, API key and receipt key under ``HOME/demo/shanghai``, the same chain client); prints
    both services' addresses and keys, and the cross-region recipes."""
    from devkit.demo import run_demo
    from verifier.mirror import Mirror
    from verifier.receipts import VerifierIdentity

    run = run_demo(ctx.home, ctx.w3(), rpc_url=None, licenses=licenses, echo=click.echo)
    mirror_path = ctx.home / "demo" / "mirror.db"
    mirror = Mirror.at(mirror_path, run.client.deployment, confirmations=1)
    services = build_services(
        settings,
        client=run.client,
        mirror=mirror,
        store=run.store,
        departments=run.departments,
        anchor=True,
        co_signing_keys=run.co_signing_keys,
    )
    if services.receipts.identity is None:  # the demo signs receipts with a key made for this run
        services.receipts.identity = VerifierIdentity.generate(FIRST_SERVICE_ID)
    uscc, department = next(iter(run.departments.items()))
    _, key = services.api_keys.create(uscc, label="demo")
    valid = next(c.text for c in run.cases if c.name == "valid")
    click.echo("")
    click.echo(
        f"北京市 (110000) service: verifies, signs receipts as {services.receipts.identity.service_id}, "
        f"issues for the demo's departments; mirror {mirror_path}"
    )
    click.echo(f"Counter page:   {base_url}/")
    click.echo(f"API document:   {base_url}/docs")
    click.echo(f"QR text to try: {valid}")
    click.echo(f"  curl -s {base_url}/v1/verify -H 'Content-Type: application/json' -d '{{\"qr\": \"{valid}\"}}'")
    click.echo(f'Receipts:       add "receipt": true to the request; the key: {base_url}/v1/receipts/key')
    click.echo(f"QR images:      {ctx.home / 'demo'}/*.png (upload one on the counter page)")
    click.echo(f"联办码:         {ctx.home / 'demo' / 'joint_valid.png'} (seven licenses of five departments)")
    click.echo(f"API key of {department.issuer_uscc} (shown once): {key}")
    if second_url is None:
        return services, None
    second, second_key = _second_region(ctx, settings, run, services, second_url)
    _cross_region_recipes(valid, (base_url, key), (second_url, second_key))
    return services, second


def _second_region(ctx: Context, settings: Settings, run: DemoRun, first: Services, url: str) -> tuple[Services, str]:
    """上海市's verifier service (no department to sign for, its own home, the first's chain lock)
    and the API key of its relying department."""
    from devkit.demo import DEPARTMENTS
    from registry.issuer.store import IssuerStore
    from verifier.mirror import Mirror
    from verifier.receipts import VerifierIdentity

    home = ctx.home / "demo" / "shanghai"  # inside the demo's folder: made afresh with each run
    own = settings.model_copy(
        update={"home": home, "db": None, "mirror_db": None, "receipt_key": None, "co_signing_keys": ""}
    )
    mirror_path = home / "mirror.db"
    services = build_services(
        own,
        client=run.client,
        mirror=Mirror.at(mirror_path, run.client.deployment, confirmations=1),
        store=IssuerStore.at(home / "store.db"),
        departments={},
        anchor=False,
        co_signing_keys={},
    )
    services.chain_lock = first.chain_lock  # one in-process chain: one caller at a time
    services.receipts.identity = VerifierIdentity.generate(SECOND_SERVICE_ID)
    relying = next(d for d in DEPARTMENTS if d.region == 310000)  # 上海市公安局, as a relying department
    _, key = services.api_keys.create(relying.code, label="demo: relying on other regions' licenses")
    click.echo("")
    click.echo(
        f"{SECOND_REGION} verifier service on {url} (its own mirror {mirror_path}, API keys and "
        f"subscriptions in {home / 'store.db'}; signs receipts as {SECOND_SERVICE_ID})"
    )
    click.echo(f"Counter page:   {url}/")
    click.echo(f"Receipt key:    {url}/v1/receipts/key")
    click.echo(f"API key of {relying.code} ({relying.name}, for subscriptions; shown once): {key}")
    return services, key


def _cross_region_recipes(valid: str, first: tuple[str, str], second: tuple[str, str]) -> None:
    """Ready-to-run commands: 北京市's valid license checked in 上海市 with a receipt, a subscription
    to it in 上海市, and its revocation in 北京市 (``first``, ``second``: each service's URL and key)."""
    from registry.document.presentation import decode_presentation

    (first_url, first_key), (second_url, second_key) = first, second
    p = decode_presentation(valid)
    body = json.dumps({"qr": valid, "receipt": True})
    json_type = "-H 'Content-Type: application/json'"
    click.echo("")
    click.echo("Across regions: 北京市's license, checked in 上海市 with a receipt signed by 上海市's key:")
    click.echo(f"  curl -s {second_url}/v1/receipts/key > shanghai.pub.json")
    click.echo(
        f"  curl -s {second_url}/v1/verify {json_type} -d '{body}' | python3 -c "
        "'import json,sys; print(json.dumps(json.load(sys.stdin)[\"receipt\"]))' > receipt.json"
    )
    click.echo("  elicense receipt verify receipt.json --trust shanghai.pub.json")
    click.echo(
        "Subscribe to it in 上海市 (a callback on loopback or a private address needs "
        "ELICENSE_WEBHOOK_ALLOW_PRIVATE=1 when serving):"
    )
    click.echo(
        f"  curl -s {second_url}/v1/subscriptions -H 'Authorization: Bearer {second_key}' {json_type} "
        f'-d \'{{"digest": "0x{p.digest().hex()}", "callback_url": "https://approvals.example.cn/hooks"}}\''
    )
    click.echo("then revoke it in 北京市: 上海市's service answers revoked and the webhook is delivered:")
    click.echo(
        f"  curl -s {first_url}/v1/issuers/{p.header.license_id.issuer_uscc}/licenses/{p.header.license_id}/status "
        f'-H \'Authorization: Bearer {first_key}\' {json_type} -d \'{{"action": "revoke", "reason": 3}}\''
    )


@dataclass
class Companion:
    """A uvicorn server for a second app, in a thread with its own event loop (no signal handlers:
    the main server's shutdown stops it)."""

    name: str
    app: Any
    sock: socket.socket

    def __post_init__(self) -> None:
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", access_log=False))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, name=f"serve-{self.name}", daemon=True
        )

    def start(self, timeout: float = 120) -> None:
        """Start it and wait until its app has started (its services synced their mirror)."""
        import time

        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                fail(f"{self.name}'s service did not start (see the messages above)")
            time.sleep(0.05)

    def stop(self, timeout: float = 60) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def run_servers(
    app: Any,
    sock: socket.socket,
    companions: list[Companion],
    *,
    workers: VerifyWorkers | None = None,
    cleanup: Callable[[], None] | None = None,
) -> None:
    """Serve ``app`` on ``sock`` in this thread (uvicorn, stopped by SIGINT or SIGTERM) beside the
    started companions, which stop, cleanly, before the main server returns. With ``workers``,
    they are started once the app has started (its mirror synced) and stopped first. ``cleanup``
    runs last in the shutdown (after SIGTERM, uvicorn ends the process by the signal itself once
    it returns, so nothing after this call runs)."""
    import asyncio

    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if workers is not None and not self.should_exit:
                await asyncio.to_thread(workers.start)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            try:
                if workers is not None:
                    await asyncio.to_thread(workers.stop)
                await asyncio.gather(*(asyncio.to_thread(c.stop) for c in companions))
            finally:
                await super().shutdown(sockets=sockets)
                if cleanup is not None:
                    cleanup()

    Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[sock])


COMMANDS = (demo,)
