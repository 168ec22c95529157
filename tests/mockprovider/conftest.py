"""Real mock provider servers on 127.0.0.1 and a client session, shared by the mock provider tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from mlgate.mockprovider import MockProvider, start_mock_provider


@pytest.fixture(scope="session")
async def provider() -> AsyncIterator[MockProvider]:
    """A mock provider without SigV4 verification."""
    server = await start_mock_provider()
    yield server
    await server.close()


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """One keep-alive client session, like mlgate's own outbound client."""
    async with aiohttp.ClientSession() as session:
        yield session
