"""Every state change of engagements and their data rooms. One function per verb; each locks
the row, checks the transition table and the actor's rights, and writes its audit event in
the same transaction."""

from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kpo.access import grants, policy
from kpo.accounts.choices import Role
from kpo.audit.services import audit_record, diff
from kpo.domain import BusinessRuleViolation, InvalidTransition, check_transition
from kpo.files import inspect_upload
from kpo.notifications.choices import NotificationKind
from kpo.notifications.services import notify
from vendors.choices import ENGAGEABLE_APPROVALS, SECURITY_CERTIFICATIONS
from vendors.models import Certification, VendorApproval

from . import selectors
from .choices import (
    CLOSED_STATUSES,
    ENGAGEMENT_ACTIONS,
    ENGAGEMENT_TRANSITIONS,
    Confidentiality,
    EngagementStatus,
)
from .models import Document, Engagement, ReferenceSequence

CLIENT_TERMS = (
    "title",
    "brief",
    "start_date",
    "end_date",
    "budget",
    "currency",
    "pricing_model",
    "confidentiality",
    "qa_required",
    "reminder_lead_hours",
    "review_turnaround_hours",
    "quality_threshold",
)
# The counterparty and the kind of work can change only before the provider has seen it.
DRAFT_ONLY_TERMS = ("provider", "service_line")


def _locked(engagement) -> Engagement:
    return (
        Engagement.objects.select_for_update(of=("self",))
        .select_related("client", "provider")
        .get(pk=engagement.pk)
    )


def _next_reference(today: date) -> str:
    sequence, _ = ReferenceSequence.objects.select_for_update().get_or_create(year=today.year)
    sequence.last_number = F("last_number") + 1
    sequence.save(update_fields=["last_number"])
    sequence.refresh_from_db(fields=["last_number"])
    return f"ENG-{today.year}-{sequence.last_number:04d}"


def _validate_terms(values: dict, *, provider=None, service_line=None) -> None:
    start, end = values.get("start_date"), values.get("end_date")
    if start and end and end < start:
        raise BusinessRuleViolation(
            "The end date cannot be before the start date.", field="end_date"
        )
    if provider is not None and service_line is not None:
        if not provider.is_active:
            raise BusinessRuleViolation("This provider is not active.", field="provider")
        if not provider.service_lines.filter(pk=service_line.pk).exists():
            raise BusinessRuleViolation(
                f"{provider} does not offer {service_line}.", field="service_line"
            )


def _validate_client_manager(engagement_client_id, user) -> None:
    if user is None:
        return
    if user.client_id != engagement_client_id or user.role not in (
        Role.CLIENT_ADMIN,
        Role.CLIENT_MANAGER,
    ):
        raise BusinessRuleViolation(
            "The client manager must be a manager or admin of this client.", field="client_manager"
        )


def engagement_create(*, actor, provider, service_line, title, client_manager=None, **terms):
    """Create a draft engagement for the actor's own client; the actor manages it by default."""
    policy.require_organisation_action(actor, "create_engagement")
    unknown = set(terms) - set(CLIENT_TERMS)
    if unknown:
        raise TypeError(f"Unknown engagement terms: {sorted(unknown)}")
    client_manager = client_manager or actor
    _validate_client_manager(actor.client_id, client_manager)
    _validate_terms(terms, provider=provider, service_line=service_line)
    with transaction.atomic():
        engagement = Engagement.objects.create(
            reference=_next_reference(timezone.localdate()),
            client_id=actor.client_id,
            provider=provider,
            service_line=service_line,
            title=title,
            client_manager=client_manager,
            created_by=actor,
            **terms,
        )
        grants.grant_user(engagement, client_manager)
        audit_record(
            actor=actor,
            action="engagement.create",
            target=engagement,
            engagement=engagement,
            changes={"title": title, "provider": provider.slug, "service_line": service_line.slug},
        )
    return engagement


def engagement_update(*, actor, engagement, **values):
    """Change the client's terms. Provider and service line only while still a draft."""
    unknown = set(values) - set(CLIENT_TERMS) - set(DRAFT_ONLY_TERMS) - {"client_manager"}
    if unknown:
        raise TypeError(f"Unknown engagement fields: {sorted(unknown)}")
    with transaction.atomic():
        engagement = _locked(engagement)
        policy.require(actor, "manage", engagement)
        if engagement.status in CLOSED_STATUSES:
            raise InvalidTransition(f"A {engagement.status} engagement can no longer be changed.")
        if (
            any(f in values for f in DRAFT_ONLY_TERMS)
            and engagement.status != EngagementStatus.DRAFT
        ):
            changing = [
                f for f in DRAFT_ONLY_TERMS if f in values and values[f] != getattr(engagement, f)
            ]
            if changing:
                raise InvalidTransition(
                    "The provider and service line can only change while the engagement is a draft."
                )
        merged = {f: values.get(f, getattr(engagement, f)) for f in ("start_date", "end_date")}
        _validate_terms(
            merged,
            provider=values.get("provider", engagement.provider),
            service_line=values.get("service_line", engagement.service_line),
        )
        if "client_manager" in values:
            _validate_client_manager(engagement.client_id, values["client_manager"])
        changes = diff(engagement, [*CLIENT_TERMS, *DRAFT_ONLY_TERMS, "client_manager"], values)
        if not changes:
            return engagement
        old_manager = engagement.client_manager
        for field in changes:
            setattr(engagement, field, values[field])
        engagement.save()
        if "reminder_lead_hours" in changes:
            from deliverables.sla import reschedule_due_soon

            reschedule_due_soon(engagement)
        if "client_manager" in changes:
            if old_manager is not None:
                grants.revoke_user(engagement, old_manager)
            if engagement.client_manager is not None:
                grants.grant_user(engagement, engagement.client_manager)
        audit_record(
            actor=actor,
            action="engagement.update",
            target=engagement,
            engagement=engagement,
            changes=changes,
        )
    return engagement


def check_activation_gate(engagement, today: date | None = None) -> None:
    """No activation without an unexpired approval of the provider by this client; restricted
    work also needs an unexpired ISO 27001 or SOC 2 certificate."""
    today = today or timezone.localdate()
    approval = VendorApproval.objects.filter(
        client_id=engagement.client_id, provider_id=engagement.provider_id
    ).first()
    if approval is None or approval.status not in ENGAGEABLE_APPROVALS:
        raise InvalidTransition(
            f"{engagement.client} has not approved {engagement.provider}; "
            "an approved vendor assessment is needed before the engagement can be active."
        )
    if approval.expires_on is not None and approval.expires_on < today:
        raise InvalidTransition(
            f"{engagement.client}'s approval of {engagement.provider} expired on "
            f"{approval.expires_on:%Y-%m-%d}; renew it before the engagement can be active."
        )
    if engagement.confidentiality == Confidentiality.RESTRICTED:
        certified = Certification.objects.filter(
            provider_id=engagement.provider_id,
            kind__in=SECURITY_CERTIFICATIONS,
            expires_on__gte=today,
        ).exists()
        if not certified:
            raise InvalidTransition(
                "Restricted engagements need a provider with an unexpired ISO 27001 or SOC 2 "
                "certificate."
            )


def check_action(engagement, action: str) -> None:
    """Raise `InvalidTransition` unless `action` may be taken in the engagement's state."""
    sources, target = ENGAGEMENT_ACTIONS[action]
    if engagement.status not in sources:
        raise InvalidTransition(
            f"Cannot {action} an engagement that is {engagement.get_status_display().lower()}."
        )
    check_transition(ENGAGEMENT_TRANSITIONS, engagement.status, target, noun="the engagement")


def _change_status(engagement, *, actor, action, extra=None):
    check_action(engagement, action)
    old = engagement.status
    engagement.status = ENGAGEMENT_ACTIONS[action][1]
    engagement.save(update_fields=["status", "held_since", "updated_at"])
    audit_record(
        actor=actor,
        action=f"engagement.{action}",
        target=engagement,
        engagement=engagement,
        changes={"status": [old, engagement.status], **(extra or {})},
    )
    return engagement


def _notify_status(
    engagement, *, actor, recipients, kind=NotificationKind.ENGAGEMENT_STATUS_CHANGED
):
    notify(
        kind=kind,
        recipients=recipients,
        engagement=engagement,
        exclude=actor,
        title=f"{engagement.reference} is now {engagement.get_status_display().lower()}",
        body=f"{engagement.title} ({engagement.client} / {engagement.provider})",
    )


def engagement_propose(*, actor, engagement):
    """Send a draft to the provider for acceptance."""
    with transaction.atomic():
        engagement = _locked(engagement)
        policy.require(actor, "manage", engagement)
        _change_status(engagement, actor=actor, action="propose")
        notify(
            kind=NotificationKind.ENGAGEMENT_PROPOSED,
            engagement=engagement,
            exclude=actor,
            recipients=selectors.provider_admins(engagement.provider_id),
            title=f"{engagement.client} proposes {engagement.reference}: {engagement.title}",
            body=engagement.brief[:500],
        )
    return engagement


def engagement_accept(*, actor, engagement):
    """The provider accepts a proposal; the engagement becomes active if the client's vendor
    approval (and, for restricted work, a security certificate) is in force."""
    with transaction.atomic():
        engagement = _locked(engagement)
        policy.require(actor, "respond", engagement)
        check_action(engagement, "accept")
        check_activation_gate(engagement)
        _change_status(engagement, actor=actor, action="accept")
        _notify_status(engagement, actor=actor, recipients=selectors.client_contacts(engagement))
    return engagement


def engagement_decline(*, actor, engagement, reason: str = ""):
    """The provider declines a proposal; it goes back to the client as a draft."""
    with transaction.atomic():
        engagement = _locked(engagement)
        policy.require(actor, "respond", engagement)
        _change_status(
            engagement,
            actor=actor,
            action="decline",
            extra={"reason": reason} if reason else None,
        )
        _notify_status(engagement, actor=actor, recipients=selectors.client_contacts(engagement))
    return engagement


def engagement_hold(*, actor, engagement, reason: str = ""):
    """Pause the work. SLA clocks stop until it resumes."""
    with transaction.atomic():
        engagement = _locked(engagement)
        policy.require(actor, "manage", engagement)
        check_action(engagement, "hold")
        engagement.held_since = timezone.now()
        _change_status(
            engagement,
            actor=actor,
            action="hold",
            extra={"reason": reason} if reason else None,
        )
        _notify_status(engagement, actor=actor, recipients=selectors.provider_contacts(engagement))
    return engagement


def engagement_resume(*, actor, engagement):
    """Resume held work; every open due time moves by the length of the hold."""
    from deliverables.services import shift_open_deadlines

    with transaction.atomic():
        engagement = _locked(engagement)
        policy.require(actor, "manage", engagement)
        check_action(engagement, "resume")
        check_activation_gate(engagement)
        now, held_since = timezone.now(), engagement.held_since
        held = now - held_since if held_since else None
        engagement.held_since = None
        moved = shift_open_deadlines(engagement, held_since=held_since, now=now) if held else 0
        _change_status(
            engagement,
            actor=actor,
            action="resume",
            extra={
                "hold_seconds": int(held.total_seconds()) if held else 0,
                "deadlines_moved": moved,
            },
        )
        _notify_status(engagement, actor=actor, recipients=selectors.provider_contacts(engagement))
    return engagement


def engagement_complete(*, actor, engagement):
    """Close the engagement as delivered. Open deliverables must be finished or cancelled first."""
    from deliverables.choices import OPEN_STATUSES

    with transaction.atomic():
        engagement = _locked(engagement)
        policy.require(actor, "manage", engagement)
        check_action(engagement, "complete")
        still_open = engagement.deliverables.filter(status__in=OPEN_STATUSES).count()
        if still_open:
            raise InvalidTransition(
                f"{still_open} deliverable(s) are still open; accept, reject or cancel them "
                "before completing, or terminate the engagement."
            )
        engagement.held_since = None
        _change_status(engagement, actor=actor, action="complete")
        _notify_status(engagement, actor=actor, recipients=selectors.provider_contacts(engagement))
    return engagement


def engagement_terminate(*, actor, engagement, reason: str = ""):
    """End the engagement early; its open deliverables are cancelled with it."""
    from deliverables.services import cancel_open_deliverables

    with transaction.atomic():
        engagement = _locked(engagement)
        policy.require(actor, "manage", engagement)
        check_action(engagement, "terminate")
        engagement.held_since = None
        cancelled = cancel_open_deliverables(engagement, actor=actor)
        extra = {"cancelled_deliverables": cancelled}
        if reason:
            extra["reason"] = reason
        _change_status(engagement, actor=actor, action="terminate", extra=extra)
        _notify_status(engagement, actor=actor, recipients=selectors.provider_contacts(engagement))
    return engagement


def engagement_assign_lead(*, actor, engagement, lead):
    """Name the provider's lead for the engagement; the lead gains access, the previous one
    loses the access the lead role gave."""
    with transaction.atomic():
        engagement = _locked(engagement)
        policy.require(actor, "assign_lead", engagement)
        if engagement.status in CLOSED_STATUSES:
            raise InvalidTransition(f"A {engagement.status} engagement can no longer be changed.")
        if lead is not None and (
            lead.provider_id != engagement.provider_id
            or lead.role not in (Role.ENGAGEMENT_LEAD, Role.PROVIDER_ADMIN)
            or not lead.is_active
        ):
            raise BusinessRuleViolation(
                "The lead must be an active engagement lead of this provider.",
                field="provider_lead",
            )
        old = engagement.provider_lead
        if (old.pk if old else None) == (lead.pk if lead else None):
            return engagement
        engagement.provider_lead = lead
        engagement.save(update_fields=["provider_lead", "updated_at"])
        if old is not None:
            grants.revoke_user(engagement, old)
        if lead is not None:
            grants.grant_user(engagement, lead)
        audit_record(
            actor=actor,
            action="engagement.assign_lead",
            target=engagement,
            engagement=engagement,
            changes={
                "provider_lead": [old.username if old else None, lead.username if lead else None]
            },
        )
    return engagement


def _check_team(engagement, team):
    if team.provider_id != engagement.provider_id:
        raise BusinessRuleViolation(
            "The team must belong to this engagement's provider.", field="teams"
        )


def engagement_assign_team(*, actor, engagement, team):
    """Put an analyst team on the engagement; its members see it at once."""
    with transaction.atomic():
        engagement = _locked(engagement)
        policy.require(actor, "assign_teams", engagement)
        if engagement.status in CLOSED_STATUSES:
            raise InvalidTransition(f"A {engagement.status} engagement can no longer be staffed.")
        _check_team(engagement, team)
        if engagement.teams.filter(pk=team.pk).exists():
            return engagement
        engagement.teams.add(team)
        grants.grant_team(engagement, team)
        audit_record(
            actor=actor,
            action="engagement.assign_team",
            target=engagement,
            engagement=engagement,
            changes={"team": team.name},
        )
    return engagement


def engagement_remove_team(*, actor, engagement, team):
    """Take a team off the engagement; its members lose access at once."""
    with transaction.atomic():
        engagement = _locked(engagement)
        policy.require(actor, "assign_teams", engagement)
        if not engagement.teams.filter(pk=team.pk).exists():
            return engagement
        engagement.teams.remove(team)
        grants.revoke_team(engagement, team)
        audit_record(
            actor=actor,
            action="engagement.remove_team",
            target=engagement,
            engagement=engagement,
            changes={"team": team.name},
        )
    return engagement


def engagement_set_teams(*, actor, engagement, teams):
    """Make the engagement's teams exactly `teams` (assigning and removing as needed)."""
    wanted = {team.pk: team for team in teams}
    with transaction.atomic():
        current = {team.pk: team for team in engagement.teams.all()}
        for pk, team in wanted.items():
            if pk not in current:
                engagement = engagement_assign_team(actor=actor, engagement=engagement, team=team)
        for pk, team in current.items():
            if pk not in wanted:
                engagement = engagement_remove_team(actor=actor, engagement=engagement, team=team)
        policy.require(actor, "assign_teams", engagement)
    return engagement


def engagement_grant_access(*, actor, engagement, user):
    """Share an engagement with a colleague of the same client (a manager or a viewer)."""
    with transaction.atomic():
        engagement = _locked(engagement)
        policy.require(actor, "manage", engagement)
        if user.client_id != engagement.client_id or user.role not in (
            Role.CLIENT_MANAGER,
            Role.CLIENT_VIEWER,
        ):
            raise BusinessRuleViolation(
                "Only managers and viewers of this client can be given access.", field="user"
            )
        if grants.user_is_granted(engagement, user):
            return engagement
        grants.grant_user(engagement, user)
        audit_record(
            actor=actor,
            action="engagement.grant_access",
            target=engagement,
            engagement=engagement,
            changes={"user": user.username},
        )
    return engagement


def engagement_revoke_access(*, actor, engagement, user):
    """Withdraw a colleague's access; the engagement's own manager keeps theirs."""
    with transaction.atomic():
        engagement = _locked(engagement)
        policy.require(actor, "manage", engagement)
        if engagement.client_manager_id == user.pk:
            raise BusinessRuleViolation(
                "The engagement's manager keeps access; name another manager first.", field="user"
            )
        if user.client_id != engagement.client_id:
            # The provider's lead and teams are the provider's to staff, not the client's.
            raise BusinessRuleViolation(
                "Only colleagues of this client can have their access withdrawn.", field="user"
            )
        if not grants.user_is_granted(engagement, user):
            return engagement
        grants.revoke_user(engagement, user)
        audit_record(
            actor=actor,
            action="engagement.revoke_access",
            target=engagement,
            engagement=engagement,
            changes={"user": user.username},
        )
    return engagement


def document_upload(*, actor, engagement, file, title: str = "", classification=None):
    """Add an input file to the engagement's data room, stored under a server-generated key."""
    # Who may upload is settled before the file is read, so outsiders learn nothing from it.
    policy.require(actor, "upload_document", engagement)
    facts = inspect_upload(file)
    with transaction.atomic():
        engagement = _locked(engagement)
        policy.require(actor, "upload_document", engagement)
        if engagement.status in CLOSED_STATUSES:
            raise InvalidTransition(f"The data room of a {engagement.status} engagement is closed.")
        document = Document(
            engagement=engagement,
            title=(title or facts.filename)[:200],
            filename=facts.filename,
            content_type=facts.content_type,
            size=facts.size,
            sha256=facts.sha256,
            uploaded_by=actor,
        )
        if classification:
            document.classification = classification
        document.file.save("upload", file, save=False)
        try:
            document.save()
            audit_record(
                actor=actor,
                action="document.upload",
                target=document,
                engagement=engagement,
                changes={"filename": facts.filename, "sha256": facts.sha256, "size": facts.size},
            )
        except Exception:
            document.file.delete(save=False)
            raise
    return document


def document_download(*, actor, document):
    """Open a data-room file for the actor, recording the download."""
    policy.require(actor, "view", document)
    audit_record(
        actor=actor,
        action="document.download",
        target=document,
        engagement=document.engagement,
        changes={"filename": document.filename, "sha256": document.sha256},
    )
    return document.file.open("rb")


def engagement_export_audit(*, actor, engagement):
    """The engagement's audit trail for a CSV export, newest first. The export is itself
    recorded: who took a copy of the trail, and when, is part of the trail."""
    from kpo.audit.models import AuditEvent

    policy.require(actor, "read_audit", engagement)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="engagement.audit_export",
            target=engagement,
            engagement=engagement,
            changes={"format": "csv"},
        )
    return (
        AuditEvent.objects.restrict(actor, "read_audit")
        .filter(engagement=engagement)
        .select_related("target_type")
        .order_by("-id")
    )
