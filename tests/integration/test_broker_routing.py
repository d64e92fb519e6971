"""Routing extensions of the bundled broker (issue 7) with real clients (paho-mqtt 3.1.1 and 5.0,
mosquitto_pub and mosquitto_sub, raw sockets) against `kuiperd --broker-only`: auto-subscribe with
${clientid}/${username} placeholders and retain handling; delayed publish $delayed/{seconds}/{topic}
(held, then delivered; retained; a bad interval dropped with PUBACK 0x90; pending messages kept
across a restart of kuiperd); topic rewrite of PUBLISH, SUBSCRIBE and UNSUBSCRIBE topics, together
with retained and delayed messages, and before the ACL. Every wait is bounded."""
import subprocess
import time
import unittest

from harness import Kuiperd, main
from test_broker_paho import Client, PahoCase
from test_broker_raw import Raw, connect_pkt, pkt, s, varint
from test_broker_security import kuiper_yaml as base_yaml

YAML = r"""
broker:
  bind: 127.0.0.1
  sysInterval: 0
  persist: %s
  autoSubscribe:
    - {topic: "c/${clientid}/cmd", qos: 1}
    - {topic: "u/${username}/inbox", qos: 1, nl: 1}
    - {topic: "news/#", qos: 0, rh: 0}
  rewrite:
    - {action: subscribe, source: "y/+/z/#", re: "^y/(.+)/z/(.+)$", dest: "y/z/$2"}
    - {action: publish, source: "x/#", re: "^x/y/(.+)$", dest: "z/y/x/$1"}
    - {action: all, source: "old/#", re: "^old/(.+)$", dest: "new/$1"}
  acl:
    - {permission: deny, action: publish, topic: "z/y/x/secret"}
"""


def kuiperd(persist="false", workdir=None):
    text = base_yaml().split("\nbroker:")[0] + YAML % persist
    return Kuiperd(args=["--broker-only"], workdir=workdir, etc_files={"kuiper.yaml": text})


def puback_reason(port, topic, payload=b"x"):
    """Publishes at QoS 1 from a raw MQTT 5 client; returns the PUBACK reason code."""
    r = Raw(port)
    try:
        r.send(connect_pkt(b"raw-pub", v=5))
        assert r.recv_packet()[0] == 2
        r.send(pkt(0x32, s(topic) + b"\x00\x07" + varint(0) + payload))
        t, _, body = r.recv_packet()
        while t != 4:  # skip what auto-subscribe delivers
            t, _, body = r.recv_packet()
        return body[2] if len(body) > 2 else 0
    finally:
        r.close()


class Routing(PahoCase):
    @classmethod
    def kuiperd(cls):
        return kuiperd()

    def topics(self, c, n):
        return sorted((m.topic, m.payload) for m in (c.get() for _ in range(n)))

    def test_auto_subscribe(self):
        p = self.client("as-pub")
        p.pub("news/a", b"N", qos=1, retain=True)
        c = self.client("dev1", user="ann")
        m = c.get()  # rh 0: the retained message at connect, without any SUBSCRIBE
        self.assertEqual((m.topic, m.payload, m.retain), ("news/a", b"N", True))
        p.pub("c/dev1/cmd", b"cmd", qos=1)
        p.pub("u/ann/inbox", b"mail", qos=1)
        self.assertEqual(self.topics(c, 2), [("c/dev1/cmd", b"cmd"), ("u/ann/inbox", b"mail")])
        c.pub("u/ann/inbox", b"mine", qos=1)  # nl: 1, no copy back
        c.none()
        anon = self.client("dev2", v5=False)  # no user name: the ${username} entry is skipped
        self.assertEqual(anon.get().topic, "news/a")
        p.pub("c/dev2/cmd", b"two", qos=1)
        self.assertEqual(anon.get().payload, b"two")
        # mosquitto_sub subscribes to something else and still gets its command topic.
        sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.port), "-i", "dev3",
                                "-t", "unrelated", "-v", "-C", "2", "-W", "10"],
                               stdout=subprocess.PIPE, text=True)
        try:
            deadline = time.time() + 10
            while sub.poll() is None and time.time() < deadline:
                p.pub("c/dev3/cmd", b"three", qos=1)
                time.sleep(0.3)
            out, _ = sub.communicate(timeout=5)
        finally:
            if sub.poll() is None:
                sub.kill()
                sub.wait()
        self.assertIn("news/a N", out)
        self.assertIn("c/dev3/cmd three", out)
        p.pub("news/a", b"", qos=1, retain=True)
        for x in (p, c, anon):
            x.close()

    def test_rewrite_publish_subscribe_unsubscribe(self):
        s1 = self.client("rw-s1")
        s1.sub("z/y/x/#")
        s2 = self.client("rw-s2", v5=False)
        s2.sub("y/a/z/b")  # subscribes y/z/b
        p = self.client("rw-p")
        p.pub("x/y/1", b"one", qos=1)
        m = s1.get()
        self.assertEqual((m.topic, m.payload), ("z/y/x/1", b"one"))
        p.pub("y/z/b", b"yzb", qos=1)
        self.assertEqual(s2.get().topic, "y/z/b")
        p.pub("y/a/z/b", b"literal", qos=1)
        s2.none()
        s2.unsub("y/a/z/b")  # rewritten too: removes y/z/b
        p.pub("y/z/b", b"after", qos=1)
        s2.none()
        for x in (s1, s2, p):
            x.close()

    def test_rewrite_with_retained(self):
        p = self.client("rr-p")
        p.pub("x/y/2", b"R2", qos=1, retain=True)
        p.pub("old/r", b"OLD", qos=1, retain=True)  # stored as new/r
        self.addCleanup(lambda: (p.pub("z/y/x/2", b"", qos=1, retain=True), p.pub("new/r", b"", qos=1, retain=True)))
        s1 = self.client("rr-s1")
        s1.sub("z/y/x/2")
        m = s1.get()
        self.assertEqual((m.topic, m.payload, m.retain), ("z/y/x/2", b"R2", True))
        s1.sub("x/y/2")
        s1.none()
        s2 = self.client("rr-s2")
        s2.sub("old/r")  # rewritten to new/r, where the retained message is
        m = s2.get()
        self.assertEqual((m.topic, m.payload), ("new/r", b"OLD"))
        for x in (s1, s2):
            x.close()

    def test_rewrite_with_delayed_and_acl(self):
        s1 = self.client("rd-s")
        s1.sub("z/y/x/#")
        p = self.client("rd-p")
        p.pub("$delayed/1/x/y/3", b"late", qos=1)
        s1.none(0.4)
        m = s1.get(timeout=5)
        self.assertEqual((m.topic, m.payload), ("z/y/x/3", b"late"))
        # The ACL sees the rewritten topic: x/y/secret becomes the denied z/y/x/secret.
        self.assertEqual(puback_reason(self.port, b"x/y/secret"), 0x87)
        self.assertIn(puback_reason(self.port, b"x/y/open"), (0, 0x10))
        self.assertEqual(s1.get().topic, "z/y/x/open")
        s1.none()
        for x in (s1, p):
            x.close()


class Delayed(unittest.TestCase):
    def test_delivered_after_the_delay_and_bad_intervals_dropped(self):
        with kuiperd() as k:
            s1 = Client(k.mqtt_port, "d-s")
            s1.sub("d/#")
            s1.sub("$delayed/#")  # a held or dropped message is never routed under its $delayed name
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(k.mqtt_port), "-q", "1",
                            "-t", "$delayed/2/d/a", "-m", "later"], check=True, timeout=10)
            t0 = time.time()
            s1.none(1.2)
            m = s1.get(timeout=5)
            self.assertGreaterEqual(time.time() - t0, 1.5)
            self.assertEqual((m.topic, m.payload), ("d/a", b"later"))
            for bad in (b"$delayed/1.5/d/b", b"$delayed/x/d/b", b"$delayed/4294968/d/b", b"$delayed/3"):
                self.assertEqual(puback_reason(k.mqtt_port, bad), 0x90, bad)
            self.assertEqual(puback_reason(k.mqtt_port, b"$delayed/0/d/now"), 0)
            self.assertEqual(s1.get().topic, "d/now")
            s1.none(1.5)
            s1.close()

    def test_pending_messages_survive_a_restart(self):
        k = kuiperd(persist="true").start()
        self.addCleanup(k.cleanup)
        s1 = Client(k.mqtt_port, "d-durable", expiry=600)
        s1.sub("dr/#", qos=1)
        s1.close()
        p = Client(k.mqtt_port, "d-pub")
        p.pub("$delayed/3/dr/a", b"held", qos=1)
        p.pub("$delayed/1/dr/ret", b"kept", qos=1, retain=True)
        p.close()
        k.stop()  # both still pending
        time.sleep(1.2)  # the second one falls due while kuiperd is down
        k.start()
        s1 = Client(k.mqtt_port, "d-durable", expiry=600, clean=False)
        got = sorted((m.topic, m.payload) for m in (s1.get(timeout=8) for _ in range(2)))
        self.assertEqual(got, [("dr/a", b"held"), ("dr/ret", b"kept")])
        s1.none(0.5)
        s1.close()
        s2 = Client(k.mqtt_port, "d-late")
        s2.sub("dr/#")
        m = s2.get()
        self.assertEqual((m.topic, m.payload, m.retain), ("dr/ret", b"kept", True))
        s2.none()
        s2.close()


if __name__ == "__main__":
    main()
