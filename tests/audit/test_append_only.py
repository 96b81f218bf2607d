"""Audit events are append-only: nothing in the application can change or remove one."""

import pytest
from django.db import transaction

from kpo.audit.models import AppendOnlyError, AuditEvent
from kpo.audit.services import audit_record


@pytest.fixture
def event(users, engagements):
    return AuditEvent.objects.filter(engagement=engagements.phase_two).earliest("id")


def row(event):
    return AuditEvent.objects.filter(pk=event.pk).values().get()


def test_saving_an_existing_event_is_refused(event):
    before = row(event)
    event.action = "engagement.nothing_happened"

    with pytest.raises(AppendOnlyError):
        event.save()

    assert row(event) == before


def test_saving_only_some_fields_of_an_existing_event_is_refused(event):
    before = row(event)
    event.changes = {}

    with pytest.raises(AppendOnlyError):
        event.save(update_fields=["changes"])

    assert row(event) == before


def test_deleting_an_event_is_refused(event):
    before = row(event)

    with pytest.raises(AppendOnlyError):
        event.delete()

    assert row(event) == before


def test_updating_events_in_bulk_is_refused(event):
    before = row(event)

    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(actor_repr="someone else")

    assert row(event) == before


def test_deleting_events_in_bulk_is_refused(engagements):
    count = AuditEvent.objects.count()

    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(engagement=engagements.phase_two).delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()

    assert AuditEvent.objects.count() == count


def test_bulk_update_is_refused(event):
    before = row(event)
    event.user_agent = "rewritten"

    # bulk_update runs in an atomic block without a savepoint of its own; give it one so the
    # test's transaction can still be read after the refusal.
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["user_agent"])

    assert row(event) == before


def test_overwriting_an_event_through_update_or_create_is_refused(event):
    before = row(event)

    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update_or_create(pk=event.pk, defaults={"action": "rewritten"})

    assert row(event) == before


def test_writing_a_new_event_over_an_existing_id_is_refused(event):
    before = row(event)
    impostor = AuditEvent(pk=event.pk, action="rewritten", actor_repr="nobody")

    with pytest.raises(AppendOnlyError):
        impostor.save()

    assert row(event) == before


def test_overwriting_an_event_through_an_upserting_bulk_create_is_refused(event):
    before = row(event)
    impostor = AuditEvent(pk=event.pk, action="rewritten", actor_repr="nobody")

    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEvent.objects.bulk_create(
            [impostor], update_conflicts=True, unique_fields=["id"], update_fields=["action"]
        )

    assert row(event) == before


def test_new_events_can_still_be_written(users):
    count = AuditEvent.objects.count()

    audit_record(actor=users.alpha_admin, action="auth.login")

    assert AuditEvent.objects.count() == count + 1
