from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.alert_out import AlertOut
from ...models.problem import Problem
from ...models.servers_list_alerts_state_type_0 import ServersListAlertsStateType0
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    state: None | ServersListAlertsStateType0 | Unset = UNSET,
    host_id: None | str | Unset = UNSET,
    limit: int | Unset = 100,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_state: None | str | Unset
    if isinstance(state, Unset):
        json_state = UNSET
    elif isinstance(state, ServersListAlertsStateType0):
        json_state = state.value
    else:
        json_state = state
    params["state"] = json_state

    json_host_id: None | str | Unset
    if isinstance(host_id, Unset):
        json_host_id = UNSET
    else:
        json_host_id = host_id
    params["host_id"] = json_host_id

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/servers/alerts",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | list[AlertOut]:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = AlertOut.from_dict(response_200_item_data)

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
) -> Response[Problem | list[AlertOut]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    state: None | ServersListAlertsStateType0 | Unset = UNSET,
    host_id: None | str | Unset = UNSET,
    limit: int | Unset = 100,
) -> Response[Problem | list[AlertOut]]:
    """Alerts firing now, then pending ones (crossing, not yet for long enough), then

     the most recently resolved; ``state`` and ``host_id`` narrow the list.

    Needs the permission `servers:monitoring.read` (403 without it, checked first).

    Args:
        state (None | ServersListAlertsStateType0 | Unset):
        host_id (None | str | Unset):
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[AlertOut]]
    """

    kwargs = _get_kwargs(
        state=state,
        host_id=host_id,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    state: None | ServersListAlertsStateType0 | Unset = UNSET,
    host_id: None | str | Unset = UNSET,
    limit: int | Unset = 100,
) -> Problem | list[AlertOut] | None:
    """Alerts firing now, then pending ones (crossing, not yet for long enough), then

     the most recently resolved; ``state`` and ``host_id`` narrow the list.

    Needs the permission `servers:monitoring.read` (403 without it, checked first).

    Args:
        state (None | ServersListAlertsStateType0 | Unset):
        host_id (None | str | Unset):
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[AlertOut]
    """

    return sync_detailed(
        client=client,
        state=state,
        host_id=host_id,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    state: None | ServersListAlertsStateType0 | Unset = UNSET,
    host_id: None | str | Unset = UNSET,
    limit: int | Unset = 100,
) -> Response[Problem | list[AlertOut]]:
    """Alerts firing now, then pending ones (crossing, not yet for long enough), then

     the most recently resolved; ``state`` and ``host_id`` narrow the list.

    Needs the permission `servers:monitoring.read` (403 without it, checked first).

    Args:
        state (None | ServersListAlertsStateType0 | Unset):
        host_id (None | str | Unset):
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[AlertOut]]
    """

    kwargs = _get_kwargs(
        state=state,
        host_id=host_id,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    state: None | ServersListAlertsStateType0 | Unset = UNSET,
    host_id: None | str | Unset = UNSET,
    limit: int | Unset = 100,
) -> Problem | list[AlertOut] | None:
    """Alerts firing now, then pending ones (crossing, not yet for long enough), then

     the most recently resolved; ``state`` and ``host_id`` narrow the list.

    Needs the permission `servers:monitoring.read` (403 without it, checked first).

    Args:
        state (None | ServersListAlertsStateType0 | Unset):
        host_id (None | str | Unset):
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[AlertOut]
    """

    return (
        await asyncio_detailed(
            client=client,
            state=state,
            host_id=host_id,
            limit=limit,
        )
    ).parsed
