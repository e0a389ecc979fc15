from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.deployment_out import DeploymentOut
from ...models.deployment_spec import DeploymentSpec
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    *,
    body: DeploymentSpec,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/servers/deployments",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DeploymentOut | Problem:
    if response.status_code == 201:
        response_201 = DeploymentOut.from_dict(response.json())

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

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 502:
        response_502 = Problem.from_dict(response.json())

        return response_502

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[DeploymentOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: DeploymentSpec,
) -> Response[DeploymentOut | Problem]:
    """Deploy: store version 1 of the spec and start its replicas on the host's engine.

     It answers once the containers started, without waiting for their health (see
    ``containers[].health``). 409 ``deployment-exists`` when the name is taken on the
    host; 502 ``image-unavailable`` when the image is missing and cannot be pulled;
    422 ``engine-refused`` when the engine refuses the containers.

    Needs the permission `servers:deployments.manage` (403 without it, checked first).

    Args:
        body (DeploymentSpec): What runs: one image as ``replicas`` identical containers on one
            host's engine.

            Secret ``env`` values (named in ``secret_env``, or whose names look secret: `PASSWORD`,
            `TOKEN`, `SECRET`, `API_KEY`...) are stored encrypted and masked in every answer,
            diff, log line and audit entry. A port with a fixed ``host_port`` allows one replica
            at most.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DeploymentOut | Problem]
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
    body: DeploymentSpec,
) -> DeploymentOut | Problem | None:
    """Deploy: store version 1 of the spec and start its replicas on the host's engine.

     It answers once the containers started, without waiting for their health (see
    ``containers[].health``). 409 ``deployment-exists`` when the name is taken on the
    host; 502 ``image-unavailable`` when the image is missing and cannot be pulled;
    422 ``engine-refused`` when the engine refuses the containers.

    Needs the permission `servers:deployments.manage` (403 without it, checked first).

    Args:
        body (DeploymentSpec): What runs: one image as ``replicas`` identical containers on one
            host's engine.

            Secret ``env`` values (named in ``secret_env``, or whose names look secret: `PASSWORD`,
            `TOKEN`, `SECRET`, `API_KEY`...) are stored encrypted and masked in every answer,
            diff, log line and audit entry. A port with a fixed ``host_port`` allows one replica
            at most.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DeploymentOut | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: DeploymentSpec,
) -> Response[DeploymentOut | Problem]:
    """Deploy: store version 1 of the spec and start its replicas on the host's engine.

     It answers once the containers started, without waiting for their health (see
    ``containers[].health``). 409 ``deployment-exists`` when the name is taken on the
    host; 502 ``image-unavailable`` when the image is missing and cannot be pulled;
    422 ``engine-refused`` when the engine refuses the containers.

    Needs the permission `servers:deployments.manage` (403 without it, checked first).

    Args:
        body (DeploymentSpec): What runs: one image as ``replicas`` identical containers on one
            host's engine.

            Secret ``env`` values (named in ``secret_env``, or whose names look secret: `PASSWORD`,
            `TOKEN`, `SECRET`, `API_KEY`...) are stored encrypted and masked in every answer,
            diff, log line and audit entry. A port with a fixed ``host_port`` allows one replica
            at most.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DeploymentOut | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: DeploymentSpec,
) -> DeploymentOut | Problem | None:
    """Deploy: store version 1 of the spec and start its replicas on the host's engine.

     It answers once the containers started, without waiting for their health (see
    ``containers[].health``). 409 ``deployment-exists`` when the name is taken on the
    host; 502 ``image-unavailable`` when the image is missing and cannot be pulled;
    422 ``engine-refused`` when the engine refuses the containers.

    Needs the permission `servers:deployments.manage` (403 without it, checked first).

    Args:
        body (DeploymentSpec): What runs: one image as ``replicas`` identical containers on one
            host's engine.

            Secret ``env`` values (named in ``secret_env``, or whose names look secret: `PASSWORD`,
            `TOKEN`, `SECRET`, `API_KEY`...) are stored encrypted and masked in every answer,
            diff, log line and audit entry. A port with a fixed ``host_port`` allows one replica
            at most.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DeploymentOut | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
