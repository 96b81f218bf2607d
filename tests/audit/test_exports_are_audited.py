"""Every way a file or an export leaves the application is audited: who took what, when and
from where. The views that send one are found in the source (anything that answers with a
FileResponse or a StreamingHttpResponse, or sets Content-Disposition), so a new download
that this table does not know fails the inventory test the day it is added."""

import ast
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from kpo.audit.models import AuditEvent

from .conftest import ADDRESS, AGENT

PACKAGES = ("engagements", "deliverables", "vendors", "kpo")
RESPONSE_CLASSES = {"FileResponse", "StreamingHttpResponse"}


@dataclass(frozen=True)
class Download:
    username: str
    action: str
    call: Callable  # (browser, api, world) -> response
    target: Callable  # (world) -> the object the event is about


def interim(world):
    return world.submission("Interim efficacy report")


def protocol(world):
    return world.document(world.phase_two)


DOWNLOADS = {
    "engagements.views:document_download": Download(
        "alpha.manager",
        "document.download",
        lambda b, a, w: b("alpha.manager").get(
            reverse("engagements:document_download", args=[protocol(w).pk])
        ),
        protocol,
    ),
    "engagements.api:DocumentViewSet.download": Download(
        "bio.analyst",
        "document.download",
        lambda b, a, w: a("bio.analyst").get(f"/api/v1/documents/{protocol(w).pk}/download/"),
        protocol,
    ),
    "deliverables.views:submission_download": Download(
        "alpha.viewer",
        "submission.download",
        lambda b, a, w: b("alpha.viewer").get(
            reverse("deliverables:submission_download", args=[interim(w).pk])
        ),
        interim,
    ),
    "deliverables.api:SubmissionViewSet.download": Download(
        "bio.qa",
        "submission.download",
        lambda b, a, w: a("bio.qa").get(f"/api/v1/submissions/{interim(w).pk}/download/"),
        interim,
    ),
    "engagements.views:audit_csv": Download(
        "bio.lead",
        "engagement.audit_export",
        lambda b, a, w: b("bio.lead").get(reverse("engagements:audit_csv", args=[w.phase_two.pk])),
        lambda w: w.phase_two,
    ),
    "kpo.audit.views:trail_csv": Download(
        "alpha.admin",
        "audit.exported",
        lambda b, a, w: b("alpha.admin").get(reverse("audit:export")),
        lambda w: None,
    ),
}


def _sends_a_file(node) -> bool:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call):
            func = inner.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in RESPONSE_CLASSES:
                return True
        if isinstance(inner, ast.Constant) and inner.value == "Content-Disposition":
            return True
    return False


def views_that_send_files() -> set[str]:
    found = set()
    root = Path(settings.BASE_DIR)
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            module = ".".join(path.relative_to(root).with_suffix("").parts)
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in tree.body:
                if isinstance(node, ast.FunctionDef) and _sends_a_file(node):
                    found.add(f"{module}:{node.name}")
                elif isinstance(node, ast.ClassDef):
                    for method in node.body:
                        if isinstance(method, ast.FunctionDef) and _sends_a_file(method):
                            found.add(f"{module}:{node.name}.{method.name}")
    return found


def test_the_inventory_finds_downloads_in_the_source():
    # Sanity of the scan itself, so that an empty scan cannot make the next test pass.
    assert "engagements.views:document_download" in views_that_send_files()


def test_every_download_and_export_of_the_application_is_in_the_table():
    assert views_that_send_files() == set(DOWNLOADS), (
        "A view sends a file or an export: add it to DOWNLOADS with the audit event it must "
        "leave (and make its service write that event)."
    )


@pytest.mark.parametrize("view", DOWNLOADS)
def test_each_download_and_export_leaves_one_event_with_who_what_and_from_where(
    view, browser, api, world, users
):
    download = DOWNLOADS[view]
    target = download.target(world)
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()

    response = download.call(browser, api, world)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    # Reading it to the end is what closes the file (the test client closes the response).
    b"".join(response.streaming_content)
    [event] = AuditEvent.objects.filter(id__gt=last, action=download.action)
    assert event.actor == users[download.username]
    assert event.ip == ADDRESS
    assert event.user_agent == AGENT
    if target is not None:
        assert event.target_id == str(target.pk)
