"""The permissions of the servers service (``servers:<resource>.<action>``).

None is in the built-in ``user`` role: only ``admin`` (``*``) holds them until an operator
grants ``servers:*`` or a narrower one to a role. Every route of the service needs one.
"""

from __future__ import annotations

HOSTS_READ = "servers:hosts.read"
HOSTS_MANAGE = "servers:hosts.manage"
JOBS_READ = "servers:jobs.read"
JOBS_RUN = "servers:jobs.run"
DEPLOYMENTS_READ = "servers:deployments.read"
DEPLOYMENTS_MANAGE = "servers:deployments.manage"
MONITORING_READ = "servers:monitoring.read"
MONITORING_MANAGE = "servers:monitoring.manage"
CONFIGS_READ = "servers:configs.read"
CONFIGS_MANAGE = "servers:configs.manage"
CHECKS_READ = "servers:checks.read"
CHECKS_MANAGE = "servers:checks.manage"
AUDIT_READ = "servers:audit.read"

ALL = (
    HOSTS_READ,
    HOSTS_MANAGE,
    JOBS_READ,
    JOBS_RUN,
    DEPLOYMENTS_READ,
    DEPLOYMENTS_MANAGE,
    MONITORING_READ,
    MONITORING_MANAGE,
    CONFIGS_READ,
    CONFIGS_MANAGE,
    CHECKS_READ,
    CHECKS_MANAGE,
    AUDIT_READ,
)
