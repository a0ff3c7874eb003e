"""REST endpoints for customers after a hand-over: the transcript by email, resume links."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from sessions_app.api import SessionCreatedSerializer, ws_url
from sessions_app.authentication import customer_session_for_request
from supportdesk.api import ApiError

from . import services
from .exceptions import NotificationError


def _call(function, **kwargs):
    try:
        return function(**kwargs)
    except NotificationError as error:
        raise ApiError(error.code, error.detail, error.status) from None


class TranscriptEmailApi(APIView):
    """POST: email the closed conversation's transcript to its customer."""

    permission_classes = [permissions.AllowAny]  # access: customer_session_for_request

    @extend_schema_serializer(component_name="TranscriptEmailInput")
    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField(
            max_length=254,
            required=False,
            allow_blank=True,
            default="",
            help_text="Where to send it; empty: the address the customer already gave.",
        )

    class OutputSerializer(serializers.Serializer):
        status = serializers.CharField(help_text="`queued`: a worker sends it shortly.")

    @extend_schema(
        summary="Email the transcript",
        description=(
            "Only the session's customer (staff and API keys: 403), once the session is "
            "closed (409 `session_not_closed` before). Without `email` and no address known: "
            "400 `email_required`. Once per `TRANSCRIPT_EMAIL_DEBOUNCE_MINUTES` (10) per "
            "session: 429 `transcript_recently_sent` sooner."
        ),
        request=InputSerializer,
        responses={202: OutputSerializer},
        examples=[OpenApiExample("To", value={"email": "casey@example.com"}, request_only=True)],
    )
    def post(self, request, session_id: str):
        session = customer_session_for_request(
            request, session_id, "Only the session's customer asks for this."
        )
        payload = self.InputSerializer(data=request.data if isinstance(request.data, dict) else {})
        payload.is_valid(raise_exception=True)
        _call(
            services.transcript_request,
            session_id=session.pk,
            email=payload.validated_data["email"],
        )
        return Response({"status": "queued"}, status=status.HTTP_202_ACCEPTED)


class ResumeApi(APIView):
    """POST: exchange an emailed resume link for the session and a new customer token."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []  # the link is the credential

    @extend_schema_serializer(component_name="ResumeInput")
    class InputSerializer(serializers.Serializer):
        link = serializers.CharField(
            max_length=500, help_text="The value after `#resume=` in the emailed link."
        )

    @extend_schema(
        summary="Resume a conversation from an emailed link",
        description=(
            'The chat page calls this with the signed value of a link from a "new reply" '
            "email. The link works once and expires (`RESUME_LINK_MAX_AGE_HOURS`); the answer "
            "carries a NEW customer token (the session's old token stops working). A forged, "
            "expired or used link: 400 `resume_link_invalid`."
        ),
        request=InputSerializer,
        responses={200: SessionCreatedSerializer},
        auth=[],
    )
    def post(self, request):
        payload = self.InputSerializer(data=request.data if isinstance(request.data, dict) else {})
        payload.is_valid(raise_exception=True)
        opened = _call(services.resume_link_redeem, link=payload.validated_data["link"])
        session = opened.session
        return Response(
            {
                "id": str(session.id),
                "token": opened.token,
                "status": session.status,
                "created_at": session.created_at,
                "ws_url": ws_url(request, session.id),
            }
        )
