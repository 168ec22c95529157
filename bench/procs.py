"""Child processes of a benchmark: started pinned to a core, each in its own process group, all stopped.

Every process goes through :class:`Processes`, a context manager that stops them in reverse order on
exit — normal end, error, Ctrl-C or SIGTERM alike — first with SIGTERM to the process group, then
SIGKILL after a grace period. Only loopback addresses are ever used.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType

LOOPBACK = "127.0.0.1"
GATEWAY_CORE = 0
SIDE_CORE = 1


def free_port() -> int:
    """A TCP port on the loopback interface that is free right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def pinned(argv: Sequence[str], core: int | None) -> list[str]:
    """``argv`` run under ``taskset -c core`` when taskset exists and the machine has that core."""
    if core is None or shutil.which("taskset") is None or core >= (os.cpu_count() or 1):
        return list(argv)
    return ["taskset", "-c", str(core), *argv]


class Processes:
    """Owns the child processes of one run; leaving the ``with`` block stops them all."""

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir
        self._children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._previous_sigterm: object = None

    def __enter__(self) -> Processes:
        self._previous_sigterm = signal.signal(signal.SIGTERM, _raise_interrupt)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()
        signal.signal(signal.SIGTERM, self._previous_sigterm)  # type: ignore[arg-type]

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        core: int | None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` pinned to ``core``; its output goes to ``<log_dir>/<name>.log``."""
        log_path = self._log_dir / f"{name}.log"
        with log_path.open("ab") as log:
            proc = subprocess.Popen(
                pinned(argv, core),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                cwd=cwd,
                start_new_session=True,  # its own process group: stopping it stops its children too
            )
        self._children.append((name, proc))
        return proc

    def pid(self, name: str) -> int:
        """The process id of the running child ``name`` (taskset execs the command: same id)."""
        for child_name, proc in self._children:
            if child_name == name and proc.poll() is None:
                return proc.pid
        raise LookupError(f"no running child named {name}")

    def log_tail(self, name: str, lines: int = 20) -> str:
        """The last lines a child wrote (for error messages)."""
        path = self._log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
        """Stop one child (and its process group): SIGTERM, then SIGKILL after ``grace`` seconds."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(grace)
        # The leader may have exited before its group: make sure no member is left behind.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        self._children = [(n, p) for n, p in self._children if p is not proc]

    def stop_all(self) -> None:
        """Stop every child still known, newest first."""
        for _, proc in reversed(list(self._children)):
            self.stop(proc)

    def wait_http(self, name: str, proc: subprocess.Popen[bytes], url: str, timeout: float = 60.0) -> None:
        """Wait until ``url`` answers any HTTP status; fail early if the process died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answered, even if with 401/404
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{name} did not answer {url} within {timeout:.0f} s:\n{self.log_tail(name)}")


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def blackhole_port() -> Iterator[int]:
    """A loopback port whose accept queue is kept full, so every new connection hangs in SYN_SENT.

    nginx uses it for the delayed provider: it connects there with ``proxy_connect_timeout 50ms``, the
    connect times out after 50 ms and ``error_page 504`` serves the fixed reply. A connection that never
    completes leaves no TIME_WAIT entry behind, so this holds for any number of requests.
    """
    listener = socket.socket()
    fillers: list[socket.socket] = []
    try:
        listener.bind((LOOPBACK, 0))
        listener.listen(0)
        port = int(listener.getsockname()[1])
        for _ in range(4):  # more than the accept queue holds (backlog 0 keeps one)
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect((LOOPBACK, port))
            fillers.append(filler)
        time.sleep(0.05)
        yield port
    finally:
        for sock in fillers:
            sock.close()
        listener.close()
