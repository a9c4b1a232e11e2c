"""A fake Facebook Graph API served over real HTTP on loopback.

It answers the requests the Facebook connector makes, in Graph's shapes:
``GET /{version}/{page}`` (the Page), ``GET /{version}/{page}/posts`` (posts,
newest first, with their newest comments embedded by field expansion) and
``GET /{version}/{post}/comments`` (a post's comments edge), each paged by
opaque ``after`` cursors with absolute ``paging.next`` URLs back to the fake.
``since`` and ``limit`` are honoured.

The dataset is generated from a seed: comment texts, authors and times are
computed from each comment's number when served, so a million comments cost
almost no memory. Comments added while it runs (``add_comment``) are kept.

Faults are injected on demand, from a queue (``inject``) or at random
(``fault_rates``); see ``FAULTS``. It counts every request it answers.

Run it on its own with ``python -m tests.fake_platform --comments 100000``;
it prints its URL and serves until interrupted.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import contextlib
import json
import random
import re
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

PAGE_ID = "104512345678901"
PAGE_NAME = "Brightwater Care"
POST_KEY_BASE = 1220000000000000
COMMENT_KEY_BASE = 1230000000000000
AUTHOR_ID_BASE = 7010000000000000
DEFAULT_LIMIT = 25
MAX_LIMIT = 100

STATUS_FAULTS = ("500", "502", "503")
THROTTLE_FAULTS = ("throttle-4", "throttle-17", "throttle-32", "throttle-613")
BODY_FAULTS = ("malformed", "truncated")
PAGING_FAULTS = ("duplicate", "out-of-order")
FAULTS = (*STATUS_FAULTS, "429", *THROTTLE_FAULTS, "timeout", *BODY_FAULTS, "reset", *PAGING_FAULTS)

THROTTLE_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
}

FIRST_NAMES = (
    "Sue", "Margaret", "Tom", "Jade", "Kelly", "Gareth", "Priya", "Dan", "Aisha", "Bernard",
    "Chloe", "Declan", "Eileen", "Femi", "Gwen", "Harpreet", "Ian", "Joan", "Kwame", "Lorna",
)  # fmt: skip
LAST_NAMES = (
    "Pemberton", "Owen", "Baxter", "Hughes", "Marsh", "Price", "Shah", "Hollis", "Khan", "Doyle",
    "Evans", "Okafor", "Jenkins", "Lewis", "Murphy", "Reid", "Singh", "Taylor", "Walsh", "Young",
)  # fmt: skip
HOMES = ("Brightwater House", "Elm Lodge", "the Meadows unit", "Harbour View", "Oakfield Court")
RELATIVES = ("mum", "dad", "nan", "grandad", "aunt", "brother")

HARMLESS = (
    "Bloody brilliant team! {relative} hasn't stopped talking about it",
    "Lovely to see everyone at {home} looking so happy",
    "Thank you to all the staff at {home}, you're a credit",
    "Will there be another one next month?",
    "Killing it as always, well done all",
    "So sad to hear about the flood, hope everyone is safe",
    "My {relative}'s carer was a lifesaver this winter, thank you {first}",
    "Who made the scones? Asking for a friend",
    "Great photos, {first} looks like a natural",
    "Such a warm welcome every time we visit {home}",
    "Is the coffee morning still on for Wednesday?",
    "Proud to have worked here for ten years",
)
FLAGGABLE = (
    "I know where you all work. I'll burn that place down.",
    "My {relative} was left without his medication for two days and nobody answered my complaint",
    "Does anyone know where {first} {last} lives now? She was moved from {home}",
    "{first} {last} at {home} has dementia and wanders at night, call me on 07700 900{digits}",
    "Heard {home} is closing down and under police investigation",
    "Useless idiots the lot of you, {home} is a disgrace",
    "Staff at {home} were shouting at residents, this is abuse and neglect",
    "They hire people with no DBS checks, avoid",
)


def graph_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def mix(seed: int, value: int) -> int:
    """A well-spread 64-bit number from two integers (SplitMix64), the same on every run."""
    mask = (1 << 64) - 1
    z = (seed * 0x9E3779B97F4A7C15 + value * 0xD1B54A32D192ED03 + 0x632BE59BD9B4E019) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def comment_text(seed: int, number: int, flaggable_percent: int = 10) -> str:
    """The text of generated comment ``number``: harmless mostly, flaggable ``flaggable_percent`` in 100."""
    bits = mix(seed, number)
    templates = FLAGGABLE if bits % 100 < flaggable_percent else HARMLESS
    template = templates[(bits >> 8) % len(templates)]
    return template.format(
        first=FIRST_NAMES[(bits >> 16) % len(FIRST_NAMES)],
        last=LAST_NAMES[(bits >> 24) % len(LAST_NAMES)],
        home=HOMES[(bits >> 32) % len(HOMES)],
        relative=RELATIVES[(bits >> 40) % len(RELATIVES)],
        digits=f"{(bits >> 48) % 1000:03d}",
    )


def encode_cursor(*parts: int) -> str:
    return base64.urlsafe_b64encode(":".join(map(str, parts)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, ...]:
    padded = cursor + "=" * (-len(cursor) % 4)
    return tuple(int(part) for part in base64.urlsafe_b64decode(padded).decode().split(":"))


class BadRequestError(ValueError):
    """A request Graph would refuse with ``code 100``."""


class MissingAliasesError(ValueError):
    """``?ids=`` naming objects that do not exist: Graph answers 404 with ``code 803``."""


Key = tuple[int, int]  # (created epoch seconds, comment number): comments sort by it


@dataclass(slots=True)
class Post:
    index: int
    key: str
    id: str
    created: int
    message: str
    generated: int  # comments made from the seed, numbered first_number...
    first_number: int
    spacing: float  # seconds between generated comments
    added: list[tuple[Key, dict[str, Any]]] = field(default_factory=list)

    def generated_key(self, offset: int) -> Key:
        return self.created + 60 + int(offset * self.spacing), self.first_number + offset


class GeneratedKeys(Sequence[Key]):
    """A post's generated comments' keys, oldest first, computed on demand (for bisect)."""

    def __init__(self, post: Post) -> None:
        self.post = post

    def __len__(self) -> int:
        return self.post.generated

    def __getitem__(self, offset: Any) -> Any:
        return self.post.generated_key(offset)


@dataclass(frozen=True, slots=True)
class Window:
    """One page of a newest-first list: its records, the cursors around them, and each post's comments."""

    records: list[dict[str, Any]]
    before: str | None
    after: str | None
    more: bool
    embedded: list[Window | None] = field(default_factory=list)


class Dataset:
    """One Page's posts and comments: generated from a seed, grown by ``add_comment``."""

    def __init__(
        self,
        comments: int,
        *,
        posts: int | None = None,
        seed: int = 1,
        now: datetime | None = None,
        span: timedelta = timedelta(days=12),
        page_id: str = PAGE_ID,
        page_name: str = PAGE_NAME,
        flaggable_percent: int = 10,
    ) -> None:
        self.seed = seed
        self.page_id = page_id
        self.page_name = page_name
        self.flaggable_percent = flaggable_percent
        self.now = int((now or datetime.now(UTC)).timestamp())
        self.lock = threading.Lock()
        count = posts if posts is not None else max(1, comments // 100)
        self.posts = self._make_posts(count, comments, int(span.total_seconds()))
        self.by_id = {post.id: post for post in self.posts}
        self.next_number = comments

    def _make_posts(self, count: int, comments: int, span: int) -> list[Post]:
        """Posts spread over ``span`` up to two hours ago, newest first; comments shared unevenly."""
        weights = [1 + mix(self.seed, -1 - index) % 200 for index in range(count)]
        total = sum(weights)
        shares = [comments * weight // total for weight in weights]
        shares[0] += comments - sum(shares)
        newest = self.now - 7200
        step = span // max(1, count)
        made: list[Post] = []
        first_number = 0
        for index, share in enumerate(shares):
            created = newest - index * step
            key = str(POST_KEY_BASE + index)
            room = max(1, self.now - 120 - created)
            made.append(
                Post(
                    index=index,
                    key=key,
                    id=f"{self.page_id}_{key}",
                    created=created,
                    message=f"News from {self.page_name}, update {count - index}\nMore photos to follow.",
                    generated=share,
                    first_number=first_number,
                    spacing=room / max(1, share),
                )
            )
            first_number += share
        return made

    @property
    def comment_count(self) -> int:
        with self.lock:
            return sum(post.generated + len(post.added) for post in self.posts)

    def post(self, which: int | str) -> Post:
        if isinstance(which, int):
            return self.posts[which]
        found = self.by_id.get(which)
        if found is None:
            raise KeyError(f"no post {which!r}")
        return found

    def add_comment(
        self,
        post: int | str,
        text: str,
        author: str = "A. Visitor",
        created_time: datetime | None = None,
        author_id: str | None = None,
        *,
        parent: str | None = None,
    ) -> str:
        """Add a comment to a post (index or id), now or at ``created_time``, replying to ``parent``
        (a comment's Graph id) when given; returns its Graph id."""
        target = self.post(post)
        created = int((created_time or datetime.now(UTC)).timestamp())
        with self.lock:
            number = self.next_number
            self.next_number += 1
            comment_key = str(COMMENT_KEY_BASE + number)
            record = {
                "id": f"{target.key}_{comment_key}",
                "from": {"id": author_id or str(AUTHOR_ID_BASE + number), "name": author},
                "message": text,
                "created_time": graph_time(datetime.fromtimestamp(created, UTC)),
                "permalink_url": self._permalink(target, comment_key),
                "is_hidden": False,
            }
            if parent is not None:
                record["parent"] = {"id": parent}
            bisect.insort(target.added, ((created, number), record), key=lambda item: item[0])
        return str(record["id"])

    def page(self) -> dict[str, Any]:
        return {"id": self.page_id, "name": self.page_name}

    def _added(self, comment_id: str) -> tuple[Post, int] | None:
        post_key = comment_id.split("_", maxsplit=1)[0]
        for post in self.posts:
            if post.key == post_key:
                for index, (_, record) in enumerate(post.added):
                    if record["id"] == comment_id:
                        return post, index
        return None

    def set_hidden(self, comment_id: str, hidden: bool = True) -> None:
        """Hide (or show) an added comment, as the Page would in Meta Business Suite."""
        with self.lock:
            found = self._added(comment_id)
            if found is None:
                raise KeyError(f"no added comment {comment_id!r}")
            post, index = found
            post.added[index][1]["is_hidden"] = hidden

    def delete(self, comment_id: str) -> None:
        with self.lock:
            found = self._added(comment_id)
            if found is None:
                raise KeyError(f"no added comment {comment_id!r}")
            post, index = found
            del post.added[index]

    def by_ids(self, ids: Sequence[str], fields: Sequence[str]) -> dict[str, Any]:
        """``GET /?ids=``: each comment by id, or Graph's error naming the ids that do not exist."""
        with self.lock:
            found = {comment_id: self._record_by_id(comment_id) for comment_id in ids}
        missing = [comment_id for comment_id, record in found.items() if record is None]
        if missing:
            raise MissingAliasesError(f"Some of the aliases you requested do not exist: {','.join(missing)}")
        return {
            comment_id: {field: record[field] for field in fields if field in record}
            for comment_id, record in found.items()
            if record is not None
        }

    def _record_by_id(self, comment_id: str) -> dict[str, Any] | None:
        added = self._added(comment_id)
        if added is not None:
            return added[0].added[added[1]][1]
        post_key, _, comment_key = comment_id.partition("_")
        post = next((post for post in self.posts if post.key == post_key), None)
        if post is None or not comment_key.isdigit():
            return None
        offset = int(comment_key) - COMMENT_KEY_BASE - post.first_number
        if not 0 <= offset < post.generated:
            return None
        return self._comment_record(post, post.generated_key(offset), None)

    def posts_window(
        self, after: str | None, limit: int, since: int | None, embedded_limit: int | None, faults: Sequence[str] = ()
    ) -> Window:
        visible = [post for post in self.posts if since is None or post.created >= since]
        start = decode_cursor(after)[0] if after else 0
        if "duplicate" in faults and start > 0:
            start -= 1
        chunk = visible[start : start + limit]
        if "out-of-order" in faults:
            chunk.reverse()
        end = start + len(chunk)
        return Window(
            [self._post_record(post) for post in chunk],
            before=encode_cursor(start) if chunk else None,
            after=encode_cursor(end) if chunk else None,
            more=end < len(visible),
            embedded=[
                self.comments_window(post.id, None, embedded_limit, None) if embedded_limit else None for post in chunk
            ],
        )

    def comments_window(
        self, post_id: str, after: str | None, limit: int, since: int | None, faults: Sequence[str] = ()
    ) -> Window:
        post = self.post(post_id)
        cursor = decode_cursor(after) if after else None
        bound: Key | None = (cursor[0], cursor[1]) if cursor else None
        with self.lock:
            chosen = self._newest_first(post, bound, limit + 1, since, inclusive="duplicate" in faults)
        more = len(chosen) > limit
        chosen = chosen[:limit]
        records = [self._comment_record(post, key, added) for key, added in chosen]
        if "out-of-order" in faults:
            records.reverse()
        return Window(
            records,
            before=encode_cursor(*chosen[0][0]) if chosen else None,
            after=encode_cursor(*chosen[-1][0]) if chosen else None,
            more=more,
        )

    def _newest_first(
        self, post: Post, bound: Key | None, count: int, since: int | None, inclusive: bool
    ) -> list[tuple[Key, dict[str, Any] | None]]:
        """Up to ``count`` comments older than ``bound`` (or at it, when inclusive), newest first."""
        find = bisect.bisect_right if inclusive else bisect.bisect_left
        generated = GeneratedKeys(post)
        g = len(generated) if bound is None else find(generated, bound)
        a = len(post.added) if bound is None else find(post.added, bound, key=lambda item: item[0])
        chosen: list[tuple[Key, dict[str, Any] | None]] = []
        while len(chosen) < count and (g > 0 or a > 0):
            if a > 0 and (g == 0 or post.added[a - 1][0] > generated[g - 1]):
                key, record = post.added[a - 1]
                a -= 1
                pick: tuple[Key, dict[str, Any] | None] = (key, record)
            else:
                pick = (generated[g - 1], None)
                g -= 1
            if since is not None and pick[0][0] < since:
                break
            chosen.append(pick)
        return chosen

    def _post_record(self, post: Post) -> dict[str, Any]:
        return {
            "id": post.id,
            "message": post.message,
            "permalink_url": f"https://www.facebook.com/{self.page_id}/posts/{post.key}/",
            "created_time": graph_time(datetime.fromtimestamp(post.created, UTC)),
        }

    def _comment_record(self, post: Post, key: Key, added: dict[str, Any] | None) -> dict[str, Any]:
        if added is not None:
            return added
        created, number = key
        comment_key = str(COMMENT_KEY_BASE + number)
        bits = mix(self.seed, number)
        offset = number - post.first_number
        replying = offset > 0 and bits % 8 == 0
        by_page = replying and (bits >> 4) % 3 == 0
        if by_page:
            author = {"id": self.page_id, "name": self.page_name}
            text = "Thank you, we've passed this on to the team at the home."
        else:
            author = {
                "id": str(AUTHOR_ID_BASE + (bits >> 20) % 50_000),
                "name": f"{FIRST_NAMES[(bits >> 16) % 20]} {LAST_NAMES[(bits >> 24) % 20]}",
            }
            text = comment_text(self.seed, number, self.flaggable_percent)
        parent_key = str(COMMENT_KEY_BASE + number - 1) if replying else None
        record: dict[str, Any] = {
            "id": f"{post.key}_{comment_key}",
            "from": author,
            "message": text,
            "created_time": graph_time(datetime.fromtimestamp(created, UTC)),
            "permalink_url": self._permalink(post, comment_key, parent_key),
            "is_hidden": bits % 97 == 0,
        }
        if parent_key is not None:
            record["parent"] = {"id": f"{post.key}_{parent_key}"}
        return record

    def _permalink(self, post: Post, comment_key: str, parent_key: str | None = None) -> str:
        base = f"https://www.facebook.com/{self.page_id}/posts/{post.key}/"
        if parent_key is None:
            return f"{base}?comment_id={comment_key}"
        return f"{base}?comment_id={parent_key}&reply_comment_id={comment_key}"


@dataclass
class FaultPlan:
    """Faults to serve: a queue (each used once, by the first request of its kind) and random rates."""

    queue: deque[tuple[str, str | None]] = field(default_factory=deque)
    rates: dict[str, float] = field(default_factory=dict)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, kind: str) -> str | None:
        with self.lock:
            for index, (fault, only) in enumerate(self.queue):
                if only is None or only == kind:
                    del self.queue[index]
                    return fault
            for fault, rate in self.rates.items():
                if self.rng.random() < rate:
                    return fault
        return None


class FakeGraph:
    """The fake Graph API server. ``with FakeGraph(comments=500) as graph:`` then use ``graph.url``."""

    def __init__(
        self,
        comments: int = 300,
        *,
        posts: int | None = None,
        seed: int = 1,
        now: datetime | None = None,
        token: str | None = None,
        retry_after: int = 1,
        timeout_delay: float = 2.0,
        dataset: Dataset | None = None,
        port: int = 0,
    ) -> None:
        self.data = dataset or Dataset(comments, posts=posts, seed=seed, now=now)
        self.token = token
        self.retry_after = retry_after
        self.timeout_delay = timeout_delay
        self.faults = FaultPlan()
        self.requests: Counter[str] = Counter()
        self.faults_served: Counter[str] = Counter()
        self.count_lock = threading.Lock()
        self.server = _Server(("127.0.0.1", port), _Handler)
        self.server.fake = self
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def request_count(self) -> int:
        with self.count_lock:
            return sum(self.requests.values())

    def start(self) -> FakeGraph:
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), name="fake-graph", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def __enter__(self) -> FakeGraph:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def add_comment(
        self,
        post: int | str,
        text: str,
        author: str = "A. Visitor",
        created_time: datetime | None = None,
        author_id: str | None = None,
        *,
        parent: str | None = None,
    ) -> str:
        return self.data.add_comment(post, text, author, created_time, author_id, parent=parent)

    def inject(self, *faults: str, on: str | None = None) -> None:
        """Serve these faults, in order, to the next requests (of kind ``on``: page, posts, comments)."""
        unknown = [fault for fault in faults if fault not in FAULTS]
        if unknown:
            raise ValueError(f"unknown faults {unknown}; known: {', '.join(FAULTS)}")
        with self.faults.lock:
            self.faults.queue.extend((fault, on) for fault in faults)

    def set_fault_rates(self, rates: Mapping[str, float], seed: int = 0) -> None:
        """Serve each fault at random to this share of requests (0.0-1.0), reproducibly from ``seed``."""
        unknown = [fault for fault in rates if fault not in FAULTS]
        if unknown:
            raise ValueError(f"unknown faults {unknown}; known: {', '.join(FAULTS)}")
        with self.faults.lock:
            self.faults.rates = dict(rates)
            self.faults.rng = random.Random(seed)

    def count(self, kind: str, fault: str | None) -> None:
        with self.count_lock:
            self.requests[kind] += 1
            if fault is not None:
                self.faults_served[fault] += 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeGraph


ROUTE = re.compile(r"^/(v\d+\.\d+)/([^/]+)(?:/([a-z_]+))?/?$")
IDS_ROUTE = re.compile(r"^/(v\d+\.\d+)/?$")
EMBEDDED_LIMIT = re.compile(r"comments(?:\.[a-z_]+\([^)]*\))*?\.limit\((\d+)\)")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 30
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the fake serves thousands of requests a second."""

    def do_GET(self) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        route = ROUTE.match(parts.path)
        kind = _kind(route, fake.data.page_id)
        if route is None and IDS_ROUTE.match(parts.path) and "ids" in query:
            kind = "ids"
        fault = fake.faults.take(kind)
        fake.count(kind, fault)
        try:
            if fault == "reset":
                self._reset()
                return
            if fault == "timeout":
                time.sleep(fake.timeout_delay)
            status, headers, body = self._answer(route, kind, query, fault)
            self._send(status, headers, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _answer(
        self, route: re.Match[str] | None, kind: str, query: dict[str, str], fault: str | None
    ) -> tuple[int, dict[str, str], bytes]:
        fake = self.server.fake
        if fake.token is not None and query.get("access_token") != fake.token:
            return _graph_error(400, 190, "Error validating access token: The session has been invalidated.")
        if fault is not None and (error := _fault_response(fault, fake.retry_after)) is not None:
            return error
        try:
            body = self._body(route, kind, query, [fault] if fault in PAGING_FAULTS else [])
        except MissingAliasesError as exc:
            return _graph_error(404, 803, f"(#803) {exc}")
        except (BadRequestError, KeyError, ValueError) as exc:
            return _graph_error(400, 100, f"(#100) {exc}")
        payload = json.dumps(body, separators=(",", ":")).encode()
        if fault == "malformed":
            payload = b'{"data": [{"id": "1", "message": oops}'
        elif fault == "truncated":
            payload = payload[: len(payload) // 2]
        return 200, {"Content-Type": "application/json; charset=UTF-8"}, payload

    def _body(self, route: re.Match[str] | None, kind: str, query: dict[str, str], faults: list[str]) -> Any:
        data = self.server.fake.data
        if kind == "ids":
            return data.by_ids(query["ids"].split(","), query.get("fields", "id").split(","))
        if route is None or kind == "unknown":
            raise BadRequestError("Unsupported get request.")
        version, node = route.group(1), route.group(2)
        if kind == "page":
            return data.page()
        limit = _limit(query)
        since = _since(query)
        if kind == "posts":
            embedded = _embedded_limit(query.get("fields", ""))
            window = data.posts_window(query.get("after"), limit, since, embedded, faults)
            for record, comments in zip(window.records, window.embedded, strict=True):
                if comments is not None and comments.records:
                    record["comments"] = self._embedded(version, record["id"], comments, query)
            return self._paged(window, f"/{version}/{node}/posts", query)
        window = data.comments_window(node, query.get("after"), limit, since, faults)
        return self._paged(window, f"/{version}/{node}/comments", query)

    def _embedded(self, version: str, post_id: str, comments: Window, query: dict[str, str]) -> dict[str, Any]:
        """The embedded comments, with ``paging.next`` to the post's comments edge when more remain."""
        paging: dict[str, Any] = {"cursors": {"before": comments.before, "after": comments.after}}
        if comments.more:
            following = {"access_token": query["access_token"]} if "access_token" in query else {}
            following |= {
                "pretty": "0",
                "filter": "stream",
                "order": "reverse_chronological",
                "limit": str(len(comments.records)),
                "after": comments.after or "",
            }
            paging["next"] = f"{self._origin()}/{version}/{post_id}/comments?{urlencode(following)}"
        return {"data": comments.records, "paging": paging}

    def _paged(self, window: Window, path: str, query: dict[str, str]) -> dict[str, Any]:
        body: dict[str, Any] = {"data": window.records}
        if window.records:
            body["paging"] = {"cursors": {"before": window.before, "after": window.after}}
            if window.more:
                following = {key: value for key, value in query.items() if key != "after"}
                following["after"] = window.after or ""
                body["paging"]["next"] = f"{self._origin()}{path}?{urlencode(following)}"
        return body

    def _origin(self) -> str:
        return self.server.fake.url

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _reset(self) -> None:
        """Close the socket with a TCP reset, as a dropped connection looks to the client."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True


def _kind(route: re.Match[str] | None, page_id: str) -> str:
    if route is None:
        return "unknown"
    node, edge = route.group(2), route.group(3)
    if edge is None:
        return "page" if node == page_id else "unknown"
    if node == page_id and edge in ("posts", "feed", "published_posts"):
        return "posts"
    if edge == "comments":
        return "comments"
    return "unknown"


def _limit(query: Mapping[str, str]) -> int:
    raw = query.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit() or int(raw) < 1:
        raise BadRequestError("limit must be a positive integer")
    return min(int(raw), MAX_LIMIT)


def _since(query: Mapping[str, str]) -> int | None:
    raw = query.get("since")
    if not raw:
        return None
    if raw.isdigit():
        return int(raw)
    moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def _embedded_limit(fields: str) -> int | None:
    if "comments" not in fields:
        return None
    match = EMBEDDED_LIMIT.search(fields)
    return min(int(match.group(1)), MAX_LIMIT) if match else DEFAULT_LIMIT


def _graph_error(status: int, code: int, message: str, **extra: Any) -> tuple[int, dict[str, str], bytes]:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AfakeTrace0001", **extra}
    return status, {"Content-Type": "application/json; charset=UTF-8"}, json.dumps({"error": error}).encode()


def _fault_response(fault: str, retry_after: int) -> tuple[int, dict[str, str], bytes] | None:
    if fault == "500":
        return _graph_error(500, 1, "An unknown error has occurred.", is_transient=True)
    if fault == "502":
        return 502, {"Content-Type": "text/html"}, b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    if fault == "503":
        return _graph_error(503, 2, "Service temporarily unavailable", is_transient=True)
    if fault == "429":
        status, headers, body = _graph_error(429, 4, THROTTLE_MESSAGES[4])
        return status, {**headers, "Retry-After": str(retry_after)}, body
    if fault.startswith("throttle-"):
        code = int(fault.removeprefix("throttle-"))
        return _graph_error(400, code, THROTTLE_MESSAGES[code], is_transient=True)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Facebook Graph API on loopback.")
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    arguments = parser.parse_args()
    fake = FakeGraph(comments=arguments.comments, posts=arguments.posts, seed=arguments.seed, port=arguments.port)
    with fake:
        print(fake.url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
