"""Helpers for the kuiper CLI integration tests: running the `kuiper` binary, and a fake REST server
that answers like eKuiper's REST API does (the replies its handlers write), records every request,
and so checks the CLI's requests and reply texts for endpoints kuiperd does not serve yet.

The CLI binary comes from $KUIPER (set by ctest) or build/bin/kuiper.
"""
import json
import os
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import SOURCE_DIR

KUIPER = os.environ.get("KUIPER") or os.path.join(SOURCE_DIR, "build", "bin", "kuiper")


def kuiper(port, *args, timeout=20, env=None, stdin=None):
    """Runs `kuiper --port <port> args...`; returns (exit status, stdout, stderr)."""
    e = dict(os.environ)
    e.pop("KUIPER_HOST", None)
    e.pop("KUIPER_PORT", None)
    e.update(env or {})
    p = subprocess.run([KUIPER, "--host", "127.0.0.1", "--port", str(port)] + list(args),
                       capture_output=True, text=True, timeout=timeout, env=e, input=stdin)
    return p.returncode, p.stdout, p.stderr


class FakeRest:
    """A REST server on 127.0.0.1 whose replies are set per (method, path) by the test.

    routes maps (method, path) to (status, body); body is a str sent as is or an object sent as
    JSON. Unknown paths answer 404 with eKuiper's error body. Requests land in .requests as
    (method, path, body text)."""

    def __init__(self):
        self.routes = {}
        self.requests = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _serve(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode() if n else ""
                with fake.lock:
                    fake.requests.append((self.command, self.path, body))
                    reply = fake.routes.get((self.command, self.path))
                if callable(reply):
                    reply = reply(body)
                if reply is None:
                    reply = (404, {"error": 1002, "message": "%s is not found" % self.path})
                status, payload = reply
                data = payload if isinstance(payload, str) else json.dumps(payload)
                data = data.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if not isinstance(payload, str)
                                 else "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        self.route("GET", "/ping", 200, "")
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def route(self, method, path, status, body):
        with self.lock:
            self.routes[(method, path)] = (status, body) if not callable(body) else body

    def last(self, method=None, path_re=None):
        """The last request matching method and path regex, or None."""
        with self.lock:
            for m, p, b in reversed(self.requests):
                if (method is None or m == method) and (path_re is None or re.fullmatch(path_re, p)):
                    return m, p, b
        return None

    def clear(self):
        with self.lock:
            self.requests.clear()


def endpoint_exists(k, method, path, body=None):
    """Whether kuiperd routes method+path (a 404 naming the path means it does not)."""
    status, reply = k.request(method, path, body)
    if status == 405:
        return True
    return not (status == 404 and isinstance(reply, dict) and path in str(reply.get("message", "")))
