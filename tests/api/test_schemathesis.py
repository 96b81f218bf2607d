"""Property-based check of the whole REST API against its own OpenAPI schema.

Schemathesis reads `/api/schema/` from the application itself and, for every operation,
generates requests (valid and invalid) as two very different callers: a client manager and
a provider analyst, each with an API token. Every answer must not be a server error, and
must match what the schema says that operation returns.

Requests go through the real WSGI application inside the test's transaction, so they see the
demo data and whatever they change is rolled back after each operation's test. Totals are
printed at the end of the module and written to `var/schemathesis-totals.json`.
"""

import json
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from kpo.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

CALLERS = ["alpha.manager", "bio.analyst"]
EXAMPLES_PER_OPERATION = 25

# Demo ids are small. Random integers almost never name a real object, so generated ids are
# folded into 0..12: most requests then reach real engagements, deliverables, submissions and
# users (visible or not to the caller) instead of stopping at 404.
SMALL_IDS = 13
REFERENCE_FIELDS = {"engagement", "provider", "assignee", "lead", "client_manager", "provider_lead"}
REFERENCE_LISTS = {"teams", "members"}


def _small(value):
    if isinstance(value, int) and not isinstance(value, bool):
        return value % SMALL_IDS
    return value


@schema.hook
def map_path_parameters(context, path_parameters):
    if path_parameters and "id" in path_parameters:
        path_parameters["id"] = _small(path_parameters["id"])
    return path_parameters


@schema.hook
def map_body(context, body):
    if isinstance(body, dict):
        for key in REFERENCE_FIELDS & set(body):
            body[key] = _small(body[key])
        for key in REFERENCE_LISTS & set(body):
            if isinstance(body[key], list):
                body[key] = [_small(value) for value in body[key]]
    return body


class Totals:
    def __init__(self):
        self.operations = set()
        self.requests = Counter()
        self.statuses = Counter()
        self.failures = set()

    def as_dict(self):
        return {
            "operations": len(self.operations),
            "callers": CALLERS,
            "examples_per_operation_and_caller": EXAMPLES_PER_OPERATION,
            "requests": sum(self.requests.values()),
            "requests_by_phase": dict(self.requests),
            "responses_by_status": {str(k): v for k, v in sorted(self.statuses.items())},
            "failing_operations": sorted(self.failures),
        }


TOTALS = Totals()


@pytest.fixture(scope="module", autouse=True)
def _report_totals(request):
    yield
    totals = TOTALS.as_dict()
    if not totals["requests"]:
        return
    path = Path(django_settings.VAR_DIR) / "schemathesis-totals.json"
    path.write_text(json.dumps(totals, indent=2) + "\n")
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"\nschemathesis: {totals['operations']} operations x {len(CALLERS)} callers, "
                f"{totals['requests']} requests {totals['requests_by_phase']}, "
                f"{len(totals['failing_operations'])} failing ({path})"
            )


@pytest.fixture(autouse=True)
def _one_connection_for_the_whole_test():
    """The WSGI handler closes the database connection when a request ends, which would end
    the test's transaction; Django's own test client avoids that the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def caller(users, request, settings):
    """(username, headers) of a demo user authenticated with an API token. Generated logins
    are checked with a fast hasher: at the production hasher's cost they would take most of
    the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    token, _ = Token.objects.get_or_create(user=users[request.param])
    return request.param, {"Authorization": f"Token {token.key}"}


@pytest.mark.django_db
@pytest.mark.parametrize("caller", CALLERS, indirect=True)
@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_answer_is_a_server_error_or_differs_from_the_schema(case, caller):
    username, headers = caller
    TOTALS.operations.add(case.operation.label)
    TOTALS.requests[case.meta.phase.name.value if case.meta else "explicit"] += 1
    try:
        response = case.call_and_validate(
            headers=headers, checks=[not_a_server_error, response_schema_conformance]
        )
    except BaseException:  # schemathesis reports failed checks as an exception group
        TOTALS.failures.add(f"{case.operation.label} as {username}")
        raise
    TOTALS.statuses[response.status_code] += 1
