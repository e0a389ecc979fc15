from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.role_out import RoleOut
from ...models.role_patch import RolePatch
from ...types import Response


def _get_kwargs(
    name: str,
    *,
    body: RolePatch,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v1/roles/{name}".format(
            name=quote(str(name), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | RoleOut:
    if response.status_code == 200:
        response_200 = RoleOut.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | RoleOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    name: str,
    *,
    client: AuthenticatedClient,
    body: RolePatch,
) -> Response[Problem | RoleOut]:
    """Change a role's description or permissions (needs auth:roles.manage).

     Holders get the new permissions in their next access token. The built-in admin
    role's permissions (``*``) cannot change (409).

    Needs the permission `auth:roles.manage` (403 without it, checked first).

    Args:
        name (str):
        body (RolePatch): Changes to a role.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RoleOut]
    """

    kwargs = _get_kwargs(
        name=name,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    name: str,
    *,
    client: AuthenticatedClient,
    body: RolePatch,
) -> Problem | RoleOut | None:
    """Change a role's description or permissions (needs auth:roles.manage).

     Holders get the new permissions in their next access token. The built-in admin
    role's permissions (``*``) cannot change (409).

    Needs the permission `auth:roles.manage` (403 without it, checked first).

    Args:
        name (str):
        body (RolePatch): Changes to a role.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RoleOut
    """

    return sync_detailed(
        name=name,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    name: str,
    *,
    client: AuthenticatedClient,
    body: RolePatch,
) -> Response[Problem | RoleOut]:
    """Change a role's description or permissions (needs auth:roles.manage).

     Holders get the new permissions in their next access token. The built-in admin
    role's permissions (``*``) cannot change (409).

    Needs the permission `auth:roles.manage` (403 without it, checked first).

    Args:
        name (str):
        body (RolePatch): Changes to a role.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RoleOut]
    """

    kwargs = _get_kwargs(
        name=name,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    name: str,
    *,
    client: AuthenticatedClient,
    body: RolePatch,
) -> Problem | RoleOut | None:
    """Change a role's description or permissions (needs auth:roles.manage).

     Holders get the new permissions in their next access token. The built-in admin
    role's permissions (``*``) cannot change (409).

    Needs the permission `auth:roles.manage` (403 without it, checked first).

    Args:
        name (str):
        body (RolePatch): Changes to a role.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RoleOut
    """

    return (
        await asyncio_detailed(
            name=name,
            client=client,
            body=body,
        )
    ).parsed
