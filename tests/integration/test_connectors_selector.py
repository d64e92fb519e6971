"""connectionSelector resolves connections a user made over REST, not only etc/ files: an mqtt
sink whose only connection settings come from a selector naming a POST /connections entry, and
another naming a profile set with PUT /metadata/connections/mqtt/confKeys/<name> ("mqtt.<name>"),
both deliver to the bundled broker; an unknown selector is refused with a message naming it."""
import json
import threading
import unittest

import paho.mqtt.client as mqtt

from harness import Kuiperd, main, wait_for


class Selector(unittest.TestCase):
    def test_selectors_from_rest(self):
        with Kuiperd() as k:
            server = "tcp://127.0.0.1:%d" % k.mqtt_port
            status, body = k.request("POST", "/connections",
                                     {"id": "c1", "typ": "mqtt", "props": {"server": server}})
            self.assertIn(status, (200, 201), body)
            status, body = k.request("PUT", "/metadata/connections/mqtt/confKeys/rc1", {"server": server})
            self.assertEqual(status, 200, body)

            got = {}
            lock = threading.Lock()
            sub = mqtt.Client(client_id="ek-selector-sub")

            def on_message(client, userdata, msg):
                with lock:
                    got.setdefault(msg.topic, []).append(json.loads(msg.payload))
            sub.on_message = on_message
            sub.connect("127.0.0.1", k.mqtt_port)
            sub.subscribe("sel/out/#", qos=1)
            sub.loop_start()
            try:
                sql = 'CREATE STREAM sel (a BIGINT) WITH (DATASOURCE="sel/in", FORMAT="json")'
                self.assertEqual(k.request("POST", "/streams", {"sql": sql})[0], 201)
                actions = [{"mqtt": {"connectionSelector": "c1", "topic": "sel/out/one", "sendSingle": True}},
                           {"mqtt": {"connectionSelector": "mqtt.rc1", "topic": "sel/out/two", "sendSingle": True}}]
                status, body = k.request("POST", "/rules", {"id": "rs", "sql": "SELECT a FROM sel", "actions": actions})
                self.assertEqual(status, 201, body)
                wait_for(lambda: k.request("GET", "/rules/rs/status")[1].get("status") == "running",
                         what="rule running")
                pub = mqtt.Client(client_id="ek-selector-pub")
                pub.connect("127.0.0.1", k.mqtt_port)
                pub.loop_start()

                def both_arrived():
                    pub.publish("sel/in", json.dumps({"a": 7}), qos=1)
                    with lock:
                        return "sel/out/one" in got and "sel/out/two" in got
                wait_for(both_arrived, timeout=15, interval=0.5, what="both sinks to deliver")
                pub.loop_stop()
                pub.disconnect()
                with lock:
                    self.assertEqual(got["sel/out/one"][0], {"a": 7})
                    self.assertEqual(got["sel/out/two"][0], {"a": 7})

                bad = [{"mqtt": {"connectionSelector": "nope", "topic": "x"}}]
                status, body = k.request("POST", "/rules", {"id": "rb", "sql": "SELECT a FROM sel", "actions": bad})
                if status == 201:  # refused when the sink opens: the status says why
                    st = wait_for(lambda: "nope" in str(k.request("GET", "/rules/rb/status")[1]) and
                                  k.request("GET", "/rules/rb/status")[1], what="the unknown selector to be named")
                    self.assertNotEqual(st.get("status"), "running")
                else:
                    self.assertEqual(status, 400, body)
                    self.assertIn("nope", body["message"])
            finally:
                sub.loop_stop()
                sub.disconnect()


if __name__ == "__main__":
    main()
