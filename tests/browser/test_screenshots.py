"""Screenshots of the form, its errors and the sent state on a phone and a
desktop, saved for a person to look at; the layout must not overflow."""

import pytest
from playwright.sync_api import Page, expect

from .helpers import fill_contact_form, message_values

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}


def assert_fits_the_width(page: Page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{overflow} px wider than the screen"


@pytest.mark.parametrize("screen", SCREENS)
def test_form_errors_and_sent_state(open_page, screenshot_dir, screen):
    page, watch = open_page(**SCREENS[screen])
    watch.allow("status of 422")
    width = SCREENS[screen]["viewport"]["width"]
    contact = page.locator("#contact")
    shots = []

    def shoot(name: str, full_page: bool = False) -> None:
        # caret="initial": hiding the caret makes Playwright inject a <style>,
        # which the site's Content Security Policy rightly blocks and reports.
        path = screenshot_dir / f"{width}-{name}.png"
        if full_page:
            page.screenshot(path=path, full_page=True, caret="initial")
        else:
            contact.screenshot(path=path, caret="initial")
        shots.append(path)
        assert_fits_the_width(page)

    page.goto("/")
    shoot("1-home", full_page=True)
    shoot("2-form")
    fill_contact_form(page, message_values(email="ada.example.com", subject=" "))
    page.get_by_role("button", name="Send message").click()
    expect(page.locator("[aria-invalid='true']")).to_have_count(2)
    shoot("3-errors")
    fill_contact_form(page, {"email": "ada@example.com", "subject": "Engines"})
    page.get_by_role("button", name="Send message").click()
    expect(page.locator("#contact-status")).to_have_attribute(
        "data-status", "sent", timeout=10_000
    )
    shoot("4-sent")
    page.reload()
    expect(page.locator("h1.confirmation__title")).to_be_visible()
    shoot("5-status-page", full_page=True)

    assert all(path.stat().st_size > 0 for path in shots)
