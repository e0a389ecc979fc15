from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.voice_room_out import VoiceRoomOut
from ...models.voice_room_patch import VoiceRoomPatch
from ...types import Response


def _get_kwargs(
    room_id: str,
    *,
    body: VoiceRoomPatch,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v1/voice/rooms/{room_id}".format(
            room_id=quote(str(room_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | VoiceRoomOut:
    if response.status_code == 200:
        response_200 = VoiceRoomOut.from_dict(response.json())

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

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | VoiceRoomOut]:
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
    body: VoiceRoomPatch,
) -> Response[Problem | VoiceRoomOut]:
    """Rename, relink, resize or change the bitrate (owner or ``voice:room.manage``).

    Args:
        room_id (str):
        body (VoiceRoomPatch): Fields of a room its owner (or ``voice:room.manage``) may change.

            An absent field is left as it is, and so is ``null`` for ``name``,
            ``max_participants`` and ``bitrate``; ``channel_id: null`` unlinks the channel.
            Lowering ``max_participants`` below the number in the room drops nobody: only new
            joins are refused.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | VoiceRoomOut]
    """

    kwargs = _get_kwargs(
        room_id=room_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    room_id: str,
    *,
    client: AuthenticatedClient,
    body: VoiceRoomPatch,
) -> Problem | VoiceRoomOut | None:
    """Rename, relink, resize or change the bitrate (owner or ``voice:room.manage``).

    Args:
        room_id (str):
        body (VoiceRoomPatch): Fields of a room its owner (or ``voice:room.manage``) may change.

            An absent field is left as it is, and so is ``null`` for ``name``,
            ``max_participants`` and ``bitrate``; ``channel_id: null`` unlinks the channel.
            Lowering ``max_participants`` below the number in the room drops nobody: only new
            joins are refused.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | VoiceRoomOut
    """

    return sync_detailed(
        room_id=room_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    room_id: str,
    *,
    client: AuthenticatedClient,
    body: VoiceRoomPatch,
) -> Response[Problem | VoiceRoomOut]:
    """Rename, relink, resize or change the bitrate (owner or ``voice:room.manage``).

    Args:
        room_id (str):
        body (VoiceRoomPatch): Fields of a room its owner (or ``voice:room.manage``) may change.

            An absent field is left as it is, and so is ``null`` for ``name``,
            ``max_participants`` and ``bitrate``; ``channel_id: null`` unlinks the channel.
            Lowering ``max_participants`` below the number in the room drops nobody: only new
            joins are refused.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | VoiceRoomOut]
    """

    kwargs = _get_kwargs(
        room_id=room_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    room_id: str,
    *,
    client: AuthenticatedClient,
    body: VoiceRoomPatch,
) -> Problem | VoiceRoomOut | None:
    """Rename, relink, resize or change the bitrate (owner or ``voice:room.manage``).

    Args:
        room_id (str):
        body (VoiceRoomPatch): Fields of a room its owner (or ``voice:room.manage``) may change.

            An absent field is left as it is, and so is ``null`` for ``name``,
            ``max_participants`` and ``bitrate``; ``channel_id: null`` unlinks the channel.
            Lowering ``max_participants`` below the number in the room drops nobody: only new
            joins are refused.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | VoiceRoomOut
    """

    return (
        await asyncio_detailed(
            room_id=room_id,
            client=client,
            body=body,
        )
    ).parsed
