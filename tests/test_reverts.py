"""Reverts are mapped to the same domain errors whatever shape the backend reports them in."""

from __future__ import annotations

import pytest
from conftest import ISSUER_A, World, digests
from eth_tester.exceptions import TransactionFailed
from web3.exceptions import ContractCustomError, ContractLogicError

from registry import InvalidStateError, TransactionError, UnauthorizedError
from registry.chain._reverts import RevertDecoder, revert_data
from registry.chain.artifacts import load_artifact
from registry.chain.transport import Transport

DECODER = RevertDecoder([(n, load_artifact(n).abi) for n in ("TrustRegistry", "LicenseRegistry")])
# LicenseRegistryZeroDigest(uint256 index) with index = 3
ZERO_DIGEST = bytes.fromhex(
    __import__("signer._keccak", fromlist=["keccak256"]).keccak256(b"LicenseRegistryZeroDigest(uint256)")[:4].hex()
) + (3).to_bytes(32, "big")


@pytest.mark.parametrize(
    "exc",
    [
        TransactionFailed("execution reverted: " + repr(ZERO_DIGEST)),
        ContractCustomError("0x" + ZERO_DIGEST.hex(), data="0x" + ZERO_DIGEST.hex()),
        ContractLogicError("execution reverted", data="0x" + ZERO_DIGEST.hex()),
        ValueError({"code": -32603, "message": "reverted", "data": {"data": "0x" + ZERO_DIGEST.hex()}}),
        RuntimeError("execution reverted: 0x" + ZERO_DIGEST.hex()),
    ],
    ids=["eth-tester", "custom-error", "logic-error", "rpc-dict", "rpc-message"],
)
def test_each_backend_shape_maps_to_the_named_error(exc):
    assert revert_data(exc) == ZERO_DIGEST
    mapped = DECODER.from_exception(exc)
    assert mapped is not None
    assert type(mapped).__name__ == "InvalidArgumentError"
    assert mapped.error_name == "LicenseRegistryZeroDigest"  # type: ignore[union-attr]
    assert mapped.arguments == {"index": 3}  # type: ignore[union-attr]
    assert str(mapped) == "LicenseRegistryZeroDigest(index=3)"


def test_unknown_revert_data_is_a_transaction_error_not_a_crash():
    mapped = DECODER.from_exception(ContractCustomError("0xdeadbeef", data="0xdeadbeef"))
    assert isinstance(mapped, TransactionError)
    assert DECODER.decode(b"\x01\x02") is None
    # a non-revert message holding a hex string is not mistaken for revert data
    assert revert_data(RuntimeError("nonce too low for 0x" + "ab" * 20)) is None
    assert DECODER.from_exception(RuntimeError("connection reset")) is None


def test_a_revert_that_slips_past_the_dry_run_is_still_named(world: World, monkeypatch):
    """A transaction that fails when mined (state changed between the dry run and the block) is
    reported with its custom error, on both backends."""
    c = world.client
    batch = digests(1)
    c.anchor(world.key_a, batch)
    c.revoke(world.key_a, ISSUER_A, batch, reason=1)
    monkeypatch.setattr(Transport, "dry_run", lambda self, sender, fn: None)
    with pytest.raises(InvalidStateError) as info:
        c.revoke(world.key_a, ISSUER_A, batch, reason=1)
    assert info.value.error_name == "LicenseRegistryStatusFinal"
    with pytest.raises(UnauthorizedError) as uinfo:
        c.add_region(world.stranger, 120000, "天津市")
    assert uinfo.value.error_name == "AccessControlUnauthorizedAccount"
