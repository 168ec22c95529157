"""Concurrent logins with the same credentials share one bcrypt check (no herd when a cache entry expires)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mlgate.domain.security import BasicCredentials
from mlgate.services.security import SecurityService
from mlgate.services.security_setup import PasswordHasher
from mlgate.storage.sqlite import SqliteStore
from tests.conftest import ADMIN_PASSWORD, ManualClock


class CountingHasher(PasswordHasher):
    """The real bcrypt hasher, counting how many checks it runs."""

    def __init__(self) -> None:
        super().__init__(rounds=4)
        self.checks = 0

    async def verify(self, password: str, hashed: str) -> bool:
        self.checks += 1
        return await super().verify(password, hashed)


async def test_one_check_for_many_concurrent_logins(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "security.sqlite3")
    await store.open()
    clock = ManualClock()
    hasher = CountingHasher()
    service = SecurityService(
        store, enabled=True, clock=clock, hasher=hasher, initial_admin_password=ADMIN_PASSWORD
    )
    try:
        await service.start()
        login = BasicCredentials("admin", ADMIN_PASSWORD)
        for _ in range(2):  # a cold cache, then the same after every cached entry expired
            hasher.checks = 0
            principals = await asyncio.gather(*(service.authenticate(login, "10.0.0.1") for _ in range(20)))
            assert {p.name for p in principals if p is not None} == {"admin"}
            assert hasher.checks == 1
            clock.advance(3600)
        # Failures are never cached (the throttle deals with guessing): all are refused.
        wrong = BasicCredentials("admin", "not the password")
        failures = await asyncio.gather(
            *(service.authenticate(wrong, "10.0.0.2") for _ in range(3)), return_exceptions=True
        )
        assert all(type(f).__name__ == "UnauthorizedError" for f in failures)
    finally:
        await store.close()
