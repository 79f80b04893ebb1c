#!/usr/bin/env python3
"""Worst-case decide time of hostile QR texts: ``decode_presentation`` and ``Verifier.verify``.

Builds the most expensive inputs found for each stage (length, base45, zlib, CBOR shape, text
normalisation, full verification of a well-formed but forged presentation), in both QR forms
(``LC1:`` and ``LC2:``), plus mutations of real presentations, times each (best of ``--repeat``
runs, to measure the input rather than pauses of the machine), and prints every input's cost
and the slowest for each function. The target is "any QR text up to 4,096 characters decided in
under 5 ms"; the decoder aims at well under 1 ms.

    python scripts/bench_decode.py [--repeat 20] [--mutations 2000] [--url http://127.0.0.1:8000]

With ``--url`` (a running ``elicense serve``), every input is also sent to ``POST /v1/verify`` and the
best round trip of each is printed: the decide time as a client sees it, HTTP included.
"""

# The inputs are made-up, reproducible data: no cryptographic randomness is wanted.
# ruff: noqa: S311

from __future__ import annotations

import argparse
import contextlib
import random
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import base45
import cbor2
import httpx

from devkit.samples import SampleFactory
from devkit.world import deploy_department
from registry import CATALOG, connect
from registry.document._dictionary import dictionary
from registry.document._inflate import deflate_raw
from registry.document.presentation import MAX_DECOMPRESSED, MalformedPresentationError, decode_presentation
from registry.issuer.store import IssuerStore
from verifier.pipeline import Verifier
from verifier.state import ChainClientState


def text_of(payload: bytes) -> str:
    return "LC1:" + base45.b45encode(zlib.compress(payload, 9)).decode()


def compact_with_field(real: str, key_number: int, value: str) -> str:
    """A real ``LC2:`` text with one disclosed text field set to ``value`` (in GB 18030; the
    signature kept: well formed and forged)."""
    raw = base45.b45decode(real[4:])
    inflater = zlib.decompressobj(-15, zdict=dictionary(raw[0]))
    item = cbor2.loads(inflater.decompress(raw[1:]))
    item[5][key_number] = value.encode("gb18030")
    body = raw[:1] + deflate_raw(cbor2.dumps(item), dictionary(raw[0])) + inflater.unused_data
    return "LC2:" + base45.b45encode(body).decode()


def compact_inputs(real_bl: str, real_all: str) -> dict[str, str]:
    """The LC2 form's costliest inputs: its real texts, a deflate bomb with the dictionary, text
    that is not deflate, and forged scopes in GB 18030 (two-byte, four-byte and decomposing)."""
    rng = random.Random(6)
    fill = "".join(rng.choice("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:") for _ in range(1500))
    bomb = b"\x01" + deflate_raw(b"\x00" * 400_000, dictionary(1))
    return {
        "LC2: real business license (default disclosure)": real_bl,
        "LC2: real business license (every field)": real_all,
        "LC2: 1,400 characters of base45, not deflate": "LC2:" + fill[:1395] + "A",
        "LC2: deflate bomb with the dictionary (400 KB of zeros)": "LC2:" + base45.b45encode(bomb).decode(),
        "LC2: forged: 1,200 x U+4E2D scope": compact_with_field(real_all, 9, "中" * 1200),
        "LC2: forged: 1,000 x U+20000 scope (4 bytes each)": compact_with_field(real_all, 9, "\U00020000" * 1000),
        "LC2: forged: 1,200 x U+0B3E scope (NFC after a full check)": compact_with_field(real_all, 9, "\u0b3e" * 1200),
        "LC2: 1,800 combining marks out of order": compact_with_field(real_all, 9, "a" + "\u0300\u0316" * 900),
    }


def value_sharing_nest(depth: int) -> bytes:
    """Nested arrays each holding the next twice through value sharing (tags 28 and 29)."""
    inner = b"\xd8\x1c\x00"
    for k in range(depth - 2, -1, -1):
        inner = b"\xd8\x1c\x82" + inner + cbor2.dumps(cbor2.CBORTag(29, k + 1))
    return b"\x82" + inner + cbor2.dumps(cbor2.CBORTag(29, 0))


def with_field(real: str, key_number: int, value: object) -> bytes:
    """A real presentation's payload with one disclosed field set to ``value`` (signature kept:
    the result is well formed and forged)."""
    item = cbor2.loads(zlib.decompress(base45.b45decode(real[4:])))
    item[7][key_number] = value
    return cbor2.dumps(item)


def hostile_inputs(real_bl: str, real_all: str, real_rp: str) -> dict[str, str]:
    rng = random.Random(5)
    fill = "".join(rng.choice("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:") for _ in range(1500))
    cases: dict[str, str] = {
        "real business license (default disclosure)": real_bl,
        "real business license (every field)": real_all,
        "real residence permit (every field)": real_rp,
        "4,096 characters of base45": "LC1:" + fill[:3] * 1364,
        "1,400 characters, not base45 at the end": "LC1:" + fill[:1395] + "a",
        "1,400 characters of base45, not zlib": "LC1:" + fill[:1395] + "A",
        "zlib bomb (400 KB of zeros)": text_of(b"\x00" * 400_000),
        "zlib bomb (payload of exactly 4,096 bytes)": text_of(b"\x8b" + b"\x00" * (MAX_DECOMPRESSED - 1)),
        "finding 1: value sharing 24 deep (99 characters)": text_of(value_sharing_nest(24)),
        "finding 1: value sharing 40 deep (141 characters)": text_of(value_sharing_nest(40)),
        "value sharing 450 deep": text_of(value_sharing_nest(450)),
        "4,096 nested arrays": text_of(b"\x81" * MAX_DECOMPRESSED),
        "4,096 bytes of tags": text_of(b"\xd8\x1c" * (MAX_DECOMPRESSED // 2)),
        "indefinite arrays 4,096 deep": text_of(b"\x9f" * MAX_DECOMPRESSED),
        "map of 2^32-1 entries announced": text_of(
            cbor2.dumps(cbor2.loads(zlib.decompress(base45.b45decode(real_bl[4:])))[:7]).replace(b"\x87", b"\x8b", 1)
            + b"\xba\xff\xff\xff\xff"
            + b"\x01" * 4000
        ),
        "byte string of 2^64-1 bytes announced": text_of(b"\x8b\x01\x01\x5b" + b"\xff" * 8 + b"\x00" * 4000),
    }
    bl_scope = 9
    # text fields: longest well-formed, and the costliest refusals of the NFC check
    cases["forged: 1,200 x U+0B3E scope (NFC after a full check)"] = text_of(
        with_field(real_all, bl_scope, "\u0b3e" * 1200)
    )
    cases["forged: 1,200 x U+4E2D scope (longest common text)"] = text_of(with_field(real_all, bl_scope, "中" * 1200))
    cases["a + 1,800 x U+0301 scope (not NFC, full check)"] = text_of(
        with_field(real_all, bl_scope, "a" + "\u0301" * 1800)
    )
    cases["1,800 combining marks out of order"] = text_of(with_field(real_all, bl_scope, "a" + "\u0300\u0316" * 900))
    cases["1,200 x U+0F73 (decomposes, not NFC)"] = text_of(with_field(real_all, bl_scope, "\u0f73" * 1200))
    cases["forged: 2,000 ASCII characters scope"] = text_of(with_field(real_all, bl_scope, "x" * 2000))
    return cases


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - start)
    return min(timings)


def decode_or_refuse(text: str) -> None:
    with contextlib.suppress(MalformedPresentationError):
        decode_presentation(text)


def mutations(rng: random.Random, texts: list[str], count: int) -> list[str]:
    out = []
    for _ in range(count):
        payload = bytearray(zlib.decompress(base45.b45decode(rng.choice(texts)[4:])))
        for _ in range(rng.randrange(1, 4)):
            pos = rng.randrange(len(payload))
            if rng.random() < 0.5:
                payload[pos] = rng.randrange(256)
            else:
                payload[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4)))
        out.append(text_of(bytes(payload)))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per input; the best is kept")
    parser.add_argument("--mutations", type=int, default=2000, help="random mutations of real payloads to time")
    parser.add_argument("--url", help="also time every input through POST URL/v1/verify of a running service")
    args = parser.parse_args()
    if not 1 <= args.repeat <= 1000 or not 0 <= args.mutations <= 100_000:
        parser.error("--repeat must be 1 to 1000 and --mutations 0 to 100000")

    with tempfile.TemporaryDirectory() as tmp:
        store = IssuerStore.at(Path(tmp) / "store.db")
        bench = deploy_department(connect(None), license_types=list(CATALOG))
        department = bench.department(store)
        samples = SampleFactory(3)
        rows = department.issue_many([samples.business_license(), samples.residence_permit()])
        department.anchor_pending()
        state = ChainClientState(bench.client)
        state.sync()
        d = bench.client.deployment
        verifier = Verifier(state, chain_id=d.chain_id, license_registry=d.license_registry)
        real_bl = department.presentation(rows[0].license_id).to_text(form="LC1")
        real_all = department.presentation(rows[0].license_id, list(rows[0].fields)).to_text(form="LC1")
        real_rp = department.presentation(rows[1].license_id, list(rows[1].fields)).to_text(form="LC1")
        cases = hostile_inputs(real_bl, real_all, real_rp)
        cases |= compact_inputs(
            department.presentation(rows[0].license_id).to_text(),
            department.presentation(rows[0].license_id, list(rows[0].fields)).to_text(),
        )
        for text in list(cases.values()) * 3:  # warm caches
            decode_or_refuse(text)
            verifier.verify(text).to_dict()

        print(f"{'input':62s} {'chars':>6s} {'decode us':>10s} {'verify us':>10s}  outcome")
        worst_decode = (0.0, "")
        worst_verify = (0.0, "")
        for name, text in cases.items():
            decode = best_of(args.repeat, lambda t=text: decode_or_refuse(t))
            verify = best_of(args.repeat, lambda t=text: verifier.verify(t).to_dict())
            status = verifier.verify(text).status.value
            print(f"{name:62s} {len(text):6d} {decode * 1e6:10.1f} {verify * 1e6:10.1f}  {status}")
            worst_decode = max(worst_decode, (decode, name))
            worst_verify = max(worst_verify, (verify, name))
        if args.mutations:
            mutated = mutations(random.Random(9), [real_bl, real_all, real_rp], args.mutations)
            # a first pass finds the slowest few; they are timed again like the inputs above
            by_decode = sorted(((best_of(3, lambda t=t: decode_or_refuse(t)), t) for t in mutated), reverse=True)
            by_verify = sorted(
                ((best_of(3, lambda t=t: verifier.verify(t).to_dict()), t) for t in mutated), reverse=True
            )
            slow_decode = max((best_of(args.repeat, lambda t=t: decode_or_refuse(t)), t) for _, t in by_decode[:10])
            slow_verify = max(
                (best_of(args.repeat, lambda t=t: verifier.verify(t).to_dict()), t) for _, t in by_verify[:10]
            )
            print(f"  slowest mutation to verify: {verifier.verify(slow_verify[1]).status.value}, {slow_verify[1]!r}")
            name = f"slowest of {args.mutations:,} payload mutations"
            print(f"{name:62s} {'':6s} {slow_decode[0] * 1e6:10.1f} {slow_verify[0] * 1e6:10.1f}")
            worst_decode = max(worst_decode, (slow_decode[0], name))
            worst_verify = max(worst_verify, (slow_verify[0], name))
        store.close()
    print(f"slowest decode_presentation: {worst_decode[0] * 1e6:.1f} us ({worst_decode[1]})")
    print(f"slowest Verifier.verify:     {worst_verify[0] * 1e6:.1f} us ({worst_verify[1]})")
    if args.url:
        worst_http = over_http(args.url.rstrip("/"), cases, args.repeat)
        print(f"slowest POST /v1/verify:     {worst_http[0] * 1e3:.2f} ms ({worst_http[1]}, round trip)")
    return 0


def over_http(url: str, cases: dict[str, str], repeat: int) -> tuple[float, str]:
    """Best round trip of each input through ``POST /v1/verify``; returns the slowest."""
    worst = (0.0, "")
    with httpx.Client(timeout=30) as client:
        for name, text in cases.items():
            best = float("inf")
            for _ in range(repeat):
                started = time.perf_counter()
                response = client.post(url + "/v1/verify", json={"qr": text})
                best = min(best, time.perf_counter() - started)
            status = response.json().get("status", response.status_code)
            print(f"  {name:56s} {len(text):6d} {best * 1e3:8.2f} ms over HTTP  {status}")
            worst = max(worst, (best, name))
    return worst


if __name__ == "__main__":
    sys.exit(main())
