"""client_config parsing and rendering (ml-commons: ConnectorClientConfig)."""

from __future__ import annotations

from typing import Any

import pytest

from mlgate.domain.errors import InvalidRequestError
from mlgate.remote.client_config import ClientConfig

HEAD_DEFAULTS = {
    "max_connection": 30,
    "connection_timeout": 30,
    "read_timeout": 30,
    "retry_backoff_millis": 200,
    "retry_timeout_seconds": 30,
    "max_retry_times": 0,
    "retry_backoff_policy": "constant",
    "skip_ssl_verification": False,
    "mutual_tls_enabled": False,
}


def test_missing_fields_take_head_defaults() -> None:
    assert ClientConfig.from_json(None) == ClientConfig()
    assert ClientConfig.from_json({}).to_json() == HEAD_DEFAULTS
    partial = ClientConfig.from_json({"max_connection": 5, "read_timeout": None})
    assert partial.to_json() == {**HEAD_DEFAULTS, "max_connection": 5}


def test_round_trip_of_a_complete_object() -> None:
    data = {
        "max_connection": 7,
        "connection_timeout": 3,
        "read_timeout": 60,
        "retry_backoff_millis": 50,
        "retry_timeout_seconds": 10,
        "max_retry_times": -1,
        "retry_backoff_policy": "exponential_full_jitter",
        "skip_ssl_verification": True,
        "mutual_tls_enabled": True,
        "keystore_type": "PKCS12",
    }
    config = ClientConfig.from_json(data)
    assert config.to_json() == data
    assert ClientConfig.from_json(config.to_json()) == config


@pytest.mark.parametrize("policy", ["CONSTANT", "Exponential_Equal_Jitter", "exponential_full_jitter"])
def test_policy_is_case_insensitive_and_stored_lower_case(policy: str) -> None:
    assert ClientConfig.from_json({"retry_backoff_policy": policy}).retry_backoff_policy == policy.lower()


@pytest.mark.parametrize("policy", ["linear", "", 3, ["constant"]])
def test_unsupported_policy(policy: Any) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        ClientConfig.from_json({"retry_backoff_policy": policy})
    assert caught.value.message == "Unsupported retry backoff policy"


def test_numbers_are_coerced_like_opensearch() -> None:
    config = ClientConfig.from_json(
        {"max_connection": "12", "read_timeout": 2.9, "connection_timeout": "4.0"}
    )
    assert (config.max_connection, config.read_timeout, config.connection_timeout) == (12, 2, 4)
    assert ClientConfig.from_json({"skip_ssl_verification": "true"}).skip_ssl_verification is True


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"max_connection": "many"}, "client_config.max_connection must be an integer"),
        ({"read_timeout": True}, "client_config.read_timeout must be an integer"),
        ({"read_timeout": {}}, "client_config.read_timeout must be an integer"),
        ({"max_retry_times": float("nan")}, "client_config.max_retry_times must be an integer"),
        ({"max_connection": 2**40}, "client_config.max_connection must be an integer"),
        ({"max_connection": 0}, "client_config.max_connection must be at least 1"),
        ({"read_timeout": -1}, "client_config.read_timeout must be at least 0"),
        ({"max_retry_times": -2}, "client_config.max_retry_times must be at least -1"),
        ({"skip_ssl_verification": "yes"}, "client_config.skip_ssl_verification must be true or false"),
        ({"mutual_tls_enabled": 1}, "client_config.mutual_tls_enabled must be true or false"),
        ({"keystore_type": 5}, "client_config.keystore_type must be a string"),
    ],
)
def test_type_and_range_errors(data: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        ClientConfig.from_json(data)
    assert caught.value.message == message


def test_unknown_fields_are_ignored_and_non_objects_refused() -> None:
    assert ClientConfig.from_json({"future_field": 1}) == ClientConfig()
    with pytest.raises(InvalidRequestError, match="client_config must be an object"):
        ClientConfig.from_json([])  # type: ignore[arg-type]


def test_configs_are_hashable_pool_keys() -> None:
    assert len({ClientConfig(), ClientConfig.from_json({}), ClientConfig(max_connection=2)}) == 2
