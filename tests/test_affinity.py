"""meshkit.affinity: which requests are about which thing."""

from __future__ import annotations

from meshkit.affinity import Affinity, affinity_key, owner_key

RULES = (
    Affinity("room", "/voice/socket.io/*", "room"),
    Affinity("room", "/v1/voice/rooms/{room_id}/listen", "room_id"),
    Affinity("room", "/v1/voice/rooms/{room_id}/playback*", "room_id"),
)


def test_a_query_parameter_names_the_thing() -> None:
    assert affinity_key(RULES, "/voice/socket.io/", {"room": "r1", "EIO": "4"}) == "room:r1"
    assert affinity_key(RULES, "/voice/socket.io/", {"EIO": "4"}) is None  # no room: no key
    assert affinity_key(RULES, "/voice/socket.io/", {"room": ""}) is None


def test_a_path_parameter_names_the_thing() -> None:
    assert affinity_key(RULES, "/v1/voice/rooms/r2/listen", {}) == "room:r2"
    assert affinity_key(RULES, "/v1/voice/rooms/r2/listen/", {}) == "room:r2"
    assert affinity_key(RULES, "/v1/voice/rooms/r3/playback", {}) == "room:r3"
    assert affinity_key(RULES, "/v1/voice/rooms/r3/playback/p9", {}) == "room:r3"
    assert affinity_key(RULES, "/v1/voice/rooms/r2/listen/more", {}) is None
    assert affinity_key(RULES, "/v1/voice/rooms/r2", {}) is None
    assert affinity_key(RULES, "/v1/voice/rooms/a/b/listen", {}) is None  # one segment only


def test_overlong_values_have_no_affinity_and_keys_are_namespaced() -> None:
    assert affinity_key(RULES, "/voice/socket.io/", {"room": "x" * 201}) is None
    assert owner_key("voice", "room", "r1") == "meshkit:affinity:voice:room:r1"
