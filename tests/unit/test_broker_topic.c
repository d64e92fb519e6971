/* Unit tests for the topic tree (broker/topic_tree.c, retain.c): a table of filter/topic pairs
 * and whether they match, including the rules for "+", "#", empty levels and $-topics; shared
 * subscription groups delivering once; retained messages found by wildcard filters. The tree is
 * driven directly on a bare ek_broker (no reactor, no sockets), with in-process subscribers. */
#include "tests/unit/broker_tree_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t publish(ek_broker *b, const char *topic, bool retain)
{
    broker__msg *m = broker__msg_new(topic, strlen(topic), "x", 1, NULL, 0, 0, retain);
    if (retain) broker__retain_set(b, m);
    size_t n = broker__route(b, m);
    ek_broker_msg_unref(m);
    return n;
}

static const struct {
    const char *filter, *topic;
    bool match;
} table[] = {
    {"a/b/c", "a/b/c", true},      {"a/b/c", "a/b", false},       {"a/b", "a/b/c", false},
    {"a/+/c", "a/b/c", true},      {"a/+/c", "a/b/d", false},     {"a/+", "a/b/c", false},
    {"a/#", "a", true},            {"a/#", "a/b", true},          {"a/#", "a/b/c", true},
    {"a/#", "b/a", false},         {"#", "a/b/c", true},          {"#", "/", true},
    {"+", "a", true},              {"+", "a/b", false},           {"+/+", "/", true},
    {"/+", "/a", true},            {"+", "/a", false},            {"a//b", "a//b", true},
    {"a/+/b", "a//b", true},       {"+/#", "a", true},            {"#", "$SYS/x", false},
    {"+/x", "$SYS/x", false},      {"$SYS/#", "$SYS/x", true},    {"$SYS/+", "$SYS/x", true},
    {"+/+/+", "a/b/c", true},      {"a/b/c/#", "a/b/c", true},    {"A/b", "a/b", false},
    {"sport/tennis/#", "sport/tennis/player1/ranking", true},     {"sport/+", "sport/", true},
    {"sport/+", "sport", false},   {"#", "$share/x", false},
};

static void test_match_table(void)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        ek_broker *b = bare();
        memset(hits, 0, sizeof hits);
        add(b, table[i].filter, 0);
        publish(b, table[i].topic, false);
        if ((hits[0] == 1) != table[i].match)
            fprintf(stderr, "\n  filter %s topic %s: got %d", table[i].filter, table[i].topic, hits[0]);
        CU_ASSERT_EQUAL(hits[0], table[i].match ? 1 : 0);
        /* The ACL's string matcher agrees with the tree. */
        CU_ASSERT_EQUAL(broker__filter_match(table[i].filter, table[i].topic), table[i].match);
        bare_free(b);
    }
}

static void test_unsubscribe_prunes(void)
{
    ek_broker *b = bare();
    broker__sub *s1 = add(b, "a/b/c", 0);
    broker__sub *s2 = add(b, "a/+", 1);
    CU_ASSERT_EQUAL(b->nsubs_total, 2);
    del(b, s1);
    CU_ASSERT_PTR_NULL(broker__tree_node(b, "a/b/c", 5, false));
    CU_ASSERT_PTR_NOT_NULL(broker__tree_node(b, "a/+", 3, false));
    del(b, s2);
    CU_ASSERT_EQUAL(b->root->children.len, 0);
    CU_ASSERT_EQUAL(b->nsubs_total, 0);
    bare_free(b);
}

static void test_shared_round_robin(void)
{
    ek_broker *b = bare();
    memset(hits, 0, sizeof hits);
    add(b, "$share/g/t/+", 0);
    add(b, "$share/g/t/+", 1);
    add(b, "$share/h/t/+", 2);
    add(b, "t/#", 3);
    for (int i = 0; i < 10; i++) publish(b, "t/x", false);
    CU_ASSERT_EQUAL(hits[0] + hits[1], 10); /* group g: once per message */
    CU_ASSERT(hits[0] >= 4 && hits[1] >= 4);
    CU_ASSERT_EQUAL(hits[2], 10);
    CU_ASSERT_EQUAL(hits[3], 10);
    char *g = NULL;
    CU_ASSERT_PTR_NULL(broker__share_split("$share/", &g));
    CU_ASSERT_PTR_NULL(broker__share_split("$share/g", &g));
    CU_ASSERT_PTR_NULL(broker__share_split("$share//t", &g));
    CU_ASSERT_PTR_NULL(broker__share_split("$share/g+/t", &g));
    bare_free(b);
}

static void test_retained_by_filter(void)
{
    ek_broker *b = bare();
    publish(b, "r/a", true);
    publish(b, "r/b/c", true);
    publish(b, "$SYS/r", true);
    CU_ASSERT_EQUAL(b->nretained, 3);
    const struct {
        const char *filter;
        int count;
    } cases[] = {{"r/+", 1}, {"r/#", 2}, {"#", 2}, {"+/+", 1}, {"r/b/c", 1}, {"$SYS/#", 1}, {"x/#", 0}, {"r", 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(hits, 0, sizeof hits);
        broker__sub *sub = add(b, cases[i].filter, 0);
        broker__retain_deliver(b, sub, cases[i].filter);
        if (hits[0] != cases[i].count) fprintf(stderr, "\n  %s: %d", cases[i].filter, hits[0]);
        CU_ASSERT_EQUAL(hits[0], cases[i].count);
        del(b, sub);
    }
    /* An empty retained payload deletes. */
    broker__msg *m = broker__msg_new("r/a", 3, NULL, 0, NULL, 0, 0, true);
    broker__retain_set(b, m);
    ek_broker_msg_unref(m);
    CU_ASSERT_EQUAL(b->nretained, 2);
    bare_free(b);
}

/* The hash map under churn: backward-shift deletion must keep every remaining key reachable. */
static void test_map_churn(void)
{
    enum { N = 5000 };
    static char keys[N][12];
    static bool live[N];
    broker__map m = {0};
    unsigned seed = 7;
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        broker__map_put(&m, keys[i], strlen(keys[i]), keys[i]);
        live[i] = true;
    }
    for (int round = 0; round < 4 * N; round++) {
        int i = rand_r(&seed) % N;
        if (live[i]) {
            CU_ASSERT_PTR_EQUAL(broker__map_del(&m, keys[i], strlen(keys[i])), keys[i]);
        } else {
            broker__map_put(&m, keys[i], strlen(keys[i]), keys[i]);
        }
        live[i] = !live[i];
    }
    size_t count = 0;
    bool ok = true;
    for (int i = 0; i < N; i++) {
        void *v = broker__map_get(&m, keys[i], strlen(keys[i]));
        ok &= live[i] ? v == keys[i] : v == NULL;
        count += live[i];
    }
    CU_ASSERT(ok);
    CU_ASSERT_EQUAL(m.len, count);
    CU_ASSERT_PTR_NULL(broker__map_del(&m, "absent", 6));
    broker__map_free(&m);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"filter/topic match table", test_match_table},
        {"unsubscribe prunes empty nodes", test_unsubscribe_prunes},
        {"shared subscriptions deliver once per group", test_shared_round_robin},
        {"retained messages found by filter", test_retained_by_filter},
        {"hash map under churn", test_map_churn},
        {NULL, NULL},
    };
    ek_add_suite("broker_topic", cases);
}
