"""Reading a handset at the SMS fake by long-poll: one request per SMS that arrives, not one per poll.

``GET /_fake/handsets/{number}/messages?after=<wall s>&wait=<s>`` parks at the fake until an SMS
newer than ``after`` reaches that phone (or ``wait`` passes) and answers with it, its delivery wall
time and the gateway's creation time (carrier seconds). Journey latencies are taken from those
timestamps, never from when the request returned, so the wait's granularity does not enter them.
A ``wait`` of 0 is a plain poll; a fake that answers early with nothing new (an older fake that
ignores ``wait``, or a failed request) is polled again only after ``poll_s``, so it never spins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["HandsetReader"]


class _Http(Protocol):
    def __call__(self, method: str, url: str, *, name: str) -> Any: ...


class HandsetReader:
    """Messages newer than a wall-clock mark on one phone, waited for at the fake."""

    def __init__(
        self,
        sms_url: str,
        *,
        wait_s: float,
        poll_s: float,
        now: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.sms_url, self.wait_s, self.poll_s = sms_url, wait_s, poll_s
        self.now, self.sleep = now, sleep

    def newer(
        self, http: _Http, msisdn: str, after: float, wait: float
    ) -> tuple[list[dict[str, Any]], float]:
        """Messages delivered to ``msisdn`` after ``after`` (waiting up to ``wait`` s for one to come),
        oldest first, and the mark to pass next time (the newest delivery seen)."""
        wait = max(0.0, min(wait, self.wait_s))
        url = f"{self.sms_url}/_fake/handsets/{msisdn}/messages?after={after!r}"
        name = "GET handset messages"
        if wait > 0:
            url, name = f"{url}&wait={wait:.3f}", "GET handset messages (long-poll)"
        asked = self.now()
        body = http("GET", url, name=name)
        found = [m for m in (body or {}).get("messages", []) if float(m.get("wall_time", 0)) > after]
        if found:
            return found, max(after, *(float(m["wall_time"]) for m in found))
        if wait <= 0 or self.now() - asked < wait / 2:
            self.sleep(self.poll_s)  # a poll, or an answer that came back early with nothing new
        return [], after

    def until(
        self, http: _Http, msisdn: str, after: float, deadline: float, wait: float | None = None
    ) -> tuple[list[dict[str, Any]], float]:
        """:meth:`newer` with the wait cut to ``deadline`` (at most ``wait`` s, default the reader's)."""
        left = deadline - self.now()
        return self.newer(http, msisdn, after, min(left, self.wait_s if wait is None else wait))
