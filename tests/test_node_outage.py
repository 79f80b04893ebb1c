"""A stopped node gives ChainUnavailableError (never a raw transport exception)."""

from __future__ import annotations

import pytest

from devkit.nodes import start_hardhat_node
from registry import ChainUnavailableError, RegistryClient, connect, dev_accounts


def test_calls_to_a_stopped_node_raise_chain_unavailable(tmp_path):
    node = start_hardhat_node(tmp_path)
    try:
        w3 = connect(node.url)
        accounts = dev_accounts(w3)
        client, _ = RegistryClient.deploy(w3, accounts[0])
    finally:
        node.stop()
    with pytest.raises(ChainUnavailableError, match="not reachable"):
        client.get_region(110000)
    with pytest.raises(ChainUnavailableError):
        client.add_region(accounts[0], 110000, "北京市")
    with pytest.raises(ChainUnavailableError):
        client.get_events(0)
    with pytest.raises(ChainUnavailableError):
        connect(node.url)
