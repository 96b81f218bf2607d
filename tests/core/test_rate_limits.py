"""API rate limits: per user, per token, per address for anonymous callers; and a Redis
outage that switches them off instead of switching the API off."""

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from kpo.demo import DEMO_PASSWORD


@pytest.fixture
def rates(settings):
    # Counters of earlier tests must not count here.
    cache.clear()

    def set_rates(**rates):
        settings.API_THROTTLE_RATES = {"user": None, "token": None, "anon": None, **rates}

    return set_rates


def token_client(user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_documented_defaults_are_the_configured_rates():
    from kpo import settings as project_settings

    assert project_settings.API_THROTTLE_RATES == {
        "user": "600/minute",
        "token": "300/minute",
        "anon": "60/minute",
    }


def test_a_user_over_the_rate_gets_429_with_retry_after(rates, users):
    rates(user="3/minute")
    client = APIClient()
    client.force_authenticate(users.alpha_manager)
    statuses = [client.get("/api/v1/engagements/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/v1/engagements/")
    assert int(refused["Retry-After"]) > 0
    assert "throttled" in refused.json()["detail"].lower()


def test_one_users_limit_does_not_slow_another_user(rates, users):
    rates(user="2/minute")
    busy, other = APIClient(), APIClient()
    busy.force_authenticate(users.alpha_manager)
    other.force_authenticate(users.bio_analyst)
    for _ in range(3):
        busy.get("/api/v1/engagements/")
    assert busy.get("/api/v1/engagements/").status_code == 429
    assert other.get("/api/v1/engagements/").status_code == 200


def test_a_token_has_its_own_budget_below_its_users(rates, users):
    rates(user="100/minute", token="2/minute")
    client = token_client(users.bio_analyst)
    statuses = [client.get("/api/v1/deliverables/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    # The same person in the browser is still within the user's budget.
    browser = APIClient()
    browser.force_authenticate(users.bio_analyst)
    assert browser.get("/api/v1/deliverables/").status_code == 200


def test_anonymous_token_requests_are_limited_per_address(rates, users):
    rates(anon="2/minute")
    client = APIClient()
    body = {"username": "nobody", "password": "wrong"}
    statuses = [
        client.post("/api/v1/auth/token/", body, REMOTE_ADDR="203.0.113.9").status_code
        for _ in range(3)
    ]
    assert statuses == [400, 400, 429]
    elsewhere = client.post("/api/v1/auth/token/", body, REMOTE_ADDR="198.51.100.4")
    assert elsewhere.status_code == 400


def test_the_api_keeps_answering_when_the_rate_limit_cache_is_unreachable(rates, settings, users):
    rates(user="1/minute", token="1/minute")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    client = token_client(users.alpha_manager)
    statuses = [client.get("/api/v1/engagements/").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]


def test_a_password_sign_in_over_the_api_still_works_within_the_limit(rates, users, settings):
    rates(anon="5/minute")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = users.alpha_manager
    user.set_password(DEMO_PASSWORD)
    user.save(update_fields=["password"])
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "alpha.manager", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["token"]
