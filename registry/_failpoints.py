"""Failpoints for the crash tests: ``$ELICENSE_FAILPOINT`` names a point where the process kills
itself with SIGKILL (no clean-up, like a power cut). Unset in production: each check is one
environment lookup."""

from __future__ import annotations

import os
import signal

FAILPOINT_ENV = "ELICENSE_FAILPOINT"


def failpoint(name: str) -> None:
    if os.environ.get(FAILPOINT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
