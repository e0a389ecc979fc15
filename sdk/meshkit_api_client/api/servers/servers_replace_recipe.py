from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.recipe_in import RecipeIn
from ...models.recipe_out import RecipeOut
from ...types import Response


def _get_kwargs(
    recipe_id: str,
    *,
    body: RecipeIn,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/v1/servers/recipes/{recipe_id}".format(
            recipe_id=quote(str(recipe_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | RecipeOut:
    if response.status_code == 200:
        response_200 = RecipeOut.from_dict(response.json())

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
) -> Response[Problem | RecipeOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    recipe_id: str,
    *,
    client: AuthenticatedClient,
    body: RecipeIn,
) -> Response[Problem | RecipeOut]:
    """Replace a recipe's name, description and steps (`revision` goes up by one).

     A secret value sent as the mask (`********`, as answers show it) keeps the stored
    value of the step it stands for: the step with the same `name` and kind, else the
    one at the same position with the same kind; 422 `masked-secret-unknown` when
    there is none. Jobs that ran it keep the steps they ran.

    Needs the permission `servers:jobs.run` (403 without it, checked first).

    Args:
        recipe_id (str): An id (a ULID).
        body (RecipeIn): A recipe: a name and the steps it runs, in order.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RecipeOut]
    """

    kwargs = _get_kwargs(
        recipe_id=recipe_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    recipe_id: str,
    *,
    client: AuthenticatedClient,
    body: RecipeIn,
) -> Problem | RecipeOut | None:
    """Replace a recipe's name, description and steps (`revision` goes up by one).

     A secret value sent as the mask (`********`, as answers show it) keeps the stored
    value of the step it stands for: the step with the same `name` and kind, else the
    one at the same position with the same kind; 422 `masked-secret-unknown` when
    there is none. Jobs that ran it keep the steps they ran.

    Needs the permission `servers:jobs.run` (403 without it, checked first).

    Args:
        recipe_id (str): An id (a ULID).
        body (RecipeIn): A recipe: a name and the steps it runs, in order.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RecipeOut
    """

    return sync_detailed(
        recipe_id=recipe_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    recipe_id: str,
    *,
    client: AuthenticatedClient,
    body: RecipeIn,
) -> Response[Problem | RecipeOut]:
    """Replace a recipe's name, description and steps (`revision` goes up by one).

     A secret value sent as the mask (`********`, as answers show it) keeps the stored
    value of the step it stands for: the step with the same `name` and kind, else the
    one at the same position with the same kind; 422 `masked-secret-unknown` when
    there is none. Jobs that ran it keep the steps they ran.

    Needs the permission `servers:jobs.run` (403 without it, checked first).

    Args:
        recipe_id (str): An id (a ULID).
        body (RecipeIn): A recipe: a name and the steps it runs, in order.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RecipeOut]
    """

    kwargs = _get_kwargs(
        recipe_id=recipe_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    recipe_id: str,
    *,
    client: AuthenticatedClient,
    body: RecipeIn,
) -> Problem | RecipeOut | None:
    """Replace a recipe's name, description and steps (`revision` goes up by one).

     A secret value sent as the mask (`********`, as answers show it) keeps the stored
    value of the step it stands for: the step with the same `name` and kind, else the
    one at the same position with the same kind; 422 `masked-secret-unknown` when
    there is none. Jobs that ran it keep the steps they ran.

    Needs the permission `servers:jobs.run` (403 without it, checked first).

    Args:
        recipe_id (str): An id (a ULID).
        body (RecipeIn): A recipe: a name and the steps it runs, in order.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RecipeOut
    """

    return (
        await asyncio_detailed(
            recipe_id=recipe_id,
            client=client,
            body=body,
        )
    ).parsed
