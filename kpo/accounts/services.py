"""State changes of a user's own account."""

from django.db import transaction

from kpo.audit.services import audit_record
from kpo.domain import BusinessRuleViolation

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
