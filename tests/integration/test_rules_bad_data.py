"""Malformed input through a real kuiperd: payloads that are not JSON, and objects that break a
STRICT_VALIDATION schema, are counted in the source's exceptions_total with last_exception set;
with sendError the sinks receive {"error": ...} for each, without it nothing; the rule keeps
running and good messages around the bad ones come out unchanged."""
import json
import unittest

from harness import Kuiperd, main
from rules_util import Listener, create_rule, create_streams, expect, mqtt_sink


class BadData(unittest.TestCase):
    def test_bad_messages_counted_and_sent_as_errors_only_with_send_error(self):
        with Kuiperd() as k:
            lis = Listener(k.mqtt_port)
            try:
                create_streams(self, k, 'CREATE STREAM strict (id BIGINT, name STRING) WITH (DATASOURCE="t/strict", '
                                        'STRICT_VALIDATION="true")')
                for rid, send in (("quiet", False), ("loud", True)):
                    create_rule(self, k, {"id": rid, "sql": "SELECT id, name FROM strict",
                                          "options": {"sendError": send}, "actions": [mqtt_sink(k, "out/" + rid)]})
                lis.publish("t/strict", {"id": 1, "name": "ok"})
                lis.publish("t/strict", "{not json")
                lis.publish("t/strict", {"id": "two", "name": "bad type"})
                lis.publish("t/strict", {"id": 3, "name": "ok again"})
                expect(self, lis, "out/quiet", [[{"id": 1, "name": "ok"}], [{"id": 3, "name": "ok again"}]])
                loud = [json.loads(p) for p in lis.messages("out/loud")]
                self.assertEqual(len(loud), 4, loud)
                self.assertEqual(loud[0], [{"id": 1, "name": "ok"}])
                self.assertEqual(loud[3], [{"id": 3, "name": "ok again"}])
                errors = [m[0] if isinstance(m, list) else m for m in loud[1:3]]
                self.assertEqual([sorted(e) for e in errors], [["error"], ["error"]], loud)
                self.assertIn("type mismatch", errors[1]["error"])
                for rid in ("quiet", "loud"):
                    st = k.request("GET", "/rules/%s/status" % rid)[1]
                    self.assertEqual(st["status"], "running")
                    self.assertEqual(st["source_strict_0_records_in_total"], 4)
                    self.assertEqual(st["source_strict_0_exceptions_total"], 2)
                    self.assertIn("field id type mismatch", st["source_strict_0_last_exception"])
                    self.assertTrue(st["source_strict_0_last_exception_time"])
            finally:
                lis.close()


if __name__ == "__main__":
    main()
