from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.job_in import JobIn
from ...models.job_out import JobOut
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    *,
    body: JobIn,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/servers/jobs",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> JobOut | Problem:
    if response.status_code == 202:
        response_202 = JobOut.from_dict(response.json())

        return response_202

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

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[JobOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: JobIn,
) -> Response[JobOut | Problem]:
    """Run a recipe (by name, or steps inline) on hosts, in `check` or `apply` mode.

     Answers at once (202) with the queued job; follow it with `GET …/jobs/{id}` or
    live with `GET …/jobs/{id}/log` (SSE) or Socket.IO (`/servers/socket.io`,
    `job.follow`). Hosts are worked on in parallel (at most `parallelism` at once);
    on each host the steps run in order and the host stops at its first failure.
    Check mode changes nothing and reports what would change, with file diffs.
    To run a job's steps again, send them (as its answer shows them) with `from_job`:
    masked secrets take that job's values (422 `masked-secret-unknown` for a mask
    nothing stands behind). 404 `recipe-not-found`, `host-not-found`, `job-not-found`;
    422 `no-hosts-selected` when the selector matches none.

    Needs the permission `servers:jobs.run` (403 without it, checked first).

    Args:
        body (JobIn): Run a recipe on hosts: in ``check`` mode (report what would change, change
            nothing) or ``apply`` mode.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobOut | Problem]
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
    body: JobIn,
) -> JobOut | Problem | None:
    """Run a recipe (by name, or steps inline) on hosts, in `check` or `apply` mode.

     Answers at once (202) with the queued job; follow it with `GET …/jobs/{id}` or
    live with `GET …/jobs/{id}/log` (SSE) or Socket.IO (`/servers/socket.io`,
    `job.follow`). Hosts are worked on in parallel (at most `parallelism` at once);
    on each host the steps run in order and the host stops at its first failure.
    Check mode changes nothing and reports what would change, with file diffs.
    To run a job's steps again, send them (as its answer shows them) with `from_job`:
    masked secrets take that job's values (422 `masked-secret-unknown` for a mask
    nothing stands behind). 404 `recipe-not-found`, `host-not-found`, `job-not-found`;
    422 `no-hosts-selected` when the selector matches none.

    Needs the permission `servers:jobs.run` (403 without it, checked first).

    Args:
        body (JobIn): Run a recipe on hosts: in ``check`` mode (report what would change, change
            nothing) or ``apply`` mode.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JobOut | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: JobIn,
) -> Response[JobOut | Problem]:
    """Run a recipe (by name, or steps inline) on hosts, in `check` or `apply` mode.

     Answers at once (202) with the queued job; follow it with `GET …/jobs/{id}` or
    live with `GET …/jobs/{id}/log` (SSE) or Socket.IO (`/servers/socket.io`,
    `job.follow`). Hosts are worked on in parallel (at most `parallelism` at once);
    on each host the steps run in order and the host stops at its first failure.
    Check mode changes nothing and reports what would change, with file diffs.
    To run a job's steps again, send them (as its answer shows them) with `from_job`:
    masked secrets take that job's values (422 `masked-secret-unknown` for a mask
    nothing stands behind). 404 `recipe-not-found`, `host-not-found`, `job-not-found`;
    422 `no-hosts-selected` when the selector matches none.

    Needs the permission `servers:jobs.run` (403 without it, checked first).

    Args:
        body (JobIn): Run a recipe on hosts: in ``check`` mode (report what would change, change
            nothing) or ``apply`` mode.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobOut | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: JobIn,
) -> JobOut | Problem | None:
    """Run a recipe (by name, or steps inline) on hosts, in `check` or `apply` mode.

     Answers at once (202) with the queued job; follow it with `GET …/jobs/{id}` or
    live with `GET …/jobs/{id}/log` (SSE) or Socket.IO (`/servers/socket.io`,
    `job.follow`). Hosts are worked on in parallel (at most `parallelism` at once);
    on each host the steps run in order and the host stops at its first failure.
    Check mode changes nothing and reports what would change, with file diffs.
    To run a job's steps again, send them (as its answer shows them) with `from_job`:
    masked secrets take that job's values (422 `masked-secret-unknown` for a mask
    nothing stands behind). 404 `recipe-not-found`, `host-not-found`, `job-not-found`;
    422 `no-hosts-selected` when the selector matches none.

    Needs the permission `servers:jobs.run` (403 without it, checked first).

    Args:
        body (JobIn): Run a recipe on hosts: in ``check`` mode (report what would change, change
            nothing) or ``apply`` mode.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JobOut | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
