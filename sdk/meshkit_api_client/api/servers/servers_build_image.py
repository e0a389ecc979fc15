from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.image_result import ImageResult
from ...models.problem import Problem
from ...types import UNSET, File, Response, Unset


def _get_kwargs(
    host_id: str,
    *,
    body: File,
    tag: str,
    dockerfile: str | Unset = "Dockerfile",
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    params["tag"] = tag

    params["dockerfile"] = dockerfile

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/servers/engines/{host_id}/images/build".format(
            host_id=quote(str(host_id), safe=""),
        ),
        "params": params,
    }

    _kwargs["content"] = body.payload
    headers["Content-Type"] = "application/octet-stream"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ImageResult | Problem:
    if response.status_code == 201:
        response_201 = ImageResult.from_dict(response.json())

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

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

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
) -> Response[ImageResult | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    host_id: str,
    *,
    client: AuthenticatedClient,
    body: File,
    tag: str,
    dockerfile: str | Unset = "Dockerfile",
) -> Response[ImageResult | Problem]:
    """Build an image on the host from the uploaded context (the request body) and tag

     it ``tag``. ``FROM`` may name any image the host has, so no registry is needed.
    422 ``build-failed`` with the build's last lines; 413 past
    ``MESHKIT_SERVERS_MAX_UPLOAD_BYTES``.

    Needs the permission `servers:deployments.manage` (403 without it, checked first).

    Args:
        host_id (str): A host id (a ULID).
        tag (str): The image name:tag to give the result.
        dockerfile (str | Unset): Path of the Dockerfile inside the context. Default:
            'Dockerfile'.
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ImageResult | Problem]
    """

    kwargs = _get_kwargs(
        host_id=host_id,
        body=body,
        tag=tag,
        dockerfile=dockerfile,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    host_id: str,
    *,
    client: AuthenticatedClient,
    body: File,
    tag: str,
    dockerfile: str | Unset = "Dockerfile",
) -> ImageResult | Problem | None:
    """Build an image on the host from the uploaded context (the request body) and tag

     it ``tag``. ``FROM`` may name any image the host has, so no registry is needed.
    422 ``build-failed`` with the build's last lines; 413 past
    ``MESHKIT_SERVERS_MAX_UPLOAD_BYTES``.

    Needs the permission `servers:deployments.manage` (403 without it, checked first).

    Args:
        host_id (str): A host id (a ULID).
        tag (str): The image name:tag to give the result.
        dockerfile (str | Unset): Path of the Dockerfile inside the context. Default:
            'Dockerfile'.
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ImageResult | Problem
    """

    return sync_detailed(
        host_id=host_id,
        client=client,
        body=body,
        tag=tag,
        dockerfile=dockerfile,
    ).parsed


async def asyncio_detailed(
    host_id: str,
    *,
    client: AuthenticatedClient,
    body: File,
    tag: str,
    dockerfile: str | Unset = "Dockerfile",
) -> Response[ImageResult | Problem]:
    """Build an image on the host from the uploaded context (the request body) and tag

     it ``tag``. ``FROM`` may name any image the host has, so no registry is needed.
    422 ``build-failed`` with the build's last lines; 413 past
    ``MESHKIT_SERVERS_MAX_UPLOAD_BYTES``.

    Needs the permission `servers:deployments.manage` (403 without it, checked first).

    Args:
        host_id (str): A host id (a ULID).
        tag (str): The image name:tag to give the result.
        dockerfile (str | Unset): Path of the Dockerfile inside the context. Default:
            'Dockerfile'.
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ImageResult | Problem]
    """

    kwargs = _get_kwargs(
        host_id=host_id,
        body=body,
        tag=tag,
        dockerfile=dockerfile,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    host_id: str,
    *,
    client: AuthenticatedClient,
    body: File,
    tag: str,
    dockerfile: str | Unset = "Dockerfile",
) -> ImageResult | Problem | None:
    """Build an image on the host from the uploaded context (the request body) and tag

     it ``tag``. ``FROM`` may name any image the host has, so no registry is needed.
    422 ``build-failed`` with the build's last lines; 413 past
    ``MESHKIT_SERVERS_MAX_UPLOAD_BYTES``.

    Needs the permission `servers:deployments.manage` (403 without it, checked first).

    Args:
        host_id (str): A host id (a ULID).
        tag (str): The image name:tag to give the result.
        dockerfile (str | Unset): Path of the Dockerfile inside the context. Default:
            'Dockerfile'.
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ImageResult | Problem
    """

    return (
        await asyncio_detailed(
            host_id=host_id,
            client=client,
            body=body,
            tag=tag,
            dockerfile=dockerfile,
        )
    ).parsed
