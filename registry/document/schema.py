"""The machinery of license types: field kinds, field specifications, issuing departments' kinds
and the license type itself (the catalogue of types is :mod:`registry.document.catalog`).

Each field has a stable ``number`` (its position in the license's salt tree and its key in QR
codes: never renumber a published field), bilingual labels, a kind that fixes how values are
validated, made canonical (the value committed to) and packed into QR codes, and whether it is
disclosed by default when a QR code is made.
"""

from __future__ import annotations

import datetime as dt
import enum
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from registry.document.identifiers import (
    FieldValueError,
    pack_ric,
    pack_uscc,
    region_name,
    unpack_ric,
    unpack_uscc,
    validate_region,
    validate_ric,
    validate_uscc,
)
from registry.errors import ConfigurationError

__all__ = [
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
]

#: Dates are committed and packed as days since this day.
EPOCH = dt.date(1970, 1, 1)
#: Fields per license type (the salt tree has 16 leaves).
MAX_FIELDS = 16
#: Largest amount of money (whole yuan) a field holds.
MAX_MONEY = 10**15


def check_text(text: str, what: str, most: int) -> str:
    """``text`` when it holds a text field's value: non-empty, at most ``most`` characters and
    printable (so the only whitespace it can hold is the ordinary space). Issuance applies it after
    normalising input; presentations, whose text must already be canonical, apply it as it is."""
    if not text:
        raise FieldValueError(what, "is empty", "non-empty text")
    if len(text) > most:
        raise FieldValueError(what, f"has {len(text)} characters", f"at most {most} characters")
    if not text.isprintable():
        raise FieldValueError(
            what,
            "holds control characters, line breaks, unassigned characters or unusual spaces",
            "printable text on one line (ordinary spaces only)",
        )
    return text


def day_number(value: dt.date) -> int:
    return (value - EPOCH).days


#: Day numbers of the first and the last day a date can be (0001-01-01 and 9999-12-31): every day
#: number committed or presented lies between them, so turning one back into a date never overflows.
FIRST_DAY = day_number(dt.date.min)
LAST_DAY = day_number(dt.date.max)


def from_day_number(value: int) -> dt.date:
    if FIRST_DAY <= value <= LAST_DAY:  # every valid day number: by its ordinal, without a timedelta
        return dt.date.fromordinal(_EPOCH_ORDINAL + value)
    return EPOCH + dt.timedelta(days=value)  # raises OverflowError, as it always did


_EPOCH_ORDINAL = EPOCH.toordinal()


class FieldKind(enum.Enum):
    TEXT = "text"
    USCC = "uscc"  # unified social credit code
    RIC = "ric"  # resident identity number
    DATE = "date"
    MONEY = "money"  # whole yuan
    ENUM = "enum"
    REGION = "region"  # GB/T 2260 code


class DepartmentKind(enum.Enum):
    """The kind of department that issues a license type (its ``value`` is a stable key)."""

    MARKET_REGULATION = "market_regulation"
    COMMERCE = "commerce"
    TAXATION = "taxation"
    CUSTOMS = "customs"
    PUBLIC_SECURITY = "public_security"
    HOUSING = "housing"
    NATURAL_RESOURCES = "natural_resources"
    FIRE_RESCUE = "fire_rescue"
    HEALTH = "health"
    ECOLOGY = "ecology"

    @property
    def zh(self) -> str:
        return _DEPARTMENT_NAMES[self][0]

    @property
    def en(self) -> str:
        return _DEPARTMENT_NAMES[self][1]


_DEPARTMENT_NAMES: dict[DepartmentKind, tuple[str, str]] = {
    DepartmentKind.MARKET_REGULATION: ("市场监督管理部门", "Market regulation administration"),
    DepartmentKind.COMMERCE: ("商务主管部门", "Commerce department"),
    DepartmentKind.TAXATION: ("税务部门", "Tax administration"),
    DepartmentKind.CUSTOMS: ("海关", "Customs"),
    DepartmentKind.PUBLIC_SECURITY: ("公安机关", "Public security bureau"),
    DepartmentKind.HOUSING: ("住房和城乡建设部门", "Housing and urban-rural development department"),
    DepartmentKind.NATURAL_RESOURCES: ("自然资源和规划部门", "Natural resources and planning department"),
    DepartmentKind.FIRE_RESCUE: ("消防救援机构", "Fire and rescue service"),
    DepartmentKind.HEALTH: ("卫生健康部门", "Health commission"),
    DepartmentKind.ECOLOGY: ("生态环境部门", "Ecology and environment department"),
}


@dataclass(frozen=True, slots=True)
class Choice:
    code: int
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class FieldSpec:
    key: str
    number: int
    zh: str
    en: str
    kind: FieldKind
    required: bool = True
    max_length: int = 200
    choices: tuple[Choice, ...] = ()
    disclose_by_default: bool = True

    # -- canonical values (what is committed) ---------------------------------------------------

    def canonical(self, value: object) -> str | int:
        """Validate an input value (from a form, JSON or CSV) and return its canonical form:
        ``str`` for text and identifiers, ``int`` for dates (day numbers), money, enums and
        regions."""
        name = f"{self.key} ({self.zh})"
        kind = self.kind
        if kind is FieldKind.TEXT:
            return self._text(value, name)
        if kind is FieldKind.USCC:
            return validate_uscc(value, field=name)
        if kind is FieldKind.RIC:
            return validate_ric(value, field=name)
        if kind is FieldKind.DATE:
            return self._date(value, name)
        if kind is FieldKind.MONEY:
            return self._money(value, name)
        if kind is FieldKind.ENUM:
            return self._choice(value, name)
        return validate_region(value, field=name)

    def _text(self, value: object, name: str) -> str:
        if not isinstance(value, str):
            raise FieldValueError(name, f"got {type(value).__name__}", "text")
        if len(value) > 2 * self.max_length:  # bound the input before normalising it (quadratic at worst)
            raise FieldValueError(name, f"has {len(value)} characters", f"at most {self.max_length} characters")
        return check_text(unicodedata.normalize("NFC", value.strip()), name, self.max_length)

    def _date(self, value: object, name: str) -> int:
        expected = "a date as YYYY-MM-DD"
        if isinstance(value, dt.datetime):
            raise FieldValueError(name, "is a date-time", expected)
        if isinstance(value, dt.date):
            return day_number(value)
        if isinstance(value, str):
            try:
                return day_number(dt.date.fromisoformat(value.strip()))
            except ValueError:
                raise FieldValueError(name, f"{value!r} is not a date", expected) from None
        raise FieldValueError(name, f"got {type(value).__name__}", expected)

    def _money(self, value: object, name: str) -> int:
        expected = f"whole yuan, an integer from 0 to {MAX_MONEY}"
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_MONEY:
            raise FieldValueError(name, f"{value!r} is not an amount", expected)
        return value

    def _choice(self, value: object, name: str) -> int:
        expected = "one of " + ", ".join(f"{c.code} ({c.zh}/{c.en})" for c in self.choices)
        for c in self.choices:
            if value in (c.code, c.zh, c.en) or (isinstance(value, str) and value.strip() == str(c.code)):
                return c.code
        raise FieldValueError(name, f"{value!r} is not a known choice", expected)

    # -- QR packing --------------------------------------------------------------------------------

    def pack(self, canonical: str | int) -> Any:
        """Compact QR form of a canonical value."""
        if self.kind is FieldKind.USCC:
            return pack_uscc(str(canonical))
        if self.kind is FieldKind.RIC:
            return pack_ric(str(canonical))
        return canonical

    def unpack(self, packed: object) -> str | int:
        """Canonical value from its QR form, validated as strictly as an input."""
        name = f"{self.key} ({self.zh})"
        if self.kind is FieldKind.USCC:
            if not isinstance(packed, bytes):
                raise FieldValueError(name, "packed code is not bytes", "a packed unified social credit code")
            # form only: the code was validated at issuance and the signature covers it
            return unpack_uscc(packed, field=name, validate=False)
        if self.kind is FieldKind.RIC:
            return unpack_ric(packed, field=name, validate=False)
        if self.kind is FieldKind.TEXT:
            if not isinstance(packed, str):
                raise FieldValueError(name, f"got {type(packed).__name__}", "text")
            text = self._text(packed, name)
            if text != packed:
                raise FieldValueError(name, "is not in canonical form", "NFC text without surrounding spaces")
            return text
        if isinstance(packed, bool) or not isinstance(packed, int):
            raise FieldValueError(name, f"got {type(packed).__name__}", "an integer")
        if self.kind is FieldKind.DATE:
            if not FIRST_DAY <= packed <= LAST_DAY:
                raise FieldValueError(
                    name, f"day {packed} is out of range", f"a day number from {FIRST_DAY} to {LAST_DAY}"
                )
            return packed
        return self.canonical(packed)

    # -- display -----------------------------------------------------------------------------------

    def display(self, canonical: str | int, lang: str = "zh") -> str:
        """Human-readable value."""
        if self.kind is FieldKind.DATE:
            return from_day_number(int(canonical)).isoformat()
        if self.kind is FieldKind.MONEY:
            amount = int(canonical)
            if lang == "zh":
                return f"{amount / 10_000:,.2f}万元" if amount >= 10_000 else f"{amount}元"
            return f"CNY {amount:,}"
        if self.kind is FieldKind.ENUM:
            for c in self.choices:
                if c.code == canonical:
                    return c.zh if lang == "zh" else c.en
        if self.kind is FieldKind.REGION:
            return f"{region_name(int(canonical)) or ''} ({canonical})"
        return str(canonical)


@dataclass(frozen=True, slots=True)
class LicenseType:
    code: str  # two letters, also the first two characters of license ids
    number: int  # compact id in QR codes
    zh: str
    en: str
    fields: tuple[FieldSpec, ...]
    holder_field: str
    department: DepartmentKind  # the kind of department that issues it
    by_key: Mapping[str, FieldSpec] = field(init=False, repr=False, compare=False)
    by_number: Mapping[int, FieldSpec] = field(init=False, repr=False, compare=False)
    #: The ``bytes32`` id used on chain: the code in ASCII, zero-padded.
    type_id: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_key = {f.key: f for f in self.fields}
        by_number = {f.number: f for f in self.fields}
        if len(by_key) != len(self.fields) or len(by_number) != len(self.fields):
            raise ConfigurationError(f"license type {self.code} has duplicate field keys or numbers")
        if any(not 1 <= f.number <= MAX_FIELDS for f in self.fields):
            raise ConfigurationError(f"license type {self.code}: field numbers must be 1 to {MAX_FIELDS}")
        if self.holder_field not in by_key:
            raise ConfigurationError(f"license type {self.code}: unknown holder field {self.holder_field}")
        object.__setattr__(self, "by_key", by_key)
        object.__setattr__(self, "by_number", by_number)
        object.__setattr__(self, "type_id", self.code.encode("ascii").ljust(32, b"\x00"))

    def canonical_fields(self, values: Mapping[str, object]) -> dict[str, str | int]:
        """Validate a whole set of input values: unknown keys, missing required fields and every bad
        value are reported (the first problem found is raised)."""
        if not isinstance(values, Mapping):
            raise FieldValueError(self.code, "fields are not a mapping", "an object of field values")
        unknown = sorted(set(values) - set(self.by_key))
        if unknown:
            raise FieldValueError(
                self.code, f"unknown field(s) {', '.join(map(str, unknown))}", "fields " + ", ".join(self.by_key)
            )
        result: dict[str, str | int] = {}
        for spec in self.fields:
            raw = values.get(spec.key)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                if spec.required:
                    raise FieldValueError(f"{spec.key} ({spec.zh})", "is missing", "a value (required field)")
                continue
            result[spec.key] = spec.canonical(raw)
        return result
