from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.config_out import ConfigOut
from ...models.problem import Problem
from ...models.servers_list_configs_kind_type_0 import ServersListConfigsKindType0
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    after: None | str | Unset = UNSET,
    kind: None | ServersListConfigsKindType0 | Unset = UNSET,
    limit: int | Unset = 50,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_after: None | str | Unset
    if isinstance(after, Unset):
        json_after = UNSET
    else:
        json_after = after
    params["after"] = json_after

    json_kind: None | str | Unset
    if isinstance(kind, Unset):
        json_kind = UNSET
    elif isinstance(kind, ServersListConfigsKindType0):
        json_kind = kind.value
    else:
        json_kind = kind
    params["kind"] = json_kind

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/servers/configs",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | list[ConfigOut]:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = ConfigOut.from_dict(response_200_item_data)

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
) -> Response[Problem | list[ConfigOut]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    after: None | str | Unset = UNSET,
    kind: None | ServersListConfigsKindType0 | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[Problem | list[ConfigOut]]:
    """A page of configurations, oldest first (secrets masked).

     Needs the permission `servers:configs.read` (403 without it, checked first).

    Args:
        after (None | str | Unset):
        kind (None | ServersListConfigsKindType0 | Unset):
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[ConfigOut]]
    """

    kwargs = _get_kwargs(
        after=after,
        kind=kind,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    after: None | str | Unset = UNSET,
    kind: None | ServersListConfigsKindType0 | Unset = UNSET,
    limit: int | Unset = 50,
) -> Problem | list[ConfigOut] | None:
    """A page of configurations, oldest first (secrets masked).

     Needs the permission `servers:configs.read` (403 without it, checked first).

    Args:
        after (None | str | Unset):
        kind (None | ServersListConfigsKindType0 | Unset):
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[ConfigOut]
    """

    return sync_detailed(
        client=client,
        after=after,
        kind=kind,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    after: None | str | Unset = UNSET,
    kind: None | ServersListConfigsKindType0 | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[Problem | list[ConfigOut]]:
    """A page of configurations, oldest first (secrets masked).

     Needs the permission `servers:configs.read` (403 without it, checked first).

    Args:
        after (None | str | Unset):
        kind (None | ServersListConfigsKindType0 | Unset):
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[ConfigOut]]
    """

    kwargs = _get_kwargs(
        after=after,
        kind=kind,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    after: None | str | Unset = UNSET,
    kind: None | ServersListConfigsKindType0 | Unset = UNSET,
    limit: int | Unset = 50,
) -> Problem | list[ConfigOut] | None:
    """A page of configurations, oldest first (secrets masked).

     Needs the permission `servers:configs.read` (403 without it, checked first).

    Args:
        after (None | str | Unset):
        kind (None | ServersListConfigsKindType0 | Unset):
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[ConfigOut]
    """

    return (
        await asyncio_detailed(
            client=client,
            after=after,
            kind=kind,
            limit=limit,
        )
    ).parsed
