"""The embedded chain's native BLS12-381 precompiles answer exactly as py-evm's own (py-ecc):
same output, same gas, same refusals, on every class of input."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from eth.exceptions import VMError
from eth.precompiles.bls12_381 import bls12_381_g1 as ref_g1
from eth.precompiles.bls12_381 import bls12_381_g2 as ref_g2
from eth.precompiles.bls12_381 import bls12_381_pairing as ref_pairing
from py_ecc.optimized_bls12_381 import FQ, FQ2, G1, G2, b2, curve_order, multiply, neg, normalize
from py_ecc.optimized_bls12_381.optimized_swu import sqrt_division_FQ2
from web3 import Web3

from registry.chain import _fast_evm as fast
from registry.chain.connect import connect

P = fast.P


@dataclass
class _Msg:
    data: bytes

    @property
    def data_as_bytes(self) -> bytes:
        return self.data


@dataclass
class _Computation:
    msg: _Msg
    gas: list[int] = field(default_factory=list)
    output: bytes = b""

    def consume_gas(self, amount: int, reason: str) -> None:
        self.gas.append(amount)


def _run(precompile: Callable[[Any], None], data: bytes) -> tuple[str, bytes, list[int]]:
    computation = _Computation(_Msg(data))
    try:
        precompile(computation)
    except VMError:
        return "error", b"", computation.gas
    return "ok", computation.output, computation.gas


def _same(reference: Callable[[Any], None], native: Callable[[Any], None], data: bytes) -> str:
    expected = _run(reference, data)
    assert _run(native, data) == expected
    return expected[0]


def _w(value: int) -> bytes:
    return value.to_bytes(64, "big")


def _g1(point: Any) -> bytes:
    if point[2] == FQ(0):
        return bytes(128)
    x, y = normalize(point)
    return _w(int(x)) + _w(int(y))


def _g2(point: Any) -> bytes:
    if point[2] == FQ2.zero():
        return bytes(256)
    x, y = normalize(point)
    return _w(x.coeffs[0]) + _w(x.coeffs[1]) + _w(y.coeffs[0]) + _w(y.coeffs[1])


def _off_curve_g1() -> bytes:
    return _w(1) + _w(1)  # 1 != 1 + 4


def _outside_subgroup_g1() -> bytes:
    # a point on the curve y^2 = x^3 + 4 that is not in the prime-order subgroup (the cofactor is > 1)
    x = 0
    while True:
        x += 1
        rhs = (x**3 + 4) % P
        y = pow(rhs, (P + 1) // 4, P)
        if y * y % P == rhs:
            point = (FQ(x), FQ(y), FQ(1))
            if multiply(point, curve_order)[2] != FQ(0):
                return _w(x) + _w(y)


def _outside_subgroup_g2() -> bytes:
    # (x, y) on y^2 = x^3 + 4(1 + i) outside the subgroup: take x = 1 + k, solve in Fp2 by trial
    k = 0
    while True:
        k += 1
        x = FQ2([k, 1])
        rhs = x**3 + b2
        ok, y = sqrt_division_FQ2(rhs, FQ2.one())
        if not ok:
            continue
        point = (x, y, FQ2.one())
        if multiply(point, curve_order)[2] != FQ2.zero():
            return _w(x.coeffs[0]) + _w(x.coeffs[1]) + _w(y.coeffs[0]) + _w(y.coeffs[1])


RNG = random.Random(2537)
A1, B1 = multiply(G1, RNG.randrange(1, curve_order)), multiply(G1, RNG.randrange(1, curve_order))
A2, B2 = multiply(G2, RNG.randrange(1, curve_order)), multiply(G2, RNG.randrange(1, curve_order))


def test_g1_add_matches_py_evm() -> None:
    cases = {
        "two points": _g1(A1) + _g1(B1),
        "doubling": _g1(A1) + _g1(A1),
        "inverse": _g1(A1) + _g1(neg(A1)),
        "infinity": bytes(128) + _g1(B1),
        "both infinity": bytes(256),
        "outside subgroup (allowed)": _outside_subgroup_g1() + _g1(A1),
        "off curve": _off_curve_g1() + _g1(A1),
        "x not below p": _w(P) + _w(0) + _g1(A1),
        "top bytes set": b"\x01" + _g1(A1)[1:] + _g1(B1),
        "short": (_g1(A1) + _g1(B1))[:-1],
    }
    results = {name: _same(ref_g1.bls12_g1_add, fast.g1_add, data) for name, data in cases.items()}
    assert results["two points"] == results["outside subgroup (allowed)"] == "ok"
    assert results["off curve"] == results["x not below p"] == results["short"] == "error"


def test_g2_add_matches_py_evm() -> None:
    cases = {
        "two points": _g2(A2) + _g2(B2),
        "doubling": _g2(A2) + _g2(A2),
        "inverse": _g2(A2) + _g2(neg(A2)),
        "infinity": bytes(256) + _g2(B2),
        "outside subgroup (allowed)": _outside_subgroup_g2() + _g2(A2),
        "off curve": _w(1) * 4 + _g2(A2),
        "coordinate not below p": _w(P) + _g2(A2)[64:] + _g2(B2),
        "short": bytes(511),
    }
    results = {name: _same(ref_g2.bls12_g2_add, fast.g2_add, data) for name, data in cases.items()}
    assert results["two points"] == results["outside subgroup (allowed)"] == "ok"
    assert results["off curve"] == results["coordinate not below p"] == results["short"] == "error"


def test_map_fp2_to_g2_matches_py_evm() -> None:
    cases = [_w(0) + _w(0), _w(1) + _w(2), _w(P - 1) + _w(P - 1)]
    cases += [_w(RNG.randrange(P)) + _w(RNG.randrange(P)) for _ in range(3)]
    assert {_same(ref_g2.bls12_map_fp2_to_g2, fast.map_fp2_to_g2, data) for data in cases} == {"ok"}
    for bad in (_w(P) + _w(0), _w(0) + _w(P), bytes(127)):
        assert _same(ref_g2.bls12_map_fp2_to_g2, fast.map_fp2_to_g2, bad) == "error"


@pytest.mark.parametrize(
    "name",
    ["holds", "fails", "infinity pair", "g1 outside subgroup", "g2 outside subgroup", "g1 off curve", "length"],
)
def test_pairing_check_matches_py_evm(name: str) -> None:
    k = RNG.randrange(1, curve_order)
    holds = _g1(multiply(G1, k)) + _g2(G2) + _g1(neg(G1)) + _g2(multiply(G2, k))
    data = {
        "holds": holds,
        "fails": _g1(multiply(G1, k)) + _g2(G2) + _g1(G1) + _g2(multiply(G2, k)),
        "infinity pair": bytes(384),
        "g1 outside subgroup": _outside_subgroup_g1() + _g2(G2),
        "g2 outside subgroup": _g1(G1) + _outside_subgroup_g2(),
        "g1 off curve": _off_curve_g1() + _g2(G2),
        "length": holds[:-1],
    }[name]
    outcome = _same(ref_pairing.bls12_pairing_check, fast.pairing_check, data)
    assert outcome == ("ok" if name in ("holds", "fails", "infinity pair") else "error")
    if name == "holds":
        assert _run(fast.pairing_check, data)[1] == bytes(31) + b"\x01"
    if name == "fails":
        assert _run(fast.pairing_check, data)[1] == bytes(32)


def test_the_embedded_chain_runs_the_native_precompiles() -> None:
    w3 = connect(None)
    k = RNG.randrange(1, curve_order)
    data = _g1(multiply(G1, k)) + _g2(G2) + _g1(neg(G1)) + _g2(multiply(G2, k))
    out = w3.eth.call({"to": Web3.to_checksum_address("0x" + "0f".rjust(40, "0")), "data": data})
    assert bytes(out) == bytes(31) + b"\x01"
    vm = w3.provider.ethereum_tester.backend.chain.get_vm()  # type: ignore[union-attr]
    assert isinstance(vm, fast.FastPragueVM)
