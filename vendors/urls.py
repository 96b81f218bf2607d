from django.urls import path

from . import views

app_name = "vendors"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("<int:pk>/scorecard/", views.scorecard, name="scorecard"),
    path("compare/", views.compare, name="compare"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/new/", views.approval_create, name="approval_create"),
    path("approvals/<int:pk>/", views.approval_edit, name="approval_edit"),
    path("teams/", views.teams, name="teams"),
    path("teams/<int:pk>/", views.team_edit, name="team_edit"),
]
