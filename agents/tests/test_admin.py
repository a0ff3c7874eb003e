"""The article admin: tags edited as tags, and the "Try a question" box (nothing stored)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from agents.admin import TagsField
from agents.models import Article
from chat.models import Message
from sessions_app.models import SupportSession
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

TRY_URL = "/admin/agents/article/try/"


@pytest.fixture
def admin_client(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


@pytest.fixture
def kb(settings, db):
    """The demo shop's articles, indexed with TF-IDF (fast; the same pipeline otherwise)."""
    from agents.kb_io import kb_import
    from agents.management.commands.seed_demo import DEMO_DIR

    settings.AGENT_ENCODER = "none"
    kb_import(articles_file=DEMO_DIR / "articles.jsonl", examples_files=[DEMO_DIR / "examples.csv"])


def _form_data(**overrides) -> dict:
    data = {
        "slug": "refunds",
        "title": "Refunds",
        "body": "Five working days.",
        "tags": "refunds, payments",
        "is_published": "on",
        "examples-TOTAL_FORMS": "0",
        "examples-INITIAL_FORMS": "0",
        "examples-MIN_NUM_FORMS": "0",
        "examples-MAX_NUM_FORMS": "1000",
    }
    return {**data, **overrides}


def test_tags_are_typed_comma_separated_and_stored_as_the_json_list(admin_client):
    response = admin_client.post(
        reverse("admin:agents_article_add"),
        _form_data(tags=" refunds,  payments ,,refunds, Late  delivery "),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    article = Article.objects.get(slug="refunds")
    assert article.tags == ["refunds", "payments", "Late delivery"]

    page = admin_client.get(reverse("admin:agents_article_change", args=[article.pk]))
    html = page.content.decode()
    assert re.search(r'name="tags" value="refunds, payments, Late delivery"', html)
    # The REST API still sees the JSON list.
    api = admin_client.get(f"/api/v1/kb/articles/{article.pk}/")
    assert api.json()["tags"] == ["refunds", "payments", "Late delivery"]


def test_tags_are_validated_with_the_rest_apis_limits(admin_client):
    too_many = ", ".join(f"t{n}" for n in range(21))
    response = admin_client.post(reverse("admin:agents_article_add"), _form_data(tags=too_many))
    assert response.status_code == 200
    assert "At most 20 tags." in response.content.decode()

    response = admin_client.post(reverse("admin:agents_article_add"), _form_data(tags="x" * 51))
    assert "at most 50 characters" in response.content.decode()
    assert not Article.objects.exists()

    response = admin_client.post(reverse("admin:agents_article_add"), _form_data(tags=""))
    assert response.status_code == 302
    assert Article.objects.get().tags == []


def test_tags_field_round_trip():
    field = TagsField()
    assert field.prepare_value(["a", "b c"]) == "a, b c"
    assert field.clean("a, b c ,a") == ["a", "b c"]
    assert not field.has_changed(["a", "b"], "a,b")
    assert field.has_changed(["a", "b"], "a")


def test_try_a_question_shows_the_reply_the_article_and_the_confidence(admin_client, kb):
    article = Article.objects.get(slug="password-reset")
    change = admin_client.get(reverse("admin:agents_article_change", args=[article.pk]))
    assert f'href="{TRY_URL}?article={article.pk}"' in change.content.decode()
    listing = admin_client.get(reverse("admin:agents_article_changelist"))
    assert f'href="{TRY_URL}"' in listing.content.decode()

    counts = (Message.objects.count(), SupportSession.objects.count())
    response = admin_client.post(
        f"{TRY_URL}?article={article.pk}", {"question": "I forgot my login password"}
    )

    assert response.status_code == 200
    html = response.content.decode()
    reply = re.search(r'<td id="try-reply">(.*?)</td>', html, re.S).group(1)
    assert "Forgot password" in reply
    matched = re.search(r'<td id="try-article">(.*?)</td>', html, re.S).group(1)
    assert "Resetting your password" in matched and "/help/password-reset/" in matched
    assert "✔ This article (Resetting your password) was matched." in matched
    confidence = re.search(r'<td id="try-confidence">(\d+)%', html).group(1)
    assert 0 < int(confidence) <= 100
    assert "answers (extractive)" in html
    # Nothing stored, nobody told.
    assert (Message.objects.count(), SupportSession.objects.count()) == counts


def test_try_a_question_shows_a_hand_over_and_a_different_match(admin_client, kb):
    other = Article.objects.get(slug="payment-methods")
    response = admin_client.post(
        f"{TRY_URL}?article={other.pk}", {"question": "I want to talk to a real person"}
    )
    html = response.content.decode()
    assert "hands over to a person: human_requested" in html
    assert "was not the one matched" in html


def test_try_a_question_validates_its_input(admin_client, kb):
    response = admin_client.post(TRY_URL, {"question": "x" * 501})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="try-reply"' not in html
    assert "at most 500 characters" in html
    assert 'id="try-reply"' not in admin_client.get(TRY_URL).content.decode()


def test_try_a_question_is_for_staff_only(client, kb):
    response = client.get(TRY_URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(StaffFactory(is_superuser=False))  # staff without the view permission
    assert client.get(TRY_URL).status_code == 403
