"""The whole loop in a real browser: a digest received by a real SMTP server, its links opened in headless
Chromium (driven by Selenium through Debian's chromedriver), three flags closed three ways, and bad links
refused. The review page runs in a thread of this process, so `responses` answers its call to the Graph API.

Set MONITOR_SCREENSHOTS=docs/screenshots to write the inbox and flag page at desktop and phone widths there.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from sqlmodel import select

from monitor.app import App
from monitor.commands.rules import rule_stats
from monitor.models import Comment, Flag, FlagEvent
from monitor.notify import Notifier
from monitor.web.server import ReviewServer, review_for
from tests.notify.factory import Clock, Factory, open_store
from tests.notify.png import decode
from tests.smtp import start
from tests.web.conftest import GM, GRAPH, review_settings

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
REVIEW_LINK = re.compile(r'<a href="([^"]+)"[^>]*>Handled, false alarm or hide</a> <span[^>]*>&nbsp;flag (\d+)</span>')
INBOX_LINK = re.compile(r'<a href="([^"]+/inbox/[^"]+)"')
DESKTOP, PHONE = (1280, 1000), (390, 1100)


@pytest.fixture
def browser() -> Iterator[object]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
    ):
        options.add_argument(argument)
    options.add_argument(f"--window-size={DESKTOP[0]},{DESKTOP[1]}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def page_text(driver: object) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.TAG_NAME, "main").text)  # type: ignore[attr-defined]


def click(driver: object, label: str, then: str) -> str:
    """Press the button, and wait for the page the form leads to (it must say ``then``); returns its text."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.find_element(By.XPATH, f"//button[normalize-space()='{label}']").click()  # type: ignore[attr-defined]
    wait = WebDriverWait(driver, 30, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))
    wait.until(lambda _: then in page_text(driver), message=f"no page saying {then!r} after pressing {label!r}")
    return page_text(driver)


def screenshot(driver: object, size: tuple[int, int], path: Path) -> None:
    driver.set_window_size(*size)  # type: ignore[attr-defined]
    driver.refresh()  # type: ignore[attr-defined]
    path.parent.mkdir(parents=True, exist_ok=True)
    image = decode(driver.get_screenshot_as_png())  # type: ignore[attr-defined]
    path.write_bytes(driver.get_screenshot_as_png())  # type: ignore[attr-defined]
    colours = image.colours()
    assert len(colours) > 20 and colours.most_common(1)[0][1] / sum(colours.values()) < 0.95, f"{path} is blank"


@responses.activate
def test_the_general_manager_closes_three_flags_from_the_email_and_bad_links_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, browser: object
) -> None:
    from selenium.webdriver.common.by import By

    controller, mail = start()
    settings = review_settings(tmp_path, monkeypatch, smtp_port=mail.port)
    store, clock = open_store(tmp_path / "monitor.db"), Clock()
    app = App(tmp_path / "config.toml", now=clock, settings=settings)
    app.__dict__["store"] = store
    factory = Factory(store)
    threat = factory.flag("I know where you all work and I will be waiting")
    allegation = factory.flag(
        "My mum's carer was rough with her <b>today</b> & shouted",
        severity="high",
        categories=("allegation",),
        match="rough with her",
        explanation="Alleges mistreatment.",
    )
    private = factory.flag(
        "Ask Sue Pemberton at Elm Lodge, she has dementia, her number is 07700 900123",
        categories=("confidentiality",),
        match="07700 900123",
        explanation="Gives a phone number.",
    )
    late = factory.flag("I'll be outside the office at five", explanation="Threat to staff.")
    hide_call = responses.post(f"{GRAPH}/{factory.external_id(private)}", json={"success": True})
    server = ReviewServer(review_for(app), "127.0.0.1", 0)  # the system picks a free port
    server.start()
    assert settings.review is not None
    served = settings.review.model_copy(update={"base_url": f"http://127.0.0.1:{server.port}"})
    try:
        report = Notifier(settings.model_copy(update={"review": served}), store, clock).send_digest()
        assert report.ok and report.sent == 2  # the General Manager and the deputy, each their own links
        email = mail.to(GM)[0]
        html = email.get_body(("html",)).get_content()  # type: ignore[union-attr]
        links = {int(flag): url for url, flag in REVIEW_LINK.findall(html)}
        assert set(links) == {threat, allegation, private, late}
        inbox = INBOX_LINK.search(html)
        assert inbox is not None

        browser.get(inbox.group(1))  # type: ignore[attr-defined]
        assert "Open flags (4)" in page_text(browser)
        shots = Path(os.environ.get("MONITOR_SCREENSHOTS") or tmp_path / "screenshots")
        screenshot(browser, DESKTOP, shots / "inbox-desktop.png")
        screenshot(browser, PHONE, shots / "inbox-phone.png")

        browser.get(links[allegation])  # type: ignore[attr-defined]
        text = page_text(browser)
        assert "My mum's carer was rough with her <b>today</b> & shouted" in text  # shown as written, not as markup
        assert browser.find_elements(By.CSS_SELECTOR, ".comment b") == []  # type: ignore[attr-defined]
        screenshot(browser, PHONE, shots / "flag-phone.png")
        screenshot(browser, DESKTOP, shots / "flag-desktop.png")

        browser.get(links[threat])  # type: ignore[attr-defined]
        browser.find_element(By.ID, "note-handled").send_keys("Rang the police and the family")  # type: ignore[attr-defined]
        click(browser, "Handled", then="Marked as handled")

        browser.get(links[allegation])  # type: ignore[attr-defined]
        click(browser, "False alarm", then="Marked as a false alarm")

        browser.get(links[private])  # type: ignore[attr-defined]
        click(browser, "Hide on Facebook", then="Hidden on the platform")

        browser.get(links[threat])  # type: ignore[attr-defined]  # replayed
        replayed = page_text(browser)
        version, _, tag, expiry, signature = links[late].rsplit("/", 1)[1].split(".")
        prefix = links[late].rsplit("/", 1)[0]
        browser.get(f"{prefix}/{version}.{threat}.{tag}.{expiry}.{signature}")  # type: ignore[attr-defined]
        altered = page_text(browser)
        browser.get(f"{prefix}/{version}.{late}.{tag}.{expiry}.{signature[:-4]}AAAA")  # type: ignore[attr-defined]
        forged = page_text(browser)
        clock.advance(days=15)
        browser.get(links[late])  # type: ignore[attr-defined]
        expired = page_text(browser)
    finally:
        server.stop()
        controller.stop()

    assert "Already dealt with" in replayed and "closed by gm@brightwater.example" in replayed
    assert "This link does not work" in altered and "not genuine" in altered
    assert "This link does not work" in forged and "not genuine" in forged
    assert "This link does not work" in expired and "expired on" in expired

    with store.session() as session:
        statuses = {flag.id: flag.status for flag in session.exec(select(Flag))}
        trail = [(e.flag_id, e.actor, e.action, e.note) for e in session.exec(select(FlagEvent).order_by(FlagEvent.id))]
        hidden = session.exec(select(Comment.hidden).where(Comment.external_id == factory.external_id(private))).one()
    assert statuses == {threat: "resolved", allegation: "dismissed", private: "resolved", late: "open"}
    assert trail == [
        (threat, GM, "resolved", "Rang the police and the family"),
        (allegation, GM, "dismissed", "False alarm"),
        (private, GM, "hidden", "Hidden on the platform"),
    ]
    assert hidden is True
    assert hide_call.call_count == 1 and "is_hidden=true" in hide_call.calls[0].request.url

    stats = _rule_stats(app)
    assert re.search(r"1 hits\s+1 dismissed \(100%\)\s+allegation-rule", stats)
    assert re.search(r"1 hits\s+0 dismissed \(\s*0%\)\s+confidentiality-rule", stats)
    store.close()


def _rule_stats(app: App) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rule_stats(argparse.Namespace(since=30, json=False), app)
    return out.getvalue()
