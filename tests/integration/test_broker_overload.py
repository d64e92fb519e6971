"""Overload protection of the bundled broker (broker/overload.c), each limit against a real kuiperd
with real clients, and each refusal counted under $SYS/brokers/kuiperd/overload/ (read by an MQTT
subscriber) and in GET /broker/stats:

- maxClients: the connection beyond it is closed before its CONNACK;
- maxConnRate: connections beyond the per-listener rate are closed, and a second later new ones are
  accepted again;
- maxMessageRate: a publisher over the rate gets DISCONNECT 0x96 (MQTT 5) or is closed (3.1.1),
  while one under it keeps publishing;
- maxTopicLevels and maxTopicLength: PUBACK 0x90 and SUBACK 0x8F (MQTT 5), SUBACK 0x80 and a
  dropped message (3.1.1);
- maxInflight and maxQueuedMessages: a subscriber that never acknowledges holds maxInflight
  messages in flight and maxQueuedMessages queued (GET /broker/clients shows both), the rest is
  dropped and counted; a publisher with more unreleased QoS 2 messages gets DISCONNECT 0x93.

No assertion depends on how fast the machine is: bursts are sent back to back (a slower machine only
makes the rate limits harder to hit for the under-rate client, which sleeps between messages)."""
import re
import socket
import struct
import time
import unittest
import urllib.request

from broker_util import SysWatcher, assert_clean_stop, client, pkt, raw_session, raw_subscribe, s, stop, subscribe
from harness import Kuiperd, free_port, main, wait_for


def broker(env=None, **limits):
    env = dict(env or {}, KUIPER__BROKER__SYSINTERVAL="1")
    env.update({"KUIPER__BROKER__" + k.upper(): str(v) for k, v in limits.items()})
    return Kuiperd(env=env)


def refused(port):
    """True when a new connection is closed without a CONNACK."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=3)
    try:
        sock.sendall(b"\x10\x10\x00\x04MQTT\x04\x02\x00\x3c\x00\x04late")
        return sock.recv(16) == b""
    except ConnectionResetError:
        return True
    finally:
        sock.close()


def stats(k):
    return k.request("GET", "/broker/stats")[1]


class Overload(unittest.TestCase):
    def test_max_clients(self):
        with broker(maxClients=3) as k:
            watcher = SysWatcher(k.mqtt_port)  # one of the three
            a, b = client(k.mqtt_port, "mc-a"), client(k.mqtt_port, "mc-b")
            self.assertTrue(refused(k.mqtt_port))
            self.assertTrue(refused(k.mqtt_port))
            watcher.wait("overload/max_clients", 2)
            self.assertEqual(stats(k)["overload.max_clients"], 2)
            self.assertEqual(stats(k)["clients.connected"], 3)
            stop(b)
            wait_for(lambda: stats(k)["clients.connected"] == 2, what="one left")
            c = client(k.mqtt_port, "mc-c")  # room again
            stop(a, c)
            watcher.close()
            assert_clean_stop(self, k)

    def test_connection_rate(self):
        with broker(maxConnRate=3) as k:
            time.sleep(1.1)  # a full bucket, whatever kuiperd did at start
            # 20 connections at once: the burst of 3 (and what refills meanwhile) gets in.
            socks = [socket.create_connection(("127.0.0.1", k.mqtt_port), timeout=3) for _ in range(20)]
            accepted, closed = [], 0
            for i, sock in enumerate(socks):
                try:
                    sock.sendall(b"\x10\x0f\x00\x04MQTT\x04\x02\x00\x3c\x00\x03r%02d" % i)
                    if sock.recv(4)[:1] == b"\x20":
                        accepted.append(sock)
                        continue
                except (ConnectionResetError, BrokenPipeError):
                    pass
                sock.close()
                closed += 1
            self.assertGreaterEqual(len(accepted), 3)
            self.assertGreaterEqual(closed, 1)
            time.sleep(1.1)
            watcher = SysWatcher(k.mqtt_port)  # accepted again once the bucket refilled
            watcher.wait("overload/connection_rate", closed)
            self.assertEqual(stats(k)["overload.connection_rate"], closed)
            for sock in accepted:
                sock.close()
            watcher.close()
            assert_clean_stop(self, k)

    def test_message_rate(self):
        prom = free_port()
        with broker(maxMessageRate=5, env={"KUIPER__BASIC__PROMETHEUS": "true",
                                           "KUIPER__BASIC__PROMETHEUSPORT": str(prom)}) as k:
            watcher = SysWatcher(k.mqtt_port)
            slow = client(k.mqtt_port, "mr-slow", v5=True)
            for i in range(4):  # under the rate: 2 a second
                slow.publish("mr/slow", b"%d" % i, qos=1).wait_for_publish(5)
                time.sleep(0.5)
            # MQTT 5: DISCONNECT 0x96 once the burst of 5 is spent.
            fast = raw_session(k.mqtt_port, b"mr-fast5")
            for i in range(20):
                fast.send(pkt(0x30, s(b"mr/fast") + b"\x00" + b"x"))
            p = fast.recv_packet()
            self.assertEqual((p[0], p[2][0]), (14, 0x96))
            self.assertIn(b"message rate too high", p[2])
            self.assertTrue(fast.closed())
            fast.close()
            # MQTT 3.1.1: closed.
            fast3 = client(k.mqtt_port, "mr-fast3")
            for i in range(20):
                fast3.publish("mr/fast", b"x", qos=0)
            wait_for(lambda: fast3.disconnects, what="the 3.1.1 publisher closed")
            fast3.loop_stop()
            watcher.wait("overload/message_rate", 2)
            self.assertEqual(stats(k)["overload.message_rate"], 2)
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % prom, timeout=5) as r:
                text = r.read().decode()
            self.assertIn("# TYPE kuiper_broker_overload_message_rate_total counter", text)
            self.assertRegex(text, re.compile(r"^kuiper_broker_overload_message_rate_total 2$", re.M))
            self.assertEqual(slow.disconnects, [])
            slow.publish("mr/slow", b"still here", qos=1).wait_for_publish(5)
            stop(slow)
            watcher.close()
            assert_clean_stop(self, k)

    def test_topic_levels_and_length(self):
        with broker(maxTopicLevels=3, maxTopicLength=20) as k:
            watcher = SysWatcher(k.mqtt_port)
            sub = client(k.mqtt_port, "tl-sub")
            self.assertEqual(subscribe(sub, "#", qos=1), [1])
            v5 = raw_session(k.mqtt_port, b"tl-v5")
            # PUBLISH: PUBACK 0x90 (Topic Name invalid), nothing routed.
            v5.send(pkt(0x32, s(b"a/b/c/d") + b"\x00\x01" + b"\x00" + b"deep"))
            self.assertEqual(v5.recv_packet(), (4, 0, b"\x00\x01\x90"))
            v5.send(pkt(0x32, s(b"a/" + b"x" * 30) + b"\x00\x02" + b"\x00" + b"long"))
            self.assertEqual(v5.recv_packet(), (4, 0, b"\x00\x02\x90"))
            v5.send(pkt(0x32, s(b"a/b/c") + b"\x00\x03" + b"\x00" + b"fine"))
            self.assertEqual(v5.recv_packet()[2][:2], b"\x00\x03")
            # SUBSCRIBE: SUBACK 0x8F (Topic Filter invalid) for the filter over a limit only.
            self.assertEqual(raw_subscribe(v5, 4, b"a/b/c/#"), [0x8F])
            self.assertEqual(raw_subscribe(v5, 5, b"$share/g/a/b/c"), [1])  # the share prefix is not counted
            self.assertEqual(raw_subscribe(v5, 6, b"x" * 21), [0x8F])
            # MQTT 3.1.1: SUBACK 0x80, and a refused PUBLISH is dropped.
            v3 = client(k.mqtt_port, "tl-v3")
            self.assertEqual(subscribe(v3, "a/b/+/+", qos=1), [0x80])
            v3.publish("q/w/e/r", b"deep3", qos=1).wait_for_publish(5)
            v3.publish("q/w/e", b"fine3", qos=1).wait_for_publish(5)
            wait_for(lambda: len(sub.messages) == 2, what="the two accepted messages")
            time.sleep(0.3)
            self.assertEqual([m.payload for m in sub.messages], [b"fine", b"fine3"])
            watcher.wait("overload/topic_levels", 4)
            watcher.wait("overload/topic_length", 2)
            st = stats(k)
            self.assertEqual((st["overload.topic_levels"], st["overload.topic_length"]), (4, 2))
            # $SYS filters are not limited (the watcher's $SYS/brokers/kuiperd/# has 4 levels).
            self.assertEqual(raw_subscribe(v5, 7, b"$SYS/brokers/kuiperd/overload/+"), [1])
            v5.close()
            stop(sub, v3)
            watcher.close()
            assert_clean_stop(self, k)

    def test_inflight_and_queue(self):
        with broker(maxInflight=2, maxQueuedMessages=3) as k:
            watcher = SysWatcher(k.mqtt_port)
            # A subscriber that never acknowledges: 2 in flight, 3 queued, the oldest queued dropped.
            slow = raw_session(k.mqtt_port, b"if-slow")
            self.assertEqual(raw_subscribe(slow, 1, b"if/t"), [1])
            pub = client(k.mqtt_port, "if-pub")
            for i in range(8):
                pub.publish("if/t", b"m%d" % i, qos=1).wait_for_publish(5)
            got = [slow.recv_packet() for _ in range(2)]
            self.assertEqual([p[0] for p in got], [3, 3])
            self.assertTrue(got[0][2].endswith(b"m0") and got[1][2].endswith(b"m1"))
            slow.sock.settimeout(0.5)
            with self.assertRaises(socket.timeout):
                slow.recv_packet()  # nothing more before an ack
            status, body = k.request("GET", "/broker/clients/if-slow")
            self.assertEqual((body["inflight_cnt"], body["inflight_max"], body["mqueue_len"], body["mqueue_max"],
                              body["mqueue_dropped"]), (2, 2, 3, 3, 3))
            watcher.wait("overload/queue_full", 3)
            self.assertEqual(stats(k)["overload.queue_full"], 3)
            # Acknowledging the first lets the newest queued ones through: m5 (m2..m4 were dropped).
            mid = struct.unpack(">H", got[0][2][2 + 4:2 + 4 + 2])[0]
            slow.send(pkt(0x40, struct.pack(">H", mid)))
            slow.sock.settimeout(3)
            self.assertTrue(slow.recv_packet()[2].endswith(b"m5"))

            # Inbound: a third unreleased QoS 2 PUBLISH is over the Receive Maximum of 2.
            q2 = raw_session(k.mqtt_port, b"if-q2")
            for i in range(1, 4):
                q2.send(pkt(0x34, s(b"if/q2") + struct.pack(">H", i) + b"\x00"))
            self.assertEqual([q2.recv_packet()[0] for _ in range(2)], [5, 5])
            p = q2.recv_packet()
            self.assertEqual((p[0], p[2][0]), (14, 0x93))
            watcher.wait("overload/inflight", 1)
            self.assertEqual(stats(k)["overload.inflight"], 1)
            slow.close()
            q2.close()
            stop(pub)
            watcher.close()
            assert_clean_stop(self, k)


if __name__ == "__main__":
    main()
