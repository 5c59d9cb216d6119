"""
A real HTTP receiver on loopback for webhook tests: a threaded server on a free port that
records every request as it arrives and answers with the status the test sets; down for a
while (``stop``, then ``start`` again on the same port), or holding its answers (``hold``)
until ``release``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    port: int = 0
    status: int = 200
    received: list[Received] = field(default_factory=list)
    hold: bool = False
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _released: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return self.url_at("crm")

    def url_at(self, name: str) -> str:
        """Another address on the same receiver (several subscriptions told apart by path)."""
        return f"http://127.0.0.1:{self.port}/hooks/{name}"

    def release(self) -> None:
        """Answer the held requests, and the next ones at once."""
        self.hold = False
        self._released.set()

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                    status, hold = receiver.status, receiver.hold
                if hold:
                    receiver._released.wait(30)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # The sender is gone (a worker killed while we held its request).

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def events(self, path: str | None = None) -> list[dict]:
        with self._lock:
            return [item.json for item in self.received if path is None or item.path == path]

    def requests(self) -> list[Received]:
        with self._lock:
            return list(self.received)
