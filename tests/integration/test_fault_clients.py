"""Clients connecting and dropping in a loop while rules run: paho clients that subscribe and vanish
without DISCONNECT, persistent sessions left behind and taken over, raw sockets that send half a
CONNECT, garbage, or nothing, and a subscriber that never reads. Meanwhile a publisher feeds two
rules (a filter and a window) at a fixed rate. The rules keep producing through the churn, every
message reaches the rule, kuiperd's open files return to their baseline and its memory stays
bounded. Short in `make test`; EK_SOAK_SECONDS makes it a soak."""
import json
import random
import socket
import sys
import threading
import time
import unittest

import paho.mqtt.client as mqtt

from connectors_util import Listener
from fault_util import Publisher, open_fds, rss_kb, rule_status, soak_seconds
from harness import Kuiperd, main, sanitized, wait_for

RATE = 100  # messages per second into the rules


def raw_abuse(port, rnd):
    """One misbehaving raw connection: closes at once, sends half a CONNECT, garbage, or a CONNECT
    and then vanishes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    try:
        kind = rnd.randrange(4)
        if kind == 1:
            s.sendall(b"\x10\x20\x00\x04MQ")
        elif kind == 2:
            s.sendall(bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 64))))
        elif kind == 3:
            cid = b"raw%d" % rnd.randrange(1000000)
            var = b"\x00\x04MQTT\x04\x02\x00\x05" + len(cid).to_bytes(2, "big") + cid
            s.sendall(b"\x10" + bytes([len(var)]) + var)
            s.recv(4)
    except OSError:
        pass
    finally:
        s.close()


def paho_churn(port, rnd):
    """A paho client that connects, subscribes (sometimes with a persistent session), and drops
    its socket without DISCONNECT."""
    persistent = rnd.random() < 0.3
    cid = "churn-%d" % rnd.randrange(20 if persistent else 1000000)  # persistent ids are reused
    c = mqtt.Client(client_id=cid, clean_session=not persistent)
    c.connect("127.0.0.1", port, keepalive=5)
    c.subscribe("fc/#" if rnd.random() < 0.5 else "fc/out", 1)
    for _ in range(rnd.randrange(1, 5)):
        c.loop(0.02)
    sock = c.socket()
    if sock:  # None when the broker already closed it (a takeover by a client with the same id)
        sock.close()  # vanish: no DISCONNECT, the broker sees a dead socket


def slow_reader(port):
    """Subscribes to everything and never reads: the broker must not let it block the others."""
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    cid = b"slowpoke"
    var = b"\x00\x04MQTT\x04\x02\x00\x00" + len(cid).to_bytes(2, "big") + cid
    s.sendall(b"\x10" + bytes([len(var)]) + var)
    s.recv(4)
    topic = b"#"
    body = b"\x00\x01" + len(topic).to_bytes(2, "big") + topic + b"\x01"
    s.sendall(b"\x82" + bytes([len(body)]) + body)
    return s


class ClientChurn(unittest.TestCase):
    def test_rules_survive_client_churn(self):
        duration = soak_seconds(15)
        with Kuiperd() as k:
            sql = 'CREATE STREAM fc (i BIGINT) WITH (DATASOURCE="fc/in", FORMAT="json")'
            self.assertEqual(k.request("POST", "/streams", {"sql": sql})[0], 201)
            out = {"mqtt": {"server": "tcp://127.0.0.1:%d" % k.mqtt_port, "topic": "fc/out", "sendSingle": True}}
            win = {"mqtt": {"server": "tcp://127.0.0.1:%d" % k.mqtt_port, "topic": "fc/win", "sendSingle": True}}
            rules = [{"id": "cf", "sql": "SELECT i FROM fc WHERE i % 2 = 0", "actions": [out]},
                     {"id": "cw", "sql": "SELECT count(*) AS n FROM fc GROUP BY TUMBLINGWINDOW(ss, 1)",
                      "actions": [win]}]
            for rule in rules:
                self.assertEqual(k.request("POST", "/rules", rule)[0], 201)
            wait_for(lambda: all(rule_status(k, r["id"]).get("status") == "running" for r in rules),
                     what="rules running")
            windows = Listener(k.mqtt_port, "fc/win")
            slow = slow_reader(k.mqtt_port)
            pub = Publisher(k.mqtt_port, "fc/in", RATE, client_id="ek-fault-churn-pub").start()
            time.sleep(1)
            base_fds = open_fds(k.proc.pid)
            stop = threading.Event()
            errors = []
            churned = [0]

            def churn(seed):
                rnd = random.Random(seed)
                while not stop.is_set():
                    try:
                        if rnd.random() < 0.5:
                            raw_abuse(k.mqtt_port, rnd)
                        else:
                            paho_churn(k.mqtt_port, rnd)
                        churned[0] += 1
                    except OSError as e:  # a refused connection would be a finding
                        errors.append(repr(e))
                        time.sleep(0.05)

            threads = [threading.Thread(target=churn, args=(seed,), daemon=True) for seed in (1, 2)]
            for t in threads:
                t.start()
            start = time.time()
            rss = []
            windows_seen = []
            try:
                while time.time() - start < duration:
                    time.sleep(1)
                    rss.append(rss_kb(k.proc.pid))
                    windows_seen.append(len(windows.messages()))
            finally:
                stop.set()
                for t in threads:
                    t.join(10)
                n = pub.stop()
            self.assertTrue(pub.wait_acked(), "the publisher's messages were not all acknowledged")
            wait_for(lambda: rule_status(k, "cf").get("source_fc_0_records_in_total") == n, timeout=15,
                     what="all %d messages at the filter rule" % n)
            wait_for(lambda: rule_status(k, "cf").get("sink_mqtt_0_0_records_out_total") == (n + 1) // 2,
                     timeout=15, what="the filter rule's output")
            # The window rule produced during the churn, not only before or after it.
            self.assertGreater(windows_seen[-1], windows_seen[len(windows_seen) // 2], windows_seen)
            for r in rules:
                self.assertEqual(rule_status(k, r["id"]).get("status"), "running")
            # Dropped clients release their sockets: open files return to the baseline (the
            # persistent sessions keep no socket; allow a few for connections still closing).
            fds = wait_for(lambda: (open_fds(k.proc.pid) <= base_fds + 3) and open_fds(k.proc.pid), timeout=15,
                           what="open files back near %d" % base_fds)
            sys.stderr.write("client churn: %.0f s, %d clients, %d messages, rss %d -> %d kB (max %d), fds %d -> %d, "
                             "%d connection errors\n" % (duration, churned[0], n, rss[0], rss[-1], max(rss),
                                                         base_fds, fds, len(errors)))
            self.assertEqual(errors, [])
            # Memory stays bounded: the second half of the run grows by less than 32 MB over the first.
            half = rss[len(rss) // 2:]
            if not sanitized():  # ASan's quarantine grows by design; the bound is for real builds
                self.assertLess(max(half) - rss[len(rss) // 2 - 1], 32 * 1024, rss)
            slow.close()
            pub.close()
            windows.close()


if __name__ == "__main__":
    main()
