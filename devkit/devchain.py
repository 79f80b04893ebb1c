"""Controls that only development chains have: moving time, mining, snapshots.

They work on the in-process EVM (eth-tester) and on a Hardhat node (``evm_*`` RPC methods). The
demo uses them to show time-dependent cases (a compromised key, expiry) without waiting; the tests
use them to isolate cases. A production chain has none of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from eth_account.signers.local import LocalAccount
from web3 import EthereumTesterProvider, Web3

from registry.chain.records import license_type_id
from registry.document.identifiers import issuer_id_from_uscc
from registry.errors import ConfigurationError

if TYPE_CHECKING:
    from registry.chain.client import RegistryClient

__all__ = ["bootstrap_issuer", "increase_time", "is_dev_chain", "latest_timestamp", "mine", "revert", "snapshot"]


def _tester(w3: Web3) -> Any | None:
    provider = w3.provider
    return provider.ethereum_tester if isinstance(provider, EthereumTesterProvider) else None


def is_dev_chain(w3: Web3) -> bool:
    """True on the in-process EVM and on a Hardhat node (chain id 31337)."""
    return _tester(w3) is not None or int(w3.eth.chain_id) == 31337


def _require_dev(w3: Web3) -> None:
    if not is_dev_chain(w3):
        raise ConfigurationError("time travel and snapshots exist only on development chains")


def latest_timestamp(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def mine(w3: Web3, blocks: int = 1) -> None:
    _require_dev(w3)
    tester = _tester(w3)
    if tester is not None:
        tester.mine_blocks(blocks)
    else:
        for _ in range(blocks):
            w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def increase_time(w3: Web3, seconds: int) -> int:
    """Mine a block ``seconds`` after the latest one; returns its timestamp."""
    _require_dev(w3)
    if seconds < 1:
        raise ConfigurationError("seconds must be at least 1")
    target = latest_timestamp(w3) + seconds
    tester = _tester(w3)
    if tester is not None:
        pending = int(tester.get_block_by_number("pending")["timestamp"])
        if target > pending:
            tester.time_travel(target)
        else:
            tester.mine_blocks(1)
    else:
        w3.provider.make_request("evm_setNextBlockTimestamp", [target])  # type: ignore[arg-type]
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    return latest_timestamp(w3)


def snapshot(w3: Web3) -> Any:
    """Take a snapshot of the chain state; pass the result to :func:`revert`."""
    _require_dev(w3)
    tester = _tester(w3)
    if tester is not None:
        return tester.take_snapshot()
    return w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]


def revert(w3: Web3, snapshot_id: Any) -> None:
    """Go back to a snapshot (the snapshot is consumed on a Hardhat node)."""
    _require_dev(w3)
    tester = _tester(w3)
    if tester is not None:
        tester.revert_to_snapshot(snapshot_id)
        return
    result = w3.provider.make_request("evm_revert", [snapshot_id])  # type: ignore[arg-type]
    if result.get("result") is not True:
        raise ConfigurationError(f"could not revert to snapshot {snapshot_id}: {result}")


def bootstrap_issuer(
    client: RegistryClient,
    *,
    admin: LocalAccount,
    authority: LocalAccount,
    key: LocalAccount | str,
    uscc: str,
    name: str,
    region: int = 110000,
    region_name: str = "北京市",
    license_types: Sequence[str] = (),
    acceptance: bytes | None = None,
) -> bytes:
    """Register a region (if new), its authority, an issuer with one signing key valid from now and
    the license types it may issue; returns the issuer id. For demos, benchmarks and tests.

    ``key`` is the key's account (its acceptance is signed here) or its address with the
    ``acceptance`` it signed (:func:`registry.chain.client.sign_key_acceptance`). The credit code's
    division must lie in ``region``."""
    if client.get_region(region) is None:
        client.add_region(admin, region, region_name)
    if not client.is_region_authority(region, authority.address):
        client.add_region_authority(admin, region, authority.address)
    issuer_id = issuer_id_from_uscc(uscc)
    client.register_issuer(authority, issuer_id, region, name)
    now = latest_timestamp(client.w3)
    client.add_key(authority, issuer_id, key, valid_from=now, acceptance=acceptance)
    for code in license_types:
        client.permit_license_type(authority, issuer_id, license_type_id(code), valid_from=now)
    return issuer_id
