from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail, strictly read-only: events are only ever appended, by services."""

    list_display = ("created_at", "actor_repr", "action", "target_repr", "engagement", "ip")
    list_filter = ("action",)
    list_select_related = ("engagement",)
    search_fields = ("actor_repr", "action", "target_repr", "target_id")
    date_hierarchy = "created_at"
    list_per_page = 100
    # The table only grows; counting all of it on every page is wasted work.
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
