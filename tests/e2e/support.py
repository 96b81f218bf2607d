"""Driving the browser UI in Debian's Chromium for the end-to-end tests.

`BrowserRun` keeps one browser context per demo user (each signed in through the real sign-in
form), writes a numbered screenshot of every main page to var/screenshots/, runs axe-core on
it, and collects every console error, script error and failed request of the whole run, so
the test can assert on all of them at the end and print the accessibility summary.
"""

import contextlib
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model

from kpo.demo import DEMO_ADMINS, DEMO_PASSWORD
from tests.support import otp_code

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"
IMPACTS = ("critical", "serious", "moderate", "minor")
# Violations of these impacts fail the run; the others are reported.
BLOCKING_IMPACTS = ("critical", "serious")
VIEWPORT = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
# How Chromium reports a response with an error status in the console.
STATUS_MESSAGE = re.compile(r"the server responded with a status of (\d+)")


@dataclass
class PageCheck:
    """One main page as the run saw it: its screenshot and axe-core's violations."""

    name: str
    url: str
    screenshot: Path
    violations: list = field(default_factory=list)

    def count(self, impact: str) -> int:
        return sum(1 for violation in self.violations if violation["impact"] == impact)

    def blocking(self) -> list:
        return [v for v in self.violations if v["impact"] in BLOCKING_IMPACTS]


class BrowserRun:
    def __init__(self, browser, base_url: str, axe):
        self.browser = browser
        self.base_url = base_url
        self.axe = axe
        self.pages: dict = {}
        self.checks: list[PageCheck] = []
        self.problems: list[str] = []
        self.steps: list[tuple[str, float]] = []
        self.expected_statuses: set[int] = set()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for old in SCREENSHOTS.glob("*.png"):
            old.unlink()

    # -- users ------------------------------------------------------------------------------

    def as_user(self, username: str, login_screenshot: str | None = None):
        """The page of `username`'s own browser context, signed in through the sign-in form
        on first use (checking the sign-in page too when `login_screenshot` names it)."""
        if username not in self.pages:
            self.pages[username] = self._sign_in(username, login_screenshot)
        return self.pages[username]

    def _sign_in(self, username: str, screenshot: str | None):
        from playwright.sync_api import expect

        page = self._new_page()
        page.goto("/accounts/login/")
        if screenshot:
            self.check(page, screenshot)
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        self.submit(page, page.get_by_role("button", name="Sign in"))
        if username in DEMO_ADMINS:
            # Admins also give the code their authenticator app shows now.
            user = get_user_model().objects.get(username=username)
            page.get_by_label("Code").fill(otp_code(user))
            self.submit(page, page.get_by_role("button", name="Verify and sign in"))
        expect(page.locator(".message-success")).to_contain_text("Signed in as")
        return page

    def on_phone(self, username: str):
        """A phone-sized window of `username`'s session (already signed in)."""
        state = self.as_user(username).context.storage_state()
        page = self._new_page(viewport=PHONE, storage_state=state, is_mobile=True)
        self.pages[f"{username} (phone)"] = page
        return page

    def _new_page(self, viewport=VIEWPORT, **options):
        context = self.browser.new_context(
            base_url=self.base_url, viewport=viewport, accept_downloads=True, **options
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        self._watch(page)
        return page

    def close(self):
        for page in self.pages.values():
            page.context.close()

    # -- what the browser reports -----------------------------------------------------------

    def _watch(self, page):
        def on_console(message):
            if message.type != "error":
                return
            status = STATUS_MESSAGE.search(message.text)
            if status and int(status.group(1)) in self.expected_statuses:
                return
            self.problems.append(f"console error on {page.url}: {message.text}")

        def on_response(response):
            if response.status == 404 or response.status >= 500:
                self.problems.append(f"HTTP {response.status} for {response.url}")

        def on_failed(request):
            # A download ends its navigation with ERR_ABORTED: the browser saves the file.
            if "/download/" in request.url and "ERR_ABORTED" in (request.failure or ""):
                return
            self.problems.append(f"request failed: {request.url} ({request.failure})")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        page.on("response", on_response)
        page.on("requestfailed", on_failed)

    # -- actions and checks -----------------------------------------------------------------

    @staticmethod
    def submit(page, button):
        """Click a button that posts a form, and wait for the page the server answers with."""
        with page.expect_navigation(wait_until="load"):
            button.click()

    def check(self, page, name: str) -> PageCheck:
        """A numbered full-page screenshot and an axe-core run of the page as it is now."""
        page.wait_for_load_state("load")
        path = SCREENSHOTS / f"{len(self.checks) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        results = self.axe.run(page)
        violations = [
            {
                "id": violation["id"],
                "impact": violation["impact"],
                "help": violation["help"],
                "nodes": [node["target"] for node in violation["nodes"]],
            }
            for violation in results.response["violations"]
        ]
        check = PageCheck(name=path.stem, url=page.url, screenshot=path, violations=violations)
        self.checks.append(check)
        return check

    @contextlib.contextmanager
    def expecting_status(self, status: int):
        """While a page answers `status` on purpose (a form re-rendered with its errors is a
        400), the console message Chromium logs for it is no problem."""
        self.expected_statuses.add(status)
        try:
            yield
        finally:
            self.expected_statuses.discard(status)

    @contextlib.contextmanager
    def step(self, title: str):
        started = time.monotonic()
        try:
            yield
        finally:
            self.steps.append((title, time.monotonic() - started))

    # -- the report -------------------------------------------------------------------------

    def report(self) -> str:
        lines = ["", "Story steps", "-----------"]
        for title, seconds in self.steps:
            lines.append(f"{seconds:6.1f}s  {title}")
        lines.append(f"{sum(seconds for _, seconds in self.steps):6.1f}s  in total")
        lines += [
            "",
            "axe-core violations per page (rules: impact × nodes)",
            "----------------------------------------------------",
            f"{'page':44} {'crit':>4} {'ser':>4} {'mod':>4} {'min':>4}  rules",
        ]
        for check in self.checks:
            counts = [check.count(impact) for impact in IMPACTS]
            rules = ", ".join(
                f"{v['id']} ({v['impact']} ×{len(v['nodes'])})" for v in check.violations
            )
            lines.append(
                f"{check.name:44} " + " ".join(f"{n:>4}" for n in counts) + f"  {rules or '–'}"
            )
        totals = Counter(v["impact"] for check in self.checks for v in check.violations)
        lines.append(
            f"{'all ' + str(len(self.checks)) + ' pages':44} "
            + " ".join(f"{totals.get(impact, 0):>4}" for impact in IMPACTS)
        )
        return "\n".join(lines)
