"""Which service serves a path, and which configured pattern a request matches.

The route table maps path prefixes to services. It is built from what the installed
services declare — ``/v1/<service>``, the literal head of every public path template in
their OpenAPI documents (``/v1/roles/{name}`` gives ``/v1/roles``) and their ``gateway_prefixes``
(paths outside OpenAPI, like ``/socket.io``) — plus overrides from
``MESHKIT_GATEWAY_ROUTES``. A request goes to the longest prefix that matches on a
segment boundary, so ``/v1/roles`` never captures ``/v1/rolesx``.

The table also knows each service's path templates and their methods, so the gateway
answers ``OPTIONS`` and refuses a method no upstream route serves (405, with the
route's real ``Allow``) itself, before any token is asked for.

Operations a service marks internal (``x-meshkit-internal``) and anything under
``/internal/`` are never routed: the gateway calls upstreams with its own service API
key, which such routes accept.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from meshkit.config import ConfigError
from meshkit.http.patterns import METHODS

log = logging.getLogger("meshkit.gateway")
INTERNAL_PREFIX = "/internal"


def literal_head(template: str) -> str:
    """The segments of ``template`` before its first ``{parameter}``."""
    segments = []
    for segment in template.strip("/").split("/"):
        if "{" in segment:
            break
        segments.append(segment)
    return "/" + "/".join(segments) if segments else "/"


def _normalise(prefix: str) -> str:
    prefix = "/" + prefix.strip().strip("/")
    return prefix


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    body = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
    return re.compile(f"^{body}/?$")


def under(path: str, prefix: str) -> bool:
    """Whether ``path`` is ``prefix`` or below it, on a segment boundary."""
    if prefix == "/":
        return True
    return path == prefix or path.startswith(prefix + "/")


@dataclass
class RouteTable:
    """Longest-prefix routing of paths to service names."""

    prefixes: dict[str, str] = field(default_factory=dict)
    internal: list[re.Pattern[str]] = field(default_factory=list)
    templates: dict[str, list[tuple[re.Pattern[str], frozenset[str]]]] = field(default_factory=dict)
    """Per service, each public path template and the methods its document declares
    (``HEAD`` wherever ``GET`` is: every meshkit ``GET`` route answers it)."""

    @classmethod
    def build(
        cls,
        documents: Mapping[str, Mapping[str, Any]],
        extra_prefixes: Mapping[str, Iterable[str]],
        overrides: str | None,
    ) -> RouteTable:
        """The table for these services' documents, extra prefixes and overrides.

        Two services claiming the same prefix is a configuration error unless an
        override settles it.
        """
        claims: dict[str, set[str]] = {}
        table = cls()
        for service, document in sorted(documents.items()):
            claims.setdefault(f"/v1/{service}", set()).add(service)
            for template, operations in (document.get("paths") or {}).items():
                internal = isinstance(operations, Mapping) and any(
                    isinstance(op, Mapping) and op.get("x-meshkit-internal")
                    for op in operations.values()
                )
                if internal:
                    table.internal.append(_template_regex(template))
                    continue
                claims.setdefault(literal_head(template), set()).add(service)
                methods = _methods(operations)
                if methods:
                    table.templates.setdefault(service, []).append(
                        (_template_regex(template), methods)
                    )
        for service, prefixes in sorted(extra_prefixes.items()):
            for prefix in prefixes:
                claims.setdefault(_normalise(prefix), set()).add(service)
        overridden = parse_overrides(overrides)
        for prefix, services in sorted(claims.items()):
            if prefix in overridden:
                continue
            if len(services) > 1:
                raise ConfigError(
                    f"services {sorted(services)} all serve {prefix!r}: settle it with "
                    f"MESHKIT_GATEWAY_ROUTES={prefix}=<service>"
                )
            table.prefixes[prefix] = next(iter(services))
        table.prefixes.update(overridden)
        return table

    def match(self, path: str, raw_path: str | None = None) -> str | None:
        """The service for ``path``, or ``None`` (not routed, internal or unknown).

        ``raw_path`` is the path as sent (percent-encoded): the upstream's router matches
        that one, where ``a%2Fb`` is one segment, so internal templates are checked
        against both forms. Tries ``path`` and each shorter segment prefix in turn (a
        few dict lookups, whatever the size of the table).
        """
        forms = (path,) if raw_path is None or raw_path == path else (path, raw_path)
        for form in forms:
            if under(form, INTERNAL_PREFIX) or any(p.match(form) for p in self.internal):
                return None
        candidate = path.rstrip("/") or "/"
        while True:
            service = self.prefixes.get(candidate)
            if service is not None:
                return service
            if candidate == "/":
                return None
            candidate = candidate.rpartition("/")[0] or "/"

    def allowed_methods(self, service: str, path: str) -> frozenset[str] | None:
        """The methods ``service``'s document declares for ``path`` (the union over every
        template that matches it, as its router would answer), or ``None`` when no
        template matches (a path outside the document, e.g. ``/socket.io/``)."""
        found: set[str] = set()
        matched = False
        for pattern, methods in self.templates.get(service, ()):
            if pattern.match(path):
                matched = True
                found |= methods
        return frozenset(found) if matched else None

    def services(self) -> set[str]:
        """Every service some prefix routes to."""
        return set(self.prefixes.values())


def _methods(operations: object) -> frozenset[str]:
    """The HTTP methods of an OpenAPI path item (``HEAD`` added where ``GET`` is)."""
    if not isinstance(operations, Mapping):
        return frozenset()
    methods = {str(key).upper() for key in operations} & METHODS
    if "GET" in methods:
        methods.add("HEAD")
    return frozenset(methods)


def parse_overrides(text: str | None) -> dict[str, str]:
    """``/a=svc,/b=svc2`` as a mapping; :class:`ConfigError` on a malformed entry."""
    found: dict[str, str] = {}
    for raw in (text or "").split(","):
        entry = raw.strip()
        if not entry:
            continue
        prefix, sep, service = entry.partition("=")
        if not sep or not prefix.strip().startswith("/") or not service.strip():
            raise ConfigError(
                f"MESHKIT_GATEWAY_ROUTES: {entry!r} must look like /path/prefix=service"
            )
        found[_normalise(prefix)] = service.strip()
    return found
