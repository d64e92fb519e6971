"""The rule engine through a real kuiperd: streams and tables over REST with eKuiper's bodies and
errors, a rule fed over MQTT by the bundled broker and writing back to it, malformed payloads
counted in the status metrics while the rule keeps running, rule lifecycle (stop, start, update,
delete), and rules and streams surviving a restart (running rules come back running)."""
import json
import threading
import time
import unittest

import paho.mqtt.client as mqtt

from harness import Kuiperd, main, wait_for

STREAM = 'CREATE STREAM demo (color STRING, size BIGINT) WITH (DATASOURCE="t/demo", FORMAT="json")'


class Listener:
    """A paho client collecting every message on out/# of the bundled broker."""

    def __init__(self, port):
        self.got = []
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.c = mqtt.Client()
        self.c.on_message = self._on_message
        self.c.on_subscribe = lambda *a: self.ready.set()
        self.c.connect("127.0.0.1", port)
        self.c.subscribe("out/#", 1)
        self.c.loop_start()
        self.ready.wait(5)

    def _on_message(self, client, userdata, m):
        with self.lock:
            self.got.append((m.topic, m.payload.decode()))

    def messages(self, topic):
        with self.lock:
            return [p for t, p in self.got if t == topic]

    def publish(self, topic, payload):
        self.c.publish(topic, payload if isinstance(payload, str) else json.dumps(payload), qos=1).wait_for_publish()

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def rule(k, rid, sql, **extra):
    body = {"id": rid, "sql": sql,
            "actions": [{"mqtt": {"server": "tcp://127.0.0.1:%d" % k.mqtt_port, "topic": "out/" + rid}}, {"log": {}}]}
    body.update(extra)
    return body


class Streams(unittest.TestCase):
    def test_stream_crud_and_errors(self):
        with Kuiperd() as k:
            self.assertEqual(k.request("POST", "/streams", {"sql": STREAM}), (201, "Stream demo is created."))
            self.assertEqual(k.request("GET", "/streams"), (200, ["demo"]))
            status, body = k.request("GET", "/streams/demo")
            self.assertEqual(status, 200)
            self.assertEqual(body["Name"], "demo")
            self.assertEqual(body["StreamType"], 0)
            self.assertEqual([f["Name"] for f in body["StreamFields"]], ["color", "size"])
            self.assertEqual(body["Options"]["DATASOURCE"], "t/demo")
            self.assertEqual(k.request("GET", "/streams/demo/schema"),
                             (200, {"color": {"type": "string"}, "size": {"type": "bigint"}}))
            status, body = k.request("GET", "/streamdetails")
            self.assertEqual(body, [{"name": "demo", "type": "mqtt", "format": "json"}])
            # bad SQL names line and column
            status, body = k.request("POST", "/streams", {"sql": "CREATE STREAM x (a BIGINT WITH ()"})
            self.assertEqual(status, 400)
            self.assertEqual(body["error"], 2001)
            self.assertIn("line 1, column", body["message"])
            # unknown stream
            status, body = k.request("GET", "/streams/nope")
            self.assertEqual((status, body["error"]), (404, 1002))
            # replace
            status, _ = k.request("PUT", "/streams/demo", {"sql": STREAM.replace("t/demo", "t/demo2")})
            self.assertEqual(status, 200)
            self.assertEqual(k.request("GET", "/streams/demo")[1]["Options"]["DATASOURCE"], "t/demo2")
            # tables live apart
            sql = 'CREATE TABLE tab (id BIGINT) WITH (DATASOURCE="t/tab", TYPE="memory", KIND="scan")'
            self.assertEqual(k.request("POST", "/tables", {"sql": sql}), (201, "Table tab is created."))
            self.assertEqual(k.request("GET", "/tables"), (200, ["tab"]))
            self.assertEqual(k.request("GET", "/tables?kind=lookup"), (200, []))
            self.assertEqual(k.request("DELETE", "/tables/tab"), (200, "Table tab is dropped."))
            # a stream used by a rule cannot be dropped
            self.assertEqual(k.request("POST", "/rules", rule(k, "r1", "SELECT * FROM demo"))[0], 201)
            status, body = k.request("DELETE", "/streams/demo")
            self.assertEqual(status, 400)
            self.assertIn("r1", body["message"])
            self.assertEqual(k.request("DELETE", "/rules/r1"), (200, "Rule r1 is dropped."))
            self.assertEqual(k.request("DELETE", "/streams/demo"), (200, "Stream demo is dropped."))
            self.assertEqual(k.request("GET", "/streams"), (200, []))


class Rules(unittest.TestCase):
    def test_rule_over_mqtt_with_metrics_and_bad_data(self):
        with Kuiperd() as k:
            k.request("POST", "/streams", {"sql": STREAM})
            status, text = k.request("POST", "/rules",
                                     rule(k, "rule1", "SELECT color, size * 2 AS s FROM demo WHERE size > 1"))
            self.assertEqual((status, text), (201, "Rule rule1 was created successfully."))
            lis = Listener(k.mqtt_port)
            try:
                wait_for(lambda: k.request("GET", "/rules/rule1/status")[1]["status"] == "running", what="running")
                lis.publish("t/demo", {"color": "red", "size": 3})
                lis.publish("t/demo", "this is not json")
                lis.publish("t/demo", {"color": "blue", "size": 1})
                lis.publish("t/demo", {"color": "green", "size": 5})
                wait_for(lambda: len(lis.messages("out/rule1")) == 2, what="two results")
                self.assertEqual(lis.messages("out/rule1"),
                                 ['[{"color":"red","s":6}]', '[{"color":"green","s":10}]'])
            finally:
                lis.close()
            status, st = k.request("GET", "/rules/rule1/status")
            self.assertEqual(st["status"], "running")
            self.assertEqual(st["source_demo_0_records_in_total"], 4)
            self.assertEqual(st["source_demo_0_exceptions_total"], 1)
            self.assertIn("not valid JSON", st["source_demo_0_last_exception"])
            self.assertEqual(st["op_2_filter_0_records_in_total"], 3)
            self.assertEqual(st["op_2_filter_0_records_out_total"], 2)
            self.assertEqual(st["op_3_project_0_records_out_total"], 2)
            self.assertEqual(st["sink_mqtt_0_0_records_out_total"], 2)
            self.assertIn("sink_log_1_0_process_latency_us", st)
            self.assertEqual(k.request("GET", "/rules/rule1/topo")[1],
                             {"sources": ["source_demo"],
                              "edges": {"source_demo": ["op_2_filter"], "op_2_filter": ["op_3_project"],
                                        "op_3_project": ["sink_mqtt_0", "sink_log_1"]}})
            status, rules = k.request("GET", "/rules")
            self.assertEqual([(r["id"], r["status"]) for r in rules], [("rule1", "running")])
            with open(k.log + "/stream.log") as f:
                self.assertIn('sink result for rule rule1: [{\\"color\\":\\"red\\",\\"s\\":6}]', f.read())

    def test_lifecycle_update_and_errors(self):
        with Kuiperd() as k:
            k.request("POST", "/streams", {"sql": STREAM})
            bad = rule(k, "bad", "SELECT nosuch( FROM demo")
            status, body = k.request("POST", "/rules", bad)
            self.assertEqual((status, body["error"]), (400, 2001))
            status, body = k.request("POST", "/rules", rule(k, "r2", "SELECT * FROM nostream"))
            self.assertEqual(status, 404)
            self.assertEqual(k.request("POST", "/rules", rule(k, "r1", "SELECT color FROM demo"))[0], 201)
            self.assertEqual(k.request("POST", "/rules/r1/stop"), (200, "Rule r1 was stopped."))
            self.assertEqual(k.request("GET", "/rules/r1/status")[1]["status"], "stopped")
            self.assertEqual(k.request("POST", "/rules/r1/start"), (200, "Rule r1 was started"))
            self.assertEqual(k.request("GET", "/rules/r1/status")[1]["status"], "running")
            self.assertEqual(k.request("POST", "/rules/r1/restart"), (200, "Rule r1 was restarted"))
            # a bad update is refused and the old version keeps running
            status, body = k.request("PUT", "/rules/r1", rule(k, "r1", "SELECT color FROM"))
            self.assertEqual(status, 400)
            self.assertEqual(k.request("GET", "/rules/r1/status")[1]["status"], "running")
            self.assertEqual(k.request("GET", "/rules/r1")[1]["sql"], "SELECT color FROM demo")
            self.assertEqual(k.request("PUT", "/rules/r1", rule(k, "r1", "SELECT size FROM demo"))[0], 200)
            self.assertEqual(k.request("GET", "/rules/r1")[1]["sql"], "SELECT size FROM demo")
            self.assertEqual(k.request("POST", "/rules/validate", rule(k, "v", "SELECT size FROM demo"))[0], 200)
            self.assertEqual(k.request("GET", "/rules/nope/status")[0], 404)
            status, body = k.request("POST", "/rules/bulkstop", ["r1"])
            self.assertEqual(status, 200)
            self.assertEqual(k.request("GET", "/rules/r1/status")[1]["status"], "stopped")
            self.assertEqual(k.request("POST", "/rules/bulkstart", [{"id": "r1"}])[0], 200)
            self.assertEqual(k.request("GET", "/rules/status/all")[1]["r1"]["status"], "running")

    def test_rules_survive_restart(self):
        k = Kuiperd().start()
        try:
            k.request("POST", "/streams", {"sql": STREAM})
            self.assertEqual(k.request("POST", "/rules", rule(k, "up", "SELECT color FROM demo"))[0], 201)
            self.assertEqual(k.request("POST", "/rules", rule(k, "down", "SELECT size FROM demo"))[0], 201)
            k.request("POST", "/rules/down/stop")
            k.restart()
            self.assertEqual(k.request("GET", "/streams"), (200, ["demo"]))
            self.assertEqual(k.request("GET", "/rules/up/status")[1]["status"], "running")
            self.assertEqual(k.request("GET", "/rules/down/status")[1]["status"], "stopped")
            lis = Listener(k.mqtt_port)
            try:
                lis.publish("t/demo", {"color": "red", "size": 3})
                wait_for(lambda: lis.messages("out/up") == ['[{"color":"red"}]'], what="result after restart")
            finally:
                lis.close()
            k.kill9()
            k.start()
            self.assertEqual(k.request("GET", "/rules/up/status")[1]["status"], "running")
        finally:
            k.cleanup()

    def test_graph_rule_over_mqtt(self):
        with Kuiperd() as k:
            server = "tcp://127.0.0.1:%d" % k.mqtt_port
            body = {"id": "g1", "graph": {
                "nodes": {
                    "src": {"type": "source", "nodeType": "mqtt", "props": {"datasource": "t/graph"}},
                    "hot": {"type": "operator", "nodeType": "filter", "props": {"expr": "temperature > 20"}},
                    "f": {"type": "operator", "nodeType": "function", "props": {"expr": "temperature * 2 AS t2"}},
                    "pick": {"type": "operator", "nodeType": "pick", "props": {"fields": ["t2", "id"]}},
                    "out": {"type": "sink", "nodeType": "mqtt", "props": {"server": server, "topic": "out/g1"}}},
                "topo": {"sources": ["src"], "edges": {"src": ["hot"], "hot": ["f"], "f": ["pick"], "pick": ["out"]}}}}
            self.assertEqual(k.request("POST", "/rules", body), (201, "Rule g1 was created successfully."))
            self.assertIn("graph", k.request("GET", "/rules/g1")[1])
            lis = Listener(k.mqtt_port)
            try:
                wait_for(lambda: k.request("GET", "/rules/g1/status")[1]["status"] == "running", what="running")
                lis.publish("t/graph", {"id": 1, "temperature": 10})
                lis.publish("t/graph", {"id": 2, "temperature": 30})
                wait_for(lambda: lis.messages("out/g1"), what="the graph rule's result")
                self.assertEqual(lis.messages("out/g1"), ['[{"id":2,"t2":60}]'])
            finally:
                lis.close()
            status, body = k.request("POST", "/rules", {"id": "g2", "graph": {
                "nodes": {"s": {"type": "source", "nodeType": "mqtt", "props": {"datasource": "x"}},
                          "sw": {"type": "operator", "nodeType": "switch", "props": {}}},
                "topo": {"sources": ["s"], "edges": {"s": ["sw"]}}}})
            self.assertEqual(status, 400)
            self.assertIn("switch", body["message"])

    def test_event_window_checkpoint_survives_kill9(self):
        k = Kuiperd().start()
        try:
            sql = 'CREATE STREAM ev (ts BIGINT) WITH (DATASOURCE="t/ev", TIMESTAMP="ts")'
            self.assertEqual(k.request("POST", "/streams", {"sql": sql})[0], 201)
            body = rule(k, "w", "SELECT count(*) AS c, window_start() AS ws FROM ev GROUP BY TUMBLINGWINDOW(ss, 10)",
                        options={"isEventTime": True, "lateTolerance": 0, "qos": 1, "checkpointInterval": 100})
            self.assertEqual(k.request("POST", "/rules", body)[0], 201)
            lis = Listener(k.mqtt_port)
            try:
                lis.publish("t/ev", {"ts": 1000})
                lis.publish("t/ev", {"ts": 2000})
                wait_for(lambda: k.request("GET", "/rules/w/status")[1].get("source_ev_0_records_in_total") == 2,
                         what="two events in")
                time.sleep(0.5)  # a few checkpoint intervals
            finally:
                lis.close()
            k.kill9()
            k.start()
            lis = Listener(k.mqtt_port)
            try:
                lis.publish("t/ev", {"ts": 3000})
                lis.publish("t/ev", {"ts": 12000})
                wait_for(lambda: lis.messages("out/w"), what="the window after the restart")
                self.assertEqual(lis.messages("out/w"), ['[{"c":3,"ws":1000}]'])
            finally:
                lis.close()
        finally:
            k.cleanup()


if __name__ == "__main__":
    main()
