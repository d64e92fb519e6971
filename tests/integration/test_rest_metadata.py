"""/metadata (source, sink and function types; conf keys of sources, sinks and connections) and
/connections against a real kuiperd. Conf keys set over REST override etc/ files and the environment
(REST > env > yaml), survive a restart, and a deleted file key stays deleted. Error paths: unknown
types, unknown keys, bad bodies, duplicate and unknown connection ids, unknown connection types."""
import json
import unittest

from harness import Kuiperd, main


class Metadata(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = Kuiperd(env={"MQTT_SOURCE__DEMO_CONF__QOS": "2"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.k.cleanup()

    def r(self, *a, **kw):
        return self.k.request(*a, **kw)

    ABOUT = ["author", "description", "helpUrl", "installed", "trial"]
    FIELD = ["connection_related", "control", "default", "exist", "hint", "label", "name", "optional", "type",
             "values"]

    def test_type_lists(self):
        """eKuiper's pluginfo list: [{name, about, type}] sorted by name, about with {en, zh} texts."""
        for path, must in (("/metadata/sources", ["memory", "mqtt"]), ("/metadata/sinks", ["log", "mqtt"])):
            status, types = self.r("GET", path)
            self.assertEqual(status, 200)
            names = [t["name"] for t in types]
            self.assertEqual(names, sorted(names))
            for n in must:
                self.assertIn(n, names)
            for t in types:
                self.assertEqual(sorted(t), ["about", "name", "type"])
                self.assertEqual(t["type"], "internal")
                self.assertEqual(sorted(t["about"]), self.ABOUT)
                self.assertTrue(t["about"]["installed"])
                self.assertEqual(sorted(t["about"]["description"]), ["en", "zh"])
                self.assertEqual(sorted(t["about"]["author"]), ["company", "email", "name", "website"])
        # ?kind=lookup lists only sources serving lookup tables.
        status, lookups = self.r("GET", "/metadata/sources?kind=lookup")
        self.assertEqual(status, 200)
        self.assertNotIn("mqtt", [t["name"] for t in lookups])
        self.assertLess(len(lookups), len(self.r("GET", "/metadata/sources")[1]))

    def test_source_and_sink_metadata(self):
        status, mqtt = self.r("GET", "/metadata/sources/mqtt")
        self.assertEqual(status, 200)
        self.assertEqual(sorted(mqtt), ["about", "libs", "node", "properties", "type"])
        self.assertEqual(list(mqtt["properties"]), ["default"])
        server = [p for p in mqtt["properties"]["default"] if p["name"] == "server"][0]
        self.assertEqual(sorted(server), self.FIELD)
        self.assertEqual((server["type"], server["control"]), ("string", "text"))
        self.assertEqual(mqtt["node"]["category"], "source")
        status, log = self.r("GET", "/metadata/sinks/log")
        self.assertEqual(status, 200)
        self.assertEqual(sorted(log), ["about", "libs", "node", "properties", "type"])
        self.assertIsInstance(log["properties"], list)
        self.assertEqual(log["node"]["category"], "sink")
        # The connection view: only the connection-related properties of the source.
        status, conn = self.r("GET", "/metadata/connections/mqtt")
        self.assertEqual(status, 200)
        names = [p["name"] for p in conn["properties"]["default"]]
        self.assertIn("server", names)
        self.assertNotIn("qos", names)
        self.assertTrue(all(p["connection_related"] for p in conn["properties"]["default"]))
        self.assertIn("qos", [p["name"] for p in mqtt["properties"]["default"]])
        # eKuiper's errors for unknown plugins: 400, code 5000 (ConfKeyError).
        self.assertEqual(self.r("GET", "/metadata/sources/nosuch"),
                         (400, {"error": 5000, "message": "This plugin was not found:nosuch"}))
        self.assertEqual(self.r("GET", "/metadata/sinks/nosuch"),
                         (400, {"error": 5000, "message": "This plugin was not found:nosuch"}))
        self.assertEqual(self.r("GET", "/metadata/sinks/yaml/nosuch"),
                         (400, {"error": 5000, "message": "This plugin was not found:sinks.nosuch"}))

    def test_functions(self):
        """A list of function files as etc/functions/internal.json: {about, functions[...]}."""
        status, files = self.r("GET", "/metadata/functions")
        self.assertEqual(status, 200)
        self.assertEqual(len(files), 1)
        self.assertEqual(sorted(files[0]), ["about", "functions"])
        self.assertEqual(sorted(files[0]["about"]["description"]), ["en_US", "zh_CN"])
        funcs = {f["name"]: f for f in files[0]["functions"]}
        self.assertEqual(sorted(funcs["abs"]), ["args", "example", "hint", "name", "node", "return"])
        self.assertEqual(funcs["abs"]["example"], "abs(col1)")
        self.assertEqual(len(funcs["abs"]["args"]), 1)
        self.assertEqual(sorted(funcs["abs"]["args"][0]), ["control", "hint", "label", "name", "optional", "type"])
        self.assertEqual(sorted(funcs["avg"]), ["aggregate", "args", "example", "hint", "name", "node", "return"])
        self.assertIs(funcs["avg"]["aggregate"], True)
        self.assertEqual(funcs["avg"]["node"]["category"], "function")

    def test_source_conf_keys(self):
        status, conf = self.r("GET", "/metadata/sources/yaml/mqtt")
        self.assertEqual(status, 200)
        self.assertIn("default", conf)
        self.assertEqual(conf["demo_conf"]["qos"], 2)  # env over yaml
        self.assertEqual(self.r("PUT", "/metadata/sources/mqtt/confKeys/demo_conf",
                                {"qos": 1, "server": "tcp://10.1.1.1:1883"}), (200, ""))
        self.assertEqual(self.r("GET", "/metadata/sources/yaml/mqtt")[1]["demo_conf"],
                         {"qos": 1, "server": "tcp://10.1.1.1:1883"})  # REST over env
        self.assertEqual(self.r("PUT", "/metadata/sources/mqtt/confKeys/mine", {"server": "tcp://h:1"}), (200, ""))
        self.assertEqual(self.r("DELETE", "/metadata/sources/mqtt/confKeys/mine"), (200, ""))
        self.assertNotIn("mine", self.r("GET", "/metadata/sources/yaml/mqtt")[1])
        status, body = self.r("DELETE", "/metadata/sources/mqtt/confKeys/mine")
        self.assertEqual((status, body["error"]), (404, 1002))
        self.assertIn("conf key mine of source mqtt is not found", body["message"])
        status, body = self.r("PUT", "/metadata/sources/mqtt/confKeys/x", "[1]")
        self.assertEqual(status, 400)
        self.assertIn("JSON object", body["message"])
        status, body = self.r("PUT", "/metadata/sources/mqtt/confKeys/x", "{bad")
        self.assertEqual(status, 400)
        self.assertIn("not valid JSON", body["message"])
        self.assertEqual(self.r("PUT", "/metadata/sources/nosuch/confKeys/x", {}),
                         (400, {"error": 5000, "message": "This plugin was not found:sources.nosuch"}))

    def test_secrets_are_masked(self):
        """eKuiper answers "******" for password and token (any case) and keeps the stored value when
        "******" is sent back."""
        self.assertEqual(self.r("PUT", "/metadata/sources/mqtt/confKeys/sec",
                                {"server": "tcp://h:1", "password": "p1", "Token": "t1"}), (200, ""))
        conf = self.r("GET", "/metadata/sources/yaml/mqtt")[1]["sec"]
        self.assertEqual(conf, {"server": "tcp://h:1", "password": "******", "Token": "******"})
        conf["server"] = "tcp://h:2"
        self.assertEqual(self.r("PUT", "/metadata/sources/mqtt/confKeys/sec", conf), (200, ""))
        # The stored secrets are unchanged: the whole export (REST layer) still has them.
        status, doc = self.r("GET", "/data/export")
        stored = json.loads(doc["sourceConfig"]["mqtt"])["sec"]
        self.assertEqual(stored, {"server": "tcp://h:2", "password": "p1", "Token": "t1"})
        self.r("DELETE", "/metadata/sources/mqtt/confKeys/sec")

    def test_sink_and_connection_conf_keys(self):
        self.assertEqual(self.r("PUT", "/metadata/sinks/mqtt/confKeys/s1", {"topic": "t"}), (200, ""))
        self.assertEqual(self.r("GET", "/metadata/sinks/yaml/mqtt"), (200, {"s1": {"topic": "t"}}))
        self.assertEqual(self.r("PUT", "/metadata/connections/mqtt/confKeys/c1", {"server": "tcp://a:1"}), (200, ""))
        self.assertEqual(self.r("GET", "/metadata/connections/yaml/mqtt")[1]["c1"], {"server": "tcp://a:1"})
        self.assertIn("mqtt", [c["name"] for c in self.r("GET", "/metadata/connections")[1]])
        self.assertEqual(self.r("DELETE", "/metadata/connections/mqtt/confKeys/c1"), (200, ""))


class Persistence(unittest.TestCase):
    def test_deleted_file_key_stays_deleted_after_restart(self):
        with Kuiperd() as k:
            self.assertIn("demo_conf", k.request("GET", "/metadata/sources/yaml/mqtt")[1])
            self.assertEqual(k.request("DELETE", "/metadata/sources/mqtt/confKeys/demo_conf"), (200, ""))
            self.assertEqual(k.request("DELETE", "/metadata/sources/mqtt/confKeys/demo_conf")[0], 404)
            k.request("PUT", "/metadata/sources/mqtt/confKeys/added", {"qos": 0})
            k.restart()
            conf = k.request("GET", "/metadata/sources/yaml/mqtt")[1]
            self.assertNotIn("demo_conf", conf)
            self.assertEqual(conf["added"], {"qos": 0})


class Connections(unittest.TestCase):
    def test_lifecycle_and_errors(self):
        with Kuiperd() as k:
            r = k.request
            self.assertEqual(r("GET", "/connections"), (200, []))
            conn = {"id": "conn1", "typ": "mqtt", "props": {"server": "tcp://127.0.0.1:1883"}}
            self.assertEqual(r("POST", "/connections", conn), (201, "connection conn1 is created"))
            status, body = r("POST", "/connections", conn)
            self.assertEqual((status, body["message"]), (400, "connection conn1 already exists"))
            self.assertEqual(r("GET", "/connections"), (200, [conn]))
            self.assertEqual(r("GET", "/connections/conn1"), (200, conn))
            conn2 = dict(conn, props={"server": "tcp://127.0.0.1:1884"})
            self.assertEqual(r("PUT", "/connections/conn1", conn2), (200, "connection conn1 is updated"))
            self.assertEqual(r("GET", "/connections/conn1")[1], conn2)
            for bad, words in (({"typ": "mqtt"}, '"id"'), ({"id": "x"}, '"typ"'),
                               ({"id": "x", "typ": "nosuch"}, "unknown connection type"),
                               ({"id": "x", "typ": "mqtt", "props": 1}, '"props"')):
                status, body = r("POST", "/connections", bad)
                self.assertEqual(status, 400, bad)
                self.assertIn(words, body["message"])
            status, body = r("PUT", "/connections/conn1", dict(conn, id="other"))
            self.assertEqual(status, 400)
            self.assertIn("differs", body["message"])
            self.assertEqual(r("PUT", "/connections/nope", conn)[0], 404)
            # In use by a rule: refused.
            r("POST", "/streams", {"sql": 'CREATE STREAM s () WITH (DATASOURCE="s")'})
            rule = {"id": "ru", "sql": "SELECT * FROM s",
                    "actions": [{"log": {"connectionSelector": "conn1"}}], "triggered": False}
            self.assertEqual(r("POST", "/rules", rule)[0], 201)
            status, body = r("DELETE", "/connections/conn1")
            self.assertEqual(status, 400)
            self.assertIn("rule ru", body["message"])
            r("DELETE", "/rules/ru")
            self.assertEqual(r("DELETE", "/connections/conn1"), (200, "connection conn1 is dropped"))
            status, body = r("GET", "/connections/conn1")
            self.assertEqual((status, body), (404, {"error": 1002, "message": "connection conn1 is not found"}))
            self.assertEqual(r("DELETE", "/connections/conn1")[0], 404)


if __name__ == "__main__":
    main()
