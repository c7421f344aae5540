from web_helpers import sign_in_page


def test_health_is_public(client):
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_sign_in_reaches_home(client):
    r = sign_in_page(client, "dr.adams")
    assert r.status_code == 303, r.text
    home = client.get("/")
    assert home.status_code == 200
    assert "Dr Ada Adams" in home.text
