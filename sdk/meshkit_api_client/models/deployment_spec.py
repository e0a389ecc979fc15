from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.deployment_spec_pull import DeploymentSpecPull
from ..models.deployment_spec_restart import DeploymentSpecRestart
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.deployment_spec_env import DeploymentSpecEnv
    from ..models.deployment_spec_labels import DeploymentSpecLabels
    from ..models.health_check import HealthCheck
    from ..models.port_spec import PortSpec
    from ..models.resources import Resources
    from ..models.volume_spec import VolumeSpec


T = TypeVar("T", bound="DeploymentSpec")


@_attrs_define
class DeploymentSpec:
    """What runs: one image as ``replicas`` identical containers on one host's engine.

    Secret ``env`` values (named in ``secret_env``, or whose names look secret: `PASSWORD`,
    `TOKEN`, `SECRET`, `API_KEY`...) are stored encrypted and masked in every answer,
    diff, log line and audit entry. A port with a fixed ``host_port`` allows one replica
    at most.

        Attributes:
            host_id (str): A host id (a ULID).
            image (str): An image reference (`repo:tag`, `registry:port/repo:tag`, `repo@sha256:…`): lowercase repository
                path components, a registry only when it has a dot or a port (or is `localhost`).
            name (str): Lowercase letters, digits and `-`; unique on its host. Containers are named
                `<name>-v<version>-<replica>`.
            command (list[str] | None | Unset): Overrides the image's `CMD` (exec form).
            env (DeploymentSpecEnv | Unset): Environment variables. A secret's value is answered as `********`; sending
                `********` back for a secret keeps its stored value.
            health (HealthCheck | None | Unset): Unset: a new container is ready once it has run a moment
                (`MESHKIT_SERVERS_DEPLOY_READY_SECONDS`) without exiting.
            labels (DeploymentSpecLabels | Unset): Extra container labels; keys starting with `meshkit.` are reserved.
            ports (list[PortSpec] | Unset):
            pull (DeploymentSpecPull | Unset): When to pull the image: when the host lacks it (default), every deploy, or
                never (images built or loaded on the host). A failed pull is 502 `image-unavailable`. Default:
                DeploymentSpecPull.MISSING.
            replicas (int | Unset): Containers to run; at most 1 when a port has a fixed `host_port`. Default: 1.
            resources (Resources | Unset): Limits applied to each replica (unset: none).
            restart (DeploymentSpecRestart | Unset): Docker's restart policy for each replica. Default:
                DeploymentSpecRestart.UNLESS_STOPPED.
            secret_env (list[str] | Unset): Names of `env` entries that hold secrets (besides those whose names look
                secret): stored encrypted, masked in answers, diffs, logs and the audit log.
            volumes (list[VolumeSpec] | Unset):
    """

    host_id: str
    image: str
    name: str
    command: list[str] | None | Unset = UNSET
    env: DeploymentSpecEnv | Unset = UNSET
    health: HealthCheck | None | Unset = UNSET
    labels: DeploymentSpecLabels | Unset = UNSET
    ports: list[PortSpec] | Unset = UNSET
    pull: DeploymentSpecPull | Unset = DeploymentSpecPull.MISSING
    replicas: int | Unset = 1
    resources: Resources | Unset = UNSET
    restart: DeploymentSpecRestart | Unset = DeploymentSpecRestart.UNLESS_STOPPED
    secret_env: list[str] | Unset = UNSET
    volumes: list[VolumeSpec] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.health_check import HealthCheck

        host_id = self.host_id

        image = self.image

        name = self.name

        command: list[str] | None | Unset
        if isinstance(self.command, Unset):
            command = UNSET
        elif isinstance(self.command, list):
            command = self.command

        else:
            command = self.command

        env: dict[str, Any] | Unset = UNSET
        if not isinstance(self.env, Unset):
            env = self.env.to_dict()

        health: dict[str, Any] | None | Unset
        if isinstance(self.health, Unset):
            health = UNSET
        elif isinstance(self.health, HealthCheck):
            health = self.health.to_dict()
        else:
            health = self.health

        labels: dict[str, Any] | Unset = UNSET
        if not isinstance(self.labels, Unset):
            labels = self.labels.to_dict()

        ports: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.ports, Unset):
            ports = []
            for ports_item_data in self.ports:
                ports_item = ports_item_data.to_dict()
                ports.append(ports_item)

        pull: str | Unset = UNSET
        if not isinstance(self.pull, Unset):
            pull = self.pull.value

        replicas = self.replicas

        resources: dict[str, Any] | Unset = UNSET
        if not isinstance(self.resources, Unset):
            resources = self.resources.to_dict()

        restart: str | Unset = UNSET
        if not isinstance(self.restart, Unset):
            restart = self.restart.value

        secret_env: list[str] | Unset = UNSET
        if not isinstance(self.secret_env, Unset):
            secret_env = self.secret_env

        volumes: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.volumes, Unset):
            volumes = []
            for volumes_item_data in self.volumes:
                volumes_item = volumes_item_data.to_dict()
                volumes.append(volumes_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "host_id": host_id,
                "image": image,
                "name": name,
            }
        )
        if command is not UNSET:
            field_dict["command"] = command
        if env is not UNSET:
            field_dict["env"] = env
        if health is not UNSET:
            field_dict["health"] = health
        if labels is not UNSET:
            field_dict["labels"] = labels
        if ports is not UNSET:
            field_dict["ports"] = ports
        if pull is not UNSET:
            field_dict["pull"] = pull
        if replicas is not UNSET:
            field_dict["replicas"] = replicas
        if resources is not UNSET:
            field_dict["resources"] = resources
        if restart is not UNSET:
            field_dict["restart"] = restart
        if secret_env is not UNSET:
            field_dict["secret_env"] = secret_env
        if volumes is not UNSET:
            field_dict["volumes"] = volumes

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.deployment_spec_env import DeploymentSpecEnv
        from ..models.deployment_spec_labels import DeploymentSpecLabels
        from ..models.health_check import HealthCheck
        from ..models.port_spec import PortSpec
        from ..models.resources import Resources
        from ..models.volume_spec import VolumeSpec

        d = dict(src_dict)
        host_id = d.pop("host_id")

        image = d.pop("image")

        name = d.pop("name")

        def _parse_command(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                command_type_0 = cast(list[str], data)

                return command_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        command = _parse_command(d.pop("command", UNSET))

        _env = d.pop("env", UNSET)
        env: DeploymentSpecEnv | Unset
        if isinstance(_env, Unset):
            env = UNSET
        else:
            env = DeploymentSpecEnv.from_dict(_env)

        def _parse_health(data: object) -> HealthCheck | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                health_type_0 = HealthCheck.from_dict(data)

                return health_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(HealthCheck | None | Unset, data)

        health = _parse_health(d.pop("health", UNSET))

        _labels = d.pop("labels", UNSET)
        labels: DeploymentSpecLabels | Unset
        if isinstance(_labels, Unset):
            labels = UNSET
        else:
            labels = DeploymentSpecLabels.from_dict(_labels)

        _ports = d.pop("ports", UNSET)
        ports: list[PortSpec] | Unset = UNSET
        if _ports is not UNSET:
            ports = []
            for ports_item_data in _ports:
                ports_item = PortSpec.from_dict(ports_item_data)

                ports.append(ports_item)

        _pull = d.pop("pull", UNSET)
        pull: DeploymentSpecPull | Unset
        if isinstance(_pull, Unset):
            pull = UNSET
        else:
            pull = DeploymentSpecPull(_pull)

        replicas = d.pop("replicas", UNSET)

        _resources = d.pop("resources", UNSET)
        resources: Resources | Unset
        if isinstance(_resources, Unset):
            resources = UNSET
        else:
            resources = Resources.from_dict(_resources)

        _restart = d.pop("restart", UNSET)
        restart: DeploymentSpecRestart | Unset
        if isinstance(_restart, Unset):
            restart = UNSET
        else:
            restart = DeploymentSpecRestart(_restart)

        secret_env = cast(list[str], d.pop("secret_env", UNSET))

        _volumes = d.pop("volumes", UNSET)
        volumes: list[VolumeSpec] | Unset = UNSET
        if _volumes is not UNSET:
            volumes = []
            for volumes_item_data in _volumes:
                volumes_item = VolumeSpec.from_dict(volumes_item_data)

                volumes.append(volumes_item)

        deployment_spec = cls(
            host_id=host_id,
            image=image,
            name=name,
            command=command,
            env=env,
            health=health,
            labels=labels,
            ports=ports,
            pull=pull,
            replicas=replicas,
            resources=resources,
            restart=restart,
            secret_env=secret_env,
            volumes=volumes,
        )

        return deployment_spec
