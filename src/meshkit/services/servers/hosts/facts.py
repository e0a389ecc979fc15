"""Facts about a host, gathered with one POSIX shell command over SSH.

:func:`facts_command` prints sections (``@@name`` lines) from ``/etc/os-release``,
``uname``, ``/proc/cpuinfo``, ``/proc/meminfo``, ``/proc/uptime``, ``df -P`` and the
Docker Engine at the host's socket; :func:`parse_facts` reads them. A section the host
cannot give (no ``/proc``, no engine) leaves its facts ``None``; nothing in the output
can make parsing fail.
"""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime

from meshkit.services.servers.hosts.models import Disk, Facts

MARK = "@@"
MAX_DISKS = 64
PSEUDO_FILESYSTEMS = frozenset(
    {"tmpfs", "devtmpfs", "proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue", "shm"}
)


def facts_command(engine_socket: str) -> str:
    """The shell command whose output :func:`parse_facts` reads; ``engine_socket`` is
    the path of the Docker Engine socket to look for."""
    socket = shlex.quote(engine_socket)
    return f"""\
echo @@os-release; cat /etc/os-release 2>/dev/null
echo @@kernel; uname -r 2>/dev/null
echo @@arch; uname -m 2>/dev/null
echo @@hostname; hostname 2>/dev/null || uname -n 2>/dev/null
echo @@uptime; cat /proc/uptime 2>/dev/null
echo @@cpuinfo
grep -E '^(processor|model name|Hardware|cpu model)[[:space:]]*:' /proc/cpuinfo 2>/dev/null
echo @@nproc; nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null
echo @@meminfo; grep -E '^MemTotal:' /proc/meminfo 2>/dev/null
echo @@df; df -P -k 2>/dev/null
echo @@engine
if [ -S {socket} ]; then
  echo present
  if command -v docker >/dev/null 2>&1; then
    docker -H unix://{socket} version --format '{{{{.Server.Version}}}}' 2>/dev/null
  elif command -v curl >/dev/null 2>&1; then
    curl -sf --max-time 5 --unix-socket {socket} http://engine/version 2>/dev/null | head -c 8192
  fi
fi
true
"""


def _sections(output: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        if line.startswith(MARK) and " " not in line:
            current = sections.setdefault(line[len(MARK) :], [])
        elif current is not None:
            current.append(line)
    return sections


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _first(lines: list[str]) -> str | None:
    for line in lines:
        if line.strip():
            return line.strip()[:256]
    return None


def _os_release(lines: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition("=")
        if sep and name.strip().isidentifier():
            found[name.strip()] = value.strip().strip("\"'")[:256]
    return found


def _cpus(info: list[str], nproc: list[str]) -> tuple[int | None, str | None]:
    model: str | None = None
    processors = 0
    for line in info:
        name, _, value = line.partition(":")
        name = name.strip()
        if name == "processor":
            processors += 1
        elif model is None and name in ("model name", "Hardware", "cpu model") and value.strip():
            model = value.strip()[:256]
    count = _int(_first(nproc) or "") or (processors or None)
    return count, model


def _memory(lines: list[str]) -> int | None:
    for line in lines:
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "MemTotal:" and parts[1].isdigit():
            return int(parts[1]) * 1024
    return None


def _disks(lines: list[str]) -> list[Disk]:
    disks: list[Disk] = []
    for line in lines[1:]:  # the header
        parts = line.split()
        if len(parts) < 6 or not (parts[1].isdigit() and parts[2].isdigit()):
            continue
        filesystem, mount = parts[0], " ".join(parts[5:])
        size, used = int(parts[1]) * 1024, int(parts[2]) * 1024
        if size == 0 or (filesystem in PSEUDO_FILESYSTEMS and mount != "/"):
            continue
        disks.append(Disk(mount=mount[:4096], filesystem=filesystem[:4096], size=size, used=used))
        if len(disks) == MAX_DISKS:
            break
    return disks


def _engine(lines: list[str]) -> tuple[bool, str | None]:
    if not lines or lines[0].strip() != "present":
        return False, None
    rest = "\n".join(lines[1:]).strip()
    if rest.startswith("{"):
        try:
            version = json.loads(rest).get("Version")
        except (ValueError, AttributeError):
            version = None
        return True, str(version)[:64] if version else None
    return True, _first(lines[1:])


def _uptime(lines: list[str]) -> float | None:
    first = _first(lines)
    try:
        return float(first.split()[0]) if first else None
    except ValueError:
        return None


def parse_facts(output: str, *, at: datetime | None = None) -> Facts:
    """The facts in the output of :func:`facts_command`."""
    sections = _sections(output)
    release = _os_release(sections.get("os-release", []))
    cpu_count, cpu_model = _cpus(sections.get("cpuinfo", []), sections.get("nproc", []))
    engine_present, engine_version = _engine(sections.get("engine", []))
    return Facts(
        hostname=_first(sections.get("hostname", [])),
        os_id=release.get("ID"),
        os_name=release.get("NAME"),
        os_version=release.get("VERSION_ID"),
        kernel=_first(sections.get("kernel", [])),
        arch=_first(sections.get("arch", [])),
        cpu_count=cpu_count,
        cpu_model=cpu_model,
        memory_total=_memory(sections.get("meminfo", [])),
        disks=_disks(sections.get("df", [])),
        uptime=_uptime(sections.get("uptime", [])),
        engine_present=engine_present,
        engine_version=engine_version,
        gathered_at=at or datetime.now(UTC),
    )
