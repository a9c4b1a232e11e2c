"""The review page as a Flask application: the inbox, a flag with its history, and the actions as forms.

Every page is reached by a signed link (monitor.web.links); there are no
accounts or passwords. Every action is a POST carrying a CSRF token that must
match the cookie set with the page (double submit), from the page's own
origin. Comment text reaches the page only through Jinja's autoescape.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, render_template, request
from werkzeug.middleware.proxy_fix import ProxyFix

from monitor.filter.verdict import severity_rank
from monitor.lifecycle import Action, FlagStateError
from monitor.models import FlagEvent, NotificationLog
from monitor.notify.present import PLATFORM_NAMES, Presenter, excerpt, local_time, spans_of
from monitor.notify.records import FlagRecord, load_flags
from monitor.store import Store
from monitor.web.actions import ConnectorFor, Reviewer
from monitor.web.links import Grant, LinkRefusedError, LinkSigner

CSRF_COOKIE = "monitor_csrf"
# No scripts at all; the page's own styles; forms post only to this site; never framed.
CONTENT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
FULL_TEXT = 5000

EVENT_WORDS = {
    Action.OPENED: "flagged",
    Action.SEVERITY_CHANGED: "severity changed",
    Action.CHANGED: "categories changed",
    Action.AUTO_RESOLVED: "closed automatically",
    Action.HIDDEN: "hidden on the platform",
    Action.RESOLVED: "marked handled",
    Action.DISMISSED: "marked a false alarm",
    Action.REOPENED: "reopened",
    Action.PAGE_REPLIED: "the page replied",
    Action.AUTO_HIDDEN: "hidden automatically",
    Action.UNHIDDEN: "shown again on the platform",
    Action.HIDE_FAILED: "could not be hidden",
}
CLOSED_WORDS = {"resolved": "closed", "dismissed": "marked a false alarm"}


@dataclass(frozen=True, slots=True)
class Review:
    """Everything the pages need, built once by the caller."""

    store: Store
    signer: LinkSigner
    presenter: Presenter
    connector_for: ConnectorFor
    now: Callable[[], datetime]
    base_url: str

    @property
    def reviewer(self) -> Reviewer:
        return Reviewer(self.store, self.connector_for, self.now)


def create_app(review: Review) -> Flask:
    app = Flask(__name__)
    # Behind the reverse proxy (docs/review-page.md): its scheme, host and path prefix, one hop.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)  # type: ignore[method-assign]
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024
    secure = review.base_url.startswith("https://")

    def refuse(exc: LinkRefusedError) -> Response:
        status = 410 if exc.kind == "expired" else 403
        return _page("refused.html", status, title="This link does not work", reason=str(exc))

    def closed(grant: Grant, record: FlagRecord, events: list[FlagEvent]) -> Response:
        last = next((e for e in reversed(events) if e.action not in (Action.PAGE_REPLIED, Action.HIDE_FAILED)), None)
        who = f" by {last.actor}" if last is not None else ""
        when = f" on {local_time(last.at, review.presenter.zone)}" if last is not None and last.at else ""
        words = CLOSED_WORDS.get(record.status, record.status)
        reason = f"This flag was already {words}{who}{when}. Nothing was changed, and this link no longer works."
        return _page("refused.html", 410, title="Already dealt with", reason=reason, resolution=record.resolution)

    def grant_for(token: str) -> Grant:
        return review.signer.verify(token, review.now())

    @app.get("/f/<token>")
    def flag_page(token: str) -> Response:
        try:
            grant = grant_for(token)
        except LinkRefusedError as exc:
            return refuse(exc)
        if grant.flag_id is None:
            return refuse(LinkRefusedError("scope", "This is an inbox link, not a link to one comment."))
        view = _flag_view(review, grant.flag_id)
        if view is None:
            return _page("refused.html", 404, title="Not found", reason="This flag no longer exists.")
        if view.record.status != "open":
            return closed(grant, view.record, view.events)
        nonce = secrets.token_urlsafe(24)
        response = _page("flag.html", 200, title="A flagged comment", v=view, grant=grant, csrf=nonce)
        response.set_cookie(CSRF_COOKIE, nonce, httponly=True, samesite="Strict", secure=secure, path="/")
        return response

    @app.post("/f/<token>/<action>")
    def act(token: str, action: str) -> Response:
        try:
            grant = grant_for(token)
        except LinkRefusedError as exc:
            return refuse(exc)
        if grant.flag_id is None:
            return refuse(LinkRefusedError("scope", "This is an inbox link, not a link to one comment."))
        if not _csrf_ok(review.base_url):
            return _page(
                "refused.html",
                403,
                title="Please try again",
                reason="This form is out of date or was sent from another site. Open the link from the email again.",
            )
        handlers: dict[str, Callable[[], Any]] = {
            "handled": lambda: review.reviewer.handled(grant.flag_id, grant.recipient, _form_note()),
            "false-alarm": lambda: review.reviewer.false_alarm(grant.flag_id, grant.recipient, _form_note()),
            "hide": lambda: review.reviewer.hide(grant.flag_id, grant.recipient),
            "unhide": lambda: review.reviewer.unhide(grant.flag_id, grant.recipient),
        }
        handler = handlers.get(action)
        if handler is None:
            return _page("refused.html", 404, title="Not found", reason="There is no such action.")
        try:
            done = handler()
        except FlagStateError:
            view = _flag_view(review, grant.flag_id)
            if view is None:
                return _page("refused.html", 404, title="Not found", reason="This flag no longer exists.")
            return closed(grant, view.record, view.events)
        view = _flag_view(review, grant.flag_id)
        return _page(
            "done.html",
            200 if done.changed else 502,
            title="Done" if done.changed else "Not done",
            done=done,
            v=view,
            grant=grant,
        )

    @app.get("/inbox/<token>")
    def inbox(token: str) -> Response:
        try:
            grant = grant_for(token)
        except LinkRefusedError as exc:
            return refuse(exc)
        if grant.flag_id is not None:
            return refuse(LinkRefusedError("scope", "This link is for one comment only, not for the inbox."))
        now = review.now()
        records = sorted(
            load_flags(review.store, status="open"),
            key=lambda r: (-severity_rank(r.severity), r.written_at),
        )
        rows = [
            (review.presenter.item(record), review.signer.flag_token(record.flag_id, grant.recipient, now))
            for record in records
        ]
        return _page("inbox.html", 200, title="Open flags", rows=rows, grant=grant)

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok\n", mimetype="text/plain")

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CONTENT_POLICY
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    return app


@dataclass(frozen=True, slots=True)
class FlagView:
    record: FlagRecord
    item: Any
    text: tuple[Any, ...]
    events: list[FlagEvent]
    sent: list[NotificationLog]
    event_rows: list[tuple[str, str, str, str]]
    sent_rows: list[tuple[str, str, str, int]]
    page_replied: bool
    auto_hidden: bool
    hide_unavailable: str | None
    platform: str


def _flag_view(review: Review, flag_id: int) -> FlagView | None:
    records = load_flags(review.store, status=None, flag_ids=[flag_id])
    found = review.store.flag_history(flag_id)
    if not records or found is None:
        return None
    record, (flag, events, sent) = records[0], found
    zone = review.presenter.zone
    comment = review.store.comment(flag.comment_id)
    assert comment is not None
    event_rows = [
        (
            local_time(e.at, zone) if e.at else "-",
            e.actor,
            EVENT_WORDS.get(Action(e.action), e.action) if e.action in set(Action) else e.action,
            e.note or "",
        )
        for e in events
    ]
    sent_rows = [(local_time(s.sent_at, zone) if s.sent_at else "-", s.kind, s.recipient, s.send_count) for s in sent]
    latest = events[-1].action if events else None
    return FlagView(
        record=record,
        item=review.presenter.item(record),
        text=excerpt(record.text, spans_of(record.reasons), limit=FULL_TEXT),
        events=events,
        sent=sent,
        event_rows=event_rows,
        sent_rows=sent_rows,
        page_replied=any(e.action == Action.PAGE_REPLIED for e in events),
        auto_hidden=latest == Action.AUTO_HIDDEN or (comment.hidden and latest != Action.UNHIDDEN),
        hide_unavailable=None if comment.hidden else review.reviewer.hide_unavailable(comment),
        platform=PLATFORM_NAMES.get(record.platform, record.platform),
    )


def _form_note() -> str:
    return str(request.form.get("note", ""))


def _csrf_ok(base_url: str) -> bool:
    sent = request.form.get("csrf", "")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not sent or not cookie or not secrets.compare_digest(sent, cookie):
        return False
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        allowed = {_origin(base_url), _origin(request.host_url)}
        return _origin(origin) in allowed
    return True


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _page(template: str, status: int, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")
