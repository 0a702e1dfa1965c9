"""A narrow contract stand-in for one behaviour of the real Glue Data Catalog that moto lacks: Glue
``UpdateTable`` with a ``VersionId`` fails with ``ConcurrentModificationException`` when the table's
version has moved on since it was read. Iceberg's GlueCatalog relies on it for optimistic commits;
moto 5.2.5 accepts any VersionId (shown by test_concurrent_commits.py).

An HTTP proxy in front of the moto server: every request is forwarded unchanged, except that
``AWSGlue.UpdateTable`` calls carrying a VersionId are checked against the table's current version and
applied under one lock (check and update are atomic, as on Glue). ``delay`` holds each UpdateTable
before the check, which widens the race window so concurrent writers really collide.

With ``serialize``, every request is forwarded under that lock, one at a time: moto's server runs requests on
parallel threads and its DynamoDB conditional writes are not atomic under that concurrency (two puts conditional
on ``attribute_not_exists`` can both succeed); DynamoDB makes each request atomic, which this restores for race
tests (as ``startThrottleProxy(…, { serialize: true })`` does for the TypeScript tests)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding", "accept-encoding"}


class GlueVersionProxy:
    def __init__(self, upstream: str, delay: float = 0.0, serialize: bool = False):
        self.upstream = upstream.rstrip("/")
        self.delay = delay
        self.serialize = serialize
        self.lock = threading.Lock()
        self.refused = 0
        self.updates = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _forward(self, body: bytes) -> tuple[int, dict, bytes]:
                req = urllib.request.Request(proxy.upstream + self.path, data=body or None, method=self.command)
                for k, v in self.headers.items():
                    if k.lower() not in HOP_HEADERS:
                        req.add_header(k, v)
                try:
                    with urllib.request.urlopen(req, timeout=60) as resp:
                        return resp.status, dict(resp.headers), resp.read()
                except urllib.error.HTTPError as err:
                    return err.code, dict(err.headers), err.read()

            def _reply(self, status: int, headers: dict, body: bytes) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    if k.lower() not in HOP_HEADERS:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _current_version(self, database: str, table: str) -> str | None:
                body = json.dumps({"DatabaseName": database, "Name": table}).encode()
                req = urllib.request.Request(proxy.upstream + "/", data=body, method="POST")
                req.add_header("X-Amz-Target", "AWSGlue.GetTable")
                req.add_header("Content-Type", "application/x-amz-json-1.1")
                req.add_header("Authorization", self.headers.get("Authorization", ""))
                try:
                    with urllib.request.urlopen(req, timeout=30) as resp:
                        return json.loads(resp.read())["Table"].get("VersionId")
                except urllib.error.HTTPError:
                    return None

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target", "")
                if target != "AWSGlue.UpdateTable":
                    if proxy.serialize:
                        with proxy.lock:
                            self._reply(*self._forward(body))
                    else:
                        self._reply(*self._forward(body))
                    return
                request = json.loads(body or b"{}")
                if proxy.delay:
                    time.sleep(proxy.delay)
                with proxy.lock:
                    wanted = request.get("VersionId")
                    current = self._current_version(request.get("DatabaseName", ""), request["TableInput"]["Name"])
                    if wanted is not None and current is not None and str(wanted) != str(current):
                        proxy.refused += 1
                        message = f"Update table failed due to concurrent modifications (version {wanted} != {current})"
                        payload = json.dumps({"__type": "ConcurrentModificationException", "Message": message})
                        self._reply(400, {"Content-Type": "application/x-amz-json-1.1"}, payload.encode())
                        return
                    proxy.updates += 1
                    self._reply(*self._forward(body))

            do_POST = _handle
            do_GET = _handle
            do_PUT = _handle
            do_DELETE = _handle
            do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> GlueVersionProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
