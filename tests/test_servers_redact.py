"""The one masking rule of the servers service: which names hold secrets, and scrubbing
known secret values out of free text."""

from __future__ import annotations

import pytest

from meshkit.services.servers.redact import MASK, is_secret_name, mask_mapping, scrub

SECRET = [
    "STRIPE_KEY",
    "ENCRYPTION_KEY",
    "SIGNING_KEY",
    "SSH_KEY",
    "AWS_SECRET_ACCESS_KEY",
    "DB_PASSWORD",
    "dbPassword",
    "apiKey",
    "X_API_KEY",
    "private_key",
    "privateKey",
    "GITHUB_TOKEN",
    "auth_token",
    "AUTH_HEADER",
    "client_secret",
    "passwd",
    "credentials",
    "PIN",
    "AUTHORIZATION",
    "authorization",
    "ID_TOKEN",
    "OIDC_ID_TOKEN",
    "FILE_ENCRYPTION_KEY",
    "ROTATED_API_KEY",
    "DB_PASSWORD_ROTATED",
]
NOT_SECRET = [
    "author",
    "AUTHOR_NAME",
    "KEYBOARD_LAYOUT",
    "monkey",
    "AWS_ACCESS_KEY_ID",
    "key_fingerprint",
    "host_key_fingerprint",
    "host_key",
    "public_key",
    "key_id",
    "TOKEN_PATH",
    "SECRET_NAME",
    "MESSAGE",
    "DATABASE_URL",
]


@pytest.mark.parametrize("name", SECRET)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", NOT_SECRET)
def test_names_that_are_not_secret(name: str) -> None:
    assert not is_secret_name(name)


def test_mask_mapping_masks_by_name_and_by_list_nested_too() -> None:
    values = {
        "STRIPE_KEY": "sk_live_1",
        "DATABASE_URL": "postgres://u:p@db/x",
        "PORT": "8080",
        "nested": {"password": "hunter22", "user": "app"},
        "steps": [{"token": "abcd1234", "cmd": "true"}],
        "empty_password": "",
    }
    masked = mask_mapping(values, secret_names={"DATABASE_URL"})
    assert masked == {
        "STRIPE_KEY": MASK,
        "DATABASE_URL": MASK,
        "PORT": "8080",
        "nested": {"password": MASK, "user": "app"},
        "steps": [{"token": MASK, "cmd": "true"}],
        "empty_password": "",
    }


def test_scrub_masks_every_occurrence_longest_first_and_ignores_short_values() -> None:
    text = "login hunter2 then hunter22; pin 123"
    assert scrub(text, ["hunter2", "hunter22", "123"]) == f"login {MASK} then {MASK}; pin 123"
