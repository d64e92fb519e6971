"""The bundled broker's management REST API (rest/res_broker_mgmt.c, broker/admin.c) against a real
kuiperd with real MQTT clients (paho, MQTT 3.1.1 and 5.0): clients listed with their connection
figures, filtered and paged; a client and an offline session kicked out (DISCONNECT 0x98, the will
published, the session gone); subscriptions with their options; topics with client and in-process
subscribers; retained messages listed, read (topic with '/', plain or URL-encoded; binary payloads
in base64; long ones cut in the listing) and deleted, after which a new subscriber gets nothing;
GET /broker/stats agreeing with $SYS; errors in eKuiper's body; authentication as on every route."""
import datetime
import shutil
import tempfile
import time
import unittest
import urllib.parse

from broker_util import SysWatcher, assert_clean_stop, client, stop, subscribe
from harness import Kuiperd, main, wait_for


def rows(k, path):
    status, body = k.request("GET", path)
    assert status == 200, (path, status, body)
    return body["data"]


def one_client(k, cid):
    found = rows(k, "/broker/clients?clientid=" + urllib.parse.quote(cid, safe=""))
    return found[0] if found else None


def reason(rc):
    """The reason code paho hands to on_disconnect (an int in 3.1.1, ReasonCodes in 5.0)."""
    return getattr(rc, "value", rc)


class Management(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = Kuiperd(env={"KUIPER__BROKER__SYSINTERVAL": "1"}).start()
        cls.port = cls.k.mqtt_port
        cls.sys = SysWatcher(cls.port)

    @classmethod
    def tearDownClass(cls):
        cls.sys.close()
        code = cls.k.stop()
        output = cls.k.output()
        cls.k.cleanup()
        assert code == 0, "kuiperd did not stop cleanly:\n" + output[-4000:]

    def test_clients_listed_filtered_and_paged(self):
        k = self.k
        v3 = client(self.port, "mgmt-v3", username="bob")
        v5 = client(self.port, "mgmt/v5", v5=True, username="alice")
        subscribe(v3, "mgmt/list/#", qos=1)
        for i in range(3):
            v5.publish("mgmt/list/x", b"m%d" % i, qos=1).wait_for_publish(5)
        wait_for(lambda: len(v3.messages) == 3, what="3 messages delivered")

        row = one_client(k, "mgmt/v5")
        self.assertEqual((row["username"], row["proto_ver"], row["connected"]), ("alice", 5, True))
        self.assertEqual(row["ip_address"], "127.0.0.1")
        self.assertEqual(row["port"], v5.socket().getsockname()[1])
        self.assertEqual(row["keepalive"], 60)
        self.assertEqual(row["recv_msg"], 3)
        self.assertEqual(row["subscriptions_cnt"], 0)
        self.assertGreater(row["recv_oct"], 0)
        at = datetime.datetime.strptime(row["connected_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        self.assertLess(abs((datetime.datetime.utcnow() - at).total_seconds()), 60)
        row = one_client(k, "mgmt-v3")
        self.assertEqual((row["username"], row["proto_ver"], row["subscriptions_cnt"]), ("bob", 4, 1))
        wait_for(lambda: one_client(k, "mgmt-v3")["send_msg"] == 3, what="send_msg 3")

        # One client by id, in the path: '/' in it plain or URL-encoded.
        for path in ("/broker/clients/mgmt/v5", "/broker/clients/mgmt%2Fv5"):
            status, body = k.request("GET", path)
            self.assertEqual((status, body["clientid"], body["username"]), (200, "mgmt/v5", "alice"), path)
        self.assertEqual(k.request("GET", "/broker/clients/nobody"),
                         (404, {"error": 1002, "message": "client nobody is not found"}))

        self.assertEqual([r["clientid"] for r in rows(k, "/broker/clients?username=bob")], ["mgmt-v3"])
        status, body = k.request("GET", "/broker/clients?limit=1")
        self.assertEqual((status, len(body["data"]), body["meta"]["limit"]), (200, 1, 1))
        self.assertGreaterEqual(body["meta"]["count"], 3)  # the two, and the $SYS watcher
        self.assertTrue(body["meta"]["hasnext"])
        count = body["meta"]["count"]
        status, body = k.request("GET", "/broker/clients?limit=1&page=%d" % count)
        self.assertEqual((len(body["data"]), body["meta"]["hasnext"]), (1, False))
        self.assertEqual(rows(k, "/broker/clients?limit=1&page=%d" % (count + 1)), [])
        status, body = k.request("GET", "/broker/clients?page=0")
        self.assertEqual((status, body["error"]), (400, 1000))
        self.assertIn("page", body["message"])
        stop(v3, v5)
        wait_for(lambda: one_client(k, "mgmt/v5") is None, what="mgmt/v5 gone after DISCONNECT")

    def test_kick_v5_client_publishes_will_and_discards_session(self):
        k = self.k
        watcher = client(self.port, "mgmt-will-watcher")
        subscribe(watcher, "mgmt/will", qos=1)
        time.sleep(0.2)
        kicked_before = int(k.request("GET", "/broker/stats")[1]["clients.kicked"])
        from paho.mqtt.properties import Properties
        from paho.mqtt.packettypes import PacketTypes
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        c = client(self.port, "mgmt-kick5", v5=True, will=("mgmt/will", b"gone", 1), clean=False, props=props)
        subscribe(c, "mgmt/kick5/#", qos=1)
        wait_for(lambda: (one_client(k, "mgmt-kick5") or {}).get("subscriptions_cnt") == 1, what="subscribed")

        self.assertEqual(k.request("DELETE", "/broker/clients/mgmt-kick5"), (204, ""))
        wait_for(lambda: c.disconnects, what="the client disconnected")
        self.assertEqual(reason(c.disconnects[0]), 0x98)  # Administrative action
        wait_for(lambda: [m.payload for m in watcher.messages] == [b"gone"], what="the will")
        # The session is gone although it had an expiry: not listed, no subscription, not resumable.
        self.assertIsNone(one_client(k, "mgmt-kick5"))
        self.assertEqual(rows(k, "/broker/subscriptions?clientid=mgmt-kick5"), [])
        self.assertEqual(k.request("DELETE", "/broker/clients/mgmt-kick5")[0], 404)
        self.sys.wait("clients/kicked", kicked_before + 1)
        c.loop_stop()
        again = client(self.port, "mgmt-kick5", v5=True, clean=False, props=props)
        self.assertEqual(again.flags["session present"], 0)
        self.assertEqual(one_client(k, "mgmt-kick5")["subscriptions_cnt"], 0)
        stop(again, watcher)
        self.assertEqual(k.request("DELETE", "/broker/clients/mgmt-kick5"), (204, ""))

    def test_kick_v3_client_and_offline_session(self):
        k = self.k
        c = client(self.port, "mgmt-kick3")
        self.assertEqual(k.request("DELETE", "/broker/clients/mgmt-kick3"), (204, ""))
        wait_for(lambda: c.disconnects, what="the 3.1.1 client closed")
        self.assertNotEqual(c.disconnects[0], 0)
        c.loop_stop()
        self.assertIsNone(one_client(k, "mgmt-kick3"))

        # An offline persistent session is listed as not connected, and a kick discards it.
        p = client(self.port, "mgmt-offline", clean=False, username="carol")
        subscribe(p, "mgmt/offline", qos=1)
        wait_for(lambda: (one_client(k, "mgmt-offline") or {}).get("subscriptions_cnt") == 1, what="subscribed")
        stop(p)
        wait_for(lambda: one_client(k, "mgmt-offline")["connected"] is False, what="listed offline")
        pub = client(self.port, "mgmt-offline-pub")
        pub.publish("mgmt/offline", b"queued", qos=1).wait_for_publish(5)
        wait_for(lambda: one_client(k, "mgmt-offline")["mqueue_len"] == 1, what="one message queued")
        row = one_client(k, "mgmt-offline")
        self.assertIsNone(row["connected_at"])
        self.assertEqual(row["username"], "carol")  # of its last connection
        self.assertEqual([r["clientid"] for r in rows(k, "/broker/clients?username=carol")], ["mgmt-offline"])
        self.assertEqual(k.request("DELETE", "/broker/clients/mgmt-offline"), (204, ""))
        self.assertIsNone(one_client(k, "mgmt-offline"))
        back = client(self.port, "mgmt-offline", clean=False)
        time.sleep(0.5)
        self.assertEqual(back.messages, [])  # the queue went with the session
        stop(back, pub)

    def test_subscriptions_and_topics(self):
        k = self.k
        from paho.mqtt.properties import Properties
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.subscribeoptions import SubscribeOptions
        v5 = client(self.port, "mgmt-subs5", v5=True)
        props = Properties(PacketTypes.SUBSCRIBE)
        props.SubscriptionIdentifier = 7
        opts = SubscribeOptions(qos=1, noLocal=True, retainAsPublished=True, retainHandling=2)
        subscribe(v5, "mgmt/opts/#", options=opts, properties=props)
        v3 = client(self.port, "mgmt-subs3")
        subscribe(v3, "$share/g1/mgmt/shared", qos=2)
        subscribe(v3, "mgmt/opts/#", qos=0)
        wait_for(lambda: len(rows(k, "/broker/subscriptions?clientid=mgmt-subs3")) == 2, what="subscriptions")

        self.assertEqual(rows(k, "/broker/subscriptions?clientid=mgmt-subs5"), [
            {"clientid": "mgmt-subs5", "topic": "mgmt/opts/#", "qos": 1, "nl": 1, "rap": 1, "rh": 2, "subid": 7}])
        shared = rows(k, "/broker/subscriptions?topic=" + urllib.parse.quote("$share/g1/mgmt/shared"))
        self.assertEqual(shared, [{"clientid": "mgmt-subs3", "topic": "$share/g1/mgmt/shared", "qos": 2,
                                   "nl": 0, "rap": 0, "rh": 0, "share_group": "g1"}])
        self.assertEqual(sorted(r["clientid"] for r in rows(k, "/broker/subscriptions?topic=mgmt/opts/%23")),
                         ["mgmt-subs3", "mgmt-subs5"])

        # Topics are the routes: a shared subscription routes its filter; a rule's source
        # subscribes inside the process and counts as internal.
        self.assertEqual(rows(k, "/broker/topics?topic=mgmt/opts/%23"),
                         [{"topic": "mgmt/opts/#", "subscribers": 2, "internal": 0}])
        self.assertEqual(rows(k, "/broker/topics?topic=mgmt/shared"),
                         [{"topic": "mgmt/shared", "subscribers": 1, "internal": 0}])
        self.assertEqual(k.request("POST", "/streams", {
            "sql": 'CREATE STREAM mgmt_s (a BIGINT) WITH (DATASOURCE="mgmt/internal", FORMAT="json")'})[0], 201)
        self.assertEqual(k.request("POST", "/rules", {
            "id": "mgmt_r", "sql": "SELECT * FROM mgmt_s", "actions": [{"log": {}}]})[0], 201)
        wait_for(lambda: rows(k, "/broker/topics?topic=mgmt/internal"), what="the rule's subscription")
        self.assertEqual(rows(k, "/broker/topics?topic=mgmt/internal"),
                         [{"topic": "mgmt/internal", "subscribers": 0, "internal": 1}])
        all_topics = [r["topic"] for r in rows(k, "/broker/topics?limit=10000")]
        self.assertIn("mgmt/opts/#", all_topics)
        self.assertEqual(k.request("DELETE", "/rules/mgmt_r")[0], 200)
        self.assertEqual(k.request("DELETE", "/streams/mgmt_s")[0], 200)
        stop(v5, v3)
        wait_for(lambda: rows(k, "/broker/topics?topic=mgmt/opts/%23") == [], what="routes gone")

    def test_retained_list_get_delete(self):
        k = self.k
        pub = client(self.port, "mgmt-ret-pub", v5=True)
        long = ("x" * 70 + "é").encode()
        for topic, payload in (("mgmt/r/one", b"first"), ("mgmt/r/bin", b"\xff\x00\x01"), ("mgmt/r/long", long)):
            pub.publish(topic, payload, qos=1, retain=True).wait_for_publish(5)
        wait_for(lambda: len(rows(k, "/broker/retained?limit=10000")) >= 3, what="3 retained")
        retained_before = k.request("GET", "/broker/stats")[1]["retained.count"]

        listed = {r["topic"]: r for r in rows(k, "/broker/retained?limit=10000")}
        self.assertFalse(any(t.startswith("$SYS") for t in listed))
        one = listed["mgmt/r/one"]
        self.assertEqual((one["qos"], one["size"], one["payload"], one["payload_encoding"], one["truncated"]),
                         (1, 5, "first", "text", False))
        at = datetime.datetime.strptime(one["publish_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        self.assertLess(abs((datetime.datetime.utcnow() - at).total_seconds()), 60)
        self.assertEqual((listed["mgmt/r/bin"]["payload"], listed["mgmt/r/bin"]["payload_encoding"]),
                         ("/wAB", "base64"))
        self.assertEqual((listed["mgmt/r/long"]["payload"], listed["mgmt/r/long"]["truncated"],
                          listed["mgmt/r/long"]["size"]), ("x" * 64, True, 72))
        self.assertEqual([r["topic"] for r in rows(k, "/broker/retained?topic=mgmt/r/bin")], ["mgmt/r/bin"])

        for path in ("/broker/retained/mgmt/r/long", "/broker/retained/" + urllib.parse.quote("mgmt/r/long", safe="")):
            status, body = k.request("GET", path)
            self.assertEqual((status, body["payload"], body["truncated"]), (200, long.decode(), False), path)
        status, body = k.request("GET", "/broker/retained/mgmt/r/none")
        self.assertEqual((status, body["error"]), (404, 1002))
        self.assertIn("mgmt/r/none", body["message"])

        self.assertEqual(k.request("DELETE", "/broker/retained/mgmt/r/one"), (204, ""))
        self.assertEqual(k.request("DELETE", "/broker/retained/mgmt%2Fr%2Fone")[0], 404)
        self.assertEqual(k.request("GET", "/broker/stats")[1]["retained.count"], retained_before - 1)
        # A new subscriber gets the retained messages left, and nothing for the deleted topic.
        sub = client(self.port, "mgmt-ret-sub")
        subscribe(sub, "mgmt/r/#", qos=1)
        wait_for(lambda: len(sub.messages) == 2, what="the two retained messages left")
        time.sleep(0.3)
        self.assertEqual(sorted(m.topic for m in sub.messages), ["mgmt/r/bin", "mgmt/r/long"])
        for t in ("mgmt/r/bin", "mgmt/r/long"):
            self.assertEqual(k.request("DELETE", "/broker/retained/" + t), (204, ""))
        stop(pub, sub)

    def test_stats_agree_with_sys(self):
        k = self.k
        status, st = k.request("GET", "/broker/stats")
        self.assertEqual((status, st["node"]), (200, "kuiperd"))
        for key in ("clients.connected", "clients.total", "clients.connects", "messages.received", "messages.sent",
                    "messages.dropped", "bytes.received", "bytes.sent", "subscriptions.count", "retained.count",
                    "overload.max_clients", "overload.connection_rate", "overload.message_rate", "overload.inflight",
                    "overload.queue_full", "overload.topic_levels", "overload.topic_length", "clients.kicked",
                    "uptime"):
            self.assertIsInstance(st[key], int, key)
        # Figures that stand still while nobody connects agree with $SYS once it has published
        # them (message and byte counters move with $SYS's own messages).
        for key in ("clients.connected", "subscriptions.count", "retained.count", "clients.kicked",
                    "overload.max_clients", "overload.message_rate", "overload.topic_levels"):
            wait_for(lambda: self.sys.figure(key.replace(".", "/")) == k.request("GET", "/broker/stats")[1][key],
                     what="$SYS %s agreeing with /broker/stats" % key)


class Errors(unittest.TestCase):
    def test_without_the_broker(self):
        with Kuiperd(env={"KUIPER__BROKER__ENABLE": "false"}) as k:
            for path in ("/broker/clients", "/broker/stats", "/broker/retained/a/b"):
                status, body = k.request("GET", path)
                self.assertEqual((status, body["error"]), (400, 1000), path)
                self.assertIn("broker", body["message"])
            assert_clean_stop(self, k)

    def test_protected_by_authentication(self):
        from test_rest_auth_tls import admin_pem_and_token
        tmp = tempfile.mkdtemp(prefix="ek-mgmt-auth-")
        try:
            pem, token = admin_pem_and_token(tmp)
            with Kuiperd(env={"KUIPER__BASIC__AUTHENTICATION": "true"}, etc_files={"mgmt/admin.pub": pem}) as k:
                c = client(k.mqtt_port, "mgmt-auth")
                for method, path in (("GET", "/broker/clients"), ("DELETE", "/broker/clients/mgmt-auth"),
                                     ("GET", "/broker/stats"), ("DELETE", "/broker/retained/a")):
                    self.assertEqual(k.request(method, path)[0], 401, path)
                self.assertIsNotNone(one_client_auth(k, token, "mgmt-auth"))
                self.assertEqual(k.request("DELETE", "/broker/clients/mgmt-auth",
                                           headers={"Authorization": "Bearer " + token}), (204, ""))
                stop(c)
                assert_clean_stop(self, k)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def one_client_auth(k, token, cid):
    status, body = k.request("GET", "/broker/clients/" + cid, headers={"Authorization": "Bearer " + token})
    return body if status == 200 else None


if __name__ == "__main__":
    main()
