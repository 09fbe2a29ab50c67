def test_ping_answers_anonymous(anonymous):
    response = anonymous.get("/server/ping")
    assert response.status_code == 200
    assert response.json()["alive"] is True


def test_current_user_has_keys(api):
    body = api.get("/api/user/current.json").json()
    assert body["username"] == "admin"
    assert body["publicKey"]
