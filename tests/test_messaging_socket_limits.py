"""Socket.IO emits spend from the user's REST rate-limit budget (one GCRA in Redis,
shared with the gateway); concurrent connections are capped per user and per address,
across instances. Real services, real Redis, real Socket.IO clients."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import socketio

from meshkit.security import API_KEY_HEADER, local_service_key
from meshkit.services.messaging.socket_limits import connections_key
from tests.messaging_stack import Someone, Stack, messaging_stack


async def refusal(url: str, someone: Someone, **options: Any) -> dict[str, Any]:
    """The problem document of a refused connection."""
    client = socketio.AsyncClient(reconnection=False)
    reasons: list[Any] = []
    client.on("connect_error", reasons.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(
            url, auth={"token": someone.token}, transports=["websocket"], wait_timeout=5, **options
        )
    assert reasons
    return dict(reasons[0]["data"])


async def post_through_gateway(stack: Stack, someone: Someone, channel_id: str) -> int:
    url = f"{stack.urls['gateway']}/v1/channels/{channel_id}/messages"
    headers = {"Authorization": f"Bearer {someone.token}"}
    async with stack.http.post(url, json={"content": "over REST"}, headers=headers) as response:
        return response.status


async def test_emits_and_rest_posts_through_the_gateway_share_one_budget(
    tmp_path: Path, meshkit_redis_url: str, meshkit_redis: Any
) -> None:
    async with messaging_stack(
        tmp_path,
        meshkit_redis_url,
        services=("auth", "messaging", "gateway"),
        MESHKIT_GATEWAY_RATE_LIMITS="default=6/60s",
        MESHKIT_GATEWAY_HEALTH_INTERVAL="0.2",
    ) as stack:
        ada, bob = await stack.person("ada"), await stack.person("bob")
        channel = await ada.call("POST", "/v1/channels", json={"name": "general"})
        await bob.call("PUT", f"/v1/channels/{channel['id']}/members/me")
        assert await post_through_gateway(stack, ada, channel["id"]) == 201
        assert await post_through_gateway(stack, ada, channel["id"]) == 201
        client = await ada.socket()
        send = {"channel_id": channel["id"], "content": "over Socket.IO"}
        for _ in range(4):
            ack = await client.call("message.send", send, timeout=5)
            assert ack["ok"] is True, ack
        refused = await client.call("message.send", send, timeout=5)
        assert refused["ok"] is False
        problem = refused["error"]
        assert problem["status"] == 429
        assert problem["type"] == "urn:meshkit:problem:rate-limited"
        assert problem["policy"] == "default"
        assert 1 <= problem["retry_after"] <= 10  # one unit every 10 s
        typing = await client.call("typing", {"channel_id": channel["id"]}, timeout=5)
        assert typing["error"]["status"] == 429
        assert await post_through_gateway(stack, ada, channel["id"]) == 429
        history = await ada.call("GET", f"/v1/channels/{channel['id']}/messages")
        assert len(history) == 6, "the refused emit stored nothing"
        # another user's budget is their own
        other = await bob.socket()
        assert (await other.call("message.send", send, timeout=5))["ok"] is True


async def test_connections_are_capped_per_user_across_instances(
    tmp_path: Path, meshkit_redis_url: str, meshkit_redis: Any
) -> None:
    async with messaging_stack(
        tmp_path,
        meshkit_redis_url,
        second_messaging=True,
        MESHKIT_MESSAGING_MAX_CONNECTIONS_PER_USER="3",
    ) as stack:
        ada, bob = await stack.person("ada"), await stack.person("bob")
        one, two = stack.urls["messaging"], stack.urls["messaging2"]
        first = await ada.socket(one)
        await ada.socket(two)
        await ada.socket(one)
        for url in (one, two):
            problem = await refusal(url, ada)
            assert problem["status"] == 429
            assert problem["type"] == "urn:meshkit:problem:too-many-connections"
            assert problem["scope"] == "user"
            assert problem["limit"] == 3
        await bob.socket(two)  # others are not affected
        await first.disconnect()
        await ada.socket(two)  # a place came free
        assert (await refusal(one, ada))["status"] == 429


async def test_connections_are_capped_per_address_and_forwarding_needs_the_gateways_key(
    tmp_path: Path, meshkit_redis_url: str, meshkit_redis: Any
) -> None:
    async with messaging_stack(
        tmp_path, meshkit_redis_url, MESHKIT_MESSAGING_MAX_CONNECTIONS_PER_IP="2"
    ) as stack:
        ada, bob, cyd = [await stack.person(name) for name in ("ada", "bob", "cyd")]
        await ada.socket()
        await bob.socket()
        problem = await refusal(stack.messaging, cyd)
        assert problem["scope"] == "address"
        # a client cannot dodge the cap by naming another address itself
        spoofed = {"X-Forwarded-For": "203.0.113.7"}
        assert (await refusal(stack.messaging, cyd, headers=spoofed))["scope"] == "address"
        # the gateway (holding a service API key) names the client's address
        key = local_service_key(stack.runtime.settings)
        await cyd.socket(headers={**spoofed, API_KEY_HEADER: key})


async def test_connections_of_an_instance_that_stopped_refreshing_stop_counting(
    tmp_path: Path, meshkit_redis_url: str, meshkit_redis: Any
) -> None:
    async with messaging_stack(
        tmp_path, meshkit_redis_url, MESHKIT_MESSAGING_MAX_CONNECTIONS_PER_USER="2"
    ) as stack:
        ada = await stack.person("ada")
        now_ms = int(time.time() * 1000)
        ghosts = {"crashed-instance-sid-1": now_ms - 1, "crashed-instance-sid-2": now_ms - 5000}
        await meshkit_redis.zadd(connections_key("user", ada.user_id), ghosts)
        await ada.socket()  # the ghosts expired: they do not count
        await ada.socket()
        assert (await refusal(stack.messaging, ada))["scope"] == "user"
        members = await meshkit_redis.zrange(connections_key("user", ada.user_id), 0, -1)
        assert len(members) == 2
        assert not {m.decode() for m in members} & set(ghosts)
