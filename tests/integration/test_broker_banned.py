"""Banned clients (issue 7): bans by client id, user name or peer address made over REST
(/broker/banned, EMQX's {as, who, reason, until}) refuse a CONNECT with 0x8A (3.1.1: 5), disconnect
a client that is connected when it is banned (MQTT 5: DISCONNECT 0x98) without touching other
clients, expire at `until`, are lifted by DELETE and survive a restart. Every wait is bounded."""
import queue
import subprocess
import threading
import time
import unittest

import paho.mqtt.client as mqtt

from harness import Kuiperd, main, wait_for
from test_broker_security import connect, kuiper_yaml

BROKER = """
broker:
  bind: 127.0.0.1
  sysInterval: 0
"""


class Banned(unittest.TestCase):
    def setUp(self):
        self.k = Kuiperd(etc_files={"kuiper.yaml": kuiper_yaml(BROKER)})
        self.addCleanup(self.k.cleanup)
        self.k.start()

    def code(self, cid, user=None, v5=True):
        c, code = connect(self.k.mqtt_port, user, "x" if user else None, v5=v5, cid=cid)
        c.loop_stop()
        if code == 0:
            c.disconnect()
        return code

    def ban(self, body, status=201):
        st, out = self.k.request("POST", "/broker/banned", body)
        self.assertEqual(st, status, out)
        return out

    def test_kick_refuse_lift(self):
        victim, code = connect(self.k.mqtt_port, v5=True, cid="victim")
        self.assertEqual(code, 0)
        other, code = connect(self.k.mqtt_port, v5=False, cid="other")
        self.assertEqual(code, 0)
        gone = queue.Queue()
        victim.on_disconnect = lambda c, u, rc, p=None: gone.put(rc)
        victim.reconnect_delay_set(30, 30)  # do not come back during the test
        got = queue.Queue()
        other.on_message = lambda c, u, m: got.put(m.payload)
        subacked = threading.Event()
        other.on_subscribe = lambda *a: subacked.set()
        other.subscribe("t", 0)
        self.assertTrue(subacked.wait(5), "no SUBACK")

        out = self.ban({"as": "clientid", "who": "victim", "reason": "misbehaving"})
        self.assertEqual((out["as"], out["who"], out["reason"], out["until"]), ("clientid", "victim", "misbehaving", None))
        rc = gone.get(timeout=5)
        self.assertEqual(getattr(rc, "value", rc), 0x98)  # DISCONNECT: administrative action
        victim.loop_stop()
        self.assertEqual(self.code("victim"), 0x8A)
        self.assertEqual(self.code("victim", v5=False), 5)
        self.assertEqual(self.code("bystander"), 0)
        # The other client noticed nothing.
        pub, _ = connect(self.k.mqtt_port, cid="pub")
        pub.publish("t", b"still here").wait_for_publish(5)
        self.assertEqual(got.get(timeout=5), b"still here")

        st, body = self.k.request("GET", "/broker/banned")
        self.assertEqual(st, 200)
        self.assertEqual([(b["as"], b["who"], b["by"]) for b in body["data"]], [("clientid", "victim", "rest")])
        self.assertEqual(body["meta"]["count"], 1)

        # A ban survives a restart.
        self.k.restart()
        self.assertEqual(self.code("victim"), 0x8A)
        self.assertEqual(self.k.request("DELETE", "/broker/banned/clientid/victim")[0], 200)
        self.assertEqual(self.k.request("DELETE", "/broker/banned/clientid/victim")[0], 404)
        self.assertEqual(self.k.request("DELETE", "/broker/banned/nickname/victim")[0], 400)
        self.assertEqual(self.code("victim"), 0)
        for c in (other, pub):
            c.disconnect()
            c.loop_stop()

    def test_username_peerhost_until(self):
        self.ban({"as": "username", "who": "mallory"})
        self.assertEqual(self.code("m1", user="mallory"), 0x8A)
        self.assertEqual(self.code("m2", user="mallory", v5=False), 5)
        self.assertEqual(self.code("m3", user="alice"), 0)
        # A ban that ends two seconds from now (RFC 3339 accepted too).
        until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
        out = self.ban({"as": "peerhost", "who": "127.0.0.1", "until": until})
        self.assertEqual(out["until"], until)
        self.assertEqual(self.code("p1"), 0x8A)
        wait_for(lambda: self.code("p2") == 0, timeout=8, interval=0.02, what="the peerhost ban to expire")
        st, body = self.k.request("GET", "/broker/banned")
        self.assertEqual([b["who"] for b in body["data"]], ["mallory"])  # the expired one is gone
        self.ban({"as": "clientid", "who": "x", "until": int(time.time()) - 5}, 400)  # in the past
        self.ban({"as": "ip", "who": "x"}, 400)
        self.ban({"as": "clientid"}, 400)

    def test_mosquitto_client_banned(self):
        self.ban({"as": "clientid", "who": "mosq"})
        r = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.k.mqtt_port), "-i", "mosq", "-t", "t",
                            "-m", "x", "-V", "mqttv5"], capture_output=True, text=True, timeout=10)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("banned", r.stderr.lower())


if __name__ == "__main__":
    main()
