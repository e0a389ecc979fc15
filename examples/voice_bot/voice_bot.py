"""A bot that joins a voice room and plays an audio file into it.

    MESHKIT_URL=http://127.0.0.1:3000 python examples/voice_bot/voice_bot.py ROOM_ID FILE

It registers ``voice-bot`` (or logs in), joins the room, prints ``joined <room id> as
<its user id>``, plays the file (anything PyAV decodes: Ogg/Opus, WAV, MP3, …) ``--times``
times, prints ``played <file>`` and leaves. ``--listen-ip 127.0.0.1`` gathers ICE
candidates on that address only (a server on the same machine; the tests use it).
Needs the SDK's voice extra: ``pip install './sdk[voice]'``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys

from meshkit_sdk import Conflict, MeshkitClient
from meshkit_sdk.voice import CallEnded, ParticipantEvent

URL = os.environ.get("MESHKIT_URL", "http://127.0.0.1:3000")
NAME = os.environ.get("MESHKIT_BOT_NAME", "voice-bot")
PASSWORD = os.environ.get("MESHKIT_BOT_PASSWORD", "plays what it is given, loudly")


async def run(room_id: str, path: str, times: int, listen_ips: list[str]) -> int:
    async with MeshkitClient(URL) as client:
        with contextlib.suppress(Conflict):  # registered on an earlier run
            await client.register(email=f"{NAME}@example.test", username=NAME, password=PASSWORD)
        await client.login(NAME, PASSWORD)
        try:
            async with client.voice(room_id, listen_ips=listen_ips) as call:

                @call.on_participant
                def show(event: ParticipantEvent) -> None:
                    print(f"{event.kind} {event.participant.user_id}", flush=True)

                print(f"joined {room_id} as {call.user_id}", flush=True)
                for _ in range(times):
                    await call.play(path)
                print(f"played {path}", flush=True)
        except CallEnded as ended:  # kicked, room deleted, …
            print(f"the call ended: {ended.reason}", flush=True)
            return 1
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Play an audio file into a voice room.")
    parser.add_argument("room_id", help="the voice room to join")
    parser.add_argument("file", help="an audio file (Ogg/Opus, WAV, MP3, …)")
    parser.add_argument("--times", type=int, default=1, help="play it this many times")
    parser.add_argument(
        "--listen-ip",
        action="append",
        default=[],
        help="gather ICE candidates on this address only (repeatable)",
    )
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.room_id, args.file, args.times, args.listen_ip)))
