from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.config_out import ConfigOut
from ...models.config_patch import ConfigPatch
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    config_id: str,
    *,
    body: ConfigPatch,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v1/servers/configs/{config_id}".format(
            config_id=quote(str(config_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ConfigOut | Problem:
    if response.status_code == 200:
        response_200 = ConfigOut.from_dict(response.json())

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
) -> Response[ConfigOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    config_id: str,
    *,
    client: AuthenticatedClient,
    body: ConfigPatch,
) -> Response[ConfigOut | Problem]:
    """Rename or retarget it, and/or make a new version (when the content, a file

     attribute, the environment or a secret changes). Nothing is pushed.

    Needs the permission `servers:configs.manage` (403 without it, checked first).

    Args:
        config_id (str): An id (a ULID).
        body (ConfigPatch): A change. ``name`` and ``hosts`` change the document; any of
            ``content``,
            ``owner``, ``group``, ``mode``, ``env`` and ``secrets`` makes a new version (with
            ``message``) and leaves the others as they were. ``env`` replaces the whole plain
            environment; ``secrets`` is merged: a value sets a secret, ``null`` removes it,
            ``********`` keeps it. Nothing is pushed.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConfigOut | Problem]
    """

    kwargs = _get_kwargs(
        config_id=config_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    config_id: str,
    *,
    client: AuthenticatedClient,
    body: ConfigPatch,
) -> ConfigOut | Problem | None:
    """Rename or retarget it, and/or make a new version (when the content, a file

     attribute, the environment or a secret changes). Nothing is pushed.

    Needs the permission `servers:configs.manage` (403 without it, checked first).

    Args:
        config_id (str): An id (a ULID).
        body (ConfigPatch): A change. ``name`` and ``hosts`` change the document; any of
            ``content``,
            ``owner``, ``group``, ``mode``, ``env`` and ``secrets`` makes a new version (with
            ``message``) and leaves the others as they were. ``env`` replaces the whole plain
            environment; ``secrets`` is merged: a value sets a secret, ``null`` removes it,
            ``********`` keeps it. Nothing is pushed.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConfigOut | Problem
    """

    return sync_detailed(
        config_id=config_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    config_id: str,
    *,
    client: AuthenticatedClient,
    body: ConfigPatch,
) -> Response[ConfigOut | Problem]:
    """Rename or retarget it, and/or make a new version (when the content, a file

     attribute, the environment or a secret changes). Nothing is pushed.

    Needs the permission `servers:configs.manage` (403 without it, checked first).

    Args:
        config_id (str): An id (a ULID).
        body (ConfigPatch): A change. ``name`` and ``hosts`` change the document; any of
            ``content``,
            ``owner``, ``group``, ``mode``, ``env`` and ``secrets`` makes a new version (with
            ``message``) and leaves the others as they were. ``env`` replaces the whole plain
            environment; ``secrets`` is merged: a value sets a secret, ``null`` removes it,
            ``********`` keeps it. Nothing is pushed.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConfigOut | Problem]
    """

    kwargs = _get_kwargs(
        config_id=config_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    config_id: str,
    *,
    client: AuthenticatedClient,
    body: ConfigPatch,
) -> ConfigOut | Problem | None:
    """Rename or retarget it, and/or make a new version (when the content, a file

     attribute, the environment or a secret changes). Nothing is pushed.

    Needs the permission `servers:configs.manage` (403 without it, checked first).

    Args:
        config_id (str): An id (a ULID).
        body (ConfigPatch): A change. ``name`` and ``hosts`` change the document; any of
            ``content``,
            ``owner``, ``group``, ``mode``, ``env`` and ``secrets`` makes a new version (with
            ``message``) and leaves the others as they were. ``env`` replaces the whole plain
            environment; ``secrets`` is merged: a value sets a secret, ``null`` removes it,
            ``********`` keeps it. Nothing is pushed.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConfigOut | Problem
    """

    return (
        await asyncio_detailed(
            config_id=config_id,
            client=client,
            body=body,
        )
    ).parsed
