from django.urls import path

from . import views

app_name = "deliverables"

urlpatterns = [
    path("", views.deliverable_list, name="list"),
    path("knowledge/", views.knowledge, name="knowledge"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/start/", views.start, name="start"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/qa/", views.qa, name="qa"),
    path("<int:pk>/review/", views.review, name="review"),
    path("<int:pk>/comments/", views.comment, name="comment"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("submissions/<int:pk>/download/", views.submission_download, name="submission_download"),
]
