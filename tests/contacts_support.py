"""What the contact point tests share: a contact point of a group, and a conversation
between a government delegate and them."""

from __future__ import annotations

from typing import Any

from tests.people import Person, api, person, set_role
from tests.support import LiveServer

# A thematic caucus of the seed that follows C7 (ICT applications).
C7_CAUCUS = "health-caucus"


async def contact_point(
    server: LiveServer,
    *,
    group: str = C7_CAUCUS,
    name: str | None = None,
    expertise: str = "",
    languages: tuple[str, ...] = (),
) -> Person:
    """A civil society member listed as a contact point of `group`, with an entry."""
    someone = await person(
        server, family="civil_society", role="contact_point", group=group, name=name
    )
    if expertise or languages:
        saved = await api(
            someone,
            "PUT",
            "/api/me/contact-entry",
            {"expertise": expertise, "languages": list(languages)},
        )
        assert saved.status_code == 200, saved.text
    return someone


async def list_as_contact_point(server: LiveServer, who: Person, group: str = C7_CAUCUS) -> None:
    """Make someone already registered a contact point of `group` as well."""
    await set_role(server, group, who.id, "contact_point")


async def open_conversation(
    requester: Person, contact: Person, body: str = "May we talk?"
) -> dict[str, Any]:
    """A request from `requester` that `contact` accepts; the request as it then is."""
    sent = await api(
        requester, "POST", "/api/contact-requests", {"contact_id": contact.id, "body": body}
    )
    assert sent.status_code == 201, sent.text
    accepted = await api(contact, "POST", f"/api/contact-requests/{sent.json()['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    return dict(accepted.json())
