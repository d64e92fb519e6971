"""Prometheus metrics and data/ provisioning against a real kuiperd.

Prometheus: with basic.prometheus true, GET /metrics on basic.prometheusPort answers the text format
with eKuiper's names and labels (kuiper_source_records_in_total{rule, type, op, op_instance}), counting
what a rule received over MQTT; with it false nothing listens.

Provisioning: data/init.json (ruleset format) and data/rules/<name>.json (one rule each) are imported at
start, once per change of the file; a bad file is logged by name and line and does not stop the others
or the server."""
import json
import os
import re
import socket
import unittest
import urllib.request

import paho.mqtt.publish as publish

from harness import Kuiperd, free_port, main, wait_for

STREAM = 'CREATE STREAM demo (size BIGINT) WITH (DATASOURCE="t/demo", FORMAT="json")'


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


class Prometheus(unittest.TestCase):
    def test_metrics_names_and_labels(self):
        port = free_port()
        with Kuiperd(env={"KUIPER__BASIC__PROMETHEUS": "true", "KUIPER__BASIC__PROMETHEUSPORT": str(port)}) as k:
            k.request("POST", "/streams", {"sql": STREAM})
            k.request("POST", "/rules", {"id": "r1", "sql": "SELECT size FROM demo", "actions": [{"log": {}}]})
            line = 'kuiper_source_records_in_total{rule="r1",type="source",op="demo",op_instance="0"} '

            def seen():
                publish.single("t/demo", json.dumps({"size": 3}), hostname="127.0.0.1", port=k.mqtt_port)
                text = scrape(port)[2]
                m = re.search(re.escape(line) + r"(\d+)", text)
                return m and int(m.group(1)) >= 1 and text

            text = wait_for(seen, timeout=15, interval=0.3, what="records counted in /metrics")
            status, ctype, _ = scrape(port)
            self.assertEqual(status, 200)
            self.assertTrue(ctype.startswith("text/plain; version=0.0.4"), ctype)
            self.assertIn("# TYPE kuiper_source_records_in_total counter", text)
            self.assertIn("# TYPE kuiper_sink_process_latency_us gauge", text)
            self.assertRegex(text, r'kuiper_op_records_in_total\{rule="r1",type="op",op="\d+_project",op_instance="0"\}')
            self.assertRegex(text, r'kuiper_sink_records_in_total\{rule="r1",type="sink",op="log_0",op_instance="0"\}')
            self.assertIn('kuiper_rule_status{rule="r1"} 1', text)
            k.request("POST", "/rules/r1/stop")
            self.assertIn('kuiper_rule_status{rule="r1"} 0', scrape(port)[2])
            with self.assertRaises(urllib.error.HTTPError) as e:
                urllib.request.urlopen("http://127.0.0.1:%d/other" % port, timeout=5)
            self.assertEqual(e.exception.code, 404)

    def test_disabled_by_default(self):
        port = free_port()
        with Kuiperd(env={"KUIPER__BASIC__PROMETHEUSPORT": str(port)}):
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()


class Provisioning(unittest.TestCase):
    def write(self, k, rel, text):
        path = os.path.join(k.data, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def test_init_json_and_rule_files(self):
        k = Kuiperd()
        try:
            init = {"streams": {"demo": STREAM}, "tables": {},
                    "rules": {"r_init": json.dumps({"sql": "SELECT * FROM demo", "actions": [{"log": {}}]})}}
            self.write(k, "init.json", json.dumps(init, indent=2))
            self.write(k, "rules/r_file.json", json.dumps({"id": "r_file", "sql": "SELECT size FROM demo",
                                                           "actions": [{"log": {}}]}))
            self.write(k, "rules/noid.json", json.dumps({"sql": "SELECT * FROM demo", "actions": [{"log": {}}]}))
            self.write(k, "rules/broken.json", '{\n  "id": "broken",\n  "sql": "SELECT * FROM demo"\n  "actions": []\n}')
            self.write(k, "rules/badsql.json",
                       '{\n  "id": "badsql",\n  "sql": "SELECT * FROM nowhere",\n  "actions": [{"log": {}}]\n}')
            k.start()
            self.assertEqual(k.request("GET", "/streams")[1], ["demo"])
            ids = [r["id"] for r in k.request("GET", "/rules")[1]]
            self.assertEqual(ids, ["noid", "r_file", "r_init"])
            self.assertEqual(k.request("GET", "/rules/r_init/status")[1]["status"], "running")
            out = k.output()
            self.assertRegex(out, r"rules/broken\.json: invalid JSON at line 4")
            self.assertRegex(out, r"rules/badsql\.json:2: rule badsql: .*nowhere")
            # Unchanged files are not imported again: a rule dropped over REST stays dropped.
            k.request("DELETE", "/rules/r_file")
            k.restart()
            ids = [r["id"] for r in k.request("GET", "/rules")[1]]
            self.assertEqual(ids, ["noid", "r_init"])
            # A changed file is imported again.
            self.write(k, "rules/r_file.json", json.dumps({"id": "r_file", "sql": "SELECT * FROM demo",
                                                           "actions": [{"log": {}}]}))
            k.restart()
            self.assertEqual(k.request("GET", "/rules/r_file")[1]["sql"], "SELECT * FROM demo")
        finally:
            k.cleanup()


if __name__ == "__main__":
    main()
