"""The gateway's merged OpenAPI document, kept fresh from the running services.

Merging is :mod:`meshkit.services.gateway.openapi_merge`; this module fetches.

Each routed service's ``/openapi.json`` is fetched from one of its instances every
``MESHKIT_GATEWAY_DOCS_REFRESH_INTERVAL`` seconds, so a redeployed service's new
operations appear without restarting the gateway. A service that cannot be reached
keeps its last fetched document, or the one its installed class describes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import aiohttp

from meshkit.app import openapi_document
from meshkit.config import Settings
from meshkit.plugins import PluginManager
from meshkit.services.gateway.openapi_merge import merge_documents, merge_openapi
from meshkit.services.gateway.upstreams import Upstreams

log = logging.getLogger("meshkit.gateway")
MAX_DOCUMENT = 8 * 1024 * 1024
TITLE = "meshkit API"
DESCRIPTION = "Every service of this meshkit deployment, through its gateway."


def installed_documents(
    settings: Settings, pm: PluginManager, *, exclude: str = "gateway"
) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[str, ...]]]:
    """OpenAPI documents and extra route prefixes of every installed service.

    Built from the service classes without starting anything: what the gateway routes
    before any service answers, and what ``meshkit gateway openapi`` exports.
    """
    documents: dict[str, dict[str, Any]] = {}
    prefixes: dict[str, tuple[str, ...]] = {}
    for name, info in sorted(pm.services().items()):
        if name == exclude:
            continue
        documents[name] = openapi_document(info.cls(settings), pm)
        prefixes[name] = info.cls.gateway_prefixes
    return documents, prefixes


def merged_document(documents: Mapping[str, dict[str, Any]], version: str) -> dict[str, Any]:
    """The gateway's document for ``documents`` (logging merge warnings)."""
    return merge_openapi(documents, title=TITLE, version=version, description=DESCRIPTION)


class ApiDocs:
    """Fetches, merges and caches the documents of the routed services."""

    def __init__(
        self,
        upstreams: Upstreams,
        session: aiohttp.ClientSession,
        *,
        fallback: Mapping[str, dict[str, Any]],
        routed: Iterable[str],
        interval: float,
        version: str,
    ) -> None:
        self.upstreams = upstreams
        self.session = session
        self.routed = sorted(set(routed))
        self.interval = interval
        self.version = version
        self._documents = {n: d for n, d in fallback.items() if n in self.routed}
        self._merged: dict[str, Any] | None = None
        self._warned: set[str] = set()
        self._lock = asyncio.Lock()

    async def document(self) -> dict[str, Any]:
        """The merged document (fetched on first use, then refreshed in the background)."""
        if self._merged is None:
            async with self._lock:
                if self._merged is None:
                    await self.refresh()
        assert self._merged is not None
        return self._merged

    async def refresh_forever(self) -> None:
        """Refresh every interval until cancelled."""
        while True:
            try:
                await self.refresh()
            except Exception:
                log.exception("refreshing the merged OpenAPI document failed")
            await asyncio.sleep(self.interval)

    async def refresh(self) -> None:
        """Fetch every routed service's document now and merge them."""
        fetched = await asyncio.gather(*(self._fetch(name) for name in self.routed))
        changed = self._merged is None
        for name, document in zip(self.routed, fetched, strict=True):
            if document is not None and document != self._documents.get(name):
                self._documents[name] = document
                changed = True
        if not changed:
            return  # merging costs milliseconds of the event loop: only when needed
        result = merge_documents(
            self._documents, title=TITLE, version=self.version, description=DESCRIPTION
        )
        for warning in sorted(set(result.warnings) - self._warned):
            log.warning("merging the OpenAPI documents: %s", warning)
        self._warned = set(result.warnings)
        self._merged = result.document

    async def _fetch(self, service: str) -> dict[str, Any] | None:
        pool = self.upstreams.pool(service)
        try:
            lease = await pool.acquire(kind="internal")
        except Exception:
            return None
        try:
            async with self.session.get(
                f"{lease.instance.url}/openapi.json",
                timeout=aiohttp.ClientTimeout(total=self.upstreams.health_timeout),
            ) as response:
                if response.status != 200:
                    return None
                raw = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    raw += chunk
                    if len(raw) > MAX_DOCUMENT:
                        break
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.info("could not fetch the OpenAPI document of %s: %r", service, exc)
            return None
        finally:
            lease.release()  # a documentation fetch is no verdict on the instance's health
        if len(raw) > MAX_DOCUMENT:
            log.warning("the OpenAPI document of %s is too large; ignored", service)
            return None
        try:
            document = json.loads(raw)
        except ValueError:
            log.warning("the OpenAPI document of %s is not JSON; ignored", service)
            return None
        return document if isinstance(document, dict) and "paths" in document else None
