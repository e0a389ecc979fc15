"""Real parts for the servers tests: OpenSSH's sshd on loopback addresses and a private
Docker Engine (Debian's dockerd) on a unix socket, both started here and stopped by PID.

Import the fixtures a test module needs (``from tests.servers_env import sshd, dockerd``).
A machine without ``sshd`` or ``dockerd`` skips those tests with the reason; under
``CI=true`` they fail instead (``.ci/run`` installs both).

- :func:`start_sshd` starts one sshd (its own host key and ``authorized_keys``) on an
  address such as ``127.0.0.11``; :class:`SshHost` can kill and restart it.
- ``sshd`` is one such host for the whole session; ``make_sshd`` makes more in a test
  (each stopped after it).
- ``dockerd`` is one engine for the session with ``BUSYBOX`` imported from the machine's
  busybox-static binary (no registry is reachable, nor needed).
"""

from __future__ import annotations

import contextlib
import getpass
import io
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh
import pytest

from meshkit.services.servers.ssh import SshTarget
from meshkit.testing import free_ports, require_executable, strict

NO_REGISTRY = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "",
}
"""The test engine's proxy: nothing it fetches leaves the machine (port 9 is closed)."""
BUSYBOX = "meshkit-test/busybox:1"
"""An image with busybox's applets (sh, httpd, nc, sleep...) in /bin."""
SSHD_CONFIG = """\
ListenAddress {address}:{port}
HostKey {host_key}
PidFile {pid_file}
AuthorizedKeysFile {authorized_keys}
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
UseDNS no
PrintMotd no
MaxStartups 200:30:400
MaxSessions 32
LogLevel ERROR
Subsystem sftp internal-sftp
"""


def new_key() -> asyncssh.SSHKey:
    """A fresh Ed25519 key (fast to make)."""
    return asyncssh.generate_private_key("ssh-ed25519")


def private_text(key: asyncssh.SSHKey) -> str:
    """The OpenSSH private key text of ``key``."""
    return key.export_private_key("openssh").decode()


def public_line(key: asyncssh.SSHKey) -> str:
    """``<algorithm> <base64>`` of ``key``'s public half."""
    return " ".join(key.export_public_key("openssh").decode().split()[:2])


def _sshd_path() -> str:
    path = shutil.which("sshd") or ("/usr/sbin/sshd" if Path("/usr/sbin/sshd").exists() else None)
    if path is None:
        path = require_executable("sshd")
    return path


@dataclass
class SshHost:
    """One running sshd that lets ``user`` in with ``client_key``."""

    address: str
    port: int
    user: str
    client_key: asyncssh.SSHKey = field(repr=False)
    host_key_line: str
    directory: Path
    config: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def private_key(self) -> str:
        """The client key's private text (what a host is registered with)."""
        return private_text(self.client_key)

    def target(self, host_id: str = "host-1", *, pinned: bool = True) -> SshTarget:
        """An :class:`SshTarget` for this host (its host key pinned unless told not to)."""
        return SshTarget(
            host_id=host_id,
            address=self.address,
            port=self.port,
            user=self.user,
            private_key=self.private_key,
            host_key=self.host_key_line if pinned else None,
        )

    def start(self) -> None:
        """Start (or restart) sshd and wait until it answers with its banner."""
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)
        with (self.directory / "sshd.log").open("ab") as log_file:
            self.process = subprocess.Popen(
                [_sshd_path(), "-D", "-e", "-f", str(self.config)],
                stdout=subprocess.DEVNULL,
                stderr=log_file,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.directory / "sshd.log").read_text(errors="replace")
                pytest.fail(f"sshd exited with {self.process.returncode}: {log}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.address, self.port), timeout=1) as probe,
            ):
                probe.settimeout(2)
                if probe.recv(4).startswith(b"SSH-"):
                    return
            time.sleep(0.02)
        pytest.fail(f"sshd on {self.address}:{self.port} did not start")

    def kill(self) -> None:
        """SIGKILL the listening sshd and every session process it forked."""
        if self.process is None:
            return
        pid = self.process.pid
        below = _descendants(pid)
        for victim in [pid, *below]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def set_host_key(self, key: asyncssh.SSHKey) -> None:
        """Replace the host key on disk (takes effect at the next :meth:`start`)."""
        path = self.directory / "host_key"
        path.write_bytes(key.export_private_key("openssh"))
        path.chmod(0o600)
        self.host_key_line = public_line(key)


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (sshd's per-connection processes and their commands)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def start_sshd(
    directory: Path,
    *,
    address: str = "127.0.0.11",
    port: int | None = None,
    user: str | None = None,
    client_key: asyncssh.SSHKey | None = None,
) -> SshHost:
    """Start an sshd on ``address`` that lets ``user`` (default: the current user) in
    with ``client_key`` (default: a new one)."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    client_key = client_key or new_key()
    host_key = new_key()
    (directory / "host_key").write_bytes(host_key.export_private_key("openssh"))
    (directory / "host_key").chmod(0o600)
    (directory / "authorized_keys").write_text(public_line(client_key) + "\n")
    (directory / "authorized_keys").chmod(0o600)
    if user is not None and user != getpass.getuser():
        # sshd reads the authorized keys as the user logging in
        directory.chmod(0o711)
        (directory / "authorized_keys").chmod(0o644)
    port = port or free_ports(1)[0]
    config = directory / "sshd_config"
    config.write_text(
        SSHD_CONFIG.format(
            address=address,
            port=port,
            host_key=directory / "host_key",
            pid_file=directory / "sshd.pid",
            authorized_keys=directory / "authorized_keys",
        )
    )
    host = SshHost(
        address=address,
        port=port,
        user=user or getpass.getuser(),
        client_key=client_key,
        host_key_line=public_line(host_key),
        directory=directory,
        config=config,
    )
    host.start()
    return host


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshHost]:
    """One sshd on 127.0.0.11 for the session (do not kill it: use ``make_sshd``)."""
    _sshd_path()
    host = start_sshd(tmp_path_factory.mktemp("sshd"), address="127.0.0.11")
    yield host
    host.kill()


@pytest.fixture
def make_sshd(tmp_path: Path) -> Iterator[Callable[..., SshHost]]:
    """``make_sshd(address="127.0.0.12", **kw)``: more sshds, stopped after the test."""
    _sshd_path()
    started: list[SshHost] = []

    def make(address: str = "127.0.0.12", **kw: object) -> SshHost:
        host = start_sshd(tmp_path / f"sshd-{len(started)}", address=address, **kw)  # type: ignore[arg-type]
        started.append(host)
        return host

    yield make
    for host in started:
        host.kill()


@dataclass
class Engine:
    """A running dockerd: ``url`` is what aiodocker and ``docker -H`` take."""

    socket: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def docker(self, *args: str, input: bytes | None = None) -> str:
        """Run the docker CLI against this engine (for test setup only)."""
        done = subprocess.run(
            ["docker", "-H", self.url, *args],
            input=input,
            capture_output=True,
            check=True,
            timeout=120,
        )
        return done.stdout.decode()


def busybox_rootfs() -> bytes:
    """A tar of a root filesystem: busybox-static and a link for each of its applets."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    applets = subprocess.run(
        [busybox, "--list"], capture_output=True, check=True, text=True
    ).stdout.split()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in ("bin", "tmp", "etc", "www"):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if name == "tmp" else 0o755
            tar.addfile(info)
        tar.add(busybox, arcname="bin/busybox")
        for applet in applets:
            if applet == "busybox":
                continue
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type, info.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(info)
        passwd = b"root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
        info = tarfile.TarInfo("etc/passwd")
        info.size = len(passwd)
        tar.addfile(info, io.BytesIO(passwd))
    return buffer.getvalue()


@pytest.fixture(scope="session")
def dockerd() -> Iterator[Engine]:
    """A private Docker Engine for the session, with :data:`BUSYBOX` imported."""
    binary = shutil.which("dockerd") or (
        "/usr/sbin/dockerd" if Path("/usr/sbin/dockerd").exists() else None
    )
    if binary is None:
        require_executable("dockerd")
        raise AssertionError("unreachable")
    if shutil.which("busybox") is None and not Path("/bin/busybox").exists():
        require_executable("busybox")
    if os.geteuid() != 0:
        message = "dockerd needs root here"
        if strict():
            pytest.fail(f"{message}, and CI requires it")
        pytest.skip(message)
    # a short path: unix socket paths are limited to 108 bytes
    root = Path(tempfile.mkdtemp(prefix="mk-docker-"))
    sock = root / "docker.sock"
    with (root / "dockerd.log").open("ab") as log_file:
        process = subprocess.Popen(
            [
                binary,
                "--host",
                f"unix://{sock}",
                "--data-root",
                str(root / "data"),
                "--exec-root",
                str(root / "exec"),
                "--pidfile",
                str(root / "docker.pid"),
                "--storage-driver=overlay2",
                "--exec-opt",
                "native.cgroupdriver=cgroupfs",
                # containers resolve no names outside: tests only ever reach loopback
                "--dns",
                "127.0.0.1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            # a pull (of a name no test image has) goes to a closed loopback port
            # instead of a registry on the internet
            env={**os.environ, **NO_REGISTRY},
        )
    engine = Engine(socket=sock, process=process)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"dockerd exited: {(root / 'dockerd.log').read_text()[-2000:]}")
            try:
                engine.docker("version")
                break
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        engine.docker("import", "-", BUSYBOX, input=busybox_rootfs())
        yield engine
    finally:
        with contextlib.suppress(Exception):
            ids = engine.docker("ps", "-aq").split()
            if ids:
                engine.docker("rm", "-f", *ids)
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)
