"""The generated SDK is a golden record of the services: never stale, never hand-edited."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_the_sdk_matches_what_the_services_publish():
    """What `nox -s sdk` would write (document and generated client) is what is committed."""
    result = subprocess.run(
        [sys.executable, "tools/generate_sdk.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_operation_names_read_well():
    """Generated function names come from operation ids: `auth_login`, not `post_v1_…`."""
    document = json.loads((ROOT / "sdk/openapi.json").read_text())
    ids = {
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    assert {"auth.login", "auth.register", "messaging.list_messages"} <= ids
    assert all(i.count(".") == 1 and i.split(".")[1].isidentifier() for i in ids), ids
    generated = ROOT / "sdk/meshkit_api_client/api"
    assert (generated / "auth/auth_login.py").is_file()
    assert (generated / "messaging/messaging_list_messages.py").is_file()


def test_the_generated_client_imports():
    from meshkit_api_client import AuthenticatedClient, Client
    from meshkit_api_client.api.auth import auth_login
    from meshkit_api_client.models import LoginIn

    client = AuthenticatedClient(base_url="http://127.0.0.1:1", token="t")
    assert isinstance(client, AuthenticatedClient)
    assert Client(base_url="http://127.0.0.1:1")
    assert callable(auth_login.asyncio_detailed)
    assert LoginIn(login="ada", password="x").to_dict() == {"login": "ada", "password": "x"}
