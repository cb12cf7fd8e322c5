"""Typed errors of the SMS fake, each carrying Twilio's HTTP status, error code and message.

One handler in :mod:`fake_sms.api` turns any :class:`TwilioError` into Twilio's JSON error body
``{"code", "message", "more_info", "status"}``; the class tree mirrors Twilio's families::

    TwilioError
    ├── AuthenticationError          401 20003
    ├── NotFoundError                404 20404
    ├── MessageNotDeletable          409 20009  (DELETE before a final status)
    ├── MethodNotAllowedError        405 20004
    ├── TooManyRequestsError         429 20429  (account's concurrent-request cap)
    ├── InternalServerError          500 20500  (fault injection)
    ├── ValidationError              400
    │   ├── MissingToError                21604
    │   ├── InvalidToError                21211
    │   ├── MissingFromError              21603
    │   ├── InvalidFromError              21606  (unknown sender for this account)
    │   ├── MessagingServiceNotFound      21701
    │   ├── MissingBodyError              21602
    │   ├── BodyTooLongError              21617
    │   ├── InvalidValidityPeriodError    90007  (ValidityPeriod outside 1..36000)
    │   ├── InvalidParameterError         20001
    │   ├── InvalidUpdateError            30400  (message update: Body must be "", Status canceled)
    │   └── QueueFullError                21611  (From's queue holds more than it can drain)
    └── ControlError                 400 (control API misuse, ``/_fake/`` only)
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AuthenticationError",
    "BodyTooLongError",
    "ControlError",
    "InternalServerError",
    "InvalidFromError",
    "InvalidParameterError",
    "InvalidToError",
    "InvalidUpdateError",
    "InvalidValidityPeriodError",
    "MessageNotDeletable",
    "MessagingServiceNotFound",
    "MethodNotAllowedError",
    "MissingBodyError",
    "MissingFromError",
    "MissingToError",
    "NotFoundError",
    "QueueFullError",
    "TooManyRequestsError",
    "TwilioError",
    "ValidationError",
]


class TwilioError(Exception):
    """Base of every error the fake reports; subclasses set ``status``, ``code`` and ``message``."""

    status: ClassVar[int] = 400
    code: ClassVar[int] = 20001
    message: ClassVar[str] = "Invalid request"

    def __init__(self, message: str | None = None) -> None:
        self.detail = message or self.message
        super().__init__(self.detail)

    def to_json(self) -> dict[str, Any]:
        """The error as Twilio's JSON body."""
        return {
            "code": self.code,
            "message": self.detail,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


class AuthenticationError(TwilioError):
    status = 401
    code = 20003
    message = "Authenticate"


class NotFoundError(TwilioError):
    status = 404
    code = 20404
    message = "The requested resource was not found"


class MethodNotAllowedError(TwilioError):
    status = 405
    code = 20004
    message = "Method not allowed"


class TooManyRequestsError(TwilioError):
    status = 429
    code = 20429
    message = "Too Many Requests"


class InternalServerError(TwilioError):
    status = 500
    code = 20500
    message = "An internal server error has occurred"


class ValidationError(TwilioError):
    status = 400


class MissingToError(ValidationError):
    code = 21604
    message = "A 'To' phone number is required."


class InvalidToError(ValidationError):
    code = 21211
    message = "Invalid 'To' Phone Number"


class MissingFromError(ValidationError):
    code = 21603
    message = "A 'From' phone number is required."


class InvalidFromError(ValidationError):
    code = 21606
    message = "The 'From' phone number provided is not a valid message-capable phone number for this account."


class MessagingServiceNotFound(ValidationError):
    code = 21701
    message = "The Messaging Service does not exist"


class MissingBodyError(ValidationError):
    code = 21602
    message = "Message body is required."


class BodyTooLongError(ValidationError):
    code = 21617
    message = "The concatenated message body exceeds the 1600 character limit."


class InvalidValidityPeriodError(ValidationError):
    code = 90007
    message = "Invalid validity period value: it must be an integer between 1 and 36000 seconds."


class InvalidParameterError(ValidationError):
    code = 20001
    message = "Invalid parameter"


class InvalidUpdateError(ValidationError):
    """A message update Twilio refuses: neither or both of Body and Status, a Body that is not empty
    (only redaction is allowed), or a Status other than ``canceled`` of a scheduled message."""

    code = 30400
    message = "Parameters are not valid"


class QueueFullError(ValidationError):
    code = 21611
    message = "This 'From' number has exceeded the maximum number of queued messages"


class MessageNotDeletable(TwilioError):
    status = 409
    code = 20009
    message = "Cannot delete message because delivery has not been completed."


class ControlError(TwilioError):
    status = 400
    code = 20001
    message = "Invalid control request"
