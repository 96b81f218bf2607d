from django.contrib import admin

from .models import Comment, Deliverable, Review, Submission


class ViewOnlyAdmin(admin.ModelAdmin):
    """Records the application writes once and never changes: versions and reviews."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Deliverable)
class DeliverableAdmin(admin.ModelAdmin):
    """Deliverables are planned, moved through their lifecycle and re-planned in the
    application: the status follows the transition table, the SLA state follows the due
    time, and the assignee must be on the engagement. Those are shown here, not edited."""

    list_display = (
        "title",
        "engagement",
        "kind",
        "status",
        "sla_state",
        "due_at",
        "assignee",
        "current_version",
    )
    list_filter = ("status", "sla_state", "kind")
    list_select_related = ("engagement", "assignee")
    search_fields = ("title", "engagement__reference", "engagement__title")
    date_hierarchy = "due_at"
    fields = (
        "engagement",
        "title",
        "description",
        "kind",
        "due_at",
        "assignee",
        "status",
        "sla_state",
        "current_version",
        "review_started_at",
        "delivered_at",
        "accepted_at",
        "overall_score",
        "created_by",
        "created_at",
        "updated_at",
    )
    readonly_fields = (
        "engagement",
        "due_at",
        "assignee",
        "status",
        "sla_state",
        "current_version",
        "review_started_at",
        "delivered_at",
        "accepted_at",
        "overall_score",
        "created_by",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Submission)
class SubmissionAdmin(ViewOnlyAdmin):
    """Metadata only: the file is served by the application's audited download view."""

    list_display = (
        "deliverable",
        "version",
        "filename",
        "content_type",
        "size",
        "submitted_by",
        "submitted_at",
    )
    list_filter = ("content_type",)
    list_select_related = ("deliverable", "submitted_by")
    search_fields = (
        "filename",
        "sha256",
        "deliverable__title",
        "deliverable__engagement__reference",
    )
    date_hierarchy = "submitted_at"
    fields = (
        "deliverable",
        "version",
        "filename",
        "notes",
        "content_type",
        "size",
        "sha256",
        "submitted_by",
        "submitted_at",
    )


@admin.register(Review)
class ReviewAdmin(ViewOnlyAdmin):
    list_display = (
        "deliverable",
        "submission",
        "kind",
        "decision",
        "overall",
        "reviewer",
        "created_at",
    )
    list_filter = ("kind", "decision")
    # Submission's name includes its deliverable's.
    list_select_related = ("deliverable", "submission__deliverable", "reviewer")
    search_fields = ("deliverable__title", "deliverable__engagement__reference", "comment")
    date_hierarchy = "created_at"


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    """Staff may moderate a comment's text or remove it; comments are written in the
    application."""

    list_display = ("excerpt", "deliverable", "author", "created_at")
    list_select_related = ("deliverable", "author")
    search_fields = ("body", "author__username", "deliverable__title")
    date_hierarchy = "created_at"
    fields = ("deliverable", "author", "body", "created_at")
    readonly_fields = ("deliverable", "author", "created_at")

    @admin.display(description="Comment")
    def excerpt(self, comment):
        return comment.body if len(comment.body) <= 80 else comment.body[:79] + "…"

    def has_add_permission(self, request):
        return False
