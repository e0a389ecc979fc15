"""A bot account that answers every message mentioning it, in a reply.

    MESHKIT_URL=http://127.0.0.1:3000 python examples/echo_bot/echo_bot.py [--answers N]

It registers ``echo-bot`` (or logs in), prints ``ready <its user id>``, and answers each
``<@its id>`` mention in any channel it belongs to with ``echo: <the text>``. Add it to
a channel like anyone else (``PUT /v1/channels/{id}/members/{bot id}``). With
``--answers N`` it stops after N answers (the tests use that).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re

from meshkit_sdk import Conflict, MeshkitClient, MeshkitError, MessageOut

URL = os.environ.get("MESHKIT_URL", "http://127.0.0.1:3000")
NAME = os.environ.get("MESHKIT_BOT_NAME", "echo-bot")
PASSWORD = os.environ.get("MESHKIT_BOT_PASSWORD", "answers every mention quickly")


async def run(answers: int | None) -> None:
    async with MeshkitClient(URL) as client:
        with contextlib.suppress(Conflict):  # registered on an earlier run
            await client.register(email=f"{NAME}@example.test", username=NAME, password=PASSWORD)
        await client.login(NAME, PASSWORD)
        me = (await client.me()).id
        mention = re.compile(rf"\s*<@{re.escape(me)}>\s*")
        answered = 0
        done = asyncio.Event()

        async def answer(message: MessageOut) -> None:
            nonlocal answered
            if message.author_id == me or me not in (message.mentions or []):
                return
            text = mention.sub(" ", message.content).strip() or "(nothing)"
            try:
                await client.realtime.send(message.channel_id, f"echo: {text}", reply_to=message.id)
            except MeshkitError as exc:
                print(f"could not answer: {exc}", flush=True)
                return
            answered += 1
            if answers is not None and answered >= answers:
                done.set()

        client.realtime.on_message(answer)
        await client.realtime.connect()
        print(f"ready {me}", flush=True)
        await done.wait()
        await client.realtime.disconnect()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Answer mentions with an echo.")
    parser.add_argument("--answers", type=int, help="stop after this many answers")
    asyncio.run(run(parser.parse_args().answers))
