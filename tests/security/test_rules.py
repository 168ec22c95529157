"""Pure security rules: permission patterns, role resolution, password rule, login throttle."""

from __future__ import annotations

import pytest

from mlgate.domain.principal import Principal
from mlgate.domain.security import (
    BUILTIN_ROLES,
    Role,
    RoleMapping,
    SecurityConfig,
    User,
    denial_message,
    matches,
    password_problem,
)
from mlgate.domain.security_throttle import LoginThrottle, address_key
from mlgate.services.security_setup import check_password, generate_password

ML = "cluster:admin/opensearch/ml"


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("*", f"{ML}/predict", True),
        (f"{ML}/*", f"{ML}/predict", True),
        (f"{ML}/*", f"{ML}/models/get", True),  # `*` crosses slashes, as OpenSearch's WildcardMatcher
        (f"{ML}/models/*", f"{ML}/predict", False),
        (f"{ML}/models/ge?", f"{ML}/models/get", True),
        (f"{ML}/predict", f"{ML}/predict", True),
        (f"{ML}/predict", f"{ML}/predict_stream", False),
        ("/cluster:admin/opensearch/ml/(models|connectors)/get/", f"{ML}/connectors/get", True),
        ("/cluster:admin/opensearch/ml/(models|connectors)/get/", f"{ML}/tasks/get", False),
        ("cluster:admin/opensearch.ml/predict", f"{ML}/predict", False),  # `.` is literal
    ],
)
def test_permission_patterns(pattern: str, action: str, expected: bool) -> None:
    assert matches(pattern, action) is expected


def _principal(config: SecurityConfig, user: User) -> Principal:
    return config.principal(user)


def test_builtin_roles_grant_as_opensearch_defines_them() -> None:
    config = SecurityConfig()
    full = Principal("f", roles=("ml_full_access",))
    read = Principal("r", roles=("ml_read_access",))
    admin = Principal("a", roles=("all_access",))
    for action in ("predict", "register_model", "connectors/delete", "deploy_model", "models/get"):
        assert config.is_allowed(full, f"{ML}/{action}")
    assert config.is_allowed(full, "cluster:monitor/nodes/stats")  # the cluster_monitor action group
    for action in ("models/get", "models/search", "connectors/get", "model_groups/search", "tasks/get"):
        assert config.is_allowed(read, f"{ML}/{action}")
    for action in ("predict", "register_model", "deploy_model", "connectors/update", "create_connector"):
        assert not config.is_allowed(read, f"{ML}/{action}")
    # Cluster settings and the security API are admin-only, even for full ML access.
    for action in (
        "cluster:admin/settings/update",
        "cluster:monitor/settings",
        "restapi:admin/internalusers",
    ):
        assert not config.is_allowed(full, action)
        assert config.is_allowed(admin, action)
    # Anyone logged in may ask who they are.
    assert config.is_allowed(Principal("nobody"), "security:authinfo")
    assert not config.is_allowed(Principal("nobody"), f"{ML}/models/get")


def test_roles_come_from_mappings_by_name_backend_role_and_the_user_itself() -> None:
    custom = Role("predict_only", cluster_permissions=(f"{ML}/predict",))
    config = SecurityConfig(
        roles={"predict_only": custom},
        mappings={
            "all_access": RoleMapping("all_access", backend_roles=("admin",)),
            "ml_full_access": RoleMapping("ml_full_access", users=("team-*",)),
            "predict_only": RoleMapping("predict_only", backend_roles=("apps",)),
            "ghost_role": RoleMapping("ghost_role", users=("*",)),  # unknown roles are ignored
        },
    )
    assert config.roles_of(User("root", "h", backend_roles=("admin",))) == ("all_access",)
    assert config.roles_of(User("team-a", "h")) == ("ml_full_access",)
    app = config.principal(User("svc", "h", backend_roles=("apps",)))
    assert app.roles == ("predict_only",)
    assert config.is_allowed(app, f"{ML}/predict")
    assert not config.is_allowed(app, f"{ML}/models/get")
    direct = User("carol", "h", security_roles=("ml_read_access",))
    assert config.roles_of(direct) == ("ml_read_access",)
    assert config.principal(User("stranger", "h")).roles == ()


def test_denial_message_is_opensearch_wording() -> None:
    principal = Principal("bob", backend_roles=("team_a", "team_b"))
    assert denial_message(f"{ML}/predict", principal) == (
        "no permissions for [cluster:admin/opensearch/ml/predict] and "
        "User [name=bob, backend_roles=[team_a, team_b], requestedTenant=null]"
    )
    assert denial_message("x", Principal("eve")).endswith(
        "User [name=eve, backend_roles=[], requestedTenant=null]"
    )


def test_builtin_roles_are_reserved_and_static() -> None:
    assert set(BUILTIN_ROLES) == {"all_access", "ml_full_access", "ml_read_access"}
    assert all(r.reserved and r.static for r in BUILTIN_ROLES.values())


@pytest.mark.parametrize(
    ("user", "password", "reason"),
    [
        ("alice", "", "Weak password"),  # zxcvbn fails on an empty password: it was a 500
        ("alice", "short1!", "Weak password"),
        ("alice", "password123", "Weak password"),
        ("alice", "qwertyuiop", "Weak password"),
        ("alice", "alice2024", "Password is similar to user name"),
        ("alice", "x" * 73, "Password too long"),
        ("alice", "Tangerine-Harbor-Velvet-1987", None),
        ("alice", "correct horse battery staple", None),
    ],
)
def test_password_rule(user: str, password: str, reason: str | None) -> None:
    if reason is None:
        check_password(user, password)
        return
    with pytest.raises(Exception) as caught:
        check_password(user, password)
    assert getattr(caught.value, "message", None) == reason


def test_password_problem_thresholds() -> None:
    assert password_problem("abcdefg", 4, similar_to_name=False) == "Weak password"  # 7 characters
    assert password_problem("abcdefgh", 2, similar_to_name=False) == "Weak password"
    assert password_problem("abcdefgh", 3, similar_to_name=False) is None
    assert password_problem("é" * 37, 4, similar_to_name=False) == "Password too long"  # 74 bytes


def test_generated_passwords_pass_the_rule_and_differ() -> None:
    first, second = generate_password(), generate_password()
    assert first != second
    check_password("admin", first)


def fail(throttle: LoginThrottle, user: str, address: str, now: float, times: int = 1) -> None:
    """``times`` attempts that begin and fail."""
    for _ in range(times):
        throttle.begin(user, address, now)
        throttle.end(user, address, now, success=False)


def test_throttle_blocks_the_user_at_that_address_after_ten_failures_for_sixty_seconds() -> None:
    throttle = LoginThrottle()
    now = 100.0
    fail(throttle, "alice", "10.0.0.1", now, 9)
    assert throttle.retry_after("alice", "10.0.0.1", now) is None
    fail(throttle, "alice", "10.0.0.1", now)
    assert throttle.retry_after("alice", "10.0.0.1", now) == 60
    assert throttle.retry_after("alice", "10.0.0.1", now + 30.5) == 30
    # Neither the user from another address nor another user from the address is blocked.
    assert throttle.retry_after("alice", "10.9.9.9", now + 1) is None
    assert throttle.retry_after("bob", "10.0.0.1", now + 1) is None
    # At most 60 s, then a fresh run starts.
    assert throttle.retry_after("alice", "10.0.0.1", now + 60) is None
    fail(throttle, "alice", "10.0.0.1", now + 61)
    assert throttle.retry_after("alice", "10.0.0.1", now + 61) is None


def test_attempts_in_flight_count_against_the_budget() -> None:
    throttle = LoginThrottle()
    for _ in range(10):
        assert throttle.retry_after("alice", "10.0.0.1", 0.0) is None
        throttle.begin("alice", "10.0.0.1", 0.0)
    # Ten checks running: the eleventh attempt is refused before it is checked.
    assert throttle.retry_after("alice", "10.0.0.1", 0.0) == 60
    throttle.end("alice", "10.0.0.1", 0.5, success=True)  # one of them was right: its slot is free again
    assert throttle.retry_after("alice", "10.0.0.1", 0.5) is None
    for _ in range(9):
        throttle.end("alice", "10.0.0.1", 1.0, success=False)
    assert throttle.retry_after("alice", "10.0.0.1", 1.0) is None  # the success ended the run
    fail(throttle, "alice", "10.0.0.1", 1.0)
    assert throttle.retry_after("alice", "10.0.0.1", 1.0) == 60


def test_one_address_spraying_names_is_blocked_after_a_hundred_failures() -> None:
    throttle = LoginThrottle()
    for i in range(99):
        fail(throttle, f"user{i}", "10.0.0.1", 0.0)
    assert throttle.retry_after("someone", "10.0.0.1", 0.0) is None
    # The sprayer's own valid account does not reset the address's count.
    throttle.begin("mallory", "10.0.0.1", 0.0)
    throttle.end("mallory", "10.0.0.1", 0.0, success=True)
    throttle.record_success("mallory", "10.0.0.1")
    fail(throttle, "user99", "10.0.0.1", 0.0)
    assert throttle.retry_after("admin", "10.0.0.1", 1.0) == 59
    assert throttle.retry_after("admin", "10.0.0.2", 1.0) is None


def test_ipv6_addresses_count_by_their_64() -> None:
    throttle = LoginThrottle()
    for i in range(10):
        fail(throttle, "alice", f"2001:db8:1:2::{i + 1:x}", 0.0)
    assert throttle.retry_after("alice", "2001:db8:1:2:ffff::1", 0.0) == 60
    assert throttle.retry_after("alice", "2001:db8:1:3::1", 0.0) is None
    assert address_key("::ffff:10.0.0.1") == "10.0.0.1"
    assert address_key("not an address") == "not an address"


def test_a_success_resets_the_run() -> None:
    throttle = LoginThrottle()
    fail(throttle, "alice", "10.0.0.1", 0.0, 9)
    throttle.record_success("alice", "10.0.0.1")
    fail(throttle, "alice", "10.0.0.1", 1.0, 9)
    assert throttle.retry_after("alice", "10.0.0.1", 1.0) is None


def test_failures_an_hour_apart_do_not_add_up() -> None:
    throttle = LoginThrottle()
    fail(throttle, "alice", "10.0.0.1", 0.0, 9)
    fail(throttle, "alice", "10.0.0.1", 3600.0)
    assert throttle.retry_after("alice", "10.0.0.1", 3600.0) is None


def test_many_made_up_names_do_not_grow_memory_without_bound() -> None:
    throttle = LoginThrottle(max_entries=100)
    for i in range(1000):
        fail(throttle, f"user{i}", "10.0.0.1", float(i) * 61)
    assert len(throttle._runs) <= 102
