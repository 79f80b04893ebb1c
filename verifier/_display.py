"""A license's disclosed fields as a result shows them: labels in both languages and display forms,
made once per type and per recurring value."""

from __future__ import annotations

import functools

from registry.document._accel import frozen
from registry.document.licensetypes import FieldKind, LicenseType, get_type_by_number
from registry.document.presentation import Presentation
from verifier.results import DisclosedField

__all__ = ["disclosed_fields"]


#: Kinds whose display is the canonical value itself (texts and identifiers), in both languages.
_AS_IS = frozenset({FieldKind.TEXT, FieldKind.USCC, FieldKind.RIC})


def disclosed_fields(p: Presentation) -> list[DisclosedField]:
    """The disclosed fields with their labels and display forms (:meth:`FieldSpec.display`)."""
    number, labels = _labels(p.license_type)
    out = []
    for key, value in p.disclosed.items():
        zh, en, field_number = labels[key]
        if field_number:
            out.append(_displayed(number, field_number, value))
        else:
            text = str(value)
            out.append(frozen(DisclosedField, key, zh, en, value, text, text))
    return out


def _labels(ltype: LicenseType) -> tuple[int, dict[str, tuple[str, str, int]]]:
    """The type's number and, by field key, the field's labels and, unless the value is its own
    display (:data:`_AS_IS`), its number; made once per catalogue type."""
    found = _LABELS.get(ltype.number)
    if found is None or found[0] is not ltype:
        labels = {s.key: (s.zh, s.en, 0 if s.kind in _AS_IS else s.number) for s in ltype.fields}
        found = _LABELS[ltype.number] = (ltype, labels)
    return ltype.number, found[1]


_LABELS: dict[int, tuple[LicenseType, dict[str, tuple[str, str, int]]]] = {}  # one entry per type number


@functools.lru_cache(maxsize=8192)
def _displayed(type_number: int, field_number: int, value: str | int) -> DisclosedField:
    # dates, amounts, choices and regions recur across licenses; a DisclosedField is immutable
    spec = get_type_by_number(type_number).by_number[field_number]
    return DisclosedField(spec.key, spec.zh, spec.en, value, spec.display(value, "zh"), spec.display(value, "en"))
