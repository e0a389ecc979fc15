"""Building the plugin manager: built-in services and third-party plugins alike.

:func:`get_plugin_manager` is a factory (never run at import time). It loads every
entry point of the ``meshkit`` group — the five built-in services are registered there
by meshkit's own ``pyproject.toml`` exactly as a third party would — honouring the
``MESHKIT_PLUGINS`` allow-list, then checks every hook implementation against the specs.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any, cast

import pluggy

from meshkit import hookspecs
from meshkit.config import PluginSettings, Settings
from meshkit.service import Service

ENTRY_POINT_GROUP = "meshkit"
log = logging.getLogger("meshkit.plugins")


class PluginLoadError(Exception):
    """A plugin could not be imported, or breaks the hook contract."""


class UnknownService(Exception):
    """A service name that no installed plugin registers."""


@dataclass(frozen=True)
class PluginInfo:
    """Where a registered plugin came from."""

    name: str
    module: str
    distribution: str | None
    version: str | None

    @property
    def builtin(self) -> bool:
        """Whether meshkit itself ships this plugin."""
        return self.distribution == "meshkit"


@dataclass(frozen=True)
class ServiceEntry:
    """A service class and the plugin that registered it."""

    cls: type[Service]
    plugin: PluginInfo


class PluginManager(pluggy.PluginManager):
    """pluggy's manager plus the provenance of each plugin, for ``meshkit plugins``."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        # each plugin's own hook specs are added as it is registered (before check_pending)
        self.hook.meshkit_addhooks.call_historic(kwargs={"pluginmanager": self})

    def register_plugin(self, plugin: object, info: PluginInfo) -> None:
        """Register ``plugin`` under ``info.name``, remembering where it came from."""
        try:
            self.register(plugin, name=info.name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            raise PluginLoadError(f"plugin {info.name!r} could not be registered: {exc}") from exc
        self.infos[info.name] = info

    def hooks_of(self, name: str) -> list[str]:
        """Names of the hooks plugin ``name`` implements."""
        plugin = self.get_plugin(name)
        callers = self.get_hookcallers(plugin) or []
        return sorted(caller.name for caller in callers)

    def services(self) -> dict[str, ServiceEntry]:
        """Every registered service by name, in call order (first registration wins)."""
        found: dict[str, ServiceEntry] = {}
        for impl in reversed(self.hook.meshkit_services.get_hookimpls()):
            info = self.infos.get(impl.plugin_name) or PluginInfo(
                impl.plugin_name, type(impl.plugin).__module__, None, None
            )
            registered = cast(Iterable[object], impl.function() or ())
            for cls in registered:
                if not (isinstance(cls, type) and issubclass(cls, Service)):
                    raise PluginLoadError(
                        f"plugin {info.name!r} registered {cls!r}, which is not a Service class"
                    )
                if cls.name in found:
                    log.info(
                        "service %r from plugin %r is overridden by plugin %r",
                        cls.name,
                        info.name,
                        found[cls.name].plugin.name,
                    )
                    continue
                found[cls.name] = ServiceEntry(cls, info)
        return found

    def service(self, name: str) -> ServiceEntry:
        """The service registered as ``name``; :class:`UnknownService` with a hint."""
        known = self.services()
        if name not in known:
            listing = ", ".join(sorted(known)) or "none"
            raise UnknownService(
                f"unknown service {name!r} (installed: {listing}); "
                "see `meshkit services`, or install the plugin that provides it"
            )
        return known[name]

    def settings_classes(self) -> list[type[PluginSettings]]:
        """Every settings section contributed through ``meshkit_settings_classes``."""
        classes: list[type[PluginSettings]] = []
        for group in self.hook.meshkit_settings_classes():
            classes.extend(cls for cls in group if cls not in classes)
        return classes


async def each_result(hook: pluggy.HookCaller, **kwargs: Any) -> list[tuple[str, Any]]:
    """Call every implementation of ``hook`` in pluggy's order (last registered and
    ``tryfirst`` first), awaiting what is awaitable; ``(plugin name, result)`` of each
    that answered something other than ``None``.

    Unlike ``hook(**kwargs)``, one plugin's exception is logged with its name and counts
    as ``None``: the other plugins are still called (hook wrappers are not run).
    """
    results: list[tuple[str, Any]] = []
    for impl in reversed(hook.get_hookimpls()):
        if impl.hookwrapper or impl.wrapper:
            continue
        try:
            result = impl.function(**{name: kwargs[name] for name in impl.argnames})
            if inspect.isawaitable(result):
                result = await result
        except Exception:
            log.exception("%s of plugin %s failed", hook.name, impl.plugin_name)
            continue
        if result is not None:
            results.append((impl.plugin_name, result))
    return results


def _info(entry_point: EntryPoint) -> PluginInfo:
    dist = entry_point.dist
    return PluginInfo(
        name=entry_point.name,
        module=entry_point.value,
        distribution=dist.metadata["Name"] if dist is not None else None,
        version=dist.version if dist is not None else None,
    )


def get_plugin_manager(
    settings: Settings | None = None,
    *,
    plugins: Iterable[tuple[str, object]] = (),
    load_entry_points: bool = True,
) -> PluginManager:
    """Build a plugin manager with every allowed installed plugin registered.

    :param settings: provides the ``MESHKIT_PLUGINS`` allow-list (all load if unset).
    :param plugins: extra ``(name, plugin)`` pairs registered directly (embedding, tests).
    :param load_entry_points: ``False`` registers only ``plugins``.
    :raises PluginLoadError: an entry point fails to import, an allowed name is not
        installed, or an implementation does not match its spec.
    """
    pm = PluginManager()
    allowed = settings.plugin_names if settings is not None else None
    if load_entry_points:
        seen: set[str] = set()
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            if entry_point.name in seen or (
                allowed is not None and entry_point.name not in allowed
            ):
                continue
            seen.add(entry_point.name)
            try:
                plugin = entry_point.load()
            except Exception as exc:
                raise PluginLoadError(
                    f"plugin {entry_point.name!r} ({entry_point.value}) failed to load: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            pm.register_plugin(plugin, _info(entry_point))
        if allowed is not None and (missing := sorted(allowed - seen)):
            raise PluginLoadError(
                f"MESHKIT_PLUGINS names plugins that are not installed: {', '.join(missing)}"
                " (see `meshkit plugins`)"
            )
    for name, plugin in plugins:
        pm.register_plugin(
            plugin, PluginInfo(name, getattr(plugin, "__name__", repr(plugin)), None, None)
        )
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginLoadError(f"plugin {exc.plugin!r} breaks the hook contract: {exc}") from exc
    return pm
