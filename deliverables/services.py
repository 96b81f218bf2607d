"""Every state change of deliverables: plan, start, submit a version, QA, client review,
cancel, comment. One function per verb; each locks the deliverable, checks the transition
table and the actor's rights, and writes its audit event in the same transaction."""

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from engagements import selectors as people
from engagements.choices import CLOSED_STATUSES, EngagementStatus
from engagements.models import Engagement
from kpo.access import policy
from kpo.accounts.choices import Role
from kpo.audit.services import audit_record, diff
from kpo.domain import (
    ActionNotAllowed,
    BusinessRuleViolation,
    InvalidTransition,
    check_transition,
)
from kpo.files import inspect_upload
from kpo.notifications.choices import NotificationKind
from kpo.notifications.services import notify

from . import sla
from .choices import (
    DELIVERABLE_TRANSITIONS,
    DELIVERY_REMINDERS,
    OPEN_STATUSES,
    REVIEW_REMINDERS,
    RUBRIC,
    UNDELIVERED_STATUSES,
    DeliverableStatus,
    ReviewDecision,
    ReviewKind,
    SlaState,
)
from .models import Comment, Deliverable, Review, Submission

EDITABLE_FIELDS = ("title", "description", "kind", "due_at", "assignee")
MAX_COMMENT_LENGTH = 10_000


def _locked(deliverable) -> Deliverable:
    return (
        Deliverable.objects.select_for_update(of=("self",))
        .select_related(
            "engagement__client",
            "engagement__provider",
            "engagement__client_manager",
            "engagement__provider_lead",
        )
        .get(pk=deliverable.pk)
    )


def _require_engagement_status(engagement, allowed, doing: str) -> None:
    if engagement.status not in allowed:
        raise InvalidTransition(
            f"Cannot {doing} while the engagement is {engagement.get_status_display().lower()}."
        )


def _validate_assignee(engagement, assignee) -> None:
    if assignee is None:
        return
    if (
        assignee.provider_id != engagement.provider_id
        or assignee.role not in (Role.ANALYST, Role.ENGAGEMENT_LEAD)
        or not policy.can_see(assignee, engagement)
    ):
        raise BusinessRuleViolation(
            "The assignee must be an analyst or lead working on this engagement.", field="assignee"
        )


def _audit(actor, action, deliverable, changes=None):
    audit_record(
        actor=actor,
        action=f"deliverable.{action}",
        target=deliverable,
        engagement=deliverable.engagement,
        changes=changes,
    )


def _move(deliverable, target, *, actor, action, extra=None):
    check_transition(DELIVERABLE_TRANSITIONS, deliverable.status, target, noun="the deliverable")
    old = deliverable.status
    deliverable.status = target
    deliverable.save()
    if target in (
        DeliverableStatus.ACCEPTED,
        DeliverableStatus.REJECTED,
        DeliverableStatus.CANCELLED,
    ):
        sla.cancel_reminders(deliverable, (*DELIVERY_REMINDERS, *REVIEW_REMINDERS))
    elif target == DeliverableStatus.CHANGES_REQUESTED:
        sla.cancel_reminders(deliverable, REVIEW_REMINDERS)
    _audit(actor, action, deliverable, {"status": [old, target], **(extra or {})})


def deliverable_plan(*, actor, engagement, title, due_at, description="", kind=None, assignee=None):
    """Add a deliverable to an engagement that is not closed."""
    with transaction.atomic():
        engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
        policy.require(actor, "plan", engagement)
        if engagement.status in CLOSED_STATUSES:
            raise InvalidTransition(
                f"Cannot plan deliverables in a {engagement.status} engagement."
            )
        _validate_assignee(engagement, assignee)
        deliverable = Deliverable(
            engagement=engagement,
            title=title,
            description=description,
            due_at=due_at,
            assignee=assignee,
            created_by=actor,
            sla_state=sla.open_state(due_at, engagement.reminder_lead_hours, timezone.now()),
        )
        if kind:
            deliverable.kind = kind
        deliverable.save()
        sla.schedule_delivery_reminders(deliverable)
        _audit(
            actor,
            "plan",
            deliverable,
            {"title": title, "due_at": due_at, "assignee": assignee.username if assignee else None},
        )
    return deliverable


def deliverable_update(*, actor, deliverable, **values):
    """Change an open deliverable's description, due time or assignee."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown deliverable fields: {sorted(unknown)}")
    with transaction.atomic():
        deliverable = _locked(deliverable)
        policy.require(actor, "plan", deliverable)
        if deliverable.status not in OPEN_STATUSES:
            raise InvalidTransition(f"A {deliverable.status} deliverable can no longer be changed.")
        if "assignee" in values:
            _validate_assignee(deliverable.engagement, values["assignee"])
        changes = diff(deliverable, EDITABLE_FIELDS, values)
        if not changes:
            return deliverable
        for field in changes:
            setattr(deliverable, field, values[field])
        if "due_at" in changes and deliverable.delivered_at is None:
            deliverable.sla_state = sla.open_state(
                deliverable.due_at, deliverable.engagement.reminder_lead_hours, timezone.now()
            )
        deliverable.save()
        if "due_at" in changes:
            sla.schedule_delivery_reminders(deliverable)
        _audit(
            actor,
            "update",
            deliverable,
            {
                k: [
                    v[0].username if hasattr(v[0], "username") else v[0],
                    v[1].username if hasattr(v[1], "username") else v[1],
                ]
                for k, v in changes.items()
            },
        )
    return deliverable


def deliverable_start(*, actor, deliverable):
    """The provider starts work on a planned deliverable."""
    with transaction.atomic():
        deliverable = _locked(deliverable)
        policy.require(actor, "submit", deliverable)
        _require_engagement_status(deliverable.engagement, (EngagementStatus.ACTIVE,), "start work")
        if deliverable.assignee_id is None and actor.role == Role.ANALYST:
            deliverable.assignee = actor
        _move(deliverable, DeliverableStatus.IN_PROGRESS, actor=actor, action="start")
    return deliverable


def _reach_client(deliverable, *, actor, now):
    """The current version goes in front of the client: the review clock starts, and the
    first time this happens the deliverable counts as delivered."""
    deliverable.review_started_at = now
    if deliverable.delivered_at is None:
        deliverable.delivered_at = now
        deliverable.sla_state = sla.delivered_state(deliverable.due_at, now)
        sla.cancel_reminders(deliverable, DELIVERY_REMINDERS)
    sla.schedule_review_reminders(deliverable)
    notify(
        kind=NotificationKind.REVIEW_REQUESTED,
        deliverable=deliverable,
        exclude=actor,
        recipients=people.client_contacts(deliverable.engagement),
        title=f"Ready for your review: {deliverable.title} v{deliverable.current_version}",
        body=f"{deliverable.engagement.reference} · {deliverable.engagement.provider}",
    )


def deliverable_submit(*, actor, deliverable, file, notes=""):
    """Upload a new version. It goes to provider QA, or straight to the client when the
    engagement does not require QA. Earlier versions are kept untouched."""
    # Who may submit is settled before the file is read, so outsiders learn nothing from it.
    policy.require(actor, "submit", deliverable)
    facts = inspect_upload(file)
    with transaction.atomic():
        deliverable = _locked(deliverable)
        policy.require(actor, "submit", deliverable)
        engagement = deliverable.engagement
        _require_engagement_status(engagement, (EngagementStatus.ACTIVE,), "submit work")
        if deliverable.status not in (
            DeliverableStatus.IN_PROGRESS,
            DeliverableStatus.CHANGES_REQUESTED,
        ):
            raise InvalidTransition(
                f"A new version can only be submitted while the deliverable is in progress or "
                f"has changes requested, not while it is {deliverable.get_status_display()}."
            )
        now = timezone.now()
        submission = Submission(
            deliverable=deliverable,
            version=deliverable.current_version + 1,
            notes=notes,
            filename=facts.filename,
            sha256=facts.sha256,
            size=facts.size,
            content_type=facts.content_type,
            submitted_by=actor,
        )
        submission.file.save("upload", file, save=False)
        try:
            with transaction.atomic():
                submission.save()
        except IntegrityError:
            submission.file.delete(save=False)
            raise InvalidTransition(
                "Another version was submitted at the same time; reload."
            ) from None
        deliverable.current_version = submission.version
        target = DeliverableStatus.IN_QA if engagement.qa_required else DeliverableStatus.IN_REVIEW
        if target == DeliverableStatus.IN_REVIEW:
            _reach_client(deliverable, actor=actor, now=now)
        else:
            notify(
                kind=NotificationKind.DELIVERABLE_SUBMITTED,
                deliverable=deliverable,
                exclude=actor,
                recipients=people.team_members(
                    engagement, roles=[Role.QA_REVIEWER, Role.ENGAGEMENT_LEAD]
                ),
                title=f"Ready for QA: {deliverable.title} v{submission.version}",
                body=notes[:500],
            )
        _move(
            deliverable,
            target,
            actor=actor,
            action="submit",
            extra={
                "version": submission.version,
                "filename": facts.filename,
                "sha256": facts.sha256,
                "size": facts.size,
            },
        )
    return submission


def _latest_submission(deliverable) -> Submission:
    return deliverable.submissions.order_by("-version").first()


def _scores(scores: dict | None, *, required: bool) -> dict[str, int] | None:
    scores = scores or {}
    unknown = set(scores) - set(RUBRIC)
    if unknown:
        raise BusinessRuleViolation(
            f"Unknown rubric criteria: {', '.join(sorted(unknown))}.", field="scores"
        )
    if not scores and not required:
        return None
    missing = [name for name in RUBRIC if scores.get(name) is None]
    if missing:
        raise BusinessRuleViolation(
            f"Score every criterion from 1 to 5; missing: {', '.join(missing)}.", field="scores"
        )
    for name in RUBRIC:
        value = scores[name]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise BusinessRuleViolation(
                f"{name} must be a whole number from 1 to 5.", field="scores"
            )
    return {name: scores[name] for name in RUBRIC}


def _overall(scores: dict[str, int] | None) -> Decimal | None:
    if not scores:
        return None
    mean = Decimal(sum(scores.values())) / len(scores)
    return mean.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def deliverable_qa(*, actor, deliverable, decision, comment=""):
    """Provider QA passes the current version to the client or returns it to the analyst.
    Nobody checks their own submission."""
    policy.require(actor, "qa", deliverable)
    if decision not in (ReviewDecision.PASS, ReviewDecision.RETURN):
        raise BusinessRuleViolation("The QA decision must be 'pass' or 'return'.", field="decision")
    with transaction.atomic():
        deliverable = _locked(deliverable)
        policy.require(actor, "qa", deliverable)
        if deliverable.status != DeliverableStatus.IN_QA:
            raise InvalidTransition(
                f"Only a deliverable in QA can be checked; this one is "
                f"{deliverable.get_status_display().lower()}."
            )
        submission = _latest_submission(deliverable)
        if submission.submitted_by_id == actor.pk:
            raise ActionNotAllowed("You cannot QA your own submission.")
        review = Review.objects.create(
            deliverable=deliverable,
            submission=submission,
            kind=ReviewKind.QA,
            decision=decision,
            comment=comment,
            reviewer=actor,
        )
        if decision == ReviewDecision.PASS:
            _reach_client(deliverable, actor=actor, now=timezone.now())
            _move(
                deliverable,
                DeliverableStatus.IN_REVIEW,
                actor=actor,
                action="qa_pass",
                extra={"version": submission.version},
            )
        else:
            notify(
                kind=NotificationKind.QA_RETURNED,
                deliverable=deliverable,
                exclude=actor,
                recipients=[submission.submitted_by, deliverable.assignee],
                title=f"Returned by QA: {deliverable.title} v{submission.version}",
                body=comment[:500],
            )
            _move(
                deliverable,
                DeliverableStatus.CHANGES_REQUESTED,
                actor=actor,
                action="qa_return",
                extra={"version": submission.version},
            )
    return review


_CLIENT_OUTCOMES = {
    ReviewDecision.ACCEPT: (
        DeliverableStatus.ACCEPTED,
        NotificationKind.DELIVERABLE_ACCEPTED,
        "Accepted",
    ),
    ReviewDecision.REQUEST_CHANGES: (
        DeliverableStatus.CHANGES_REQUESTED,
        NotificationKind.CHANGES_REQUESTED,
        "Changes requested",
    ),
    ReviewDecision.REJECT: (
        DeliverableStatus.REJECTED,
        NotificationKind.DELIVERABLE_REJECTED,
        "Rejected",
    ),
}


def deliverable_review(*, actor, deliverable, decision, scores=None, comment=""):
    """The client accepts, sends back or rejects the current version. Accepting needs all
    five rubric scores, and their mean must reach the engagement's quality threshold."""
    policy.require(actor, "review", deliverable)
    if decision not in _CLIENT_OUTCOMES:
        raise BusinessRuleViolation(
            "The decision must be 'accept', 'request_changes' or 'reject'.", field="decision"
        )
    with transaction.atomic():
        deliverable = _locked(deliverable)
        policy.require(actor, "review", deliverable)
        if deliverable.status != DeliverableStatus.IN_REVIEW:
            raise InvalidTransition(
                f"Only a deliverable in client review can be reviewed; this one is "
                f"{deliverable.get_status_display().lower()}."
            )
        rubric = _scores(scores, required=decision == ReviewDecision.ACCEPT)
        overall = _overall(rubric)
        threshold = deliverable.engagement.quality_threshold
        if decision == ReviewDecision.ACCEPT and overall < threshold:
            raise BusinessRuleViolation(
                f"The overall score {overall} is below this engagement's quality threshold of "
                f"{threshold}; request changes or reject instead.",
                field="scores",
            )
        submission = _latest_submission(deliverable)
        review = Review.objects.create(
            deliverable=deliverable,
            submission=submission,
            kind=ReviewKind.CLIENT,
            decision=decision,
            comment=comment,
            reviewer=actor,
            overall=overall,
            turnaround=(timezone.now() - deliverable.review_started_at)
            if deliverable.review_started_at
            else None,
            **{f"score_{name}": value for name, value in (rubric or {}).items()},
        )
        target, kind, verb = _CLIENT_OUTCOMES[decision]
        if decision == ReviewDecision.ACCEPT:
            deliverable.accepted_at = timezone.now()
            deliverable.overall_score = overall
        engagement = deliverable.engagement
        notify(
            kind=kind,
            deliverable=deliverable,
            exclude=actor,
            recipients=[submission.submitted_by, deliverable.assignee, engagement.provider_lead],
            title=f"{verb}: {deliverable.title} v{submission.version}",
            body=comment[:500],
        )
        _move(
            deliverable,
            target,
            actor=actor,
            action=decision,
            extra={
                "version": submission.version,
                "scores": rubric,
                "overall": overall,
            },
        )
    return review


def deliverable_cancel(*, actor, deliverable, reason=""):
    """Stop an open deliverable; nothing more is expected of it."""
    with transaction.atomic():
        deliverable = _locked(deliverable)
        policy.require(actor, "plan", deliverable)
        _move(
            deliverable,
            DeliverableStatus.CANCELLED,
            actor=actor,
            action="cancel",
            extra={"reason": reason} if reason else None,
        )
    return deliverable


def comment_add(*, actor, deliverable, body):
    """Post to a deliverable's discussion; everyone else on it is told."""
    body = (body or "").strip()
    if not body:
        raise BusinessRuleViolation("A comment cannot be empty.", field="body")
    if len(body) > MAX_COMMENT_LENGTH:
        raise BusinessRuleViolation(
            f"A comment can be at most {MAX_COMMENT_LENGTH} characters.", field="body"
        )
    with transaction.atomic():
        deliverable = _locked(deliverable)
        policy.require(actor, "comment", deliverable)
        comment = Comment.objects.create(deliverable=deliverable, author=actor, body=body)
        engagement = deliverable.engagement
        notify(
            kind=NotificationKind.COMMENT_ADDED,
            deliverable=deliverable,
            exclude=actor,
            recipients=[engagement.client_manager, engagement.provider_lead, deliverable.assignee],
            title=f"{actor} commented on {deliverable.title}",
            body=body[:500],
        )
        audit_record(
            actor=actor,
            action="comment.add",
            target=comment,
            engagement=engagement,
            changes={"deliverable": deliverable.pk},
        )
    return comment


def submission_download(*, actor, submission):
    """Open a submitted file for the actor, recording the download."""
    policy.require(actor, "view", submission)
    audit_record(
        actor=actor,
        action="submission.download",
        target=submission,
        engagement=submission.deliverable.engagement,
        changes={"version": submission.version, "sha256": submission.sha256},
    )
    return submission.file.open("rb")


# Engagement-wide effects, called by engagement services inside their transaction.


def shift_open_deadlines(engagement, *, held_since, now) -> int:
    """SLA clocks do not run during a hold. On resume, every open due time moves by the hold's
    length; a review clock that was running moves too, and one that started during the hold
    starts now. SLA states are then recomputed for the moved due times."""
    by = now - held_since
    # Work already delivered once (now back for changes) keeps its due time and its final
    # `met` / `missed` state.
    undelivered = Deliverable.objects.filter(
        engagement=engagement, status__in=UNDELIVERED_STATUSES, delivered_at__isnull=True
    )
    moved = undelivered.update(due_at=F("due_at") + by)
    in_review = Deliverable.objects.filter(
        engagement=engagement, status=DeliverableStatus.IN_REVIEW, review_started_at__isnull=False
    )
    # Reviews that began during the hold start now; only then move the older ones, which
    # would otherwise land inside the hold window and be caught by the first update.
    in_review.filter(review_started_at__gte=held_since).update(review_started_at=now)
    in_review.filter(review_started_at__lt=held_since).update(
        review_started_at=F("review_started_at") + by
    )
    lead = timedelta(hours=engagement.reminder_lead_hours)
    undelivered.filter(due_at__lt=now).update(sla_state=SlaState.BREACHED)
    undelivered.filter(due_at__gte=now, due_at__lte=now + lead).update(sla_state=SlaState.AT_RISK)
    undelivered.filter(due_at__gt=now + lead).update(sla_state=SlaState.ON_TRACK)
    sla.shift_pending_reminders(engagement, by, kinds=DELIVERY_REMINDERS)
    for deliverable in in_review.select_related("engagement"):
        sla.schedule_review_reminders(deliverable)
    return moved


def cancel_open_deliverables(engagement, *, actor) -> int:
    """Cancel everything still open in a terminated engagement, with one audit event each."""
    cancelled = list(
        Deliverable.objects.select_for_update()
        .filter(engagement=engagement, status__in=OPEN_STATUSES)
        .select_related("engagement__client", "engagement__provider")
    )
    for deliverable in cancelled:
        _move(
            deliverable,
            DeliverableStatus.CANCELLED,
            actor=actor,
            action="cancel",
            extra={"reason": "engagement terminated"},
        )
    return len(cancelled)
