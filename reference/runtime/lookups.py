"""``GatewayLookups``: whether a send of unknown outcome reached the gateway, before it is sent again.

A row retried after a crash (its lease ran out) or after an unknown outcome (a read timeout or a
dropped connection after the request was written) may already exist at the gateway. Its id there
is looked up by what the row says:

* SMS: Twilio's message list filtered by ``To`` (newest first), exact body;
* reply or status tweet: the operator's own timeline, same text, same ``replied_to`` tweet;
* DM: the operator's DM events, sent by the operator in the conversation with the user, same text.

Of the matches, the newest that no other row holds is taken: held means recorded on another
outbox row (``WorkQueue.held_refs``) or taken in this process by another row not yet recorded (a
fresh send or an adoption waiting for its group commit). So two rows with one text to one number
stay two messages. All reads follow the documented wire formats (see the clients).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from reference.clients.errors import ClientError
from reference.clients.sms_port import SmsGateway
from reference.clients.x_api import XApiClient
from reference.service.work_queue import OutboxItem

__all__ = ["GatewayLookups"]

_log = logging.getLogger(__name__)
_MAX_TAKEN = 10_000  # ids remembered in process; older ones are on their rows by then


class GatewayLookups:
    """Looks outbox rows up at X and Twilio.

    Arguments:
        x, sms: the clients.
        operator_id: the operator's X user id (empty: tweets and DMs are not looked up).
        held_refs: ``(refs, own_id) -> the refs other rows hold`` (the work queue, off the loop).
    """

    def __init__(
        self,
        x: XApiClient,
        sms: SmsGateway,
        operator_id: str,
        held_refs: Callable[[Sequence[str], int], Awaitable[set[str]]],
    ) -> None:
        self.x = x
        self.sms = sms
        self.operator_id = operator_id
        self.held_refs = held_refs
        self._taken: dict[str, int] = {}  # gateway id -> the row that took it in this process

    def take(self, ref: str, row_id: int) -> None:
        """Record that row ``row_id`` owns ``ref`` (a fresh send, before its result is stored)."""
        if len(self._taken) >= _MAX_TAKEN:
            self._taken.clear()
        self._taken[ref] = row_id

    async def sms_sent(self, item: OutboxItem) -> str | None:
        """The sid of the row's SMS at Twilio, or None when Twilio has no trace of it."""
        matches = await self.sms.find_messages(item.recipient, item.text)
        return await self._unheld(item, [m.sid for m in matches])

    async def x_sent(self, item: OutboxItem) -> str | None:
        """The id of the row's tweet or DM event at X, or None (also when X refuses the lookup:
        the row is then sent again, and X's duplicate rule still catches a reply)."""
        if not self.operator_id:
            return None
        try:
            if item.kind == "tweet":
                refs = await self.x.find_own_tweets(self.operator_id, item.text, item.in_reply_to)
            else:
                refs = await self.x.find_own_dms(self.operator_id, item.user_id, item.text)
        except ClientError as exc:
            if exc.retryable:
                raise
            _log.warning("outbox row %d: X lookup refused (%s); sending again", item.id, exc)
            return None
        return await self._unheld(item, refs)

    async def _unheld(self, item: OutboxItem, refs: Sequence[str]) -> str | None:
        if not refs:
            return None
        held = await self.held_refs(list(refs), item.id)
        for ref in refs:
            if ref not in held and self._taken.get(ref, item.id) == item.id:
                self.take(ref, item.id)
                return ref
        return None
