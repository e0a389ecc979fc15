from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    room_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/voice/rooms/{room_id}/listen".format(
            room_id=quote(str(room_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem:
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

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    room_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[Problem]:
    """Listen to the room without WebRTC: its mix as a live Ogg/Opus stream.

     Needs ``voice:room.listen`` (the listener is not a participant: nobody in the
    room sees them, so joining rights are not enough). The response is chunked and
    ends only when the client closes it or the instance stops. Silence while nobody
    speaks; every source that is not muted is in the mix. 409 ``room-elsewhere`` when
    another voice instance hosts the room.

    Needs the permission `voice:room.listen` (403 without it, checked first).

    Args:
        room_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem]
    """

    kwargs = _get_kwargs(
        room_id=room_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    room_id: str,
    *,
    client: AuthenticatedClient,
) -> Problem | None:
    """Listen to the room without WebRTC: its mix as a live Ogg/Opus stream.

     Needs ``voice:room.listen`` (the listener is not a participant: nobody in the
    room sees them, so joining rights are not enough). The response is chunked and
    ends only when the client closes it or the instance stops. Silence while nobody
    speaks; every source that is not muted is in the mix. 409 ``room-elsewhere`` when
    another voice instance hosts the room.

    Needs the permission `voice:room.listen` (403 without it, checked first).

    Args:
        room_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem
    """

    return sync_detailed(
        room_id=room_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    room_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[Problem]:
    """Listen to the room without WebRTC: its mix as a live Ogg/Opus stream.

     Needs ``voice:room.listen`` (the listener is not a participant: nobody in the
    room sees them, so joining rights are not enough). The response is chunked and
    ends only when the client closes it or the instance stops. Silence while nobody
    speaks; every source that is not muted is in the mix. 409 ``room-elsewhere`` when
    another voice instance hosts the room.

    Needs the permission `voice:room.listen` (403 without it, checked first).

    Args:
        room_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem]
    """

    kwargs = _get_kwargs(
        room_id=room_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    room_id: str,
    *,
    client: AuthenticatedClient,
) -> Problem | None:
    """Listen to the room without WebRTC: its mix as a live Ogg/Opus stream.

     Needs ``voice:room.listen`` (the listener is not a participant: nobody in the
    room sees them, so joining rights are not enough). The response is chunked and
    ends only when the client closes it or the instance stops. Silence while nobody
    speaks; every source that is not muted is in the mix. 409 ``room-elsewhere`` when
    another voice instance hosts the room.

    Needs the permission `voice:room.listen` (403 without it, checked first).

    Args:
        room_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem
    """

    return (
        await asyncio_detailed(
            room_id=room_id,
            client=client,
        )
    ).parsed
