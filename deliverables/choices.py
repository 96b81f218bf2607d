from django.db import models


class DeliverableKind(models.TextChoices):
    REPORT = "report", "Report"
    MODEL = "model", "Model"
    DATASET = "dataset", "Dataset"
    MEMO = "memo", "Memo"
    PRESENTATION = "presentation", "Presentation"


class DeliverableStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    IN_QA = "in_qa", "In QA"
    IN_REVIEW = "in_review", "In client review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


S = DeliverableStatus
OPEN_STATUSES = (S.PLANNED, S.IN_PROGRESS, S.IN_QA, S.IN_REVIEW, S.CHANGES_REQUESTED)
# Work the provider still owes: not yet in front of the client.
UNDELIVERED_STATUSES = (S.PLANNED, S.IN_PROGRESS, S.IN_QA, S.CHANGES_REQUESTED)

DELIVERABLE_TRANSITIONS = {
    S.PLANNED: {S.IN_PROGRESS, S.CANCELLED},
    S.IN_PROGRESS: {S.IN_QA, S.IN_REVIEW, S.CANCELLED},
    S.IN_QA: {S.IN_REVIEW, S.CHANGES_REQUESTED, S.CANCELLED},
    S.IN_REVIEW: {S.ACCEPTED, S.CHANGES_REQUESTED, S.REJECTED, S.CANCELLED},
    S.CHANGES_REQUESTED: {S.IN_QA, S.IN_REVIEW, S.CANCELLED},
    S.ACCEPTED: set(),
    S.REJECTED: set(),
    S.CANCELLED: set(),
}


class SlaState(models.TextChoices):
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    BREACHED = "breached", "Breached"
    MET = "met", "Met"
    MISSED = "missed", "Missed"


class ReviewKind(models.TextChoices):
    QA = "qa", "Provider QA"
    CLIENT = "client", "Client review"


class ReviewDecision(models.TextChoices):
    PASS = "pass", "Pass"
    RETURN = "return", "Return"
    ACCEPT = "accept", "Accept"
    REQUEST_CHANGES = "request_changes", "Request changes"
    REJECT = "reject", "Reject"


QA_DECISIONS = (ReviewDecision.PASS, ReviewDecision.RETURN)
CLIENT_DECISIONS = (ReviewDecision.ACCEPT, ReviewDecision.REQUEST_CHANGES, ReviewDecision.REJECT)

RUBRIC = ("accuracy", "completeness", "insight", "relevance", "presentation")


class ReminderKind(models.TextChoices):
    DUE_SOON = "due_soon", "Due soon"
    BREACH = "breach", "Breach"
    REVIEW_PENDING = "review_pending", "Review pending"
    REVIEW_OVERDUE = "review_overdue", "Review overdue"


DELIVERY_REMINDERS = (ReminderKind.DUE_SOON, ReminderKind.BREACH)
REVIEW_REMINDERS = (ReminderKind.REVIEW_PENDING, ReminderKind.REVIEW_OVERDUE)


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    CANCELLED = "cancelled", "Cancelled"
