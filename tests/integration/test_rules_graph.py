"""Graph rules (eKuiper's rule JSON "graph" with nodes and topo) through a real kuiperd: each test
POSTs a graph to /rules, publishes fixed messages to the rule's sources over the bundled broker (or
a memory topic fed by another rule) and compares the sinks' output exactly. Covers switch nodes
(with and without stopAtFirstMatch), branches to several sinks, a join of two streams in a window
and of a stream with a lookup table,
window/groupby/aggfunc/filter-as-having/orderby/pick chains on event time, an inline memory source,
the status and topo of a branched rule, and the errors for bad graphs."""
import json

from harness import main, wait_for
from rules_util import EVENT_TIME, SharedKuiperd, create_rule, create_streams, expect, mqtt_sink


def op(node_type, **props):
    return {"type": "operator", "nodeType": node_type, "props": props}


def src(name, **props):
    props.setdefault("sourceName", name)
    return {"type": "source", "nodeType": "mqtt", "props": props}


def sink(k, topic):
    (kind, props), = mqtt_sink(k, topic).items()
    return {"type": "sink", "nodeType": kind, "props": props}


class Graph(SharedKuiperd):
    def switch_rule(self, rid, stop):
        k = self.k
        return {"id": rid, "graph": {
            "nodes": {
                "sw": src("sw"),
                "route": op("switch", cases=["temperature > 20", "temperature > 10"], stopAtFirstMatch=stop),
                "hot": sink(k, "out/%s/hot" % rid),
                "warm": sink(k, "out/%s/warm" % rid),
                "f": op("function", expr="temperature * 10 AS t10"),
                "p": op("pick", fields=["id", "t10"]),
                "picked": sink(k, "out/%s/picked" % rid)},
            "topo": {"sources": ["sw"], "edges": {
                "sw": ["route"], "route": [["hot"], ["warm", "f"]], "f": ["p"], "p": ["picked"]}}}}

    def test_switch_routes_to_branches_and_several_sinks(self):
        k, lis = self.k, self.lis
        create_streams(self, k, 'CREATE STREAM sw (id BIGINT, temperature FLOAT) WITH (DATASOURCE="t/sw")')
        create_rule(self, k, self.switch_rule("first", True))
        create_rule(self, k, self.switch_rule("all", False))
        for i, t in ((1, 5), (2, 15), (3, 25)):
            lis.publish("t/sw", {"id": i, "temperature": t})
        expect(self, lis, "out/first/hot", [[{"id": 3, "temperature": 25}]])
        expect(self, lis, "out/first/warm", [[{"id": 2, "temperature": 15}]])
        expect(self, lis, "out/first/picked", [[{"id": 2, "t10": 150}]])
        expect(self, lis, "out/all/hot", [[{"id": 3, "temperature": 25}]])
        expect(self, lis, "out/all/warm", [[{"id": 2, "temperature": 15}], [{"id": 3, "temperature": 25}]])
        expect(self, lis, "out/all/picked", [[{"id": 2, "t10": 150}], [{"id": 3, "t10": 250}]])
        # One source node, read once; every sink of every branch has its metrics.
        status = k.request("GET", "/rules/first/status")[1]
        self.assertEqual(status["source_sw_0_records_in_total"], 3)
        self.assertEqual(status["sink_mqtt_0_0_records_in_total"], 1)
        self.assertEqual(sorted(key for key in status if key.startswith("sink_") and key.endswith("records_in_total")),
                         ["sink_mqtt_0_0_records_in_total", "sink_mqtt_1_0_records_in_total",
                          "sink_mqtt_2_0_records_in_total"])
        topo = k.request("GET", "/rules/first/topo")[1]
        self.assertEqual(topo["sources"], ["source_sw"])
        self.assertEqual(len(topo["edges"]["source_sw"]), 3)  # one pipeline per distinct path
        status, plan = k.request("GET", "/rules/first/explain", raw=True)  # eKuiper's text: one plan node a line
        self.assertEqual(status, 200)
        ops = [json.loads(line.strip())["op"] for line in plan.split("\n") if line.strip()]
        self.assertEqual(sum(1 for op in ops if op.startswith("DataSourcePlan")), 3, plan)

    def test_join_of_two_streams_in_a_window(self):
        k, lis = self.k, self.lis
        create_streams(self, k,
                       'CREATE STREAM ja (id BIGINT, a BIGINT, ts BIGINT) WITH (DATASOURCE="t/ja", TIMESTAMP="ts")',
                       'CREATE STREAM jb (id BIGINT, b BIGINT, ts BIGINT) WITH (DATASOURCE="t/jb", TIMESTAMP="ts")')
        body = {"id": "join", "options": EVENT_TIME, "graph": {
            "nodes": {
                "ja": src("ja"), "jb": src("jb"),
                "win": op("window", type="tumblingwindow", unit="ss", size=10),
                "j": op("join", **{"from": "ja", "joins": [{"name": "jb", "type": "left", "on": "ja.id = jb.id"}]}),
                "p": op("pick", fields=["ja.id", "a", "b"]),
                "o": op("orderby", sorts=[{"field": "a", "order": "asc"}]),
                "out": sink(k, "out/join")},
            "topo": {"sources": ["ja", "jb"],
                     "edges": {"ja": ["win"], "jb": ["win"], "win": ["j"], "j": ["o"], "o": ["p"], "p": ["out"]}}}}
        create_rule(self, k, body)
        for topic, msg in (("t/ja", {"id": 1, "a": 1, "ts": 1000}), ("t/jb", {"id": 1, "b": 10, "ts": 2000}),
                           ("t/ja", {"id": 2, "a": 2, "ts": 3000}), ("t/jb", {"id": 3, "b": 30, "ts": 4000}),
                           ("t/ja", {"id": 9, "a": 9, "ts": 12000}), ("t/jb", {"id": 9, "b": 90, "ts": 12500})):
            lis.publish(topic, msg)
        expect(self, lis, "out/join", [[{"id": 1, "a": 1, "b": 10}, {"id": 2, "a": 2}]])

    def test_window_groupby_aggfunc_having_orderby(self):
        k, lis = self.k, self.lis
        create_streams(self, k,
                       'CREATE STREAM ag (color STRING, size BIGINT, ts BIGINT) WITH (DATASOURCE="t/ag", TIMESTAMP="ts")')
        body = {"id": "agg", "options": EVENT_TIME, "graph": {
            "nodes": {
                "ag": src("ag"),
                "big": op("filter", expr="size > 0"),
                "win": op("window", type="tumblingwindow", unit="ss", size=10),
                "g": op("groupby", dimensions=["color"]),
                "c": op("aggfunc", expr="count(*) AS c"),
                "s": op("aggfunc", expr="sum(size) AS total"),
                "many": op("filter", expr="c > 1"),
                "o": op("orderby", sorts=[{"field": "total", "order": "desc"}]),
                "p": op("pick", fields=["color", "c", "total"]),
                "out": sink(k, "out/agg")},
            "topo": {"sources": ["ag"], "edges": {
                "ag": ["big"], "big": ["win"], "win": ["g"], "g": ["c"], "c": ["s"], "s": ["many"],
                "many": ["o"], "o": ["p"], "p": ["out"]}}}}
        create_rule(self, k, body)
        for color, size, ts in (("red", 1, 1000), ("blue", 5, 2000), ("red", 2, 3000), ("blue", 7, 4000),
                                ("green", 9, 5000), ("red", -1, 6000), ("green", 1, 15000)):
            lis.publish("t/ag", {"color": color, "size": size, "ts": ts})
        expect(self, lis, "out/agg", [[{"color": "blue", "c": 2, "total": 12}, {"color": "red", "c": 2, "total": 3}]])

    def test_inline_memory_source_fed_by_a_rule(self):
        k, lis = self.k, self.lis
        create_streams(self, k, 'CREATE STREAM feed (v BIGINT) WITH (DATASOURCE="t/feed")')
        create_rule(self, k, {"id": "to_mem", "sql": "SELECT v FROM feed",
                              "actions": [{"memory": {"topic": "mem/graph", "sendSingle": True}}]})
        body = {"id": "from_mem", "graph": {
            "nodes": {
                "mem": {"type": "source", "nodeType": "memory", "props": {"datasource": "mem/graph"}},
                "odd": op("filter", expr="v % 2 = 1"),
                "sq": op("function", expr="v * v AS sq"),
                "out": sink(k, "out/mem")},
            "topo": {"sources": ["mem"], "edges": {"mem": ["odd"], "odd": ["sq"], "sq": ["out"]}}}}
        create_rule(self, k, body)
        for v in (1, 2, 3):
            lis.publish("t/feed", {"v": v})
        expect(self, lis, "out/mem", [[{"v": 1, "sq": 1}], [{"v": 3, "sq": 9}]])

    def test_join_of_a_stream_with_a_lookup_table(self):
        k, lis = self.k, self.lis
        create_streams(self, k, 'CREATE STREAM lk_in (id BIGINT, name STRING) WITH (DATASOURCE="t/lk_in")',
                       'CREATE STREAM orders (id BIGINT, qty BIGINT) WITH (DATASOURCE="t/orders")')
        status, body = k.request("POST", "/tables", {
            "sql": 'CREATE TABLE products (id BIGINT, name STRING) WITH (DATASOURCE="lk/products", TYPE="memory", '
                   'KIND="lookup", KEY="id")'})
        self.assertEqual(status, 201, body)
        create_rule(self, k, {"id": "fill_products", "sql": "SELECT * FROM lk_in",
                              "actions": [{"memory": {"topic": "lk/products", "sendSingle": True}}]})
        body = {"id": "glookup", "graph": {
            "nodes": {
                "orders": src("orders"),
                "products": {"type": "source", "nodeType": "memory",
                             "props": {"sourceName": "products", "sourceType": "table"}},
                "j": op("join", **{"from": "orders", "joins": [
                    {"name": "products", "type": "left", "on": "orders.id = products.id"}]}),
                "p": op("pick", fields=["orders.id", "qty", "name"]),
                "out": sink(k, "out/glookup")},
            "topo": {"sources": ["orders", "products"],
                     "edges": {"orders": ["j"], "products": ["j"], "j": ["p"], "p": ["out"]}}}}
        create_rule(self, k, body)
        lis.publish("t/lk_in", {"id": 1, "name": "bolt"})
        wait_for(lambda: k.request("GET", "/rules/fill_products/status")[1].get("sink_memory_0_0_records_out_total") == 1,
                 what="the product written")
        lis.publish("t/orders", {"id": 1, "qty": 5})
        lis.publish("t/orders", {"id": 2, "qty": 7})
        expect(self, lis, "out/glookup", [[{"id": 1, "qty": 5, "name": "bolt"}], [{"id": 2, "qty": 7}]])

    def test_bad_graphs_are_refused_with_clear_errors(self):
        k = self.k
        create_streams(self, k, 'CREATE STREAM bad (x BIGINT) WITH (DATASOURCE="t/bad")',
                       'CREATE STREAM bad2 (x BIGINT) WITH (DATASOURCE="t/bad2")')
        out = sink(k, "out/bad")
        cases = [
            ({"s": src("bad"), "o": {"type": "magic", "nodeType": "filter"}, "out": out},
             {"s": ["o"], "o": ["out"]}, "unknown node type magic"),
            ({"s": src("bad"), "o": op("teleport"), "out": out},
             {"s": ["o"], "o": ["out"]}, "unknown operator type teleport"),
            ({"s": src("bad"), "a": op("filter", expr="x > 1"), "b": op("filter", expr="x > 2"), "out": out},
             {"s": ["a"], "a": ["b", "out"], "b": ["a"]}, "cycle"),
            ({"s": src("bad"), "out": out}, {"s": ["nowhere"]}, "undefined node nowhere"),
            ({"s": src("bad"), "f": op("filter", expr="x > 1"), "out": out},
             {"s": ["out"], "f": ["out"]}, "operator node f has no input"),
            ({"s": src("bad"), "f": op("filter", expr="x > 1"), "out": out, "o2": sink(k, "out/o2")},
             {"s": ["f"], "f": ["out"]}, "sink node o2 has no input"),
            ({"s": src("bad"), "f": op("filter", expr="x > 1"), "out": out},
             {"s": ["f", "out"]}, "operator node f has no output edge"),
            ({"s": src("bad"), "out": out}, {"s": ["out"], "out": ["s"]}, "sink node out cannot have edges"),
            ({"s": src("bad"), "t": src("bad2"), "out": out}, {"s": ["out"], "t": ["out"]}, None),
            ({"s": src("bad"), "f": op("filter", expr="x > 1"), "out": out},
             {"s": ["f"], "f": [["out"], ["out"]]}, "f is not a switch"),
            ({"s": src("nope"), "out": out}, {"s": ["out"]}, "stream nope is not found"),
            ({"s": src("bad"), "w": src("bad2"), "win": op("window", type="tumblingwindow", unit="ss", size=1),
              "out": out}, {"s": ["win"], "w": ["win"], "win": ["out"]}, "without a join node"),
            ({"s": src("bad"), "w": op("window", type="weekwindow", unit="ss", size=1), "out": out},
             {"s": ["w"], "w": ["out"]}, "graph node w: unknown window type weekwindow"),
            ({"s": src("bad"), "f": op("filter", expr="x >>> 1"), "out": out},
             {"s": ["f"], "f": ["out"]}, 'as "SELECT * FROM bad WHERE (x >>> 1)": line 1'),
        ]
        for i, (nodes, edges, msg) in enumerate(cases):
            sources = [n for n, d in nodes.items() if d["type"] == "source"]
            body = {"id": "bad%d" % i, "graph": {"nodes": nodes, "topo": {"sources": sources, "edges": edges}}}
            status, reply = k.request("POST", "/rules", body)
            if msg is None:  # two sources straight into one sink: two pipelines, allowed
                self.assertEqual(status, 201, reply)
                continue
            self.assertEqual(status, 400, (i, reply))
            self.assertIn(msg, reply["message"], i)
        self.assertEqual(k.request("GET", "/rules/bad0")[0], 404)


if __name__ == "__main__":
    main()
