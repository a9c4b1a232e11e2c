"""``monitor demo``: the whole path on the embedded default, with nothing to set up.

Bundled sample comments are read through the file connector into a fresh
SQLite file, classified, and the digest is written to the working directory
as an .eml and an .html a person can open. The rules come from the config when
there is one, so an operator can try their changes on the samples.
"""

from __future__ import annotations

import argparse
import tomllib
from collections import Counter
from importlib.resources import files
from pathlib import Path
from typing import Any

from monitor import config
from monitor.app import App
from monitor.commands import add_command
from monitor.filter import SEVERITIES
from monitor.models import Flag
from monitor.notify import Notifier
from monitor.pipeline import Pipeline

DEMO_DATABASE = "monitor-demo.db"
SAMPLE_ACCOUNT = "brightwater-facebook-sample"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        commands,
        "demo",
        demo,
        "run the monitor once on bundled sample comments and write the digest here",
    )
    parser.add_argument(
        "--output", metavar="DIR", default=".", help="where to write the database and the digest (default: here)"
    )


def sample_data_path() -> Path:
    return Path(str(files("monitor") / "sample_data"))


def sample_comments_path() -> Path:
    return sample_data_path() / "comments.jsonl"


def sample_register_path() -> Path:
    return sample_data_path() / "consent-register.toml"


def demo_settings(output: Path, config_path: Path) -> config.Settings:
    raw: dict[str, Any] = {}
    if config_path.is_file():
        raw = {key: value for key, value in tomllib.loads(config_path.read_text()).items() if key == "filter"}
    raw.update(
        {
            "organisation": {"name": "Brightwater Care", "aliases": ["Brightwater"], "timezone": "Europe/London"},
            "database": {"url": f"sqlite:///{(output / DEMO_DATABASE).resolve()}"},
            "own_posts": {"consent_register": str(sample_register_path())},
            "notify": {"recipients": ["general.manager@brightwater-care.example"], "sender": "monitor@localhost"},
            "accounts": [
                {
                    "name": SAMPLE_ACCOUNT,
                    "platform": "file",
                    "path": str(sample_data_path()),
                    "platform_label": "facebook",
                }
            ],
        }
    )
    return config.from_mapping(raw, config_path)


def demo(args: argparse.Namespace, app: App) -> int:
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    for stale in output.glob(DEMO_DATABASE + "*"):
        stale.unlink()
    settings = demo_settings(output, app.config_path)
    demo_app = App(app.config_path, now=app.now, settings=settings)
    try:
        account = settings.accounts[0]
        pipeline = Pipeline(
            demo_app.store, demo_app.classifier, demo_app.connector, demo_app.now, own_posts=demo_app.own_posts
        )
        outcome = pipeline.poll(account)
        if outcome.status != "ok":
            print(f"The sample comments could not be read: {outcome.error}")
            return 1
        eml, html = Notifier(settings, demo_app.store, demo_app.now).write_digest_files(output)
        flags = demo_app.store.flags(status="open")
    finally:
        demo_app.close()
    print(f"Read {outcome.fetched} sample comments from {sample_comments_path()}")
    print(f"Checked {outcome.own_posts_checked} of the organisation's own posts against {sample_register_path()}")
    print(f"Flagged {len(flags)} for the General Manager:")
    for line in _summary(flags):
        print(f"  {line}")
    print(f"Database: {(output / DEMO_DATABASE).resolve()}")
    print("Digest written to:")
    print(f"  {eml.resolve()}  (open in a mail program)")
    print(f"  {html.resolve()}  (open in a browser)")
    return 0


def _summary(flags: list[Flag]) -> list[str]:
    by_severity: dict[str, Counter[str]] = {severity: Counter() for severity in SEVERITIES}
    for flag in flags:
        by_severity.setdefault(flag.severity, Counter()).update((flag.categories or ["other"])[:1])
    return [
        f"{severity:<7} " + ", ".join(f"{category} {count}" for category, count in sorted(counts.items()))
        for severity, counts in by_severity.items()
        if counts
    ]
