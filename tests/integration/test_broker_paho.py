"""The bundled broker through a real MQTT client library (paho-mqtt 1.6), MQTT 3.1.1 and 5.0,
against `kuiperd --broker-only` on 127.0.0.1: publish/subscribe at every QoS, retained messages
and retain handling, wills and will delay, persistent sessions and queued messages, session
takeover, MQTT 5 properties forwarded (user properties, content type, response topic, correlation
data, payload format, message expiry), subscription identifiers, no local, topic aliases, the
CONNACK properties, $SYS, shared subscriptions, and retained messages and sessions surviving a
restart. Every wait is bounded."""
import queue
import time
import unittest

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from harness import Kuiperd, main

TIMEOUT = 5


class Client:
    """A paho client with its received messages in a queue and its events recorded."""

    def __init__(self, port, cid, v5=True, clean=True, expiry=None, will=None, props=None, keepalive=30, user=None):
        self.v5 = v5
        self.c = mqtt.Client(client_id=cid, protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
                             clean_session=None if v5 else clean)
        self.msgs = queue.Queue()
        self.connack = queue.Queue()
        self.disconnects = queue.Queue()
        self.subacks = queue.Queue()
        self.unsubacks = queue.Queue()
        self.c.on_message = lambda c, u, m: self.msgs.put(m)
        self.c.on_unsubscribe = lambda c, u, mid, *rest: self.unsubacks.put(mid)
        if v5:
            self.c.on_connect = lambda c, u, f, rc, p=None: self.connack.put((f, rc, p))
            self.c.on_disconnect = lambda c, u, rc, p=None: self.disconnects.put(rc)
            self.c.on_subscribe = lambda c, u, mid, rcs, p=None: self.subacks.put(rcs)
        else:
            self.c.on_connect = lambda c, u, f, rc: self.connack.put((f, rc, None))
            self.c.on_disconnect = lambda c, u, rc: self.disconnects.put(rc)
            self.c.on_subscribe = lambda c, u, mid, q: self.subacks.put(q)
        if will:
            topic, payload, wprops = will
            self.c.will_set(topic, payload, qos=1, properties=wprops)
        if user is not None:
            self.c.username_pw_set(user, "")
        kw = {}
        if v5:
            cp = props or Properties(PacketTypes.CONNECT)
            if expiry is not None:
                cp.SessionExpiryInterval = expiry
            kw = {"clean_start": clean, "properties": cp}
        self.c.connect("127.0.0.1", port, keepalive, **kw)
        self.c.loop_start()
        self.flags, self.rc, self.props = self.connack.get(timeout=TIMEOUT)

    def sub(self, topic, qos=1, props=None, **opts):
        if self.v5:
            self.c.subscribe(topic, options=SubscribeOptions(qos=qos, **opts), properties=props)
        else:
            self.c.subscribe(topic, qos)
        return self.subacks.get(timeout=TIMEOUT)

    def unsub(self, topic):
        """Unsubscribes and waits for the UNSUBACK."""
        self.c.unsubscribe(topic)
        return self.unsubacks.get(timeout=TIMEOUT)

    def pub(self, topic, payload, qos=0, retain=False, props=None):
        info = self.c.publish(topic, payload, qos=qos, retain=retain, properties=props)
        if qos:
            info.wait_for_publish(TIMEOUT)
        return info

    def get(self, timeout=TIMEOUT):
        return self.msgs.get(timeout=timeout)

    def none(self, timeout=0.3):
        try:
            m = self.msgs.get(timeout=timeout)
        except queue.Empty:
            return True
        raise AssertionError("unexpected message on %s: %r" % (m.topic, m.payload))

    def close(self, clean=True):
        if clean:
            self.c.disconnect()
        else:
            import socket
            self.c.socket().shutdown(socket.SHUT_RDWR)  # abrupt: no DISCONNECT
        self.c.loop_stop()


class PahoCase(unittest.TestCase):
    """Tests sharing one kuiperd (made by kuiperd()) for the class, with paho clients whose network
    loops stop after each test."""

    @classmethod
    def kuiperd(cls):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        cls.k = cls.kuiperd().start()
        cls.port = cls.k.mqtt_port

    @classmethod
    def tearDownClass(cls):
        cls.k.cleanup()

    def client(self, cid, **kw):
        c = Client(self.port, cid, **kw)
        self.addCleanup(c.c.loop_stop)
        return c


class BrokerPaho(PahoCase):
    @classmethod
    def kuiperd(cls):
        return Kuiperd(args=["--broker-only"], env={"KUIPER__BROKER__SYSINTERVAL": "1"})

    def test_qos_levels_v311_and_v5(self):
        for v5 in (False, True):
            s = self.client("s-qos-%d" % v5, v5=v5)
            p = self.client("p-qos-%d" % v5, v5=not v5)
            s.sub("qos/#", qos=2)
            for qos in (0, 1, 2):
                p.pub("qos/%d" % qos, b"m%d" % qos, qos=qos)
                m = s.get()
                self.assertEqual((m.topic, m.payload, m.qos), ("qos/%d" % qos, b"m%d" % qos, qos))
            s.close()
            p.close()

    def test_qos_downgrade_to_subscription(self):
        s = self.client("s-down")
        s.sub("down", qos=0)
        p = self.client("p-down")
        p.pub("down", b"x", qos=2)
        self.assertEqual(s.get().qos, 0)
        s.close()
        p.close()

    def test_retained_and_retain_handling(self):
        p = self.client("p-ret")
        p.pub("ret/a", b"A", qos=1, retain=True)
        s = self.client("s-ret")
        s.sub("ret/#")
        m = s.get()
        self.assertTrue(m.retain)
        self.assertEqual(m.payload, b"A")
        s.sub("ret/#", retainHandling=1)  # existing subscription: nothing again
        s.none()
        s.sub("ret/+", retainHandling=2)
        s.none()
        p.pub("ret/a", b"", qos=1, retain=True)  # delete; delivered once (overlapping subscriptions merge)
        self.assertEqual(s.get().payload, b"")
        s.none()
        s2 = self.client("s-ret2", v5=False)
        s2.sub("ret/#")
        s2.none()
        for c in (p, s, s2):
            c.close()

    def test_will_on_abrupt_close_not_on_disconnect(self):
        s = self.client("s-will")
        s.sub("will/#")
        w = self.client("w-1", will=("will/1", b"gone", None))
        w.close(clean=False)
        m = s.get()
        self.assertEqual((m.topic, m.payload), ("will/1", b"gone"))
        w2 = self.client("w-2", will=("will/2", b"gone", None))
        w2.close(clean=True)
        s.none(0.5)
        s.close()

    def test_will_delay(self):
        s = self.client("s-wd")
        s.sub("wd")
        wp = Properties(PacketTypes.WILLMESSAGE)
        wp.WillDelayInterval = 1
        w = self.client("w-wd", expiry=30, will=("wd", b"late", wp))
        t0 = time.time()
        w.close(clean=False)
        s.get(timeout=4)
        self.assertGreaterEqual(time.time() - t0, 0.8)
        s.close()

    def test_persistent_session_queue_v5_and_v311(self):
        for v5 in (True, False):
            cid = "persist-%d" % v5
            kw = {"expiry": 120} if v5 else {}
            s = self.client(cid, v5=v5, clean=True, **kw)
            s.sub("pq/%d" % v5, qos=1)
            s.close()
            if not v5:  # 3.1.1: reconnect with clean session false to keep it
                s = self.client(cid, v5=False, clean=False)
                s.sub("pq/%d" % v5, qos=1)
                s.close()
            p = self.client("pq-pub-%d" % v5)
            for i in range(3):
                p.pub("pq/%d" % v5, b"%d" % i, qos=1)
            s = self.client(cid, v5=v5, clean=False, **kw)
            self.assertTrue(s.flags.get("session present"))
            self.assertEqual([s.get().payload for _ in range(3)], [b"0", b"1", b"2"])
            s.close()
            p.close()

    def test_takeover(self):
        a = self.client("same-id")
        b = self.client("same-id")
        codes = [a.disconnects.get(timeout=TIMEOUT)]
        try:
            while True:
                codes.append(a.disconnects.get(timeout=0.5))
        except queue.Empty:
            pass
        self.assertIn(0x8E, [getattr(rc, "value", rc) for rc in codes])
        b.close()
        a.c.loop_stop()

    def test_v5_properties_forwarded(self):
        s = self.client("s-props")
        s.sub("props")
        p = self.client("p-props")
        pp = Properties(PacketTypes.PUBLISH)
        pp.UserProperty = [("k1", "v1"), ("k2", "v2")]
        pp.ContentType = "application/json"
        pp.ResponseTopic = "reply/here"
        pp.CorrelationData = b"\x01\x02"
        pp.PayloadFormatIndicator = 1
        pp.MessageExpiryInterval = 60
        p.pub("props", b"{}", qos=1, props=pp)
        m = s.get()
        mp = m.properties
        self.assertEqual(mp.UserProperty, [("k1", "v1"), ("k2", "v2")])
        self.assertEqual(mp.ContentType, "application/json")
        self.assertEqual(mp.ResponseTopic, "reply/here")
        self.assertEqual(mp.CorrelationData, b"\x01\x02")
        self.assertEqual(mp.PayloadFormatIndicator, 1)
        self.assertTrue(0 < mp.MessageExpiryInterval <= 60)
        s.close()
        p.close()

    def test_message_expiry_while_queued(self):
        s = self.client("s-exp", expiry=60)
        s.sub("exp", qos=1)
        s.close()
        p = self.client("p-exp")
        pp = Properties(PacketTypes.PUBLISH)
        pp.MessageExpiryInterval = 1
        p.pub("exp", b"short", qos=1, props=pp)
        p.pub("exp", b"long", qos=1)
        time.sleep(1.5)
        s = self.client("s-exp", clean=False, expiry=60)
        self.assertEqual(s.get().payload, b"long")
        s.none()
        s.close()
        p.close()

    def test_subscription_ids_and_no_local(self):
        c = self.client("c-subid")
        sp = Properties(PacketTypes.SUBSCRIBE)
        sp.SubscriptionIdentifier = 42
        c.sub("sid/#", props=sp)
        c.sub("nl/#", noLocal=True)
        other = self.client("o-subid")
        other.pub("sid/x", b"1", qos=1)
        m = c.get()
        self.assertEqual(m.properties.SubscriptionIdentifier, [42])
        c.pub("nl/x", b"mine", qos=1)
        c.none()
        other.pub("nl/x", b"theirs", qos=1)
        self.assertEqual(c.get().payload, b"theirs")
        c.close()
        other.close()

    def test_topic_alias_inbound(self):
        s = self.client("s-alias")
        s.sub("alias/t")
        p = self.client("p-alias")
        pp = Properties(PacketTypes.PUBLISH)
        pp.TopicAlias = 3
        p.pub("alias/t", b"1", qos=1, props=pp)
        p.pub("", b"2", qos=1, props=pp)
        self.assertEqual([(m.topic, m.payload) for m in (s.get(), s.get())], [("alias/t", b"1"), ("alias/t", b"2")])
        s.close()
        p.close()

    def test_topic_alias_outbound(self):
        cp = Properties(PacketTypes.CONNECT)
        cp.TopicAliasMaximum = 5
        s = self.client("s-alias-out", props=cp)
        s.sub("ao/t")
        p = self.client("p-alias-out")
        for i in range(3):
            p.pub("ao/t", b"%d" % i, qos=1)
        msgs = [s.get() for _ in range(3)]
        # paho 1.6 does not resolve aliases itself: the topic comes once, then only the alias.
        self.assertEqual([m.topic for m in msgs], ["ao/t", "", ""])
        aliases = {m.properties.TopicAlias for m in msgs}
        self.assertEqual(len(aliases), 1)
        self.assertTrue(1 <= aliases.pop() <= 5)
        s.close()
        p.close()

    def test_connack_properties_and_assigned_id(self):
        c = self.client("")
        self.assertTrue(c.props.AssignedClientIdentifier)
        self.assertEqual(c.props.ReceiveMaximum, 32)
        self.assertEqual(c.props.TopicAliasMaximum, 10)
        self.assertEqual(c.props.MaximumPacketSize, 1048576)
        c.close()

    def test_maximum_packet_size_towards_client(self):
        cp = Properties(PacketTypes.CONNECT)
        cp.MaximumPacketSize = 200
        s = self.client("s-maxpkt", props=cp)
        s.sub("mp")
        p = self.client("p-maxpkt")
        p.pub("mp", b"x" * 500, qos=1)  # too big for s: not sent to it
        p.pub("mp", b"small", qos=1)
        self.assertEqual(s.get().payload, b"small")
        s.none()
        s.close()
        p.close()

    def test_session_expiry(self):
        s = self.client("s-expire", expiry=1)
        s.sub("se")
        s.close()
        time.sleep(2.2)
        s = self.client("s-expire", clean=False, expiry=1)
        self.assertFalse(s.flags.get("session present"))
        s.close()
        s = self.client("s-keep", expiry=30)
        s.close()
        s = self.client("s-keep", clean=False, expiry=30)
        self.assertTrue(s.flags.get("session present"))
        s.close()

    def test_sys_topics_and_wildcards(self):
        s = self.client("s-sys")
        s.sub("#")
        s.sub("$SYS/brokers/+/clients/connected")
        m = s.get(timeout=4)
        while not m.topic.startswith("$SYS"):
            m = s.get(timeout=4)
        self.assertEqual(m.topic, "$SYS/brokers/kuiperd/clients/connected")
        self.assertGreaterEqual(int(m.payload), 1)
        s.close()

    def test_shared_subscription(self):
        a = self.client("share-a")
        b = self.client("share-b", v5=False)
        a.sub("$share/g/sh/#")
        b.sub("$share/g/sh/#")
        p = self.client("share-p")
        for i in range(10):
            p.pub("sh/x", b"%d" % i, qos=1)
        got = []
        for c in (a, b):
            while True:
                try:
                    got.append(c.get(timeout=0.5).payload)
                except queue.Empty:
                    break
        self.assertEqual(sorted(got), sorted(b"%d" % i for i in range(10)))
        for c in (a, b, p):
            c.close()


class BrokerRestart(unittest.TestCase):
    def test_retained_and_sessions_survive_restart(self):
        k = Kuiperd(args=["--broker-only"]).start()
        try:
            s = Client(k.mqtt_port, "durable", expiry=600)
            s.sub("dur/#", qos=1)
            s.close()
            p = Client(k.mqtt_port, "dur-pub")
            p.pub("dur/retained", b"R", qos=1, retain=True)
            p.pub("dur/queued", b"Q", qos=1)
            p.close()
            self.assertEqual(k.stop(), 0)
            k.start()
            s = Client(k.mqtt_port, "durable", clean=False, expiry=600)
            self.assertTrue(s.flags.get("session present"))
            got = sorted(s.get().payload for _ in range(2))
            self.assertEqual(got, [b"Q", b"R"])
            s.close()
            late = Client(k.mqtt_port, "late", v5=False)
            late.sub("dur/retained")
            m = late.get()
            self.assertTrue(m.retain)
            self.assertEqual(m.payload, b"R")
            late.close()
        finally:
            k.cleanup()


if __name__ == "__main__":
    main()
