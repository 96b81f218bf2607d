"""Fixtures of the browser tests: Debian's Chromium driven by Playwright against pytest-django's
live server, on a freshly built copy of the demo data.

The live server runs in a thread and only sees committed data, so these tests are
transactional: pytest-django runs them after the others and empties every table after each
one. The demo data is therefore built at the start of each test, and built again after this
package for any database test that still follows.
"""

import importlib
from pathlib import Path

import pytest
from django.apps import apps as django_apps

from kpo.demo import DemoBuilder

from .support import CHROMIUM, LAUNCH_ARGS, SCREENSHOTS, BrowserRun

HERE = Path(__file__).parent


def seed_demo() -> None:
    """The demo data of shared/DEMO.md. The flush that ends a transactional test also empties
    the service-line catalogue written by a data migration, so that comes back first;
    DemoBuilder changes nothing when the data is already there."""
    catalogue = importlib.import_module("vendors.migrations.0002_service_line_catalogue")
    catalogue.create_catalogue(django_apps, None)
    DemoBuilder().build()


def _uses_database(item) -> bool:
    return item.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db", "live_server"} & set(getattr(item, "fixturenames", ()))
    )


@pytest.fixture(scope="package", autouse=True)
def _demo_data_back_afterwards(request, django_db_blocker):
    yield
    items = request.session.items
    ours = [i for i, item in enumerate(items) if item.path.is_relative_to(HERE)]
    if not ours or not any(_uses_database(item) for item in items[max(ours) + 1 :]):
        return
    with django_db_blocker.unblock():
        seed_demo()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package")
    # Playwright's sync API keeps an event loop running in this thread for as long as the
    # browser is open; the ORM calls made here meanwhile (building the demo data, the flush
    # after each test) are still plain synchronous ones.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_api.sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            try:
                yield chromium
            finally:
                chromium.close()


@pytest.fixture
def site(browser, transactional_db, live_server, monkeypatch):
    """The live server's URL, with the demo data committed where its thread can read it."""
    # No worker runs here: outbox rows simply wait, and nothing is published to whatever
    # broker the developer's settings name.
    monkeypatch.setattr("kpo.notifications.services.wake_senders", lambda: None)
    seed_demo()
    return live_server.url


@pytest.fixture
def run(browser, site):
    axe = pytest.importorskip("axe_playwright_python.sync_playwright")
    browser_run = BrowserRun(browser, site, axe.Axe())
    try:
        yield browser_run
    finally:
        browser_run.close()
        report = browser_run.report()
        (SCREENSHOTS / "report.txt").write_text(report + "\n")
        print(report)
