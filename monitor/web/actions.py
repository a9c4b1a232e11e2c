"""What a person can do to one flag from the review page, each change through monitor.lifecycle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from connectors import Connector
from monitor import lifecycle
from monitor.lifecycle import Action, FlagStateError
from monitor.models import Comment, Flag
from monitor.store import Store
from monitor.web.moderation import HideFailedError, HideUnsupportedError, can_hide, set_hidden

HANDLED_NOTE = "Handled"
FALSE_ALARM_NOTE = "False alarm"
NOTE_MAX = 500

ConnectorFor = Callable[[str], Connector | None]  # account name → its connector (None: not configured)


@dataclass(frozen=True, slots=True)
class Done:
    """What happened, in words for the page."""

    message: str
    changed: bool = True


class Reviewer:
    def __init__(self, store: Store, connector_for: ConnectorFor, now: Callable[[], datetime]) -> None:
        self.store = store
        self.connector_for = connector_for
        self.now = now

    def handled(self, flag_id: int, actor: str, note: str) -> Done:
        self.store.close_flag(flag_id, status="resolved", note=_note(note, HANDLED_NOTE), actor=actor, now=self.now())
        return Done("Marked as handled. It will not be sent to you again.")

    def false_alarm(self, flag_id: int, actor: str, note: str) -> Done:
        note = _note(note, FALSE_ALARM_NOTE)
        self.store.close_flag(flag_id, status="dismissed", note=note, actor=actor, now=self.now())
        return Done("Marked as a false alarm. The rules' statistics count it, so they can be tuned.")

    def hide(self, flag_id: int, actor: str) -> Done:
        flag, comment = self._open_flag(flag_id)
        connector = self._connector(comment)
        try:
            set_hidden(connector, comment.external_id, hidden=True)
        except (HideUnsupportedError, HideFailedError) as exc:
            self._note(flag_id, Action.HIDE_FAILED, actor, str(exc))
            return Done(f"The comment could not be hidden: {exc}", changed=False)
        assert flag.id is not None and comment.id is not None
        self.store.apply_flag_change_with_hidden(lifecycle.hidden_by_hand(flag.id, actor, self.now()), comment.id, True)
        return Done("Hidden on the platform. Only its writer and their friends can still see it.")

    def unhide(self, flag_id: int, actor: str) -> Done:
        flag, comment = self._open_flag(flag_id)
        connector = self._connector(comment)
        try:
            set_hidden(connector, comment.external_id, hidden=False)
        except (HideUnsupportedError, HideFailedError) as exc:
            self._note(flag_id, Action.HIDE_FAILED, actor, f"unhiding: {exc}")
            return Done(f"The comment could not be shown again: {exc}", changed=False)
        assert flag.id is not None and comment.id is not None
        change = lifecycle.noted(flag.id, Action.UNHIDDEN, actor, "Shown again on the platform", self.now())
        self.store.apply_flag_change_with_hidden(change, comment.id, False)
        return Done("Shown again on the platform. The flag stays open until you mark it.")

    def hide_unavailable(self, comment: Comment) -> str | None:
        """Why this comment cannot be hidden from here, or None when it can."""
        try:
            return can_hide(self._connector(comment))
        except HideUnsupportedError as exc:
            return str(exc)

    def _open_flag(self, flag_id: int) -> tuple[Flag, Comment]:
        found = self.store.flag_history(flag_id)
        if found is None:
            raise FlagStateError(f"there is no flag {flag_id}")
        flag = found[0]
        if flag.status != lifecycle.OPEN:
            raise FlagStateError(f"flag {flag_id} is already {flag.status}")
        comment = self.store.comment(flag.comment_id)
        assert comment is not None
        return flag, comment

    def _connector(self, comment: Comment) -> Connector:
        account = next((a for a in self.store.accounts() if a.id == comment.account_id), None)
        connector = self.connector_for(account.name) if account is not None else None
        if connector is None:
            raise HideUnsupportedError("This account is no longer in the configuration.")
        return connector

    def _note(self, flag_id: int, action: Action, actor: str, note: str) -> None:
        self.store.apply_flag_changes([lifecycle.noted(flag_id, action, actor, note, self.now())])


def _note(text: str, default: str) -> str:
    text = " ".join(text.split())[:NOTE_MAX]
    return text or default
