"""Load generators: wrk with a Lua script for POST bodies, else this file's bundled async generator.

Both keep a fixed number of keep-alive connections busy for a fixed time (bounded also by a request
count for the bundled one) and report requests, requests/s, p50/p99 latency and errors. Non-2xx
replies count as errors. Run on its own as ``python bench/loadgen.py --url ... --body-file ...``, the
bundled generator prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from procs import SIDE_CORE, pinned

MAX_REQUESTS = 2_000_000
MARK = "BENCHJSON "

_LUA = """\
local f = assert(io.open("{body}", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
{headers}
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{mark}{{"requests":%d,"seconds":%.6f,"p50_us":%.1f,"p99_us":%.1f,' ..
    '"errors":%d}}\\n', summary.requests, summary.duration / 1e6, latency:percentile(50),
    latency:percentile(99), e.status + e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class Result:
    """One measured run."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class LoadGenerator:
    """How to drive load: ``wrk`` (path) or the bundled generator (``wrk`` is None)."""

    wrk: str | None
    workdir: Path

    @property
    def name(self) -> str:
        """For the report."""
        return "wrk" if self.wrk else "bundled aiohttp load generator (bench/loadgen.py)"

    def run(self, url: str, body: bytes, headers: dict[str, str], connections: int, seconds: float) -> Result:
        """Run one load, pinned to the side core; raise when the generator fails."""
        body_file = self.workdir / f"body-{hashlib.sha1(body).hexdigest()[:12]}.json"
        if not body_file.exists():
            body_file.write_bytes(body)
        if self.wrk:
            argv = self._wrk_argv(url, body_file, headers, connections, seconds)
        else:
            argv = [sys.executable, __file__, "--url", url, "--body-file", str(body_file)]
            argv += [f"--header={k}:{v}" for k, v in headers.items()]
            argv += ["--connections", str(connections), "--seconds", str(seconds)]
        done = subprocess.run(
            pinned(argv, SIDE_CORE), capture_output=True, text=True, timeout=seconds + 60, check=False
        )
        for line in done.stdout.splitlines():
            if line.startswith(MARK):
                data = json.loads(line[len(MARK) :])
                return Result(
                    requests=int(data["requests"]),
                    seconds=float(data["seconds"]),
                    p50_ms=float(data["p50_us"]) / 1000,
                    p99_ms=float(data["p99_us"]) / 1000,
                    errors=int(data["errors"]),
                )
        raise RuntimeError(f"load generator failed ({done.returncode}): {done.stderr[-500:]}")

    def _wrk_argv(
        self, url: str, body_file: Path, headers: dict[str, str], connections: int, seconds: float
    ) -> list[str]:
        lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
        digest = hashlib.sha1(f"{body_file}{lines}".encode()).hexdigest()[:12]
        script = self.workdir / f"post-{digest}.lua"
        script.write_text(_LUA.format(body=body_file, headers=lines, mark=MARK))
        duration = f"{max(1, round(seconds))}s"
        return [
            self.wrk,
            "-t1",
            f"-c{connections}",
            f"-d{duration}",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ]


# -- the bundled generator -------------------------------------------------------------------------


async def _drive(
    url: str, body: bytes, headers: dict[str, str], connections: int, seconds: float
) -> dict[str, float]:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    sent = 0
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = time.perf_counter()
        deadline = start + seconds

        async def worker() -> None:
            nonlocal errors, sent
            while sent < MAX_REQUESTS and time.perf_counter() < deadline:
                sent += 1
                t0 = time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=headers) as response:
                        await response.read()
                        ok = 200 <= response.status < 300
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                latencies.append(time.perf_counter() - t0)
                if not ok:
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e6 if latencies else 0.0

    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "p50_us": pct(0.50),
        "p99_us": pct(0.99),
        "errors": errors,
    }


def main(argv: list[str] | None = None) -> None:
    """CLI of the bundled generator: prints one ``BENCHJSON {...}`` line."""
    parser = argparse.ArgumentParser(description="fixed-concurrency HTTP POST load (bounded in time)")
    parser.add_argument("--url", required=True)
    parser.add_argument("--body-file", required=True)
    parser.add_argument("--header", action="append", default=[], help="Name:value (repeatable)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    headers = {"Content-Type": "application/json"}
    for item in args.header:
        name, _, value = item.partition(":")
        headers[name] = value
    body = Path(args.body_file).read_bytes()
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    result = runner(_drive(args.url, body, headers, args.connections, args.seconds))
    print(MARK + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
