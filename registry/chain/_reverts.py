"""Turning what web3, eth-tester or a node raises into domain errors: the one mapping every call,
dry run, send and replay of the chain client goes through (:func:`chain_errors`).

The in-process EVM (eth-tester) raises ``TransactionFailed('execution reverted: b"..."')``; a
JSON-RPC node surfaces the revert as web3's ``ContractCustomError`` / ``ContractLogicError`` or as
an RPC error whose ``data`` holds the hex revert data. Both end up here as raw bytes and are decoded
against the custom errors of the registry ABIs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import requests
from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address
from web3.exceptions import ProviderConnectionError

from registry.chain.events import snake_case
from registry.errors import (
    ERROR_CATEGORIES,
    ChainUnavailableError,
    ContractRevertError,
    RegistryError,
    TransactionError,
)
from signer import keccak256

_MARKER = "execution reverted: "


class RevertDecoder:
    """Decodes revert data (selector + ABI-encoded arguments) into :class:`ContractRevertError`."""

    def __init__(self, abis: Iterable[tuple[str, Sequence[Mapping[str, Any]]]]) -> None:
        self._errors: dict[bytes, tuple[str, str, list[tuple[str, str]]]] = {}
        for contract, abi in abis:
            for item in abi:
                if item.get("type") != "error":
                    continue
                name = str(item["name"])
                types = [str(i["type"]) for i in item["inputs"]]
                selector = keccak256(f"{name}({','.join(types)})".encode())[:4]
                params = [
                    (snake_case(str(i["name"])) or f"arg{n}", str(i["type"])) for n, i in enumerate(item["inputs"])
                ]
                self._errors.setdefault(selector, (name, contract, params))

    @property
    def error_names(self) -> set[str]:
        return {name for name, _, _ in self._errors.values()}

    def decode(self, data: bytes) -> ContractRevertError | None:
        """The domain error for ``data``; ``None`` when the selector is not a registry error."""
        spec = self._errors.get(bytes(data[:4]))
        if spec is None:
            return None
        name, contract, params = spec
        try:
            values = abi_decode([t for _, t in params], bytes(data[4:]))
        except Exception:  # noqa: BLE001 - malformed revert data from a node is reported, not raised raw
            return None
        arguments = {}
        for (field, abi_type), value in zip(params, values, strict=True):
            arguments[field] = to_checksum_address(value) if abi_type == "address" else value
        category = ERROR_CATEGORIES.get(name, ContractRevertError)
        return category(name, arguments, contract=contract)

    def from_exception(self, exc: BaseException) -> ContractRevertError | TransactionError | None:
        """Map an exception raised by web3 or eth-tester to a domain error, if it is a revert."""
        data = revert_data(exc)
        if data is not None:
            decoded = self.decode(data)
            if decoded is not None:
                return decoded
            if len(data) >= 4:
                return TransactionError(f"transaction reverted with unknown error data 0x{data.hex()}")
        text = str(exc)
        if "revert" in text.lower():
            return TransactionError(f"transaction reverted: {text}")
        return None


def _hex_bytes(value: object) -> bytes | None:
    if isinstance(value, str) and value.startswith("0x") and len(value) % 2 == 0:
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            return None
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return None


def _from_rpc_error(error: object) -> bytes | None:
    """``{"code": .., "message": .., "data": "0x.."}`` (geth, Besu) or ``{"data": {"data": "0x.."}}``
    (Hardhat)."""
    if not isinstance(error, Mapping):
        return None
    data = error.get("data")
    if isinstance(data, Mapping):
        data = data.get("data")
    return _hex_bytes(data)


def revert_data(exc: BaseException) -> bytes | None:
    """Extract raw revert bytes from the exception shapes of eth-tester, web3 and JSON-RPC nodes."""
    found = _hex_bytes(getattr(exc, "data", None))
    if found is not None:
        return found
    found = _from_rpc_error(getattr(exc, "data", None))
    if found is not None:
        return found
    response = getattr(exc, "rpc_response", None)
    if isinstance(response, Mapping):
        found = _from_rpc_error(response.get("error"))
        if found is not None:
            return found
    for arg in getattr(exc, "args", ()):
        found = _from_rpc_error(arg)
        if found is not None:
            return found
        if isinstance(arg, str) and arg.startswith(_MARKER):
            rest = arg[len(_MARKER) :].strip()
            if rest[:2] in ("b'", 'b"'):
                try:
                    value = ast.literal_eval(rest)
                except (ValueError, SyntaxError):
                    return None
                return bytes(value) if isinstance(value, bytes) else None
            return _hex_bytes(rest)
    return None


_UNREACHABLE = (requests.exceptions.ConnectionError, requests.exceptions.Timeout, ProviderConnectionError)


@contextmanager
def chain_errors(
    reverts: RevertDecoder | None = None,
    *,
    node: str = "the chain node",
    failed: str | None = None,
    failing: type[BaseException] | tuple[type[BaseException], ...] = Exception,
) -> Iterator[None]:
    """Raise what the block raises as a domain error, in this order: a domain error as it is; an
    unreachable ``node`` as :class:`ChainUnavailableError`; a revert that ``reverts`` recognises as
    its domain error; an exception of the ``failing`` kinds as ``TransactionError("{failed}: ...")``
    when ``failed`` is given; anything else as it is."""
    try:
        yield
    except RegistryError:
        raise
    except _UNREACHABLE as exc:
        raise ChainUnavailableError(f"{node} is not reachable: {exc}") from exc
    except Exception as exc:
        mapped = reverts.from_exception(exc) if reverts is not None else None
        if mapped is not None:
            raise mapped from None
        if failed is not None and isinstance(exc, failing):
            raise TransactionError(f"{failed}: {exc}") from exc
        raise
