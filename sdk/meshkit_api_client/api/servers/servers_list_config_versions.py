from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.config_version_out import ConfigVersionOut
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    config_id: str,
    *,
    before: int | None | Unset = UNSET,
    limit: int | Unset = 50,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_before: int | None | Unset
    if isinstance(before, Unset):
        json_before = UNSET
    else:
        json_before = before
    params["before"] = json_before

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/servers/configs/{config_id}/versions".format(
            config_id=quote(str(config_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | list[ConfigVersionOut]:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = ConfigVersionOut.from_dict(response_200_item_data)

            response_200.append(response_200_item)

        return response_200

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
) -> Response[Problem | list[ConfigVersionOut]]:
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
    before: int | None | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[Problem | list[ConfigVersionOut]]:
    """Versions, newest first: number, author, time, message, SHA-256, content.

     Needs the permission `servers:configs.read` (403 without it, checked first).

    Args:
        config_id (str): An id (a ULID).
        before (int | None | Unset): Versions older than this.
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[ConfigVersionOut]]
    """

    kwargs = _get_kwargs(
        config_id=config_id,
        before=before,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    config_id: str,
    *,
    client: AuthenticatedClient,
    before: int | None | Unset = UNSET,
    limit: int | Unset = 50,
) -> Problem | list[ConfigVersionOut] | None:
    """Versions, newest first: number, author, time, message, SHA-256, content.

     Needs the permission `servers:configs.read` (403 without it, checked first).

    Args:
        config_id (str): An id (a ULID).
        before (int | None | Unset): Versions older than this.
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[ConfigVersionOut]
    """

    return sync_detailed(
        config_id=config_id,
        client=client,
        before=before,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    config_id: str,
    *,
    client: AuthenticatedClient,
    before: int | None | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[Problem | list[ConfigVersionOut]]:
    """Versions, newest first: number, author, time, message, SHA-256, content.

     Needs the permission `servers:configs.read` (403 without it, checked first).

    Args:
        config_id (str): An id (a ULID).
        before (int | None | Unset): Versions older than this.
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[ConfigVersionOut]]
    """

    kwargs = _get_kwargs(
        config_id=config_id,
        before=before,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    config_id: str,
    *,
    client: AuthenticatedClient,
    before: int | None | Unset = UNSET,
    limit: int | Unset = 50,
) -> Problem | list[ConfigVersionOut] | None:
    """Versions, newest first: number, author, time, message, SHA-256, content.

     Needs the permission `servers:configs.read` (403 without it, checked first).

    Args:
        config_id (str): An id (a ULID).
        before (int | None | Unset): Versions older than this.
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[ConfigVersionOut]
    """

    return (
        await asyncio_detailed(
            config_id=config_id,
            client=client,
            before=before,
            limit=limit,
        )
    ).parsed
