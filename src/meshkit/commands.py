"""Commands plugins add to the ``meshkit`` CLI (``meshkit auth rotate-keys``, …)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from meshkit.config import Settings


@dataclass(frozen=True)
class Command:
    """One ``meshkit <name> …`` command.

    ``configure`` adds its arguments (and subcommands) to its parser; ``run`` does the
    work with the parsed arguments and the effective settings, and returns the exit
    status. Raise :class:`meshkit.cli.CliError`-worthy problems as ``ValueError`` with
    a one-line message: the CLI prints it and exits with status 2.
    """

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]
