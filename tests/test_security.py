"""Service API keys: hashed at rest, compared in constant time, shared through the data dir."""

import os
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest

from meshkit.config import ConfigError
from meshkit.security import (
    InvalidApiKey,
    KeyRing,
    digest_of,
    generate_key,
    key_id,
    keyring_for,
    local_service_key,
)
from meshkit.testing import make_settings

MINE = "mk_" + "a1" * 20


def test_generated_keys_are_long_random_and_prefixed():
    keys = {generate_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(k.startswith("mk_") and len(k) >= 40 for k in keys)


def test_keyring_accepts_known_keys_and_revokes():
    key = generate_key()
    ring = KeyRing([digest_of(key)])
    assert ring.verify(key) == key_id(digest_of(key))
    assert ring.verify(key + "x") is None
    assert ring.verify(None) is None
    assert ring.verify("") is None
    ring.revoke(digest_of(key))
    assert ring.verify(key) is None


def test_require_raises_a_401_problem():
    ring = KeyRing([digest_of("mk_a")])
    with pytest.raises(InvalidApiKey) as missing:
        ring.require(None)
    assert missing.value.status == 401
    assert missing.value.type_uri() == "urn:meshkit:problem:invalid-api-key"
    with pytest.raises(InvalidApiKey, match="rejected"):
        ring.require("mk_b")


def test_only_digests_are_accepted_in_configuration(tmp_path):
    with pytest.raises(ValueError, match="64 hexadecimal"):
        KeyRing(["mk_plaintext"])
    settings = make_settings(tmp_path, MESHKIT_SERVICE_API_KEY_HASHES="abc")
    with pytest.raises(ConfigError, match="MESHKIT_SERVICE_API_KEY_HASHES"):
        keyring_for(settings)


def test_configured_key_and_extra_digests(tmp_path):
    other = generate_key()
    settings = make_settings(
        tmp_path,
        MESHKIT_SERVICE_API_KEY=MINE,
        MESHKIT_SERVICE_API_KEY_HASHES=f" {digest_of(other).upper()} ,",
    )
    ring = keyring_for(settings)
    assert len(ring) == 2
    assert ring.verify(MINE)
    assert ring.verify(other)
    assert not (tmp_path / "service-api-key").exists()


def test_without_configuration_a_private_key_file_is_shared(tmp_path):
    settings = make_settings(tmp_path)
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: local_service_key(settings), range(16)))
    assert len(keys) == 1
    path = tmp_path / "service-api-key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_text() == keys.pop()
    assert [p.name for p in tmp_path.iterdir()] == ["service-api-key"]
    assert keyring_for(settings).verify(path.read_text())


@pytest.mark.parametrize("weak", [" ", "mk_mine", "x" * 31])
def test_a_weak_configured_key_is_refused(tmp_path, weak):
    with pytest.raises(ConfigError, match="MESHKIT_SERVICE_API_KEY"):
        local_service_key(make_settings(tmp_path, MESHKIT_SERVICE_API_KEY=weak))


def test_a_key_file_others_could_have_planted_is_refused(tmp_path):
    settings = make_settings(tmp_path)
    key = local_service_key(settings)
    path = tmp_path / "service-api-key"
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="mode 0600"):
        local_service_key(settings)
    path.unlink()
    elsewhere = tmp_path / "planted"
    elsewhere.write_text(key)
    elsewhere.chmod(0o600)
    path.symlink_to(elsewhere)
    with pytest.raises(ConfigError, match="cannot open"):
        local_service_key(settings)
    path.unlink()
    path.write_text("short")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="no valid key"):
        local_service_key(settings)


def test_a_new_data_directory_is_private(tmp_path):
    settings = make_settings(tmp_path / "fresh" / "data")
    local_service_key(settings)
    assert stat.S_IMODE(os.stat(tmp_path / "fresh" / "data").st_mode) == 0o700
