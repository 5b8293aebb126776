"""What `/openapi.json` says about parameters and answers, held against the server: the
values it lists are the values accepted, ids are typed as the router matches them, and
the answers a generated request rarely hits (304, event streams) are described."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from forum.db.base import ID_MAX
from forum.web.openapi import openapi_document
from forum.web.routes import API_ROUTERS
from tests.support import Client, LiveServer, registration

DOCUMENT = openapi_document(API_ROUTERS)


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in DOCUMENT["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def parameter(path: str, method: str, name: str) -> dict[str, Any]:
    [found] = [p for p in DOCUMENT["paths"][path][method]["parameters"] if p["name"] == name]
    return dict(found)


def test_ids_in_paths_are_integers_the_router_matches() -> None:
    ids = [
        (path, p)
        for path, _method, operation in operations()
        for p in operation.get("parameters", [])
        if p["in"] == "path" and p["name"].endswith("_id")
    ]
    assert {p["name"] for _path, p in ids} == {
        "thread_id",
        "post_id",
        "session_id",
        "user_id",
        "request_id",
        "meeting_id",
        "window_id",
        "follow_up_id",
        "contact_request_id",
    }
    for path, p in ids:
        assert p["schema"] == {"type": "integer", "minimum": 0, "maximum": ID_MAX}, path


def test_every_operation_documents_the_refusals_its_declaration_implies() -> None:
    for path, method, operation in operations():
        codes = set(operation["responses"])
        where = f"{method.upper()} {path}"
        params = operation.get("parameters", [])
        assert "400" in codes, where  # a NUL in any address
        if any(p["in"] == "path" for p in params):
            assert "404" in codes, where
        if "requestBody" in operation:
            assert {"413", "415", "422"} <= codes, where
        if operation.get("security") and {} not in operation["security"]:
            assert {"401", "403"} <= codes, where
        if any(p["in"] == "query" and set(p["schema"]) - {"type"} for p in params):
            assert "422" in codes, where
        if "429" in codes:
            assert "Retry-After" in operation["responses"]["429"]["headers"], where
        for code, answer in operation["responses"].items():
            if code >= "400":
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (where, code)


ENUMS = [
    ("/api/action-lines", "kind", "/api/action-lines?kind={}"),
    ("/api/groups", "kind", "/api/groups?kind={}"),
    ("/api/groups", "family", "/api/groups?family={}"),
    ("/api/rooms/{slug}/sessions", "status", "/api/rooms/wgig/sessions?status={}"),
    ("/api/search", "family", "/api/search?q=access&family={}"),
    ("/api/search", "kind", "/api/search?q=access&kind={}"),
]


async def test_listed_values_are_accepted_and_others_refused(sqlite_server: LiveServer) -> None:
    async with Client(base_url=sqlite_server.url) as http:
        for path, name, url in ENUMS:
            values = parameter(path, "get", name)["schema"]["enum"]
            assert values, (path, name)
            for value in values:
                response = await http.get(url.format(value))
                assert response.status_code == 200, (url, value, response.text)
            refused = await http.get(url.format("not-a-" + name))
            assert refused.status_code == 422, (url, refused.text)
            assert refused.json()["error"]["code"] == "validation_error"
            assert refused.json()["error"]["field"] == name


async def test_listed_families_are_those_registration_accepts(sqlite_server: LiveServer) -> None:
    schema = DOCUMENT["components"]["schemas"]["RegisterBody"]["properties"]["family"]
    async with Client(base_url=sqlite_server.url) as http:
        for family in schema["enum"]:
            response = await http.post("/api/accounts", json=registration(family=family))
            assert response.status_code == 201, (family, response.text)
        refused = await http.post("/api/accounts", json=registration(family="academia"))
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "family"


async def test_thread_answers_304_as_documented(sqlite_server: LiveServer) -> None:
    operation = DOCUMENT["paths"]["/api/threads/{thread_id}"]["get"]
    assert parameter("/api/threads/{thread_id}", "get", "If-None-Match")["in"] == "header"
    assert "ETag" in operation["responses"]["200"]["headers"]
    assert "content" not in operation["responses"]["304"]
    async with Client(base_url=sqlite_server.url) as http:
        await http.signup()
        opened = await http.post(
            "/api/action-lines/C3/threads", json={"title": "Libraries", "body": "Open access."}
        )
        thread = opened.json()["thread"]["id"]
        first = await http.get(f"/api/threads/{thread}")
        again = await http.get(
            f"/api/threads/{thread}", headers={"If-None-Match": first.headers["etag"]}
        )
    assert first.status_code == 200
    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize(
    "path", ["/api/threads/{thread_id}/events", "/api/action-lines/{code}/events"]
)
def test_event_streams_are_documented_as_event_streams(path: str) -> None:
    answer = DOCUMENT["paths"][path]["get"]["responses"]["200"]
    assert list(answer["content"]) == ["text/event-stream"]


def test_two_models_of_one_name_are_refused_rather_than_described_as_one() -> None:
    from pydantic import BaseModel, create_model
    from starlette.requests import Request
    from starlette.responses import Response

    from forum.web.openapi import ApiRouter

    first: type[BaseModel] = create_model("AnswerBody", answer=(str, ...))
    second: type[BaseModel] = create_model("AnswerBody", reason=(str, ...))
    routers = [ApiRouter(tag="one"), ApiRouter(tag="two")]
    for router, model, path in zip(routers, (first, second), ("/one", "/two"), strict=True):

        async def endpoint(request: Request) -> Response:
            return Response()

        router.route("POST", path, summary="A body", body=model)(endpoint)
    assert openapi_document(routers[:1])["components"]["schemas"]["AnswerBody"]
    with pytest.raises(RuntimeError, match="AnswerBody"):
        openapi_document(routers)
