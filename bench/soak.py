"""``make soak``: is mlgate's memory flat under a long predict load where every request body is new?

Issue 7's memory target: RSS flat (±10 %) over a 10-minute run at concurrency 64, no growth with the
number of distinct predict bodies. This starts the provider and mlgate exactly as ``make bench`` does
(nginx or the mock provider on core 1, mlgate with security on pinned to core 0, set up through its
REST API), then drives predicts at concurrency 64 that alternate between the chat model and the 1,536-d
embedding model, each body carrying a counter (so a cache keyed on bodies would grow with every
request). After a warm-up it samples mlgate's RSS (``/proc/<pid>/status`` VmRSS, summed over the
process and its descendants, i.e. every worker) every few seconds, and prints one table (time, req/s
in the interval, RSS MiB) and a verdict: RSS at the end against the first sample after the warm-up,
and the least-squares slope in MiB/min. Everything is stopped at the end, on Ctrl-C and on errors.

    python bench/soak.py [--minutes M] [--quick] [--warmup S] [--sample S] [--row S] [--tracemalloc]

``--tracemalloc`` is the debug mode: mlgate gets a bench-side ``sitecustomize`` through PYTHONPATH (no
change to mlgate) whose SIGUSR1 handler starts tracemalloc (10 frames) at the end of the warm-up and
then dumps snapshots; the first (a sample later) and the last are compared and the allocation sites
whose live memory grew most are listed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import itertools
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import gateways
import provider as provider_mod
import report
import tools
from procs import GATEWAY_CORE, SIDE_CORE, Processes

RESULTS = Path(__file__).resolve().parent / "results"
TICK = "SOAKTICK"
TICK_EVERY = 50  # the load generator reports its cumulative count every this many responses
SYSTEM = "You are a helpful assistant."
WORKLOADS = ["chat", "embedding"]

# Debug mode: imported by mlgate's interpreter through PYTHONPATH, before mlgate itself.
_SITECUSTOMIZE = """\
import os, signal, tracemalloc

_dir = os.environ.get("SOAK_SNAPSHOT_DIR")
if _dir:
    _count = [0]

    def _on_usr1(signum, frame):
        # The first signal starts tracing (tracing from start-up makes imports ~60x slower); each
        # later one dumps a snapshot. A ".done" file marks each step as finished.
        if not tracemalloc.is_tracing():
            tracemalloc.start(10)
        else:
            tracemalloc.take_snapshot().dump(os.path.join(_dir, f"{os.getpid()}-{_count[0]}.snap"))
        open(os.path.join(_dir, f"{os.getpid()}-{_count[0]}.done"), "w").close()
        _count[0] += 1

    signal.signal(signal.SIGUSR1, _on_usr1)
"""

_LUA = """\
local paths = {{"{chat}", "{embedding}"}}
local headers = {{["Content-Type"] = "application/json", ["Authorization"] = "{auth}"}}
local tag = "{tag}"
local sent, answered, errors = 0, 0, 0

request = function()
  sent = sent + 1
  local body
  if sent % 2 == 1 then
    body = '{{"parameters":{{"messages":[{{"role":"system","content":"{system}"}},' ..
      '{{"role":"user","content":"Hello ' .. tag .. ' #' .. sent .. '!"}}]}}}}'
  else
    body = '{{"parameters":{{"input":["What is the meaning of life? ' .. tag .. ' #' .. sent .. '"]}}}}'
  end
  return wrk.format("POST", paths[(sent % 2 == 1) and 1 or 2], headers, body)
end

response = function(status, hdrs, body)
  answered = answered + 1
  if status < 200 or status > 299 then errors = errors + 1 end
  if answered % {every} == 0 then
    io.stdout:write(string.format("{tick} %d %d\\n", answered, errors))
    io.stdout:flush()
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.stdout:write(string.format("{tick}DONE %d %d\\n", summary.requests,
    e.status + e.connect + e.read + e.write + e.timeout))
  io.stdout:flush()
end
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Flags; ``--quick`` is a 1-minute run with a shorter warm-up and finer rows."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, help="measured minutes after the warm-up (default 10)")
    parser.add_argument("--quick", action="store_true", help="1 minute, 10 s warm-up, a row every 5 s")
    parser.add_argument("--warmup", type=float, help="seconds of load before the first sample (30; quick 10)")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between RSS samples (5)")
    parser.add_argument("--row", type=float, help="seconds per table row (30; quick 5)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--tracemalloc", action="store_true", help="debug: snapshot diff of mlgate's heap")
    parser.add_argument("--no-install", action="store_true", help="never apt-get install nginx or wrk")
    parser.add_argument("--mock-provider", action="store_true", help="the mock provider even if nginx exists")
    parser.add_argument("--bundled-loadgen", action="store_true", help="this file's generator even with wrk")
    parser.add_argument("--out", type=Path, default=RESULTS / "soak.md")
    parser.add_argument(
        "--keep-logs", type=Path, help="copy mlgate's, the provider's and the load's logs here"
    )
    args = parser.parse_args(argv)
    args.minutes = args.minutes or (1.0 if args.quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (10.0 if args.quick else 30.0)
    args.row = args.row or (5.0 if args.quick else 30.0)
    if args.row < args.sample:
        args.row = args.sample
    return args


# -- measuring -------------------------------------------------------------------------------------


def _tree(root: int) -> list[int]:
    """``root`` and all its descendants (forked workers), from /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def rss_mib(root: int) -> tuple[float, int]:
    """VmRSS summed over ``root`` and its descendants, in MiB, and how many processes that was."""
    total_kib, count = 0, 0
    for pid in _tree(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kib += int(line.split()[1])
                count += 1
                break
    return total_kib / 1024, count


@dataclass
class TickLog:
    """Reads the load generator's cumulative ``SOAKTICK answered errors`` lines as they are written."""

    path: Path
    offset: int = 0
    answered: int = 0
    errors: int = 0
    final: tuple[int, int] | None = None
    _partial: str = field(default="", repr=False)

    def poll(self) -> tuple[int, int]:
        """The latest (answered, errors) counts."""
        if self.path.exists():
            with self.path.open("r", errors="replace") as log:
                log.seek(self.offset)
                chunk = log.read()
                self.offset = log.tell()
            lines = (self._partial + chunk).split("\n")
            self._partial = lines.pop()
            for line in lines:
                parts = line.split()
                if len(parts) == 3 and parts[0] == TICK:
                    self.answered, self.errors = int(parts[1]), int(parts[2])
                elif len(parts) == 3 and parts[0] == TICK + "DONE":
                    self.final = (int(parts[1]), int(parts[2]))
        return self.answered, self.errors


@dataclass(frozen=True)
class Sample:
    """One RSS sample: seconds since the warm-up ended, cumulative answers, RSS, processes counted."""

    t: float
    answered: int
    errors: int
    rss: float
    procs: int


def slope_per_min(samples: list[Sample]) -> float:
    """Least-squares slope of RSS over time, in MiB per minute."""
    if len(samples) < 2:
        return 0.0
    mean_t = sum(s.t for s in samples) / len(samples)
    mean_r = sum(s.rss for s in samples) / len(samples)
    var = sum((s.t - mean_t) ** 2 for s in samples)
    cov = sum((s.t - mean_t) * (s.rss - mean_r) for s in samples)
    return cov / var * 60 if var else 0.0


# -- the load --------------------------------------------------------------------------------------


def _wrk_argv(
    wrk: str,
    workdir: Path,
    base_url: str,
    paths: dict[str, str],
    auth: str,
    args: argparse.Namespace,
    seconds: float,
) -> list[str]:
    script = workdir / "soak.lua"
    script.write_text(
        _LUA.format(
            chat=paths["chat"],
            embedding=paths["embedding"],
            auth=auth,
            tag=secrets.token_hex(4),
            system=SYSTEM,
            every=TICK_EVERY,
            tick=TICK,
        )
    )
    conc = args.concurrency
    return [
        wrk,
        "-t1",
        f"-c{conc}",
        f"-d{round(seconds)}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base_url + "/",
    ]


def _bundled_argv(
    base_url: str, paths: dict[str, str], auth: str, args: argparse.Namespace, seconds: float
) -> list[str]:
    return [
        sys.executable,
        str(Path(__file__).resolve()),
        "--drive",
        base_url,
        paths["chat"],
        paths["embedding"],
        auth,
        str(args.concurrency),
        str(seconds),
    ]


def body(n: int, tag: str) -> bytes:
    """The n-th predict body of the bundled generator: odd → chat, even → embedding; all distinct."""
    if n % 2 == 1:
        user = f"Hello {tag} #{n}!"
        return (
            b'{"parameters":{"messages":[{"role":"system","content":"' + SYSTEM.encode() + b'"},'
            b'{"role":"user","content":"' + user.encode() + b'"}]}}'
        )
    return b'{"parameters":{"input":["What is the meaning of life? ' + f"{tag} #{n}".encode() + b'"]}}'


async def _drive(base_url: str, chat: str, embedding: str, auth: str, conc: int, seconds: float) -> None:
    """The bundled generator: ``conc`` keep-alive workers, distinct bodies, ticks on stdout."""
    import aiohttp

    headers = {"Content-Type": "application/json", "Authorization": auth}
    counter = itertools.count(1)
    tag = secrets.token_hex(4)
    answered = errors = 0
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=conc)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10)) as session:

        async def worker() -> None:
            nonlocal answered, errors
            while time.monotonic() < deadline:
                n = next(counter)
                url = base_url + (chat if n % 2 == 1 else embedding)
                try:
                    async with session.post(url, data=body(n, tag), headers=headers) as reply:
                        await reply.read()
                        ok = 200 <= reply.status < 300
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                answered += 1
                errors += not ok
                if answered % TICK_EVERY == 0:
                    print(f"{TICK} {answered} {errors}", flush=True)

        await asyncio.gather(*(worker() for _ in range(conc)))
    print(f"{TICK}DONE {answered} {errors}", flush=True)


# -- the debug mode --------------------------------------------------------------------------------


@contextlib.contextmanager
def _traced_env(workdir: Path) -> Iterator[Path]:
    """Environment for the next child: the SIGUSR1 tracemalloc hook (then restored)."""
    hook_dir, snap_dir = workdir / "soak-hook", workdir / "soak-snapshots"
    hook_dir.mkdir()
    snap_dir.mkdir()
    (hook_dir / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    extra = {"PYTHONPATH": str(hook_dir), "SOAK_SNAPSHOT_DIR": str(snap_dir)}
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield snap_dir
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _signal_step(pid: int, snap_dir: Path, number: int, timeout: float = 180.0) -> Path:
    """SIGUSR1 step ``number`` (0 starts tracing, then each dumps a snapshot); wait until it is done."""
    os.kill(pid, signal.SIGUSR1)
    done = snap_dir / f"{pid}-{number}.done"
    deadline = time.monotonic() + timeout
    while not done.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"mlgate did not finish tracemalloc step {number} within {timeout:.0f} s")
        time.sleep(0.2)
    return snap_dir / f"{pid}-{number}.snap"


def _snapshot_diff(first: Path, last: Path, top: int = 15) -> list[str]:
    """The allocation sites whose live size grew most between two snapshots (markdown)."""
    noise = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>"),
    ]
    old = tracemalloc.Snapshot.load(str(first)).filter_traces(noise)
    new = tracemalloc.Snapshot.load(str(last)).filter_traces(noise)
    total_old = sum(s.size for s in old.statistics("filename")) / 2**20
    total_new = sum(s.size for s in new.statistics("filename")) / 2**20
    lines = [
        f"tracemalloc (10 frames, tracing from the end of the warm-up): live traced memory {total_old:.2f} MiB "
        f"at the first snapshot → {total_new:.2f} MiB at the end ({total_new - total_old:+.2f} MiB).",
        "",
        "| size Δ KiB | count Δ | allocated at (innermost frame) |",
        "|--:|--:|---|",
    ]
    stats = new.compare_to(old, "lineno")
    for stat in stats[:top]:
        frame = stat.traceback[0]
        lines.append(
            f"| {stat.size_diff / 1024:+,.1f} | {stat.count_diff:+,} | `{frame.filename}:{frame.lineno}` |"
        )
    grown = [s for s in new.compare_to(old, "traceback") if s.size_diff > 0][:3]
    for stat in grown:
        lines += [
            "",
            f"Traceback of a growing site ({stat.size_diff / 1024:+,.1f} KiB, {stat.count_diff:+,} blocks):",
            "```",
        ]
        lines += [line.rstrip() for line in stat.traceback.format(limit=12)]
        lines.append("```")
    return lines


@contextlib.contextmanager
def _kept_logs(workdir: Path, keep: Path | None) -> Iterator[None]:
    """On leaving (also on errors), copy the children's ``*.log`` files to ``keep`` when given."""
    try:
        yield
    finally:
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            for log in workdir.glob("*.log"):
                shutil.copy(log, keep / log.name)


# -- the run ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the soak; print and save the table and verdict."""
    args = parse_args(argv)
    notes: list[str] = []
    install = not args.no_install
    nginx = None if args.mock_provider else tools.find_nginx(install, notes)
    wrk = None if args.bundled_loadgen else tools.find_wrk(install, notes)
    security = gateways.mlgate_has_security()
    measured = args.minutes * 60
    samples: list[Sample] = []
    before = after = None
    diff: list[str] = []
    final: tuple[int, int] | None = None
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="mlgate-soak-") as tmp,
        _kept_logs(Path(tmp), args.keep_logs),
        Processes(Path(tmp)) as procs,
    ):
        workdir = Path(tmp)
        with provider_mod.start_provider(procs, workdir, nginx) as provider:
            snap_dir = None
            if args.tracemalloc:
                with _traced_env(workdir) as snap_dir:
                    target = gateways.start_mlgate(procs, workdir, provider, WORKLOADS, [0], security)
            else:
                target = gateways.start_mlgate(procs, workdir, provider, WORKLOADS, [0], security)
            pid = procs.pid("mlgate")
            paths = {w: target.calls[(w, 0)][0] for w in WORKLOADS}
            auth = target.headers.get("Authorization", "")
            seconds = args.warmup + measured + 2  # the load ends just after the last sample
            if args.tracemalloc:  # snapshots take a while; the load is stopped after the last one
                seconds += args.sample + 600
            if wrk:
                argv_load = _wrk_argv(wrk, workdir, target.base_url, paths, auth, args, seconds)
            else:
                argv_load = _bundled_argv(target.base_url, paths, auth, args, seconds)
            before, _ = rss_mib(pid)
            print(
                f"soak: mlgate pid {pid}, RSS {before:.1f} MiB after set-up; load for {seconds:.0f} s",
                flush=True,
            )
            load = procs.start("load", argv_load, core=SIDE_CORE)
            ticks = TickLog(workdir / "load.log")
            time.sleep(args.warmup)
            if snap_dir is not None:  # trace from the end of the warm-up; the first snapshot a sample later
                _signal_step(pid, snap_dir, 0)
                time.sleep(args.sample)
                first_snap = _signal_step(pid, snap_dir, 1)
            t0 = time.monotonic()
            for i in itertools.count():
                due = t0 + i * args.sample
                if due > t0 + measured + 1e-6:
                    break
                time.sleep(max(0.0, due - time.monotonic()))
                if load.poll() is not None:
                    raise RuntimeError(
                        f"load generator exited early ({load.returncode}):\n{procs.log_tail('load')}"
                    )
                answered, errors = ticks.poll()
                rss, nprocs = rss_mib(pid)
                samples.append(Sample(time.monotonic() - t0, answered, errors, rss, nprocs))
                if i % max(1, round(args.row / args.sample)) == 0:
                    print(
                        f"soak: {samples[-1].t:6.0f} s  RSS {rss:8.1f} MiB  answered {answered:,}", flush=True
                    )
            if snap_dir is not None:
                last_snap = _signal_step(pid, snap_dir, 2)
                diff = _snapshot_diff(first_snap, last_snap)
            try:
                load.wait(timeout=1 if args.tracemalloc else 30)
            except subprocess.TimeoutExpired:
                procs.stop(load)
            ticks.poll()
            final = ticks.final
            time.sleep(5)
            after, _ = rss_mib(pid)
    elapsed = time.monotonic() - started
    tool_note = (
        "wrk (1 thread; a Lua `request()` builds every body with a counter and alternates chat/embedding)"
        if wrk
        else "bundled aiohttp generator in bench/soak.py (--drive; distinct bodies, alternating)"
    )
    lines = _document(
        args, samples, before, after, final, provider.note, tool_note, security, notes, diff, elapsed
    )
    text = "\n".join(lines) + "\n"
    print()
    print(text, end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"soak: written to {args.out}")
    return 0


def _rows(samples: list[Sample], row: float, sample: float) -> list[str]:
    step = max(1, round(row / sample))
    picked = samples[::step]
    if picked[-1] is not samples[-1]:
        picked.append(samples[-1])
    lines = ["| time | req/s in the interval | errors | RSS MiB |", "|--:|--:|--:|--:|"]
    prev: Sample | None = None
    for s in picked:
        rate = "—" if prev is None else f"{(s.answered - prev.answered) / max(1e-9, s.t - prev.t):,.0f}"
        errs = "—" if prev is None else f"{s.errors - prev.errors:,}"
        minutes, secs = divmod(round(s.t), 60)
        lines.append(f"| {minutes}:{secs:02d} | {rate} | {errs} | {s.rss:.1f} |")
        prev = s
    return lines


def _document(
    args: argparse.Namespace,
    samples: list[Sample],
    before: float | None,
    after: float | None,
    final: tuple[int, int] | None,
    provider_note: str,
    tool_note: str,
    security: bool,
    notes: list[str],
    diff: list[str],
    elapsed: float,
) -> list[str]:
    first, last = samples[0], samples[-1]
    change = (last.rss - first.rss) / first.rss * 100
    slope = slope_per_min(samples)
    half = samples[len(samples) // 2 :]
    peak = max(s.rss for s in samples)
    flat = abs(change) <= 10.0
    rate = (last.answered - first.answered) / max(1e-9, last.t - first.t)
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    requests, socket_errors = final if final else (last.answered, last.errors)
    lines = [
        f"# mlgate soak — {when}, mlgate {report.revision()}",
        "",
        f"Machine: {report.machine()}.",
        f"Load: concurrency {args.concurrency}, predicts alternating chat / 1,536-d embedding, every body "
        f"distinct; {args.warmup:g} s warm-up, then {args.minutes:g} min measured, RSS sampled every "
        f"{args.sample:g} s (a row every {args.row:g} s). Total {elapsed:.0f} s.",
        "",
        *_rows(samples, args.row, args.sample),
        "",
        f"**Verdict: {'flat ✔' if flat else 'NOT flat ✘'}** — RSS {first.rss:.1f} MiB at the first sample after "
        f"the warm-up → {last.rss:.1f} MiB at the end ({change:+.1f} %, target ±10 %); peak {peak:.1f} MiB; "
        f"slope {slope:+.2f} MiB/min over the whole run, {slope_per_min(half):+.2f} MiB/min over its second half.",
        f"Requests: {requests:,} answered ({requests:,} distinct bodies), {rate:,.0f} req/s on average while "
        f"measured, {socket_errors:,} errors (non-2xx and socket). RSS after set-up, before any load: "
        f"{before or 0:.1f} MiB; 5 s after the load stopped: {after or 0:.1f} MiB; processes counted: {last.procs}.",
        "",
        f"Tools: provider = {provider_note}; load = {tool_note}; RSS = `/proc/<pid>/status` VmRSS summed over "
        f"mlgate and its descendants; mlgate security {'ON (HTTP Basic on every request)' if security else 'not in this build'}; "
        f"mlgate pinned to core {GATEWAY_CORE}, provider and load generator to core {SIDE_CORE} (taskset)"
        + ("; debug: tracemalloc in mlgate (slows it down)." if args.tracemalloc else "."),
    ]
    if diff:
        lines += ["", *diff]
    if notes:
        lines += ["", *(f"Note: {n}" for n in notes)]
    return lines


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--drive":  # the bundled load generator, as a child
        base, chat_path, embedding_path, authorization, conc, secs = sys.argv[2:8]
        asyncio.run(_drive(base, chat_path, embedding_path, authorization, int(conc), float(secs)))
        sys.exit(0)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("soak: interrupted; every started process was stopped", file=sys.stderr)
        sys.exit(130)
    except RuntimeError as exc:
        print(f"soak: failed; every started process was stopped.\n{exc}", file=sys.stderr)
        sys.exit(1)
