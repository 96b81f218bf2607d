"""The audit table cannot be changed or deleted: not in the database itself (a trigger refuses
UPDATE and DELETE to anything that speaks SQL), not by deleting what an event points at, not
through the administration site (even as a superuser), and not through the API.

The ORM's own refusals are in test_append_only.py."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import PROTECT, ProtectedError

from kpo.audit.denials import DENIED
from kpo.audit.models import AuditEvent

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only"
)


@pytest.fixture
def event(engagements):
    return AuditEvent.objects.filter(engagement=engagements.phase_two).earliest("id")


def row(event):
    return AuditEvent.objects.filter(pk=event.pk).values().get()


class Undo(Exception):
    """Raised to roll a savepoint back after a change that must be undone."""


# -- the database ------------------------------------------------------------------------------


@on_postgresql
def test_an_sql_update_of_an_event_is_refused_by_the_database(event):
    before = row(event)

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE audit_auditevent SET action = %s WHERE id = %s", ["rewritten", event.pk]
        )

    assert row(event) == before


@on_postgresql
def test_an_sql_delete_of_an_event_is_refused_by_the_database(event):
    count = AuditEvent.objects.count()

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])

    assert AuditEvent.objects.count() == count


@on_postgresql
def test_an_sql_delete_of_the_whole_table_is_refused_by_the_database(event):
    count = AuditEvent.objects.count()

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_auditevent")

    assert AuditEvent.objects.count() == count


@on_postgresql
def test_the_test_runner_can_still_empty_the_table_with_truncate(event):
    """Transactional tests are flushed with TRUNCATE; production withholds that privilege."""
    count = AuditEvent.objects.count()

    with pytest.raises(Undo), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditevent")
        assert AuditEvent.objects.count() == 0
        raise Undo

    assert AuditEvent.objects.count() == count


@on_postgresql
def test_new_events_are_still_inserted_through_sql(users):
    count = AuditEvent.objects.count()

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (created_at, actor_repr, action, target_id,"
            " target_repr, changes, user_agent) VALUES (now(), '', 'test.inserted', '', '',"
            " '{}', '')"
        )

    assert AuditEvent.objects.count() == count + 1


# -- what an event points at -------------------------------------------------------------------


def test_every_reference_from_an_event_protects_it():
    references = [field for field in AuditEvent._meta.get_fields() if field.many_to_one]
    assert {field.name for field in references} == {
        "actor",
        "target_type",
        "engagement",
        "client",
        "provider",
    }
    for field in references:
        assert field.remote_field.on_delete is PROTECT, field.name


def test_nothing_points_at_an_event_so_no_deletion_cascades_into_the_table():
    assert AuditEvent._meta.related_objects == ()


def test_deleting_a_user_with_events_is_refused_and_keeps_the_events(users):
    manager = users.alpha_manager
    theirs = AuditEvent.objects.filter(actor=manager).count()
    assert theirs > 0

    with pytest.raises(ProtectedError), transaction.atomic():
        manager.delete()

    assert AuditEvent.objects.filter(actor=manager).count() == theirs


def test_deleting_an_engagement_with_events_is_refused_and_keeps_the_events(engagements):
    phase_two = engagements.phase_two
    its = AuditEvent.objects.filter(engagement=phase_two).count()

    with pytest.raises(ProtectedError), transaction.atomic():
        phase_two.delete()

    assert AuditEvent.objects.filter(engagement=phase_two).count() == its


# -- the administration site ---------------------------------------------------------------


def admin_url(event, view):
    return f"/admin/audit/auditevent/{event.pk}/{view}/"


def test_a_superuser_may_read_the_trail_in_the_admin(browser, event):
    client = browser("staff")

    listing = client.get("/admin/audit/auditevent/")
    page = client.get(admin_url(event, "change"))

    assert listing.status_code == 200
    assert page.status_code == 200
    content = page.content.decode()
    assert event.action in content
    # Every field is shown read-only: no inputs for them, and no button to save or delete.
    assert 'name="action"' not in content
    assert 'name="changes"' not in content
    assert 'name="_save"' not in content
    assert "/delete/" not in content


def test_a_superuser_cannot_change_an_event_through_the_admin(browser, event):
    before = row(event)

    response = browser("staff").post(
        admin_url(event, "change"),
        {"action": "rewritten", "actor_repr": "nobody", "changes": "{}", "_save": "Save"},
    )

    assert response.status_code == 403
    assert row(event) == before


def test_a_superuser_cannot_delete_an_event_through_the_admin(browser, event):
    client = browser("staff")
    before = row(event)
    count = AuditEvent.objects.count()

    page = client.get(admin_url(event, "delete"))
    response = client.post(admin_url(event, "delete"), {"post": "yes"})
    bulk = client.post(
        "/admin/audit/auditevent/",
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )

    assert page.status_code == 403
    assert response.status_code == 403
    # The bulk delete action is not offered, so the list page refuses the request.
    assert bulk.status_code in (200, 302)
    assert row(event) == before
    # Nothing went; the two refusals were added to the trail.
    assert AuditEvent.objects.count() == count + 2
    assert AuditEvent.objects.filter(action=DENIED).count() >= 2


def test_a_superuser_cannot_add_an_event_through_the_admin(browser):
    client = browser("staff")
    forged = AuditEvent.objects.filter(action="forged").count()

    page = client.get("/admin/audit/auditevent/add/")
    response = client.post("/admin/audit/auditevent/add/", {"action": "forged", "changes": "{}"})

    assert page.status_code == 403
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action="forged").count() == forged


# -- the API -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_engagement_audit_endpoint_accepts_no_writes(method, api, engagements):
    count = AuditEvent.objects.filter(action__in=["rewritten", "forged"]).count()
    total = AuditEvent.objects.count()

    response = getattr(api("alpha.admin"), method)(
        f"/api/v1/engagements/{engagements.phase_two.pk}/audit/",
        {"action": "forged"},
        format="json",
    )

    assert response.status_code == 405
    assert AuditEvent.objects.count() == total
    assert AuditEvent.objects.filter(action__in=["rewritten", "forged"]).count() == count


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_organisation_audit_endpoint_accepts_no_writes(method, api):
    total = AuditEvent.objects.count()

    response = getattr(api("alpha.admin"), method)(
        "/api/v1/audit/", {"action": "forged"}, format="json"
    )

    assert response.status_code == 405
    assert AuditEvent.objects.count() == total


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_a_single_event_has_no_api_address_at_all(method, api, event):
    total = AuditEvent.objects.count()

    response = getattr(api("alpha.admin"), method)(
        f"/api/v1/audit/{event.pk}/", {"action": "rewritten"}, format="json"
    )

    assert response.status_code == 404
    assert row(event)["action"] != "rewritten"
    assert AuditEvent.objects.count() == total
