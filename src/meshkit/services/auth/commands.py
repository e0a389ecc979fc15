"""``meshkit auth …``: signing-key rotation and service API keys from the command line.

These work on the auth service's store and Redis directly (same ``MESHKIT_*``
settings as the running service), so an operator can act without an admin token.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from meshkit.commands import Command
from meshkit.config import Settings
from meshkit.errors import NotFound
from meshkit.redis import open_redis
from meshkit.services.auth.apikeys import ApiKeys
from meshkit.services.auth.keys import SigningKeys, signing_algorithm
from meshkit.services.auth.models import ApiKey, SigningKey
from meshkit.services.auth.settings import AuthSettings
from meshkit.store import Store, open_store


def configure(parser: argparse.ArgumentParser) -> None:
    """``rotate-keys``, ``api-keys create|list|revoke``."""
    actions = parser.add_subparsers(dest="auth_action", required=True, metavar="ACTION")
    actions.add_parser("rotate-keys", help="start signing tokens with a new key")
    keys = actions.add_parser("api-keys", help="service API keys")
    key_actions = keys.add_subparsers(dest="key_action", required=True, metavar="ACTION")
    create = key_actions.add_parser("create", help="create a key (printed once)")
    create.add_argument("name")
    create.add_argument(
        "--scope",
        action="append",
        default=[],
        help="service:<name>, service:* or * (repeatable; at least one)",
    )
    key_actions.add_parser("list", help="list keys (never the keys themselves)")
    revoke = key_actions.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("key_id")


@asynccontextmanager
async def _auth_store(settings: Settings) -> AsyncIterator[Store]:
    store = await open_store(settings, service="auth")
    try:
        await store.ensure_indexes([ApiKey, SigningKey])
        yield store
    finally:
        await store.close()


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Carry out one ``meshkit auth`` action."""
    async with _auth_store(settings) as store:
        if args.auth_action == "rotate-keys":
            config = settings.section(AuthSettings)
            fresh = await SigningKeys(
                store,
                algorithm=signing_algorithm(settings.jwt_algorithms),
                token_ttl=config.access_token_ttl,
                publish_delay=config.key_publish_delay,
            ).rotate()
            activates = fresh.activates_at.isoformat() if fresh.activates_at else None
            print(
                json.dumps(
                    {"kid": fresh.kid, "algorithm": fresh.algorithm, "activates_at": activates}
                )
            )
            return 0
        async with open_redis(settings) as redis:
            keys = ApiKeys(store, redis)
            if args.key_action == "create":
                if not args.scope:
                    raise ValueError("give at least one --scope (e.g. --scope service:messaging)")
                record, key = await keys.create(args.name, args.scope, by="cli")
                print(
                    json.dumps(
                        {"id": record.id, "name": record.name, "scopes": record.scopes, "key": key}
                    )
                )
            elif args.key_action == "list":
                for record in await keys.list():
                    print(
                        json.dumps(
                            {
                                "id": record.id,
                                "name": record.name,
                                "prefix": record.prefix,
                                "scopes": record.scopes,
                                "revoked": record.revoked_at is not None,
                            }
                        )
                    )
            else:
                try:
                    record = await keys.revoke(args.key_id)
                except NotFound as exc:
                    raise ValueError(exc.detail) from None
                print(json.dumps({"id": record.id, "revoked": True}))
    return 0


AUTH_COMMAND = Command("auth", "auth service administration", configure, run)
