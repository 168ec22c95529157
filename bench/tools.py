"""Finding (and, where allowed, installing) the benchmark's outside tools: nginx, wrk, LiteLLM, py-spy.

System packages are installed with apt-get only when missing and when running as root; LiteLLM goes
into its own virtual environment with pip, never into the project's. Every failure degrades to the
bundled alternative (mock provider, bundled load generator, no peer) with a note saying so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

# An exact pin, chosen on purpose: a later LiteLLM release was withdrawn after a supply-chain compromise,
# so the peer is never "whatever is newest". Override with BENCH_LITELLM_SPEC.
LITELLM_SPEC = "litellm[proxy]==1.81.13"
LITELLM_VENV = Path("/tmp/mlgate-bench-litellm")
PY_SPY_SPEC = "py-spy==0.4.3"
NGINX_PATHS = ("/usr/sbin/nginx", "/usr/bin/nginx")


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _apt_install(packages: list[str], notes: list[str]) -> bool:
    """``apt-get install -y`` the first package that installs; ``apt-get update`` once if needed."""
    if not _is_root() or shutil.which("apt-get") is None:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for attempt in range(2):
        for package in packages:
            result = subprocess.run(
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
                capture_output=True,
                env=env,
                timeout=300,
                check=False,
            )
            if result.returncode == 0:
                notes.append(f"installed {package} with apt-get")
                return True
        if attempt == 0:
            subprocess.run(
                ["apt-get", "update", "-qq"], capture_output=True, env=env, timeout=300, check=False
            )
    return False


def find_nginx(allow_install: bool, notes: list[str]) -> str | None:
    """The nginx binary, installing ``nginx-light`` (or ``nginx``) when missing and allowed."""
    found = shutil.which("nginx") or next((p for p in NGINX_PATHS if Path(p).exists()), None)
    if found is None and allow_install and _apt_install(["nginx-light", "nginx"], notes):
        found = shutil.which("nginx") or next((p for p in NGINX_PATHS if Path(p).exists()), None)
    return found


def find_wrk(allow_install: bool, notes: list[str]) -> str | None:
    """The wrk binary, installing it when missing and allowed."""
    found = shutil.which("wrk")
    if found is None and allow_install and _apt_install(["wrk"], notes):
        found = shutil.which("wrk")
    return found


def find_litellm(allow_install: bool, notes: list[str]) -> str | None:
    """The ``litellm`` proxy command from its own virtual environment, created with pip when allowed."""
    spec = os.environ.get("BENCH_LITELLM_SPEC", LITELLM_SPEC)
    venv = Path(os.environ.get("BENCH_LITELLM_VENV", str(LITELLM_VENV)))
    command = venv / "bin" / "litellm"
    marker = venv / ".bench-spec"
    if command.exists() and marker.exists() and marker.read_text() == spec:
        return str(command)
    if not allow_install:
        notes.append("LiteLLM skipped: not installed and installs are off")
        return None
    print(f"bench: installing {spec} into {venv} (separate virtual environment) ...", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", spec],
    ]
    for step in steps:
        try:
            result = subprocess.run(step, capture_output=True, text=True, timeout=900, check=False)
        except subprocess.TimeoutExpired:
            notes.append("LiteLLM skipped: pip install timed out")
            return None
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["?"])[-1]
            notes.append(f"LiteLLM skipped: `pip install {spec}` failed ({last[:160]})")
            return None
    if not command.exists():
        notes.append("LiteLLM skipped: the package installed no `litellm` command")
        return None
    marker.write_text(spec)
    return str(command)


def find_py_spy(notes: list[str]) -> str | None:
    """py-spy from the project's .venv, pip-installed there at bench time when missing."""
    bin_dir = Path(sys.executable).parent
    command = bin_dir / "py-spy"
    if command.exists():
        return str(command)
    found = shutil.which("py-spy")
    if found:
        return found
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PY_SPY_SPEC],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0 or not command.exists():
        notes.append(f"py-spy could not be installed: {result.stderr.strip()[-200:]}")
        return None
    notes.append(f"installed {PY_SPY_SPEC} into {bin_dir.parent} for profiling")
    return str(command)
