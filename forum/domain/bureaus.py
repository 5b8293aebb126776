"""Paragraph 27a: the civil society and business bureaus may never have more members
than the governmental bureau."""

from __future__ import annotations

from collections.abc import Mapping

from forum.domain.vocabulary import Family, Role
from forum.errors import N_, ErrorCode, ForumError

GOVERNMENT_BUREAU = Family.GOVERNMENT
CAPPED_BUREAUS = frozenset({Family.CIVIL_SOCIETY, Family.PRIVATE_SECTOR})
# Observers sit with a bureau without being among its members.
COUNTED_ROLES = frozenset({Role.CHAIR, Role.COORDINATOR, Role.MEMBER, Role.CONTACT_POINT})


# One sentence per bureau: a translation names each bureau in its own words.
_OUTNUMBERED = {
    Family.CIVIL_SOCIETY: N_(
        "The civil society bureau may not have more members than the governmental bureau ({limit})."
    ),
    Family.PRIVATE_SECTOR: N_(
        "The private sector bureau may not have more members than the governmental bureau"
        " ({limit})."
    ),
}


def counts(role: Role | None) -> bool:
    return role in COUNTED_ROLES


def check_bureau_sizes(sizes: Mapping[Family, int]) -> None:
    """Refuse a change after which a capped bureau would outnumber the governmental one.

    `sizes` are the member counts of each existing bureau as they would be after the
    change; a bureau that does not exist is not in the mapping.
    """
    cap = sizes.get(GOVERNMENT_BUREAU)
    if cap is None:
        return
    for family in sorted(CAPPED_BUREAUS & sizes.keys()):
        if sizes[family] > cap:
            raise ForumError(ErrorCode.BUREAU_LIMIT, _OUTNUMBERED[family], limit=cap)
