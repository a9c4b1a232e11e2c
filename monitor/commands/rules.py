"""``monitor rules``: what a comment would get (test), what a rule change would change (backtest), and how
often each rule fires and is dismissed (stats)."""

from __future__ import annotations

import argparse
import json
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import timedelta
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

from pydantic import ValidationError
from sqlmodel import col, select

from monitor.app import App
from monitor.commands import add_command, config_option
from monitor.commands.progress import add_workers_option, progress_bar
from monitor.errors import ConfigError
from monitor.filter import Classifier, CommentContext, FilterSettings, Verdict
from monitor.filter.batching import classified
from monitor.filter.model_stage import MODEL_RULE
from monitor.filter.packs import load_packs, pack_source
from monitor.models import Comment, Flag
from monitor.models import Verdict as StoredVerdict


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    nested = config_option(nested=True)
    parser = add_command(
        commands,
        "rules",
        rules,
        "try the comment filter's rules, backtest changes, see hit counts",
        config_optional=True,
    )
    actions = parser.add_subparsers(title="actions", dest="action", metavar="ACTION", required=True)

    test = actions.add_parser("test", help="the verdict on one comment, and why", parents=[nested])
    test.add_argument("text", help="the comment text")
    test.add_argument("--json", action="store_true", help="the verdict as JSON")
    test.add_argument("--account", metavar="NAME", help="apply this account's overrides")

    backtest = actions.add_parser(
        "backtest", help="re-classify every stored comment and show what would change", parents=[nested]
    )
    backtest.add_argument(
        "--rules", type=Path, metavar="FILE", help="a TOML file with a [filter] table to try instead of config.toml's"
    )
    backtest.add_argument("--limit", type=int, default=20, help="comments listed per change (default 20)")
    add_workers_option(backtest)

    backtest.add_argument("--json", action="store_true", help="the changes and hits as one JSON document")

    stats = actions.add_parser("stats", help="hits per rule, and how many were dismissed", parents=[nested])
    stats.add_argument("--since", type=int, default=30, metavar="DAYS", help="look back this many days (default 30)")
    stats.add_argument("--json", action="store_true", help="one JSON document instead of a table")

    show = actions.add_parser(
        "show", help="list the shipped rule packs, or print one to copy a rule from", parents=[nested]
    )
    show.add_argument("pack", nargs="?", help="the pack to print, as shipped (TOML)")
    show.add_argument("--json", action="store_true", help="the list of packs as JSON")


def rules(args: argparse.Namespace, app: App) -> int:
    handlers = {"test": test_rules, "backtest": backtest_rules, "stats": rule_stats, "show": show_packs}
    return handlers[args.action](args, app)


def verdict_lines(verdict: Verdict) -> list[str]:
    """A verdict as readable lines: the decision, then each reason with the words it matched."""
    compound = verdict.sentiment.get("compound", 0.0)
    if not verdict.flagged:
        return [f"Not flagged (sentiment {compound:+.2f})."]
    lines = [f"Flagged {verdict.severity}: {', '.join(verdict.categories)} (sentiment {compound:+.2f})"]
    for reason in verdict.reasons:
        source = "the model" if is_model_reason(reason.rule) else f"rule {reason.rule}"
        lines.append(f"  [{reason.severity}] {reason.category} - {source}")
        lines.append(f"      {reason.explanation}")
    return lines


def is_model_reason(rule: str) -> bool:
    return rule.startswith(MODEL_RULE + ":")


def test_rules(args: argparse.Namespace, app: App) -> int:
    if args.account:
        app.settings.account(args.account)
    verdict = app.classifier.classify(args.text, CommentContext(account=args.account))
    if args.json:
        print(json.dumps(verdict.to_dict(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(_printable(line) for line in verdict_lines(verdict)))
    return 0


def _printable(text: str) -> str:
    """Comment text is hostile: keep terminal control characters out of what we print."""
    return "".join(char if char.isprintable() or char == " " else "\ufffd" for char in text)


# backtest


@dataclass
class Change:
    comment_id: int
    text: str
    before: str | None  # severity, None when not flagged
    after: str | None
    rules: list[str]


def classifier_from_file(path: Path, app: App) -> Classifier:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    table = raw.get("filter", raw)
    try:
        settings = FilterSettings.model_validate(table)
        return Classifier.from_settings(settings, app.settings.organisation.names, path.parent)
    except ValidationError as exc:
        problems = "; ".join(f"filter.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: {problems}") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from None


class StoredComment(NamedTuple):
    id: int
    text: str | None


def stored_contexts(app: App) -> Iterator[tuple[StoredComment, CommentContext]]:
    """Every stored comment (its id and text) with the context the pipeline would give it."""
    names = {account.id: account.name for account in app.store.accounts()}
    columns = (
        Comment.id,
        Comment.text,
        Comment.account_id,
        Comment.platform,
        Comment.external_id,
        Comment.parent_external_id,
        Comment.author_id,
        Comment.author_name,
        Comment.by_owner,
    )
    with app.store.session() as session:  # columns, not Comment objects: a backtest reads every row
        # The organisation's own posts have their own checks (monitor.ownposts).
        rows = list(session.exec(select(*columns).where(Comment.kind == "comment").order_by(col(Comment.id))))
    authors = {(row.platform, row.external_id): row.author_id for row in rows}
    for row in rows:
        parent = authors.get((row.platform, row.parent_external_id)) if row.parent_external_id else None
        yield (
            StoredComment(row.id or 0, row.text),
            CommentContext(
                account=names.get(row.account_id),
                platform=row.platform,
                author_id=row.author_id,
                author_name=row.author_name,
                is_reply=row.parent_external_id is not None,
                parent_author_id=parent,
                by_owner=row.by_owner,
            ),
        )


def backtest_rules(args: argparse.Namespace, app: App) -> int:
    classifier = classifier_from_file(args.rules, app) if args.rules else app.classifier
    with app.store.session() as session:
        columns = (StoredVerdict.comment_id, StoredVerdict.flagged, StoredVerdict.severity)
        rows = session.exec(select(*columns))
        stored = {comment_id: severity if flagged else None for comment_id, flagged, severity in rows}
    newly: list[Change] = []
    cleared: list[Change] = []
    changed: list[Change] = []
    hits: Counter[str] = Counter()
    model_alone = 0
    total = 0
    pairs = list(stored_contexts(app))
    with progress_bar(len(pairs)) as done:
        found = classified(
            classifier, pairs, lambda pair: pair[0].text or "", itemgetter(1), workers=args.workers, done=done
        )
        for (comment, _), verdict in found:
            total += 1
            hits.update(reason.rule for reason in verdict.reasons)
            model_alone += bool(verdict.reasons) and all(is_model_reason(r.rule) for r in verdict.reasons)
            before = stored.get(comment.id)
            after = verdict.severity if verdict.flagged else None
            change = Change(comment.id, comment.text or "", before, after, [r.rule for r in verdict.reasons])
            if before is None and after is not None:
                newly.append(change)
            elif before is not None and after is None:
                cleared.append(change)
            elif before != after:
                changed.append(change)
    _show_stored_rules(app, cleared if args.json else cleared[: args.limit])
    if args.json:
        report = {
            "comments": total,
            "rules_file": str(args.rules) if args.rules else None,
            "newly_flagged": [asdict(change) for change in newly],
            "no_longer_flagged": [asdict(change) for change in cleared],
            "severity_changed": [asdict(change) for change in changed],
            "hits": dict(hits.most_common()),
        }
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    source = f"the rules in {args.rules}" if args.rules else "the current rules"
    print(f"Re-classified {total} stored comments with {source}.")
    _print_changes("Would newly be flagged", newly, args.limit)
    _print_changes("Would no longer be flagged", cleared, args.limit)
    _print_changes("Would change severity", changed, args.limit)
    print("Hits per rule:")
    for rule, count in hits.most_common():
        print(f"  {count:6}  {_rule_label(rule)}")
    print(f"Flagged by the model alone (no rule fired): {model_alone}")
    return 0


def _rule_label(rule: str) -> str:
    return f"the model: {rule.split(':', 1)[1]}" if is_model_reason(rule) else rule


def _stored_rules(verdict: StoredVerdict | None) -> Iterator[str]:
    for reason in (verdict.reasons or []) if verdict is not None else []:
        yield str(reason.get("rule", "?"))


def _show_stored_rules(app: App, changes: list[Change]) -> None:
    """Each change's rules are the ones its stored verdict gave (read only for the changes listed)."""
    by_id = {change.comment_id: change for change in changes}
    if not by_id:
        return
    with app.store.session() as session:
        query = select(StoredVerdict.comment_id, StoredVerdict.reasons).where(
            col(StoredVerdict.comment_id).in_(list(by_id))
        )
        for comment_id, reasons in session.exec(query):
            by_id[comment_id].rules = [str(reason.get("rule", "?")) for reason in reasons or []]


def _print_changes(title: str, changes: list[Change], limit: int) -> None:
    print(f"{title}: {len(changes)}")
    for change in changes[:limit]:
        excerpt = _printable(" ".join(change.text.split()))[:80]
        moved = f"{change.before or '-'} → {change.after or '-'}"
        print(f"  #{change.comment_id} {moved}  [{', '.join(change.rules)}]  {excerpt}")
    if len(changes) > limit:
        print(f"  … and {len(changes) - limit} more")


# stats


def rule_stats(args: argparse.Namespace, app: App) -> int:
    since = app.now() - timedelta(days=args.since)
    with app.store.session() as session:
        verdicts = list(
            session.exec(
                select(StoredVerdict)
                .where(col(StoredVerdict.flagged).is_(True))
                .where(col(StoredVerdict.classified_at) >= since)
            )
        )
        dismissed_ids = set(session.exec(select(Flag.comment_id).where(Flag.status == "dismissed")))
    hits: Counter[str] = Counter()
    dismissed: Counter[str] = Counter()
    model_alone = model_alone_dismissed = 0
    for verdict in verdicts:
        rules_hit = set(_stored_rules(verdict))
        hits.update(rules_hit)
        alone = bool(rules_hit) and all(is_model_reason(rule) for rule in rules_hit)
        model_alone += alone
        if verdict.comment_id in dismissed_ids:
            dismissed.update(rules_hit)
            model_alone_dismissed += alone
    if args.json:
        rows = [{"rule": rule, "hits": count, "dismissed": dismissed[rule]} for rule, count in hits.most_common()]
        document = {"days": args.since, "flagged_comments": len(verdicts), "rules": rows}
        document["model_alone"] = {"flagged": model_alone, "dismissed": model_alone_dismissed}
        print(json.dumps(document, indent=2))
        return 0
    print(f"Rule hits over the last {args.since} days ({len(verdicts)} flagged comments):")
    if not hits:
        print("  none")
    for rule, count in hits.most_common():
        share = dismissed[rule] / count
        print(f"  {count:6} hits  {dismissed[rule]:5} dismissed ({share:4.0%})  {_rule_label(rule)}")
    if model_alone:
        share = model_alone_dismissed / model_alone
        print(f"Flagged by the model alone: {model_alone}, {model_alone_dismissed} dismissed ({share:.0%})")
    return 0


# show


def show_packs(args: argparse.Namespace, app: App) -> int:
    packs = load_packs()
    if args.pack is not None:
        if args.pack not in packs:
            raise ConfigError(f"no rule pack named {args.pack!r} (packs: {', '.join(packs)})")
        print(pack_source(args.pack), end="")
        return 0
    disabled = set(app.settings.filter.disabled_packs)
    rows = [
        {"pack": name, "enabled": name not in disabled, "rules": len(pack.rules), "description": pack.description}
        for name, pack in packs.items()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        state = "on " if row["enabled"] else "off"
        print(f"  {state} {row['pack']:<18} {row['rules']:3} rules  {row['description']}")
    print("Print one with `monitor rules show PACK`; override a rule by giving its name under [[filter.rules]].")
    return 0
