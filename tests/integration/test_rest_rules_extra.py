"""eKuiper's later rule endpoints against a real kuiperd: GET /rules/{id}/schema (output fields and
positions of a running rule), GET /v2/rules/{id}/status (the status as JSON with keys in name
order), PUT /rules/{id}/reset_state (eKuiper's checks and texts; no kuiperd source rewinds),
GET /rules/{id}/scantables (the rows of the scan tables a rule joins),
GET /rules/usage/cpu (off by default, per-rule CPU ms with basic.resourceProfileConfig.enable), and
PATCH /configs taking metricsDumpConfig and ignoring unknown fields as eKuiper does."""
import json
import unittest

from harness import Kuiperd, main, wait_for
from rules_util import Listener, create_rule, create_streams, mqtt_sink

STREAM = 'CREATE STREAM demo (color STRING, size BIGINT) WITH (DATASOURCE="t/demo", FORMAT="json")'


def rule(k, rid, sql):
    return {"id": rid, "sql": sql, "actions": [mqtt_sink(k, "out/" + rid)]}


class RuleSchema(unittest.TestCase):
    def test_schema_of_running_rule_and_errors(self):
        with Kuiperd() as k:
            create_streams(self, k, STREAM)
            create_rule(self, k, rule(k, "r1", "SELECT color, size * 2 AS s, upper(color), size AS hidden INVISIBLE, "
                                               "hidden + 1 AS h1 FROM demo"))
            self.assertEqual(k.request("GET", "/rules/r1/schema"),
                             (200, {"color": {"hasIndex": True, "index": 0}, "s": {"hasIndex": True, "index": 1},
                                    "upper": {"hasIndex": True, "index": 2}, "h1": {"hasIndex": True, "index": 3}}))
            create_rule(self, k, rule(k, "star", "SELECT * FROM demo"))
            self.assertEqual(k.request("GET", "/rules/star/schema"), (200, {}))
            self.assertEqual(k.request("POST", "/rules/r1/stop")[0], 200)
            self.assertEqual(k.request("GET", "/rules/r1/schema"),
                             (400, {"error": 1000, "message": "get rule schema error: Fail to get rule r1's topo, "
                                                              "make sure the rule has been started before"}))
            self.assertEqual(k.request("GET", "/rules/nope/schema"),
                             (404, {"error": 1002, "message": "get rule schema error: Rule nope is not found"}))


class StatusV2(unittest.TestCase):
    def test_v2_status_is_sorted_json_with_metrics(self):
        with Kuiperd() as k:
            lis = Listener(k.mqtt_port)
            try:
                create_streams(self, k, STREAM)
                create_rule(self, k, rule(k, "r1", "SELECT color FROM demo"))
                lis.publish("t/demo", {"color": "red", "size": 3})
                wait_for(lambda: lis.messages("out/r1"), what="rule output")
            finally:
                lis.close()
            status, text = k.request("GET", "/v2/rules/r1/status", raw=True)
            self.assertEqual(status, 200)
            pairs = json.loads(text, object_pairs_hook=lambda p: p)
            keys = [key for key, _ in pairs]
            self.assertEqual(keys, sorted(keys))
            v2 = dict(pairs)
            self.assertEqual(v2["status"], "running")
            self.assertEqual(v2["source_demo_0_records_in_total"], 1)
            v1 = k.request("GET", "/rules/r1/status")[1]
            self.assertEqual(set(v1), set(v2))
            self.assertEqual(k.request("GET", "/v2/rules/nope/status"),
                             (404, {"error": 1002, "message": "get rule status error: Rule nope is not found"}))


class ResetState(unittest.TestCase):
    def test_reset_state_checks_and_texts(self):
        with Kuiperd() as k:
            create_streams(self, k, STREAM)
            create_rule(self, k, rule(k, "r1", "SELECT color FROM demo"))
            offset = {"type": 1, "params": {"streamName": "demo", "input": {"offset": 0}}}
            self.assertEqual(k.request("PUT", "/rules/r1/reset_state", {"type": 0}),
                             (400, {"error": 1000, "message": "unknown stateType:0"}))
            self.assertEqual(k.request("PUT", "/rules/r1/reset_state", "{bad")[0], 400)
            self.assertEqual(k.request("PUT", "/rules/nope/reset_state", offset),
                             (400, {"error": 1000, "message": "Rule nope is not found in registry"}))
            self.assertEqual(k.request("PUT", "/rules/r1/reset_state", offset),
                             (400, {"error": 1000, "message": "stream demo not found in topo"}))
            self.assertEqual(k.request("POST", "/rules/r1/stop")[0], 200)
            self.assertEqual(k.request("PUT", "/rules/r1/reset_state", offset),
                             (400, {"error": 1000, "message": "rule r1 should be running when modify state"}))
            self.assertEqual(k.request("GET", "/rules/r1/reset_state")[0], 405)


class ScanTables(unittest.TestCase):
    def test_rows_of_the_scan_tables_a_rule_joins(self):
        with Kuiperd() as k:
            create_streams(self, k, 'CREATE STREAM ev (id BIGINT) WITH (DATASOURCE="t/ev")')
            status, body = k.request("POST", "/tables", {
                "sql": 'CREATE TABLE tb (id BIGINT, name STRING) WITH (DATASOURCE="t/tb", RETAIN_SIZE="2")'})
            self.assertEqual(status, 201, body)
            create_rule(self, k, rule(k, "scan", "SELECT ev.id, tb.name FROM ev INNER JOIN tb ON ev.id = tb.id"))
            create_rule(self, k, rule(k, "plain", "SELECT id FROM ev"))
            self.assertEqual(k.request("GET", "/rules/scan/scantables"),
                             (400, {"error": 1000,
                                    "message": "scan table error: unable to find tuples for the given scan table"}))
            lis = Listener(k.mqtt_port)
            try:
                for i, name in ((1, "a"), (2, "b"), (3, "c")):
                    lis.publish("t/tb", {"id": i, "name": name})
            finally:
                lis.close()
            wait_for(lambda: k.request("GET", "/rules/scan/scantables")[0] == 200 and
                     len(k.request("GET", "/rules/scan/scantables")[1]) == 2 and
                     k.request("GET", "/rules/scan/scantables")[1][-1]["content"]["id"] == 3, what="table rows")
            self.assertEqual(k.request("GET", "/rules/scan/scantables"),
                             (200, [{"emitter": "tb", "content": {"id": 2, "name": "b"}},
                                    {"emitter": "tb", "content": {"id": 3, "name": "c"}}]))
            self.assertEqual(k.request("GET", "/rules/plain/scantables"),
                             (400, {"error": 1000, "message": "scan table error: join node is not found for plain"}))
            self.assertEqual(k.request("POST", "/rules/scan/stop")[0], 200)
            self.assertEqual(k.request("GET", "/rules/scan/scantables"),
                             (400, {"error": 1000, "message": "failed to get topology for rule scan: topology not "
                                                              "initialized, rule may not have been started"}))
            self.assertEqual(k.request("GET", "/rules/nope/scantables"),
                             (404, {"error": 1002,
                                    "message": "failed to get topology for rule nope: Rule nope is not found"}))


class CpuUsage(unittest.TestCase):
    def test_off_by_default(self):
        with Kuiperd() as k:
            self.assertEqual(k.request("GET", "/rules/usage/cpu"), (200, "cpu usage not enabled"))

    def test_busy_rule_uses_cpu_idle_one_none(self):
        with Kuiperd(env={"KUIPER__BASIC__RESOURCEPROFILECONFIG__ENABLE": "true"}) as k:
            create_streams(self, k, 'CREATE STREAM big () WITH (DATASOURCE="t/big", FORMAT="json")',
                           'CREATE STREAM quiet () WITH (DATASOURCE="t/quiet", FORMAT="json")')
            create_rule(self, k, rule(k, "busy", "SELECT array_max(xs) AS m, array_min(xs) AS n FROM big"))
            create_rule(self, k, rule(k, "idle", "SELECT * FROM quiet"))
            self.assertEqual(k.request("GET", "/rules/usage/cpu"), (200, {"busy": 0, "idle": 0}))
            lis = Listener(k.mqtt_port)
            try:
                payload = json.dumps({"xs": list(range(3000))})
                for _ in range(300):
                    lis.publish("t/big", payload)
                wait_for(lambda: len(lis.messages("out/busy")) == 300, timeout=30, what="300 outputs")
            finally:
                lis.close()
            status, usage = k.request("GET", "/rules/usage/cpu")
            self.assertEqual(status, 200)
            self.assertEqual(set(usage), {"busy", "idle"})
            self.assertGreater(usage["busy"], 0)
            self.assertEqual(usage["idle"], 0)
            self.assertEqual(k.request("POST", "/rules/busy/stop")[0], 200)
            self.assertEqual(k.request("GET", "/rules/usage/cpu"), (200, {"idle": 0}))


class Configs(unittest.TestCase):
    def test_patch_takes_metrics_dump_config_and_ignores_unknown_fields(self):
        with Kuiperd() as k:
            self.assertEqual(k.request("PATCH", "/configs", {"metricsDumpConfig": {"enable": True}}), (204, ""))
            self.assertEqual(k.request("PATCH", "/configs", {"restPort": 1, "debug": True}), (204, ""))
            status, conf = k.request("GET", "/configs")
            self.assertEqual((status, conf["debug"]), (200, True))
            self.assertNotIn("restPort", conf)
            status, body = k.request("PATCH", "/configs", {"metricsDumpConfig": {"enable": "yes"}})
            self.assertEqual((status, body["error"]), (400, 1000))
            self.assertIn("metricsDumpConfig.enable must be true or false", body["message"])
            status, body = k.request("PATCH", "/configs", {"metricsDumpConfig": 3})
            self.assertEqual(status, 400)


if __name__ == "__main__":
    main()
