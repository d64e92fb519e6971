/* Unit tests for the sink cache (connectors/cache.h): a fake sink that can be made unreachable;
 * messages page from memory to data/cache.db, come back in order when the sink recovers, survive
 * a close and reopen and a crash (a child process that _exits without closing), a full cache drops
 * its oldest and counts them, and the settings come from kuiper.yaml's sink section and props. */
#include "connectors/cache.h"
#include "engine/codec_json.h"
#include "engine/mem.h"
#include "tests/unit/test_util.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct fake_sink {
    int down;
    int n;
    int resends;  /* collects made while ek_sink_cache_resending() */
    char got[2048][48];
    int marked;   /* messages that carried the resend indicator */
} fake_sink;

static int fake_collect(void *arg, const ek_sink_data *d, ek_err *err)
{
    fake_sink *s = arg;
    if (s->down) return ek_err_set(err, EK_EIO, "down");
    s->resends += ek_sink_cache_resending();
    if (s->n < 2048) snprintf(s->got[s->n++], sizeof s->got[0], "%.*s", (int)d->len, d->payload);
    if (d->value && d->value->type == EK_T_OBJECT) {
        const ek_value *r = ek_object_get(d->value, "resent");
        if (r && r->type == EK_T_BOOL && r->b) s->marked++;
    }
    return 0;
}

static char db_path[128];

static void fresh_db(void)
{
    char dir[] = "/tmp/ek-cache-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(ek_test_mkdtemp(dir));
    snprintf(db_path, sizeof db_path, "%s/cache.db", dir);
}

static ek_cache_conf conf_of(const char *props_json)
{
    ek_value props;
    CU_ASSERT_FATAL(ek_json_decode(props_json, strlen(props_json), 0, &props, NULL) == 0);
    ek_cache_conf conf;
    ek_err err = {0};
    int rc = ek_cache_conf_load(NULL, &props, &conf, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_EQUAL(rc, 0);
    ek_value_unref(&props);
    return conf;
}

/* A cache on a new empty cache.db under key, configured by props_json (into *conf). */
static ek_sink_cache *fresh_cache(const char *key, ek_cache_conf *conf, const char *props_json)
{
    fresh_db();
    *conf = conf_of(props_json);
    ek_sink_cache *c = NULL;
    CU_ASSERT_EQUAL_FATAL(ek_sink_cache_open(db_path, key, conf, &c, NULL), 0);
    return c;
}

static int deliver_n(ek_sink_cache *c, fake_sink *s, int from, int count)
{
    int kept = 0;
    for (int i = from; i < from + count; i++) {
        char p[32];
        snprintf(p, sizeof p, "{\"i\":%d}", i);
        ek_value v = ek_object_new(1);
        ek_object_set(&v, "i", ek_int(i));
        ek_sink_data d = {.value = &v, .payload = p, .len = strlen(p)};
        int rc = ek_sink_cache_deliver(c, &d, fake_collect, s, NULL);
        CU_ASSERT(rc == EK_CACHE_SENT || rc == EK_CACHE_KEPT);
        kept += rc == EK_CACHE_KEPT;
        ek_value_unref(&v);
    }
    return kept;
}

static void drain(ek_sink_cache *c, fake_sink *s)
{
    for (int guard = 0; guard < 1000 && ek_sink_cache_deadline(c) >= 0; guard++)
        ek_sink_cache_resend(c, ek_mono_ms() + 100000, fake_collect, NULL, s);
}

static void check_order(fake_sink *s, int from, int count)
{
    CU_ASSERT_EQUAL(s->n, count);
    for (int i = 0; i < count && i < s->n; i++) {
        char want[32];
        snprintf(want, sizeof want, "{\"i\":%d}", from + i);
        if (strcmp(s->got[i], want) != 0) fprintf(stderr, "\nposition %d: got %s want %s\n", i, s->got[i], want);
        CU_ASSERT_STRING_EQUAL(s->got[i], want);
    }
}

static void test_memory_then_disk_in_order(void)
{
    ek_cache_conf conf;
    ek_sink_cache *c = fresh_cache("r1_0", &conf,
                                   "{\"enableCache\":true,\"memoryCacheThreshold\":4,\"bufferPageSize\":2,"
                                   "\"maxDiskCache\":100}");
    fake_sink *s = ek_calloc(1, sizeof *s);
    CU_ASSERT_EQUAL(deliver_n(c, s, 0, 3), 0);
    s->down = 1;
    CU_ASSERT_EQUAL(deliver_n(c, s, 3, 20), 20);
    ek_cache_stats st;
    ek_sink_cache_stats(c, &st);
    CU_ASSERT_EQUAL(st.memory, 4);
    CU_ASSERT_EQUAL(st.disk, 16);
    CU_ASSERT_EQUAL(st.cached, 20);
    /* Still down: a resend attempt keeps everything. */
    CU_ASSERT_EQUAL(ek_sink_cache_resend(c, ek_mono_ms(), fake_collect, NULL, s), 0);
    CU_ASSERT(ek_sink_cache_deadline(c) > ek_mono_ms()); /* the next try waits */
    s->down = 0;
    /* Live data while the cache drains queues behind it. */
    CU_ASSERT_EQUAL(deliver_n(c, s, 23, 2), 2);
    drain(c, s);
    check_order(s, 0, 25);
    CU_ASSERT_EQUAL(s->resends, 22); /* the 3 first went out live */
    CU_ASSERT_FALSE(ek_sink_cache_resending());
    ek_sink_cache_stats(c, &st);
    CU_ASSERT_EQUAL(st.memory + st.disk, 0);
    CU_ASSERT_EQUAL(st.resent, 22);
    ek_sink_cache_close(c);
    ek_free(s);
}

static void test_survives_reopen(void)
{
    ek_cache_conf conf;
    ek_sink_cache *c = fresh_cache("r2_0", &conf,
                                   "{\"enableCache\":true,\"memoryCacheThreshold\":3,\"bufferPageSize\":2}");
    fake_sink *s = ek_calloc(1, sizeof *s);
    s->down = 1;
    deliver_n(c, s, 0, 10);
    ek_sink_cache_close(c);
    CU_ASSERT_EQUAL_FATAL(ek_sink_cache_open(db_path, "r2_0", &conf, &c, NULL), 0);
    ek_cache_stats st;
    ek_sink_cache_stats(c, &st);
    CU_ASSERT_EQUAL(st.memory + st.disk, 10);
    /* After a restart, new data still waits behind the old. */
    CU_ASSERT_EQUAL(deliver_n(c, s, 10, 2), 2);
    s->down = 0;
    drain(c, s);
    check_order(s, 0, 12);
    ek_sink_cache_close(c);
    /* Nothing is left for a third run. */
    CU_ASSERT_EQUAL_FATAL(ek_sink_cache_open(db_path, "r2_0", &conf, &c, NULL), 0);
    CU_ASSERT_EQUAL(ek_sink_cache_deadline(c), -1);
    ek_sink_cache_close(c);
    ek_free(s);
}

static void test_survives_crash(void)
{
    fresh_db();
    ek_cache_conf conf = conf_of("{\"enableCache\":true,\"cacheSyncInterval\":\"100ms\"}");
    pid_t pid = fork();
    if (pid == 0) {
        ek_sink_cache *c = NULL;
        if (ek_sink_cache_open(db_path, "r3_0", &conf, &c, NULL)) _exit(2);
        fake_sink s = {.down = 1};
        for (int i = 0; i < 7; i++) {
            char p[32];
            snprintf(p, sizeof p, "{\"i\":%d}", i);
            ek_value v = ek_null();
            ek_sink_data d = {.value = &v, .payload = p, .len = strlen(p)};
            ek_sink_cache_deliver(c, &d, fake_collect, &s, NULL);
        }
        usleep(400000);
        _exit(0); /* no close: what kill -9 leaves */
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
    ek_sink_cache *c = NULL;
    CU_ASSERT_EQUAL_FATAL(ek_sink_cache_open(db_path, "r3_0", &conf, &c, NULL), 0);
    fake_sink *s = ek_calloc(1, sizeof *s);
    drain(c, s);
    check_order(s, 0, 7);
    ek_sink_cache_close(c);
    ek_free(s);
}

static void test_full_drops_oldest(void)
{
    ek_cache_conf conf;
    ek_sink_cache *c = fresh_cache("r4_0", &conf,
                                   "{\"enableCache\":true,\"memoryCacheThreshold\":2,\"maxDiskCache\":3,"
                                   "\"bufferPageSize\":1}");
    fake_sink *s = ek_calloc(1, sizeof *s);
    s->down = 1;
    deliver_n(c, s, 0, 8);
    ek_cache_stats st;
    ek_sink_cache_stats(c, &st);
    CU_ASSERT_EQUAL(st.dropped, 3);
    CU_ASSERT_EQUAL(st.memory + st.disk, 5);
    s->down = 0;
    drain(c, s);
    check_order(s, 3, 5);
    ek_sink_cache_close(c);
    ek_free(s);
}

static int encode_json(void *arg, const ek_value *v, ek_buf *out, ek_err *err)
{
    ek_json_encode(v, EK_JSON_SORT_KEYS, out);
    return 0;
}

static void test_indicator_and_clean(void)
{
    ek_cache_conf conf;
    ek_sink_cache *c = fresh_cache("r5_0", &conf,
                                   "{\"enableCache\":true,\"resendIndicatorField\":\"resent\",\"cleanCacheAtStop\":true,"
                                   "\"resendInterval\":\"10ms\"}");
    CU_ASSERT_EQUAL(conf.resend_interval_ms, 10);
    fake_sink *s = ek_calloc(1, sizeof *s);
    s->down = 1;
    deliver_n(c, s, 0, 3);
    s->down = 0;
    /* resendInterval: one message per call. */
    CU_ASSERT_EQUAL(ek_sink_cache_resend(c, ek_mono_ms() + 100000, fake_collect, encode_json, s), 1);
    CU_ASSERT_EQUAL(s->marked, 1);
    CU_ASSERT_STRING_EQUAL(s->got[0], "{\"i\":0,\"resent\":true}");
    ek_sink_cache_close(c); /* cleanCacheAtStop: the other two are dropped */
    conf.clean_at_stop = false;
    CU_ASSERT_EQUAL_FATAL(ek_sink_cache_open(db_path, "r5_0", &conf, &c, NULL), 0);
    CU_ASSERT_EQUAL(ek_sink_cache_deadline(c), -1);
    ek_sink_cache_close(c);
    ek_free(s);
}

static void test_alter_queue(void)
{
    ek_cache_conf conf;
    ek_sink_cache *c = fresh_cache("r6_0", &conf,
                                   "{\"enableCache\":true,\"resendAlterQueue\":true,\"resendPriority\":0}");
    fake_sink *s = ek_calloc(1, sizeof *s);
    s->down = 1;
    deliver_n(c, s, 0, 3);
    s->down = 0;
    /* Live data goes out at once, the cached three follow on resend. */
    CU_ASSERT_EQUAL(deliver_n(c, s, 3, 1), 0);
    CU_ASSERT_STRING_EQUAL(s->got[0], "{\"i\":3}");
    drain(c, s);
    CU_ASSERT_EQUAL(s->n, 4);
    CU_ASSERT_STRING_EQUAL(s->got[1], "{\"i\":0}");
    ek_sink_cache_close(c);
    /* resendPriority 1: the cache first, live data queues behind it. */
    conf.priority = 1;
    fresh_db();
    CU_ASSERT_EQUAL_FATAL(ek_sink_cache_open(db_path, "r7_0", &conf, &c, NULL), 0);
    s->n = 0, s->down = 1;
    deliver_n(c, s, 0, 2);
    s->down = 0;
    CU_ASSERT_EQUAL(deliver_n(c, s, 2, 1), 1);
    drain(c, s);
    check_order(s, 0, 3);
    ek_sink_cache_close(c);
    ek_free(s);
}

static void test_disabled_and_conf(void)
{
    ek_cache_conf conf = conf_of("{}");
    CU_ASSERT_FALSE(conf.enable);
    CU_ASSERT_EQUAL(conf.memory_threshold, 1024);
    CU_ASSERT_EQUAL(conf.max_disk, 1024000);
    CU_ASSERT_EQUAL(conf.page_size, 256);
    CU_ASSERT_EQUAL(conf.sync_interval_ms, 1000);
    ek_sink_cache *c = (ek_sink_cache *)1;
    CU_ASSERT_EQUAL(ek_sink_cache_open("/nonexistent/x.db", "k", &conf, &c, NULL), 0);
    CU_ASSERT_PTR_NULL(c);
    fake_sink s = {.down = 1};
    ek_value v = ek_null();
    ek_sink_data d = {.value = &v, .payload = "x", .len = 1};
    CU_ASSERT_EQUAL(ek_sink_cache_deliver(NULL, &d, fake_collect, &s, NULL), EK_EIO);
    static const char *const bad[] = {"{\"bufferPageSize\":0}", "{\"resendPriority\":2}",
                                      "{\"memoryCacheThreshold\":\"x\"}", "{\"resendInterval\":\"soon\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ek_value p;
        ek_json_decode(bad[i], strlen(bad[i]), 0, &p, NULL);
        ek_err err = {0};
        CU_ASSERT_EQUAL(ek_cache_conf_load(NULL, &p, &conf, &err), EK_EINVAL);
        CU_ASSERT(err.msg[0] != '\0');
        ek_value_unref(&p);
    }
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"memory then disk, resent in order", test_memory_then_disk_in_order},
        {"survives close and reopen", test_survives_reopen},
        {"survives a crash after the sync interval", test_survives_crash},
        {"full cache drops the oldest and counts", test_full_drops_oldest},
        {"resendIndicatorField and cleanCacheAtStop", test_indicator_and_clean},
        {"resendAlterQueue and resendPriority", test_alter_queue},
        {"disabled cache and settings", test_disabled_and_conf},
        {NULL, NULL},
    };
    ek_add_suite("connectors_cache", cases);
}
