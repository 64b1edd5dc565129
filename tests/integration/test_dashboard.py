"""Who may see and act in django-rq's dashboard, against a real Redis.

Every dashboard URL, under /django-rq/ and under the admin, refuses anonymous
visitors and logged-in non-staff users. Any active staff user may requeue or
delete jobs: django-rq checks ``is_staff`` alone, not model permissions.
"""

import zlib
from http import HTTPStatus

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns
from rq.job import Job

from contact import queue
from contact.models import ContactMessage

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

JOB_ID = "contact-0123456789abcdef"
SAMPLE_ARGUMENTS = {
    "queue_index": 0,
    "job_id": JOB_ID,
    "result_id": "r",
    "key": "k",
    "scheduler_index": 0,
    "connection_index": 0,
    "scheduler_name": "s",
    "cron_job_name": "c",
    "token": "guess",
}
API_NAMES = {"home_json", "metrics"}


def dashboard_urls() -> list[tuple[str, str]]:
    """Return (name, URL) for every URL django-rq serves, in both places."""
    urls = [("dashboard", reverse("admin:django_rq_dashboard_changelist"))]
    for prefix, namespace in (("", "django_rq:"), ("django_rq_", "admin:")):
        for pattern in get_api_urlpatterns(prefix) + get_admin_urlpatterns(prefix):
            arguments = {
                name: SAMPLE_ARGUMENTS[name]
                for name in pattern.pattern.regex.groupindex
            }
            url = reverse(namespace + pattern.name, kwargs=arguments)
            urls.append((pattern.name.removeprefix(prefix), url))
    return urls


@pytest.fixture
def dashboard_redis(settings, fake_redis, redis_server):
    """Point django-rq's dashboard at the same private Redis as the queue."""
    settings.RQ_QUEUES = {
        "default": {**settings.RQ_QUEUES["default"], "URL": redis_server.url}
    }
    return fake_redis


def make_user(staff: bool):
    return get_user_model().objects.create_user(
        "staff" if staff else "visitor", password="pw", is_staff=staff
    )


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def queued_job() -> Job:
    message = ContactMessage.objects.create(
        name="Grace Hopper",
        email="grace@example.com",
        subject="Private words",
        message="Nothing personal may reach Redis.",
    )
    queue.enqueue_delivery(message.pk, JOB_ID, message.reference)
    return Job.fetch(JOB_ID, connection=queue.get_redis())


@pytest.mark.parametrize("who", ["anonymous", "not staff"])
def test_no_dashboard_url_opens_to_anyone_but_staff(dashboard_redis, who):
    client = Client() if who == "anonymous" else logged_in(make_user(staff=False))
    queued_job()

    for name, url in dashboard_urls():
        for method in (client.get, client.post):
            response = method(url)

            if name in API_NAMES:
                assert response.status_code == HTTPStatus.UNAUTHORIZED, url
            else:
                assert response.status_code == HTTPStatus.FOUND, url
                assert response["Location"].startswith("/admin/login/"), url
    assert Job.exists(JOB_ID, connection=queue.get_redis())


def test_staff_see_the_dashboard_and_its_statistics(dashboard_redis):
    client = logged_in(make_user(staff=True))

    pages = [
        client.get(reverse("django_rq:home")),
        client.get(reverse("admin:django_rq_dashboard_changelist")),
        client.get(reverse("django_rq:home_json")),
    ]

    assert [page.status_code for page in pages] == [HTTPStatus.OK] * 3
    assert "queues" in pages[2].json()


def test_staff_may_requeue_and_delete_jobs_without_model_permissions(
    dashboard_redis,
):
    staff = make_user(staff=True)
    client = logged_in(staff)
    job = queued_job()
    job.set_status("failed")
    queue.get_queue().failed_job_registry.add(job, -1)

    requeued = client.post(reverse("django_rq:requeue_job", args=[0, JOB_ID]))
    status_after_requeue = Job.fetch(JOB_ID, connection=queue.get_redis()).get_status()
    deleted = client.post(reverse("django_rq:delete_job", args=[0, JOB_ID]))

    assert not staff.user_permissions.exists()
    assert requeued.status_code == HTTPStatus.FOUND
    assert status_after_requeue == "queued"
    assert deleted.status_code == HTTPStatus.FOUND
    assert not Job.exists(JOB_ID, connection=queue.get_redis())


def test_stats_json_takes_an_api_token_only_when_one_is_set(dashboard_redis, settings):
    client = Client()
    url = reverse("django_rq:home_json")

    settings.RQ_API_TOKEN = ""
    unset = [
        client.get(url, HTTP_AUTHORIZATION="Bearer guess"),
        client.get(reverse("django_rq:home_json", args=["guess"])),
    ]
    settings.RQ_API_TOKEN = "a_long_random_token"
    wrong = client.get(url, HTTP_AUTHORIZATION="Bearer guess")
    right = [
        client.get(url, HTTP_AUTHORIZATION="Bearer a_long_random_token"),
        client.get(reverse("django_rq:home_json", args=["a_long_random_token"])),
    ]

    assert [r.status_code for r in unset] == [HTTPStatus.UNAUTHORIZED] * 2
    assert wrong.status_code == HTTPStatus.UNAUTHORIZED
    assert [r.status_code for r in right] == [HTTPStatus.OK] * 2


def test_jobs_carry_only_the_messages_id(dashboard_redis):
    job = queued_job()

    stored = dashboard_redis.hgetall(job.key)

    message = ContactMessage.objects.get()
    assert job.args == (message.pk,)
    assert job.kwargs == {}
    # RQ stores the call compressed; read it as the dashboard would.
    everything = b" ".join(
        [*stored, *stored.values(), zlib.decompress(stored[b"data"])]
    )
    for personal in (b"grace@example.com", b"Grace Hopper", b"Private", b"personal"):
        assert personal not in everything
