"""The development outbox: messages meshkit would send (password-reset mails, …).

Until a delivery plugin (SMTP, an email API) is installed, built-in services hand
messages to the outbox: one JSON file per message under ``<data dir>/outbox/``,
readable only by this user, shown by ``meshkit outbox``. It is for development and
tests; it is not a queue and nothing reads it automatically.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from meshkit.config import Settings
from meshkit.files import private_dir, write_private
from meshkit.store import new_id

FOLDER = "outbox"


def outbox_dir(settings: Settings) -> Path:
    """Where the outbox of this data directory is."""
    return Path(settings.data_dir) / FOLDER


def write_message(settings: Settings, *, kind: str, to: str, data: dict[str, Any]) -> Path:
    """Store one message (mode 0600 in a 0700 folder: it may hold a secret such as a
    reset token)."""
    folder = private_dir(outbox_dir(settings))
    message_id = new_id()
    path = folder / f"{message_id}.json"
    record = {
        "id": message_id,
        "kind": kind,
        "to": to,
        "created_at": datetime.now(UTC).isoformat(),
        "data": data,
    }
    write_private(path, json.dumps(record), exclusive=True)
    return path


def read_messages(settings: Settings, *, kind: str | None = None) -> list[dict[str, Any]]:
    """Messages in the outbox, oldest first (unreadable files are skipped)."""
    folder = outbox_dir(settings)
    if not folder.is_dir():
        return []
    messages = []
    for path in sorted(folder.glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if kind is None or record.get("kind") == kind:
            messages.append(record)
    return messages
