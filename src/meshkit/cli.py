"""The ``meshkit`` command: run services and inspect what is installed.

Every failure a user can cause (a bad ``MESHKIT_*`` value, an unknown service, a plugin
that does not load) ends in one line on stderr with a hint and exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from pydantic_settings import BaseSettings

from meshkit import __version__
from meshkit.app import openapi_document
from meshkit.commands import Command
from meshkit.config import ConfigError, Settings, describe, reference
from meshkit.observability import configure_logging
from meshkit.outbox import read_messages
from meshkit.plugins import PluginLoadError, PluginManager, UnknownService, get_plugin_manager
from meshkit.redis import RedisUnavailable
from meshkit.runtime import serve

EXIT_USAGE = 2


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def _port_override(text: str) -> tuple[str, int]:
    name, sep, port = text.partition("=")
    if not sep or not name or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected SERVICE=PORT (e.g. auth=4001), got {text!r}")
    return name, int(port)


BUILT_IN = frozenset({"run", "services", "plugins", "config", "openapi", "outbox"})


def build_parser(extra: Sequence[Command] = ()) -> argparse.ArgumentParser:
    """The argument parser, with the plugins' ``extra`` commands (exposed for tests)."""
    parser = argparse.ArgumentParser(
        prog="meshkit",
        description="Run meshkit services and inspect plugins, settings and API documents.",
    )
    parser.add_argument("--version", action="version", version=f"meshkit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run services in this process until SIGINT/SIGTERM")
    run.add_argument("services", nargs="+", metavar="SERVICE", help="service names, or 'all'")
    run.add_argument("--host", help="interface to listen on (default: MESHKIT_HOST)")
    run.add_argument(
        "--port",
        action="append",
        type=_port_override,
        default=[],
        metavar="SERVICE=PORT",
        help="override one service's port (repeatable)",
    )
    run.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
        type=str.upper,
        help="minimum log level (default: MESHKIT_LOG_LEVEL)",
    )

    commands.add_parser("services", help="list installed services with their plugin and version")
    commands.add_parser("plugins", help="list installed plugins and the hooks each implements")
    config = commands.add_parser("config", help="show effective settings (secrets masked)")
    config.add_argument(
        "--markdown",
        action="store_true",
        help="print the reference table of every variable and its default (docs/configuration.md)",
    )
    openapi = commands.add_parser("openapi", help="print a service's OpenAPI document")
    openapi.add_argument("service", help="service name")
    outbox = commands.add_parser(
        "outbox", help="show messages waiting in the development outbox (password resets, …)"
    )
    outbox.add_argument("--kind", help="only messages of this kind (e.g. password-reset)")
    outbox.add_argument("--last", type=int, default=20, help="how many, newest last (20)")
    for command in extra:
        if command.name in BUILT_IN:
            raise CliError(f"a plugin's command {command.name!r} clashes with a built-in one")
        sub = commands.add_parser(command.name, help=command.help)
        command.configure(sub)
    return parser


def plugin_commands(pm: PluginManager) -> list[Command]:
    """Commands contributed through ``meshkit_commands`` (names must be unique)."""
    found: dict[str, Command] = {}
    for group in pm.hook.meshkit_commands():
        for command in group or ():
            if command.name in found:
                raise CliError(f"two plugins add a command named {command.name!r}")
            found[command.name] = command
    return list(found.values())


def cmd_outbox(settings: Settings, kind: str | None, last: int) -> None:
    """Print outbox messages as JSON lines (they can hold secrets: development only)."""
    for message in read_messages(settings, kind=kind)[-max(last, 0) :]:
        print(json.dumps(message))


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def cmd_services(pm: PluginManager, settings: Settings) -> None:
    """Print installed services."""
    rows = [["SERVICE", "PORT", "PLUGIN", "VERSION", "DESCRIPTION"]]
    for name, entry in sorted(pm.services().items(), key=lambda kv: kv[1].cls.default_port):
        rows.append(
            [
                name,
                str(settings.port_for(name, entry.cls.default_port)),
                f"{entry.plugin.name} ({entry.plugin.distribution or 'local'})",
                entry.plugin.version or "-",
                entry.cls.description.strip().splitlines()[0] if entry.cls.description else "",
            ]
        )
    print(_table(rows))


def cmd_plugins(pm: PluginManager) -> None:
    """Print installed plugins and their hooks."""
    rows = [["PLUGIN", "DISTRIBUTION", "VERSION", "HOOKS"]]
    for name, info in sorted(pm.infos.items()):
        rows.append(
            [
                name,
                info.distribution or "-",
                info.version or "-",
                ", ".join(pm.hooks_of(name)) or "-",
            ]
        )
    print(_table(rows))


def markdown_reference(pm: PluginManager) -> str:
    """The configuration reference: every variable, its default and meaning, as Markdown."""
    lines = ["| Variable | Default | Description |", "| --- | --- | --- |"]
    classes: list[type[BaseSettings]] = [Settings, *pm.settings_classes()]
    for cls in classes:
        for variable, default, description in reference(cls):
            lines.append(f"| `{variable}` | {f'`{default}`' if default else ''} | {description} |")
    for name, entry in sorted(pm.services().items(), key=lambda kv: kv[1].cls.default_port):
        lines.append(
            f"| `MESHKIT_{name.upper()}_PORT` | `{entry.cls.default_port}` "
            f"| Port of the {name} service. |"
        )
    return "\n".join(lines)


def cmd_config(pm: PluginManager, settings: Settings, markdown: bool = False) -> None:
    """Print every setting with its variable, value (masked if secret) and meaning."""
    if markdown:
        print(markdown_reference(pm))
        return
    rows = [["VARIABLE", "VALUE", "DESCRIPTION"]]
    rows.extend(list(row) for row in describe(settings))
    for cls in pm.settings_classes():
        rows.extend(list(row) for row in describe(settings.section(cls)))
    print(_table(rows))


def cmd_openapi(pm: PluginManager, settings: Settings, name: str) -> None:
    """Print the OpenAPI document of one service, built without starting it."""
    service = pm.service(name).cls(settings)
    print(json.dumps(openapi_document(service, pm), indent=2))


def run(args: argparse.Namespace, extra: Sequence[Command] = ()) -> int:
    """Dispatch a parsed command; raise :class:`CliError` for user-facing failures."""
    try:
        settings = Settings.from_env()
        if args.command == "run" and args.log_level:
            settings = settings.model_copy(update={"log_level": args.log_level})
        configure_logging(settings.log_level, settings.log_format)
        pm = get_plugin_manager(settings)
        for cls in pm.settings_classes():
            settings.section(cls)
        if args.command == "services":
            cmd_services(pm, settings)
        elif args.command == "plugins":
            cmd_plugins(pm)
        elif args.command == "config":
            cmd_config(pm, settings, args.markdown)
        elif args.command == "openapi":
            cmd_openapi(pm, settings, args.service)
        elif args.command == "outbox":
            cmd_outbox(settings, args.kind, args.last)
        elif (command := next((c for c in extra if c.name == args.command), None)) is not None:
            try:
                return asyncio.run(command.run(args, settings))
            except ValueError as exc:
                raise CliError(str(exc)) from exc
        elif args.command == "run":
            for name, _ in args.port:
                pm.service(name)
            ports = dict(args.port)
            asyncio.run(serve(settings, pm, args.services, host=args.host, ports=ports))
    except ConfigError as exc:
        raise CliError(f"invalid configuration: {exc}") from exc
    except UnknownService as exc:
        raise CliError(str(exc)) from exc
    except PluginLoadError as exc:
        raise CliError(
            f"{exc} (hint: fix or uninstall the plugin, or leave it out with MESHKIT_PLUGINS)"
        ) from exc
    except RedisUnavailable as exc:
        raise CliError(f"{exc} (hint: check MESHKIT_REDIS_URL, or unset it)") from exc
    except OSError as exc:
        raise CliError(f"cannot start: {exc} (hint: is the port in use? see --port)") from exc
    return 0


def _discover_commands() -> list[Command]:
    """Plugin commands, if plugins load; otherwise none (``run`` then reports why)."""
    try:
        settings = Settings.from_env()
        return plugin_commands(get_plugin_manager(settings))
    except (ConfigError, PluginLoadError):
        return []


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``meshkit`` console script."""
    try:
        extra = _discover_commands()
        parser = build_parser(extra)
    except CliError as exc:
        print(f"meshkit: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    args = parser.parse_args(argv)
    try:
        return run(args, extra)
    except CliError as exc:
        print(f"meshkit: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
