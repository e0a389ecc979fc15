"""meshkit in ten lines: log in, send a message, print what arrives.

MESHKIT_URL=http://127.0.0.1:3000 python examples/quickstart.py
"""

import asyncio
import contextlib
import os

from meshkit_sdk import Conflict, MeshkitClient, MessageOut

URL = os.environ.get("MESHKIT_URL", "http://127.0.0.1:3000")
USER, PASSWORD = os.environ.get("MESHKIT_USER", "ada"), "correct horse battery staple"


async def main() -> None:
    async with MeshkitClient(URL) as client:
        with contextlib.suppress(Conflict):  # registered on an earlier run
            await client.register(email=f"{USER}@example.test", username=USER, password=PASSWORD)
        await client.login(USER, PASSWORD)
        channel = await client.create_channel("quickstart")
        received = asyncio.Event()

        def show(message: MessageOut) -> None:
            print(f"received in #{channel.name}: {message.content}")
            received.set()

        client.realtime.on_message(show)
        await client.realtime.connect()
        await client.realtime.send(channel.id, "hello, meshkit")
        await asyncio.wait_for(received.wait(), 10)
        await client.realtime.disconnect()


if __name__ == "__main__":
    asyncio.run(main())
