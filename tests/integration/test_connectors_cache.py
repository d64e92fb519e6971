"""The sink cache through a real kuiperd: a rule's mqtt sink points at a Mosquitto that is down; N
messages go through the rule into the cache; kuiperd is killed with SIGKILL and started again with
the broker still down; then the broker comes back and all N messages arrive, in order."""
import json
import time
import unittest

from connectors_util import Listener, Mosquitto, rule_status, start_cached_rule
from harness import Kuiperd, main, wait_for

N = 30


class SinkCache(unittest.TestCase):
    def test_cache_survives_kill9(self):
        ext = Mosquitto()  # the sink's broker: not running yet
        k = Kuiperd()
        try:
            k.start()
            start_cached_rule(k, "rc", "c:cache/in", ext.port, "cache/out")
            pub = Listener(k.mqtt_port, "unused/none")
            try:
                for i in range(N):
                    pub.publish("cache/in", json.dumps({"i": i}))
            finally:
                pub.close()
            wait_for(lambda: rule_status(k, "rc").get("sink_mqtt_0_0_records_in_total") == N, timeout=15,
                     what="all messages at the sink")
            time.sleep(2.0)  # beyond sink.cacheSyncInterval (1s): the cache is on disk
            k.kill9()
            k.start()
            wait_for(lambda: rule_status(k, "rc").get("status") == "running", what="rule running after restart")
            time.sleep(1.0)
            ext.start()
            out = Listener(ext.port, "cache/out")
            try:
                # No new message after the restart: the rule arms the sink's resend timer when it
                # starts with cached data, so the N arrive on their own.
                got = wait_for(lambda: len(set(out.messages())) >= N and out.messages(), timeout=60,
                               interval=0.2, what="%d cached messages at the broker" % N)
                values = [json.loads(p)["i"] for p in got]
                self.assertEqual(sorted(set(values)), list(range(N)))  # none lost
                first = [v for idx, v in enumerate(values) if v not in values[:idx]]
                self.assertEqual(first, list(range(N)))  # in order (a resend may repeat, never reorder)
            finally:
                out.close()
        finally:
            k.stop()
            ext.cleanup()
            k.cleanup()


if __name__ == "__main__":
    main()
