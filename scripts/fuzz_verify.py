#!/usr/bin/env python3
"""Coverage-guided fuzzing of QR-text decoding and full verification (atheris, libFuzzer).

Sets up an in-process chain with one registered department (the benchmarks' set-up), issues and
anchors a few licenses of every type, revokes one and suspends another, and seeds the fuzzer with
their QR texts in both forms, ``LC2:`` and ``LC1:`` (default, full and selective disclosure). Each
input is UTF-8 QR text; it goes through ``decode_presentation`` and ``Verifier.verify`` (and the
result's JSON form). A custom mutator alternates between mutating the text as it is and mutating
the payload inside it (``LC1:``: the CBOR; ``LC2:``: the inflated CBOR, the bytes after the
deflate stream or the type byte), then compressing and base45-encoding it again, so mutations
reach past base45, zlib and the preset dictionary into the schema. Counted and printed at the end:

- executions;
- crashes: any exception escaping ``Verifier.verify`` or ``to_dict``, or escaping
  ``decode_presentation`` other than ``MalformedPresentationError`` (saved under the work folder);
- false valid: a ``valid`` result whose presentation (its ``LC1:`` CBOR, whichever form carried it)
  is not byte-equal to a seed's;
- the slowest input's decide time (decode plus verify, under coverage instrumentation).

New-coverage inputs go to the work folder's corpus; at the end the corpus is reduced to at most
``--cap`` files, a few per distinct outcome (status and message), and written to ``--corpus-out``
as QR texts, which ``tests/test_fuzz_corpus.py`` replays.

    pip install 'atheris>=2.3'      # in the dev extra
    python scripts/fuzz_verify.py [--runs 1000000] [--seconds S] [--work DIR] [--corpus-out DIR] [--cap 300]
"""

# The project's modules are imported inside functions, after atheris has been set to instrument
# them; the mutator's random numbers are seeded by libFuzzer and need no cryptographic quality.
# ruff: noqa: PLC0415, S311

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import heapq
import os
import random
import re
import sys
import tempfile
import time
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any

try:
    import atheris
except ImportError:
    atheris = None

ROOT = Path(__file__).resolve().parent.parent

# Bytes that start CBOR items the strict reader must refuse, or heads of every size.
_CBOR_BYTES = bytes.fromhex(
    "00 17 18 19 1a 1b 1c 1f 20 38 3b 40 4c 58 5f 60 78 7f 80 8b 98 9f a0 a9 b8 bf c0 c1 c2 d8 d9 f4 f5 f6 f7 f8 f9"
    " fa fb ff"
)
# Whole items to insert: value-sharing tags, a MIME tag, floats, indefinite lengths, big heads.
_SNIPPETS_HEX = "d81c d81d00 d82460 c11a7fffffff f93c00 fb3ff0000000000000 5f4100ff 9fff 1afffffffe "
_CBOR_SNIPPETS = [bytes.fromhex(h) for h in (_SNIPPETS_HEX + "1bffffffffffffffff 3a000af241 190100").split(" ")]
_PREFIX = "LC1:"
_COMPACT = "LC2:"
_KEEP_SLOWEST = 20


def _payload(text: str) -> tuple[str, bytes, bytes] | None:
    """(prefix, payload, rest) of a QR text: LC1's CBOR; LC2's type byte and CBOR, then the tail."""
    from registry.document._base45 import b45decode
    from registry.document._dictionary import dictionary

    prefix = text[:4]
    if prefix not in (_PREFIX, _COMPACT):
        return None
    try:
        raw = b45decode(text[4:])
        if prefix == _PREFIX:
            inflater = zlib.decompressobj()
            out = inflater.decompress(raw, 8192)
            rest = b""
        else:
            zdict = dictionary(raw[0]) if raw else b""
            inflater = zlib.decompressobj(-15, zdict=zdict) if zdict else zlib.decompressobj(-15)
            out = raw[:1] + inflater.decompress(raw[1:], 8192)
            rest = inflater.unused_data
    except (ValueError, zlib.error):
        return None
    return (prefix, out, rest) if inflater.eof else None


def _encode(prefix: str, payload: bytes, rest: bytes, level: int = 9) -> bytes:
    import base45

    from registry.document._dictionary import dictionary

    if prefix == _PREFIX:
        body = zlib.compress(payload, level)
    else:
        zdict = dictionary(payload[0]) if payload else b""
        deflater = zlib.compressobj(level, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, *([zdict] if zdict else []))
        body = payload[:1] + deflater.compress(payload[1:]) + deflater.flush() + rest
    encoded: bytes = base45.b45encode(body)
    return (prefix + encoded.decode("ascii")).encode("ascii")


class Fuzz:
    def __init__(self, args: argparse.Namespace, verifier: Any, seeds: list[str]) -> None:
        from registry.document.presentation import MalformedPresentationError, decode_presentation
        from verifier.pipeline import Outcome

        self.args = args
        self.verifier = verifier
        self.decode = decode_presentation
        self.malformed = MalformedPresentationError
        self.valid = Outcome.VALID
        self.seed_payloads = {decode_presentation(t).to_cbor() for t in seeds}
        self.seed_list = sorted({p[1] for p in map(_payload, seeds) if p is not None})
        self.now = time.time()
        self.executions = 0
        self.crashes = 0
        self.false_valid = 0
        self.valid_seen = 0
        self.slowest: list[tuple[float, str]] = []  # a heap of the slowest inputs, fastest first
        self.started = time.monotonic()
        for text in seeds * 2:  # warm caches (issuer codes, signers) before anything is timed
            self.decode(text)
            verifier.verify(text, now=self.now).to_dict()
        self.crash_dir = Path(args.work) / "crashes"
        self.crash_dir.mkdir(parents=True, exist_ok=True)
        self.last_report = self.started

    # -- one execution -------------------------------------------------------------------------------

    def test_one_input(self, data: bytes) -> None:
        text = data.decode("utf-8", "replace")
        start = time.perf_counter()
        crashed = None
        presentation = None
        try:
            presentation = self.decode(text)
        except self.malformed:
            pass
        except Exception as exc:  # noqa: BLE001 - counting every escape is the point
            crashed = exc
        status = None
        try:
            result = self.verifier.verify(text, now=self.now)
            result.to_dict()
            status = result.status
        except Exception as exc:  # noqa: BLE001
            crashed = crashed or exc
        elapsed = time.perf_counter() - start
        self.executions += 1
        if len(self.slowest) < _KEEP_SLOWEST:
            heapq.heappush(self.slowest, (elapsed, text))
        elif elapsed > self.slowest[0][0]:
            heapq.heapreplace(self.slowest, (elapsed, text))
        if crashed is not None:
            self.crashes += 1
            self._save("crash", text, repr(crashed))
        if status is self.valid:
            self.valid_seen += 1
            if presentation is None or presentation.to_cbor() not in self.seed_payloads:
                self.false_valid += 1
                self._save("false-valid", text, "")
        now = time.monotonic()
        if now - self.last_report > 30:
            self.last_report = now
            print(
                f"  ... {self.executions:,} executions, {self.crashes} crashes, {self.false_valid} false valid, "
                f"slowest {max(self.slowest)[0] * 1e3:.2f} ms, {now - self.started:.0f} s",
                flush=True,
            )
        if self.executions >= self.args.runs or (self.args.seconds and now - self.started >= self.args.seconds):
            self.finish()

    def _save(self, kind: str, text: str, note: str) -> None:
        name = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        path = self.crash_dir / f"{kind}-{name}.txt"
        if not path.exists():
            path.write_text(text + ("\n# " + note if note else ""), encoding="utf-8", errors="surrogatepass")

    # -- mutation ------------------------------------------------------------------------------------

    def mutate(self, data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        if rng.random() < 0.6:
            found = _payload(data.decode("utf-8", "replace"))
            if found is not None:
                prefix, payload, rest = found
                if prefix == _COMPACT and rest and rng.random() < 0.3:  # the salts, commitments, signature
                    rest = self._mutate_cbor(rest, rng)
                elif prefix == _COMPACT and payload and rng.random() < 0.05:  # the type (dictionary) byte
                    payload = bytes((rng.randrange(256),)) + payload[1:]
                elif prefix == _COMPACT:
                    payload = payload[:1] + self._mutate_cbor(payload[1:], rng)
                else:
                    payload = self._mutate_cbor(payload, rng)
                out = _encode(prefix, payload, rest, rng.choice((1, 6, 9)))
                if len(out) <= max_size:
                    return out
        return bytes(atheris.Mutate(data, max_size))

    def _mutate_cbor(self, payload: bytes, rng: random.Random) -> bytes:
        buf = bytearray(payload)
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            choice = rng.randrange(6)
            pos = rng.randrange(len(buf) + 1)
            if choice == 0:
                buf = bytearray(atheris.Mutate(bytes(buf), len(buf) + 64))
            elif choice == 1 and buf:
                buf[min(pos, len(buf) - 1)] = rng.choice(_CBOR_BYTES)
            elif choice == 2:
                buf[pos:pos] = rng.choice(_CBOR_SNIPPETS)
            elif choice == 3:
                other = rng.choice(self.seed_list)
                a = rng.randrange(len(other))
                buf[pos : pos + rng.randrange(0, 40)] = other[a : a + rng.randrange(1, 60)]
            elif choice == 4 and buf:
                del buf[pos : pos + rng.randrange(1, 8)]
            elif buf:
                at = min(pos, len(buf) - 1)
                buf[at] = (buf[at] + rng.choice((-1, 1, 24, -24, 32))) & 0xFF
        return bytes(buf)

    def _best_of(self, times: int, text: str) -> float:
        timings = []
        for _ in range(times):
            start = time.perf_counter()
            with contextlib.suppress(self.malformed):
                self.decode(text)
            self.verifier.verify(text, now=self.now).to_dict()
            timings.append(time.perf_counter() - start)
        return min(timings)

    # -- the end -------------------------------------------------------------------------------------

    def finish(self) -> None:
        took = time.monotonic() - self.started
        print(f"fuzzed {self.executions:,} executions in {took:.0f} s ({self.executions / took:,.0f} per second)")
        print(f"  crashes: {self.crashes}")
        print(
            f"  false valid: {self.false_valid} (valid results: {self.valid_seen:,}, all on seed payloads)"
            if not self.false_valid
            else f"  false valid: {self.false_valid} (see {self.crash_dir})"
        )
        # a single slow execution may be a pause (garbage collection, another process); the
        # slowest inputs are timed again, best of five, to tell a costly input from a pause
        worst, worst_text = max(self.slowest)
        again = max((self._best_of(5, text), text) for _, text in self.slowest)
        print(
            f"  slowest execution: {worst * 1e3:.3f} ms under instrumentation "
            f"({len(worst_text)} characters: {worst_text[:48]!r}...)"
        )
        print(
            f"  slowest input timed again (best of 5, of the {len(self.slowest)} slowest): {again[0] * 1e3:.3f} ms "
            f"({len(again[1])} characters: {again[1][:48]!r}...)"
        )
        self._save("slowest", again[1], f"{again[0] * 1e3:.3f} ms")
        kept = write_corpus(Path(self.args.work) / "corpus", Path(self.args.corpus_out), self.verifier, self.args.cap)
        print(f"  corpus: {kept} files written to {self.args.corpus_out}")
        sys.stdout.flush()
        os._exit(1 if self.crashes or self.false_valid else 0)


def _outcome(verifier: Any, text: str) -> str:
    """An input's behaviour, for keeping a few inputs per distinct one: status and first reason,
    with numbers and quoted values blanked."""
    result = verifier.verify(text)
    reason = result.reasons[0].en if result.reasons else ""
    reason = re.sub(r"'[^']*'|\d+", "#", reason)
    return f"{result.status.value}: {reason}"


def write_corpus(source: Path, target: Path, verifier: Any, cap: int) -> int:
    """Reduce the fuzzer's corpus to at most ``cap`` QR texts, the shortest few of each outcome,
    into ``target`` (replacing what was there)."""
    texts = {p.read_bytes().decode("utf-8", "replace") for p in source.iterdir() if p.is_file()}
    groups: dict[str, list[str]] = defaultdict(list)
    for text in sorted(texts, key=lambda t: (len(t), t)):
        groups[_outcome(verifier, text)].append(text)
    per_group = max(1, cap // max(1, len(groups)))
    chosen: list[str] = []
    for round_ in range(per_group):
        for outcome in sorted(groups):
            if round_ < len(groups[outcome]) and len(chosen) < cap:
                chosen.append(groups[outcome][round_])
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.txt"):
        old.unlink()
    for text in chosen:
        data = text.encode("utf-8", "surrogatepass")
        (target / f"{hashlib.sha256(data).hexdigest()[:16]}.txt").write_bytes(data)
    return len(chosen)


def build_world(tmp: Path) -> tuple[Any, list[str]]:
    """A chain with a department, anchored licenses in every state; the verifier and seed texts."""
    from devkit.samples import SampleFactory
    from devkit.world import deploy_department
    from registry import CATALOG, connect
    from registry.issuer.store import IssuerStore
    from verifier.pipeline import Verifier
    from verifier.state import ChainClientState

    bench = deploy_department(connect(None), license_types=list(CATALOG))
    department = bench.department(IssuerStore.at(tmp / "store.db"))
    samples = SampleFactory(17)
    today = dt.date.today()
    requests = [
        samples.business_license(),
        samples.business_license(valid_to=today + dt.timedelta(days=400)),
        samples.food_permit(),
        samples.construction_permit(),
        samples.residence_permit(),
        samples.business_license(),  # revoked below
        samples.food_permit(),  # suspended below
        samples.business_license(valid_from=today + dt.timedelta(days=30)),  # not yet valid
        samples.residence_permit(valid_from=today - dt.timedelta(days=800)),  # expired
    ]
    rows = department.issue_many(requests)
    department.anchor_pending()
    department.revoke([rows[5].license_id], reason=3)
    department.suspend([rows[6].license_id], reason=1)
    state = ChainClientState(bench.client)
    state.sync()
    d = bench.client.deployment
    verifier = Verifier(state, chain_id=d.chain_id, license_registry=d.license_registry)
    seeds: list[str] = []
    for row in rows:
        keys = sorted(row.fields)
        for disclose in (None, keys, [], keys[::2], keys[:1]):
            for form in ("LC2", "LC1"):
                seeds.append(department.presentation(row.license_id, disclose).to_text(form=form))
    return verifier, seeds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1_000_000, help="executions before stopping (default 1,000,000)")
    parser.add_argument("--seconds", type=float, default=0, help="stop after this many seconds (0: no limit)")
    parser.add_argument("--work", default=None, help="folder for the fuzzer's corpus and crashes (default: temporary)")
    parser.add_argument("--corpus-out", default=str(ROOT / "tests" / "fuzz_corpus"))
    parser.add_argument("--cap", type=int, default=300, help="most corpus files written to --corpus-out")
    args, libfuzzer_args = parser.parse_known_args()
    if atheris is None:
        print(
            "atheris is not installed: pip install 'atheris>=2.3' (it is in the dev extra: "
            "pip install -e '.[dev]'); it has wheels for CPython 3.11 on Linux",
            file=sys.stderr,
        )
        return 2
    if args.runs < 1 or args.cap < 1:
        parser.error("--runs and --cap must be positive")

    with atheris.instrument_imports(include=["registry", "verifier"]):
        import registry.document.presentation  # noqa: F401 - imported here to be instrumented
        import verifier.pipeline

    # the fuzzer ends the process itself (os._exit), so the work folder stays for inspection
    args.work = args.work or tempfile.mkdtemp(prefix="fuzz_verify-")
    corpus = Path(args.work) / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    chain_dir = Path(args.work) / "chain"
    chain_dir.mkdir(exist_ok=True)
    for old in chain_dir.glob("store.db*"):
        old.unlink()
    verifier, seeds = build_world(chain_dir)
    for text in seeds:
        data = text.encode("ascii")
        (corpus / hashlib.sha256(data).hexdigest()[:16]).write_bytes(data)
    previous = Path(args.corpus_out)
    if previous.is_dir():  # start from the kept corpus too
        for path in previous.glob("*.txt"):
            (corpus / path.stem).write_bytes(path.read_bytes())
    print(
        f"seeded with {len(seeds)} presentations (+ {args.corpus_out}); fuzzing up to {args.runs:,} "
        f"executions" + (f" or {args.seconds:.0f} s" if args.seconds else "") + f"; work folder {args.work}",
        flush=True,
    )
    fuzz = Fuzz(args, verifier, seeds)
    atheris.Setup(
        [sys.argv[0], str(corpus), "-max_len=4200", "-timeout=10", "-rss_limit_mb=4096", *libfuzzer_args],
        fuzz.test_one_input,
        custom_mutator=fuzz.mutate,
    )
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
