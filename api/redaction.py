"""Keeping credentials out of what the service shows: chain node URLs often carry an API key (in
the path, the query or the user part), and connection errors quote them."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["RedactingFilter", "display_url", "redact", "redact_library_logs"]

_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
# urllib3 and requests quote the request path without its scheme: "... with url: /v3/KEY (Caused by"
_WITH_URL = re.compile(r"(with url: )\S+")


def display_url(url: str) -> str:
    """``scheme://host:port`` of a URL, without its user part, path and query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "") if parts.scheme else "<url>"


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every URL cut to ``scheme://host:port``, quoted request paths removed, and
    each of ``secrets`` (for example the configured RPC URL and its parts) replaced."""
    for secret in secrets:
        if not secret:
            continue
        parts = urlsplit(secret)
        pieces = [
            secret,
            parts.path if len(parts.path) > 1 else "",
            parts.query,
            parts.password or "",
            parts.username or "",
        ]
        for piece in sorted((p for p in pieces if len(p) >= 4), key=len, reverse=True):
            text = text.replace(piece, "<redacted>")
    text = _URL.sub(lambda m: display_url(m.group(0)), text)
    return _WITH_URL.sub(r"\1<redacted>", text)


class RedactingFilter(logging.Filter):
    """Rewrites a log record's message with :func:`redact` (HTTP client libraries log the full
    request URL at debug level)."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def redact_library_logs(secrets: Iterable[str | None], prefixes: tuple[str, ...] = ("web3", "urllib3")) -> None:
    """Attach a :class:`RedactingFilter` to every logger of the chain client's HTTP libraries."""
    names = [n for n in list(logging.root.manager.loggerDict) if n.split(".")[0] in prefixes]
    redacting = RedactingFilter(secrets)
    for name in [*prefixes, *names]:
        logger = logging.getLogger(name)
        logger.filters = [f for f in logger.filters if not isinstance(f, RedactingFilter)]
        logger.addFilter(redacting)
