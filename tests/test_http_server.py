"""Requests the HTTP parser refuses: a problem document, no echo, no ERROR in the log.

Raw bytes over a real socket on 127.0.0.1 to a service started by the runtime, as any
client on the network could send them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from meshkit.plugins import get_plugin_manager
from meshkit.runtime import Runtime
from meshkit.testing import make_settings
from tests import gateway_upstream

MARKER = b"zq" * 8  # what must never come back
HEAD = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"


@pytest.fixture
async def port(tmp_path: Path) -> AsyncIterator[int]:
    settings = make_settings(tmp_path)
    pm = get_plugin_manager(settings, plugins=[("echo", gateway_upstream)])
    runtime = Runtime(settings, pm, ["echo"], ports={"echo": 0})
    (running,) = await runtime.start()
    try:
        yield running.port
    finally:
        await runtime.stop()


async def exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``raw``, read until the server closes; status, headers, body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"GET /" + MARKER * 6250 + b" HTTP/1.1\r\nHost: x\r\n\r\n", id="100KB-line"),
        pytest.param(
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + MARKER * 6250 + b"\r\n\r\n",
            id="100KB-header",
        ),
        pytest.param(
            HEAD + b"X-Bad: " + MARKER + b"\x00" + MARKER + b"\r\n\r\n",
            id="nul-in-header",
        ),
        pytest.param(
            HEAD + b"X-Bad: " + MARKER + b"\x7f" + MARKER + b"\r\n\r\n",
            id="del-in-header",
        ),
        pytest.param(
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-" + MARKER + b"\x7f: 1\r\n\r\n",
            id="del-in-header-name",
        ),
        pytest.param(b"GET /healthz " + MARKER + b"\r\n\r\n", id="not-http"),
    ],
)
async def test_unparsable_requests_get_a_problem_without_echo_and_no_error_log(
    port: int, raw: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    status, headers, body = await exchange(port, raw)
    assert status == 400
    assert headers["content-type"].startswith("application/problem+json")
    problem = json.loads(body)
    assert problem["type"] == "urn:meshkit:problem:bad-request"
    assert problem["status"] == 400
    assert MARKER not in body
    assert MARKER.decode() not in caplog.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    assert any(r.name == "meshkit.http" and r.levelno == logging.INFO for r in caplog.records)


async def test_the_server_still_serves_good_requests_afterwards(port: int) -> None:
    status, _, body = await exchange(
        port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert status == 200
    assert json.loads(body)["status"] == "ok"
