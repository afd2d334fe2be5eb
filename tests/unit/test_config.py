"""Settings come from the environment given to the factory, never from import time."""

import pytest

import config


def test_defaults_use_sqlite_in_instance_folder(tmp_path):
    values = config.load("development", {}, str(tmp_path))
    assert values["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/tenders.sqlite3"
    assert values["REDIS_URL"] is None
    assert values["TIMEZONE"] == "Europe/Moscow"
    assert values["SOCKETIO_ASYNC_MODE"] == "eventlet"


def test_environment_overrides(tmp_path):
    env = {
        "DATABASE_URL": "postgres://db/x",
        "REDIS_URL": "redis://r:6379/0",
        "TIMEZONE": "Asia/Yekaterinburg",
        "MAIL_PORT": "2525",
        "MAIL_USE_TLS": "yes",
        "SOCKETIO_ASYNC_MODE": "threading",
        "DB_POOL_SIZE": "40",
    }
    values = config.load("development", env, str(tmp_path))
    assert (values["DB_POOL_SIZE"], values["DB_MAX_OVERFLOW"]) == (40, 10)
    assert values["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg2://db/x"
    assert values["REDIS_URL"] == "redis://r:6379/0"
    assert values["TIMEZONE"] == "Asia/Yekaterinburg"
    assert values["MAIL_PORT"] == 2525 and values["MAIL_USE_TLS"] is True
    assert values["SOCKETIO_ASYNC_MODE"] == "threading"


def test_redis_waits_are_read_and_checked(tmp_path):
    values = config.load("development", {}, str(tmp_path))
    assert (values["REDIS_TIMEOUT"], values["REDIS_PAUSE"]) == (1.0, 5.0)
    env = {"REDIS_TIMEOUT": "0.5", "REDIS_PAUSE": "12", "SCHEDULER_REDIS_TIMEOUT": "2"}
    values = config.load("development", env, str(tmp_path))
    assert (values["REDIS_TIMEOUT"], values["REDIS_PAUSE"]) == (0.5, 12.0)
    assert values["SCHEDULER_REDIS_TIMEOUT"] == 2.0
    with pytest.raises(RuntimeError, match="REDIS_TIMEOUT must be a number, got 'soon'"):
        config.load("development", {"REDIS_TIMEOUT": "soon"}, str(tmp_path))
    with pytest.raises(RuntimeError, match="REDIS_PAUSE must be positive, got '0'"):
        config.load("development", {"REDIS_PAUSE": "0"}, str(tmp_path))


def test_production_requires_secrets(tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.load("production", {"DATABASE_URL": "postgresql://x/y"}, str(tmp_path))
    with pytest.raises(RuntimeError, match="BASE_URL"):
        config.load(
            "production", {"DATABASE_URL": "postgresql://x/y", "SECRET_KEY": "k"}, str(tmp_path)
        )
    env = {"DATABASE_URL": "postgresql://x/y", "SECRET_KEY": "k", "BASE_URL": "https://t.ru/"}
    values = config.load("production", env, str(tmp_path))
    assert values["SESSION_COOKIE_SECURE"] is True and values["BASE_URL"] == "https://t.ru"


def test_bad_values_are_named(tmp_path):
    with pytest.raises(RuntimeError, match="MAIL_PORT"):
        config.load("development", {"MAIL_PORT": "twenty-five"}, str(tmp_path))
    with pytest.raises(RuntimeError, match="DB_POOL_SIZE"):
        config.load("development", {"DB_POOL_SIZE": "many"}, str(tmp_path))
    with pytest.raises(RuntimeError, match="APP_ENV"):
        config.load("staging", {}, str(tmp_path))


def test_document_and_amendment_settings_come_from_the_environment(tmp_path):
    env = {"DOCUMENT_MAX_BYTES": "1048576", "AMENDMENT_MIN_NOTICE_HOURS": "72"}
    values = config.load("development", env, str(tmp_path))
    assert values["DOCUMENT_MAX_BYTES"] == 1024 * 1024
    assert values["AMENDMENT_MIN_NOTICE_HOURS"] == 72
    assert (
        config.load("development", {"AMENDMENT_MIN_NOTICE_HOURS": "0"}, str(tmp_path))[
            "AMENDMENT_MIN_NOTICE_HOURS"
        ]
        == 0
    )


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("DOCUMENT_MAX_BYTES", "25MB", "must be an integer"),
        ("DOCUMENT_MAX_BYTES", "0", "must be at least 1"),
        ("AMENDMENT_MIN_NOTICE_HOURS", "a day", "must be an integer"),
        ("AMENDMENT_MIN_NOTICE_HOURS", "-1", "must be at least 0"),
        ("TIMEZONE", "Moscow", "must be an IANA time zone"),
    ],
)
def test_bad_document_amendment_and_zone_settings_stop_the_start(tmp_path, name, raw, message):
    with pytest.raises(RuntimeError, match=f"{name} {message}"):
        config.load("development", {name: raw}, str(tmp_path))


def test_cryptopro_plug_in_script_is_a_path_on_this_site(tmp_path):
    assert config.load("development", {}, str(tmp_path))["CRYPTOPRO_PLUGIN_API_URL"] is None
    path = "/static/vendor/cryptopro/cadesplugin_api.js"
    env = {"CRYPTOPRO_PLUGIN_API_URL": path}
    assert config.load("development", env, str(tmp_path))["CRYPTOPRO_PLUGIN_API_URL"] == path
    for bad in ("https://cdn.example/cadesplugin_api.js", "//cdn.example/x.js", "x.js"):
        with pytest.raises(RuntimeError, match="CRYPTOPRO_PLUGIN_API_URL must be a path"):
            config.load("development", {"CRYPTOPRO_PLUGIN_API_URL": bad}, str(tmp_path))
