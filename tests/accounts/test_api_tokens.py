"""API tokens belong to their owner, who sees on the security page whether one exists (never
its key again after it was shown), and can regenerate or revoke it there or with
DELETE /api/v1/auth/token/; a revoked token answers 401 from then on. All of it audited."""

import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.crypto import get_random_string
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from kpo.audit.models import AuditEvent
from kpo.demo import DEMO_PASSWORD
from tests.support import force_login_verified

TOKEN_URL = "/api/v1/auth/token/"
SECURITY = reverse("accounts:security")


def token_client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def works(key):
    return token_client(key).get("/api/v1/engagements/").status_code == 200


@pytest.fixture
def manager(users):
    return users.alpha_manager


# -- DELETE /api/v1/auth/token/ ------------------------------------------------------------------


def test_the_owner_revokes_the_token_with_the_token_itself(manager):
    key = Token.objects.create(user=manager).key
    assert works(key)

    response = token_client(key).delete(TOKEN_URL)

    assert response.status_code == 204
    assert not works(key)
    assert token_client(key).get("/api/v1/engagements/").status_code == 401
    event = AuditEvent.objects.get(action="auth.token_revoked")
    assert event.actor == manager
    assert event.target_id == str(manager.pk)
    assert key not in str(event.changes) and key not in event.target_repr


def test_the_owner_revokes_the_token_from_the_browser_session(manager):
    key = Token.objects.create(user=manager).key
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(manager)
    secret = get_random_string(32)
    browser.cookies[settings.CSRF_COOKIE_NAME] = secret

    response = browser.delete(TOKEN_URL, HTTP_X_CSRFTOKEN=secret)

    assert response.status_code == 204
    assert not works(key)


def test_revoking_without_a_token_changes_nothing_and_audits_nothing(manager):
    client = APIClient()
    client.force_authenticate(manager)

    assert client.delete(TOKEN_URL).status_code == 204
    assert not AuditEvent.objects.filter(action="auth.token_revoked").exists()


def test_revoking_needs_credentials(db):
    assert APIClient().delete(TOKEN_URL).status_code == 401


def test_one_user_revokes_only_their_own_token(users):
    mine = Token.objects.create(user=users.alpha_manager).key
    theirs = Token.objects.create(user=users.bio_analyst).key

    token_client(mine).delete(TOKEN_URL)

    assert not works(mine)
    assert works(theirs)


def test_a_new_token_is_issued_after_revocation(manager, cheap_password):
    cheap_password(manager)
    old = Token.objects.create(user=manager).key
    token_client(old).delete(TOKEN_URL)

    new = APIClient().post(TOKEN_URL, {"username": "alpha.manager", "password": DEMO_PASSWORD})

    assert new.status_code == 200
    assert new.json()["token"] != old
    assert works(new.json()["token"])


def test_creating_a_token_is_audited_once_however_often_it_is_asked_for(manager, cheap_password):
    cheap_password(manager)
    credentials = {"username": "alpha.manager", "password": DEMO_PASSWORD}

    for _ in range(2):
        APIClient().post(TOKEN_URL, credentials)

    created = AuditEvent.objects.filter(action="auth.token_created")
    assert created.count() == 1
    assert created.get().changes == {"replaced": False}


# -- the security page ------------------------------------------------------------------------


def test_the_security_page_says_when_there_is_no_token(client, manager):
    force_login_verified(client, manager)

    page = client.get(SECURITY).content.decode()

    assert "You have no API token." in page
    assert "Create a token" in page


def test_a_token_made_on_the_page_is_shown_once_and_then_only_its_date(client, manager):
    force_login_verified(client, manager)

    made = client.post(reverse("accounts:token_create"))

    key = Token.objects.get(user=manager).key
    assert made.status_code == 200
    assert key in made.content.decode()
    assert "no-store" in made["Cache-Control"]
    assert "it is not shown again" in made.content.decode()
    later = client.get(SECURITY).content.decode()
    assert key not in later
    assert "Created" in later and "Revoke" in later
    assert works(key)


def test_regenerating_on_the_page_stops_the_old_token(client, manager):
    old = Token.objects.create(user=manager).key
    force_login_verified(client, manager)

    page = client.post(reverse("accounts:token_create")).content.decode()

    new = Token.objects.get(user=manager).key
    assert new != old and new in page
    assert not works(old)
    assert works(new)
    assert AuditEvent.objects.get(action="auth.token_created").changes == {"replaced": True}


def test_revoking_on_the_page_stops_the_token(client, manager):
    key = Token.objects.create(user=manager).key
    force_login_verified(client, manager)

    response = client.post(reverse("accounts:token_revoke"), follow=True)

    assert "Your API token is revoked" in response.content.decode()
    assert "You have no API token." in response.content.decode()
    assert not works(key)
    assert AuditEvent.objects.filter(action="auth.token_revoked", actor=manager).count() == 1


def test_the_security_page_never_shows_anyone_elses_token(client, users):
    other = Token.objects.create(user=users.bio_analyst).key
    force_login_verified(client, users.alpha_manager)

    page = client.get(SECURITY).content.decode()

    assert other not in page
    assert "You have no API token." in page


def test_the_security_page_is_ready_for_a_strict_content_security_policy(client, users):
    force_login_verified(client, users.alpha_admin)
    page = client.post(reverse("accounts:token_create")).content.decode()

    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", page, re.IGNORECASE)
    assert not re.search(r"<[^>]+\sstyle\s*=|<style", page, re.IGNORECASE)
    assert "Two-factor sign-in" in page and "badge-success" in page
