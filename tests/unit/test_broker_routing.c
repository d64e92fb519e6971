/* Unit tests for the broker's routing extensions, the parts that need no socket: the shared
 * subscription strategies (broker__shared_choose, and groups on a bare topic tree with in-process
 * members), $queue/ and $exclusive/ filter parsing, $delayed/ topic parsing, topic rewrite rules
 * (captures, first matching rule decides, placeholders), auto-subscribe placeholders, and
 * configuration errors that name the key. */
#include "tests/unit/broker_tree_fixture.h"

#include <stdio.h>
#include <string.h>

static void test_choose(void)
{
    uint64_t rr = 0, rng = 42;
    int count[4] = {0};
    for (int i = 0; i < 400; i++) count[broker__shared_choose(BROKER_SHARE_ROUND_ROBIN, 4, &rr, 0, &rng)]++;
    for (int i = 0; i < 4; i++) CU_ASSERT_EQUAL(count[i], 100);
    size_t first = broker__shared_choose(BROKER_SHARE_HASH, 5, &rr, 12345, &rng);
    for (int i = 0; i < 20; i++) CU_ASSERT_EQUAL(broker__shared_choose(BROKER_SHARE_HASH, 5, &rr, 12345, &rng), first);
    int seen[3] = {0};
    for (int i = 0; i < 300; i++) {
        size_t k = broker__shared_choose(BROKER_SHARE_RANDOM, 3, &rr, 0, &rng);
        CU_ASSERT(k < 3);
        seen[k < 3 ? k : 0]++;
    }
    for (int i = 0; i < 3; i++) CU_ASSERT(seen[i] > 50); /* roughly uniform */
    CU_ASSERT_NOT_EQUAL(broker__hash_str("a", 1), broker__hash_str("b", 1));
}

/* ---- groups on a bare tree ---- */

/* A bare broker sharing groups by strategy, with a fixed random seed. */
static ek_broker *bare_shared(int strategy)
{
    ek_broker *b = bare();
    b->cfg.shared_strategy = (uint8_t)strategy;
    b->rng = 7;
    return b;
}

static void publish(ek_broker *b, const char *topic, const char *from)
{
    broker__msg *m = broker__msg_new(topic, strlen(topic), "x", 1, NULL, 0, 0, false);
    m->from_hash = broker__hash_str(from, strlen(from));
    broker__route(b, m);
    ek_broker_msg_unref(m);
}

static int busy(int n)
{
    int k = 0;
    for (int i = 0; i < n; i++) k += hits[i] > 0;
    return k;
}

static void test_group_strategies(void)
{
    /* sticky: everything to one member until it unsubscribes, then to one other member */
    ek_broker *b = bare_shared(BROKER_SHARE_STICKY);
    memset(hits, 0, sizeof hits);
    broker__sub *s[3];
    for (long i = 0; i < 3; i++) s[i] = add(b, "$share/g/t/#", i);
    for (int i = 0; i < 30; i++) publish(b, "t/1", "p");
    CU_ASSERT_EQUAL(busy(3), 1);
    int first = hits[0] ? 0 : hits[1] ? 1 : 2;
    CU_ASSERT_EQUAL(hits[first], 30);
    del(b, s[first]);
    memset(hits, 0, sizeof hits);
    for (int i = 0; i < 30; i++) publish(b, "t/1", "p");
    CU_ASSERT_EQUAL(hits[first], 0);
    CU_ASSERT_EQUAL(busy(3), 1);
    bare_free(b);

    /* hash: one publisher always reaches the same member, several publishers spread */
    b = bare_shared(BROKER_SHARE_HASH);
    memset(hits, 0, sizeof hits);
    for (long i = 0; i < 4; i++) add(b, "$queue/h", i);
    for (int i = 0; i < 20; i++) publish(b, "h", "device-1");
    CU_ASSERT_EQUAL(busy(4), 1);
    for (int p = 0; p < 40; p++) {
        char id[16];
        snprintf(id, sizeof id, "dev-%d", p);
        publish(b, "h", id);
    }
    CU_ASSERT(busy(4) > 1);
    bare_free(b);

    /* two groups on one filter each get every message once; the group state goes with the members */
    b = bare_shared(BROKER_SHARE_ROUND_ROBIN);
    memset(hits, 0, sizeof hits);
    broker__sub *a0 = add(b, "$share/a/r", 0), *a1 = add(b, "$share/a/r", 1);
    add(b, "$queue/r", 2);
    for (int i = 0; i < 10; i++) publish(b, "r", "p");
    CU_ASSERT_EQUAL(hits[0], 5);
    CU_ASSERT_EQUAL(hits[1], 5);
    CU_ASSERT_EQUAL(hits[2], 10);
    broker__node *n = broker__tree_node(b, "r", 1, false);
    CU_ASSERT_EQUAL(n->ngroups, 2);
    del(b, a0);
    del(b, a1);
    CU_ASSERT_EQUAL(n->ngroups, 1);
    bare_free(b);
}

static void test_filter_prefixes(void)
{
    char *g = NULL;
    CU_ASSERT_STRING_EQUAL(broker__share_split("$queue/a/b", &g), "a/b");
    CU_ASSERT_STRING_EQUAL(g, "$queue");
    ek_free(g);
    CU_ASSERT_STRING_EQUAL(broker__share_split("$exclusive/a/#", &g), "a/#");
    CU_ASSERT_PTR_NULL(g);
    CU_ASSERT(broker__is_exclusive("$exclusive/a"));
    CU_ASSERT(!broker__is_exclusive("$share/g/a"));
    CU_ASSERT_PTR_NULL(broker__share_split("$queue/", &g));
    CU_ASSERT_PTR_NULL(broker__share_split("$exclusive/", &g));
    CU_ASSERT_PTR_NULL(broker__share_split("$exclusive/$share/g/a", &g));
    CU_ASSERT_PTR_NULL(broker__share_split("$exclusive/$queue/a", &g));
}

static void test_delayed_parse(void)
{
    static const struct {
        const char *topic;
        int rc;
        uint32_t delay;
        const char *inner;
    } cases[] = {
        {"$delayed/10/a/b", 1, 10, "a/b"},
        {"$delayed/0/x", 1, 0, "x"},
        {"$delayed/4294967/x", 1, 4294967, "x"},
        {"$delayed/4294968/x", -1, 0, NULL},
        {"$delayed/99999999999999999999/x", -1, 0, NULL},
        {"$delayed/1.5/x", -1, 0, NULL},
        {"$delayed/-1/x", -1, 0, NULL},
        {"$delayed/ten/x", -1, 0, NULL},
        {"$delayed//x", -1, 0, NULL},
        {"$delayed/10", -1, 0, NULL},
        {"$delayed/10/", -1, 0, NULL},
        {"a/$delayed/10/x", 0, 0, NULL},
        {"$delayedx/10/x", 0, 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t d = 0;
        const char *inner = NULL;
        int rc = broker__delayed_parse(cases[i].topic, strlen(cases[i].topic), &d, &inner);
        CU_ASSERT_EQUAL(rc, cases[i].rc);
        if (rc != cases[i].rc) fprintf(stderr, "case %s: %d\n", cases[i].topic, rc);
        if (rc == 1) {
            CU_ASSERT_EQUAL(d, cases[i].delay);
            CU_ASSERT_STRING_EQUAL(inner, cases[i].inner);
        }
    }
}

/* A rewrite rule as YAML would give it. */
static ek_value rw_rule(const char *action, const char *source, const char *re, const char *dest)
{
    ek_value o = ek_object_new(4);
    if (action) ek_object_set(&o, "action", ek_string(action));
    if (source) ek_object_set(&o, "source", ek_string(source));
    if (re) ek_object_set(&o, "re", ek_string(re));
    if (dest) ek_object_set(&o, "dest", ek_string(dest));
    return o;
}

static void test_rewrite(void)
{
    ek_value sec = ek_object_new(1), list = ek_array_new(4);
    ek_array_push(&list, rw_rule("subscribe", "y/+/z/#", "^y/(.+)/z/(.+)$", "y/z/$2"));
    ek_array_push(&list, rw_rule("publish", "x/#", "^x/y/(.+)$", "z/y/x/$1"));
    ek_array_push(&list, rw_rule("all", "x/y/+", "^x/y/(\\d+)$", "z/y/$1"));
    ek_array_push(&list, rw_rule(NULL, "u/#", "^u/(.+)$", "users/${username}/${clientid}/$1/$9"));
    ek_object_set(&sec, "rewrite", list);
    broker__cfg c;
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(broker__cfg_load(&c, &sec, &err), 0);
    CU_ASSERT_EQUAL(c.nrewrite, 4);
    static const struct {
        int action;
        const char *in, *out;
    } cases[] = {
        {BROKER_RW_SUB, "y/a/z/b", "y/z/b"},
        {BROKER_RW_SUB, "y/def", NULL},
        {BROKER_RW_PUB, "y/a/z/b", NULL},          /* a subscribe rule */
        {BROKER_RW_PUB, "x/y/2", "z/y/x/2"},       /* the first matching rule wins */
        {BROKER_RW_PUB, "x/1/2", NULL},            /* its expression does not match: kept, rule 3 not tried */
        {BROKER_RW_SUB, "x/y/2", "z/y/2"},
        {BROKER_RW_SUB, "x/y/z", NULL},
        {BROKER_RW_PUB, "u/a/b", "users/bob/c1/a/b/$9"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = broker__rewrite_apply(&c, cases[i].action, cases[i].in, "c1", "bob");
        if (cases[i].out) {
            CU_ASSERT_PTR_NOT_NULL(out);
            if (out) CU_ASSERT_STRING_EQUAL(out, cases[i].out);
        } else {
            CU_ASSERT_PTR_NULL(out);
        }
        ek_free(out);
    }
    broker__cfg_free(&c);
    ek_value_unref(&sec);
}

static void test_placeholders(void)
{
    char *t = broker__placeholders("c/${clientid}/u/${username}/${host}", "dev1", "ann", "10.0.0.1");
    CU_ASSERT_STRING_EQUAL(t, "c/dev1/u/ann/10.0.0.1");
    ek_free(t);
    CU_ASSERT_PTR_NULL(broker__placeholders("u/${username}", "dev1", NULL, NULL));
    t = broker__placeholders("plain/${other}", "dev1", NULL, NULL);
    CU_ASSERT_STRING_EQUAL(t, "plain/${other}");
    ek_free(t);
}

static void test_routing_config(void)
{
    ek_value sec = ek_object_new(4);
    ek_object_set(&sec, "sharedsubscriptionstrategy", ek_string("sticky")); /* env spelling */
    ek_object_set(&sec, "exclusiveSubscription", ek_bool(true));
    ek_object_set(&sec, "maxDelayedMessages", ek_int(5));
    ek_value as = ek_array_new(1), e = ek_object_new(5);
    ek_object_set(&e, "topic", ek_string("c/${clientid}/cmd"));
    ek_object_set(&e, "qos", ek_int(1));
    ek_object_set(&e, "nl", ek_int(1));
    ek_object_set(&e, "rh", ek_int(2));
    ek_array_push(&as, e);
    ek_object_set(&sec, "autoSubscribe", as);
    broker__cfg c;
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(broker__cfg_load(&c, &sec, &err), 0);
    CU_ASSERT_EQUAL(c.shared_strategy, BROKER_SHARE_STICKY);
    CU_ASSERT(c.exclusive_sub && c.delayed_enable);
    CU_ASSERT_EQUAL(c.max_delayed, 5u);
    CU_ASSERT_EQUAL(c.nautosub, 1);
    CU_ASSERT_EQUAL(c.autosub[0].opts, 1 | 4 | (2 << 4));
    broker__cfg_free(&c);
    ek_value_unref(&sec);

    broker__cfg d;
    CU_ASSERT_EQUAL(broker__cfg_load(&d, NULL, NULL), 0);
    CU_ASSERT_EQUAL(d.shared_strategy, BROKER_SHARE_ROUND_ROBIN);
    CU_ASSERT(!d.exclusive_sub && d.delayed_enable);
}

/* Each bad section must fail with a message naming the key. */
static void test_config_errors(void)
{
    ek_value bad[8];
    const char *expect[8];
    size_t n = 0;
    bad[n] = ek_object_new(1);
    ek_object_set(&bad[n], "sharedSubscriptionStrategy", ek_string("fastest"));
    expect[n++] = "broker.sharedSubscriptionStrategy";
    bad[n] = ek_object_new(1);
    ek_object_set(&bad[n], "exclusiveSubscription", ek_string("yes"));
    expect[n++] = "broker.exclusiveSubscription";
    ek_value l = ek_array_new(1);
    ek_array_push(&l, rw_rule("publish", "a/#", "^a/(", "b"));
    bad[n] = ek_object_new(1);
    ek_object_set(&bad[n], "rewrite", l);
    expect[n++] = "broker.rewrite[0].re";
    l = ek_array_new(1);
    ek_array_push(&l, rw_rule("publish", "a/#/b", "^a", "b"));
    bad[n] = ek_object_new(1);
    ek_object_set(&bad[n], "rewrite", l);
    expect[n++] = "broker.rewrite[0].source";
    l = ek_array_new(1);
    ek_array_push(&l, rw_rule("read", "a/#", "^a", "b"));
    bad[n] = ek_object_new(1);
    ek_object_set(&bad[n], "rewrite", l);
    expect[n++] = "broker.rewrite[0].action";
    l = ek_array_new(31);
    for (int i = 0; i < 31; i++) ek_array_push(&l, rw_rule("all", "a", "^a$", "b"));
    bad[n] = ek_object_new(1);
    ek_object_set(&bad[n], "rewrite", l);
    expect[n++] = "broker.rewrite: at most 30";
    l = ek_array_new(1);
    ek_value e = ek_object_new(2);
    ek_object_set(&e, "topic", ek_string("a/${clientid}"));
    ek_object_set(&e, "qos", ek_int(3));
    ek_array_push(&l, e);
    bad[n] = ek_object_new(1);
    ek_object_set(&bad[n], "autoSubscribe", l);
    expect[n++] = "broker.autoSubscribe[0].qos";
    l = ek_array_new(1);
    e = ek_object_new(1);
    ek_object_set(&e, "topic", ek_string("a/#/b"));
    ek_array_push(&l, e);
    bad[n] = ek_object_new(1);
    ek_object_set(&bad[n], "autoSubscribe", l);
    expect[n++] = "broker.autoSubscribe[0].topic";
    for (size_t i = 0; i < n; i++) {
        broker__cfg c;
        ek_err err = {0};
        CU_ASSERT_NOT_EQUAL(broker__cfg_load(&c, &bad[i], &err), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, expect[i]));
        if (!strstr(err.msg, expect[i])) fprintf(stderr, "expected %s in: %s\n", expect[i], err.msg);
        broker__cfg_free(&c);
        ek_value_unref(&bad[i]);
    }
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"shared strategies choose", test_choose},
        {"shared groups on the tree", test_group_strategies},
        {"$queue and $exclusive prefixes", test_filter_prefixes},
        {"$delayed parsing", test_delayed_parse},
        {"topic rewrite rules", test_rewrite},
        {"auto-subscribe placeholders", test_placeholders},
        {"routing configuration", test_routing_config},
        {"configuration errors name the key", test_config_errors},
        {NULL, NULL},
    };
    ek_add_suite("broker_routing", cases);
}
