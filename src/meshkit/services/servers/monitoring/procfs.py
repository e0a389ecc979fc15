"""A host's figures from one SSH command: ``/proc`` files and ``df``, parsed without I/O.

:data:`PROBE` is the command (POSIX ``sh``, coreutils or busybox): it prints each source
after a separator line ``@@meshkit <name>``. :func:`read_probe` parses its output into a
:class:`Reading` of raw counters; :func:`host_points` turns a reading (and the previous one
of the same host, for rates: CPU busy share, network bytes per second) into
:class:`~meshkit.services.servers.monitoring.models.Point` values. Counters that went
backwards (a reboot, a counter wrap) give no rate for that sample rather than a wrong one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from meshkit.services.servers.monitoring.models import Point

SEPARATOR = "@@meshkit "
SOURCES = ("stat", "meminfo", "loadavg", "net", "uptime", "df")
PROBE = (
    "export LC_ALL=C; "
    f"echo '{SEPARATOR}stat'; cat /proc/stat; "
    f"echo '{SEPARATOR}meminfo'; cat /proc/meminfo; "
    f"echo '{SEPARATOR}loadavg'; cat /proc/loadavg; "
    f"echo '{SEPARATOR}net'; cat /proc/net/dev; "
    f"echo '{SEPARATOR}uptime'; cat /proc/uptime; "
    f"echo '{SEPARATOR}df'; df -PkT 2>/dev/null || df -Pk 2>/dev/null; true"
)
"""The one command a sample runs on a host (a few KiB of output)."""

PSEUDO_FILESYSTEMS = frozenset(
    {
        "autofs",
        "binfmt_misc",
        "bpf",
        "cgroup",
        "cgroup2",
        "configfs",
        "debugfs",
        "devpts",
        "devtmpfs",
        "fusectl",
        "hugetlbfs",
        "iso9660",
        "mqueue",
        "nsfs",
        "proc",
        "procfs",
        "pstore",
        "rpc_pipefs",
        "securityfs",
        "selinuxfs",
        "squashfs",
        "sysfs",
        "tracefs",
    }
)
"""Filesystem types whose "disk usage" means nothing (node_exporter's default list, less
``overlay``, which is a container's root)."""
SKIPPED_INTERFACES = frozenset({"lo"})
"""Interfaces whose traffic is not reported (the loopback)."""


class ProbeError(ValueError):
    """The probe's output is not what a Linux host prints (a missing or garbled section)."""


@dataclass(frozen=True)
class Disk:
    """One mounted filesystem, in bytes."""

    mount: str
    fstype: str | None
    total: int
    used: int
    available: int

    @property
    def used_percent(self) -> float:
        """Used share of what non-root users can have (``df``'s ``Capacity``)."""
        usable = self.used + self.available
        return 100.0 * self.used / usable if usable else 0.0


@dataclass(frozen=True)
class Reading:
    """Raw figures of one host at one moment (counters are cumulative since boot)."""

    cpu_total: int
    """Jiffies spent in every state, summed over all CPUs."""
    cpu_idle: int
    """Jiffies idle or waiting for I/O."""
    cores: int
    memory: dict[str, int]
    """``/proc/meminfo`` in bytes (``MemTotal``, ``MemAvailable``, ``SwapTotal``...)."""
    load: tuple[float, float, float]
    network: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Interface → (received bytes, transmitted bytes)."""
    uptime: float = 0.0
    disks: list[Disk] = field(default_factory=list)

    def counters(self) -> dict[str, Any]:
        """What the next sample needs to compute rates (JSON-able)."""
        return {
            "cpu": [self.cpu_total, self.cpu_idle],
            "net": {name: list(pair) for name, pair in self.network.items()},
        }


def sections(text: str) -> dict[str, str]:
    """The probe's output split at its separator lines: source name → text."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith(SEPARATOR):
            current = found.setdefault(line[len(SEPARATOR) :].strip(), [])
        elif current is not None:
            current.append(line)
    return {name: "\n".join(lines) for name, lines in found.items()}


def parse_stat(text: str) -> tuple[int, int, int]:
    """``/proc/stat`` → (total jiffies, idle + iowait jiffies, number of CPUs)."""
    total = idle = cores = 0
    seen = False
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "cpu":
            values = [int(v) for v in fields[1:]]
            # guest and guest_nice are already counted in user and nice
            total = sum(values[:8])
            idle = values[3] + (values[4] if len(values) > 4 else 0)
            seen = True
        elif fields[0].startswith("cpu") and fields[0][3:].isdigit():
            cores += 1
    if not seen:
        raise ProbeError("no cpu line in /proc/stat")
    return total, idle, max(cores, 1)


def parse_meminfo(text: str) -> dict[str, int]:
    """``/proc/meminfo`` → name → bytes (``kB`` values multiplied out)."""
    found: dict[str, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if not parts:
            continue
        try:
            value = int(parts[0])
        except ValueError:
            continue
        found[name.strip()] = value * 1024 if parts[1:2] == ["kB"] else value
    if "MemTotal" not in found:
        raise ProbeError("no MemTotal in /proc/meminfo")
    if "MemAvailable" not in found:  # kernels before 3.14
        found["MemAvailable"] = sum(found.get(k, 0) for k in ("MemFree", "Buffers", "Cached"))
    return found


def parse_loadavg(text: str) -> tuple[float, float, float]:
    """``/proc/loadavg`` → the 1, 5 and 15 minute load averages."""
    parts = text.split()
    try:
        return float(parts[0]), float(parts[1]), float(parts[2])
    except (IndexError, ValueError) as exc:
        raise ProbeError(f"unreadable /proc/loadavg: {text[:80]!r}") from exc


def parse_net_dev(text: str) -> dict[str, tuple[int, int]]:
    """``/proc/net/dev`` → interface → (received bytes, transmitted bytes)."""
    found: dict[str, tuple[int, int]] = {}
    for line in text.splitlines():
        name, colon, rest = line.partition(":")
        if not colon or "|" in line:
            continue
        values = rest.split()
        if len(values) < 9:
            continue
        try:
            found[name.strip()] = (int(values[0]), int(values[8]))
        except ValueError:
            continue
    return found


def parse_uptime(text: str) -> float:
    """``/proc/uptime`` → seconds since boot."""
    try:
        return float(text.split()[0])
    except (IndexError, ValueError) as exc:
        raise ProbeError(f"unreadable /proc/uptime: {text[:80]!r}") from exc


def parse_df(text: str) -> list[Disk]:
    """``df -PkT`` (or ``df -Pk``) → real filesystems, one per mount point.

    Pseudo filesystems (:data:`PSEUDO_FILESYSTEMS`) and those of size 0 are left out; a
    mount point listed twice keeps its last line (the one on top).
    """
    lines = text.splitlines()
    if not lines:
        return []
    typed = "Type" in lines[0].split()
    width = 7 if typed else 6
    disks: dict[str, Disk] = {}
    for line in lines[1:]:
        parts = line.split(None, width - 1)
        if len(parts) < width:
            continue
        fstype = parts[1] if typed else None
        numbers = parts[2:5] if typed else parts[1:4]
        try:
            total, used, available = (int(n) * 1024 for n in numbers)
        except ValueError:
            continue
        if total == 0 or (fstype is not None and fstype in PSEUDO_FILESYSTEMS):
            continue
        mount = parts[-1]
        disks[mount] = Disk(mount, fstype, total, used, available)
    return list(disks.values())


def read_probe(text: str) -> Reading:
    """Parse the output of :data:`PROBE`.

    :raises ProbeError: a section is missing or unreadable (not a Linux host?).
    """
    parts = sections(text)
    missing = [name for name in SOURCES[:3] if name not in parts]
    if missing:
        raise ProbeError(f"the probe printed no {', '.join(missing)}")
    total, idle, cores = parse_stat(parts["stat"])
    return Reading(
        cpu_total=total,
        cpu_idle=idle,
        cores=cores,
        memory=parse_meminfo(parts["meminfo"]),
        load=parse_loadavg(parts["loadavg"]),
        network=parse_net_dev(parts.get("net", "")),
        uptime=parse_uptime(parts["uptime"]) if parts.get("uptime") else 0.0,
        disks=parse_df(parts.get("df", "")),
    )


def cpu_percent(reading: Reading, previous: Mapping[str, Any] | None) -> float | None:
    """Busy share of all CPUs (0..100) since ``previous`` counters, or ``None`` (first
    sample, or counters went back)."""
    if previous is None or "cpu" not in previous:
        return None
    total0, idle0 = previous["cpu"]
    spent, idle = reading.cpu_total - int(total0), reading.cpu_idle - int(idle0)
    if spent <= 0 or idle < 0 or idle > spent:
        return None
    return 100.0 * (spent - idle) / spent


def network_rates(
    reading: Reading, previous: Mapping[str, Any] | None, seconds: float
) -> dict[str, tuple[float, float]]:
    """Interface → (received, transmitted) bytes per second since ``previous``."""
    if previous is None or seconds <= 0:
        return {}
    before = previous.get("net", {})
    rates: dict[str, tuple[float, float]] = {}
    for name, (rx, tx) in reading.network.items():
        if name in SKIPPED_INTERFACES or name not in before:
            continue
        rx0, tx0 = before[name]
        if rx < rx0 or tx < tx0:
            continue
        rates[name] = ((rx - rx0) / seconds, (tx - tx0) / seconds)
    return rates


def host_points(
    reading: Reading, previous: Mapping[str, Any] | None = None, seconds: float = 0.0
) -> list[Point]:
    """The host metrics of ``reading``; rates need the ``previous`` counters
    (:meth:`Reading.counters`) taken ``seconds`` before."""
    memory = reading.memory
    total, available = memory["MemTotal"], memory["MemAvailable"]
    swap_total = memory.get("SwapTotal", 0)
    swap_used = swap_total - memory.get("SwapFree", swap_total)
    points = [
        Point("cpu_cores", reading.cores),
        Point("load1", reading.load[0]),
        Point("load5", reading.load[1]),
        Point("load15", reading.load[2]),
        Point("memory_total_bytes", total),
        Point("memory_available_bytes", available),
        Point("memory_used_bytes", total - available),
        Point("memory_used_percent", 100.0 * (total - available) / total if total else 0.0),
        Point("swap_total_bytes", swap_total),
        Point("swap_used_bytes", swap_used),
        Point("uptime_seconds", reading.uptime),
    ]
    busy = cpu_percent(reading, previous)
    if busy is not None:
        points.append(Point("cpu_percent", busy))
    for disk in reading.disks:
        labels = {"mount": disk.mount}
        points.append(Point("disk_total_bytes", disk.total, labels))
        points.append(Point("disk_used_bytes", disk.used, labels))
        points.append(Point("disk_used_percent", disk.used_percent, labels))
    for name, (rx, tx) in sorted(network_rates(reading, previous, seconds).items()):
        labels = {"interface": name}
        points.append(Point("network_receive_bytes_per_second", rx, labels))
        points.append(Point("network_transmit_bytes_per_second", tx, labels))
    return points
