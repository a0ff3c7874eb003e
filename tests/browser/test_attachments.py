"""Attachments in Chromium: the customer's photo reaches the agent as a thumbnail, nobody else.

The customer attaches an image with the composer's button (file chooser), the agent sees its
thumbnail in the console and loads it; the same URL is refused (404) with another session's
token. The agent answers with a PDF the customer can download.
"""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import console_login, new_page
from tests.browser.test_chat_page import ask
from tests.servers import server_env, start_daphne

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(db, tmp_path):
    # No knowledge base: the first message is handed to a person, which is all this test needs.
    get_user_model().objects.create_user(
        "dana", password="dana-password", first_name="Dana", last_name="Lee", is_staff=True
    )
    process, base_url = start_daphne(
        tmp_path,
        server_env(REDIS_URL="", CELERY_TASK_ALWAYS_EAGER="1", MEDIA_ROOT=str(tmp_path / "media")),
    )
    yield base_url
    process.stop()


def photo() -> bytes:
    image = Image.new("RGB", (800, 600), (180, 120, 60))
    for x in range(200, 600):
        image.putpixel((x, 300), (0, 0, 0))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def test_customer_photo_shows_as_a_thumbnail_to_the_agent_and_only_there(server, browser):
    agent = new_page(browser)
    console_login(agent, server + "/console/", "dana")
    agent.wait_for_selector("#connection-state[data-state='online']")

    customer = new_page(browser, 390, 844)
    customer.goto(server + "/")
    customer.wait_for_selector("#connection-state[data-state='online']")
    ask(customer, "I want to talk to a human please")
    agent.click(".inbox-item[data-status='escalated']")
    agent.wait_for_selector("#transcript li.msg-customer[data-seq]")
    agent.click("#take-over")
    expect(customer.locator("#messages")).to_contain_text("Dana Lee joined")

    # The customer attaches a photo with the button's file chooser and sends it without text.
    customer.set_input_files(
        "#attach-input",
        files=[{"name": "damaged-parcel.jpg", "mimeType": "image/jpeg", "buffer": photo()}],
    )
    ready = customer.locator("#attachment-tray .att-pending:not(.is-uploading)")
    expect(ready).to_contain_text("damaged-parcel.jpg")
    customer.click("#send-button")
    expect(customer.locator("#attachment-tray")).to_be_hidden()
    mine = customer.locator("li.msg-customer[data-seq] img.att-thumb")
    expect(mine).to_be_visible()

    # The agent sees it as a thumbnail that loads, linking to the full picture.
    thumb = agent.locator("#transcript li.msg-customer[data-seq] img.att-thumb")
    expect(thumb).to_be_visible()
    expect(thumb).to_have_attribute("alt", "damaged-parcel.jpg")
    thumb_url = thumb.get_attribute("src")
    full_url = agent.locator("#transcript li.msg-customer a.att-image").get_attribute("href")
    loaded = agent.request.get(server + thumb_url)
    assert loaded.status == 200 and loaded.headers["content-type"] == "image/webp"
    full = agent.request.get(server + full_url.split("?")[0])  # staff: by login, no signature
    assert full.status == 200 and full.headers["content-type"] == "image/jpeg"
    assert full.headers["x-content-type-options"] == "nosniff"

    # Another customer's session token is refused, with or without the signed link.
    other = customer.request.post(server + "/api/v1/sessions/", data={})
    assert other.status == 201
    other_auth = {"Authorization": f"Session {other.json()['token']}"}
    for url in (full_url, full_url.split("?")[0], thumb_url):
        refused = customer.request.get(server + url, headers=other_auth)
        assert refused.status == 404, url
        assert refused.json()["error"]["code"] == "session_not_found"

    # The agent answers with a PDF from the console's composer; the customer can download it.
    agent.click("#mode-reply")
    agent.set_input_files(
        "#attach-input",
        files=[
            {
                "name": "return-label.pdf",
                "mimeType": "application/pdf",
                "buffer": b"%PDF-1.4\n%%EOF\n",
            }
        ],
    )
    expect(agent.locator("#composer-attachments .att-pending:not(.is-uploading)")).to_have_count(1)
    agent.fill("#composer-input", "Here is your return label")
    agent.press("#composer-input", "Enter")
    label = customer.locator("li.msg-agent[data-seq] a.att-file")
    expect(label).to_contain_text("return-label.pdf")
    download = customer.request.get(server + label.get_attribute("href"))
    assert download.status == 200
    assert download.headers["content-disposition"].startswith("attachment")


def test_a_photo_dropped_on_the_chat_is_sent_with_the_message(server, browser):
    import base64

    customer = new_page(browser, 390, 844)
    customer.goto(server + "/")
    customer.wait_for_selector("#connection-state[data-state='online']")
    data = base64.b64encode(photo()).decode()
    transfer = customer.evaluate_handle(
        """(b64) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], 'dropped.jpg', { type: 'image/jpeg' }));
            return dt;
        }""",
        data,
    )
    customer.dispatch_event("#transcript", "dragover", {"dataTransfer": transfer})
    customer.dispatch_event("#transcript", "drop", {"dataTransfer": transfer})
    expect(customer.locator("#attachment-tray .att-pending:not(.is-uploading)")).to_contain_text(
        "dropped.jpg"
    )
    customer.fill("#message-input", "It arrived like this")
    customer.press("#message-input", "Enter")
    sent = customer.locator("li.msg-customer[data-seq]").filter(has_text="It arrived like this")
    expect(sent.locator("img.att-thumb")).to_have_attribute("alt", "dropped.jpg")
    # Still there after a reload: the stored message carries it, with fresh links.
    customer.reload()
    expect(customer.locator("li.msg-customer[data-seq] img.att-thumb")).to_be_visible()
