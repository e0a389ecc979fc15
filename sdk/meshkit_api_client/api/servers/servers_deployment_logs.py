from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.log_line import LogLine
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    deployment_id: str,
    *,
    replica: int | None | Unset = UNSET,
    tail: int | Unset = 100,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_replica: int | None | Unset
    if isinstance(replica, Unset):
        json_replica = UNSET
    else:
        json_replica = replica
    params["replica"] = json_replica

    params["tail"] = tail

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/servers/deployments/{deployment_id}/logs".format(
            deployment_id=quote(str(deployment_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | list[LogLine]:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = LogLine.from_dict(response_200_item_data)

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

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | list[LogLine]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    deployment_id: str,
    *,
    client: AuthenticatedClient,
    replica: int | None | Unset = UNSET,
    tail: int | Unset = 100,
) -> Response[Problem | list[LogLine]]:
    """The last lines each replica wrote (stdout and stderr), replica by replica;

     secret env values are masked in them.

    Needs the permission `servers:deployments.read` (403 without it, checked first).

    Args:
        deployment_id (str): An id (a ULID).
        replica (int | None | Unset): Only this replica's.
        tail (int | Unset): Last lines per replica. Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[LogLine]]
    """

    kwargs = _get_kwargs(
        deployment_id=deployment_id,
        replica=replica,
        tail=tail,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    deployment_id: str,
    *,
    client: AuthenticatedClient,
    replica: int | None | Unset = UNSET,
    tail: int | Unset = 100,
) -> Problem | list[LogLine] | None:
    """The last lines each replica wrote (stdout and stderr), replica by replica;

     secret env values are masked in them.

    Needs the permission `servers:deployments.read` (403 without it, checked first).

    Args:
        deployment_id (str): An id (a ULID).
        replica (int | None | Unset): Only this replica's.
        tail (int | Unset): Last lines per replica. Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[LogLine]
    """

    return sync_detailed(
        deployment_id=deployment_id,
        client=client,
        replica=replica,
        tail=tail,
    ).parsed


async def asyncio_detailed(
    deployment_id: str,
    *,
    client: AuthenticatedClient,
    replica: int | None | Unset = UNSET,
    tail: int | Unset = 100,
) -> Response[Problem | list[LogLine]]:
    """The last lines each replica wrote (stdout and stderr), replica by replica;

     secret env values are masked in them.

    Needs the permission `servers:deployments.read` (403 without it, checked first).

    Args:
        deployment_id (str): An id (a ULID).
        replica (int | None | Unset): Only this replica's.
        tail (int | Unset): Last lines per replica. Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[LogLine]]
    """

    kwargs = _get_kwargs(
        deployment_id=deployment_id,
        replica=replica,
        tail=tail,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    deployment_id: str,
    *,
    client: AuthenticatedClient,
    replica: int | None | Unset = UNSET,
    tail: int | Unset = 100,
) -> Problem | list[LogLine] | None:
    """The last lines each replica wrote (stdout and stderr), replica by replica;

     secret env values are masked in them.

    Needs the permission `servers:deployments.read` (403 without it, checked first).

    Args:
        deployment_id (str): An id (a ULID).
        replica (int | None | Unset): Only this replica's.
        tail (int | Unset): Last lines per replica. Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[LogLine]
    """

    return (
        await asyncio_detailed(
            deployment_id=deployment_id,
            client=client,
            replica=replica,
            tail=tail,
        )
    ).parsed
