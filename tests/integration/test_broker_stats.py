"""The bundled broker's figures in GET /metrics (issue 8).

With basic.prometheus true, /metrics carries kuiper_broker_<name> samples (# HELP and # TYPE
included), the same figures $SYS publishes. The test connects a few paho clients, publishes N
messages to a subscriber and checks that connections, messages, bytes, subscriptions and retained
messages move by what was done."""
import re
import time
import unittest
import urllib.request

import paho.mqtt.client as mqtt

from harness import Kuiperd, free_port, main, wait_for

N = 7


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        return r.read().decode()


def answering(port):
    try:
        return scrape(port)
    except OSError:
        return None


def figures(port):
    text = scrape(port)
    return text, {m.group(1): int(m.group(2)) for m in re.finditer(r"^kuiper_broker_(\w+) (\d+)$", text, re.M)}


def client(port, cid):
    c = mqtt.Client(client_id=cid, protocol=mqtt.MQTTv311)
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


class BrokerStats(unittest.TestCase):
    def test_figures_move(self):
        port = free_port()
        with Kuiperd(env={"KUIPER__BASIC__PROMETHEUS": "true", "KUIPER__BASIC__PROMETHEUSPORT": str(port)}) as k:
            # kuiperd answers on the REST port (what Kuiperd waits for) just before /metrics listens.
            wait_for(lambda: answering(port), timeout=10, what="/metrics answering")
            text, before = figures(port)
            for name, kind in (("clients_connected", "gauge"), ("messages_received_total", "counter"),
                               ("bytes_sent_total", "counter"), ("uptime_seconds", "gauge")):
                self.assertIn("# TYPE kuiper_broker_%s %s" % (name, kind), text)
                self.assertIn("# HELP kuiper_broker_%s " % name, text)

            got = []
            sub = client(k.mqtt_port, "stats-sub")
            sub.on_message = lambda c, u, m: got.append(m.payload)
            sub.subscribe("stats/t", qos=1)
            pubs = [client(k.mqtt_port, "stats-pub%d" % i) for i in range(2)]
            wait_for(lambda: figures(port)[1]["clients_connected"] >= before["clients_connected"] + 3,
                     timeout=10, what="3 clients connected")
            wait_for(lambda: figures(port)[1]["subscriptions"] >= before["subscriptions"] + 1,
                     timeout=10, what="the subscription counted")
            for i in range(N):
                pubs[i % 2].publish("stats/t", b"m%d" % i, qos=1).wait_for_publish(timeout=5)
            pubs[0].publish("stats/keep", b"kept", qos=1, retain=True).wait_for_publish(timeout=5)
            wait_for(lambda: len(got) >= N, timeout=10, what="%d messages delivered" % N)

            _, after = figures(port)
            self.assertGreaterEqual(after["messages_received_total"] - before["messages_received_total"], N + 1)
            self.assertGreaterEqual(after["messages_sent_total"] - before["messages_sent_total"], N)
            self.assertGreater(after["bytes_received_total"], before["bytes_received_total"])
            self.assertGreater(after["bytes_sent_total"], before["bytes_sent_total"])
            self.assertGreaterEqual(after["connects_total"] - before["connects_total"], 3)
            self.assertEqual(after["retained_messages"] - before["retained_messages"], 1)
            self.assertEqual(after["messages_dropped_total"], before["messages_dropped_total"])

            for c in [sub] + pubs:
                c.disconnect()
                c.loop_stop()
            wait_for(lambda: figures(port)[1]["clients_connected"] == before["clients_connected"],
                     timeout=10, what="clients gone")
            time.sleep(1.1)
            self.assertGreaterEqual(figures(port)[1]["uptime_seconds"], 1)


if __name__ == "__main__":
    main()
