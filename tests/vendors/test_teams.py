"""Analyst teams: their membership is what gives analysts sight of engagements."""

import pytest

from engagements import services as engagement_services
from kpo.access import policy
from kpo.audit.models import AuditEvent
from kpo.domain import ActionNotAllowed, BusinessRuleViolation, NotVisible
from vendors import services
from vendors.models import AnalystTeam


def members(team):
    return sorted(team.members.values_list("username", flat=True))


def group_members(team):
    return sorted(team.group.user_set.values_list("username", flat=True))


def test_a_provider_admin_creates_a_team_with_a_lead_and_members(users):
    team = services.team_create(
        actor=users.bio_admin,
        name="  Pharmacovigilance  ",
        lead=users.bio_lead,
        members=[users.bio_writer, users.bio_qa],
    )

    team.refresh_from_db()
    assert team.name == "Pharmacovigilance"
    assert team.provider == users.bio_admin.provider
    assert team.lead == users.bio_lead
    assert members(team) == ["bio.qa", "bio.writer"]
    assert group_members(team) == ["bio.lead", "bio.qa", "bio.writer"]


@pytest.mark.parametrize("name", ["Biostatistics", "biostatistics", " BIOSTATISTICS "])
def test_a_second_team_with_the_same_name_is_refused(users, name):
    count = AnalystTeam.objects.count()

    with pytest.raises(BusinessRuleViolation):
        services.team_create(actor=users.bio_admin, name=name)

    assert AnalystTeam.objects.count() == count


def test_another_provider_may_use_the_same_team_name(users):
    team = services.team_create(actor=users.ledger_admin, name="Biostatistics")

    assert team.provider.slug == "ledger-research"


def test_a_team_needs_a_name(users):
    with pytest.raises(BusinessRuleViolation):
        services.team_create(actor=users.bio_admin, name="   ")


@pytest.mark.parametrize("username", ["bio.lead", "bio.analyst", "alpha.admin"])
def test_only_provider_admins_manage_teams(users, username):
    count = AnalystTeam.objects.count()

    with pytest.raises(ActionNotAllowed):
        services.team_create(actor=users[username], name="Shadow team")

    assert AnalystTeam.objects.count() == count


def test_renaming_a_team(users, team):
    renamed = services.team_rename(
        actor=users.bio_admin, team=team("Medical Writing"), name="Regulatory Writing"
    )

    renamed.refresh_from_db()
    assert renamed.name == "Regulatory Writing"


def test_renaming_onto_another_teams_name_is_refused(users, team):
    writing = team("Medical Writing")

    with pytest.raises(BusinessRuleViolation):
        services.team_rename(actor=users.bio_admin, team=writing, name="BIOSTATISTICS")

    writing.refresh_from_db()
    assert writing.name == "Medical Writing"


def test_a_renamed_teams_old_name_can_be_used_for_a_new_team(users, team):
    services.team_rename(
        actor=users.bio_admin, team=team("Medical Writing"), name="Regulatory Writing"
    )

    created = services.team_create(actor=users.bio_admin, name="Medical Writing")

    assert created.name == "Medical Writing"
    assert created.group != team("Regulatory Writing").group


def test_another_providers_admin_cannot_touch_a_team(users, team):
    with pytest.raises(NotVisible):
        services.team_rename(actor=users.ledger_admin, team=team("Biostatistics"), name="Ours")


def test_setting_the_lead_gives_them_the_teams_engagements(users, team, engagements):
    writing = team("Medical Writing")
    engagement_services.engagement_assign_team(
        actor=users.bio_admin, engagement=engagements.rwe, team=writing
    )
    assert not policy.can_see(users.bio_lead, engagements.rwe)

    services.team_set_lead(actor=users.bio_admin, team=writing, lead=users.bio_lead)

    writing.refresh_from_db()
    assert writing.lead == users.bio_lead
    assert "bio.lead" in group_members(writing)
    assert policy.can_see(users.bio_lead, engagements.rwe)


@pytest.mark.parametrize("username", ["bio.analyst", "bio.qa", "bio.admin", "ledger.analyst"])
def test_the_lead_must_be_an_engagement_lead_of_the_provider(users, team, username):
    writing = team("Medical Writing")

    with pytest.raises(BusinessRuleViolation):
        services.team_set_lead(actor=users.bio_admin, team=writing, lead=users[username])

    writing.refresh_from_db()
    assert writing.lead is None


def test_replacing_the_lead_takes_the_old_lead_out_of_the_group(users, team):
    biostatistics = team("Biostatistics")

    services.team_set_lead(actor=users.bio_admin, team=biostatistics, lead=None)

    biostatistics.refresh_from_db()
    assert biostatistics.lead is None
    assert "bio.lead" not in group_members(biostatistics)


def test_adding_a_member_gives_them_the_teams_engagements_at_once(users, team, engagements):
    assert not policy.can_see(users.bio_writer, engagements.phase_two)

    services.team_add_member(
        actor=users.bio_admin, team=team("Biostatistics"), user=users.bio_writer
    )

    assert "bio.writer" in members(team("Biostatistics"))
    assert policy.can_see(users.bio_writer, engagements.phase_two)


def test_removing_a_member_takes_the_teams_engagements_away_at_once(users, team, engagements):
    assert policy.can_see(users.bio_analyst, engagements.phase_two)

    services.team_remove_member(
        actor=users.bio_admin, team=team("Biostatistics"), user=users.bio_analyst
    )

    assert "bio.analyst" not in members(team("Biostatistics"))
    assert not policy.can_see(users.bio_analyst, engagements.phase_two)


@pytest.mark.parametrize("username", ["bio.admin", "alpha.manager", "alpha.viewer"])
def test_a_user_without_a_team_role_cannot_be_a_member(users, team, username):
    biostatistics = team("Biostatistics")
    before = members(biostatistics)

    with pytest.raises(BusinessRuleViolation):
        services.team_add_member(actor=users.bio_admin, team=biostatistics, user=users[username])

    assert members(biostatistics) == before


def test_another_providers_analyst_cannot_be_a_member(users, team, engagements):
    biostatistics = team("Biostatistics")
    before = members(biostatistics)

    with pytest.raises(BusinessRuleViolation):
        services.team_add_member(
            actor=users.bio_admin, team=biostatistics, user=users.ledger_analyst
        )

    assert members(biostatistics) == before
    assert not policy.can_see(users.ledger_analyst, engagements.phase_two)


def test_adding_someone_already_in_the_team_changes_nothing(users, team):
    count = AuditEvent.objects.count()

    services.team_add_member(actor=users.bio_admin, team=team("Biostatistics"), user=users.bio_qa)

    assert members(team("Biostatistics")) == ["bio.analyst", "bio.qa"]
    assert AuditEvent.objects.count() == count


def test_setting_the_members_adds_and_removes_as_needed(users, team):
    services.team_set_members(
        actor=users.bio_admin, team=team("Biostatistics"), members=[users.bio_qa, users.bio_writer]
    )

    biostatistics = team("Biostatistics")
    assert members(biostatistics) == ["bio.qa", "bio.writer"]
    assert group_members(biostatistics) == ["bio.lead", "bio.qa", "bio.writer"]
