"""REST endpoints of the knowledge base (/api/v1/kb/articles/…): thin views over services."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_slug
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.permissions import StaffOrApiKey
from supportdesk.api import ApiError, Conflict, PageQuerySerializer, Pagination, without_page

from . import selectors, services
from .exceptions import KnowledgeBaseError
from .kb_files import EXAMPLE_MAX_CHARS, TITLE_MAX_CHARS
from .kb_io import article_slug
from .models import Article, ArticleExample

# Example questions one request may add.
EXAMPLES_PER_REQUEST = 100


def kb_call(function, **kwargs):
    """Run a knowledge-base service, turning its domain errors into API errors."""
    try:
        return function(**kwargs)
    except KnowledgeBaseError as error:
        if error.status == status.HTTP_409_CONFLICT:
            raise Conflict(error.code, error.detail) from None
        raise ApiError(error.code, error.detail, error.status) from None


def article_for_request(article_id: int) -> Article:
    """Return the article or raise the 404 in the error shape."""
    return kb_call(selectors.article_get, article_id=article_id)


class SlugField(serializers.CharField):
    """An article slug under kb_import's rules; an invalid one is refused with the fix."""

    def __init__(self, **kwargs):
        super().__init__(max_length=120, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            validate_slug(value)
        except DjangoValidationError:
            suggestion = article_slug(value)
            hint = f" (try {suggestion!r})" if suggestion else ""
            raise serializers.ValidationError(
                f"use letters, digits, hyphens and underscores only{hint}."
            ) from None
        return value


class ExampleTextField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=EXAMPLE_MAX_CHARS, **kwargs)


class ArticleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Article
        fields = ["id", "slug", "title", "body", "tags", "is_published", "created_at", "updated_at"]
        read_only_fields = fields


class ExampleSerializer(serializers.ModelSerializer):
    class Meta:
        model = ArticleExample
        fields = ["id", "text"]
        read_only_fields = fields


class ArticleInputSerializer(serializers.Serializer):
    slug = SlugField(required=False, help_text="Unique; derived from the title if omitted.")
    title = serializers.CharField(max_length=TITLE_MAX_CHARS)
    body = serializers.CharField()
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), max_length=20, required=False, default=list
    )
    is_published = serializers.BooleanField(required=False, default=True)
    examples = serializers.ListField(
        child=ExampleTextField(),
        max_length=EXAMPLES_PER_REQUEST,
        required=False,
        default=list,
        help_text="Customer questions this article answers.",
    )

    def validate(self, attrs):
        if not attrs.get("slug"):
            attrs["slug"] = article_slug(attrs["title"])[:120]
            if not attrs["slug"]:
                raise serializers.ValidationError({"slug": "cannot be derived from the title."})
        return attrs


def _json_object(request) -> dict:
    if not isinstance(request.data, dict):
        raise ApiError("invalid_field", "The body must be a JSON object.")
    return request.data


class ArticleListApi(APIView):
    """GET: list articles. POST: create one."""

    pagination_class = Pagination  # so the schema shows the {count, next, previous, results} page
    may_conflict = True  # the schema documents 409 slug_taken for a create

    permission_classes = [StaffOrApiKey]

    class FilterSerializer(PageQuerySerializer):
        search = serializers.CharField(
            required=False,
            max_length=selectors.ARTICLE_SEARCH_MAX_CHARS,
            help_text="Words of the title, slug or body.",
        )
        is_published = serializers.BooleanField(required=False, allow_null=True, default=None)

    @extend_schema(
        summary="List knowledge-base articles",
        description=(
            "Staff or an API key (`read`), by title; `search` (at most 100 characters) matches "
            "the title, slug or body, `is_published` filters. Paginated (`limit`, `offset`)."
        ),
        parameters=[FilterSerializer],
        responses=ArticleSerializer(many=True),
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = selectors.articles_list(**without_page(filters.validated_data))
        paginator = Pagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(ArticleSerializer(page, many=True).data)

    @extend_schema(
        summary="Create an article",
        description=(
            "Staff or an API key (`write`). The slug follows `kb_import`'s rules (letters, "
            "digits, `-`, `_`); a taken slug is 409 `slug_taken`. `examples` adds up to 100 "
            "example questions. The search index rebuilds once, after commit."
        ),
        request=ArticleInputSerializer,
        responses={201: ArticleSerializer},
    )
    def post(self, request):
        payload = ArticleInputSerializer(data=_json_object(request))
        payload.is_valid(raise_exception=True)
        article = kb_call(services.article_create, **payload.validated_data)
        return Response(ArticleSerializer(article).data, status=status.HTTP_201_CREATED)


class ArticleDetailApi(APIView):
    """GET, PATCH or DELETE one article."""

    permission_classes = [StaffOrApiKey]

    @extend_schema_serializer(component_name="ArticleUpdate")
    class UpdateSerializer(ArticleInputSerializer):
        examples = None  # examples have their own endpoint

        def validate(self, attrs):
            return attrs

    @extend_schema(
        summary="Get an article",
        description="Staff or an API key (`read`). Unknown id: 404 `article_not_found`.",
        responses=ArticleSerializer,
    )
    def get(self, request, article_id: int):
        return Response(ArticleSerializer(article_for_request(article_id)).data)

    @extend_schema(
        summary="Update an article",
        description=(
            "Staff or an API key (`write`): change any of slug, title, body, tags, "
            "is_published. The search index rebuilds after commit."
        ),
        request=UpdateSerializer(partial=True),
        responses=ArticleSerializer,
    )
    def patch(self, request, article_id: int):
        article = article_for_request(article_id)
        payload = self.UpdateSerializer(data=_json_object(request), partial=True)
        payload.is_valid(raise_exception=True)
        article = kb_call(services.article_update, article=article, **payload.validated_data)
        return Response(ArticleSerializer(article).data)

    @extend_schema(
        summary="Delete an article",
        description="Staff or an API key (`write`), with its examples; the index rebuilds.",
        responses={204: None},
    )
    def delete(self, request, article_id: int):
        kb_call(services.article_delete, article=article_for_request(article_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ArticleExampleListApi(APIView):
    """GET an article's example questions; POST new ones."""

    permission_classes = [StaffOrApiKey]
    pagination_class = Pagination  # so the schema shows the {count, next, previous, results} page

    @extend_schema_serializer(component_name="ExampleCreateInput")
    class InputSerializer(serializers.Serializer):
        text = ExampleTextField(required=False, help_text="One question.")
        texts = serializers.ListField(
            child=ExampleTextField(),
            min_length=1,
            max_length=EXAMPLES_PER_REQUEST,
            required=False,
            help_text="Several questions at once (one index rebuild).",
        )

        def validate(self, attrs):
            if ("text" in attrs) == ("texts" in attrs):
                raise serializers.ValidationError("Send either text or texts.")
            return {"texts": attrs["texts"] if "texts" in attrs else [attrs["text"]]}

    @extend_schema(
        summary="List an article's example questions",
        description="Staff or an API key (`read`). Paginated (`limit`, `offset`).",
        parameters=[PageQuerySerializer],
        responses=ExampleSerializer(many=True),
    )
    def get(self, request, article_id: int):
        article = article_for_request(article_id)
        PageQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        paginator = Pagination()
        page = paginator.paginate_queryset(
            selectors.article_examples(article_id=article.pk), request, view=self
        )
        return paginator.get_paginated_response(ExampleSerializer(page, many=True).data)

    @extend_schema(
        summary="Add example questions",
        description=(
            "Staff or an API key (`write`): `text` (one) or `texts` (up to 100). Questions "
            "the article already has are skipped; the response lists the ones added. The "
            "search index rebuilds once, after commit."
        ),
        request=InputSerializer,
        responses={201: ExampleSerializer(many=True)},
    )
    def post(self, request, article_id: int):
        article = article_for_request(article_id)
        payload = self.InputSerializer(data=_json_object(request))
        payload.is_valid(raise_exception=True)
        added = kb_call(
            services.article_examples_add, article=article, texts=payload.validated_data["texts"]
        )
        return Response(ExampleSerializer(added, many=True).data, status=status.HTTP_201_CREATED)


class ArticleExampleDetailApi(APIView):
    """DELETE one example question."""

    permission_classes = [StaffOrApiKey]

    @extend_schema(
        summary="Delete an example question",
        description="Staff or an API key (`write`). Unknown: 404 `example_not_found`.",
        responses={204: None},
    )
    def delete(self, request, article_id: int, example_id: int):
        article = article_for_request(article_id)
        example = kb_call(
            selectors.article_example_get, article_id=article.pk, example_id=example_id
        )
        kb_call(services.article_example_delete, example=example)
        return Response(status=status.HTTP_204_NO_CONTENT)
