"""/ruleset/import, /ruleset/export, /data/export, /data/import and /data/import/status against a real
kuiperd, with eKuiper's formats (docs/en_US/api/restapi/ruleset.md and data.md): every section maps a
name to a string; the import reply texts; a full import replacing everything, a partial one keeping
what exists; and the error paths (bad JSON body, bad content, a file outside data/uploads, an
unknown rule id, a rule whose stream is missing)."""
import json
import os

from harness import main
from rest_util import FreshKuiperd

STREAM = 'CREATE STREAM demo () WITH (DATASOURCE="users", FORMAT="JSON")'
RULE1 = {"id": "rule1", "sql": "SELECT * FROM demo", "actions": [{"log": {}}]}
SECTIONS = ["streams", "tables", "rules", "nativePlugins", "portablePlugins", "sourceConfig", "sinkConfig",
            "connectionConfig", "Service", "Schema", "uploads", "scripts"]


class Ruleset(FreshKuiperd):
    def test_export_then_import_round_trip(self):
        self.assertEqual(self.r("POST", "/streams", {"sql": STREAM})[0], 201)
        self.assertEqual(self.r("POST", "/tables", {"sql": 'CREATE TABLE t1 (a BIGINT) WITH (DATASOURCE="t1.json", '
                                                          'TYPE="file")'})[0], 201)
        self.assertEqual(self.r("POST", "/rules", RULE1)[0], 201)
        status, exported = self.r("POST", "/ruleset/export")
        self.assertEqual(status, 200)
        self.assertEqual(sorted(exported), ["rules", "streams", "tables"])
        self.assertEqual(exported["streams"], {"demo": STREAM})
        self.assertIn("t1", exported["tables"])
        self.assertIsInstance(exported["rules"]["rule1"], str)
        self.assertEqual(json.loads(exported["rules"]["rule1"])["sql"], "SELECT * FROM demo")
        # Importing what exists creates nothing (eKuiper: "it is not created").
        self.assertEqual(self.r("POST", "/ruleset/import", {"content": json.dumps(exported)}),
                         (200, "imported 0 streams, 0 tables and 0 rules"))
        self.r("DELETE", "/rules/rule1")
        self.r("DELETE", "/streams/demo")
        self.r("DELETE", "/tables/t1")
        self.assertEqual(self.r("POST", "/ruleset/import", {"content": json.dumps(exported)}),
                         (200, "imported 1 streams, 1 tables and 1 rules"))
        self.assertEqual(self.r("GET", "/streams")[1], ["demo"])
        self.assertEqual(self.r("GET", "/rules/rule1/status")[1]["status"], "running")

    def test_import_documented_example(self):
        doc = {"streams": {"demo": STREAM}, "tables": {},
               "rules": {"rule1": '{"id": "rule1","sql": "SELECT * FROM demo","actions": [{"log": {}}]}',
                         "rule2": '{"id": "rule2","sql": "SELECT * FROM demo","actions": [{  "log": {}}]}'}}
        self.assertEqual(self.r("POST", "/ruleset/import", {"content": json.dumps(doc)}),
                         (200, "imported 1 streams, 0 tables and 2 rules"))
        self.assertEqual([x["id"] for x in self.r("GET", "/rules")[1]], ["rule1", "rule2"])

    def test_import_from_uploads_file_and_outside(self):
        doc = {"streams": {"demo": STREAM}}
        status, path = self.r("POST", "/config/uploads", {"name": "rs.json", "content": json.dumps(doc)})
        self.assertEqual(status, 201)
        self.assertEqual(self.r("POST", "/ruleset/import", {"file": "file://" + path}),
                         (200, "imported 1 streams, 0 tables and 0 rules"))
        outside = os.path.join(self.k.dir, "outside.json")
        with open(outside, "w") as f:
            json.dump(doc, f)
        status, body = self.r("POST", "/ruleset/import", {"file": "file://" + outside})
        self.assertEqual(status, 400)
        self.assertEqual(body["error"], 1000)
        self.assertIn("outside data/uploads", body["message"])
        self.assertIn("allowExternalFileAccess", body["message"])
        # "../" inside the URI is resolved before the check.
        status, body = self.r("POST", "/ruleset/import", {"file": "file://%s/../../outside.json" % os.path.dirname(path)})
        self.assertEqual(status, 400)
        self.assertIn("outside data/uploads", body["message"])

    def test_import_errors(self):
        status, body = self.r("POST", "/ruleset/import", "{not json")
        self.assertEqual(status, 400)
        self.assertIn("not valid JSON", body["message"])
        status, body = self.r("POST", "/ruleset/import", {})
        self.assertEqual(status, 400)
        self.assertIn('"content"', body["message"])
        status, body = self.r("POST", "/ruleset/import", {"content": "{oops"})
        self.assertEqual(status, 400)
        self.assertTrue(body["message"].startswith("import ruleset error: the content is not valid JSON"), body)
        self.assertIn("line 1", body["message"])
        status, body = self.r("POST", "/ruleset/import", {"content": "[1]"})
        self.assertEqual(status, 400)
        status, body = self.r("POST", "/ruleset/import", {"file": "http://example.com/a.json"})
        self.assertEqual(status, 400)
        self.assertIn("file:///", body["message"])
        # A rule whose stream is missing is not created; the others are.
        doc = {"streams": {"demo": STREAM}, "rules": {"bad": '{"sql": "SELECT * FROM nope", "actions": [{"log": {}}]}',
                                                       "good": '{"sql": "SELECT * FROM demo", "actions": [{"log": {}}]}'}}
        self.assertEqual(self.r("POST", "/ruleset/import", {"content": json.dumps(doc)}),
                         (200, "imported 1 streams, 0 tables and 1 rules"))
        self.assertEqual([x["id"] for x in self.r("GET", "/rules")[1]], ["good"])


class Data(FreshKuiperd):
    def test_export_all_has_every_section(self):
        self.r("POST", "/streams", {"sql": STREAM})
        self.r("POST", "/rules", RULE1)
        status, body = self.r("GET", "/data/export")
        self.assertEqual(status, 200)
        self.assertEqual(list(body), SECTIONS)
        self.assertEqual(body["streams"], {"demo": STREAM})
        self.assertEqual(list(body["rules"]), ["rule1"])
        for key in SECTIONS[3:]:
            self.assertIsInstance(body[key], dict)

    def test_export_selected_rules(self):
        self.r("POST", "/streams", {"sql": STREAM})
        self.r("POST", "/streams", {"sql": 'CREATE STREAM other () WITH (DATASOURCE="o")'})
        self.r("POST", "/rules", RULE1)
        self.r("POST", "/rules", {"id": "rule2", "sql": "SELECT * FROM other", "actions": [{"log": {}}]})
        status, body = self.r("POST", "/data/export", ["rule1"])
        self.assertEqual(status, 200)
        self.assertEqual(list(body["rules"]), ["rule1"])
        self.assertEqual(list(body["streams"]), ["demo"])
        status, body = self.r("POST", "/data/export", ["nope"])
        self.assertEqual((status, body["error"]), (404, 1002))
        self.assertIn("nope", body["message"])
        status, body = self.r("POST", "/data/export", '{"rules": 1}')
        self.assertEqual(status, 400)
        self.assertIn("array of rule ids", body["message"])

    def test_full_import_replaces_everything(self):
        self.r("POST", "/streams", {"sql": 'CREATE STREAM old () WITH (DATASOURCE="old")'})
        self.r("POST", "/rules", {"id": "oldrule", "sql": "SELECT * FROM old", "actions": [{"log": {}}]})
        doc = {"streams": {"demo": STREAM}, "rules": {"rule1": json.dumps(RULE1)},
               "sourceConfig": {"mqtt": json.dumps({"conf1": {"server": "tcp://10.0.0.1:1883"}})},
               "nativePlugins": {"functions_image": "{}"}, "scripts": {}}
        self.assertEqual(self.r("POST", "/data/import", {"content": json.dumps(doc)}), (200, ""))
        self.assertEqual(self.r("GET", "/streams")[1], ["demo"])
        self.assertEqual([x["id"] for x in self.r("GET", "/rules")[1]], ["rule1"])
        status, status_body = self.r("GET", "/data/import/status")
        self.assertEqual(status, 200)
        self.assertEqual(list(status_body), SECTIONS)
        self.assertTrue(all(v == {} for v in status_body.values()), status_body)
        # The conf keys come back in the export and in the metadata.
        exported = self.r("GET", "/data/export")[1]
        self.assertEqual(json.loads(exported["sourceConfig"]["mqtt"]), {"conf1": {"server": "tcp://10.0.0.1:1883"}})
        self.assertEqual(self.r("GET", "/metadata/sources/yaml/mqtt")[1]["conf1"], {"server": "tcp://10.0.0.1:1883"})

    def test_partial_import_keeps_and_reports(self):
        self.r("POST", "/streams", {"sql": 'CREATE STREAM keep () WITH (DATASOURCE="k")'})
        doc = {"streams": {"demo": STREAM},
               "rules": {"rule1": json.dumps(RULE1), "broken": '{"sql": "SELECT FROM", "actions": [{"log": {}}]}'}}
        status, body = self.r("POST", "/data/import?partial=1", {"content": json.dumps(doc)})
        self.assertEqual(status, 400)
        self.assertNotEqual(body["ErrorMsg"], "")
        self.assertEqual(list(body["ConfigResponse"]["rules"]), ["broken"])
        self.assertEqual(sorted(self.r("GET", "/streams")[1]), ["demo", "keep"])
        self.assertEqual(list(self.r("GET", "/data/import/status")[1]["rules"]), ["broken"])
        ok = {"rules": {"rule1": json.dumps(dict(RULE1, sql="SELECT * FROM keep"))}}
        status, body = self.r("POST", "/data/import?partial=1", {"content": json.dumps(ok)})
        self.assertEqual((status, body["ErrorMsg"]), (200, ""))
        self.assertEqual(self.r("GET", "/rules/rule1")[1]["sql"], "SELECT * FROM keep")

    def test_import_errors_and_stop(self):
        status, body = self.r("POST", "/data/import", "nope")
        self.assertEqual(status, 400)
        self.assertIn("not valid JSON", body["message"])
        status, body = self.r("POST", "/data/import", {"content": "{]"})
        self.assertEqual(status, 400)
        self.assertTrue(body["message"].startswith("import configuration error:"), body)
        status, body = self.r("POST", "/data/import", {"content": json.dumps({"sourceConfig": {"mqtt": "[1]"}})})
        self.assertEqual(status, 200)
        self.assertIn("mqtt", self.r("GET", "/data/import/status")[1]["sourceConfig"])
        mismatch = {"rules": {"a": json.dumps(dict(RULE1, id="b"))}}
        status, body = self.r("POST", "/data/import?partial=1", {"content": json.dumps(mismatch)})
        self.assertEqual(status, 400)
        self.assertIn('"id" differs from a', body["ConfigResponse"]["rules"]["a"])
        self.assertEqual(self.r("POST", "/data/import?stop=1", {"content": "{}"}), (200, ""))
        self.assertEqual(self.k.proc.wait(10), 0)


if __name__ == "__main__":
    main()
