from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.alert_rule_out import AlertRuleOut
from ...models.alert_rule_patch import AlertRulePatch
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    rule_id: str,
    *,
    body: AlertRulePatch,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v1/servers/alert-rules/{rule_id}".format(
            rule_id=quote(str(rule_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AlertRuleOut | Problem:
    if response.status_code == 200:
        response_200 = AlertRuleOut.from_dict(response.json())

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
) -> Response[AlertRuleOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    rule_id: str,
    *,
    client: AuthenticatedClient,
    body: AlertRulePatch,
) -> Response[AlertRuleOut | Problem]:
    """Change a rule; disabling it resolves its firing alerts.

     Needs the permission `servers:monitoring.manage` (403 without it, checked first).

    Args:
        rule_id (str): An id (a ULID).
        body (AlertRulePatch): Fields of a rule to change; absent ones are kept (``host_id: null``
            means every
            host again).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AlertRuleOut | Problem]
    """

    kwargs = _get_kwargs(
        rule_id=rule_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    rule_id: str,
    *,
    client: AuthenticatedClient,
    body: AlertRulePatch,
) -> AlertRuleOut | Problem | None:
    """Change a rule; disabling it resolves its firing alerts.

     Needs the permission `servers:monitoring.manage` (403 without it, checked first).

    Args:
        rule_id (str): An id (a ULID).
        body (AlertRulePatch): Fields of a rule to change; absent ones are kept (``host_id: null``
            means every
            host again).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AlertRuleOut | Problem
    """

    return sync_detailed(
        rule_id=rule_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    rule_id: str,
    *,
    client: AuthenticatedClient,
    body: AlertRulePatch,
) -> Response[AlertRuleOut | Problem]:
    """Change a rule; disabling it resolves its firing alerts.

     Needs the permission `servers:monitoring.manage` (403 without it, checked first).

    Args:
        rule_id (str): An id (a ULID).
        body (AlertRulePatch): Fields of a rule to change; absent ones are kept (``host_id: null``
            means every
            host again).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AlertRuleOut | Problem]
    """

    kwargs = _get_kwargs(
        rule_id=rule_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    rule_id: str,
    *,
    client: AuthenticatedClient,
    body: AlertRulePatch,
) -> AlertRuleOut | Problem | None:
    """Change a rule; disabling it resolves its firing alerts.

     Needs the permission `servers:monitoring.manage` (403 without it, checked first).

    Args:
        rule_id (str): An id (a ULID).
        body (AlertRulePatch): Fields of a rule to change; absent ones are kept (``host_id: null``
            means every
            host again).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AlertRuleOut | Problem
    """

    return (
        await asyncio_detailed(
            rule_id=rule_id,
            client=client,
            body=body,
        )
    ).parsed
