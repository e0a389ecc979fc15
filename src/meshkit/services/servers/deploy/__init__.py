"""Deployments on hosts' Docker Engines: specs, versions, rolling updates, images.

:class:`~meshkit.services.servers.deploy.engines.Engines` reaches an engine (local or
SSH-forwarded), :class:`~meshkit.services.servers.deploy.deployments.Deployments` is the
core of every deployment operation, :class:`~meshkit.services.servers.deploy.images.Images`
builds, loads and pulls images, and :class:`~meshkit.services.servers.deploy.api.DeploymentsApi`
serves them over REST.
"""
