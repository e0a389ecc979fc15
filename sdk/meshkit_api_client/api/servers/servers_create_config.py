from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.config_out import ConfigOut
from ...models.env_config_in import EnvConfigIn
from ...models.file_config_in import FileConfigIn
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    *,
    body: EnvConfigIn | FileConfigIn,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/servers/configs",
    }

    if isinstance(body, FileConfigIn):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ConfigOut | Problem:
    if response.status_code == 201:
        response_201 = ConfigOut.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

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
) -> Response[ConfigOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: EnvConfigIn | FileConfigIn,
) -> Response[ConfigOut | Problem]:
    """Create a configuration (version 1): a `file` for a group of hosts, or the `env`

     of a deployment. Nothing is pushed. 409 `config-name-taken`; 422
    `config-invalid` for a `{{ secret:NAME }}` without its secret.

    Needs the permission `servers:configs.manage` (403 without it, checked first).

    Args:
        body (EnvConfigIn | FileConfigIn): A new configuration document (its version 1), by
            ``kind``.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConfigOut | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: EnvConfigIn | FileConfigIn,
) -> ConfigOut | Problem | None:
    """Create a configuration (version 1): a `file` for a group of hosts, or the `env`

     of a deployment. Nothing is pushed. 409 `config-name-taken`; 422
    `config-invalid` for a `{{ secret:NAME }}` without its secret.

    Needs the permission `servers:configs.manage` (403 without it, checked first).

    Args:
        body (EnvConfigIn | FileConfigIn): A new configuration document (its version 1), by
            ``kind``.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConfigOut | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: EnvConfigIn | FileConfigIn,
) -> Response[ConfigOut | Problem]:
    """Create a configuration (version 1): a `file` for a group of hosts, or the `env`

     of a deployment. Nothing is pushed. 409 `config-name-taken`; 422
    `config-invalid` for a `{{ secret:NAME }}` without its secret.

    Needs the permission `servers:configs.manage` (403 without it, checked first).

    Args:
        body (EnvConfigIn | FileConfigIn): A new configuration document (its version 1), by
            ``kind``.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConfigOut | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: EnvConfigIn | FileConfigIn,
) -> ConfigOut | Problem | None:
    """Create a configuration (version 1): a `file` for a group of hosts, or the `env`

     of a deployment. Nothing is pushed. 409 `config-name-taken`; 422
    `config-invalid` for a `{{ secret:NAME }}` without its secret.

    Needs the permission `servers:configs.manage` (403 without it, checked first).

    Args:
        body (EnvConfigIn | FileConfigIn): A new configuration document (its version 1), by
            ``kind``.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConfigOut | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
