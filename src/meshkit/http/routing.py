"""Route declarations: a decorator that attaches a :class:`RouteSpec` to a handler.

Handlers are plain ``async`` functions or methods of a :class:`~meshkit.service.Service`.
Their parameters say what they need, and the binder (:mod:`meshkit.http.binding`)
supplies it validated: path parameters by name, a pydantic model named ``query`` for
the query string, any other pydantic model as the JSON body, simple typed parameters as
single query parameters, ``web.Request`` for the raw request and a ``Service``-typed
parameter for the service instance. The return annotation is the response schema.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

Handler = Callable[..., Awaitable[Any]]
H = TypeVar("H", bound=Handler)

ROUTE_ATTR = "__meshkit_route__"
PATH_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}")
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class RouteSpec:
    """Everything the app factory and the OpenAPI generator need to know about a route.

    ``handler`` may be unbound (a function declared in a class body); the service binds
    it. ``operation_id`` defaults to ``<service>.<handler name>`` so generated clients
    read well. ``status`` is the success status; a handler returning ``None`` answers 204.
    ``internal`` routes are for other services only: they require a service API key
    (header ``X-Meshkit-Api-Key``) and are hidden from the gateway's public API.
    ``permission`` is what the caller must hold (``service:resource.action``): the binder
    checks it right after authenticating, before it reads or validates anything else, so
    a caller without it gets 403 whatever they send (a 422 would tell them the rules).
    ``produces`` is the media type of a response the handler streams itself (it returns
    the ``web.StreamResponse`` it wrote): the document declares that body, binary.
    """

    method: str
    path: str
    handler: Handler
    status: int = 200
    operation_id: str | None = None
    summary: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    deprecated: bool = False
    include_in_schema: bool = True
    errors: tuple[int, ...] = ()
    internal: bool = False
    permission: str | None = None
    produces: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def path_params(self) -> tuple[str, ...]:
        """Names of the ``{placeholders}`` in the path, in order."""
        return tuple(PATH_PARAM.findall(self.path))

    @property
    def name(self) -> str:
        """The handler's name, used in default operation ids and route labels."""
        return getattr(self.handler, "__name__", "handler")

    def bound_to(self, handler: Handler) -> RouteSpec:
        """The same route served by ``handler`` (a method bound to its service)."""
        return replace(self, handler=handler)


def route(
    method: str,
    path: str,
    *,
    status: int = 200,
    operation_id: str | None = None,
    summary: str | None = None,
    description: str | None = None,
    tags: Sequence[str] = (),
    deprecated: bool = False,
    include_in_schema: bool = True,
    errors: Sequence[int] = (),
    internal: bool = False,
    permission: str | None = None,
    produces: str | None = None,
) -> Callable[[H], H]:
    """Declare ``handler`` as serving ``method path``.

    ``errors`` lists problem statuses worth documenting besides validation (422) and the
    generic default. ``internal=True`` requires a service API key (401 problem without
    one). ``permission`` is checked before the body is read (403 problem without it);
    the handler must take an authenticated principal. ``produces`` names the media type
    of a response the handler streams itself. ``summary`` defaults to the first
    line of the docstring and ``description`` to the rest.
    """
    verb = method.upper()
    if verb not in METHODS:
        raise ValueError(f"unsupported HTTP method {method!r}")
    if not path.startswith("/"):
        raise ValueError(f"route path must start with '/': {path!r}")

    def decorate(handler: H) -> H:
        doc = (handler.__doc__ or "").strip()
        first, _, rest = doc.partition("\n")
        spec = RouteSpec(
            method=verb,
            path=path,
            handler=handler,
            status=status,
            operation_id=operation_id,
            summary=summary or (first.strip() or None),
            description=description or (_dedent(rest) or None),
            tags=tuple(tags),
            deprecated=deprecated,
            include_in_schema=include_in_schema,
            errors=tuple(errors),
            internal=internal,
            permission=permission,
            produces=produces,
        )
        setattr(handler, ROUTE_ATTR, spec)
        return handler

    return decorate


def _dedent(text: str) -> str:
    return inspect.cleandoc(text) if text.strip() else ""


def get(path: str, **options: Any) -> Callable[[H], H]:
    """``route("GET", path, ...)``."""
    return route("GET", path, **options)


def post(path: str, **options: Any) -> Callable[[H], H]:
    """``route("POST", path, ...)``; pass ``status=201`` for creation."""
    return route("POST", path, **options)


def put(path: str, **options: Any) -> Callable[[H], H]:
    """``route("PUT", path, ...)``."""
    return route("PUT", path, **options)


def patch(path: str, **options: Any) -> Callable[[H], H]:
    """``route("PATCH", path, ...)``."""
    return route("PATCH", path, **options)


def delete(path: str, **options: Any) -> Callable[[H], H]:
    """``route("DELETE", path, ...)``; a handler returning ``None`` answers 204."""
    return route("DELETE", path, **options)


def route_of(handler: Callable[..., Any]) -> RouteSpec:
    """The :class:`RouteSpec` a decorated handler carries; ``TypeError`` if it has none."""
    spec = getattr(handler, ROUTE_ATTR, None)
    if not isinstance(spec, RouteSpec):
        raise TypeError(f"{handler!r} is not decorated with meshkit.route")
    return spec
