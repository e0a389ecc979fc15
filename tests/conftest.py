"""Shared fixtures come from meshkit's own pytest plugin (meshkit.testing)."""

import pytest

from tests.sample import GreeterPlugin, NotesService


@pytest.fixture
async def notes(service_client):
    """The sample notes service with the greeter plugin, served in-process."""
    GreeterPlugin.events.clear()
    return await service_client(NotesService, plugins=[("greeter", GreeterPlugin())])
