"""Every window type on event time through a real kuiperd: each case creates a stream with a
TIMESTAMP over the bundled broker, a rule with isEventTime and lateTolerance 0 writing to MQTT,
publishes fixed events and compares the exact messages the sink published (eKuiper's semantics:
windows fire when the watermark passes their end, late events are dropped and counted, the first
tumbling or session window starts at the first event)."""
import unittest

from harness import Kuiperd, main
from rules_util import EVENT_TIME, Listener, create_rule, create_streams, expect, mqtt_sink

# name: (SELECT ... GROUP BY <window>, events as (ts, a), the exact sink messages)
CASES = {
    "tumbling": ("SELECT count(*) AS c, window_start() AS ws, window_end() AS we FROM {s} GROUP BY TUMBLINGWINDOW(ss, 10)",
                 [(5005000, 1), (5008000, 1), (5012000, 1), (5003000, 1), (5025000, 1)],
                 [[{"c": 2, "ws": 5005000, "we": 5010000}], [{"c": 1, "ws": 5010000, "we": 5020000}]]),
    "hopping": ("SELECT count(*) AS c, window_end() AS we FROM {s} GROUP BY HOPPINGWINDOW(ss, 10, 5)",
                [(10001000, 1), (10004000, 1), (10007000, 1), (10016000, 1)],
                [[{"c": 2, "we": 10005000}], [{"c": 3, "we": 10010000}], [{"c": 1, "we": 10015000}]]),
    "sliding": ("SELECT count(*) AS c FROM {s} GROUP BY SLIDINGWINDOW(ss, 2)",
                [(8001000, 1), (8002000, 1), (8004500, 1)],
                [[{"c": 1}], [{"c": 2}], [{"c": 1}]]),
    "sliding_trigger": ("SELECT count(*) AS c, max(a) AS m FROM {s} GROUP BY SLIDINGWINDOW(ss, 2) OVER (WHEN a > 1)",
                        [(1000, 1), (2000, 2), (3500, 1), (4000, 5)],
                        [[{"c": 2, "m": 2}], [{"c": 3, "m": 5}]]),
    "sliding_delay": ("SELECT count(*) AS c FROM {s} GROUP BY SLIDINGWINDOW(ss, 2, 1)",
                      [(1000, 1), (1500, 1), (2600, 1), (5000, 1)],
                      [[{"c": 2}], [{"c": 2}], [{"c": 3}]]),
    "session": ("SELECT count(*) AS c, window_start() AS ws FROM {s} GROUP BY SESSIONWINDOW(ss, 100, 3)",
                [(9001000, 1), (9002000, 1), (9009000, 1), (9013000, 1)],
                [[{"c": 2, "ws": 9001000}], [{"c": 1, "ws": 9009000}]]),
    "count_interval": ("SELECT a FROM {s} GROUP BY COUNTWINDOW(3, 1)",
                       [(1000, 1), (2000, 2), (3000, 3), (4000, 4)],
                       [[{"a": 1}, {"a": 2}, {"a": 3}], [{"a": 2}, {"a": 3}, {"a": 4}]]),
    "state": ("SELECT count(*) AS c, collect(a) AS v FROM {s} GROUP BY STATEWINDOW(a = 1, a = 3)",
              [(1000, 0), (2000, 1), (3000, 2), (4000, 3), (5000, 4)],
              [[{"c": 3, "v": [1, 2, 3]}]]),
}


class EventTimeWindows(unittest.TestCase):
    def test_every_window_type_on_event_time(self):
        with Kuiperd() as k:
            lis = Listener(k.mqtt_port)
            try:
                for name, (sql, _, _) in CASES.items():
                    create_streams(self, k, 'CREATE STREAM w_%s (a BIGINT, ts BIGINT) WITH (DATASOURCE="t/w/%s", '
                                            'TIMESTAMP="ts")' % (name, name))
                    create_rule(self, k, {"id": name, "sql": sql.format(s="w_" + name), "options": EVENT_TIME,
                                          "actions": [mqtt_sink(k, "out/" + name)]})
                for name, (_, events, _) in CASES.items():
                    for ts, a in events:
                        lis.publish("t/w/" + name, {"a": a, "ts": ts})
                for name, (_, _, want) in CASES.items():
                    with self.subTest(window=name):
                        expect(self, lis, "out/" + name, want)
                # The late event of the tumbling case was dropped and counted.
                st = k.request("GET", "/rules/tumbling/status")[1]
                self.assertEqual(st["source_w_tumbling_0_records_in_total"], 5)
                self.assertEqual(st["op_2_watermark_0_exceptions_total"], 1)
            finally:
                lis.close()


if __name__ == "__main__":
    main()
