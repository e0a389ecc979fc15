from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.diff_out import DiffOut
from ...models.problem import Problem
from ...types import UNSET, Response


def _get_kwargs(
    config_id: str,
    *,
    from_: int,
    to: int,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["from"] = from_

    params["to"] = to

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/servers/configs/{config_id}/diff".format(
            config_id=quote(str(config_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DiffOut | Problem:
    if response.status_code == 200:
        response_200 = DiffOut.from_dict(response.json())

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
) -> Response[DiffOut | Problem]:
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
    from_: int,
    to: int,
) -> Response[DiffOut | Problem]:
    """What changed between two versions: a unified diff of a file's text plus its

     attributes, or the variables added, removed and changed (secrets masked).

    Needs the permission `servers:configs.read` (403 without it, checked first).

    Args:
        config_id (str): An id (a ULID).
        from_ (int):
        to (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DiffOut | Problem]
    """

    kwargs = _get_kwargs(
        config_id=config_id,
        from_=from_,
        to=to,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    config_id: str,
    *,
    client: AuthenticatedClient,
    from_: int,
    to: int,
) -> DiffOut | Problem | None:
    """What changed between two versions: a unified diff of a file's text plus its

     attributes, or the variables added, removed and changed (secrets masked).

    Needs the permission `servers:configs.read` (403 without it, checked first).

    Args:
        config_id (str): An id (a ULID).
        from_ (int):
        to (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DiffOut | Problem
    """

    return sync_detailed(
        config_id=config_id,
        client=client,
        from_=from_,
        to=to,
    ).parsed


async def asyncio_detailed(
    config_id: str,
    *,
    client: AuthenticatedClient,
    from_: int,
    to: int,
) -> Response[DiffOut | Problem]:
    """What changed between two versions: a unified diff of a file's text plus its

     attributes, or the variables added, removed and changed (secrets masked).

    Needs the permission `servers:configs.read` (403 without it, checked first).

    Args:
        config_id (str): An id (a ULID).
        from_ (int):
        to (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DiffOut | Problem]
    """

    kwargs = _get_kwargs(
        config_id=config_id,
        from_=from_,
        to=to,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    config_id: str,
    *,
    client: AuthenticatedClient,
    from_: int,
    to: int,
) -> DiffOut | Problem | None:
    """What changed between two versions: a unified diff of a file's text plus its

     attributes, or the variables added, removed and changed (secrets masked).

    Needs the permission `servers:configs.read` (403 without it, checked first).

    Args:
        config_id (str): An id (a ULID).
        from_ (int):
        to (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DiffOut | Problem
    """

    return (
        await asyncio_detailed(
            config_id=config_id,
            client=client,
            from_=from_,
            to=to,
        )
    ).parsed
