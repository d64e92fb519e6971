"""HTTP, file and sqlite connectors through a real kuiperd: an httppush stream (kuiperd's HTTP
server on source.httpServerPort) feeds a rule whose actions are a rest sink (to a python
http.server run by the test), a file sink and a sqlite sink; what each destination received is
read back. A second rule polls the same test server with an httppull stream."""
import http.server
import json
import os
import sqlite3
import threading
import unittest
import urllib.request

from harness import Kuiperd, free_port, main, wait_for


class Recorder(http.server.BaseHTTPRequestHandler):
    """Records every request body; GET answers with a fixed JSON document."""
    got = []
    lock = threading.Lock()

    def _record(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        with Recorder.lock:
            Recorder.got.append((self.command, self.path, self.headers.get("Content-Type"), body))
        payload = b'{"polled":7}' if self.command == "GET" else b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = _record

    def log_message(self, *args):
        pass


def running(k, rid):
    status, body = k.request("GET", "/rules/%s/status" % rid)
    return status == 200 and body.get("status") == "running"


class HttpFileSqlite(unittest.TestCase):
    def test_push_to_rest_file_sqlite(self):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Recorder)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
        try:
            with Kuiperd() as k:
                push_port = int(k.env["KUIPER__SOURCE__HTTPSERVERPORT"])
                out_file = os.path.join(k.dir, "out", "result.log")
                db = os.path.join(k.dir, "out.db")
                sql = 'CREATE STREAM pushed () WITH (TYPE="httppush", DATASOURCE="/api/in", FORMAT="json")'
                self.assertEqual(k.request("POST", "/streams", {"sql": sql})[0], 201)
                actions = [
                    {"rest": {"url": "http://127.0.0.1:%d/dev/{{.id}}" % port, "method": "post", "sendSingle": True}},
                    {"file": {"path": out_file, "sendSingle": True}},
                    {"sqlite": {"path": db, "table": "readings", "sendSingle": True}},
                ]
                body = {"id": "rp", "sql": "SELECT id, t FROM pushed", "actions": actions}
                self.assertEqual(k.request("POST", "/rules", body)[0], 201)
                wait_for(lambda: running(k, "rp"), what="rule running")
                req = urllib.request.Request("http://127.0.0.1:%d/api/in" % push_port,
                                             data=json.dumps({"id": "d7", "t": 21.5}).encode(), method="POST")
                with urllib.request.urlopen(req, timeout=5) as r:
                    self.assertEqual(r.status, 200)

                def rest_got():
                    with Recorder.lock:
                        return [g for g in Recorder.got if g[1] == "/dev/d7"]
                got = wait_for(rest_got, what="the rest sink's request")
                self.assertEqual(got[0][0], "POST")
                self.assertEqual(got[0][2], "application/json")
                self.assertEqual(json.loads(got[0][3]), {"id": "d7", "t": 21.5})
                def file_text():
                    if not os.path.exists(out_file):
                        return ""
                    with open(out_file) as f:
                        return f.read()
                wait_for(file_text, what="the file sink's line")
                with open(out_file) as f:
                    self.assertEqual(json.loads(f.read().splitlines()[0]), {"id": "d7", "t": 21.5})

                def rows():
                    try:
                        return sqlite3.connect(db).execute("SELECT id, t FROM readings").fetchall()
                    except sqlite3.Error:
                        return None
                self.assertEqual(wait_for(rows, what="the sqlite row"), [("d7", 21.5)])

                # httppull from the same server (DATASOURCE is the URL), forwarded by a rest sink
                sql = ('CREATE STREAM pulled () WITH (TYPE="httppull", DATASOURCE="http://127.0.0.1:%d/poll", '
                       'FORMAT="json")' % port)
                self.assertEqual(k.request("POST", "/streams", {"sql": sql})[0], 201)
                actions = [{"rest": {"url": "http://127.0.0.1:%d/seen" % port, "method": "put", "sendSingle": True}}]
                body = {"id": "rl", "sql": "SELECT polled FROM pulled", "actions": actions}
                self.assertEqual(k.request("POST", "/rules", body)[0], 201)

                def seen():
                    with Recorder.lock:
                        return [g for g in Recorder.got if g[1] == "/seen"]
                got = wait_for(seen, timeout=15, what="a polled document forwarded")
                self.assertEqual(json.loads(got[0][3]), {"polled": 7})
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    main()
