from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="PasswordChangeIn")


@_attrs_define
class PasswordChangeIn:
    """Change one's password while logged in.

    Attributes:
        current_password (str):
        new_password (str): 8-256 characters (a deployment may ask for more with MESHKIT_AUTH_PASSWORD_MIN_LENGTH or
            fewer with MESHKIT_AUTH_PASSWORD_MAX_LENGTH). Checked further by the password policy, which cannot be put in a
            schema: no common password, none built from the email or username, no control characters, no long runs or
            sequences; a refusal is a 422 `weak-password` problem listing each rule broken.
    """

    current_password: str
    new_password: str

    def to_dict(self) -> dict[str, Any]:
        current_password = self.current_password

        new_password = self.new_password

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "current_password": current_password,
                "new_password": new_password,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        current_password = d.pop("current_password")

        new_password = d.pop("new_password")

        password_change_in = cls(
            current_password=current_password,
            new_password=new_password,
        )

        return password_change_in
