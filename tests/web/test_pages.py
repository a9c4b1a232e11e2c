"""The review page through Flask's test client: what a link shows, what each action changes, what is refused."""

from __future__ import annotations

import re
from datetime import timedelta

import responses
from flask.testing import FlaskClient
from sqlmodel import select

from monitor.models import Comment, Flag, FlagEvent
from monitor.web.pages import CSRF_COOKIE, create_app
from tests.web.conftest import DEPUTY, GM, GRAPH, Rig

HOSTILE = 'Staff hit my dad <script>alert("x")</script> & nobody cared'


def client(rig: Rig) -> FlaskClient:
    return create_app(rig.review).test_client()


def form_token(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


def open_page(browser: FlaskClient, path: str) -> str:
    response = browser.get(path)
    assert response.status_code == 200, response.text
    return response.text


def events(rig: Rig, flag_id: int) -> list[tuple[str, str, str | None]]:
    with rig.store.session() as session:
        rows = session.exec(select(FlagEvent).where(FlagEvent.flag_id == flag_id).order_by(FlagEvent.id))
        return [(row.actor, row.action, row.note) for row in rows]


def status(rig: Rig, flag_id: int) -> str:
    with rig.store.session() as session:
        flag = session.get(Flag, flag_id)
        assert flag is not None
        return flag.status


def test_the_flag_page_shows_the_comment_escaped_with_why_and_the_actions(rig: Rig) -> None:
    flag_id = rig.factory.flag(HOSTILE, severity="high", categories=("allegation",), match="hit my dad")
    page = open_page(client(rig), rig.flag_path(flag_id))

    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; nobody cared" in page
    assert "<mark>hit my dad</mark>" in page
    assert "An allegation" in page
    for action in ("handled", "false-alarm", "hide"):
        assert f'/f/{rig.flag_path(flag_id).removeprefix("/f/")}/{action}"' in page
    assert "Open it on Facebook" in page


def test_handled_closes_the_flag_once_with_the_recipient_and_note_in_the_trail(rig: Rig) -> None:
    flag_id = rig.factory.flag()
    browser, path = client(rig), rig.flag_path(flag_id)
    csrf = form_token(open_page(browser, path))

    done = browser.post(f"{path}/handled", data={"csrf": csrf, "note": "Rang the family"})
    again = browser.post(f"{path}/handled", data={"csrf": csrf, "note": "Rang the family"})

    assert done.status_code == 200 and "Marked as handled" in done.text
    assert status(rig, flag_id) == "resolved"
    assert events(rig, flag_id) == [(GM, "resolved", "Rang the family")]
    assert again.status_code == 410 and "already closed by gm@brightwater.example" in again.text
    assert browser.get(path).status_code == 410


def test_false_alarm_dismisses_with_a_default_note_for_the_deputy(rig: Rig) -> None:
    flag_id = rig.factory.flag()
    browser, path = client(rig), rig.flag_path(flag_id, DEPUTY)
    csrf = form_token(open_page(browser, path))

    browser.post(f"{path}/false-alarm", data={"csrf": csrf, "note": "  "})

    assert status(rig, flag_id) == "dismissed"
    assert events(rig, flag_id) == [(DEPUTY, "dismissed", "False alarm")]


@responses.activate
def test_hide_calls_the_graph_api_then_closes_the_flag_and_marks_the_comment_hidden(rig: Rig) -> None:
    flag_id = rig.factory.flag()
    external_id = rig.factory.external_id(flag_id)
    call = responses.post(f"{GRAPH}/{external_id}", json={"success": True})
    browser, path = client(rig), rig.flag_path(flag_id)
    csrf = form_token(open_page(browser, path))

    done = browser.post(f"{path}/hide", data={"csrf": csrf})

    assert done.status_code == 200 and "Hidden on the platform" in done.text
    assert call.call_count == 1
    sent = call.calls[0].request
    assert "is_hidden=true" in sent.url and "access_token=page-token-1234" in sent.url
    assert status(rig, flag_id) == "resolved"
    assert events(rig, flag_id) == [(GM, "hidden", "Hidden on the platform")]
    with rig.store.session() as session:
        assert session.exec(select(Comment.hidden).where(Comment.external_id == external_id)).one() is True


@responses.activate
def test_a_hide_the_platform_refuses_leaves_the_flag_open_and_says_why(rig: Rig) -> None:
    flag_id = rig.factory.flag()
    external_id = rig.factory.external_id(flag_id)
    error = {"error": {"message": "(#200) Permissions error", "type": "OAuthException", "code": 200}}
    responses.post(f"{GRAPH}/{external_id}", json=error, status=403)
    browser, path = client(rig), rig.flag_path(flag_id)
    csrf = form_token(open_page(browser, path))

    done = browser.post(f"{path}/hide", data={"csrf": csrf})

    assert done.status_code == 502 and "could not be hidden" in done.text
    assert "page-token-1234" not in done.text
    assert status(rig, flag_id) == "open"
    assert [action for _, action, _ in events(rig, flag_id)] == ["hide-failed"]


def test_a_post_without_the_pages_csrf_token_or_from_another_site_changes_nothing(rig: Rig) -> None:
    flag_id = rig.factory.flag()
    browser, path = client(rig), rig.flag_path(flag_id)
    csrf = form_token(open_page(browser, path))

    missing = browser.post(f"{path}/handled", data={"note": "x"})
    wrong = browser.post(f"{path}/handled", data={"csrf": csrf + "x"})
    elsewhere = browser.post(f"{path}/handled", data={"csrf": csrf}, headers={"Origin": "https://evil.example"})
    no_cookie = client(rig).post(f"{path}/handled", data={"csrf": csrf})

    for response in (missing, wrong, elsewhere, no_cookie):
        assert response.status_code == 403 and "out of date or was sent from another site" in response.text
    assert status(rig, flag_id) == "open" and events(rig, flag_id) == []
    assert browser.get_cookie(CSRF_COOKIE) is not None


def test_forged_altered_and_expired_links_are_refused_clearly(rig: Rig) -> None:
    flag_id = rig.factory.flag()
    other = rig.factory.flag("another comment")
    browser, path = client(rig), rig.flag_path(flag_id)
    version, _, tag, expiry, signature = path.removeprefix("/f/").split(".")

    altered = browser.get(f"/f/{version}.{other}.{tag}.{expiry}.{signature}")
    forged = browser.get(f"/f/{version}.{flag_id}.{tag}.{expiry}.AAAA")
    rig.clock.advance(days=15)
    expired = browser.get(path)

    assert altered.status_code == 403 and "not genuine" in altered.text
    assert forged.status_code == 403 and "not genuine" in forged.text
    assert expired.status_code == 410 and "expired on" in expired.text


def test_a_flag_link_is_not_an_inbox_link(rig: Rig) -> None:
    flag_id = rig.factory.flag()
    token = rig.flag_path(flag_id).removeprefix("/f/")

    response = client(rig).get(f"/inbox/{token}")

    assert response.status_code == 403 and "one comment only" in response.text


def test_the_inbox_lists_open_flags_most_serious_first_each_with_its_own_link(rig: Rig) -> None:
    low = rig.factory.flag("meh", severity="low", categories=("negative",), written=rig.clock() - timedelta(hours=3))
    urgent = rig.factory.flag("I know where you all work", written=rig.clock() - timedelta(hours=1))
    high = rig.factory.flag("neglect", severity="high", categories=("allegation",))
    rig.factory.flag("closed one", status="resolved")
    token = rig.signer.inbox_token(GM, rig.clock())

    page = open_page(client(rig), f"/inbox/{token}")

    assert "Open flags (3)" in page
    order = [int(n) for n in re.findall(r"Review flag (\d+)", page)]
    assert order == [urgent, high, low]
    linked = re.findall(r'href="/f/([^"]+)"', page)
    assert [rig.signer.verify(t, rig.clock()).flag_id for t in linked] == [urgent, high, low]


def test_the_history_shows_every_change_and_every_email_with_who_and_when(rig: Rig) -> None:
    from monitor import lifecycle
    from monitor.models import NotificationLog

    flag_id = rig.factory.flag("My dad was left without his medication", severity="high", categories=("allegation",))
    note = "The organisation replied on Facebook; a reply does not deal with this, so it stays open"
    change = lifecycle.noted(flag_id, lifecycle.Action.PAGE_REPLIED, "monitor", note, rig.clock())
    rig.store.apply_flag_changes([change])
    with rig.store.session() as session:
        session.add(
            NotificationLog(
                flag_id=flag_id, channel="email", recipient=DEPUTY, kind="digest", sent_at=rig.clock(), send_count=2
            )
        )
        session.commit()

    page = open_page(client(rig), rig.flag_path(flag_id))

    assert "<strong>The page replied.</strong>" in page
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", page)
    assert ("Fri 20 Nov 2026, 09:00 GMT", "monitor", "the page replied", note) in rows
    assert ("Fri 20 Nov 2026, 09:00 GMT", "digest", DEPUTY, "2") in rows
