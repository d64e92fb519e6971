"""`kuiper` against a real kuiperd: each command's reply text as eKuiper's CLI documents it
(docs/en_US/api/cli/streams.md, tables.md, rules.md), the error paths (unknown stream or rule, bad
SQL, bad JSON, duplicate id), and the one line printed when no server answers. Groups whose REST
endpoints kuiperd does not serve yet are skipped, and run as soon as the endpoints appear."""
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
import unittest

from cli_util import KUIPER, endpoint_exists, kuiper
from harness import Kuiperd, free_port, main, wait_for

STREAM_DEF = ('(id bigint, name string, score float) WITH ( datasource = "topic/temperature", '
              'FORMAT = "json", KEY = "id")')
DESCRIBE = ("Fields\n" + "-" * 80 + "\nid\tbigint\nname\tstring\nscore\tfloat\n\n"
            "DATASOURCE: topic/temperature\nFORMAT: json\nKEY: id\n")
RULE = '{"sql": "SELECT * from my_stream","actions": [{"log":  {}}]}'


class ServerDown(unittest.TestCase):
    def test_one_line_and_non_zero_exit(self):
        port = free_port()
        for args in (["show", "streams"], ["create", "rule", "r", RULE], ["getstatus", "rule", "r"]):
            rc, out, err = kuiper(port, *args)
            self.assertEqual((rc, out), (3, "Failed to connect the server, please start the server.\n"), args)
        rc, out, err = kuiper(port, "query", stdin="SELECT 1\n")
        self.assertEqual((rc, out), (3, "Failed to connect the server, please start the server.\n"))


class WithServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = Kuiperd().start()
        cls.dir = tempfile.mkdtemp(prefix="ek-cli-srv-")

    @classmethod
    def tearDownClass(cls):
        cls.k.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def ok(self, *args):
        rc, out, err = kuiper(self.k.rest_port, *args)
        self.assertEqual(rc, 0, "kuiper %s -> %d: %s%s" % (" ".join(args), rc, out, err))
        return out

    def fail(self, *args):
        rc, out, err = kuiper(self.k.rest_port, *args)
        self.assertEqual(rc, 1, "kuiper %s -> %d: %s%s" % (" ".join(args), rc, out, err))
        return out

    def need(self, method, path, body=None):
        if not endpoint_exists(self.k, method, path, body):
            self.skipTest("kuiperd does not serve %s %s yet" % (method, path))


class Streams(WithServer):
    def test_stream_lifecycle_texts(self):
        self.need("GET", "/streams")
        self.assertEqual(self.ok("show", "streams"), "No stream definitions are found.\n")
        self.assertEqual(self.ok("create", "stream", "my_stream", STREAM_DEF), "Stream my_stream is created.\n")
        self.assertEqual(self.ok("show", "streams"), "my_stream\n")
        self.assertEqual(self.ok("describe", "stream", "my_stream"), DESCRIBE)
        self.assertEqual(json.loads(self.ok("describe", "stream", "my_stream", "-json")), {
            "Fields": [{"Name": "id", "Type": "bigint"}, {"Name": "name", "Type": "string"},
                       {"Name": "score", "Type": "float"}],
            "Options": {"DATASOURCE:": "topic/temperature", "FORMAT:": "json", "KEY:": "id"}})
        self.assertEqual(self.ok("drop", "stream", "my_stream"), "Stream my_stream is dropped.\n")
        self.assertEqual(self.ok("show", "streams"), "No stream definitions are found.\n")

    def test_stream_from_file(self):
        self.need("GET", "/streams")
        path = os.path.join(self.dir, "file_stream.txt")
        with open(path, "w") as f:
            f.write('file_stream(id bigint, name string)\n    WITH ( datasource = "t/f", FORMAT = "json");\n')
        self.assertEqual(self.ok("create", "stream", "-f", path),
                         "Creating a new stream from file %s.\nStream file_stream is created.\n" % path)
        self.assertIn("name\tstring\n", self.ok("describe", "stream", "file_stream"))
        self.ok("drop", "stream", "file_stream")

    def test_stream_errors(self):
        self.need("GET", "/streams")
        self.ok("create", "stream", "dup", '(id bigint) WITH (DATASOURCE="dup")')
        out = self.fail("create", "stream", "dup", '(id bigint) WITH (DATASOURCE="dup")')
        self.assertTrue(out.startswith("Stream command error: "), out)
        self.assertIn("already exists", out)
        out = self.fail("create", "stream", "bad", "(id bigint) WTH (DATASOURCE=\"x\")")
        self.assertTrue(out.startswith("Stream command error: "), out)
        self.assertIn("WTH", out)
        out = self.fail("describe", "stream", "nope")
        self.assertTrue(out.startswith("Stream command error: ") and "nope" in out and "not found" in out, out)
        out = self.fail("drop", "stream", "nope")
        self.assertTrue(out.startswith("Stream command error: ") and "not found" in out, out)
        self.ok("drop", "stream", "dup")

    def test_table_lifecycle_texts(self):
        self.need("GET", "/tables")
        self.assertEqual(self.ok("show", "tables"), "No table definitions are found.\n")
        self.assertEqual(self.ok("create", "table", "t1", '(id bigint, name string) WITH (DATASOURCE="t1.json", '
                                 'TYPE="file")'), "Table t1 is created.\n")
        self.assertEqual(self.ok("show", "tables"), "t1\n")
        self.assertEqual(self.ok("describe", "table", "t1"),
                         "Fields\n" + "-" * 80 + "\nid\tbigint\nname\tstring\n\nDATASOURCE: t1.json\nTYPE: file\n")
        self.assertEqual(self.ok("drop", "table", "t1"), "Table t1 is dropped.\n")


class Rules(WithServer):
    def setUp(self):
        self.need("GET", "/rules")
        self.ok("create", "stream", "my_stream", STREAM_DEF)

    def tearDown(self):
        kuiper(self.k.rest_port, "drop", "rule", "rule1")
        kuiper(self.k.rest_port, "drop", "stream", "my_stream")

    def test_rule_lifecycle_texts(self):
        self.assertEqual(self.ok("show", "rules"), "No rule definitions are found.\n")
        self.assertEqual(self.ok("create", "rule", "rule1", RULE),
                         "Rule rule1 was created successfully, please use 'bin/kuiper getstatus rule rule1' "
                         "command to get rule status.\n")
        rules = json.loads(self.ok("show", "rules"))
        self.assertEqual([(r["id"], r["status"]) for r in rules], [("rule1", "running")])
        rule = json.loads(self.ok("describe", "rule", "rule1"))
        self.assertEqual(rule["sql"], "SELECT * from my_stream")
        self.assertEqual(rule["actions"], [{"log": {}}])
        out = self.ok("getstatus", "rule", "rule1")
        self.assertTrue(out.startswith('{\n  "status": "running",\n'), out)
        self.assertIn('"source_my_stream_0_records_in_total": 0', out)
        topo = json.loads(self.ok("gettopo", "rule", "rule1"))
        self.assertEqual(topo["sources"], ["source_my_stream"])
        self.assertEqual(self.ok("stop", "rule", "rule1"), "Rule rule1 was stopped.\n")
        self.assertEqual(json.loads(self.ok("getstatus", "rule", "rule1"))["status"], "stopped")
        self.assertEqual(self.ok("start", "rule", "rule1"), "Rule rule1 was started\n")
        self.assertEqual(self.ok("restart", "rule", "rule1"), "Rule rule1 was restarted.\n")
        wait_for(lambda: json.loads(self.ok("getstatus", "rule", "rule1"))["status"] == "running",
                 what="rule1 running again")
        self.assertEqual(self.ok("drop", "rule", "rule1"), "Rule rule1 is dropped.\n")
        self.assertEqual(self.ok("show", "rules"), "No rule definitions are found.\n")

    def test_rule_from_file_and_validate(self):
        path = os.path.join(self.dir, "rule.txt")
        with open(path, "w") as f:
            f.write(json.dumps(json.loads(RULE), indent=2))
        out = self.ok("create", "rule", "rule1", "-f", path)
        self.assertTrue(out.startswith("Creating a new rule from file %s.\nRule rule1 was created successfully" % path))
        self.assertEqual(self.ok("validate", "rule", "rule2", RULE),
                         "The rule has been successfully validated and is confirmed to be correct.\n")
        self.assertEqual(self.ok("validate", "rule", "rule2", "-f", path).splitlines()[-1],
                         "The rule has been successfully validated and is confirmed to be correct.")
        out = self.fail("validate", "rule", "rule2", '{"sql": "SELECT * from nope", "actions": [{"log": {}}]}')
        self.assertIn("nope", out)
        self.assertEqual(json.loads(self.ok("show", "rules"))[0]["id"], "rule1")

    def test_rule_errors(self):
        self.ok("create", "rule", "rule1", RULE)
        self.assertEqual(self.fail("create", "rule", "rule1", RULE),
                         "Create rule rule1 error : rule rule1 already exists.\n")
        out = self.fail("create", "rule", "rule3", '{"sql": "SELECT * from nope", "actions": [{"log": {}}]}')
        self.assertTrue(out.startswith("Create rule rule3 error : ") and "nope" in out, out)
        out = self.fail("create", "rule", "rule3", '{"sql": "SELEC * from my_stream", "actions": [{"log": {}}]}')
        self.assertTrue(out.startswith("Create rule rule3 error : "), out)
        out = self.fail("create", "rule", "rule3", '{"sql": "SELECT * from my_stream", "actions": [')
        self.assertTrue(out.startswith("Create rule rule3 error : Parse rule "), out)
        out = self.fail("describe", "rule", "nope")
        self.assertTrue(out.startswith("Desc rule error : ") and "nope" in out, out)
        out = self.fail("drop", "rule", "nope")
        self.assertTrue(out.startswith("Drop rule error : ") and "nope" in out, out)
        for verb in ("getstatus", "gettopo", "start", "stop", "restart"):
            out = self.fail(verb, "rule", "nope")
            self.assertIn("nope", out, verb)
        self.assertNotIn("rule3", self.ok("show", "rules"))


class RulesetsAndPlugins(WithServer):
    """Commands whose endpoints kuiperd may not serve yet: each test skips until they exist."""

    def test_export_then_import_ruleset(self):
        self.need("POST", "/ruleset/export")
        self.ok("create", "stream", "rs_stream", '(id bigint) WITH (DATASOURCE="rs")')
        self.ok("create", "rule", "rs_rule", '{"sql": "SELECT * FROM rs_stream", "actions": [{"log": {}}]}')
        path = os.path.join(self.dir, "ruleset.json")
        self.assertEqual(self.ok("export", "ruleset", path), "exported 1 streams, 0 tables and 1 rules\n")
        with open(path) as f:
            exported = json.load(f)
        self.assertIn("rs_stream", exported["streams"])
        self.ok("drop", "rule", "rs_rule")
        self.ok("drop", "stream", "rs_stream")
        self.need("POST", "/ruleset/import", {"content": "{}"})
        self.assertEqual(self.ok("import", "ruleset", "-f", path), "imported 1 streams, 0 tables and 1 rules\n")
        self.assertEqual(self.ok("show", "streams"), "rs_stream\n")
        self.ok("drop", "rule", "rs_rule")
        self.ok("drop", "stream", "rs_stream")

    def test_export_data(self):
        self.need("GET", "/data/export")
        path = os.path.join(self.dir, "data.json")
        self.assertEqual(self.ok("export", "data", path), "export configuration success\n")
        with open(path) as f:
            self.assertIn("streams", json.load(f))

    def test_export_import_data_and_status(self):
        """export data (all, -r), import data (full, -p partial with a failing rule, -s stop) and
        getstatus import, against kuiperd."""
        self.ok("create", "stream", "d_stream", '(id bigint) WITH (DATASOURCE="d")')
        self.ok("create", "rule", "d_rule", '{"sql": "SELECT * FROM d_stream", "actions": [{"log": {}}]}')
        only = os.path.join(self.dir, "only.json")
        self.assertEqual(self.ok("export", "data", only, "-r", '["d_rule"]'), "export configuration success\n")
        with open(only) as f:
            doc = json.load(f)
        self.assertEqual(sorted(doc["rules"]), ["d_rule"])
        self.assertEqual(sorted(doc["streams"]), ["d_stream"])
        out = self.fail("export", "data", only, "-r", '["nosuch"]')
        self.assertIn("nosuch", out)
        self.ok("drop", "rule", "d_rule")
        self.ok("drop", "stream", "d_stream")
        # A full import brings both back.
        self.assertEqual(self.ok("import", "data", "-f", only), "\n")
        self.assertEqual(self.ok("show", "streams"), "d_stream\n")
        self.assertEqual(json.loads(self.ok("getstatus", "import"))["rules"], {})
        # Partial, with a rule on a missing stream: the server's per-item answer, exit status 1.
        bad = os.path.join(self.dir, "bad.json")
        with open(bad, "w") as f:
            json.dump({"rules": {"b": json.dumps({"id": "b", "sql": "SELECT * FROM nosuch", "actions": [{"log": {}}]})}}, f)
        out = self.fail("import", "data", "-f", bad, "-p", "true")
        self.assertIn('"ErrorMsg"', out)
        self.assertIn("nosuch", json.loads(self.ok("getstatus", "import"))["rules"]["b"])
        self.assertEqual(self.ok("show", "streams"), "d_stream\n")  # partial kept it
        self.ok("drop", "rule", "d_rule")
        self.ok("drop", "stream", "d_stream")

    def test_show_plugins_and_udfs(self):
        self.need("GET", "/plugins/sinks")
        out = self.ok("show", "plugins", "sink")
        self.assertTrue(out == "No plugin is found.\n" or out.strip(), out)
        self.need("GET", "/plugins/udfs")
        out = self.ok("show", "udfs")
        self.assertTrue(out == "No udf is found.\n" or out.strip(), out)
        out = self.fail("describe", "plugin", "sink", "no_such_plugin")
        self.assertTrue(out.startswith("Describe plugin error: "), out)


class QueryShell(WithServer):
    """The shell against kuiperd: needs the rest sink for results; until then the server's refusal is
    shown and the prompt comes back."""

    def test_query_against_kuiperd(self):
        self.need("GET", "/rules")
        self.ok("create", "stream", "qdemo", '() WITH (DATASOURCE="qdemo", FORMAT="json")')
        probe = {"id": "probe", "sql": "SELECT * FROM qdemo", "actions": [{"rest": {"url": "http://127.0.0.1:1/"}}]}
        status, reply = self.k.request("POST", "/rules/validate", probe)
        if status != 200:
            p = subprocess.run([KUIPER, "--port", str(self.k.rest_port), "query"],
                               input="SELECT * FROM qdemo\nexit\n", capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 0)
            self.assertTrue(p.stdout.startswith("kuiper > "), p.stdout)
            self.assertIn("rest", p.stdout)
            self.assertTrue(p.stdout.endswith("kuiper > "), p.stdout)
            self.skipTest("kuiperd has no rest sink yet: %s" % reply)
        import paho.mqtt.publish as publish
        proc = subprocess.Popen([KUIPER, "--port", str(self.k.rest_port), "query"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        try:
            proc.stdin.write("SELECT id FROM qdemo WHERE id > 10\n")
            proc.stdin.flush()
            self.assertEqual(proc.stdout.readline(), "kuiper > Query was submit successfully.\n")
            rule_id = "internal-ekuiper_query_rule_%d" % proc.pid
            wait_for(lambda: self.k.request("GET", "/rules/%s/status" % rule_id)[0] == 200, what="query rule")
            # The rule subscribes asynchronously: publish until the first result shows.
            deadline = time.time() + 15
            while time.time() < deadline:
                publish.single("qdemo", json.dumps({"id": 5}), hostname="127.0.0.1", port=self.k.mqtt_port)
                publish.single("qdemo", json.dumps({"id": 11}), hostname="127.0.0.1", port=self.k.mqtt_port)
                if select.select([proc.stdout], [], [], 0.5)[0]:
                    break
            self.assertEqual(json.loads(proc.stdout.readline()), [{"id": 11}])
            proc.stdin.write("exit\n")
            proc.stdin.flush()
            self.assertEqual(proc.wait(10), 0)
            self.assertEqual(self.k.request("GET", "/rules/%s" % rule_id)[0], 404)
        finally:
            proc.kill()
            proc.wait()
            proc.stdin.close()
            proc.stdout.close()

if __name__ == "__main__":
    main()
