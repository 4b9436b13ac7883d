"""Settings: where the signing key comes from (env, Secrets Manager by ARN, the local default)."""
from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from helpdesk import aws_sdk, config
from helpdesk.auth.signing import Keyring


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("HELPDESK_SIGNING_KEY", "HELPDESK_SIGNING_KEY_SECRET_ARN", "AWS_LAMBDA_FUNCTION_NAME"):
        monkeypatch.delenv(name, raising=False)
    config._secrets.clear()
    yield
    config._secrets.clear()


def test_explicit_key_wins(monkeypatch):
    monkeypatch.setenv("HELPDESK_SIGNING_KEY", "k1")
    assert config.get_settings().signing_keys == Keyring.single("k1")


def test_key_is_read_once_from_secrets_manager_by_arn(monkeypatch):
    with mock_aws():
        arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="signing", SecretString="s3cret")["ARN"]
        monkeypatch.setenv("HELPDESK_SIGNING_KEY_SECRET_ARN", arn)
        assert config.get_settings().signing_keys == Keyring.single("s3cret")
        reads = []
        monkeypatch.setattr(aws_sdk, "client", lambda *a, **kw: reads.append(a))
        assert config.get_settings().signing_keys == Keyring.single("s3cret")
        assert reads == []  # no Secrets Manager call per request


def test_a_rotated_keyring_reaches_a_warm_process_within_the_refresh_span(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(config, "_monotonic", lambda: clock[0])
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        arn = client.create_secret(Name="signing", SecretString="s3cret")["ARN"]
        monkeypatch.setenv("HELPDESK_SIGNING_KEY_SECRET_ARN", arn)
        assert config.get_settings().signing_keys.current == "k0"
        client.put_secret_value(SecretId=arn, SecretString='{"current": "k1", "keys": {"k1": "new", "k0": "s3cret"}}')
        clock[0] += config.SECRET_REFRESH_SECONDS - 1
        assert config.get_settings().signing_keys.current == "k0"  # cached within the span
        clock[0] += 1
        rotated = config.get_settings().signing_keys
        assert rotated.current == "k1" and rotated.keys == {"k1": b"new", "k0": b"s3cret"}


def test_a_failed_refresh_keeps_the_keyring_already_read(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(config, "_monotonic", lambda: clock[0])
    with mock_aws():
        arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="signing", SecretString="s3cret")["ARN"]
        monkeypatch.setenv("HELPDESK_SIGNING_KEY_SECRET_ARN", arn)
        assert config.get_settings().signing_keys.current == "k0"

        def unavailable(*args, **kwargs):
            raise ConnectionError("secretsmanager unreachable")

        monkeypatch.setattr(aws_sdk, "client", unavailable)
        clock[0] += config.SECRET_REFRESH_SECONDS
        assert config.get_settings().signing_keys == Keyring.single("s3cret")
        config._secrets.clear()  # a cold process has nothing to fall back on
        with pytest.raises(ConnectionError):
            config.get_settings()


def test_a_bad_keyring_names_the_problem(monkeypatch):
    monkeypatch.setenv("HELPDESK_SIGNING_KEY", '{"current": "k2", "keys": {"k1": "s"}}')
    with pytest.raises(ValueError, match="current key 'k2' is not in keys"):
        config.get_settings()


def test_local_default_outside_lambda():
    assert config.get_settings().signing_keys == Keyring.single(config.LOCAL_SIGNING_KEY)


def test_lambda_without_a_key_refuses_the_public_default(monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "helpdesk-api")
    with pytest.raises(RuntimeError, match="HELPDESK_SIGNING_KEY_SECRET_ARN"):
        config.get_settings()


def test_chat_allowed_origins_parsed_and_checked(monkeypatch):
    monkeypatch.setenv("CHAT_ALLOWED_ORIGINS", " https://shop.example.com/, http://localhost:3000 ,,")
    assert config.get_settings().chat_allowed_origins == ("https://shop.example.com", "http://localhost:3000")
    monkeypatch.setenv("CHAT_ALLOWED_ORIGINS", "*")
    assert config.get_settings().chat_allowed_origins == ("*",)
    monkeypatch.delenv("CHAT_ALLOWED_ORIGINS")
    assert config.get_settings().chat_allowed_origins == ()
    for bad in ("shop.example.com", "https://shop.example.com/chat", "ftp://shop.example.com"):
        monkeypatch.setenv("CHAT_ALLOWED_ORIGINS", bad)
        with pytest.raises(ValueError, match="CHAT_ALLOWED_ORIGINS") as info:
            config.get_settings()
        assert repr(bad) in str(info.value)
