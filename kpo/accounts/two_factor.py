"""Two-factor sign-in with time-based codes (TOTP, RFC 6238) from an authenticator app.

Who must use it, how a new key is offered to the user and checked, the half-finished sign-in
between the password and the code, and how a wrong code counts toward the sign-in lockout.
The state changes themselves (turning it on and off, checking a code) are services.
"""

import time
from base64 import b32decode, b32encode
from binascii import unhexlify

import segno
from axes.handlers.proxy import AxesProxyHandler
from django.core import signing
from django.utils.safestring import mark_safe
from django_otp import user_has_device
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from .choices import Role

ADMIN_ROLES = frozenset({Role.CLIENT_ADMIN, Role.PROVIDER_ADMIN})
# The offered key travels in the enrolment form, signed, so a user cannot choose their own.
ENROLMENT_SALT = "kpo.accounts.two_factor.enrolment"
ENROLMENT_MAX_AGE = 15 * 60
# Between a correct password and the code: who signed in, and until when the code may follow.
PENDING_SESSION_KEY = "two_factor_pending"
PENDING_MAX_AGE = 5 * 60
RECOVERY_CODE_COUNT = 10
QR_LABEL = "QR code to scan with the authenticator app"


def is_required(user) -> bool:
    """Platform staff and organisation admins must use a second factor: they decide who sees
    what for a whole organisation, so a stolen password alone must not be enough."""
    return bool(user.is_staff or user.is_superuser or user.role in ADMIN_ROLES)


def has_device(user) -> bool:
    return user_has_device(user, confirmed=True)


def normalise_code(code: str) -> str:
    """Codes are typed with spaces or dashes now and then; recovery codes in any case."""
    return "".join(str(code).split()).replace("-", "").lower()


# -- offering a new key --------------------------------------------------------------------


def new_key() -> str:
    """A fresh secret: 20 random bytes, hex-encoded as TOTPDevice stores it."""
    return random_hex(20)


def sign_key(user, key: str) -> str:
    return signing.dumps({"user": user.pk, "key": key}, salt=ENROLMENT_SALT)


def unsign_key(user, signed: str) -> str | None:
    """The key offered to `user`, or None when the form is stale or was not ours."""
    try:
        payload = signing.loads(signed, salt=ENROLMENT_SALT, max_age=ENROLMENT_MAX_AGE)
    except signing.BadSignature:
        return None
    if payload.get("user") != user.pk:
        return None
    return payload.get("key")


def key_text(key: str) -> str:
    """The key as an authenticator app asks for it when typed in: base32, in groups of 4."""
    text = b32encode(unhexlify(key)).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def provisioning_uri(user, key: str) -> str:
    """The otpauth:// address a QR code carries (issuer from OTP_TOTP_ISSUER)."""
    return TOTPDevice(user=user, key=key).config_url


def qr_svg(uri: str):
    """The QR code as inline SVG markup: paths with presentation attributes only, no style
    attribute or element, so it passes the strict Content-Security-Policy."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=1,
        border=4,
        dark="#111a2c",
        light="#ffffff",
        omitsize=True,
        svgclass="qr-code",
        lineclass=None,
    )
    labelled = svg.replace("<svg ", f'<svg role="img" aria-label="{QR_LABEL}" ', 1)
    return mark_safe(labelled)  # noqa: S308 - segno's own markup, from our own URI


def matching_step(key: str, code: str) -> int | None:
    """The time step whose code `code` is, within one step of now; None if none matches.
    Used before a device exists, so nothing is saved or throttled here."""
    code = normalise_code(code)
    if not code.isdigit():
        return None
    totp = TOTP(unhexlify(key))
    if totp.verify(int(code), tolerance=1):
        return totp.t()
    return None


def current_code(device, at: float | None = None) -> str | None:
    """The code `device` accepts now: this time step's, or the next one's when this one was
    used already (a device never takes the same step twice). None when neither is left."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    step = totp.t()
    for candidate in range(max(step, device.last_t + 1), step + device.tolerance + 1):
        return f"{hotp(device.bin_key, candidate, digits=device.digits):0{device.digits}d}"
    return None


def key_from_text(text: str) -> str:
    """The hex key of a base32 secret as authenticator apps show it (the demo's)."""
    cleaned = "".join(text.split()).upper()
    return b32decode(cleaned + "=" * (-len(cleaned) % 8)).hex()


# -- the sign-in between the password and the code ------------------------------------------


def start_pending(request, user, next_url: str) -> None:
    """Remember that `user` gave the right password; the session is not signed in yet."""
    # A new session key, so a session id planted before the password cannot ride along.
    request.session.cycle_key()
    request.session[PENDING_SESSION_KEY] = {
        "user": user.pk,
        "backend": user.backend,
        "next": next_url,
        "at": int(time.time()),
    }


def pending(request) -> dict | None:
    """The half-finished sign-in of this session, unless it has expired."""
    state = request.session.get(PENDING_SESSION_KEY)
    if not state:
        return None
    if time.time() - state.get("at", 0) > PENDING_MAX_AGE:
        clear_pending(request)
        return None
    return state


def clear_pending(request) -> None:
    request.session.pop(PENDING_SESSION_KEY, None)


# -- wrong codes and the sign-in lockout ------------------------------------------------------


def _credentials(user) -> dict:
    return {"username": user.get_username()}


def is_locked_out(request, user) -> bool:
    """Whether sign-in for (user, this address) is paused by django-axes."""
    return AxesProxyHandler.is_locked(request, _credentials(user))


def count_failure(request, user) -> bool:
    """Count a wrong code like a wrong password for the (username, address) pair; True when
    that paused sign-in for the pair. The device's own back-off applies as well (django-otp
    throttling): that one holds even when a correct password resets the pair's count."""
    AxesProxyHandler.user_login_failed(
        sender=__name__, credentials=_credentials(user), request=request
    )
    return bool(getattr(request, "axes_locked_out", False))


def lockout_notice(request, user):
    """The answer to a request from a locked-out (user, address) pair: django-axes's page."""
    from axes.helpers import get_lockout_response

    return get_lockout_response(request, None, _credentials(user))
