"""Integration-test harness: starts a real kuiperd on free loopback ports with its own temporary
etc/, data/ and log/, waits for GET /ping, and stops it. Every integration test talks to kuiperd
through real sockets with real clients (urllib for REST, paho-mqtt and the mosquitto clients for
MQTT); nothing is mocked.

Usage:
    from harness import Kuiperd
    with Kuiperd() as k:
        status, body = k.request("GET", "/")
        k.mqtt_port  # the bundled broker's port

Settings are passed as eKuiper-style environment overrides (KUIPER__BASIC__RESTPORT=...), which
also exercises that mechanism. The binary comes from $KUIPERD (set by ctest) or build/bin/kuiperd.
"""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

SOURCE_DIR = os.environ.get("EK_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
KUIPERD = os.environ.get("KUIPERD") or os.path.join(SOURCE_DIR, "build", "bin", "kuiperd")


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
            return low, high
    except (OSError, ValueError):
        return 32768, 60999


def free_port():
    """A TCP port that was free a moment ago on 127.0.0.1, chosen at random below the kernel's
    ephemeral range: a port the kernel hands out (bind to 0) may be taken again at once as the local
    port of some test's outgoing connection before kuiperd binds it ("already in use")."""
    low, _ = _ephemeral_range()
    top = min(low, 65536) - 1
    for _ in range(200):
        port = random.randint(min(10000, top - 1000), top)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:  # nothing free below the range: let the kernel choose
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_PORT_KEYS = ("KUIPER__BASIC__RESTPORT", "KUIPER__BROKER__PORT", "KUIPER__SOURCE__HTTPSERVERPORT",
              "KUIPER__DASHBOARD__PORT")


class Kuiperd:
    """One kuiperd process with a private directory tree."""

    def __init__(self, env=None, args=(), workdir=None, etc_files=None):
        self.dir = workdir or tempfile.mkdtemp(prefix="ek-it-")
        self.etc = os.path.join(self.dir, "etc")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "log")
        if not os.path.isdir(self.etc):
            shutil.copytree(os.path.join(SOURCE_DIR, "etc"), self.etc)
        for rel, text in (etc_files or {}).items():
            path = os.path.join(self.etc, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        self.rest_port = free_port()
        self.mqtt_port = free_port()
        self.env = dict(os.environ)
        self.env.update({
            "KUIPER__BASIC__RESTIP": "127.0.0.1",
            "KUIPER__BASIC__RESTPORT": str(self.rest_port),
            "KUIPER__BASIC__CONSOLELOG": "true",
            "KUIPER__BROKER__BIND": "127.0.0.1",
            "KUIPER__BROKER__PORT": str(self.mqtt_port),
            "KUIPER__SOURCE__HTTPSERVERIP": "127.0.0.1",
            "KUIPER__SOURCE__HTTPSERVERPORT": str(free_port()),
            "KUIPER__DASHBOARD__IP": "127.0.0.1",
            "KUIPER__DASHBOARD__PORT": str(free_port()),
            "MQTT_SOURCE__DEFAULT__SERVER": "tcp://127.0.0.1:%d" % self.mqtt_port,
        })
        # The ports chosen here, not by the test: the ones a first start may pick again when another
        # process took one between free_port() and kuiperd's bind (see _repick_ports).
        self._picked = {key for key in _PORT_KEYS if key not in (env or {})}
        self._starts = self._starts_failed = 0
        for key, value in (env or {}).items():  # None removes a variable
            if value is None:
                self.env.pop(key, None)
            else:
                self.env[key] = value
        self.args = list(args)
        self.proc = None
        self.output_path = os.path.join(self.dir, "kuiperd.out")

    def _repick_ports(self):
        """After a first start failed because a port this harness picked was taken meanwhile by some
        other process on the machine (tests run in parallel), picks new ones and starts again, at
        most 3 times; the failed start's output is kept in kuiperd.out.portclash. A port the test
        chose itself is never changed, so the tests of "port in use" still see their failure."""
        out = self.output()
        clash = [line for line in out.splitlines() if "already in use" in line]
        picked = {int(self.env[key]) for key in self._picked}
        if (self._starts > 1 or len(self._picked) == 0 or not clash or self._starts_failed >= 3
                or not any(str(port) in line for line in clash for port in picked)):
            return False
        self._starts_failed += 1
        os.replace(self.output_path, self.output_path + ".portclash")
        for key in self._picked:
            self.env[key] = str(free_port())
        self.rest_port = int(self.env["KUIPER__BASIC__RESTPORT"])
        self.mqtt_port = int(self.env["KUIPER__BROKER__PORT"])
        if "KUIPER__BROKER__PORT" in self._picked:
            self.env["MQTT_SOURCE__DEFAULT__SERVER"] = "tcp://127.0.0.1:%d" % self.mqtt_port
        self._starts -= 1
        self.start(wait=False)
        return True

    # -- process control --
    def start(self, wait=True, timeout=15):
        self._starts += 1
        out = open(self.output_path, "ab")
        self.proc = subprocess.Popen(
            [KUIPERD, "--etc", self.etc, "--data", self.data, "--log", self.log,
             "--plugins", os.path.join(self.dir, "plugins")] + self.args,
            env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=self.dir)
        out.close()
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                if self._repick_ports():
                    continue
                raise RuntimeError("kuiperd exited with %s:\n%s" % (self.proc.returncode, self.output()))
            try:
                if "--broker-only" in self.args:
                    socket.create_connection(("127.0.0.1", self.mqtt_port), timeout=0.5).close()
                    return
                if "--dashboard-only" in self.args:
                    port = int(self.env["KUIPER__DASHBOARD__PORT"])
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    return
                status, _ = self.request("GET", "/ping", timeout=0.5)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("kuiperd did not answer within %ss:\n%s" % (timeout, self.output()))

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Stops kuiperd and returns its exit status. Fails when kuiperd printed a sanitizer report
        (make test-asan): a leak or an error found at any time, shutdown included, fails the test."""
        if not self.proc or self.proc.poll() is not None:
            self.check_sanitizer()
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("kuiperd did not stop within %ss after signal %s" % (timeout, sig))
        self.check_sanitizer()
        return rc

    SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")

    def check_sanitizer(self):
        out = self.output()
        for mark in self.SANITIZER_MARKS:
            at = out.find(mark)
            if at >= 0:
                raise AssertionError("kuiperd reported a sanitizer error:\n%s" % out[max(0, at - 200):at + 6000])

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def restart(self):
        self.stop()
        return self.start()

    def output(self):
        try:
            with open(self.output_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        if not self.proc:
            self.start()
        return self

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            if exc[0] is None:
                shutil.rmtree(self.dir, ignore_errors=True)
            else:
                sys.stderr.write("kuiperd output (kept in %s):\n%s\n" % (self.dir, self.output()[-4000:]))

    # -- REST --
    def request(self, method, path, body=None, timeout=10, headers=None, raw=False):
        """Sends a REST request; returns (status, body) with body parsed as JSON when it is JSON."""
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            if isinstance(data, str):
                data = data.encode()
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.rest_port, path), data=data,
                                     method=method, headers=headers or {})
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, text = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        if raw:
            return status, text
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text


def sanitized():
    """True when kuiperd is an AddressSanitizer build (make test-asan): ASan keeps freed memory in
    quarantine, so resident-memory bounds do not apply to it."""
    try:
        out = subprocess.run(["ldd", KUIPERD], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "libasan" in out


def wait_for(predicate, timeout=10, interval=0.05, what="condition"):
    """Polls predicate until it returns a truthy value; fails the test after timeout."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


def main():
    """Runs the calling module's unittest cases with a one-line summary ctest shows on failure."""
    unittest.main(module="__main__", verbosity=2)
