"""Debian's Chromium, driven by Playwright, against the real stack.

The site runs as deployed: the Procfile's ``web`` line (gunicorn, DEBUG off,
WhiteNoise) and ``worker`` line, on the suite's private Redis, the PostgreSQL
test database and an SMTP server started here. The browser and the stack are
package-scoped: started once while the browser tests run one after another,
and stopped before any other test (integration tests stop that Redis). Each
test gets fresh browser contexts, and every page is watched for script
errors and Content Security Policy violations.
"""

import datetime
import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from redis import Redis

from devtools.embedded_redis import free_port
from tests.integration.services import (
    ROOT,
    ProcfileProcess,
    SmtpSink,
    Visitor,
    database_url,
    service_env,
    wait_until,
)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

SCREENSHOTS = (
    ROOT
    / "test-artifacts"
    / "screenshots"
    / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
)

# Figures measured in the browser, printed at the end of the run.
MEASUREMENTS: list[str] = []

# Runs in every page before its own scripts, so a violation of a Content
# Security Policy reaches the console even where Chromium logs none itself.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(
    "Content Security Policy violation: " + event.violatedDirective +
    " blocked " + (event.blockedURI || "inline code") +
    " at " + event.sourceFile + ":" + event.lineNumber
  );
});
"""


class Site:
    """The Procfile's web and worker processes, on services of the suite."""

    def __init__(self, redis_url: str, log_dir: Path):
        self.redis_url = redis_url
        self.smtp = SmtpSink()
        self.port = free_port()
        env = service_env(
            DATABASE_URL=database_url(),
            REDIS_URL=redis_url,
            EMAIL_URL=self.smtp.url,
            PORT=self.port,
            WEB_CONCURRENCY=2,
            ALLOWED_HOSTS="127.0.0.1",
            # Browser tests fill forms in milliseconds and from one address;
            # the abuse guards would take them for a bot.
            CONTACT_MIN_FILL_SECONDS=0,
            CONTACT_RATE_LIMIT_PER_IP="",
            CONTACT_RATE_LIMIT_PER_EMAIL="",
        )
        self.web = ProcfileProcess("web", env, "browser-web", log_dir)
        self.worker = ProcfileProcess("worker", env, "browser-worker", log_dir)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Site":
        self.web.start()
        self.worker.start()
        redis = Redis.from_url(self.redis_url)
        if not wait_until(Visitor(self.url).answers, 30):
            raise RuntimeError(f"The web process did not answer:\n{self.logs()}")
        if not wait_until(lambda: redis.scard("rq:workers"), 30):
            raise RuntimeError(f"The worker did not register:\n{self.logs()}")
        return self

    def stop(self) -> None:
        self.web.stop()
        self.worker.stop()
        self.smtp.stop()

    def emails_about(self, reference: str) -> list:
        """Return the emails the SMTP server accepted for one message."""
        return [m for _, _, m in self.smtp.messages if reference in m["Subject"]]

    def emails_for(self, address: str) -> list:
        """Return the emails about one visitor: notification and auto-reply."""
        return [
            m
            for _, recipients, m in self.smtp.messages
            if address in recipients or address in str(m["Reply-To"])
        ]

    def logs(self) -> str:
        return f"--- web ---\n{self.web.log()}\n--- worker ---\n{self.worker.log()}"


class PageWatch:
    """Collect what a page reported: console errors, uncaught script errors,
    and its requests and responses, in order.

    ``problems()`` is what a visitor should never cause: any script error,
    any Content Security Policy violation, and any console error that the
    test did not declare expected with ``allow()``.
    """

    def __init__(self, page: Page):
        self.console_errors: list[str] = []
        self.script_errors: list[str] = []
        self.requests: list[tuple[str, str]] = []
        self.responses: list[tuple[str, int]] = []
        self.allowed: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.script_errors.append(str(error)))
        page.on("request", lambda r: self.requests.append((r.method, r.url)))
        page.on("response", lambda r: self.responses.append((r.url, r.status)))

    def _console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def allow(self, *fragments: str) -> None:
        """Expect console errors containing any of ``fragments``."""
        self.allowed.extend(fragments)

    def problems(self) -> list[str]:
        unexpected = [
            text
            for text in self.console_errors
            if "Content Security Policy" in text
            or not any(fragment in text for fragment in self.allowed)
        ]
        return self.script_errors + unexpected

    def status_responses(self) -> list[int]:
        """Return the HTTP status of each status poll, in order."""
        return [code for url, code in self.responses if "/contact/status/" in url]

    def posts(self) -> list[str]:
        return [url for method, url in self.requests if method == "POST"]


@pytest.fixture(scope="package")
def browser():
    """Start Debian's Chromium once for all the browser tests.

    A missing browser fails the tests in CI (``CI`` set), where .ci/run
    installs it, and skips them elsewhere with the command that installs it.
    """
    if not Path(CHROMIUM).exists():
        reason = f"No Chromium at {CHROMIUM}: apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)

    # Playwright's synchronous API keeps an asyncio loop running on this
    # thread, which Django takes for an async context; the tests' own queries
    # are plain synchronous code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE")
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def site(django_db_setup, redis_server, tmp_path_factory):
    Redis.from_url(redis_server.url).flushdb()
    running = Site(redis_server.url, tmp_path_factory.mktemp("browser"))
    try:
        running.start()
    except RuntimeError as error:
        running.stop()
        pytest.fail(str(error))
    yield running
    running.stop()


@pytest.fixture
def open_page(browser, site):
    """Open pages in fresh contexts; return ``(page, watch)``.

    Keyword arguments go to ``Browser.new_context`` (``viewport``,
    ``java_script_enabled``...). After the test, every page must be free of
    ``PageWatch.problems()``.
    """
    opened = []

    def open_page(**options) -> tuple[Page, PageWatch]:
        options.setdefault("viewport", {"width": 1280, "height": 800})
        context = browser.new_context(base_url=site.url, **options)
        context.set_default_timeout(10_000)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        page = context.new_page()
        watch = PageWatch(page)
        opened.append((context, watch))
        return page, watch

    yield open_page

    for context, _ in opened:
        context.close()
    problems = [problem for _, watch in opened for problem in watch.problems()]
    assert not problems, f"The browser reported: {problems}\n{site.logs()}"


@pytest.fixture
def page_and_watch(open_page):
    return open_page()


@pytest.fixture
def page(page_and_watch) -> Page:
    """A desktop-sized page with JavaScript on."""
    return page_and_watch[0]


@pytest.fixture
def watch(page_and_watch) -> PageWatch:
    """What ``page`` reported."""
    return page_and_watch[1]


@pytest.fixture
def report():
    """Record a measured figure; all of them are printed at the end."""
    return MEASUREMENTS.append


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def pytest_terminal_summary(terminalreporter):
    if not MEASUREMENTS and not SCREENSHOTS.exists():
        return
    terminalreporter.write_sep("-", "in the browser")
    for line in MEASUREMENTS:
        terminalreporter.write_line(line)
    if SCREENSHOTS.exists():
        terminalreporter.write_line(f"screenshots: {SCREENSHOTS}")
