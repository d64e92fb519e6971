"""The bundled broker's TLS listeners with paho-mqtt and the mosquitto clients: server certificates
made with the openssl command line at test time, optional and required client certificates
(verifyPeer, failIfNoPeerCert), the TLS 1.2 floor and a TLS 1.3-only listener, stalled and
garbage handshakes that close only their own connection, and a bad certificate path that stops
kuiperd with a message naming it. Every wait is bounded."""
import os
import queue
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import paho.mqtt.client as mqtt

from broker_net_util import broker_only, make_certs
from harness import free_port, main


def try_connect(port, ca=None, cert=None, key=None, version=mqtt.MQTTv311, cid=""):
    """A connected paho client over TLS, or None when no CONNACK 0 came within 5 s."""
    c = mqtt.Client(client_id=cid, protocol=version)
    c.tls_set(ca_certs=ca, certfile=cert, keyfile=key)
    ok = threading.Event()
    c.on_connect = lambda cl, u, f, rc, *p: ok.set() if (getattr(rc, "value", rc) == 0) else None
    deadline = time.time() + 5
    try:
        c.connect("127.0.0.1", port, 30)
        # Loop here rather than in paho's thread, so a refused handshake is an exception we catch.
        while not ok.is_set() and time.time() < deadline:
            if c.loop(0.1) != mqtt.MQTT_ERR_SUCCESS:
                break
    except (ssl.SSLError, OSError):
        return None
    if not ok.is_set():
        c.socket() and c.socket().close()
        return None
    c.loop_start()
    return c


def done(c):
    c.disconnect()
    c.loop_stop()


class BrokerTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ek-tls-")
        cls.c = make_certs(cls.dir)
        cls.tls, cls.mtls, cls.opt, cls.tls13 = free_port(), free_port(), free_port(), free_port()
        srv = "certfile: %s, keyfile: %s" % (cls.c["server.crt"], cls.c["server.key"])
        cls.k = broker_only(
            "    - {bind: 127.0.0.1, port: %d, tls: {%s}}\n"
            "    - {bind: 127.0.0.1, port: %d, tls: {%s, cafile: %s, verifyPeer: true, failIfNoPeerCert: true}}\n"
            "    - {bind: 127.0.0.1, port: %d, tls: {%s, cafile: %s, verifyPeer: true}}\n"
            "    - {bind: 127.0.0.1, port: %d, tls: {%s, minVersion: \"1.3\"}}\n"
            % (cls.tls, srv, cls.mtls, srv, cls.c["ca.crt"], cls.opt, srv, cls.c["ca.crt"], cls.tls13, srv),
            "  connectTimeout: 2\n").start()

    @classmethod
    def tearDownClass(cls):
        cls.k.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def roundtrip(self, tls_client):
        """tls_client receives what a TCP client publishes, and the other way round."""
        got, back = queue.Queue(), queue.Queue()
        tls_client.on_message = lambda cl, u, m: got.put((m.topic, m.payload))
        sub = threading.Event()
        tls_client.on_subscribe = lambda *a: sub.set()
        tls_client.subscribe("in/#", 1)
        self.assertTrue(sub.wait(5))
        tcp = mqtt.Client()
        tcp.on_message = lambda cl, u, m: back.put(m.payload)
        tcp.connect("127.0.0.1", self.k.mqtt_port)
        tcp.loop_start()
        tcp_sub = threading.Event()
        tcp.on_subscribe = lambda *a: tcp_sub.set()
        tcp.subscribe("out/#", 1)
        self.assertTrue(tcp_sub.wait(5))
        tcp.publish("in/1", b"x" * 50000, qos=1).wait_for_publish(5)
        self.assertEqual(got.get(timeout=5), ("in/1", b"x" * 50000))
        tls_client.publish("out/1", b"over tls", qos=2)
        self.assertEqual(back.get(timeout=5), b"over tls")
        done(tcp)

    def test_paho_over_tls(self):
        for v in (mqtt.MQTTv311, mqtt.MQTTv5):
            with self.subTest(version=v):
                c = try_connect(self.tls, ca=self.c["ca.crt"], version=v)
                self.assertIsNotNone(c)
                self.roundtrip(c)
                done(c)

    def test_server_certificate_is_checked_by_clients(self):
        """A client trusting another CA refuses the broker: the broker really presents its certificate."""
        self.assertIsNone(try_connect(self.tls, ca=self.c["rogue.crt"]))

    def test_required_client_certificate(self):
        c = try_connect(self.mtls, ca=self.c["ca.crt"], cert=self.c["client.crt"], key=self.c["client.key"])
        self.assertIsNotNone(c, "a client with a certificate from the CA was refused")
        self.roundtrip(c)
        done(c)
        self.assertIsNone(try_connect(self.mtls, ca=self.c["ca.crt"]), "a client without a certificate got in")
        self.assertIsNone(try_connect(self.mtls, ca=self.c["ca.crt"], cert=self.c["rogue.crt"],
                                      key=self.c["rogue.key"]), "a client with an unknown certificate got in")

    def test_optional_client_certificate(self):
        """verifyPeer without failIfNoPeerCert: no certificate is fine, a bad one is not."""
        c = try_connect(self.opt, ca=self.c["ca.crt"])
        self.assertIsNotNone(c)
        done(c)
        c = try_connect(self.opt, ca=self.c["ca.crt"], cert=self.c["client.crt"], key=self.c["client.key"])
        self.assertIsNotNone(c)
        done(c)
        self.assertIsNone(try_connect(self.opt, ca=self.c["ca.crt"], cert=self.c["rogue.crt"], key=self.c["rogue.key"]))

    def test_mosquitto_clients(self):
        sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.tls), "--cafile", self.c["ca.crt"],
                                "-t", "mosq/#", "-C", "1", "-W", "10", "-i", "mosq-sub"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(0.5)
            for _ in range(20):  # until the subscription is in place
                subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.tls), "--cafile", self.c["ca.crt"],
                                "-t", "mosq/1", "-m", "via mosquitto_pub", "-q", "1"], check=True, timeout=10)
                if sub.poll() is not None:
                    break
                time.sleep(0.2)
            out, err = sub.communicate(timeout=10)
        finally:
            if sub.poll() is None:
                sub.kill()
                sub.wait()
        self.assertEqual(out.strip(), "via mosquitto_pub", err)
        with_cert = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.mtls), "--cafile", self.c["ca.crt"],
                                    "--cert", self.c["client.crt"], "--key", self.c["client.key"], "-t", "m/2", "-m", "x",
                                    "-q", "1"], capture_output=True, timeout=10)
        self.assertEqual(with_cert.returncode, 0, with_cert.stderr)
        without = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.mtls), "--cafile", self.c["ca.crt"],
                                  "-t", "m/2", "-m", "x", "-q", "1"], capture_output=True, timeout=10)
        self.assertNotEqual(without.returncode, 0)

    def tls_version(self, port, maximum=None):
        ctx = ssl.create_default_context(cafile=self.c["ca.crt"])
        if maximum:
            ctx.maximum_version = maximum
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            try:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as t:
                    return t.version()
            except ssl.SSLError:
                return None

    def test_versions(self):
        self.assertEqual(self.tls_version(self.tls, ssl.TLSVersion.TLSv1_2), "TLSv1.2")
        self.assertEqual(self.tls_version(self.tls), "TLSv1.3")
        self.assertEqual(self.tls_version(self.tls13), "TLSv1.3")
        self.assertIsNone(self.tls_version(self.tls13, ssl.TLSVersion.TLSv1_2))

    def test_stalled_and_garbage_handshakes(self):
        silent = socket.create_connection(("127.0.0.1", self.tls), timeout=8)
        partial = socket.create_connection(("127.0.0.1", self.tls), timeout=8)
        partial.sendall(bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]))  # a ClientHello's start
        garbage = socket.create_connection(("127.0.0.1", self.tls), timeout=8)
        garbage.sendall(b"GET / HTTP/1.1\r\n\r\n")
        c = try_connect(self.tls, ca=self.c["ca.crt"])
        self.assertIsNotNone(c, "a stalled handshake kept another client out")
        self.roundtrip(c)
        done(c)

        def closed(sock):
            try:
                while sock.recv(4096):
                    pass
                return True
            except ConnectionResetError:
                return True
            except socket.timeout:
                return False
        start = time.time()
        self.assertTrue(closed(garbage))
        self.assertTrue(closed(silent))
        self.assertTrue(closed(partial))
        self.assertLess(time.time() - start, 7)
        for s in (silent, partial, garbage):
            s.close()


class BrokerTlsConfig(unittest.TestCase):
    def refused(self, k):
        """kuiperd's output after it refused to start."""
        k.start(wait=False)
        try:
            self.assertNotEqual(k.proc.wait(15), 0)
            return k.output()
        finally:
            k.cleanup()

    def test_missing_key_file_stops_kuiperd(self):
        d = tempfile.mkdtemp(prefix="ek-tls-cfg-")
        try:
            c = make_certs(d)
            missing = os.path.join(d, "nope.key")
            k = broker_only("    - {bind: 127.0.0.1, port: %d, tls: {certfile: %s, keyfile: %s}}\n"
                            % (free_port(), c["server.crt"], missing))
            out = self.refused(k)
            self.assertIn("cannot load keyfile", out)
            self.assertIn(missing, out)
            k = broker_only("    - {bind: 127.0.0.1, port: %d, tls: {certfile: %s, keyfile: %s, verifyPeer: true}}\n"
                            % (free_port(), c["server.crt"], c["server.key"]))
            self.assertIn("verifyPeer needs cafile", self.refused(k))
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
