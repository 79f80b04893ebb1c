"""A local ``hardhat node`` for the JSON-RPC tests, the benchmarks and the chaos run.

The node is started on port 0: the kernel picks a free port when the node binds, and the node
announces it ("Started HTTP and WebSocket JSON-RPC server at http://127.0.0.1:PORT/"), which is read
from its log. No port is chosen beforehand, so no other process can take it in between.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import requests

from devkit.waiting import StartError, wait_until

__all__ = ["HARDHAT", "HardhatNode", "start_hardhat_node"]

ROOT = Path(__file__).resolve().parent.parent
HARDHAT = ROOT / "node_modules" / ".bin" / "hardhat"
_ANNOUNCED = re.compile(rb"JSON-RPC server at (http://127\.0\.0\.1:\d+)")


@dataclass
class HardhatNode:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def _announced_url(process: subprocess.Popen[bytes], log: Path) -> str | None:
    """The URL the node announced in ``log``, or None while it has not yet."""
    found = _ANNOUNCED.search(log.read_bytes())
    if found is not None:
        return found.group(1).decode()
    if process.poll() is not None:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise StartError(f"hardhat node exited with {process.returncode}: {tail}")
    return None


def _answers(url: str) -> bool:
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    try:
        return requests.post(url, json=body, timeout=1).ok
    except requests.RequestException:
        return False


def start_hardhat_node(log_dir: Path, *, seconds: float = 60) -> HardhatNode:
    """Start ``hardhat node`` on a loopback port of the kernel's choosing, logging to a file in
    ``log_dir``, and wait until it answers ``eth_chainId``."""
    if not HARDHAT.exists():
        raise StartError("node_modules is missing: run scripts/setup (npm ci) first")
    node = shutil.which("node")
    if node is None:
        raise StartError("Node.js is not on PATH; a hardhat node needs it")
    with tempfile.NamedTemporaryFile(prefix="hardhat-node-", suffix=".log", dir=log_dir, delete=False) as out:
        log = Path(out.name)
        process = subprocess.Popen(  # noqa: S603 - node and the project's own hardhat
            [node, str(HARDHAT), "node", "--hostname", "127.0.0.1", "--port", "0"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    started = HardhatNode(url="", process=process, log=log)
    try:
        started.url = wait_until(
            lambda: _announced_url(process, log), timeout=seconds, what="hardhat node announcing its port"
        )
        wait_until(lambda: _answers(started.url), timeout=seconds, what=f"hardhat node at {started.url} answering")
    except BaseException:
        started.stop()
        raise
    return started
