"""The bundled broker's authentication (users, allowAnonymous) and authorization (acl) with
paho-mqtt 1.6 over MQTT 3.1.1 and 5.0, against `kuiperd --broker-only` on 127.0.0.1 with a
broker: section written into its etc/kuiper.yaml. Every wait is bounded."""
import queue
import unittest

import paho.mqtt.client as mqtt

import broker_net_util
from harness import Kuiperd, main

BROKER_YAML = """
broker:
  bind: 127.0.0.1
  sysInterval: 0
  allowAnonymous: false
  users:
    - {username: alice, password: secret}
    - {username: bob, passwordSha256: f52fbd32b2b3b86ff88ef6c490628285f482af15ddcb29541f94bcf526a3f6c7}
  acl:
    - {permission: allow, action: all, topic: "admin/#", username: alice}
    - {permission: deny, action: all, topic: "admin/#"}
    - {permission: deny, action: subscribe, topic: "test/nosubscribe"}
"""


def kuiper_yaml(broker_yaml=BROKER_YAML):
    """etc/kuiper.yaml without its broker: section (if any), plus broker_yaml."""
    return broker_net_util.kuiper_yaml(broker_yaml)


def connect(port, user=None, password=None, v5=False, cid="c"):
    """Returns (client, CONNACK code); the client is connected only when the code is 0."""
    c = mqtt.Client(client_id=cid, protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311)
    codes = queue.Queue()
    if v5:
        c.on_connect = lambda cl, u, f, rc, p=None: codes.put(rc.value if hasattr(rc, "value") else rc)
    else:
        c.on_connect = lambda cl, u, f, rc: codes.put(rc)
    if user is not None:
        c.username_pw_set(user, password)
    c.connect("127.0.0.1", port, 30)
    c.loop_start()
    code = codes.get(timeout=5)
    return c, code


class BrokerSecurity(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = Kuiperd(args=["--broker-only"], etc_files={"kuiper.yaml": kuiper_yaml()}).start()
        cls.port = cls.k.mqtt_port

    @classmethod
    def tearDownClass(cls):
        cls.k.cleanup()

    def done(self, c):
        c.disconnect()
        c.loop_stop()

    def test_passwords(self):
        for v5 in (False, True):
            bad = 0x86 if v5 else 4
            for user, pw, want in (("alice", "secret", 0), ("bob", "hunter2", 0), ("alice", "nope", bad),
                                   ("mallory", "x", bad), (None, None, 0x87 if v5 else 5)):
                c, code = connect(self.port, user, pw, v5, cid="p-%s-%s" % (user, v5))
                self.assertEqual(code, want, "user %s v5 %s" % (user, v5))
                c.loop_stop()
                if code == 0:
                    c.disconnect()

    def test_acl(self):
        alice, _ = connect(self.port, "alice", "secret", cid="alice")
        bob, _ = connect(self.port, "bob", "hunter2", v5=True, cid="bob")
        got = queue.Queue()
        alice.on_message = lambda c, u, m: got.put(m)
        subacks = queue.Queue()
        alice.on_subscribe = lambda c, u, mid, q: subacks.put(q)
        bob.on_subscribe = lambda c, u, mid, rcs, p=None: subacks.put([r.value for r in rcs])
        alice.subscribe("admin/#", 1)
        self.assertEqual(subacks.get(timeout=5), (1,))
        alice.subscribe("test/nosubscribe", 1)
        self.assertEqual(subacks.get(timeout=5), (0x80,))
        bob.subscribe("admin/#", 1)
        self.assertEqual(subacks.get(timeout=5), [0x87])
        bob.publish("admin/x", b"from bob", qos=1).wait_for_publish(5)
        alice.publish("admin/y", b"from alice", qos=1).wait_for_publish(5)
        m = got.get(timeout=5)
        self.assertEqual(m.payload, b"from alice")
        with self.assertRaises(queue.Empty):
            got.get(timeout=0.5)
        self.done(alice)
        self.done(bob)


if __name__ == "__main__":
    main()
