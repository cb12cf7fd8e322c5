"""serve() runs a real uvicorn on loopback; the load generator drives it from a spawned process."""

from __future__ import annotations

import json

import httpx
import pytest

from benchmarks.support import RequestSpec, ServerError, run_load, run_load_in_subprocess, serve, serve_raw
from benchmarks.support.clients import run_aiohttp_load, run_httpx_load

pytestmark = pytest.mark.slow


def test_serve_bare_app_and_load_from_a_subprocess() -> None:
    """The bare app answers 201/200; a spawned loadgen with a dotted factory gets only 201s."""
    with serve("benchmarks.support.bare:create_bare_app") as url:
        assert url.startswith("http://127.0.0.1:")
        posted = httpx.post(f"{url}/bare", json={"text": "hi"})
        assert posted.status_code == 201 and posted.json()["data"]["fields"] == 1
        assert httpx.get(f"{url}/bare").status_code == 200
        assert httpx.post(f"{url}/bare", content=b"{not json").status_code == 400
        result = run_load_in_subprocess(
            url, requests=500, connections=8, max_seconds=30, factory="bs_factories:numbered_tweet"
        )
        assert (result.requests, result.statuses, result.errors) == (500, {201: 500}, 0)


def test_client_cross_checks_run_in_subprocesses() -> None:
    """The httpx and aiohttp runners measure the same request and report LoadResults."""
    request = RequestSpec(
        "POST", "/bare", (("Content-Type", "application/json"),), json.dumps({"text": "x"}).encode()
    )
    with serve("benchmarks.support.bare:create_bare_app") as url:
        for runner in (run_httpx_load, run_aiohttp_load):
            result = run_load_in_subprocess(
                url, requests=100, connections=4, request=request, runner=runner, max_seconds=30
            )
            assert (result.requests, result.statuses) == (100, {201: 100}), result.summary()


def test_serve_reports_a_factory_that_does_not_import() -> None:
    """A factory that cannot be imported stops serve() with the server's own output."""
    with pytest.raises(ServerError, match="no_such_module"), serve("no_such_module:create_app"):
        pass  # pragma: no cover - never reached


def test_raw_server_answers_201_to_every_request() -> None:
    """serve_raw's no-ASGI server answers 201 with a JSON body, keep-alive, to any request."""
    with serve_raw() as url:
        answer = httpx.post(f"{url}/anything", json={"a": 1})
        assert answer.status_code == 201 and answer.json() == {"data": {"id": "1"}}
        result = run_load(url, requests=300, connections=4, request=RequestSpec("GET", "/x"), max_seconds=30)
        assert (result.requests, result.statuses, result.errors) == (300, {201: 300}, 0)
