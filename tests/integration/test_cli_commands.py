"""Every `kuiper` command against a fake server that answers as eKuiper's REST API does: the CLI
must send eKuiper's documented request (method, path, body) and print eKuiper's CLI reply text
(docs/en_US/api/cli/*.md and the texts of its RPC server), for success and for error replies.
The same texts are checked against the real kuiperd in test_cli_server.py as endpoints appear."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from cli_util import KUIPER, FakeRest, kuiper
from harness import main

DASHES = "-" * 80
STREAM_DEF = ('(id bigint, name string, score float) WITH ( datasource = "topic/temperature", '
              'FORMAT = "json", KEY = "id")')
STREAM_JSON = {"Name": "my_stream", "StreamFields": [
    {"FieldType": "bigint", "Name": "id"}, {"FieldType": "string", "Name": "name"},
    {"FieldType": "float", "Name": "score"}],
    "Options": {"datasource": "topic/temperature", "key": "id", "format": "json"}, "StreamType": 0}
RULE = '{"sql": "SELECT * from demo","actions": [{"log":  {}},{"mqtt":  {"server":"tcp://127.0.0.1:1883", "topic":"demoSink"}}]}'


class Base(unittest.TestCase):
    def setUp(self):
        self.fake = FakeRest().__enter__()
        self.dir = tempfile.mkdtemp(prefix="ek-cli-")

    def tearDown(self):
        self.fake.__exit__(None, None, None)
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_ok(self, *args):
        rc, out, err = kuiper(self.fake.port, *args)
        self.assertEqual(rc, 0, "kuiper %s: %s%s" % (" ".join(args), out, err))
        return out

    def run_fail(self, *args, rc=1):
        got, out, err = kuiper(self.fake.port, *args)
        self.assertEqual(got, rc, "kuiper %s: %s%s" % (" ".join(args), out, err))
        return out

    def path(self, name, text):
        p = os.path.join(self.dir, name)
        with open(p, "w") as f:
            f.write(text)
        return p


class Streams(Base):
    def test_create_stream_inline_and_from_file(self):
        self.fake.route("POST", "/streams", 201, "Stream my_stream is created.")
        out = self.run_ok("create", "stream", "my_stream", STREAM_DEF)
        self.assertEqual(out, "Stream my_stream is created.\n")
        body = json.loads(self.fake.last("POST", "/streams")[2])
        self.assertEqual(body, {"sql": "create stream my_stream " + STREAM_DEF})

        f = self.path("my_stream.txt", "my_stream(id bigint, name string, score float)\n"
                      '    WITH ( datasource = "topic/temperature", FORMAT = "json", KEY = "id");\n')
        out = self.run_ok("create", "stream", "-f", f)
        self.assertEqual(out, "Creating a new stream from file %s.\nStream my_stream is created.\n" % f)
        sql = json.loads(self.fake.last("POST", "/streams")[2])["sql"]
        self.assertTrue(sql.startswith("CREATE STREAM my_stream(id bigint"), sql)
        self.assertTrue(sql.endswith('KEY = "id")'), sql)

    def test_create_table(self):
        self.fake.route("POST", "/tables", 201, "Table t1 is created.")
        out = self.run_ok("create", "table", "t1", '(id bigint) WITH (DATASOURCE="t1.json", TYPE="file")')
        self.assertEqual(out, "Table t1 is created.\n")
        self.assertEqual(json.loads(self.fake.last("POST", "/tables")[2])["sql"],
                         'create table t1 (id bigint) WITH (DATASOURCE="t1.json", TYPE="file")')

    def test_create_errors(self):
        self.fake.route("POST", "/streams", 400, {"error": 3000, "message": "Create stream fails: "
                                                  "my_stream already exists."})
        out = self.run_fail("create", "stream", "my_stream", STREAM_DEF)
        self.assertEqual(out, "Stream command error: Create stream fails: my_stream already exists.\n")
        self.fake.route("POST", "/streams", 400, {"error": 2001, "message": "found \"WTH\", expected WITH."})
        out = self.run_fail("create", "stream", "s", "(a bigint) WTH (x=1)")
        self.assertEqual(out, "Stream command error: found \"WTH\", expected WITH.\n")

    def test_show(self):
        self.fake.route("GET", "/streams", 200, ["my_stream", "demo"])
        self.assertEqual(self.run_ok("show", "streams"), "my_stream\ndemo\n")
        self.fake.route("GET", "/streams", 200, [])
        self.assertEqual(self.run_ok("show", "streams"), "No stream definitions are found.\n")
        self.fake.route("GET", "/tables", 200, [])
        self.assertEqual(self.run_ok("show", "tables"), "No table definitions are found.\n")

    def test_describe(self):
        self.fake.route("GET", "/streams/my_stream", 200, STREAM_JSON)
        out = self.run_ok("describe", "stream", "my_stream")
        self.assertEqual(out, "Fields\n%s\nid\tbigint\nname\tstring\nscore\tfloat\n\n"
                              "DATASOURCE: topic/temperature\nFORMAT: json\nKEY: id\n" % DASHES)
        out = self.run_ok("describe", "stream", "my_stream", "-json")
        self.assertEqual(json.loads(out), {
            "Fields": [{"Name": "id", "Type": "bigint"}, {"Name": "name", "Type": "string"},
                       {"Name": "score", "Type": "float"}],
            "Options": {"DATASOURCE:": "topic/temperature", "FORMAT:": "json", "KEY:": "id"}})
        self.assertTrue(out.startswith('{\n\t"Fields": [\n\t\t{\n\t\t\t"Name": "id",'), out)
        self.fake.route("GET", "/streams/nope", 404, {"error": 1002, "message": "stream nope is not found"})
        self.assertEqual(self.run_fail("describe", "stream", "nope"),
                         "Stream command error: stream nope is not found\n")

    def test_drop(self):
        self.fake.route("DELETE", "/streams/my_stream", 200, "Stream my_stream is dropped.")
        self.assertEqual(self.run_ok("drop", "stream", "my_stream"), "Stream my_stream is dropped.\n")
        self.fake.route("DELETE", "/tables/t1", 200, "Table t1 is dropped.")
        self.assertEqual(self.run_ok("drop", "table", "t1"), "Table t1 is dropped.\n")


class Rules(Base):
    def test_create(self):
        self.fake.route("POST", "/rules", 201, "Rule rule1 was created successfully.")
        out = self.run_ok("create", "rule", "rule1", RULE)
        self.assertEqual(out, "Rule rule1 was created successfully, please use 'bin/kuiper getstatus rule "
                              "rule1' command to get rule status.\n")
        body = json.loads(self.fake.last("POST", "/rules")[2])
        self.assertEqual(body["id"], "rule1")
        self.assertEqual(body["sql"], "SELECT * from demo")
        f = self.path("rule.txt", RULE)
        out = self.run_ok("create", "rule", "rule1", "-f", f)
        self.assertTrue(out.startswith("Creating a new rule from file %s.\nRule rule1 was created" % f), out)

    def test_create_errors(self):
        self.fake.route("POST", "/rules", 400, {"error": 1000, "message": "rule rule1 already exists"})
        self.assertEqual(self.run_fail("create", "rule", "rule1", RULE),
                         "Create rule rule1 error : rule rule1 already exists.\n")
        self.fake.clear()
        out = self.run_fail("create", "rule", "rule1", '{"sql": ')
        self.assertTrue(out.startswith('Create rule rule1 error : Parse rule {"sql":  error : '), out)
        out = self.run_fail("create", "rule", "rule1", '{"id": "other", "sql": "SELECT 1"}')
        self.assertEqual(out, "Create rule rule1 error : RuleId is not consistent with rule id..\n")
        self.assertIsNone(self.fake.last("POST", "/rules"))
        self.assertEqual(self.run_fail("create", "rule", "rule1", rc=2),
                         "Expect rule name and json.\nBut found 1 args:[rule1].\n")

    def test_show_describe_status_topo(self):
        self.fake.route("GET", "/rules", 200, [])
        self.assertEqual(self.run_ok("show", "rules"), "No rule definitions are found.\n")
        self.fake.route("GET", "/rules", 200, [{"id": "rule1", "name": "", "status": "running"}])
        self.assertEqual(self.run_ok("show", "rules"),
                         '[\n  {\n    "id": "rule1",\n    "name": "",\n    "status": "running"\n  }\n]\n')
        self.fake.route("GET", "/rules/rule1", 200, {"id": "rule1", "sql": "SELECT * from demo",
                                                      "actions": [{"log": {}}]})
        self.assertEqual(self.run_ok("describe", "rule", "rule1"),
                         '{\n  "id": "rule1",\n  "sql": "SELECT * from demo",\n  "actions": [\n    {\n'
                         '      "log": {}\n    }\n  ]\n}\n')
        self.fake.route("GET", "/rules/rule1/status", 200, {"status": "running", "message": "",
                                                             "source_demo_0_records_in_total": 5})
        self.assertEqual(self.run_ok("getstatus", "rule", "rule1"),
                         '{\n  "status": "running",\n  "message": "",\n  "source_demo_0_records_in_total": 5\n}\n')
        self.fake.route("GET", "/rules/rule1/topo", 200, {"sources": ["source_demo"],
                                                           "edges": {"source_demo": ["op_2_project"]}})
        self.assertEqual(self.run_ok("gettopo", "rule", "rule1"),
                         '{\n  "sources": [\n    "source_demo"\n  ],\n  "edges": {\n    "source_demo": [\n'
                         '      "op_2_project"\n    ]\n  }\n}\n')
        self.fake.route("GET", "/rules/nope", 404, {"error": 1002, "message": "Rule nope is not found."})
        self.assertEqual(self.run_fail("describe", "rule", "nope"), "Desc rule error : Rule nope is not found..\n")
        self.fake.route("GET", "/rules/nope/status", 404, {"error": 1002, "message": "Rule nope is not found"})
        self.assertEqual(self.run_fail("getstatus", "rule", "nope"), "Rule nope is not found\n")

    def test_lifecycle(self):
        self.fake.route("POST", "/rules/rule1/start", 200, "Rule rule1 was started")
        self.fake.route("POST", "/rules/rule1/stop", 200, "Rule rule1 was stopped.")
        self.fake.route("POST", "/rules/rule1/restart", 200, "Rule rule1 was restarted")
        self.fake.route("DELETE", "/rules/rule1", 200, "Rule rule1 is dropped.")
        self.assertEqual(self.run_ok("start", "rule", "rule1"), "Rule rule1 was started\n")
        self.assertEqual(self.run_ok("stop", "rule", "rule1"), "Rule rule1 was stopped.\n")
        self.assertEqual(self.run_ok("restart", "rule", "rule1"), "Rule rule1 was restarted.\n")
        self.assertEqual(self.run_ok("drop", "rule", "rule1"), "Rule rule1 is dropped.\n")
        self.fake.route("DELETE", "/rules/nope", 404, {"error": 1002, "message": "Rule nope is not found."})
        self.assertEqual(self.run_fail("drop", "rule", "nope"), "Drop rule error : Rule nope is not found..\n")

    def test_validate(self):
        self.fake.route("POST", "/rules/validate", 200, {"valid": True, "sources": ["demo"]})
        self.assertEqual(self.run_ok("validate", "rule", "rule1", RULE),
                         "The rule has been successfully validated and is confirmed to be correct.\n")
        self.assertEqual(json.loads(self.fake.last("POST", "/rules/validate")[2])["id"], "rule1")
        self.fake.route("POST", "/rules/validate", 422, "invalid rule json: Missing rule actions.")
        self.assertEqual(self.run_fail("validate", "rule", "rule1", '{"sql":"SELECT * FROM demo"}'),
                         "invalid rule json: Missing rule actions.\n")


class Plugins(Base):
    def test_plugins(self):
        self.fake.route("GET", "/plugins/sinks", 200, [])
        self.assertEqual(self.run_ok("show", "plugins", "sink"), "No plugin is found.\n")
        self.fake.route("GET", "/plugins/sinks", 200, ["file", "influx"])
        self.assertEqual(self.run_ok("show", "plugins", "sink"), "file\ninflux\n")
        self.fake.route("POST", "/plugins/sinks", 201, "Plugin file is created.")
        out = self.run_ok("create", "plugin", "sink", "file", '{"file":"http://127.0.0.1/plugins/sinks/file.zip"}')
        self.assertEqual(out, "Plugin file is created.\n")
        self.assertEqual(json.loads(self.fake.last("POST", "/plugins/sinks")[2]),
                         {"file": "http://127.0.0.1/plugins/sinks/file.zip", "name": "file"})
        z = self.path("random.zip", "PK")
        self.run_ok("create", "plugin", "sink", "file", "-zf", z)
        self.assertEqual(json.loads(self.fake.last("POST", "/plugins/sinks")[2])["file"], "file://" + z)
        self.fake.route("GET", "/plugins/sinks/file", 200, {"name": "file", "version": "1.0.0"})
        self.assertEqual(self.run_ok("describe", "plugin", "sink", "file"),
                         '{\n  "name": "file",\n  "version": "1.0.0"\n}\n')
        self.fake.route("DELETE", "/plugins/sinks/file", 200, "Plugin file is deleted.")
        self.assertEqual(self.run_ok("drop", "plugin", "sink", "file"),
                         "Plugin file is dropped and Kuiper must restart for the change to take effect.\n")
        self.fake.route("DELETE", "/plugins/sinks/file?stop=1", 200, "Plugin file is deleted.")
        self.assertEqual(self.run_ok("drop", "plugin", "sink", "file", "-s", "true"),
                         "Plugin file is dropped and Kuiper will be stopped.\n")
        self.fake.route("POST", "/plugins/sinks", 400, {"error": 1000, "message": "invalid name file: duplicate"})
        self.assertEqual(self.run_fail("create", "plugin", "sink", "file", '{"file":"x"}'),
                         "Create plugin error: invalid name file: duplicate\n")
        self.fake.clear()
        self.assertEqual(self.run_fail("create", "plugin", "sink", "file", "[1]"),
                         "Create plugin error: Parse plugin [1] error : expected a JSON object.\n")
        self.assertIsNone(self.fake.last("POST", "/plugins/sinks"))

    def test_udfs_and_register(self):
        self.fake.route("GET", "/plugins/udfs", 200, [])
        self.assertEqual(self.run_ok("show", "udfs"), "No udf is found.\n")
        self.fake.route("GET", "/plugins/udfs", 200, ["echo", "echo2"])
        self.assertEqual(self.run_ok("show", "udfs"), "echo\necho2\n")
        self.fake.route("GET", "/plugins/udfs/echo", 200, {"name": "echo", "plugin": "echos"})
        self.assertEqual(self.run_ok("describe", "udf", "echo"), '{\n  "name": "echo",\n  "plugin": "echos"\n}\n')
        self.fake.route("POST", "/plugins/functions/echos/register", 200, "Plugin echos is created.")
        self.assertEqual(self.run_ok("register", "plugin", "function", "echos", '{"functions":["echo","echo2"]}'),
                         "Plugin echos is created.\n")
        self.assertEqual(json.loads(self.fake.last("POST", "/plugins/functions/echos/register")[2]),
                         {"functions": ["echo", "echo2"]})


class Ruleset(Base):
    def test_import_export_ruleset(self):
        f = self.path("rs.json", '{"streams":{"demo":"CREATE STREAM demo () WITH (DATASOURCE=\\"d\\")"}}')
        self.fake.route("POST", "/ruleset/import", 200, "imported 1 streams, 0 tables and 0 rules")
        self.assertEqual(self.run_ok("import", "ruleset", "-f", f), "imported 1 streams, 0 tables and 0 rules\n")
        content = json.loads(self.fake.last("POST", "/ruleset/import")[2])["content"]
        self.assertIn("CREATE STREAM demo", content)
        exported = {"streams": {"demo": "CREATE STREAM demo () WITH ()"}, "tables": {},
                    "rules": {"rule1": "{}", "rule2": "{}"}}
        self.fake.route("POST", "/ruleset/export", 200, exported)
        out_file = os.path.join(self.dir, "out.json")
        self.assertEqual(self.run_ok("export", "ruleset", out_file), "exported 1 streams, 0 tables and 2 rules\n")
        with open(out_file) as fh:
            self.assertEqual(json.load(fh), exported)
        self.assertEqual(self.run_fail("import", "ruleset", rc=2), "Required ruleset json file to import\n")

    def test_import_export_data(self):
        f = self.path("conf.json", '{"streams":{},"rules":{}}')
        self.fake.route("POST", "/data/import?partial=1", 200, {"ErrorMsg": "", "ConfigResponse": {}})
        self.assertEqual(self.run_ok("import", "data", "-f", f, "-p", "true"),
                         '{\n  "ErrorMsg": "",\n  "ConfigResponse": {}\n}\n')
        self.assertEqual(json.loads(self.fake.last("POST", r"/data/import.*")[2]),
                         {"content": '{"streams":{},"rules":{}}'})
        self.fake.route("POST", "/data/import?stop=1", 200, {"ErrorMsg": "", "ConfigResponse": {}})
        self.run_ok("import", "data", "-f", f, "-s", "true", "-p", "false")
        out_file = os.path.join(self.dir, "data.json")
        self.fake.route("GET", "/data/export", 200, {"streams": {}, "rules": {}})
        self.assertEqual(self.run_ok("export", "data", out_file), "export configuration success\n")
        self.fake.route("POST", "/data/export", 200, {"streams": {}, "rules": {"rule1": "{}"}})
        self.run_ok("export", "data", out_file, "-r", '["rule1"]')
        self.assertEqual(json.loads(self.fake.last("POST", "/data/export")[2]), ["rule1"])
        with open(out_file) as fh:
            self.assertEqual(json.load(fh)["rules"], {"rule1": "{}"})
        self.fake.route("GET", "/data/import/status", 200, {"streams": {}, "rules": {}})
        self.assertEqual(self.run_ok("getstatus", "import"), '{\n  "streams": {},\n  "rules": {}\n}\n')


class Others(Base):
    def test_services_schemas_scripts(self):
        self.fake.route("GET", "/services", 200, [])
        self.assertEqual(self.run_ok("show", "services"), "No service definitions are found.\n")
        self.fake.route("POST", "/services", 201, "service sample is created")
        self.assertEqual(self.run_ok("create", "service", "sample", '{"name":"sample","file":"file:///tmp/s.zip"}'),
                         "Service sample is created.\n")
        self.fake.route("DELETE", "/services/sample", 200, "service sample is deleted")
        self.assertEqual(self.run_ok("drop", "service", "sample"), "Service sample is dropped\n")
        self.fake.route("GET", "/schemas/protobuf", 200, ["schema1"])
        self.assertEqual(self.run_ok("show", "schemas", "protobuf"), '[\n  "schema1"\n]\n')
        self.fake.route("POST", "/schemas/protobuf", 201, "Schema schema1 is created")
        self.assertEqual(self.run_ok("create", "schema", "protobuf", "schema1", '{"content":"message A {}"}'),
                         "Schema schema1 is created.\n")
        self.assertEqual(json.loads(self.fake.last("POST", "/schemas/protobuf")[2])["name"], "schema1")
        self.fake.route("POST", "/udf/javascript", 201, "JavaScript function area is created")
        self.assertEqual(self.run_ok("create", "script", '{"id":"area","script":"function area(x){return x}"}'),
                         "JavaScript function area is created.\n")
        self.fake.route("GET", "/udf/javascript", 200, [])
        self.assertEqual(self.run_ok("show", "scripts"), "No JavaScript functions are found.\n")
        self.assertEqual(self.run_fail("create", "service", "sample", "[1]"),
                         "Parse service [1] error : expected a JSON object.\n")

    def test_environment_and_config_pick_the_server(self):
        self.fake.route("GET", "/streams", 200, ["viaenv"])
        rc, _, err = kuiper(0, "show", "streams")
        self.assertEqual((rc, err), (2, '--port: invalid port "0"\n'))
        env = dict(os.environ, KUIPER_PORT=str(self.fake.port), KUIPER_HOST="127.0.0.1")
        p = subprocess.run([KUIPER, "show", "streams"], capture_output=True, text=True, env=env, timeout=20)
        self.assertEqual((p.returncode, p.stdout), (0, "viaenv\n"))
        etc = os.path.join(self.dir, "etc")
        os.makedirs(etc)
        self.path("etc/client.yaml", "basic:\n  host: 127.0.0.1\n  port: %d\n" % self.fake.port)
        env = {k: v for k, v in os.environ.items() if k not in ("KUIPER_PORT", "KUIPER_HOST")}
        p = subprocess.run([KUIPER, "--etc", etc, "show", "streams"], capture_output=True, text=True, env=env,
                           timeout=20)
        self.assertEqual((p.returncode, p.stdout), (0, "viaenv\n"))


if __name__ == "__main__":
    main()
