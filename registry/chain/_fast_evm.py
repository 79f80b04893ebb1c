"""The embedded chain's EVM with native BLS12-381 precompiles.

The in-process EVM (py-evm's Prague VM behind web3's ``EthereumTesterProvider``) runs the EIP-2537
precompiles on py-ecc, in pure Python: a joint anchor's pairing check takes seconds there. This
module swaps the four precompiles the contracts use (G1ADD, G2ADD, PAIRING_CHECK, MAP_FP2_TO_G2)
for the same functions on py-arkworks-bls12381, with the same inputs checked in the same order,
the same gas charged before any work and the same outputs; tests compare both on every input class
(valid points, the point at infinity, coordinates not below the modulus, points off the curve or
outside the subgroup, wrong lengths). Everything else is py-evm's Prague VM unchanged.
"""

from __future__ import annotations

from typing import Any

import py_arkworks_bls12381 as ark
from eth._utils.address import force_bytes_to_address
from eth.exceptions import VMError
from eth.precompiles.bls12_381.constants import BLS12_G1_ADD_GAS, BLS12_G2_ADD_GAS, BLS12_MAP_FP2_G2_GAS
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.forks.prague.constants import (
    BLS12_G1ADD_PRECOMPILE_ADDRESS,
    BLS12_G2ADD_PRECOMPILE_ADDRESS,
    BLS12_MAP_FP2_TO_G2_PRECOMPILE_ADDRESS,
    BLS12_PAIRING_CHECK_PRECOMPILE_ADDRESS,
)
from eth.vm.forks.prague.state import PragueState
from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider

__all__ = ["FastPragueVM", "embedded_provider"]

#: The BLS12-381 base field modulus.
P = 0x1A0111EA397FE69A4B1BA7B6434BACD764774B84F38512BF6730D2A0F6B0F6241EABFFFEB153FFFFB9FEFFFFFFFFAAAB
_ZERO_G1 = bytes(128)
_ZERO_G2 = bytes(256)


def _fp(word: bytes, what: str) -> bytes:
    """The 48-byte big-endian field element of a 64-byte EIP-2537 word."""
    if int.from_bytes(word, "big") >= P:
        raise VMError(f"{what} >= field modulus")
    return word[16:]


def _g1(data: bytes, *, subgroup: bool) -> Any:
    if len(data) != 128:
        raise VMError("Length of data must be 128 bytes for G1 point")
    x, y = _fp(data[:64], "x"), _fp(data[64:], "y")
    if data == _ZERO_G1:
        return ark.G1Point.identity()
    try:
        point = ark.G1Point.from_xy_bytes_unchecked_be(x + y)
    except Exception as exc:
        raise VMError("Point is not on curve") from exc
    if subgroup and not point.is_in_subgroup():
        raise VMError("Sub-group check failed for G1 point.")
    return point


def _g2(data: bytes, *, subgroup: bool) -> Any:
    if len(data) != 256:
        raise VMError("Length of data must be 256 bytes for G2 point")
    # EIP-2537 and the library's big-endian form both write an Fp2 element c0 then c1
    x0, x1 = _fp(data[:64], "coordinate 0"), _fp(data[64:128], "coordinate 1")
    y0, y1 = _fp(data[128:192], "coordinate 0"), _fp(data[192:], "coordinate 1")
    if data == _ZERO_G2:
        return ark.G2Point.identity()
    try:
        point = ark.G2Point.from_xy_bytes_unchecked_be(x0 + x1 + y0 + y1)
    except Exception as exc:
        raise VMError("Point is not on curve") from exc
    if subgroup and not point.is_in_subgroup():
        raise VMError("Sub-group check failed for G2 point.")
    return point


def _word(fp48: bytes) -> bytes:
    return bytes(16) + fp48


def _g1_bytes(point: Any) -> bytes:
    if point == ark.G1Point.identity():
        return _ZERO_G1
    xy = bytes(point.to_xy_bytes_be())
    return _word(xy[:48]) + _word(xy[48:])


def _g2_bytes(point: Any) -> bytes:
    if point == ark.G2Point.identity():
        return _ZERO_G2
    xy = bytes(point.to_xy_bytes_be())
    x0, x1, y0, y1 = xy[:48], xy[48:96], xy[96:144], xy[144:]
    return _word(x0) + _word(x1) + _word(y0) + _word(y1)


def g1_add(computation: Any) -> None:
    data = computation.msg.data_as_bytes
    if len(data) != 256:
        raise VMError("Length of data must be 256 bytes for BLS12_G1ADD")
    computation.consume_gas(BLS12_G1_ADD_GAS, reason="BLS12_G1ADD gas")
    computation.output = _g1_bytes(_g1(data[:128], subgroup=False) + _g1(data[128:], subgroup=False))


def g2_add(computation: Any) -> None:
    data = computation.msg.data_as_bytes
    if len(data) != 512:
        raise VMError("Length of data must be 512 for g2 add")
    computation.consume_gas(BLS12_G2_ADD_GAS, "BLS12_G2ADD gas")
    computation.output = _g2_bytes(_g2(data[:256], subgroup=False) + _g2(data[256:], subgroup=False))


def map_fp2_to_g2(computation: Any) -> None:
    data = computation.msg.data_as_bytes
    if len(data) != 128:
        raise VMError("Length of data must be 128 bytes for BLS12_MAP_FP2_TO_G2")
    computation.consume_gas(BLS12_MAP_FP2_G2_GAS, "BLS12_MAP_FP2_TO_G2 gas")
    c0, c1 = _fp(data[:64], "coordinate 0"), _fp(data[64:], "coordinate 1")
    computation.output = _g2_bytes(ark.G2Point.map_from_fp2_be(c0 + c1))


def pairing_check(computation: Any) -> None:
    data = computation.msg.data_as_bytes
    if len(data) == 0 or len(data) % 384 != 0:
        raise VMError("Length of data must be a multiple of 384 bytes for BLS12_PAIRING_CHECK")
    k = len(data) // 384
    computation.consume_gas(32600 * k + 37700, "BLS12_PAIRING_CHECK gas")
    g1s, g2s = [], []
    for i in range(k):
        g1s.append(_g1(data[384 * i : 384 * i + 128], subgroup=True))
        g2s.append(_g2(data[384 * i + 128 : 384 * (i + 1)], subgroup=True))
    one = ark.GT.multi_pairing(g1s, g2s) == ark.GT.one()
    computation.output = b"\x00" * 31 + (b"\x01" if one else b"\x00")


class FastPragueComputation(PragueComputation):
    """Prague, with the four BLS12-381 precompiles above."""

    _precompiles = {  # noqa: RUF012 - py-evm declares it an instance variable set on the class
        **PragueComputation._precompiles,
        force_bytes_to_address(BLS12_G1ADD_PRECOMPILE_ADDRESS): g1_add,
        force_bytes_to_address(BLS12_G2ADD_PRECOMPILE_ADDRESS): g2_add,
        force_bytes_to_address(BLS12_PAIRING_CHECK_PRECOMPILE_ADDRESS): pairing_check,
        force_bytes_to_address(BLS12_MAP_FP2_TO_G2_PRECOMPILE_ADDRESS): map_fp2_to_g2,
    }


class FastPragueState(PragueState):
    computation_class = FastPragueComputation


class FastPragueVM(PragueVM):
    _state_class = FastPragueState


def embedded_provider() -> EthereumTesterProvider:
    """A fresh in-process chain running :class:`FastPragueVM`."""
    return EthereumTesterProvider(EthereumTester(PyEVMBackend(vm_configuration=((0, FastPragueVM),))))
