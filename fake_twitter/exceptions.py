"""Typed errors of the X API v2 fake, each carrying the RFC 7807 problem body X sends for it.

Hierarchy::

    TwitterApiError                       (status, type, title; ``problem()`` -> dict)
    ├── InvalidRequest          400  https://api.x.com/2/problems/invalid-request (+ errors[])
    ├── Unauthorized            401  about:blank
    ├── Forbidden               403  about:blank (e.g. duplicate content)
    ├── UnsupportedAuthentication 403 .../unsupported-authentication (a token type the route refuses)
    ├── NotAuthorizedForResource 403 .../not-authorized-for-resource (deleting someone else's tweet)
    ├── RouteNotFound           404  about:blank
    ├── ResourceNotFound        404  .../resource-not-found (also used as a partial error in 200s)
    ├── RateLimitExceeded       429  about:blank "Too Many Requests" (the body X v2 really sends)
    ├── InjectedFault           any  about:blank (fault injection, chosen status)
    └── ServiceUnavailable      503  about:blank "Service Unavailable" (outage windows)
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "PROBLEMS",
    "Forbidden",
    "InjectedFault",
    "InvalidRequest",
    "NotAuthorizedForResource",
    "RateLimitExceeded",
    "ResourceNotFound",
    "RouteNotFound",
    "ServiceUnavailable",
    "TwitterApiError",
    "Unauthorized",
    "UnsupportedAuthentication",
    "invalid_parameter",
]

#: Prefix of X's problem type URIs as X answers today (spec 2.167; xdk 0.10.6's models require it).
#: ``create_app(problem_host="api.twitter.com")`` rewrites bodies to spec 2.159's host.
PROBLEMS = "https://api.x.com/2/problems/"

_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class TwitterApiError(Exception):
    """Base of every error the fake answers with; ``problem()`` is the response body."""

    status: ClassVar[int] = 500
    type: ClassVar[str] = "about:blank"
    title: ClassVar[str] = "Internal Server Error"

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail if detail is not None else self.title
        super().__init__(self.detail)

    @property
    def http_status(self) -> int:
        return self.status

    def problem(self) -> dict[str, Any]:
        return {"title": self.title, "type": self.type, "status": self.http_status, "detail": self.detail}


class InvalidRequest(TwitterApiError):
    """A bad query parameter or body; ``errors`` lists each problem as X does."""

    status = 400
    type = PROBLEMS + "invalid-request"
    title = "Invalid Request"

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("One or more parameters to your request was invalid.")
        self.errors = errors

    def problem(self) -> dict[str, Any]:
        body = super().problem()
        body["errors"] = self.errors
        return body


def invalid_parameter(name: str, value: str, message: str) -> InvalidRequest:
    """One invalid-request error about parameter ``name`` with the offending ``value``."""
    return InvalidRequest([{"parameters": {name: [value]}, "message": message}])


class Unauthorized(TwitterApiError):
    status = 401
    title = "Unauthorized"


class Forbidden(TwitterApiError):
    status = 403
    title = "Forbidden"


class UnsupportedAuthentication(TwitterApiError):
    status = 403
    type = PROBLEMS + "unsupported-authentication"
    title = "Unsupported Authentication"

    def __init__(self, used: str, supported: tuple[str, ...]) -> None:
        """``used``: how the caller authenticated; ``supported``: what the route takes (X's names)."""
        super().__init__(
            f"Authenticating with {used} is forbidden for this endpoint.  "
            f"Supported authentication types are [{', '.join(supported)}]."
        )


class NotAuthorizedForResource(TwitterApiError):
    status = 403
    type = PROBLEMS + "not-authorized-for-resource"
    title = "Forbidden"

    def __init__(self, detail: str, *, resource_type: str, resource_id: str, parameter: str) -> None:
        super().__init__(detail)
        self.resource_type = resource_type
        self.resource_id = resource_id
        self.parameter = parameter

    def problem(self) -> dict[str, Any]:
        body = super().problem()
        body.update(
            resource_type=self.resource_type,
            resource_id=self.resource_id,
            parameter=self.parameter,
            value=self.resource_id,
            section="data",
        )
        return body


class RouteNotFound(TwitterApiError):
    status = 404
    title = "Not Found Error"

    def __init__(self) -> None:
        super().__init__("Sorry, that page does not exist")


class ResourceNotFound(TwitterApiError):
    """A tweet or user that does not exist; also the item shape of partial ``errors[]``."""

    status = 404
    type = PROBLEMS + "resource-not-found"
    title = "Not Found Error"

    def __init__(self, resource_type: str, parameter: str, value: str) -> None:
        super().__init__(f"Could not find {resource_type} with {parameter}: [{value}].")
        self.resource_type = resource_type
        self.parameter = parameter
        self.value = value

    def problem(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "detail": self.detail,
            "title": self.title,
            "resource_type": self.resource_type,
            "parameter": self.parameter,
            "resource_id": self.value,
            "type": self.type,
        }


class RateLimitExceeded(TwitterApiError):
    status = 429
    title = "Too Many Requests"

    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        super().__init__("Too Many Requests")
        self.headers = headers


class ServiceUnavailable(TwitterApiError):
    status = 503
    title = "Service Unavailable"


class InjectedFault(TwitterApiError):
    """An error chosen by fault injection: any status, with X's generic problem body."""

    def __init__(self, status: int) -> None:
        self._status = status
        self._title = _REASONS.get(status, "Error")
        super().__init__(self._title)

    @property
    def http_status(self) -> int:
        return self._status

    def problem(self) -> dict[str, Any]:
        return {"title": self._title, "type": "about:blank", "status": self._status, "detail": self.detail}
