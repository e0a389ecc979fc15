"""``meshkit gateway …``: what the gateway publishes, without running anything."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from meshkit.commands import Command
from meshkit.config import Settings
from meshkit.plugins import get_plugin_manager
from meshkit.services.gateway.docs import installed_documents, merged_document
from meshkit.services.gateway.service import GatewayService


def configure(parser: argparse.ArgumentParser) -> None:
    """``openapi [--output FILE]``."""
    actions = parser.add_subparsers(dest="gateway_action", required=True, metavar="ACTION")
    openapi = actions.add_parser(
        "openapi", help="the merged OpenAPI document of every installed service"
    )
    openapi.add_argument(
        "--output", type=Path, help="write it to this file (default: standard output)"
    )


def render(settings: Settings) -> str:
    """The merged document as stable JSON (sorted keys, two-space indent, final newline).

    Stable text is what makes the committed ``sdk/openapi.json`` diffable and lets CI
    tell a stale SDK from a current one.
    """
    pm = get_plugin_manager(settings)
    documents, _ = installed_documents(settings, pm)
    document = merged_document(documents, GatewayService.version)
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Print or write the document."""
    text = render(settings)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    return 0


GATEWAY_COMMAND = Command(
    "gateway", "the gateway's merged API description (for the SDK)", configure, run
)
