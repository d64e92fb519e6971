"""Joins through a real kuiperd, with fixed inputs over the bundled broker and exact sink output:
the five stream-stream kinds (inner, left, right, full, cross) in one event-time window, a stream
with a scan table (its latest RETAIN_SIZE rows), a stream with a memory lookup table fed by a rule
pipeline (the latest row per key), and a stream with a SQLite lookup table queried per event."""
import os
import sqlite3
import time

from harness import main, wait_for
from rules_util import EVENT_TIME, SharedKuiperd, create_rule, create_streams, expect, mqtt_sink

KINDS = {
    "inner": [{"id": 1, "size": 5}],
    "left": [{"id": 1, "size": 5}, {"id": 3}],
    "right": [{"id": 1, "size": 5}, {"size": 6}],
    "full": [{"id": 1, "size": 5}, {"id": 3}, {"size": 6}],
    "cross": [{"id": 1, "size": 5}, {"id": 1, "size": 6}, {"id": 3, "size": 5}, {"id": 3, "size": 6}],
}


class Joins(SharedKuiperd):
    def rule(self, rid, sql, **extra):
        body = {"id": rid, "sql": sql, "actions": [mqtt_sink(self.k, "out/" + rid)]}
        body.update(extra)
        create_rule(self, self.k, body)

    def test_stream_joins_of_each_kind_in_a_window(self):
        create_streams(self, self.k,
                       'CREATE STREAM l (id BIGINT, ts BIGINT) WITH (DATASOURCE="t/l", TIMESTAMP="ts")',
                       'CREATE STREAM r (id BIGINT, size BIGINT, ts BIGINT) WITH (DATASOURCE="t/r", TIMESTAMP="ts")')
        for kind in KINDS:
            on = "" if kind == "cross" else " ON l.id = r.id"
            self.rule(kind, "SELECT l.id, r.size FROM l %s JOIN r%s GROUP BY TUMBLINGWINDOW(ss, 10)" % (kind.upper(), on),
                      options=EVENT_TIME)
        for topic, msg in (("t/l", {"id": 1, "ts": 1000}), ("t/l", {"id": 3, "ts": 1500}),
                           ("t/r", {"id": 1, "size": 5, "ts": 2000}), ("t/r", {"id": 2, "size": 6, "ts": 3000}),
                           ("t/l", {"id": 9, "ts": 11000}), ("t/r", {"id": 9, "size": 9, "ts": 11000})):
            self.lis.publish(topic, msg)
        for kind, want in KINDS.items():
            with self.subTest(join=kind):
                expect(self, self.lis, "out/" + kind, [want])

    def test_stream_with_scan_table(self):
        create_streams(self, self.k, 'CREATE STREAM ev (id BIGINT) WITH (DATASOURCE="t/ev")')
        status, body = self.k.request("POST", "/tables", {
            "sql": 'CREATE TABLE tb (id BIGINT, name STRING) WITH (DATASOURCE="t/tb", RETAIN_SIZE="2")'})
        self.assertEqual(status, 201, body)
        self.rule("scan", "SELECT ev.id, tb.name FROM ev INNER JOIN tb ON ev.id = tb.id")
        for i, name in ((1, "a"), (2, "b"), (3, "c")):
            self.lis.publish("t/tb", {"id": i, "name": name})
        time.sleep(0.3)  # the table's rows reach its feed before the stream's events
        for i in (1, 2, 3):
            self.lis.publish("t/ev", {"id": i})
        expect(self, self.lis, "out/scan", [[{"id": 2, "name": "b"}], [{"id": 3, "name": "c"}]])

    def test_stream_with_memory_lookup_table(self):
        k = self.k
        create_streams(self, k, 'CREATE STREAM names_in (id BIGINT, name STRING) WITH (DATASOURCE="t/names")',
                       'CREATE STREAM lev (id BIGINT) WITH (DATASOURCE="t/lev")')
        status, body = k.request("POST", "/tables", {
            "sql": 'CREATE TABLE names (id BIGINT, name STRING) WITH (DATASOURCE="lk/names", TYPE="memory", '
                   'KIND="lookup", KEY="id")'})
        self.assertEqual(status, 201, body)
        create_rule(self, k, {"id": "feed_names", "sql": "SELECT * FROM names_in",
                              "actions": [{"memory": {"topic": "lk/names", "sendSingle": True}}]})
        self.rule("mlookup", "SELECT lev.id, names.name FROM lev LEFT JOIN names ON lev.id = names.id")
        self.lis.publish("t/names", {"id": 1, "name": "pump"})
        self.lis.publish("t/names", {"id": 2, "name": "fan"})
        self.lis.publish("t/names", {"id": 1, "name": "big pump"})
        wait_for(lambda: k.request("GET", "/rules/feed_names/status")[1].get("sink_memory_0_0_records_out_total") == 3,
                 what="the lookup rows written")
        for i in (1, 2, 7):
            self.lis.publish("t/lev", {"id": i})
        expect(self, self.lis, "out/mlookup", [[{"id": 1, "name": "big pump"}], [{"id": 2, "name": "fan"}], [{"id": 7}]])

    def test_stream_with_sqlite_lookup_table(self):
        k = self.k
        db = os.path.join(k.data, "lookup.db")
        with sqlite3.connect(db) as c:
            c.execute("CREATE TABLE devices (id INTEGER, name TEXT)")
            c.executemany("INSERT INTO devices VALUES (?, ?)", [(1, "pump"), (2, "fan")])
        status, body = k.request("PUT", "/metadata/sources/sqlite/confKeys/lk", {"path": "lookup.db"})
        self.assertEqual(status, 200, body)
        create_streams(self, k, 'CREATE STREAM sev (id BIGINT) WITH (DATASOURCE="t/sev")')
        status, body = k.request("POST", "/tables", {
            "sql": 'CREATE TABLE dev (id BIGINT, name STRING) WITH (DATASOURCE="devices", TYPE="sqlite", '
                   'KIND="lookup", CONF_KEY="lk")'})
        self.assertEqual(status, 201, body)
        self.rule("sqlookup", "SELECT sev.id, dev.name FROM sev INNER JOIN dev ON sev.id = dev.id")
        for i in (2, 5, 1):
            self.lis.publish("t/sev", {"id": i})
        expect(self, self.lis, "out/sqlookup", [[{"id": 2, "name": "fan"}], [{"id": 1, "name": "pump"}]])
        with sqlite3.connect(db) as c:  # queried per event: a row added now is found by the next one
            c.execute("INSERT INTO devices VALUES (5, 'valve')")
        self.lis.publish("t/sev", {"id": 5})
        expect(self, self.lis, "out/sqlookup",
               [[{"id": 2, "name": "fan"}], [{"id": 1, "name": "pump"}], [{"id": 5, "name": "valve"}]])
        # A lookup join needs an equality on the table's columns.
        status, body = k.request("POST", "/rules", {"id": "nokey", "sql": "SELECT * FROM sev INNER JOIN dev ON sev.id > dev.id",
                                                    "actions": [{"log": {}}]})
        self.assertEqual(status, 400, body)
        self.assertIn("equi-join", body["message"])


if __name__ == "__main__":
    main()
