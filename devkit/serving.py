"""Serving the app for tests and benchmarks: on a socket the kernel bound (port 0) when the server
runs in this process, and ``elicense serve --port 0`` in a subprocess, which binds a port the kernel
picks and reports it on its ``Listening on http://HOST:PORT`` line.
"""

from __future__ import annotations

import re
import socket
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import requests

from devkit.waiting import StartError, wait_until

__all__ = ["ServedProcess", "listening_socket", "serve_command"]

HOST = "127.0.0.1"
_LISTENING = re.compile(rb"Listening on http://[^\s:]+:(\d+)")


def listening_socket(port: int = 0) -> socket.socket:
    """A loopback TCP socket bound to ``port`` (0: one the kernel picks) and listening; pass it to
    the server (``uvicorn.Server(...).run(sockets=[sock])``) and read the port from
    ``sock.getsockname()[1]``."""
    return socket.create_server((HOST, port))


def _healthy(base: str) -> bool:
    try:
        return requests.get(base + "/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


@dataclass
class ServedProcess:
    """A started server process, its base URL and the file its output goes to."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 20) -> str:
        """Terminate the process (SIGTERM: uvicorn shuts down cleanly) and return its output."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        return self.output()


def _reported_port(process: subprocess.Popen[bytes], log: Path) -> int | None:
    output = log.read_bytes()
    if process.poll() is not None:
        text = output.decode("utf-8", errors="replace")
        raise StartError(f"the service exited with {process.returncode}: {text[-3000:]}")
    found = _LISTENING.search(output)
    return int(found.group(1)) if found else None


def serve_command(
    command: Callable[[int], Sequence[str]],
    *,
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    seconds: float = 120,
) -> ServedProcess:
    """Run ``command(0)`` (a server told to bind port 0 that reports the port it got on a
    ``Listening on http://HOST:PORT`` line), its output to a file in ``log_dir``, and wait until it
    answers ``/healthz``; fails with its output if it exits first."""
    log = log_dir / "serve.log"
    for n in range(1, 1000):
        if not log.exists():
            break
        log = log_dir / f"serve-{n}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(list(command(0)), env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603 - the caller's command
    try:
        port = wait_until(lambda: _reported_port(process, log), timeout=seconds, what="the service's port")
        served = ServedProcess(process, f"http://{HOST}:{port}", log)
        wait_until(
            lambda: _reported_port(process, log) is not None and _healthy(served.url),
            timeout=seconds,
            what=f"the service on port {port} answering /healthz",
        )
    except BaseException:
        if process.poll() is None:
            process.kill()
            process.wait(20)
        raise
    return served
