"""Anti-forgery tokens for the registration form: session-bound HMAC tokens with an expiry.

The browser holds a random session id in an HttpOnly, SameSite=Strict cookie. Each rendered form
carries ``<issued_at>.<mac>`` where ``mac = HMAC-SHA256(key, purpose | session id | issued_at)``.
A post is accepted only when the cookie is present, the form token's MAC matches that cookie under
the server key (constant-time compare) and the token is younger than ``max_age_s``. A forger on
another site can neither read the cookie nor compute a MAC for it, so the token cannot be replayed
from a different browser session, and an old page stops working after ``max_age_s``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable

from reference.web.errors import CsrfError, WebConfigError

__all__ = ["CsrfTokens"]

_PURPOSE = b"twittcom-web-register-csrf-v1"
_SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
_TOKEN_RE = re.compile(r"^([0-9]{1,12})\.([A-Za-z0-9_-]{43})$")
#: tokens stamped this far in the future are still accepted (clock steps between workers)
_FUTURE_SKEW_S = 60


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class CsrfTokens:
    """Issues and checks session-bound form tokens.

    Arguments:
        secret_key: at least 16 bytes (str is UTF-8 encoded); the same key on every worker.
        clock: seconds since the epoch (injected so tests control expiry).
        random_bytes: source of session ids (``secrets.token_bytes`` in production).
        max_age_s: how long a rendered form stays postable.
    """

    def __init__(
        self,
        secret_key: str | bytes,
        *,
        clock: Callable[[], float],
        random_bytes: Callable[[int], bytes],
        max_age_s: float = 2 * 3600,
    ) -> None:
        key = secret_key.encode("utf-8") if isinstance(secret_key, str) else bytes(secret_key)
        if len(key) < 16:
            raise WebConfigError("secret_key must be at least 16 bytes")
        if max_age_s <= 0:
            raise WebConfigError("max_age_s must be positive")
        self._key = hashlib.sha256(b"csrf-key|" + key).digest()
        self._clock = clock
        self._random_bytes = random_bytes
        self.max_age_s = max_age_s

    def new_session_id(self) -> str:
        """A fresh random session id for the cookie (24 random bytes, url-safe base64)."""
        return _b64(self._random_bytes(24))

    @staticmethod
    def is_session_id(value: str | None) -> bool:
        """Whether ``value`` looks like an id this class made (anything else gets a new cookie)."""
        return value is not None and _SESSION_ID_RE.match(value) is not None

    def issue(self, session_id: str) -> str:
        """The token to embed in a form rendered for ``session_id``."""
        issued_at = int(self._clock())
        return f"{issued_at}.{self._mac(session_id, issued_at)}"

    def verify(self, session_id: str | None, token: str | None) -> None:
        """Raise :class:`CsrfError` unless ``token`` was issued for ``session_id`` and is fresh."""
        if not session_id or not self.is_session_id(session_id):
            raise CsrfError("missing or malformed session cookie")
        if not token:
            raise CsrfError("missing form token")
        match = _TOKEN_RE.match(token)
        if match is None:
            raise CsrfError("malformed form token")
        issued_at = int(match.group(1))
        expected = self._mac(session_id, issued_at)
        if not hmac.compare_digest(expected.encode("ascii"), match.group(2).encode("ascii")):
            raise CsrfError("form token does not match the session")
        age = self._clock() - issued_at
        if age > self.max_age_s:
            raise CsrfError("form token expired")
        if age < -_FUTURE_SKEW_S:
            raise CsrfError("form token issued in the future")

    def _mac(self, session_id: str, issued_at: int) -> str:
        message = b"|".join((_PURPOSE, session_id.encode("ascii"), str(issued_at).encode("ascii")))
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest())
