"""REST knowledge base: articles and example questions CRUD, validation, one rebuild per change."""

from __future__ import annotations

import pytest

from agents.models import Article, ArticleExample
from agents.signals import index_updates_muted
from agents.tasks import kb_rebuild_index
from tests.rest import api_client, assert_error

pytestmark = pytest.mark.django_db

ARTICLES = "/api/v1/kb/articles/"


def rebuilds(callbacks) -> int:
    """Count the index rebuilds queued to run after commit."""
    return sum(getattr(cb, "__name__", "") == "_rebuild_after_commit" for cb in callbacks)


@pytest.fixture
def staff():
    return api_client("staff")


@pytest.fixture
def article():
    # Muted: the test's own transaction never commits, so a rebuild queued here would stay
    # pending and absorb (rightly) the one a request under test queues.
    with index_updates_muted():
        return Article.objects.create(slug="refunds", title="Refunds", body="Within 5 days.")


def test_create_article_with_examples_rebuilds_the_index_once_after_commit(
    staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff.post(
            ARTICLES,
            {
                "slug": "lost-card",
                "title": "I lost my card",
                "body": "Freeze it in the app.",
                "tags": ["cards"],
                "examples": ["I lost my card", "my card is gone", "  I lost my card  "],
            },
            format="json",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["slug"], body["is_published"], body["tags"]) == ("lost-card", True, ["cards"])
    texts = ArticleExample.objects.filter(article_id=body["id"]).values_list("text", flat=True)
    assert sorted(texts) == ["I lost my card", "my card is gone"]  # stripped, deduplicated
    assert rebuilds(callbacks) == 1


def test_the_queued_rebuild_runs_the_index_task(
    staff, django_capture_on_commit_callbacks, monkeypatch
):
    calls = []
    monkeypatch.setattr(kb_rebuild_index, "delay", lambda *a, **k: calls.append(1))
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(ARTICLES, {"title": "Fees", "body": "None."}, format="json")
    assert calls == [1]


def test_slug_is_derived_from_the_title_when_omitted(staff):
    body = staff.post(ARTICLES, {"title": "Card fees & limits", "body": "x"}, format="json").json()
    assert body["slug"] == "card-fees-limits"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"slug": "bad slug!", "title": "T", "body": "B"}, "slug"),
        ({"slug": "x" * 121, "title": "T", "body": "B"}, "slug"),
        ({"title": "", "body": "B"}, "title"),
        ({"title": "T" * 201, "body": "B"}, "title"),
        ({"title": "T"}, "body"),
        ({"title": "T", "body": "B", "tags": "cards"}, "tags"),
        ({"title": "T", "body": "B", "examples": ["q" * 501]}, "examples"),
        ({"title": "T", "body": "B", "examples": ["q"] * 101}, "examples"),
        ({"title": "T", "body": "B", "is_published": "perhaps"}, "is_published"),
        ({"title": "!!!", "body": "B"}, "slug"),
    ],
)
def test_article_validation_errors_name_the_field(staff, payload, field):
    body = assert_error(staff.post(ARTICLES, payload, format="json"), 400, "invalid_field")
    assert body["error"]["detail"].startswith(f"{field}:"), body
    assert not Article.objects.exists()


def test_invalid_slug_error_suggests_kb_imports_form(staff):
    body = assert_error(
        staff.post(
            ARTICLES, {"slug": "reverted_card_payment?", "title": "T", "body": "B"}, format="json"
        ),
        400,
        "invalid_field",
    )
    assert "'reverted_card_payment'" in body["error"]["detail"]


def test_duplicate_slug_is_409_slug_taken(staff, article):
    response = staff.post(ARTICLES, {"slug": "refunds", "title": "T", "body": "B"}, format="json")
    assert_error(response, 409, "slug_taken")
    other = Article.objects.create(slug="fees", title="Fees", body="x")
    patched = staff.patch(f"{ARTICLES}{other.pk}/", {"slug": "refunds"}, format="json")
    assert_error(patched, 409, "slug_taken")


def test_list_search_published_filter_and_pagination(staff, article):
    with index_updates_muted():
        Article.objects.create(
            slug="draft", title="Draft", body="about refunds", is_published=False
        )
    assert staff.get(ARTICLES).json()["count"] == 2
    assert [a["slug"] for a in staff.get(ARTICLES, {"search": "5 days"}).json()["results"]] == [
        "refunds"
    ]
    drafts = staff.get(ARTICLES, {"is_published": "false"}).json()["results"]
    assert [a["slug"] for a in drafts] == ["draft"]
    page = staff.get(ARTICLES, {"limit": 1, "offset": 1}).json()
    assert page["count"] == 2 and len(page["results"]) == 1
    for bad in ({"is_published": "maybe"}, {"search": "x" * 101}, {"limit": 0}):
        assert_error(staff.get(ARTICLES, bad), 400, "invalid_field")


def test_retrieve_and_patch(staff, article, django_capture_on_commit_callbacks):
    detail = f"{ARTICLES}{article.pk}/"
    assert staff.get(detail).json()["title"] == "Refunds"
    with django_capture_on_commit_callbacks() as callbacks:
        patched = staff.patch(detail, {"is_published": False, "body": "New"}, format="json")
    assert patched.status_code == 200
    assert (patched.json()["is_published"], patched.json()["body"]) == (False, "New")
    assert patched.json()["slug"] == "refunds"  # untouched fields stay
    assert rebuilds(callbacks) == 1


def test_delete_article_with_examples(staff, article, django_capture_on_commit_callbacks):
    detail = f"{ARTICLES}{article.pk}/"
    with index_updates_muted():
        ArticleExample.objects.create(article=article, text="refund?")
    with django_capture_on_commit_callbacks() as callbacks:
        assert staff.delete(detail).status_code == 204
    assert rebuilds(callbacks) == 1  # the article and its examples: one rebuild
    assert not Article.objects.exists()
    assert_error(staff.get(detail), 404, "article_not_found")


def test_unknown_article_is_404_everywhere(staff):
    for method, path in [
        ("get", f"{ARTICLES}999/"),
        ("patch", f"{ARTICLES}999/"),
        ("delete", f"{ARTICLES}999/"),
        ("get", f"{ARTICLES}999/examples/"),
        ("post", f"{ARTICLES}999/examples/"),
        ("delete", f"{ARTICLES}999/examples/1/"),
    ]:
        response = getattr(staff, method)(path, {"text": "q"}, format="json")
        assert_error(response, 404, "article_not_found")
    assert_error(staff.get(f"{ARTICLES}abc/"), 404, "not_found")


def test_examples_list_add_bulk_and_delete(staff, article, django_capture_on_commit_callbacks):
    examples = f"{ARTICLES}{article.pk}/examples/"
    with django_capture_on_commit_callbacks() as callbacks:
        bulk = staff.post(
            examples, {"texts": [f"refund question {n}" for n in range(50)]}, format="json"
        )
    assert bulk.status_code == 201 and len(bulk.json()) == 50
    assert rebuilds(callbacks) == 1
    one = staff.post(examples, {"text": "where is my refund"}, format="json")
    assert one.status_code == 201 and one.json()[0]["text"] == "where is my refund"
    again = staff.post(
        examples, {"texts": ["where is my refund", "refund question 3"]}, format="json"
    )
    assert again.json() == []  # known ones are skipped
    listed = staff.get(examples, {"limit": 100}).json()
    assert listed["count"] == 51
    example_id = listed["results"][0]["id"]
    assert staff.delete(f"{examples}{example_id}/").status_code == 204
    assert_error(staff.delete(f"{examples}{example_id}/"), 404, "example_not_found")
    other = Article.objects.create(slug="other", title="Other", body="x")
    foreign = ArticleExample.objects.create(article=other, text="not yours")
    assert_error(staff.delete(f"{examples}{foreign.pk}/"), 404, "example_not_found")


@pytest.mark.parametrize(
    "payload",
    [{}, {"text": "a", "texts": ["b"]}, {"texts": []}, {"text": ""}, {"text": "q" * 501}],
)
def test_bad_example_input_is_400(staff, article, payload):
    examples = f"{ARTICLES}{article.pk}/examples/"
    assert_error(staff.post(examples, payload, format="json"), 400, "invalid_field")
