from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ResetConfirmIn")


@_attrs_define
class ResetConfirmIn:
    """Set a new password with a reset token.

    Attributes:
        new_password (str): 8-256 characters (a deployment may ask for more with MESHKIT_AUTH_PASSWORD_MIN_LENGTH or
            fewer with MESHKIT_AUTH_PASSWORD_MAX_LENGTH). Checked further by the password policy, which cannot be put in a
            schema: no common password, none built from the email or username, no control characters, no long runs or
            sequences; a refusal is a 422 `weak-password` problem listing each rule broken.
        token (str): The token from the reset message: 'mkp_' and 32-128 characters.
    """

    new_password: str
    token: str

    def to_dict(self) -> dict[str, Any]:
        new_password = self.new_password

        token = self.token

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "new_password": new_password,
                "token": token,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        new_password = d.pop("new_password")

        token = d.pop("token")

        reset_confirm_in = cls(
            new_password=new_password,
            token=token,
        )

        return reset_confirm_in
