"""HTTP: route declarations, validated binding, OpenAPI generation, problem documents."""

from meshkit.http.binding import Binding, bind
from meshkit.http.bodies import RawBody, Upload
from meshkit.http.middleware import REQUEST_ID_HEADER, Middleware, current_request_id
from meshkit.http.openapi import build_openapi
from meshkit.http.problems import PROBLEM_JSON, problem_response
from meshkit.http.routing import RouteSpec, delete, get, patch, post, put, route, route_of

__all__ = [
    "PROBLEM_JSON",
    "REQUEST_ID_HEADER",
    "Binding",
    "Middleware",
    "RawBody",
    "RouteSpec",
    "Upload",
    "bind",
    "build_openapi",
    "current_request_id",
    "delete",
    "get",
    "patch",
    "post",
    "problem_response",
    "put",
    "route",
    "route_of",
]
