from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.config_rollback_in import ConfigRollbackIn
from ...models.problem import Problem
from ...models.push_out import PushOut
from ...types import Response


def _get_kwargs(
    config_id: str,
    *,
    body: ConfigRollbackIn,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/servers/configs/{config_id}/rollback".format(
            config_id=quote(str(config_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | PushOut:
    if response.status_code == 200:
        response_200 = PushOut.from_dict(response.json())

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

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | PushOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    config_id: str,
    *,
    client: AuthenticatedClient,
    body: ConfigRollbackIn,
) -> Response[Problem | PushOut]:
    """Make a new version with an earlier version's content (history stays linear)

     and push it, as `push` does; 409 `config-busy` (and no new version) while
    another push or rollback of it runs.

    Needs the permission `servers:configs.manage` (403 without it, checked first).

    Args:
        config_id (str): An id (a ULID).
        body (ConfigRollbackIn): Make a new version with the content of ``version`` and push it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | PushOut]
    """

    kwargs = _get_kwargs(
        config_id=config_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    config_id: str,
    *,
    client: AuthenticatedClient,
    body: ConfigRollbackIn,
) -> Problem | PushOut | None:
    """Make a new version with an earlier version's content (history stays linear)

     and push it, as `push` does; 409 `config-busy` (and no new version) while
    another push or rollback of it runs.

    Needs the permission `servers:configs.manage` (403 without it, checked first).

    Args:
        config_id (str): An id (a ULID).
        body (ConfigRollbackIn): Make a new version with the content of ``version`` and push it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | PushOut
    """

    return sync_detailed(
        config_id=config_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    config_id: str,
    *,
    client: AuthenticatedClient,
    body: ConfigRollbackIn,
) -> Response[Problem | PushOut]:
    """Make a new version with an earlier version's content (history stays linear)

     and push it, as `push` does; 409 `config-busy` (and no new version) while
    another push or rollback of it runs.

    Needs the permission `servers:configs.manage` (403 without it, checked first).

    Args:
        config_id (str): An id (a ULID).
        body (ConfigRollbackIn): Make a new version with the content of ``version`` and push it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | PushOut]
    """

    kwargs = _get_kwargs(
        config_id=config_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    config_id: str,
    *,
    client: AuthenticatedClient,
    body: ConfigRollbackIn,
) -> Problem | PushOut | None:
    """Make a new version with an earlier version's content (history stays linear)

     and push it, as `push` does; 409 `config-busy` (and no new version) while
    another push or rollback of it runs.

    Needs the permission `servers:configs.manage` (403 without it, checked first).

    Args:
        config_id (str): An id (a ULID).
        body (ConfigRollbackIn): Make a new version with the content of ``version`` and push it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | PushOut
    """

    return (
        await asyncio_detailed(
            config_id=config_id,
            client=client,
            body=body,
        )
    ).parsed
