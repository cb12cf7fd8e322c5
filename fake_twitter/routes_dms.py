"""Routes for direct messages: send to a participant, list the caller's events, one conversation."""

from __future__ import annotations

from fake_twitter.backend import TwitterBackend
from fake_twitter.exceptions import InvalidRequest
from fake_twitter.http import Reply, Request, Router, json_body
from fake_twitter.params import (
    EVENT_TYPES,
    MAX_ID,
    check_known,
    parse_csv,
    parse_id,
    parse_int_range,
    parse_token,
)
from fake_twitter.selection import dm_selection
from fake_twitter.timeline import encode_token
from fake_twitter.views import dm_v2, timeline_body, user_v2

__all__ = ["install"]

LIST_PARAMS = frozenset(
    "max_results pagination_token event_types dm_event.fields expansions media.fields user.fields "
    "tweet.fields post.fields".split()
)
MESSAGE_KEYS = frozenset(("text", "attachments"))


def _body_error(message: str) -> InvalidRequest:
    return InvalidRequest([{"parameters": {}, "message": message}])


def install(router: Router, backend: TwitterBackend) -> None:
    def send(request: Request) -> Reply:
        participant = parse_id("participant_id", request.path_params["participant_id"], kind="path")
        try:
            body = json_body(request)
        except ValueError:
            raise _body_error("Request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise _body_error("$: is not an object")
        for key in body:
            if key not in MESSAGE_KEYS:
                raise _body_error(
                    f"$.{key}: is not defined in the schema and the schema does not allow additional "
                    "properties"
                )
        text = body.get("text")
        attachments = body.get("attachments")
        if text is None and not attachments:
            raise _body_error("$.text: is missing but it is required")
        if text is not None and (not isinstance(text, str) or not text):
            raise _body_error("$.text: must be a non-empty string")
        media: tuple[str, ...] = ()
        if attachments is not None:
            if not isinstance(attachments, list) or not all(
                isinstance(a, dict) and isinstance(a.get("media_id"), str) for a in attachments
            ):
                raise _body_error("$.attachments: must be a list of {media_id}")
            media = tuple(a["media_id"] for a in attachments)
        event = backend.send_dm(request.user_id, participant, text or "", media)
        return Reply(
            201, {"data": {"dm_conversation_id": event.dm_conversation_id, "dm_event_id": str(event.id)}}
        )

    def listing(request: Request, with_user: int | None) -> Reply:
        query = request.query
        check_known(query, LIST_PARAMS)
        limit = parse_int_range("max_results", query.get("max_results"), 1, 100, 100)
        event_types = parse_csv("event_types", query.get("event_types"), EVENT_TYPES) or EVENT_TYPES
        sel = dm_selection(query)
        fields, expansions, user_fields = sel.fields, sel.expansions, sel.user_fields
        token = parse_token(query.get("pagination_token"))
        page = backend.get_dm_events(
            request.user_id,
            before=MAX_ID if token is None else token,
            limit=limit,
            event_types=event_types,
            with_user=with_user,
        )
        events = [backend.dm_events[i] for i in page.ids]
        includes = {}
        if expansions & {"sender_id", "participant_ids"}:
            ids = {e.sender_id for e in events}
            if "participant_ids" in expansions:
                ids |= {e.recipient_id for e in events}
            users = [user_v2(backend.users[u], user_fields) for u in sorted(ids) if u in backend.users]
            if users:
                includes["users"] = users
        next_token = encode_token(page.next_until) if page.next_until is not None else None
        body = timeline_body([dm_v2(e, fields) for e in events], includes, next_token, newest_oldest=False)
        return Reply(200, body)

    def list_all(request: Request) -> Reply:
        return listing(request, None)

    def list_with(request: Request) -> Reply:
        participant = parse_id("participant_id", request.path_params["participant_id"], kind="path")
        return listing(request, participant)

    router.add("POST", "/2/dm_conversations/with/:participant_id/messages", send, "user")
    router.add("GET", "/2/dm_events", list_all, "user")
    router.add("GET", "/2/dm_conversations/with/:participant_id/dm_events", list_with, "user")
