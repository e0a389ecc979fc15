from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.mark_read import MarkRead
from ...models.problem import Problem
from ...models.unread_count import UnreadCount
from ...types import Response


def _get_kwargs(
    *,
    body: MarkRead,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/notifications/read",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | UnreadCount:
    if response.status_code == 200:
        response_200 = UnreadCount.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

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
) -> Response[Problem | UnreadCount]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: MarkRead,
) -> Response[Problem | UnreadCount]:
    """Mark some (``ids``) or all (``all: true``) of the caller's notifications read.

     Ids that are not the caller's are ignored. Answers the new unread badge.

    Args:
        body (MarkRead): Exactly one of: ``ids`` (up to 100 of the caller's notifications) or
            ``all: true``.

            The schema says so with ``if``/``then``/``else`` (which generated clients accept
            where they choke on a ``oneOf`` beside ``properties``): with ``all: true``, ``ids``
            is absent or null; otherwise ``ids`` is required.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | UnreadCount]
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
    body: MarkRead,
) -> Problem | UnreadCount | None:
    """Mark some (``ids``) or all (``all: true``) of the caller's notifications read.

     Ids that are not the caller's are ignored. Answers the new unread badge.

    Args:
        body (MarkRead): Exactly one of: ``ids`` (up to 100 of the caller's notifications) or
            ``all: true``.

            The schema says so with ``if``/``then``/``else`` (which generated clients accept
            where they choke on a ``oneOf`` beside ``properties``): with ``all: true``, ``ids``
            is absent or null; otherwise ``ids`` is required.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | UnreadCount
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: MarkRead,
) -> Response[Problem | UnreadCount]:
    """Mark some (``ids``) or all (``all: true``) of the caller's notifications read.

     Ids that are not the caller's are ignored. Answers the new unread badge.

    Args:
        body (MarkRead): Exactly one of: ``ids`` (up to 100 of the caller's notifications) or
            ``all: true``.

            The schema says so with ``if``/``then``/``else`` (which generated clients accept
            where they choke on a ``oneOf`` beside ``properties``): with ``all: true``, ``ids``
            is absent or null; otherwise ``ids`` is required.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | UnreadCount]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: MarkRead,
) -> Problem | UnreadCount | None:
    """Mark some (``ids``) or all (``all: true``) of the caller's notifications read.

     Ids that are not the caller's are ignored. Answers the new unread badge.

    Args:
        body (MarkRead): Exactly one of: ``ids`` (up to 100 of the caller's notifications) or
            ``all: true``.

            The schema says so with ``if``/``then``/``else`` (which generated clients accept
            where they choke on a ``oneOf`` beside ``properties``): with ``all: true``, ``ids``
            is absent or null; otherwise ``ids`` is required.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | UnreadCount
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
