#!/usr/bin/env python3
"""kuiperd binds the REST and dashboard ports at start but starts their HTTP server (libmicrohttpd)
only when the first connection arrives, handing it the listening socket (rest/server.c,
engine/kuiperd.c). These tests make sure that first connection is served like any later one:
the very first request to a fresh kuiperd is a POST /streams (answered 201) or a dashboard page,
never a GET /ping that the harness would otherwise send to see kuiperd ready; and that a kuiperd
nobody called stops cleanly."""
import os
import urllib.request

from harness import Kuiperd, main, wait_for
import unittest


def listening(port):
    """True when some socket listens on TCP port (read from /proc/net/tcp, without connecting,
    which would be kuiperd's first connection)."""
    want = ":%04X" % port
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[1].endswith(want) and fields[3] == "0A":
                        return True
        except OSError:
            pass
    return False


def mapped(pid, lib):
    with open("/proc/%d/maps" % pid) as f:
        return lib in f.read()


def start_unanswered(k, *ports):
    """Starts k and waits until its ports listen, sending nothing."""
    k.start(wait=False)
    wait_for(lambda: k.proc.poll() is not None or all(listening(p) for p in ports), 15, what="ports listening")
    if k.proc.poll() is not None:
        raise AssertionError("kuiperd exited with %s:\n%s" % (k.proc.returncode, k.output()))


class FirstConnection(unittest.TestCase):
    def test_first_request_ever_is_post_streams(self):
        k = Kuiperd()
        try:
            start_unanswered(k, k.rest_port)
            self.assertFalse(mapped(k.proc.pid, "libmicrohttpd"), "libmicrohttpd loaded before any request")
            sql = 'CREATE STREAM demo_first () WITH (DATASOURCE="t/demo_first", FORMAT="json")'
            status, body = k.request("POST", "/streams", {"sql": sql})
            self.assertEqual(status, 201, body)
            self.assertEqual(body, "Stream demo_first is created.")
            self.assertTrue(mapped(k.proc.pid, "libmicrohttpd"))
            self.assertEqual(k.request("GET", "/streams"), (200, ["demo_first"]))
            self.assertEqual(k.stop(), 0)
        finally:
            k.cleanup()

    def test_first_request_to_the_dashboard_is_served(self):
        k = Kuiperd()
        dash = int(k.env["KUIPER__DASHBOARD__PORT"])
        try:
            start_unanswered(k, k.rest_port, dash)
            with urllib.request.urlopen("http://127.0.0.1:%d/" % dash, timeout=10) as r:
                self.assertEqual(r.status, 200)
                self.assertIn("<html", r.read().decode().lower())
            # The REST API is a server of its own, started by its own first connection.
            self.assertEqual(k.request("GET", "/ping")[0], 200)
            self.assertEqual(k.stop(), 0)
        finally:
            k.cleanup()

    def test_stop_before_any_connection(self):
        k = Kuiperd()
        try:
            start_unanswered(k, k.rest_port, int(k.env["KUIPER__DASHBOARD__PORT"]))
            self.assertEqual(k.stop(), 0)
            self.assertIn("kuiperd stopped", k.output())
        finally:
            k.cleanup()


if __name__ == "__main__":
    main()
