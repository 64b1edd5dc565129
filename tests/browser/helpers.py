import uuid

from playwright.sync_api import Page, expect

from contact.models import ContactMessage


def message_values(**overrides) -> dict:
    """Return a valid message from a visitor address no other test uses."""
    values = {
        "name": "Ada Lovelace",
        "email": f"visitor-{uuid.uuid4().hex[:10]}@example.com",
        "subject": "Notes on the engine",
        "message": "I have finished the notes.\nThey are longer than planned.",
    }
    values.update(overrides)
    return values


def fill_contact_form(page: Page, values: dict) -> None:
    for name, value in values.items():
        page.locator(f"#contact-form [name='{name}']").fill(value)


def send_message(page: Page, values: dict) -> None:
    """Open the home page, fill the form as a visitor would and submit it."""
    page.goto("/")
    fill_contact_form(page, values)
    page.get_by_role("button", name="Send message").click()


def fill_in_then_lose_the_csrf_cookie(page: Page, values: dict) -> None:
    """Fill the form on the home page, then drop the cookies, as a visitor
    who cleared them or whose browser expired them would."""
    page.goto("/")
    fill_contact_form(page, values)
    page.context.clear_cookies()


def expect_whole_page(page: Page) -> None:
    """Expect the site's header, footer and one main region: never a bare
    fragment where a page should be."""
    expect(page.locator("header.site-header")).to_be_visible()
    expect(page.locator("footer.site-footer")).to_be_visible()
    expect(page.locator("main")).to_have_count(1)


def saved_message(email: str) -> ContactMessage:
    return ContactMessage.objects.get(email=email)
