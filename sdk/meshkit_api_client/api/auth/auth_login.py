from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.login_in import LoginIn
from ...models.problem import Problem
from ...models.token_out import TokenOut
from ...types import Response


def _get_kwargs(
    *,
    body: LoginIn,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/auth/login",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | TokenOut:
    if response.status_code == 200:
        response_200 = TokenOut.from_dict(response.json())

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

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | TokenOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: LoginIn,
) -> Response[Problem | TokenOut]:
    """Log in with email or username; returns an access and a refresh token.

     Wrong login, wrong password and a disabled account answer the same. Repeated
    failures lock the account (and the client address) out for exponentially longer:
    429 with Retry-After.

    Args:
        body (LoginIn): Credentials: ``login`` is the email or the username.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | TokenOut]
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
    client: AuthenticatedClient | Client,
    body: LoginIn,
) -> Problem | TokenOut | None:
    """Log in with email or username; returns an access and a refresh token.

     Wrong login, wrong password and a disabled account answer the same. Repeated
    failures lock the account (and the client address) out for exponentially longer:
    429 with Retry-After.

    Args:
        body (LoginIn): Credentials: ``login`` is the email or the username.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | TokenOut
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: LoginIn,
) -> Response[Problem | TokenOut]:
    """Log in with email or username; returns an access and a refresh token.

     Wrong login, wrong password and a disabled account answer the same. Repeated
    failures lock the account (and the client address) out for exponentially longer:
    429 with Retry-After.

    Args:
        body (LoginIn): Credentials: ``login`` is the email or the username.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | TokenOut]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: LoginIn,
) -> Problem | TokenOut | None:
    """Log in with email or username; returns an access and a refresh token.

     Wrong login, wrong password and a disabled account answer the same. Repeated
    failures lock the account (and the client address) out for exponentially longer:
    429 with Retry-After.

    Args:
        body (LoginIn): Credentials: ``login`` is the email or the username.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | TokenOut
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
