from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.env_config_in_env import EnvConfigInEnv
    from ..models.env_config_in_secrets import EnvConfigInSecrets


T = TypeVar("T", bound="EnvConfigIn")


@_attrs_define
class EnvConfigIn:
    """A new env configuration: environment variables of one deployment.

    Attributes:
        deployment_id (str): An id (a ULID).
        kind (Literal['env']):
        name (str): Unique name (letters, digits, `_`, `.`, `-`).
        env (EnvConfigInEnv | Unset): Plain variables.
        message (str | Unset): Why this version was made. Default: 'created'.
        secrets (EnvConfigInSecrets | Unset): Secret variables (merged into the environment when pushed). A variable of
            `env` whose name looks secret (`password`, `token`, `secret`, `key`...) is kept here too.
    """

    deployment_id: str
    kind: Literal["env"]
    name: str
    env: EnvConfigInEnv | Unset = UNSET
    message: str | Unset = "created"
    secrets: EnvConfigInSecrets | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        deployment_id = self.deployment_id

        kind = self.kind

        name = self.name

        env: dict[str, Any] | Unset = UNSET
        if not isinstance(self.env, Unset):
            env = self.env.to_dict()

        message = self.message

        secrets: dict[str, Any] | Unset = UNSET
        if not isinstance(self.secrets, Unset):
            secrets = self.secrets.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "deployment_id": deployment_id,
                "kind": kind,
                "name": name,
            }
        )
        if env is not UNSET:
            field_dict["env"] = env
        if message is not UNSET:
            field_dict["message"] = message
        if secrets is not UNSET:
            field_dict["secrets"] = secrets

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.env_config_in_env import EnvConfigInEnv
        from ..models.env_config_in_secrets import EnvConfigInSecrets

        d = dict(src_dict)
        deployment_id = d.pop("deployment_id")

        kind = cast(Literal["env"], d.pop("kind"))
        if kind != "env":
            raise ValueError(f"kind must match const 'env', got '{kind}'")

        name = d.pop("name")

        _env = d.pop("env", UNSET)
        env: EnvConfigInEnv | Unset
        if isinstance(_env, Unset):
            env = UNSET
        else:
            env = EnvConfigInEnv.from_dict(_env)

        message = d.pop("message", UNSET)

        _secrets = d.pop("secrets", UNSET)
        secrets: EnvConfigInSecrets | Unset
        if isinstance(_secrets, Unset):
            secrets = UNSET
        else:
            secrets = EnvConfigInSecrets.from_dict(_secrets)

        env_config_in = cls(
            deployment_id=deployment_id,
            kind=kind,
            name=name,
            env=env,
            message=message,
            secrets=secrets,
        )

        return env_config_in
