"""A bridge from the bundled broker to a real Mosquitto on another loopback port: local topics go
out with remotePrefix, remote topics come in with localPrefix, a topic bridged both ways does not
loop, and while Mosquitto is down the bridge queues at most maxQueued messages (the oldest dropped
and counted in $SYS) and delivers them, in order, once Mosquitto is back. Every wait is bounded."""
import threading
import time
import unittest

import paho.mqtt.client as mqtt

from broker_net_util import broker_only
from connectors_util import Listener
from fault_util import PersistentMosquitto
from harness import main, wait_for


BRIDGE = """  bridges:
    - name: cloud
      server: tcp://127.0.0.1:%d
      clientid: edge1-bridge
      reconnectMax: 1
      maxQueued: 5
      forward:
        - {local: "a/#", remotePrefix: "edge1/"}
        - {local: "x/#"}
      subscribe:
        - {remote: "cmd/#", localPrefix: "cloud/", qos: 1}
        - {remote: "x/#", qos: 1}
"""


class BrokerBridge(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mosq = PersistentMosquitto().start()
        cls.k = broker_only("", BRIDGE % cls.mosq.port).start()
        cls.sys = Listener(cls.k.mqtt_port, "$SYS/brokers/kuiperd/bridges/cloud/#")
        cls.wait_status("connected")

    @classmethod
    def tearDownClass(cls):
        cls.sys.close()
        try:
            cls.mosq.stop()
            # With the remote gone the bridge is reconnecting: kuiperd must still stop promptly.
            assert cls.k.stop() == 0
        finally:
            cls.k.cleanup()
            cls.mosq.cleanup()

    @classmethod
    def sys_value(cls, what):
        got = cls.sys.messages("$SYS/brokers/kuiperd/bridges/cloud/" + what)
        return got[-1] if got else None

    @classmethod
    def wait_status(cls, status, timeout=15):
        wait_for(lambda: cls.sys_value("status") == status, timeout, what="bridge status " + status)

    def test_1_forward_out_with_prefix(self):
        remote = Listener(self.mosq.port, "edge1/#")
        local = Listener(self.k.mqtt_port, "a/#")
        local.publish("a/b/c", "hello remote")
        wait_for(lambda: remote.messages("edge1/a/b/c") == ["hello remote"], 10, what="the forwarded message")
        remote.close()
        local.close()

    def test_2_subscribe_in_with_prefix(self):
        local = Listener(self.k.mqtt_port, "cloud/#")
        remote = Listener(self.mosq.port, "unused")
        remote.publish("cmd/reboot", "now")
        wait_for(lambda: local.messages("cloud/cmd/reboot") == ["now"], 10, what="the remote message")
        remote.close()
        local.close()

    def test_3_both_ways_without_loops(self):
        local = Listener(self.k.mqtt_port, "x/#")
        remote = Listener(self.mosq.port, "x/#")
        local.publish("x/from-local", "L")
        wait_for(lambda: remote.messages("x/from-local") == ["L"], 10, what="x/from-local on the remote")
        remote.publish("x/from-remote", "R")
        wait_for(lambda: local.messages("x/from-remote") == ["R"], 10, what="x/from-remote locally")
        time.sleep(1.5)  # a loop would have repeated them by now
        self.assertEqual(local.messages("x/from-local"), ["L"])
        self.assertEqual(remote.messages("x/from-local"), ["L"])
        self.assertEqual(local.messages("x/from-remote"), ["R"])
        self.assertEqual(remote.messages("x/from-remote"), ["R"])
        remote.close()
        local.close()

    def test_4_remote_outage_queues_and_delivers(self):
        # A persistent subscriber on the remote, so it gets what arrives while it reconnects too.
        got = []
        lock = threading.Lock()
        sub = mqtt.Client(client_id="cloud-app", clean_session=False)
        sub.reconnect_delay_set(1, 1)
        subscribed = threading.Event()
        sub.on_connect = lambda c, u, f, rc: c.subscribe("edge1/a/q/#", 1)
        sub.on_subscribe = lambda *a: subscribed.set()

        def on_message(c, u, m):
            with lock:
                got.append(m.payload.decode())
        sub.on_message = on_message
        sub.connect("127.0.0.1", self.mosq.port)
        sub.loop_start()
        try:
            self.assertTrue(subscribed.wait(5))
            dropped_before = int(self.sys_value("dropped") or 0)
            self.mosq.stop()
            self.wait_status("disconnected")
            local = Listener(self.k.mqtt_port, "unused")
            for i in range(8):
                local.publish("a/q/%d" % i, "m%d" % i)
            local.close()
            # maxQueued 5: the three oldest are dropped and counted.
            wait_for(lambda: self.sys_value("queued") == "5", 10, what="5 queued")
            wait_for(lambda: self.sys_value("dropped") == str(dropped_before + 3), 10, what="3 dropped")
            self.mosq.start()
            self.wait_status("connected")
            wait_for(lambda: len(got) >= 5, 20, what="the queued messages on the remote")
            time.sleep(0.5)
            with lock:
                self.assertEqual(got, ["m3", "m4", "m5", "m6", "m7"])
            wait_for(lambda: self.sys_value("queued") == "0", 10, what="an empty queue")
        finally:
            sub.loop_stop()
            sub.disconnect()


if __name__ == "__main__":
    main()
