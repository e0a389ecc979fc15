from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.recipe_in import RecipeIn
from ...models.recipe_out import RecipeOut
from ...types import Response


def _get_kwargs(
    *,
    body: RecipeIn,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/servers/recipes",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | RecipeOut:
    if response.status_code == 201:
        response_201 = RecipeOut.from_dict(response.json())

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
) -> Response[Problem | RecipeOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: RecipeIn,
) -> Response[Problem | RecipeOut]:
    """Store a recipe: a named list of steps (409 `recipe-exists` when the name is taken).

     Steps are `package`, `file`, `directory`, `user`, `service` and `command` (the
    schema says each one's fields). Secret values (file content with
    `content_secret`, secret `env` values) are stored encrypted and masked
    (`********`) in every answer.

    Needs the permission `servers:jobs.run` (403 without it, checked first).

    Args:
        body (RecipeIn): A recipe: a name and the steps it runs, in order.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RecipeOut]
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
    body: RecipeIn,
) -> Problem | RecipeOut | None:
    """Store a recipe: a named list of steps (409 `recipe-exists` when the name is taken).

     Steps are `package`, `file`, `directory`, `user`, `service` and `command` (the
    schema says each one's fields). Secret values (file content with
    `content_secret`, secret `env` values) are stored encrypted and masked
    (`********`) in every answer.

    Needs the permission `servers:jobs.run` (403 without it, checked first).

    Args:
        body (RecipeIn): A recipe: a name and the steps it runs, in order.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RecipeOut
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: RecipeIn,
) -> Response[Problem | RecipeOut]:
    """Store a recipe: a named list of steps (409 `recipe-exists` when the name is taken).

     Steps are `package`, `file`, `directory`, `user`, `service` and `command` (the
    schema says each one's fields). Secret values (file content with
    `content_secret`, secret `env` values) are stored encrypted and masked
    (`********`) in every answer.

    Needs the permission `servers:jobs.run` (403 without it, checked first).

    Args:
        body (RecipeIn): A recipe: a name and the steps it runs, in order.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RecipeOut]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: RecipeIn,
) -> Problem | RecipeOut | None:
    """Store a recipe: a named list of steps (409 `recipe-exists` when the name is taken).

     Steps are `package`, `file`, `directory`, `user`, `service` and `command` (the
    schema says each one's fields). Secret values (file content with
    `content_secret`, secret `env` values) are stored encrypted and masked
    (`********`) in every answer.

    Needs the permission `servers:jobs.run` (403 without it, checked first).

    Args:
        body (RecipeIn): A recipe: a name and the steps it runs, in order.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RecipeOut
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
