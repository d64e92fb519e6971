"""An idle kuiperd keeps only the threads it needs (issue 10, idle memory; bench/RESULTS.md "Idle
memory"): with no rule and no client, no rule or sink worker, rule timer, patrol, password checker
or WAL checkpointer runs, since each idle thread costs its stack and its malloc arena. Each starts
on first need, and then does its job: a rule created over REST runs and forwards a message, a
client with a PBKDF2 password is let in, and a retained message survives a kill -9 and a restart.
Threads are told apart by the names kuiperd gives them (/proc/PID/task/*/comm, `top -H`)."""
import os
import time
import unittest

import paho.mqtt.client as mqtt

from harness import Kuiperd, main, wait_for
from rules_util import Listener, create_rule, create_streams, mqtt_sink
from test_broker_security import connect, kuiper_yaml
from test_broker_userdb import pbkdf2

LAZY = {"ek-rule", "ek-sink", "ek-timer", "ek-patrol", "ek-pwcheck", "ek-checkpoint"}


def threads(k):
    """The names of kuiperd's threads now."""
    names = []
    task = "/proc/%d/task" % k.proc.pid
    for tid in os.listdir(task):
        try:
            with open(os.path.join(task, tid, "comm")) as f:
                names.append(f.read().strip())
        except OSError:  # the thread ended meanwhile
            pass
    return names


def retained(port, topic):
    """The payload of the retained message on topic, or None when there is none (bounded)."""
    got = []
    c = mqtt.Client(client_id="retained-reader")
    c.on_message = lambda cl, u, m: got.append(m.payload.decode())
    c.connect("127.0.0.1", port)
    c.subscribe(topic, 1)
    c.loop_start()
    try:
        wait_for(lambda: got, timeout=5, what="the retained message on " + topic)
    except AssertionError:
        pass
    c.loop_stop()
    c.disconnect()
    return got[0] if got else None


class IdleThreads(unittest.TestCase):
    def test_rule_threads_start_with_the_first_rule(self):
        with Kuiperd() as k:
            idle = threads(k)
            self.assertIn("ek-broker", idle)
            self.assertEqual(LAZY & set(idle), set(), idle)
            lis = Listener(k.mqtt_port)
            self.addCleanup(lis.close)
            create_streams(self, k, 'CREATE STREAM idle (v BIGINT) WITH (DATASOURCE="t/idle", FORMAT="json")')
            self.assertEqual(LAZY & set(threads(k)), set())  # a stream alone runs nothing
            create_rule(self, k, {"id": "r1", "sql": "SELECT v FROM idle WHERE v > 1",
                                  "actions": [mqtt_sink(k, "out/r1")]})
            self.assertTrue({"ek-rule", "ek-sink", "ek-timer", "ek-patrol"} <= set(threads(k)), threads(k))
            lis.publish("t/idle", {"v": 2})
            wait_for(lambda: lis.messages("out/r1"), what="the rule's output")
            self.assertEqual(lis.messages("out/r1"), ['[{"v":2}]'])

    def test_checkpointer_starts_with_the_first_change(self):
        with Kuiperd() as k:
            time.sleep(1.5)  # past the first persistInterval (1 s): a flush with nothing to write
            self.assertNotIn("ek-checkpoint", threads(k))
            c = mqtt.Client(client_id="retainer")
            c.connect("127.0.0.1", k.mqtt_port)
            c.loop_start()
            c.publish("keep/me", "kept", qos=1, retain=True).wait_for_publish(5)
            c.loop_stop()
            c.disconnect()
            wait_for(lambda: "ek-checkpoint" in threads(k), what="the checkpointer after a retained message")
            k.kill9()  # what the WAL holds is folded when the next start loads it
            k.start()
            self.assertEqual(retained(k.mqtt_port, "keep/me"), "kept")
            time.sleep(1.5)  # loading wrote nothing: the restarted broker runs no checkpointer
            self.assertNotIn("ek-checkpoint", threads(k))

    def test_password_checker_starts_with_the_first_password(self):
        broker = "broker:\n  bind: 127.0.0.1\n  allowAnonymous: false\n  users:\n" \
                 "    - {username: u, passwordPbkdf2: \"%s\"}\n" % pbkdf2("pw", 3000)
        with Kuiperd(etc_files={"kuiper.yaml": kuiper_yaml(broker)}) as k:
            self.assertNotIn("ek-pwcheck", threads(k))
            c, code = connect(k.mqtt_port, "u", "pw", cid="first")
            self.addCleanup(lambda: (c.loop_stop(), c.disconnect()))
            self.assertEqual(code, 0)
            self.assertIn("ek-pwcheck", threads(k))
            bad, code = connect(k.mqtt_port, "u", "wrong", cid="second")
            self.addCleanup(bad.loop_stop)
            self.assertEqual(code, 4)  # MQTT 3.1.1: bad user name or password


if __name__ == "__main__":
    main()
