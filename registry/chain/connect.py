"""Connecting to a chain: a JSON-RPC node by URL or a fresh in-process EVM, and the pre-funded
accounts of a development chain."""

from __future__ import annotations

from urllib.parse import urlparse

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import EthereumTesterProvider, HTTPProvider, Web3

from registry.chain._reverts import chain_errors
from registry.errors import ConfigurationError

__all__ = ["HARDHAT_CHAIN_ID", "connect", "dev_accounts"]

HARDHAT_CHAIN_ID = 31337
_HARDHAT_MNEMONIC = "test test test test test test test test test test test junk"


def connect(rpc_url: str | None = None, *, timeout: float = 30.0) -> Web3:
    """A ``Web3`` for ``rpc_url`` (``http(s)://...``), or a fresh in-process EVM when ``None``.

    Raises :class:`ChainUnavailableError` when the node does not answer ``eth_chainId``.
    """
    if rpc_url is None:
        # the in-process EVM (py-evm) is imported only when asked for: it costs most of a second,
        # which every command against a node would otherwise pay at start
        from registry.chain._fast_evm import embedded_provider  # noqa: PLC0415

        return Web3(embedded_provider())
    if not isinstance(rpc_url, str) or len(rpc_url) > 2048:
        raise ConfigurationError("the RPC URL must be a string of at most 2048 characters")
    parsed = urlparse(rpc_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigurationError(f"the RPC URL must look like http://host:port, got {rpc_url!r}")
    w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None))
    with chain_errors(node=f"the chain node at {rpc_url}"):
        w3.eth.chain_id  # noqa: B018 - probe the node once
    return w3


def dev_accounts(w3: Web3, count: int = 10) -> list[LocalAccount]:
    """Pre-funded accounts of a development chain (the in-process EVM or a Hardhat node).

    These keys are public knowledge: never use them on a shared chain.
    """
    if isinstance(w3.provider, EthereumTesterProvider):
        from eth_tester.backends.pyevm.main import get_default_account_keys  # noqa: PLC0415 - see connect

        return [Account.from_key(k.to_bytes()) for k in get_default_account_keys()[:count]]
    chain_id = w3.eth.chain_id
    if chain_id != HARDHAT_CHAIN_ID:
        raise ConfigurationError(
            f"chain {chain_id} is not a development chain; development accounts exist only in process "
            f"and on a Hardhat node (chain id {HARDHAT_CHAIN_ID})"
        )
    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(_HARDHAT_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(count)]
