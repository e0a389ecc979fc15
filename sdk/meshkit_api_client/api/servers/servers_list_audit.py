from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.audit_entry_out import AuditEntryOut
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    before: None | str | Unset = UNSET,
    actor: None | str | Unset = UNSET,
    action: None | str | Unset = UNSET,
    target: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_before: None | str | Unset
    if isinstance(before, Unset):
        json_before = UNSET
    else:
        json_before = before
    params["before"] = json_before

    json_actor: None | str | Unset
    if isinstance(actor, Unset):
        json_actor = UNSET
    else:
        json_actor = actor
    params["actor"] = json_actor

    json_action: None | str | Unset
    if isinstance(action, Unset):
        json_action = UNSET
    else:
        json_action = action
    params["action"] = json_action

    json_target: None | str | Unset
    if isinstance(target, Unset):
        json_target = UNSET
    else:
        json_target = target
    params["target"] = json_target

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/servers/audit",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | list[AuditEntryOut]:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = AuditEntryOut.from_dict(response_200_item_data)

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
) -> Response[Problem | list[AuditEntryOut]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    before: None | str | Unset = UNSET,
    actor: None | str | Unset = UNSET,
    action: None | str | Unset = UNSET,
    target: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[Problem | list[AuditEntryOut]]:
    """The audit log, newest first: every action on hosts, jobs, deployments,

     configuration and checks, by whom, with what outcome (secrets masked).

    Needs the permission `servers:audit.read` (403 without it, checked first).

    Args:
        before (None | str | Unset): Entries older than this id.
        actor (None | str | Unset):
        action (None | str | Unset):
        target (None | str | Unset):
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[AuditEntryOut]]
    """

    kwargs = _get_kwargs(
        before=before,
        actor=actor,
        action=action,
        target=target,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    before: None | str | Unset = UNSET,
    actor: None | str | Unset = UNSET,
    action: None | str | Unset = UNSET,
    target: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Problem | list[AuditEntryOut] | None:
    """The audit log, newest first: every action on hosts, jobs, deployments,

     configuration and checks, by whom, with what outcome (secrets masked).

    Needs the permission `servers:audit.read` (403 without it, checked first).

    Args:
        before (None | str | Unset): Entries older than this id.
        actor (None | str | Unset):
        action (None | str | Unset):
        target (None | str | Unset):
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[AuditEntryOut]
    """

    return sync_detailed(
        client=client,
        before=before,
        actor=actor,
        action=action,
        target=target,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    before: None | str | Unset = UNSET,
    actor: None | str | Unset = UNSET,
    action: None | str | Unset = UNSET,
    target: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[Problem | list[AuditEntryOut]]:
    """The audit log, newest first: every action on hosts, jobs, deployments,

     configuration and checks, by whom, with what outcome (secrets masked).

    Needs the permission `servers:audit.read` (403 without it, checked first).

    Args:
        before (None | str | Unset): Entries older than this id.
        actor (None | str | Unset):
        action (None | str | Unset):
        target (None | str | Unset):
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[AuditEntryOut]]
    """

    kwargs = _get_kwargs(
        before=before,
        actor=actor,
        action=action,
        target=target,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    before: None | str | Unset = UNSET,
    actor: None | str | Unset = UNSET,
    action: None | str | Unset = UNSET,
    target: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Problem | list[AuditEntryOut] | None:
    """The audit log, newest first: every action on hosts, jobs, deployments,

     configuration and checks, by whom, with what outcome (secrets masked).

    Needs the permission `servers:audit.read` (403 without it, checked first).

    Args:
        before (None | str | Unset): Entries older than this id.
        actor (None | str | Unset):
        action (None | str | Unset):
        target (None | str | Unset):
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[AuditEntryOut]
    """

    return (
        await asyncio_detailed(
            client=client,
            before=before,
            actor=actor,
            action=action,
            target=target,
            limit=limit,
        )
    ).parsed
