from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.message_out import MessageOut
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    channel_id: str,
    *,
    before: None | str | Unset = UNSET,
    after: None | str | Unset = UNSET,
    around: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_before: None | str | Unset
    if isinstance(before, Unset):
        json_before = UNSET
    else:
        json_before = before
    params["before"] = json_before

    json_after: None | str | Unset
    if isinstance(after, Unset):
        json_after = UNSET
    else:
        json_after = after
    params["after"] = json_after

    json_around: None | str | Unset
    if isinstance(around, Unset):
        json_around = UNSET
    else:
        json_around = around
    params["around"] = json_around

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/channels/{channel_id}/messages".format(
            channel_id=quote(str(channel_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | list[MessageOut]:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = MessageOut.from_dict(response_200_item_data)

            response_200.append(response_200_item)

        return response_200

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
) -> Response[Problem | list[MessageOut]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    channel_id: str,
    *,
    client: AuthenticatedClient,
    before: None | str | Unset = UNSET,
    after: None | str | Unset = UNSET,
    around: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[Problem | list[MessageOut]]:
    """A page of history, oldest first: the newest, or ``before``/``after``/``around`` an id.

    Args:
        channel_id (str):
        before (None | str | Unset): The page of messages just older than this id. Use at most one
            of `before`, `after` and `around` (OpenAPI cannot declare that query parameters exclude
            each other; two or more are refused with 422).
        after (None | str | Unset): The page of messages just newer than this id. Use at most one
            of `before`, `after` and `around` (OpenAPI cannot declare that query parameters exclude
            each other; two or more are refused with 422).
        around (None | str | Unset): A page centred on this message, which must be in this channel
            (404 otherwise). Use at most one of `before`, `after` and `around` (OpenAPI cannot declare
            that query parameters exclude each other; two or more are refused with 422).
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[MessageOut]]
    """

    kwargs = _get_kwargs(
        channel_id=channel_id,
        before=before,
        after=after,
        around=around,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    channel_id: str,
    *,
    client: AuthenticatedClient,
    before: None | str | Unset = UNSET,
    after: None | str | Unset = UNSET,
    around: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Problem | list[MessageOut] | None:
    """A page of history, oldest first: the newest, or ``before``/``after``/``around`` an id.

    Args:
        channel_id (str):
        before (None | str | Unset): The page of messages just older than this id. Use at most one
            of `before`, `after` and `around` (OpenAPI cannot declare that query parameters exclude
            each other; two or more are refused with 422).
        after (None | str | Unset): The page of messages just newer than this id. Use at most one
            of `before`, `after` and `around` (OpenAPI cannot declare that query parameters exclude
            each other; two or more are refused with 422).
        around (None | str | Unset): A page centred on this message, which must be in this channel
            (404 otherwise). Use at most one of `before`, `after` and `around` (OpenAPI cannot declare
            that query parameters exclude each other; two or more are refused with 422).
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[MessageOut]
    """

    return sync_detailed(
        channel_id=channel_id,
        client=client,
        before=before,
        after=after,
        around=around,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    channel_id: str,
    *,
    client: AuthenticatedClient,
    before: None | str | Unset = UNSET,
    after: None | str | Unset = UNSET,
    around: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[Problem | list[MessageOut]]:
    """A page of history, oldest first: the newest, or ``before``/``after``/``around`` an id.

    Args:
        channel_id (str):
        before (None | str | Unset): The page of messages just older than this id. Use at most one
            of `before`, `after` and `around` (OpenAPI cannot declare that query parameters exclude
            each other; two or more are refused with 422).
        after (None | str | Unset): The page of messages just newer than this id. Use at most one
            of `before`, `after` and `around` (OpenAPI cannot declare that query parameters exclude
            each other; two or more are refused with 422).
        around (None | str | Unset): A page centred on this message, which must be in this channel
            (404 otherwise). Use at most one of `before`, `after` and `around` (OpenAPI cannot declare
            that query parameters exclude each other; two or more are refused with 422).
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[MessageOut]]
    """

    kwargs = _get_kwargs(
        channel_id=channel_id,
        before=before,
        after=after,
        around=around,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    channel_id: str,
    *,
    client: AuthenticatedClient,
    before: None | str | Unset = UNSET,
    after: None | str | Unset = UNSET,
    around: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Problem | list[MessageOut] | None:
    """A page of history, oldest first: the newest, or ``before``/``after``/``around`` an id.

    Args:
        channel_id (str):
        before (None | str | Unset): The page of messages just older than this id. Use at most one
            of `before`, `after` and `around` (OpenAPI cannot declare that query parameters exclude
            each other; two or more are refused with 422).
        after (None | str | Unset): The page of messages just newer than this id. Use at most one
            of `before`, `after` and `around` (OpenAPI cannot declare that query parameters exclude
            each other; two or more are refused with 422).
        around (None | str | Unset): A page centred on this message, which must be in this channel
            (404 otherwise). Use at most one of `before`, `after` and `around` (OpenAPI cannot declare
            that query parameters exclude each other; two or more are refused with 422).
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[MessageOut]
    """

    return (
        await asyncio_detailed(
            channel_id=channel_id,
            client=client,
            before=before,
            after=after,
            around=around,
            limit=limit,
        )
    ).parsed
