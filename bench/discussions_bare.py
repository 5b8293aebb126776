"""The reference for `bench/discussions.py`: a bare Starlette app on uvicorn.

It serves, from memory, the very bytes Agora answered for the 200-post thread (JSON,
and HTML as a signed-out and a signed-in reader got it), and answers a post by parsing
its JSON body and returning a small JSON document. No authentication, no storage, no
rendering: what the framework, the server and the network cost on this machine, against
which Agora's full path is compared.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def build(captured: Path) -> Starlette:
    thread_json = (captured / "thread.json").read_bytes()
    thread_html = (captured / "thread.html").read_bytes()
    member_html = (captured / "member.html").read_bytes()

    async def read_json(request: Request) -> Response:
        return Response(thread_json, media_type="application/json")

    async def read_html(request: Request) -> Response:
        return Response(thread_html, media_type="text/html; charset=utf-8")

    async def read_member_html(request: Request) -> Response:
        return Response(member_html, media_type="text/html; charset=utf-8")

    async def write(request: Request) -> Response:
        body = json.loads(await request.body())
        return JSONResponse({"id": 1, "body": body["body"]}, status_code=201)

    return Starlette(
        routes=[
            Route("/thread.json", read_json),
            Route("/thread.html", read_html),
            Route("/member.html", read_member_html),
            Route("/posts", write, methods=["POST"]),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--captured", type=Path, required=True)
    args = parser.parse_args()
    uvicorn.run(build(args.captured), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
