"""The client side of ``meshkit servers …``: HTTP, kept tokens, names, terminal output.

The CLI talks to the gateway (or the servers service itself) like any client would:
JSON over HTTP with a bearer token, problem documents for failures, Server-Sent Events
for live output. It depends on aiohttp only (never on the generated SDK).

- :class:`Client` sends requests; a problem answer raises :class:`ApiProblem`, a
  system that cannot be reached raises :class:`Unreachable`.
- :class:`Ctx` is what a command works with; :func:`host_id` and its kin turn a name
  into an id through the API; :func:`table`, :func:`pairs`, :func:`dump` print.
- :class:`TokenStore` keeps the access tokens ``meshkit servers login`` got, one per
  base URL, in a private file (``0600`` in a ``0700`` directory).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

from meshkit.files import private_dir, write_private

DEFAULT_URL = "http://127.0.0.1:3000"
"""The gateway on this machine (``MESHKIT_URL`` overrides it)."""
TOKENS_FILE = "servers-tokens.json"
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 300.0
"""Seconds an answer may take (a rolling update waits for health)."""
STREAM_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=CONNECT_TIMEOUT, sock_read=None)
"""A live stream may stay quiet for as long as what it follows does."""


class ApiProblem(Exception):
    """The system answered with a problem document (or another failure status)."""

    def __init__(self, status: int, document: Mapping[str, Any]) -> None:
        self.status = status
        self.document = dict(document)
        super().__init__(self.line())

    @property
    def type(self) -> str:
        """The problem's ``type`` URI (``urn:meshkit:problem:<slug>``)."""
        return str(self.document.get("type", ""))

    def line(self) -> str:
        """The problem as one line: ``title: detail`` and the fields a validation
        failure names."""
        title = str(self.document.get("title") or f"HTTP {self.status}")
        detail = str(self.document.get("detail") or "")
        if not detail or detail == title:
            text = title
        elif detail.lower().startswith(title.lower()):
            text = detail  # "no such host: X" says it all
        else:
            text = f"{title}: {detail}"
        errors = self.document.get("errors")
        if isinstance(errors, list) and errors:
            fields = []
            for error in errors[:5]:
                if isinstance(error, Mapping):
                    where = error.get("field") or ".".join(map(str, error.get("loc", ())))
                    fields.append(f"{where}: {error.get('message', '')}".strip(": "))
            if fields:
                text += " (" + "; ".join(fields) + ")"
        if self.status == 401:
            text += " (hint: log in again with `meshkit servers login`, or give --token)"
        return " ".join(text.split())


class Unreachable(Exception):
    """The system could not be reached (refused, timed out, not HTTP)."""


class Client:
    """A REST client of ``base_url`` with ``token``; use it as an async context."""

    def __init__(self, base_url: str, token: str | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Client:
        timeout = aiohttp.ClientTimeout(total=None, connect=CONNECT_TIMEOUT, sock_read=READ_TIMEOUT)
        self._session = aiohttp.ClientSession(timeout=timeout)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("use the client as `async with Client(...)`")
        return self._session

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json, application/problem+json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | list[tuple[str, str]] | None = None,
    ) -> Any:
        """``method path`` and its JSON answer (``None`` for an empty one); a failure
        status raises :class:`ApiProblem`, no answer :class:`Unreachable`."""
        url = self.base_url + path
        try:
            async with self.session.request(
                method, url, json=json_body, params=_params(params), headers=self._headers()
            ) as response:
                text = await response.text()
                body = _parse(text)
                if response.status >= 400:
                    raise ApiProblem(response.status, _problem(response, body, text))
                return body
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise Unreachable(f"cannot reach {self.base_url}: {_reason(exc)}") from exc

    async def events(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[tuple[str, Any]]:
        """The Server-Sent Events of ``GET path`` as ``(event, data)``, data parsed as
        JSON when it is; ends when the server ends the stream."""
        url = self.base_url + path
        headers = self._headers({"Accept": "text/event-stream"})
        try:
            async with self.session.get(
                url, params=_params(params), headers=headers, timeout=STREAM_TIMEOUT
            ) as response:
                if response.status >= 400:
                    text = await response.text()
                    raise ApiProblem(response.status, _problem(response, _parse(text), text))
                event, data = "message", list[str]()
                async for raw in response.content:
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    if not line:
                        if data:
                            yield event, _parse("\n".join(data))
                        event, data = "message", []
                    elif line.startswith(":"):
                        continue
                    else:
                        name, _, value = line.partition(":")
                        value = value[1:] if value.startswith(" ") else value
                        if name == "event":
                            event = value
                        elif name == "data":
                            data.append(value)
                if data:
                    yield event, _parse("\n".join(data))
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise Unreachable(f"cannot reach {self.base_url}: {_reason(exc)}") from exc


def _params(
    params: Mapping[str, Any] | list[tuple[str, str]] | None,
) -> list[tuple[str, str]] | None:
    """Query parameters without the unset ones (booleans as ``true``/``false``)."""
    if params is None:
        return None
    items = params if isinstance(params, list) else list(params.items())
    out: list[tuple[str, str]] = []
    for key, value in items:
        if value is None:
            continue
        out.append((key, str(value).lower() if isinstance(value, bool) else str(value)))
    return out


def _parse(text: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _problem(response: aiohttp.ClientResponse, body: Any, text: str) -> dict[str, Any]:
    if isinstance(body, dict) and ("title" in body or "detail" in body):
        return body
    first = text.strip().splitlines()[0][:200] if text.strip() else ""
    return {"title": f"HTTP {response.status} {response.reason or ''}".strip(), "detail": first}


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return "timed out"
    if isinstance(exc, aiohttp.ClientConnectorError):
        error = exc.os_error
        return os.strerror(error.errno) if error.errno else str(error) or "cannot connect"
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())


ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
KEY_TYPES = (
    "ssh-ed25519",
    "ssh-ed448",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
)
PAGE = 200


@dataclass
class Ctx:
    """What a handler works with: the client and the output mode."""

    client: Client
    json: bool
    url: str


# --- output ---------------------------------------------------------------------------


def out(text: str = "") -> None:
    print(text, flush=True)


def err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def dump(data: Any) -> None:
    """``data`` as indented JSON (``--json``)."""
    out(json.dumps(data, indent=2, sort_keys=False, default=str))


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print aligned columns (a header, then one line per row)."""
    text = [[str(h) for h in headers], *([_cell(c) for c in row] for row in rows)]
    widths = [max(len(row[i]) for row in text) for i in range(len(headers))]
    for row in text:
        out("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def pairs(items: Iterable[tuple[str, Any]]) -> None:
    """Print ``key: value`` lines, the keys aligned."""
    shown = [(k, _cell(v)) for k, v in items]
    width = max((len(k) for k, _ in shown), default=0)
    for key, value in shown:
        out(f"{key + ':':<{width + 1}} {value}")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "-"
    if isinstance(value, list):
        return ",".join(map(str, value)) or "-"
    return " ".join(str(value).split()) if "\n" in str(value) else str(value)


def when(value: Any) -> str:
    """An ISO time shortened to seconds, without the zone (UTC)."""
    return str(value)[:19].replace("T", " ") if value else "-"


def size(value: Any) -> str:
    """Bytes in a readable unit."""
    if not isinstance(value, int | float):
        return "-"
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if amount < 1024 or unit == "TiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return str(value)


# --- arguments ------------------------------------------------------------------------


def parse_labels(values: Sequence[str] | None) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in values or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--label wants KEY=VALUE, got {item!r}")
        labels[key] = value
    return labels


def read_input(path: str, what: str) -> str:
    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ValueError(f"cannot read the {what} {path}: {reason}") from None


def host_key_line(text: str) -> str:
    """The first key of a ``*.pub`` or ``known_hosts`` text as ``<type> <base64>``."""
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] not in KEY_TYPES and len(words) > 1:  # known_hosts: names first
            words = words[1:]
        if words[0] in KEY_TYPES and len(words) > 1:
            return f"{words[0]} {words[1]}"
    raise ValueError("no SSH public key found in the host key file")


def not_found(kind: str, ref: str) -> ApiProblem:
    return ApiProblem(404, {"title": f"{kind} not found", "detail": f"no {kind} named {ref!r}"})


async def every(ctx: Ctx, path: str, params: dict[str, Any] | None = None) -> list[Any]:
    """Every item of a paged list (``after`` = the last id)."""
    found: list[Any] = []
    after: str | None = None
    while True:
        page = await ctx.client.call(
            "GET", path, params={**(params or {}), "limit": PAGE, "after": after}
        )
        found.extend(page)
        if len(page) < PAGE:
            return found
        after = page[-1]["id"]


async def resolve(ctx: Ctx, kind: str, path: str, ref: str) -> str:
    """The id of the item named ``ref`` (or ``ref`` itself when it is an id)."""
    if ULID.match(ref):
        return ref
    matches = [item for item in await every(ctx, path) if item.get("name") == ref]
    if not matches:
        raise not_found(kind, ref)
    if len(matches) > 1:
        ids = ", ".join(m["id"] for m in matches)
        raise ValueError(f"{len(matches)} {kind}s are named {ref!r} ({ids}): give the id")
    found: str = matches[0]["id"]
    return found


async def host_id(ctx: Ctx, ref: str) -> str:
    return await resolve(ctx, "host", "/v1/servers/hosts", ref)


async def deployment_id(ctx: Ctx, ref: str) -> str:
    return await resolve(ctx, "deployment", "/v1/servers/deployments", ref)


async def config_id(ctx: Ctx, ref: str) -> str:
    return await resolve(ctx, "config", "/v1/servers/configs", ref)


async def host_names(ctx: Ctx) -> dict[str, str]:
    """Host names by id (for tables that would show ids)."""
    return {h["id"]: h["name"] for h in await every(ctx, "/v1/servers/hosts")}


def short_fields(names: list[str], most: int = 4) -> str:
    if len(names) <= most:
        return ",".join(names) or "-"
    return ",".join(names[: most - 1]) + f" (+{len(names) - most + 1} more)"


async def selector(ctx: Ctx, args: argparse.Namespace) -> dict[str, Any]:
    """A job's host selector from ``--hosts`` (ids or names) and ``--label``."""
    refs = [r for item in args.hosts or () for r in item.split(",") if r.strip()]
    labels = parse_labels(args.label)
    if not refs and not labels:
        raise ValueError("say which hosts: --hosts ID|NAME,... and/or --label KEY=VALUE")
    body: dict[str, Any] = {}
    if refs:
        body["ids"] = [await host_id(ctx, ref.strip()) for ref in refs]
    if labels:
        body["labels"] = labels
    return body


# --- tokens ---------------------------------------------------------------------------


def cli_home(env: Mapping[str, str] | None = None) -> Path:
    """Where the CLI keeps its files: ``$MESHKIT_CLI_HOME``, else
    ``$XDG_CONFIG_HOME/meshkit``, else ``~/.config/meshkit``."""
    env = os.environ if env is None else env
    if env.get("MESHKIT_CLI_HOME"):
        return Path(env["MESHKIT_CLI_HOME"])
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "meshkit"


class TokenStore:
    """Access tokens by base URL, in ``<home>/servers-tokens.json`` (private)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / TOKENS_FILE

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read {self.path}: {exc}") from None
        return data if isinstance(data, dict) else {}

    def get(self, url: str) -> str | None:
        """The token saved for ``url``, if any."""
        entry = self._read().get(url.rstrip("/"))
        token = entry.get("token") if isinstance(entry, dict) else None
        return token if isinstance(token, str) and token else None

    def save(self, url: str, token: str, login: str) -> Path:
        """Keep ``token`` (of ``login``) for ``url``; returns the file."""
        data = self._read()
        data[url.rstrip("/")] = {"token": token, "login": login}
        private_dir(self.home)
        write_private(self.path, json.dumps(data, indent=2) + "\n")
        return self.path

    def forget(self, url: str) -> bool:
        """Drop the token of ``url``; whether there was one."""
        data = self._read()
        if data.pop(url.rstrip("/"), None) is None:
            return False
        private_dir(self.home)
        write_private(self.path, json.dumps(data, indent=2) + "\n")
        return True
