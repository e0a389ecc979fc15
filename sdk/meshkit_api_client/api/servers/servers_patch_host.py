from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.host_out import HostOut
from ...models.host_patch import HostPatch
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    host_id: str,
    *,
    body: HostPatch,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v1/servers/hosts/{host_id}".format(
            host_id=quote(str(host_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> HostOut | Problem:
    if response.status_code == 200:
        response_200 = HostOut.from_dict(response.json())

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
) -> Response[HostOut | Problem]:
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
    body: HostPatch,
) -> Response[HostOut | Problem]:
    """Change a host: rename, move, relabel, give it a new private key, or re-pin its

     host key after a reinstall (``host_key``; ``null`` pins the next one seen).

    Needs the permission `servers:hosts.manage` (403 without it, checked first).

    Args:
        host_id (str): A host id (a ULID).
        body (HostPatch): Changes to a host; an absent field is left as it is, and so is ``null``
            for all
            but ``host_key`` and ``engine_socket``.

            ``labels`` replaces all labels. ``private_key`` replaces the login key. ``host_key``
            re-pins the host key (after a reinstall), and ``host_key: null`` unpins it: the next
            key presented is pinned. ``engine_socket: null`` returns to the default. A changed
            address, port, user, key or pin closes the pooled connections to the host.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HostOut | Problem]
    """

    kwargs = _get_kwargs(
        host_id=host_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    host_id: str,
    *,
    client: AuthenticatedClient,
    body: HostPatch,
) -> HostOut | Problem | None:
    """Change a host: rename, move, relabel, give it a new private key, or re-pin its

     host key after a reinstall (``host_key``; ``null`` pins the next one seen).

    Needs the permission `servers:hosts.manage` (403 without it, checked first).

    Args:
        host_id (str): A host id (a ULID).
        body (HostPatch): Changes to a host; an absent field is left as it is, and so is ``null``
            for all
            but ``host_key`` and ``engine_socket``.

            ``labels`` replaces all labels. ``private_key`` replaces the login key. ``host_key``
            re-pins the host key (after a reinstall), and ``host_key: null`` unpins it: the next
            key presented is pinned. ``engine_socket: null`` returns to the default. A changed
            address, port, user, key or pin closes the pooled connections to the host.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HostOut | Problem
    """

    return sync_detailed(
        host_id=host_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    host_id: str,
    *,
    client: AuthenticatedClient,
    body: HostPatch,
) -> Response[HostOut | Problem]:
    """Change a host: rename, move, relabel, give it a new private key, or re-pin its

     host key after a reinstall (``host_key``; ``null`` pins the next one seen).

    Needs the permission `servers:hosts.manage` (403 without it, checked first).

    Args:
        host_id (str): A host id (a ULID).
        body (HostPatch): Changes to a host; an absent field is left as it is, and so is ``null``
            for all
            but ``host_key`` and ``engine_socket``.

            ``labels`` replaces all labels. ``private_key`` replaces the login key. ``host_key``
            re-pins the host key (after a reinstall), and ``host_key: null`` unpins it: the next
            key presented is pinned. ``engine_socket: null`` returns to the default. A changed
            address, port, user, key or pin closes the pooled connections to the host.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HostOut | Problem]
    """

    kwargs = _get_kwargs(
        host_id=host_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    host_id: str,
    *,
    client: AuthenticatedClient,
    body: HostPatch,
) -> HostOut | Problem | None:
    """Change a host: rename, move, relabel, give it a new private key, or re-pin its

     host key after a reinstall (``host_key``; ``null`` pins the next one seen).

    Needs the permission `servers:hosts.manage` (403 without it, checked first).

    Args:
        host_id (str): A host id (a ULID).
        body (HostPatch): Changes to a host; an absent field is left as it is, and so is ``null``
            for all
            but ``host_key`` and ``engine_socket``.

            ``labels`` replaces all labels. ``private_key`` replaces the login key. ``host_key``
            re-pins the host key (after a reinstall), and ``host_key: null`` unpins it: the next
            key presented is pinned. ``engine_socket: null`` returns to the default. A changed
            address, port, user, key or pin closes the pooled connections to the host.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HostOut | Problem
    """

    return (
        await asyncio_detailed(
            host_id=host_id,
            client=client,
            body=body,
        )
    ).parsed
