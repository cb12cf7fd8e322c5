"""Routes for direct messages: send to a participant or into a conversation by id, list the caller's
events, one conversation's events (by participant or by conversation id).

A one-to-one conversation id is ``"<low id>-<high id>"`` (either order is taken); the caller must be
one of the two (else 403 not-authorized-for-resource) and the other must exist (else a not-found:
a 200 with ``errors[]`` on GET, a 404 problem on POST). Group conversations (a single 15-19 digit id)
do not exist in this fake, so such an id is not one the caller takes part in (403)."""

from __future__ import annotations

import re

from fake_twitter.backend import TwitterBackend
from fake_twitter.exceptions import (
    InvalidRequest,
    NotAuthorizedForResource,
    ResourceNotFound,
    invalid_parameter,
)
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
_CONVERSATION = re.compile(r"^([0-9]{1,19})-([0-9]{1,19})$|^[0-9]{15,19}$")
_CONVERSATION_PATTERN = "^([0-9]{1,19}-[0-9]{1,19}|[0-9]{15,19})$"


def _body_error(message: str) -> InvalidRequest:
    return InvalidRequest([{"parameters": {}, "message": message}])


def install(router: Router, backend: TwitterBackend) -> None:
    def other_participant(request: Request, name: str) -> int:
        """The other member of the caller's one-to-one conversation named by path parameter ``name``."""
        raw = request.path_params[name]
        found = _CONVERSATION.match(raw)
        if found is None:
            raise invalid_parameter(
                name, raw, f"The `{name}` path parameter value [{raw}] does not match {_CONVERSATION_PATTERN}"
            )
        caller = request.user_id
        if found.group(1) is not None:
            ids = (int(found.group(1)), int(found.group(2)))
            if caller in ids:
                other = ids[1] if ids[0] == caller else ids[0]
                if other not in backend.users:
                    raise ResourceNotFound("dm_conversation", name, raw)
                return other
        raise NotAuthorizedForResource(
            "You are not a participant of this conversation.",
            resource_type="dm_conversation",
            resource_id=raw,
            parameter=name,
        )

    def send(request: Request) -> Reply:
        participant = parse_id("participant_id", request.path_params["participant_id"], kind="path")
        return send_to(request, participant)

    def send_in_conversation(request: Request) -> Reply:
        return send_to(request, other_participant(request, "dm_conversation_id"))

    def send_to(request: Request, participant: int) -> Reply:
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

    def list_conversation(request: Request) -> Reply:
        return listing(request, other_participant(request, "id"))

    router.add("POST", "/2/dm_conversations/with/:participant_id/messages", send, "user")
    router.add("GET", "/2/dm_events", list_all, "user")
    router.add("GET", "/2/dm_conversations/with/:participant_id/dm_events", list_with, "user")
    router.add("POST", "/2/dm_conversations/:dm_conversation_id/messages", send_in_conversation, "user")
    router.add("GET", "/2/dm_conversations/:id/dm_events", list_conversation, "user")
