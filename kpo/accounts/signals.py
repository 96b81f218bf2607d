"""Sign-ins and failed sign-ins are audited. Django announces them with signals from its own
authentication code, which is the one place every way of signing in passes through."""

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


@receiver(user_login_failed)
def audit_login_failure(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    # The attempted account's organisation sees the attempt; the password never is recorded.
    user = (
        get_user_model()
        .objects.select_related("client", "provider")
        .filter(username=username)
        .first()
    )
    audit_record(
        actor=None,
        action="auth.login_failed",
        target=user,
        changes={"username": username},
        **_scope(user),
    )
