"""Held acknowledgements through a real kuiperd (docs/reliability.md, "No loss on kill -9"): the
bundled broker's PUBACK to a QoS 1 publisher waits until a QoS 1 rule's sink has delivered the
message. The rule's rest sink posts to a local HTTP server that keeps each request waiting until
the test lets it answer, so the test knows the message is still in the sink's hands.

- qos 1 rule: no PUBACK while the sink waits; a later PUBLISH on a topic no rule reads is
  acknowledged only after it (PUBACKs keep the PUBLISH order, MQTT 3.1.1 section 4.6); once the
  server answers both arrive, in order.
- qos 1 rule, QoS 2 publish: the PUBREC waits the same way; the exchange completes once.
- qos 0 rule: the PUBACK does not wait for the sink."""
import http.server
import threading
import time
import unittest

import paho.mqtt.client as mqtt

from fault_util import rule_status
from harness import Kuiperd, free_port, main, wait_for


class GatedHTTP:
    """An HTTP server on 127.0.0.1 that records each POST body and answers only when open."""

    def __init__(self):
        self.port = free_port()
        self.bodies = []
        self.gate = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.bodies.append(body)
                outer.gate.wait(20)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.gate.set()
        self.srv.shutdown()
        self.srv.server_close()


class AckedPublisher:
    """A paho client recording the message ids of the PUBACKs it gets, in order."""

    def __init__(self, port):
        self.acked = []
        self.c = mqtt.Client(client_id="ek-held-ack-pub", protocol=mqtt.MQTTv311)
        self.c.on_publish = lambda c, u, mid: self.acked.append(mid)
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()

    def publish(self, topic, payload, qos=1):
        return self.c.publish(topic, payload, qos=qos).mid

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


class HeldAcknowledgements(unittest.TestCase):
    def setUp(self):
        self.http = GatedHTTP()
        self.k = Kuiperd().start()
        sql = 'CREATE STREAM ha () WITH (DATASOURCE="ha/in", FORMAT="json")'
        self.assertEqual(self.k.request("POST", "/streams", {"sql": sql})[0], 201)
        self.pub = AckedPublisher(self.k.mqtt_port)

    def tearDown(self):
        self.pub.close()
        self.http.close()
        self.k.stop()
        self.k.cleanup()

    def rule(self, rid, qos):
        action = {"rest": {"url": "http://127.0.0.1:%d/in" % self.http.port, "method": "post",
                           "sendSingle": True, "timeout": 20000}}
        rule = {"id": rid, "sql": "SELECT n FROM ha", "actions": [action], "options": {"qos": qos}}
        self.assertEqual(self.k.request("POST", "/rules", rule)[0], 201)
        wait_for(lambda: rule_status(self.k, rid).get("status") == "running", what="rule running")

    def test_qos1_rule_holds_the_puback_in_order(self):
        self.rule("held", 1)
        a = self.pub.publish("ha/in", '{"n": 1}')
        wait_for(lambda: self.http.bodies, what="the sink's request")
        b = self.pub.publish("elsewhere/topic", "not read by any rule")
        time.sleep(0.5)  # the server has not answered: neither PUBACK may have come
        self.assertEqual(self.pub.acked, [], "PUBACK sent while the sink still had the message")
        self.http.gate.set()
        wait_for(lambda: len(self.pub.acked) == 2, what="both PUBACKs after the sink delivered")
        self.assertEqual(self.pub.acked, [a, b])

    def test_qos2_pubrec_is_held(self):
        """QoS 2: the PUBREC waits the same way, and the exchange then completes once."""
        self.rule("held2", 1)
        c = self.pub.publish("ha/in", '{"n": 3}', qos=2)
        wait_for(lambda: self.http.bodies, what="the sink's request")
        time.sleep(0.5)
        self.assertEqual(self.pub.acked, [], "PUBREC sent while the sink still had the message")
        self.http.gate.set()
        wait_for(lambda: self.pub.acked == [c], what="the QoS 2 exchange to complete")
        time.sleep(0.3)
        self.assertEqual(len(self.http.bodies), 1)

    def test_qos0_rule_does_not_hold(self):
        self.rule("free", 0)
        a = self.pub.publish("ha/in", '{"n": 2}')
        wait_for(lambda: self.http.bodies, what="the sink's request")
        wait_for(lambda: self.pub.acked == [a], what="the PUBACK while the sink still waits")
        self.assertFalse(self.http.gate.is_set())


if __name__ == "__main__":
    main()
