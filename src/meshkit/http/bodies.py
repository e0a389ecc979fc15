"""Request bodies taken as they are: uploads (an audio file, an image), not JSON.

A handler declares one with a parameter annotated ``Annotated[Upload, RawBody(...)]``.
The binder checks the declared media types and size before the handler runs, reading
the body as a stream so the limit holds for chunked bodies too (the app's
``MESHKIT_MAX_BODY_SIZE``, meant for JSON documents, does not apply: an upload has its
own limit). The OpenAPI document lists the accepted types and the limit, so clients and
fuzzers see the same rules the server enforces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from meshkit.errors import MalformedBody, PayloadTooLarge, UnsupportedMediaType

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Upload:
    """An uploaded body: its bytes and the media type the client declared for them."""

    data: bytes
    media_type: str


@dataclass(frozen=True)
class RawBody:
    """What an :class:`Upload` parameter accepts.

    ``media_types`` are the ``Content-Type`` values accepted (anything else is refused
    with ``unsupported``, a 415 problem, before the body is read). ``max_bytes`` is the
    limit, or a function of the object the handler is bound to (a service reading it
    from its settings), resolved once when the route is bound; a larger body is refused
    with ``too_large`` (413). Both problems carry the rule (``accepted``, ``limit``).
    """

    media_types: tuple[str, ...]
    max_bytes: int | Callable[[Any], int]
    too_large: type[PayloadTooLarge] = PayloadTooLarge
    unsupported: type[UnsupportedMediaType] = UnsupportedMediaType
    description: str = "The file, as the request body."

    def limit_for(self, handler: Callable[..., Any]) -> int:
        """The byte limit for ``handler`` (``TypeError`` if it cannot be resolved)."""
        if isinstance(self.max_bytes, int):
            return self.max_bytes
        owner = getattr(handler, "__self__", None)
        if owner is None:
            raise TypeError(
                f"{getattr(handler, '__name__', handler)}: a computed upload limit needs a "
                "handler bound to its service"
            )
        limit = self.max_bytes(owner)
        if not isinstance(limit, int) or limit <= 0:
            raise TypeError(f"upload limit must be a positive int, got {limit!r}")
        return limit


async def read_upload(request: web.Request, rule: RawBody, limit: int) -> Upload:
    """The body of ``request`` as an :class:`Upload`, or a 4xx problem.

    415 (``rule.unsupported``) for a media type not in ``rule.media_types``, 413
    (``rule.too_large``) past ``limit`` (a declared ``Content-Length`` is refused before
    anything is read), 400 ``malformed-body`` for an empty body.
    """
    media = request.content_type.lower()
    check_media_type(media, rule)
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(rule, limit, request.content_length)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(CHUNK):
        size += len(chunk)
        if size > limit:
            raise _too_large(rule, limit, None)
        chunks.append(chunk)
    if not size:
        raise MalformedBody("the request body is empty; send the file as the body")
    return Upload(b"".join(chunks), media)


def check_media_type(media: str, rule: RawBody) -> None:
    """Refuse a ``Content-Type`` the rule does not accept (415, before reading)."""
    if media not in rule.media_types:
        raise rule.unsupported(
            f"expected a body of type {', '.join(rule.media_types)}; got {media or 'none'}",
            extensions={"accepted": list(rule.media_types)},
        )


def _too_large(rule: RawBody, limit: int, size: int | None) -> PayloadTooLarge:
    said = f"of {size} bytes " if size is not None else ""
    return rule.too_large(
        f"the body {said}exceeds the limit of {limit} bytes", extensions={"limit": limit}
    )
