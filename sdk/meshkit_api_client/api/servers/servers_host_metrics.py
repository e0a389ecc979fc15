import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.metric_series_out import MetricSeriesOut
from ...models.problem import Problem
from ...models.servers_host_metrics_metric import ServersHostMetricsMetric
from ...types import UNSET, Response, Unset


def _get_kwargs(
    host_id: str,
    *,
    metric: ServersHostMetricsMetric,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    step: float | None | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_metric = metric.value
    params["metric"] = json_metric

    json_since: None | str | Unset
    if isinstance(since, Unset):
        json_since = UNSET
    elif isinstance(since, datetime.datetime):
        json_since = since.isoformat()
    else:
        json_since = since
    params["since"] = json_since

    json_until: None | str | Unset
    if isinstance(until, Unset):
        json_until = UNSET
    elif isinstance(until, datetime.datetime):
        json_until = until.isoformat()
    else:
        json_until = until
    params["until"] = json_until

    json_step: float | None | Unset
    if isinstance(step, Unset):
        json_step = UNSET
    else:
        json_step = step
    params["step"] = json_step

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/servers/hosts/{host_id}/metrics".format(
            host_id=quote(str(host_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> MetricSeriesOut | Problem:
    if response.status_code == 200:
        response_200 = MetricSeriesOut.from_dict(response.json())

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
) -> Response[MetricSeriesOut | Problem]:
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
    metric: ServersHostMetricsMetric,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    step: float | None | Unset = UNSET,
) -> Response[MetricSeriesOut | Problem]:
    """One metric of a host over a time range (default: the last hour), one series per

     label set (each disk, each interface, each container), oldest point first;
    ``step`` averages the samples per step.

    Needs the permission `servers:monitoring.read` (403 without it, checked first).

    Args:
        host_id (str): A host id (a ULID).
        metric (ServersHostMetricsMetric): A metric name (see `docs/servers.md`, "Monitoring").
        since (datetime.datetime | None | Unset): Start of the range (default: an hour before
            `until`).
        until (datetime.datetime | None | Unset): End of the range (default: now).
        step (float | None | Unset): Seconds per point: samples in each step are averaged. Without
            it, every sample is returned, averaged to at most 2000 points per series.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[MetricSeriesOut | Problem]
    """

    kwargs = _get_kwargs(
        host_id=host_id,
        metric=metric,
        since=since,
        until=until,
        step=step,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    host_id: str,
    *,
    client: AuthenticatedClient,
    metric: ServersHostMetricsMetric,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    step: float | None | Unset = UNSET,
) -> MetricSeriesOut | Problem | None:
    """One metric of a host over a time range (default: the last hour), one series per

     label set (each disk, each interface, each container), oldest point first;
    ``step`` averages the samples per step.

    Needs the permission `servers:monitoring.read` (403 without it, checked first).

    Args:
        host_id (str): A host id (a ULID).
        metric (ServersHostMetricsMetric): A metric name (see `docs/servers.md`, "Monitoring").
        since (datetime.datetime | None | Unset): Start of the range (default: an hour before
            `until`).
        until (datetime.datetime | None | Unset): End of the range (default: now).
        step (float | None | Unset): Seconds per point: samples in each step are averaged. Without
            it, every sample is returned, averaged to at most 2000 points per series.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        MetricSeriesOut | Problem
    """

    return sync_detailed(
        host_id=host_id,
        client=client,
        metric=metric,
        since=since,
        until=until,
        step=step,
    ).parsed


async def asyncio_detailed(
    host_id: str,
    *,
    client: AuthenticatedClient,
    metric: ServersHostMetricsMetric,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    step: float | None | Unset = UNSET,
) -> Response[MetricSeriesOut | Problem]:
    """One metric of a host over a time range (default: the last hour), one series per

     label set (each disk, each interface, each container), oldest point first;
    ``step`` averages the samples per step.

    Needs the permission `servers:monitoring.read` (403 without it, checked first).

    Args:
        host_id (str): A host id (a ULID).
        metric (ServersHostMetricsMetric): A metric name (see `docs/servers.md`, "Monitoring").
        since (datetime.datetime | None | Unset): Start of the range (default: an hour before
            `until`).
        until (datetime.datetime | None | Unset): End of the range (default: now).
        step (float | None | Unset): Seconds per point: samples in each step are averaged. Without
            it, every sample is returned, averaged to at most 2000 points per series.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[MetricSeriesOut | Problem]
    """

    kwargs = _get_kwargs(
        host_id=host_id,
        metric=metric,
        since=since,
        until=until,
        step=step,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    host_id: str,
    *,
    client: AuthenticatedClient,
    metric: ServersHostMetricsMetric,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    step: float | None | Unset = UNSET,
) -> MetricSeriesOut | Problem | None:
    """One metric of a host over a time range (default: the last hour), one series per

     label set (each disk, each interface, each container), oldest point first;
    ``step`` averages the samples per step.

    Needs the permission `servers:monitoring.read` (403 without it, checked first).

    Args:
        host_id (str): A host id (a ULID).
        metric (ServersHostMetricsMetric): A metric name (see `docs/servers.md`, "Monitoring").
        since (datetime.datetime | None | Unset): Start of the range (default: an hour before
            `until`).
        until (datetime.datetime | None | Unset): End of the range (default: now).
        step (float | None | Unset): Seconds per point: samples in each step are averaged. Without
            it, every sample is returned, averaged to at most 2000 points per series.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        MetricSeriesOut | Problem
    """

    return (
        await asyncio_detailed(
            host_id=host_id,
            client=client,
            metric=metric,
            since=since,
            until=until,
            step=step,
        )
    ).parsed
