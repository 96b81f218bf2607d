"""Two-factor sign-in: a code from an authenticator app after the password, for anyone who
sets it up and for every admin (platform staff, client and provider admins), who cannot get
past the code step, or the set-up, to any other page or to the API."""

import re
import time

import pytest
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from kpo.accounts import two_factor
from kpo.audit.models import AuditEvent
from kpo.demo import DEMO_ADMINS, DEMO_PASSWORD, DEMO_TOTP_SECRET
from tests.support import force_login_verified, otp_code

LOGIN = reverse("accounts:login")
CODE = reverse("accounts:two_factor_verify")
ENROL = reverse("accounts:two_factor_enrol")
SECURITY = reverse("accounts:security")
HOME = reverse("home")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
STYLE = re.compile(r"<[^>]+\sstyle\s*=|<style", re.IGNORECASE)
NON_ADMINS = ["alpha.manager", "alpha.viewer", "bio.lead", "bio.analyst", "bio.qa"]


def password_step(client, username, next_url=None):
    url = f"{LOGIN}?next={next_url}" if next_url else LOGIN
    return client.post(url, {"username": username, "password": DEMO_PASSWORD})


def code_step(client, code):
    return client.post(CODE, {"code": code})


def is_signed_in(client):
    return client.get(HOME).status_code == 200


def wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


@pytest.fixture
def alpha_admin(users, cheap_password):
    return cheap_password(users.alpha_admin)


def enrol(user):
    """Turn two-factor sign-in on for `user` as the set-up page does; the recovery codes."""
    from kpo.accounts import services

    key = two_factor.new_key()
    _, codes = services.two_factor_enrol(
        actor=user, key=key, code=f"{totp(bytes.fromhex(key)):06d}"
    )
    return codes


# -- signing in: the password, then the code ----------------------------------------------------


def test_after_the_password_an_admin_is_not_signed_in_until_the_code(client, alpha_admin):
    response = password_step(client, "alpha.admin")

    assert response.status_code == 302
    assert response["Location"] == CODE
    assert not is_signed_in(client)
    page = client.get(CODE).content.decode()
    assert "Signing in as <strong>alpha.admin</strong>" in page
    assert not AuditEvent.objects.filter(action="auth.login").exists()

    done = code_step(client, otp_code(alpha_admin))

    assert done.status_code == 302
    assert done["Location"] == HOME
    landing = client.get(HOME, follow=True)
    assert landing.status_code == 200
    assert "Signed in as Alice Admin." in landing.content.decode()
    assert client.session[DEVICE_ID_SESSION_KEY]
    assert AuditEvent.objects.filter(action="auth.login", actor=alpha_admin).count() == 1


def test_the_page_asked_for_is_reached_after_both_steps(client, alpha_admin):
    password_step(client, "alpha.admin", next_url="/engagements/")

    done = code_step(client, otp_code(alpha_admin))

    assert done["Location"] == "/engagements/"


def test_a_next_address_on_another_site_is_ignored(client, alpha_admin):
    password_step(client, "alpha.admin", next_url="https://evil.example/")

    assert code_step(client, otp_code(alpha_admin))["Location"] == HOME


def test_a_wrong_code_is_refused_audited_and_signs_nobody_in(client, alpha_admin):
    password_step(client, "alpha.admin")

    response = code_step(client, wrong(otp_code(alpha_admin)))

    assert response.status_code == 200
    assert "That code is not valid" in response.content.decode()
    assert not is_signed_in(client)
    event = AuditEvent.objects.get(action="auth.two_factor_failed")
    assert event.target_id == str(alpha_admin.pk)
    assert event.client.slug == "alpha-pharma"


def test_a_code_signs_in_only_once(client, alpha_admin):
    password_step(client, "alpha.admin")
    code = otp_code(alpha_admin)
    code_step(client, code)
    client.post(reverse("accounts:logout"))

    password_step(client, "alpha.admin")
    replay = code_step(client, code)

    assert replay.status_code == 200
    assert not is_signed_in(client)


def test_the_app_is_slowed_down_after_a_wrong_code(client, alpha_admin):
    """django-otp's own throttling stays on: right after a wrong code even the right one waits;
    once the pause is over it works."""
    password_step(client, "alpha.admin")
    code_step(client, wrong(otp_code(alpha_admin)))

    too_soon = code_step(client, otp_code(alpha_admin))

    assert "Too many wrong codes" in too_soon.content.decode()
    assert not is_signed_in(client)
    device = TOTPDevice.objects.get(user=alpha_admin)
    assert device.throttling_failure_count == 1
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=device.throttling_failure_timestamp.replace(year=2000)
    )
    assert code_step(client, otp_code(alpha_admin)).status_code == 302
    assert is_signed_in(client)


def test_five_wrong_codes_lock_the_pair_like_five_wrong_passwords(client, alpha_admin):
    password_step(client, "alpha.admin")
    device = TOTPDevice.objects.get(user=alpha_admin)
    statuses = []
    for _ in range(5):
        # Past the device's own pause each time, so that each guess is really checked.
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
        statuses.append(code_step(client, wrong(otp_code(alpha_admin))).status_code)

    assert statuses == [200, 200, 200, 200, 429]
    # The half-finished sign-in is over, and the password is refused from here for now.
    assert client.get(CODE)["Location"].startswith(LOGIN)
    assert password_step(client, "alpha.admin").status_code == 429
    assert AuditEvent.objects.filter(action="auth.two_factor_failed").count() == 5
    assert AuditEvent.objects.filter(action="auth.locked_out").exists()


def test_the_code_step_waits_only_a_few_minutes_for_the_code(client, alpha_admin):
    password_step(client, "alpha.admin")
    session = client.session
    session[two_factor.PENDING_SESSION_KEY]["at"] = int(time.time()) - 301
    session.save()

    response = client.get(CODE)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_the_code_page_without_the_password_first_sends_to_sign_in(client, db):
    response = client.get(CODE)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert code_step(client, "123456")["Location"].startswith(LOGIN)


def test_a_recovery_code_signs_in_once_instead_of_the_app(client, users, cheap_password):
    analyst = cheap_password(users.bio_analyst)
    codes = enrol(analyst)
    password_step(client, "bio.analyst")

    assert code_step(client, codes[0].upper()).status_code == 302
    assert is_signed_in(client)
    used = AuditEvent.objects.get(action="auth.recovery_code_used")
    assert used.changes == {"left": 9}
    client.post(reverse("accounts:logout"))
    password_step(client, "bio.analyst")
    assert code_step(client, codes[0]).status_code == 200
    assert not is_signed_in(client)


def test_a_user_without_an_app_signs_in_with_the_password_alone(client, users, cheap_password):
    cheap_password(users.bio_analyst)

    response = password_step(client, "bio.analyst")

    assert response["Location"] == HOME
    assert is_signed_in(client)


def test_the_code_page_has_no_inline_script_or_style(client, alpha_admin):
    password_step(client, "alpha.admin")
    page = client.get(CODE).content.decode()

    assert 'autocomplete="one-time-code"' in page
    assert not INLINE_SCRIPT.search(page)
    assert not STYLE.search(page)


# -- required for admins -------------------------------------------------------------------------


@pytest.mark.parametrize("username", DEMO_ADMINS)
def test_an_admin_session_without_the_code_reaches_nothing_but_the_code_step(
    client, users, username
):
    client.force_login(users[username])

    page = client.get("/engagements/?status=active")
    api = client.get("/api/v1/engagements/")

    assert page.status_code == 302
    assert page["Location"] == f"{CODE}?next=%2Fengagements%2F%3Fstatus%3Dactive"
    assert api.status_code == 403
    assert "two-factor sign-in" in api.json()["detail"]
    assert client.get(CODE).status_code == 200


def test_platform_staff_need_the_code_for_the_administration_site_too(client, users):
    client.force_login(users.staff)

    assert client.get("/admin/")["Location"] == f"{CODE}?next=%2Fadmin%2F"

    force_login_verified(client, users.staff)
    assert client.get("/admin/").status_code == 200


def test_the_administration_sites_own_sign_in_form_is_not_a_way_around(client, db):
    response = client.get("/admin/login/?next=/admin/accounts/user/")

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=%2Fadmin%2Faccounts%2Fuser%2F"


@pytest.mark.parametrize("username", NON_ADMINS)
def test_other_roles_may_work_without_two_factor(client, users, username):
    client.force_login(users[username])

    assert client.get(HOME).status_code == 200
    assert client.get("/api/v1/engagements/").status_code == 200


def test_an_admin_without_an_app_is_sent_to_set_it_up_and_nowhere_else(client, alpha_admin):
    TOTPDevice.objects.filter(user=alpha_admin).delete()

    response = password_step(client, "alpha.admin")

    assert response["Location"] == f"{ENROL}?next=%2F"
    assert client.get("/engagements/")["Location"] == f"{ENROL}?next=%2Fengagements%2F"
    assert client.get(SECURITY)["Location"].startswith(ENROL)
    assert client.get(ENROL).status_code == 200
    refused = client.get("/api/v1/engagements/")
    assert refused.status_code == 403
    assert "account security page" in refused.json()["detail"]
    # Signing out is always open.
    assert client.post(reverse("accounts:logout"))["Location"] == LOGIN


def test_an_htmx_request_is_redirected_as_a_whole_page(client, users):
    client.force_login(users.bio_admin)

    response = client.get("/engagements/", HTTP_HX_REQUEST="true")

    assert response["HX-Redirect"].startswith(CODE)


def test_a_token_request_is_judged_by_its_token_not_by_the_session(client, users):
    admin = users.bio_admin
    client.force_login(admin)
    key = Token.objects.create(user=admin).key

    response = client.get("/api/v1/engagements/", HTTP_AUTHORIZATION=f"Token {key}")

    assert response.status_code == 200


def test_after_the_code_an_admins_session_works_everywhere(client, users):
    force_login_verified(client, users.ledger_admin)

    assert client.get(HOME).status_code == 200
    assert client.get("/api/v1/engagements/").status_code == 200


# -- setting it up --------------------------------------------------------------------------------


def enrolment_page(client):
    page = client.get(ENROL).content.decode()
    signed = re.search(r'name="key" value="([^"]+)"', page).group(1)
    key_text = re.search(r'class="mono key-text">([A-Z2-7 ]+)<', page).group(1)
    return page, signed, two_factor.key_from_text(key_text)


def test_any_user_can_set_it_up_with_the_qr_code_and_a_code_from_the_app(client, users):
    analyst = users.bio_analyst
    force_login_verified(client, analyst)
    page, signed, key = enrolment_page(client)

    assert '<svg role="img" aria-label="QR code to scan' in page
    assert "no-store" in client.get(ENROL)["Cache-Control"]
    assert not INLINE_SCRIPT.search(page)
    assert not STYLE.search(page)
    response = client.post(ENROL, {"key": signed, "code": f"{totp(bytes.fromhex(key)):06d}"})

    assert response.status_code == 200
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", response.content.decode())
    assert len(codes) == 10
    device = TOTPDevice.objects.get(user=analyst)
    assert device.confirmed and device.key == key
    assert sorted(
        StaticToken.objects.filter(device__user=analyst).values_list("token", flat=True)
    ) == sorted(codes)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert AuditEvent.objects.filter(action="auth.two_factor_enrolled", actor=analyst).count() == 1


def test_the_qr_code_carries_the_key_for_this_account(users):
    uri = two_factor.provisioning_uri(users.bio_analyst, "00" * 20)

    assert uri.startswith("otpauth://totp/KPO%20Engagements%3Abio.analyst?secret=AAAA")
    assert "issuer=KPO%20Engagements" in uri


def test_a_wrong_code_turns_nothing_on_and_keeps_the_same_key(client, users):
    force_login_verified(client, users.bio_analyst)
    _, signed, key = enrolment_page(client)

    response = client.post(ENROL, {"key": signed, "code": wrong(f"{totp(bytes.fromhex(key)):06d}")})

    assert "That code does not match" in response.content.decode()
    assert two_factor.key_text(key) in response.content.decode()
    assert not TOTPDevice.objects.filter(user=users.bio_analyst).exists()


@pytest.mark.parametrize("offer", ["unsigned", "for someone else", "expired"])
def test_a_key_the_page_did_not_offer_is_refused(client, users, offer, monkeypatch):
    analyst = users.bio_analyst
    force_login_verified(client, analyst)
    key = two_factor.new_key()
    signed = {
        "unsigned": key,
        "for someone else": two_factor.sign_key(users.bio_qa, key),
        "expired": two_factor.sign_key(analyst, key),
    }[offer]
    if offer == "expired":
        monkeypatch.setattr(two_factor, "ENROLMENT_MAX_AGE", -1)

    response = client.post(ENROL, {"key": signed, "code": f"{totp(bytes.fromhex(key)):06d}"})

    assert response.status_code == 200
    assert "This set-up page has expired" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=analyst).exists()


def test_a_session_without_the_code_cannot_swap_in_another_app(client, users):
    """Otherwise a stolen password would be enough to replace the admin's second factor."""
    admin = users.alpha_admin
    client.force_login(admin)
    key = two_factor.new_key()

    response = client.post(
        ENROL,
        {"key": two_factor.sign_key(admin, key), "code": f"{totp(bytes.fromhex(key)):06d}"},
    )

    assert response.status_code == 302
    assert list(TOTPDevice.objects.filter(user=admin).values_list("key", flat=True)) == [
        two_factor.key_from_text(DEMO_TOTP_SECRET)
    ]


# -- turning it off -------------------------------------------------------------------------------


def test_turning_it_off_takes_the_password(client, users, cheap_password):
    analyst = cheap_password(users.bio_analyst)
    enrol(analyst)
    force_login_verified(client, analyst)

    refused = client.post(reverse("accounts:two_factor_disable"), {"password": "not it"})

    assert refused.status_code == 200
    assert "That is not your password." in refused.content.decode()
    assert TOTPDevice.objects.filter(user=analyst).exists()

    done = client.post(reverse("accounts:two_factor_disable"), {"password": DEMO_PASSWORD})

    assert done["Location"] == SECURITY
    assert not TOTPDevice.objects.filter(user=analyst).exists()
    assert not StaticDevice.objects.filter(user=analyst).exists()
    assert AuditEvent.objects.filter(action="auth.two_factor_disabled", actor=analyst).exists()
    client.post(reverse("accounts:logout"))
    assert password_step(client, "bio.analyst")["Location"] == HOME


def test_an_admin_who_turns_it_off_must_set_it_up_again(client, alpha_admin):
    force_login_verified(client, alpha_admin)

    client.post(reverse("accounts:two_factor_disable"), {"password": DEMO_PASSWORD})

    assert client.get(HOME)["Location"] == f"{ENROL}?next=%2F"


def test_wrong_passwords_to_turn_it_off_count_toward_the_lockout(client, alpha_admin):
    force_login_verified(client, alpha_admin)

    statuses = [
        client.post(reverse("accounts:two_factor_disable"), {"password": "guess"}).status_code
        for _ in range(5)
    ]

    assert statuses == [200, 200, 200, 200, 429]
    assert not is_signed_in(client)
    assert TOTPDevice.objects.filter(user=alpha_admin).exists()


# -- the API token needs the code too ----------------------------------------------------------


TOKEN_URL = "/api/v1/auth/token/"


def ask_for_token(username, **extra):
    return APIClient().post(
        TOKEN_URL, {"username": username, "password": DEMO_PASSWORD, **extra}, format="json"
    )


def test_an_admin_gets_a_token_only_with_the_current_code(alpha_admin):
    without = ask_for_token("alpha.admin")
    wrong_code = ask_for_token("alpha.admin", otp=wrong(otp_code(alpha_admin)))

    assert without.status_code == 400
    assert "send the code the authenticator app shows now as otp" in without.json()["otp"][0]
    assert wrong_code.status_code == 400
    assert "otp" in wrong_code.json()
    assert not Token.objects.filter(user=alpha_admin).exists()
    assert AuditEvent.objects.filter(action="auth.two_factor_failed").count() == 1
    TOTPDevice.objects.filter(user=alpha_admin).update(throttling_failure_timestamp=None)

    right = ask_for_token("alpha.admin", otp=otp_code(alpha_admin))

    assert right.status_code == 200
    assert right.json() == {"token": Token.objects.get(user=alpha_admin).key}


def test_any_user_with_an_app_must_send_the_code_for_a_token(users, cheap_password):
    analyst = cheap_password(users.bio_analyst)
    enrol(analyst)

    assert ask_for_token("bio.analyst").status_code == 400
    assert ask_for_token("bio.analyst", otp=otp_code(analyst)).status_code == 200


def test_an_admin_without_an_app_is_told_to_set_it_up_before_getting_a_token(alpha_admin):
    TOTPDevice.objects.filter(user=alpha_admin).delete()

    response = ask_for_token("alpha.admin", otp="123456")

    assert response.status_code == 400
    assert "Set it up on the account security page" in response.json()["otp"][0]


def test_wrong_codes_for_a_token_lock_the_pair(alpha_admin):
    statuses = []
    for _ in range(5):
        TOTPDevice.objects.filter(user=alpha_admin).update(throttling_failure_timestamp=None)
        statuses.append(ask_for_token("alpha.admin", otp=wrong(otp_code(alpha_admin))).status_code)

    assert statuses == [400, 400, 400, 400, 429]
    assert ask_for_token("alpha.admin", otp=otp_code(alpha_admin)).status_code == 429
