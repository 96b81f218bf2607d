"""The demo admins sign in with two factors too, with one documented authenticator key, and
`manage.py totp_code <username>` prints the code for a demo without a phone."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from kpo.accounts import two_factor
from kpo.demo import DEMO_ADMINS, DEMO_PASSWORD, DEMO_TOTP_SECRET, DEMO_USERNAMES, DemoBuilder


def test_every_demo_admin_has_the_documented_authenticator_key(db):
    devices = TOTPDevice.objects.filter(confirmed=True).select_related("user")

    assert {device.user.username for device in devices} == set(DEMO_ADMINS)
    assert {device.key for device in devices} == {two_factor.key_from_text(DEMO_TOTP_SECRET)}


def test_the_demo_admins_are_exactly_those_two_factor_is_required_for(users):
    assert {u for u in DEMO_USERNAMES if two_factor.is_required(users[u])} == set(DEMO_ADMINS)


def totp_code(username):
    out = StringIO()
    call_command("totp_code", username, stdout=out)
    return out.getvalue().strip()


def test_the_printed_code_signs_a_demo_admin_in(client, users, cheap_password):
    cheap_password(users.bio_admin)
    client.post(reverse("accounts:login"), {"username": "bio.admin", "password": DEMO_PASSWORD})

    code = totp_code("bio.admin")
    response = client.post(reverse("accounts:two_factor_verify"), {"code": code})

    assert len(code) == 6 and code.isdigit()
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_right_after_a_code_was_used_the_command_prints_the_next_one(users):
    device = TOTPDevice.objects.get(user=users.ledger_admin)
    first = totp_code("ledger.admin")
    assert device.verify_token(first)

    second = totp_code("ledger.admin")

    assert second != first
    assert device.verify_token(second)


@pytest.mark.parametrize(
    "username, message", [("nobody", "no user"), ("bio.analyst", "not set up")]
)
def test_the_command_explains_when_there_is_no_code_to_print(db, username, message):
    with pytest.raises(CommandError, match=message):
        totp_code(username)


def test_the_command_refuses_to_run_in_production(db, settings):
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="production"):
        totp_code("staff")


def test_building_the_demo_again_adds_no_device(db):
    def counts():
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM otp_totp_totpdevice")
            return cursor.fetchone()[0]

    before = counts()
    DemoBuilder().build()

    assert counts() == before == len(DEMO_ADMINS)
