"""What a command needs, built on first use: settings, store, classifier, connectors, clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from connectors import Connector, connector_class
from connectors.credentials import FileCredentialStore
from monitor import config
from monitor.errors import StoreError
from monitor.logging import configure as configure_logging
from monitor.store import Store, describe_error

if TYPE_CHECKING:
    from monitor.filter import Classifier
    from monitor.ownposts import OwnPostChecker


def utc_now() -> datetime:
    return datetime.now(UTC)


class App:
    def __init__(
        self,
        config_path: Path,
        now: Callable[[], datetime] = utc_now,
        settings: config.Settings | None = None,
        config_optional: bool = False,
    ) -> None:
        self.config_path = config_path
        self.now = now
        self.config_optional = config_optional
        if settings is not None:
            self.__dict__["settings"] = settings

    @cached_property
    def settings(self) -> config.Settings:
        if self.config_optional and not self.config_path.exists():
            settings = config.from_mapping({}, self.config_path)
        else:
            settings = config.load(self.config_path)
        configure_logging(settings.logging.level, settings.logging.format)
        return settings

    @cached_property
    def store(self) -> Store:
        store = Store(self.settings.database_url)
        try:
            store.create_schema()
        except (DBAPIError, OSError) as exc:
            store.close()
            raise StoreError(f"cannot open the database: {describe_error(exc)}") from None
        return store

    @cached_property
    def classifier(self) -> Classifier:
        from monitor.filter import Classifier

        settings = self.settings
        return Classifier.from_settings(settings.filter, settings.organisation.names, settings.config_dir)

    @cached_property
    def credentials(self) -> FileCredentialStore:
        """Tokens the monitor renews itself, shared by every connector this app builds."""
        return self.settings.credentials.store(self.settings.state_dir)

    @cached_property
    def own_posts(self) -> OwnPostChecker | None:
        """The checks on the organisation's own posts, or None when they are off (see OwnPostSettings.enabled)."""
        from monitor.filter.packs import shared_lists
        from monitor.ownposts import OwnPostChecker, read_names

        settings = self.settings
        if not settings.own_posts.active:
            return None
        protected_file = settings.filter.protected_names_file
        protected = read_names(settings.config_dir / protected_file) if protected_file else []
        return OwnPostChecker(
            settings.own_posts,
            self.classifier,
            first_names=shared_lists().get("first_names", ()),
            protected_names=[*protected, *settings.filter.lists.get("protected_names", [])],
            organisation_names=[*settings.organisation.names, *settings.filter.organisation_aliases],
            register_path=settings.own_posts.register_path(settings.config_dir),
            zone=settings.organisation.zone,
        )

    def connector(self, account: config.AccountConfig) -> Connector:
        return connector_class(account.platform)(account.connector, now=self.now, credentials=self.credentials)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
