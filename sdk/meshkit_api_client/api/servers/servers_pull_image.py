from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.image_result import ImageResult
from ...models.problem import Problem
from ...models.pull_in import PullIn
from ...types import Response


def _get_kwargs(
    host_id: str,
    *,
    body: PullIn,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/servers/engines/{host_id}/images/pull".format(
            host_id=quote(str(host_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ImageResult | Problem:
    if response.status_code == 201:
        response_201 = ImageResult.from_dict(response.json())

        return response_201

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

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 502:
        response_502 = Problem.from_dict(response.json())

        return response_502

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ImageResult | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    host_id: str,
    *,
    client: AuthenticatedClient,
    body: PullIn,
) -> Response[ImageResult | Problem]:
    """Pull an image from its registry onto the host; 502 ``image-unavailable`` with

     the engine's reason when the registry cannot be reached or refuses.

    Needs the permission `servers:deployments.manage` (403 without it, checked first).

    Args:
        host_id (str): A host id (a ULID).
        body (PullIn): An image to pull from its registry.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ImageResult | Problem]
    """

    kwargs = _get_kwargs(
        host_id=host_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    host_id: str,
    *,
    client: AuthenticatedClient,
    body: PullIn,
) -> ImageResult | Problem | None:
    """Pull an image from its registry onto the host; 502 ``image-unavailable`` with

     the engine's reason when the registry cannot be reached or refuses.

    Needs the permission `servers:deployments.manage` (403 without it, checked first).

    Args:
        host_id (str): A host id (a ULID).
        body (PullIn): An image to pull from its registry.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ImageResult | Problem
    """

    return sync_detailed(
        host_id=host_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    host_id: str,
    *,
    client: AuthenticatedClient,
    body: PullIn,
) -> Response[ImageResult | Problem]:
    """Pull an image from its registry onto the host; 502 ``image-unavailable`` with

     the engine's reason when the registry cannot be reached or refuses.

    Needs the permission `servers:deployments.manage` (403 without it, checked first).

    Args:
        host_id (str): A host id (a ULID).
        body (PullIn): An image to pull from its registry.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ImageResult | Problem]
    """

    kwargs = _get_kwargs(
        host_id=host_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    host_id: str,
    *,
    client: AuthenticatedClient,
    body: PullIn,
) -> ImageResult | Problem | None:
    """Pull an image from its registry onto the host; 502 ``image-unavailable`` with

     the engine's reason when the registry cannot be reached or refuses.

    Needs the permission `servers:deployments.manage` (403 without it, checked first).

    Args:
        host_id (str): A host id (a ULID).
        body (PullIn): An image to pull from its registry.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ImageResult | Problem
    """

    return (
        await asyncio_detailed(
            host_id=host_id,
            client=client,
            body=body,
        )
    ).parsed
