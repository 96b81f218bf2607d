from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model

from kpo.access import grants
from kpo.accounts.choices import Role
from kpo.audit.services import audit_record

from .models import AnalystTeam, Certification, Provider, ServiceLine, VendorApproval
from .services import TEAM_MEMBER_ROLES


@admin.register(ServiceLine)
class ServiceLineAdmin(admin.ModelAdmin):
    """The fixed catalogue: rows come from a data migration and are referenced by slug, so
    only the display name may change."""

    list_display = ("name", "slug")
    search_fields = ("name", "slug")
    readonly_fields = ("slug",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CertificationInline(admin.TabularInline):
    model = Certification
    extra = 0
    fields = ("kind", "reference", "issued_on", "expires_on")


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "country", "is_active", "created_at")
    list_filter = ("is_active", "country", "service_lines")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("service_lines",)
    inlines = [CertificationInline]


@admin.register(Certification)
class CertificationAdmin(admin.ModelAdmin):
    list_display = ("provider", "kind", "reference", "issued_on", "expires_on")
    list_filter = ("kind",)
    list_select_related = ("provider",)
    search_fields = ("provider__name", "reference")
    date_hierarchy = "expires_on"
    autocomplete_fields = ("provider",)


@admin.register(VendorApproval)
class VendorApprovalAdmin(admin.ModelAdmin):
    """A client's due-diligence verdict gates engagement activation, so the verdict and its
    validity are decided by the client's admin in the application (audited); staff can
    read them and annotate."""

    list_display = (
        "client",
        "provider",
        "status",
        "risk_tier",
        "assessed_on",
        "expires_on",
        "decided_by",
    )
    list_filter = ("status", "risk_tier")
    list_select_related = ("client", "provider", "decided_by")
    search_fields = ("client__name", "provider__name")
    fields = (
        "client",
        "provider",
        "status",
        "risk_tier",
        "assessed_on",
        "expires_on",
        "notes",
        "decided_by",
        "updated_at",
    )
    readonly_fields = (
        "client",
        "provider",
        "status",
        "risk_tier",
        "assessed_on",
        "expires_on",
        "decided_by",
        "updated_at",
    )

    def has_add_permission(self, request):
        return False


class AnalystTeamForm(forms.ModelForm):
    class Meta:
        model = AnalystTeam
        fields = ("lead", "members")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Offer (and accept) only people the team services would accept.
        colleagues = get_user_model().objects.filter(provider_id=self.instance.provider_id)
        self.fields["lead"].queryset = colleagues.filter(role=Role.ENGAGEMENT_LEAD)
        self.fields["members"].queryset = colleagues.filter(role__in=TEAM_MEMBER_ROLES)


@admin.register(AnalystTeam)
class AnalystTeamAdmin(admin.ModelAdmin):
    """A provider's team. Teams are created in the application, which also creates the
    group that carries their engagement grants. Staff may change the lead and members
    here; the group follows (a member or the lead is in it), and each change is audited
    as the team services audit it, so removing someone removes their access at once."""

    form = AnalystTeamForm
    list_display = ("name", "provider", "lead", "created_at")
    list_filter = ("provider",)
    list_select_related = ("provider", "lead")
    search_fields = ("name", "provider__name")
    fields = ("provider", "name", "lead", "members", "group", "created_at")
    readonly_fields = ("provider", "name", "group", "created_at")
    autocomplete_fields = ("lead",)
    filter_horizontal = ("members",)

    def has_add_permission(self, request):
        return False

    def save_related(self, request, form, formsets, change):
        team = form.instance
        # `save_model` has already stored the lead; the members are saved below.
        old_lead_id = form.initial.get("lead")
        old_member_ids = set(team.members.values_list("pk", flat=True))
        super().save_related(request, form, formsets, change)
        member_ids = set(team.members.values_list("pk", flat=True))

        affected = (old_member_ids ^ member_ids) | {old_lead_id, team.lead_id}
        users = get_user_model().objects.filter(pk__in=affected - {None})
        for user in users:
            if user.pk in member_ids or user.pk == team.lead_id:
                grants.add_to_team_group(team, user)
            else:
                grants.remove_from_team_group(team, user)

        usernames = {user.pk: user.username for user in users}
        if old_lead_id != team.lead_id:
            self._audit(
                request,
                team,
                "team.set_lead",
                {
                    "lead": [usernames.get(old_lead_id), usernames.get(team.lead_id)],
                },
            )
        for pk in sorted(member_ids - old_member_ids):
            self._audit(request, team, "team.add_member", {"user": usernames[pk]})
        for pk in sorted(old_member_ids - member_ids):
            self._audit(request, team, "team.remove_member", {"user": usernames[pk]})

    @staticmethod
    def _audit(request, team, action, changes):
        audit_record(
            actor=request.user,
            action=action,
            target=team,
            provider=team.provider,
            changes={**changes, "via": "admin"},
        )
