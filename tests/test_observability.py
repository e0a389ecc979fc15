"""JSON log lines carry the request id and service, and never sensitive extras."""

import io
import json
import logging

import pytest

from meshkit.observability import configure_logging, request_id_var, service_var


@pytest.fixture
def stream():
    buffer = io.StringIO()
    configure_logging("INFO", "json", buffer)
    root = logging.getLogger()
    level = root.level
    yield buffer
    for handler in [h for h in root.handlers if getattr(h, "_meshkit", False)]:
        root.removeHandler(handler)
    root.setLevel(level)


def test_json_lines_carry_context(stream):
    token = request_id_var.set("rid-1")
    svc = service_var.set("auth")
    try:
        logging.getLogger("meshkit.test").info("hello %s", "world", extra={"password": "pw"})
    finally:
        request_id_var.reset(token)
        service_var.reset(svc)
    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["message"] == "hello world"
    assert record["level"] == "INFO"
    assert record["logger"] == "meshkit.test"
    assert record["request_id"] == "rid-1"
    assert record["service"] == "auth"
    assert record["password"] == "[redacted]"
    assert "time" in record


def test_level_filters(stream):
    logging.getLogger("meshkit.test").debug("quiet")
    assert stream.getvalue() == ""


def test_reconfiguring_replaces_the_handler(stream):
    configure_logging("INFO", "json", stream)
    logging.getLogger("meshkit.test").info("once")
    assert len(stream.getvalue().splitlines()) == 1
