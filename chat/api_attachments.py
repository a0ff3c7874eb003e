"""REST endpoints for attachments: upload into a session, and the authorised file views."""

from __future__ import annotations

import uuid

from django.core.files.storage import default_storage
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import parsers, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from sessions_app import selectors as session_selectors
from sessions_app.authentication import is_staff_request, request_actor, session_for_request
from sessions_app.exceptions import InvalidSessionId
from sessions_app.models import SessionStatus
from supportdesk.api import ApiError, Conflict

from . import attachments as service
from .models import Attachment
from .serializers import AttachmentSerializer

# Room for the multipart framing around the file (boundaries, part headers, a file name).
MULTIPART_OVERHEAD = 64 * 1024
_SIGNED_TYPES = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
]


class _SizeLimit(FileUploadHandler):
    """Stop parsing a multipart body once its files pass ATTACHMENT_MAX_BYTES.

    Daphne (supportdesk.serve) refuses a declared oversize body before reading it; this covers
    a chunked body and other servers: nothing past the limit is written to a temporary file.
    """

    def __init__(self, request=None, limit: int = 0):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler (Django's own) builds the UploadedFile


def _too_large() -> ApiError:
    return ApiError(
        "too_large",
        f"Attachments are limited to {service.max_bytes()} bytes.",
        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


class AttachmentUploadInput(serializers.Serializer):
    file = serializers.FileField(help_text="The image (PNG, JPEG, GIF, WebP) or PDF.")


class AttachmentUploadApi(APIView):
    """POST a file into a session; a message then carries it by id."""

    permission_classes = [permissions.AllowAny]  # access is decided by session_for_request
    parser_classes = [parsers.MultiPartParser]

    def initial(self, request, *args, **kwargs):
        # Before authentication: the CSRF check of a signed-in user reads the body, and the
        # body must not be read whole when its declared length is already too much.
        limit = service.max_bytes()
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit + MULTIPART_OVERHEAD:
            raise _too_large()
        self.size_limit = _SizeLimit(request._request, limit=limit)
        request._request.upload_handlers.insert(0, self.size_limit)
        super().initial(request, *args, **kwargs)

    @extend_schema(
        summary="Upload an attachment",
        description=(
            "Multipart upload (field `file`) of an image (PNG, JPEG, GIF, WebP) or a PDF, "
            "checked by its content, not its name or declared type: anything else is 415 "
            "`unsupported_media_type`, a name claiming another accepted type (a PNG called "
            "`x.pdf`) 415 `type_mismatch`. Over `ATTACHMENT_MAX_BYTES` is 413 `too_large`. "
            "Still images are re-encoded without metadata and get a thumbnail. The upload "
            "stays unattached (and is deleted after `ATTACHMENT_UNATTACHED_HOURS`) until a "
            "message posted with `attachments: [id]` (REST or WebSocket) carries it. The "
            "customer's token uploads for the customer; staff and API keys (`write`) for the "
            "agents' side. `url`/`thumbnail_url` are signed links that work without a header "
            "for `ATTACHMENT_URL_MAX_AGE` seconds."
        ),
        request={"multipart/form-data": AttachmentUploadInput},
        responses={
            201: AttachmentSerializer,
            415: OpenApiResponse(description="Not an accepted type (by content)."),
        },
    )
    def post(self, request, session_id: str):
        session = session_for_request(request, session_id)
        if session.status == SessionStatus.CLOSED:
            raise Conflict("session_closed", "This conversation is closed.")
        upload = request.FILES.get("file")
        if self.size_limit.exceeded:
            raise _too_large()
        if upload is None:
            raise ApiError("invalid_field", "file: No file was submitted.")
        staff = is_staff_request(request)
        try:
            attachment = service.attachment_upload(
                session_id=session.pk,
                upload=upload,
                name=upload.name,
                kind=service.kind_for(staff=staff),
                user=request_actor(request),
            )
        except service.AttachmentError as error:
            raise ApiError(error.code, error.detail, error.status) from None
        finally:
            upload.close()
        body = service.attachment_urls(session.pk, service.attachment_summary(attachment))
        return Response(body, status=status.HTTP_201_CREATED)


class AttachmentFileApi(APIView):
    """GET an attachment's file, for those who may see its session."""

    permission_classes = [permissions.AllowAny]  # decided below: credentials or a signed link
    thumbnail = False

    def perform_content_negotiation(self, request, force=False):
        # An <img> asks for image/*: the file answers whatever was asked, errors are JSON.
        return super().perform_content_negotiation(request, force=True)

    def _attachment(self, request, session_id: str, attachment_id: str) -> Attachment:
        try:
            pk = uuid.UUID(attachment_id)
        except ValueError:
            raise ApiError(
                "not_found", "Attachment not found.", status.HTTP_404_NOT_FOUND
            ) from None
        signature = request.query_params.get("sig")
        presented = bool(request.META.get("HTTP_AUTHORIZATION"))
        if signature and not presented:
            # A signed link (what <img src> uses). Credentials, when presented, decide
            # instead: another session's token gets its 404 even with a valid link.
            try:
                valid = service.attachment_signature_valid(pk, signature)
            except service.LinkExpired as error:
                raise ApiError(error.code, error.detail, error.status) from None
            found = Attachment.objects.filter(pk=pk, session_id=_session_uuid(session_id))
            attachment = found.first() if valid else None
        else:
            session = session_for_request(request, session_id)
            attachment = Attachment.objects.filter(pk=pk, session=session).first()
            # An upload no message carries yet is its own side's draft.
            if (
                attachment is not None
                and attachment.message_id is None
                and attachment.kind != service.kind_for(staff=is_staff_request(request))
            ):
                attachment = None
        if attachment is None:
            raise ApiError("not_found", "Attachment not found.", status.HTTP_404_NOT_FOUND)
        return attachment

    @extend_schema(
        summary="Download an attachment",
        description=(
            "The file, with its detected type, `X-Content-Type-Options: nosniff` and a "
            "sandboxing Content-Security-Policy; images inline, PDFs as downloads. Opened "
            "either with credentials for the session (its customer token, staff, an API key "
            "with `read`) or, without them, by the signed `sig` of the message payload's "
            "URL: an invalid one is 404, an expired one 403 `link_expired`."
        ),
        parameters=[OpenApiParameter("sig", str, description="The signed link's signature")],
        responses={
            (200, media): OpenApiResponse(OpenApiTypes.BINARY, description="The file")
            for media in _SIGNED_TYPES
        },
    )
    def get(self, request, session_id: str, attachment_id: str):
        attachment = self._attachment(request, session_id, attachment_id)
        if self.thumbnail:
            if not attachment.thumbnail:
                raise ApiError("not_found", "This attachment has no thumbnail.", 404)
            name, content_type = attachment.thumbnail.name, "image/webp"
            filename = attachment.name.rsplit(".", 1)[0] + "-thumbnail.webp"
        else:
            name, content_type, filename = attachment.file.name, attachment.content_type, None
            filename = attachment.name
        response = FileResponse(
            default_storage.open(name, "rb"),
            content_type=content_type,
            # PDFs are downloaded, never rendered in our origin; images are shown inline.
            as_attachment=content_type == "application/pdf",
            filename=filename,
        )
        response["X-Content-Type-Options"] = "nosniff"
        # Opened directly, the file runs nothing and loads nothing, whatever it contains.
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, max-age=3600"
        return response


class AttachmentThumbnailApi(AttachmentFileApi):
    """GET an image attachment's thumbnail (WebP, at most 320×320)."""

    thumbnail = True

    @extend_schema(
        summary="Download an attachment's thumbnail",
        description=(
            "A WebP of at most 320×320 pixels, for images only (a PDF's is 404). Access as "
            "for the file."
        ),
        parameters=[OpenApiParameter("sig", str, description="The signed link's signature")],
        responses={
            (200, "image/webp"): OpenApiResponse(OpenApiTypes.BINARY, description="Thumbnail")
        },
    )
    def get(self, request, session_id: str, attachment_id: str):
        return super().get(request, session_id, attachment_id)


def _session_uuid(value: str) -> uuid.UUID:
    """Return the path's session id; `undefined` and friends are a 400, as everywhere."""
    try:
        return session_selectors.parse_session_id(value)
    except InvalidSessionId as error:
        raise ApiError(error.code, error.detail) from None
