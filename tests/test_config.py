"""Settings come only from MESHKIT_* variables; bad values name the variable."""

from pathlib import Path

import pytest
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from meshkit.config import ConfigError, PluginSettings, Settings, describe


def test_defaults():
    settings = Settings.from_env({})
    assert settings.data_dir == Path(".meshkit")
    assert settings.redis_url is None
    assert settings.mongodb_url is None
    assert settings.log_level == "INFO"
    assert settings.plugin_names is None
    assert settings.port_for("auth", 3001) == 3001


def test_values_are_parsed():
    settings = Settings.from_env(
        {
            "MESHKIT_DATA_DIR": "/srv/meshkit",
            "MESHKIT_LOG_LEVEL": "warning",
            "MESHKIT_MAX_BODY_SIZE": "2048",
            "MESHKIT_PLUGINS": " auth, messaging ,",
            "MESHKIT_AUTH_PORT": "4001",
            "OTHER_AUTH_PORT": "1",
        }
    )
    assert settings.data_dir == Path("/srv/meshkit")
    assert settings.log_level == "WARNING"
    assert settings.max_body_size == 2048
    assert settings.plugin_names == {"auth", "messaging"}
    assert settings.port_for("auth", 3001) == 4001


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"MESHKIT_LOG_LEVEL": "loud"}, "MESHKIT_LOG_LEVEL"),
        ({"MESHKIT_MAX_BODY_SIZE": "lots"}, "MESHKIT_MAX_BODY_SIZE"),
        ({"MESHKIT_MAX_BODY_SIZE": "0"}, "MESHKIT_MAX_BODY_SIZE"),
        ({"MESHKIT_SHUTDOWN_TIMEOUT": "-1"}, "MESHKIT_SHUTDOWN_TIMEOUT"),
        ({"MESHKIT_LOG_FORMAT": "xml"}, "MESHKIT_LOG_FORMAT"),
    ],
)
def test_bad_values_name_the_variable(env, variable):
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env(env)


@pytest.mark.parametrize("raw", ["http", "-1", "70000"])
def test_bad_port_names_the_variable(raw):
    settings = Settings.from_env({"MESHKIT_VOICE_PORT": raw})
    with pytest.raises(ConfigError, match="MESHKIT_VOICE_PORT"):
        settings.port_for("voice", 3003)


class SmtpSettings(PluginSettings):
    model_config = SettingsConfigDict(env_prefix="MESHKIT_SMTP_", frozen=True)
    host: str = "127.0.0.1"
    port: int = 25
    password: SecretStr | None = None


def test_plugin_sections_load_from_the_same_environment():
    settings = Settings.from_env({"MESHKIT_SMTP_PORT": "2525", "MESHKIT_SMTP_PASSWORD": "pw"})
    smtp = settings.section(SmtpSettings)
    assert smtp.port == 2525
    assert settings.section(SmtpSettings) is smtp
    shown = {var: value for var, value, _ in describe(smtp)}
    assert shown["MESHKIT_SMTP_PASSWORD"] == "********"
    bad = Settings.from_env({"MESHKIT_SMTP_PORT": "many"})
    with pytest.raises(ConfigError, match="MESHKIT_SMTP_PORT"):
        bad.section(SmtpSettings)


def test_secrets_are_masked():
    settings = Settings.from_env(
        {
            "MESHKIT_REDIS_URL": "redis://:hunter2@h:6379",
            "MESHKIT_MONGODB_URL": "mongodb://u:hunter2@h",
        }
    )
    shown = {var: value for var, value, _ in describe(settings)}
    assert "hunter2" not in repr(settings)
    assert shown["MESHKIT_REDIS_URL"] == "********"
    assert shown["MESHKIT_MONGODB_URL"] == "********"
    assert shown["MESHKIT_DATA_DIR"] == ".meshkit"
