"""Cancellation that holds even when a library swallows it.

A consumer must stop promptly and a cancelled consumer task must really end, or
``stop()`` waits out its grace period and a "killed" consumer keeps handling. On Python
3.11 ``asyncio.wait_for`` (which redis-py uses to write commands when a socket timeout
is set) returns normally if the awaited call completes in the same instant as the
cancellation, so the CancelledError never arrives. The task still records the request
(``Task.cancelling()``); these helpers act on that.
"""

from __future__ import annotations

import asyncio


def cancel_requested() -> bool:
    """Whether the current task has been asked to cancel (and has not withdrawn it)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def honour_cancel() -> None:
    """Raise CancelledError if this task has been cancelled, even when a library swallowed
    the cancellation (``asyncio.wait_for`` on Python 3.11 does when the awaited call
    completes at the same moment; redis-py uses it to write commands)."""
    if cancel_requested():
        raise asyncio.CancelledError


async def cancel_and_wait(task: asyncio.Task[None], grace: float) -> bool:
    """Cancel ``task`` and wait up to ``grace`` seconds for it to end, cancelling again
    every 0.1 s in case a cancellation was swallowed; whether it ended. Never raises
    the task's own CancelledError (only this coroutine's, if it is cancelled itself)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    while not task.done():
        remaining = deadline - loop.time()
        if remaining <= 0:
            return False
        task.cancel()
        await asyncio.wait({task}, timeout=min(remaining, 0.1))
    return True
