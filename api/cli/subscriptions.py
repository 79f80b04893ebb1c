"""Status subscriptions from the subscriber's side (docs/subscriptions.md): ``subscription
create|list|show|deliveries|replay|delete`` as an HTTP client of a (remote) verifier service, and
``webhook verify``, the check of a received delivery; plus the service operator's ``webhook key
create`` (the key that seals the subscriptions' secrets at rest).

The department's API key comes from an environment variable (``--api-key-env``, default
``ELICENSE_API_KEY``) or a file (``--api-key-file``), never from an argument, and is never shown; a
webhook secret likewise (``--secret-env`` / ``--secret-file``)."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click

from api.cli._context import Context, fail, key_name, password_options, password_source

__all__ = ["COMMANDS"]

F = TypeVar("F", bound=Callable[..., Any])

_SUBSCRIPTION = re.compile(r"sub_[0-9a-f]{16}")
_DELIVERY = re.compile(r"dlv_[0-9a-f]{24}")
_MAX_SECRET = 1024
_MAX_BODY_FILE = 64 * 1024


def _read_secret(env: str | None, file: Path | None, *, what: str, env_option: str, file_option: str) -> str:
    """A secret from an environment variable or the first line of a file (never an argument)."""
    if file is not None:
        try:
            if file.stat().st_size > _MAX_SECRET + 2:
                fail(f"{file_option} {file} is larger than {_MAX_SECRET} bytes; it should hold only the {what}")
            value = file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            fail(f"cannot read {file_option} {file}: {exc.strerror}")
        where = str(file)
    else:
        if not env:
            fail(f"no {what}: give {env_option} VAR or {file_option} FILE")
        value = os.environ.get(env, "").strip()
        where = f"${env}"
        if not value:
            fail(f"environment variable {env} ({what}) is not set; set it or give {file_option} FILE")
    if not 1 <= len(value) <= _MAX_SECRET or not value.isascii() or not value.isprintable():
        fail(f"the {what} from {where} must be 1 to {_MAX_SECRET} printable ASCII characters")
    return value


class Service:
    """The verifier service's subscription endpoints, with the department's API key."""

    def __init__(self, url: str, api_key: str, timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
            fail("--service must be the service's http(s)://host[:port] URL, without credentials")
        self.base = url.rstrip("/") + "/v1/subscriptions"
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        self.timeout = timeout

    def call(self, method: str, path: str = "", **kwargs: Any) -> Any:
        import requests

        try:
            answer = requests.request(
                method, self.base + path, headers=self.headers, timeout=self.timeout, allow_redirects=False, **kwargs
            )
        except requests.RequestException as exc:
            fail(f"cannot reach the service at {self.origin}: {type(exc).__name__}")
        if answer.status_code == 204:
            return None
        try:
            body = answer.json()
        except ValueError:
            body = None
        if not 200 <= answer.status_code < 300:
            detail = body.get("detail") if isinstance(body, dict) else None
            title = body.get("title") if isinstance(body, dict) else None
            fail(f"the service answered {answer.status_code} {title or answer.reason}: {detail or answer.text[:200]}")
        return body


def _service_options(fn: F) -> F:
    fn = click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(0.1, 600))(fn)
    fn = click.option(
        "--api-key-file", type=click.Path(dir_okay=False, path_type=Path), help="Read the API key from this file."
    )(fn)
    fn = click.option(
        "--api-key-env",
        metavar="VAR",
        default="ELICENSE_API_KEY",
        show_default=True,
        help="Environment variable holding the department's API key (elk_...).",
    )(fn)
    return click.option(
        "--service",
        envvar="ELICENSE_SERVICE",
        required=True,
        metavar="URL",
        help="The verifier service, e.g. https://verify.region.example (default $ELICENSE_SERVICE).",
    )(fn)


def _service(opts: dict[str, Any]) -> Service:
    key = _read_secret(
        opts.pop("api_key_env"),
        opts.pop("api_key_file"),
        what="API key",
        env_option="--api-key-env",
        file_option="--api-key-file",
    )
    return Service(opts.pop("service"), key, opts.pop("timeout"))


def _id(value: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.fullmatch(value):
        fail(f"{value[:40]!r} is not a {what} id (expected {pattern.pattern})")
    return value


def _show(item: dict[str, Any]) -> str:
    target = f"issuer {item['issuer']}" if item.get("issuer") else f"digest {item.get('digest')}"
    if item.get("license_id"):
        target += f" (license {item['license_id']})"
    state = "active" if item.get("active") else "ended"
    return f"{item['id']} {state} {target} -> {item['callback_url']}"


def _emit(data: Any, as_json: bool, line: Callable[[Any], str]) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        for item in data if isinstance(data, list) else [data]:
            click.echo(line(item))


@click.group()
def subscription() -> None:
    """Status subscriptions at a verifier service (its HTTP API, with your department's API key)."""


@subscription.command("create")
@_service_options
@click.option("--callback-url", required=True, help="Where the service POSTs the signed deliveries (http(s)).")
@click.option("--issuer", help="Every license of this issuer (credit code).")
@click.option("--license-id", help="A license (with --digest unless the service issued it).")
@click.option("--digest", help="The license's digest (0x + 64 hex), from its verification result.")
@click.option(
    "--secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the secret (shown only once) to this new file (mode 0600) instead of printing it.",
)
@click.option("--json", "as_json", is_flag=True)
def subscription_create(
    callback_url: str,
    issuer: str | None,
    license_id: str | None,
    digest: str | None,
    secret_file: Path | None,
    as_json: bool,
    **opts: Any,
) -> None:
    """Subscribe; the answer's secret signs the deliveries and is shown only this once."""
    if (issuer is not None) == (license_id is not None or digest is not None):
        fail("name exactly one target: --issuer, or --license-id and/or --digest")
    fd = None
    if secret_file is not None:  # made before subscribing: a secret is never lost to an unwritable file
        try:
            fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            fail(f"cannot create {secret_file}: {exc.strerror} (a secret file is never overwritten)")
    body = {"callback_url": callback_url, "issuer": issuer, "license_id": license_id, "digest": digest}
    try:
        made = _service(opts).call("POST", json={k: v for k, v in body.items() if v is not None})
    except BaseException:
        if fd is not None and secret_file is not None:  # nothing made: no empty secret file left
            os.close(fd)
            secret_file.unlink()
        raise
    if fd is not None:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(made.pop("secret") + "\n")
        click.echo(f"secret written to {secret_file}", err=True)
    _emit(made, as_json, lambda s: _show(s) + (f"\nsecret (shown once): {s['secret']}" if "secret" in s else ""))


@subscription.command("list")
@_service_options
@click.option("--json", "as_json", is_flag=True)
def subscription_list(as_json: bool, **opts: Any) -> None:
    """Your department's active subscriptions."""
    _emit(_service(opts).call("GET"), as_json, _show)


@subscription.command("show")
@click.argument("subscription_id")
@_service_options
@click.option("--json", "as_json", is_flag=True)
def subscription_show(subscription_id: str, as_json: bool, **opts: Any) -> None:
    """One subscription (ended ones too)."""
    sub = _id(subscription_id, _SUBSCRIPTION, "subscription")
    _emit(_service(opts).call("GET", f"/{sub}"), as_json, _show)


def _delivery_line(d: dict[str, Any]) -> str:
    error = f" ({d['last_error']})" if d.get("last_error") else ""
    return (
        f"{d['sequence']:>6} {d['delivery_id']} {d['event']:<15} {d['state']:<9} attempts {d['attempts']}"
        f" block {d['block_number']} {d['digest']}{error}"
    )


@subscription.command("deliveries")
@click.argument("subscription_id")
@_service_options
@click.option("--state", type=click.Choice(["pending", "delivered", "failed", "cancelled"]))
@click.option("--after", default=0, type=click.IntRange(0, 2**62), help="Only after this sequence number.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True)
def subscription_deliveries(
    subscription_id: str, state: str | None, after: int, limit: int, as_json: bool, **opts: Any
) -> None:
    """A subscription's deliveries: state, attempts, last error."""
    sub = _id(subscription_id, _SUBSCRIPTION, "subscription")
    params: dict[str, Any] = {"after": after, "limit": limit} | ({"state": state} if state else {})
    _emit(_service(opts).call("GET", f"/{sub}/deliveries", params=params), as_json, _delivery_line)


@subscription.command("replay")
@click.argument("subscription_id")
@click.argument("delivery_id")
@_service_options
@click.option("--json", "as_json", is_flag=True)
def subscription_replay(subscription_id: str, delivery_id: str, as_json: bool, **opts: Any) -> None:
    """Have a delivery sent again (same delivery id)."""
    sub = _id(subscription_id, _SUBSCRIPTION, "subscription")
    dlv = _id(delivery_id, _DELIVERY, "delivery")
    _emit(_service(opts).call("POST", f"/{sub}/deliveries/{dlv}/replay"), as_json, _delivery_line)


@subscription.command("delete")
@click.argument("subscription_id")
@_service_options
def subscription_delete(subscription_id: str, **opts: Any) -> None:
    """End a subscription; its pending deliveries are cancelled."""
    sub = _id(subscription_id, _SUBSCRIPTION, "subscription")
    _service(opts).call("DELETE", f"/{sub}")
    click.echo(f"ended {sub}")


@click.group()
def webhook() -> None:
    """Webhooks: check a received delivery; the service's key that seals subscription secrets."""


@webhook.command("verify")
@click.option("--secret-env", metavar="VAR", help="Environment variable holding the subscription's secret.")
@click.option("--secret-file", type=click.Path(dir_okay=False, path_type=Path), help="Or a file holding it.")
@click.option("--body", "body_file", required=True, help="The received body, byte for byte ('-': standard input).")
@click.option("--signature", required=True, help="The X-Elicense-Signature header (sha256=...).")
@click.option("--timestamp", required=True, help="The X-Elicense-Timestamp header.")
@click.option("--delivery", required=True, help="The X-Elicense-Delivery header.")
@click.option("--tolerance", default=300.0, show_default=True, type=click.FloatRange(1, 86_400 * 366))
def webhook_verify(
    secret_env: str | None,
    secret_file: Path | None,
    body_file: str,
    signature: str,
    timestamp: str,
    delivery: str,
    tolerance: float,
) -> None:
    """Check a received delivery's signature and age; prints its delivery id (exit 0) or why not (2)."""
    from verifier.webhooks import (
        DELIVERY_HEADER,
        MAX_BODY,
        SIGNATURE_HEADER,
        TIMESTAMP_HEADER,
        WebhookSignatureError,
        verify_webhook,
    )

    secret = _read_secret(
        secret_env, secret_file, what="webhook secret", env_option="--secret-env", file_option="--secret-file"
    )
    try:
        if body_file == "-":
            body = sys.stdin.buffer.read(MAX_BODY + 1)
        else:
            with open(body_file, "rb") as fh:
                body = fh.read(MAX_BODY + 1)
    except OSError as exc:
        fail(f"cannot read --body {body_file}: {exc.strerror}")
    headers = {DELIVERY_HEADER: delivery, TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature}
    try:
        click.echo(verify_webhook(secret, headers, body, tolerance=tolerance))
    except WebhookSignatureError as exc:
        fail(f"the delivery does not check out: {exc}")


@webhook.group("key")
def webhook_key() -> None:
    """The service's webhook key (AES-256-GCM), sealing the subscriptions' secrets at rest."""


@webhook_key.command("create")
@click.argument("name")
@password_options
@click.pass_obj
def webhook_key_create(ctx: Context, /, name: str, password_env: str | None, password_file: Path | None) -> None:
    """Make a new webhook key in HOME/keys/NAME.json (scrypt-encrypted, mode 0600); start the
    service with ELICENSE_WEBHOOK_KEY=NAME and its password in ELICENSE_WEBHOOK_KEY_PASSWORD."""
    from api.subscription_secrets import WebhookKey

    path = ctx.keys_dir / f"{key_name(name)}.json"
    key = WebhookKey.generate()
    key.save(path, password_source(password_env, password_file).read(purpose=str(path), confirm=True))
    click.echo(f"webhook key {key.key_id.hex()} written to {path}")


COMMANDS = (subscription, webhook)
