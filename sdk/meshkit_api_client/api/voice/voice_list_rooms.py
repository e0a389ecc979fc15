from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.voice_room_out import VoiceRoomOut
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    after: None | str | Unset = UNSET,
    channel_id: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_after: None | str | Unset
    if isinstance(after, Unset):
        json_after = UNSET
    else:
        json_after = after
    params["after"] = json_after

    json_channel_id: None | str | Unset
    if isinstance(channel_id, Unset):
        json_channel_id = UNSET
    else:
        json_channel_id = channel_id
    params["channel_id"] = json_channel_id

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/voice/rooms",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | list[VoiceRoomOut]:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = VoiceRoomOut.from_dict(response_200_item_data)

            response_200.append(response_200_item)

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | list[VoiceRoomOut]]:
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
    channel_id: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[Problem | list[VoiceRoomOut]]:
    """A page of voice rooms, oldest first, with how many are in each now.

    Args:
        after (None | str | Unset): The page of rooms created after this id.
        channel_id (None | str | Unset): Only the rooms linked to this messaging channel.
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[VoiceRoomOut]]
    """

    kwargs = _get_kwargs(
        after=after,
        channel_id=channel_id,
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
    channel_id: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Problem | list[VoiceRoomOut] | None:
    """A page of voice rooms, oldest first, with how many are in each now.

    Args:
        after (None | str | Unset): The page of rooms created after this id.
        channel_id (None | str | Unset): Only the rooms linked to this messaging channel.
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[VoiceRoomOut]
    """

    return sync_detailed(
        client=client,
        after=after,
        channel_id=channel_id,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    after: None | str | Unset = UNSET,
    channel_id: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[Problem | list[VoiceRoomOut]]:
    """A page of voice rooms, oldest first, with how many are in each now.

    Args:
        after (None | str | Unset): The page of rooms created after this id.
        channel_id (None | str | Unset): Only the rooms linked to this messaging channel.
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[VoiceRoomOut]]
    """

    kwargs = _get_kwargs(
        after=after,
        channel_id=channel_id,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    after: None | str | Unset = UNSET,
    channel_id: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Problem | list[VoiceRoomOut] | None:
    """A page of voice rooms, oldest first, with how many are in each now.

    Args:
        after (None | str | Unset): The page of rooms created after this id.
        channel_id (None | str | Unset): Only the rooms linked to this messaging channel.
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[VoiceRoomOut]
    """

    return (
        await asyncio_detailed(
            client=client,
            after=after,
            channel_id=channel_id,
            limit=limit,
        )
    ).parsed
