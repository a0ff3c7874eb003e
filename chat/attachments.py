"""Attachments: check an upload by its bytes, store it (and a thumbnail), sign its links.

An upload is refused unless its content is a PNG, JPEG, GIF or WebP image that Pillow can
decode, or a PDF (``%PDF-`` header), whatever its name or declared Content-Type says. Still
images are re-encoded (which drops EXIF and other metadata, GPS included); animated ones are
kept as sent after Pillow has checked them. Files and thumbnails go through Django's
``default_storage`` under names the server chooses. A message takes its attachments through
``attachments_claim``, called by ``chat.services.message_create`` under the session's lock.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import IO

from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from supportdesk.conf import app_setting
from supportdesk.errors import DomainError

from .exceptions import MessageRejected
from .models import Attachment, AttachmentKind

logger = logging.getLogger(__name__)

CLEANUP_BATCH = 5000  # uploads deleted per run at most; the next hourly run takes the rest
THUMBNAIL_SIZE = (320, 320)  # bounding box; the console and chat show them at most this big
MAX_NAME_CHARS = 120

# Detected type → (Pillow format, the extension a stored/downloaded name gets, other names).
IMAGE_TYPES = {
    "PNG": ("image/png", "png", ()),
    "JPEG": ("image/jpeg", "jpg", ("jpeg", "jpe")),
    "GIF": ("image/gif", "gif", ()),
    "WEBP": ("image/webp", "webp", ()),
}
PDF_TYPE = ("application/pdf", "pdf", ())
# Every extension one of the accepted types goes by: a name with one of these must match the
# content (a PNG called invoice.pdf is refused), any other name gets the right one appended.
_KNOWN_EXTENSIONS = {
    ext: content_type
    for content_type, main, others in (*IMAGE_TYPES.values(), PDF_TYPE)
    for ext in (main, *others)
}
_SIGNER_SALT = "supportdesk.attachments"


class AttachmentError(DomainError):
    """An upload refused: its code and status reach the client as they are."""


class AttachmentTooLarge(AttachmentError):
    code = "too_large"
    status = 413


class UnsupportedAttachment(AttachmentError):
    code = "unsupported_media_type"
    detail = "Only PNG, JPEG, GIF and WebP images and PDF documents can be attached."
    status = 415


class AttachmentNameMismatch(AttachmentError):
    code = "type_mismatch"
    status = 415


@dataclass(frozen=True)
class Checked:
    """What the bytes turned out to be, and what will be stored."""

    content_type: str
    extension: str
    data: bytes
    thumbnail: bytes | None
    width: int | None
    height: int | None


def max_bytes() -> int:
    """Return the largest file accepted (ATTACHMENT_MAX_BYTES)."""
    return int(app_setting("ATTACHMENT_MAX_BYTES"))


def sanitize_name(raw: str | None) -> str:
    """Return a display/download name: no path, no control or quote characters, bounded.

    Letters of any script are kept (a customer's "Rechnung_März.pdf" stays readable); the
    name is only ever shown as text and sent in a quoted-and-encoded Content-Disposition.
    """
    name = unicodedata.normalize("NFC", str(raw or ""))
    name = re.split(r"[/\\]", name)[-1]  # a browser may send C:\fakepath\photo.png
    name = "".join(
        ch
        for ch in name
        if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " "  # controls, separators
    )
    name = re.sub(r"[\"'<>:|?*;`]", "_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    return name or "attachment"


def _named(name: str, extension: str, content_type: str) -> str:
    """Return ``name`` with the content's extension; refuse a name claiming another type."""
    stem, dot, ext = name.rpartition(".")
    ext = ext.lower()
    if dot and stem and ext in _KNOWN_EXTENSIONS:
        if _KNOWN_EXTENSIONS[ext] != content_type:
            raise AttachmentNameMismatch(
                f"The file's name says .{ext}, but its content is {content_type}."
            )
    else:
        stem = name
    stem = stem[: MAX_NAME_CHARS - len(extension) - 1].rstrip(" .") or "attachment"
    return f"{stem}.{extension}"


def _check_image(data: bytes) -> Checked | None:
    """Return the checked (and re-encoded) image, None if the bytes are no image at all."""
    max_pixels = int(app_setting("ATTACHMENT_MAX_PIXELS"))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            if kind not in IMAGE_TYPES:
                return None
            if probe.width * probe.height > max_pixels:
                raise AttachmentTooLarge(f"The image is larger than {max_pixels} pixels.")
            probe.verify()  # structure and checksums, without decoding the pixels
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # decodes every pixel: a truncated or corrupt file fails here
            animated = getattr(image, "n_frames", 1) > 1
            content_type, extension, _ = IMAGE_TYPES[kind]
            if animated:
                stored = data  # re-encoding frames would lose timing; Pillow decoded it above
            else:
                stored = _reencode(ImageOps.exif_transpose(image), kind, image.info)
            thumbnail = _thumbnail(image)
            return Checked(content_type, extension, stored, thumbnail, image.width, image.height)
    except Image.DecompressionBombError:
        raise AttachmentTooLarge(f"The image is larger than {max_pixels} pixels.") from None
    except UnidentifiedImageError:
        return None
    except (OSError, SyntaxError, ValueError) as error:
        # Pillow's "broken data stream", "truncated", bad checksums…
        logger.info("Refused an image Pillow could not decode: %s", error)
        raise UnsupportedAttachment("The image is damaged or truncated.") from None


def _reencode(image: Image.Image, kind: str, info: dict) -> bytes:
    """Return the pixels saved anew in the same format, without EXIF, XMP or comments."""
    out = io.BytesIO()
    # The colour profile is kept: it is how the colours look, not who or where.
    icc = {"icc_profile": info["icc_profile"]} if info.get("icc_profile") else {}
    if kind == "JPEG":
        rgb = image if image.mode in ("RGB", "L") else image.convert("RGB")
        rgb.save(out, "JPEG", quality=90, optimize=True, **icc)
    elif kind == "PNG":
        image.save(out, "PNG", optimize=True, **icc)
    elif kind == "WEBP":
        image.save(out, "WEBP", quality=90, **icc)
    else:  # a still GIF
        image.save(out, "GIF")
    return out.getvalue()


def _thumbnail(image: Image.Image) -> bytes:
    """Return a WebP at most THUMBNAIL_SIZE, oriented as the camera meant."""
    thumb = ImageOps.exif_transpose(image.copy())
    if thumb.mode not in ("RGB", "RGBA"):
        thumb = thumb.convert("RGBA")
    thumb.thumbnail(THUMBNAIL_SIZE)
    out = io.BytesIO()
    thumb.save(out, "WEBP", quality=80)
    return out.getvalue()


def check_content(data: bytes) -> Checked:
    """Return what ``data`` is by its bytes, or raise the refusal the client sees."""
    if len(data) > max_bytes():
        raise AttachmentTooLarge(f"Attachments are limited to {max_bytes()} bytes.")
    if not data:
        raise UnsupportedAttachment("The file is empty.")
    if data.startswith(b"%PDF-"):
        content_type, extension, _ = PDF_TYPE
        return Checked(content_type, extension, data, None, None, None)
    checked = _check_image(data)
    if checked is None:
        raise UnsupportedAttachment()
    return checked


def _read_bounded(upload: IO[bytes]) -> bytes:
    """Read at most ATTACHMENT_MAX_BYTES + 1 bytes: an oversized file is never held whole."""
    limit = max_bytes()
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise AttachmentTooLarge(f"Attachments are limited to {limit} bytes.")
    return data


def attachment_upload(
    *, session_id: uuid.UUID, upload: IO[bytes], name: str | None, kind: str, user=None
) -> Attachment:
    """Check an uploaded file by its content and store it (unattached) with its thumbnail."""
    checked = check_content(_read_bounded(upload))
    display_name = _named(sanitize_name(name), checked.extension, checked.content_type)
    attachment_id = uuid.uuid4()
    folder = f"attachments/{session_id}/{attachment_id}"
    attachment = Attachment(
        id=attachment_id,
        session_id=session_id,
        kind=kind,
        uploaded_by=user,
        name=display_name,
        content_type=checked.content_type,
        size=len(checked.data),
        width=checked.width,
        height=checked.height,
    )
    # Stored before the row: a file without a row is swept by nobody, so on failure it is
    # deleted here; a row without its file would be a broken link.
    stored = [default_storage.save(f"{folder}/file.{checked.extension}", ContentFile(checked.data))]
    try:
        attachment.file.name = stored[0]
        if checked.thumbnail is not None:
            stored.append(
                default_storage.save(f"{folder}/thumbnail.webp", ContentFile(checked.thumbnail))
            )
            attachment.thumbnail.name = stored[1]
        attachment.save(force_insert=True)
    except BaseException:
        for stored_name in stored:
            default_storage.delete(stored_name)
        raise
    return attachment


def attachments_claim(*, session, attachment_ids: list, kind: str) -> list[Attachment]:
    """Lock and return the uploads a new message will carry, in the order given.

    Runs under the session's lock, before the message takes its seq. Each id must name an
    unattached upload of this session made by the same side (a customer sends customer
    uploads, staff their side's), else the whole message is refused.
    """
    limit = int(app_setting("ATTACHMENT_MAX_PER_MESSAGE"))
    ids = list(dict.fromkeys(str(value) for value in attachment_ids))
    if len(ids) > limit:
        raise MessageRejected(
            f"A message may carry at most {limit} attachments.", code="too_many_attachments"
        )
    try:
        parsed = [uuid.UUID(value) for value in ids]
    except ValueError:
        raise MessageRejected("attachments must be upload ids", code="invalid_attachment") from None
    found = {
        attachment.pk: attachment
        for attachment in Attachment.objects.select_for_update().filter(
            pk__in=parsed, session=session, kind=kind, message__isnull=True
        )
    }
    if len(found) != len(parsed):
        raise MessageRejected(
            "An attachment is unknown, already sent or not yours to send.",
            code="invalid_attachment",
        )
    return [found[pk] for pk in parsed]


def attachments_link(*, message, attachments: list[Attachment]) -> None:
    """Record that ``message`` carries ``attachments`` (claimed by attachments_claim)."""
    Attachment.objects.filter(pk__in=[a.pk for a in attachments]).update(message=message)


def attachment_summary(attachment: Attachment) -> dict:
    """Return what a message stores about one of its files (URLs are added when serialised)."""
    return {
        "id": str(attachment.pk),
        "name": attachment.name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "thumbnail": bool(attachment.thumbnail),
    }


# --- Signed links --------------------------------------------------------------------------------


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_SIGNER_SALT)


def attachment_signature(attachment_id) -> str:
    """Return the ``sig`` query value that opens this attachment for ATTACHMENT_URL_MAX_AGE."""
    signed = _signer().sign(str(attachment_id))
    return signed.split(":", 1)[1]


class LinkExpired(AttachmentError):
    code = "link_expired"
    detail = "This link has expired; reload the conversation for a fresh one."
    status = 403


def attachment_signature_valid(attachment_id, signature: str) -> bool:
    """Tell whether ``signature`` opens this attachment; raise LinkExpired if it did once."""
    try:
        _signer().unsign(
            f"{attachment_id}:{signature}", max_age=int(app_setting("ATTACHMENT_URL_MAX_AGE"))
        )
    except signing.SignatureExpired:
        raise LinkExpired() from None
    except signing.BadSignature:
        return False
    return True


def attachment_urls(session_id, summary: dict) -> dict:
    """Return a stored summary as the payload shows it: with its signed URLs."""
    base = f"/api/v1/sessions/{session_id}/attachments/{summary['id']}/"
    query = f"?sig={attachment_signature(summary['id'])}"
    return {
        "id": summary["id"],
        "name": summary["name"],
        "content_type": summary["content_type"],
        "size": summary["size"],
        "url": base + query,
        "thumbnail_url": f"{base}thumbnail/{query}" if summary.get("thumbnail") else None,
    }


# --- Cleanup -------------------------------------------------------------------------------------


def attachment_files_delete(attachment: Attachment) -> None:
    """Delete an attachment's stored files after the surrounding transaction commits."""
    names = [name for name in (attachment.file.name, attachment.thumbnail.name) if name]

    def delete() -> None:
        for name in names:
            try:
                default_storage.delete(name)
            except OSError as error:  # the row is gone; a leftover file is only disk space
                logger.warning("Could not delete attachment file %s: %r", name, error)

    transaction.on_commit(delete)


def attachment_deleted(sender, instance: Attachment, **kwargs) -> None:
    """post_delete receiver: remove the deleted row's files from storage."""
    attachment_files_delete(instance)


def attachments_cleanup_unattached(*, older_than_hours: float | None = None) -> int:
    """Delete uploads no message carried within ATTACHMENT_UNATTACHED_HOURS; return how many."""
    if older_than_hours is None:
        older_than_hours = float(app_setting("ATTACHMENT_UNATTACHED_HOURS"))
    cutoff = timezone.now() - timedelta(hours=older_than_hours)
    removed = 0
    # Ids first, then one short transaction each: no cursor stays open across the writes.
    stale = list(
        Attachment.objects.filter(message__isnull=True, created_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:CLEANUP_BATCH]
    )
    for pk in stale:
        with transaction.atomic():
            # Re-checked under a lock: a message may have claimed it since the query above.
            locked = (
                Attachment.objects.select_for_update().filter(pk=pk, message__isnull=True).first()
            )
            if locked is None:
                continue
            locked.delete()  # the post_delete receiver removes its files after commit
            removed += 1
    if removed:
        logger.info("Removed %d unattached uploads older than %s h", removed, older_than_hours)
    return removed


def kind_for(*, staff: bool) -> str:
    """Return the upload side for a request: staff (users and API keys) or the customer."""
    return AttachmentKind.STAFF if staff else AttachmentKind.CUSTOMER
