from django.db import models


class NotificationKind(models.TextChoices):
    DELIVERABLE_DUE_SOON = "deliverable_due_soon", "Deliverable due soon"
    DELIVERABLE_BREACHED = "deliverable_breached", "Deliverable breached"
    DELIVERABLE_SUBMITTED = "deliverable_submitted", "Deliverable submitted"
    QA_RETURNED = "qa_returned", "Returned by QA"
    REVIEW_REQUESTED = "review_requested", "Review requested"
    REVIEW_PENDING = "review_pending", "Review pending"
    REVIEW_OVERDUE = "review_overdue", "Review overdue"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    DELIVERABLE_ACCEPTED = "deliverable_accepted", "Deliverable accepted"
    DELIVERABLE_REJECTED = "deliverable_rejected", "Deliverable rejected"
    ENGAGEMENT_PROPOSED = "engagement_proposed", "Engagement proposed"
    ENGAGEMENT_STATUS_CHANGED = "engagement_status_changed", "Engagement status changed"
    COMMENT_ADDED = "comment_added", "Comment added"
    CERTIFICATION_EXPIRING = "certification_expiring", "Certification expiring"
    APPROVAL_EXPIRING = "approval_expiring", "Approval expiring"
    WEBHOOK_DISABLED = "webhook_disabled", "Webhook disabled"


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
