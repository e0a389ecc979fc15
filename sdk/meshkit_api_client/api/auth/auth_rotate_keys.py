from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.auth_rotate_keys_response_201 import AuthRotateKeysResponse201
from ...models.problem import Problem
from ...types import Response


def _get_kwargs() -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/auth/keys/rotate",
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AuthRotateKeysResponse201 | Problem:
    if response.status_code == 201:
        response_201 = AuthRotateKeysResponse201.from_dict(response.json())

        return response_201

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[AuthRotateKeysResponse201 | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
) -> Response[AuthRotateKeysResponse201 | Problem]:
    """Publish a new signing key at once; it signs from ``activates_at`` on (after

     MESHKIT_AUTH_KEY_PUBLISH_DELAY, so verifiers have fetched it). Needs
    auth:keys.rotate; tokens signed with the old key stay valid until they expire.

    Needs the permission `auth:keys.rotate` (403 without it, checked first).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AuthRotateKeysResponse201 | Problem]
    """

    kwargs = _get_kwargs()

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
) -> AuthRotateKeysResponse201 | Problem | None:
    """Publish a new signing key at once; it signs from ``activates_at`` on (after

     MESHKIT_AUTH_KEY_PUBLISH_DELAY, so verifiers have fetched it). Needs
    auth:keys.rotate; tokens signed with the old key stay valid until they expire.

    Needs the permission `auth:keys.rotate` (403 without it, checked first).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AuthRotateKeysResponse201 | Problem
    """

    return sync_detailed(
        client=client,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
) -> Response[AuthRotateKeysResponse201 | Problem]:
    """Publish a new signing key at once; it signs from ``activates_at`` on (after

     MESHKIT_AUTH_KEY_PUBLISH_DELAY, so verifiers have fetched it). Needs
    auth:keys.rotate; tokens signed with the old key stay valid until they expire.

    Needs the permission `auth:keys.rotate` (403 without it, checked first).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AuthRotateKeysResponse201 | Problem]
    """

    kwargs = _get_kwargs()

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
) -> AuthRotateKeysResponse201 | Problem | None:
    """Publish a new signing key at once; it signs from ``activates_at`` on (after

     MESHKIT_AUTH_KEY_PUBLISH_DELAY, so verifiers have fetched it). Needs
    auth:keys.rotate; tokens signed with the old key stay valid until they expire.

    Needs the permission `auth:keys.rotate` (403 without it, checked first).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AuthRotateKeysResponse201 | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
        )
    ).parsed
