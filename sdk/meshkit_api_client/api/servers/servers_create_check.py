from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.check_in import CheckIn
from ...models.check_out import CheckOut
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    *,
    body: CheckIn,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/servers/checks",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> CheckOut | Problem:
    if response.status_code == 201:
        response_201 = CheckOut.from_dict(response.json())

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
) -> Response[CheckOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: CheckIn,
) -> Response[CheckOut | Problem]:
    """Create a health check on a host or deployment; it is scheduled at once (if enabled).

     422 when the subject does not exist; 409 ``duplicate-key`` when the name is taken.

    Needs the permission `servers:checks.manage` (403 without it, checked first).

    Args:
        body (CheckIn): A new health check.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CheckOut | Problem]
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
    body: CheckIn,
) -> CheckOut | Problem | None:
    """Create a health check on a host or deployment; it is scheduled at once (if enabled).

     422 when the subject does not exist; 409 ``duplicate-key`` when the name is taken.

    Needs the permission `servers:checks.manage` (403 without it, checked first).

    Args:
        body (CheckIn): A new health check.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CheckOut | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: CheckIn,
) -> Response[CheckOut | Problem]:
    """Create a health check on a host or deployment; it is scheduled at once (if enabled).

     422 when the subject does not exist; 409 ``duplicate-key`` when the name is taken.

    Needs the permission `servers:checks.manage` (403 without it, checked first).

    Args:
        body (CheckIn): A new health check.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CheckOut | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: CheckIn,
) -> CheckOut | Problem | None:
    """Create a health check on a host or deployment; it is scheduled at once (if enabled).

     422 when the subject does not exist; 409 ``duplicate-key`` when the name is taken.

    Needs the permission `servers:checks.manage` (403 without it, checked first).

    Args:
        body (CheckIn): A new health check.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CheckOut | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
