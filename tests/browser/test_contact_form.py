"""The contact form as a visitor with JavaScript meets it, on the real stack."""

import re
import time

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

# Notes when the click reaches the page and when the confirmation is first
# painted (the frame after it enters the DOM), on the page's own clock.
MEASURE_CONFIRMATION = """() => {
  window.confirmationTiming = {};
  document.addEventListener("click", () => {
    window.confirmationTiming.clickedAt ??= performance.now();
  }, {capture: true});
  new MutationObserver((records, observer) => {
    if (document.querySelector("#contact-form.confirmation")) {
      observer.disconnect();
      requestAnimationFrame(() => {
        window.confirmationTiming.shownAt = performance.now();
        document.documentElement.dataset.confirmationShown = "true";
      });
    }
  }).observe(document.body, {childList: true, subtree: true});
}"""

# Counts replacements of the status line inside its live region.
COUNT_STATUS_SWAPS = """() => {
  window.firstStatus = document.getElementById("contact-status");
  window.statusSwaps = 0;
  new MutationObserver(() => { window.statusSwaps += 1; }).observe(
    document.querySelector(".status-region"), {childList: true}
  );
}"""

ANY = re.compile(".*")


def test_valid_message_is_confirmed_at_once_then_sent_and_polling_stops(
    page, watch, site, report
):
    values = message_values()
    page.goto("/")
    fill_contact_form(page, values)
    page.evaluate(MEASURE_CONFIRMATION)
    status = page.locator("#contact-status")

    page.get_by_role("button", name="Send message").click()
    # An attribute to wait on: wait_for_function would need eval, which the
    # site's Content Security Policy refuses.
    expect(page.locator("html")).to_have_attribute("data-confirmation-shown", "true")
    shown = time.monotonic()
    expect(status).to_have_attribute("data-status", "sent", timeout=10_000)
    to_sent = time.monotonic() - shown
    polls_until_final = len(watch.status_responses())
    page.wait_for_timeout(2500)  # two and a half polling intervals

    timing = page.evaluate("window.confirmationTiming")
    shown_ms = timing["shownAt"] - timing["clickedAt"]
    report(f"confirmation painted {shown_ms:.0f} ms after the click")
    report(
        f"'sent' shown {to_sent:.1f} s after the confirmation, "
        f"after {polls_until_final} status poll(s)"
    )
    # The 300 ms target is the benchmark's to hold on a quiet machine; this
    # shared one only has to stay far from a visitor's patience.
    assert shown_ms < 3000
    message = saved_message(values["email"])
    expect(page.locator(".reference")).to_have_text(message.reference)
    expect(page.locator("#contact-form.confirmation")).to_be_focused()
    assert page.url == site.url + message.get_absolute_url()
    assert wait_until(lambda: len(site.emails_about(message.reference)) == 2, 5)
    # Polling ended with the final answer: HTTP 286 and no trigger left.
    codes = watch.status_responses()
    assert len(codes) == polls_until_final
    assert codes[-1] == 286
    assert set(codes[:-1]) <= {200}
    expect(status).not_to_have_attribute("hx-get", ANY)


def test_sending_shows_an_indicator_and_disables_the_button(page):
    held = []
    page.goto("/")
    fill_contact_form(page, message_values())
    page.route("**/contact/", lambda route: held.append(route))
    button = page.get_by_role("button", name="Send message")

    button.click()
    deadline = time.monotonic() + 5
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(20)

    assert held, "the click sent no request"
    expect(button).to_be_disabled()
    expect(page.get_by_text("Sending…")).to_be_visible()
    held[0].continue_()
    expect(page.locator(".confirmation")).to_be_visible()


def test_double_click_sends_one_message(page, watch, site):
    values = message_values()
    page.goto("/")
    fill_contact_form(page, values)

    page.get_by_role("button", name="Send message").dblclick()
    expect(page.locator("#contact-status")).to_have_attribute(
        "data-status", "sent", timeout=10_000
    )
    page.wait_for_timeout(1000)  # room for a second message to show up

    assert len(watch.posts()) == 1
    assert ContactMessage.objects.filter(email=values["email"]).count() == 1
    assert wait_until(lambda: len(site.emails_for(values["email"])) >= 2, 5)
    assert len(site.emails_for(values["email"])) == 2


INVALID_INPUTS = {
    "nothing filled in": ({}, ["name", "email", "subject", "message"]),
    "a malformed email address": (
        message_values(email="ada.example.com"),
        ["email"],
    ),
    "blanks only": (
        message_values(subject="   ", message=" \n\t "),
        ["subject", "message"],
    ),
}


@pytest.mark.parametrize("kind", INVALID_INPUTS)
def test_invalid_input_shows_errors_by_their_fields(page, watch, kind):
    values, in_error = INVALID_INPUTS[kind]
    watch.allow("status of 422")
    page.goto("/")
    fill_contact_form(page, values)

    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct")

    for name in in_error:
        field = page.locator(f".field:has([name='{name}'])")
        error = field.locator(".errorlist")
        widget = field.locator(f"[name='{name}']")
        expect(error).to_be_visible()
        expect(widget).to_have_attribute("aria-invalid", "true")
        # Directly above its own input, not gathered somewhere else.
        gap = widget.bounding_box()["y"] - sum(
            error.bounding_box()[key] for key in ("y", "height")
        )
        assert 0 <= gap < 24, (name, gap)
    valid = {"name", "email", "subject", "message"} - set(in_error)
    expect(page.locator("[aria-invalid='true']")).to_have_count(len(in_error))
    for name in valid:
        expect(page.locator(f".field:has([name='{name}']) .errorlist")).to_have_count(0)
    for name, value in values.items():
        expect(page.locator(f"#contact-form [name='{name}']")).to_have_value(value)
    expect(page.locator(f"#contact-form [name='{in_error[0]}']")).to_be_focused()
    assert ContactMessage.objects.count() == 0


def fail_posts(failure: str):
    def handle(route):
        if route.request.method != "POST":
            route.continue_()
        elif failure == "server error":
            route.fulfill(
                status=500, content_type="text/html", body="<h1>Server Error (500)</h1>"
            )
        else:
            route.abort("connectionreset")

    return handle


@pytest.mark.parametrize("failure", ["server error", "dropped connection"])
def test_failed_post_shows_a_short_message_and_the_form_stays_usable(
    page, watch, failure
):
    watch.allow(
        "status of 500",
        "Response Status Error Code 500",
        "ERR_CONNECTION_RESET",
        "htmx:sendError",
        "htmx:afterRequest",
    )
    values = message_values()
    page.goto("/")
    fill_contact_form(page, values)
    page.route("**/contact/", fail_posts(failure))
    button = page.get_by_role("button", name="Send message")

    button.click()

    problem = page.locator(".form-alert--network")
    expect(problem).to_contain_text("could not be sent just now")
    expect(problem).to_be_focused()
    expect(page.get_by_text("Server Error")).to_have_count(0)
    expect(page.locator("form#contact-form")).to_be_visible()
    for name, value in values.items():
        expect(page.locator(f"#contact-form [name='{name}']")).to_have_value(value)
    expect(button).to_be_enabled()
    assert ContactMessage.objects.count() == 0

    page.unroute("**/contact/")
    button.click()

    expect(page.locator(".confirmation")).to_be_visible()
    assert ContactMessage.objects.filter(email=values["email"]).count() == 1


def test_a_lost_csrf_cookie_costs_one_more_click_and_no_text(page, watch):
    watch.allow("status of 403")
    values = message_values()
    fill_in_then_lose_the_csrf_cookie(page, values)
    button = page.get_by_role("button", name="Send message")

    button.click()

    note = page.locator("#contact-form .form-alert")
    expect(note).to_contain_text("security check had expired")
    expect(note).to_be_focused()
    for name, value in values.items():
        expect(page.locator(f"#contact-form [name='{name}']")).to_have_value(value)
    assert ContactMessage.objects.count() == 0

    button.click()

    expect(page.locator(".confirmation")).to_be_visible()
    assert ContactMessage.objects.filter(email=values["email"]).count() == 1


def test_status_polls_that_keep_failing_end_with_a_calm_message(page, watch):
    watch.allow("status of 500", "Response Status Error Code 500")
    page.route(
        "**/contact/status/**",
        lambda route: route.fulfill(status=500, body="Server Error (500)"),
    )

    send_message(page, message_values())
    status = page.locator("#contact-status")
    expect(status).to_contain_text("cannot check the status right now")
    page.wait_for_timeout(2500)  # two and a half polling intervals

    assert watch.status_responses() == [500, 500, 500]
    expect(status).not_to_have_attribute("hx-get", ANY)
    expect(status).to_have_attribute("data-status", "queued")


def test_unchanged_status_is_not_swapped_in_again(page):
    # The first two polls answer with the status line the visitor already
    # sees, as a slow worker would; then the real answers come through.
    repeat = {"left": 2, "html": None}

    def repeat_status(route):
        if repeat["left"] and repeat["html"]:
            repeat["left"] -= 1
            route.fulfill(status=200, content_type="text/html", body=repeat["html"])
        else:
            route.continue_()

    page.route("**/contact/status/**", repeat_status)
    send_message(page, message_values())
    expect(page.locator(".confirmation")).to_be_visible()
    repeat["html"] = page.locator("#contact-status").evaluate("e => e.outerHTML")
    page.evaluate(COUNT_STATUS_SWAPS)

    deadline = time.monotonic() + 10
    while repeat["left"] and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    swaps_while_unchanged = page.evaluate("window.statusSwaps")
    same_element = page.evaluate(
        "document.getElementById('contact-status') === window.firstStatus"
    )
    expect(page.locator("#contact-status")).to_have_attribute(
        "data-status", "sent", timeout=10_000
    )

    assert repeat["left"] == 0
    assert swaps_while_unchanged == 0
    assert same_element
    assert page.evaluate("window.statusSwaps") > 0


def test_back_and_forward_after_sending_show_whole_pages(page, site):
    values = message_values()
    send_message(page, values)
    expect(page.locator(".confirmation")).to_be_visible()
    status_url = site.url + saved_message(values["email"]).get_absolute_url()
    expect(page).to_have_url(status_url)

    page.go_back()

    expect(page).to_have_url(site.url + "/")
    expect(page.locator("form#contact-form")).to_be_visible()
    expect_whole_page(page)

    page.go_forward()

    expect(page).to_have_url(status_url)
    expect(page.locator("h1.confirmation__title")).to_be_visible()
    expect_whole_page(page)

    page.reload()

    expect(page.locator("h1.confirmation__title")).to_be_visible()
    expect_whole_page(page)
