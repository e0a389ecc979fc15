"""gRPC between services: servers with health/reflection, and the resilient client stack.

See ``docs/rpc.md``. Contracts live in ``protos/`` and compile to :mod:`meshkit.proto`.
"""

from meshkit.rpc.channel import RpcClients, ServiceChannel, is_idempotent
from meshkit.rpc.errors import UpstreamUnavailable, grpc_error_of, status_for
from meshkit.rpc.rest import RestChannel, RestResponse
from meshkit.rpc.server import RpcServer

__all__ = [
    "RestChannel",
    "RestResponse",
    "RpcClients",
    "RpcServer",
    "ServiceChannel",
    "UpstreamUnavailable",
    "grpc_error_of",
    "is_idempotent",
    "status_for",
]
