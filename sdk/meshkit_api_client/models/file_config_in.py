from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.file_config_in_secrets import FileConfigInSecrets


T = TypeVar("T", bound="FileConfigIn")


@_attrs_define
class FileConfigIn:
    """A new file configuration: one file written to every host of a group.

    Attributes:
        content (str): The file's text (UTF-8). `{{ secret:NAME }}` is replaced by the secret `NAME` when the file is
            written to a host, and only then.
        hosts (Any): Which hosts: those in ``ids`` (every host when not given) that carry all of
            ``labels``. At least one of the two, neither empty (nothing selects every host by
            accident); an id that names no host is a 404.
        kind (Literal['file']):
        name (str): Unique name (letters, digits, `_`, `.`, `-`).
        path (str): Absolute path of the file on each host (no `.` or `..` segment). Its directory must exist; the
            previous file is kept as `<path>.meshkit-prev`.
        group (None | str | Unset): Unset: the SSH user's group.
        message (str | Unset): Why this version was made. Default: 'created'.
        mode (str | Unset): Permission bits in octal, as `chmod` takes them. Default: '0644'.
        owner (None | str | Unset): Unset: the SSH user.
        secrets (FileConfigInSecrets | Unset): Values for the content's `{{ secret:NAME }}`.
    """

    content: str
    hosts: Any
    kind: Literal["file"]
    name: str
    path: str
    group: None | str | Unset = UNSET
    message: str | Unset = "created"
    mode: str | Unset = "0644"
    owner: None | str | Unset = UNSET
    secrets: FileConfigInSecrets | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        content = self.content

        hosts: Any
        hosts = self.hosts

        kind = self.kind

        name = self.name

        path = self.path

        group: None | str | Unset
        if isinstance(self.group, Unset):
            group = UNSET
        else:
            group = self.group

        message = self.message

        mode = self.mode

        owner: None | str | Unset
        if isinstance(self.owner, Unset):
            owner = UNSET
        else:
            owner = self.owner

        secrets: dict[str, Any] | Unset = UNSET
        if not isinstance(self.secrets, Unset):
            secrets = self.secrets.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "content": content,
                "hosts": hosts,
                "kind": kind,
                "name": name,
                "path": path,
            }
        )
        if group is not UNSET:
            field_dict["group"] = group
        if message is not UNSET:
            field_dict["message"] = message
        if mode is not UNSET:
            field_dict["mode"] = mode
        if owner is not UNSET:
            field_dict["owner"] = owner
        if secrets is not UNSET:
            field_dict["secrets"] = secrets

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.file_config_in_secrets import FileConfigInSecrets

        d = dict(src_dict)
        content = d.pop("content")

        def _parse_hosts(data: object) -> Any:
            return cast(Any, data)

        hosts = _parse_hosts(d.pop("hosts"))

        kind = cast(Literal["file"], d.pop("kind"))
        if kind != "file":
            raise ValueError(f"kind must match const 'file', got '{kind}'")

        name = d.pop("name")

        path = d.pop("path")

        def _parse_group(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        group = _parse_group(d.pop("group", UNSET))

        message = d.pop("message", UNSET)

        mode = d.pop("mode", UNSET)

        def _parse_owner(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        owner = _parse_owner(d.pop("owner", UNSET))

        _secrets = d.pop("secrets", UNSET)
        secrets: FileConfigInSecrets | Unset
        if isinstance(_secrets, Unset):
            secrets = UNSET
        else:
            secrets = FileConfigInSecrets.from_dict(_secrets)

        file_config_in = cls(
            content=content,
            hosts=hosts,
            kind=kind,
            name=name,
            path=path,
            group=group,
            message=message,
            mode=mode,
            owner=owner,
            secrets=secrets,
        )

        return file_config_in
