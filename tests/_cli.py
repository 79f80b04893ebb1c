"""The ``elicense`` command run in the test's own process, as its console script runs it
(:func:`api.cli.main`, with its error translation and exit codes), its output captured: the same
answer as a subprocess, without paying the interpreter's start and the command line's imports
(seconds each) on every call. A command that runs a service (:data:`PROCESS_COMMANDS`) is started
as a process of its own, as are the tests whose subject is the process itself (signals, a crash)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path

from click.testing import CliRunner

from api.cli import main

__all__ = ["ELICENSE", "PROCESS_COMMANDS", "run_elicense"]

ELICENSE = Path(sys.executable).parent / "elicense"
#: Commands that run a service (a port, signal handlers, threads that outlive a call): always a
#: process of their own, as a user starts them.
PROCESS_COMMANDS = frozenset({"serve", "worker"})
#: The group's options that take a value (before the command's name).
_GROUP_OPTIONS = frozenset({"--home", "--rpc-url", "--db"})


def _command(args: tuple[str, ...]) -> str | None:
    """The command's name in ``args`` (after the group's options)."""
    at = 0
    while at < len(args):
        if args[at] in _GROUP_OPTIONS:
            at += 2
        elif args[at].startswith("-"):
            at += 1
        else:
            return args[at]
    return None


def run_elicense(
    *args: str, env: Mapping[str, str | None] | None = None, input: str | bytes | None = None
) -> subprocess.CompletedProcess[str]:
    """``elicense ARGS`` with ``env`` (the whole environment, or the variables to change: ``None``
    removes one) and ``input`` on stdin; what a subprocess would give: its exit code, stdout and stderr."""
    if _command(args) in PROCESS_COMMANDS:  # a service's own process: its port, its signals, its exit
        return subprocess.run(
            [str(ELICENSE), *args],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            input=input.decode() if isinstance(input, bytes) else input,
            stdin=subprocess.DEVNULL if input is None else None,  # never the test runner's own stdin
            env=None if env is None else {k: v for k, v in {**os.environ, **env}.items() if v is not None},
        )
    runner = CliRunner()
    with runner.isolation(input=input, env=dict(env) if env is not None else None) as (out, err, _):
        argv = sys.argv
        sys.argv = ["elicense", *args]
        code: int = 0
        try:
            main()
        except SystemExit as exc:
            if isinstance(exc.code, int):
                code = exc.code
            elif exc.code is not None:  # sys.exit("message"): printed, and the code is 1
                print(exc.code, file=sys.stderr)
                code = 1
        finally:
            sys.argv = argv
            sys.stdout.flush()
            sys.stderr.flush()
            with warnings.catch_warnings():  # what the command left open is closed, as its exit would close it
                warnings.simplefilter("ignore", ResourceWarning)
                gc.collect()
        stdout = out.getvalue().decode("utf-8", errors="replace")
        stderr = err.getvalue().decode("utf-8", errors="replace")
    return subprocess.CompletedProcess(["elicense", *args], code, stdout, stderr)
