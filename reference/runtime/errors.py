"""The typed exceptions of the processor service (HTTP status and error code as class data).

::

    TwittcomError                       (reference.domain.errors)
    └── ServiceError                    .status, .code; answered as JSON {"error", "detail"}
        ├── BadPayload                  400 a webhook/callback/admin body that cannot be read
        ├── PayloadTooLarge             413 a body over the route's limit (cut while streaming)
        ├── BadSignature                403 a webhook or status callback whose signature is wrong
        ├── Unauthorized                401 an admin call without the right bearer token
        ├── NotFound                    404 an admin lookup that found nothing
        ├── NotStarted                  503 the service's connections are not open (yet)
        └── StoreUnavailable            503 the database failed; the sender should retry later
"""

from __future__ import annotations

from typing import ClassVar

from reference.domain.errors import TwittcomError

__all__ = [
    "BadPayload",
    "BadSignature",
    "NotFound",
    "NotStarted",
    "PayloadTooLarge",
    "ServiceError",
    "StoreUnavailable",
    "Unauthorized",
]


class ServiceError(TwittcomError):
    """An error the HTTP surface answers with ``status`` and a JSON body."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BadPayload(ServiceError):
    """The request body cannot be read."""

    status = 400
    code = "bad_payload"


class PayloadTooLarge(ServiceError):
    """The body is over the route's limit (refused before it is read whole)."""

    status = 413
    code = "payload_too_large"


class BadSignature(ServiceError):
    """The request is not signed by whom it claims."""

    status = 403
    code = "bad_signature"


class Unauthorized(ServiceError):
    """The admin bearer token is missing or wrong."""

    status = 401
    code = "unauthorized"


class NotFound(ServiceError):
    """Nothing matches the lookup."""

    status = 404
    code = "not_found"


class NotStarted(ServiceError):
    """The service is starting or stopping."""

    status = 503
    code = "not_started"


class StoreUnavailable(ServiceError):
    """The store failed while accepting the request; nothing was acknowledged."""

    status = 503
    code = "store_unavailable"
