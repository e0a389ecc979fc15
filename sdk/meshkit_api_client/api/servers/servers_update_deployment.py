from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.deployment_version_out import DeploymentVersionOut
from ...models.problem import Problem
from ...models.spec_update import SpecUpdate
from ...types import UNSET, Response, Unset


def _get_kwargs(
    deployment_id: str,
    *,
    body: SpecUpdate,
    wait: bool | Unset = True,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    params["wait"] = wait

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/servers/deployments/{deployment_id}/versions".format(
            deployment_id=quote(str(deployment_id), safe=""),
        ),
        "params": params,
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DeploymentVersionOut | Problem:
    if response.status_code == 200:
        response_200 = DeploymentVersionOut.from_dict(response.json())

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

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[DeploymentVersionOut | Problem]:
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
    body: SpecUpdate,
    wait: bool | Unset = True,
) -> Response[DeploymentVersionOut | Problem]:
    """Rolling update to a new spec version.

     Each new container starts beside an old one, which is stopped only once the new
    one is healthy; when a new one turns unhealthy, exits or is not ready in time,
    the rollout is rolled back by itself (the old containers served throughout) and
    the version is answered ``failed`` with the reason. 409 ``deployment-busy``
    while another change of it runs, ``deployment-stopped`` when stopped. A secret
    env value sent back as ``********`` keeps its stored value.

    Needs the permission `servers:deployments.manage` (403 without it, checked first).

    Args:
        deployment_id (str): An id (a ULID).
        wait (bool | Unset): Answer once the rollout ended (the version is `active`, or `failed`
            and rolled back). `false`: answer at once with the version `rolling_out`; poll it (`GET
            …/versions/{number}`). Default: True.
        body (SpecUpdate): A new version of a deployment's spec, rolled out replica by replica.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DeploymentVersionOut | Problem]
    """

    kwargs = _get_kwargs(
        deployment_id=deployment_id,
        body=body,
        wait=wait,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    deployment_id: str,
    *,
    client: AuthenticatedClient,
    body: SpecUpdate,
    wait: bool | Unset = True,
) -> DeploymentVersionOut | Problem | None:
    """Rolling update to a new spec version.

     Each new container starts beside an old one, which is stopped only once the new
    one is healthy; when a new one turns unhealthy, exits or is not ready in time,
    the rollout is rolled back by itself (the old containers served throughout) and
    the version is answered ``failed`` with the reason. 409 ``deployment-busy``
    while another change of it runs, ``deployment-stopped`` when stopped. A secret
    env value sent back as ``********`` keeps its stored value.

    Needs the permission `servers:deployments.manage` (403 without it, checked first).

    Args:
        deployment_id (str): An id (a ULID).
        wait (bool | Unset): Answer once the rollout ended (the version is `active`, or `failed`
            and rolled back). `false`: answer at once with the version `rolling_out`; poll it (`GET
            …/versions/{number}`). Default: True.
        body (SpecUpdate): A new version of a deployment's spec, rolled out replica by replica.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DeploymentVersionOut | Problem
    """

    return sync_detailed(
        deployment_id=deployment_id,
        client=client,
        body=body,
        wait=wait,
    ).parsed


async def asyncio_detailed(
    deployment_id: str,
    *,
    client: AuthenticatedClient,
    body: SpecUpdate,
    wait: bool | Unset = True,
) -> Response[DeploymentVersionOut | Problem]:
    """Rolling update to a new spec version.

     Each new container starts beside an old one, which is stopped only once the new
    one is healthy; when a new one turns unhealthy, exits or is not ready in time,
    the rollout is rolled back by itself (the old containers served throughout) and
    the version is answered ``failed`` with the reason. 409 ``deployment-busy``
    while another change of it runs, ``deployment-stopped`` when stopped. A secret
    env value sent back as ``********`` keeps its stored value.

    Needs the permission `servers:deployments.manage` (403 without it, checked first).

    Args:
        deployment_id (str): An id (a ULID).
        wait (bool | Unset): Answer once the rollout ended (the version is `active`, or `failed`
            and rolled back). `false`: answer at once with the version `rolling_out`; poll it (`GET
            …/versions/{number}`). Default: True.
        body (SpecUpdate): A new version of a deployment's spec, rolled out replica by replica.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DeploymentVersionOut | Problem]
    """

    kwargs = _get_kwargs(
        deployment_id=deployment_id,
        body=body,
        wait=wait,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    deployment_id: str,
    *,
    client: AuthenticatedClient,
    body: SpecUpdate,
    wait: bool | Unset = True,
) -> DeploymentVersionOut | Problem | None:
    """Rolling update to a new spec version.

     Each new container starts beside an old one, which is stopped only once the new
    one is healthy; when a new one turns unhealthy, exits or is not ready in time,
    the rollout is rolled back by itself (the old containers served throughout) and
    the version is answered ``failed`` with the reason. 409 ``deployment-busy``
    while another change of it runs, ``deployment-stopped`` when stopped. A secret
    env value sent back as ``********`` keeps its stored value.

    Needs the permission `servers:deployments.manage` (403 without it, checked first).

    Args:
        deployment_id (str): An id (a ULID).
        wait (bool | Unset): Answer once the rollout ended (the version is `active`, or `failed`
            and rolled back). `false`: answer at once with the version `rolling_out`; poll it (`GET
            …/versions/{number}`). Default: True.
        body (SpecUpdate): A new version of a deployment's spec, rolled out replica by replica.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DeploymentVersionOut | Problem
    """

    return (
        await asyncio_detailed(
            deployment_id=deployment_id,
            client=client,
            body=body,
            wait=wait,
        )
    ).parsed
