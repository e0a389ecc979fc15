"""Turn a declared handler into an aiohttp handler that validates what it receives.

At app build time the handler's signature is read once into a :class:`Binding`; per
request the binding parses path, query and body with pydantic, collects *every* failure
into one :class:`~meshkit.errors.ValidationFailed`, calls the handler and serialises
its return value with the response ``TypeAdapter``.
"""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError

from meshkit.errors import (
    FieldError,
    Forbidden,
    MalformedBody,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from meshkit.http.bodies import RawBody, Upload, check_media_type, read_upload
from meshkit.http.routing import RouteSpec

JSON = "application/json"
NO_CONTENT = 204


@dataclass(frozen=True)
class PerRequest:
    """A context value computed for each request, before anything else is validated.

    The app supplies, say, the authenticated principal this way: a handler that takes a
    ``Principal`` parameter is only called for an authenticated request, and an
    unauthenticated one is refused before its body is even read.
    """

    resolve: Callable[[web.Request], Awaitable[Any]]


@runtime_checkable
class HoldsPermissions(Protocol):
    """A per-request context value that can answer a route's ``permission`` check."""

    def has_permission(self, permission: str) -> bool:
        """Whether the caller holds ``permission``."""
        ...


@dataclass(frozen=True)
class Param:
    """A single path or query parameter the handler takes by name."""

    name: str
    location: str
    adapter: TypeAdapter[Any]
    annotation: Any
    required: bool
    default: Any = None


@dataclass
class Binding:
    """What a handler needs from a request, resolved once from its signature."""

    spec: RouteSpec
    params: list[Param] = field(default_factory=list)
    query_model: type[BaseModel] | None = None
    query_arg: str | None = None
    body_model: type[BaseModel] | None = None
    body_arg: str | None = None
    upload_rule: RawBody | None = None
    upload_arg: str | None = None
    upload_limit: int = 0
    request_arg: str | None = None
    context_args: dict[str, type] = field(default_factory=dict)
    response_type: Any = None
    response_adapter: TypeAdapter[Any] | None = None

    @property
    def status(self) -> int:
        """Success status: 204 when the handler returns nothing, else the declared one."""
        if self.response_type is None and self.spec.status == 200:
            return NO_CONTENT
        return self.spec.status


def is_model(annotation: Any) -> bool:
    """Whether ``annotation`` is a pydantic model class."""
    return inspect.isclass(annotation) and issubclass(annotation, BaseModel)


def bind(spec: RouteSpec, context_types: tuple[type, ...] = ()) -> Binding:
    """Read the handler's signature into a :class:`Binding`.

    ``context_types`` are classes (the service base) whose instances the app supplies
    to parameters annotated with them. Raises ``TypeError`` for a signature the binder
    cannot serve, at start-up rather than on the first request.
    """
    handler = spec.handler
    hints = typing.get_type_hints(handler, include_extras=True)
    binding = Binding(spec=spec)
    path_names = set(spec.path_params)
    for name, parameter in inspect.signature(handler).parameters.items():
        if name == "self":
            continue
        annotation = hints.get(name, Any)
        if _is_upload(annotation):
            if binding.upload_arg is not None or binding.body_model is not None:
                raise TypeError(f"{spec.name}: more than one body ({name})")
            binding.upload_arg, binding.upload_rule = name, _upload_rule(spec, annotation)
            binding.upload_limit = binding.upload_rule.limit_for(handler)
        elif inspect.isclass(annotation) and issubclass(annotation, web.BaseRequest):
            binding.request_arg = name
        elif inspect.isclass(annotation) and issubclass(annotation, context_types):
            binding.context_args[name] = annotation
        elif name in path_names:
            binding.params.append(
                Param(name, "path", TypeAdapter(annotation), annotation, required=True)
            )
        elif is_model(annotation) and name == "query":
            binding.query_model, binding.query_arg = annotation, name
        elif is_model(annotation):
            if binding.body_model is not None or binding.upload_arg is not None:
                raise TypeError(f"{spec.name}: more than one body model ({name})")
            binding.body_model, binding.body_arg = annotation, name
        else:
            required = parameter.default is inspect.Parameter.empty
            binding.params.append(
                Param(
                    name,
                    "query",
                    TypeAdapter(annotation),
                    annotation,
                    required=required,
                    default=None if required else parameter.default,
                )
            )
    if spec.permission is not None and not any(
        hasattr(kind, "has_permission") for kind in binding.context_args.values()
    ):
        raise TypeError(
            f"{spec.name}: permission {spec.permission!r} needs a parameter for the "
            "authenticated caller (e.g. principal: Principal)"
        )
    missing = path_names - {p.name for p in binding.params if p.location == "path"}
    if missing:
        raise TypeError(f"{spec.name}: path parameters without an argument: {sorted(missing)}")
    returned = hints.get("return", None)
    if returned is not type(None) and returned is not None:
        binding.response_type = returned
        if not (inspect.isclass(returned) and issubclass(returned, web.StreamResponse)):
            binding.response_adapter = TypeAdapter(returned)
    return binding


def _is_upload(annotation: Any) -> bool:
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return inspect.isclass(annotation) and issubclass(annotation, Upload)


def _upload_rule(spec: RouteSpec, annotation: Any) -> RawBody:
    rules = [m for m in getattr(annotation, "__metadata__", ()) if isinstance(m, RawBody)]
    if len(rules) != 1:
        raise TypeError(
            f"{spec.name}: an Upload parameter needs exactly one RawBody "
            "(Annotated[Upload, RawBody(media_types=..., max_bytes=...)])"
        )
    return rules[0]


def _errors_from(
    exc: ValidationError, location: str, prefix: tuple[str, ...] = ()
) -> list[FieldError]:
    return [
        FieldError.of(
            (location, *prefix, *(str(part) for part in error["loc"])),
            error["msg"],
            error["type"],
        )
        for error in exc.errors(include_url=False)
    ]


async def read_json(request: web.Request, limit: int) -> Any:
    """Read and parse a JSON body, mapping every way it can be wrong to a problem.

    Contract: returns the decoded document or raises a 4xx :class:`Problem`, whatever
    the bytes: 415 for a declared non-JSON type, 413 past ``limit``, and 400
    ``malformed-body`` for a body that is empty or cannot be decoded (see
    :func:`decode_json`).
    """
    media = request.content_type
    if request.body_exists and media != JSON and not media.endswith("+json"):
        raise UnsupportedMediaType(
            f"expected a body of type {JSON}, got {media or 'none'}",
            extensions={"accepted": [JSON]},
        )
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(
            f"body of {request.content_length} bytes exceeds the limit of {limit} bytes",
            extensions={"limit": limit},
        )
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(
            f"body exceeds the limit of {limit} bytes", extensions={"limit": limit}
        ) from None
    return decode_json(raw)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_json(raw: bytes) -> Any:
    """The JSON document in ``raw``, or :class:`MalformedBody` (400); never anything else.

    Stricter than :func:`json.loads` on purpose (RFC 8259 and I-JSON, RFC 7493): the body
    must be UTF-8, hold exactly one value, no ``NaN``/``Infinity``, and no string may
    hold a lone surrogate (``"\\ud800"``), which no store or encoder downstream can
    take. Everything ``json`` itself refuses (syntax, an integer past Python's digit
    limit, nesting past the recursion limit) is a 400 too, never a 500.
    """
    if not raw.strip():
        raise MalformedBody("a JSON body is required")
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise MalformedBody("body is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, the int digit limit
        raise MalformedBody(f"body is not valid JSON: {_first_line(exc)}") from None
    _check_strings(value)
    return value


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _check_strings(value: Any) -> None:
    """Refuse lone surrogates in keys and strings (iteratively: nesting is unbounded)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            _encodable(item)
        elif isinstance(item, dict):
            for key, nested in item.items():
                _encodable(key)
                stack.append(nested)
        elif isinstance(item, list):
            stack.extend(item)


def _encodable(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedBody("body holds a string with a lone UTF-16 surrogate") from None


def _authorize(binding: Binding, kwargs: Mapping[str, Any]) -> None:
    """403 unless the authenticated caller holds the route's permission.

    Runs after authentication (401 first) and before path, query and body are looked
    at: a caller who may not do this learns nothing of what a valid request looks like.
    """
    permission = binding.spec.permission
    assert permission is not None
    holders = [
        kwargs[name]
        for name in binding.context_args
        if isinstance(kwargs.get(name), HoldsPermissions)
    ]
    if not any(holder.has_permission(permission) for holder in holders):
        raise Forbidden(
            f"this needs the permission {permission!r}",
            extensions={"required_permission": permission},
        )


def _query_values(request: web.Request, model: type[BaseModel]) -> dict[str, Any]:
    """Query string as a dict; repeated keys become lists for list-typed fields."""
    values: dict[str, Any] = {}
    for key in request.query:
        items = request.query.getall(key)
        field_info = model.model_fields.get(key)
        wants_list = field_info is not None and typing.get_origin(field_info.annotation) in (
            list,
            tuple,
            set,
            frozenset,
        )
        values[key] = items if wants_list or len(items) > 1 else items[0]
    return values


async def arguments(
    binding: Binding,
    request: web.Request,
    body_limit: int,
    context: Mapping[type, object],
) -> dict[str, Any]:
    """Validated keyword arguments for the handler, or one ``ValidationFailed``."""
    kwargs: dict[str, Any] = {}
    for name, wanted in binding.context_args.items():
        value = next(value for kind, value in context.items() if issubclass(kind, wanted))
        kwargs[name] = await value.resolve(request) if isinstance(value, PerRequest) else value
    if binding.spec.permission is not None:
        _authorize(binding, kwargs)
    errors: list[FieldError] = []
    for param in binding.params:
        source: Mapping[str, str] = (
            request.match_info if param.location == "path" else request.query
        )
        if param.name not in source:
            if param.required:
                errors.append(
                    FieldError.of((param.location, param.name), "Field required", "missing")
                )
            else:
                kwargs[param.name] = param.default
            continue
        try:
            kwargs[param.name] = param.adapter.validate_strings(source[param.name])
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                errors.append(
                    FieldError.of((param.location, param.name), error["msg"], error["type"])
                )
    if binding.query_model is not None and binding.query_arg is not None:
        try:
            kwargs[binding.query_arg] = binding.query_model.model_validate(
                _query_values(request, binding.query_model), strict=False
            )
        except ValidationError as exc:
            errors.extend(_errors_from(exc, "query"))
    if binding.upload_rule is not None and binding.upload_arg is not None:
        check_media_type(request.content_type.lower(), binding.upload_rule)
        if errors:  # refuse a request that fails anyway before reading a large body
            raise ValidationFailed(errors)
        kwargs[binding.upload_arg] = await read_upload(
            request, binding.upload_rule, binding.upload_limit
        )
    if binding.body_model is not None and binding.body_arg is not None:
        payload = await read_json(request, body_limit)
        try:
            kwargs[binding.body_arg] = binding.body_model.model_validate(payload)
        except ValidationError as exc:
            errors.extend(_errors_from(exc, "body"))
    if errors:
        raise ValidationFailed(errors)
    if binding.request_arg is not None:
        kwargs[binding.request_arg] = request
    return kwargs


def respond(binding: Binding, result: Any) -> web.StreamResponse:
    """Serialise a handler's return value with its declared response type."""
    if isinstance(result, web.StreamResponse):
        return result
    if result is None or binding.response_adapter is None:
        return web.Response(status=binding.status if result is None else binding.spec.status)
    body = binding.response_adapter.dump_json(result, by_alias=True)
    return web.Response(body=body, status=binding.status, content_type=JSON)


def compile_handler(
    binding: Binding, body_limit: int, context: Mapping[type, object]
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The aiohttp handler for a binding: bind arguments, call, serialise."""
    handler = binding.spec.handler

    async def serve(request: web.Request) -> web.StreamResponse:
        kwargs = await arguments(binding, request, body_limit, context)
        return respond(binding, await handler(**kwargs))

    serve.__name__ = binding.spec.name
    return serve
