"""X's error responses: the RFC 7807 problem body (synthesised when X sent something else) and the
typed exception of :mod:`reference.clients.errors` each status maps to (re-exported by
:mod:`reference.clients.x_api`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from reference.clients._http import json_object, retry_after_hint
from reference.clients.errors import (
    XApiError,
    XBadRequest,
    XDuplicateContent,
    XForbidden,
    XNotFound,
    XRateLimited,
    XServiceUnavailable,
    XUnauthorized,
    XUsageCapped,
)

__all__ = ["x_error_from_response"]

_USAGE_CAPPED = "/2/problems/usage-capped"


def _problem_from(response: httpx.Response) -> dict[str, Any]:
    """The RFC 7807 body of an error response, synthesised when X sent something else."""
    body = json_object(response)
    if body is not None and ("title" in body or "type" in body or "detail" in body):
        return body
    title = response.reason_phrase or "Error"
    problem: dict[str, Any] = {"title": title, "type": "about:blank", "status": response.status_code}
    if body is not None and isinstance(body.get("errors"), list) and body["errors"]:
        # v1.1-style {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
        first = body["errors"][0]
        problem["detail"] = str(first.get("message", title)) if isinstance(first, Mapping) else title
        problem["errors"] = body["errors"]
    elif body is None and response.content:
        problem["detail"] = response.text[:500]
    return problem


def x_error_from_response(response: httpx.Response) -> XApiError:
    """Map an X API error response to the matching typed exception."""
    status = response.status_code
    problem = _problem_from(response)
    if str(problem.get("type", "")).endswith(_USAGE_CAPPED):
        return XUsageCapped(status, problem)
    if status == 429:
        reset = response.headers.get("x-rate-limit-reset")
        retry_after, retry_at = retry_after_hint(response.headers)
        if reset is not None and (reset.strip().isascii() and reset.strip().isdigit()):
            retry_at = float(reset)
        return XRateLimited(status, problem, retry_at=retry_at, retry_after=retry_after)
    if status >= 500:
        retry_after, retry_at = retry_after_hint(response.headers)
        return XServiceUnavailable(status, problem, retry_at=retry_at, retry_after=retry_after)
    if status == 400:
        return XBadRequest(status, problem)
    if status == 401:
        return XUnauthorized(status, problem)
    if status == 403:
        if "duplicate content" in str(problem.get("detail", "")).lower():
            return XDuplicateContent(status, problem)
        return XForbidden(status, problem)
    if status == 404:
        return XNotFound(status, problem)
    return XApiError(status, problem)
