"""Every stream, table and rule endpoint of issue 8 against a real kuiperd, with eKuiper's
documented bodies and reply texts (docs/en_US/api/restapi/streams.md, tables.md, rules.md) and
each error path: unknown stream or rule, bad SQL (code 2001 with line and column), bad JSON body,
duplicate id, missing field. Also rule tags (PUT/PATCH/DELETE /rules/{id}/tags, GET
/rules/tags/match), eKuiper's tag form of /rules/bulkstart|bulkstop and the text form of
/rules/{id}/explain."""
import json
import unittest

from harness import Kuiperd, main, wait_for

S = ('create stream my_stream (id bigint, name string, score float) WITH ( datasource = "topic/temperature", '
     'FORMAT = "json", KEY = "id")')
T = 'CREATE TABLE t1 (a BIGINT) WITH (DATASOURCE="t1.json", TYPE="file")'


def rule(rid, sql="SELECT * FROM my_stream", **extra):
    return dict({"id": rid, "sql": sql, "actions": [{"log": {}}]}, **extra)


class Endpoints(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = Kuiperd().start()
        assert cls.k.request("POST", "/streams", {"sql": S}) == (201, "Stream my_stream is created.")

    @classmethod
    def tearDownClass(cls):
        cls.k.cleanup()

    def r(self, *a, **kw):
        return self.k.request(*a, **kw)

    def err(self, call, status, code, words=None):
        got_status, body = self.r(*call)
        got_code = body.get("error") if isinstance(body, dict) else body
        self.assertEqual((got_status, got_code if code else None), (status, code), call)
        self.assertEqual(sorted(body), ["error", "message"])
        if words:
            self.assertIn(words, body["message"], call)
        return body

    def test_info_and_ping(self):
        status, info = self.r("GET", "/")
        self.assertEqual(status, 200)
        for key in ("version", "os", "arch", "upTimeSeconds", "memoryUsed", "memoryTotal"):
            self.assertIn(key, info)
        self.assertEqual(self.r("GET", "/ping"), (200, ""))

    def test_streams(self):
        self.assertEqual(self.r("GET", "/streams"), (200, ["my_stream"]))
        self.assertEqual(self.r("GET", "/streamdetails"), (200, [{"name": "my_stream", "type": "mqtt", "format": "json"}]))
        status, d = self.r("GET", "/streams/my_stream")
        self.assertEqual(status, 200)
        self.assertEqual(d["Name"], "my_stream")
        self.assertEqual(d["StreamFields"][0], {"Name": "id", "FieldType": {"Type": 1}})
        self.assertEqual(d["Options"]["DATASOURCE"], "topic/temperature")
        self.assertEqual(self.r("GET", "/streams/my_stream/schema"),
                         (200, {"id": {"type": "bigint"}, "name": {"type": "string"}, "score": {"type": "float"}}))
        # Errors: duplicate, bad SQL, bad JSON body, missing field, unknown stream.
        self.err(("POST", "/streams", {"sql": S}), 400, 1000, "Stream my_stream already exists")
        body = self.err(("POST", "/streams", {"sql": "create stream x (a bigint"}), 400, 2001)
        self.assertTrue(body["message"].startswith("line 1, column 26: "), body)
        self.err(("POST", "/streams", "{bad"), 400, 1000, "not valid JSON")
        self.err(("POST", "/streams", {}), 400, 1000, '"sql"')
        for call in (("GET", "/streams/nosuch"), ("GET", "/streams/nosuch/schema"), ("DELETE", "/streams/nosuch"),
                     ("PUT", "/streams/nosuch", {"sql": S.replace("my_stream", "nosuch")})):
            self.assertEqual(self.r(*call), (404, {"error": 1002, "message": "Stream nosuch is not found"}), call)

    def test_stream_replace_and_drop(self):
        sql = 'CREATE STREAM rep (a BIGINT) WITH (DATASOURCE="rep")'
        self.assertEqual(self.r("POST", "/streams", {"sql": sql}), (201, "Stream rep is created."))
        self.assertEqual(self.r("PUT", "/streams/rep", {"sql": sql.replace("a BIGINT", "a BIGINT, b STRING")}),
                         (200, "Stream rep is replaced."))
        self.assertEqual(self.r("GET", "/streams/rep/schema")[1], {"a": {"type": "bigint"}, "b": {"type": "string"}})
        self.err(("PUT", "/streams/rep", {"sql": "CREATE STREAM rep (a"}), 400, 2001)
        self.err(("PUT", "/streams/rep", "{bad"), 400, 1000)
        self.assertEqual(self.r("DELETE", "/streams/rep"), (200, "Stream rep is dropped."))

    def test_tables(self):
        self.assertEqual(self.r("POST", "/tables", {"sql": T}), (201, "Table t1 is created."))
        self.assertEqual(self.r("GET", "/tables"), (200, ["t1"]))
        self.assertEqual(self.r("GET", "/tabledetails"), (200, [{"name": "t1", "type": "file", "format": "json",
                                                                  "kind": "scan"}]))
        self.assertEqual(self.r("GET", "/tables?kind=scan"), (200, ["t1"]))
        self.assertEqual(self.r("GET", "/tables?kind=lookup"), (200, []))
        self.assertEqual(self.r("GET", "/tables/t1/schema"), (200, {"a": {"type": "bigint"}}))
        self.err(("POST", "/tables", {"sql": T}), 400, 1000, "already exists")
        self.err(("POST", "/tables", {"sql": S}), 400, None, "expected a CREATE TABLE statement")
        self.assertEqual(self.r("GET", "/tables/nosuch")[0], 404)
        self.assertEqual(self.r("DELETE", "/tables/t1"), (200, "Table t1 is dropped."))

    def test_rule_lifecycle_texts(self):
        self.assertEqual(self.r("POST", "/rules", rule("life")), (201, "Rule life was created successfully."))
        self.assertEqual(self.r("PUT", "/rules/life", rule("life", "SELECT id FROM my_stream")),
                         (200, "Rule life was updated successfully."))
        self.assertEqual(self.r("POST", "/rules/life/stop"), (200, "Rule life was stopped."))
        self.assertEqual(self.r("POST", "/rules/life/start"), (200, "Rule life was started"))
        self.assertEqual(self.r("POST", "/rules/life/restart"), (200, "Rule life was restarted"))
        wait_for(lambda: self.r("GET", "/rules/life/status")[1].get("status") == "running")
        self.assertIn("life", self.r("GET", "/rules/status/all")[1])
        self.assertEqual(self.r("GET", "/rules/life/topo")[1]["sources"], ["source_my_stream"])
        self.assertEqual(self.r("DELETE", "/rules/life"), (200, "Rule life is dropped."))

    def test_rule_errors(self):
        self.assertEqual(self.r("POST", "/rules", rule("dup"))[0], 201)
        self.err(("POST", "/rules", rule("dup")), 400, 1000, "rule dup already exists")
        self.err(("POST", "/rules", {"id": "m", "sql": "SELECT * FROM my_stream"}), 400, 1000, "Missing rule actions.")
        self.err(("POST", "/rules", {"id": "m", "actions": [{"log": {}}]}), 400, 1000, "Missing rule SQL.")
        self.err(("POST", "/rules", {"sql": "SELECT 1", "actions": [{"log": {}}]}), 400, 1000, "Missing rule id.")
        self.err(("POST", "/rules", "{bad"), 400, None, "not valid JSON")
        body = self.err(("POST", "/rules", rule("bad", "SELEC * FROM my_stream")), 400, 2001)
        self.assertTrue(body["message"].startswith("line 1, column 1: "), body)
        self.assertIn("stream or table nosuch is not found", self.r("POST", "/rules", rule("u", "SELECT * FROM nosuch"))[1]["message"])
        for method, path in (("GET", "/rules/nosuch"), ("DELETE", "/rules/nosuch"), ("POST", "/rules/nosuch/start"),
                             ("POST", "/rules/nosuch/stop"), ("POST", "/rules/nosuch/restart"),
                             ("GET", "/rules/nosuch/status"), ("GET", "/rules/nosuch/topo"),
                             ("GET", "/rules/nosuch/explain")):
            status, body = self.r(method, path)
            self.assertEqual((status, body["error"]), (404, 1002), path)
            self.assertIn("Rule nosuch is not found", body["message"])
        self.r("DELETE", "/rules/dup")

    def test_validate(self):
        self.assertEqual(self.r("POST", "/rules/validate", rule("v"))[0], 200)
        self.assertEqual(self.r("POST", "/rules/validate", rule("v", "SELECT * FROM nosuch"))[0], 422)
        self.assertEqual(self.r("POST", "/rules/validate", "{bad")[0], 400)
        self.assertEqual(self.r("GET", "/rules/v")[0], 404)  # validating creates nothing

    def test_explain_is_text(self):
        self.assertEqual(self.r("POST", "/rules", rule("ex", "SELECT id FROM my_stream WHERE id > 1"))[0], 201)
        status, text = self.r("GET", "/rules/ex/explain", raw=True)
        self.assertEqual(status, 200)
        lines = text.split("\n")
        self.assertEqual(json.loads(lines[0]), {"op": "ProjectPlan_0", "info": "Fields:[ id ]"})
        self.assertTrue(lines[1].startswith("\t{"))
        self.assertEqual(json.loads(lines[1])["op"], "FilterPlan_1")
        self.assertEqual(json.loads(lines[-1].strip())["op"], "DataSourcePlan_2")
        self.r("DELETE", "/rules/ex")

    def test_tags_and_bulk_by_tags(self):
        self.assertEqual(self.r("POST", "/rules", rule("t1", tags=["a", "b"], triggered=False))[0], 201)
        self.assertEqual(self.r("POST", "/rules", rule("t2", tags=["a"], triggered=False))[0], 201)
        self.assertEqual(self.r("GET", "/rules/tags/match", {"tags": ["a"]}), (200, {"rules": ["t1", "t2"]}))
        self.assertEqual(self.r("GET", "/rules/tags/match", {"keys": ["a", "b"]}), (200, {"rules": ["t1"]}))
        self.assertEqual(self.r("GET", "/rules/tags/match", {"tags": ["zz"]}), (200, {}))
        self.assertEqual(self.r("PATCH", "/rules/t2/tags", {"tags": ["c", "a"]}), (200, ""))
        self.assertEqual(self.r("GET", "/rules/t2")[1]["tags"], ["a", "c"])
        self.assertEqual(self.r("DELETE", "/rules/t2/tags", {"keys": ["a"]}), (200, ""))
        self.assertEqual(self.r("GET", "/rules/t2")[1]["tags"], ["c"])
        self.assertEqual(self.r("PUT", "/rules/t2/tags", {"tags": ["x", "y"]}), (200, ""))
        self.assertEqual(self.r("GET", "/rules/t2")[1]["tags"], ["x", "y"])
        self.assertEqual([r["tags"] for r in self.r("GET", "/rules")[1] if r["id"] == "t2"], [["x", "y"]])
        self.assertEqual(self.r("POST", "/rules/bulkstart", {"tags": ["a"]}), (200, [{"ruleId": "t1", "success": True}]))
        self.assertEqual(self.r("GET", "/rules/t1/status")[1]["status"], "running")
        self.assertEqual(self.r("POST", "/rules/bulkstop", {"tags": ["a", "b"]}), (200, [{"ruleId": "t1", "success": True}]))
        self.assertEqual(self.r("GET", "/rules/t1/status")[1]["status"], "stopped")
        self.err(("POST", "/rules/bulkstart", {"tags": ["zz"]}), 400, 1000, "bulk start failed: no matching rules")
        self.err(("PUT", "/rules/nosuch/tags", {"tags": []}), 404, 1002)
        self.err(("PUT", "/rules/t1/tags", "{bad"), 400, 1000, "decode body error")
        self.err(("PATCH", "/rules/t1/tags", {"tags": [1]}), 400, 1000, "array of strings")
        # Tags are stored: they survive a restart, and changing them does not start a rule.
        self.k.restart()
        self.assertEqual(self.r("GET", "/rules/t2")[1]["tags"], ["x", "y"])
        self.assertEqual(self.r("GET", "/rules/t2/status")[1]["status"], "stopped")
        for rid in ("t1", "t2"):
            self.r("DELETE", "/rules/" + rid)


if __name__ == "__main__":
    main()
