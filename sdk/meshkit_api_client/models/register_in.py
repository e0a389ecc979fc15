from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="RegisterIn")


@_attrs_define
class RegisterIn:
    """A new account.

    Attributes:
        email (str):
        password (str): 8-256 characters (a deployment may ask for more with MESHKIT_AUTH_PASSWORD_MIN_LENGTH or fewer
            with MESHKIT_AUTH_PASSWORD_MAX_LENGTH). Checked further by the password policy, which cannot be put in a schema:
            no common password, none built from the email or username, no control characters, no long runs or sequences; a
            refusal is a 422 `weak-password` problem listing each rule broken.
        username (str):
        display_name (None | str | Unset):
    """

    email: str
    password: str
    username: str
    display_name: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        email = self.email

        password = self.password

        username = self.username

        display_name: None | str | Unset
        if isinstance(self.display_name, Unset):
            display_name = UNSET
        else:
            display_name = self.display_name

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "email": email,
                "password": password,
                "username": username,
            }
        )
        if display_name is not UNSET:
            field_dict["display_name"] = display_name

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        email = d.pop("email")

        password = d.pop("password")

        username = d.pop("username")

        def _parse_display_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        display_name = _parse_display_name(d.pop("display_name", UNSET))

        register_in = cls(
            email=email,
            password=password,
            username=username,
            display_name=display_name,
        )

        return register_in
