"""ICE for voice: no server by default, time-limited TURN credentials (coturn's TURN REST
API scheme) checked against an HMAC computed independently, and the settings' rules."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

import pytest

from meshkit.config import ConfigError, load_section
from meshkit.services.voice.ice import ice_grant, listen_addresses, turn_credentials
from meshkit.services.voice.settings import VoiceSettings

USER = "01HZX3Y8ZP7Q4V2N6M5K9J1T0A"
SECRET = "north-wind"
NOW = 1_700_000_000


def rfc2104_hmac_sha1(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA1 written out from RFC 2104 (not the stdlib's hmac module)."""
    block = 64
    if len(key) > block:
        key = hashlib.sha1(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha1(bytes(k ^ 0x36 for k in key) + message).digest()
    return hashlib.sha1(bytes(k ^ 0x5C for k in key) + inner).digest()


def settings(**env: str) -> VoiceSettings:
    return load_section(VoiceSettings, env)


def test_turn_credentials_follow_the_turn_rest_api_scheme():
    creds = turn_credentials(SECRET, USER, ttl=3600, now=NOW)
    assert creds.username == f"1700003600:{USER}"  # expiry, separator, user id
    # `printf '%s' "1700003600:<user>" | openssl dgst -sha1 -hmac north-wind -binary | base64`
    assert creds.credential == "hQmkFJVFiK8xgNlhplsTeeJaKhE="
    expected = rfc2104_hmac_sha1(SECRET.encode(), creds.username.encode())
    assert base64.b64decode(creds.credential) == expected
    assert creds.expires_at == datetime.fromtimestamp(1_700_003_600, UTC)


def test_rfc2202_vector_validates_the_independent_hmac():
    # RFC 2202 test case 2, so the reference implementation above is itself checked.
    digest = rfc2104_hmac_sha1(b"Jefe", b"what do ya want for nothing?")
    assert digest.hex() == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"


def test_a_user_id_with_the_separator_is_refused():
    with pytest.raises(ValueError, match="':'"):
        turn_credentials(SECRET, "a:b", ttl=60)


def test_no_ice_server_by_default():
    grant = ice_grant(settings(), USER)
    assert grant.servers == []
    assert grant.expires_at is None


def test_configured_servers_and_fresh_turn_credentials():
    configured = settings(
        MESHKIT_VOICE_ICE_SERVERS='[{"urls": "stun:stun.example.test:3478"}]',
        MESHKIT_VOICE_TURN_URLS=(
            "turn:turn.example.test:3478?transport=udp, turns:turn.example.test"
        ),
        MESHKIT_VOICE_TURN_SECRET=SECRET,
        MESHKIT_VOICE_TURN_TTL="600",
    )
    grant = ice_grant(configured, USER, now=NOW)
    stun, turn = grant.servers
    assert stun.urls == ["stun:stun.example.test:3478"]
    assert stun.username is None
    assert turn.urls == [
        "turn:turn.example.test:3478?transport=udp",
        "turns:turn.example.test",
    ]
    assert turn.username == f"{NOW + 600}:{USER}"
    expected = rfc2104_hmac_sha1(SECRET.encode(), turn.username.encode())
    assert turn.credential == base64.b64encode(expected).decode()
    assert grant.expires_at == datetime.fromtimestamp(NOW + 600, UTC)
    # the secret itself never leaves
    assert SECRET not in str([s.model_dump() for s in grant.servers])


def test_lists_come_from_the_process_environment_too(monkeypatch):
    monkeypatch.setenv("MESHKIT_VOICE_LISTEN_IPS", "127.0.0.1,::1")
    monkeypatch.setenv("MESHKIT_VOICE_ICE_SERVERS", '[{"urls": ["stun:a.test", "stun:b.test"]}]')
    loaded = load_section(VoiceSettings)
    assert loaded.listen_ips == ["127.0.0.1", "::1"]
    assert loaded.ice_servers[0].urls == ["stun:a.test", "stun:b.test"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MESHKIT_VOICE_TURN_URLS": "turn:t.test"}, "TURN_SECRET"),
        ({"MESHKIT_VOICE_TURN_URLS": "http://t.test", "MESHKIT_VOICE_TURN_SECRET": "s"}, "turn"),
        ({"MESHKIT_VOICE_ICE_SERVERS": '[{"urls": "http://x"}]'}, "ICE_SERVERS"),
        ({"MESHKIT_VOICE_ICE_SERVERS": '[{"url": "stun:x"}]'}, "ICE_SERVERS"),
        ({"MESHKIT_VOICE_LISTEN_IPS": "localhost"}, "LISTEN_IPS"),
        ({"MESHKIT_VOICE_ANNOUNCED_IP": "example.test"}, "ANNOUNCED_IP"),
        ({"MESHKIT_VOICE_RTC_PORT_MIN": "40000"}, "neither"),
        ({"MESHKIT_VOICE_RTC_PORT_MIN": "50000", "MESHKIT_VOICE_RTC_PORT_MAX": "40000"}, "above"),
        ({"MESHKIT_VOICE_RTC_PORT_MIN": "80", "MESHKIT_VOICE_RTC_PORT_MAX": "90"}, "1024"),
        ({"MESHKIT_VOICE_TURN_TTL": "10"}, "TURN_TTL"),
        ({"MESHKIT_VOICE_STATE_TTL": "0"}, "STATE_TTL"),
    ],
)
def test_bad_settings_are_refused_at_start(env, message):
    with pytest.raises(ConfigError, match=message):
        settings(**env)


def test_media_listens_where_configured_and_never_on_loopback_by_default():
    assert listen_addresses(settings(MESHKIT_VOICE_LISTEN_IPS="127.0.0.1")) == ["127.0.0.1"]
    found = listen_addresses(settings())
    assert "127.0.0.1" not in found
    assert "::1" not in found
    assert (
        settings(
            MESHKIT_VOICE_RTC_PORT_MIN="40000", MESHKIT_VOICE_RTC_PORT_MAX="40100"
        ).rtc_port_max
        == 40100
    )
