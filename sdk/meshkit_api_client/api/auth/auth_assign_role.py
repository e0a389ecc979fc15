from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.auth_assign_role_response_201 import AuthAssignRoleResponse201
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    name: str,
    user_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/roles/{name}/members/{user_id}".format(
            name=quote(str(name), safe=""),
            user_id=quote(str(user_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AuthAssignRoleResponse201 | Problem:
    if response.status_code == 201:
        response_201 = AuthAssignRoleResponse201.from_dict(response.json())

        return response_201

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[AuthAssignRoleResponse201 | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    name: str,
    user_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[AuthAssignRoleResponse201 | Problem]:
    """Give a user a role (needs auth:roles.manage).

     Needs the permission `auth:roles.manage` (403 without it, checked first).

    Args:
        name (str):
        user_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AuthAssignRoleResponse201 | Problem]
    """

    kwargs = _get_kwargs(
        name=name,
        user_id=user_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    name: str,
    user_id: str,
    *,
    client: AuthenticatedClient,
) -> AuthAssignRoleResponse201 | Problem | None:
    """Give a user a role (needs auth:roles.manage).

     Needs the permission `auth:roles.manage` (403 without it, checked first).

    Args:
        name (str):
        user_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AuthAssignRoleResponse201 | Problem
    """

    return sync_detailed(
        name=name,
        user_id=user_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    name: str,
    user_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[AuthAssignRoleResponse201 | Problem]:
    """Give a user a role (needs auth:roles.manage).

     Needs the permission `auth:roles.manage` (403 without it, checked first).

    Args:
        name (str):
        user_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AuthAssignRoleResponse201 | Problem]
    """

    kwargs = _get_kwargs(
        name=name,
        user_id=user_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    name: str,
    user_id: str,
    *,
    client: AuthenticatedClient,
) -> AuthAssignRoleResponse201 | Problem | None:
    """Give a user a role (needs auth:roles.manage).

     Needs the permission `auth:roles.manage` (403 without it, checked first).

    Args:
        name (str):
        user_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AuthAssignRoleResponse201 | Problem
    """

    return (
        await asyncio_detailed(
            name=name,
            user_id=user_id,
            client=client,
        )
    ).parsed
