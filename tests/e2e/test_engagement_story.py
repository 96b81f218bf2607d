"""An engagement from the client's first draft to the knowledge library, through the browser UI
in Debian's Chromium, one demo user at a time (shared/DEMO.md).

Alpha's manager creates and proposes an engagement with Bio-Analytics; Bio-Analytics' admin
accepts it, names its lead and staffs it with the Biostatistics team; the manager plans a
deliverable for the analyst, who starts it and uploads version 1; QA passes it; the manager
requests changes with scores; the analyst uploads version 2; QA passes it; the manager
accepts it with scores above the threshold. The provider's scorecard then counts the delivery
and the knowledge library finds it by a word of its title.

Every main page seen on the way is screenshotted to var/screenshots/ and checked with
axe-core: no serious or critical violation is allowed, and the summary of all of them is
printed (run with -s). No page may log a console error, and no request may answer 404 or 5xx.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from .support import CHROMIUM

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs Debian's Chromium at {CHROMIUM}"),
    pytest.mark.django_db(transaction=True),
]

PDF_V1 = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
PDF_V2 = b"%PDF-1.4\n% version 2: dose groups split\n1 0 obj<<>>endobj\n%%EOF\n"
ENGAGEMENT = "Cohort B exposure modelling"
DELIVERABLE = "Cohort B pharmacokinetics report"
SEARCH_WORD = "pharmacokinetics"
PROVIDER = "Bio-Analytics Solutions"
DANGER_RED = "rgb(180, 35, 24)"  # --danger in static/css/app.css


def pdf(name: str, body: bytes) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": body}


def flash(page):
    return page.locator("#messages .message")


def header_badges(page):
    return page.locator(".page-header .badge")


def score(page, criterion: str, value: int) -> None:
    """Pick a rubric score the way a reviewer does: click the number under the criterion."""
    group = page.get_by_role("group", name=re.compile(rf"^{criterion}\b"))
    group.locator("label.score-option").filter(has_text=re.compile(rf"^{value}")).click()


def test_an_engagement_runs_from_proposal_to_the_knowledge_library(run):
    from playwright.sync_api import expect

    # -- Alpha's manager drafts the engagement and proposes it --------------------------------
    with run.step("alpha.manager signs in"):
        manager = run.as_user("alpha.manager", login_screenshot="login")
        expect(flash(manager)).to_have_text(re.compile("Signed in as Amir Manager"))
        expect(manager.locator(".site-nav [aria-current=page]")).to_have_text("Dashboard")
        run.check(manager, "dashboard-client-manager")

    with run.step("alpha.manager filters the engagement list (htmx)"):
        manager.get_by_role("link", name="Engagements", exact=True).click()
        expect(manager.get_by_role("heading", name="Engagements", level=1)).to_be_visible()
        run.check(manager, "engagement-list")
        manager.get_by_label("Status", exact=True).select_option(label="Proposed")
        expect(manager).to_have_url(re.compile(r"status=proposed"))
        results = manager.locator("#engagement-results")
        expect(results).to_contain_text("Real-world evidence dashboard")
        expect(results).not_to_contain_text("Phase II oncology trial analysis")

    with run.step("alpha.manager is told what is missing in the new engagement form"):
        manager.get_by_role("link", name="New engagement").click()
        with run.expecting_status(400):
            run.submit(manager, manager.get_by_role("button", name="Create draft"))
        title = manager.get_by_label("Title", exact=True)
        expect(title).to_have_attribute("aria-invalid", "true")
        expect(manager.locator(".form-errors")).to_contain_text("Please correct")
        expect(manager.locator(".field-invalid").first).to_contain_text("This field is required")
        # The red border of an invalid input wins over the form's own input border.
        expect(title).to_have_css("border-top-color", DANGER_RED)
        run.check(manager, "engagement-form-errors")

    with run.step("alpha.manager creates the draft and proposes it"):
        title.fill(ENGAGEMENT)
        manager.get_by_label("Brief", exact=True).fill(
            "Exposure-response model for cohort B of the trial."
        )
        manager.get_by_label("Service line", exact=True).select_option(
            label="Clinical data analysis"
        )
        provider = manager.get_by_label("Provider", exact=True)
        provider.select_option(provider.locator("option", has_text=PROVIDER).get_attribute("value"))
        manager.get_by_label("Budget", exact=True).fill("48000")
        run.submit(manager, manager.get_by_role("button", name="Create draft"))
        expect(flash(manager)).to_contain_text("was created as a draft")
        expect(header_badges(manager).first).to_have_text("Draft")
        expect(manager.get_by_role("heading", level=1)).to_have_text(ENGAGEMENT)
        engagement_url = manager.url
        run.check(manager, "engagement-detail-draft")

        run.submit(manager, manager.get_by_role("button", name="Propose to provider"))
        expect(flash(manager)).to_contain_text(f"was proposed to {PROVIDER}")
        expect(header_badges(manager).first).to_have_text("Proposed")

    # -- Bio-Analytics' admin accepts, names the lead and staffs it ---------------------------
    with run.step("bio.admin accepts the proposal, names the lead and assigns the team"):
        admin = run.as_user("bio.admin")
        proposals = admin.locator("section", has=admin.locator("#proposals-title"))
        expect(proposals).to_contain_text(ENGAGEMENT)
        run.check(admin, "dashboard-provider-admin")
        proposals.get_by_role("link", name=ENGAGEMENT, exact=True).click()
        run.submit(admin, admin.get_by_role("button", name="Accept proposal"))
        expect(flash(admin)).to_contain_text("was accepted; it is now active")
        expect(header_badges(admin).first).to_have_text("Active")

        admin.get_by_label("Lead", exact=True).select_option(label="Bruno Lead · Engagement lead")
        run.submit(admin, admin.get_by_role("button", name="Save lead"))
        expect(flash(admin)).to_contain_text("Bruno Lead now leads")

        admin.get_by_label("Biostatistics", exact=True).check()
        run.submit(admin, admin.get_by_role("button", name="Save teams"))
        expect(flash(admin)).to_contain_text("is staffed by Biostatistics")
        team = admin.locator("section", has=admin.locator("#team-title"))
        expect(team).to_contain_text("Bruno Lead")
        expect(team).to_contain_text("Biostatistics")
        run.check(admin, "engagement-overview-provider-admin")

    with run.step("bio.lead finds the engagement he now leads"):
        lead = run.as_user("bio.lead")
        led = lead.locator("section", has=lead.locator("#led-title"))
        expect(led).to_contain_text(ENGAGEMENT)
        run.check(lead, "dashboard-engagement-lead")

    with run.step("bio.admin looks at the teams and their load"):
        admin.get_by_role("link", name="Teams", exact=True).click()
        expect(admin.locator(".site-nav [aria-current=page]")).to_have_text("Teams")
        expect(admin.get_by_role("link", name="Biostatistics")).to_be_visible()
        run.check(admin, "teams")
        admin.get_by_role("link", name="Biostatistics").click()
        expect(admin.get_by_role("heading", name="Biostatistics", level=1)).to_be_visible()
        # The team's own page belongs to the Teams entry of the navigation too.
        expect(admin.locator(".site-nav [aria-current=page]")).to_have_text("Teams")
        run.check(admin, "team-edit")

    # -- the manager plans the work and shares an input ---------------------------------------
    with run.step("alpha.manager plans the deliverable for bio.analyst"):
        manager.goto(engagement_url)
        expect(header_badges(manager).first).to_have_text("Active")
        run.check(manager, "engagement-overview-client-manager")
        manager.get_by_role("link", name="Deliverables", exact=True).click()  # an htmx swap
        expect(manager).to_have_url(re.compile(r"tab=deliverables"))
        expect(manager.get_by_role("heading", name="Plan a deliverable")).to_be_visible()
        manager.get_by_label("Title", exact=True).fill(DELIVERABLE)
        manager.get_by_label("Description", exact=True).fill(
            "Non-compartmental pharmacokinetics of cohort B, by dose group."
        )
        due = timezone.now() + timedelta(days=10)
        manager.get_by_label("Due", exact=True).fill(due.strftime("%Y-%m-%dT%H:%M"))
        manager.get_by_label("Assignee", exact=True).select_option(label="Bina Analyst · Analyst")
        run.submit(manager, manager.get_by_role("button", name="Add to timeline"))
        expect(flash(manager)).to_contain_text(f"“{DELIVERABLE}” was added to the timeline")
        item = manager.locator(".timeline-item", has_text=DELIVERABLE)
        expect(item.locator(".badge").first).to_have_text("Planned")
        run.check(manager, "engagement-deliverables")

    with run.step("alpha.manager uploads an input to the data room"):
        manager.get_by_role("link", name="Data room", exact=True).click()
        expect(manager.get_by_role("heading", name="Upload a document")).to_be_visible()
        manager.get_by_label("File", exact=True).set_input_files(
            pdf("cohort-b-protocol.pdf", PDF_V1)
        )
        manager.get_by_label("Title", exact=True).fill("Cohort B protocol")
        run.submit(manager, manager.get_by_role("button", name="Upload", exact=True))
        expect(flash(manager)).to_contain_text("“Cohort B protocol” was added to the data room")
        run.check(manager, "engagement-data-room")
        manager.get_by_role("link", name="Activity", exact=True).click()
        expect(manager.get_by_role("link", name="Export CSV")).to_be_visible()
        expect(manager.locator("#engagement-tabs")).to_contain_text("engagement.accept")
        run.check(manager, "engagement-activity")

    # -- version 1: the analyst uploads, QA passes, the manager asks for changes --------------
    with run.step("bio.analyst starts the work, comments and uploads version 1"):
        analyst = run.as_user("bio.analyst")
        expect(analyst.locator("main")).to_contain_text(DELIVERABLE)
        run.check(analyst, "dashboard-analyst")
        analyst.get_by_role("link", name=DELIVERABLE).first.click()
        run.submit(analyst, analyst.get_by_role("button", name="Start work"))
        expect(flash(analyst)).to_contain_text("Work started")
        expect(header_badges(analyst).first).to_have_text("In progress")

        analyst.get_by_label("Add a comment", exact=True).fill(
            "Starting with the dose-group split."
        )
        analyst.get_by_role("button", name="Post comment").click()  # an htmx post
        expect(analyst.locator("#comment-list")).to_contain_text("dose-group split")
        expect(analyst.get_by_label("Add a comment", exact=True)).to_have_value("")

        analyst.get_by_label("File", exact=True).set_input_files(pdf("pk-report-v1.pdf", PDF_V1))
        expect(analyst.locator("[data-dropzone-status]")).to_contain_text("pk-report-v1.pdf")
        analyst.get_by_label("Notes for the reviewer", exact=True).fill("First full draft.")
        run.check(analyst, "deliverable-upload-form")
        run.submit(analyst, analyst.get_by_role("button", name="Upload version 1"))
        expect(flash(analyst)).to_contain_text("Version 1 uploaded and sent to provider QA")
        expect(header_badges(analyst).first).to_have_text("In QA")
        # The form posts to "…#upload-form"; the page itself is the URL without it.
        deliverable_url = analyst.url.split("#")[0]

    with run.step("bio.qa passes version 1"):
        qa = run.as_user("bio.qa")
        queue = qa.locator("section", has=qa.locator("#qa-title"))
        expect(queue).to_contain_text(DELIVERABLE)
        run.check(qa, "dashboard-qa")
        queue.get_by_role("link", name=DELIVERABLE).click()
        qa.get_by_label("Pass — send it to the client", exact=True).check()
        qa.get_by_label("Comment", exact=True).fill("Numbers reconcile with the listings.")
        run.check(qa, "deliverable-qa-form")
        run.submit(qa, qa.get_by_role("button", name="Record QA decision"))
        expect(flash(qa)).to_contain_text("QA passed")
        expect(header_badges(qa).first).to_have_text("In client review")

    with run.step("alpha.manager downloads version 1 and requests changes with scores"):
        manager.goto("/")
        review = manager.locator("section", has=manager.locator("#review-title"))
        expect(review).to_contain_text(DELIVERABLE)
        run.check(manager, "dashboard-client-manager-review-waiting")
        review.get_by_role("link", name=DELIVERABLE).click()
        expect(manager.locator("#rubric-threshold")).to_contain_text("3.00")
        with manager.expect_download() as download:
            manager.get_by_role("link", name="Download pk-report-v1.pdf").click()
        assert download.value.suggested_filename == "pk-report-v1.pdf"
        assert Path(download.value.path()).read_bytes() == PDF_V1

        manager.get_by_label("Request changes", exact=True).check()
        for criterion, value in (
            ("Accuracy", 3),
            ("Completeness", 2),
            ("Insight", 3),
            ("Relevance", 4),
            ("Presentation", 3),
        ):
            score(manager, criterion, value)
        manager.get_by_label("Comment for the provider", exact=True).fill(
            "Split the table by dose group."
        )
        run.check(manager, "deliverable-review-form")
        run.submit(manager, manager.get_by_role("button", name="Submit review"))
        expect(flash(manager)).to_contain_text("Changes requested")
        expect(header_badges(manager).first).to_have_text("Changes requested")

    # -- version 2: uploaded, passed, accepted -------------------------------------------------
    with run.step("bio.analyst uploads version 2"):
        analyst.goto("/")
        returned = analyst.locator("section", has=analyst.locator("#returned-title"))
        expect(returned).to_contain_text(DELIVERABLE)
        analyst.goto(deliverable_url)
        expect(analyst.locator("#history")).to_contain_text("Request changes")
        analyst.get_by_label("File", exact=True).set_input_files(pdf("pk-report-v2.pdf", PDF_V2))
        run.check(analyst, "deliverable-changes-requested")
        run.submit(analyst, analyst.get_by_role("button", name="Upload version 2"))
        expect(flash(analyst)).to_contain_text("Version 2 uploaded and sent to provider QA")
        expect(header_badges(analyst).first).to_have_text("In QA")

    with run.step("bio.qa passes version 2"):
        qa.goto(deliverable_url)
        qa.get_by_label("Pass — send it to the client", exact=True).check()
        run.submit(qa, qa.get_by_role("button", name="Record QA decision"))
        expect(flash(qa)).to_contain_text("QA passed")

    with run.step("alpha.manager accepts version 2 with scores above the threshold"):
        manager.goto(deliverable_url)
        manager.get_by_label("Accept", exact=True).check()
        for criterion, value in (
            ("Accuracy", 5),
            ("Completeness", 4),
            ("Insight", 4),
            ("Relevance", 5),
            ("Presentation", 4),
        ):
            score(manager, criterion, value)
        run.submit(manager, manager.get_by_role("button", name="Submit review"))
        expect(flash(manager)).to_contain_text("Accepted. It is now in the knowledge library.")
        expect(header_badges(manager).first).to_have_text("Accepted")
        expect(manager.locator("#next-step")).to_contain_text("overall score of 4.40")
        expect(manager.locator("#versions .list-item")).to_have_count(2)
        run.check(manager, "deliverable-accepted")

    # -- what the accepted work shows up in ----------------------------------------------------
    with run.step("the scorecard counts the delivery"):
        manager.get_by_role("link", name="Providers", exact=True).click()
        run.check(manager, "provider-directory")
        manager.get_by_role("link", name=f"Scorecard of {PROVIDER}").click()
        expect(manager.get_by_role("heading", name=PROVIDER, level=1)).to_be_visible()
        row = manager.locator("tr", has=manager.get_by_role("link", name=ENGAGEMENT))
        expect(row.locator("td").nth(1)).to_have_text("1")  # delivered
        expect(row.locator("td").nth(3)).to_have_text("4.40")  # quality
        scorecard_url = manager.url
        run.check(manager, "scorecard")

    with run.step("the knowledge library finds it by a word of its title"):
        manager.get_by_role("link", name="Knowledge", exact=True).click()
        manager.get_by_label("Search accepted deliverables", exact=True).fill(SEARCH_WORD)
        with manager.expect_navigation():
            manager.get_by_role("button", name="Search").click()
        expect(manager.locator("#results-title")).to_contain_text(f"1 result for “{SEARCH_WORD}”")
        expect(manager.locator(".result")).to_contain_text(DELIVERABLE)
        expect(manager.locator(".result")).to_contain_text("4.40")
        run.check(manager, "knowledge")

    with run.step("alpha.manager reads the notifications and marks them read"):
        manager.locator(".header-tools").get_by_role(
            "link", name=re.compile("Notifications")
        ).click()
        expect(manager.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
        expect(manager.locator("main")).to_contain_text(DELIVERABLE)
        run.check(manager, "notifications")
        run.submit(manager, manager.get_by_role("button", name="Mark all as read"))
        expect(manager.locator(".unread-badge .count")).to_have_count(0)

    with run.step("alpha.manager opens the dashboard and the deliverable on a phone"):
        phone = run.on_phone("alpha.manager")
        phone.goto("/")
        expect(phone.get_by_role("heading", level=1)).to_contain_text("Amir")
        run.check(phone, "phone-dashboard-client-manager")
        phone.goto(deliverable_url)
        expect(header_badges(phone).first).to_have_text("Accepted")
        run.check(phone, "phone-deliverable-accepted")
        phone.goto(f"{engagement_url}?tab=activity")
        expect(phone.get_by_role("heading", name="Activity")).to_be_visible()
        run.check(phone, "phone-engagement-activity")
        phone.goto(scorecard_url)
        run.check(phone, "phone-scorecard")
        phone.goto("/notifications/")
        run.check(phone, "phone-notifications")

    # -- the client admin's pages --------------------------------------------------------------
    with run.step("alpha.admin checks vendor approvals and compares providers"):
        client_admin = run.as_user("alpha.admin")
        run.check(client_admin, "dashboard-client-admin")
        client_admin.get_by_role("link", name="Vendor approvals").click()
        expect(client_admin.locator("main")).to_contain_text(PROVIDER)
        run.check(client_admin, "vendor-approvals")
        client_admin.goto("/providers/compare/")
        expect(client_admin.get_by_role("heading", name="Compare providers")).to_be_visible()
        run.check(client_admin, "compare")

    with run.step("alpha.admin signs out"):
        client_admin.locator("summary.user-button").click()
        run.submit(client_admin, client_admin.get_by_role("button", name="Sign out"))
        expect(flash(client_admin)).to_contain_text("You have been signed out")
        run.check(client_admin, "signed-out")

    blocking = {
        check.name: [f"{v['id']} ({v['impact']}): {v['nodes']}" for v in check.blocking()]
        for check in run.checks
        if check.blocking()
    }
    assert not blocking, f"serious or critical axe-core violations: {blocking}"
    assert not run.problems, "the browser reported problems:\n" + "\n".join(run.problems)
