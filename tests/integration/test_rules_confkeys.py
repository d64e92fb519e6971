"""A conf key set over REST (PUT /metadata/sources/mqtt/confKeys/<key>) is what a stream with
CONF_KEY="<key>" connects with, as in eKuiper where REST settings win over etc/ files: a key
pointing at a port where no broker listens leaves that stream's source disconnected, while a
stream on the default key connects to the bundled broker."""
import time
import unittest

from harness import Kuiperd, free_port, main, wait_for


class ConfKeys(unittest.TestCase):
    def status_of(self, k, rule, stream):
        status, body = k.request("GET", "/rules/%s/status" % rule)
        self.assertEqual(status, 200, body)
        return body.get("source_%s_0_connection_status" % stream)

    def test_rest_conf_key_used_by_running_rule(self):
        with Kuiperd() as k:
            dead = "tcp://127.0.0.1:%d" % free_port()
            status, body = k.request("PUT", "/metadata/sources/mqtt/confKeys/elsewhere", {"server": dead})
            self.assertEqual(status, 200, body)
            for name, extra in (("here", ""), ("there", ', CONF_KEY="elsewhere"')):
                sql = 'CREATE STREAM %s () WITH (DATASOURCE="t/%s", FORMAT="JSON"%s)' % (name, name, extra)
                status, body = k.request("POST", "/streams", {"sql": sql})
                self.assertEqual(status, 201, body)
                rule = {"id": "r_" + name, "sql": "SELECT * FROM " + name, "actions": [{"log": {}}]}
                status, body = k.request("POST", "/rules", rule)
                self.assertEqual(status, 201, body)
            wait_for(lambda: self.status_of(k, "r_here", "here") == 1, timeout=15,
                     what="the default-key stream to connect to the bundled broker")
            # The REST key points at a dead port: that source never connects (0 down, -1 retrying),
            # where the etc/ default it would fall back to without the key connects at once.
            time.sleep(1.5)
            self.assertIn(self.status_of(k, "r_there", "there"), (0, -1))


if __name__ == "__main__":
    main()
