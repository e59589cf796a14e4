import pytest

from tests.support.ports import free_port

pytestmark = pytest.mark.django_db


def test_healthz_answers_200_when_everything_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"]
    assert body["channel_layer"] == {"ok": True, "backend": "in-memory"}


def test_healthz_answers_503_and_says_why_when_redis_is_away(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"]["ok"]
    assert not body["channel_layer"]["ok"]
    assert "Connection" in body["channel_layer"]["error"]
