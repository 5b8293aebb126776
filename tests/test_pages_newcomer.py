"""What a newcomer meets first, through the real server: the groups page's headings,
sign-in that returns where one was."""

from __future__ import annotations

import re

from tests.support import LiveServer, client


async def test_group_headings_are_the_catalogs_plurals(sqlite_server: LiveServer) -> None:
    async with client(sqlite_server) as http:
        english = (await http.get("/groups")).text
        french = (await http.get("/groups", headers={"Accept-Language": "fr"})).text
    headings = re.findall(r"<h2>([^<]+)</h2>", english)
    assert "Caucuses" in headings and "Plenaries" in headings
    assert not any(h.endswith(("ss", "ys")) for h in headings), headings
    french_headings = re.findall(r"<h2>([^<]+)</h2>", french)
    assert "Caucuses" not in french_headings and "Plenaries" not in french_headings
