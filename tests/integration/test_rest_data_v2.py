"""The asynchronous data import (POST /async/data/import, GET /async/task/{id}, POST
/async/task/{id}/cancel) and the YAML configuration forms (GET /v2/data/export, POST /v2/data/import)
against a real kuiperd, in eKuiper's shapes (docs/en_US/api/restapi/data.md): the task id
"dataImport-<seconds>", the task status object, the YAML keys (streams {sql}, rules as objects,
"sources.<type>.<confKey>" conf keys), ?partial=1 and ?stop=1, and the error paths (bad JSON body, bad
content, an unknown task id, both or neither of content and file, bad YAML, a bad conf key)."""
import json
import re

import yaml

from harness import Kuiperd, main, wait_for
from rest_util import FreshKuiperd

STREAM = 'CREATE STREAM demo () WITH (DATASOURCE="users", FORMAT="JSON")'
RULE1 = {"id": "rule1", "sql": "SELECT * FROM demo", "actions": [{"log": {}}], "triggered": False}


class WithKuiperd(FreshKuiperd):
    def task_done(self, tid):
        status, body = self.r("GET", "/async/task/" + tid)
        self.assertEqual(status, 200)
        return body if body["status"] in ("finish", "error", "cancel") else None


class AsyncImport(WithKuiperd):
    def test_import_runs_in_the_background(self):
        self.r("POST", "/streams", {"sql": 'CREATE STREAM old () WITH (DATASOURCE="old")'})
        doc = {"streams": {"demo": STREAM}, "rules": {"rule1": json.dumps(RULE1)}}
        status, body = self.r("POST", "/async/data/import", {"content": json.dumps(doc)})
        self.assertEqual(status, 200)
        self.assertEqual(list(body), ["id"])
        self.assertRegex(body["id"], r"^dataImport-\d+(-\d+)?$")
        task = wait_for(lambda: self.task_done(body["id"]), what="the import task")
        self.assertEqual(task["status"], "finish")
        self.assertEqual(sorted(task), ["createdTimestamp", "id", "message", "status", "updatedTimestamp"])
        self.assertEqual(task["id"], body["id"])
        self.assertEqual(json.loads(task["message"])["rules"], {})
        # A full import (no partial=1) dropped the old stream.
        self.assertEqual(self.r("GET", "/streams"), (200, ["demo"]))
        self.assertEqual(self.r("GET", "/rules/rule1")[1]["sql"], "SELECT * FROM demo")

    def test_partial_import_keeps_and_reports_errors(self):
        self.r("POST", "/streams", {"sql": 'CREATE STREAM old () WITH (DATASOURCE="old")'})
        doc = {"rules": {"bad": json.dumps({"id": "bad", "sql": "SELECT * FROM nosuch", "actions": [{"log": {}}]})}}
        status, body = self.r("POST", "/async/data/import?partial=1", {"content": json.dumps(doc)})
        self.assertEqual(status, 200)
        task = wait_for(lambda: self.task_done(body["id"]), what="the import task")
        self.assertEqual(task["status"], "error")
        self.assertIn("nosuch", task["message"])
        self.assertIn("old", self.r("GET", "/streams")[1])
        self.assertIn("nosuch", self.r("GET", "/data/import/status")[1]["rules"]["bad"])

    def test_two_tasks_get_two_ids_and_cancel(self):
        ids = set()
        for _ in range(2):
            status, body = self.r("POST", "/async/data/import?partial=1", {"content": "{}"})
            self.assertEqual(status, 200)
            ids.add(body["id"])
        self.assertEqual(len(ids), 2)
        for tid in ids:
            wait_for(lambda: self.task_done(tid), what="the import task")
            self.assertEqual(self.r("POST", "/async/task/%s/cancel" % tid), (200, "cancel success"))
            self.assertEqual(self.r("GET", "/async/task/" + tid)[1]["status"], "cancel")

    def test_errors(self):
        self.assertEqual(self.r("GET", "/async/task/nosuch"),
                         (400, {"error": 1000, "message": "async task: nosuch not found"}))
        self.assertEqual(self.r("POST", "/async/task/nosuch/cancel")[0], 400)
        status, body = self.r("POST", "/async/data/import", "{bad")
        self.assertEqual((status, body["error"]), (400, 1000))
        self.assertIn("not valid JSON", body["message"])
        status, body = self.r("POST", "/async/data/import", {"content": "[1"})
        self.assertEqual(status, 400)
        self.assertIn("not valid JSON", body["message"])
        status, body = self.r("POST", "/async/data/import", {})
        self.assertEqual(status, 400)
        self.assertIn('"content"', body["message"])

    def test_stop(self):
        status, body = self.r("POST", "/async/data/import?partial=1&stop=1",
                              {"content": json.dumps({"streams": {"demo": STREAM}})})
        self.assertEqual(status, 200)
        self.assertEqual(self.k.proc.wait(10), 0)
        self.k.start()
        self.assertEqual(self.r("GET", "/streams"), (200, ["demo"]))
        self.assertEqual(self.r("GET", "/async/task/" + body["id"])[1]["status"], "finish")


class YamlForms(WithKuiperd):
    def test_export_shape(self):
        self.assertEqual(self.r("POST", "/streams", {"sql": STREAM})[0], 201)
        self.assertEqual(self.r("POST", "/rules", RULE1)[0], 201)
        self.assertEqual(self.r("PUT", "/metadata/sources/mqtt/confKeys/mqttconf1", {"qos": 1})[0], 200)
        self.assertEqual(self.r("PUT", "/metadata/connections/mqtt/confKeys/mqttcon",
                                {"server": "tcp://127.0.0.1:1883"})[0], 200)
        status, text = self.r("GET", "/v2/data/export", raw=True)
        self.assertEqual(status, 200)
        m = yaml.safe_load(text)
        self.assertEqual(list(m), ["sourceConfig", "connectionConfig", "streams", "rules"])
        self.assertEqual(m["sourceConfig"], {"sources.mqtt.mqttconf1": {"qos": 1}})
        self.assertEqual(m["connectionConfig"], {"connections.mqtt.mqttcon": {"server": "tcp://127.0.0.1:1883"}})
        self.assertEqual(m["streams"], {"demo": {"sql": STREAM}})
        self.assertEqual(m["rules"]["rule1"]["sql"], "SELECT * FROM demo")
        self.assertEqual(m["rules"]["rule1"]["actions"], [{"log": {}}])

    def test_round_trip_through_a_second_kuiperd(self):
        self.r("POST", "/streams", {"sql": STREAM})
        self.r("POST", "/tables", {"sql": 'CREATE TABLE t1 (a BIGINT) WITH (DATASOURCE="t1.json", TYPE="file")'})
        self.r("POST", "/rules", RULE1)
        self.r("PUT", "/metadata/sinks/mqtt/confKeys/s1", {"topic": "true"})
        text = self.r("GET", "/v2/data/export", raw=True)[1]
        with Kuiperd() as k2:
            k2.request("POST", "/streams", {"sql": 'CREATE STREAM keep () WITH (DATASOURCE="k")'})
            self.assertEqual(k2.request("POST", "/v2/data/import", {"content": text}), (200, "success"))
            self.assertEqual(sorted(k2.request("GET", "/streams")[1]), ["demo", "keep"])
            self.assertEqual(k2.request("GET", "/tables")[1], ["t1"])
            self.assertEqual(k2.request("GET", "/rules/rule1")[1]["actions"], [{"log": {}}])
            # "true" stays a string through YAML.
            self.assertEqual(k2.request("GET", "/metadata/sinks/yaml/mqtt")[1]["s1"], {"topic": "true"})

    def test_import_documented_example(self):
        doc = """
sourceConfig:
    sources.mqtt.mqttconf1:
        connectionSelector: mqttcon
        qos: 1
        sourceType: stream
connectionConfig:
    connections.mqtt.mqttcon:
        insecureSkipVerify: false
        protocolVersion: 3.1.1
        server: tcp://127.0.0.1:1883
streams:
    mqttstream1:
        sql: ' CREATE STREAM mqttstream1 ()       WITH (DATASOURCE="topic1", FORMAT="json", CONF_KEY="mqttconf1", TYPE="mqtt", SHARED="false", );'
rules:
    rule1:
        triggered: false
        id: rule1
        sql: select * from mqttstream1
        actions:
            - log: {}
"""
        self.assertEqual(self.r("POST", "/v2/data/import", {"content": doc}), (200, "success"))
        self.assertEqual(self.r("GET", "/streams"), (200, ["mqttstream1"]))
        self.assertEqual(self.r("GET", "/rules/rule1/status")[1]["status"], "stopped")
        self.assertEqual(self.r("GET", "/metadata/sources/yaml/mqtt")[1]["mqttconf1"]["qos"], 1)
        self.assertEqual(self.r("GET", "/metadata/connections/yaml/mqtt")[1]["mqttcon"]["protocolVersion"], "3.1.1")

    def test_import_errors(self):
        self.assertEqual(self.r("POST", "/v2/data/import", {"content": "a: 1", "file": "file:///x"}),
                         (400, {"error": 1000, "message": "Invalid body: Cannot specify both content and file"}))
        self.assertEqual(self.r("POST", "/v2/data/import", {}),
                         (400, {"error": 1000, "message": "Invalid body: must specify content or file"}))
        status, body = self.r("POST", "/v2/data/import", "{bad")
        self.assertEqual(status, 400)
        self.assertIn("not valid JSON", body["message"])
        status, body = self.r("POST", "/v2/data/import", {"content": "streams: [unclosed"})
        self.assertEqual(status, 400)
        self.assertTrue(body["message"].startswith("import failed: "), body)
        status, body = self.r("POST", "/v2/data/import", {"file": "file:///etc/passwd"})
        self.assertEqual(status, 400)
        self.assertIn("Fail to read file", body["message"])
        bad = "sourceConfig:\n  mqtt.x: {qos: 1}\nstreams:\n  s: {sql: 'CREATE STREAM s () WITH (DATASOURCE=\"s\")'}\n" \
              "rules:\n  r1: {id: r1, sql: SELECT * FROM nosuch, actions: [{log: {}}]}\n"
        status, body = self.r("POST", "/v2/data/import", {"content": bad})
        self.assertEqual(status, 400)
        self.assertIn("mqtt.x isn't valid conf key", body["message"])
        self.assertIn("rules r1:", body["message"])
        self.assertEqual(self.r("GET", "/streams"), (200, ["s"]))  # the good items are imported

    def test_import_stop(self):
        status, _ = self.r("POST", "/v2/data/import?stop=1",
                           {"content": "streams:\n  demo:\n    sql: '%s'\n" % STREAM.replace("'", "''")})
        self.assertEqual(status, 200)
        self.assertEqual(self.k.proc.wait(10), 0)
        self.k.start()
        self.assertEqual(self.r("GET", "/streams"), (200, ["demo"]))


if __name__ == "__main__":
    main()
