"""Nobody sees another client's or another provider's work, and nobody learns that it exists:
every service answers `NotVisible` (404), never `ActionNotAllowed` (403)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from deliverables import services as deliverable_services
from deliverables.models import Comment, Deliverable, Review, Submission
from engagements import services as engagement_services
from engagements.models import Document, Engagement
from kpo.domain import NotVisible
from vendors import services as vendor_services

from .support import OUTSIDERS, ROLES, ids, pdf

ENGAGEMENT_SCOPED = {
    Engagement: "client__slug",
    Deliverable: "engagement__client__slug",
    Submission: "deliverable__engagement__client__slug",
    Review: "deliverable__engagement__client__slug",
    Document: "engagement__client__slug",
    Comment: "deliverable__engagement__client__slug",
}


def _of_client(model, slug):
    return model.objects.filter(**{ENGAGEMENT_SCOPED[model]: slug})


def _interim_v2():
    return Submission.objects.get(deliverable__title="Interim efficacy report", version=2)


# Every service that takes one of Alpha's engagements or something inside it, called on
# Phase II (or on the RWE proposal where only a proposal will do).
SERVICE_CALLS = {
    "edit the terms": lambda d, u: engagement_services.engagement_update(
        actor=u, engagement=d.phase_two, title="Renamed"
    ),
    "propose": lambda d, u: engagement_services.engagement_propose(actor=u, engagement=d.phase_two),
    "accept the proposal": lambda d, u: engagement_services.engagement_accept(
        actor=u, engagement=d.rwe
    ),
    "decline the proposal": lambda d, u: engagement_services.engagement_decline(
        actor=u, engagement=d.rwe
    ),
    "hold": lambda d, u: engagement_services.engagement_hold(actor=u, engagement=d.phase_two),
    "resume": lambda d, u: engagement_services.engagement_resume(actor=u, engagement=d.phase_two),
    "complete": lambda d, u: engagement_services.engagement_complete(
        actor=u, engagement=d.phase_two
    ),
    "terminate": lambda d, u: engagement_services.engagement_terminate(
        actor=u, engagement=d.phase_two
    ),
    "assign the lead": lambda d, u: engagement_services.engagement_assign_lead(
        actor=u, engagement=d.phase_two, lead=d.user("bio.admin")
    ),
    "assign a team": lambda d, u: engagement_services.engagement_assign_team(
        actor=u, engagement=d.phase_two, team=d.team("Medical Writing")
    ),
    "remove a team": lambda d, u: engagement_services.engagement_remove_team(
        actor=u, engagement=d.phase_two, team=d.team("Biostatistics")
    ),
    "set the teams": lambda d, u: engagement_services.engagement_set_teams(
        actor=u, engagement=d.phase_two, teams=[]
    ),
    "grant access": lambda d, u: engagement_services.engagement_grant_access(
        actor=u, engagement=d.phase_two, user=d.user("alpha.viewer")
    ),
    "revoke access": lambda d, u: engagement_services.engagement_revoke_access(
        actor=u, engagement=d.phase_two, user=d.user("alpha.viewer")
    ),
    "upload a document": lambda d, u: engagement_services.document_upload(
        actor=u, engagement=d.phase_two, file=pdf()
    ),
    "download a document": lambda d, u: engagement_services.document_download(
        actor=u, document=Document.objects.get(engagement=d.phase_two)
    ),
    "plan a deliverable": lambda d, u: deliverable_services.deliverable_plan(
        actor=u, engagement=d.phase_two, title="Extra", due_at=timezone.now() + timedelta(days=9)
    ),
    "edit a deliverable": lambda d, u: deliverable_services.deliverable_update(
        actor=u, deliverable=d.deliverable("Subgroup response analysis"), title="Renamed"
    ),
    "start a deliverable": lambda d, u: deliverable_services.deliverable_start(
        actor=u, deliverable=d.deliverable("Subgroup response analysis")
    ),
    "submit a version": lambda d, u: deliverable_services.deliverable_submit(
        actor=u, deliverable=d.deliverable("Safety signal memo"), file=pdf()
    ),
    "qa a version": lambda d, u: deliverable_services.deliverable_qa(
        actor=u, deliverable=d.deliverable("Interim efficacy report"), decision="return"
    ),
    "review a version": lambda d, u: deliverable_services.deliverable_review(
        actor=u, deliverable=d.deliverable("Interim efficacy report"), decision="reject"
    ),
    "cancel a deliverable": lambda d, u: deliverable_services.deliverable_cancel(
        actor=u, deliverable=d.deliverable("Safety signal memo")
    ),
    "comment": lambda d, u: deliverable_services.comment_add(
        actor=u, deliverable=d.deliverable("Interim efficacy report"), body="Hello?"
    ),
    "download a submission": lambda d, u: deliverable_services.submission_download(
        actor=u, submission=_interim_v2()
    ),
}


@pytest.mark.parametrize("username", OUTSIDERS)
@pytest.mark.parametrize("model", ENGAGEMENT_SCOPED, ids=lambda m: m.__name__)
def test_outsiders_see_nothing_of_alphas_work_with_bio_analytics(username, model, users):
    assert _of_client(model, "alpha-pharma").exists()
    assert not _of_client(model, "alpha-pharma").restrict(users[username], "view").exists()


@pytest.mark.parametrize("username", OUTSIDERS)
@pytest.mark.parametrize("call", SERVICE_CALLS)
def test_every_service_answers_not_found_to_outsiders(username, call, demo):
    with pytest.raises(NotVisible):
        SERVICE_CALLS[call](demo, demo.user(username))


@pytest.mark.parametrize("username", ["northwind.manager", "ledger.analyst", "ledger.admin"])
def test_the_other_tenants_still_see_their_own_engagement(username, demo):
    user = demo.user(username)
    assert ids(Engagement.objects.restrict(user)) == {demo.eu_banks.pk}
    assert ids(Deliverable.objects.restrict(user)) == ids(demo.eu_banks.deliverables.all())


def test_an_analyst_whose_team_is_on_nothing_sees_nothing(demo):
    writer = demo.user("bio.writer")
    for model in ENGAGEMENT_SCOPED:
        assert not model.objects.restrict(writer).exists(), model.__name__


@pytest.mark.parametrize("role", ROLES)
def test_no_role_of_alpha_or_bio_analytics_sees_northwinds_engagement(role, demo):
    user, eu_banks = demo.user(role), demo.eu_banks
    # EU banks gets a data room and a discussion too, so that every model has rows to hide.
    engagement_services.document_upload(
        actor=demo.user("northwind.manager"), engagement=eu_banks, file=pdf("Bank list.pdf")
    )
    deliverable_services.comment_add(
        actor=demo.user("ledger.analyst"),
        deliverable=eu_banks.deliverables.get(title="Q4 earnings model"),
        body="Consensus numbers are in.",
    )
    for model in ENGAGEMENT_SCOPED:
        assert _of_client(model, "northwind").exists()
        assert not _of_client(model, "northwind").restrict(user).exists(), model.__name__
    with pytest.raises(NotVisible):
        engagement_services.engagement_hold(actor=user, engagement=eu_banks)
    with pytest.raises(NotVisible):
        deliverable_services.comment_add(
            actor=user, deliverable=eu_banks.deliverables.get(title="Q4 earnings model"), body="?"
        )


def test_a_provider_never_sees_a_clients_draft(demo):
    provider_admin = demo.user("bio.admin")
    draft = demo.draft()
    engagement_services.document_upload(actor=demo.manager, engagement=draft, file=pdf("Scope.pdf"))
    assert draft.pk in ids(Engagement.objects.restrict(demo.user("alpha.admin")))

    assert draft.pk not in ids(Engagement.objects.restrict(provider_admin))
    assert not Document.objects.restrict(provider_admin).filter(engagement=draft).exists()
    with pytest.raises(NotVisible):
        engagement_services.engagement_accept(actor=provider_admin, engagement=draft)

    engagement_services.engagement_propose(actor=demo.manager, engagement=draft)

    assert draft.pk in ids(Engagement.objects.restrict(provider_admin))
    assert Document.objects.restrict(provider_admin).filter(engagement=draft).exists()


def test_a_declined_proposal_goes_back_out_of_the_providers_sight(demo):
    provider_admin = demo.user("bio.admin")
    rwe = demo.rwe
    assert rwe.pk in ids(Engagement.objects.restrict(provider_admin))

    engagement_services.engagement_decline(actor=provider_admin, engagement=rwe)

    assert rwe.pk not in ids(Engagement.objects.restrict(provider_admin))
    with pytest.raises(NotVisible):
        engagement_services.engagement_accept(actor=provider_admin, engagement=rwe)


def test_a_viewer_sees_only_the_engagement_granted_to_them(demo):
    viewer = demo.user("alpha.viewer")
    assert ids(Engagement.objects.restrict(viewer)) == {demo.phase_two.pk}
    assert ids(Engagement.objects.restrict(demo.manager)) == {demo.phase_two.pk, demo.rwe.pk}
    with pytest.raises(NotVisible):
        engagement_services.engagement_update(actor=viewer, engagement=demo.rwe, title="Renamed")


def test_staff_see_every_engagement_of_every_tenant_including_drafts(demo):
    draft = demo.draft()
    staff = demo.user("staff")
    assert ids(Engagement.objects.restrict(staff)) == ids(Engagement.objects.all())
    assert draft.pk in ids(Engagement.objects.restrict(staff))
    for model in ENGAGEMENT_SCOPED:
        assert ids(model.objects.restrict(staff)) == ids(model.objects.all()), model.__name__


def test_staff_may_not_act_even_through_a_restricted_queryset(demo):
    staff = demo.user("staff")
    assert not Engagement.objects.restrict(staff, "manage").exists()
    assert not Deliverable.objects.restrict(staff, "review").exists()


def test_an_analysts_deliverable_list_is_one_query(demo, django_assert_num_queries):
    analyst = demo.user("bio.analyst")
    with django_assert_num_queries(1):
        deliverables = list(Deliverable.objects.restrict(analyst))
    assert {d.pk for d in deliverables} == ids(demo.phase_two.deliverables.all())


@pytest.mark.parametrize(
    "change",
    [
        lambda d, actor: vendor_services.team_rename(
            actor=actor, team=d.team("Biostatistics"), name="Stats"
        ),
        lambda d, actor: vendor_services.team_remove_member(
            actor=actor, team=d.team("Biostatistics"), user=d.user("bio.analyst")
        ),
        lambda d, actor: vendor_services.team_add_member(
            actor=actor, team=d.team("Biostatistics"), user=d.user("bio.writer")
        ),
        lambda d, actor: vendor_services.team_set_lead(
            actor=actor, team=d.team("Biostatistics"), lead=None
        ),
    ],
    ids=["rename", "remove a member", "add a member", "set the lead"],
)
def test_another_providers_admin_cannot_touch_bio_analytics_teams(change, demo):
    with pytest.raises(NotVisible):
        change(demo, demo.user("ledger.admin"))
    assert demo.user("bio.analyst").pk in ids(demo.team("Biostatistics").members.all())
