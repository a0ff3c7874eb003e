"""Widget building blocks: origin matching, the HMAC identity check, contacts, widget sessions."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from django.core.exceptions import ValidationError

from sessions_app import services
from sessions_app.exceptions import (
    ContactConflict,
    IdentityHashMissing,
    IdentityInvalid,
    OriginNotAllowed,
    UnknownSite,
)
from sessions_app.identity import identity_hash, identity_verify
from sessions_app.models import Contact, SupportSession, Website
from sessions_app.origins import normalize_origin

SHOP = "https://shop.example.com"


@pytest.fixture
def website(db):
    return Website.objects.create(name="Shop", allowed_origins=f"{SHOP}\nhttp://localhost:3000\n")


# --- origins -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://shop.example.com", SHOP),
        ("HTTPS://Shop.Example.com:443", SHOP),
        ("https://shop.example.com/", SHOP),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("https://*.example.com", None),
        ("https://shop.example.com/path", None),
        ("https://user@shop.example.com", None),
        ("shop.example.com", None),
        ("ftp://shop.example.com", None),
        ("null", None),
        ("", None),
    ],
)
def test_normalize_origin_accepts_exact_origins_only(text, expected):
    assert normalize_origin(text) == expected


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (SHOP, True),
        ("https://shop.example.com:443", True),
        ("http://localhost:3000", True),
        ("http://shop.example.com", False),  # another scheme
        ("https://shop.example.com:8443", False),  # another port
        ("https://shop.example.com.evil.test", False),  # suffix trick
        ("https://evil.test/https://shop.example.com", False),
        ("http://localhost:3001", False),
        ("null", False),
        (None, False),
    ],
)
def test_website_allows_only_its_listed_origins(website, origin, allowed):
    assert website.allows_origin(origin) is allowed


def test_allowed_origins_are_validated(db):
    website = Website(name="Bad", allowed_origins="https://ok.example.com\nhttps://*.example.com")
    with pytest.raises(ValidationError, match="is not an origin"):
        website.full_clean()


@pytest.mark.parametrize("colour", ["red", "#12345", "#1234567", "#gggggg", "javascript:"])
def test_accent_colour_must_be_hex(db, colour):
    with pytest.raises(ValidationError):
        Website(name="Site", accent_color=colour).full_clean()


def test_site_key_and_identity_secret_are_generated_and_distinct(db):
    first, second = Website.objects.create(name="A"), Website.objects.create(name="B")
    assert first.site_key.startswith("site_") and first.site_key != second.site_key
    assert len(first.identity_secret) == 64 and first.identity_secret != second.identity_secret


# --- identity ------------------------------------------------------------------------------


def test_identity_hash_is_hex_hmac_sha256_of_the_user_id(website):
    expected = hmac.new(website.identity_secret.encode(), b"user-7", hashlib.sha256).hexdigest()
    assert identity_hash(secret=website.identity_secret, user_id="user-7") == expected
    good = identity_hash(secret=website.identity_secret, user_id="user-7")
    assert identity_verify(website=website, user_id="user-7", user_hash=good) == "user-7"
    assert identity_verify(website=website, user_id="user-7", user_hash=good.upper()) == "user-7"


@pytest.mark.parametrize(
    ("user_hash", "error"),
    [
        ("", IdentityHashMissing),
        (None, IdentityHashMissing),
        ("abc", IdentityInvalid),
        ("0" * 64, IdentityInvalid),
    ],
)
def test_unsigned_or_wrongly_signed_ids_are_refused(website, user_hash, error):
    with pytest.raises(error):
        identity_verify(website=website, user_id="user-7", user_hash=user_hash)


def test_a_hash_for_another_id_or_another_site_is_refused(website):
    other = Website.objects.create(name="Other")
    for_other_id = identity_hash(secret=website.identity_secret, user_id="user-8")
    for_other_site = identity_hash(secret=other.identity_secret, user_id="user-7")
    for forged in (for_other_id, for_other_site):
        with pytest.raises(IdentityInvalid):
            identity_verify(website=website, user_id="user-7", user_hash=forged)


def test_identity_check_is_constant_time(website, monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr("sessions_app.identity.hmac.compare_digest", spy)
    with pytest.raises(IdentityInvalid):
        identity_verify(website=website, user_id="user-7", user_hash="f" * 64)
    assert len(calls) == 1


def test_rotating_the_secret_invalidates_old_hashes(website):
    old = identity_hash(secret=website.identity_secret, user_id="user-7")
    rotated = services.website_rotate_identity_secret(website_id=website.pk)
    assert rotated.identity_secret != website.identity_secret
    with pytest.raises(IdentityInvalid):
        identity_verify(website=rotated, user_id="user-7", user_hash=old)


# --- contacts and widget sessions ----------------------------------------------------------


def open_widget(website, **kwargs):
    defaults = {"site_key": website.site_key, "page_origin": SHOP}
    return services.widget_session_open(**{**defaults, **kwargs})


def test_verified_identity_finds_or_creates_the_contact(website):
    signed = identity_hash(secret=website.identity_secret, user_id="user-7")
    first = open_widget(
        website, user_id="user-7", user_hash=signed, customer_name="Ada", customer_email="a@x.io"
    ).session
    second = open_widget(website, user_id="user-7", user_hash=signed, customer_name="Ada L.")
    contact = Contact.objects.get()
    assert first.contact_id == second.session.contact_id == contact.pk
    assert (contact.external_id, contact.name, contact.email) == ("user-7", "Ada L.", "a@x.io")
    assert contact.last_seen_at is not None
    assert second.session.display_name == "Ada L."


def test_forged_identity_stores_nothing(website):
    with pytest.raises(IdentityInvalid):
        open_widget(website, user_id="user-7", user_hash="0" * 64)
    with pytest.raises(IdentityHashMissing):
        open_widget(website, user_id="user-7")
    with pytest.raises(IdentityInvalid):
        open_widget(website, user_hash="0" * 64)  # a hash without an id
    assert Contact.objects.count() == 0
    assert SupportSession.objects.count() == 0


def test_widget_session_needs_a_known_site_and_a_listed_origin(website):
    with pytest.raises(UnknownSite):
        services.widget_session_open(site_key="site_nope", page_origin=SHOP)
    with pytest.raises(OriginNotAllowed):
        open_widget(website, page_origin="https://evil.test")
    assert SupportSession.objects.count() == 0


def test_widget_session_keeps_page_url_and_user_agent(website):
    session = open_widget(
        website, page_url=f"{SHOP}/cart?step=2", user_agent="Mozilla/5.0 Test"
    ).session
    assert session.website_id == website.pk and session.contact_id is None
    assert session.metadata == {
        "source": "widget",
        "page_origin": SHOP,
        "page_url": f"{SHOP}/cart?step=2",
        "user_agent": "Mozilla/5.0 Test",
    }
    # A page URL on another origin than the page's is the client's invention: not kept.
    other = open_widget(website, page_url="https://evil.test/x").session
    assert "page_url" not in other.metadata


def test_external_id_is_unique_per_website(website):
    services.contact_create(website=website, external_id="u1", name="A")
    with pytest.raises(ContactConflict):
        services.contact_create(website=website, external_id="u1", name="B")
    other = Website.objects.create(name="Other")
    services.contact_create(website=other, external_id="u1")  # another site: fine
    services.contact_create(external_id="u1")  # no site
    with pytest.raises(ContactConflict):
        services.contact_create(external_id="u1")
    services.contact_create(website=website, name="no external id")
    services.contact_create(website=website, name="nor this one")


def test_contact_update_and_delete_keep_the_sessions(website):
    contact = services.contact_create(website=website, external_id="u1", name="A")
    session = services.session_open(contact=contact, website=website).session
    updated = services.contact_update(contact_id=contact.pk, name="B", attributes={"plan": "pro"})
    assert (updated.name, updated.attributes) == ("B", {"plan": "pro"})
    services.contact_delete(contact_id=contact.pk)
    session.refresh_from_db()
    assert session.contact_id is None


def test_a_website_with_contacts_cannot_be_deleted(website):
    from django.db.models import ProtectedError

    services.contact_create(website=website, external_id="u1")
    session = open_widget(website).session
    with pytest.raises(ProtectedError):
        website.delete()
    Contact.objects.all().delete()
    website.delete()
    session.refresh_from_db()
    assert session.website_id is None  # the conversation stays
