"""Direct messages: send, list the caller's events, one conversation, paging, filters and errors."""

from __future__ import annotations

from ft_support import app_headers, make_user


async def test_dm_listing_pages_and_conversations(client):
    """dm_events pages newest first with next_token; the per-participant route shows one conversation."""
    operator = await make_user(client, "docomo")
    alice = await make_user(client, "alice")
    bob = await make_user(client, "bob")
    for n in range(5):
        await client.post(
            f"/2/dm_conversations/with/{operator.id}/messages", json={"text": f"a{n}"}, headers=alice.headers
        )
    await client.post(
        f"/2/dm_conversations/with/{operator.id}/messages", json={"text": "b0"}, headers=bob.headers
    )
    first = (await client.get("/2/dm_events", params={"max_results": "4"}, headers=operator.headers)).json()
    assert [e["text"] for e in first["data"]] == ["b0", "a4", "a3", "a2"]
    assert "newest_id" not in first["meta"] and len(first["meta"]["next_token"]) >= 16
    rest = await client.get(
        "/2/dm_events",
        params={"max_results": "4", "pagination_token": first["meta"]["next_token"]},
        headers=operator.headers,
    )
    assert [e["text"] for e in rest.json()["data"]] == ["a1", "a0"] and "next_token" not in rest.json()[
        "meta"
    ]
    convo = (
        await client.get(f"/2/dm_conversations/with/{bob.id}/dm_events", headers=operator.headers)
    ).json()
    assert [e["text"] for e in convo["data"]] == ["b0"]
    assert (await client.get("/2/dm_events", headers=bob.headers)).json()["meta"]["result_count"] == 1


async def test_dm_fields_and_event_types(client):
    """dm_event.fields adds sender and conversation; event_types without MessageCreate finds nothing."""
    operator = await make_user(client, "docomo")
    alice = await make_user(client, "alice")
    sent = await client.post(
        f"/2/dm_conversations/with/{operator.id}/messages",
        json={"text": "#act #PACK10"},
        headers=alice.headers,
    )
    assert sent.status_code == 201
    params = {
        "dm_event.fields": "sender_id,dm_conversation_id,created_at,entities",
        "expansions": "sender_id",
    }
    event = (await client.get("/2/dm_events", params=params, headers=operator.headers)).json()
    data = event["data"][0]
    assert (
        data["sender_id"] == alice.id
        and data["dm_conversation_id"] == sent.json()["data"]["dm_conversation_id"]
    )
    assert [h["tag"] for h in data["hashtags"]] == ["act", "PACK10"]
    assert event["includes"]["users"][0]["username"] == "alice"
    joins = await client.get(
        "/2/dm_events", params={"event_types": "ParticipantsJoin"}, headers=operator.headers
    )
    assert joins.json() == {"meta": {"result_count": 0}}


async def test_dm_errors(client):
    """App-only auth, unknown recipients, empty or extra body keys and bad event types are refused."""
    operator = await make_user(client, "docomo")
    alice = await make_user(client, "alice")
    url = f"/2/dm_conversations/with/{operator.id}/messages"
    app_only = await client.post(url, json={"text": "x"}, headers=await app_headers(client))
    assert app_only.status_code == 403
    assert app_only.json()["type"] == "https://api.x.com/2/problems/unsupported-authentication"
    for body in ({}, {"text": ""}, {"text": "x", "card": 1}, {"attachments": "nope"}):
        assert (await client.post(url, json=body, headers=alice.headers)).status_code == 400, body
    nobody = await client.post(
        "/2/dm_conversations/with/123/messages", json={"text": "x"}, headers=alice.headers
    )
    assert nobody.status_code == 400
    bad_type = await client.get("/2/dm_events", params={"event_types": "Poke"}, headers=alice.headers)
    assert bad_type.status_code == 400
    zero = await client.get("/2/dm_events", params={"max_results": "0"}, headers=alice.headers)
    assert zero.status_code == 400
