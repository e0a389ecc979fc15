"""One OpenAPI 3.1 document for the gateway, merged from the routed services' documents.

The gateway serves the services' paths unchanged, so their documents merge into one a
client can read (Swagger UI at ``/docs``) against the gateway's own address. Merging is a
pure function of the documents: no I/O, inputs never mutated, and the same inputs give
the same output byte for byte (services are taken in sorted name order, every mapping
is emitted sorted), so a refresh that fetched nothing new changes nothing.

What the merge guarantees (see ``docs/gateway-docs.md``):

- **Only public operations.** Operations marked ``x-meshkit-internal`` (routes declared
  ``internal=True``, for other services only) are dropped, and so is every component
  that only they used (the ``serviceApiKey`` scheme, their schemas): the merged
  document holds exactly the components reachable from published operations.
- **Paths.** A service may be mounted under a ``path_prefix``. The first service (by
  sorted name) to declare a method on a path template keeps it; a later one declaring
  the same method on the same template (parameter names ignored) is dropped with a
  warning. Path-level ``parameters`` move into the operations, so path items from
  different services merge without conflict. ``servers`` of services, path items and
  operations are dropped: clients reach everything through the gateway (``/``).
- **Components** of every kind (``schemas``, ``responses``, ``parameters``,
  ``requestBodies``, ``securitySchemes``, …) are shared when identical; a later
  service's component whose name is taken by a different one is renamed
  ``<service>__<name>``, and every reference to it in that service's part of the
  document is rewritten: ``$ref``, ``discriminator.mapping`` values and the scheme
  names of security requirements. Identity is judged after rewriting, so a schema that
  only refers to a renamed one is renamed too.
- **Tags.** Each operation is tagged with its service (one section per service in
  Swagger UI); its own finer tags are kept as ``x-meshkit-tags``. The top-level
  ``tags`` list has one entry per service, described by the service's description.
- **operationIds** stay unique: a later duplicate becomes ``<service>.<operationId>``,
  and links naming it follow.
- **Security.** ``components.securitySchemes.bearerAuth`` (HTTP bearer, JWT) is always
  declared, because meshkit services mark every operation that takes a ``Principal``
  with ``security: [{bearerAuth: []}]`` and a 401 response (``meshkit.http.openapi``).
  Operations keep exactly the security their service declared; a service-wide
  top-level ``security`` is copied into its operations that declare none. No security
  is inferred: an operation whose service declares none is public (a 401 response
  alone proves nothing: ``POST /v1/auth/login`` answers 401 to a wrong password).
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from meshkit.tokens import Principal

log = logging.getLogger("meshkit.gateway")

OPENAPI_VERSION = "3.1.0"
# The scheme every operation taking a Principal declares: shared, so never renamed.
BEARER_SCHEME, BEARER = Principal.__openapi_security__
INTERNAL = "x-meshkit-internal"
SERVICE_TAGS = "x-meshkit-tags"
SEPARATOR = "__"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
COMPONENT_REF = re.compile(r"^#/components/([A-Za-z]+)/([A-Za-z0-9._-]+)(/.*)?$")
PATH_REF = re.compile(r"^#/paths/([^/]+)(/.*)?$")
TEMPLATE = re.compile(r"\{[^}/]*\}")

Key = tuple[str, str]  # (component kind, name)


@dataclass(frozen=True)
class MergeResult:
    """The merged document and what the merge had to drop or rename, as sentences."""

    document: dict[str, Any]
    warnings: tuple[str, ...] = ()


@dataclass
class _Renames:
    """How one service's names change in the merged document."""

    components: dict[Key, str] = field(default_factory=dict)
    operation_ids: dict[str, str] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)


def merge_openapi(
    documents: Mapping[str, dict[str, Any]],
    *,
    title: str,
    version: str,
    description: str = "",
    path_prefixes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The merged OpenAPI 3.1 document of ``documents`` (service name → its document).

    Same as :func:`merge_documents`, each warning logged on ``meshkit.gateway``.
    """
    result = merge_documents(
        documents,
        title=title,
        version=version,
        description=description,
        path_prefixes=path_prefixes,
    )
    for warning in result.warnings:
        log.warning("merging OpenAPI documents: %s", warning)
    return result.document


def merge_documents(
    documents: Mapping[str, dict[str, Any]],
    *,
    title: str,
    version: str,
    description: str = "",
    path_prefixes: Mapping[str, str] | None = None,
) -> MergeResult:
    """Merge the services' documents into one, skipping the parts that are malformed.

    :param documents: each routed service's OpenAPI 3.x document, by service name.
    :param title: ``info.title`` of the result; :param version: its ``info.version``;
        :param description: its ``info.description`` (omitted when empty).
    :param path_prefixes: a prefix (``/edge``) put before every path of that service,
        for a service the gateway mounts elsewhere than where it serves its paths.
    :returns: the document and the warnings (conflicting operations dropped, documents
        skipped), in the order met; a service's document that is not OpenAPI 3 is
        skipped with a warning.
    """
    merger = _Merger()
    prefixes = path_prefixes or {}
    for name in sorted(documents):
        merger.add(name, documents[name], prefixes.get(name, ""))
    return MergeResult(merger.document(title, version, description), tuple(merger.warnings))


class _Merger:
    """Accumulates services one at a time, in sorted order (first come keeps a name)."""

    def __init__(self) -> None:
        self.components: dict[str, dict[str, Any]] = {
            "securitySchemes": {BEARER_SCHEME: copy.deepcopy(BEARER)}
        }
        self.paths: dict[str, dict[str, Any]] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.templates: dict[tuple[str, str], tuple[str, str]] = {}  # (shape, method) → owner
        self.operation_ids: set[str] = set()
        self.tags: dict[str, dict[str, Any]] = {}
        self.warnings: list[str] = []

    def add(self, service: str, original: object, prefix: str) -> None:
        if not isinstance(original, dict) or not str(original.get("openapi", "")).startswith("3."):
            self.warnings.append(f"{service}: not an OpenAPI 3 document; skipped")
            return
        if prefix and (not prefix.startswith("/") or prefix == "/"):
            self.warnings.append(f"{service}: path prefix {prefix!r} ignored (must be /…)")
            prefix = ""
        document = copy.deepcopy(original)
        info = document.get("info")
        self.tags[service] = _tag(service, info, document)
        paths = self._public_paths(service, document, prefix.rstrip("/"))
        claimed = self._claim_operations(service, paths)
        webhooks: dict[str, dict[str, Any]] = {}
        for name, item in sorted(_path_items(document.get("webhooks"), service, document).items()):
            if name in self.webhooks:
                self.warnings.append(f"{service}: webhook {name!r} already declared; dropped")
            elif item:
                webhooks[name] = item
        sources = _components(document)
        used = _reachable([claimed, webhooks], sources)
        renames = _Renames(paths={old: new for old, (new, _) in paths.items() if old != new})
        renames.components = self._component_names(service, sources, used, renames)
        renames.operation_ids = self._operation_ids(service, claimed)
        for key in sorted(used):
            kind, name = key
            content = _rewrite(sources[kind][name], renames)
            self.components.setdefault(kind, {}).setdefault(
                renames.components.get(key, name), content
            )
        for path, methods in claimed.items():
            item = self.paths.setdefault(path, {})
            for method, operation in methods.items():
                item[method] = _rewrite(operation, renames)
        for name, item in webhooks.items():
            self.webhooks[name] = _rewrite(item, renames)

    def _public_paths(
        self, service: str, document: dict[str, Any], prefix: str
    ) -> dict[str, tuple[str, dict[str, Any]]]:
        """Original path → (published path, public operations), empty items left out."""
        items = _path_items(document.get("paths"), service, document)
        result: dict[str, tuple[str, dict[str, Any]]] = {}
        for path, item in items.items():
            if not path.startswith("/"):
                self.warnings.append(f"{service}: path {path!r} does not start with '/'")
                continue
            if item:
                result[path] = (prefix + path, item)
        return result

    def _claim_operations(
        self, service: str, paths: dict[str, tuple[str, dict[str, Any]]]
    ) -> dict[str, dict[str, Any]]:
        """Operations of ``service`` no earlier service declared, by published path."""
        claimed: dict[str, dict[str, Any]] = {}
        for new_path, item in sorted(paths.values(), key=lambda pair: pair[0]):
            shape = TEMPLATE.sub("{}", new_path)
            for method, operation in item.items():
                owner = self.templates.get((shape, method))
                if owner is not None:
                    owner_service, owner_path = owner
                    self.warnings.append(
                        f"{service}: {method.upper()} {new_path} is already served by "
                        f"{owner_service} ({method.upper()} {owner_path}); dropped"
                    )
                    continue
                spelled = next(
                    (p for s, p in self.templates.values() if TEMPLATE.sub("{}", p) == shape),
                    new_path,
                )
                if spelled != new_path:  # same template, other parameter names
                    self.warnings.append(
                        f"{service}: {method.upper()} {new_path} has the template of "
                        f"{spelled} with other parameter names; dropped"
                    )
                    continue
                self.templates[(shape, method)] = (service, new_path)
                claimed.setdefault(new_path, {})[method] = operation
        return claimed

    def _operation_ids(self, service: str, claimed: dict[str, dict[str, Any]]) -> dict[str, str]:
        renamed: dict[str, str] = {}
        for path in sorted(claimed):
            for method, operation in claimed[path].items():
                operation_id = operation.get("operationId")
                if not isinstance(operation_id, str):
                    continue
                new = operation_id
                if new in self.operation_ids:
                    new = _free(f"{service}.{operation_id}", self.operation_ids)
                    self.warnings.append(
                        f"{service}: operationId {operation_id!r} of {method.upper()} {path} "
                        f"is taken; renamed {new!r}"
                    )
                    renamed[operation_id] = new
                    operation["operationId"] = new
                self.operation_ids.add(new)
        return renamed

    def _component_names(
        self,
        service: str,
        sources: dict[str, dict[str, Any]],
        used: set[Key],
        renames: _Renames,
    ) -> dict[Key, str]:
        """New names of the service's components that differ from a taken one.

        Renaming one component can make another, which refers to it, differ from its
        namesake: repeat until nothing more needs a new name (renames only grow).
        """
        chosen: dict[Key, str] = {}
        trial = _Renames(components=chosen, paths=renames.paths)
        changed = True
        while changed:
            changed = False
            for key in sorted(used):
                kind, name = key
                taken = self.components.get(kind, {})
                if key in chosen or name not in taken:
                    continue
                if _rewrite(sources[kind][name], trial) != taken[name]:
                    avoid = set(taken) | set(sources[kind])
                    avoid |= {new for (k, _), new in chosen.items() if k == kind}
                    chosen[key] = _free(f"{service}{SEPARATOR}{name}", avoid)
                    changed = True
        return chosen

    def document(self, title: str, version: str, description: str) -> dict[str, Any]:
        info: dict[str, Any] = {"title": title, "version": version}
        if description:
            info["description"] = description
        result: dict[str, Any] = {
            "openapi": OPENAPI_VERSION,
            "info": info,
            "servers": [{"url": "/"}],
            "tags": [self.tags[name] for name in sorted(self.tags)],
            "paths": {
                path: dict(sorted(item.items(), key=lambda pair: METHODS.index(pair[0])))
                for path, item in sorted(self.paths.items())
            },
        }
        if self.webhooks:
            result["webhooks"] = dict(sorted(self.webhooks.items()))
        result["components"] = {
            kind: dict(sorted(entries.items()))
            for kind, entries in sorted(self.components.items())
            if entries
        }
        return result


def _tag(service: str, info: object, document: dict[str, Any]) -> dict[str, Any]:
    """The service's top-level tag: its name, described by its ``info.description``."""
    tag: dict[str, Any] = {"name": service}
    declared = next(
        (
            t
            for t in _list(document.get("tags"))
            if isinstance(t, dict) and t.get("name") == service
        ),
        {},
    )
    text = (info.get("description") if isinstance(info, dict) else None) or declared.get(
        "description"
    )
    if isinstance(text, str) and text:
        tag["description"] = text
    docs = declared.get("externalDocs") or document.get("externalDocs")
    if isinstance(docs, dict):
        tag["externalDocs"] = docs
    return tag


def _path_items(items: object, service: str, document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each path item reduced to its public operations, ready to merge.

    Path-level ``parameters`` move into each operation (an operation's own parameter of
    the same name and location wins, as the spec says), the service's top-level
    ``security`` into operations without their own, the service's tag replaces the
    operation's tags.
    """
    if not isinstance(items, dict):
        return {}
    default_security = document.get("security")
    result: dict[str, dict[str, Any]] = {}
    for path, item in items.items():
        if not isinstance(item, dict):
            continue
        shared = [p for p in _list(item.get("parameters")) if isinstance(p, dict)]
        operations: dict[str, Any] = {}
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict) or operation.get(INTERNAL):
                continue
            if shared:
                own = _list(operation.get("parameters"))
                keys = {_parameter_key(p) for p in own}
                operation["parameters"] = [p for p in shared if _parameter_key(p) not in keys] + own
            if "security" not in operation and isinstance(default_security, list):
                operation["security"] = copy.deepcopy(default_security)
            finer = [t for t in _list(operation.get("tags")) if isinstance(t, str) and t != service]
            operation["tags"] = [service]
            if finer:
                operation[SERVICE_TAGS] = finer
            operation.pop("servers", None)
            operations[method] = operation
        result[path] = operations
    return result


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _parameter_key(parameter: object) -> tuple[str, str] | str:
    if isinstance(parameter, dict):
        if "$ref" in parameter:
            return str(parameter["$ref"])
        return str(parameter.get("name")), str(parameter.get("in"))
    return repr(parameter)


def _components(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    components = document.get("components")
    if not isinstance(components, dict):
        return {}
    return {
        kind: dict(entries)
        for kind, entries in components.items()
        if isinstance(entries, dict) and not kind.startswith("x-")
    }


def _references(node: object) -> Iterator[Key]:
    """Every component ``node`` names: ``$ref``s, discriminator mappings, schemes."""
    for ref in _refs(node):
        match = COMPONENT_REF.match(ref)
        if match:
            yield match.group(1), match.group(2)
    for requirement in _security_requirements(node):
        for scheme in requirement:
            yield "securitySchemes", scheme


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            elif key == "discriminator" and isinstance(value, dict):
                mapping = value.get("mapping")
                if isinstance(mapping, dict):
                    yield from (v for v in mapping.values() if isinstance(v, str))
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _is_requirements(value: object) -> bool:
    return isinstance(value, list) and all(
        isinstance(r, dict) and all(isinstance(s, list) for s in r.values()) for r in value
    )


def _security_requirements(node: object) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "security" and _is_requirements(value):
                yield from value
            else:
                yield from _security_requirements(value)
    elif isinstance(node, list):
        for value in node:
            yield from _security_requirements(value)


def _reachable(roots: object, sources: dict[str, dict[str, Any]]) -> set[Key]:
    """Components reachable from ``roots`` through references, transitively.

    A reference to a component the service does not define is left as it is (the
    document was already broken); it is not followed.
    """
    found: set[Key] = set()
    pending = list(_references(roots))
    while pending:
        key = pending.pop()
        kind, name = key
        if key in found or name not in sources.get(kind, {}):
            continue
        found.add(key)
        pending.extend(_references(sources[kind][name]))
    return found


def _rewrite(node: Any, renames: _Renames) -> Any:
    """A copy of ``node`` with every name the service's renames change, changed."""
    return _walk(node, lambda ref: _new_ref(ref, renames), renames)


def _walk(node: Any, ref: Callable[[str], str], renames: _Renames) -> Any:
    if isinstance(node, list):
        return [_walk(value, ref, renames) for value in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key in {"$ref", "operationRef"} and isinstance(value, str):
            result[key] = ref(value)
        elif key == "discriminator" and isinstance(value, dict):
            result[key] = {
                **value,
                **(
                    {"mapping": {k: ref(v) for k, v in value["mapping"].items()}}
                    if isinstance(value.get("mapping"), dict)
                    else {}
                ),
            }
        elif key == "security" and _is_requirements(value):
            result[key] = [
                {
                    renames.components.get(("securitySchemes", scheme), scheme): list(scopes)
                    for scheme, scopes in requirement.items()
                }
                for requirement in value
            ]
        elif key == "links" and isinstance(value, dict):
            result[key] = {
                name: _link(_walk(link, ref, renames), renames) for name, link in value.items()
            }
        else:
            result[key] = _walk(value, ref, renames)
    return result


def _link(link: Any, renames: _Renames) -> Any:
    if isinstance(link, dict) and isinstance(link.get("operationId"), str):
        return {
            **link,
            "operationId": renames.operation_ids.get(link["operationId"], link["operationId"]),
        }
    return link


def _new_ref(ref: str, renames: _Renames) -> str:
    match = COMPONENT_REF.match(ref)
    if match:
        kind, name, rest = match.group(1), match.group(2), match.group(3) or ""
        new = renames.components.get((kind, name), name)
        return f"#/components/{kind}/{new}{rest}"
    match = PATH_REF.match(ref)
    if match and renames.paths:
        path = match.group(1).replace("~1", "/").replace("~0", "~")
        new_path = renames.paths.get(path, path)
        escaped = new_path.replace("~", "~0").replace("/", "~1")
        return f"#/paths/{escaped}{match.group(2) or ''}"
    return ref


def _free(candidate: str, taken: set[str]) -> str:
    """``candidate``, or ``candidate_2``, ``_3``, … whichever is not taken."""
    if candidate not in taken:
        return candidate
    number = 2
    while f"{candidate}_{number}" in taken:
        number += 1
    return f"{candidate}_{number}"
