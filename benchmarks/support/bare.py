"""The ceiling app: a Starlette route with no logic, to measure beside a real server in the same run.

``POST /bare`` reads and parses a small JSON body and answers 201 with a small JSON body (the
setup of shared/anchors/measured-here.md); ``GET /bare`` answers 200 with a small JSON body.
Serve it with ``serve("benchmarks.support.bare:create_bare_app")``.
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

__all__ = ["create_bare_app"]


async def _post(request: Request) -> JSONResponse:
    body = await request.body()
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        return JSONResponse({"error": "body is not JSON"}, status_code=400)
    size = len(parsed) if isinstance(parsed, dict) else 0
    return JSONResponse({"data": {"id": "1", "fields": size}}, status_code=201)


async def _get(request: Request) -> JSONResponse:
    return JSONResponse({"data": {"id": "1"}})


def create_bare_app() -> Starlette:
    """A Starlette app with ``POST /bare`` (201) and ``GET /bare`` (200), nothing else."""
    return Starlette(routes=[Route("/bare", _post, methods=["POST"]), Route("/bare", _get, methods=["GET"])])
