from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    channel_id: str,
    message_id: str,
    emoji: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/v1/channels/{channel_id}/messages/{message_id}/reactions/{emoji}".format(
            channel_id=quote(str(channel_id), safe=""),
            message_id=quote(str(message_id), safe=""),
            emoji=quote(str(emoji), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | Problem:
    if response.status_code == 204:
        response_204 = cast(Any, None)
        return response_204

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
) -> Response[Any | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    channel_id: str,
    message_id: str,
    emoji: str,
    *,
    client: AuthenticatedClient,
) -> Response[Any | Problem]:
    """React with ``emoji`` (URL-encoded; a Unicode emoji or ``:shortcode:``).

    Args:
        channel_id (str):
        message_id (str):
        emoji (str): One emoji of the Unicode emoji set (a single grapheme: skin tones, ZWJ
            sequences, flags and keycaps included), URL-encoded, or a `:shortcode:` the server knows
            (e.g. `:thumbs_up:`, `:+1:`, `:rocket:`). The pattern lists them all.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        channel_id=channel_id,
        message_id=message_id,
        emoji=emoji,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    channel_id: str,
    message_id: str,
    emoji: str,
    *,
    client: AuthenticatedClient,
) -> Any | Problem | None:
    """React with ``emoji`` (URL-encoded; a Unicode emoji or ``:shortcode:``).

    Args:
        channel_id (str):
        message_id (str):
        emoji (str): One emoji of the Unicode emoji set (a single grapheme: skin tones, ZWJ
            sequences, flags and keycaps included), URL-encoded, or a `:shortcode:` the server knows
            (e.g. `:thumbs_up:`, `:+1:`, `:rocket:`). The pattern lists them all.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return sync_detailed(
        channel_id=channel_id,
        message_id=message_id,
        emoji=emoji,
        client=client,
    ).parsed


async def asyncio_detailed(
    channel_id: str,
    message_id: str,
    emoji: str,
    *,
    client: AuthenticatedClient,
) -> Response[Any | Problem]:
    """React with ``emoji`` (URL-encoded; a Unicode emoji or ``:shortcode:``).

    Args:
        channel_id (str):
        message_id (str):
        emoji (str): One emoji of the Unicode emoji set (a single grapheme: skin tones, ZWJ
            sequences, flags and keycaps included), URL-encoded, or a `:shortcode:` the server knows
            (e.g. `:thumbs_up:`, `:+1:`, `:rocket:`). The pattern lists them all.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        channel_id=channel_id,
        message_id=message_id,
        emoji=emoji,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    channel_id: str,
    message_id: str,
    emoji: str,
    *,
    client: AuthenticatedClient,
) -> Any | Problem | None:
    """React with ``emoji`` (URL-encoded; a Unicode emoji or ``:shortcode:``).

    Args:
        channel_id (str):
        message_id (str):
        emoji (str): One emoji of the Unicode emoji set (a single grapheme: skin tones, ZWJ
            sequences, flags and keycaps included), URL-encoded, or a `:shortcode:` the server knows
            (e.g. `:thumbs_up:`, `:+1:`, `:rocket:`). The pattern lists them all.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return (
        await asyncio_detailed(
            channel_id=channel_id,
            message_id=message_id,
            emoji=emoji,
            client=client,
        )
    ).parsed
