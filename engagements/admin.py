from django.contrib import admin

from .models import Client, Document, Engagement


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "industry", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Engagement)
class EngagementAdmin(admin.ModelAdmin):
    """Engagements are created and moved through their lifecycle in the application, which
    issues the reference, checks the transition table and activation gate, and keeps the
    guardian grants in step with the manager, the lead and the teams. So here the status,
    the parties and the people are shown, not edited; descriptive terms may be corrected."""

    list_display = (
        "reference",
        "title",
        "client",
        "provider",
        "service_line",
        "status",
        "confidentiality",
        "start_date",
        "end_date",
    )
    list_filter = ("status", "confidentiality", "service_line")
    list_select_related = ("client", "provider", "service_line")
    search_fields = ("reference", "title")
    date_hierarchy = "created_at"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "reference",
                    "title",
                    "brief",
                    "client",
                    "provider",
                    "service_line",
                    "status",
                    "confidentiality",
                )
            },
        ),
        ("Terms", {"fields": ("start_date", "end_date", "budget", "currency", "pricing_model")}),
        ("People", {"fields": ("client_manager", "provider_lead", "teams")}),
        (
            "SLA terms",
            {
                "fields": (
                    "qa_required",
                    "reminder_lead_hours",
                    "review_turnaround_hours",
                    "quality_threshold",
                )
            },
        ),
        ("History", {"fields": ("held_since", "created_by", "created_at", "updated_at")}),
    )
    readonly_fields = (
        "reference",
        "client",
        "provider",
        "service_line",
        "status",
        "confidentiality",
        "client_manager",
        "provider_lead",
        "teams",
        "held_since",
        "created_by",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    """Data-room files are uploaded, type-checked and stored under a server key by the
    application, and downloaded only through its permission-checked, audited view; the
    admin shows their metadata (never a link to the stored file) and lets staff correct
    the title and classification."""

    list_display = (
        "title",
        "engagement",
        "classification",
        "filename",
        "content_type",
        "size",
        "uploaded_by",
        "uploaded_at",
    )
    list_filter = ("classification", "content_type")
    list_select_related = ("engagement", "uploaded_by")
    search_fields = ("title", "filename", "sha256", "engagement__reference")
    date_hierarchy = "uploaded_at"
    fields = (
        "engagement",
        "title",
        "classification",
        "filename",
        "content_type",
        "size",
        "sha256",
        "uploaded_by",
        "uploaded_at",
    )
    readonly_fields = (
        "engagement",
        "filename",
        "content_type",
        "size",
        "sha256",
        "uploaded_by",
        "uploaded_at",
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
