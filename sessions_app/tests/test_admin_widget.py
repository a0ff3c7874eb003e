"""Admin for websites and contacts: install snippet, identity secret, rotation, conversations."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sessions_app.models import Contact, Website
from tests.factories import StaffFactory, SupportSessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def test_website_page_shows_install_snippet_and_secret(admin_client):
    website = Website.objects.create(name="Shop", allowed_origins="https://shop.example.com")
    url = reverse("admin:sessions_app_website_change", args=[website.pk])
    page = admin_client.get(url).content.decode()
    snippet = (
        f"&lt;script src=&quot;http://testserver/widget.js&quot; "
        f"data-site=&quot;{website.site_key}&quot; async&gt;&lt;/script&gt;"
    )
    assert snippet in page
    assert website.identity_secret in page


def test_website_add_validates_origins_and_colour(admin_client):
    url = reverse("admin:sessions_app_website_add")
    response = admin_client.post(
        url,
        {"name": "Shop", "allowed_origins": "https://*.example.com", "accent_color": "blue"},
    )
    assert response.status_code == 200  # the form again, with its errors
    assert "is not an origin" in response.content.decode()
    assert "Use a hex colour" in response.content.decode()
    assert Website.objects.count() == 0
    admin_client.post(
        url,
        {
            "name": "Shop",
            "allowed_origins": "https://shop.example.com\nhttp://localhost:3000",
            "accent_color": "#112233",
            "greeting": "Hi",
        },
    )
    assert Website.objects.get().origins == ["https://shop.example.com", "http://localhost:3000"]


def test_rotate_identity_secret_action(admin_client):
    website = Website.objects.create(name="Shop")
    old = website.identity_secret
    admin_client.post(
        reverse("admin:sessions_app_website_changelist"),
        {"action": "rotate_identity_secret", "_selected_action": [website.pk]},
    )
    website.refresh_from_db()
    assert website.identity_secret != old and len(website.identity_secret) == 64


def test_contact_page_lists_conversations(admin_client):
    contact = Contact.objects.create(name="Grace", external_id="u-1")
    session = SupportSessionFactory(contact=contact)
    page = admin_client.get(reverse("admin:sessions_app_contact_change", args=[contact.pk]))
    assert reverse("admin:sessions_app_supportsession_change", args=[session.pk]) in (
        page.content.decode()
    )
    listing = admin_client.get(reverse("admin:sessions_app_contact_changelist"))
    assert listing.status_code == 200 and "Grace" in listing.content.decode()
