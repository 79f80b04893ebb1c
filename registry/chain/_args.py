"""Argument checks of the chain client, made before anything touches the chain."""

from __future__ import annotations

import math
from collections.abc import Sequence

from eth_utils.address import is_address, to_checksum_address

from registry.errors import ConfigurationError

MAX_BATCH_SIZE = 10_000
#: Most licenses per status change: the first write of each status costs about 24,000 gas, and a
#: transaction may use at most 2^24 gas (EIP-7825, in force since the Osaka upgrade).
MAX_STATUS_BATCH = 500
MAX_ACCEPTANCE_BYTES = 4096  # an ECDSA signature is 65 bytes; a contract key's (ERC-1271) may be longer
UINT64_MAX = 2**64 - 1
UINT16_MAX = 2**16 - 1
_MAX_STRING_BYTES = 1024


def bytes32(name: str, value: object, *, nonzero: bool = True) -> bytes:
    if not isinstance(value, bytes) or len(value) != 32:
        raise ConfigurationError(f"{name} must be 32 bytes, got {value!r}")
    if nonzero and value == b"\x00" * 32:
        raise ConfigurationError(f"{name} must not be zero")
    return value


def address(name: str, value: object) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise ConfigurationError(f"{name} must be a 0x-prefixed 20-byte address, got {value!r}")
    return to_checksum_address(value)


def uint(name: str, value: object, maximum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
        raise ConfigurationError(f"{name} must be an integer from 0 to {maximum}, got {value!r}")
    return value


def text(name: str, value: object) -> str:
    if not isinstance(value, str) or len(value.encode("utf-8")) > _MAX_STRING_BYTES:
        raise ConfigurationError(f"{name} must be a string of at most {_MAX_STRING_BYTES} UTF-8 bytes")
    return value


def digests(name: str, values: Sequence[bytes], *, maximum: int = MAX_BATCH_SIZE) -> list[bytes]:
    if not isinstance(values, Sequence) or isinstance(values, bytes | str):
        raise ConfigurationError(f"{name} must be a list of 32-byte digests")
    if not values:
        raise ConfigurationError(f"{name} must hold at least one digest")
    if len(values) > maximum:
        raise ConfigurationError(f"{name} holds {len(values)} digests; at most {maximum} per transaction")
    return [bytes32(f"{name}[{i}]", v) for i, v in enumerate(values)]


def region(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 100000 <= value <= 999999:
        raise ConfigurationError(f"region must be a six-digit GB/T 2260 code such as 110000, got {value!r}")
    return value


def words(value: str) -> int:
    """32-byte words ``value`` takes in storage (for the gas limit)."""
    return math.ceil(len(value.encode("utf-8")) / 32)
