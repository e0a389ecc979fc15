"""Route patterns in configuration: ``METHOD path``, ``*`` for any method, a path ending
in ``*`` for a prefix; ``METHOD path=name`` assigns a class (e.g. a rate-limit policy).

One parser and one matcher for every setting written this way (the gateway's public
routes and rate-limit route classes, which messaging reads too), so a pattern means the
same wherever it is used.
"""

from __future__ import annotations

from dataclasses import dataclass

from meshkit.config import ConfigError

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class RoutePattern:
    """``METHOD path`` from configuration; ``*`` is any method, a trailing ``*`` a prefix."""

    method: str
    path: str
    prefix: bool

    def matches(self, method: str, path: str) -> bool:
        """Whether a request is covered by this pattern."""
        if self.method != "*" and self.method != method:
            return False
        if self.prefix:
            return path.startswith(self.path)
        return path.rstrip("/") == self.path.rstrip("/") or path == self.path


def parse_pattern(text: str, *, setting: str) -> RoutePattern:
    """One ``METHOD path`` entry (the method may be omitted: any)."""
    parts = text.split()
    if len(parts) == 1:
        method, path = "*", parts[0]
    elif len(parts) == 2:
        method, path = parts[0].upper(), parts[1]
    else:
        raise ConfigError(f"{setting}: {text!r} must look like 'METHOD /path' or '/path*'")
    if method != "*" and method not in METHODS:
        raise ConfigError(f"{setting}: unknown method {method!r} in {text!r}")
    if not path.startswith("/"):
        raise ConfigError(f"{setting}: path {path!r} must start with '/'")
    prefix = path.endswith("*")
    return RoutePattern(method, path.rstrip("*") if prefix else path, prefix)


def parse_patterns(text: str, *, setting: str) -> list[RoutePattern]:
    """Comma-separated patterns."""
    return [parse_pattern(e.strip(), setting=setting) for e in text.split(",") if e.strip()]


def parse_classes(text: str, *, setting: str) -> list[tuple[RoutePattern, str]]:
    """``METHOD path=class`` entries, in order (the first match wins)."""
    found = []
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            continue
        pattern, sep, name = entry.rpartition("=")
        if not sep or not name.strip():
            raise ConfigError(f"{setting}: {entry!r} must look like 'METHOD /path=policy'")
        found.append((parse_pattern(pattern.strip(), setting=setting), name.strip()))
    return found
