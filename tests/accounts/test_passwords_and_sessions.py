"""Strong passwords (Django's validators), sessions that expire, and cookies that only travel
over HTTPS in production."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from kpo.demo import DEMO_PASSWORD
from tests.support import force_login_verified

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 20 + "Q7v!x9#Lm2@pR4$tW8^zB6&nC1*fH3(dJ5)"


@pytest.mark.parametrize(
    "password, reason",
    [
        ("short1!", "too short"),
        ("password123", "too common"),
        ("8402957316294", "entirely numeric"),
        ("bio.analyst.bina", "too similar"),
    ],
)
def test_changing_to_a_weak_password_is_refused(client, users, cheap_password, password, reason):
    analyst = cheap_password(users.bio_analyst)
    force_login_verified(client, analyst)

    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": DEMO_PASSWORD, "new_password1": password, "new_password2": password},
    )

    assert response.status_code == 200
    assert reason in response.content.decode()
    analyst.refresh_from_db()
    assert analyst.check_password(DEMO_PASSWORD)


def test_a_session_cookie_lives_as_long_as_the_setting_says(
    client, users, cheap_password, settings
):
    settings.SESSION_COOKIE_AGE = 1234
    cheap_password(users.bio_analyst)

    client.post(reverse("accounts:login"), {"username": "bio.analyst", "password": DEMO_PASSWORD})

    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == 1234
    assert cookie["httponly"]
    assert 1230 <= client.session.get_expiry_age() <= 1234


def test_an_expired_session_is_signed_out(client, users):
    force_login_verified(client, users.bio_analyst)
    session = client.session
    session.set_expiry(-1)
    session.save()

    assert client.get(reverse("home")).status_code == 302


def read_settings(tmp_path, *names, **env):
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DJANGO_ENV"}}
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}))"
    )
    result = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "kpo.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


COOKIE_SETTINGS = ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY")


def test_production_cookies_travel_over_https_only(tmp_path):
    values = read_settings(
        tmp_path,
        *COOKIE_SETTINGS,
        "SESSION_COOKIE_AGE",
        DJANGO_ENV="production",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="kpo.example.com",
        SESSION_COOKIE_AGE="3600",
    )

    assert values == dict.fromkeys(COOKIE_SETTINGS, True) | {"SESSION_COOKIE_AGE": 3600}


def test_local_development_keeps_cookies_usable_over_plain_http(tmp_path):
    values = read_settings(tmp_path, *COOKIE_SETTINGS, "SESSION_COOKIE_AGE")

    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["SESSION_COOKIE_AGE"] == 8 * 3600


def test_the_password_validators_are_the_documented_ones():
    names = [v["NAME"].rsplit(".", 1)[-1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]
