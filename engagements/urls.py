from django.urls import path

from . import views

app_name = "engagements"

urlpatterns = [
    path("", views.engagement_list, name="list"),
    path("new/", views.engagement_create, name="create"),
    path("<int:pk>/", views.engagement_detail, name="detail"),
    path("<int:pk>/edit/", views.engagement_edit, name="edit"),
    path("<int:pk>/actions/<slug:action>/", views.engagement_transition, name="transition"),
    path("<int:pk>/lead/", views.assign_lead, name="assign_lead"),
    path("<int:pk>/teams/", views.set_teams, name="set_teams"),
    path("<int:pk>/access/grant/", views.grant_access, name="grant_access"),
    path("<int:pk>/access/revoke/", views.revoke_access, name="revoke_access"),
    path("<int:pk>/deliverables/plan/", views.plan_deliverable, name="plan_deliverable"),
    path("<int:pk>/documents/upload/", views.document_upload, name="document_upload"),
    path("<int:pk>/audit.csv", views.audit_csv, name="audit_csv"),
    path("documents/<int:pk>/download/", views.document_download, name="document_download"),
]
