"""Signing demo users in as the sign-in form and the token endpoint would, second factor
included, for the test packages that need a browser session or a token."""

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from kpo.accounts import two_factor


def force_login_verified(client, user):
    """`client.force_login(user)` and, for a user with an authenticator app (every demo admin
    has one), the code step too: the session counts as verified, as after the real form."""
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def otp_code(user) -> str:
    """The code the user's authenticator app shows now, one the server has not taken yet."""
    return two_factor.current_code(TOTPDevice.objects.get(user=user, confirmed=True))


def enrolment_form(user) -> dict:
    """What the set-up page posts once the user's app shows a code for the offered key."""
    key = two_factor.new_key()
    return {"key": two_factor.sign_key(user, key), "code": f"{totp(bytes.fromhex(key)):06d}"}


def token_credentials(user, password) -> dict:
    """The body of POST /api/v1/auth/token/ as the user's script would send it: with the
    current code when the user has an authenticator app (every demo admin has one)."""
    body = {"username": user.username, "password": password}
    if two_factor.has_device(user):
        body["otp"] = otp_code(user)
    return body
