"""Clients that never authenticate do not affect the others (issue 7's security tests): while an
authenticated publisher and subscriber exchange QoS 1 messages, strangers hammer the broker with
wrong passwords (paho 3.1.1/5.0 and mosquitto_pub), bad JWTs, sockets that never send CONNECT,
half a CONNECT, garbage bytes and a CONNECT with an oversized password. Every stranger is refused
or closed (silent ones after connectTimeout), and the subscriber gets every message, in order,
without being disconnected. Every wait is bounded."""
import os
import queue
import socket
import struct
import subprocess
import threading
import time
import unittest

import paho.mqtt.client as mqtt

from harness import Kuiperd, main
from test_broker_raw import Raw, pkt, s, varint
from test_broker_security import connect, kuiper_yaml
from test_broker_userdb import pbkdf2

BROKER = """
broker:
  bind: 127.0.0.1
  sysInterval: 0
  allowAnonymous: false
  connectTimeout: 2
  users:
    - {username: good, passwordPbkdf2: "%s"}
  jwt:
    enable: true
    secret: jwtsecret
"""


def connect_with(user, password, cid=b"stranger"):
    body = s(b"MQTT") + bytes([4, 0xC2]) + struct.pack(">H", 60) + s(cid) + s(user) + s(password)
    return pkt(0x10, body)


class Strangers(unittest.TestCase):
    def test_queued_checks_time_out_busy(self):
        """Checks queued longer than connectTimeout end with CONNACK 0x89, never in silence."""
        slow = BROKER.replace("connectTimeout: 2", "connectTimeout: 1") % pbkdf2("goodpw", 1000000)
        with Kuiperd(args=["--broker-only"], etc_files={"kuiper.yaml": kuiper_yaml(slow)}) as k:
            body = s(b"MQTT") + bytes([5, 0xC2]) + struct.pack(">H", 60) + varint(0)
            clients = []
            for i in range(12):
                r = Raw(k.mqtt_port, timeout=30)
                self.addCleanup(r.close)
                r.send(pkt(0x10, body + s(b"slow%d" % i) + s(b"good") + s(b"wrong")))
                clients.append(r)
            codes = []
            for r in clients:
                t, _, b = r.recv_packet()
                self.assertEqual(t, 2)
                codes.append(b[1])
            self.assertTrue(set(codes) <= {0x86, 0x89}, codes)
            self.assertEqual(codes[-1], 0x89)

    def test_pipelined_after_connect(self):
        """Packets sent right behind CONNECT wait for the password check, then run in order."""
        with Kuiperd(args=["--broker-only"],
                     etc_files={"kuiper.yaml": kuiper_yaml(BROKER % pbkdf2("goodpw", 5000))}) as k:
            r = Raw(k.mqtt_port)
            self.addCleanup(r.close)
            sub = pkt(0x82, struct.pack(">H", 1) + s(b"pipe") + b"\x01")
            pub = pkt(0x32, s(b"pipe") + struct.pack(">H", 2) + b"hello")
            r.send(connect_with(b"good", b"goodpw", b"piper") + sub + pub + pkt(0xC0, b""))
            types = []
            while len(types) < 5:
                t, _, body = r.recv_packet()
                types.append(t)
                if t == 3:
                    self.assertTrue(body.endswith(b"hello"))
            self.assertEqual(types[:2], [2, 9])  # CONNACK, SUBACK
            self.assertEqual(sorted(types[2:]), [3, 4, 13])  # PUBLISH, PUBACK, PINGRESP
            # A wrong password with packets behind it: refused, and nothing behind it is handled.
            w = Raw(k.mqtt_port)
            self.addCleanup(w.close)
            w.send(connect_with(b"good", b"bad", b"piper2") + pub)
            t, _, body = w.recv_packet()
            self.assertEqual((t, body[1]), (2, 4))
            self.assertTrue(w.closed())

    def test_strangers_do_not_disturb(self):
        with Kuiperd(args=["--broker-only"], etc_files={"kuiper.yaml": kuiper_yaml(BROKER % pbkdf2("goodpw", 5000))}) as k:
            port = k.mqtt_port
            sub, code = connect(port, "good", "goodpw", v5=True, cid="sub")
            self.assertEqual(code, 0)
            got, drops = queue.Queue(), []
            sub.on_message = lambda c, u, m: got.put(int(m.payload))
            sub.on_disconnect = lambda c, u, rc, p=None: drops.append(rc)
            subacked = threading.Event()
            sub.on_subscribe = lambda *a: subacked.set()
            sub.subscribe("data", 1)
            self.assertTrue(subacked.wait(5), "no SUBACK")
            pub, code = connect(port, "good", "goodpw", cid="pub")
            self.assertEqual(code, 0)
            stop = threading.Event()
            sent = []

            def publish():
                i = 0
                while not stop.is_set():
                    pub.publish("data", str(i), qos=1).wait_for_publish(5)
                    sent.append(i)
                    i += 1
                    time.sleep(0.01)

            t = threading.Thread(target=publish)
            t.start()
            try:
                self.strangers(port)
            finally:
                stop.set()
                t.join(10)
            received = [got.get(timeout=5) for _ in sent]
            self.assertEqual(received, sent)
            self.assertGreater(len(sent), 20)
            self.assertEqual(drops, [])
            for c in (sub, pub):
                c.disconnect()
                c.loop_stop()

    def strangers(self, port):
        silent = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(20)]
        # A burst of wrong passwords, all at once: each costs a PBKDF2 verification, done off the
        # broker's thread.
        burst = [Raw(port, timeout=20) for _ in range(40)]
        for i, r in enumerate(burst):
            r.send(connect_with(b"good", b"wrong", b"burst%d" % i))
        for r in burst:
            t, _, body = r.recv_packet()
            self.assertEqual((t, body[1]), (2, 4))
            r.close()
        half = Raw(port)
        half.send(connect_with(b"good", b"goodpw")[:9])
        for i in range(10):
            for v5, want in ((False, 4), (True, 0x86)):
                c, code = connect(port, "good", "wrong%d" % i, v5=v5, cid="w%d%s" % (i, v5))
                c.loop_stop()
                self.assertEqual(code, want)
            c, code = connect(port, "dev", "aaa.bbb.ccc", v5=True, cid="jwt%d" % i)  # JWT-shaped junk
            c.loop_stop()
            self.assertEqual(code, 0x86)
        r = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-u", "good", "-P", "nope",
                            "-t", "data", "-m", "intruder"], capture_output=True, timeout=10)
        self.assertNotEqual(r.returncode, 0)
        for first in (0x00, 0x10, 0x20, 0x30, 0x47, 0x82, 0xC0, 0xE0, 0xF0, 0xFF):
            g = Raw(port)  # a whole frame of random bytes, so that it is never waiting for more
            g.send(bytes([first]) + varint(62) + os.urandom(62))
            self.assertTrue(g.closed())
            g.close()
        big = Raw(port)
        big.send(connect_with(b"good", b"x" * 60000))
        t, _, body = big.recv_packet()
        self.assertEqual((t, body[1]), (2, 4))
        self.assertTrue(big.closed())
        big.close()
        # The silent sockets and the half CONNECT are closed after connectTimeout (2 s).
        for sock in silent:
            sock.settimeout(6)
            self.assertEqual(sock.recv(16), b"")
            sock.close()
        half.sock.settimeout(6)
        self.assertTrue(half.closed())
        half.close()


if __name__ == "__main__":
    main()
