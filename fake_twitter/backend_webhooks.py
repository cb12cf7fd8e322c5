"""The Account Activity family of :class:`~fake_twitter.backend.TwitterBackend`: webhooks, their
subscriptions, and the events queued for them (``outbox``, announced through ``on_event``)."""

from __future__ import annotations

from typing import Any

from fake_twitter.backend_users import UserOperations
from fake_twitter.exceptions import invalid_parameter
from fake_twitter.models import Webhook, WebhookEvent

__all__ = ["WebhookOperations"]


class WebhookOperations(UserOperations):
    """Webhooks and subscriptions; ``_emit`` queues an event for a subscribed user."""

    def create_webhook(self, url: str) -> Webhook:
        """Register ``url`` (the caller runs the CRC check first); http and ports allowed locally."""
        if not url.startswith(("https://", "http://")) or len(url) > 200:
            raise invalid_parameter(
                "url", url, "The `url` must be an absolute http(s) URL of at most 200 characters"
            )
        if any(w.url == url for w in self.webhooks.webhooks.values()):
            raise invalid_parameter("url", url, "DuplicateUrlFailed: this URL is already registered")
        now = self.clock.time()
        webhook = Webhook(id=self.ids.next_id(), url=url, created_at=now, crc_checked_at=now)
        self.webhooks.add(webhook)
        return webhook

    def get_webhook(self, webhook_id: int) -> Webhook:
        webhook = self.webhooks.webhooks.get(webhook_id)
        if webhook is None:
            raise invalid_parameter("webhook_id", str(webhook_id), f"Webhook [{webhook_id}] not found")
        return webhook

    def delete_webhook(self, webhook_id: int) -> bool:
        self.get_webhook(webhook_id)
        return self.webhooks.remove(webhook_id)

    def subscribe(self, webhook_id: int, user_id: int) -> bool:
        self.get_webhook(webhook_id)
        self.get_user(user_id)
        self.webhooks.subscribe(webhook_id, user_id)
        return True

    def unsubscribe(self, webhook_id: int, user_id: int) -> bool:
        self.get_webhook(webhook_id)
        return self.webhooks.unsubscribe(webhook_id, user_id)

    def _emit(self, user_id: int, kind: str, payload: dict[str, Any]) -> None:
        outbox = self.outbox
        if len(outbox) == outbox.maxlen:
            self.counters["webhook_dropped"] += 1
        outbox.append(WebhookEvent(user_id, kind, payload))
        self.counters["webhook_events"] += 1
        if self.on_event is not None:
            self.on_event()
