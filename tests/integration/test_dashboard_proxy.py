"""kuiperd --dashboard-only (issue 9's three-service deployment): a kuiperd that serves only the
dashboard and forwards its REST calls (/api/<path>) to an engine's REST API and its live message
streams (/tap, server-sent events) to the dashboard of a kuiperd that runs the broker, with libcurl.
Tested against a real engine kuiperd and a real dashboard-only kuiperd: every answer through the
forwarder equals the direct one (status, body, content type; query strings, bodies, errors and
authentication pass through), /tap events stream through as they are published, an engine that is
down answers 502 in eKuiper's error body, a missing --rest-upstream stops kuiperd with a clear
message, and stopping the forwarder ends open streams at once."""
import http.client
import json
import subprocess
import time
import unittest

from harness import Kuiperd, main, wait_for

STREAM = 'CREATE STREAM demo (a BIGINT) WITH (DATASOURCE="demo", FORMAT="JSON")'


def dport(k):
    return int(k.env["KUIPER__DASHBOARD__PORT"])


def call(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    data = body if body is None or isinstance(body, str) else json.dumps(body)
    conn.request(method, path, body=data, headers=headers or {})
    r = conn.getresponse()
    out = (r.status, r.getheader("Content-Type") or "", r.read().decode())
    conn.close()
    return out


def forwarder(engine, extra=()):
    return Kuiperd(args=["--dashboard-only", "--rest-upstream", "http://127.0.0.1:%d/" % engine.rest_port,
                         "--tap-upstream", "http://127.0.0.1:%d" % dport(engine)] + list(extra))


class Forwarding(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.engine = Kuiperd().start()
        cls.dash = forwarder(cls.engine).start()

    @classmethod
    def tearDownClass(cls):
        cls.dash.cleanup()
        cls.engine.cleanup()

    def same(self, method, path, body=None):
        """The answer through the forwarder, asserted equal to the engine's direct one."""
        via = call(dport(self.dash), method, "/api" + path, body)
        direct = call(self.engine.rest_port, method, path, body)
        self.assertEqual(via, direct, "%s %s" % (method, path))
        return via

    def test_the_dashboards_rest_calls(self):
        self.assertEqual(call(dport(self.dash), "POST", "/api/streams", {"sql": STREAM})[:1], (201,))
        self.assertEqual(self.engine.request("GET", "/streams")[1], ["demo"])
        rule = {"id": "r1", "sql": "SELECT a FROM demo WHERE a > 1", "actions": [{"log": {}}]}
        status, _, text = call(dport(self.dash), "POST", "/api/rules", rule)
        self.assertEqual((status, text), (201, "Rule r1 was created successfully."))
        self.same("GET", "/ping")
        self.same("GET", "/streams")
        self.same("GET", "/streams/demo")
        self.same("GET", "/rules")
        self.same("GET", "/rules/r1/topo")
        status, ctype, plan = self.same("GET", "/rules/r1/explain")
        self.assertTrue(ctype.startswith("text/plain"))
        self.assertIn("ProjectPlan_0", plan)
        self.same("GET", "/metadata/sources?kind=lookup")
        self.same("POST", "/rules/validate", rule)
        self.same("PUT", "/rules/r1", dict(rule, sql="SELECT a FROM demo"))
        self.assertEqual(call(dport(self.dash), "POST", "/api/rules/r1/stop")[0], 200)
        self.assertEqual(self.engine.request("GET", "/rules/r1/status")[1]["status"], "stopped")
        self.assertEqual(call(dport(self.dash), "DELETE", "/api/rules/r1")[0], 200)
        self.assertEqual(self.engine.request("GET", "/rules")[1], [])

    def test_errors_pass_through(self):
        status, ctype, body = self.same("GET", "/streams/nosuch")
        self.assertEqual((status, json.loads(body)), (404, {"error": 1002, "message": "Stream nosuch is not found"}))
        status, _, body = self.same("POST", "/streams", "{bad")
        self.assertEqual(status, 400)
        status, _, body = self.same("POST", "/streams", {"sql": "CREATE STREAM x (a BIGINT"})
        self.assertEqual((status, json.loads(body)["error"]), (400, 2001))
        self.same("GET", "/no/such/path")
        self.same("PATCH", "/streams")
        status, _, body = self.same("POST", "/streams", '{"sql": "' + "x" * (16 * 1024 * 1024) + '"}')
        self.assertEqual(status, 413)

    def test_files_are_served_by_the_forwarder(self):
        status, ctype, body = call(dport(self.dash), "GET", "/")
        self.assertEqual(status, 200)
        self.assertTrue(ctype.startswith("text/html"))
        self.assertIn("<script", body)

    def test_tap_streams_through(self):
        conn = http.client.HTTPConnection("127.0.0.1", dport(self.dash), timeout=10)
        conn.request("GET", "/tap?topic=sensors/%2B/temp")
        r = conn.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "text/event-stream")
        event, deadline = None, time.time() + 10
        while event is None and time.time() < deadline:
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.engine.mqtt_port), "-t",
                            "sensors/a/temp", "-m", '{"t":21.5}'], check=True)
            line = r.fp.readline().decode()
            while line.startswith(":") or line == "\n":
                line = r.fp.readline().decode()
            if line.startswith("data: "):
                event = json.loads(line[6:])
        conn.close()
        self.assertIsNotNone(event, "no event within 10 s")
        self.assertEqual((event["topic"], json.loads(event["payload"])), ("sensors/a/temp", {"t": 21.5}))
        # The upstream's own errors come back as they are.
        status, _, body = call(dport(self.dash), "GET", "/tap")
        self.assertEqual(status, 400)
        self.assertIn("topic", json.loads(body)["message"])


class BrokerCalls(unittest.TestCase):
    def test_broker_management_calls_go_to_the_tap_upstream(self):
        """/api/broker/... goes to the broker's kuiperd (the tap upstream's /api), the rest to the
        engine: a recording HTTP server stands in for the broker's dashboard."""
        import http.server
        import threading
        seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append((self.command, self.path, self.headers.get("Authorization")))
                body = json.dumps([{"clientid": "c1"}]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        try:
            with Kuiperd() as engine:
                with Kuiperd(args=["--dashboard-only", "--rest-upstream", "http://127.0.0.1:%d" % engine.rest_port,
                                   "--tap-upstream", "http://127.0.0.1:%d" % srv.server_address[1]]) as dash:
                    status, ctype, body = call(dport(dash), "GET", "/api/broker/clients?limit=5",
                                               headers={"Authorization": "tok"})
                    self.assertEqual((status, json.loads(body)), (200, [{"clientid": "c1"}]))
                    self.assertEqual(seen, [("GET", "/api/broker/clients?limit=5", "tok")])
                    self.assertEqual(call(dport(dash), "GET", "/api/streams")[:1], (200,))
                    self.assertEqual(len(seen), 1)  # not a broker call: went to the engine
        finally:
            srv.shutdown()
            srv.server_close()


class Failures(unittest.TestCase):
    def test_engine_down_answers_502(self):
        engine = Kuiperd().start()
        try:
            with forwarder(engine) as dash:
                engine.stop()
                status, _, body = call(dport(dash), "GET", "/api/streams")
                self.assertEqual(status, 502)
                err = json.loads(body)
                self.assertEqual(err["error"], 1000)
                self.assertIn("http://127.0.0.1:%d did not answer" % engine.rest_port, err["message"])
                engine.start()
                self.assertEqual(call(dport(dash), "GET", "/api/streams")[0], 200)
        finally:
            engine.cleanup()

    def test_without_tap_upstream(self):
        with Kuiperd() as engine:
            with Kuiperd(args=["--dashboard-only", "--rest-upstream", "http://127.0.0.1:%d" % engine.rest_port]) as dash:
                status, _, body = call(dport(dash), "GET", "/tap?topic=x")
                self.assertEqual(status, 404)
                self.assertIn("dashboard.tapUpstream", json.loads(body)["message"])

    def test_missing_or_bad_upstream_stops_kuiperd(self):
        for args, words in ((["--dashboard-only"], "--dashboard-only needs --rest-upstream URL"),
                            (["--dashboard-only", "--rest-upstream", "ftp://x"], "is not an http:// or https:// URL"),
                            (["--dashboard-only", "--broker-only"], "exclude each other")):
            k = Kuiperd(args=args)
            try:
                k.start(wait=False)
                self.assertNotEqual(k.proc.wait(10), 0)
                self.assertIn(words, k.output())
            finally:
                k.cleanup()

    def test_authentication_is_the_engines(self):
        from test_rest_auth_tls import make_jwt
        import os
        import shutil
        import tempfile
        tmp = tempfile.mkdtemp(prefix="ek-proxy-auth-")
        try:
            key, pub = os.path.join(tmp, "admin.key"), os.path.join(tmp, "admin.pub")
            subprocess.run(["openssl", "genrsa", "-out", key, "2048"], capture_output=True, check=True)
            subprocess.run(["openssl", "rsa", "-in", key, "-pubout", "-out", pub], capture_output=True, check=True)
            with open(pub) as f:
                pem = f.read()
            token = make_jwt(key, {"iss": "admin.pub", "aud": "eKuiper", "exp": int(time.time()) + 600})
            with Kuiperd(env={"KUIPER__BASIC__AUTHENTICATION": "true"}, etc_files={"mgmt/admin.pub": pem}) as engine:
                with forwarder(engine) as dash:
                    self.assertEqual(call(dport(dash), "GET", "/api/streams")[0], 401)
                    self.assertEqual(call(dport(dash), "GET", "/api/streams", headers={"Authorization": token})[:1],
                                     (200,))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_stop_ends_open_streams(self):
        with Kuiperd() as engine:
            dash = forwarder(engine).start()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", dport(dash), timeout=10)
                conn.request("GET", "/tap?topic=%23")
                self.assertEqual(conn.getresponse().status, 200)
                started = time.time()
                self.assertEqual(dash.stop(), 0, dash.output()[-3000:])
                self.assertLess(time.time() - started, 5)
                conn.close()
            finally:
                dash.cleanup()


if __name__ == "__main__":
    main()
