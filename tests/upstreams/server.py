"""FakeUpstream: a threaded loopback HTTP server with a route table, scripted replies and a log.

Typical use::

    with FakeUpstream({("GET", "/ping"): lambda req: Reply(json={"ok": True})}) as fake:
        requests.get(fake.url + "/ping")
        fake.script("/ping", status=503, times=1)   # the next request gets a 503
        fake.script("/ping", delay_s=2.0)           # every later request hangs 2 s first
        fake.reset("/ping")                         # back to the route's handler
        assert fake.count("/ping") == 1

A route handler takes the `Request` and returns a `Reply`. A scripted reply, while set, answers
instead of the handler. Unknown routes answer 404 with a JSON body.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Request:
    """One request as the fake saw it.

    Args:
        method: "GET", "POST", …
        path: the path without the query string.
        query: query parameters (last value wins for repeated names).
        headers: request headers with lower-case names.
        body: the raw request body.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON (raises ValueError when it is not JSON)."""
        return json.loads(self.body)


@dataclass
class Reply:
    """What the fake answers.

    Args:
        status: HTTP status code.
        json: a value to send as JSON (ignored when `body` is given).
        body: raw bytes (or text) to send as-is, e.g. HTML or truncated JSON.
        content_type: Content-Type header; default application/json.
        headers: extra response headers.
        delay_s: seconds to wait before answering (simulates a hang; cut short by stop()).
    """

    status: int = 200
    json: Any = None
    body: bytes | str | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0

    def payload(self) -> bytes:
        """The bytes to send."""
        if self.body is not None:
            return self.body.encode() if isinstance(self.body, str) else self.body
        return b"" if self.json is None else json.dumps(self.json).encode()


Handler = Callable[[Request], Reply]


@dataclass
class _Script:
    reply: Reply
    times: int | None  # None: until reset


class FakeUpstream:
    """A loopback HTTP server (127.0.0.1, free port) answering from a route table.

    Args:
        routes: {(method, path): handler}; more can be added with `route()`.
        name: shown in thread names, for debugging.
    """

    def __init__(self, routes: Mapping[tuple[str, str], Handler] | None = None, name: str = "fake"):
        self.name = name
        self._routes: dict[tuple[str, str], Handler] = dict(routes or {})
        self._scripts: dict[tuple[str, str], list[_Script]] = {}
        self._log: list[Request] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeUpstream:
        """Bind a free port and serve in a daemon thread; returns self."""
        return self.serve_on(("127.0.0.1", 0))

    def serve_on(self, address: tuple[str, int]) -> FakeUpstream:
        """Bind `address` (host, port; port 0 picks a free one) and serve; returns self."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = ThreadingHTTPServer(address, _make_handler(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.name = f"{self.name}-{self.port}"
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake any hanging reply, and free the port."""
        if self._server is None:
            return
        self._stopping.set()
        server = self._server
        # shutdown() waits until serve_forever's select() times out; a connection wakes it now.
        stopper = threading.Thread(target=server.shutdown, name=f"{self.name}-stop", daemon=True)
        stopper.start()
        with contextlib.suppress(OSError):
            socket.create_connection(server.server_address[:2], timeout=1).close()
        stopper.join()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (start() first)."""
        if self._server is None:
            raise RuntimeError("FakeUpstream is not started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """Base URL, `http://127.0.0.1:<port>`, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    # -- behaviour -----------------------------------------------------------------------------

    def route(self, method: str, path: str, handler: Handler) -> None:
        """Add or replace the handler of (method, path)."""
        with self._lock:
            self._routes[(method.upper(), path)] = handler

    def script(
        self,
        path: str,
        reply: Reply | None = None,
        *,
        method: str = "GET",
        times: int | None = None,
        **reply_fields: Any,
    ) -> None:
        """Make (method, path) answer with a fixed reply instead of its handler.

        Args:
            path: the route's path.
            reply: the Reply; or give its fields as keywords (status=, json=, body=,
                content_type=, headers=, delay_s=).
            method: the route's method.
            times: answer this many requests, then fall back to the previous behaviour;
                None keeps it until `reset()`. One-shot scripts queue up in order.
        """
        scripted = _Script(reply or Reply(**reply_fields), times)
        with self._lock:
            queue = self._scripts.setdefault((method.upper(), path), [])
            if times is None:
                queue[:] = [s for s in queue if s.times is not None]
                queue.append(scripted)
            else:
                # One-shot scripts answer before a persistent one.
                index = next((i for i, s in enumerate(queue) if s.times is None), len(queue))
                queue.insert(index, scripted)

    def reset(self, path: str | None = None, *, method: str = "GET") -> None:
        """Drop scripted replies of one route (or of all routes when path is None)."""
        with self._lock:
            if path is None:
                self._scripts.clear()
            else:
                self._scripts.pop((method.upper(), path), None)

    # -- request log ---------------------------------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        """A copy of every request received so far, oldest first."""
        with self._lock:
            return list(self._log)

    def count(self, path: str | None = None, method: str | None = None) -> int:
        """How many requests hit `path` (any path when None), optionally of one method."""
        with self._lock:
            return sum(
                1
                for r in self._log
                if (path is None or r.path == path) and (method is None or r.method == method)
            )

    def last(self, path: str | None = None) -> Request:
        """The most recent request (to `path` when given); IndexError when there is none."""
        matching = [r for r in self.requests if path is None or r.path == path]
        return matching[-1]

    def clear_log(self) -> None:
        """Forget the requests received so far."""
        with self._lock:
            self._log.clear()

    # -- used by the request handler -----------------------------------------------------------

    def _answer(self, request: Request) -> Reply:
        key = (request.method, request.path)
        with self._lock:
            self._log.append(request)
            queue = self._scripts.get(key)
            if queue:
                scripted = queue[0]
                if scripted.times is not None:
                    scripted.times -= 1
                    if scripted.times <= 0:
                        queue.pop(0)
                return scripted.reply
            handler = self._routes.get(key)
        if handler is None:
            return Reply(
                status=404, json={"error": f"no route for {request.method} {request.path}"}
            )
        return handler(request)

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def _make_handler(fake: FakeUpstream) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle's algorithm on, the body of a
        # reply on a kept-alive connection waits for the client's delayed ACK (~40 ms).
        disable_nagle_algorithm = True
        # An idle kept-alive connection frees its thread after this many seconds.
        timeout = 10

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=self.command,
                path=parts.path,
                query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            reply = fake._answer(request)
            if reply.delay_s:
                fake._wait(reply.delay_s)
            payload = reply.payload()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (e.g. its timeout fired during delay_s); nothing to do.
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    return _Handler
