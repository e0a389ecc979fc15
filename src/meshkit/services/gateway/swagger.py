"""Swagger UI at ``/docs``, from files shipped inside meshkit.

The gateway's docs page must work where the gateway does: offline, in air-gapped
deployments and behind a strict Content Security Policy. So nothing comes from a CDN:
Swagger UI 5 (``swagger-ui-dist``, vendored unmodified in ``static/swagger-ui``, see its
README) is served from ``/docs/assets/``, and the page has no inline script, its
start-up code being the static ``/docs/init.js``, which reads the document's URL from a
``data-`` attribute. The page is sent with :data:`CONTENT_SECURITY_POLICY`; Swagger UI
5 needs no more than ``'unsafe-inline'`` styles (React sets ``style`` attributes) and
``data:`` images (its CSS icons). Its online validator badge is off (``validatorUrl:
null``): it would send the document to a third party.

Assets are an allow-list read once per process: a request names a file of that list or
gets a 404, so no path (``..``, encoded or not) ever reaches the file system.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import html
from dataclasses import dataclass
from importlib import resources

from aiohttp import web

ASSETS_PACKAGE = "meshkit.services.gateway"
ASSETS_DIR = ("static", "swagger-ui")
CONTENT_TYPES = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "LICENSE": "text/plain; charset=utf-8",
    "NOTICE": "text/plain; charset=utf-8",
    "swagger-ui-bundle.js.LICENSE.txt": "text/plain; charset=utf-8",
}
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
# A versioned URL (``?v=<swagger-ui version>``) never changes content: cache it for good.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=3600"
INIT_JS = """\
"use strict";
// Starts Swagger UI on the page's #swagger-ui element (served by meshkit's gateway).
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    displayRequestDuration: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
"""
PAGE = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png?v={version}">
<link rel="stylesheet" href="{assets}/swagger-ui.css?v={version}">
</head>
<body style="margin: 0">
<noscript>This page needs JavaScript; the API document itself is at
<a href="{openapi_url}">{openapi_url}</a>.</noscript>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{assets}/swagger-ui-bundle.js?v={version}"></script>
<script src="{prefix}/init.js?v={version}"></script>
</body>
</html>
"""


@dataclass(frozen=True)
class Asset:
    """One static file, kept in memory with its gzip form and validator."""

    body: bytes
    gzipped: bytes | None
    content_type: str
    etag: str


@functools.cache
def swagger_ui_version() -> str:
    """Version of the vendored ``swagger-ui-dist`` (its ``VERSION`` file)."""
    return _directory().joinpath("VERSION").read_text(encoding="utf-8").strip()


@functools.cache
def assets() -> dict[str, Asset]:
    """Every servable file by name, read once per process (about 2 MB)."""
    directory = _directory()
    return {
        name: _asset(directory.joinpath(name).read_bytes(), content_type)
        for name, content_type in CONTENT_TYPES.items()
    }


def _directory() -> resources.abc.Traversable:
    return resources.files(ASSETS_PACKAGE).joinpath(*ASSETS_DIR)


def _asset(body: bytes, content_type: str) -> Asset:
    compressible = not content_type.startswith("image/")
    digest = hashlib.sha256(body).hexdigest()[:32]
    return Asset(
        body=body,
        gzipped=gzip.compress(body, compresslevel=9, mtime=0) if compressible else None,
        content_type=content_type,
        etag=f'W/"{digest}"',
    )


def swagger_routes(
    openapi_url: str = "/openapi.json",
    prefix: str = "/docs",
    *,
    title: str = "meshkit API",
) -> list[web.RouteDef]:
    """Routes serving Swagger UI for the document at ``openapi_url``.

    ``GET {prefix}``: the page; ``GET {prefix}/``: a redirect to it;
    ``GET {prefix}/init.js``: the start-up script; ``GET {prefix}/assets/{name}``: a
    vendored file (``swagger-ui.css``, ``swagger-ui-bundle.js``, ``favicon-32x32.png`` and
    the licence texts), gzip-compressed when the client accepts it, with an ETag (a
    matching ``If-None-Match`` gets 304) and cached for a year when asked for with the
    current ``?v=`` version, an hour otherwise. HEAD works wherever GET does.

    :param openapi_url: where the browser fetches the document (a path on the gateway).
    :param prefix: where the UI lives; starts with ``/``, no trailing ``/``.
    :param title: the page's title.
    :raises ValueError: on a malformed ``prefix``.
    """
    if not prefix.startswith("/") or prefix.endswith("/"):
        raise ValueError(f"prefix must start with '/' and not end with it: {prefix!r}")
    version = swagger_ui_version()
    page = PAGE.format(
        title=html.escape(title),
        assets=html.escape(f"{prefix}/assets"),
        prefix=html.escape(prefix),
        openapi_url=html.escape(openapi_url),
        version=html.escape(version),
    ).encode()
    init = _asset(INIT_JS.encode(), "text/javascript; charset=utf-8")

    async def docs(request: web.Request) -> web.Response:
        """The Swagger UI page."""
        return web.Response(
            body=page,
            content_type="text/html",
            charset="utf-8",
            headers={
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "Cache-Control": "no-cache",
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def docs_slash(request: web.Request) -> web.Response:
        """``/docs/`` is the page too, at its one canonical address."""
        raise web.HTTPMovedPermanently(location=prefix)

    async def init_js(request: web.Request) -> web.Response:
        """The page's start-up script (a file, so the CSP needs no inline scripts)."""
        return _serve(request, init, version)

    async def asset(request: web.Request) -> web.Response:
        """A vendored file by name; any other name, however spelt, is a 404."""
        found = assets().get(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound()
        return _serve(request, found, version)

    return [
        web.get(prefix, docs),
        web.get(f"{prefix}/", docs_slash),
        web.get(f"{prefix}/init.js", init_js),
        web.get(prefix + "/assets/{name}", asset),
    ]


def _serve(request: web.Request, asset: Asset, version: str) -> web.Response:
    versioned = request.query.get("v") == version
    headers = {
        "Cache-Control": IMMUTABLE if versioned else REVALIDATE,
        "ETag": asset.etag,
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
    }
    if _matches(request.headers.get("If-None-Match", ""), asset.etag):
        return web.Response(status=304, headers=headers)
    body = asset.body
    if asset.gzipped is not None and _accepts_gzip(request.headers.get("Accept-Encoding", "")):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    headers["Content-Type"] = asset.content_type
    return web.Response(body=body, headers=headers)


def _matches(if_none_match: str, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag``, compared weakly (RFC 9110 §13.1.2)."""
    opaque = etag.removeprefix("W/")
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or opaque in tags


def _accepts_gzip(header: str) -> bool:
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() == "gzip":
            quality = params.strip().lower().removeprefix("q=").strip() or "1"
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False
