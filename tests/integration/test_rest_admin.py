"""/config/uploads, /batch/req, PATCH /configs and /stop against a real kuiperd: uploads land in
data/uploads and nowhere else (path traversal and absolute names answer 400), a batch answers
[{code, response}] per call as direct calls would, settings change at run time with clear errors for
unknown keys and values, and /stop ends kuiperd cleanly."""
import json
import os
import unittest

from connectors_util import Listener
from harness import Kuiperd, main, wait_for


class Uploads(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = Kuiperd().start()
        cls.uploads = os.path.realpath(os.path.join(cls.k.data, "uploads"))

    @classmethod
    def tearDownClass(cls):
        cls.k.cleanup()

    def r(self, *a, **kw):
        return self.k.request(*a, **kw)

    def test_upload_list_delete(self):
        path = os.path.join(self.uploads, "a.json")
        self.assertEqual(self.r("POST", "/config/uploads", {"name": "a.json", "content": '{"x": 1}'}), (201, path))
        with open(path) as f:
            self.assertEqual(f.read(), '{"x": 1}')
        self.assertIn(path, self.r("GET", "/config/uploads")[1])
        # From another uploaded file by file URI.
        self.assertEqual(self.r("POST", "/config/uploads", {"name": "b.json", "file": "file://" + path})[0], 201)
        with open(os.path.join(self.uploads, "b.json")) as f:
            self.assertEqual(f.read(), '{"x": 1}')
        self.assertEqual(self.r("DELETE", "/config/uploads/a.json"), (200, ""))
        self.assertNotIn(path, self.r("GET", "/config/uploads")[1])
        status, body = self.r("DELETE", "/config/uploads/a.json")
        self.assertEqual((status, body), (404, {"error": 1002, "message": "file a.json is not found in data/uploads"}))
        self.r("DELETE", "/config/uploads/b.json")

    def test_traversal_and_bad_bodies(self):
        for name in ("../evil.json", "/etc/evil.json", "..", ".", "a/b.json", ""):
            status, body = self.r("POST", "/config/uploads", {"name": name, "content": "x"})
            self.assertEqual(status, 400, name)
            self.assertEqual(body["error"], 1000)
        self.assertFalse(os.path.exists(os.path.join(self.k.data, "evil.json")))
        status, body = self.r("POST", "/config/uploads", {"name": "../evil.json", "content": "x"})
        self.assertIn('invalid file name "../evil.json"', body["message"])
        self.assertEqual(self.r("DELETE", "/config/uploads/..")[0], 400)
        status, body = self.r("POST", "/config/uploads", {"name": "c.json"})
        self.assertEqual(status, 400)
        self.assertIn('"content"', body["message"])
        status, body = self.r("POST", "/config/uploads", "{")
        self.assertEqual(status, 400)
        self.assertIn("not valid JSON", body["message"])
        status, body = self.r("POST", "/config/uploads", {"name": "c.json", "file": "file:///etc/hostname"})
        self.assertEqual(status, 400)
        self.assertIn("outside data/uploads", body["message"])


class External(unittest.TestCase):
    def test_allow_external_file_access(self):
        with Kuiperd(env={"KUIPER__BASIC__ALLOWEXTERNALFILEACCESS": "true"}) as k:
            src = os.path.join(k.dir, "ext.json")
            with open(src, "w") as f:
                f.write("{}")
            self.assertEqual(k.request("POST", "/config/uploads", {"name": "e.json", "file": "file://" + src})[0], 201)
            self.assertEqual(k.request("POST", "/ruleset/import", {"file": "file://" + src}),
                             (200, "imported 0 streams, 0 tables and 0 rules"))


class Admin(unittest.TestCase):
    def test_batch(self):
        with Kuiperd() as k:
            calls = [{"method": "POST", "path": "/streams",
                      "body": json.dumps({"sql": 'CREATE STREAM b () WITH (DATASOURCE="b")'})},
                     {"method": "GET", "path": "/streams"},
                     {"method": "GET", "path": "/nope"},
                     {"method": "DELETE", "path": "/streams"},
                     {"path": "/streams"}]
            status, out = k.request("POST", "/batch/req", calls)
            self.assertEqual(status, 200)
            self.assertEqual(out[0], {"code": 201, "response": "Stream b is created."})
            self.assertEqual(out[1], {"code": 200, "response": '["b"]'})
            self.assertEqual(out[2]["code"], 404)
            self.assertEqual(json.loads(out[2]["response"])["error"], 1002)
            self.assertEqual(out[3]["code"], 405)
            self.assertEqual(out[4]["code"], 400)
            self.assertEqual(k.request("POST", "/batch/req", "{")[0], 400)
            status, body = k.request("POST", "/batch/req", {"method": "GET"})
            self.assertEqual(status, 400)
            self.assertIn("array", body["message"])

    def test_configs(self):
        with Kuiperd() as k:
            self.assertEqual(k.request("PATCH", "/configs", {"debug": True, "timezone": "UTC"}), (204, ""))
            self.assertEqual(k.request("PATCH", "/configs", {"logLevel": "warn", "debug": False}), (204, ""))
            for bad, words in (({"debug": "yes"}, "debug must be true or false"),
                               ({"logLevel": "loud"}, 'unknown level "loud"'),
                               ({"timezone": "Mars/Base"}, 'unknown time zone "Mars/Base"')):
                status, body = k.request("PATCH", "/configs", bad)
                self.assertEqual(status, 400, bad)
                self.assertIn(words, body["message"])
            self.assertEqual(k.request("PATCH", "/configs", "[]")[0], 400)
            self.assertEqual(k.request("PATCH", "/configs", "{bad")[0], 400)

    def test_configs_survive_restart_and_set_the_zone_of_time_functions(self):
        """PATCH /configs is kept in the store: after a restart GET /configs shows it, and
        format_time prints the wall clock of the new zone (Asia/Kolkata, UTC+05:30)."""
        with Kuiperd() as k:
            status, conf = k.request("GET", "/configs")
            self.assertEqual(status, 200)
            self.assertEqual(set(conf), {"debug", "consoleLog", "fileLog", "logLevel", "timezone"})
            self.assertEqual(k.request("PATCH", "/configs", {"timezone": "Asia/Kolkata", "debug": True}), (204, ""))
            k.restart()
            status, conf = k.request("GET", "/configs")
            self.assertEqual((conf["timezone"], conf["debug"]), ("Asia/Kolkata", True))
            listener = Listener(k.mqtt_port, "tz/out")
            try:
                k.request("POST", "/streams", {"sql": 'CREATE STREAM tz () WITH (DATASOURCE="tz/in", FORMAT="JSON")'})
                rule = {"id": "tz", "sql": 'SELECT format_time(ts, "yyyy-MM-dd HH:mm Z") AS t FROM tz',
                        "actions": [{"mqtt": {"server": "tcp://127.0.0.1:%d" % k.mqtt_port, "topic": "tz/out"}}]}
                self.assertEqual(k.request("POST", "/rules", rule)[0], 201)
                wait_for(lambda: k.request("GET", "/rules/tz/status")[1].get("status") == "running")
                # 2024-01-01T00:00:00Z is 05:30 in Kolkata.
                wait_for(lambda: listener.publish("tz/in", json.dumps({"ts": 1704067200000})) or
                         listener.messages("tz/out"), what="the rule's output")
                out = json.loads(listener.messages("tz/out")[0])
                self.assertEqual(out, [{"t": "2024-01-01 05:30 +0530"}])
            finally:
                listener.close()

    def test_stop(self):
        k = Kuiperd().start()
        try:
            self.assertEqual(k.request("POST", "/stop"), (200, "stop kuiperd"))
            self.assertEqual(k.proc.wait(10), 0)
        finally:
            k.cleanup()


if __name__ == "__main__":
    main()
