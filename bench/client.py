"""A visitor's browser, as far as the contact form sees it.

It loads the home page once, keeps the CSRF cookie, and posts every input the
page's form carries (hidden ones included, with their values) together with
the headers htmx adds. The benchmark's wrk script sends the same request.
"""

import http.client
import re
import time
import urllib.parse
from html.parser import HTMLParser
from http.cookies import SimpleCookie

FORM_ID = "contact-form"


class _FormReader(HTMLParser):
    """Collect the named inputs of one form and the page's htmx headers."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.fields: dict[str, str] = {}
        self.hx_headers = ""
        self._in_form = False
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag == "body":
            self.hx_headers = attrs.get("hx-headers", "")
        elif tag == "form" and attrs.get("id") == self.form_id:
            self._in_form = True
        elif not self._in_form or "name" not in attrs:
            return
        elif tag == "input" and attrs.get("type") not in ("submit", "button"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields[attrs["name"]] = attrs.get("value", "")
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self.fields[self._textarea] = ""

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._in_form = False


def read_form(page: str, form_id: str = FORM_ID) -> tuple[dict[str, str], str]:
    """Return the form's inputs and the CSRF token htmx would send as a header.

    htmx takes the header from the ``hx-headers`` attribute on ``<body>``; a
    page without one falls back to the form's ``csrfmiddlewaretoken``.
    """
    reader = _FormReader(form_id)
    reader.feed(page)
    if not reader.fields:
        raise ValueError(f"no form #{form_id} with inputs on the page")
    found = re.search(r'"X-CSRFToken"\s*:\s*"([^"]+)"', reader.hx_headers)
    token = found[1] if found else reader.fields.get("csrfmiddlewaretoken", "")
    return reader.fields, token


def status_in(fragment: str) -> str | None:
    """Return the delivery status a status fragment shows, if any."""
    found = re.search(r'data-status="([a-z]+)"', fragment)
    return found[1] if found else None


def status_url_in(fragment: str) -> str:
    return re.search(r'data-status-url="([^"]+)"', fragment)[1]


def server_ms(headers: http.client.HTTPMessage) -> float | None:
    """Return the Django time the bench's middleware reported, in ms."""
    found = re.search(r"app;dur=([0-9.]+)", headers.get("Server-Timing", ""))
    return float(found[1]) if found else None


class Visitor:
    """One browser on the site at ``host:port``."""

    def __init__(self, host: str, port: int):
        self.origin = f"http://{host}:{port}"
        self.connection = http.client.HTTPConnection(host, port, timeout=30)
        self.cookies: dict[str, str] = {}
        self.fields: dict[str, str] = {}
        self.token = ""

    def request(
        self, method: str, path: str, body: str | None = None, headers=None
    ) -> tuple[int, http.client.HTTPMessage, str]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.connection.request(method, path, body, headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError):
            # gunicorn's sync workers close after each answer; ask again once.
            self.connection.close()
            self.connection.request(method, path, body, headers)
            response = self.connection.getresponse()
        text = response.read().decode()
        for value in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        return response.status, response.headers, text

    def open(self, path: str = "/") -> None:
        """Load the page with the form, as a visitor arriving would."""
        status, _, page = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        self.fields, self.token = read_form(page)

    def post_headers(self) -> dict[str, str]:
        """Return the headers htmx sends with the form, cookie included."""
        return {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "X-CSRFToken": self.token,
            "HX-Request": "true",
            "HX-Current-URL": self.origin + "/",
            "HX-Target": FORM_ID,
            "HX-Trigger": FORM_ID,
            "Origin": self.origin,
            "Referer": self.origin + "/",
        }

    def form_body(self, email: str) -> str:
        """Return the url-encoded form: the page's inputs, filled in."""
        values = dict(self.fields)
        values.update(
            name="Ada Benchmark",
            email=email,
            subject="Working together",
            message="Hello! I enjoyed your notes on the engine and have a question.",
        )
        return urllib.parse.urlencode(values)

    def submit(self, email: str, path: str = "/contact/"):
        """Post the form once; return status, headers and the fragment."""
        headers = self.post_headers()
        del headers["Cookie"]
        return self.request("POST", path, self.form_body(email), headers)

    def wait_for_sent(self, status_url: str, timeout: float, step: float) -> bool:
        """Poll the status URL as fast as ``step`` allows until it says sent."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, _, fragment = self.request(
                "GET", status_url, headers={"HX-Request": "true"}
            )
            status = status_in(fragment)
            if status in ("sent", "delivered"):
                return True
            if status == "failed":
                raise RuntimeError(f"{status_url} says failed")
            time.sleep(step)
        return False
