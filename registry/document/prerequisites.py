"""Prerequisites of license types (秒批): the licenses an applicant must already hold, declared as data.

Each :class:`Prerequisite` of a type names the license types that fill it, how its holder is tied
to the new license (a field of the new license equals a field of the prerequisite: the same credit
code), and where its issuer may be (anywhere, the same province, or the same division as the
department deciding). Every prerequisite must also verify as ``valid`` with the verifier and chain
state a counter would use, and its validity window must cover the first valid day of the new
license. :mod:`registry.issuer.prerequisites` evaluates these rules.

Declared today:

- a food business permit (FB) needs a business license (BL) of the same credit code, issued in the
  deciding department's province;
- a construction permit (CP) needs the builder's business license (BL.uscc == CP.builder_uscc) and
  the contractor's (BL.uscc == CP.contractor_uscc), issued anywhere (contractors work nationwide).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from registry.document.catalog import CATALOG, get_type
from registry.errors import ConfigurationError

__all__ = ["PREREQUISITES", "HolderMatch", "Prerequisite", "RegionScope", "prerequisites_of"]


class RegionScope(enum.Enum):
    """Where a prerequisite's issuer may be registered, relative to the deciding department's
    region (GB/T 2260 codes: a province is the code's first two digits)."""

    ANY = "any"
    PROVINCE = "province"
    DIVISION = "division"

    def contains(self, issuer_region: int, department_region: int) -> bool:
        if self is RegionScope.ANY:
            return True
        if self is RegionScope.PROVINCE:
            return issuer_region // 10_000 == department_region // 10_000
        return issuer_region == department_region

    @property
    def zh(self) -> str:
        return {"any": "不限地区", "province": "同一省级行政区", "division": "同一行政区划"}[self.value]

    @property
    def en(self) -> str:
        return {"any": "any region", "province": "the same province", "division": "the same division"}[self.value]


@dataclass(frozen=True, slots=True)
class HolderMatch:
    """The new license's ``field`` equals the prerequisite's ``prerequisite_field``."""

    field: str
    prerequisite_field: str


@dataclass(frozen=True, slots=True)
class Prerequisite:
    """One license the applicant must already hold."""

    key: str  # stable name of the prerequisite within its type, e.g. "builder_business_license"
    zh: str
    en: str
    types: tuple[str, ...]  # license type codes that fill it
    holder: tuple[HolderMatch, ...]
    region: RegionScope = RegionScope.ANY


def _check(code: str, declared: tuple[Prerequisite, ...]) -> tuple[Prerequisite, ...]:
    """Refuse a declaration naming a type or a field the catalogue does not have."""
    ltype = get_type(code)
    keys = [p.key for p in declared]
    if len(set(keys)) != len(keys):
        raise ConfigurationError(f"prerequisites of {code}: two share a key")
    for p in declared:
        if not p.types or not p.holder:
            raise ConfigurationError(f"prerequisite {code}.{p.key}: name its types and its holder match")
        for match in p.holder:
            if match.field not in ltype.by_key:
                raise ConfigurationError(f"prerequisite {code}.{p.key}: {code} has no field {match.field}")
            for t in p.types:
                if t not in CATALOG or match.prerequisite_field not in CATALOG[t].by_key:
                    raise ConfigurationError(
                        f"prerequisite {code}.{p.key}: {t} has no field {match.prerequisite_field}"
                    )
    return declared


#: License type code -> its prerequisites, in the order they are reported.
PREREQUISITES: Mapping[str, tuple[Prerequisite, ...]] = MappingProxyType(
    {
        "FB": _check(
            "FB",
            (
                Prerequisite(
                    "business_license",
                    "营业执照",
                    "Business license",
                    types=("BL",),
                    holder=(HolderMatch("uscc", "uscc"),),
                    region=RegionScope.PROVINCE,
                ),
            ),
        ),
        "CP": _check(
            "CP",
            (
                Prerequisite(
                    "builder_business_license",
                    "建设单位营业执照",
                    "Builder's business license",
                    types=("BL",),
                    holder=(HolderMatch("builder_uscc", "uscc"),),
                ),
                Prerequisite(
                    "contractor_business_license",
                    "施工单位营业执照",
                    "Contractor's business license",
                    types=("BL",),
                    holder=(HolderMatch("contractor_uscc", "uscc"),),
                ),
            ),
        ),
    }
)


def prerequisites_of(code: str) -> tuple[Prerequisite, ...]:
    """The prerequisites of license type ``code`` (none for a type that declares none)."""
    return PREREQUISITES.get(get_type(code).code, ())
