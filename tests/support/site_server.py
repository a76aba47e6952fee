"""Serves site/ on loopback the way the site bucket does, for browser tests without the stack.

Files get the content types components/site.py gives their objects; config.json is
whatever the test says (or 404); requests the site files cannot answer go to an
optional backend (tests/support/fake_aws.py), which is then same-origin, as the
emulator's S3, STS and API are. A server without files (files=False) serves the backend
alone: the API on an origin of its own, as on AWS.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from components import site_content as site

# A backend's status that means: close the connection without answering (fetch rejects).
NO_ANSWER = 0

# (method, path, headers, body) -> (status, headers, body)
Backend = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]


@dataclass
class SiteServer:
    site_dir: Path = site.SITE_DIR
    config: dict[str, Any] | None = None  # None: config.json answers 404
    backend: Backend | None = None
    hidden: frozenset[str] = frozenset()  # keys answered 404, to test a broken deployment
    port: int = 0
    host: str = "127.0.0.1"  # where it listens: loopback, as every server of the harness
    # Added to every answer for a site file, as CloudFront's response headers policy does.
    headers: dict[str, str] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)  # "METHOD path", for assertions
    files: bool = True  # False: the backend answers everything

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The site's page, as siteUrl names it."""
        return f"{self.origin}/{site.INDEX}"

    def _file(self, path: str) -> tuple[int, dict[str, str], bytes] | None:
        key = path.split("?", 1)[0].lstrip("/") or site.INDEX
        if key in self.hidden:
            return 404, {"Content-Type": "text/plain"}, b"hidden by the test"
        if key == site.CONFIG_KEY:
            if self.config is None:
                return 404, {"Content-Type": "text/plain"}, b"no config.json"
            return 200, {"Content-Type": "application/json"}, json.dumps(self.config).encode()
        published = {f.key: f for f in site.site_files(self.site_dir)}
        if key not in published:
            return None
        entry = published[key]
        return 200, {"Content-Type": entry.content_type, "Cache-Control": site.CACHE_CONTROL}, (
            entry.path.read_bytes()
        )


def _handler(server: SiteServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            server.requests.append(f"{self.command} {self.path}")
            answer = (server._file(self.path) if server.files and self.command in ("GET", "HEAD")
                      else None)
            if answer is not None:
                answer = (answer[0], {**answer[1], **server.headers}, answer[2])
            if answer is None and server.backend is not None:
                answer = server.backend(self.command, self.path, dict(self.headers), body)
            status, headers, payload = answer or (404, {"Content-Type": "text/plain"}, b"")
            if status == NO_ANSWER:
                self.close_connection = True
                return
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_HEAD = do_POST = do_DELETE = do_PUT = do_OPTIONS = _answer  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: server.requests keeps the record

    return Handler


@contextmanager
def serving(server: SiteServer) -> Iterator[SiteServer]:
    httpd = ThreadingHTTPServer((server.host, server.port), _handler(server))
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
