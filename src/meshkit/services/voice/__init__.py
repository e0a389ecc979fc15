"""The voice service plugin (built in, overridable: registered ``trylast``)."""

from collections.abc import Sequence

import pluggy

from meshkit import PluginSettings, Service, hookimpl
from meshkit.services.voice import hookspecs
from meshkit.services.voice.service import VoiceService
from meshkit.services.voice.settings import VoiceSettings

__all__ = ["VoiceService", "meshkit_addhooks", "meshkit_services", "meshkit_settings_classes"]


@hookimpl
def meshkit_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    """The voice service's own hooks (``meshkit_voice_audio``)."""
    pluginmanager.add_hookspecs(hookspecs)


@hookimpl(trylast=True)
def meshkit_services() -> Sequence[type[Service]]:
    """Register the voice service."""
    return [VoiceService]


@hookimpl
def meshkit_settings_classes() -> Sequence[type[PluginSettings]]:
    """The ``MESHKIT_VOICE_*`` section."""
    return [VoiceSettings]
