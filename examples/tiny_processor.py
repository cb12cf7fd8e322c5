"""A Twitter-commerce processor the harness did not write: one file, the standard library only.

Deliberately unlike the bundled reference (asyncio, a durable queue, group commits, webhooks):
it polls fake X's mentions every ``--poll`` seconds and its DMs every ``--dm-poll`` seconds in one
thread, hands each message to ``--workers`` worker threads (one by default) through a
``queue.Queue``, pays a fixed ``--cost-ms`` per message (think of a fraud check), keeps its state
in SQLite (one file, one lock) and answers through the Twilio Messages API with ``urllib``:

- ``@op #reg 98xxxxxxxx``: a code by SMS ("Your Twittcom code is NNNNNN...") to a directory number;
- ``@op #code NNNNNN``: the number is linked, an SMS says so; a wrong code gets no answer;
- ``@op #act #PACK`` and a DM ``act PACK``: debit and an SMS confirmation (a DM answer too);
- anything else: read, paid for, ignored.

It reads everything it needs from its command line (or ``TWITTCOM_*``, as ``twittcom storm
--against`` sets them) and the population file the harness writes. Run by the harness::

    twittcom storm scenarios/ci-smoke.toml --against \\
      'python examples/tiny_processor.py --x {x_url} --sms {sms_url} --population {population}'
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import queue
import re
import secrets
import signal
import sqlite3
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

REG = re.compile(r"#reg\s+\+?(?:91)?(\d{10})\b", re.IGNORECASE)
CODE = re.compile(r"#code\s+(\d{6})\b", re.IGNORECASE)
ACT = re.compile(r"#act\s+#(\w+)", re.IGNORECASE)
DM_ACT = re.compile(r"^\s*act\s+#?(\w+)", re.IGNORECASE)


class Http:
    """JSON and form requests with urllib; a failed call is retried twice."""

    def __init__(self, bearer: str) -> None:
        self.bearer = bearer

    def call(self, method: str, url: str, body: Any = None, *, form: dict[str, str] | None = None,
             basic: tuple[str, str] | None = None) -> Any:  # fmt: skip
        data, headers = None, {}
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["content-type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        if basic is not None:
            headers["authorization"] = "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
        else:
            headers["authorization"] = f"Bearer {self.bearer}"
        for attempt in range(3):
            try:
                with urllib.request.urlopen(
                    urllib.request.Request(url, data, headers, method=method), timeout=10
                ) as r:
                    return json.loads(r.read() or b"{}")
            except (urllib.error.URLError, OSError) as exc:
                if attempt == 2:
                    print(f"{method} {url} failed: {exc}", file=sys.stderr, flush=True)
                    return None
                time.sleep(0.1)
        return None


class Store:
    """SQLite: the directory and packs (imported from the population file), codes, links, balances."""

    def __init__(self, path: str, population: dict[str, Any]) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.lock = threading.Lock()
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS subscribers (msisdn TEXT PRIMARY KEY, circle TEXT, balance INTEGER,
                                                    usable INTEGER);
            CREATE TABLE IF NOT EXISTS packs (circle TEXT, hashtag TEXT, price INTEGER,
                                              PRIMARY KEY (circle, hashtag));
            CREATE TABLE IF NOT EXISTS codes (user_id TEXT PRIMARY KEY, msisdn TEXT, code TEXT, expires REAL);
            CREATE TABLE IF NOT EXISTS links (user_id TEXT PRIMARY KEY, msisdn TEXT);
            CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY);
            """
        )
        with self.lock:
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT OR REPLACE INTO subscribers VALUES (?, ?, ?, ?)",
                [(s["msisdn"], s["circle"], int(s["balance_paise"]),
                  int(s.get("active", True) and s.get("prepaid", True))) for s in population["subscribers"]],
            )  # fmt: skip
            self.db.executemany(
                "INSERT OR REPLACE INTO packs VALUES (?, ?, ?)",
                [(p["circle"], p["hashtag"].lower(), int(p["price_paise"])) for p in population["packs"]],
            )
            self.db.execute("COMMIT")

    def first_time(self, message_id: str) -> bool:
        with self.lock:
            return self.db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (message_id,)).rowcount == 1

    def new_code(self, user_id: str, msisdn: str) -> str | None:
        with self.lock:
            row = self.db.execute("SELECT usable FROM subscribers WHERE msisdn = ?", (msisdn,)).fetchone()
            if not row or not row[0]:
                return None
            code = f"{secrets.randbelow(10**6):06d}"
            self.db.execute(
                "INSERT OR REPLACE INTO codes VALUES (?, ?, ?, ?)", (user_id, msisdn, code, time.time() + 600)
            )
            return code

    def check_code(self, user_id: str, code: str) -> str | None:
        with self.lock:
            row = self.db.execute(
                "SELECT msisdn, code, expires FROM codes WHERE user_id = ?", (user_id,)
            ).fetchone()
            if not row or row[1] != code or row[2] < time.time():
                return None
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM codes WHERE user_id = ?", (user_id,))
            self.db.execute("INSERT OR REPLACE INTO links VALUES (?, ?)", (user_id, row[0]))
            self.db.execute("COMMIT")
            return str(row[0])

    def buy(self, user_id: str, hashtag: str) -> tuple[str, str | None, int]:
        """(outcome, msisdn, balance): ``activated``, ``low_balance``, ``no_pack`` or ``not_linked``."""
        with self.lock:
            link = self.db.execute("SELECT msisdn FROM links WHERE user_id = ?", (user_id,)).fetchone()
            if not link:
                return "not_linked", None, 0
            msisdn = str(link[0])
            circle, balance = self.db.execute(
                "SELECT circle, balance FROM subscribers WHERE msisdn = ?", (msisdn,)
            ).fetchone()
            pack = self.db.execute(
                "SELECT price FROM packs WHERE circle = ? AND hashtag = ?", (circle, hashtag.lower())
            ).fetchone()
            if not pack:
                return "no_pack", msisdn, balance
            if balance < pack[0]:
                return "low_balance", msisdn, balance
            self.db.execute(
                "UPDATE subscribers SET balance = balance - ? WHERE msisdn = ?", (pack[0], msisdn)
            )
            return "activated", msisdn, balance - pack[0]


class Processor:
    def __init__(self, args: argparse.Namespace, population: dict[str, Any]) -> None:
        self.args = args
        self.x = Http(args.operator_token)
        self.store = Store(args.db, population)
        self.inbox: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.stop = threading.Event()

    # -- out -------------------------------------------------------------------------------------
    def sms(self, to: str, text: str) -> None:
        a = self.args
        form = {"To": to, "Body": text}
        form.update({"MessagingServiceSid": a.sms_service_sid} if a.sms_service_sid else {"From": a.sms_from})
        if a.sms_validity_s:
            form["ValidityPeriod"] = str(a.sms_validity_s)
        url = f"{a.sms}/2010-04-01/Accounts/{a.sms_account_sid}/Messages.json"
        self.x.call("POST", url, form=form, basic=(a.sms_account_sid, a.sms_auth_token))

    def reply(self, tweet_id: str, text: str) -> None:
        # the whole id: X refuses a tweet that repeats one (403), and six digits do repeat under load
        body = {"text": f"{text} (ref {tweet_id})", "reply": {"in_reply_to_tweet_id": tweet_id}}
        self.x.call("POST", f"{self.args.x}/2/tweets", body)

    def dm(self, user_id: str, text: str) -> None:
        self.x.call("POST", f"{self.args.x}/2/dm_conversations/with/{user_id}/messages", {"text": text})

    # -- in --------------------------------------------------------------------------------------
    def poll_mentions(self, since: str | None) -> str | None:
        a, found, token = self.args, [], None
        while True:
            query = {"max_results": str(a.page_size), "tweet.fields": "author_id,created_at"}
            if since:
                query["since_id"] = since
            if token:
                query["pagination_token"] = token
            page = self.x.call(
                "GET", f"{a.x}/2/users/{a.operator_id}/mentions?{urllib.parse.urlencode(query)}"
            )
            if not page:
                return since
            found.extend(page.get("data", []))
            token = page.get("meta", {}).get("next_token")
            if not token or not since:
                break
        for tweet in sorted(found, key=lambda t: int(t["id"])):
            self.inbox.put(("tweet", tweet))
        return max([since or "0", *(t["id"] for t in found)], key=int) if found or since else None

    def poll_dms(self, last: int) -> int:
        query = {"max_results": "100", "dm_event.fields": "sender_id,dm_conversation_id,created_at",
                 "event_types": "MessageCreate"}  # fmt: skip
        page = self.x.call("GET", f"{self.args.x}/2/dm_events?{urllib.parse.urlencode(query)}")
        fresh = [e for e in (page or {}).get("data", []) if int(e["id"]) > last]
        for event in sorted(fresh, key=lambda e: int(e["id"])):
            if event.get("sender_id") != self.args.operator_id:
                self.inbox.put(("dm", event))
        return max([last, *(int(e["id"]) for e in fresh)])

    def poller(self) -> None:
        since, last_dm, next_dm = None, 0, 0.0
        since = self.poll_mentions(None)  # the backlog before the start is not ours to answer
        last_dm = self.poll_dms(0) if self.args.dm_poll > 0 else 0
        with self.inbox.mutex:
            self.inbox.queue.clear()
        next_mentions = time.monotonic() + self.args.poll
        next_dm = time.monotonic() + self.args.dm_poll
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= next_mentions:
                since = self.poll_mentions(since)
                next_mentions += self.args.poll
            if self.args.dm_poll > 0 and now >= next_dm:
                last_dm = self.poll_dms(last_dm)
                next_dm += self.args.dm_poll
            self.stop.wait(
                max(
                    0.0,
                    min(next_mentions, next_dm if self.args.dm_poll > 0 else next_mentions)
                    - time.monotonic(),
                )
            )

    # -- work ------------------------------------------------------------------------------------
    def worker(self) -> None:
        while not self.stop.is_set():
            try:
                kind, item = self.inbox.get(timeout=0.5)
            except queue.Empty:
                continue
            time.sleep(self.args.cost_ms / 1000)  # the per-message cost
            if self.store.first_time(item["id"]):
                self.handle_dm(item) if kind == "dm" else self.handle_tweet(item)

    def handle_tweet(self, tweet: dict[str, Any]) -> None:
        text, user, tweet_id = tweet.get("text", ""), tweet["author_id"], tweet["id"]
        if (found := REG.search(text)) is not None:
            code = self.store.new_code(user, "+91" + found.group(1))
            if code is None:
                self.reply(tweet_id, "This number is not on our network.")
            else:
                self.sms("+91" + found.group(1), f"Your Twittcom code is {code}. It is valid for 10 minutes.")
        elif (found := CODE.search(text)) is not None:
            msisdn = self.store.check_code(user, found.group(1))
            if msisdn is not None:
                self.sms(msisdn, f"Twittcom: {msisdn} is now linked to your X account.")
        elif (found := ACT.search(text)) is not None:
            self.buy(user, found.group(1), lambda t: self.reply(tweet_id, t))

    def handle_dm(self, event: dict[str, Any]) -> None:
        found = DM_ACT.search(event.get("text", ""))
        if found is not None:
            sender = event["sender_id"]
            self.buy(sender, found.group(1), lambda t: self.dm(sender, t), answer_always=True)

    def buy(self, user: str, hashtag: str, answer: Any, answer_always: bool = False) -> None:
        outcome, msisdn, balance = self.store.buy(user, hashtag)
        text = {
            "activated": f"Twittcom: #{hashtag} activated. Balance Rs {balance / 100:.2f}.",
            "low_balance": f"Twittcom: balance too low for #{hashtag}, please recharge.",
            "no_pack": f"Twittcom: no pack #{hashtag} in your circle.",
            "not_linked": "Twittcom: register first with #reg <mobile>.",
        }[outcome]
        if answer_always or msisdn is None:
            answer(text)
        if msisdn is not None:
            self.sms(msisdn, text)


def main() -> None:
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--x", default=env("TWITTCOM_X_URL"), help="fake X base URL")
    p.add_argument("--sms", default=env("TWITTCOM_SMS_URL"), help="Twilio API base URL")
    p.add_argument("--population", default=env("TWITTCOM_POPULATION"), help="population JSON")
    p.add_argument("--operator-id", default=env("TWITTCOM_OPERATOR_ID"))
    p.add_argument("--operator-token", default=env("TWITTCOM_OPERATOR_TOKEN"))
    p.add_argument("--sms-account-sid", default=env("TWITTCOM_SMS_ACCOUNT_SID"))
    p.add_argument("--sms-auth-token", default=env("TWITTCOM_SMS_AUTH_TOKEN"))
    p.add_argument("--sms-from", default=env("TWITTCOM_SMS_FROM", "54321"))
    p.add_argument("--sms-service-sid", default=env("TWITTCOM_SMS_SERVICE_SID", ""))
    p.add_argument("--sms-validity-s", type=int, default=int(env("TWITTCOM_SMS_VALIDITY_S", "0")))
    p.add_argument("--poll", type=float, default=2.0, help="mentions poll period (s)")
    p.add_argument("--dm-poll", type=float, default=2.0, help="DM poll period (s); 0: no DMs")
    p.add_argument("--page-size", type=int, default=100)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--cost-ms", type=float, default=40.0, help="fixed cost paid per message (ms)")
    p.add_argument("--db", default=":memory:", help="SQLite file")
    args = p.parse_args()
    missing = [k for k in ("x", "sms", "population", "operator_id", "operator_token", "sms_account_sid",
                           "sms_auth_token") if not getattr(args, k)]  # fmt: skip
    if missing:
        p.error(f"missing {', '.join(missing)} (flags or TWITTCOM_* variables)")
    with open(args.population) as handle:
        processor = Processor(args, json.load(handle))
    signal.signal(signal.SIGTERM, lambda *_: processor.stop.set())
    threads = [threading.Thread(target=processor.worker, daemon=True) for _ in range(args.workers)]
    for thread in threads:
        thread.start()
    print(f"tiny processor: {args.workers} worker(s), poll {args.poll} s, cost {args.cost_ms} ms", flush=True)
    try:
        processor.poller()
    except KeyboardInterrupt:
        processor.stop.set()


if __name__ == "__main__":
    main()
