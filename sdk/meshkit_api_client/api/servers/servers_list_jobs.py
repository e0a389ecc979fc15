from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.job_out import JobOut
from ...models.problem import Problem
from ...models.servers_list_jobs_status_type_0 import ServersListJobsStatusType0
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    status: None | ServersListJobsStatusType0 | Unset = UNSET,
    before: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_status: None | str | Unset
    if isinstance(status, Unset):
        json_status = UNSET
    elif isinstance(status, ServersListJobsStatusType0):
        json_status = status.value
    else:
        json_status = status
    params["status"] = json_status

    json_before: None | str | Unset
    if isinstance(before, Unset):
        json_before = UNSET
    else:
        json_before = before
    params["before"] = json_before

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/servers/jobs",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | list[JobOut]:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = JobOut.from_dict(response_200_item_data)

            response_200.append(response_200_item)

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | list[JobOut]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    status: None | ServersListJobsStatusType0 | Unset = UNSET,
    before: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[Problem | list[JobOut]]:
    """Jobs, newest first.

     Needs the permission `servers:jobs.read` (403 without it, checked first).

    Args:
        status (None | ServersListJobsStatusType0 | Unset):
        before (None | str | Unset): Jobs older than this id.
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[JobOut]]
    """

    kwargs = _get_kwargs(
        status=status,
        before=before,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    status: None | ServersListJobsStatusType0 | Unset = UNSET,
    before: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Problem | list[JobOut] | None:
    """Jobs, newest first.

     Needs the permission `servers:jobs.read` (403 without it, checked first).

    Args:
        status (None | ServersListJobsStatusType0 | Unset):
        before (None | str | Unset): Jobs older than this id.
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[JobOut]
    """

    return sync_detailed(
        client=client,
        status=status,
        before=before,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    status: None | ServersListJobsStatusType0 | Unset = UNSET,
    before: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[Problem | list[JobOut]]:
    """Jobs, newest first.

     Needs the permission `servers:jobs.read` (403 without it, checked first).

    Args:
        status (None | ServersListJobsStatusType0 | Unset):
        before (None | str | Unset): Jobs older than this id.
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[JobOut]]
    """

    kwargs = _get_kwargs(
        status=status,
        before=before,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    status: None | ServersListJobsStatusType0 | Unset = UNSET,
    before: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Problem | list[JobOut] | None:
    """Jobs, newest first.

     Needs the permission `servers:jobs.read` (403 without it, checked first).

    Args:
        status (None | ServersListJobsStatusType0 | Unset):
        before (None | str | Unset): Jobs older than this id.
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[JobOut]
    """

    return (
        await asyncio_detailed(
            client=client,
            status=status,
            before=before,
            limit=limit,
        )
    ).parsed
