def test_ping_answers_anonymous(anonymous):
    response = anonymous.get("/server/ping")
    assert response.status_code == 200
    assert response.json()["alive"] is True


def test_current_user_has_keys(api):
    body = api.get("/api/user/current.json").json()
    assert body["username"] == "admin"
    assert body["publicKey"]


def test_settings_from_env_reads_and_validates_variables():
    import pytest

    from settings import ConfigError, Settings

    settings = Settings.from_env({"CYTOGATE_REMEMBER_ME_DAYS": "7", "CYTOGATE_PORT": "9000"})
    assert (settings.remember_me_days, settings.port) == (7, 9000)
    with pytest.raises(ConfigError, match="CYTOGATE_HMAC_MAX_SKEW"):
        Settings.from_env({"CYTOGATE_HMAC_MAX_SKEW": "soon"})
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        Settings.from_env({"DATABASE_URL": "mysql://x"})


def test_every_answer_carries_a_request_id_of_its_own_or_the_callers(anonymous):
    first, second = (anonymous.get("/server/ping").headers["X-Request-Id"] for _ in range(2))
    assert first != second
    assert all(len(one) == 16 and int(one, 16) >= 0 for one in (first, second))
    echoed = anonymous.get("/server/ping", headers={"X-Request-Id": "trace-42"})
    assert echoed.headers["X-Request-Id"] == "trace-42"
