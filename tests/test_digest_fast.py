"""The verifier's fast path gives byte-identical answers to the definitions it replaces: the
commitments (:func:`commitments_of` against :func:`commitment` with :func:`derive_salts`), the
digest (:func:`header_digest` against :func:`license_digest`), and the disclosed fields' display
(the pipeline's cached :class:`DisclosedField` against :meth:`FieldSpec.display`), on random
licenses of every type and random disclosures, before and after a trip through the QR text."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from devkit.samples import make_ric, make_uscc
from registry.document import license as doc
from registry.document import licensetypes as types
from registry.document.identifiers import FieldValueError, LicenseIdentifier
from registry.document.license import License, LicenseHeader, SaltNode
from registry.document.licensetypes import FieldKind, FieldSpec
from registry.document.presentation import decode_presentation, present
from registry.document.suites import SignatureSuite
from signer import keccak256
from verifier._display import disclosed_fields as _disclosed
from verifier.results import DisclosedField

ISSUER = "11110000MB0195560T"
TYPES = sorted(types.CATALOG)
REGIONS = (110000, 110108, 310000, 310115, 440300, 440305, 510100)
# printable text, including characters whose UTF-8 takes 2, 3 and 4 bytes
TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Co", "Cn")),
    min_size=1,
    max_size=90,
)


@st.composite
def field_values(draw: st.DrawFn, spec: FieldSpec) -> str | int:
    """A canonical value of ``spec``, across the sizes its CBOR encoding can take."""
    kind = spec.kind
    rng = random.Random(draw(st.integers(0, 2**32)))
    if kind is FieldKind.TEXT:
        raw = draw(TEXT)
        try:
            return spec.canonical(raw)
        except FieldValueError:
            assume(False)
    if kind is FieldKind.USCC:
        return make_uscc(rng, region=draw(st.sampled_from(REGIONS)))
    if kind is FieldKind.RIC:
        born = types.from_day_number(draw(st.integers(-20_000, 19_000)))
        return make_ric(rng, region=draw(st.sampled_from(REGIONS)), born=born)
    if kind is FieldKind.DATE:
        return draw(
            st.one_of(st.integers(types.FIRST_DAY, types.LAST_DAY), st.integers(-70_000, 70_000), st.integers(-30, 30))
        )
    if kind is FieldKind.MONEY:
        return draw(st.one_of(st.integers(0, types.MAX_MONEY), st.sampled_from([0, 23, 24, 255, 256, 65535, 65536])))
    if kind is FieldKind.ENUM:
        return draw(st.sampled_from([c.code for c in spec.choices]))
    return draw(st.sampled_from(REGIONS))


@st.composite
def licenses(draw: st.DrawFn) -> License:
    ltype = types.CATALOG[draw(st.sampled_from(TYPES))]
    fields = {}
    for spec in ltype.fields:
        if spec.required or draw(st.booleans()):
            fields[spec.key] = draw(field_values(spec))
    valid_from = draw(st.integers(0, types.LAST_DAY - 1))
    valid_to = draw(st.one_of(st.none(), st.integers(valid_from, types.LAST_DAY)))
    header = LicenseHeader(
        license_type=ltype,
        license_id=LicenseIdentifier(ltype.code, ISSUER, draw(st.integers(1, 10**8 - 1)), draw(st.integers(1, 99))),
        valid_from=valid_from,
        valid_to=valid_to,
    )
    return License(header=header, fields=fields, secret=draw(st.binary(min_size=16, max_size=16)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(lic=licenses(), data=st.data())
def test_fast_commitments_and_digest_equal_the_definitions(lic: License, data: st.DataObject):
    keys = list(lic.fields)
    disclosed = data.draw(st.lists(st.sampled_from(keys), unique=True) if keys else st.just([]))
    p = present(lic, bytes(64), disclosed, suite=data.draw(st.sampled_from(list(SignatureSuite))))
    positions = {s.key: s.number - 1 for s in lic.license_type.fields}
    # the license's commitments are the definition's (commitment, with the salts of derive_salts)
    assert doc.commitments_of(p.nodes, p.disclosed, positions) == [lic.commitments[k] for k in p.disclosed]
    # the whole tree from the secret: every field's commitment, as the issuer computes them
    everything = doc.commitments_of([SaltNode(0, 0, lic.secret)], lic.fields, positions)
    assert everything == list(lic.commitments.values())
    assert doc.header_digest(lic.header, everything) == lic.digest  # License.digest is license_digest's
    # the presentation's own two paths: the disclosure's salts (derive_salts from its nodes) and the fast one
    assert p.digest() == p.reference_digest() == lic.digest
    again = decode_presentation(p.to_text())
    assert again.digest() == again.reference_digest() == lic.digest


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(lic=licenses())
def test_disclosed_fields_equal_their_definition_and_the_cache_keeps_no_other_fields_value(lic: License):
    p = decode_presentation(present(lic, bytes(64), list(lic.fields)).to_text())
    specs = lic.license_type.by_key
    expected = [
        DisclosedField(k, specs[k].zh, specs[k].en, v, specs[k].display(v, "zh"), specs[k].display(v, "en"))
        for k, v in lic.fields.items()
    ]
    assert _disclosed(p) == expected
    assert _disclosed(p) == expected  # the second time from the cache


def test_a_node_below_the_root_derives_only_its_own_leaves():
    """A disclosure's nodes sit at any depth; each derives the salts of the leaves below it."""
    secret = bytes(range(16))
    full = doc.derive_salts([SaltNode(0, 0, secret)])
    for depth in range(doc.SALT_TREE_DEPTH + 1):
        for index in range(1 << depth):
            node = next(iter(_node_at(secret, depth, index)))
            leaves = node.leaves()
            values = {f"f{leaf}": leaf for leaf in leaves}
            positions = {f"f{leaf}": leaf for leaf in leaves}
            got = doc.commitments_of([node], values, positions)
            assert got == [doc.commitment(full[leaf], f"f{leaf}", leaf) for leaf in leaves]


def _node_at(secret: bytes, depth: int, index: int) -> list[SaltNode]:
    value = secret
    for level in range(depth):
        side = index >> (depth - 1 - level) & 1
        value = keccak256(value + bytes((side,)))[:16]  # the definition of a child, written out
    return [SaltNode(depth, index, value)]
