"""The catalog of license types and their field schemas: one import for both halves.

The machinery (field kinds, field specifications, the kinds of issuing departments, the license
type) is :mod:`registry.document.schema`; the types themselves are :mod:`registry.document.catalog`.

Each field has a stable ``number`` (its position in the license's salt tree and its key in QR
codes: never renumber a published field), bilingual labels, a kind that fixes how values are
validated, made canonical (the value committed to) and packed into QR codes, and whether it is
disclosed by default when a QR code is made. Each type names the kind of department that issues it.
"""

from __future__ import annotations

from registry.document.catalog import CATALOG, get_type, get_type_by_number, types_issued_by
from registry.document.schema import (
    EPOCH,
    FIRST_DAY,
    LAST_DAY,
    MAX_FIELDS,
    MAX_MONEY,
    Choice,
    DepartmentKind,
    FieldKind,
    FieldSpec,
    LicenseType,
    check_text,
    day_number,
    from_day_number,
)

__all__ = [
    "CATALOG",
    "EPOCH",
    "FIRST_DAY",
    "LAST_DAY",
    "MAX_FIELDS",
    "MAX_MONEY",
    "Choice",
    "DepartmentKind",
    "FieldKind",
    "FieldSpec",
    "LicenseType",
    "check_text",
    "day_number",
    "from_day_number",
    "get_type",
    "get_type_by_number",
    "types_issued_by",
]
