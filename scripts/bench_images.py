#!/usr/bin/env python3
"""Worst-case images for the QR image reader: time and peak memory of ``read_qr_image``, each
image in a fresh process (peak resident memory over the process's own baseline, from VmHWM).
With ``--sizes``: the QR codes themselves, for the default and the full disclosure of a sample
license of each type, characters and QR version at level M in the earlier form (``LC1:``) and the
current one (``LC2:``), then where the bytes of the business license's ``LC2:`` texts go; each
code is rendered and read back by the image reader.

    python scripts/bench_images.py [--json]
    python scripts/bench_images.py --sizes [--json]

Cases: a small PNG declaring 40 megapixels, a PNG at the pixel cap, progressive JPEGs (67 MP and
at their 12.6 MP cap, 4:4:4), baseline JPEG photos (12, 40 and 80 MP; one 40 MP of noise, 10 MB).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from PIL import Image

from devkit.qr_sizes import budget, sample_licenses, size_rows, steps
from devkit.samples import png_declaring


def jpeg(width: int, height: int, **save: Any) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (250, 250, 250)).save(out, "JPEG", quality=30, **save)
    return out.getvalue()


def noise_jpeg(width: int, height: int) -> bytes:
    small = Image.frombytes("L", (width // 8, height // 8), os.urandom((width // 8) * (height // 8)))
    out = io.BytesIO()
    small.resize((width, height)).convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def noise_png(side: int) -> bytes:
    small = Image.frombytes("L", (side // 4, side // 4), os.urandom((side // 4) ** 2))
    out = io.BytesIO()
    small.point(lambda v: 255 if v > 127 else 0).resize((side, side), Image.NEAREST).save(out, "PNG")
    return out.getvalue()


CASES: dict[str, Callable[[], bytes]] = {
    "PNG declaring 6324x6324 (40 MP)": lambda: png_declaring(6324, 6324),
    "PNG 2048x2048 RGBA (the cap)": lambda: png_declaring(2048, 2048),
    "PNG 2048x2048 noise": lambda: noise_png(2048),
    "progressive JPEG 8192x8192 (67 MP)": lambda: jpeg(8192, 8192, progressive=True),
    "progressive JPEG 4096x3072 4:4:4 (its cap)": lambda: jpeg(4096, 3072, progressive=True, subsampling=0),
    "JPEG 4000x3000 (12 MP)": lambda: jpeg(4000, 3000),
    "JPEG 7296x5472 noise (40 MP)": lambda: noise_jpeg(7296, 5472),
    "JPEG 10000x8000 (80 MP, the cap)": lambda: jpeg(10000, 8000),
}


def _peak_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def measure(path: str) -> dict[str, Any]:
    """Read one image in this process: seconds, peak memory over the baseline, the answer."""
    from verifier.qr import QrImageError, read_qr_image  # noqa: PLC0415 - imported before the baseline

    with open(path, "rb") as fh:
        data = fh.read()
    base = _peak_kb()
    started = time.perf_counter()
    try:
        answer = "read: " + read_qr_image(data)[:20]
    except QrImageError as exc:
        answer = str(exc)
    return {
        "bytes": len(data),
        "seconds": round(time.perf_counter() - started, 3),
        "peak_mb": round((_peak_kb() - base) / 1024, 1),
        "answer": answer[:90],
    }


def qr_version(chars: int) -> int:
    """The QR version at level M of an alphanumeric text of ``chars`` characters."""
    from registry.document.qr import qr_info  # noqa: PLC0415

    return qr_info("A" * chars).version


def sizes(as_json: bool) -> int:
    """The QR sizes table and the business license's byte budget."""
    from registry.document.qr import render_png  # noqa: PLC0415 - only this mode renders
    from verifier.qr import read_qr_image  # noqa: PLC0415

    rows = size_rows(sample_licenses())
    for row in rows:  # every code reads back from its image, in both forms
        for text in (row.presentation.to_text(), row.presentation.to_text(form="LC1")):
            if read_qr_image(render_png(text)) != text:
                raise SystemExit(f"{row.type_code} {row.disclosure}: the QR image does not read back")
    if as_json:
        print(json.dumps([{k: v for k, v in vars(r).items() if k != "presentation"} for r in rows]))
        return 0
    print(f"{'type':4} {'disclosure':28} {'LC1 chars':>9} {'version':>7}   {'LC2 chars':>9} {'version':>7}   saved")
    for r in rows:
        saved = 1 - r.lc2_chars / r.lc1_chars
        print(
            f"{r.type_code:4} {r.disclosure:28} {r.lc1_chars:>9} {r.lc1_version:>7}   {r.lc2_chars:>9} "
            f"{r.lc2_version:>7}   {saved:5.0%}"
        )
    print("\nthe candidates, one after another: characters (QR version at level M) of the business license")
    columns = [(f"{r.disclosure}", steps(r.presentation)) for r in rows[:4]]
    print(f"  {'':48}" + "".join(f"{name[:22]:>24}" for name, _ in columns))
    for i, (step, _) in enumerate(columns[0][1]):
        cells = "".join(f"{f'{taken[i][1]} ({qr_version(taken[i][1])})':>24}" for _, taken in columns)
        print(f"  {step:48}{cells}")
    for r in rows[:2]:
        print(f"\nwhere the bytes go: {r.type_code}, {r.disclosure} disclosure (LC2)")
        print(f"  {'part':70} {'raw':>5} {'carried':>7}")
        for part, raw, carried in budget(r.presentation):
            print(f"  {part:70} {'' if raw is None else raw:>5} {'' if carried is None else carried:>7}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sizes", action="store_true", help="QR sizes of each license type, LC1 against LC2")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return 0
    if args.sizes:
        return sizes(args.json)
    report = {}
    for name, make in CASES.items():
        with tempfile.NamedTemporaryFile(suffix=".img") as fh:
            fh.write(make())
            fh.flush()
            done = subprocess.run(
                [sys.executable, __file__, "--measure", fh.name], capture_output=True, text=True, check=True
            )
        report[name] = json.loads(done.stdout)
    if args.json:
        print(json.dumps(report))
        return 0
    for name, r in report.items():
        print(f"{name:44} {r['bytes']:>10,} B {r['seconds']:>7.3f} s {r['peak_mb']:>7.1f} MB  {r['answer']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
