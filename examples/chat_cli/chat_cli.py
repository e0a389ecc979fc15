"""A terminal chat client: log in, pick a channel, live messages in and out.

    MESHKIT_URL=http://127.0.0.1:3000 python examples/chat_cli/chat_cli.py ada lobby

Logs in as the user (registering them the first time, with the password from
``MESHKIT_PASSWORD``), joins the public channel named on the command line (creating it
if nobody has), prints its last 20 messages, then prints every new message as it
arrives and sends each line typed. ``/quit`` (or end of input) leaves.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys

from meshkit_sdk import Conflict, MeshkitClient, MeshkitError, MessageOut

URL = os.environ.get("MESHKIT_URL", "http://127.0.0.1:3000")
PASSWORD = os.environ.get("MESHKIT_PASSWORD", "correct horse battery staple")


async def open_channel(client: MeshkitClient, name: str) -> str:
    """The id of the public channel ``name`` the user is in, joining or creating it."""
    for channel in await client.channels():
        if channel.name == name:
            return channel.id
    return (await client.create_channel(name)).id


async def lines() -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def chat(user: str, channel_name: str) -> None:
    async with MeshkitClient(URL) as client:
        with contextlib.suppress(Conflict):  # registered on an earlier run
            await client.register(email=f"{user}@example.test", username=user, password=PASSWORD)
        await client.login(user, PASSWORD)
        me = (await client.me()).id
        channel_id = await open_channel(client, channel_name)

        def show(message: MessageOut) -> None:
            if message.channel_id != channel_id:
                return
            who = "you" if message.author_id == me else message.author_id
            print(f"[{who}] {message.content}", flush=True)

        for message in await client.history(channel_id, limit=20):
            show(message)
        client.realtime.on_message(show)
        await client.realtime.connect()
        print(f"joined #{channel_name} as {user}; type to send, /quit to leave", flush=True)
        stdin = await lines()
        while True:
            raw = await stdin.readline()
            text = raw.decode().strip()
            if not raw or text == "/quit":
                break
            if not text:
                continue
            try:
                await client.realtime.send(channel_id, text)
            except MeshkitError as exc:
                print(f"! {exc.detail}", flush=True)
        await client.realtime.disconnect()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Chat in a meshkit channel from a terminal.")
    parser.add_argument("user")
    parser.add_argument("channel")
    arguments = parser.parse_args()
    asyncio.run(chat(arguments.user, arguments.channel))
