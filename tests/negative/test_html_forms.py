"""Every HTML form that writes, fed what a browser never sends but a script or a proxy can:
the wrong type in each field, megabyte strings, NUL and control characters, fields the form
does not have, bodies that are not form data, broken multipart, too many fields, and bodies
over the size limits.

The pages come from the page matrix (tests/web/test_page_matrix.py): its table says, for
every page and method the URL resolver knows, who may post what to which object. Each input
here breaks one thing in such a legal post, and the page must refuse it: a 4xx page, the form
shown again with its error, or (for the buttons that redirect back) a redirect that carries
an error message; never a 5xx, never a silent success, and nothing stored. A field the form
does not have is ignored: the post may succeed, but what that field says is not stored.

Posts without any field (sign out, start, mark read...) get the same garbage on an object
whose state refuses the action, and must answer exactly as without it.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest
from django import forms
from django.conf import settings
from django.db import transaction
from django.test.client import BOUNDARY, encode_multipart
from django.urls import reverse
from django.utils import timezone

from deliverables.choices import RUBRIC
from deliverables.forms import (
    CancelForm,
    CommentForm,
    DeliverableEditForm,
    QaForm,
    ReviewForm,
    SubmissionForm,
)
from engagements.forms import (
    DocumentUploadForm,
    EngagementForm,
    GrantAccessForm,
    LeadForm,
    PlanDeliverableForm,
    RevokeAccessForm,
    TeamsForm,
    TransitionForm,
)
from kpo.accounts.forms import (
    PasswordChangeForm,
    PasswordConfirmForm,
    SignInForm,
    TwoFactorCodeForm,
    TwoFactorEnrolForm,
)
from kpo.notifications.models import Notification
from tests.negative.support import (
    Snapshot,
    assert_html_refusal,
    error_messages,
    explain,
    form_errors,
    offsite,
    record,
    row_of,
    same_session,
)
from tests.web.test_page_matrix import TABLE as PAGES
from tests.web.test_page_matrix import USERS, discovered_pages
from vendors.forms import TeamForm, VendorApprovalForm

ONE_MB_TEXT = "x" * (1024 * 1024)
HUNDRED_K_NAME = "N" * 100_000

# Who posts: a manager or a provider's worker before an admin (admins need their second
# factor in the browser, which `force_login_verified` gives them).
PREFERRED = ("alpha.manager", "bio.lead", "bio.analyst", "bio.qa", "alpha.viewer", "alpha.admin")


def _kind(field) -> str:
    for field_class, kind in (
        (forms.FileField, "file"),
        (forms.ModelMultipleChoiceField, "models"),
        (forms.ModelChoiceField, "model"),
        (forms.BooleanField, "bool"),
        (forms.ChoiceField, "choice"),
        (forms.DateTimeField, "datetime"),
        (forms.DateField, "date"),
        (forms.DecimalField, "decimal"),
        (forms.IntegerField, "integer"),
        (forms.CharField, "text"),
    ):
        if isinstance(field, field_class):
            return kind
    raise AssertionError(f"no negative inputs for {type(field).__name__}")


def _fields_of(form_class, extra=None, fixed=()):
    """name → (kind, required) of each field the form declares. A `fixed` field is shown
    disabled on the swept object, and the form ignores what is posted for it."""
    fields = {
        name: ("fixed" if name in fixed else _kind(field), field.required)
        for name, field in form_class.base_fields.items()
    }
    return {**fields, **(extra or {})}


# What each form page posts: the form's fields (as the view reads them), or None for a post
# that carries no field at all.
TRANSITIONS_WITH_REASON = {"decline", "hold", "terminate"}
FORM_FIELDS = {
    "accounts:login": _fields_of(SignInForm),
    "accounts:password_change": _fields_of(PasswordChangeForm),
    "accounts:two_factor_verify": _fields_of(TwoFactorCodeForm),
    "accounts:two_factor_enrol": _fields_of(TwoFactorEnrolForm),
    "accounts:two_factor_disable": _fields_of(PasswordConfirmForm),
    "engagements:create": _fields_of(EngagementForm),
    # The swept engagement is active: its provider and service line are fixed.
    "engagements:edit": _fields_of(EngagementForm, fixed=("provider", "service_line")),
    "engagements:transition": _fields_of(TransitionForm),
    "engagements:assign_lead": _fields_of(LeadForm),
    "engagements:set_teams": _fields_of(TeamsForm),
    "engagements:grant_access": _fields_of(GrantAccessForm),
    "engagements:revoke_access": _fields_of(RevokeAccessForm),
    "engagements:plan_deliverable": _fields_of(PlanDeliverableForm),
    "engagements:document_upload": _fields_of(DocumentUploadForm),
    "deliverables:submit": _fields_of(SubmissionForm),
    "deliverables:qa": _fields_of(QaForm),
    "deliverables:review": _fields_of(
        ReviewForm, extra={name: ("choice", False) for name in RUBRIC}
    ),
    "deliverables:comment": _fields_of(CommentForm),
    "deliverables:edit": _fields_of(DeliverableEditForm),
    "deliverables:cancel": _fields_of(CancelForm),
    "vendors:approval_create": _fields_of(VendorApprovalForm),
    "vendors:approval_edit": _fields_of(VendorApprovalForm, fixed=("provider",)),
    "vendors:teams": _fields_of(TeamForm),
    "notifications:email_mode": {"email_mode": ("choice", True)},
}
WITHOUT_FIELDS = {
    "accounts:logout",
    "accounts:token_create",
    "accounts:token_revoke",
    "deliverables:start",
    "notifications:read",
    "notifications:read_all",
}


# One page, four small forms told apart by `operation`: each is swept on its own.
TEAM_OPERATIONS = {
    "rename": ({"rename-name": ("text", True)}, lambda w: {"rename-name": "Renamed team"}),
    "set_lead": ({"lead-lead": ("model", False)}, lambda w: {"lead-lead": w.user("bio.lead").pk}),
    "add_member": ({"add-user": ("model", True)}, lambda w: {"add-user": w.user("bio.writer").pk}),
    "remove_member": ({"user": ("model", True)}, lambda w: {"user": w.user("bio.analyst").pk}),
}


def _team_operations(page):
    """The team page's row of the table, once per operation."""
    return [
        replace(
            page,
            label=f"{page.label}, {operation}",
            body=lambda w, u, operation=operation, body=body: {"operation": operation, **body(w)},
        )
        for operation, (_, body) in TEAM_OPERATIONS.items()
    ]


def fields_of(page):
    if page.name == "vendors:team_edit":
        operation = page.label.rsplit(", ", 1)[-1]
        return {"operation": ("choice", True), **TEAM_OPERATIONS[operation][0]}
    if page.name == "engagements:transition":
        return FORM_FIELDS[page.name] if page.kwargs["action"] in TRANSITIONS_WITH_REASON else None
    if page.name in WITHOUT_FIELDS:
        return None
    return FORM_FIELDS[page.name]


# The code step of signing in is posted by an admin who has passed the password but not yet
# the code (a verified session is sent on without reading the form).
HALF_SIGNED_IN = {"accounts:two_factor_verify": "alpha.admin"}
# Turning two-factor off is offered to who has it on (every demo admin).
POSTERS = {"accounts:two_factor_disable": "alpha.admin"}
LEGAL = (200, 302)


def poster(page) -> str | None:
    """Who posts: nobody for the sign-in, else the first preferred user the page lets act."""
    if page.name == "accounts:login":
        return None
    if page.name in HALF_SIGNED_IN:
        return HALF_SIGNED_IN[page.name]
    if page.name in POSTERS:
        return POSTERS[page.name]
    allowed = [username for username in USERS if page.expect[username] in LEGAL]
    return next((u for u in PREFERRED if u in allowed), allowed[0])


# -- what to send ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Input:
    family: str
    label: str
    build: Callable  # (valid body) -> dict of Client.post keyword arguments
    may_succeed: bool = False
    statuses: tuple[int, ...] | None = None


def _with(name, value):
    return lambda body: {"data": {**body, name: value}}


def _raw(data: bytes, content_type, **meta):
    return lambda body: {"data": data, "content_type": content_type, **meta}


WRONG_VALUES = {
    "model": ["abc", "1.5", "1" + "0" * 30, "-1", "0"],
    "models": [["abc"], ["1" + "0" * 30], ["-1"], ["1.5"]],
    "choice": ["not-a-choice", "1" + "0" * 30],
    "date": ["2026-02-30", "2026-13-01", "not a date", "99999-01-01"],
    "datetime": ["2026-02-30T10:00", "2026-03-01T25:00", "yesterday", "99999-01-01T00:00"],
    "decimal": ["abc", "NaN", "Infinity", "1e400", "1" + "0" * 40, "-1"],
    "integer": ["abc", "1.5", "1" + "0" * 30, "-5"],
    "file": ["not-a-file"],
}
CONTROL_TEXT = {
    "a NUL inside": "before\x00after",
    "only a NUL": "\x00",
    "an escape sequence": "title\x1b[2J\x1b[31mred",
    "a bell": "ding\x07",
    "a backspace": "abc\x08\x08\x08xyz",
}
SMUGGLED = {
    "id": "987654321",
    "status": "rejected",
    "reference": "ENG-SMUGGLED",
    "client": "987654321",
    "uploaded_by": "987654321",
    "author": "987654321",
    "version": "99",
    "sla_state": "missed",
    "is_superuser": "on",
    "role": "client_admin",
    "no_such_field": "stored?",
    # Where the page goes next: never another site.
    "next": "https://evil.example/phish",
}


def _smuggle(fields):
    extra = {k: v for k, v in SMUGGLED.items() if k not in fields}
    return lambda body: {"data": {**body, **extra}}


def _plain(body) -> dict:
    return {k: v for k, v in body.items() if isinstance(v, (str, int, list))}


# The test client encodes a dict for MULTIPART_CONTENT itself (it tests identity), so bodies
# written by hand declare an equal but distinct string.
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def _broken_multipart(body):
    encoded = encode_multipart(BOUNDARY, _plain(body) or {"x": "y"})
    return {"data": encoded[: len(encoded) // 2], "content_type": MULTIPART}


def _json(body):
    return {"data": json.dumps(_plain(body)), "content_type": "application/json"}


def _declared_length(length):
    return lambda body: {
        "data": b"title=x",
        "content_type": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(length),
    }


def family_inputs(page, family) -> list[Input]:
    fields = fields_of(page)
    if fields is None:
        return []
    required = any(is_required for _, is_required in fields.values())
    inputs = []
    if family == "wrong-type":
        for name, (kind, is_required) in fields.items():
            for value in WRONG_VALUES.get(kind, []):
                inputs.append(Input(family, f"{name}={value!r:.40}", _with(name, value)))
            if is_required and kind not in ("bool", "fixed"):
                inputs.append(Input(family, f"{name} left blank", _with(name, "")))
    elif family == "huge-string":
        for name, (kind, _) in fields.items():
            if kind == "text":
                inputs.append(Input(family, f"1 MB in {name}", _with(name, ONE_MB_TEXT)))
                inputs.append(
                    Input(family, f"100,000 characters in {name}", _with(name, HUNDRED_K_NAME))
                )
    elif family == "control-chars":
        for name, (kind, _) in fields.items():
            if kind == "text":
                for label, value in CONTROL_TEXT.items():
                    inputs.append(Input(family, f"{label} in {name}", _with(name, value)))
            elif kind in ("choice", "model", "date", "datetime", "decimal", "integer"):
                inputs.append(Input(family, f"a NUL in {name}", _with(name, "1\x00")))
    elif family == "unknown-fields":
        inputs.append(Input(family, "fields the form does not have", _smuggle(fields), True))
    elif family == "content-type" and required:
        inputs += [
            Input(family, "the form as JSON", _json),
            Input(family, "text/plain", _raw(b"title=Planted", "text/plain")),
            Input(family, "no Content-Type", _raw(b"title=Planted", "")),
            Input(family, "multipart cut in half", _broken_multipart),
            Input(
                family,
                "multipart without a boundary",
                _raw(b"--x\r\n\r\n", "multipart/form-data"),
            ),
        ]
    elif family == "malformed" and required:
        many = {f"field{i}": "x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
        inputs += [
            Input(family, "more fields than allowed", lambda body: {"data": {**body, **many}}),
            Input(family, "only garbage", _raw(b"\x00\xff\xfe" * 100, "application/octet-stream")),
        ]
    elif family == "oversize":
        inputs += [
            Input(
                family,
                "a form body over DATA_UPLOAD_MAX_MEMORY_SIZE",
                _with("padding", "p" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)),
                statuses=(400, 413),
            ),
            Input(
                family,
                "Content-Length over REQUEST_MAX_BYTES",
                _declared_length(settings.REQUEST_MAX_BYTES + 1),
                statuses=(413,),
            ),
        ]
    return inputs


FAMILIES = (
    "wrong-type",
    "huge-string",
    "control-chars",
    "unknown-fields",
    "content-type",
    "malformed",
    "oversize",
)
# The legal posts of the page table (not those that nobody may make, such as an action that
# does not exist).
POSTS = [
    variant
    for page in PAGES
    if page.method == "POST" and set(LEGAL) & {*page.expect.values()}
    for variant in (_team_operations(page) if page.name == "vendors:team_edit" else [page])
]
FORM_PAGES = [page for page in POSTS if fields_of(page) is not None]
BARE_PAGES = [page for page in POSTS if fields_of(page) is None]


def planned_html_inputs() -> int:
    forms_ = sum(len(family_inputs(page, family)) for page in FORM_PAGES for family in FAMILIES)
    return forms_ + len(BARE_PAGES) * (len(IGNORED_BODIES) + 1)


def test_every_form_page_is_swept(browser, db):
    """Every page that answers POST (as the page matrix finds them) is one of ours."""
    posted = {name for name, method in discovered_pages(browser) if method == "POST"}
    swept = {page.name for page in FORM_PAGES + BARE_PAGES}
    assert posted == swept, sorted(posted ^ swept)
    assert "engagements:plan_deliverable" in swept  # the walk is not empty


def test_the_sweep_knows_every_field_a_legal_post_sends(world):
    """What the page matrix posts to each page is declared here, so no field goes unswept."""
    for page in FORM_PAGES:
        sent = set(page.body(world, world.user(poster(page) or "alpha.manager")))
        unknown = sent - set(fields_of(page))
        assert not unknown, (page.title, unknown)


# -- posts with fields ---------------------------------------------------------------------------

FORM_CASES = [
    pytest.param(page, family, id=f"{page.title} {family}")
    for page in FORM_PAGES
    for family in FAMILIES
    if family_inputs(page, family)
]


def _page_url(page, target):
    kwargs = dict(page.kwargs)
    if target is not None:
        kwargs["pk"] = target.pk
    return reverse(page.name, kwargs=kwargs)


def _succeeded(response) -> bool:
    if response.status_code == 302:
        return not error_messages(response)
    return response.status_code == 200 and not form_errors(response)


def _assert_nothing_smuggled(response, snapshot, label):
    if response.has_header("Location"):
        assert not offsite(response["Location"]), f"{label}: {explain(response)}"
    if snapshot.row is None:
        return
    after = row_of(snapshot.target) or {}
    for name, value in SMUGGLED.items():
        for column in (name, f"{name}_id"):
            if column in after and after[column] != snapshot.row[column]:
                assert str(after[column]) != value, f"{label}: {column} was set from the form"


@pytest.mark.parametrize(("page", "family"), FORM_CASES)
def test_a_form_refuses_bad_input_and_stores_nothing(page, family, world, browser, cheap_password):
    username = poster(page)
    if page.setup:
        page.setup(world)
    user = world.user(username or "alpha.manager")
    if page.password or username is None:
        cheap_password(user)
    target = page.target(world, user) if page.target else None
    path = _page_url(page, target)
    # Signed in once, outside the savepoints (each input is rolled back, session included).
    signed_in = browser(username, verified=page.name not in HALF_SIGNED_IN)
    snapshot = Snapshot(target)
    for input_ in family_inputs(page, family):
        savepoint = transaction.savepoint()
        try:
            response = same_session(signed_in).post(path, **input_.build(page.body(world, user)))
            record(f"html {family}")
            label = f"{page.title} as {username or 'a visitor'}, {family}: {input_.label}"
            if input_.may_succeed and _succeeded(response):
                _assert_nothing_smuggled(response, snapshot, label)
                continue
            assert_html_refusal(response, label)
            if input_.statuses:
                assert response.status_code in input_.statuses, f"{label}: {explain(response)}"
            snapshot.assert_unchanged(label)
        finally:
            transaction.savepoint_rollback(savepoint)


# -- posts without fields -----------------------------------------------------------------------

IGNORED_BODIES = {
    "form fields": lambda: {"data": {"status": "rejected", "title": "\x00" * 10}},
    "JSON": lambda: {"data": b'{"broken": ', "content_type": "application/json"},
    "multipart cut in half": lambda: {
        "data": encode_multipart(BOUNDARY, {"a": "b"})[:20],
        "content_type": MULTIPART,
    },
    "a megabyte": lambda: {"data": {"padding": ONE_MB_TEXT}},
}


def _read_notification(world, username):
    notification = world.notification_for(username)
    notification.read_at = notification.created_at
    notification.save(update_fields=["read_at"])
    return notification


# Who posts, and to what, so that the action is refused or already done (signing out is
# done again with a fresh session each time).
REFUSING = {
    ("accounts:logout", None): ("bio.analyst", lambda w: None),
    ("engagements:transition", "propose"): ("alpha.manager", lambda w: w.phase_two),  # active
    ("engagements:transition", "accept"): ("bio.admin", lambda w: w.phase_two),  # not proposed
    ("engagements:transition", "resume"): ("alpha.manager", lambda w: w.phase_two),  # not held
    ("engagements:transition", "complete"): ("alpha.manager", lambda w: w.phase_two),  # open work
    ("deliverables:start", None): (
        "bio.analyst",
        lambda w: w.deliverable("Interim efficacy report"),  # in review
    ),
    ("notifications:read", None): (
        "bio.analyst",
        lambda w: _read_notification(w, "bio.analyst"),
    ),
    ("notifications:read_all", None): ("bio.analyst", lambda w: None),  # nothing unread
    # Each post makes a new token, whatever it carries; revoking is idempotent.
    ("accounts:token_create", None): ("bio.analyst", lambda w: None),
    ("accounts:token_revoke", None): ("bio.analyst", lambda w: None),
}


def _bare_key(page):
    return (page.name, page.kwargs.get("action"))


def test_every_post_without_fields_has_a_refusing_arrangement():
    assert {_bare_key(page) for page in BARE_PAGES} == set(REFUSING)


@pytest.mark.parametrize("page", [pytest.param(p, id=p.title) for p in BARE_PAGES])
def test_a_post_without_fields_ignores_whatever_body_it_is_sent(page, world, browser):
    username, arrange = REFUSING[_bare_key(page)]
    target = arrange(world)
    Notification.objects.filter(user=world.user(username), read_at=None).update(
        read_at=timezone.now()
    )
    path = _page_url(page, target)
    baseline = browser(username).post(path)
    assert baseline.status_code < 500, explain(baseline)
    for label, build in IGNORED_BODIES.items():
        snapshot = Snapshot(target)
        response = browser(username).post(path, **build())
        record("html ignored-body")
        where = f"{page.title} as {username}: {label}"
        assert response.status_code == baseline.status_code, f"{where}: {explain(response)}"
        assert error_messages(response) == error_messages(baseline), where
        snapshot.assert_unchanged(where)
    snapshot = Snapshot(target)
    response = browser(username).post(path, **_declared_length(settings.REQUEST_MAX_BYTES + 1)({}))
    record("html ignored-body")
    assert response.status_code == 413, explain(response)
    snapshot.assert_unchanged(f"{page.title}: Content-Length over REQUEST_MAX_BYTES")
