"""axe-core's scan of what a visitor meets: the home page, the form with its
errors, and the confirmation once sent, in light and dark."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from .helpers import message_values, send_message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Axe()
BLOCKING = {"serious", "critical"}


def scan(page: Page, report, state: str) -> list[str]:
    """Run axe on the page; report what it found, return the blocking ones.

    Rules axe could not decide (``incomplete``, such as contrast over a
    gradient) are reported for a person to look at, not failed.
    """
    results = AXE.run(page).response
    violations = results["violations"]
    found = [
        f"{v['impact']} {v['id']}: {v['help']} "
        f"({', '.join(str(node['target']) for node in v['nodes'])})"
        for v in violations
    ]
    undecided = ", ".join(rule["id"] for rule in results["incomplete"]) or "none"
    report(
        f"axe on {state}: {len(results['passes'])} rules passed; "
        f"violations: {'; '.join(found) or 'none'}; undecided: {undecided}"
    )
    assert results["passes"], "axe checked nothing"
    return [
        line
        for line, v in zip(found, violations, strict=True)
        if v["impact"] in BLOCKING
    ]


def scan_light_and_dark(page: Page, report, state: str) -> list[str]:
    blocking = scan(page, report, f"{state}, light")
    # Reduced motion switches transitions off, so the scan sees the dark
    # colours themselves rather than a button halfway between two schemes.
    page.emulate_media(color_scheme="dark", reduced_motion="reduce")
    blocking += scan(page, report, f"{state}, dark")
    page.emulate_media(color_scheme="light", reduced_motion="no-preference")
    return blocking


@pytest.mark.parametrize("width", [1280, 390])
def test_home_page(open_page, report, width):
    page, _ = open_page(viewport={"width": width, "height": 800})

    page.goto("/")

    assert scan_light_and_dark(page, report, f"the home page, {width} px") == []


def test_form_with_errors(page, watch, report):
    watch.allow("status of 422")

    send_message(page, message_values(email="ada.example.com", subject=""))
    expect(page.locator("[aria-invalid='true']")).to_have_count(2)

    assert scan_light_and_dark(page, report, "the form with errors") == []


def test_confirmation_once_sent(page, report):
    send_message(page, message_values())
    expect(page.locator("#contact-status")).to_have_attribute(
        "data-status", "sent", timeout=10_000
    )

    assert scan_light_and_dark(page, report, "the confirmation, sent") == []


def test_status_page(page, report):
    send_message(page, message_values())
    expect(page.locator(".confirmation")).to_be_visible()

    page.reload()

    expect(page.locator("h1.confirmation__title")).to_be_visible()
    assert scan_light_and_dark(page, report, "the status page") == []
