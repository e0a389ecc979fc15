"""Deployments on hosts' Docker Engines: specs, versions, rolling updates, images.

:class:`~meshkit.services.servers.deploy.engines.Engines` reaches an engine (local or
SSH-forwarded), :class:`~meshkit.services.servers.deploy.deployments.Deployments` is the
core of every deployment operation (its rollouts run in
:mod:`~meshkit.services.servers.deploy.rollout`, its changes are claimed across instances
in :mod:`~meshkit.services.servers.deploy.leases`, its secret env values sealed in
:mod:`~meshkit.services.servers.deploy.sealing`),
:class:`~meshkit.services.servers.deploy.images.Images`
builds, loads and pulls images, and :class:`~meshkit.services.servers.deploy.api.DeploymentsApi`
serves them over REST.
"""
