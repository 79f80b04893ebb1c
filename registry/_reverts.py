"""Turning contract reverts into domain errors, from the in-process EVM and JSON-RPC alike.

The in-process EVM (eth-tester) raises ``TransactionFailed('execution reverted: b"..."')``; a
JSON-RPC node surfaces the revert as web3's ``ContractCustomError`` / ``ContractLogicError`` or as
an RPC error whose ``data`` holds the hex revert data. Both end up here as raw bytes and are decoded
against the custom errors of the registry ABIs.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import to_checksum_address

from registry._keccak import keccak256
from registry.errors import ERROR_CATEGORIES, ContractRevertError, TransactionError
from registry.events import snake_case

_HEX = re.compile(r"0x[0-9a-fA-F]{8,}")


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
                params = [(snake_case(str(i["name"])) or f"arg{n}", str(i["type"])) for n, i in enumerate(item["inputs"])]
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


def revert_data(exc: BaseException) -> bytes | None:
    """Extract raw revert bytes from the exception shapes of eth-tester, web3 and JSON-RPC nodes."""
    data: Any = getattr(exc, "data", None)
    if isinstance(data, Mapping):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return None
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, Mapping):
            nested = arg.get("data")
            if isinstance(nested, Mapping):
                nested = nested.get("data")
            if isinstance(nested, str) and nested.startswith("0x"):
                return bytes.fromhex(nested[2:])
        if isinstance(arg, bytes | bytearray) and len(arg) >= 4:
            return bytes(arg)
        if isinstance(arg, str):
            marker = "execution reverted: "
            if arg.startswith(marker):
                rest = arg[len(marker) :]
                if rest[:2] in ("b'", 'b"'):
                    try:
                        value = ast.literal_eval(rest)
                    except (ValueError, SyntaxError):
                        return None
                    return bytes(value) if isinstance(value, bytes) else None
            match = _HEX.search(arg) if "revert" in arg.lower() else None
            if match and len(match.group(0)) % 2 == 0:
                return bytes.fromhex(match.group(0)[2:])
    return None
