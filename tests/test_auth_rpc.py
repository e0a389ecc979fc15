"""The auth contract over gRPC, served by the real auth service through the runtime."""

import pytest
from grpclib.const import Status
from grpclib.exceptions import GRPCError

import meshkit.services.auth as auth_plugin
from meshkit.plugins import get_plugin_manager
from meshkit.proto.auth.v1 import auth_pb2
from meshkit.proto.auth.v1.auth_grpc import AuthServiceStub
from meshkit.runtime import Runtime
from meshkit.testing import make_settings

PASSWORD = "correct horse battery staple"


@pytest.fixture
async def running(tmp_path, meshkit_redis_url, meshkit_redis):
    settings = make_settings(
        tmp_path,
        MESHKIT_REDIS_URL=meshkit_redis_url,
        MESHKIT_AUTH_BCRYPT_COST="4",
        MESHKIT_AUTH_BOOTSTRAP_ADMIN_EMAIL="root@example.test",
        MESHKIT_AUTH_BOOTSTRAP_ADMIN_PASSWORD="trusty operator passphrase 42",
    )
    pm = get_plugin_manager(settings, plugins=[("auth", auth_plugin)], load_entry_points=False)
    runtime = Runtime(settings, pm, ["auth"], ports={"auth": 0})
    (started,) = await runtime.start()
    yield started
    await runtime.stop()


async def test_the_auth_contract_answers_over_grpc(running):
    import aiohttp

    async with aiohttp.ClientSession() as http:
        await http.post(
            running.url + "/v1/auth/register",
            json={"email": "ada@example.test", "username": "ada", "password": PASSWORD},
        )
        async with http.post(
            running.url + "/v1/auth/login", json={"login": "ada", "password": PASSWORD}
        ) as response:
            tokens = await response.json()
    stub = running.service.rpc.stub(AuthServiceStub, "auth")

    valid = await stub.ValidateToken(auth_pb2.ValidateTokenRequest(token=tokens["access_token"]))
    assert valid.valid
    assert list(valid.roles) == ["user"]
    invalid = await stub.ValidateToken(auth_pb2.ValidateTokenRequest(token="garbage"))
    assert not invalid.valid
    assert invalid.reason

    user = await stub.GetUser(auth_pb2.GetUserRequest(user_id=valid.user_id))
    assert user.username == "ada"
    assert list(user.roles) == ["user"]
    with pytest.raises(GRPCError) as missing:
        await stub.GetUser(auth_pb2.GetUserRequest(user_id="nobody"))
    assert missing.value.status is Status.NOT_FOUND

    batch = await stub.BatchGetUsers(
        auth_pb2.BatchGetUsersRequest(user_ids=["nobody", valid.user_id])
    )
    assert [u.id for u in batch.users] == [valid.user_id]
    assert list(batch.missing_ids) == ["nobody"]
    with pytest.raises(GRPCError) as too_many:
        await stub.BatchGetUsers(
            auth_pb2.BatchGetUsersRequest(user_ids=[str(i) for i in range(501)])
        )
    assert too_many.value.status is Status.INVALID_ARGUMENT

    allowed = await stub.CheckPermission(
        auth_pb2.CheckPermissionRequest(user_id=valid.user_id, permission="voice:room.join")
    )
    assert allowed.allowed
    denied = await stub.CheckPermission(
        auth_pb2.CheckPermissionRequest(user_id=valid.user_id, permission="servers:deploy")
    )
    assert not denied.allowed
    assert "servers:deploy" in denied.reason
