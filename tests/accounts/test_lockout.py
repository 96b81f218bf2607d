"""Sign-in throttling (django-axes): five wrong passwords lock the (username, address) pair,
never the account everywhere, behind a proxy as well as directly, on the sign-in page and on
the API's token endpoint alike; and every lockout is audited."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from kpo.audit.models import AuditEvent
from kpo.demo import DEMO_PASSWORD

LOGIN = reverse("accounts:login")
TOKEN_URL = "/api/v1/auth/token/"
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


def sign_in(client, username, password=DEMO_PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def guess_five_times(client, username, **extra):
    return [sign_in(client, username, "wrong-guess", **extra).status_code for _ in range(5)]


@pytest.fixture
def manager(users, cheap_password):
    return cheap_password(users.alpha_manager)


def test_five_wrong_passwords_lock_the_pair_and_even_the_right_one_is_refused(
    manager, from_address
):
    attacker = from_address(ATTACKER)

    statuses = guess_five_times(attacker, "alpha.manager")
    right = sign_in(attacker, "alpha.manager")

    assert statuses == [200, 200, 200, 200, 429]
    assert right.status_code == 429
    page = right.content.decode()
    assert "Sign-in paused" in page
    assert "15 minutes" in page
    assert attacker.get(reverse("home")).status_code == 302  # not signed in


def test_four_wrong_passwords_do_not_lock(manager, from_address):
    client = from_address(ATTACKER)
    for _ in range(4):
        sign_in(client, "alpha.manager", "wrong-guess")

    assert sign_in(client, "alpha.manager").status_code == 302


def test_the_real_user_still_signs_in_from_another_address(manager, from_address):
    guess_five_times(from_address(ATTACKER), "alpha.manager")
    owner = from_address(OWNER)

    response = sign_in(owner, "alpha.manager")

    assert response.status_code == 302
    assert owner.get(reverse("home")).status_code == 200


def test_the_locked_address_may_still_sign_in_as_someone_else(
    manager, users, cheap_password, from_address
):
    cheap_password(users.alpha_viewer)
    shared_office = from_address(ATTACKER)
    guess_five_times(shared_office, "alpha.manager")

    assert sign_in(shared_office, "alpha.viewer").status_code == 302


def test_a_lockout_is_audited_with_the_username_and_the_address(manager, from_address):
    guess_five_times(from_address(ATTACKER), "alpha.manager")

    event = AuditEvent.objects.get(action="auth.locked_out")
    assert event.actor is None
    assert event.changes == {"username": "alpha.manager", "address": ATTACKER}
    assert event.ip == ATTACKER
    assert event.client.slug == "alpha-pharma"  # the attempted account's organisation sees it
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 5


def test_each_refused_attempt_during_the_lockout_is_audited_too(manager, from_address):
    attacker = from_address(ATTACKER)
    guess_five_times(attacker, "alpha.manager")
    sign_in(attacker, "alpha.manager")

    assert AuditEvent.objects.filter(action="auth.locked_out").count() == 2


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_one_locked(
    manager, from_address, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    attacker = from_address(proxy, HTTP_X_FORWARDED_FOR=ATTACKER)
    owner = from_address(proxy, HTTP_X_FORWARDED_FOR=OWNER)

    guess_five_times(attacker, "alpha.manager")

    assert sign_in(attacker, "alpha.manager").status_code == 429
    assert sign_in(owner, "alpha.manager").status_code == 302
    locked = AuditEvent.objects.filter(action="auth.locked_out")
    assert {event.changes["address"] for event in locked} == {ATTACKER}


def test_a_forged_forwarded_header_does_not_dodge_the_lock_without_a_trusted_proxy(
    manager, from_address, settings
):
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(5):
        sign_in(
            from_address(ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}"),
            "alpha.manager",
            "wrong-guess",
        )

    refused = sign_in(from_address(ATTACKER, HTTP_X_FORWARDED_FOR="192.0.2.99"), "alpha.manager")

    assert refused.status_code == 429


# -- the API's token endpoint is the same door ------------------------------------------------


def ask_for_token(address, username, password):
    return APIClient(REMOTE_ADDR=address).post(
        TOKEN_URL, {"username": username, "password": password}, format="json"
    )


def test_the_token_endpoint_locks_the_pair_after_five_wrong_passwords(manager):
    statuses = [
        ask_for_token(ATTACKER, "alpha.manager", "wrong-guess").status_code for _ in range(5)
    ]
    right = ask_for_token(ATTACKER, "alpha.manager", DEMO_PASSWORD)

    assert statuses == [400, 400, 400, 400, 429]
    assert right.status_code == 429
    assert "token" not in right.json()
    assert "Too many failed sign-in attempts" in right.json()["detail"]
    assert int(right["Retry-After"]) == 15 * 60
    assert ask_for_token(OWNER, "alpha.manager", DEMO_PASSWORD).status_code == 200


def test_wrong_passwords_on_the_api_and_the_page_add_up(manager, from_address):
    for _ in range(3):
        ask_for_token(ATTACKER, "alpha.manager", "wrong-guess")
    page = from_address(ATTACKER)
    sign_in(page, "alpha.manager", "wrong-guess")

    assert sign_in(page, "alpha.manager", "wrong-guess").status_code == 429
    assert ask_for_token(ATTACKER, "alpha.manager", DEMO_PASSWORD).status_code == 429
