"""``main()``: the mock provider started the way ``mlgate mock-provider`` starts it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

import mlgate

SRC = str(Path(mlgate.__file__).resolve().parent.parent)
PREFIX = "mock provider listening on "


async def _start(*args: str) -> tuple[asyncio.subprocess.Process, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")]))}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from mlgate.mockprovider import main; main(sys.argv[1:])",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
    assert line.startswith(PREFIX), line
    return process, line[len(PREFIX) :].strip()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_main_serves_until_signalled(http: aiohttp.ClientSession, signum: signal.Signals) -> None:
    process, url = await _start("--port", "0", "--dim", "5")
    try:
        assert url.startswith("http://127.0.0.1:")
        async with http.post(f"{url}/v1/embeddings", json={"input": "a"}) as resp:
            assert resp.status == 200
            assert len((await resp.json())["data"][0]["embedding"]) == 5
    finally:
        process.send_signal(signum)
        returncode = await asyncio.wait_for(process.wait(), timeout=30)
    assert returncode == 0


async def test_main_verifies_sigv4_when_given_credentials(http: aiohttp.ClientSession) -> None:
    process, url = await _start("--port", "0", "--aws-credential", "AKID:secret")
    try:
        async with http.post(f"{url}/model/m/invoke", json={"inputText": "a"}) as resp:
            assert resp.status == 403
            assert (await resp.json())["message"] == "Missing Authentication Token"
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
