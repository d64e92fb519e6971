/* Unit tests for the broker's configuration (broker/config.c): defaults without a section, every
 * key read from a `broker:` object (case-insensitively, as environment overrides arrive), a
 * listener list, and errors that name the key for a wrong type or an out-of-range value. */
#include "broker/broker_int.h"
#include "tests/unit/test_util.h"

#include <string.h>

static void test_defaults(void)
{
    broker__cfg c;
    ek_value none = ek_null();
    CU_ASSERT_EQUAL(broker__cfg_load(&c, &none, NULL), 0);
    CU_ASSERT(c.enable);
    CU_ASSERT_EQUAL(c.nlisteners, 1);
    CU_ASSERT_STRING_EQUAL(c.listeners[0].bind, "0.0.0.0");
    CU_ASSERT_EQUAL(c.listeners[0].port, 1883);
    CU_ASSERT_EQUAL(c.max_packet, 1048576u);
    CU_ASSERT_EQUAL(c.max_inflight, 32);
    CU_ASSERT_EQUAL(c.max_queued, 1000u);
    CU_ASSERT_EQUAL(c.sys_interval, 10u);
    CU_ASSERT_EQUAL(c.max_qos, 2);
    CU_ASSERT(c.retain_available && c.persist);
}

static void test_keys(void)
{
    ek_value sec = ek_object_new(8);
    ek_object_set(&sec, "port", ek_int(0));
    ek_object_set(&sec, "bind", ek_string("127.0.0.1"));
    ek_object_set(&sec, "maxqos", ek_int(1)); /* as an environment override spells it */
    ek_object_set(&sec, "maxPacketSize", ek_int(4096));
    ek_object_set(&sec, "retainAvailable", ek_bool(false));
    ek_object_set(&sec, "sysInterval", ek_int(0));
    ek_object_set(&sec, "unknownKey", ek_string("ignored"));
    broker__cfg c;
    ek_err err = {0};
    CU_ASSERT_EQUAL(broker__cfg_load(&c, &sec, &err), 0);
    CU_ASSERT_EQUAL(c.listeners[0].port, 0);
    CU_ASSERT_STRING_EQUAL(c.listeners[0].bind, "127.0.0.1");
    CU_ASSERT_EQUAL(c.max_qos, 1);
    CU_ASSERT_EQUAL(c.max_packet, 4096u);
    CU_ASSERT(!c.retain_available);
    CU_ASSERT_EQUAL(c.sys_interval, 0u);
    ek_value_unref(&sec);
}

static void test_listeners(void)
{
    ek_value sec = ek_object_new(1);
    ek_value ls = ek_array_new(3);
    ek_value l1 = ek_object_new(2), l2 = ek_object_new(2), l3 = ek_object_new(2);
    ek_object_set(&l1, "port", ek_int(1884));
    ek_object_set(&l2, "port", ek_int(1885));
    ek_object_set(&l2, "enable", ek_bool(false));
    ek_object_set(&l3, "bind", ek_string("127.0.0.1"));
    ek_array_push(&ls, l1);
    ek_array_push(&ls, l2);
    ek_array_push(&ls, l3);
    ek_object_set(&sec, "listeners", ls);
    broker__cfg c;
    CU_ASSERT_EQUAL(broker__cfg_load(&c, &sec, NULL), 0);
    CU_ASSERT_EQUAL(c.nlisteners, 2);
    CU_ASSERT_EQUAL(c.listeners[0].port, 1884);
    CU_ASSERT_EQUAL(c.listeners[1].port, 1883);
    CU_ASSERT_STRING_EQUAL(c.listeners[1].bind, "127.0.0.1");
    ek_value_unref(&sec);
}

static void test_errors_name_the_key(void)
{
    const struct {
        const char *key;
        ek_value v;
        const char *expect;
    } cases[] = {
        {"maxQos", ek_int(3), "broker.maxQos"},
        {"maxInflight", ek_int(0), "broker.maxInflight"},
        {"persist", ek_int(1), "broker.persist: expected true or false"},
        {"port", ek_int(70000), "broker.port"},
        {"maxPacketSize", ek_float(1.5), "broker.maxPacketSize"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ek_value sec = ek_object_new(1);
        ek_object_set(&sec, cases[i].key, cases[i].v);
        broker__cfg c;
        ek_err err = {0};
        CU_ASSERT_EQUAL(broker__cfg_load(&c, &sec, &err), EK_ECONF);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cases[i].expect));
        ek_value_unref(&sec);
    }
    ek_value bad = ek_int(1);
    broker__cfg c;
    CU_ASSERT_EQUAL(broker__cfg_load(&c, &bad, NULL), EK_ECONF);
}

static ek_value acl_rule(const char *perm, const char *action, const char *topic, const char *user)
{
    ek_value r = ek_object_new(4);
    ek_object_set(&r, "permission", ek_string(perm));
    if (action) ek_object_set(&r, "action", ek_string(action));
    ek_object_set(&r, "topic", ek_string(topic));
    if (user) ek_object_set(&r, "username", ek_string(user));
    return r;
}

static void test_acl(void)
{
    ek_value sec = ek_object_new(1);
    ek_value list = ek_array_new(4);
    ek_array_push(&list, acl_rule("allow", "all", "admin/#", "root"));
    ek_array_push(&list, acl_rule("deny", NULL, "admin/#", NULL));
    ek_array_push(&list, acl_rule("deny", "subscribe", "test/nosubscribe", NULL));
    ek_array_push(&list, acl_rule("deny", "publish", "ro/+", NULL));
    ek_object_set(&sec, "acl", list);
    broker__cfg c;
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(broker__cfg_load(&c, &sec, &err), 0);
    CU_ASSERT_EQUAL(c.nacl, 4);
    ek_broker b = {.cfg = c};
    broker__session s = {.id = "cid"};
    broker__conn root = {.s = &s, .username = "root"}, anon = {.s = &s};
    CU_ASSERT(broker__acl_allow(&b, &root, BROKER_ACL_PUB, "admin/x"));
    CU_ASSERT(!broker__acl_allow(&b, &anon, BROKER_ACL_PUB, "admin/x"));
    CU_ASSERT(!broker__acl_allow(&b, &anon, BROKER_ACL_SUB, "admin/#"));
    CU_ASSERT(!broker__acl_allow(&b, &anon, BROKER_ACL_SUB, "test/nosubscribe"));
    CU_ASSERT(broker__acl_allow(&b, &anon, BROKER_ACL_PUB, "test/nosubscribe"));
    CU_ASSERT(!broker__acl_allow(&b, &anon, BROKER_ACL_PUB, "ro/1"));
    CU_ASSERT(broker__acl_allow(&b, &anon, BROKER_ACL_SUB, "ro/1"));
    CU_ASSERT(broker__acl_allow(&b, &anon, BROKER_ACL_PUB, "other"));
    broker__cfg_free(&c);
    ek_value_unref(&sec);

    sec = ek_object_new(1);
    list = ek_array_new(1);
    ek_array_push(&list, acl_rule("maybe", NULL, "x", NULL));
    ek_object_set(&sec, "acl", list);
    CU_ASSERT_EQUAL(broker__cfg_load(&c, &sec, &err), EK_ECONF);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "broker.acl[0].permission"));
    broker__cfg_free(&c);
    ek_value_unref(&sec);
}

static void test_start_errors(void)
{
    /* A port in use is reported with the address. */
    ek_value sec = ek_object_new(2);
    ek_object_set(&sec, "bind", ek_string("127.0.0.1"));
    ek_object_set(&sec, "port", ek_int(0));
    ek_object_set(&sec, "sysInterval", ek_int(0));
    ek_broker *a = NULL, *b = NULL;
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(ek_broker_start(&sec, NULL, &a, &err), 0);
    ek_object_set(&sec, "port", ek_int(ek_broker_port(a)));
    CU_ASSERT_EQUAL(ek_broker_start(&sec, NULL, &b, &err), EK_EIO);
    CU_ASSERT_PTR_NULL(b);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "127.0.0.1"));
    ek_broker_stop(a);
    ek_object_set(&sec, "bind", ek_string("not-an-ip"));
    CU_ASSERT_EQUAL(ek_broker_start(&sec, NULL, &b, &err), EK_ECONF);
    ek_value_unref(&sec);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"defaults without a section", test_defaults},
        {"keys, case-insensitive", test_keys},
        {"listener list", test_listeners},
        {"errors name the key", test_errors_name_the_key},
        {"acl rules", test_acl},
        {"port in use and bad address", test_start_errors},
        {NULL, NULL},
    };
    ek_add_suite("broker_config", cases);
}
