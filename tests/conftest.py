"""Shared fixtures; the generic ones come from meshkit's own pytest plugin (meshkit.testing)."""

import sys
from pathlib import Path

import pytest

from meshkit.services.auth import AuthService
from meshkit.testing import make_settings
from tests.sample import GreeterPlugin, NotesService

ADMIN_PASSWORD = "trusty operator passphrase 42"

# The SDK (sdk/meshkit_api_client, generated, and sdk/meshkit_sdk) is its own
# distribution; the tests use it from the source tree.
SDK = str(Path(__file__).parent.parent / "sdk")
if SDK not in sys.path:
    sys.path.insert(0, SDK)


@pytest.fixture
async def notes(service_client):
    """The sample notes service with the greeter plugin, served in-process."""
    GreeterPlugin.events.clear()
    return await service_client(NotesService, plugins=[("greeter", GreeterPlugin())])


@pytest.fixture
def auth_settings(tmp_path, meshkit_redis_url):
    """Settings for an auth service under test: cheap bcrypt, a bootstrap admin."""

    def make(**env):
        values = {
            "MESHKIT_REDIS_URL": meshkit_redis_url,
            "MESHKIT_AUTH_BCRYPT_COST": "4",
            "MESHKIT_AUTH_BOOTSTRAP_ADMIN_EMAIL": "root@example.test",
            "MESHKIT_AUTH_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
            **env,
        }
        return make_settings(tmp_path, **values)

    return make


@pytest.fixture
async def auth(service_client, auth_settings, meshkit_redis):
    """The auth service, served in-process on a flushed Redis."""
    return await service_client(AuthService, settings=auth_settings())
