import pytest
from django.urls import reverse

from kpo.demo import DEMO_ADMINS, DEMO_PASSWORD, DEMO_USERNAMES
from tests.support import otp_code


@pytest.mark.parametrize("username", DEMO_USERNAMES)
def test_every_demo_user_can_sign_in_and_reach_the_landing_page(client, users, username):
    response = client.post(
        reverse("accounts:login"), {"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    if username in DEMO_ADMINS:
        # Admins give the code of their authenticator app as well.
        assert response["Location"] == reverse("accounts:two_factor_verify")
        response = client.post(response["Location"], {"code": otp_code(users[username])})
        assert response.status_code == 302
    landing = client.get(reverse("home"))
    assert landing.status_code == 200
    assert username.encode() in landing.content or b"Sign out" in landing.content


def test_wrong_password_shows_the_form_again_with_an_error(client, db):
    response = client.post(
        reverse("accounts:login"), {"username": "alpha.manager", "password": "nope"}
    )
    assert response.status_code == 200
    assert b"correct username and password" in response.content
    assert client.get(reverse("home")).status_code == 302


def test_landing_page_lists_only_engagements_the_user_may_see(client, db):
    client.post(reverse("accounts:login"), {"username": "alpha.viewer", "password": DEMO_PASSWORD})
    page = client.get(reverse("home")).content.decode()
    assert "Phase II oncology trial analysis" in page
    assert "Real-world evidence dashboard" not in page
    assert "EU banks equity coverage" not in page


def test_anonymous_visitor_is_sent_to_sign_in(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_sign_in_and_a_failed_attempt_are_both_audited_with_the_address(client, db):
    from kpo.audit.models import AuditEvent

    client.post(reverse("accounts:login"), {"username": "bio.qa", "password": "wrong"})
    client.post(reverse("accounts:login"), {"username": "bio.qa", "password": DEMO_PASSWORD})

    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.actor is None
    assert failed.changes == {"username": "bio.qa"}
    assert failed.ip == "127.0.0.1"
    assert "wrong" not in str(failed.changes)
    login = AuditEvent.objects.get(action="auth.login")
    assert login.actor.username == "bio.qa"
    assert login.provider.slug == "bio-analytics"
