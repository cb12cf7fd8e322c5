"""Routes for Account Activity webhooks (``/2/webhooks``) and subscriptions.

Creating (POST) and validating (PUT) a webhook run X's CRC challenge against the URL first.
The create response carries the config at the top level, as spec 2.159 describes it, and the
same object under ``data``, as the docs' examples show, so clients of either reading work.
Auth per route follows spec 2.167's ``security``: ``GET /2/webhooks`` is app-only (BearerToken);
``POST /2/webhooks`` and ``PUT|DELETE /2/webhooks/:id`` take the app-only token or OAuth 1.0a user
context (BearerToken, UserToken), not an OAuth 2.0 user token; subscribing and checking a
subscription (``.../subscriptions/all``) need user context of either flavour (OAuth2UserToken,
UserToken); listing subscriptions and unsubscribing are app-only. A refused type gets X's 403
unsupported-authentication.
"""

from __future__ import annotations

from typing import Any

from fake_twitter.backend import TwitterBackend
from fake_twitter.delivery import WebhookDispatcher
from fake_twitter.exceptions import InvalidRequest
from fake_twitter.http import Reply, Request, Router, json_body
from fake_twitter.models import Webhook
from fake_twitter.params import check_known, check_lists, parse_id
from fake_twitter.views import rfc3339

__all__ = ["install"]

#: GET /2/webhooks takes only webhook_config.fields (checked; every config field is always answered)
LIST_PARAMS = frozenset(("webhook_config.fields",))


def _config(webhook: Webhook) -> dict[str, Any]:
    return {
        "id": str(webhook.id),
        "url": webhook.url,
        "valid": webhook.valid,
        "created_at": rfc3339(webhook.created_at),
    }


def install(router: Router, backend: TwitterBackend, dispatcher: WebhookDispatcher) -> None:
    def webhook_id(request: Request) -> int:
        return parse_id("webhook_id", request.path_params["webhook_id"], kind="path")

    async def create(request: Request) -> Reply:
        try:
            body = json_body(request)
        except ValueError:
            raise InvalidRequest([{"parameters": {}, "message": "Request body is not valid JSON"}]) from None
        url = body.get("url") if isinstance(body, dict) else None
        if not isinstance(url, str) or not url:
            raise InvalidRequest([{"parameters": {}, "message": "$.url: is missing but it is required"}])
        webhook = backend.create_webhook(url)
        if not await dispatcher.crc_check(webhook):
            backend.webhooks.remove(webhook.id)
            raise InvalidRequest(
                [
                    {
                        "parameters": {"url": [url]},
                        "message": "CrcValidationFailed: the webhook did not answer the CRC",
                    }
                ]
            )
        config = _config(webhook)
        return Reply(200, {**config, "data": config})

    def list_webhooks(request: Request) -> Reply:
        check_known(request.query, LIST_PARAMS)
        check_lists(request.query)
        configs = [_config(w) for w in backend.webhooks.webhooks.values()]
        body: dict[str, Any] = {"meta": {"result_count": len(configs)}}
        if configs:
            body["data"] = configs
        return Reply(200, body)

    async def validate(request: Request) -> Reply:
        webhook = backend.get_webhook(webhook_id(request))
        webhook.valid = await dispatcher.crc_check(webhook)
        webhook.crc_checked_at = backend.clock.time()
        return Reply(200, {"data": {"attempted": True}})

    def delete(request: Request) -> Reply:
        return Reply(200, {"data": {"deleted": backend.delete_webhook(webhook_id(request))}})

    def subscribe(request: Request) -> Reply:
        return Reply(200, {"data": {"subscribed": backend.subscribe(webhook_id(request), request.user_id)}})

    def check_subscription(request: Request) -> Reply:
        webhook = backend.get_webhook(webhook_id(request))
        return Reply(200, {"data": {"subscribed": request.user_id in webhook.subscribed_user_ids}})

    def list_subscriptions(request: Request) -> Reply:
        webhook = backend.get_webhook(webhook_id(request))
        return Reply(
            200,
            {
                "data": {
                    "application_id": str(backend.app.app_id),
                    "webhook_id": str(webhook.id),
                    "webhook_url": webhook.url,
                    "subscriptions": [{"user_id": str(u)} for u in sorted(webhook.subscribed_user_ids)],
                }
            },
        )

    def unsubscribe(request: Request) -> Reply:
        user_id = parse_id("user_id", request.path_params["user_id"], kind="path")
        backend.unsubscribe(webhook_id(request), user_id)
        return Reply(200, {"data": {"subscribed": False}})

    subs = "/2/account_activity/webhooks/:webhook_id/subscriptions"
    router.add("POST", "/2/webhooks", create, "app_or_oauth1", is_async=True)
    router.add("GET", "/2/webhooks", list_webhooks, "app")
    router.add("PUT", "/2/webhooks/:webhook_id", validate, "app_or_oauth1", is_async=True)
    router.add("DELETE", "/2/webhooks/:webhook_id", delete, "app_or_oauth1")
    router.add("POST", subs + "/all", subscribe, "user")
    router.add("GET", subs + "/all", check_subscription, "user")
    router.add("GET", subs + "/all/list", list_subscriptions, "app")
    router.add("DELETE", subs + "/:user_id/all", unsubscribe, "app")
