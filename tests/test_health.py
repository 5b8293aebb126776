from __future__ import annotations

from tests.support import Client


async def test_healthz_answers_ok_once_the_database_is_reachable(http: Client) -> None:
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


async def test_action_lines_list_c1_to_c11_with_facilitators(http: Client) -> None:
    response = await http.get("/api/action-lines", params={"kind": "action_line"})
    lines = response.json()["action_lines"]
    assert [line["code"] for line in lines] == [f"C{n}" for n in range(1, 12)]
    assert all(line["title"] and line["facilitators"] for line in lines)
    assert "ITU" in lines[1]["facilitators"]
