"""Sign-ins, failed sign-ins and lockouts are audited. Django announces the first two with
signals from its own authentication code, which is the one place every way of signing in
passes through; django-axes announces a lockout the same way."""

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from kpo.audit.services import audit_record


def _scope(user) -> dict:
    return {"client": user.client, "provider": user.provider} if user else {}


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    audit_record(actor=user, action="auth.login", target=user, **_scope(user))


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(actor=user, action="auth.logout", target=user, **_scope(user))


def _attempted(username: str):
    # The attempted account's organisation sees the attempt (there may be no such account).
    return (
        get_user_model()
        .objects.select_related("client", "provider")
        .filter(username=username)
        .first()
    )


@receiver(user_login_failed)
def audit_login_failure(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    # The password never is recorded.
    user = _attempted(username)
    audit_record(
        actor=None,
        action="auth.login_failed",
        target=user,
        changes={"username": username},
        **_scope(user),
    )


@receiver(user_locked_out)
def audit_lockout(sender, request, username, ip_address, **kwargs):
    """Each attempt refused for a lockout: the one that reached the limit, and every one
    after it until the cool-off ends."""
    username = str(username or "")[:150]
    user = _attempted(username)
    audit_record(
        actor=None,
        action="auth.locked_out",
        target=user,
        changes={"username": username, "address": ip_address},
        **_scope(user),
    )
