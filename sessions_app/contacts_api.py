"""REST endpoints for contacts (/api/v1/contacts/…), for staff and API keys: thin over services."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.permissions import StaffOrApiKey
from supportdesk.api import ApiError, Pagination, json_value_check

from . import selectors, services
from .exceptions import UnknownSite, WidgetError
from .models import Contact
from .serializers import DisplayNameField, SessionSerializer


class ContactSerializer(serializers.ModelSerializer):
    """A contact as staff and integrations see it (attributes included)."""

    website = serializers.SlugRelatedField(
        slug_field="site_key", read_only=True, allow_null=True, help_text="The site's key."
    )
    # A plain string in the schema: "" (not given) is no email address.
    email = serializers.CharField(read_only=True, help_text="An email address, or empty.")

    class Meta:
        model = Contact
        fields = [
            "id",
            "website",
            "external_id",
            "name",
            "email",
            "attributes",
            "created_at",
            "last_seen_at",
        ]
        read_only_fields = fields


class ContactInputSerializer(serializers.Serializer):
    website = serializers.CharField(
        max_length=40, required=False, allow_null=True, help_text="A site key, or null."
    )
    external_id = serializers.CharField(max_length=255, required=False, allow_blank=True)
    name = DisplayNameField(max_length=200, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    attributes = serializers.DictField(required=False)

    def validate_attributes(self, value):
        json_value_check(value)
        return value

    def validate_website(self, value):
        if value in (None, ""):
            return None
        try:
            return selectors.website_by_key(site_key=value)
        except UnknownSite as error:
            raise serializers.ValidationError(error.detail) from None


def _contact_or_404(contact_id: str) -> Contact:
    contact = selectors.contact_get(contact_id=contact_id)
    if contact is None:
        raise ApiError("contact_not_found", "No such contact.", status.HTTP_404_NOT_FOUND)
    return contact


def _service(function, **kwargs):
    try:
        return function(**kwargs)
    except WidgetError as error:
        raise ApiError(error.code, error.detail, error.status) from None


class ContactListApi(APIView):
    """GET: list contacts (filter by site key, search name/email/external id). POST: create."""

    pagination_class = Pagination  # so the schema shows the {count, next, previous, results} page
    may_conflict = True  # the schema documents 409 contact_exists for a create
    permission_classes = [StaffOrApiKey]

    class FilterSerializer(serializers.Serializer):
        website = serializers.CharField(max_length=40, required=False)
        search = serializers.CharField(max_length=200, required=False)

    @extend_schema(
        summary="List contacts",
        parameters=[FilterSerializer],
        responses=ContactSerializer(many=True),
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = selectors.contacts_list(**filters.validated_data)
        paginator = Pagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(ContactSerializer(page, many=True).data)

    @extend_schema(
        summary="Create a contact",
        description="external_id is unique per website (409 contact_exists).",
        request=ContactInputSerializer,
        responses={201: ContactSerializer},
    )
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        payload = ContactInputSerializer(data=data)
        payload.is_valid(raise_exception=True)
        contact = _service(services.contact_create, **payload.validated_data)
        return Response(ContactSerializer(contact).data, status=status.HTTP_201_CREATED)


class ContactDetailApi(APIView):
    """GET, PATCH or DELETE one contact."""

    permission_classes = [StaffOrApiKey]

    @extend_schema(summary="Get a contact", responses=ContactSerializer)
    def get(self, request, contact_id: str):
        return Response(ContactSerializer(_contact_or_404(contact_id)).data)

    @extend_schema(
        summary="Update a contact",
        request=ContactInputSerializer,
        responses=ContactSerializer,
    )
    def patch(self, request, contact_id: str):
        contact = _contact_or_404(contact_id)
        data = request.data if isinstance(request.data, dict) else {}
        payload = ContactInputSerializer(data=data, partial=True)
        payload.is_valid(raise_exception=True)
        contact = _service(services.contact_update, contact_id=contact.pk, **payload.validated_data)
        return Response(ContactSerializer(contact).data)

    @extend_schema(summary="Delete a contact", responses={204: None})
    def delete(self, request, contact_id: str):
        contact = _contact_or_404(contact_id)
        services.contact_delete(contact_id=contact.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContactSessionsApi(APIView):
    """GET the contact's conversations, most recent first."""

    pagination_class = Pagination  # so the schema shows the {count, next, previous, results} page
    permission_classes = [StaffOrApiKey]

    @extend_schema(
        summary="List a contact's sessions",
        parameters=[OpenApiParameter("limit", int), OpenApiParameter("offset", int)],
        responses=SessionSerializer(many=True),
    )
    def get(self, request, contact_id: str):
        contact = _contact_or_404(contact_id)
        paginator = Pagination()
        page = paginator.paginate_queryset(
            selectors.contact_sessions(contact=contact), request, view=self
        )
        return paginator.get_paginated_response(SessionSerializer(page, many=True).data)
