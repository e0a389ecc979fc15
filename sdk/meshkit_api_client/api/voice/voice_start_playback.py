from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.playback_out import PlaybackOut
from ...models.problem import Problem
from ...types import File, Response


def _get_kwargs(
    room_id: str,
    *,
    body: File,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/voice/rooms/{room_id}/playback".format(
            room_id=quote(str(room_id), safe=""),
        ),
    }

    _kwargs["content"] = body.payload
    headers["Content-Type"] = "application/octet-stream"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> PlaybackOut | Problem:
    if response.status_code == 202:
        response_202 = PlaybackOut.from_dict(response.json())

        return response_202

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

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[PlaybackOut | Problem]:
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
    body: File,
) -> Response[PlaybackOut | Problem]:
    """Play an audio file into the room, as a bot participant (needs ``voice:room.play``).

     The file is the request body. It starts at once; the bot joins the room
    (``voice.participant.joined``, user id ``bot:<playback id>``), speaks, and leaves
    at the end or when stopped. 415 ``unsupported-audio`` when the file does not
    decode, 413 ``upload-too-large`` past the limit, 409 ``room-full`` or
    ``room-elsewhere``.

    Needs the permission `voice:room.play` (403 without it, checked first).

    Args:
        room_id (str):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PlaybackOut | Problem]
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
    body: File,
) -> PlaybackOut | Problem | None:
    """Play an audio file into the room, as a bot participant (needs ``voice:room.play``).

     The file is the request body. It starts at once; the bot joins the room
    (``voice.participant.joined``, user id ``bot:<playback id>``), speaks, and leaves
    at the end or when stopped. 415 ``unsupported-audio`` when the file does not
    decode, 413 ``upload-too-large`` past the limit, 409 ``room-full`` or
    ``room-elsewhere``.

    Needs the permission `voice:room.play` (403 without it, checked first).

    Args:
        room_id (str):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PlaybackOut | Problem
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
    body: File,
) -> Response[PlaybackOut | Problem]:
    """Play an audio file into the room, as a bot participant (needs ``voice:room.play``).

     The file is the request body. It starts at once; the bot joins the room
    (``voice.participant.joined``, user id ``bot:<playback id>``), speaks, and leaves
    at the end or when stopped. 415 ``unsupported-audio`` when the file does not
    decode, 413 ``upload-too-large`` past the limit, 409 ``room-full`` or
    ``room-elsewhere``.

    Needs the permission `voice:room.play` (403 without it, checked first).

    Args:
        room_id (str):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PlaybackOut | Problem]
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
    body: File,
) -> PlaybackOut | Problem | None:
    """Play an audio file into the room, as a bot participant (needs ``voice:room.play``).

     The file is the request body. It starts at once; the bot joins the room
    (``voice.participant.joined``, user id ``bot:<playback id>``), speaks, and leaves
    at the end or when stopped. 415 ``unsupported-audio`` when the file does not
    decode, 413 ``upload-too-large`` past the limit, 409 ``room-full`` or
    ``room-elsewhere``.

    Needs the permission `voice:room.play` (403 without it, checked first).

    Args:
        room_id (str):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PlaybackOut | Problem
    """

    return (
        await asyncio_detailed(
            room_id=room_id,
            client=client,
            body=body,
        )
    ).parsed
