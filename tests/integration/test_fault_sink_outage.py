"""The sink's external broker goes away and comes back while a publisher feeds the rule at a fixed
rate: a Mosquitto (with persistence, so the consumer's persistent session survives it) is stopped
and started again on the same port, once in `make test`, in a cycle for EK_SOAK_SECONDS in a soak.
With the sink cache on and QoS 1, every message published reaches the consumer (at-least-once:
duplicates are counted and printed, never a loss)."""
import sys
import time
import unittest

from connectors_util import start_cached_rule
from fault_util import Consumer, PersistentMosquitto, Publisher, ranges, rule_status, soak_seconds
from harness import Kuiperd, main

RATE = 50  # messages per second


class SinkBrokerOutage(unittest.TestCase):
    def test_sink_broker_down_and_back_loses_nothing(self):
        duration = soak_seconds(12)
        ext = PersistentMosquitto().start()
        k = Kuiperd()
        consumer = pub = None
        try:
            consumer = Consumer(ext.port, "fo/out", "ek-fault-consumer-o")
            k.start()
            start_cached_rule(k, "ro", "fo", ext.port, "fo/out")
            pub = Publisher(k.mqtt_port, "fo/in", RATE).start()
            start = time.time()
            outages = 0
            # Cycle: 2 s up, 3 s down; the last 2 s are up so the cache drains while messages flow.
            while time.time() - start < duration - 2:
                time.sleep(2)
                ext.stop()
                outages += 1
                time.sleep(min(3, max(0.5, duration - 2 - (time.time() - start))))
                ext.start()
            time.sleep(2)
            n = pub.stop()
            self.assertTrue(pub.wait_acked(), "the publisher's messages were not all acknowledged")
            lost, dups = consumer.wait_all(n, timeout=60)
            st = rule_status(k, "ro")
            sys.stderr.write("sink outage: %d outages, %d published, %d lost (%s), %d duplicates, status %s\n"
                             % (outages, n, len(lost), ranges(lost), dups, st.get("status")))
            if lost:
                sys.stderr.write("rule status: %s\n" % {key: v for key, v in st.items() if key.startswith("sink")})
            self.assertEqual(lost, [])
            self.assertEqual(st.get("status"), "running")
        finally:
            if pub:
                pub.close()
            if consumer:
                consumer.close()
            k.stop()
            ext.cleanup()
            k.cleanup()


if __name__ == "__main__":
    main()
