"""The app's URLs plus /baseline/…: bare views serving the same rows as the benchmarked
endpoints and pages, as `.values()` of a hand-written query with the same filter."""

from django.urls import include, path

from bench import baseline_views as views

urlpatterns = [
    path("baseline/deliverables/", views.deliverables),
    path("baseline/engagements/<int:pk>/", views.engagement),
    path("baseline/engagements/<int:pk>/audit/", views.audit),
    path("baseline/providers/<int:pk>/scorecard/", views.scorecard),
    path("baseline/knowledge/", views.knowledge),
    path("baseline/pages/dashboard/", views.dashboard_page),
    path("baseline/pages/engagements/<int:pk>/", views.engagement_page),
    path("baseline/pages/deliverables/<int:pk>/", views.deliverable_page),
    path("baseline/pages/providers/<int:pk>/scorecard/", views.scorecard_page),
    path("", include("kpo.urls")),
]
