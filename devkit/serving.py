"""Serving the app for tests and benchmarks: on a socket the kernel bound (port 0) when the server
runs in this process, and ``elicense serve`` in a subprocess.

``elicense serve`` takes its port on the command line and accepts no port 0, so
:func:`serve_command` picks a port the kernel just handed out and, when another process binds it
first ("address already in use"), tries another. A server that answers on the port counts only when
it is the started process that listens there, never a neighbour that took the port.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import requests

from devkit.waiting import StartError, wait_until

__all__ = ["ServedProcess", "listening_socket", "serve_command"]

HOST = "127.0.0.1"


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


def _listens_on(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds the listening TCP socket on ``port`` (read from /proc; where
    there is no /proc, assumed)."""
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        return True
    inodes = set()
    for table in tables:
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{inode}]")
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False  # the process just exited: the caller sees that next
    for fd in fds:
        try:
            if os.readlink(fd) in inodes:
                return True
        except OSError:
            continue
    return False


class _PortTakenError(Exception):
    pass


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


def _up(process: subprocess.Popen[bytes], log: Path, base: str, port: int) -> bool:
    if process.poll() is not None:
        output = log.read_text(encoding="utf-8", errors="replace")
        if "address already in use" in output:
            raise _PortTakenError
        raise StartError(f"the service exited with {process.returncode}: {output[-3000:]}")
    return _healthy(base) and _listens_on(process.pid, port)


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _start(
    command: Sequence[str], port: int, log: Path, env: Mapping[str, str] | None, seconds: float
) -> ServedProcess:
    with log.open("wb") as out:
        process = subprocess.Popen(list(command), env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603 - the caller's command
    served = ServedProcess(process, f"http://{HOST}:{port}", log)
    try:
        wait_until(
            lambda: _up(process, log, served.url, port),
            timeout=seconds,
            what=f"the service on port {port} answering /healthz",
        )
    except BaseException:
        served.stop()
        raise
    return served


def serve_command(
    command: Callable[[int], Sequence[str]],
    *,
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    seconds: float = 120,
    attempts: int = 5,
) -> ServedProcess:
    """Run ``command(port)`` (a server that binds 127.0.0.1:port), its output to a file in
    ``log_dir``, and wait until it answers ``/healthz``; fails with its output if it exits first."""
    for attempt in range(attempts):
        port = _unused_port()
        try:
            return _start(command(port), port, log_dir / f"serve-{port}-{attempt}.log", env, seconds)
        except _PortTakenError:
            continue
    raise StartError(f"another process took the chosen port each time, {attempts} times")
