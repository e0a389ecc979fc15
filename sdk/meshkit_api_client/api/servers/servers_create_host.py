from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.host_in import HostIn
from ...models.host_out import HostOut
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    *,
    body: HostIn,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/servers/hosts",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> HostOut | Problem:
    if response.status_code == 201:
        response_201 = HostOut.from_dict(response.json())

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

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[HostOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: HostIn,
) -> Response[HostOut | Problem]:
    """Register a host to manage over SSH with its private key (stored encrypted,

     never returned). 422 when the key does not parse or has a passphrase; 409
    ``duplicate-key`` when the name is taken. Nothing is sent to the host: test it
    with ``POST …/test``, which also pins its host key if none was given.

    Needs the permission `servers:hosts.manage` (403 without it, checked first).

    Args:
        body (HostIn): A host to manage over SSH.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HostOut | Problem]
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
    body: HostIn,
) -> HostOut | Problem | None:
    """Register a host to manage over SSH with its private key (stored encrypted,

     never returned). 422 when the key does not parse or has a passphrase; 409
    ``duplicate-key`` when the name is taken. Nothing is sent to the host: test it
    with ``POST …/test``, which also pins its host key if none was given.

    Needs the permission `servers:hosts.manage` (403 without it, checked first).

    Args:
        body (HostIn): A host to manage over SSH.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HostOut | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: HostIn,
) -> Response[HostOut | Problem]:
    """Register a host to manage over SSH with its private key (stored encrypted,

     never returned). 422 when the key does not parse or has a passphrase; 409
    ``duplicate-key`` when the name is taken. Nothing is sent to the host: test it
    with ``POST …/test``, which also pins its host key if none was given.

    Needs the permission `servers:hosts.manage` (403 without it, checked first).

    Args:
        body (HostIn): A host to manage over SSH.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HostOut | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: HostIn,
) -> HostOut | Problem | None:
    """Register a host to manage over SSH with its private key (stored encrypted,

     never returned). 422 when the key does not parse or has a passphrase; 409
    ``duplicate-key`` when the name is taken. Nothing is sent to the host: test it
    with ``POST …/test``, which also pins its host key if none was given.

    Needs the permission `servers:hosts.manage` (403 without it, checked first).

    Args:
        body (HostIn): A host to manage over SSH.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HostOut | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
