"""State changes of a user's own account: e-mail preference, two-factor sign-in, API token."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from kpo.audit.services import audit_record
from kpo.domain import BusinessRuleViolation

from . import two_factor
from .choices import EmailMode


def account_set_email_mode(*, actor, email_mode: str):
    """Choose how notifications reach the actor by e-mail: at once, in a daily digest, or
    not at all (they always appear in the app)."""
    if email_mode not in EmailMode.values:
        raise BusinessRuleViolation(
            "Choose one of the offered e-mail settings.", field="email_mode"
        )
    if actor.email_mode == email_mode:
        return actor
    with transaction.atomic():
        old, actor.email_mode = actor.email_mode, email_mode
        actor.save(update_fields=["email_mode"])
        audit_record(
            actor=actor,
            action="account.email_mode",
            target=actor,
            client=actor.client,
            provider=actor.provider,
            changes={"email_mode": [old, email_mode]},
        )
    return actor


def _scope(user) -> dict:
    return {"client": user.client, "provider": user.provider}


# -- two-factor sign-in ------------------------------------------------------------------------


def _recovery_code() -> str:
    # All digits would read as an app code (see two_factor_verify); one in a million is.
    while (code := StaticToken.random_token()).isdigit():
        pass
    return code


def two_factor_enrol(*, actor, key: str, code: str):
    """Turn on two-factor sign-in with the authenticator app the actor has just set up with
    `key` (offered by the enrolment page); `code`, read from that app, proves it was set up
    right. Also issues recovery codes for a lost phone. Returns the device and the recovery
    codes, which are shown once and never again."""
    with transaction.atomic():
        # Two enrolments at once in two tabs must not both succeed.
        get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
        if two_factor.has_device(actor):
            raise BusinessRuleViolation(
                "Two-factor sign-in is on already. Turn it off first to move it to another phone."
            )
        step = two_factor.matching_step(key, code)
        if step is None:
            raise BusinessRuleViolation(
                "That code does not match. Check the phone's clock and enter the code the app "
                "shows now.",
                field="code",
            )
        # The code just used may not sign in again (django-otp refuses steps up to last_t).
        device = TOTPDevice.objects.create(
            user=actor, name="Authenticator app", key=key, confirmed=True, last_t=step
        )
        recovery = StaticDevice.objects.create(user=actor, name="Recovery codes", confirmed=True)
        codes = [_recovery_code() for _ in range(two_factor.RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=recovery, token=c) for c in codes)
        audit_record(actor=actor, action="auth.two_factor_enrolled", target=actor, **_scope(actor))
    return device, codes


def two_factor_disable(*, actor) -> bool:
    """Turn two-factor sign-in off: the authenticator app and the recovery codes stop working.
    The caller has checked the password again. False when it was not on."""
    with transaction.atomic():
        removed = 0
        for model in (TOTPDevice, StaticDevice):
            count, _ = model.objects.filter(user=actor).delete()
            removed += count
        if not removed:
            return False
        audit_record(actor=actor, action="auth.two_factor_disabled", target=actor, **_scope(actor))
    return True


def two_factor_verify(*, actor, code: str):
    """Check the second step of a sign-in: a code from the authenticator app, or one of the
    unused recovery codes (used up by this). Returns the device that accepted it.

    A wrong code is audited and slows the device down (django-otp's throttling: 1, 2, 4, 8…
    seconds between attempts), so guessing codes is hopeless even with the password."""
    code = two_factor.normalise_code(code)
    # App codes are digits, recovery codes are not; a code is tried on its own kind of device
    # only, so using a recovery code does not count as a wrong app code.
    kind = TOTPDevice if code.isdigit() else StaticDevice
    matched = None
    waiting = False
    with transaction.atomic():
        for device in devices_for_user(actor, for_verify=True):
            if not isinstance(device, kind):
                continue
            allowed, _ = device.verify_is_allowed()
            waiting = waiting or not allowed
            if code and device.verify_token(code):
                matched = device
                break
    if matched is not None:
        if isinstance(matched, StaticDevice):
            audit_record(
                actor=actor,
                action="auth.recovery_code_used",
                target=actor,
                changes={"left": matched.token_set.count()},
                **_scope(actor),
            )
        return matched
    # Outside the transaction above: django-otp saved the failure count, and this event
    # must stay even though the caller answers with an error.
    audit_record(actor=actor, action="auth.two_factor_failed", target=actor, **_scope(actor))
    if waiting:
        raise BusinessRuleViolation(
            "Too many wrong codes: wait a few seconds, then enter the code the app shows now.",
            field="code",
        )
    raise BusinessRuleViolation(
        "That code is not valid. Enter the code the app shows now, or a recovery code.",
        field="code",
    )


# -- API tokens --------------------------------------------------------------------------------


def token_obtain(*, actor) -> Token:
    """The actor's API token, created on first use (the sign-in of POST /api/v1/auth/token/).
    One token per user; asking again returns the same one."""
    with transaction.atomic():
        token, created = Token.objects.get_or_create(user=actor)
        if created:
            # The target is the user: a token's primary key is the secret itself.
            audit_record(
                actor=actor,
                action="auth.token_created",
                target=actor,
                changes={"replaced": False},
                **_scope(actor),
            )
    return token


def token_regenerate(*, actor) -> Token:
    """A new API token for the actor; the old one, if any, stops working at once."""
    with transaction.atomic():
        replaced, _ = Token.objects.filter(user=actor).delete()
        token = Token.objects.create(user=actor)
        audit_record(
            actor=actor,
            action="auth.token_created",
            target=actor,
            changes={"replaced": bool(replaced)},
            **_scope(actor),
        )
    return token


def token_revoke(*, actor) -> bool:
    """Delete the actor's API token: requests with it are refused from now on. False when the
    actor had none."""
    with transaction.atomic():
        deleted, _ = Token.objects.filter(user=actor).delete()
        if not deleted:
            return False
        audit_record(actor=actor, action="auth.token_revoked", target=actor, **_scope(actor))
    return True
