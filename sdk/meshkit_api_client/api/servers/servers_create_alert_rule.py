from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.alert_rule_in import AlertRuleIn
from ...models.alert_rule_out import AlertRuleOut
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    *,
    body: AlertRuleIn,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/servers/alert-rules",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AlertRuleOut | Problem:
    if response.status_code == 201:
        response_201 = AlertRuleOut.from_dict(response.json())

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
) -> Response[AlertRuleOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: AlertRuleIn,
) -> Response[AlertRuleOut | Problem]:
    """A new alert rule, evaluated from the next sample on; 409 ``alert-rule-exists``

     when the name is taken.

    Needs the permission `servers:monitoring.manage` (403 without it, checked first).

    Args:
        body (AlertRuleIn): A new alert rule: when ``metric`` ``operator`` ``threshold`` holds on
            a host for
            ``for_seconds``, the alert fires (an ``AlertChanged`` event, posted in the operations
            channel); when it stops holding, it resolves.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AlertRuleOut | Problem]
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
    body: AlertRuleIn,
) -> AlertRuleOut | Problem | None:
    """A new alert rule, evaluated from the next sample on; 409 ``alert-rule-exists``

     when the name is taken.

    Needs the permission `servers:monitoring.manage` (403 without it, checked first).

    Args:
        body (AlertRuleIn): A new alert rule: when ``metric`` ``operator`` ``threshold`` holds on
            a host for
            ``for_seconds``, the alert fires (an ``AlertChanged`` event, posted in the operations
            channel); when it stops holding, it resolves.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AlertRuleOut | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: AlertRuleIn,
) -> Response[AlertRuleOut | Problem]:
    """A new alert rule, evaluated from the next sample on; 409 ``alert-rule-exists``

     when the name is taken.

    Needs the permission `servers:monitoring.manage` (403 without it, checked first).

    Args:
        body (AlertRuleIn): A new alert rule: when ``metric`` ``operator`` ``threshold`` holds on
            a host for
            ``for_seconds``, the alert fires (an ``AlertChanged`` event, posted in the operations
            channel); when it stops holding, it resolves.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AlertRuleOut | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: AlertRuleIn,
) -> AlertRuleOut | Problem | None:
    """A new alert rule, evaluated from the next sample on; 409 ``alert-rule-exists``

     when the name is taken.

    Needs the permission `servers:monitoring.manage` (403 without it, checked first).

    Args:
        body (AlertRuleIn): A new alert rule: when ``metric`` ``operator`` ``threshold`` holds on
            a host for
            ``for_seconds``, the alert fires (an ``AlertChanged`` event, posted in the operations
            channel); when it stops holding, it resolves.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AlertRuleOut | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
