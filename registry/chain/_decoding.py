"""The base of the event records and the decoder of raw logs (see :mod:`registry.chain.events`,
which declares every record and re-exports these)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address

from registry.errors import ConfigurationError
from signer import keccak256

__all__ = ["EVENT_TYPES", "EventDecoder", "LogMeta", "RegistryEvent", "snake_case"]


@dataclass(frozen=True, slots=True)
class LogMeta:
    """Where a log sits in the chain."""

    address: str
    block_number: int
    block_hash: bytes
    transaction_hash: bytes
    log_index: int


@dataclass(frozen=True, slots=True)
class RegistryEvent:
    """Base of every event record."""

    meta: LogMeta


#: The record type of each event, by event name.
EVENT_TYPES: dict[str, type[RegistryEvent]] = {}
_E = TypeVar("_E", bound=type[RegistryEvent])


def _event(cls: _E) -> _E:
    """Register ``cls`` as the record of the event of the same name."""
    EVENT_TYPES[cls.__name__] = cls
    return cls


_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])|(?<=[A-Z])([A-Z])(?=[a-z])")


def snake_case(name: str) -> str:
    """``profileURI`` -> ``profile_uri``, ``issuerId`` -> ``issuer_id``."""
    return _CAMEL.sub(lambda m: "_" + (m.group(1) or m.group(2)), name).lower()


def _abi_type(item: Mapping[str, Any]) -> str:
    return str(item["type"])


def _convert(abi_type: str, value: Any) -> Any:
    if abi_type == "address":
        return to_checksum_address(value)
    if abi_type.endswith("[]"):
        inner = abi_type[:-2]
        return tuple(_convert(inner, v) for v in value)
    return value


@dataclass(frozen=True, slots=True)
class _EventSpec:
    cls: type[RegistryEvent]
    indexed: tuple[tuple[str, str], ...]  # (field, abi type)
    data: tuple[tuple[str, str], ...]


class EventDecoder:
    """Decodes raw logs (dicts as returned by ``eth_getLogs``) into event records."""

    def __init__(self, abis: Sequence[Sequence[Mapping[str, Any]]]) -> None:
        self._specs: dict[bytes, _EventSpec] = {}
        for abi in abis:
            for item in abi:
                if item.get("type") != "event":
                    continue
                name = str(item["name"])
                cls = EVENT_TYPES.get(name)
                if cls is None:
                    raise ConfigurationError(f"the contract ABI has an event {name} this package does not know")
                inputs = item["inputs"]
                names = [snake_case(i["name"]) for i in inputs]
                if names != [f.name for f in fields(cls) if f.name != "meta"]:
                    raise ConfigurationError(f"the record of {name} does not have the ABI's inputs {names}")
                signature = f"{name}({','.join(_abi_type(i) for i in inputs)})"
                topic = keccak256(signature.encode())
                self._specs[topic] = _EventSpec(
                    cls=cls,
                    indexed=tuple((snake_case(i["name"]), _abi_type(i)) for i in inputs if i["indexed"]),
                    data=tuple((snake_case(i["name"]), _abi_type(i)) for i in inputs if not i["indexed"]),
                )

    @property
    def topics(self) -> list[bytes]:
        """topic0 of every known event."""
        return list(self._specs)

    def decode(self, log: Mapping[str, Any]) -> RegistryEvent | None:
        """Decode one log; ``None`` when its topic0 is not one of the registry events."""
        topics = [bytes(t) for t in log["topics"]]
        if not topics:
            return None
        spec = self._specs.get(topics[0])
        if spec is None:
            return None
        if len(topics) - 1 != len(spec.indexed):
            raise ConfigurationError(f"log of {spec.cls.__name__} has {len(topics) - 1} indexed topics")
        values: dict[str, Any] = {}
        for (field, abi_type), topic in zip(spec.indexed, topics[1:], strict=True):
            (values[field],) = abi_decode([abi_type], topic)
            values[field] = _convert(abi_type, values[field])
        decoded = abi_decode([t for _, t in spec.data], bytes(log["data"]))
        for (field, abi_type), value in zip(spec.data, decoded, strict=True):
            values[field] = _convert(abi_type, value)
        meta = LogMeta(
            address=to_checksum_address(log["address"]),
            block_number=int(log["blockNumber"]),
            block_hash=bytes(log["blockHash"]),
            transaction_hash=bytes(log["transactionHash"]),
            log_index=int(log["logIndex"]),
        )
        return spec.cls(meta=meta, **values)
