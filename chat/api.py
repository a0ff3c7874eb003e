"""REST endpoints for a session's messages (/api/v1/sessions/{id}/messages/)."""

from __future__ import annotations

import logging
import threading
import time

from django.db import connections, router
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.permissions import StaffOrApiKey
from sessions_app.authentication import (
    is_staff_request,
    request_actor,
    request_api_key_name,
    session_for_request,
)
from sessions_app.exceptions import AlreadyAssigned, SessionClosed
from sessions_app.models import HandledBy, SessionStatus, SupportSession
from supportdesk.api import ApiError, Conflict, Pagination, WindowCountPagination
from supportdesk.conf import app_setting

from . import selectors, services
from .exceptions import MessageRejected
from .models import Message, MessageRole
from .serializers import (
    MessageCreateSerializer,
    MessageSerializer,
    StaffMessageSerializer,
    message_payload,
)


class MessageQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, required=False)
    offset = serializers.IntegerField(min_value=0, required=False)
    after_seq = serializers.IntegerField(min_value=0, required=False, default=0)


class MessageCreateQuerySerializer(serializers.Serializer):
    wait = serializers.FloatField(min_value=0, max_value=30, required=False, default=0)


class MessageWithReplySerializer(MessageSerializer):
    # Output only; not read_only so the schema doesn't list it as required: it is present
    # only when ?wait was given.
    reply = MessageSerializer(allow_null=True, required=False)

    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "reply"]


logger = logging.getLogger(__name__)

# Long polls in progress in this process (API_WAIT_MAX_CONCURRENT caps them).
_waits_lock = threading.Lock()
_waits_in_progress = 0


def _wait_slot_take() -> bool:
    """Take one of the process's API_WAIT_MAX_CONCURRENT wait slots; False when none is free."""
    global _waits_in_progress
    with _waits_lock:
        if _waits_in_progress >= int(app_setting("API_WAIT_MAX_CONCURRENT")):
            return False
        _waits_in_progress += 1
        return True


def _wait_slot_give() -> None:
    global _waits_in_progress
    with _waits_lock:
        _waits_in_progress -= 1


def _wait_for_reply(message: Message, timeout: float) -> Message | None:
    """Poll for the agent's reply to ``message`` for up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        reply = Message.objects.select_related("author").filter(in_reply_to=message).first()
        if reply is not None or time.monotonic() >= deadline:
            return reply
        session = SupportSession.objects.only("status", "handled_by").get(pk=message.session_id)
        if session.status != SessionStatus.OPEN or session.handled_by != HandledBy.AI:
            return None  # a person answers this one; nothing to wait for
        _release_pooled_connection()
        time.sleep(0.1)


def _release_pooled_connection() -> None:
    """Give this thread's pooled database connection back between two polls.

    A waiting request held its connection for the whole wait (up to 30 s): a few customers
    waiting for replies took every one of the process's DB_POOL_MAX_SIZE connections, and
    every other request got 503. The next poll borrows one again. Without a pool (or inside
    a transaction) the connection stays: reopening a plain one every poll would cost more.
    """
    connection = connections[router.db_for_read(Message)]
    if getattr(connection, "pool", None) is not None and not connection.in_atomic_block:
        connection.close()


MESSAGE_EXAMPLE = {
    "id": "0b7e3c52-8f0d-4a8e-9d55-6c1f2a3b4c5d",
    "seq": 3,
    "session_id": "5f0c6a8e-2b1d-4c3e-9f7a-1d2e3f4a5b6c",
    "role": "assistant",
    "content": "Orders ship within **two working days**.",
    "content_html": "<p>Orders ship within <strong>two working days</strong>.</p>",
    "client_msg_id": None,
    "created_at": "2026-03-02T09:15:12.532Z",
    "sources": [
        {
            "article_id": 12,
            "title": "Shipping times",
            "score": 0.82,
            "url": "/help/shipping-times/",
        }
    ],
    "confidence": 0.82,
    "requires_escalation": False,
    "author": None,
}


class MessageListApi(APIView):
    """GET a session's messages in seq order; POST a message into it."""

    permission_classes = [permissions.AllowAny]  # access is decided by session_for_request
    pagination_class = Pagination  # so the schema shows the {count, next, previous, results} page

    @extend_schema(
        summary="List a session's messages",
        description=(
            "Messages in `seq` order; `after_seq` returns only newer ones (what a client "
            "that reconnects needs). Internal notes are never listed."
        ),
        parameters=[MessageQuerySerializer],
        responses=MessageSerializer(many=True),
        examples=[
            OpenApiExample(
                "A page",
                value={"count": 1, "next": None, "previous": None, "results": [MESSAGE_EXAMPLE]},
                response_only=True,
            )
        ],
    )
    def get(self, request, session_id: str):
        # Only the session's id is used: skip loading its assignee, contact and team.
        session = session_for_request(request, session_id, related=False)
        query = MessageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        queryset = selectors.messages_for_session(
            session_id=session.pk, after_seq=query.validated_data["after_seq"]
        )
        paginator = WindowCountPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response([message_payload(m) for m in page])

    @extend_schema(
        summary="Post a message",
        description=(
            "With the session's token: a customer message (`?wait=N`, at most 30 s, also "
            "waits for the AI's reply and returns it as `reply`). Staff or an API key "
            "(`write`): an agent reply. A staff user replying to a session no agent holds "
            "takes it over (the AI stops); an API key replies to it as it is; when another "
            "agent holds the session it is 409 `already_assigned`. A closed session is 409 "
            "`session_closed`. A re-sent `client_msg_id` returns the stored message (200). "
            "An API key's message has no author; the key's name is recorded. Content over "
            "`CHAT_MAX_MESSAGE_CHARS` is a 413 `too_long`. `attachments` lists ids of files "
            "uploaded to `…/attachments/` by the same side (customer or staff); `content` may "
            "then be empty. An unknown, foreign or already sent id is 400 `invalid_attachment`; "
            "more than `ATTACHMENT_MAX_PER_MESSAGE` is 400 `too_many_attachments`."
        ),
        request=MessageCreateSerializer,
        parameters=[
            OpenApiParameter("wait", float, description="Seconds (≤ 30) to wait for the reply")
        ],
        responses={201: MessageWithReplySerializer, 200: MessageWithReplySerializer},
        examples=[
            OpenApiExample(
                "Customer question",
                value={"content": "How long does shipping take?", "client_msg_id": "c-42"},
                request_only=True,
            ),
            OpenApiExample(
                "Stored, with the reply (?wait=10)",
                value={
                    **MESSAGE_EXAMPLE,
                    "seq": 2,
                    "role": "customer",
                    "content": "How long does shipping take?",
                    "content_html": "<p>How long does shipping take?</p>",
                    "client_msg_id": "c-42",
                    "sources": [],
                    "confidence": None,
                    "reply": MESSAGE_EXAMPLE,
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    def post(self, request, session_id: str):
        session = session_for_request(request, session_id, related=False)
        query = MessageCreateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if not isinstance(request.data, dict):
            raise ApiError("invalid_field", "The body must be a JSON object.")
        payload = MessageCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        staff = is_staff_request(request)
        key_name = request_api_key_name(request)
        fields = {
            "session_id": session.pk,
            "content": payload.validated_data["content"],
            "client_msg_id": payload.validated_data.get("client_msg_id"),
            "attachment_ids": payload.validated_data["attachments"],
        }
        try:
            if staff:
                # An API key's reply has no author; the key's name goes in the metadata so the
                # console can say who sent it.
                result = services.staff_reply_send(
                    user=request_actor(request),
                    metadata={"api_key": key_name} if key_name else None,
                    **fields,
                )
            else:
                result = services.message_create(role=MessageRole.CUSTOMER, **fields)
        except MessageRejected as error:
            status_code = 413 if error.code == "too_long" else 400
            raise ApiError(error.code, error.detail, status_code) from None
        except (SessionClosed, AlreadyAssigned) as error:
            raise Conflict(error.code, error.detail) from None
        body = message_payload(result.message)
        wait = min(query.validated_data["wait"], float(app_setting("API_WAIT_MAX_SECONDS")))
        if wait > 0 and staff:
            # The AI answers customers only: waiting on a staff or API-key message would hold
            # the request (and a worker thread) for the whole wait for nothing.
            body["reply"] = None
        elif wait > 0 and _wait_slot_take():
            try:
                reply = _wait_for_reply(result.message, wait)
            finally:
                _wait_slot_give()
            body["reply"] = message_payload(reply) if reply else None
        elif wait > 0:
            # Every slot is taken: the message is stored; the client reads the reply later.
            logger.info("Not waiting for a reply: %s long polls already", _waits_in_progress)
            body["reply"] = None
        return Response(body, status=status.HTTP_201_CREATED if result.created else 200)


class NoteCreateApi(APIView):
    """POST an internal note on a session (staff and API keys; customers never see notes)."""

    permission_classes = [StaffOrApiKey]

    @extend_schema(
        summary="Add an internal note",
        description=(
            "Staff or an API key (`write`): a note only agents see, in the console's timeline. "
            "Allowed on closed sessions too. A re-sent `client_msg_id` returns the stored note "
            "(200) and creates nothing."
        ),
        request=MessageCreateSerializer,
        responses={201: StaffMessageSerializer, 200: StaffMessageSerializer},
    )
    def post(self, request, session_id: str):
        # Only the session's id is used, as for messages.
        session = session_for_request(request, session_id, related=False)
        if not isinstance(request.data, dict):
            raise ApiError("invalid_field", "The body must be a JSON object.")
        payload = MessageCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        if payload.validated_data["attachments"]:
            raise ApiError("invalid_field", "Internal notes carry no attachments.")
        key_name = request_api_key_name(request)
        try:
            result = services.note_add(
                session_id=session.pk,
                user=request_actor(request),
                content=payload.validated_data["content"],
                client_msg_id=payload.validated_data.get("client_msg_id"),
                metadata={"api_key": key_name} if key_name else None,
            )
        except MessageRejected as error:
            status_code = 413 if error.code == "too_long" else 400
            raise ApiError(error.code, error.detail, status_code) from None
        return Response(
            message_payload(result.message, for_staff=True),
            status=status.HTTP_201_CREATED if result.created else 200,
        )
