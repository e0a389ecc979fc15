from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.participant_out import ParticipantOut
from ...models.participant_patch import ParticipantPatch
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    room_id: str,
    user_id: str,
    *,
    body: ParticipantPatch,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v1/voice/rooms/{room_id}/participants/{user_id}".format(
            room_id=quote(str(room_id), safe=""),
            user_id=quote(str(user_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ParticipantOut | Problem:
    if response.status_code == 200:
        response_200 = ParticipantOut.from_dict(response.json())

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
) -> Response[ParticipantOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    room_id: str,
    user_id: str,
    *,
    client: AuthenticatedClient,
    body: ParticipantPatch,
) -> Response[ParticipantOut | Problem]:
    """Server-mute or unmute a participant (needs ``voice:member.mute``).

     404 ``not-in-room`` when they are not in the room.

    Needs the permission `voice:member.mute` (403 without it, checked first).

    Args:
        room_id (str):
        user_id (str):
        body (ParticipantPatch): A moderator's change to a participant.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ParticipantOut | Problem]
    """

    kwargs = _get_kwargs(
        room_id=room_id,
        user_id=user_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    room_id: str,
    user_id: str,
    *,
    client: AuthenticatedClient,
    body: ParticipantPatch,
) -> ParticipantOut | Problem | None:
    """Server-mute or unmute a participant (needs ``voice:member.mute``).

     404 ``not-in-room`` when they are not in the room.

    Needs the permission `voice:member.mute` (403 without it, checked first).

    Args:
        room_id (str):
        user_id (str):
        body (ParticipantPatch): A moderator's change to a participant.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ParticipantOut | Problem
    """

    return sync_detailed(
        room_id=room_id,
        user_id=user_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    room_id: str,
    user_id: str,
    *,
    client: AuthenticatedClient,
    body: ParticipantPatch,
) -> Response[ParticipantOut | Problem]:
    """Server-mute or unmute a participant (needs ``voice:member.mute``).

     404 ``not-in-room`` when they are not in the room.

    Needs the permission `voice:member.mute` (403 without it, checked first).

    Args:
        room_id (str):
        user_id (str):
        body (ParticipantPatch): A moderator's change to a participant.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ParticipantOut | Problem]
    """

    kwargs = _get_kwargs(
        room_id=room_id,
        user_id=user_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    room_id: str,
    user_id: str,
    *,
    client: AuthenticatedClient,
    body: ParticipantPatch,
) -> ParticipantOut | Problem | None:
    """Server-mute or unmute a participant (needs ``voice:member.mute``).

     404 ``not-in-room`` when they are not in the room.

    Needs the permission `voice:member.mute` (403 without it, checked first).

    Args:
        room_id (str):
        user_id (str):
        body (ParticipantPatch): A moderator's change to a participant.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ParticipantOut | Problem
    """

    return (
        await asyncio_detailed(
            room_id=room_id,
            user_id=user_id,
            client=client,
            body=body,
        )
    ).parsed
