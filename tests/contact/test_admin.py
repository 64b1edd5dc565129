import csv
import io
from datetime import timedelta
from http import HTTPStatus

from django.contrib.auth import get_user_model
from django.core import mail
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from contact import queue
from contact.admin import csv_cell
from contact.jobs import deliver_message
from contact.models import ContactMessage, DeliveryAttempt

from .helpers import make_contact_message
from .test_jobs import run_queued_jobs

Status = ContactMessage.Status
EmailStatus = ContactMessage.EmailStatus

CHANGELIST = reverse("admin:contact_contactmessage_changelist")


def make_failed_message(**overrides) -> ContactMessage:
    values = {
        "status": Status.FAILED,
        "owner_email_status": EmailStatus.FAILED,
        "autoreply_status": EmailStatus.SKIPPED,
        "attempts": 3,
    }
    values.update(overrides)
    return make_contact_message(**values)


class AdminTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.owner = get_user_model().objects.create_superuser(
            "owner", "owner@example.net", "a-long-password"
        )

    def setUp(self):
        self.client.force_login(self.owner)

    def act(self, action: str, *messages):
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(
                CHANGELIST,
                {"action": action, "_selected_action": [m.pk for m in messages]},
                follow=True,
            )


class ContactMessageListTests(AdminTestCase):
    def test_lists_newest_first(self):
        old = make_contact_message(created_at=timezone.now() - timedelta(days=1))
        new = make_contact_message()

        response = self.client.get(CHANGELIST)

        assert response.status_code == HTTPStatus.OK
        listed = list(response.context["cl"].result_list)
        assert listed == [new, old]

    def test_shows_the_state_of_each_email(self):
        make_failed_message()

        response = self.client.get(CHANGELIST)

        self.assertContains(response, '<td class="field-notification">Failed</td>')
        self.assertContains(response, '<td class="field-autoreply">Skipped</td>')

    def test_filters_by_status(self):
        make_contact_message()
        failed = make_failed_message()

        response = self.client.get(CHANGELIST, {"delivery": "failed"})

        assert list(response.context["cl"].result_list) == [failed]

    def test_the_status_filter_keeps_held_messages_out_of_the_queue(self):
        queued = make_contact_message()
        make_contact_message(is_spam=True, spam_reason="too fast")

        response = self.client.get(CHANGELIST, {"delivery": "queued"})

        assert list(response.context["cl"].result_list) == [queued]

    def test_searches_the_message_text(self):
        make_contact_message()
        wanted = make_contact_message(message="About the difference engine")

        response = self.client.get(CHANGELIST, {"q": "difference engine"})

        assert list(response.context["cl"].result_list) == [wanted]

    def test_admin_index_links_the_queue_dashboard(self):
        response = self.client.get(reverse("admin:index"))

        self.assertContains(response, "django_rq/dashboard/")


class ContactMessageChangeTests(AdminTestCase):
    def change_page(self, message):
        url = reverse("admin:contact_contactmessage_change", args=[message.pk])
        return self.client.get(url)

    def test_shows_the_delivery_history(self):
        message = make_contact_message()
        DeliveryAttempt.objects.create(
            message=message, email="owner_email", outcome="retrying", error="421 Busy"
        )

        response = self.change_page(message)

        self.assertContains(response, "Failed, will retry")
        self.assertContains(response, "421 Busy")

    def test_links_the_job_while_it_exists(self):
        message = make_contact_message()
        queue.enqueue_delivery(message.pk, message.job_id)

        response = self.change_page(message)

        job_url = reverse("django_rq:job_detail", args=[0, message.job_id])
        self.assertContains(response, f'href="{job_url}"')

    def test_says_when_the_job_is_gone(self):
        message = make_contact_message()

        response = self.change_page(message)

        self.assertContains(response, "No job in Redis")


class ResendActionTests(AdminTestCase):
    def test_resends_a_failed_owner_notification_through_the_queue(self):
        message = make_failed_message(last_error="SMTPAuthenticationError: 535")
        old_job_id = message.job_id

        self.act("resend_owner_notification", message)
        message.refresh_from_db()
        queued, error_while_queued = message.status, message.last_error
        run_queued_jobs()

        assert queued == Status.QUEUED
        assert error_while_queued == ""
        assert message.job_id != old_job_id
        message.refresh_from_db()
        assert message.status == Status.SENT
        assert message.owner_email_status == EmailStatus.SENT
        assert message.autoreply_status == EmailStatus.SENT
        assert len(mail.outbox) == 2

    def test_resends_only_the_autoreply(self):
        message = make_contact_message(
            status=Status.SENT,
            owner_email_status=EmailStatus.SENT,
            autoreply_status=EmailStatus.FAILED,
        )

        self.act("resend_autoreply", message)
        run_queued_jobs()

        message.refresh_from_db()
        assert message.autoreply_status == EmailStatus.SENT
        assert [email.to for email in mail.outbox] == [["grace@example.com"]]

    def test_the_history_shows_each_email_queued_again(self):
        message = make_failed_message(autoreply_status=EmailStatus.SKIPPED)

        self.act("resend_owner_notification", message)

        message.refresh_from_db()
        requeued = message.delivery_attempts.filter(outcome="requeued")
        assert [(a.email, a.job_id) for a in requeued] == [
            ("owner_email", message.job_id),
            ("autoreply", message.job_id),
        ]

    def test_a_resent_email_is_not_a_copy_mail_stores_would_hide(self):
        message = make_contact_message()
        deliver_message(message.pk)
        first = mail.outbox[0].extra_headers["Message-ID"]
        mail.outbox.clear()

        self.act("resend_owner_notification", message)
        run_queued_jobs()

        message.refresh_from_db()
        assert message.resends == 1
        assert mail.outbox[0].to == ["owner@example.net"]
        assert mail.outbox[0].extra_headers["Message-ID"] != first

    def test_skips_a_message_whose_job_is_waiting(self):
        message = make_failed_message()
        queue.enqueue_delivery(message.pk, message.job_id)

        response = self.act("resend_owner_notification", message)

        self.assertContains(response, "still waiting to run")
        message.refresh_from_db()
        assert message.status == Status.FAILED

    def test_skips_a_message_a_worker_holds(self):
        message = make_failed_message(
            lease_until=timezone.now() + timedelta(seconds=30)
        )

        response = self.act("resend_owner_notification", message)

        self.assertContains(response, "a worker is sending it now")
        assert queue.get_queue().count == 0

    def test_clicking_twice_queues_once(self):
        message = make_failed_message()

        self.act("resend_owner_notification", message)
        response = self.act("resend_owner_notification", message)

        self.assertContains(response, "still waiting to run")
        assert queue.get_queue().count == 1

    def test_skips_a_message_held_as_spam(self):
        message = make_contact_message(
            status=Status.SENT,
            owner_email_status=EmailStatus.SENT,
            is_spam=True,
            spam_reason="marked by the owner",
        )

        response = self.act("resend_owner_notification", message)

        self.assertContains(response, "held as spam")
        message.refresh_from_db()
        assert message.status == Status.SENT
        assert queue.get_queue().count == 0

    def test_refuses_more_than_the_cap(self):
        selected = [make_failed_message() for _ in range(51)]

        response = self.act("resend_owner_notification", *selected)

        self.assertContains(response, "at most 50")
        assert queue.get_queue().count == 0


class ExportActionTests(AdminTestCase):
    def test_exports_the_selection_as_csv(self):
        message = make_contact_message()
        make_contact_message()

        response = self.act("export_csv", message)

        assert response["Content-Type"].startswith("text/csv")
        assert response.content.startswith("\ufeff".encode())
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert len(rows) == 1
        assert rows[0]["reference"] == message.reference
        assert rows[0]["message"] == message.message

    def test_defuses_spreadsheet_formulas(self):
        message = make_contact_message(
            name="=HYPERLINK(1)", subject="+1 offer", message="@SUM(A1)"
        )

        response = self.act("export_csv", message)

        row = next(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert row["name"] == "'=HYPERLINK(1)"
        assert row["subject"] == "'+1 offer"
        assert row["message"] == "'@SUM(A1)"

    def test_defuses_formulas_after_a_semicolon_or_tab(self):
        assert csv_cell("Jane;=cmd|' /C calc'!A0;") == "Jane;'=cmd|' /C calc'!A0;"
        assert csv_cell("Quote\t-2+3") == "Quote\t'-2+3"
        assert csv_cell("\t=1") == "'\t'=1"

    def test_leaves_ordinary_cells_alone(self):
        assert csv_cell("Hello") == "Hello"
        assert csv_cell(None) == ""
        assert csv_cell("-5") == "'-5"


SCRIPT = "<script>alert(1)</script>"


class SpamActionTests(AdminTestCase):
    def test_filters_held_messages(self):
        make_contact_message()
        held = make_contact_message(is_spam=True, spam_reason="too fast")

        response = self.client.get(CHANGELIST, {"delivery": "held"})

        assert list(response.context["cl"].result_list) == [held]

    def test_a_held_message_is_listed_as_held_not_queued(self):
        make_contact_message(is_spam=True, spam_reason="too fast")

        response = self.client.get(CHANGELIST)

        self.assertContains(response, "Held as spam")
        self.assertNotContains(response, '<td class="field-delivery">Queued')

    def test_marks_messages_as_spam(self):
        message = make_contact_message()

        response = self.act("mark_as_spam", message)

        self.assertContains(response, f"Marked as spam: {message.reference}")
        message.refresh_from_db()
        assert message.is_spam

    def test_a_message_being_sent_is_not_marked_and_the_owner_is_told(self):
        lease = timezone.now() + timedelta(seconds=30)
        message = make_contact_message(status=Status.SENDING, lease_until=lease)

        response = self.act("mark_as_spam", message)

        self.assertContains(response, f"A worker is sending {message.reference}")
        message.refresh_from_db()
        assert not message.is_spam

    def test_not_spam_delivers_through_the_queue(self):
        message = make_contact_message(
            is_spam=True,
            owner_email_status=EmailStatus.SKIPPED,
            autoreply_status=EmailStatus.SKIPPED,
        )

        response = self.act("release_from_spam", message)
        run_queued_jobs()

        self.assertContains(response, f"Released: {message.reference}")
        message.refresh_from_db()
        assert not message.is_spam
        assert message.status == Status.SENT
        assert len(mail.outbox) == 2

    def test_says_so_when_there_is_nothing_to_change(self):
        held = make_contact_message(is_spam=True, spam_reason="too fast")
        kept = make_contact_message()

        marked = self.act("mark_as_spam", held)
        released = self.act("release_from_spam", kept)

        self.assertContains(marked, "already held as spam")
        self.assertContains(released, "None of the selected messages is held")

    def test_not_spam_refuses_more_than_the_cap(self):
        selected = [make_contact_message(is_spam=True) for _ in range(51)]

        response = self.act("release_from_spam", *selected)

        self.assertContains(response, "at most 50")
        assert ContactMessage.objects.filter(is_spam=True).count() == 51


class MessageRecordTests(AdminTestCase):
    def test_messages_cannot_be_added_here(self):
        response = self.client.get(reverse("admin:contact_contactmessage_add"))

        assert response.status_code == HTTPStatus.FORBIDDEN

    def test_a_message_page_offers_no_save_and_shows_a_held_message_as_held(self):
        message = make_contact_message(is_spam=True, spam_reason="too fast")
        change = reverse("admin:contact_contactmessage_change", args=[message.pk])

        response = self.client.get(change)

        self.assertNotContains(response, 'name="_save"')
        self.assertNotContains(response, 'name="_continue"')
        self.assertContains(response, "Held as spam")

    def test_what_the_visitor_sent_cannot_be_rewritten(self):
        message = make_contact_message(email="visitor@example.com")
        change = reverse("admin:contact_contactmessage_change", args=[message.pk])

        self.client.post(
            change,
            {
                "name": "Someone",
                "email": "stranger@example.net",
                "subject": "New",
                "message": "New text",
                "delivery_attempts-TOTAL_FORMS": "0",
                "delivery_attempts-INITIAL_FORMS": "0",
            },
        )

        message.refresh_from_db()
        assert message.email == "visitor@example.com"


class AdminEscapingTests(AdminTestCase):
    def test_visitor_text_is_escaped_in_the_list_and_on_the_message(self):
        message = make_contact_message(name=SCRIPT, subject=SCRIPT, message=SCRIPT)
        change = reverse("admin:contact_contactmessage_change", args=[message.pk])

        pages = [self.client.get(CHANGELIST), self.client.get(change)]

        for response in pages:
            assert response.status_code == HTTPStatus.OK
            assert SCRIPT not in response.content.decode()
            self.assertContains(response, "&lt;script&gt;alert(1)&lt;/script&gt;")
