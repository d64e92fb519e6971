"""Helpers for the tests of the broker's transports (TLS, WebSocket) and bridges: a kuiperd whose
etc/kuiper.yaml has a given broker: section, certificates made with the openssl command line at
test time, and a raw WebSocket client (RFC 6455 framing written out by hand, so a test can send
what no library would: unmasked, oversized, fragmented or half-finished frames)."""
import base64
import hashlib
import os
import socket
import struct
import subprocess

from harness import SOURCE_DIR, Kuiperd


def kuiper_yaml(broker_yaml):
    """etc/kuiper.yaml with its broker: section replaced by broker_yaml (which starts with broker:)."""
    with open(os.path.join(SOURCE_DIR, "etc", "kuiper.yaml")) as f:
        lines = f.read().splitlines()
    out, skipping = [], False
    for line in lines:
        if line and not line[0].isspace() and not line.startswith("#"):
            skipping = line.startswith("broker:")
        if not skipping:
            out.append(line)
    return "\n".join(out) + "\n" + broker_yaml


def broker_only(listeners_yaml, extra_yaml=""):
    """An unstarted `kuiperd --broker-only` with a plain listener on k.mqtt_port, then the listeners
    of listeners_yaml (a YAML list body, already indented by 4) and extra_yaml (broker keys,
    indented by 2)."""
    k = Kuiperd(args=["--broker-only"])
    text = "broker:\n  sysInterval: 1\n  listeners:\n    - {bind: 127.0.0.1, port: %d}\n%s%s" % (
        k.mqtt_port, listeners_yaml, extra_yaml)
    with open(os.path.join(k.etc, "kuiper.yaml"), "w") as f:
        f.write(kuiper_yaml(text))
    return k


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certs(d):
    """In directory d: ca.crt/ca.key, server.crt/key (127.0.0.1, signed by the CA), client.crt/key
    (CN=device-1, signed by the CA) and rogue.crt/key (self-signed, unknown to the broker)."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=kuiperd test CA", cwd=d)
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, cn, ext in (("server", "127.0.0.1", ["-extfile", "server.ext"]), ("client", "device-1", [])):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", "/CN=" + cn, cwd=d)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", name + ".crt", "-days", "2", *ext, cwd=d)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rogue.key", "-out", "rogue.crt",
            "-days", "2", "-subj", "/CN=rogue", cwd=d)
    return {n: os.path.join(d, n) for n in os.listdir(d)}


# ---- a raw WebSocket client ----

OP_CONT, OP_TEXT, OP_BIN, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


def frame(op, payload=b"", fin=True, mask=True, rsv=0):
    """A client frame (masked unless mask is False)."""
    b0 = (0x80 if fin else 0) | rsv | op
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head = bytes([b0, mbit | n])
    elif n < 65536:
        head = bytes([b0, mbit | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, mbit | 127]) + struct.pack(">Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class WsRaw:
    """A WebSocket client on a plain socket: upgrade() then send frames, read frames."""

    def __init__(self, port, timeout=5):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def upgrade(self, path="/mqtt", protocol="mqtt", version="13", key=None):
        """Sends the upgrade request; returns (status, headers dict with lower-case names, expected accept)."""
        key = key or base64.b64encode(os.urandom(16)).decode()
        req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: %s\r\n" % (path, key, version))
        if protocol:
            req += "Sec-WebSocket-Protocol: %s\r\n" % protocol
        self.sock.sendall(req.encode() + b"\r\n")
        while b"\r\n\r\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                break
            self.buf += data
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode(errors="replace").split("\r\n")
        status = int(lines[0].split()[1]) if len(lines[0].split()) > 1 else 0
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        return status, headers, accept.decode()

    def send(self, data):
        self.sock.sendall(data)

    def _need(self, n):
        while len(self.buf) < n:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("closed")
            self.buf += data

    def read_frame(self):
        """(fin, opcode, payload) of the next server frame; server frames must not be masked."""
        self._need(2)
        b0, b1 = self.buf[0], self.buf[1]
        assert not b1 & 0x80, "the server masked a frame"
        n, off = b1 & 0x7F, 2
        if n == 126:
            self._need(4)
            n, off = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
        self._need(off + n)
        payload, self.buf = self.buf[off:off + n], self.buf[off + n:]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def read_binary(self):
        """The payload of binary data until a whole message (fin) arrives, skipping nothing else."""
        fin, op, data = self.read_frame()
        assert op == OP_BIN, "expected a binary frame, got opcode %d" % op
        while not fin:
            fin, op, more = self.read_frame()
            data += more
        return data

    def close_code(self):
        """Reads frames until a close frame; returns its status code (None without one)."""
        while True:
            fin, op, payload = self.read_frame()
            if op == OP_CLOSE:
                return struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None

    def closed(self):
        """True when the server closed the TCP connection (within the socket timeout)."""
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
        except ConnectionResetError:
            pass
        except socket.timeout:
            return False
        self.sock.close()
        return True

    def close(self):
        self.sock.close()
