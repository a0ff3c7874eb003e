"""The embeddable widget in headless Chromium: a host page on a second origin, a third unlisted one.

Three origins on 127.0.0.1: the desk (Daphne), the shop (listed by the Website) and a stranger
(not listed). Each host page is a plain static file with the install snippet.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from sessions_app.identity import identity_hash
from sessions_app.models import Contact, SupportSession, Website
from tests.browser.conftest import console_login, new_page
from tests.browser.test_console import off_loop
from tests.factories import SupportSessionFactory
from tests.servers import StaticSite, server_env, start_daphne

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var"
FRAME = "iframe[title^='Chat with']"


def host_page(title: str, snippet: str, link: str = "") -> str:
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body>"
        f"<h1>{title}</h1>{link}<p>Welcome to the shop.</p>{snippet}</body></html>"
    )


def snippet(desk: str, site_key: str, **data: str) -> str:
    extra = "".join(f' data-{k.replace("_", "-")}="{v}"' for k, v in data.items())
    return f'<script src="{desk}/widget.js" data-site="{site_key}"{extra} async></script>'


def run_desk(tmp_path):
    env = server_env(REDIS_URL="", CELERY_TASK_ALWAYS_EAGER="1", AGENT_ENCODER="none")
    return start_daphne(tmp_path, env)


@pytest.fixture
def articles_kb(db, settings):
    """The demo shop's articles, TF-IDF only (no sentence model to load): quick to index.

    The widget's answer path is what is tested here; retrieval quality has its own tests.
    """
    from agents.kb_io import kb_import

    settings.AGENT_ENCODER = "none"
    from agents.management.commands.seed_demo import DEMO_DIR

    kb_import(articles_file=DEMO_DIR / "articles.jsonl")


@pytest.fixture
def desk(articles_kb, tmp_path):
    process, base_url = run_desk(tmp_path)
    yield base_url
    process.stop()


@pytest.fixture
def bare_desk(db, tmp_path):
    """The desk without a knowledge base, for tests that ask nothing (faster to start)."""
    process, base_url = run_desk(tmp_path)
    yield base_url
    process.stop()


@pytest.fixture
def sites(tmp_path):
    """The shop (to be listed by the Website) and a stranger's site (never listed)."""
    shop_dir, stranger_dir = tmp_path / "shop", tmp_path / "stranger"
    shop_dir.mkdir()
    stranger_dir.mkdir()
    shop, stranger = StaticSite(shop_dir), StaticSite(stranger_dir)
    yield shop, shop_dir, stranger, stranger_dir
    shop.stop()
    stranger.stop()


@pytest.fixture
def website(sites):
    shop = sites[0]
    return Website.objects.create(
        name="Acme Shop",
        allowed_origins=shop.origin,
        accent_color="#aa3300",
        greeting="Questions about your order?",
    )


def message_ids(frame) -> list[str]:
    return frame.locator("#messages li[data-seq]").evaluate_all("els => els.map(e => e.dataset.id)")


def socket_outcome(page, url: str) -> str:
    """Open a WebSocket from this page: 'open', or how it ended before opening."""
    return page.evaluate(
        """url => new Promise(resolve => {
            const ws = new WebSocket(url);
            ws.onopen = () => { resolve('open'); ws.close(); };
            ws.onclose = (e) => resolve('closed:' + e.code);
        })""",
        url,
    )


def test_widget_answers_on_the_shop_survives_navigation_and_is_refused_elsewhere(
    desk, sites, website, browser
):
    shop, shop_dir, stranger, stranger_dir = sites
    tag = snippet(desk, website.site_key)
    (shop_dir / "index.html").write_text(
        host_page("Shop home", tag, '<a id="to-orders" href="/orders.html">Orders</a>')
    )
    (shop_dir / "orders.html").write_text(host_page("Your orders", tag))
    (stranger_dir / "index.html").write_text(host_page("Stranger", tag))
    frame_url = f"{desk}/widget/{website.site_key}/"
    (stranger_dir / "framed.html").write_text(
        host_page("Stranger frames", f'<iframe id="direct" src="{frame_url}"></iframe>')
    )

    page = new_page(browser)
    page.goto(shop.origin + "/index.html")
    launcher = page.locator("#supportdesk-widget .launcher")
    launcher.wait_for()
    assert launcher.get_attribute("aria-label") == "Open chat with Acme Shop"
    assert page.locator("#supportdesk-widget .greeting").inner_text() == (
        "Questions about your order?"
    )
    assert "rgb(170, 51, 0)" in launcher.evaluate("b => getComputedStyle(b).backgroundColor")

    launcher.click()
    chat = page.frame_locator(FRAME)
    chat.locator("#connection-state[data-state='online']").wait_for()
    chat.locator("#message-input").fill("How do I reset my password?")
    chat.locator("#message-input").press("Enter")
    answer = chat.locator("li.msg-assistant[data-seq] .msg-content").first
    answer.wait_for()
    assert "reset link" in answer.inner_text()
    # Its source links to the desk's help center (not the shop's origin), in a new tab; no
    # confidence figure for visitors.
    source = chat.locator("li.msg-assistant[data-seq] a.msg-source-link").first
    expect(source).to_have_attribute("href", f"{desk}/help/password-reset/")
    expect(source).to_have_attribute("target", "_blank")
    assert chat.locator("li.msg-assistant .msg-confidence").count() == 0
    frame = page.frame(url=frame_url)
    before = message_ids(frame)
    assert len(before) == 2
    page.screenshot(path=str(SCREENSHOTS / "widget-open.png"))

    # A navigation on the shop: the panel comes back open with the same conversation.
    page.click("#to-orders")
    page.wait_for_url("**/orders.html")
    chat = page.frame_locator(FRAME)
    chat.locator("#connection-state[data-state='online']").wait_for()
    # Locators, not string predicates: the desk's CSP (no 'unsafe-eval') blocks those in the frame.
    chat.locator("#messages li[data-seq]").nth(1).wait_for()
    assert message_ids(page.frame(url=frame_url)) == before  # same conversation, nothing repeated

    session = off_loop(lambda: SupportSession.objects.get())  # no second session either
    assert session.website_id == website.pk
    assert session.metadata["page_origin"] == shop.origin
    assert session.metadata["page_url"] == shop.origin + "/index.html"
    assert "Chrome" in session.metadata["user_agent"]

    # The session's socket from the shop's own origin is admitted (a site's own UI may talk
    # the protocol); from the stranger's origin it is refused before it opens.
    socket_url = f"ws{desk[4:]}/ws/sessions/{session.pk}/"
    assert socket_outcome(page, socket_url) == "open"

    stranger_page = new_page(browser)
    # The loader cannot read its config there (no CORS for this origin) and says so.
    with stranger_page.expect_console_message(lambda m: "not enabled" in m.text):
        stranger_page.goto(stranger.origin + "/index.html")
    assert stranger_page.locator("#supportdesk-widget").count() == 0
    assert socket_outcome(stranger_page, socket_url) != "open"

    # Framing the chat page directly from the stranger's origin is blocked by the browser.
    stranger_page.goto(stranger.origin + "/framed.html")
    stranger_page.wait_for_load_state("load")
    direct = stranger_page.frame_locator("#direct")
    assert direct.locator("#chat-app").count() == 0
    (blocked,) = [f for f in stranger_page.frames if f != stranger_page.main_frame]
    assert blocked.url == "chrome-error://chromewebdata/", blocked.url


def test_signed_user_shows_by_name_in_the_console_and_a_forged_hash_is_refused(
    bare_desk, sites, website, browser
):
    desk = bare_desk
    from django.contrib.auth import get_user_model

    shop, shop_dir = sites[0], sites[1]
    off_loop(
        lambda: get_user_model().objects.create_user(
            "dana", password="dana-password", first_name="Dana", is_staff=True
        )
    )
    # Grace chatted before (a closed conversation): the console lists it beside the new one.
    earlier = off_loop(
        lambda: SupportSessionFactory(
            website=website,
            contact=Contact.objects.create(website=website, external_id="cust-42"),
            status="closed",
        )
    )
    signed = identity_hash(secret=website.identity_secret, user_id="cust-42")
    who = {"user_name": "Grace Hopper", "user_email": "grace@example.com"}
    (shop_dir / "signed.html").write_text(
        host_page(
            "Signed in", snippet(desk, website.site_key, user_id="cust-42", user_hash=signed, **who)
        )
    )
    forged = identity_hash(secret="not-the-site-secret", user_id="cust-1")
    (shop_dir / "forged.html").write_text(
        host_page(
            "Forged", snippet(desk, website.site_key, user_id="cust-1", user_hash=forged, **who)
        )
    )

    agent = new_page(browser)
    console_login(agent, desk + "/console/", "dana")
    agent.wait_for_selector("#connection-state[data-state='online']")

    customer = new_page(browser, 1000, 800)
    customer.goto(shop.origin + "/signed.html")
    customer.locator("#supportdesk-widget .launcher").click()
    chat = customer.frame_locator(FRAME)
    chat.locator("#connection-state[data-state='online']").wait_for()
    chat.locator("#message-input").fill("I want to talk to a human please")
    chat.locator("#message-input").press("Enter")

    # The inbox names the verified contact, not "Anonymous".
    item = agent.wait_for_selector(".inbox-item >> text=Grace Hopper")
    item.click()
    agent.wait_for_selector("#contact-panel:not([hidden])")
    assert agent.inner_text("#contact-external-id") == "cust-42"
    assert agent.inner_text("#detail-name") == "Grace Hopper"
    links = agent.locator("#contact-sessions li a")
    expect(links).to_have_count(1)
    assert links.get_attribute("href").endswith(f"/supportsession/{earlier.pk}/change/")

    # While the customer's panel is closed, the agent's reply raises the unread badge.
    chat.locator("#message-input").press("Escape")
    badge = customer.locator("#supportdesk-widget .badge")
    agent.click("#take-over")
    agent.click("#mode-reply")
    agent.fill("#composer-input", "Hello Grace, Dana here.")
    agent.press("#composer-input", "Enter")
    customer.wait_for_function(
        """() => !document.querySelector('#supportdesk-widget').shadowRoot
                .querySelector('.badge').hidden"""
    )
    assert int(badge.inner_text()) >= 1
    assert "unread" in customer.locator("#supportdesk-widget .launcher").get_attribute("aria-label")
    agent.screenshot(path=str(SCREENSHOTS / "widget-console-contact.png"))

    contact = off_loop(lambda: Contact.objects.get())
    assert (contact.external_id, contact.name, contact.website_id) == (
        "cust-42",
        "Grace Hopper",
        website.pk,
    )

    # A forged hash: the chat says so, no session or contact is created for that id.
    forger = new_page(browser)
    forger.goto(shop.origin + "/forged.html")
    forger.locator("#supportdesk-widget .launcher").click()
    notice = forger.frame_locator(FRAME).locator("#notice-text")
    notice.wait_for()
    assert "identity was refused" in notice.inner_text()
    assert off_loop(lambda: Contact.objects.filter(external_id="cust-1").count()) == 0
    assert off_loop(lambda: SupportSession.objects.count()) == 2  # Grace's two, no third


def test_launcher_keyboard_access(bare_desk, sites, website, browser):
    desk = bare_desk
    shop, shop_dir = sites[0], sites[1]
    (shop_dir / "index.html").write_text(
        host_page("Shop", snippet(desk, website.site_key), '<a href="#top">Top</a>')
    )
    page = new_page(browser)
    page.goto(shop.origin + "/index.html")
    page.locator("#supportdesk-widget .launcher").wait_for()
    focused = """() => { const r = document.querySelector('#supportdesk-widget').shadowRoot;
        return document.activeElement.id === 'supportdesk-widget' && r.activeElement
            ? r.activeElement.className || r.activeElement.tagName : ''; }"""

    page.keyboard.press("Tab")  # the page's own link
    page.keyboard.press("Tab")  # then the launcher
    assert page.evaluate(focused) == "launcher"
    launcher = page.locator("#supportdesk-widget .launcher")
    assert launcher.get_attribute("aria-expanded") == "false"

    page.keyboard.press("Enter")  # opens, and focus goes into the chat's message box
    assert launcher.get_attribute("aria-expanded") == "true"
    assert launcher.get_attribute("aria-label") == "Close chat with Acme Shop"
    page.frame_locator(FRAME).locator("#connection-state[data-state='online']").wait_for()
    expect(page.frame_locator(FRAME).locator("#message-input")).to_be_focused()
    assert page.get_attribute("#supportdesk-widget >> iframe", "title") == "Chat with Acme Shop"

    page.keyboard.press("Escape")  # inside the chat: closes, focus back on the launcher
    page.wait_for_function(f"({focused})() === 'launcher'")
    assert launcher.get_attribute("aria-expanded") == "false"
    assert page.locator("#supportdesk-widget .panel").is_hidden()

    page.keyboard.press(" ")  # Space opens it too
    page.wait_for_function(f"({focused})() === 'IFRAME'")
    assert launcher.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Escape")
    page.wait_for_function(f"({focused})() === 'launcher'")


def test_prechat_form_names_the_conversation(bare_desk, sites, browser):
    shop, shop_dir = sites[0], sites[1]
    website = off_loop(
        lambda: Website.objects.create(
            name="Form Shop", allowed_origins=shop.origin, prechat_form=True
        )
    )
    (shop_dir / "index.html").write_text(host_page("Shop", snippet(bare_desk, website.site_key)))
    page = new_page(browser)
    page.goto(shop.origin + "/index.html")
    page.locator("#supportdesk-widget .launcher").click()
    chat = page.frame_locator(FRAME)
    expect(chat.locator("#prechat-name")).to_be_focused()
    assert chat.locator("#composer").is_hidden()

    chat.locator("#prechat button[type=submit]").click()
    expect(chat.locator("#prechat-error")).to_have_text(
        "Please enter your name and a valid email address."
    )
    assert off_loop(lambda: SupportSession.objects.count()) == 0  # nothing before the form

    chat.locator("#prechat-name").fill("Lin Customer")
    chat.locator("#prechat-email").fill("lin@example.com")
    chat.locator("#prechat-email").press("Enter")
    chat.locator("#connection-state[data-state='online']").wait_for()
    expect(chat.locator("#message-input")).to_be_focused()
    session = off_loop(lambda: SupportSession.objects.get())
    assert (session.customer_name, session.customer_email, session.contact_id) == (
        "Lin Customer",
        "lin@example.com",
        None,
    )
    assert session.display_name == "Lin Customer"
