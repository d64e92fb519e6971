"""kill -9 of kuiperd under load: a publisher sends numbered messages at a fixed rate (QoS 1) to
the bundled broker, a QoS 1 rule (checkpoints on) sends them through an mqtt sink with the cache on
to a Mosquitto, where a consumer with a persistent session counts them. kuiperd is killed with
SIGKILL mid-stream every 3 s (three times in `make test`, for EK_SOAK_SECONDS in a soak) and
started again on the same ports and data directory; the publisher's client reconnects and sends
what it had not had acknowledged. The test prints how many messages were lost and duplicated.

Nothing may be lost: the bundled broker holds each PUBACK until the QoS 1 rule's sink has the
message delivered (or cached on disk), so whatever the kill caught in flight is resent by the
publisher (docs/reliability.md, "No loss on kill -9"). Duplicates are allowed (at-least-once).
The publisher has a persistent session and resends unacknowledged messages after reconnecting."""
import sys
import time
import unittest

from connectors_util import start_cached_rule
from fault_util import Consumer, PersistentMosquitto, Publisher, ranges, rule_status, soak_seconds
from harness import Kuiperd, main, wait_for

RATE = 50  # messages per second


class Kill9UnderLoad(unittest.TestCase):
    def test_kill9_under_load(self):
        duration = soak_seconds(10)
        ext = PersistentMosquitto().start()
        k = Kuiperd()
        consumer = pub = None
        try:
            consumer = Consumer(ext.port, "fk/out", "ek-fault-consumer-k")
            k.start()
            start_cached_rule(k, "rk", "fk", ext.port, "fk/out", {"qos": 1, "checkpointInterval": 500})
            pub = Publisher(k.mqtt_port, "fk/in", RATE).start()
            start = time.time()
            kills = 0
            while time.time() - start < duration - 2:
                time.sleep(3)
                k.kill9()
                kills += 1
                time.sleep(0.5)
                k.start()
                wait_for(lambda: rule_status(k, "rk").get("status") == "running", timeout=15,
                         what="rule running after restart")
            time.sleep(2)
            n = pub.stop()
            self.assertTrue(pub.wait_acked(), "the publisher's messages were not all acknowledged")
            lost, dups = consumer.wait_all(n, timeout=20)
            sys.stderr.write("kill -9: %d kills, %d published, %d lost (%s), %d duplicates\n"
                             % (kills, n, len(lost), ranges(lost), dups))
            self.assertEqual(rule_status(k, "rk").get("status"), "running")
            self.assertGreaterEqual(kills, 2)
            self.assertEqual(lost, [], "lost across %d kills" % kills)
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
