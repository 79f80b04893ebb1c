"""Which hot path runs: the compiled one (:mod:`registry.document._speedups`, built from
``_speedups.pyx`` when the project is installed) or the pure-Python reference.

The compiled functions give the same answers as the pure ones (tests/test_speedups.py), only
faster; where the extension is not built (a source checkout without ``scripts/setup``) or
``ELICENSE_PURE_PYTHON=1`` is set, the pure path runs, and :data:`COMPILED` says which it is.
"""

from __future__ import annotations

import logging
import os
from types import ModuleType
from typing import TYPE_CHECKING, TypeVar

__all__ = ["COMPILED", "compiled_module", "frozen", "path_name"]

log = logging.getLogger("elicense.speedups")


def _load() -> ModuleType | None:
    if os.environ.get("ELICENSE_PURE_PYTHON", "") == "1":
        return None
    try:
        from registry.document import _speedups  # noqa: PLC0415 - optional compiled module
    except ImportError as exc:
        log.warning("the compiled hot path is not available (%s); running the pure-Python path", exc)
        return None
    return _speedups


_MODULE = _load()
#: Whether the compiled hot path runs.
COMPILED = _MODULE is not None


def compiled_module() -> ModuleType | None:
    """The compiled module, or ``None`` when the pure path runs."""
    return _MODULE


def path_name() -> str:
    """``compiled`` or ``pure Python``, for start-up logs and benchmark output."""
    return "compiled" if COMPILED else "pure Python (the compiled hot path is not built or is disabled)"


_T = TypeVar("_T")


def python_frozen(cls: type[_T], *values: object) -> _T:
    """``cls(*values)``: the reference of the compiled ``frozen``."""
    return cls(*values)


if TYPE_CHECKING:

    def frozen(cls: type[_T], *values: object) -> _T:
        """An instance of the frozen dataclass ``cls`` (no ``__post_init__``) with every field given,
        in declaration order: ``cls(*values)``; compiled, without a Python call per field."""
        return python_frozen(cls, *values)

else:
    frozen = python_frozen if _MODULE is None else _MODULE.frozen
