"""A bridge from the bundled broker to a real Mosquitto on another loopback port: local topics go
out with remotePrefix, remote topics come in with localPrefix, a topic bridged both ways does not
loop, and while Mosquitto is down the bridge queues at most maxQueued messages (the oldest dropped
and counted in $SYS) and delivers them, in order, once Mosquitto is back. A second bridge speaks
MQTT 3.1.1 over TLS to a second Mosquitto with certificates made by the openssl command line.
Every wait is bounded."""
import os
import shutil
import tempfile
import threading
import time
import unittest

import paho.mqtt.client as mqtt

from broker_net_util import broker_only, make_certs
from connectors_util import Listener, Mosquitto
from fault_util import PersistentMosquitto
from harness import main, wait_for


class TlsMosquitto(Mosquitto):
    """Mosquitto with one TLS listener using certs (from make_certs)."""

    def __init__(self, certs):
        super().__init__()
        self.certs = certs

    def config(self):
        return ("listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\nallow_anonymous true\n"
                "persistence false\nlog_dest none\n"
                % (self.port, self.certs["ca.crt"], self.certs["server.crt"], self.certs["server.key"]))


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
    - name: legacy
      server: ssl://127.0.0.1:%d
      protocolVersion: "3.1.1"
      reconnectMax: 1
      tls: {cafile: %s}
      forward:
        - {local: "v3/#", remotePrefix: "edge-v3/"}
      subscribe:
        - {remote: "ctl/#", localPrefix: "legacy/"}
"""


class BrokerBridge(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mosq = PersistentMosquitto().start()
        cls.dir = tempfile.mkdtemp(prefix="ek-bridge-")
        os.chmod(cls.dir, 0o755)  # Mosquitto run as root reads the files as the mosquitto user
        cls.certs = make_certs(cls.dir)
        for f in cls.certs.values():
            os.chmod(f, 0o644)
        cls.tls_mosq = TlsMosquitto(cls.certs).start()
        cls.k = broker_only("", BRIDGE % (cls.mosq.port, cls.tls_mosq.port, cls.certs["ca.crt"])).start()
        cls.sys = Listener(cls.k.mqtt_port, "$SYS/brokers/kuiperd/bridges/#")
        cls.wait_status("connected")
        cls.wait_status("connected", bridge="legacy")

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
            cls.tls_mosq.cleanup()
            shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def sys_value(cls, what, bridge="cloud"):
        got = cls.sys.messages("$SYS/brokers/kuiperd/bridges/%s/%s" % (bridge, what))
        return got[-1] if got else None

    @classmethod
    def wait_status(cls, status, timeout=15, bridge="cloud"):
        wait_for(lambda: cls.sys_value("status", bridge) == status, timeout, what="bridge status " + status)

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

    def test_5_mqtt311_over_tls(self):
        # The test's own client trusts the same CA as the bridge.
        got = []
        c = mqtt.Client(client_id="tls-remote")
        c.tls_set(ca_certs=self.certs["ca.crt"])
        ready = threading.Event()
        c.on_subscribe = lambda *a: ready.set()
        c.on_message = lambda cl, u, m: got.append((m.topic, m.payload.decode()))
        c.connect("127.0.0.1", self.tls_mosq.port)
        c.loop_start()
        try:
            c.subscribe("edge-v3/#", 1)
            self.assertTrue(ready.wait(5))
            local = Listener(self.k.mqtt_port, "legacy/#")
            local.publish("v3/hello", "over tls")
            wait_for(lambda: ("edge-v3/v3/hello", "over tls") in got, 10, what="the forward over TLS")
            c.publish("ctl/stop", "now", qos=1).wait_for_publish(5)
            wait_for(lambda: local.messages("legacy/ctl/stop") == ["now"], 10, what="the message from the TLS remote")
            local.close()
        finally:
            c.loop_stop()
            c.disconnect()

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
