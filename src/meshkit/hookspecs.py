"""Every hook a meshkit plugin can implement.

Plugins are pluggy plugins registered through the ``meshkit`` entry point group; the
five built-in services use the same mechanism. Hooks are synchronous and return data;
where a hook must do I/O it returns an awaitable and says so. Every hook here is
documented in ``docs/plugins.md`` (a test keeps the two in step).
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from meshkit.commands import Command
    from meshkit.config import PluginSettings
    from meshkit.http.middleware import Middleware
    from meshkit.http.routing import Handler
    from meshkit.service import Service

PROJECT = "meshkit"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(historic=True)
def meshkit_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    """Add the hook specifications a plugin owns (pytest's ``pytest_addhooks``).

    ``historic``: called once for every plugin as it is registered, before any other
    hook of it runs, so a service that lets other plugins extend it (the voice
    service's ``meshkit_voice_audio``) declares its hooks here, in a module of its own,
    and implementations of them are checked at start like any other.

    :param pluginmanager: the manager; call ``pluginmanager.add_hookspecs(module)``.
    """


@hookspec
def meshkit_services() -> Sequence[type[Service]]:
    """Register service classes.

    :return: the :class:`~meshkit.service.Service` subclasses this plugin provides.

    Results of all plugins are combined. When two plugins register a service of the
    same name, the one called first wins; built-in services are ``trylast``, so a
    plugin can replace one by registering its own class under the same name.
    """


@hookspec
def meshkit_routes(service: Service) -> Sequence[Handler]:
    """Add HTTP routes to a service.

    :param service: the service whose app is being built; check ``service.name`` and
        return ``[]`` for services this plugin does not extend.
    :return: handlers decorated with :func:`meshkit.route` (or ``get``/``post``/…).
        They are bound and validated like the service's own routes; a parameter
        annotated with the service class receives the service instance.
    """


@hookspec
def meshkit_middlewares(service: Service) -> Sequence[Middleware]:
    """Add aiohttp middlewares to a service.

    :param service: the service whose app is being built.
    :return: ``@web.middleware`` functions. They run inside meshkit's edge
        middleware, so problems they raise become problem documents and their
        requests are logged, counted and carry a request id.
    """


@hookspec
def meshkit_startup(service: Service) -> Awaitable[None] | None:
    """React to a service having started.

    Called after the service's store and Redis are connected and its own
    ``lifespan`` set-up ran, before it accepts requests.

    :param service: the service that started.
    :return: ``None``, or an awaitable that is awaited (for plugins that do I/O).
        An exception aborts the start.
    """


@hookspec
def meshkit_shutdown(service: Service) -> Awaitable[None] | None:
    """React to a service stopping.

    Called after in-flight requests drained and before the service's own tear-down
    and the closing of its store.

    :param service: the service that is stopping.
    :return: ``None``, or an awaitable that is awaited. Exceptions are logged, and
        the shutdown goes on.
    """


@hookspec
def meshkit_settings_classes() -> Sequence[type[PluginSettings]]:
    """Contribute settings sections.

    :return: :class:`~meshkit.config.PluginSettings` subclasses, each with its own
        ``env_prefix`` (``MESHKIT_<PLUGIN>_``). They are validated at start (a bad
        value stops the process with the variable named), shown by ``meshkit config``
        with secrets masked, and loaded with ``service.settings.section(cls)``.
    """


@hookspec
def meshkit_commands() -> Sequence[Command]:
    """Add commands to the ``meshkit`` CLI.

    :return: :class:`~meshkit.commands.Command` objects; each becomes ``meshkit <name>``
        with its own arguments. A name that is already taken (a built-in command or an
        earlier plugin's) is refused at start with a clear error.
    """


@hookspec(firstresult=True)
def meshkit_send_password_reset(
    service: Service, email: str, username: str, token: str, expires_at: datetime
) -> Awaitable[None] | None:
    """Deliver a password-reset token to the account's owner.

    ``firstresult``: the first plugin that returns something other than ``None``
    delivers, and no other is called. When no plugin delivers, the auth service writes
    the message to the development outbox (``meshkit outbox``), so installing a delivery
    plugin (SMTP, an email API) is all it takes to send real mail.

    :param service: the auth service (its settings, for a delivery plugin's own section).
    :param email: where to send it.
    :param username: whom to greet.
    :param token: the single-use secret the user types or follows (never log it).
    :param expires_at: when the token stops working (UTC).
    :return: an awaitable that delivers (awaited; a failure is logged, and the user's
        request still answers the same), or ``None`` to let the next plugin deliver.
    """


@hookspec
def meshkit_message_before_create(service: Service, draft: Any) -> None:
    """Inspect, change or refuse a chat message before the messaging service stores it.

    Every plugin's implementation is called, in pluggy's order, on the same draft.

    :param service: the messaging service.
    :param draft: a ``meshkit.services.messaging.models.MessageDraft`` (``channel_id``,
        ``author_id``, ``content``, ``mentions``, ``mentions_channel``, ``attachments``,
        ``reply_to``); change its fields in place to change what is stored.
    :raises meshkit.services.messaging.messages.MessageRejected: to refuse the message;
        its detail is the reason the sender sees. A refused message is not stored and
        nobody else hears of it. Any other exception fails the send with a 500.
    """


@hookspec
def meshkit_message_created(service: Service, message: Any) -> Awaitable[None] | None:
    """React to a message the messaging service has just stored (search indexing, bots).

    :param service: the messaging service.
    :param message: the stored ``meshkit.services.messaging.models.MessageOut``.
    :return: ``None``, or an awaitable the service awaits before answering. A failure
        is logged and never fails the send: the message is already stored.
    """


@hookspec
def meshkit_notify(service: Service, notification: Any) -> Awaitable[None] | None:
    """Deliver a new notification outside meshkit (mobile push, e-mail, a pager).

    Called once per recipient for each mention or direct message the messaging service
    records, after the record is stored and after it was pushed to the recipient's open
    connections. Every plugin's implementation is called; with none installed nothing
    more happens (the record and the real-time push are meshkit's own delivery).

    :param service: the messaging service (its settings, for a delivery plugin's own
        section).
    :param notification: the stored
        ``meshkit.services.messaging.notifications.Notification`` (``id``, ``user_id``,
        ``kind``, ``channel_id``, ``message_id``, ``author_id``, ``excerpt``,
        ``created_at``, ``read_at``).
    :return: ``None``, or an awaitable the service awaits. A failure is logged and
        never fails the send nor keeps other plugins from being called.
    """


def all_hooks() -> dict[str, Any]:
    """Name → function of every hook specification in this module."""
    return {
        name: value
        for name, value in globals().items()
        if name.startswith("meshkit_") and callable(value)
    }
