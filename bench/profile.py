"""Profile mlgate's predict path: py-spy samples ``mlgate serve`` under the chat workload at c=64.

Same set-up as ``make bench`` (nginx or mock provider and the load generator on core 1, mlgate on core
0, security on when the build has it, configured through the REST API). py-spy (pip-installed into the
project's .venv at bench time when missing; never a runtime dependency) attaches to the running server
for the measured seconds, then the collapsed stacks are summed into the top functions by own time and
by total (inclusive) time, and by package.

    python bench/profile.py [--seconds 10] [--rate 250] [--workload chat] [--concurrency 64] [--top 25]

Writes bench/results/profile.md (and the collapsed stacks beside it, for flame graphs).
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import gateways
import provider as provider_mod
import report
import tools
from loadgen import LoadGenerator
from procs import SIDE_CORE, Processes, pinned

RESULTS = Path(__file__).resolve().parent / "results"
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*)\)$")


def parse_collapsed(text: str) -> tuple[collections.Counter[str], collections.Counter[str], int]:
    """Own-time and total-time sample counts per frame from py-spy's ``--format raw`` output."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if not f.startswith(("thread (", "process "))]
        if not frames:
            continue
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    return own, total, samples


def short(frame: str) -> str:
    """``func (…/site-packages/pkg/mod.py)`` → ``func  pkg/mod.py``."""
    match = _FRAME.match(frame)
    if not match:
        return frame
    path = match["file"]
    for marker in ("site-packages/", "/src/", "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['func']}  {path}"


def package(frame: str) -> str:
    """A coarse bucket for a frame: ``mlgate.<layer>``, else the top-level package or module.

    py-spy names files relative to their sys.path entry (``aiohttp/client.py``, ``threading.py``).
    Own time of ``Runner.run`` is uvloop's compiled loop (callbacks, socket reads and writes).
    """
    match = _FRAME.match(frame)
    path = match["file"] if match else frame
    for marker in ("site-packages/", "/src/", "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    parts = path.split("/")
    if parts[0] == "mlgate" and len(parts) > 1:
        return "mlgate." + parts[1].removesuffix(".py")
    if match and match["func"] == "Runner.run":
        return "uvloop (compiled event loop, socket I/O)"
    return parts[0].removesuffix(".py")


def summarise(text: str, top: int) -> list[str]:
    """Markdown tables: top functions by own time and by total time, and own time per package."""
    own, total, samples = parse_collapsed(text)
    if not samples:
        return ["py-spy recorded no samples."]
    lines = [
        f"{samples} samples.",
        "",
        "Top functions by own time:",
        "",
        "| own % | total % | function  file |",
    ]
    lines.append("|--:|--:|---|")
    for frame, count in own.most_common(top):
        lines.append(
            f"| {count / samples * 100:.1f} | {total[frame] / samples * 100:.1f} | `{short(frame)}` |"
        )
    lines += ["", "Top functions by total (inclusive) time:", "", "| total % | own % | function  file |"]
    lines.append("|--:|--:|---|")
    for frame, count in total.most_common(top):
        lines.append(f"| {count / samples * 100:.1f} | {own[frame] / samples * 100:.1f} | `{short(frame)}` |")
    by_package: collections.Counter[str] = collections.Counter()
    for frame, count in own.items():
        by_package[package(frame)] += count
    lines += ["", "Own time by package:", "", "| own % | package |", "|--:|---|"]
    for name, count in by_package.most_common(top):
        lines.append(f"| {count / samples * 100:.1f} | {name} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Set up, profile under load, print and save the summary."""
    parser = argparse.ArgumentParser(description="py-spy profile of mlgate's predict path")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--workload", default="chat", choices=["chat", "embedding"])
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--delay", type=int, default=0, choices=[0, provider_mod.DELAY_MS])
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-install", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS / "profile.md")
    args = parser.parse_args(argv)
    notes: list[str] = []
    install = not args.no_install
    py_spy = tools.find_py_spy(notes)
    if py_spy is None:
        print("\n".join(notes), file=sys.stderr)
        return 1
    nginx = tools.find_nginx(install, notes)
    wrk = tools.find_wrk(install, notes)
    security = gateways.mlgate_has_security()
    with tempfile.TemporaryDirectory(prefix="mlgate-profile-") as tmp, Processes(Path(tmp)) as procs:
        workdir = Path(tmp)
        with provider_mod.start_provider(procs, workdir, nginx) as provider:
            load = LoadGenerator(wrk, workdir)
            target = gateways.start_mlgate(procs, workdir, provider, [args.workload], [args.delay], security)
            request = target.request(args.workload, args.delay)
            assert request is not None
            url, body = request
            load.run(url, body, target.headers, args.concurrency, 2)  # warm-up
            pid = procs.pid("mlgate")
            raw = workdir / "profile.txt"
            spy = [
                py_spy,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(args.seconds),
                "--rate",
                str(args.rate),
            ]
            # --gil: only samples holding the GIL, i.e. Python work. py-spy's idle detection does not work
            # under every kernel (gVisor reports idle threads as running), and without --gil the thread
            # pool's idle workers and the event loop's epoll wait would show as the top "own time".
            # --nonblocking: never pause the server to take a sample.
            spy += ["--gil", "--nonblocking", "--format", "raw", "--nolineno", "--output", str(raw)]
            spy_result: list[subprocess.CompletedProcess[str]] = []
            thread = threading.Thread(
                target=lambda: spy_result.append(
                    subprocess.run(
                        pinned(spy, SIDE_CORE),
                        capture_output=True,
                        text=True,
                        timeout=args.seconds + 60,
                        check=False,
                    )
                )
            )
            thread.start()
            measured = load.run(url, body, target.headers, args.concurrency, args.seconds + 1)
            thread.join()
            if not raw.exists():
                err = spy_result[0].stderr if spy_result else "?"
                print(f"profile: py-spy wrote nothing: {err[-800:]}", file=sys.stderr)
                return 1
            text = raw.read_text()
    lines = [
        f"# mlgate predict profile — {args.workload}, c={args.concurrency}, {args.delay} ms provider delay",
        "",
        f"mlgate {report.revision()}; machine: {report.machine()}.",
        f"Provider: {provider.note}; load: {load.name}; security {'ON' if security else 'not in this build'}; "
        f"py-spy {args.rate} Hz for {args.seconds} s, --gil --nonblocking (samples of the thread holding the GIL "
        f"only, i.e. CPU spent in Python or in C called with the GIL held: time in C extensions such as "
        f"orjson or httptools shows as their calling Python frame; waiting in epoll does not count).",
        f"Under the profiler mlgate served {measured.rps:,.0f} req/s, p50 {measured.p50_ms:.2f} ms, "
        f"p99 {measured.p99_ms:.2f} ms, {measured.errors} errors.",
        "",
        *summarise(text, args.top),
    ]
    if notes:
        lines += ["", *(f"Note: {n}" for n in notes)]
    out = "\n".join(lines) + "\n"
    print(out, end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(out)
    args.out.with_suffix(".collapsed.txt").write_text(text)
    print(f"profile: written to {args.out} (collapsed stacks: {args.out.with_suffix('.collapsed.txt')})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("profile: interrupted; every started process was stopped", file=sys.stderr)
        sys.exit(130)
    except RuntimeError as exc:
        print(f"profile: failed; every started process was stopped.\n{exc}", file=sys.stderr)
        sys.exit(1)
