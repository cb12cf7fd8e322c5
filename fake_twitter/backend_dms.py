"""The direct-messages family of :class:`~fake_twitter.backend.TwitterBackend`: send (one
conversation per pair of users) and page DM events, with events for subscribed participants."""

from __future__ import annotations

from fake_twitter.backend_webhooks import WebhookOperations
from fake_twitter.exceptions import invalid_parameter
from fake_twitter.models import DmEvent, extract_hashtags
from fake_twitter.timeline import Page
from fake_twitter.webhooks import dm_event_payload

__all__ = ["DmOperations"]


class DmOperations(WebhookOperations):
    """Direct messages (``MessageCreate`` events only)."""

    def send_dm(
        self, sender_id: int, recipient_id: int, text: str, media_ids: tuple[str, ...] = ()
    ) -> DmEvent:
        self.get_user(sender_id)
        if recipient_id not in self.users:
            raise invalid_parameter(
                "participant_id",
                str(recipient_id),
                f"Could not find user with participant_id: [{recipient_id}].",
            )
        low, high = sorted((sender_id, recipient_id))
        conversation = f"{low}-{high}"
        hashtags, mentions = extract_hashtags(text), self._mentions(text)
        now = self.clock.time()
        event = DmEvent(
            id=self.ids.next_id(),
            event_type="MessageCreate",
            sender_id=sender_id,
            recipient_id=recipient_id,
            dm_conversation_id=conversation,
            created_at=now,
            text=text,
            hashtags=hashtags,
            mentions=mentions,
            media_ids=media_ids,
        )
        self.dm_store.add(event)
        self.counters["dms_sent"] += 1
        self.counters["dms_evicted"] += self.dm_store.evict(
            now, self.retention_max_tweets, self.retention_max_age
        )
        if self.webhooks.subscribed_users:
            for user_id in {sender_id, recipient_id}:
                if user_id in self.webhooks.subscribed_users:
                    self._emit(
                        user_id,
                        "direct_message_events",
                        dm_event_payload(event, user_id, self.users, self.app),
                    )
        return event

    def get_dm_events(
        self,
        user_id: int,
        *,
        before: int,
        limit: int,
        event_types: frozenset[str],
        with_user: int | None = None,
    ) -> Page:
        if "MessageCreate" not in event_types:  # the fake only has MessageCreate events
            return Page([], None)
        return self.dm_store.page(user_id, before=before, limit=limit, with_user=with_user)
