"""What the processor sent during a run, counted per kind at the fakes (HTTP control routes only).

The simulator counts every message the processor sends per kind (``summary["messages"]``); this
counts the same kinds from the outside after a live run, for the messages created at or after the
run's first scheduled start ``t0`` (Unix seconds), so an unmeasured warm-up is left out:

- ``sms_code``, ``sms_link``, ``sms_confirmation``: the SMS fake's outbox (``GET /_fake/outbox``),
  by body (the code, "now linked", a purchase answer); its creation time is on the fake's carrier
  clock, mapped to wall time through ``GET /_fake/clock`` (the storm runs it at time scale 1);
- ``reply_tweet``: the operator's tweets (``GET /_fake/tweets?username=``) that reply to a tweet;
- ``dm_reply``: DMs the operator sent (``GET /_fake/timelines/{operator}?kind=dms``).
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime
from typing import Any

import httpx

__all__ = ["MESSAGE_KINDS", "count_live_messages", "sms_kind"]

#: kinds compared between the model and the live run
MESSAGE_KINDS: tuple[str, ...] = ("sms_code", "sms_link", "sms_confirmation", "reply_tweet", "dm_reply")
_SNOWFLAKE_EPOCH_MS = 1_288_834_974_657
_LIMIT = 1_000_000


def sms_kind(body: str) -> str:
    """The kind of an SMS the processor sent, by its text."""
    if "code is" in body:
        return "sms_code"
    if "now linked" in body:
        return "sms_link"
    return "sms_confirmation"


def _created(item: dict[str, Any]) -> float:
    stamp = item.get("created_at")
    if isinstance(stamp, str):
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    ident = str(item.get("id", "0"))
    return ((int(ident) >> 22) + _SNOWFLAKE_EPOCH_MS) / 1000 if ident.isdigit() else 0.0


def count_live_messages(x_url: str, sms_url: str, operator_handle: str, t0: float) -> dict[str, int]:
    """Messages per kind the processor sent from ``t0`` on, as the fakes recorded them."""
    counts: Counter[str] = Counter({kind: 0 for kind in MESSAGE_KINDS})
    with httpx.Client(timeout=60) as client:
        clock = client.get(f"{sms_url}/_fake/clock").json()
        scale = float(clock.get("time_scale") or 1.0)
        carrier_t0 = float(clock["carrier_time"]) - (time.time() - t0) * scale
        outbox = client.get(f"{sms_url}/_fake/outbox", params={"limit": _LIMIT}).json()
        for message in outbox.get("messages", []):
            if float(message["carrier"]["created"]) >= carrier_t0:
                counts[sms_kind(str(message.get("body", "")))] += 1
        tweets = client.get(f"{x_url}/_fake/tweets", params={"username": operator_handle, "limit": _LIMIT})
        operator_id = ""
        for tweet in tweets.json().get("data", []):
            operator_id = str(tweet.get("author_id", operator_id))
            replied = any(r.get("type") == "replied_to" for r in tweet.get("referenced_tweets", []))
            if replied and _created(tweet) >= t0:
                counts["reply_tweet"] += 1
        if not operator_id:
            app = client.get(f"{x_url}/_fake/app").json()
            found = client.get(
                f"{x_url}/2/users/by/username/{operator_handle}",
                headers={"authorization": f"Bearer {app['bearer_token']}"},
            ).json()
            operator_id = str(found.get("data", {}).get("id", ""))
        if operator_id:
            dms = client.get(
                f"{x_url}/_fake/timelines/{operator_id}", params={"kind": "dms", "limit": _LIMIT}
            )
            for event in dms.json().get("data", []):
                if str(event.get("sender_id")) == operator_id and _created(event) >= t0:
                    counts["dm_reply"] += 1
    return dict(counts)
