"""Attachments: type by content, size and count limits, storage, access and signed links."""

from __future__ import annotations

import io
import time
from unittest import mock

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from chat import attachments
from chat.models import Attachment, Message
from chat.services import message_create
from sessions_app.selectors import token_hash
from sessions_app.services import session_close
from tests.factories import DEFAULT_TOKEN, StaffFactory, SupportSessionFactory

pytestmark = pytest.mark.django_db

OTHER_TOKEN = "another-customers-token"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def png_bytes(size=(640, 480), color=(200, 30, 30), exif: bytes | None = None) -> bytes:
    image = Image.new("RGB", size, color)
    out = io.BytesIO()
    if exif is not None:
        image.save(out, "JPEG", exif=exif)
    else:
        image.save(out, "PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def customer(token=DEFAULT_TOKEN) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Session {token}")
    return client


def upload(client, session, data: bytes, name: str, content_type="application/octet-stream"):
    return client.post(
        f"/api/v1/sessions/{session.pk}/attachments/",
        {"file": SimpleUploadedFile(name, data, content_type=content_type)},
        format="multipart",
    )


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code


# --- Type by content ------------------------------------------------------------------------


def test_png_upload_is_stored_with_a_thumbnail_and_signed_links(media_root):
    session = SupportSessionFactory()
    response = upload(customer(), session, png_bytes(), "photo.png", "image/png")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "name", "content_type", "size", "url", "thumbnail_url"}
    assert body["name"] == "photo.png" and body["content_type"] == "image/png"
    assert "?sig=" in body["url"] and "/thumbnail/?sig=" in body["thumbnail_url"]
    stored = Attachment.objects.get(pk=body["id"])
    assert stored.message_id is None and stored.kind == "customer"
    # Stored under a name the server chose, in MEDIA_ROOT (FileSystemStorage).
    assert stored.file.name == f"attachments/{session.pk}/{stored.pk}/file.png"
    assert (media_root / stored.file.name).exists()
    with default_storage.open(stored.thumbnail.name) as f, Image.open(f) as thumb:
        assert thumb.format == "WEBP" and max(thumb.size) <= 320


def test_a_png_named_pdf_is_refused():
    session = SupportSessionFactory()
    response = upload(customer(), session, png_bytes(), "invoice.pdf", "application/pdf")
    assert_error(response, 415, "type_mismatch")
    assert not Attachment.objects.exists()


def test_html_named_png_is_refused_whatever_its_declared_type():
    session = SupportSessionFactory()
    html = b"<html><script>alert(1)</script></html>"
    response = upload(customer(), session, html, "cat.png", "image/png")
    assert_error(response, 415, "unsupported_media_type")
    assert not Attachment.objects.exists()
    assert not default_storage.exists(f"attachments/{session.pk}")


def test_a_truncated_image_is_refused():
    session = SupportSessionFactory()
    response = upload(customer(), session, png_bytes()[:300], "broken.png")
    assert response.status_code == 415, response.content


def test_pdf_is_accepted_by_its_header_and_gets_no_thumbnail():
    session = SupportSessionFactory()
    response = upload(customer(), session, PDF, "Rechnung März", "text/plain")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == "application/pdf"
    assert body["name"] == "Rechnung März.pdf"  # extension added from the content
    assert body["thumbnail_url"] is None


def test_jpeg_is_reencoded_without_its_exif():
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {2: (48.0, 51.0, 24.0)}  # GPSInfo
    session = SupportSessionFactory()
    data = png_bytes(exif=exif.tobytes())
    with Image.open(io.BytesIO(data)) as original:
        assert original.getexif()  # the test's input does carry EXIF
    response = upload(customer(), session, data, "holiday.jpg")
    assert response.status_code == 201, response.content
    stored = Attachment.objects.get(pk=response.json()["id"])
    with default_storage.open(stored.file.name) as f, Image.open(f) as image:
        assert image.format == "JPEG"
        assert not image.getexif()


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("C:\\fakepath\\photo.PNG", "photo.png"),
        ('a"b<c>\x00\x1b.png', "a_b_c_.png"),
        ("", "attachment.png"),
        ("x" * 500 + ".png", "x" * 116 + ".png"),
    ],
)
def test_file_names_are_sanitised(raw, expected):
    name = attachments._named(attachments.sanitize_name(raw), "png", "image/png")
    assert name == expected


# --- Limits ------------------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_413(settings):
    settings.ATTACHMENT_MAX_BYTES = 2000
    session = SupportSessionFactory()
    response = upload(customer(), session, PDF + b"0" * 3000, "big.pdf")
    assert_error(response, 413, "too_large")
    assert not Attachment.objects.exists()


def test_a_declared_oversize_body_is_refused_before_it_is_parsed(settings):
    settings.ATTACHMENT_MAX_BYTES = 2000
    session = SupportSessionFactory()
    with mock.patch("chat.attachments.attachment_upload") as stored:
        response = customer().generic(
            "POST",
            f"/api/v1/sessions/{session.pk}/attachments/",
            b"",
            content_type="multipart/form-data; boundary=x",
            HTTP_CONTENT_LENGTH=str(10_000_000),
            CONTENT_LENGTH=str(10_000_000),
        )
    assert_error(response, 413, "too_large")
    stored.assert_not_called()


def test_an_oversized_image_by_pixels_is_413(settings):
    settings.ATTACHMENT_MAX_PIXELS = 100 * 100
    session = SupportSessionFactory()
    response = upload(customer(), session, png_bytes(size=(200, 200)), "big.png")
    assert_error(response, 413, "too_large")


def test_message_count_limit(settings):
    settings.ATTACHMENT_MAX_PER_MESSAGE = 2
    session = SupportSessionFactory()
    ids = [upload(customer(), session, PDF, f"d{i}.pdf").json()["id"] for i in range(3)]
    response = customer().post(
        f"/api/v1/sessions/{session.pk}/messages/",
        {"content": "", "attachments": ids},
        format="json",
    )
    assert_error(response, 400, "too_many_attachments")
    assert not Message.objects.filter(session=session).exists()


# --- Messages carry them -----------------------------------------------------------------------


def test_rest_message_with_only_an_attachment_stores_it_in_the_payload():
    session = SupportSessionFactory()
    uploaded = upload(customer(), session, png_bytes(), "parcel.png").json()
    response = customer().post(
        f"/api/v1/sessions/{session.pk}/messages/",
        {"content": "", "attachments": [uploaded["id"]], "client_msg_id": "c-1"},
        format="json",
    )
    assert response.status_code == 201, response.content
    [item] = response.json()["attachments"]
    assert item["id"] == uploaded["id"] and item["name"] == "parcel.png"
    assert item["url"].startswith(f"/api/v1/sessions/{session.pk}/attachments/{uploaded['id']}/")
    message = Message.objects.get(pk=response.json()["id"])
    assert Attachment.objects.get(pk=uploaded["id"]).message_id == message.pk
    # The list shows it too, without a query per message.
    listed = customer().get(f"/api/v1/sessions/{session.pk}/messages/").json()["results"]
    assert [a["id"] for a in listed[0]["attachments"]] == [uploaded["id"]]


def test_an_attachment_is_sent_once_and_only_by_its_own_side():
    session = SupportSessionFactory()
    staff_upload = APIClient()
    staff_upload.force_login(StaffFactory())
    staff_id = upload(staff_upload, session, PDF, "label.pdf").json()["id"]
    mine = upload(customer(), session, PDF, "mine.pdf").json()["id"]
    post = customer().post
    url = f"/api/v1/sessions/{session.pk}/messages/"
    # A staff upload cannot be sent by the customer.
    assert_error(
        post(url, {"content": "x", "attachments": [staff_id]}, format="json"),
        400,
        "invalid_attachment",
    )
    assert post(url, {"content": "x", "attachments": [mine]}, format="json").status_code == 201
    # … and an upload goes out with one message only.
    assert_error(
        post(url, {"content": "y", "attachments": [mine]}, format="json"), 400, "invalid_attachment"
    )


def test_another_sessions_upload_cannot_be_attached():
    session = SupportSessionFactory()
    other = SupportSessionFactory(token_hash=token_hash(OTHER_TOKEN))
    foreign = upload(customer(OTHER_TOKEN), other, PDF, "x.pdf").json()["id"]
    response = customer().post(
        f"/api/v1/sessions/{session.pk}/messages/",
        {"content": "look", "attachments": [foreign]},
        format="json",
    )
    assert_error(response, 400, "invalid_attachment")


def test_staff_reply_carries_a_staff_upload():
    session = SupportSessionFactory()
    staff = APIClient()
    staff.force_login(StaffFactory())
    uploaded = upload(staff, session, png_bytes(), "label.png").json()
    response = staff.post(
        f"/api/v1/sessions/{session.pk}/messages/",
        {"content": "Here is your label", "attachments": [uploaded["id"]]},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["role"] == "agent"
    assert response.json()["attachments"][0]["id"] == uploaded["id"]


def test_upload_to_a_closed_session_is_409():
    session = SupportSessionFactory()
    session_close(session_id=session.pk)
    assert_error(upload(customer(), session, PDF, "x.pdf"), 409, "session_closed")


# --- Serving: who may see it ---------------------------------------------------------------------


def _sent_attachment(session) -> dict:
    uploaded = upload(customer(), session, png_bytes(), "parcel.png").json()
    message_create(
        session_id=session.pk, role="customer", content="", attachment_ids=[uploaded["id"]]
    )
    return uploaded


def test_file_is_served_to_its_customer_with_safe_headers():
    session = SupportSessionFactory()
    item = _sent_attachment(session)
    response = customer().get(item["url"].split("?")[0])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline")
    assert "sandbox" in response["Content-Security-Policy"]
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as image:
        assert image.format == "PNG"


def test_pdf_is_served_as_a_download():
    session = SupportSessionFactory()
    uploaded = upload(customer(), session, PDF, "invoice.pdf").json()
    response = customer().get(uploaded["url"].split("?")[0])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert 'filename="invoice.pdf"' in response["Content-Disposition"]


def test_another_sessions_token_gets_404_even_with_a_signed_link():
    session = SupportSessionFactory()
    SupportSessionFactory(token_hash=token_hash(OTHER_TOKEN))
    item = _sent_attachment(session)
    for url in (item["url"], item["url"].split("?")[0], item["thumbnail_url"]):
        assert_error(customer(OTHER_TOKEN).get(url), 404, "session_not_found")


def test_signed_link_opens_without_credentials_and_a_bad_one_is_404():
    session = SupportSessionFactory()
    item = _sent_attachment(session)
    anonymous = APIClient()
    assert anonymous.get(item["url"]).status_code == 200
    thumb = anonymous.get(item["thumbnail_url"])
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/webp"
    assert_error(anonymous.get(item["url"].split("?")[0]), 401, "not_authenticated")
    forged = item["url"][:-3] + ("AAA" if not item["url"].endswith("AAA") else "BBB")
    assert_error(anonymous.get(forged), 404, "not_found")
    # A signature of one attachment does not open another.
    other = _sent_attachment(session)
    swapped = other["url"].split("?")[0] + "?" + item["url"].split("?")[1]
    assert_error(anonymous.get(swapped), 404, "not_found")


def test_expired_signed_link_is_refused(settings):
    settings.ATTACHMENT_URL_MAX_AGE = 60
    session = SupportSessionFactory()
    item = _sent_attachment(session)
    later = time.time() + 61
    with mock.patch("django.core.signing.time.time", return_value=later):
        response = APIClient().get(item["url"])
    assert_error(response, 403, "link_expired")


def test_staff_and_read_key_see_it_a_customer_never_sees_staffs_unsent_upload():
    from apikeys.services import api_key_create

    session = SupportSessionFactory()
    item = _sent_attachment(session)
    staff = APIClient()
    staff.force_login(StaffFactory())
    assert staff.get(item["url"].split("?")[0]).status_code == 200
    key = APIClient()
    key.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_create(name='r', scopes=['read']).key}")
    assert key.get(item["url"].split("?")[0]).status_code == 200
    draft = upload(staff, session, PDF, "draft.pdf").json()
    assert_error(customer().get(draft["url"].split("?")[0]), 404, "not_found")


# --- Cleanup -----------------------------------------------------------------------------------


def test_unattached_uploads_are_cleaned_with_their_files(django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    session = SupportSessionFactory()
    old = upload(customer(), session, png_bytes(), "old.png").json()
    sent = _sent_attachment(session)
    fresh = upload(customer(), session, PDF, "fresh.pdf").json()
    Attachment.objects.filter(pk__in=[old["id"], sent["id"]]).update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    old_row = Attachment.objects.get(pk=old["id"])
    with django_capture_on_commit_callbacks(execute=True):
        from chat.tasks import attachments_cleanup_unattached

        assert attachments_cleanup_unattached.delay().get() == 1
    remaining = {str(pk) for pk in Attachment.objects.values_list("pk", flat=True)}
    assert remaining == {sent["id"], fresh["id"]}
    assert not default_storage.exists(old_row.file.name)
    assert not default_storage.exists(old_row.thumbnail.name)


def test_admin_transcript_links_the_files():
    from django.test import Client

    session = SupportSessionFactory()
    item = _sent_attachment(session)
    admin = Client()
    admin.force_login(StaffFactory(is_superuser=True))
    page = admin.get(f"/admin/sessions_app/supportsession/{session.pk}/change/")
    assert page.status_code == 200
    link = f'href="/api/v1/sessions/{session.pk}/attachments/{item["id"]}/"'
    assert link in page.content.decode() and "parcel.png" in page.content.decode()
