"""/metadata (source, sink and function types; conf keys of sources, sinks and connections) and
/connections against a real kuiperd. Conf keys set over REST override etc/ files and the environment
(REST > env > yaml), survive a restart, and a deleted file key stays deleted. Error paths: unknown
types, unknown keys, bad bodies, duplicate and unknown connection ids, unknown connection types."""
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

    def test_types(self):
        status, sources = self.r("GET", "/metadata/sources")
        self.assertEqual(status, 200)
        names = [s["name"] for s in sources]
        self.assertIn("mqtt", names)
        self.assertIn("memory", names)
        self.assertTrue(all(s["about"]["installed"] for s in sources))
        status, sinks = self.r("GET", "/metadata/sinks")
        self.assertIn("log", [s["name"] for s in sinks])
        status, funcs = self.r("GET", "/metadata/functions")
        self.assertEqual(status, 200)
        fnames = {f["name"]: f for f in funcs[0]["functions"]}
        self.assertEqual(fnames["abs"]["type"], "scalar")
        self.assertEqual(fnames["avg"]["type"], "aggregate")
        status, mqtt = self.r("GET", "/metadata/sources/mqtt")
        self.assertEqual(status, 200)
        self.assertIn("server", [p["name"] for p in mqtt["properties"]["default"]])
        self.assertEqual(self.r("GET", "/metadata/sinks/log")[0], 200)
        status, body = self.r("GET", "/metadata/sources/nosuch")
        self.assertEqual((status, body), (404, {"error": 1002, "message": "source type nosuch is not found"}))
        self.assertEqual(self.r("GET", "/metadata/sinks/yaml/nosuch")[0], 404)

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
        self.assertEqual(self.r("PUT", "/metadata/sources/nosuch/confKeys/x", {})[0], 404)

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
