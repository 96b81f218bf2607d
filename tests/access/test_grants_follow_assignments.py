"""Access follows who is on the work: the services that change a team, a lead, a manager or
a share change who sees the engagement at once."""

import contextlib

import pytest
from django.contrib.auth import get_user_model

from deliverables import services as deliverable_services
from deliverables.models import Comment, Deliverable
from engagements import services as engagement_services
from engagements.models import Document, Engagement
from kpo.accounts.choices import Role
from kpo.domain import BusinessRuleViolation, NotVisible
from vendors import services as vendor_services

from .support import ids, pdf


def sees(user, engagement):
    return Engagement.objects.restrict(user).filter(pk=engagement.pk).exists()


def sees_deliverables_of(user, engagement):
    return Deliverable.objects.restrict(user).filter(engagement=engagement).exists()


def test_removing_an_analyst_from_the_team_removes_their_access_at_once(demo):
    analyst, phase_two = demo.user("bio.analyst"), demo.phase_two
    assert sees(analyst, phase_two)
    assert sees_deliverables_of(analyst, phase_two)

    vendor_services.team_remove_member(
        actor=demo.provider_admin, team=demo.team("Biostatistics"), user=analyst
    )

    assert not sees(analyst, phase_two)
    assert not sees_deliverables_of(analyst, phase_two)
    with pytest.raises(NotVisible):
        deliverable_services.deliverable_submit(
            actor=analyst, deliverable=demo.deliverable("Safety signal memo"), file=pdf()
        )
    assert sees(demo.user("bio.qa"), phase_two), "the rest of the team keeps its access"


def test_adding_the_analyst_back_restores_their_access(demo):
    analyst, team = demo.user("bio.analyst"), demo.team("Biostatistics")
    vendor_services.team_remove_member(actor=demo.provider_admin, team=team, user=analyst)
    assert not sees(analyst, demo.phase_two)

    vendor_services.team_add_member(actor=demo.provider_admin, team=team, user=analyst)

    assert sees(analyst, demo.phase_two)
    assert ids(Deliverable.objects.restrict(analyst)) == ids(demo.phase_two.deliverables.all())


def test_removing_the_team_from_the_engagement_removes_every_members_access(demo):
    phase_two = demo.phase_two
    members = [demo.user("bio.analyst"), demo.user("bio.qa")]
    assert all(sees(member, phase_two) for member in members)

    engagement_services.engagement_remove_team(
        actor=demo.user("bio.lead"), engagement=phase_two, team=demo.team("Biostatistics")
    )

    for member in members:
        assert not sees(member, phase_two), member.username
        assert not sees_deliverables_of(member, phase_two), member.username
        assert not Comment.objects.restrict(member).exists(), member.username
    assert sees(demo.user("bio.lead"), phase_two), "the engagement's lead keeps access"


def test_assigning_a_team_gives_its_members_access_at_once(demo):
    writer = demo.user("bio.writer")
    assert not sees(writer, demo.phase_two)

    engagement_services.engagement_assign_team(
        actor=demo.user("bio.lead"), engagement=demo.phase_two, team=demo.team("Medical Writing")
    )

    assert sees(writer, demo.phase_two)
    assert sees_deliverables_of(writer, demo.phase_two)


def test_changing_the_lead_moves_the_leads_access(demo):
    # On the RWE proposal no team of bio.lead's is assigned, so only the lead role gives access.
    lead, rwe = demo.user("bio.lead"), demo.rwe
    assert not sees(lead, rwe)

    engagement_services.engagement_assign_lead(actor=demo.provider_admin, engagement=rwe, lead=lead)
    assert sees(lead, rwe)

    engagement_services.engagement_assign_lead(
        actor=demo.provider_admin, engagement=rwe, lead=demo.provider_admin
    )
    assert not sees(lead, rwe)
    with pytest.raises(NotVisible):
        engagement_services.engagement_assign_team(
            actor=lead, engagement=rwe, team=demo.team("Biostatistics")
        )


def test_revoking_a_viewer_removes_their_access(demo):
    viewer, phase_two = demo.user("alpha.viewer"), demo.phase_two
    assert sees(viewer, phase_two)

    engagement_services.engagement_revoke_access(
        actor=demo.manager, engagement=phase_two, user=viewer
    )

    assert not Engagement.objects.restrict(viewer).exists()
    assert not Deliverable.objects.restrict(viewer).exists()
    assert not Document.objects.restrict(viewer).exists()
    with pytest.raises(NotVisible):
        engagement_services.document_download(
            actor=viewer, document=Document.objects.get(engagement=phase_two)
        )


def test_granting_a_viewer_access_lets_them_see_it(demo):
    viewer, rwe = demo.user("alpha.viewer"), demo.rwe
    assert not sees(viewer, rwe)

    engagement_services.engagement_grant_access(actor=demo.manager, engagement=rwe, user=viewer)

    assert sees(viewer, rwe)


def test_the_engagements_own_manager_cannot_be_revoked(demo):
    with pytest.raises(BusinessRuleViolation):
        engagement_services.engagement_revoke_access(
            actor=demo.user("alpha.admin"), engagement=demo.phase_two, user=demo.manager
        )
    assert sees(demo.manager, demo.phase_two)


def test_changing_the_client_manager_moves_the_grant(demo):
    old = demo.manager
    new = get_user_model().objects.create_user(
        "alpha.manager2",
        "alpha.manager2@alpha-pharma.example",
        "demo-password",
        role=Role.CLIENT_MANAGER,
        client=old.client,
    )
    phase_two = demo.phase_two
    assert not sees(new, phase_two)

    engagement_services.engagement_update(
        actor=demo.user("alpha.admin"), engagement=phase_two, client_manager=new
    )

    assert sees(new, phase_two)
    assert sees_deliverables_of(new, phase_two)
    assert not sees(old, phase_two)
    assert not sees_deliverables_of(old, phase_two)
    with pytest.raises(NotVisible):
        engagement_services.engagement_hold(actor=old, engagement=phase_two)
    engagement_services.engagement_hold(actor=new, engagement=phase_two)


def test_a_client_cannot_cut_the_provider_lead_off_their_engagement(demo):
    """Revoking is for the client's own colleagues: the provider's lead keeps access for as
    long as they lead the engagement, like the client manager does."""
    lead, rwe = demo.user("bio.lead"), demo.rwe
    engagement_services.engagement_assign_lead(actor=demo.provider_admin, engagement=rwe, lead=lead)

    with contextlib.suppress(BusinessRuleViolation):
        engagement_services.engagement_revoke_access(actor=demo.manager, engagement=rwe, user=lead)

    assert demo.rwe.provider_lead_id == lead.pk
    assert sees(lead, rwe)


def test_a_deactivated_analyst_sees_nothing(demo):
    analyst = demo.user("bio.analyst")
    analyst.is_active = False
    analyst.save(update_fields=["is_active"])

    assert not Engagement.objects.restrict(analyst).exists()
    assert not Deliverable.objects.restrict(analyst).exists()
    with pytest.raises(NotVisible):
        deliverable_services.deliverable_submit(
            actor=analyst, deliverable=demo.deliverable("Safety signal memo"), file=pdf()
        )
