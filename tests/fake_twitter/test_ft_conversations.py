"""DMs by conversation id: POST /2/dm_conversations/:dm_conversation_id/messages and
GET /2/dm_conversations/:id/dm_events, against spec 2.159 and through tweepy and xdk."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import tweepy
import xdk
from ft_contract import ContractRecorder
from ft_support import BASE_URL, ServedFake, make_user
from test_ft_clients import tweepy_client

from fake_twitter.app import FakeTwitterApp

pytestmark = pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")


@pytest.fixture
async def checked(app: FakeTwitterApp) -> AsyncIterator[tuple[httpx.AsyncClient, ContractRecorder]]:
    recorder = ContractRecorder(validate_requests=True)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, event_hooks={"response": [recorder]}
    ) as client:
        yield client, recorder
    await app.dispatcher.aclose()


async def test_conversation_routes_match_the_spec(checked):
    """Send into a conversation by id (either order of the pair), list it with fields and pages;
    every exchange, errors included, validates against spec 2.159."""
    client, recorder = checked
    operator = await make_user(client, "operator")
    sub = await make_user(client, "subscriber")
    outsider = await make_user(client, "outsider")
    first = await client.post(
        f"/2/dm_conversations/with/{operator.id}/messages",
        json={"text": "#reg 9876543210"},
        headers=sub.headers,
    )
    conversation = first.json()["data"]["dm_conversation_id"]
    low, high = conversation.split("-")
    for n, order in enumerate([conversation, f"{high}-{low}", conversation]):
        sent = await client.post(
            f"/2/dm_conversations/{order}/messages", json={"text": f"code {n}"}, headers=operator.headers
        )
        assert sent.status_code == 201 and sent.json()["data"]["dm_conversation_id"] == conversation
    params = {
        "dm_event.fields": "created_at,dm_conversation_id",
        "expansions": "sender_id",
        "max_results": "2",
    }
    page = await client.get(
        f"/2/dm_conversations/{conversation}/dm_events", params=params, headers=sub.headers
    )
    body = page.json()
    assert [e["text"] for e in body["data"]] == ["code 2", "code 1"]
    assert {e["sender_id"] for e in body["data"]} == {operator.id}  # implied by expansions=sender_id
    rest = await client.get(
        f"/2/dm_conversations/{conversation}/dm_events",
        params={**params, "pagination_token": body["meta"]["next_token"]},
        headers=operator.headers,
    )
    assert [e["text"] for e in rest.json()["data"]] == ["code 0", "#reg 9876543210"]
    assert "next_token" not in rest.json()["meta"]

    refused = await client.get(f"/2/dm_conversations/{conversation}/dm_events", headers=outsider.headers)
    assert refused.status_code == 403
    assert refused.json()["type"] == "https://api.x.com/2/problems/not-authorized-for-resource"
    group = await client.post(
        "/2/dm_conversations/1234567890123456/messages", json={"text": "hi"}, headers=sub.headers
    )
    assert group.status_code == 403
    ghost = await client.get(f"/2/dm_conversations/{sub.id}-42/dm_events", headers=sub.headers)
    assert ghost.status_code == 200 and ghost.json()["errors"][0]["parameter"] == "id"
    assert len(recorder.seen) == 9


async def test_malformed_conversation_ids_get_invalid_request(client):
    """An id outside ^([0-9]{1,19}-[0-9]{1,19}|[0-9]{15,19})$ is a 400 naming the parameter."""
    sub = await make_user(client, "subscriber")
    for path, name in (
        ("/2/dm_conversations/abc/dm_events", "id"),
        ("/2/dm_conversations/12-/messages", "dm_conversation_id"),
    ):
        method = "GET" if path.endswith("dm_events") else "POST"
        response = await client.request(method, path, json={"text": "x"}, headers=sub.headers)
        assert response.status_code == 400 and name in response.json()["errors"][0]["parameters"]
    operator = await make_user(client, "operator")
    conversation = "-".join(sorted((sub.id, operator.id), key=int))
    empty = await client.post(f"/2/dm_conversations/{conversation}/messages", json={}, headers=sub.headers)
    assert empty.status_code == 400 and "$.text" in empty.json()["errors"][0]["message"]


@pytest.fixture(scope="module")
def served() -> Iterator[ServedFake]:
    with ServedFake() as fake:
        yield fake


def test_tweepy_and_xdk_use_conversation_ids(served):
    """tweepy's create_direct_message(dm_conversation_id=) and get_direct_message_events(
    dm_conversation_id=), and xdk's create_by_conversation_id / get_events_by_conversation_id (all
    404 before these routes existed)."""
    served.control("POST", "/_fake/reset")
    operator = served.control("POST", "/_fake/users", json={"username": "docomo_in"})
    alice = served.control("POST", "/_fake/users", json={"username": "alice"})
    as_alice = tweepy_client(served, alice["bearer_token"])
    first = as_alice.create_direct_message(participant_id=operator["id"], text="#act #P1", user_auth=False)
    conversation = first.data["dm_conversation_id"]
    as_operator = xdk.Client(base_url=served.base_url, access_token=operator["bearer_token"])
    reply = as_operator.direct_messages.create_by_conversation_id(
        conversation, body={"text": "done, code 4321"}
    )
    assert reply.data.dm_conversation_id == conversation
    again = as_alice.create_direct_message(dm_conversation_id=conversation, text="thanks", user_auth=False)
    assert again.data["dm_conversation_id"] == conversation
    events = as_alice.get_direct_message_events(
        dm_conversation_id=conversation, expansions=["sender_id"], user_auth=False
    )
    assert [e.text for e in events.data] == ["thanks", "done, code 4321", "#act #P1"]
    assert events.data[1].sender_id == int(operator["id"])
    page = next(iter(as_operator.direct_messages.get_events_by_conversation_id(conversation, max_results=2)))
    assert [e.text for e in page.data] == ["thanks", "done, code 4321"]
    outsider = served.control("POST", "/_fake/users", json={"username": "mallory"})
    with pytest.raises(tweepy.Forbidden):
        tweepy_client(served, outsider["bearer_token"]).get_direct_message_events(
            dm_conversation_id=conversation, user_auth=False
        )
