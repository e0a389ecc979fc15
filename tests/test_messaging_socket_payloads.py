"""What Socket.IO clients send that the server cannot read: every emit gets an ack,
bad frames close the connection with a reason, and nothing reaches the log as ERROR.
Real clients over real sockets, plus properties of the payload reader (hypothesis)."""

from __future__ import annotations

import json
import logging
import string
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshkit.sockets.payloads import (
    MAX_DEPTH,
    TOO_BIG_REASON,
    Refusal,
    SafeJson,
    read_packet,
)
from tests.messaging_stack import Stack, messaging_stack

EVENTS = [
    "message.send",
    "typing",
    "read",
    "presence.set",
    "resume",
    "auth",
    "nope",
    "connect",
    "*",
]


@pytest.fixture
async def stack(tmp_path: Path, meshkit_redis_url: str, meshkit_redis: Any) -> AsyncIterator[Stack]:
    async with messaging_stack(tmp_path, meshkit_redis_url) as running:
        yield running


def no_errors(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [f"{r.name}: {r.getMessage()}" for r in errors]


async def test_unreadable_emits_get_error_acks_that_keep_their_ids(stack, caplog):
    caplog.set_level(logging.DEBUG)
    ada = await stack.person("ada")
    channel = await ada.call("POST", "/v1/channels", json={"name": "general"})
    raw = await ada.raw()
    huge = "1" * 5000
    deep = "[" * 3000 + "]" * 3000
    send = '["message.send",{"channel_id":"%s","content":%s}]'
    for body, status, slug in (
        (send % (channel["id"], huge), 400, "malformed-body"),
        (send % (channel["id"], deep), 400, "malformed-body"),
        (send % (channel["id"], "NaN"), 400, "malformed-body"),
        ('["message.send",{"channel_id":', 400, "malformed-body"),
        ('{"event":"message.send"}', 400, "malformed-body"),
        ("[]", 400, "malformed-body"),
        ("[1,2]", 400, "malformed-body"),
        ('["message.send",{},{}]', 400, "malformed-body"),
        ('["no.such.event",{}]', 404, "unknown-event"),
        ('["connect",{}]', 404, "unknown-event"),
        ('["disconnect"]', 404, "unknown-event"),
        ('["*"]', 404, "unknown-event"),
        ('["%s"]' % ("x" * 10_000), 404, "unknown-event"),
    ):
        ack_id = await raw.send(body)
        ack = await raw.ack_of(ack_id)
        assert ack["ok"] is False, body[:80]
        assert ack["error"]["status"] == status, (body[:80], ack)
        assert ack["error"]["type"] == f"urn:meshkit:problem:{slug}", ack
    await raw.ws.send_str("4")  # an empty Socket.IO packet: nothing to answer
    # a binary event (the API is JSON only): refused by its id, its attachment dropped
    await raw.ws.send_str('451-7["message.send",{"_placeholder":true,"num":0}]')
    await raw.ws.send_bytes(b"\x00\x01attachment")
    ack = await raw.ack_of(7)
    assert ack["error"]["type"] == "urn:meshkit:problem:malformed-body"
    # the socket is still up and answers the next emit
    ack_id = await raw.send(send % (channel["id"], '"still here"'))
    ack = await raw.ack_of(ack_id)
    assert ack["ok"] is True, ack
    assert ack["message"]["content"] == "still here"
    no_errors(caplog)


async def test_unknown_events_from_a_python_client_get_an_error_ack(stack):
    ada = await stack.person("ada")
    client = await ada.socket()
    ack = await client.call("message.edit", {"id": "x"}, timeout=5)
    assert ack["ok"] is False
    assert ack["error"]["status"] == 404
    assert "'message.edit'" in ack["error"]["detail"]


async def test_an_unreadable_connect_is_refused_with_a_problem(stack, caplog):
    caplog.set_level(logging.DEBUG)
    url = stack.messaging.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
    async with stack.http.ws_connect(url) as ws:
        assert (await ws.receive_str(timeout=5)).startswith("0")
        await ws.send_str('40{"token":' + "9" * 5000 + "}")
        refused = await ws.receive_str(timeout=5)
        assert refused.startswith("44"), refused
        problem = json.loads(refused[2:])["data"]
        assert problem["status"] == 400
        assert problem["type"] == "urn:meshkit:problem:malformed-body"
    no_errors(caplog)


@pytest.mark.parametrize("frame", ["", "x", "hello", "b@@@", "[1,2]"])
async def test_a_frame_that_is_no_engine_io_packet_closes_the_socket(stack, caplog, frame):
    caplog.set_level(logging.DEBUG)
    ada = await stack.person("ada")
    raw = await ada.raw()
    await raw.ws.send_str(frame)
    message = await raw.ws.receive(timeout=5)
    assert message.type is aiohttp.WSMsgType.CLOSE, message
    assert message.data == aiohttp.WSCloseCode.PROTOCOL_ERROR
    no_errors(caplog)


async def test_a_frame_over_the_size_limit_is_refused_with_1009_and_a_reason(stack, caplog):
    caplog.set_level(logging.DEBUG)
    ada = await stack.person("ada")
    raw = await ada.raw()
    await raw.send('["message.send",{"content":"%s"}]' % ("x" * 70_000))
    message = await raw.ws.receive(timeout=5)
    assert message.type is aiohttp.WSMsgType.CLOSE, message
    assert message.data == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
    assert message.extra == TOO_BIG_REASON
    no_errors(caplog)


# --- the payload reader's properties --------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
garbage = st.text(alphabet=string.printable + "\x00é😀\u2028", max_size=200)
bodies = garbage.filter(lambda text: text[:1] not in "0123456789/")  # no id, no namespace


@given(ack_id=st.integers(min_value=0, max_value=10**12), tail=garbage)
@settings(max_examples=500, deadline=None)
def test_the_reader_turns_any_event_frame_into_an_answerable_event(ack_id, tail):
    packet = read_packet(f"2{ack_id}{tail}")
    assert packet.packet_type == 2
    assert isinstance(packet.data, list)
    assert packet.data
    assert isinstance(packet.data[0], str | Refusal)
    assert packet.attachment_count == 0
    if not tail[:1].isdigit() and not tail.startswith("/"):  # else: more id, a namespace
        assert packet.id == ack_id


@given(frame=st.one_of(garbage, st.binary(max_size=50)))
@settings(max_examples=500, deadline=None)
def test_the_reader_never_raises(frame):
    packet = read_packet(frame)
    assert packet.packet_type in (0, 1, 2, 3)
    if packet.packet_type == 2:
        assert isinstance(packet.data, list)
        assert isinstance(packet.data[0], str | Refusal)


@given(
    ack_id=st.integers(min_value=0, max_value=10**9), event=st.text(min_size=1), value=json_values
)
@settings(max_examples=300, deadline=None)
def test_the_reader_reads_every_json_payload_as_sent(ack_id, event, value):
    packet = read_packet(f"2{ack_id}" + json.dumps([event, value]))
    if event in ("connect", "disconnect", "*"):
        assert isinstance(packet.data[0], Refusal)
        return
    assert packet.id == ack_id
    assert packet.data == [event, value]


def test_safe_json_raises_only_value_error():
    for text in ("1" * 5000, "[" * 3000 + "]" * 3000, "NaN", "-Infinity", "{", ""):
        with pytest.raises(ValueError, match=r"\w"):
            SafeJson.loads(text)
    assert SafeJson.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(ValueError, match="nesting"):
        SafeJson.loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))


@settings(max_examples=3, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    cases=st.lists(
        st.one_of(
            st.tuples(st.sampled_from(EVENTS), json_values).map(lambda c: json.dumps(list(c))),
            bodies,
        ),
        min_size=100,
        max_size=100,
    )
)
def draw_frames(cases: list[str]) -> None:
    """Hypothesis draws the bodies the live test below sends (collected, not run)."""
    DRAWN.append(cases)


DRAWN: list[list[str]] = []


async def test_any_emit_gets_an_ack_that_is_ok_or_a_client_problem(stack, caplog):
    """Bodies drawn by hypothesis (valid JSON for known and unknown events, and
    garbage), sent over one live socket: each gets its ack, never a 5xx, never ERROR."""
    caplog.set_level(logging.DEBUG)
    DRAWN.clear()
    draw_frames()
    bodies = [body for cases in DRAWN for body in cases]
    ada = await stack.person("ada")
    raw = await ada.raw()
    for body in bodies:
        ack_id = await raw.send(body)
        ack = await raw.ack_of(ack_id)
        assert isinstance(ack["ok"], bool), (body, ack)
        if not ack["ok"]:
            assert 400 <= ack["error"]["status"] < 500, (body, ack)
            assert ack["error"]["type"].startswith("urn:meshkit:problem:")
    no_errors(caplog)
