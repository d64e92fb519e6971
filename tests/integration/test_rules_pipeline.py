"""Rule pipelines over memory topics through a real kuiperd: rules write to memory sinks and other
rules read them through memory streams whose DATASOURCE uses the + and # wildcards, three stages
deep; inputs arrive over the bundled broker and the last stage's MQTT output is compared exactly
(as a set where two rules running in parallel merge into one topic: their relative order is not
defined, in eKuiper either).
The pipeline is stopped in the middle and started again: nothing is left half-connected."""
import unittest

from harness import Kuiperd, main
from rules_util import Listener, create_rule, create_streams, expect, mqtt_sink


class Pipeline(unittest.TestCase):
    def test_memory_topics_with_wildcards(self):
        with Kuiperd() as k:
            lis = Listener(k.mqtt_port)
            try:
                create_streams(self, k,
                               'CREATE STREAM dev (site STRING, temp BIGINT) WITH (DATASOURCE="t/dev")',
                               'CREATE STREAM per_site () WITH (TYPE="memory", DATASOURCE="pipe/+/temp")',
                               'CREATE STREAM everything () WITH (TYPE="memory", DATASOURCE="pipe/#")',
                               'CREATE STREAM hot () WITH (TYPE="memory", DATASOURCE="stage2/hot")')
                for site in ("a", "b"):
                    create_rule(self, k, {"id": "split_" + site,
                                          "sql": "SELECT temp FROM dev WHERE site = \"%s\"" % site,
                                          "actions": [{"memory": {"topic": "pipe/%s/temp" % site, "sendSingle": True}}]})
                create_rule(self, k, {"id": "stage2", "sql": "SELECT temp * 2 AS t2 FROM per_site WHERE temp > 10",
                                      "actions": [{"memory": {"topic": "stage2/hot", "sendSingle": True}},
                                                  mqtt_sink(k, "out/stage2")]})
                create_rule(self, k, {"id": "stage3", "sql": "SELECT t2 + 1 AS t3 FROM hot",
                                      "actions": [mqtt_sink(k, "out/stage3")]})
                create_rule(self, k, {"id": "all", "sql": "SELECT temp FROM everything",
                                      "actions": [mqtt_sink(k, "out/all")]})
                for site, temp in (("a", 5), ("b", 20), ("c", 30), ("a", 11)):
                    lis.publish("t/dev", {"site": site, "temp": temp})
                expect(self, lis, "out/stage2", [[{"t2": 40}], [{"t2": 22}]], any_order=True)
                expect(self, lis, "out/stage3", [[{"t3": 41}], [{"t3": 23}]], any_order=True)
                expect(self, lis, "out/all", [[{"temp": 5}], [{"temp": 20}], [{"temp": 11}]], any_order=True)
                # Stop the middle stage: the last one gets nothing; start it again: the flow resumes.
                self.assertEqual(k.request("POST", "/rules/stage2/stop")[0], 200)
                lis.publish("t/dev", {"site": "b", "temp": 50})
                expect(self, lis, "out/all", [[{"temp": 5}], [{"temp": 20}], [{"temp": 11}], [{"temp": 50}]], any_order=True)
                self.assertEqual(len(lis.messages("out/stage3")), 2)
                self.assertEqual(k.request("POST", "/rules/stage2/start")[0], 200)
                lis.publish("t/dev", {"site": "b", "temp": 60})
                expect(self, lis, "out/stage3", [[{"t3": 41}], [{"t3": 23}], [{"t3": 121}]], any_order=True)
                st = k.request("GET", "/rules/stage3/status")[1]
                self.assertEqual(st["source_hot_0_records_in_total"], 3)  # stage3 kept running throughout
                st = k.request("GET", "/rules/stage2/status")[1]
                self.assertEqual(st["source_per_site_0_records_in_total"], 1)  # counted since its restart
            finally:
                lis.close()


if __name__ == "__main__":
    main()
