"""Security headers on every response of the registration app (pages, 404s and 405s alike).

A pure ASGI middleware: it only edits the ``http.response.start`` message, so it costs a few
microseconds and never buffers a body.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SecurityHeadersMiddleware", "security_headers"]


def security_headers(content_security_policy: str) -> dict[str, str]:
    """The headers set on every response: no framing, no sniffing, no caching, no referrer."""
    return {
        "Content-Security-Policy": content_security_policy,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }


class SecurityHeadersMiddleware:
    """Adds :func:`security_headers` to each HTTP response that does not already set them."""

    def __init__(self, app: ASGIApp, *, content_security_policy: str) -> None:
        self.app = app
        self.headers = security_headers(content_security_policy)
        self._raw = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in self.headers.items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                message["headers"] = [
                    *message.get("headers", ()),
                    *(header for header in self._raw if header[0] not in present),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)
