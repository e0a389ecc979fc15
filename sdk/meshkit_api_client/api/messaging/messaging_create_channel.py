from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.channel_in import ChannelIn
from ...models.channel_out import ChannelOut
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    *,
    body: ChannelIn,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/channels",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ChannelOut | Problem:
    if response.status_code == 201:
        response_201 = ChannelOut.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

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
) -> Response[ChannelOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: ChannelIn,
) -> Response[ChannelOut | Problem]:
    """Create a channel, or open a DM.

     Opening a DM is idempotent: the same people always get the same conversation.

    Args:
        body (ChannelIn): A new channel; for a DM, ``members`` are the other people in it.

            A public or private channel needs a ``name``; a DM has none (it is named by its
            people) and needs someone besides the caller in ``members``. The rule is in the
            schema too (``if``/``then``/``else`` on ``kind``): a missing ``kind`` is ``public``.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChannelOut | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: ChannelIn,
) -> ChannelOut | Problem | None:
    """Create a channel, or open a DM.

     Opening a DM is idempotent: the same people always get the same conversation.

    Args:
        body (ChannelIn): A new channel; for a DM, ``members`` are the other people in it.

            A public or private channel needs a ``name``; a DM has none (it is named by its
            people) and needs someone besides the caller in ``members``. The rule is in the
            schema too (``if``/``then``/``else`` on ``kind``): a missing ``kind`` is ``public``.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ChannelOut | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: ChannelIn,
) -> Response[ChannelOut | Problem]:
    """Create a channel, or open a DM.

     Opening a DM is idempotent: the same people always get the same conversation.

    Args:
        body (ChannelIn): A new channel; for a DM, ``members`` are the other people in it.

            A public or private channel needs a ``name``; a DM has none (it is named by its
            people) and needs someone besides the caller in ``members``. The rule is in the
            schema too (``if``/``then``/``else`` on ``kind``): a missing ``kind`` is ``public``.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChannelOut | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: ChannelIn,
) -> ChannelOut | Problem | None:
    """Create a channel, or open a DM.

     Opening a DM is idempotent: the same people always get the same conversation.

    Args:
        body (ChannelIn): A new channel; for a DM, ``members`` are the other people in it.

            A public or private channel needs a ``name``; a DM has none (it is named by its
            people) and needs someone besides the caller in ``members``. The rule is in the
            schema too (``if``/``then``/``else`` on ``kind``): a missing ``kind`` is ``public``.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ChannelOut | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
