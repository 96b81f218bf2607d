"""Every state change a service makes leaves an audit event: who, what, on which object, in
which engagement (or organisation), with what change, and from where."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from deliverables import services as deliverable_services
from deliverables.models import Deliverable
from engagements import services as engagement_services
from engagements.models import Engagement
from kpo.audit.context import RequestOrigin, reset_origin, set_origin
from kpo.audit.models import AuditEvent
from kpo.domain import InvalidTransition
from vendors import services as vendor_services
from vendors.models import AnalystTeam, Provider, ServiceLine, VendorApproval

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
GOOD = {"accuracy": 5, "completeness": 4, "insight": 4, "relevance": 5, "presentation": 4}


def pdf(name="file.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


class Demo:
    """Short names for the demo objects a scenario acts on."""

    def __init__(self, users, engagements, deliverable):
        self.users, self.engagements, self.deliverable = users, engagements, deliverable

    def draft(self):
        return engagement_services.engagement_create(
            actor=self.users.alpha_manager,
            provider=Provider.objects.get(slug="bio-analytics"),
            service_line=ServiceLine.objects.get(slug="data_analytics"),
            title="Adherence dashboard",
        )

    def proposed(self):
        return engagement_services.engagement_propose(
            actor=self.users.alpha_manager, engagement=self.draft()
        )

    def held(self):
        return engagement_services.engagement_hold(
            actor=self.users.alpha_manager, engagement=self.engagements.phase_two
        )

    def in_qa(self):
        memo = self.deliverable("Safety signal memo")
        deliverable_services.deliverable_submit(
            actor=self.users.bio_analyst, deliverable=memo, file=pdf()
        )
        return memo

    def team(self, name):
        return AnalystTeam.objects.get(name=name)


# (action, actor, what to call). Each call returns the object the event is about; the
# engagement scope is taken from that object.
E = engagement_services
D = deliverable_services
SCENARIOS = {
    "engagement.create": ("alpha.manager", lambda d: d.draft()),
    "engagement.update": (
        "alpha.manager",
        lambda d: E.engagement_update(
            actor=d.users.alpha_manager,
            engagement=d.engagements.phase_two,
            budget=Decimal("1.00"),
        ),
    ),
    "engagement.propose": ("alpha.manager", lambda d: d.proposed()),
    "engagement.accept": (
        "bio.admin",
        lambda d: E.engagement_accept(actor=d.users.bio_admin, engagement=d.engagements.rwe),
    ),
    "engagement.decline": (
        "bio.admin",
        lambda d: E.engagement_decline(actor=d.users.bio_admin, engagement=d.engagements.rwe),
    ),
    "engagement.hold": ("alpha.manager", lambda d: d.held()),
    "engagement.resume": (
        "alpha.manager",
        lambda d: E.engagement_resume(actor=d.users.alpha_manager, engagement=d.held()),
    ),
    "engagement.complete": (
        "alpha.manager",
        lambda d: E.engagement_complete(
            actor=d.users.alpha_manager,
            engagement=E.engagement_accept(actor=d.users.bio_admin, engagement=d.proposed()),
        ),
    ),
    "engagement.terminate": (
        "alpha.manager",
        lambda d: E.engagement_terminate(
            actor=d.users.alpha_manager, engagement=d.engagements.phase_two
        ),
    ),
    "engagement.assign_lead": (
        "bio.admin",
        lambda d: E.engagement_assign_lead(
            actor=d.users.bio_admin, engagement=d.engagements.rwe, lead=d.users.bio_lead
        ),
    ),
    "engagement.assign_team": (
        "bio.lead",
        lambda d: E.engagement_assign_team(
            actor=d.users.bio_lead,
            engagement=d.engagements.phase_two,
            team=d.team("Medical Writing"),
        ),
    ),
    "engagement.remove_team": (
        "bio.admin",
        lambda d: E.engagement_remove_team(
            actor=d.users.bio_admin,
            engagement=d.engagements.phase_two,
            team=d.team("Biostatistics"),
        ),
    ),
    "engagement.grant_access": (
        "alpha.manager",
        lambda d: E.engagement_grant_access(
            actor=d.users.alpha_manager, engagement=d.draft(), user=d.users.alpha_viewer
        ),
    ),
    "engagement.revoke_access": (
        "alpha.manager",
        lambda d: E.engagement_revoke_access(
            actor=d.users.alpha_manager,
            engagement=d.engagements.phase_two,
            user=d.users.alpha_viewer,
        ),
    ),
    "document.upload": (
        "alpha.manager",
        lambda d: E.document_upload(
            actor=d.users.alpha_manager,
            engagement=d.engagements.phase_two,
            file=pdf("Lab ranges.pdf"),
        ),
    ),
    "deliverable.plan": (
        "alpha.manager",
        lambda d: D.deliverable_plan(
            actor=d.users.alpha_manager,
            engagement=d.engagements.phase_two,
            title="PK/PD summary",
            due_at=timezone.now() + timedelta(days=9),
        ),
    ),
    "deliverable.update": (
        "bio.lead",
        lambda d: D.deliverable_update(
            actor=d.users.bio_lead,
            deliverable=d.deliverable("Subgroup response analysis"),
            title="Subgroup response analysis (ECOG)",
        ),
    ),
    "deliverable.start": (
        "bio.analyst",
        lambda d: D.deliverable_start(
            actor=d.users.bio_analyst, deliverable=d.deliverable("Subgroup response analysis")
        ),
    ),
    "deliverable.submit": ("bio.analyst", lambda d: d.in_qa()),
    "deliverable.qa_pass": (
        "bio.qa",
        lambda d: D.deliverable_qa(actor=d.users.bio_qa, deliverable=d.in_qa(), decision="pass"),
    ),
    "deliverable.qa_return": (
        "bio.qa",
        lambda d: D.deliverable_qa(actor=d.users.bio_qa, deliverable=d.in_qa(), decision="return"),
    ),
    "deliverable.accept": (
        "alpha.manager",
        lambda d: D.deliverable_review(
            actor=d.users.alpha_manager,
            deliverable=d.deliverable("Interim efficacy report"),
            decision="accept",
            scores=GOOD,
        ),
    ),
    "deliverable.request_changes": (
        "alpha.manager",
        lambda d: D.deliverable_review(
            actor=d.users.alpha_manager,
            deliverable=d.deliverable("Interim efficacy report"),
            decision="request_changes",
        ),
    ),
    "deliverable.reject": (
        "alpha.manager",
        lambda d: D.deliverable_review(
            actor=d.users.alpha_manager,
            deliverable=d.deliverable("Interim efficacy report"),
            decision="reject",
        ),
    ),
    "deliverable.cancel": (
        "alpha.manager",
        lambda d: D.deliverable_cancel(
            actor=d.users.alpha_manager, deliverable=d.deliverable("Subgroup response analysis")
        ),
    ),
    "comment.add": (
        "bio.analyst",
        lambda d: D.comment_add(
            actor=d.users.bio_analyst,
            deliverable=d.deliverable("Interim efficacy report"),
            body="Tables updated.",
        ),
    ),
}


def scope_of(obj):
    """The engagement an object belongs to (the review and submission services return
    objects inside a deliverable)."""
    if isinstance(obj, Engagement):
        return obj
    if isinstance(obj, Deliverable):
        return obj.engagement
    if hasattr(obj, "deliverable"):
        return obj.deliverable.engagement
    return obj.engagement


@pytest.mark.parametrize("action", SCENARIOS)
def test_each_engagement_service_writes_its_audit_event(users, engagements, deliverable, action):
    username, call = SCENARIOS[action]
    last = AuditEvent.objects.values_list("id", flat=True).first() or 0

    result = call(Demo(users, engagements, deliverable))

    engagement = scope_of(result)
    event = AuditEvent.objects.filter(id__gt=last, action=action).latest("id")
    assert event.actor == users[username]
    assert event.actor_repr == username
    assert event.engagement == engagement
    assert event.client_id == engagement.client_id
    assert event.provider_id == engagement.provider_id
    assert event.changes
    assert event.target_id
    assert event.target_repr
    assert event.created_at is not None


def test_a_state_change_records_the_old_and_new_status(users, deliverable):
    last = AuditEvent.objects.values_list("id", flat=True).first()
    memo = deliverable("Safety signal memo")

    deliverable_services.deliverable_submit(
        actor=users.bio_analyst, deliverable=memo, file=pdf("memo v1.pdf")
    )

    event = AuditEvent.objects.get(id__gt=last, action="deliverable.submit")
    assert event.target_type == ContentType.objects.get_for_model(Deliverable)
    assert event.target_id == str(memo.pk)
    assert event.changes["status"] == ["in_progress", "in_qa"]
    assert event.changes["version"] == 1
    assert event.changes["filename"] == "memo v1.pdf"
    assert len(event.changes["sha256"]) == 64


def test_a_client_review_records_the_scores_and_overall(users, deliverable):
    interim = deliverable("Interim efficacy report")

    deliverable_services.deliverable_review(
        actor=users.alpha_manager, deliverable=interim, decision="accept", scores=GOOD
    )

    event = AuditEvent.objects.filter(action="deliverable.accept").latest("id")
    assert event.changes["scores"] == GOOD
    assert event.changes["overall"] == "4.40"
    assert event.changes["version"] == 2


def test_an_engagement_update_records_each_changed_field_before_and_after(users, engagements):
    engagement = engagements.phase_two

    engagement_services.engagement_update(
        actor=users.alpha_manager,
        engagement=engagement,
        reminder_lead_hours=48,
        title=engagement.title,
    )

    event = AuditEvent.objects.filter(action="engagement.update").latest("id")
    assert event.changes == {"reminder_lead_hours": [24, 48]}


def test_the_event_records_where_the_request_came_from(users, engagements):
    token = set_origin(RequestOrigin(ip="203.0.113.7", user_agent="Integration/2.1"))
    try:
        engagement_services.engagement_hold(
            actor=users.alpha_manager, engagement=engagements.phase_two
        )
    finally:
        reset_origin(token)

    event = AuditEvent.objects.filter(action="engagement.hold").latest("id")
    assert event.ip == "203.0.113.7"
    assert event.user_agent == "Integration/2.1"


def test_a_refused_change_writes_no_event(users, engagements):
    count = AuditEvent.objects.count()

    with pytest.raises(InvalidTransition):
        engagement_services.engagement_complete(
            actor=users.alpha_manager, engagement=engagements.phase_two
        )

    assert AuditEvent.objects.count() == count


VENDOR_SCENARIOS = {
    "vendor_approval.create": (
        "alpha.admin",
        "client",
        lambda u: vendor_services.vendor_approval_create(
            actor=u.alpha_admin,
            provider=Provider.objects.get(slug="lexpoint"),
            status="pending",
            risk_tier="high",
        ),
    ),
    "vendor_approval.update": (
        "alpha.admin",
        "client",
        lambda u: vendor_services.vendor_approval_update(
            actor=u.alpha_admin,
            approval=VendorApproval.objects.get(
                client__slug="alpha-pharma", provider__slug="ledger-research"
            ),
            status="rejected",
        ),
    ),
    "certification.add": (
        "bio.admin",
        "provider",
        lambda u: vendor_services.certification_add(
            actor=u.bio_admin,
            provider=u.bio_admin.provider,
            kind="gdpr",
            issued_on=timezone.localdate(),
            expires_on=timezone.localdate() + timedelta(days=365),
        ),
    ),
    "team.create": (
        "bio.admin",
        "provider",
        lambda u: vendor_services.team_create(actor=u.bio_admin, name="Epidemiology"),
    ),
    "team.rename": (
        "bio.admin",
        "provider",
        lambda u: vendor_services.team_rename(
            actor=u.bio_admin, team=AnalystTeam.objects.get(name="Medical Writing"), name="CSR"
        ),
    ),
    "team.set_lead": (
        "bio.admin",
        "provider",
        lambda u: vendor_services.team_set_lead(
            actor=u.bio_admin,
            team=AnalystTeam.objects.get(name="Medical Writing"),
            lead=u.bio_lead,
        ),
    ),
    "team.add_member": (
        "bio.admin",
        "provider",
        lambda u: vendor_services.team_add_member(
            actor=u.bio_admin,
            team=AnalystTeam.objects.get(name="Medical Writing"),
            user=u.bio_analyst,
        ),
    ),
    "team.remove_member": (
        "bio.admin",
        "provider",
        lambda u: vendor_services.team_remove_member(
            actor=u.bio_admin,
            team=AnalystTeam.objects.get(name="Biostatistics"),
            user=u.bio_qa,
        ),
    ),
}


@pytest.mark.parametrize("action", VENDOR_SCENARIOS)
def test_each_vendor_service_writes_an_event_scoped_to_the_organisation(users, action):
    username, side, call = VENDOR_SCENARIOS[action]
    actor = users[username]

    result = call(users)

    event = AuditEvent.objects.filter(action=action).latest("id")
    assert event.actor == actor
    assert event.engagement is None
    assert event.target_id == str(result.pk)
    assert event.changes
    if side == "client":
        assert event.client_id == actor.client_id
        assert event.provider_id == result.provider_id
    else:
        assert event.provider_id == actor.provider_id
