"""The discussion on a deliverable."""

import pytest

from deliverables import services
from deliverables.models import Comment
from deliverables.services import MAX_COMMENT_LENGTH
from kpo.domain import ActionNotAllowed, BusinessRuleViolation, NotVisible


@pytest.mark.parametrize("username", ["alpha.manager", "bio.analyst", "bio.qa", "bio.lead"])
def test_everyone_working_on_it_may_comment(users, deliverable, username):
    interim = deliverable("Interim efficacy report")

    comment = services.comment_add(
        actor=users[username], deliverable=interim, body="  Forest plot on p. 12?  "
    )

    comment.refresh_from_db()
    assert comment.deliverable == interim
    assert comment.author == users[username]
    assert comment.body == "Forest plot on p. 12?"


@pytest.mark.parametrize("body", ["", "   ", "\n\t", None])
def test_an_empty_comment_is_refused(users, deliverable, snapshot, body):
    interim = deliverable("Interim efficacy report")
    before = snapshot(interim)

    with pytest.raises(BusinessRuleViolation) as refused:
        services.comment_add(actor=users.alpha_manager, deliverable=interim, body=body)

    assert refused.value.field == "body"
    assert snapshot(interim) == before


def test_a_comment_longer_than_the_limit_is_refused(users, deliverable, snapshot):
    interim = deliverable("Interim efficacy report")
    before = snapshot(interim)

    with pytest.raises(BusinessRuleViolation):
        services.comment_add(
            actor=users.alpha_manager, deliverable=interim, body="x" * (MAX_COMMENT_LENGTH + 1)
        )

    assert snapshot(interim) == before


def test_a_comment_exactly_at_the_limit_is_kept_whole(users, deliverable):
    interim = deliverable("Interim efficacy report")

    comment = services.comment_add(
        actor=users.alpha_manager, deliverable=interim, body="x" * MAX_COMMENT_LENGTH
    )

    comment.refresh_from_db()
    assert len(comment.body) == MAX_COMMENT_LENGTH


def test_a_viewer_can_read_but_not_comment(users, deliverable, snapshot):
    interim = deliverable("Interim efficacy report")
    before = snapshot(interim)

    with pytest.raises(ActionNotAllowed):
        services.comment_add(actor=users.alpha_viewer, deliverable=interim, body="Nice work")

    assert snapshot(interim) == before


@pytest.mark.parametrize("username", ["bio.writer", "northwind.manager", "ledger.analyst"])
def test_someone_not_on_the_engagement_is_told_it_does_not_exist(users, deliverable, username):
    interim = deliverable("Interim efficacy report")
    count = Comment.objects.count()

    with pytest.raises(NotVisible):
        services.comment_add(actor=users[username], deliverable=interim, body="Hello")

    assert Comment.objects.count() == count
