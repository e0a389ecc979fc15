from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.host_out import HostOut
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    label: list[str] | Unset = UNSET,
    after: None | str | Unset = UNSET,
    limit: int | Unset = 100,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_label: list[str] | Unset = UNSET
    if not isinstance(label, Unset):
        json_label = label

    params["label"] = json_label

    json_after: None | str | Unset
    if isinstance(after, Unset):
        json_after = UNSET
    else:
        json_after = after
    params["after"] = json_after

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/servers/hosts",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | list[HostOut]:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = HostOut.from_dict(response_200_item_data)

            response_200.append(response_200_item)

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | list[HostOut]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    label: list[str] | Unset = UNSET,
    after: None | str | Unset = UNSET,
    limit: int | Unset = 100,
) -> Response[Problem | list[HostOut]]:
    """A page of hosts in creation order, optionally only those with all the given

     labels (``?label=env:prod&label=role:web``).

    Needs the permission `servers:hosts.read` (403 without it, checked first).

    Args:
        label (list[str] | Unset): `key:value` labels the hosts must all have (repeat for more).
        after (None | str | Unset): Hosts created after this id.
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[HostOut]]
    """

    kwargs = _get_kwargs(
        label=label,
        after=after,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    label: list[str] | Unset = UNSET,
    after: None | str | Unset = UNSET,
    limit: int | Unset = 100,
) -> Problem | list[HostOut] | None:
    """A page of hosts in creation order, optionally only those with all the given

     labels (``?label=env:prod&label=role:web``).

    Needs the permission `servers:hosts.read` (403 without it, checked first).

    Args:
        label (list[str] | Unset): `key:value` labels the hosts must all have (repeat for more).
        after (None | str | Unset): Hosts created after this id.
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[HostOut]
    """

    return sync_detailed(
        client=client,
        label=label,
        after=after,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    label: list[str] | Unset = UNSET,
    after: None | str | Unset = UNSET,
    limit: int | Unset = 100,
) -> Response[Problem | list[HostOut]]:
    """A page of hosts in creation order, optionally only those with all the given

     labels (``?label=env:prod&label=role:web``).

    Needs the permission `servers:hosts.read` (403 without it, checked first).

    Args:
        label (list[str] | Unset): `key:value` labels the hosts must all have (repeat for more).
        after (None | str | Unset): Hosts created after this id.
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[HostOut]]
    """

    kwargs = _get_kwargs(
        label=label,
        after=after,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    label: list[str] | Unset = UNSET,
    after: None | str | Unset = UNSET,
    limit: int | Unset = 100,
) -> Problem | list[HostOut] | None:
    """A page of hosts in creation order, optionally only those with all the given

     labels (``?label=env:prod&label=role:web``).

    Needs the permission `servers:hosts.read` (403 without it, checked first).

    Args:
        label (list[str] | Unset): `key:value` labels the hosts must all have (repeat for more).
        after (None | str | Unset): Hosts created after this id.
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[HostOut]
    """

    return (
        await asyncio_detailed(
            client=client,
            label=label,
            after=after,
            limit=limit,
        )
    ).parsed
