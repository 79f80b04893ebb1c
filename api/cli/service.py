"""Running the registry as a service: serve, worker, status, apikey, mirror."""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from eth_account.signers.local import LocalAccount

from api.cli._context import Context, build_services, fail, licenses_option, uscc_option
from api.cli._sm2 import make_department, open_department_keys
from api.redaction import display_url
from registry import RegistryClient
from registry.document.identifiers import validate_uscc
from signer import PasswordSource, Sm2SigningKey

if TYPE_CHECKING:
    from verifier.mirror import Mirror


def _parse_department(ctx: Context, spec: str, *, signs: bool) -> tuple[str, LocalAccount, Sm2SigningKey | None]:
    """``USCC=KEYSTORE[:PASSWORD_ENV]`` -> (credit code, account, and when the department ``signs``,
    the SM2 key when KEYSTORE's ``NAME.sm2.json`` lies beside it: the department signs with SM2)."""
    if "=" not in spec:
        fail(f"--department {spec!r} must look like USCC=KEYSTORE or USCC=KEYSTORE:PASSWORD_ENV")
    uscc, rest = spec.split("=", 1)
    keystore, _, env_name = rest.partition(":")
    source = PasswordSource(env=env_name or None, prompt=sys.stdin.isatty())
    account, sm2_key = open_department_keys(ctx.keystore_path(keystore), source, signs=signs)
    return validate_uscc(uscc, field="--department"), account, sm2_key


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="0: a free port the system picks (printed on the 'Listening on' line).",
)
@click.option(
    "--department",
    "department_specs",
    multiple=True,
    help="A department this service signs for: USCC=KEYSTORE[:PASSWORD_ENV] (repeat); it signs with SM2 "
    "when KEYSTORE's NAME.sm2.json lies beside it.",
)
@licenses_option("Demo mode: licenses to issue")
@click.option("--worker/--no-worker", default=True, show_default=True, help="Run the anchoring worker inside.")
@click.option(
    "--second-region/--no-second-region",
    default=None,
    help="Demo mode: also serve 上海市's verifier service, with its own mirror, API keys and receipt key "
    "(default: on). With --rpc-url each region runs its own `elicense serve` instead.",
)
@click.option(
    "--second-region-port",
    type=click.IntRange(0, 65535),
    help="Demo mode: the port of 上海市's service (default: --port + 1; a free one with --port 0).",
)
@click.option(
    "--verify-workers",
    type=click.IntRange(0, 64),
    help="Processes answering verifications on the port, each with its own copy of the mirror; the "
    "rest runs in one primary process (default: ELICENSE_VERIFY_WORKERS, else one per core; 0: one "
    "process serves everything).",
)
@click.pass_obj
def serve(
    ctx: Context,
    /,
    host: str,
    port: int,
    department_specs: tuple[str, ...],
    licenses: int,
    worker: bool,
    second_region: bool | None,
    second_region_port: int | None,
    verify_workers: int | None,
) -> None:
    """Run the HTTP service and the counter page.

    With --rpc-url: serve the deployment of HOME, keep its chain mirror (HOME/mirror.db) in step,
    and sign for the --department keys. Without: run the demo on an in-process chain first and
    serve its data as two regions' services, 北京市's on --port (an API key for the demo's
    market-regulation bureau is printed) and 上海市's on --second-region-port.
    """
    from api.cli.demo import Companion, demo_regions, run_servers
    from api.main import create_app
    from api.settings import Settings
    from api.workers import VerifyWorkers, private_sockets
    from verifier.mirror import Mirror

    settings = Settings(home=ctx.home, rpc_url=ctx.rpc_url, db=ctx.db_url)
    # Bound before anything else so that port 0 becomes the real port every URL below shows.
    sock = _listen(host, port)
    port = int(sock.getsockname()[1])
    second, second_sock = None, None
    if ctx.rpc_url is None:
        if department_specs:
            fail("--department needs --rpc-url (demo mode signs with the demo's own keys)")
        second_sock = _second_region_socket(host, port, second_region, second_region_port)
        second_url = None if second_sock is None else f"http://{host}:{second_sock.getsockname()[1]}"
        services, second = demo_regions(
            ctx, settings, licenses=licenses, base_url=f"http://{host}:{port}", second_url=second_url
        )
    else:
        if second_region or second_region_port is not None:
            fail(
                "--second-region and --second-region-port are for demo mode; with --rpc-url each region runs "
                "its own `elicense serve` (its own --home, mirror and receipt key: README, 'several regions')"
            )
        client = ctx.client()
        deployment = client.deployment
        mirror = Mirror(
            settings.mirror_url,
            deployment,
            confirmations=settings.confirmations,
            max_anchors_per_issuer=settings.max_anchors_per_issuer,
        )
        store = ctx.store()
        departments = {}
        for spec in department_specs:
            uscc, account, sm2_key = _parse_department(ctx, spec, signs=True)  # the issuer API signs
            departments[uscc] = make_department(
                uscc=uscc, account=account, sm2_key=sm2_key, store=store, deployment=deployment, client=client
            )
        services = build_services(
            settings,
            client=client,
            mirror=mirror,
            store=store,
            departments=departments,
            anchor=worker and bool(departments),  # each of them signs with its own key
        )
        # URLs shown without credentials, paths or queries (providers put API keys in them)
        chain = display_url(ctx.rpc_url)
        mirror_at = (
            settings.mirror_url if settings.mirror_url.startswith("sqlite") else display_url(settings.mirror_url)
        )
        click.echo(f"Counter page: http://{host}:{port}/  (chain {chain}, mirror {mirror_at})")
    app = create_app(services)
    companions = []
    if second is not None:
        assert second_sock is not None
        companions.append(Companion("上海市", create_app(second), second_sock))
        companions[0].start()
    count = settings.verify_workers if verify_workers is None else verify_workers
    count = os.cpu_count() or 1 if count is None else count
    if count and _in_memory(services.mirror.url):
        click.echo("the mirror is an in-memory database, which other processes cannot read: one process serves")
        count = 0
    if count == 0:
        click.echo(f"Listening on http://{host}:{port}")
        run_servers(app, sock, companions)
        return
    with private_sockets(count) as (primary, peers, remove):
        workers = VerifyWorkers.serving(services, sock, primary, peers)
        click.echo(f"Listening on http://{host}:{port} ({count} verification workers)")
        run_servers(app, primary, companions, workers=workers, cleanup=remove)


def _in_memory(url: str) -> bool:
    """Whether a database URL names an in-memory SQLite database (one process's own)."""
    rest = url.split("://", 1)[1] if "://" in url else url
    return url.startswith("sqlite") and (rest in ("", "/", "/:memory:") or "mode=memory" in rest)


def _listen(host: str, port: int, *, what: str = "", hint: str = "") -> socket.socket:
    try:
        return socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}{what}: {exc.strerror or exc}{hint}")


def _second_region_socket(host: str, port: int, wanted: bool | None, second_port: int | None) -> socket.socket | None:
    """Demo mode: the socket of 上海市's service (None with --no-second-region)."""
    if wanted is False:
        if second_port is not None:
            fail("--second-region-port goes with the second region's service; drop it or --no-second-region")
        return None
    if second_port is None:
        second_port = port + 1 if 0 < port < 65535 else 0
    hint = "; choose its port with --second-region-port, or serve one region with --no-second-region"
    return _listen(host, second_port, what=" for 上海市's service", hint=hint)


@click.command()
@click.option(
    "--department",
    "department_specs",
    multiple=True,
    required=True,
    help="A signing key to anchor with: USCC=KEYSTORE[:PASSWORD_ENV] (repeat).",
)
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--max-age", default=5.0, show_default=True, help="Anchor a smaller batch once its oldest license is this old (s)."
)
@click.option("--interval", default=1.0, show_default=True, help="Seconds between passes.")
@click.option("--once", is_flag=True, help="One pass, anchoring everything pending, then exit.")
@click.option("--confirmations", default=1, show_default=True, type=click.IntRange(1, 1000), help="Blocks to wait for.")
@click.pass_obj
def worker(
    ctx: Context,
    /,
    department_specs: tuple[str, ...],
    batch_size: int,
    max_age: float,
    interval: float,
    once: bool,
    confirmations: int,
) -> None:
    """Anchor issued licenses in batches, resuming whatever a crash interrupted; several workers may
    share one PostgreSQL store (each key is sent with by one worker at a time)."""
    import signal as _signal
    import threading as _threading

    from registry.issuer.worker import AnchorWorker

    # the worker anchors with the accounts and signs no license: an SM2 department's SM2 key stays sealed
    accounts = [_parse_department(ctx, spec, signs=False)[1] for spec in department_specs]
    base = ctx.client()
    chain = RegistryClient(base.w3, base.deployment, confirmations=confirmations, check_chain=False)
    anchor_worker = AnchorWorker(ctx.store(), chain, accounts, batch_size=batch_size, max_age=max_age)
    if once:
        results = anchor_worker.run_once(force=True)
        click.echo(f"{sum(r.count for r in results)} licenses anchored in {len(results)} batches")
        return
    stop = _threading.Event()
    _signal.signal(_signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"anchoring with {len(accounts)} key(s); stop with Ctrl-C")
    try:
        anchor_worker.run(stop, interval=interval)
    except KeyboardInterrupt:
        stop.set()


@click.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def status(ctx: Context, /, as_json: bool) -> None:
    """Issuance and anchoring progress of the issuer store: pending, prepared, anchored."""
    import time as _time

    progress = ctx.store().anchoring_status()
    oldest = progress.oldest_pending_at
    report = {
        "licenses": progress.licenses,
        "pending": progress.pending,
        "in_prepared_batches": progress.in_prepared_batches,
        "anchored": progress.anchored,
        "batches": {"prepared": progress.prepared_batches, "anchored": progress.anchored_batches},
        "oldest_pending_seconds": None if oldest is None else round(_time.time() - oldest, 1),
    }
    if as_json:
        click.echo(json.dumps(report))
    else:
        for key, value in report.items():
            click.echo(f"{key:22} {value}")


@click.group()
def apikey() -> None:
    """API keys of departments for the issuer endpoints (stored only as hashes)."""


@apikey.command("create")
@uscc_option
@click.option("--label", default="", help="What the key is for.")
@click.pass_obj
def apikey_create(ctx: Context, /, uscc: str, label: str) -> None:
    """Create a key for a department; it is printed once and never stored."""
    from api.security import ApiKeys

    key_id, key = ApiKeys(ctx.store().engine).create(uscc, label)
    click.echo(f"{key_id} {key}")


@apikey.command("list")
@click.pass_obj
def apikey_list(ctx: Context, /) -> None:
    """List keys (id, department, label, created, revoked); the keys themselves are not stored."""
    from api.security import ApiKeys

    for info_ in ApiKeys(ctx.store().engine).list():
        state = "revoked" if info_.revoked else "active"
        click.echo(f"{info_.key_id} {info_.issuer_uscc} {state} {info_.created_at} {info_.label}")


@apikey.command("revoke")
@click.argument("key_id")
@click.pass_obj
def apikey_revoke(ctx: Context, /, key_id: str) -> None:
    """Revoke a key by its id."""
    from api.security import ApiKeys

    if not ApiKeys(ctx.store().engine).revoke(key_id):
        fail(f"no API key {key_id}")
    click.echo(f"revoked {key_id}")


@click.group()
def mirror() -> None:
    """The local chain mirror verification reads (HOME/mirror.db)."""


def _mirror_url(ctx: Context) -> str:
    return os.environ.get("ELICENSE_MIRROR_DB") or f"sqlite:///{ctx.home / 'mirror.db'}"


def _mirror(ctx: Context, confirmations: int) -> tuple[RegistryClient, Mirror]:
    from verifier.mirror import Mirror

    client = ctx.client()
    return client, Mirror(_mirror_url(ctx), client.deployment, confirmations=confirmations)


@mirror.command("sync")
@click.option("--confirmations", default=2, show_default=True, type=click.IntRange(1, 1000))
@click.option(
    "--follow",
    is_flag=True,
    help="Keep syncing every 2 s until interrupted; a node that is down is retried with backoff.",
)
@click.pass_obj
def mirror_sync(ctx: Context, /, confirmations: int, follow: bool) -> None:
    """Bring the mirror up to the chain (minus the confirmation depth)."""
    import threading

    from registry import ChainUnavailableError
    from registry.document.identifiers import uscc_from_issuer_id
    from registry.periodic import run_periodically

    client, m = _mirror(ctx, confirmations)

    def sync_once() -> None:
        report = m.sync(client)
        click.echo(
            f"blocks {report.from_block}..{report.to_block} (head {report.head}): {report.events} events, "
            f"{m.index.anchored_count:,} licenses indexed"
            + (f", repaired a reorganisation {report.reorg_depth} blocks deep" if report.reorg_depth else "")
        )
        for issuer_id, dropped in m.index.dropped_anchors.items():
            click.echo(
                f"warning: {dropped:,} digests anchored by {uscc_from_issuer_id(issuer_id)} beyond the bound of "
                f"{m.max_anchors_per_issuer:,} per issuer are not indexed",
                err=True,
            )

    if not follow:
        sync_once()
        return
    run_periodically(
        sync_once,
        threading.Event(),
        interval=2.0,
        max_backoff=60.0,
        retry_on=(ChainUnavailableError,),
        on_error=lambda exc, delay: click.echo(f"warning: {exc}; retrying in {delay:.0f} s", err=True),
    )


@mirror.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def mirror_export(ctx: Context, /, path: Path) -> None:
    """Write a snapshot of the mirror (gzip JSON lines) for another verifier to start from."""
    _, m = _mirror(ctx, 2)
    click.echo(f"{m.export_snapshot(path)} events written to {path}")


@mirror.command("import")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--confirmations", default=2, show_default=True, type=click.IntRange(1, 1000))
@click.pass_obj
def mirror_import(ctx: Context, /, path: Path, confirmations: int) -> None:
    """Start this home's mirror from a snapshot, after checking it against the chain."""
    from verifier.mirror import Mirror

    client = ctx.client()
    m = Mirror.import_snapshot(path, _mirror_url(ctx), client, confirmations=confirmations)
    click.echo(
        f"mirror started from {path}: {m.index.anchored_count:,} licenses up to block {m.freshness().block_number}"
    )


COMMANDS = (serve, worker, status, apikey, mirror)
