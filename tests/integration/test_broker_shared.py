"""Shared and exclusive subscriptions of the bundled broker (issue 7) with real clients (paho-mqtt
3.1.1 and 5.0, mosquitto_pub, raw sockets) against `kuiperd --broker-only`: the distribution of
$share/{group}/ and $queue/ messages under each sharedSubscriptionStrategy (round_robin evenly,
sticky all to one member until it leaves, hash of the publisher's client id always to the same
member, random to more than one), a QoS 1 message redelivered to another member when the chosen one
disconnects without acknowledging it, and $exclusive/ subscriptions (0x97 on v5 and 0x80 on 3.1.1
for a second client, free again after UNSUBSCRIBE or disconnect; 0x8F when the feature is off).
Every wait is bounded."""
import queue
import subprocess
import time
import unittest

from harness import Kuiperd, main
from test_broker_paho import Client
from test_broker_raw import Raw, connect_pkt, pkt, s, varint


def start(**env):
    e = {"KUIPER__BROKER__SYSINTERVAL": "0", "KUIPER__BROKER__PERSIST": "false"}
    e.update({"KUIPER__BROKER__" + k.upper(): v for k, v in env.items()})
    return Kuiperd(args=["--broker-only"], env=e).start()


def drain(clients, timeout=0.5):
    """{index: [payloads]} of everything the clients received until quiet."""
    out = {}
    for i, c in enumerate(clients):
        out[i] = []
        while True:
            try:
                out[i].append(c.get(timeout=timeout).payload)
            except queue.Empty:
                break
    return out


class Strategies(unittest.TestCase):
    def members(self, k, n, filt="$share/g/s/#"):
        cs = []
        for i in range(n):
            c = Client(k.mqtt_port, "m%d" % i, v5=(i % 2 == 0))  # v5 and 3.1.1 members alike
            self.addCleanup(c.c.loop_stop)
            c.sub(filt, qos=1)
            cs.append(c)
        return cs

    def publish(self, k, count, cid="pub", topic="s/x", base=0):
        p = Client(k.mqtt_port, cid)
        for i in range(count):
            p.pub(topic, b"%d" % (base + i), qos=1)
        p.close()

    def test_round_robin_evenly(self):
        k = start(sharedSubscriptionStrategy="round_robin")
        self.addCleanup(k.cleanup)
        ms = self.members(k, 3)
        self.publish(k, 30)
        got = drain(ms)
        self.assertEqual([len(got[i]) for i in range(3)], [10, 10, 10])
        self.assertEqual(sorted(sum(got.values(), [])), sorted(b"%d" % i for i in range(30)))

    def test_sticky_until_the_member_leaves(self):
        k = start(sharedSubscriptionStrategy="sticky")
        self.addCleanup(k.cleanup)
        ms = self.members(k, 3)
        self.publish(k, 20)
        got = drain(ms)
        counts = sorted(len(v) for v in got.values())
        self.assertEqual(counts, [0, 0, 20])
        chosen = [i for i in got if got[i]][0]
        ms[chosen].close()
        self.publish(k, 20, base=100)
        rest = [c for i, c in enumerate(ms) if i != chosen]
        got = drain(rest)
        self.assertEqual(sorted(len(v) for v in got.values()), [0, 20])

    def test_hash_of_the_publisher(self):
        k = start(sharedSubscriptionStrategy="hash")
        self.addCleanup(k.cleanup)
        ms = self.members(k, 3, "$queue/s/#")
        seen = set()
        for p in range(6):
            # mosquitto_pub: a new connection per message, the same client id each time
            for i in range(4):
                subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(k.mqtt_port), "-i", "dev-%d" % p,
                                "-q", "1", "-t", "s/x", "-m", "%d-%d" % (p, i)], check=True, timeout=10)
            got = drain(ms)
            who = [i for i in got if got[i]]
            self.assertEqual(len(who), 1, "publisher dev-%d reached %s" % (p, got))
            self.assertEqual(len(got[who[0]]), 4)
            seen.add(who[0])
        self.assertGreater(len(seen), 1, "six publishers all hashed to one member")

    def test_random_reaches_several(self):
        k = start(sharedSubscriptionStrategy="random")
        self.addCleanup(k.cleanup)
        ms = self.members(k, 3)
        self.publish(k, 60)
        got = drain(ms)
        self.assertEqual(sum(len(v) for v in got.values()), 60)
        self.assertGreater(sum(1 for v in got.values() if v), 1)

    def test_bad_settings_name_the_key(self):
        for key, value in (("SHAREDSUBSCRIPTIONSTRATEGY", "fastest"), ("EXCLUSIVESUBSCRIPTION", "maybe"),
                           ("MAXDELAYEDMESSAGES", "-1")):
            k = Kuiperd(args=["--broker-only"], env={"KUIPER__BROKER__" + key: value})
            self.addCleanup(k.cleanup)
            with self.assertRaises(RuntimeError) as e:
                k.start(timeout=10)
            self.assertIn("broker.", str(e.exception))
            self.assertIn(key.lower(), str(e.exception).lower())


class Redelivery(unittest.TestCase):
    def test_unacknowledged_messages_go_to_another_member(self):
        k = start(sharedSubscriptionStrategy="round_robin")
        self.addCleanup(k.cleanup)
        for qos in (1, 2):
            with self.subTest(qos=qos):
                self.redeliver(k, qos)

    def redeliver(self, k, qos):
        topic = "r%d" % qos
        # A raw member that never acknowledges (no PUBACK, no PUBREC), and a paho member.
        raw = Raw(k.mqtt_port)
        raw.send(connect_pkt(b"silent-%d" % qos, v=5))
        self.assertEqual(raw.recv_packet()[0], 2)
        raw.send(pkt(0x82, b"\x00\x01" + varint(0) + s(b"$share/g/%s/#" % topic.encode()) + bytes([qos])))
        self.assertEqual(raw.recv_packet()[0], 9)
        other = Client(k.mqtt_port, "other-%d" % qos, v5=False)
        self.addCleanup(other.c.loop_stop)
        other.sub("$share/g/%s/#" % topic, qos=qos)
        p = Client(k.mqtt_port, "rp-%d" % qos)
        for i in range(4):
            p.pub(topic + "/x", b"%d" % i, qos=qos)
        held = []
        for _ in range(2):
            t, flags, body = raw.recv_packet()
            self.assertEqual(t, 3)
            self.assertEqual((flags >> 1) & 3, qos)
            n = body[1]
            held.append(body[2 + n + 2 + 1:])  # topic, packet id, empty v5 properties
        got = drain([other])[0]
        self.assertEqual(len(got), 2)
        raw.close()  # leaves without acknowledging
        got += drain([other], timeout=2)[0]
        self.assertEqual(sorted(got), [b"0", b"1", b"2", b"3"])
        self.assertTrue(set(held) <= set(got))
        p.close()
        other.close()


class Exclusive(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = start(exclusiveSubscription="true")

    @classmethod
    def tearDownClass(cls):
        cls.k.cleanup()

    def client(self, cid, v5=True):
        c = Client(self.k.mqtt_port, cid, v5=v5)
        self.addCleanup(c.c.loop_stop)
        return c

    @staticmethod
    def code(rcs):
        rc = rcs[0]
        return rc.value if hasattr(rc, "value") else rc

    def test_one_holder_at_a_time(self):
        a, b, b3 = self.client("ex-a"), self.client("ex-b"), self.client("ex-b3", v5=False)
        self.assertEqual(self.code(a.sub("$exclusive/ex/t", qos=1)), 1)
        self.assertEqual(self.code(a.sub("$exclusive/ex/t", qos=1)), 1)  # the holder may subscribe again
        self.assertEqual(self.code(b.sub("$exclusive/ex/t", qos=1)), 0x97)
        self.assertEqual(self.code(b3.sub("$exclusive/ex/t", qos=1)), 0x80)
        self.assertEqual(self.code(b.sub("ex/t", qos=1)), 1)  # a plain subscription is not affected
        p = self.client("ex-p")
        p.pub("ex/t", b"one", qos=1)
        self.assertEqual(a.get().payload, b"one")
        self.assertEqual(b.get().payload, b"one")
        a.unsub("$exclusive/ex/t")
        self.assertEqual(self.code(b3.sub("$exclusive/ex/t", qos=1)), 1)  # free after UNSUBSCRIBE
        self.assertEqual(self.code(a.sub("$exclusive/ex/t", qos=1)), 0x97)
        b3.close()
        time.sleep(0.3)
        self.assertEqual(self.code(a.sub("$exclusive/ex/t", qos=1)), 1)  # free after the holder left
        for c in (a, b, p):
            c.close()

    def test_disabled_is_an_invalid_filter(self):
        k = start()
        self.addCleanup(k.cleanup)
        c = Client(k.mqtt_port, "ex-off")
        self.addCleanup(c.c.loop_stop)
        self.assertEqual(self.code(c.sub("$exclusive/t", qos=1)), 0x8F)
        c.close()


class Persistence(unittest.TestCase):
    def test_shared_kept_exclusive_not_across_a_restart(self):
        k = start(persist="true", exclusiveSubscription="true")
        self.addCleanup(k.cleanup)
        a = Client(k.mqtt_port, "pm-a", expiry=600)
        a.sub("$queue/pq/#", qos=1)
        self.assertEqual(Exclusive.code(a.sub("$exclusive/pq/e", qos=1)), 1)
        a.close()
        k.stop()
        k.start()
        b = Client(k.mqtt_port, "pm-b")
        self.addCleanup(b.c.loop_stop)
        # The exclusive subscription ended with a's connection and was not restored.
        self.assertEqual(Exclusive.code(b.sub("$exclusive/pq/e", qos=1)), 1)
        p = Client(k.mqtt_port, "pm-p")
        p.pub("pq/x", b"while away", qos=1)  # the group's only member is offline: queued for it
        a = Client(k.mqtt_port, "pm-a", expiry=600, clean=False)
        self.addCleanup(a.c.loop_stop)
        self.assertTrue(a.flags.get("session present"))
        self.assertEqual(a.get().payload, b"while away")
        p.pub("pq/y", b"online", qos=1)
        self.assertEqual(a.get().topic, "pq/y")
        p.pub("pq/e", b"excl", qos=1)
        self.assertEqual(b.get().payload, b"excl")
        self.assertEqual(a.get().topic, "pq/e")  # through $queue/pq/#
        a.none()
        for c in (a, b, p):
            c.close()


if __name__ == "__main__":
    main()
