from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.transition import Transition
from ...types import UNSET, Response, Unset


def _get_kwargs(
    check_id: str,
    *,
    limit: int | Unset = 100,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/servers/checks/{check_id}/history".format(
            check_id=quote(str(check_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | list[Transition]:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = Transition.from_dict(response_200_item_data)

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
) -> Response[Problem | list[Transition]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    check_id: str,
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 100,
) -> Response[Problem | list[Transition]]:
    """A health check's state changes, newest first (the newest

     ``MESHKIT_SERVERS_HEALTH_HISTORY_SIZE`` are kept).

    Needs the permission `servers:checks.read` (403 without it, checked first).

    Args:
        check_id (str): An id (a ULID).
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[Transition]]
    """

    kwargs = _get_kwargs(
        check_id=check_id,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    check_id: str,
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 100,
) -> Problem | list[Transition] | None:
    """A health check's state changes, newest first (the newest

     ``MESHKIT_SERVERS_HEALTH_HISTORY_SIZE`` are kept).

    Needs the permission `servers:checks.read` (403 without it, checked first).

    Args:
        check_id (str): An id (a ULID).
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[Transition]
    """

    return sync_detailed(
        check_id=check_id,
        client=client,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    check_id: str,
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 100,
) -> Response[Problem | list[Transition]]:
    """A health check's state changes, newest first (the newest

     ``MESHKIT_SERVERS_HEALTH_HISTORY_SIZE`` are kept).

    Needs the permission `servers:checks.read` (403 without it, checked first).

    Args:
        check_id (str): An id (a ULID).
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[Transition]]
    """

    kwargs = _get_kwargs(
        check_id=check_id,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    check_id: str,
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 100,
) -> Problem | list[Transition] | None:
    """A health check's state changes, newest first (the newest

     ``MESHKIT_SERVERS_HEALTH_HISTORY_SIZE`` are kept).

    Needs the permission `servers:checks.read` (403 without it, checked first).

    Args:
        check_id (str): An id (a ULID).
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[Transition]
    """

    return (
        await asyncio_detailed(
            check_id=check_id,
            client=client,
            limit=limit,
        )
    ).parsed
