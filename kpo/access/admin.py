from django.contrib import admin

from .models import EngagementGroupObjectPermission, EngagementUserObjectPermission


class GrantAdmin(admin.ModelAdmin):
    """Engagement grants, for looking into who may see what. Read-only: grants are kept in
    step with managers, leads and teams by the services, and a hand-made grant would
    outlive the reason for it."""

    search_fields = ("content_object__reference", "content_object__title")
    list_filter = ("permission__codename",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EngagementUserObjectPermission)
class EngagementUserGrantAdmin(GrantAdmin):
    list_display = ("content_object", "user", "permission")
    list_select_related = ("content_object", "user", "permission__content_type")
    search_fields = (*GrantAdmin.search_fields, "user__username")


@admin.register(EngagementGroupObjectPermission)
class EngagementGroupGrantAdmin(GrantAdmin):
    list_display = ("content_object", "group", "permission")
    list_select_related = ("content_object", "group", "permission__content_type")
    search_fields = (*GrantAdmin.search_fields, "group__name")
