from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.connection_test import ConnectionTest
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    host_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/servers/hosts/{host_id}/test".format(
            host_id=quote(str(host_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ConnectionTest | Problem:
    if response.status_code == 200:
        response_200 = ConnectionTest.from_dict(response.json())

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
) -> Response[ConnectionTest | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    host_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[ConnectionTest | Problem]:
    """Log in and run ``uname``: ``ok``, the latency and the pinned host key's

     fingerprint (pinned now on first contact), or ``error``, the problem that stopped
    it (``host-unreachable``, ``host-auth-failed``, ``host-key-mismatch``...).

    Needs the permission `servers:hosts.manage` (403 without it, checked first).

    Args:
        host_id (str): A host id (a ULID).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConnectionTest | Problem]
    """

    kwargs = _get_kwargs(
        host_id=host_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    host_id: str,
    *,
    client: AuthenticatedClient,
) -> ConnectionTest | Problem | None:
    """Log in and run ``uname``: ``ok``, the latency and the pinned host key's

     fingerprint (pinned now on first contact), or ``error``, the problem that stopped
    it (``host-unreachable``, ``host-auth-failed``, ``host-key-mismatch``...).

    Needs the permission `servers:hosts.manage` (403 without it, checked first).

    Args:
        host_id (str): A host id (a ULID).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConnectionTest | Problem
    """

    return sync_detailed(
        host_id=host_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    host_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[ConnectionTest | Problem]:
    """Log in and run ``uname``: ``ok``, the latency and the pinned host key's

     fingerprint (pinned now on first contact), or ``error``, the problem that stopped
    it (``host-unreachable``, ``host-auth-failed``, ``host-key-mismatch``...).

    Needs the permission `servers:hosts.manage` (403 without it, checked first).

    Args:
        host_id (str): A host id (a ULID).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConnectionTest | Problem]
    """

    kwargs = _get_kwargs(
        host_id=host_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    host_id: str,
    *,
    client: AuthenticatedClient,
) -> ConnectionTest | Problem | None:
    """Log in and run ``uname``: ``ok``, the latency and the pinned host key's

     fingerprint (pinned now on first contact), or ``error``, the problem that stopped
    it (``host-unreachable``, ``host-auth-failed``, ``host-key-mismatch``...).

    Needs the permission `servers:hosts.manage` (403 without it, checked first).

    Args:
        host_id (str): A host id (a ULID).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConnectionTest | Problem
    """

    return (
        await asyncio_detailed(
            host_id=host_id,
            client=client,
        )
    ).parsed
