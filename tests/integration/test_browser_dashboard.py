"""The dashboard (rest/dashboard.c and the UI in rest/dashboard/), tested two ways against a real
kuiperd:

- Server: plain HTTP, no browser. The embedded files are served, /api/<path> answers exactly what
  the REST port answers (authentication included), /tap streams broker messages as server-sent
  events, dashboard.enable=false turns it off, and a port in use stops kuiperd naming the port.
- Browser: dashboard_scenario.py drives Debian's headless Chromium through every page (create a
  stream and a rule, watch status and metrics move as MQTT messages are published, the broker's
  live views, the login form), with Debian packages only: python3-selenium and chromium-driver
  (browser_util.py). Run with Debian's /usr/bin/python3 (tests/CMakeLists.txt), which imports
  selenium from dist-packages. Skipped, saying why, only when Chromium, chromedriver or selenium is
  not installed and scripts/install-deps.sh cannot install them.

Screenshots go to a temporary directory, kept only when a scenario fails; set
EK_SCREENSHOT_DIR=<repo>/docs/screenshots to refresh the ones the README shows."""
import http.client
import importlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import browser_util
import dashboard_scenario
from broker_util import assert_clean_stop
from harness import SOURCE_DIR, Kuiperd, main


def dash_port(k):
    return int(k.env["KUIPER__DASHBOARD__PORT"])


def dash_url(k):
    return "http://127.0.0.1:%d" % dash_port(k)


def dash_get(k, path, headers=None, method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", dash_port(k), timeout=10)
    conn.request(method, path, headers=headers or {})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, r.getheader("Content-Type") or "", body


class Server(unittest.TestCase):
    def test_files_and_api_forwarding(self):
        with Kuiperd() as k:
            status, ctype, body = dash_get(k, "/")
            self.assertEqual(status, 200)
            self.assertTrue(ctype.startswith("text/html"))
            self.assertIn(b'<script type="module" src="/js/app.js">', body)
            status, ctype, _ = dash_get(k, "/js/app.js")
            self.assertEqual((status, ctype.split(";")[0]), (200, "text/javascript"))
            status, ctype, _ = dash_get(k, "/style.css")
            self.assertEqual((status, ctype.split(";")[0]), (200, "text/css"))
            self.assertEqual(dash_get(k, "/no/such/file.js")[0], 404)
            self.assertEqual(dash_get(k, "/index.html", method="POST")[0], 405)
            # /api/<path> is the REST API itself: same statuses, same bodies.
            status, _, body = dash_get(k, "/api/")
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["version"], k.request("GET", "/")[1]["version"])
            self.assertEqual(dash_get(k, "/api/ping")[0], 200)
            self.assertEqual(dash_get(k, "/api")[0], 200)
            for path, method in (("/nothing/here", "GET"), ("/ping", "DELETE")):
                status, _, body = dash_get(k, "/api" + path, method=method)
                rest_status, rest_body = k.request(method, path)
                self.assertEqual((status, json.loads(body)), (rest_status, rest_body), path)
            assert_clean_stop(self, k)

    def test_tap_streams_broker_messages(self):
        with Kuiperd() as k:
            conn = http.client.HTTPConnection("127.0.0.1", dash_port(k), timeout=10)
            conn.request("GET", "/tap?topic=sensors/%2B/temp")
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.getheader("Content-Type"), "text/event-stream")
            deadline = time.time() + 10
            event = None
            while event is None and time.time() < deadline:
                subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(k.mqtt_port), "-t", "sensors/a/temp",
                                "-m", '{"t":21.5}'], check=True)
                line = r.fp.readline().decode()
                while line.startswith(":") or line == "\n":  # keepalive comments and separators
                    line = r.fp.readline().decode()
                if line.startswith("data: "):
                    event = json.loads(line[6:])
            conn.close()
            self.assertIsNotNone(event, "no event within 10 s")
            self.assertEqual(event["topic"], "sensors/a/temp")
            self.assertEqual(json.loads(event["payload"]), {"t": 21.5})
            status, _, body = dash_get(k, "/tap")
            self.assertEqual(status, 400)
            self.assertIn("topic", json.loads(body)["message"])
            status, _, body = dash_get(k, "/tap?topic=a/%23/b")
            self.assertEqual(status, 400)
            self.assertEqual(dash_get(k, "/tap?topic=x", method="POST")[0], 405)
            # A stream still open while kuiperd stops is ended, not waited for.
            conn = http.client.HTTPConnection("127.0.0.1", dash_port(k), timeout=10)
            conn.request("GET", "/tap?topic=%23")
            self.assertEqual(conn.getresponse().status, 200)
            started = time.time()
            assert_clean_stop(self, k)
            self.assertLess(time.time() - started, 5)
            conn.close()

    def test_tap_slow_reader_drops_oldest_and_counts(self):
        """A reader that does not keep up loses the oldest messages, never blocks the broker, and
        is told how many it missed: received + dropped is exactly what was published."""
        total = 3000
        with Kuiperd() as k:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", dash_port(k)))
            sock.sendall(b"GET /tap?topic=flood HTTP/1.0\r\n\r\n")  # 1.0: no chunked framing
            time.sleep(0.3)  # subscribed before the flood starts
            lines = "\n".join('{"i":%d,"pad":"%s"}' % (i, "x" * 1000) for i in range(total)) + "\n"
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(k.mqtt_port), "-t", "flood", "-l"],
                           input=lines.encode(), check=True, timeout=60)
            # The broker kept serving while the reader stalled.
            status, _ = k.request("GET", "/ping")
            self.assertEqual(status, 200)
            received, dropped, last = 0, 0, -1
            buf = b""
            sock.settimeout(10)
            while received + dropped < total:
                chunk = sock.recv(65536)
                self.assertTrue(chunk, "the stream ended early")
                buf += chunk
                while b"\n\n" in buf:
                    event, buf = buf.split(b"\n\n", 1)
                    for line in event.split(b"\n"):
                        if b"data: " in line:
                            msg = json.loads(line[line.index(b"data: ") + 6:])
                            i = json.loads(msg["payload"])["i"]
                            self.assertGreater(i, last, "messages arrive in order")
                            last = i
                            received += 1
                            dropped += msg.get("dropped", 0)
            sock.close()
            self.assertEqual(received + dropped, total)
            self.assertGreater(dropped, 0, "a 4 KiB receive buffer cannot hold 3 MB")
            self.assertEqual(last, total - 1, "the newest message is never the one dropped")
            assert_clean_stop(self, k)

    def test_tap_without_bundled_broker(self):
        with Kuiperd(env={"KUIPER__BROKER__ENABLE": "false"}) as k:
            status, _, body = dash_get(k, "/tap?topic=x")
            self.assertEqual(status, 404)
            self.assertIn("broker", json.loads(body)["message"])

    def test_disabled(self):
        with Kuiperd(env={"KUIPER__DASHBOARD__ENABLE": "false"}) as k:
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", dash_port(k)), timeout=1).close()
            self.assertNotIn("Dashboard on", k.output())

    def test_port_in_use_stops_kuiperd(self):
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        k = Kuiperd(env={"KUIPER__DASHBOARD__PORT": str(port)})
        try:
            k.start(wait=False)
            self.assertEqual(k.proc.wait(15), 1)
            self.assertIn("dashboard port %d on 127.0.0.1 is already in use (dashboard.port)" % port, k.output())
        finally:
            blocker.close()
            k.cleanup()

    def test_authentication_covers_api_and_tap(self):
        with Kuiperd(env={"KUIPER__BASIC__AUTHENTICATION": "true"}) as k:
            self.assertEqual(dash_get(k, "/")[0], 200, "the UI itself is public: it shows the login form")
            self.assertEqual(dash_get(k, "/api/")[0], 401)
            self.assertEqual(dash_get(k, "/api/ping")[0], 200)
            self.assertEqual(dash_get(k, "/tap?topic=%23")[0], 401)

    def test_https_with_rest_tls(self):
        tmp = tempfile.mkdtemp(prefix="ek-dash-tls-")
        try:
            cert, key = os.path.join(tmp, "server.crt"), os.path.join(tmp, "server.key")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                            "-keyout", key, "-out", cert, "-days", "1"], capture_output=True, check=True)
            env = {"KUIPER__BASIC__RESTTLS__CERTFILE": cert, "KUIPER__BASIC__RESTTLS__KEYFILE": key}
            k = Kuiperd(env=env)
            k.start(wait=False)
            try:
                ctx = ssl.create_default_context(cafile=cert)
                ctx.check_hostname = False
                deadline, status = time.time() + 15, None
                while status is None and time.time() < deadline:
                    try:
                        conn = http.client.HTTPSConnection("127.0.0.1", dash_port(k), timeout=2, context=ctx)
                        conn.request("GET", "/api/ping")
                        status = conn.getresponse().status
                        conn.close()
                    except OSError:
                        time.sleep(0.1)
                self.assertEqual(status, 200, k.output())
                self.assertIn("dashboard listening on https://", k.output())
            finally:
                k.cleanup()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def chromium_missing():
    """None when Chromium, chromedriver and python3-selenium are there (installing them with
    scripts/install-deps.sh if they are not); otherwise why not."""
    if not browser_util.missing():
        return None
    script = os.path.join(SOURCE_DIR, "scripts", "install-deps.sh")
    r = subprocess.run([script, "test"], capture_output=True, text=True)
    importlib.invalidate_caches()
    why = browser_util.missing()
    if not why:
        return None
    if r.returncode == 0:
        return "%s missing, although scripts/install-deps.sh test has the Debian packages installed" % why
    return "%s missing, and scripts/install-deps.sh test could not install it: %s" % (
        why, (r.stderr or r.stdout).strip()[-300:])


class Browser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = chromium_missing()
        if why:
            raise unittest.SkipTest("browser tests skipped: " + why)
        cls.shots = os.environ.get("EK_SCREENSHOT_DIR")
        cls.tmp = tempfile.mkdtemp(prefix="ek-shots-")
        cls.failed = False

    @classmethod
    def tearDownClass(cls):
        """The temporary screenshots are kept only when a scenario failed (they show where)."""
        if not cls.failed:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_scenario(self, name, run, shots=None):
        """Runs dashboard_scenario.<name> in a fresh browser; fails naming every failed step."""
        shots = shots or self.shots or os.path.join(self.tmp, self.id().rsplit(".", 1)[-1])
        page = browser_util.Page(shots)
        try:
            failures = run(page)
        finally:
            page.close()
        if failures:
            type(self).failed = True
            self.fail("browser scenario %s: %d step(s) failed (screenshots in %s):\n%s" % (
                name, len(failures), shots, "\n".join(failures)))

    def test_pages(self):
        with Kuiperd(env={"KUIPER__BROKER__SYSINTERVAL": "1"}) as k:
            self.run_scenario("main", lambda page: dashboard_scenario.main(page, dash_url(k), k))
            assert_clean_stop(self, k)

    def test_pages_through_dashboard_only(self):
        """The same scenario against kuiperd --dashboard-only forwarding to a separate engine."""
        with Kuiperd(env={"KUIPER__BROKER__SYSINTERVAL": "1"}) as k:
            with Kuiperd(args=["--dashboard-only", "--rest-upstream", "http://127.0.0.1:%d" % k.rest_port,
                               "--tap-upstream", dash_url(k)]) as dash:
                # Its pictures never replace the README's: they go to the temporary directory.
                shots = os.path.join(self.tmp, "dashboard-only")
                self.run_scenario("main", lambda page: dashboard_scenario.main(page, dash_url(dash), k), shots)
                assert_clean_stop(self, dash)
            assert_clean_stop(self, k)

    def test_login(self):
        from test_rest_auth_tls import admin_pem_and_token
        tmp = tempfile.mkdtemp(prefix="ek-dash-auth-")
        try:
            pem, token = admin_pem_and_token(tmp)
            with Kuiperd(env={"KUIPER__BASIC__AUTHENTICATION": "true"}, etc_files={"mgmt/admin.pub": pem}) as k:
                self.run_scenario("auth", lambda page: dashboard_scenario.auth(page, dash_url(k), token))
                assert_clean_stop(self, k)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
