"""Declaring handlers: ``@on(UserRegistered)`` on an async method, collected per object.

Handlers are declared next to the code they belong to (a service's methods) and
collected once, when the consumer is built, so a service lists what it listens to in
one place: its class body.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from meshkit.events.model import Envelope, Event, is_concrete

Handler = Callable[[Any, Envelope], Awaitable[None]]
"""``async def handler(event: SomeEvent, envelope: Envelope) -> None``; returning means
done (the event is acknowledged), raising means retry."""

HandlerT = TypeVar("HandlerT", bound=Callable[..., Awaitable[None]])
HANDLER_ATTR = "__meshkit_event__"


def check_event_class(event_cls: object) -> type[Event]:
    """``event_cls`` if it is a concrete :class:`Event` subclass, else ``TypeError``."""
    if not (isinstance(event_cls, type) and issubclass(event_cls, Event)):
        raise TypeError(f"expected an Event subclass, got {event_cls!r}")
    if not is_concrete(event_cls):
        raise TypeError(f"{event_cls.__qualname__} is abstract: handle its concrete events")
    return event_cls


def on(event_cls: type[Event]) -> Callable[[HandlerT], HandlerT]:
    """Mark an ``async`` function or method as the handler of ``event_cls``.

    The function is returned unchanged (still callable directly, e.g. in unit tests);
    :func:`handlers_of` finds it on an instance.
    """
    checked = check_event_class(event_cls)

    def mark(function: HandlerT) -> HandlerT:
        checked_function: Any = function  # keep HandlerT: iscoroutinefunction narrows
        if not inspect.iscoroutinefunction(checked_function):
            raise TypeError(f"@on({checked.__qualname__}) needs an async def, got {function!r}")
        setattr(function, HANDLER_ATTR, checked)
        return function

    return mark


def handlers_of(obj: object) -> dict[type[Event], Handler]:
    """The ``@on`` handlers of ``obj``'s class and its bases, bound to ``obj``.

    A method overridden in a subclass is looked up as Python would: the subclass's
    version counts, and it handles nothing unless it is decorated itself. Two methods
    handling the same event class is an error (``TypeError``), since only one can run.
    """
    found: dict[type[Event], Handler] = {}
    names: dict[type[Event], str] = {}
    seen: set[str] = set()
    for klass in type(obj).__mro__:
        for name, value in vars(klass).items():
            if name in seen:
                continue
            seen.add(name)
            event_cls = getattr(value, HANDLER_ATTR, None) if inspect.isfunction(value) else None
            if event_cls is None:
                continue
            if event_cls in found:
                raise TypeError(
                    f"{type(obj).__qualname__}: both {names[event_cls]}() and {name}() "
                    f"handle {event_cls.__qualname__}"
                )
            found[event_cls] = getattr(obj, name)
            names[event_cls] = name
    return found
