"""Security headers on every kind of response, error bodies, and OpenAPI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import Client, LiveServer, live_server, make_settings, served_routes


def check_headers(headers: object) -> None:
    from httpx import Headers

    assert isinstance(headers, Headers)
    policy = {
        part.strip().split(" ", 1)[0]: part.strip()
        for part in headers["content-security-policy"].split(";")
    }
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["object-src"] == "object-src 'none'"
    assert policy["base-uri"] == "base-uri 'none'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        ("/login", 200),
        ("/api/action-lines", 200),
        ("/api/groups/nowhere", 404),
        ("/nowhere", 404),
        ("/static/forum.css", 200),
        ("/openapi.json", 200),
        ("/healthz", 200),
        ("/api/me", 401),
    ],
)
async def test_every_response_carries_the_security_headers(
    sqlite_server: LiveServer, path: str, status: int
) -> None:
    async with Client(base_url=sqlite_server.url) as http:
        response = await http.get(path)
    assert response.status_code == status
    check_headers(response.headers)


@pytest.mark.parametrize("https", [True, False])
async def test_strict_transport_security_is_sent_only_over_https(
    sqlite_url: str, tmp_path: Path, https: bool
) -> None:
    """Over HTTPS, browsers are told to use nothing else for a year, on every subdomain
    too; over plain HTTP the header would be ignored, and it is not sent."""
    settings = make_settings(sqlite_url, tmp_path).with_(secure_cookies=https)
    async with live_server(settings) as live, Client(base_url=live.url) as http:
        for path in ("/", "/api/me", "/static/forum.css", "/nowhere"):
            header = (await http.get(path)).headers.get("strict-transport-security")
            if not https:
                assert header is None
                continue
            assert header is not None, path
            # Directive names are case-insensitive (RFC 6797, 6.1).
            directives = {part.strip().lower() for part in header.split(";")}
            assert directives == {"max-age=31536000", "includesubdomains"}


async def test_a_strict_transport_security_the_handler_set_is_the_only_one(
    sqlite_url: str, tmp_path: Path
) -> None:
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def brief(request: object) -> PlainTextResponse:
        return PlainTextResponse("brief", headers={"Strict-Transport-Security": "max-age=60"})

    settings = make_settings(sqlite_url, tmp_path).with_(secure_cookies=True)
    async with live_server(settings) as live, Client(base_url=live.url) as http:
        live.app.router.routes.append(Route("/brief", brief))
        response = await http.get("/brief")
    assert response.headers.get_list("strict-transport-security") == ["max-age=60"]


async def test_server_errors_carry_the_headers_and_no_details(sqlite_server: LiveServer) -> None:
    from starlette.routing import Route

    async def boom(request: object) -> None:
        raise RuntimeError("secret internals")

    sqlite_server.app.router.routes.append(Route("/boom", boom))
    async with Client(base_url=sqlite_server.url) as http:
        response = await http.get("/boom")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert "secret internals" not in response.text
    check_headers(response.headers)


async def test_not_found_and_wrong_method_are_json_errors(sqlite_server: LiveServer) -> None:
    async with Client(base_url=sqlite_server.url) as http:
        missing = await http.get("/api/nothing-here")
        wrong = await http.delete("/api/action-lines")
        page = await http.get("/nothing-here", headers={"accept": "text/html"})
    assert missing.json()["error"]["code"] == "not_found"
    assert wrong.status_code == 405 and wrong.json()["error"]["message"]
    assert page.status_code == 404 and "<html" in page.text


async def test_openapi_lists_every_json_endpoint(sqlite_server: LiveServer) -> None:
    from starlette.routing import Route

    async with Client(base_url=sqlite_server.url) as http:
        document = (await http.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for route in served_routes(sqlite_server):
        if isinstance(route, Route) and route.path.startswith("/api/"):
            path = re.sub(r":\w+}", "}", route.path)
            assert path in paths, route.path
            for method in (route.methods or set()) - {"HEAD"}:
                operation = paths[path][method.lower()]
                assert operation["summary"] and operation["responses"]
    register = paths["/api/accounts"]["post"]
    schema_ref = register["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert {"email", "password", "family", "country"} <= set(schema["required"])
    assert "422" in register["responses"] and "409" in register["responses"]


def test_openapi_document_is_valid() -> None:
    import openapi_spec_validator

    from forum.web.openapi import openapi_document
    from forum.web.routes import API_ROUTERS

    openapi_spec_validator.validate(openapi_document(API_ROUTERS))


async def test_a_header_the_handler_set_is_kept_and_the_others_added(
    sqlite_server: LiveServer,
) -> None:
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def framed(request: object) -> PlainTextResponse:
        return PlainTextResponse("framed", headers={"X-Frame-Options": "SAMEORIGIN"})

    sqlite_server.app.router.routes.append(Route("/framed", framed))
    async with Client(base_url=sqlite_server.url) as http:
        response = await http.get("/framed")
        plain = await http.get("/healthz")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    check_headers(response.headers)
    assert response.headers["cross-origin-opener-policy"] == "same-origin"
    # Without one of its own, an answer gets each of ours once.
    for name in ("x-frame-options", "content-security-policy", "permissions-policy"):
        assert len(plain.headers.get_list(name)) == 1, name
    assert plain.headers["x-frame-options"] == "DENY"
