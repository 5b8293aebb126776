"""JSON endpoints declared once: the route, its request and response models, and the
OpenAPI 3 document built from them (`GET /openapi.json`)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum import __version__
from forum.db.base import ID_MAX
from forum.errors import ErrorCode

Endpoint = Callable[[Request], Awaitable[Response]]
Auth = Literal["none", "optional", "required"]
# A query parameter: its name, what it means, and (when the handler checks it) the JSON
# schema of what it accepts; anything else is answered 422.
Query = tuple[str, str] | tuple[str, str, dict[str, Any]]


def whole(low: int, high: int) -> dict[str, Any]:
    """A query parameter read with `query_int(low=, high=)`."""
    return {"type": "integer", "minimum": low, "maximum": high}


def one_of(values: Iterable[Any]) -> dict[str, Any]:
    """A query parameter that must be one of these strings (an enum's values)."""
    return {"type": "string", "enum": [str(getattr(v, "value", v)) for v in values]}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    endpoint: Endpoint
    summary: str
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    auth: Auth
    tag: str
    errors: tuple[int, ...]
    # (name, meaning) of each query parameter; the schemas of the checked ones.
    query: tuple[tuple[str, str], ...]
    query_schemas: dict[str, dict[str, Any]]
    etag: bool
    media_type: str


@dataclass
class ApiRouter:
    """Collects a module's JSON endpoints; `routes` feeds Starlette, `operations` OpenAPI."""

    tag: str
    prefix: str = "/api"
    operations: list[Operation] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        body: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        auth: Auth = "none",
        errors: Sequence[int] = (),
        query: Sequence[Query] = (),
        etag: bool = False,
        media_type: str = "application/json",
    ) -> Callable[[Endpoint], Endpoint]:
        """Declare an endpoint. `errors` lists the refusals particular to it; those that
        follow from the declaration are added to the document by themselves: 400 always
        (a malformed address or body), 413, 415 and 422 with a body, 401 and 403 when
        signed in, 404 with a path parameter, 422 with a checked query parameter, 304
        with `etag` (conditional GET)."""

        def register(endpoint: Endpoint) -> Endpoint:
            self.operations.append(
                Operation(
                    method.upper(),
                    self.prefix + path,
                    endpoint,
                    summary,
                    body,
                    response,
                    status,
                    auth,
                    self.tag,
                    tuple(errors),
                    tuple((q[0], q[1]) for q in query),
                    {q[0]: q[2] for q in query if len(q) == 3},
                    etag,
                    media_type,
                )
            )
            return endpoint

        return register

    @property
    def routes(self) -> list[Route]:
        by_path: dict[str, dict[str, Endpoint]] = {}
        for op in self.operations:
            by_path.setdefault(op.path, {})[op.method] = op.endpoint
        return [_method_route(path, methods) for path, methods in by_path.items()]


def _method_route(path: str, methods: dict[str, Endpoint]) -> Route:
    if len(methods) == 1:
        [(method, endpoint)] = methods.items()
        return Route(path, endpoint, methods=[method])

    async def dispatch(request: Request) -> Response:
        # Starlette answers HEAD with the GET route, and drops the body itself.
        method = "GET" if request.method == "HEAD" else request.method
        return await methods[method](request)

    return Route(path, dispatch, methods=list(methods))


_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "enum": [c.value for c in ErrorCode]},
                "message": {"type": "string"},
                "field": {"type": "string"},
                "retry_after_ms": {"type": "integer"},
            },
        }
    },
}


def openapi_document(routers: Sequence[ApiRouter]) -> dict[str, Any]:
    schemas: dict[str, Any] = {"Error": _ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}

    def keep(name: str, schema: dict[str, Any]) -> None:
        # Components are named by class: two models of one name would silently give
        # every operation that uses either the schema of the last one described.
        if schemas.get(name, schema) != schema:
            raise RuntimeError(f"two API models are both named {name}: rename one")
        schemas[name] = schema

    def ref(model: type[BaseModel]) -> dict[str, str]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, nested in schema.pop("$defs", {}).items():
            keep(name, nested)
        keep(model.__name__, schema)
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    for router in routers:
        for op in router.operations:
            path = _CONVERTOR.sub("}", op.path)
            paths.setdefault(path, {})[op.method.lower()] = _operation(op, ref)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Agora API",
            "version": __version__,
            "description": "The open virtual multi-stakeholder forum. See docs/api.md.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "forum_session"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


def _operation(op: Operation, ref: Callable[[type[BaseModel]], dict[str, str]]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "summary": op.summary,
        "operationId": f"{op.method.lower()}_{op.endpoint.__name__}",
        "tags": [op.tag],
        "responses": {},
    }
    path_params = _path_params(op.path)
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": schema}
        for name, schema in path_params
    ]
    for name, text in op.query:
        parameters.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": op.query_schemas.get(name, {"type": "string"}),
                "description": text,
            }
        )
    if op.etag:
        parameters.append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "The ETag of a copy you hold: 304 while it is current",
            }
        )
    if parameters:
        entry["parameters"] = parameters
    if op.body is not None:
        entry["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(op.body)}},
        }
    ok: dict[str, Any] = {"description": "Success"}
    if op.response is not None:
        ok["content"] = {op.media_type: {"schema": ref(op.response)}}
    elif op.media_type != "application/json":
        ok["content"] = {op.media_type: {"schema": {"type": "string"}}}
    entry["responses"][str(op.status)] = ok
    if op.etag:
        ok["headers"] = {"ETag": {"required": True, "schema": {"type": "string"}}}
        entry["responses"]["304"] = {"description": "Not modified since the ETag you sent"}
    # Any request: a NUL in the path or query string is refused before routing
    # (forum.web.input_guard).
    codes = set(op.errors) | {400}
    if op.body is not None:
        codes |= {413, 415, 422}
    if path_params:
        codes.add(404)
    if op.query_schemas:
        codes.add(422)
    if op.auth == "required":
        codes |= {401, 403}
        entry["security"] = [{"session": []}, {"bearer": []}]
    elif op.auth == "optional":
        entry["security"] = [{}, {"session": []}, {"bearer": []}]
    for code in sorted(codes):
        entry["responses"][str(code)] = {
            "description": _ERROR_DESCRIPTIONS.get(code, "Refused"),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    if 429 in codes:
        entry["responses"]["429"]["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait",
                "required": True,
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    return entry


_CONVERTOR = re.compile(r":\w+}")
_PARAM = re.compile(r"{(\w+)(?::(\w+))?}")


def _path_params(path: str) -> list[tuple[str, dict[str, Any]]]:
    """Path parameters and the JSON schemas of what their convertors match."""
    types: dict[str, dict[str, Any]] = {
        "int": {"type": "integer", "minimum": 0},
        # The `id` convertor matches only what an id column holds (forum.web.params).
        "id": {"type": "integer", "minimum": 0, "maximum": ID_MAX},
        "float": {"type": "number", "minimum": 0},
    }
    return [
        (name, types.get(convertor, {"type": "string"})) for name, convertor in _PARAM.findall(path)
    ]


_ERROR_DESCRIPTIONS = {
    400: "Malformed request",
    401: "Not signed in, or wrong credentials",
    403: "Not allowed, or CSRF check failed",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "Too large",
    415: "Not JSON",
    422: "Invalid field",
    423: "Locked",
    429: "Rate limited, or too many open connections (see Retry-After)",
    503: "Unavailable: no more connections taken now, or the database down (see Retry-After)",
}
