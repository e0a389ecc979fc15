"""Instance affinity: every request about one thing reaches the one instance that holds it.

Some state cannot be shared between instances of a service: a voice room's media lives in
one process. Such a service declares :class:`Affinity` rules (which requests are about
which thing: a path parameter, or a query parameter) and records the owner of each thing
it holds under :func:`owner_key` in Redis, as its :attr:`~meshkit.service.Service.instance_id`.
The gateway reads the rules from the installed service classes, and for a matching
request prefers the instance that owns the thing; when nobody does yet (or the owner is
gone), every gateway picks the same instance by rendezvous hashing of the thing's key, so
the first requests for a new thing meet on one instance, which then claims it.

Instances tell the gateway their id in their ``/healthz`` and ``/readyz`` answers
(``instance``), which is how an owner id becomes an address.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

OWNER_PREFIX = "meshkit:affinity:"
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def owner_key(service: str, scope: str, value: str) -> str:
    """The Redis key naming the instance (its ``instance_id``) that owns a thing."""
    return f"{OWNER_PREFIX}{service}:{scope}:{value}"


@dataclass(frozen=True)
class Affinity:
    """Requests for ``path`` are about the ``scope`` thing named by ``param``.

    ``path`` is a path template (``/v1/voice/rooms/{room_id}/listen``) or a prefix ending
    in ``*`` (``/voice/socket.io/*``). ``param`` names a ``{parameter}`` of the template,
    or else a query parameter (``room``): a request without it has no affinity.
    """

    scope: str
    path: str
    param: str
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        prefix = self.path.endswith("*")
        template = self.path.rstrip("*")
        pattern = ""
        last = 0
        for match in _PARAM.finditer(template):
            pattern += re.escape(template[last : match.start()]) + f"(?P<{match[1]}>[^/]+)"
            last = match.end()
        pattern += re.escape(template[last:])
        object.__setattr__(self, "_regex", re.compile(pattern + ("" if prefix else "/?$")))

    def key(self, path: str, query: Mapping[str, str]) -> str | None:
        """The thing a request is about (``scope:value``), or None if the rule does not
        apply to it."""
        match = self._regex.match(path)
        if match is None:
            return None
        groups = match.groupdict()
        value = groups.get(self.param) if self.param in groups else query.get(self.param)
        if not value or len(value) > 200:
            return None
        return f"{self.scope}:{value}"


def affinity_key(rules: tuple[Affinity, ...], path: str, query: Mapping[str, str]) -> str | None:
    """The key of the first rule that applies to a request (``scope:value``)."""
    for rule in rules:
        found = rule.key(path, query)
        if found is not None:
            return found
    return None
