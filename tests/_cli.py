"""The ``elicense`` command run in the test's own process, as its console script runs it
(:func:`api.cli.main`, with its error translation and exit codes), its output captured: the same
answer as a subprocess, without paying the interpreter's start and the command line's imports
(seconds each) on every call. Tests whose subject is the process itself (signals, a server, a
crash) still start one."""

from __future__ import annotations

import gc
import subprocess
import sys
import warnings
from collections.abc import Mapping

from click.testing import CliRunner

from api.cli import main

__all__ = ["run_elicense"]


def run_elicense(
    *args: str, env: Mapping[str, str | None] | None = None, input: str | bytes | None = None
) -> subprocess.CompletedProcess[str]:
    """``elicense ARGS`` with ``env`` (the whole environment, or the variables to change: ``None``
    removes one) and ``input`` on stdin; what a subprocess would give: its exit code, stdout and stderr."""
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
