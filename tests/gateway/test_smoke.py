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


def test_every_answer_says_how_long_the_server_handled_it(anonymous, monkeypatch):
    """`Server-Timing: app;dur=` in milliseconds, from the request's first step to its answer:
    a request held 50 ms inside says at least that, and no more than the client waited."""
    import asyncio
    import time

    from gateway import middleware

    authenticate = middleware.authenticate

    async def slow(*args, **kwargs):
        await asyncio.sleep(0.05)
        return await authenticate(*args, **kwargs)

    monkeypatch.setattr(middleware, "authenticate", slow)
    for path in ("/server/ping", "/api/nothing-here.json"):
        started = time.perf_counter()
        response = anonymous.get(path)
        waited = (time.perf_counter() - started) * 1000
        name, _, took = response.headers["Server-Timing"].partition(";dur=")
        assert name == "app"
        assert 50 <= float(took) <= waited, (path, took, waited)
