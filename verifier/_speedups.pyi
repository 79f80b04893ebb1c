"""Types of the compiled result writer (verifier/_speedups.pyx)."""

from typing import Any

from verifier.results import VerificationResult

def configure(heads: dict[Any, bytes], memos: dict[str, Any], limit: int) -> None: ...
def license_json(result: VerificationResult, stale: dict[str, str] | None = None) -> bytes: ...
