"""The mqtt connector through a real kuiperd: a stream on an external Mosquitto (CONF_KEY section of
etc/mqtt_source.yaml) feeding a rule whose sink writes to the bundled broker with a templated topic
and a dataTemplate, with the source's metadata; and a rule writing to Mosquitto over MQTT 5."""
import json
import unittest

import paho.mqtt.client as mqtt

from connectors_util import Listener, Mosquitto
from harness import Kuiperd, main, wait_for


def running(k, rid):
    status, body = k.request("GET", "/rules/%s/status" % rid)
    return status == 200 and body.get("status") == "running"


class MqttConnector(unittest.TestCase):
    def test_external_source_to_bundled_sink(self):
        ext = Mosquitto().start()
        try:
            conf = ("default:\n  qos: 1\n  server: tcp://127.0.0.1:1883\n"
                    "ext:\n  server: tcp://127.0.0.1:%d\n  protocolVersion: \"3.1.1\"\n" % ext.port)
            with Kuiperd(etc_files={"mqtt_source.yaml": conf}) as k:
                sql = 'CREATE STREAM ext () WITH (DATASOURCE="sensors/+", CONF_KEY="ext", FORMAT="json")'
                self.assertEqual(k.request("POST", "/streams", {"sql": sql})[0], 201)
                action = {"mqtt": {"server": "tcp://127.0.0.1:%d" % k.mqtt_port, "topic": "out/{{.id}}",
                                   "sendSingle": True,
                                   "dataTemplate": '{"device":"{{.id}}","temp":{{.t}},"from":"{{.tp}}"}'}}
                body = {"id": "r1", "sql": "SELECT id, t, meta(topic) AS tp FROM ext WHERE t > 20",
                        "actions": [action]}
                self.assertEqual(k.request("POST", "/rules", body)[0], 201)
                wait_for(lambda: running(k, "r1"), what="rule running")
                out = Listener(k.mqtt_port, "out/#")
                pub = Listener(ext.port, "unused/none")
                try:
                    def publish():
                        pub.publish("sensors/a", json.dumps({"id": "d1", "t": 25}))
                        pub.publish("sensors/b", json.dumps({"id": "d2", "t": 10}))
                        return out.messages("out/d1")
                    got = wait_for(publish, timeout=10, interval=0.5, what="out/d1 from the external broker")
                    self.assertEqual(json.loads(got[0]), {"device": "d1", "temp": 25, "from": "sensors/a"})
                    self.assertEqual(out.messages("out/d2"), [])
                finally:
                    out.close()
                    pub.close()
        finally:
            ext.cleanup()

    def test_sink_to_external_v5(self):
        ext = Mosquitto().start()
        try:
            with Kuiperd() as k:
                sql = 'CREATE STREAM s5 (a BIGINT) WITH (DATASOURCE="in/v5", FORMAT="json")'
                self.assertEqual(k.request("POST", "/streams", {"sql": sql})[0], 201)
                action = {"mqtt": {"server": "tcp://127.0.0.1:%d" % ext.port, "topic": "ext/out",
                                   "protocolVersion": "5", "qos": 1, "sendSingle": True}}
                body = {"id": "r5", "sql": "SELECT a * 2 AS b FROM s5", "actions": [action]}
                self.assertEqual(k.request("POST", "/rules", body)[0], 201)
                wait_for(lambda: running(k, "r5"), what="rule running")
                out = Listener(ext.port, "ext/#", version=mqtt.MQTTv5)
                pub = Listener(k.mqtt_port, "unused/none")
                try:
                    def publish():
                        pub.publish("in/v5", json.dumps({"a": 21}))
                        return out.messages("ext/out")
                    got = wait_for(publish, timeout=10, interval=0.5, what="ext/out on the external broker")
                    self.assertEqual(json.loads(got[0]), {"b": 42})
                finally:
                    out.close()
                    pub.close()
        finally:
            ext.cleanup()


if __name__ == "__main__":
    main()
