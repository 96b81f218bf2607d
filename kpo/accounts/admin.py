from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import User

ORGANISATION_FIELDS = ("client", "provider", "role", "email_mode")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """People, for platform staff. A user belongs to one client or one provider with a role of
    that side (a check constraint); both forms include every field the constraint reads, so
    a wrong combination is a form error rather than a failed insert."""

    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "client",
        "provider",
        "role",
        "email_mode",
        "is_active",
        "is_staff",
    )
    list_filter = (
        "role",
        "email_mode",
        "is_active",
        "is_staff",
        "is_superuser",
        "client",
        "provider",
    )
    list_select_related = ("client", "provider")
    search_fields = (
        "username",
        "first_name",
        "last_name",
        "email",
        "client__name",
        "provider__name",
    )
    autocomplete_fields = ("client", "provider")
    fieldsets = (
        *BaseUserAdmin.fieldsets[:2],
        ("Organisation", {"fields": ORGANISATION_FIELDS}),
        *BaseUserAdmin.fieldsets[2:],
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("Organisation", {"classes": ("wide",), "fields": (*ORGANISATION_FIELDS, "is_superuser")}),
    )
    # Groups carry analyst teams' engagement grants and follow team membership (see
    # vendors.services); editing them here would grant or keep access behind the teams' back.
    readonly_fields = ("groups", "last_login", "date_joined")
