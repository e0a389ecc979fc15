from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.job_log_out import JobLogOut
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    job_id: str,
    *,
    follow: bool | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["follow"] = follow

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/servers/jobs/{job_id}/log".format(
            job_id=quote(str(job_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> JobLogOut | Problem:
    if response.status_code == 200:
        response_200 = JobLogOut.from_dict(response.json())

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
) -> Response[JobLogOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    job_id: str,
    *,
    client: AuthenticatedClient,
    follow: bool | Unset = UNSET,
) -> Response[JobLogOut | Problem]:
    """A job's log: output, step and host results, as stored (bounded; the oldest

     output is dropped past `MESHKIT_SERVERS_JOB_LOG_MAX_BYTES`).

    With `Accept: text/event-stream` or `?follow=true` the answer is instead a live
    Server-Sent Events stream (`text/event-stream`): one event per entry (`event:`
    `output`, `step`, `host` or `job`; `id:` to resume with `Last-Event-ID`; `data:`
    the entry as JSON), then an `end` event (`{"status", "text"}`) when the job
    finishes, and the stream closes. Secret values are scrubbed from all of it.

    Needs the permission `servers:jobs.read` (403 without it, checked first).

    Args:
        job_id (str): An id (a ULID).
        follow (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobLogOut | Problem]
    """

    kwargs = _get_kwargs(
        job_id=job_id,
        follow=follow,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    job_id: str,
    *,
    client: AuthenticatedClient,
    follow: bool | Unset = UNSET,
) -> JobLogOut | Problem | None:
    """A job's log: output, step and host results, as stored (bounded; the oldest

     output is dropped past `MESHKIT_SERVERS_JOB_LOG_MAX_BYTES`).

    With `Accept: text/event-stream` or `?follow=true` the answer is instead a live
    Server-Sent Events stream (`text/event-stream`): one event per entry (`event:`
    `output`, `step`, `host` or `job`; `id:` to resume with `Last-Event-ID`; `data:`
    the entry as JSON), then an `end` event (`{"status", "text"}`) when the job
    finishes, and the stream closes. Secret values are scrubbed from all of it.

    Needs the permission `servers:jobs.read` (403 without it, checked first).

    Args:
        job_id (str): An id (a ULID).
        follow (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JobLogOut | Problem
    """

    return sync_detailed(
        job_id=job_id,
        client=client,
        follow=follow,
    ).parsed


async def asyncio_detailed(
    job_id: str,
    *,
    client: AuthenticatedClient,
    follow: bool | Unset = UNSET,
) -> Response[JobLogOut | Problem]:
    """A job's log: output, step and host results, as stored (bounded; the oldest

     output is dropped past `MESHKIT_SERVERS_JOB_LOG_MAX_BYTES`).

    With `Accept: text/event-stream` or `?follow=true` the answer is instead a live
    Server-Sent Events stream (`text/event-stream`): one event per entry (`event:`
    `output`, `step`, `host` or `job`; `id:` to resume with `Last-Event-ID`; `data:`
    the entry as JSON), then an `end` event (`{"status", "text"}`) when the job
    finishes, and the stream closes. Secret values are scrubbed from all of it.

    Needs the permission `servers:jobs.read` (403 without it, checked first).

    Args:
        job_id (str): An id (a ULID).
        follow (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobLogOut | Problem]
    """

    kwargs = _get_kwargs(
        job_id=job_id,
        follow=follow,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    job_id: str,
    *,
    client: AuthenticatedClient,
    follow: bool | Unset = UNSET,
) -> JobLogOut | Problem | None:
    """A job's log: output, step and host results, as stored (bounded; the oldest

     output is dropped past `MESHKIT_SERVERS_JOB_LOG_MAX_BYTES`).

    With `Accept: text/event-stream` or `?follow=true` the answer is instead a live
    Server-Sent Events stream (`text/event-stream`): one event per entry (`event:`
    `output`, `step`, `host` or `job`; `id:` to resume with `Last-Event-ID`; `data:`
    the entry as JSON), then an `end` event (`{"status", "text"}`) when the job
    finishes, and the stream closes. Secret values are scrubbed from all of it.

    Needs the permission `servers:jobs.read` (403 without it, checked first).

    Args:
        job_id (str): An id (a ULID).
        follow (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JobLogOut | Problem
    """

    return (
        await asyncio_detailed(
            job_id=job_id,
            client=client,
            follow=follow,
        )
    ).parsed
