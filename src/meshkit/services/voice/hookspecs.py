"""The hooks the voice service owns, added to the plugin manager through
``meshkit_addhooks`` (the framework never imports a service). ``docs/plugins.md``
documents each, like the framework's own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from meshkit.hookspecs import hookspec

if TYPE_CHECKING:
    from meshkit.service import Service
    from meshkit.services.voice.audio import AudioSink


@hookspec
def meshkit_voice_audio(service: Service, room_id: str) -> AudioSink | None:
    """Subscribe to the decoded audio of a voice room (transcription, moderation).

    Called on the voice instance hosting the room each time the room's media starts
    there (its first participant or bot arrives), with every plugin's implementation.

    :param service: the voice service.
    :param room_id: the room whose media started.
    :return: an :class:`~meshkit.services.voice.audio.AudioSink` to receive each
        source's decoded audio until the room's media ends, or ``None``: not
        interested, and nothing is decoded for this plugin. When no plugin returns a
        sink, the room pays nothing. A sink is called in a thread of its own, through a
        bounded queue: a slow sink loses frames (counted, logged), it never delays the
        room. An exception from the hook is logged and counts as ``None``.
    """
