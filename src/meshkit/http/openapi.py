"""OpenAPI 3.1 documents generated from declared routes and their pydantic models.

The document is derived, never written by hand: parameters, request bodies and
responses come from the same bindings that validate requests, so the contract the SDK
is generated from cannot drift from what the service enforces.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from meshkit.http.binding import Binding
from meshkit.http.problems import PROBLEM_JSON, problem_schema
from meshkit.security import API_KEY_HEADER

REF = "#/components/schemas/{model}"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
SERVICE_KEY_SCHEME = "serviceApiKey"


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}}


class _Schemas:
    """Collects every model used, then renders each once under ``components``."""

    def __init__(self, bindings: Iterable[Binding]) -> None:
        pairs: list[tuple[type[BaseModel], JsonSchemaMode]] = []
        for binding in bindings:
            if binding.body_model is not None:
                pairs.append((binding.body_model, "validation"))
            pairs.extend((model, "serialization") for model in _models_in(binding.response_type))
        unique = list(dict.fromkeys(pairs))
        self.refs, defs = models_json_schema(unique, ref_template=REF)
        self.components: dict[str, Any] = dict(defs.get("$defs", {}))

    def ref(self, model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        return dict(self.refs[(model, mode)])

    def of(self, annotation: Any, mode: JsonSchemaMode) -> dict[str, Any]:
        if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
            return self.ref(annotation, mode)
        schema = TypeAdapter(annotation).json_schema(mode=mode, ref_template=REF)
        self.components.update(schema.pop("$defs", {}))
        return schema

    def named(self, schema: dict[str, Any]) -> dict[str, Any]:
        """A parameter schema with an explicit ``title`` (``Field(title=...)``) is put under
        ``components`` once and referenced: a long rule (the reaction pattern) is not
        repeated on every operation that takes it."""
        title = schema.get("title")
        if not isinstance(title, str) or not title[:1].isupper():
            return schema
        self.components.setdefault(title, schema)
        return {"$ref": REF.format(model=title)}


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Models reachable from a response annotation (``Model``, ``list[Model]``, …)."""
    if annotation is None:
        return []
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()):
        found.extend(_models_in(arg))
    return found


def _parameters(binding: Binding, schemas: _Schemas) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for param in binding.params:
        entry: dict[str, Any] = {
            "name": param.name,
            "in": param.location,
            "required": param.required,
            "schema": schemas.of(param.annotation, "validation"),
        }
        if "description" in entry["schema"]:
            entry["description"] = entry["schema"]["description"]
        entry["schema"] = schemas.named(entry["schema"])
        params.append(entry)
    if binding.query_model is not None:
        model_schema = binding.query_model.model_json_schema(ref_template=REF)
        schemas.components.update(model_schema.pop("$defs", {}))
        required = set(model_schema.get("required", []))
        for name, prop in model_schema.get("properties", {}).items():
            entry = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if "description" in prop:
                entry["description"] = prop["description"]
            params.append(entry)
    return params


def _operation(service: str, binding: Binding, schemas: _Schemas) -> dict[str, Any]:
    spec = binding.spec
    operation: dict[str, Any] = {
        "operationId": spec.operation_id or f"{service}.{spec.name}",
        "tags": list(spec.tags) or [service],
    }
    if spec.summary:
        operation["summary"] = spec.summary
    description = spec.description or ""
    if spec.permission is not None:
        # Said in words (readers, generated docstrings) and as data (tools, the gateway).
        needs = f"Needs the permission `{spec.permission}` (403 without it, checked first)."
        description = f"{description}\n\n{needs}" if description else needs
        operation["x-meshkit-permission"] = spec.permission
    if description:
        operation["description"] = description
    if spec.deprecated:
        operation["deprecated"] = True
    if spec.internal:
        operation["security"] = [{SERVICE_KEY_SCHEME: []}]
        operation["x-meshkit-internal"] = True
    schemes = _security_schemes(binding)
    if schemes:
        operation["security"] = [{name: []} for name in schemes]
    parameters = _parameters(binding, schemas)
    if parameters:
        operation["parameters"] = parameters
    if binding.body_model is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": schemas.ref(binding.body_model, "validation")}
            },
        }
    rule = binding.upload_rule
    if rule is not None:
        limit = binding.upload_limit
        operation["requestBody"] = {
            "required": True,
            "description": f"{rule.description} At most {limit} bytes; one of: "
            f"{', '.join(rule.media_types)}.",
            "content": {
                media: {"schema": {"type": "string", "format": "binary", "maxLength": limit}}
                for media in rule.media_types
            },
        }
        operation["x-meshkit-max-body-bytes"] = limit
    status = str(binding.status)
    success: dict[str, Any] = {"description": "Success"}
    if binding.spec.produces is not None:
        success["content"] = {
            binding.spec.produces: {"schema": {"type": "string", "format": "binary"}}
        }
    elif binding.response_adapter is not None:
        success["content"] = {
            "application/json": {"schema": schemas.of(binding.response_type, "serialization")}
        }
    responses: dict[str, Any] = {status: success}
    if spec.internal:
        responses["401"] = _problem("No service API key, or one that is not accepted.")
    if schemes:
        responses.setdefault("401", _problem("No valid access token."))
    if rule is not None:
        responses["400"] = _problem("The body is empty (`malformed-body`).")
        responses["413"] = _problem(
            f"The body is larger than {binding.upload_limit} bytes (`{rule.too_large.slug}`, "
            "with `limit`)."
        )
        responses["415"] = _problem(
            f"The body is not of an accepted type, or its content is not usable as one "
            f"(`{rule.unsupported.slug}`, with `accepted`)."
        )
    if binding.params or binding.query_model or binding.body_model:
        responses["422"] = _problem("The request failed validation; `errors` lists each field.")
    for code in spec.errors:
        responses[str(code)] = _problem(_reason(code))
    if spec.permission is not None:
        responses["403"] = _problem(
            f"The caller lacks `{spec.permission}`; answered before the request is validated."
        )
    if binding.body_model is not None:
        responses["400"] = _problem(
            "The body is not one JSON document in UTF-8 (`malformed-body`): empty, bad "
            "syntax, NaN or Infinity, a lone surrogate, or past the parser's limits; or another "
            "400 problem the operation describes."
        )
    responses["default"] = _problem("Any other error, as an RFC 9457 problem document.")
    operation["responses"] = responses
    return operation


def _security_schemes(binding: Binding) -> dict[str, dict[str, Any]]:
    """Schemes of the context parameters that authenticate (``__openapi_security__``)."""
    found: dict[str, dict[str, Any]] = {}
    for kind in binding.context_args.values():
        declared = getattr(kind, "__openapi_security__", None)
        if declared is not None:
            name, scheme = declared
            found[name] = scheme
    return found


def _reason(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def _openapi_path(path: str) -> str:
    """aiohttp ``{name:regex}`` placeholders become plain OpenAPI ``{name}``."""
    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*):[^}]*\}", r"{\1}", path)


def build_openapi(
    *,
    service: str,
    title: str,
    version: str,
    description: str,
    bindings: Iterable[Binding],
    servers: Iterable[str] = (),
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of one service."""
    visible = [b for b in bindings if b.spec.include_in_schema]
    schemas = _Schemas(visible)
    paths: dict[str, dict[str, Any]] = {}
    for binding in visible:
        path = _openapi_path(binding.spec.path)
        paths.setdefault(path, {})[binding.spec.method.lower()] = _operation(
            service, binding, schemas
        )
    schemas.components["Problem"] = problem_schema()
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(schemas.components.items()))},
        "tags": [{"name": service}],
    }
    security: dict[str, Any] = {}
    for binding in visible:
        security.update(_security_schemes(binding))
    if any(b.spec.internal for b in visible):
        security[SERVICE_KEY_SCHEME] = {
            "type": "apiKey",
            "in": "header",
            "name": API_KEY_HEADER,
            "description": "Service API key; internal routes only.",
        }
    if security:
        document["components"]["securitySchemes"] = dict(sorted(security.items()))
    if servers:
        document["servers"] = [{"url": url} for url in servers]
    return document
