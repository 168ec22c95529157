"""``make bench``: mlgate's predict path against a minimal forwarder, LiteLLM and the direct call.

One command starts a fixed-response provider (nginx, else the mock provider), a load generator (wrk,
else bench/loadgen.py), the minimal forwarder (the ceiling), mlgate (security on when the build has it)
and, when it can be installed into its own virtual environment, the LiteLLM proxy (the peer). Gateways
run on core 0; the provider and the load generator on core 1. For each workload (chat, 1,536-d
embedding) × concurrency (1, 64) × provider delay (0, 50 ms), every target gets a warm-up, then N runs;
the table shows medians. Then ``--workers N`` (N = cores) against one worker, at c=64 (bench/scaling.py).
Every process is stopped at the end, on Ctrl-C and on errors too.

    python bench/run.py [--quick] [--duration S] [--warmup S] [--repeat N] [--targets a,b] [--no-install]
                         [--no-scaling]

Environment: BENCH_DURATION, BENCH_WARMUP, BENCH_REPEAT, BENCH_QUICK=1, BENCH_NO_LITELLM=1,
BENCH_LITELLM_SPEC (pip requirement of the peer), BENCH_LITELLM_VENV.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

import gateways
import provider as provider_mod
import report
import scaling
import tools
from loadgen import LoadGenerator, Result
from procs import Processes

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = ["direct", "forwarder", "mlgate", "litellm"]


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Flags win over BENCH_* variables, which win over the defaults."""
    quick_env = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", default=quick_env, help="1 s runs, 1 repeat")
    parser.add_argument("--duration", type=float, help="seconds per measured run (default 5)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up per target and cell (default 1)")
    parser.add_argument("--repeat", type=int, help="measured runs per cell; the median is shown (default 3)")
    parser.add_argument("--targets", default=",".join(TARGETS), help="subset of " + ",".join(TARGETS))
    parser.add_argument("--workloads", default="chat,embedding")
    parser.add_argument("--concurrency", default="1,64")
    parser.add_argument("--delays", default="0,50", help="provider delays in ms (0 and/or 50)")
    parser.add_argument("--no-install", action="store_true", help="never apt-get/pip install anything")
    parser.add_argument(
        "--mock-provider", action="store_true", help="use the mock provider even if nginx exists"
    )
    parser.add_argument(
        "--bundled-loadgen", action="store_true", help="use bench/loadgen.py even if wrk exists"
    )
    parser.add_argument(
        "--no-scaling", action="store_true", help="skip the --workers scaling runs (they need ≥ 2 cores)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.md")
    args = parser.parse_args(argv)
    quick = args.quick
    args.duration = args.duration or _env_float("BENCH_DURATION", 1.0 if quick else 5.0)
    args.warmup = (
        args.warmup if args.warmup is not None else _env_float("BENCH_WARMUP", 0.5 if quick else 1.0)
    )
    args.repeat = args.repeat or int(_env_float("BENCH_REPEAT", 1 if quick else 3))
    if os.environ.get("BENCH_NO_LITELLM", "") not in ("", "0"):
        args.targets = ",".join(t for t in args.targets.split(",") if t != "litellm")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the whole benchmark; print and save the table."""
    args = parse_args(argv)
    targets = [t for t in TARGETS if t in args.targets.split(",")]
    workloads = [w for w in ("chat", "embedding") if w in args.workloads.split(",")]
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    delays = [int(d) for d in args.delays.split(",")]
    if any(d not in (0, provider_mod.DELAY_MS) for d in delays):
        sys.exit(f"bench: --delays accepts 0 and {provider_mod.DELAY_MS}")
    notes: list[str] = []
    install = not args.no_install
    nginx = None if args.mock_provider else tools.find_nginx(install, notes)
    wrk = None if args.bundled_loadgen else tools.find_wrk(install, notes)
    litellm = tools.find_litellm(install, notes) if "litellm" in targets else None
    security = gateways.mlgate_has_security()
    started = time.monotonic()
    meter = report.CpuMeter()
    summaries: dict[tuple[report.Cell, str], report.Summary] = {}
    cells = [(w, c, d) for w in workloads for d in delays for c in concurrencies]
    scaled: dict[tuple[str, int], report.Summary] = {}
    with tempfile.TemporaryDirectory(prefix="mlgate-bench-") as tmp, Processes(Path(tmp)) as procs:
        workdir = Path(tmp)
        with provider_mod.start_provider(procs, workdir, nginx) as provider:
            load = LoadGenerator(wrk, workdir)
            live: dict[str, gateways.Target] = {}
            if "direct" in targets:
                live["direct"] = gateways.direct_target(provider, workloads, delays)
            if "forwarder" in targets:
                live["forwarder"] = gateways.start_forwarder(procs, workdir, provider, workloads, delays)
            if "mlgate" in targets:
                live["mlgate"] = gateways.start_mlgate(procs, workdir, provider, workloads, delays, security)
            if litellm is not None:
                try:
                    live["litellm"] = gateways.start_litellm(
                        procs, workdir, litellm, provider, workloads, delays
                    )
                except RuntimeError as exc:
                    notes.append(f"LiteLLM skipped: it did not start ({str(exc).splitlines()[0]})")
            total = len(cells)
            for i, cell in enumerate(cells, 1):
                workload, conc, delay = cell
                print(f"bench: [{i}/{total}] {workload} c={conc} delay={delay} ms", flush=True)
                runs: dict[str, list[Result]] = {name: [] for name in live}
                requests = {name: t.request(workload, delay) for name, t in live.items()}
                for name, req in requests.items():
                    if req is not None and args.warmup > 0:
                        load.run(req[0], req[1], live[name].headers, conc, args.warmup)
                for _ in range(args.repeat):  # interleaved, so drift hits every target alike
                    for name, req in requests.items():
                        if req is not None:
                            runs[name].append(
                                load.run(req[0], req[1], live[name].headers, conc, args.duration)
                            )
                for name, results in runs.items():
                    if results:
                        summaries[(cell, name)] = report.Summary.of(results)
                        s = summaries[(cell, name)]
                        print(
                            f"bench:     {name:<9} {s.rps:9,.0f} req/s  p50 {s.p50_ms:7.2f} ms  "
                            f"p99 {s.p99_ms:7.2f} ms  errors {s.errors}",
                            flush=True,
                        )
            if "mlgate" in live and not args.no_scaling and scaling.workers_wanted() > 1:
                scaled = scaling.measure(
                    procs,
                    workdir,
                    provider,
                    load,
                    live["mlgate"],
                    workloads,
                    security,
                    warmup=args.warmup,
                    repeat=args.repeat,
                    duration=args.duration,
                )
    elapsed = time.monotonic() - started
    shown = [t for t in TARGETS if any(name == t for _, name in summaries)]
    notes.append(meter.summary())
    lines = _document(
        args, summaries, cells, shown, workloads, provider, load, security, litellm, notes, elapsed, scaled
    )
    text = "\n".join(lines) + "\n"
    print()
    print(text, end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"bench: written to {args.out}")
    return 0


def _document(
    args: argparse.Namespace,
    summaries: dict[tuple[report.Cell, str], report.Summary],
    cells: list[report.Cell],
    shown: list[str],
    workloads: list[str],
    provider: provider_mod.Provider,
    load: LoadGenerator,
    security: bool,
    litellm: str | None,
    notes: list[str],
    elapsed: float,
    scaled: dict[tuple[str, int], report.Summary],
) -> list[str]:
    peer = (
        f"LiteLLM proxy ({os.environ.get('BENCH_LITELLM_SPEC', tools.LITELLM_SPEC)}, own venv, 1 worker, no auth)"
        if "litellm" in shown
        else "no LiteLLM"
    )
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# mlgate bench — {when}, mlgate {report.revision()}",
        "",
        f"Machine: {report.machine()}.",
        f"Tools: provider = {provider.note}; load = {load.name}; peer = {peer}; "
        f"mlgate security {'ON (HTTP Basic on every request)' if security else 'not in this build'}.",
        "Pinning: gateway (forwarder / mlgate / LiteLLM) on core 0; provider and load generator on core 1.",
        f"Runs: {args.repeat} × {args.duration:g} s per cell and target after {args.warmup:g} s warm-up; "
        f"medians shown; +p50/+p99 = over the direct call (load generator → provider). "
        f"Total {elapsed:.0f} s.",
        "",
        *report.table(summaries, cells, shown),
        "",
        *report.ratios(summaries, workloads),
    ]
    if scaled:
        workers = scaling.workers_wanted()
        lines += [
            "",
            f"`--workers {workers}`: unpinned, sharing the cores with the provider and the load generator "
            "(pinned to core 1), against the one worker pinned to core 0 above; a lower bound of the scaling.",
            "",
            *report.scaling(scaled, workloads, workers),
        ]
    if notes:
        lines += ["", *(f"Note: {n}" for n in notes)]
    return lines


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("bench: interrupted; every started process was stopped", file=sys.stderr)
        sys.exit(130)
    except RuntimeError as exc:  # a process that did not start, a failed set-up call, a broken generator
        print(f"bench: failed; every started process was stopped.\n{exc}", file=sys.stderr)
        sys.exit(1)
