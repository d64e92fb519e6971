"""Broker authorization (issue 7): rules from the inline `acl:` list then from `aclFile`, first
match wins, `aclNoMatch: deny`, "eq #", `%u` / `%c` placeholders (a name holding + # or / never widens a
rule), `ipaddress` as a CIDR block, `topics` lists, $share subscriptions checked on their real
filter. Denied subscriptions get SUBACK 0x80 (3.1.1) / 0x87 (5.0) from paho-mqtt's point of view;
denied publishes are dropped, with PUBACK / PUBREC 0x87 in MQTT 5 (raw sockets); mosquitto_sub and
mosquitto_pub see the same. Bounded waits."""
import queue
import struct
import subprocess
import time
import unittest

import paho.mqtt.client as mqtt

from harness import Kuiperd, main
from test_broker_raw import Raw, pkt, s, varint
from test_broker_security import kuiper_yaml

BROKER = """
broker:
  bind: 127.0.0.1
  sysInterval: 0
  aclFile: etc/acl.yaml
  aclNoMatch: deny
  acl:
    - {permission: deny, action: subscribe, topic: "eq #"}
"""
ACL_FILE = """
# The broker's ACL file: a list of rules, first match wins.
acl:
  - {permission: allow, action: all, topics: ["devices/%u/#", "clients/%c/#"]}
  - {permission: allow, action: subscribe, topic: "broadcast/#"}
  - {permission: allow, action: publish, topic: "broadcast/#", ipaddress: 127.0.0.0/8}
  - {permission: allow, action: publish, topic: "lan/#", ipaddress: 10.0.0.0/8}
"""
PUBACK, PUBREC, SUBACK = 4, 5, 9


def client(port, cid, user, v5):
    c = mqtt.Client(client_id=cid, protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311)
    c.username_pw_set(user, "x")
    ok = queue.Queue()
    c.on_connect = lambda *a: ok.put(a[3])
    c.connect("127.0.0.1", port, 30)
    c.loop_start()
    rc = ok.get(timeout=5)
    assert getattr(rc, "value", rc) == 0, rc
    return c


def raw_connect(port, cid, user):
    body = s(b"MQTT") + bytes([5, 0x82]) + struct.pack(">H", 60) + varint(0) + s(cid) + s(user)
    r = Raw(port)
    r.send(pkt(0x10, body))
    t, _, b = r.recv_packet()
    assert (t, b[1]) == (2, 0), (t, b)
    return r


def publish_pkt(topic, payload, qos, mid):
    return pkt(0x30 | (qos << 1), s(topic) + struct.pack(">H", mid) + varint(0) + payload)


class Acl(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = Kuiperd(args=["--broker-only"], etc_files={"kuiper.yaml": kuiper_yaml(BROKER), "acl.yaml": ACL_FILE})
        cls.k.start()

    @classmethod
    def tearDownClass(cls):
        cls.k.cleanup()

    def suback(self, c, topic, v5):
        got = queue.Queue()
        if v5:
            c.on_subscribe = lambda cl, u, mid, rcs, p=None: got.put([r.value for r in rcs][0])
        else:
            c.on_subscribe = lambda cl, u, mid, q: got.put(q[0])
        c.subscribe(topic, 1)
        return got.get(timeout=5)

    def test_subscribe(self):
        for v5, no in ((True, 0x87), (False, 0x80)):
            c = client(self.k.mqtt_port, "c1", "u1", v5)
            for topic, want in (("devices/u1/#", 1), ("devices/u1/temp", 1), ("devices/u2/#", no),
                                ("devices/+/#", no), ("clients/c1/inbox", 1), ("clients/c2/inbox", no),
                                ("broadcast/+", 1), ("#", no), ("other", no),
                                ("$share/g/devices/u1/#", 1), ("$share/g/devices/u2/#", no)):
                self.assertEqual(self.suback(c, topic, v5), want, "%s v5 %s" % (topic, v5))
            c.disconnect()
            c.loop_stop()
        # A user named "+" does not get devices/+/# through devices/%u/#.
        c = client(self.k.mqtt_port, "c3", "+", True)
        self.assertEqual(self.suback(c, "devices/+/#", True), 0x87)
        c.disconnect()
        c.loop_stop()

    def test_publish(self):
        sub = client(self.k.mqtt_port, "watch", "u1", False)
        got = queue.Queue()
        sub.on_message = lambda c, u, m: got.put((m.topic, m.payload))
        self.assertEqual(self.suback(sub, "devices/u1/#", False), 1)
        self.assertEqual(self.suback(sub, "broadcast/#", False), 1)
        r = raw_connect(self.k.mqtt_port, b"intruder", b"u2")
        self.addCleanup(r.close)
        cases = ((b"devices/u1/x", 1, PUBACK, 0x87), (b"devices/u1/y", 2, PUBREC, 0x87),
                 (b"lan/x", 1, PUBACK, 0x87), (b"devices/u2/x", 1, PUBACK, 0x10), (b"broadcast/x", 1, PUBACK, 0))
        for mid, (topic, qos, want_type, want_rc) in enumerate(cases, 1):
            r.send(publish_pkt(topic, b"from u2", qos, mid))
            t, _, body = r.recv_packet()
            self.assertEqual((t, struct.unpack(">H", body[:2])[0], body[2]), (want_type, mid, want_rc), topic)
        # Only the allowed broadcast arrived; the denied ones were dropped.
        self.assertEqual(got.get(timeout=5), ("broadcast/x", b"from u2"))
        with self.assertRaises(queue.Empty):
            got.get(timeout=0.5)
        # An MQTT 3.1.1 publisher that is denied is not disconnected.
        p = client(self.k.mqtt_port, "p3", "u3", False)
        p.publish("devices/u1/z", b"nope", qos=1).wait_for_publish(5)
        p.publish("broadcast/y", b"yes", qos=1).wait_for_publish(5)
        self.assertEqual(got.get(timeout=5), ("broadcast/y", b"yes"))
        for c in (sub, p):
            c.disconnect()
            c.loop_stop()


    def test_mosquitto_clients(self):
        port = str(self.k.mqtt_port)
        for v in ("mqttv311", "mqttv5"):
            r = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-u", "u1", "-t", "devices/u2/#",
                                "-V", v, "-W", "3", "-E"], capture_output=True, text=True, timeout=10)
            self.assertIn("All subscription requests were denied", r.stderr, v)
        sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-u", "u1", "-t", "devices/u1/#",
                                "-C", "1", "-W", "10", "-V", "mqttv5"], stdout=subprocess.PIPE, text=True)
        try:
            time.sleep(1)  # mosquitto_sub has subscribed by then
            for user, msg in (("u2", "denied"), ("u1", "allowed")):
                subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-u", user, "-t", "devices/u1/x",
                                "-m", msg, "-q", "1"], check=True, timeout=10)
            out, _ = sub.communicate(timeout=15)
        finally:
            if sub.poll() is None:
                sub.kill()
                sub.wait()
        self.assertEqual(out, "allowed\n")


if __name__ == "__main__":
    main()
