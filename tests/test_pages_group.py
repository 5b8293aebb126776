"""A group's page through the real server: members by role without e-mail addresses,
its positions, room and sessions; joining, leaving and appointments from its forms,
each refusal shown beside the form with nothing changed."""

from __future__ import annotations

import html
import re

import httpx
from sqlalchemy import select

from forum.db.models import Group, Membership
from tests.people import person, set_role
from tests.rooms_support import schedule_and_open
from tests.support import Client, LiveServer, client, make_secretariat, token_in

CAUCUS = "africa-caucus"


async def _roles(server: LiveServer, slug: str = CAUCUS) -> dict[int, str]:
    async with server.state["sessionmaker"]() as session:
        rows = await session.execute(
            select(Membership.user_id, Membership.role)
            .join(Group, Group.id == Membership.group_id)
            .where(Group.slug == slug)
        )
        return dict(rows.all())


async def _post(
    http: Client, path: str, page: str = f"/groups/{CAUCUS}", **data: str
) -> httpx.Response:
    """Send a form of `page` as a browser does: with the page's CSRF token."""
    form = (await http.get(page)).text
    return await http.post(path, data={"csrf_token": token_in(form), **data})


async def test_the_page_lists_members_by_role_without_their_addresses(
    server: LiveServer,
) -> None:
    async with client(server) as chair, client(server) as expert, client(server) as reader:
        boss = await chair.signup(display_name="Aminata Chair", country="SN")
        who = await expert.signup(
            display_name="Kofi Expert", organization="ICT Ghana", country="GH"
        )
        await set_role(server, CAUCUS, boss["id"], "chair")
        await set_role(server, CAUCUS, who["id"], "contact_point")
        page = (await reader.get(f"/groups/{CAUCUS}")).text
        french = (await reader.get(f"/groups/{CAUCUS}", headers={"Accept-Language": "fr"})).text
    members = page.split('id="members"')[1]
    chairs = members.split('id="role-chair"')[1].split("</ul>")[0]
    points = members.split('id="role-contact_point"')[1].split("</ul>")[0]
    assert "Aminata Chair" in chairs and "Senegal" in chairs
    assert "Kofi Expert" in points and "ICT Ghana" in points and "Ghana" in points
    assert "@" not in members.split("</section>")[0]
    assert "Sénégal" in french
    assert f'href="/groups/{CAUCUS}/room"' in page and f'href="/sessions?group={CAUCUS}"' in page
    assert "Sign in</a> or" in page and "/join" not in page


async def test_the_page_shows_the_groups_positions_and_sessions(server: LiveServer) -> None:
    chair = await person(server, role="chair")
    await schedule_and_open(chair, title="Sitting now")
    async with client(server) as http:
        page = (await http.get("/groups/wgig")).text
    room = page.split('id="room"')[1].split("</section>")[0]
    assert "Sitting now" in room and "Live now" in room
    assert "The group has posted no position yet." in page


async def test_a_newcomer_joins_and_leaves_from_the_page(server: LiveServer) -> None:
    async with client(server) as http:
        me = await http.signup(family="civil_society")
        page = (await http.get(f"/groups/{CAUCUS}")).text
        assert "Join as member" in page and "Only observe" in page
        joined = await _post(http, f"/groups/{CAUCUS}/join")
        assert joined.status_code == 303 and joined.headers["location"].endswith("#membership")
        assert (await _roles(server))[me["id"]] == "member"
        again = await _post(http, f"/groups/{CAUCUS}/join")
        assert again.status_code == 409
        assert "You are a member of this group already." in html.unescape(again.text)
        # A leave without its confirmation asks, and changes nothing.
        asked = await _post(http, f"/groups/{CAUCUS}/leave")
        assert asked.status_code == 200 and 'name="confirm" value="1"' in asked.text
        assert me["id"] in await _roles(server)
        confirm = (await http.get(f"/groups/{CAUCUS}/leave")).text
        left = await http.post(
            f"/groups/{CAUCUS}/leave", data={"csrf_token": token_in(confirm), "confirm": "1"}
        )
        assert left.status_code == 303
        assert me["id"] not in await _roles(server)
        # Another family's caucus is joined as an observer, as the page says first.
        page = (await http.get("/groups/wgig")).text
        assert "Join as observer" in page and "Only observe" not in page
        watched = await _post(http, "/groups/wgig/join", page="/groups/wgig")
        assert watched.status_code == 303
        assert (await _roles(server, "wgig"))[me["id"]] == "observer"


async def test_an_appointed_group_says_so_and_refuses_a_join(server: LiveServer) -> None:
    async with client(server) as http:
        me = await http.signup(family="civil_society")
        page = (await http.get("/groups/cs-bureau")).text
        assert "are appointed by the secretariat" in page and "Join as" not in page
        refused = await _post(http, "/groups/cs-bureau/join", "/groups/cs-bureau")
    assert refused.status_code == 403
    beside = re.search(
        r'<p class="field-error" id="join-error" role="alert">([^<]+)</p>', refused.text
    )
    assert beside and "appointed by the secretariat" in beside.group(1)
    assert me["id"] not in await _roles(server, "cs-bureau")


async def test_a_chair_appoints_and_removes_from_the_page(server: LiveServer) -> None:
    async with client(server) as chair, client(server) as member:
        boss = await chair.signup()
        someone = await member.signup(display_name="Zainab Member")
        await set_role(server, CAUCUS, boss["id"], "chair")
        await set_role(server, CAUCUS, someone["id"], "member")
        page = (await chair.get(f"/groups/{CAUCUS}")).text
        selector = page.split(f'id="role-of-{someone["id"]}"')[1].split("</select>")[0]
        assert re.findall(r'<option value="(\w+)"', selector) == [
            "coordinator",
            "contact_point",
            "member",
            "observer",
        ]
        # The chair's own row has no selector: only the secretariat changes a chair.
        assert f'id="role-of-{boss["id"]}"' not in page
        path = f"/groups/{CAUCUS}/members/{someone['id']}"
        appointed = await _post(chair, f"{path}/role", role="contact_point")
        assert appointed.status_code == 303
        assert (await _roles(server))[someone["id"]] == "contact_point"
        made_chair = await _post(chair, f"{path}/role", role="chair")
        assert made_chair.status_code == 403
        beside = re.search(
            rf'<p class="field-error" id="member-{someone["id"]}-error" role="alert">([^<]+)</p>',
            made_chair.text,
        )
        assert beside and beside.group(1) == "Only the secretariat appoints or removes a chair."
        assert (await _roles(server))[someone["id"]] == "contact_point"
        unknown = await _post(chair, f"{path}/role", role="emperor")
        assert unknown.status_code == 422 and "Choose one of the roles." in unknown.text
        asked = await _post(chair, f"{path}/remove")
        assert asked.status_code == 200 and "Zainab Member" in asked.text
        assert someone["id"] in await _roles(server)
        removed = await _post(chair, f"{path}/remove", confirm="1")
        assert removed.status_code == 303
        assert someone["id"] not in await _roles(server)


async def test_someone_not_the_chair_is_refused_and_nothing_changes(server: LiveServer) -> None:
    async with client(server) as outsider, client(server) as member:
        me = await outsider.signup()
        someone = await member.signup()
        await set_role(server, CAUCUS, me["id"], "coordinator")
        await set_role(server, CAUCUS, someone["id"], "member")
        page = (await outsider.get(f"/groups/{CAUCUS}")).text
        assert "/role" not in page  # no appointment form is offered
        before = await _roles(server)
        path = f"/groups/{CAUCUS}/members/{someone['id']}"
        refused = await _post(outsider, f"{path}/role", role="coordinator")
        removed = await _post(outsider, f"{path}/remove", confirm="1")
        french = await outsider.post(
            f"{path}/role",
            data={"csrf_token": token_in(page), "role": "coordinator"},
            headers={"Accept-Language": "fr"},
        )
        no_token = await outsider.post(f"{path}/role", data={"role": "coordinator"})
    message = "Only the group's chair or the secretariat may manage members."
    for answer in (refused, removed):
        assert answer.status_code == 403
        assert message in html.unescape(answer.text)
    assert french.status_code == 403
    assert "Seuls la présidence du groupe ou le secrétariat" in html.unescape(french.text)
    assert no_token.status_code == 403
    assert await _roles(server) == before


async def test_the_secretariat_appoints_a_chair(server: LiveServer) -> None:
    async with client(server) as keeper, client(server) as member:
        staff = await keeper.signup()
        someone = await member.signup()
        await make_secretariat(server, staff["id"])
        await set_role(server, CAUCUS, someone["id"], "member")
        page = (await keeper.get(f"/groups/{CAUCUS}")).text
        selector = page.split(f'id="role-of-{someone["id"]}"')[1].split("</select>")[0]
        assert '<option value="chair">' in selector
        made = await _post(keeper, f"/groups/{CAUCUS}/members/{someone['id']}/role", role="chair")
    assert made.status_code == 303
    assert (await _roles(server))[someone["id"]] == "chair"
