"""What the pages call the forum's vocabulary: msgids, translated by the templates.

Codes (`civil_society`, `open_debate`) stay codes in the API; a page says each in
the reader's language through `_()`, never by reformatting the code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from forum.domain.sessions import SessionFormat
from forum.domain.vocabulary import Family, GroupKind, Role, Seat
from forum.errors import N_
from forum.i18n.reader import Reader

FAMILY_NAMES = {
    Family.GOVERNMENT: N_("Government"),
    Family.CIVIL_SOCIETY: N_("Civil society"),
    Family.PRIVATE_SECTOR: N_("Private sector"),
    Family.INTERNATIONAL_ORG: N_("International organization"),
}

GROUP_KINDS = {
    GroupKind.WORKING_GROUP: N_("Working group"),
    GroupKind.CAUCUS: N_("Caucus"),
    GroupKind.BUREAU: N_("Bureau"),
    GroupKind.PLENARY: N_("Plenary"),
    GroupKind.TEAM: N_("Team"),
}

# Headings of the list of groups: a plural is a word of its own, not a kind plus "s".
GROUP_KIND_HEADINGS = {
    GroupKind.WORKING_GROUP: N_("Working groups"),
    GroupKind.CAUCUS: N_("Caucuses"),
    GroupKind.BUREAU: N_("Bureaus"),
    GroupKind.PLENARY: N_("Plenaries"),
    GroupKind.TEAM: N_("Teams"),
}

ROLES = {
    Role.CHAIR: N_("chair"),
    Role.COORDINATOR: N_("coordinator"),
    Role.MEMBER: N_("member"),
    Role.CONTACT_POINT: N_("contact point"),
    Role.OBSERVER: N_("observer"),
}

SEATS = {
    Seat.PARTICIPANT: N_("in the room"),
    Seat.REMOTE: N_("remote"),
    Seat.OBSERVER: N_("observer"),
}

SESSION_FORMATS = {
    SessionFormat.OPEN_DEBATE: N_("open debate"),
    SessionFormat.STATEMENTS: N_("statements"),
    SessionFormat.BRIEFING: N_("briefing"),
    SessionFormat.DRAFTING: N_("drafting"),
}

# The regions of the regional caucuses (forum.domain.regions), as pages name them.
REGION_NAMES = {
    "africa": N_("Africa"),
    "arab": N_("Arab region"),
    "asia-pacific": N_("Asia-Pacific"),
    "eastern-europe-central-asia": N_("Eastern Europe and Central Asia"),
    "europe": N_("Europe"),
    "latin-america-caribbean": N_("Latin America and the Caribbean"),
    "north-america": N_("North America"),
}

# North and south (forum.domain.regions.side_of), and speakers whose country is unknown.
SIDE_NAMES = {"north": N_("North"), "south": N_("South"), "unknown": N_("Region not known")}

# Notes on a request to speak (forum.domain.floor.Note).
NOTE_NAMES = {"pro": N_("for"), "contra": N_("against"), "question": N_("question")}

LABELS: dict[str, dict[str, str]] = {
    "family": {str(k): v for k, v in FAMILY_NAMES.items()},
    "kind": {str(k): v for k, v in GROUP_KINDS.items()},
    "kinds": {str(k): v for k, v in GROUP_KIND_HEADINGS.items()},
    "role": {str(k): v for k, v in ROLES.items()},
    "seat": {str(k): v for k, v in SEATS.items()},
    "format": {str(k): v for k, v in SESSION_FORMATS.items()},
    "region": REGION_NAMES,
    "side": SIDE_NAMES,
    "note": NOTE_NAMES,
}


def translated(names: Mapping[Any, str], shown_to: Reader) -> dict[str, str]:
    """`names` (msgids by code) in the reader's language: for a page that hands them to
    its script as well as to its template."""
    return {str(code): shown_to.gettext(name) for code, name in names.items()}
