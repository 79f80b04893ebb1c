"""QR sizes of sample presentations, in both forms (``LC1:`` and ``LC2:``), and where the bytes go.

Used by ``scripts/bench_images.py --sizes`` and the demo's printout. The licenses are the demo's:
:class:`~devkit.samples.SampleFactory` (seed 2026) for business licenses, food permits,
construction and residence permits, and the seven licenses of a joint opening
(:func:`~devkit.joint.seven_requests`) for the other types; the secrets and signatures are random
bytes of the real lengths, which is what they are.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import zlib
from dataclasses import dataclass

import base45
import cbor2
from stdnum.cn import uscc

from devkit.joint import seven_requests
from devkit.samples import SampleFactory
from registry.document._dictionary import dictionary
from registry.document._inflate import deflate_raw
from registry.document.identifiers import LicenseIdentifier, pack_uscc
from registry.document.license import License
from registry.document.licensetypes import FieldKind, get_type
from registry.document.presentation import Presentation, present
from registry.document.qr import qr_info

__all__ = [
    "RESTAURANT_SCOPE",
    "SizeRow",
    "budget",
    "random_scope",
    "sample_licenses",
    "size_rows",
    "steps",
    "with_scope",
]

_ISSUER = "11110000MB0195560"


def _code(body: str) -> str:
    return body + uscc.calc_check_digit(body)


def sample_licenses(today: dt.date | None = None) -> list[License]:
    """One license of every type in the catalogue, as the demo issues them."""
    today = today or dt.date.today()
    samples = SampleFactory(2026, today=today)
    requests = [samples.business_license(), samples.food_permit(), samples.construction_permit()]
    requests.append(samples.residence_permit())
    joint = seven_requests(_code("91310115MA1K4ABC0"), "上海临港星辰科技有限公司", today)
    requests += [r for code, r in joint.items() if code not in ("BL", "FB")]
    out = []
    for i, req in enumerate(requests):
        ltype = get_type(req.license_type)
        start = req.valid_from if isinstance(req.valid_from, dt.date) else dt.date.fromisoformat(str(req.valid_from))
        out.append(
            License.create(
                license_type=ltype,
                license_id=LicenseIdentifier(ltype.code, _code(_ISSUER), 1 + i, 1),
                valid_from=start,
                valid_to=req.valid_to,
                fields=req.fields,
                secret=os.urandom(16),
            )
        )
    return out


#: A restaurant's business scope, in words the dictionaries hold only a little of.
RESTAURANT_SCOPE = (
    "许可项目：餐饮服务（不产生油烟、异味、废气）；小餐饮、小食杂、食品小作坊经营；烟草制品零售；酒类经营；"
    "食品互联网销售。一般项目：外卖递送服务；鲜肉批发；水产品零售；新鲜蔬菜零售；新鲜水果零售；"
    "食用农产品零售；厨具卫具及日用杂品零售；餐饮器具集中消毒服务。"
)


def with_scope(lic: License, scope: str) -> License:
    """``lic`` with another business scope (the same header and secret)."""
    fields = {**lic.fields, "business_scope": lic.license_type.by_key["business_scope"].canonical(scope)}
    return License(lic.header, fields, lic.secret)


def random_scope(length: int, seed: int = 7) -> str:
    """``length`` Chinese characters drawn at random: text no dictionary can help with."""
    rng = random.Random(seed)  # noqa: S311 - made-up text, reproducible on purpose
    return "".join(chr(rng.randrange(0x4E00, 0x9FA6)) for _ in range(length))


@dataclass(frozen=True)
class SizeRow:
    """One presentation's QR text in both forms: characters and QR version at level M."""

    type_code: str
    disclosure: str  # "default" or "full"
    lc1_chars: int
    lc1_version: int
    lc2_chars: int
    lc2_version: int
    presentation: Presentation


def size_rows(licenses: list[License]) -> list[SizeRow]:
    """Default and full disclosure of each license, old form against new; for the first business
    license, also in full with a scope the dictionary barely knows and with one it cannot know
    (random characters, as many as the sample's scope has)."""
    cases: list[tuple[License, str, list[str] | None]] = []
    for lic in licenses:
        cases += [(lic, "default", None), (lic, "full", list(lic.fields))]
        if lic.license_type.code == "BL" and "business_scope" in lic.fields and len(cases) == 2:
            scope = str(lic.fields["business_scope"])
            cases.append((with_scope(lic, RESTAURANT_SCOPE), "full, restaurant scope", list(lic.fields)))
            cases.append((with_scope(lic, random_scope(len(scope))), "full, random scope", list(lic.fields)))
    rows = []
    for lic, name, disclosed in cases:
        p = present(lic, os.urandom(64), disclosed)
        old, new = p.to_text(form="LC1"), p.to_text()
        rows.append(
            SizeRow(lic.license_type.code, name, len(old), qr_info(old).version, len(new), qr_info(new).version, p)
        )
    return rows


def budget(p: Presentation) -> list[tuple[str, int | None, int | None]]:
    """Where the bytes of ``p``'s ``LC2:`` text go: (part, bytes before compression, bytes carried);
    the parts of the CBOR array are deflated together, so only the array has a carried size."""
    ltype = p.license_type
    specs = ltype.by_key
    h = p.header
    text = [str(v) for k, v in p.disclosed.items() if specs[k].kind is FieldKind.TEXT]
    others = [cbor2.dumps(specs[k].pack(v)) for k, v in p.disclosed.items() if specs[k].kind is not FieldKind.TEXT]
    item: list[object] = [b"\0" * 12, h.license_id.serial, h.license_id.version, h.valid_from, h.valid_to]
    item.append(
        {
            specs[k].number: str(v).encode("gb18030") if specs[k].kind is FieldKind.TEXT else specs[k].pack(v)
            for k, v in p.disclosed.items()
        }
    )
    if p.suite.code is not None:
        item.append(p.suite.code)
    struct = cbor2.dumps(item)
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, dictionary(ltype.number))
    deflated = len(deflater.compress(struct) + deflater.flush())
    gb = sum(len(t.encode("gb18030")) for t in text)
    utf8 = sum(len(t.encode()) for t in text)
    other = sum(len(o) for o in others)
    salts, hidden = 17 * len(p.nodes), 32 * len(p.hidden)
    body = 1 + deflated + salts + hidden + 64
    chars = len(p.to_text())
    return [
        (f"  text of {len(text)} fields in GB 18030 (UTF-8, as LC1 carries it: {utf8})", gb, None),
        (f"  {len(others)} other fields (credit codes, dates, money, codes)", other, None),
        ("  issuer, serial, version, validity, field numbers, CBOR heads", len(struct) - gb - other, None),
        ("CBOR array, raw deflate with the type's dictionary", len(struct), deflated),
        ("type (and dictionary) byte", 1, 1),
        (f"salt nodes ({len(p.nodes)} x 17)", salts, salts),
        (f"hidden fields' commitments ({len(p.hidden)} x 32)", hidden, hidden),
        ("signature", 64, 64),
        ("bytes in all", None, body),
        ("characters: LC2: and base45 (3 per 2 bytes)", None, chars),
    ]


def _chars(body: bytes) -> int:
    return 4 + len(bytes(base45.b45encode(body)))


def steps(p: Presentation) -> list[tuple[str, int]]:
    """The candidates for a smaller QR, applied one after another to ``p``: characters after each
    (the last is ``LC2:`` itself)."""
    ltype = p.license_type
    specs = ltype.by_key
    h = p.header

    def struct(text: str | None) -> bytes:
        fields = {
            specs[k].number: str(v).encode(text) if text and specs[k].kind is FieldKind.TEXT else specs[k].pack(v)
            for k, v in p.disclosed.items()
        }
        item: list[object] = [pack_uscc(h.issuer_uscc), h.license_id.serial, h.license_id.version, h.valid_from]
        item += [h.valid_to, fields, *([p.suite.code] if p.suite.code is not None else [])]
        return cbor2.dumps(item)

    tail = b"".join(bytes((n.depth << 4 | n.index,)) + n.value for n in p.nodes) + b"".join(p.hidden) + p.signature
    return [
        ("LC1: zlib of the CBOR array", len(p.to_text(form="LC1"))),
        ("raw deflate (no zlib header and checksum)", _chars(deflate_raw(p.to_cbor(), b""))),
        ("type byte first, random bytes after the stream", _chars(b"\x01" + deflate_raw(struct(None), b"") + tail)),
        ("text in GB 18030", _chars(b"\x01" + deflate_raw(struct("gb18030"), b"") + tail)),
        (
            "the type's preset dictionary (LC2:)",
            _chars(b"\x01" + deflate_raw(struct("gb18030"), dictionary(ltype.number)) + tail),
        ),
    ]
