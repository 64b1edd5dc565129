"""The contact form with JavaScript off: post/redirect/get and a page that
refreshes itself until the status is final."""

import re

import pytest
from playwright.sync_api import expect

from contact.models import ContactMessage
from tests.integration.services import wait_until

from .helpers import (
    expect_whole_page,
    fill_contact_form,
    fill_in_then_lose_the_csrf_cookie,
    message_values,
    saved_message,
    send_message,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STATUS_PAGE = re.compile(r"/contact/status/[\w-]+/$")


@pytest.fixture
def page_and_watch(open_page):
    return open_page(java_script_enabled=False)


@pytest.fixture
def slow_smtp(site):
    """Make the SMTP server take 2 s per email, so the first status page a
    visitor sees is not final yet."""
    site.smtp.delay = 2.0
    yield
    site.smtp.delay = 0.0


def test_message_goes_through_and_the_status_page_refreshes_to_sent(
    page, site, slow_smtp, report
):
    values = message_values()
    loads = []
    page.on("load", lambda _: loads.append(page.url))

    send_message(page, values)
    expect(page).to_have_url(STATUS_PAGE)
    first_status = page.locator("#contact-status").get_attribute("data-status")
    expect(page.locator("#contact-status")).to_have_attribute(
        "data-status", "sent", timeout=15_000
    )

    report(f"without JavaScript: first status page said '{first_status}'")
    assert first_status in ("queued", "sending")
    # Two loads of the status page: the redirect, then the refresh.
    assert len([url for url in loads if STATUS_PAGE.search(url)]) >= 2
    message = saved_message(values["email"])
    expect(page.locator("h1.confirmation__title")).to_be_visible()
    expect(page.locator(".reference")).to_have_text(message.reference)
    expect_whole_page(page)
    assert wait_until(lambda: len(site.emails_about(message.reference)) == 2, 10)


def test_invalid_input_comes_back_on_a_whole_page_with_its_errors(page, watch):
    values = message_values(email="ada.example.com")
    watch.allow("status of 422")

    send_message(page, values)

    expect(page).to_have_url(re.compile(r"/contact/$"))
    expect_whole_page(page)
    expect(page.get_by_role("alert")).to_contain_text("Please correct")
    email = page.locator(".field:has([name='email'])")
    expect(email.locator(".errorlist")).to_be_visible()
    for name, value in values.items():
        expect(page.locator(f"#contact-form [name='{name}']")).to_have_value(value)
    assert ContactMessage.objects.count() == 0

    fill_contact_form(page, {"email": "ada@example.com"})
    page.get_by_role("button", name="Send message").click()

    expect(page).to_have_url(STATUS_PAGE)
    assert ContactMessage.objects.filter(email="ada@example.com").count() == 1


def test_a_lost_csrf_cookie_comes_back_as_the_form_with_the_text(page, watch):
    watch.allow("status of 403")
    values = message_values()
    fill_in_then_lose_the_csrf_cookie(page, values)

    page.get_by_role("button", name="Send message").click()

    expect_whole_page(page)
    expect(page.get_by_role("alert")).to_contain_text("security check had expired")
    for name, value in values.items():
        expect(page.locator(f"#contact-form [name='{name}']")).to_have_value(value)
    assert ContactMessage.objects.count() == 0

    page.get_by_role("button", name="Send message").click()

    expect(page).to_have_url(STATUS_PAGE)
    assert ContactMessage.objects.filter(email=values["email"]).count() == 1


def test_back_and_forward_after_sending_show_whole_pages(page, site):
    send_message(page, message_values())
    expect(page).to_have_url(STATUS_PAGE)
    status_url = page.url

    page.go_back()

    expect(page).to_have_url(site.url + "/")
    expect(page.locator("form#contact-form")).to_be_visible()
    expect_whole_page(page)

    page.go_forward()

    expect(page).to_have_url(status_url)
    expect(page.locator("h1.confirmation__title")).to_be_visible()
    expect_whole_page(page)
