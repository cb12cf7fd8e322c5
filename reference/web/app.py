"""The registration web page of seed 000: handle + mobile -> code by SMS -> "tweet the code".

``create_registration_app`` returns a Starlette app serving ``GET /register`` (the form) and
``POST /register`` (CSRF check, rate limits, validation, then the :class:`CodeRequests` port).
It can run on its own or be mounted under the processor's app. Example::

    app = create_registration_app(my_port, operator_handle="tatadocomo", secret_key=key)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        page = await c.get("/register")
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from reference.web.csrf import CsrfTokens
from reference.web.errors import BadFormPost, CsrfError, RateLimited, WebConfigError
from reference.web.forms import MAX_BODY_BYTES, RegistrationForm, parse_form_body, read_registration_form
from reference.web.headers import SecurityHeadersMiddleware
from reference.web.outcomes import code_tweet_text, outcome_view, tweet_intent_url
from reference.web.pages import PageRenderer, format_wait
from reference.web.ports import CodeRequests, RequestCodeOutcome, RequestCodeResult
from reference.web.ratelimit import (
    KeyedTokenBuckets,
    LimiterFactory,
    RateLimit,
    RateLimiter,
    RegistrationRateLimits,
)

__all__ = ["DEFAULT_RATE_LIMITS", "TWEET_INTENT_URL", "create_registration_app"]

logger = logging.getLogger(__name__)

DEFAULT_RATE_LIMITS = RegistrationRateLimits()
TWEET_INTENT_URL = "https://twitter.com/intent/tweet"
_COOKIE = "twittcom_csrf"
_SECURE_COOKIE = "__Host-twittcom_csrf"


class _RegistrationPage:
    """The two endpoints and what they share."""

    def __init__(
        self,
        port: CodeRequests,
        *,
        operator_handle: str,
        csrf: CsrfTokens,
        rate_limit: RegistrationRateLimits | None,
        limiters: LimiterFactory | None,
        clock: Callable[[], float],
        renderer: PageRenderer,
        intent_base: str,
        secure_cookies: bool,
        trust_forwarded_for: bool,
        offload: bool,
    ) -> None:
        self.port = port
        self.operator = operator_handle
        self.csrf = csrf
        self.renderer = renderer
        self.intent_base = intent_base
        self.secure_cookies = secure_cookies
        self.cookie_name = _SECURE_COOKIE if secure_cookies else _COOKIE
        self.trust_forwarded_for = trust_forwarded_for
        self.offload = offload
        self.ip_buckets: RateLimiter | None = None
        self.handle_buckets: RateLimiter | None = None
        if rate_limit is not None:
            max_keys = rate_limit.max_keys

            def buckets(scope: str, limit: RateLimit) -> RateLimiter:
                return KeyedTokenBuckets(limit, clock=clock, max_keys=max_keys)

            make = limiters if limiters is not None else buckets
            self.ip_buckets = make("ip", rate_limit.per_ip)
            self.handle_buckets = make("handle", rate_limit.per_handle)

    # -- endpoints ---------------------------------------------------------------------------

    async def get(self, request: Request) -> Response:
        session_id, fresh = self._session(request)
        return self._form(request, session_id, fresh, status=200)

    async def post(self, request: Request) -> Response:
        client_ip = self._client_ip(request)
        try:
            await self._take(self.ip_buckets, "ip", client_ip)
            if request.headers.get("sec-fetch-site") == "cross-site":
                raise CsrfError("cross-site post (Sec-Fetch-Site)")
            fields = parse_form_body(await self._read_body(request), request.headers.get("content-type"))
            session_id = request.cookies.get(self.cookie_name, "")
            self.csrf.verify(session_id, fields.get("csrf_token"))
            form = read_registration_form(fields)
            if not form.is_valid:
                return self._form(request, session_id, False, status=422, form=form)
            await self._take(self.handle_buckets, "handle", form.handle.lower())
        except RateLimited as exc:
            return self._rate_limited(request, exc)
        except CsrfError as exc:
            logger.info("registration post refused: %s (client %s)", exc.reason, client_ip)
            return self._message(
                request,
                status=403,
                title="This form has expired",
                explanation="For your security we could not accept this form. It may be too old, or "
                "cookies may be blocked in your browser. Please open the form again and resend it.",
                link_text="Open a fresh form",
            )
        except BadFormPost as exc:
            return self._message(
                request, status=exc.status, title="We could not read the form", explanation=exc.detail
            )
        result = await self._request_code(form, client_ip)
        return self._outcome(request, session_id, form, result)

    # -- steps -------------------------------------------------------------------------------

    def _session(self, request: Request) -> tuple[str, bool]:
        session_id = request.cookies.get(self.cookie_name)
        if session_id is not None and self.csrf.is_session_id(session_id):
            return session_id, False
        return self.csrf.new_session_id(), True

    def _client_ip(self, request: Request) -> str:
        if self.trust_forwarded_for:
            forwarded = request.headers.get("x-forwarded-for", "")
            nearest = forwarded.rsplit(",", 1)[-1].strip()
            if nearest:
                return nearest
        return request.client.host if request.client else "unknown"

    async def _take(self, buckets: RateLimiter | None, scope: str, key: str) -> None:
        if buckets is None:
            return
        if buckets.blocking and self.offload:
            wait = await run_in_threadpool(buckets.take, key)
        else:
            wait = buckets.take(key)
        if wait > 0:
            raise RateLimited(scope, wait)

    @staticmethod
    async def _read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        numeric = declared is not None and declared.isascii() and declared.isdigit()
        if declared is not None and numeric and int(declared) > MAX_BODY_BYTES:
            raise BadFormPost(413, "The form is too large.")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise BadFormPost(413, "The form is too large.")
        return bytes(body)

    async def _request_code(self, form: RegistrationForm, client_ip: str) -> RequestCodeResult:
        try:
            if self.offload:
                return await run_in_threadpool(
                    self.port.request_code, form.handle, form.mobile_input, client_ip=client_ip
                )
            return self.port.request_code(form.handle, form.mobile_input, client_ip=client_ip)
        except Exception:
            logger.exception("request_code failed for @%s", form.handle)
            return RequestCodeResult(RequestCodeOutcome.UNAVAILABLE)

    # -- responses ---------------------------------------------------------------------------

    def _form(
        self,
        request: Request,
        session_id: str,
        set_cookie: bool,
        *,
        status: int,
        form: RegistrationForm | None = None,
        errors: dict[str, str] | None = None,
        problem_title: str = "",
        problem_text: str = "",
    ) -> Response:
        token = self.csrf.issue(session_id)
        if form is None and not errors:
            html = self.renderer.empty_form(token)
        else:
            html = self._filled_form(token, form, errors, problem_title, problem_text)
        headers = {"Set-Cookie": self._cookie_header(session_id)} if set_cookie else None
        return HTMLResponse(html, status_code=status, headers=headers)

    def _cookie_header(self, session_id: str) -> str:
        """The session cookie: a browser-session cookie, HttpOnly, SameSite=Strict, Path=/.

        Written by hand (the id is url-safe base64, nothing to quote): ``http.cookies`` took a
        tenth of the page's time.
        """
        secure = "; Secure" if self.secure_cookies else ""
        return f"{self.cookie_name}={session_id}; HttpOnly; Path=/; SameSite=Strict{secure}"

    def _filled_form(
        self,
        token: str,
        form: RegistrationForm | None,
        errors: dict[str, str] | None,
        problem_title: str,
        problem_text: str,
    ) -> str:
        return self.renderer.render(
            "form.html",
            csrf_token=token,
            handle=form.handle_input if form else "",
            mobile=form.mobile_input if form else "",
            errors=errors if errors is not None else (form.errors if form else {}),
            problem_title=problem_title,
            problem_text=problem_text,
        )

    def _message(
        self,
        request: Request,
        *,
        status: int,
        title: str,
        explanation: str,
        core_message: str = "",
        retry_after_s: float | None = None,
        link_text: str = "Back to the form",
    ) -> Response:
        html = self.renderer.render(
            "message.html",
            title=title,
            explanation=explanation,
            core_message=core_message if core_message != explanation else "",
            retry_after=format_wait(retry_after_s) if retry_after_s else None,
            form_url=request.url.path,
            link_text=link_text,
        )
        headers = {"Retry-After": str(math.ceil(retry_after_s))} if retry_after_s else None
        return HTMLResponse(html, status_code=status, headers=headers)

    def _rate_limited(self, request: Request, exc: RateLimited) -> Response:
        about = "this Twitter handle" if exc.scope == "handle" else "your connection"
        return self._message(
            request,
            status=429,
            title="Too many tries",
            explanation=f"We have had too many registration requests from {about}. "
            "Please wait a little and try again.",
            retry_after_s=exc.retry_after_s,
        )

    def _outcome(
        self, request: Request, session_id: str, form: RegistrationForm, result: RequestCodeResult
    ) -> Response:
        view = outcome_view(result.outcome)
        if result.outcome is RequestCodeOutcome.CODE_SENT:
            prefix = code_tweet_text(self.operator)
            html = self.renderer.render(
                "sent.html",
                handle=form.handle,
                masked_mobile=result.masked_mobile or "your phone",
                tweet_prefix=prefix,
                intent_url=tweet_intent_url(self.intent_base, prefix),
                form_url=request.url.path,
            )
            return HTMLResponse(html, status_code=view.status)
        explanation = view.explanation.format(operator=self.operator, handle=form.handle)
        if view.field is not None:
            return self._form(
                request,
                session_id,
                False,
                status=view.status,
                form=form,
                errors={view.field: result.message or explanation},
                problem_title=view.title,
                problem_text=explanation if result.message else "",
            )
        return self._message(
            request,
            status=view.status,
            title=view.title,
            explanation=explanation,
            core_message=result.message,
            retry_after_s=result.retry_after_s,
            link_text="Back to the form" if view.can_retry else "Register another handle",
        )


def create_registration_app(
    code_requests: CodeRequests,
    *,
    operator_handle: str = "tatadocomo",
    secret_key: str | bytes,
    rate_limit: RegistrationRateLimits | None = DEFAULT_RATE_LIMITS,
    limiters: LimiterFactory | None = None,
    clock: Callable[[], float] = time.time,
    random_bytes: Callable[[int], bytes] = secrets.token_bytes,
    csrf_max_age_s: float = 2 * 3600,
    tweet_intent_base: str = TWEET_INTENT_URL,
    secure_cookies: bool = False,
    trust_forwarded_for: bool = False,
    offload: bool = True,
) -> Starlette:
    """Build the registration page app.

    Arguments:
        code_requests: the core, behind the :class:`CodeRequests` port.
        operator_handle: the handle users tweet the code to (without ``@``).
        secret_key: key of the CSRF tokens (>= 16 bytes; the same on every worker).
        rate_limit: budgets per client IP and per handle; ``None`` turns rate limiting off.
        limiters: builds the limiter of each scope (e.g. :class:`SharedWindowCounter` over a store
            shared by every process); per-process token buckets by default.
        clock: seconds since the epoch, for token expiry and the token buckets.
        random_bytes: randomness for session ids (seed it in tests).
        csrf_max_age_s: how long a rendered form can be posted.
        tweet_intent_base: the web-intent URL the "Tweet it" link opens.
        secure_cookies: mark the cookie ``Secure`` with the ``__Host-`` prefix (serve over HTTPS).
        trust_forwarded_for: take the client IP from the nearest ``X-Forwarded-For`` entry.
        offload: call the port in a worker thread (it may block on a database); ``False`` for an
            in-memory port that never blocks.
    """
    operator = operator_handle.removeprefix("@")
    if not operator:
        raise WebConfigError("operator_handle must not be empty")
    renderer = PageRenderer(operator_handle=operator)
    page = _RegistrationPage(
        code_requests,
        operator_handle=operator,
        csrf=CsrfTokens(secret_key, clock=clock, random_bytes=random_bytes, max_age_s=csrf_max_age_s),
        rate_limit=rate_limit,
        limiters=limiters,
        clock=clock,
        renderer=renderer,
        intent_base=tweet_intent_base,
        secure_cookies=secure_cookies,
        trust_forwarded_for=trust_forwarded_for,
        offload=offload,
    )
    app = Starlette(
        routes=[
            Route("/register", page.get, methods=["GET"], name="register_form"),
            Route("/register", page.post, methods=["POST"], name="register_submit"),
        ]
    )
    app.add_middleware(SecurityHeadersMiddleware, content_security_policy=renderer.content_security_policy)
    return app
