/* Tests of the mqtt source and sink against real peers on loopback: Mosquitto (started by the test
 * on a free port, stopped after) for the Paho path with MQTT 3.1.1 and 5, and the bundled broker
 * for the in-process path. Covered: templated sink topics, wildcard sources and their metadata,
 * one subscription shared by two streams, gzip decompression, and a broker that goes away (the sink
 * reports EK_EIO, the source reports the status and reconnects by itself). */
#include "broker/broker.h"
#include "connectors/cache.h"
#include "connectors/connector.h"
#include "connectors/sink_transform.h"
#include "engine/app.h"
#include "engine/codec_json.h"
#include "tests/unit/test_connectors_util.h"
#include "tests/unit/test_util.h"

#include <string.h>

/* Paho allocates its process-wide tables on the first client and never frees them; under ASan
 * that one-time allocation is not this code's leak. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libpaho-mqtt3as.so\n"; }

typedef struct endpoint {
    const ek_source_ops *sops;
    const ek_sink_ops *kops;
    void *src, *sink;
    ek_value sprops, kprops;
    tc_collector col;
} endpoint;

static int open_source(endpoint *e, ek_app *app, const char *json, const char *topic)
{
    e->sops = ek_connector_source("mqtt");
    CU_ASSERT_PTR_NOT_NULL_FATAL(e->sops);
    e->src = ek_calloc(1, e->sops->state_size);
    e->sprops = tc_json(json);
    ek_ingest in;
    tc_collector_init(&e->col, &in);
    ek_source_conf sc = {.app = app, .stream = "s1", .datasource = topic, .props = &e->sprops};
    ek_err err = {0};
    int rc = e->sops->open(e->src, &sc, &in, &err);
    if (rc) fprintf(stderr, "source open: %s\n", err.msg);
    return rc;
}

static int open_sink(endpoint *e, ek_app *app, const char *json)
{
    e->kops = ek_connector_sink("mqtt");
    CU_ASSERT_PTR_NOT_NULL_FATAL(e->kops);
    e->sink = ek_calloc(1, e->kops->state_size);
    e->kprops = tc_json(json);
    ek_sink_conf kc = {.app = app, .rule_id = "r1", .props = &e->kprops};
    ek_err err = {0};
    int rc = e->kops->open(e->sink, &kc, &err);
    if (rc) fprintf(stderr, "sink open: %s\n", err.msg);
    return rc;
}

/* Opens the source and waits (at most 5 s) until it reports being connected. */
static void open_source_up(endpoint *e, ek_app *app, const char *json, const char *topic)
{
    CU_ASSERT_EQUAL_FATAL(open_source(e, app, json, topic), 0);
    CU_ASSERT_TRUE(tc_wait(&e->col, tc_is_up, 1, 5000));
}

/* Starts a Mosquitto on a free port for the test; returns the port, its pid in *mq. */
static int start_mosquitto(pid_t *mq)
{
    int port = tc_free_port();
    *mq = tc_mosquitto_start(port);
    CU_ASSERT_FATAL(*mq > 0);
    return port;
}

static int send_json(endpoint *e, const char *json)
{
    ek_value v = tc_json(json);
    ek_sink_data d = {.value = &v, .payload = json, .len = strlen(json)};
    ek_err err = {0};
    int rc = e->kops->collect(e->sink, &d, &err);
    ek_value_unref(&v);
    return rc;
}

static void close_all(endpoint *e)
{
    if (e->src) e->sops->close(e->src);
    if (e->sink) e->kops->close(e->sink);
    ek_free(e->src);
    ek_free(e->sink);
    ek_value_unref(&e->sprops);
    ek_value_unref(&e->kprops);
    tc_collector_free(&e->col);
}

static void roundtrip(const char *version)
{
    pid_t mq;
    int port = start_mosquitto(&mq);
    ek_app app = {0};
    char sp[256], kp[256];
    snprintf(sp, sizeof sp, "{\"server\":\"tcp://127.0.0.1:%d\",\"qos\":1,\"protocolVersion\":\"%s\"}", port, version);
    snprintf(kp, sizeof kp,
             "{\"server\":\"tcp://127.0.0.1:%d\",\"topic\":\"devices/{{.id}}/out\",\"qos\":1,\"protocolVersion\":\"%s\"}",
             port, version);
    endpoint e = {0};
    open_source_up(&e, &app, sp, "devices/+/out");
    CU_ASSERT_EQUAL_FATAL(open_sink(&e, &app, kp), 0);
    tc_sleep_ms(200); /* the subscription reaches the broker */
    CU_ASSERT_EQUAL(send_json(&e, "{\"id\":\"d1\",\"t\":1}"), 0);
    CU_ASSERT_EQUAL(send_json(&e, "{\"id\":\"d2\",\"t\":2}"), 0);
    CU_ASSERT_TRUE(tc_wait(&e.col, tc_has_n, 2, 5000));
    if (e.col.n >= 2) {
        CU_ASSERT_STRING_EQUAL(e.col.payload[0], "{\"id\":\"d1\",\"t\":1}");
        const ek_value *topic = ek_object_get(&e.col.meta[1], "topic");
        CU_ASSERT_PTR_NOT_NULL_FATAL(topic);
        CU_ASSERT_STRING_EQUAL(ek_str_ptr(topic), "devices/d2/out");
        CU_ASSERT_PTR_NOT_NULL(ek_object_get(&e.col.meta[0], "messageId"));
        const ek_value *qos = ek_object_get(&e.col.meta[0], "qos");
        CU_ASSERT(qos && qos->type == EK_T_INT && qos->i == 1);
    }
    close_all(&e);
    tc_mosquitto_stop(mq);
}

static void test_roundtrip_v311(void) { roundtrip("3.1.1"); }
static void test_roundtrip_v5(void) { roundtrip("5"); }
static void test_roundtrip_v31(void) { roundtrip("3.1"); }

static void test_shared_and_decompression(void)
{
    pid_t mq;
    int port = start_mosquitto(&mq);
    ek_app app = {0};
    char sp[256], kp[256];
    snprintf(sp, sizeof sp, "{\"server\":\"tcp://127.0.0.1:%d\",\"decompression\":\"gzip\"}", port);
    snprintf(kp, sizeof kp, "{\"server\":\"tcp://127.0.0.1:%d\",\"topic\":\"z/1\",\"qos\":1}", port);
    endpoint a = {0}, b = {0};
    CU_ASSERT_EQUAL_FATAL(open_source(&a, &app, sp, "z/#"), 0);
    CU_ASSERT_EQUAL_FATAL(open_source(&b, &app, sp, "z/#"), 0);
    CU_ASSERT_TRUE(tc_wait(&a.col, tc_is_up, 1, 5000));
    CU_ASSERT_EQUAL_FATAL(open_sink(&a, &app, kp), 0);
    tc_sleep_ms(200);
    ek_buf gz = EK_BUF_INIT;
    CU_ASSERT_EQUAL(ek_compress("gzip", "{\"x\":42}", 8, &gz, NULL), 0);
    ek_value v = ek_object_new(0);
    ek_sink_data d = {.value = &v, .payload = gz.data, .len = gz.len};
    CU_ASSERT_EQUAL(a.kops->collect(a.sink, &d, NULL), 0);
    ek_value_unref(&v);
    ek_buf_free(&gz);
    CU_ASSERT_TRUE(tc_wait(&a.col, tc_has_n, 1, 5000));
    CU_ASSERT_TRUE(tc_wait(&b.col, tc_has_n, 1, 5000));
    if (a.col.n && b.col.n) {
        CU_ASSERT_STRING_EQUAL(a.col.payload[0], "{\"x\":42}");
        CU_ASSERT_STRING_EQUAL(b.col.payload[0], "{\"x\":42}");
    }
    tc_sleep_ms(100);
    CU_ASSERT_EQUAL(a.col.n, 1); /* one subscription on the shared connection: no duplicate */
    close_all(&a);
    close_all(&b);
    tc_mosquitto_stop(mq);
}

static void test_broker_goes_away(void)
{
    pid_t mq;
    int port = start_mosquitto(&mq);
    ek_app app = {0};
    char sp[256], kp[256];
    snprintf(sp, sizeof sp, "{\"server\":\"tcp://127.0.0.1:%d\",\"clientid\":\"src-fixed\"}", port);
    snprintf(kp, sizeof kp, "{\"server\":\"tcp://127.0.0.1:%d\",\"topic\":\"g/1\",\"qos\":1}", port);
    endpoint e = {0};
    open_source_up(&e, &app, sp, "g/1");
    CU_ASSERT_EQUAL_FATAL(open_sink(&e, &app, kp), 0);
    tc_mosquitto_stop(mq);
    CU_ASSERT_TRUE(tc_wait(&e.col, tc_is_up, 0, 5000));
    int rc = 0;
    for (int i = 0; i < 100 && rc != EK_EIO; i++, tc_sleep_ms(20)) rc = send_json(&e, "{\"lost\":1}");
    CU_ASSERT_EQUAL(rc, EK_EIO);
    mq = tc_mosquitto_start(port);
    CU_ASSERT_FATAL(mq > 0);
    CU_ASSERT_TRUE(tc_wait(&e.col, tc_is_up, 1, 10000));
    rc = EK_EIO;
    for (int i = 0; i < 500 && rc == EK_EIO; i++, tc_sleep_ms(20)) rc = send_json(&e, "{\"back\":1}");
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_TRUE(tc_wait(&e.col, tc_has_n, 1, 5000));
    close_all(&e);
    tc_mosquitto_stop(mq);
}

/* A CA and a server certificate for 127.0.0.1 made with the openssl tool; Mosquitto serves TLS. */
static int make_certs(const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd %s && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=ek-ca "
             ">/dev/null 2>&1 && openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
             "-subj /CN=127.0.0.1 >/dev/null 2>&1 && printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf && "
             "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 "
             "-extfile ext.cnf >/dev/null 2>&1 && chmod 0755 . && chmod 0644 *",
             dir); /* Mosquitto drops root for its own user: it must be able to read the files */
    return system(cmd);
}

static pid_t tls_mosquitto(const char *dir, int port)
{
    char conf[256];
    snprintf(conf, sizeof conf, "%s/m.conf", dir);
    FILE *f = fopen(conf, "w");
    if (!f) return 0;
    fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n"
               "cafile %s/ca.crt\ncertfile %s/server.crt\nkeyfile %s/server.key\n", port, dir, dir, dir);
    fclose(f);
    return tc_mosquitto_run(conf, port);
}

static void test_tls(void)
{
    char dir[] = "/tmp/ek-tls-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(ek_test_mkdtemp(dir));
    if (make_certs(dir) != 0) {
        CU_FAIL("openssl could not make test certificates");
        return;
    }
    int port = tc_free_port();
    pid_t mq = tls_mosquitto(dir, port);
    CU_ASSERT_FATAL(mq > 0);
    ek_app app = {.data_dir = dir}; /* rootCARaw below is written to <data>/certs */
    char sp[512], kp[512];
    /* verified against the CA */
    snprintf(sp, sizeof sp, "{\"server\":\"ssl://127.0.0.1:%d\",\"rootCaPath\":\"%s/ca.crt\"}", port, dir);
    snprintf(kp, sizeof kp, "{\"server\":\"mqtts://127.0.0.1:%d\",\"topic\":\"tls/1\",\"qos\":1,"
                            "\"insecureSkipVerify\":true}", port);
    endpoint e = {0};
    open_source_up(&e, &app, sp, "tls/#");
    CU_ASSERT_EQUAL_FATAL(open_sink(&e, &app, kp), 0);
    tc_sleep_ms(200);
    CU_ASSERT_EQUAL(send_json(&e, "{\"secure\":true}"), 0);
    CU_ASSERT_TRUE(tc_wait(&e.col, tc_has_n, 1, 5000));
    close_all(&e);
    /* rootCARaw: the CA as base64 text instead of a file */
    char cmd0[256], b64[8192] = "";
    snprintf(cmd0, sizeof cmd0, "base64 -w0 %s/ca.crt", dir);
    FILE *pf = popen(cmd0, "r");
    if (pf) {
        size_t n = fread(b64, 1, sizeof b64 - 1, pf);
        b64[n] = '\0';
        pclose(pf);
    }
    char *sp2 = ek_asprintf("{\"server\":\"ssl://127.0.0.1:%d\",\"rootCARaw\":\"%s\",\"clientid\":\"raw\"}", port, b64);
    endpoint r = {0};
    open_source_up(&r, &app, sp2, "tls/#");
    close_all(&r);
    ek_free(sp2);
    /* an unknown CA with verification on: never connected, reported, no crash */
    endpoint f = {0};
    snprintf(sp, sizeof sp, "{\"server\":\"ssl://127.0.0.1:%d\",\"clientid\":\"strict\"}", port);
    CU_ASSERT_EQUAL_FATAL(open_source(&f, &app, sp, "tls/#"), 0);
    CU_ASSERT_TRUE(tc_wait(&f.col, tc_is_up, 0, 8000));
    CU_ASSERT_EQUAL(f.col.ups, 0);
    close_all(&f);
    tc_mosquitto_stop(mq);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

typedef struct pumping {
    endpoint *e;
    volatile int stop;
    int sent;
} pumping;

static void *pump(void *arg)
{
    pumping *p = arg;
    while (!p->stop) {
        if (send_json(p->e, "{\"p\":1}") == 0) p->sent++;
        tc_sleep_ms(1);
    }
    return NULL;
}

/* Sources open and close while messages flow on their shared connection: no callback may reach a
 * closed source (run under ASan). */
static void test_churn(void)
{
    pid_t mq;
    int port = start_mosquitto(&mq);
    ek_app app = {0};
    char sp[256], kp[256];
    snprintf(sp, sizeof sp, "{\"server\":\"tcp://127.0.0.1:%d\",\"qos\":0}", port);
    snprintf(kp, sizeof kp, "{\"server\":\"tcp://127.0.0.1:%d\",\"topic\":\"churn/x\"}", port);
    endpoint sink = {0}, keep = {0};
    open_source_up(&keep, &app, sp, "churn/#"); /* holds the connection */
    CU_ASSERT_EQUAL_FATAL(open_sink(&sink, &app, kp), 0);
    pumping p = {.e = &sink};
    pthread_t th;
    pthread_create(&th, NULL, pump, &p);
    for (int i = 0; i < 30; i++) {
        endpoint e = {0};
        CU_ASSERT_EQUAL(open_source(&e, &app, sp, i % 2 ? "churn/#" : "churn/+"), 0);
        tc_sleep_ms(5);
        close_all(&e);
    }
    p.stop = 1;
    pthread_join(th, NULL);
    CU_ASSERT(p.sent > 0);
    CU_ASSERT_TRUE(tc_wait(&keep.col, tc_has_n, 1, 3000));
    close_all(&sink);
    close_all(&keep);
    tc_mosquitto_stop(mq);
}

/* A rule that does not keep up: its ingest blocks. Paho's thread must not wait for it (a QoS 1
 * publish on the same shared connection still completes), and bufferLength bounds what waits. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open, gate_seen;

static void gated_payload(void *ctx, const void *data, size_t len, ek_value meta)
{
    pthread_mutex_lock(&gate_mu);
    gate_seen++;
    while (!gate_open) pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
    ek_value_unref(&meta);
}

static void test_slow_rule(void)
{
    pid_t mq;
    int port = start_mosquitto(&mq);
    ek_app app = {0};
    char sp[256], kp[256];
    snprintf(sp, sizeof sp, "{\"server\":\"tcp://127.0.0.1:%d\",\"bufferLength\":5}", port);
    snprintf(kp, sizeof kp, "{\"server\":\"tcp://127.0.0.1:%d\",\"topic\":\"slow/1\",\"qos\":1}", port);
    endpoint e = {0};
    open_source_up(&e, &app, sp, "slow/#");
    /* swap in the blocking ingest: re-open with it */
    e.sops->close(e.src);
    memset(e.src, 0, e.sops->state_size);
    ek_ingest in = {.ctx = NULL, .payload = gated_payload};
    ek_source_conf sc = {.app = &app, .stream = "slow", .datasource = "slow/#", .props = &e.sprops};
    CU_ASSERT_EQUAL_FATAL(e.sops->open(e.src, &sc, &in, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(open_sink(&e, &app, kp), 0);
    tc_sleep_ms(200);
    int64_t t0 = ek_mono_ms();
    for (int i = 0; i < 20; i++) CU_ASSERT_EQUAL(send_json(&e, "{\"n\":1}"), 0);
    CU_ASSERT(ek_mono_ms() - t0 < 4000); /* no publish waited for the blocked rule */
    pthread_mutex_lock(&gate_mu);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    tc_sleep_ms(300);
    pthread_mutex_lock(&gate_mu);
    int seen = gate_seen;
    pthread_mutex_unlock(&gate_mu);
    if (seen < 1 || seen > 7) fprintf(stderr, "\nseen %d\n", seen);
    CU_ASSERT(seen >= 1 && seen <= 7); /* one in hand, at most bufferLength waiting, the rest dropped */
    close_all(&e);
    tc_mosquitto_stop(mq);
}

typedef struct gated_sink {
    endpoint *e;
    int down;
} gated_sink;

static int gated_collect(void *arg, const ek_sink_data *d, ek_err *err)
{
    gated_sink *g = arg;
    if (g->down) return ek_err_set(err, EK_EIO, "down");
    return g->e->kops->collect(g->e->sink, d, err);
}

/* resendDestination: cached messages go to their own topic when resent. */
static void resend_destination(ek_app *app, int port)
{
    char sp[256], kp[256];
    snprintf(sp, sizeof sp, "{\"server\":\"tcp://127.0.0.1:%d\"}", port);
    snprintf(kp, sizeof kp, "{\"server\":\"tcp://127.0.0.1:%d\",\"topic\":\"rd/live\","
                            "\"resendDestination\":\"rd/again/{{.k}}\"}", port);
    endpoint e = {0};
    CU_ASSERT_EQUAL_FATAL(open_source(&e, app, sp, "rd/#"), 0);
    CU_ASSERT_EQUAL_FATAL(open_sink(&e, app, kp), 0);
    char dir[] = "/tmp/ek-rd-XXXXXX", db[64];
    CU_ASSERT_PTR_NOT_NULL_FATAL(ek_test_mkdtemp(dir));
    snprintf(db, sizeof db, "%s/cache.db", dir);
    ek_cache_conf conf;
    ek_value cp = tc_json("{\"enableCache\":true}");
    CU_ASSERT_EQUAL(ek_cache_conf_load(NULL, &cp, &conf, NULL), 0);
    ek_value_unref(&cp);
    ek_sink_cache *c = NULL;
    CU_ASSERT_EQUAL_FATAL(ek_sink_cache_open(db, "rd_0", &conf, &c, NULL), 0);
    gated_sink g = {.e = &e, .down = 1};
    ek_value v = tc_json("{\"k\":\"z\"}");
    ek_sink_data d = {.value = &v, .payload = "{\"k\":\"z\"}", .len = 9};
    CU_ASSERT_EQUAL(ek_sink_cache_deliver(c, &d, gated_collect, &g, NULL), EK_CACHE_KEPT);
    g.down = 0;
    CU_ASSERT_EQUAL(ek_sink_cache_resend(c, ek_mono_ms() + 60000, gated_collect, NULL, &g), 1);
    CU_ASSERT_EQUAL(ek_sink_cache_deliver(c, &d, gated_collect, &g, NULL), EK_CACHE_SENT);
    CU_ASSERT_TRUE(tc_wait(&e.col, tc_has_n, 2, 5000));
    if (e.col.n >= 2) {
        const ek_value *t0 = ek_object_get(&e.col.meta[0], "topic"), *t1 = ek_object_get(&e.col.meta[1], "topic");
        CU_ASSERT(t0 && strcmp(ek_str_ptr(t0), "rd/again/z") == 0);
        CU_ASSERT(t1 && strcmp(ek_str_ptr(t1), "rd/live") == 0);
    }
    ek_value_unref(&v);
    ek_sink_cache_close(c);
    close_all(&e);
}

static void test_bundled_in_process(void)
{
    ek_value sec = tc_json("{\"bind\":\"127.0.0.1\",\"port\":0}");
    char dir[] = "/tmp/ek-bundled-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(ek_test_mkdtemp(dir));
    ek_broker *b = NULL;
    ek_err err = {0};
    int rc = ek_broker_start(&sec, dir, &b, &err);
    ek_value_unref(&sec);
    if (rc) {
        fprintf(stderr, "bundled broker did not start: %s\n", err.msg);
        CU_FAIL("broker");
        return;
    }
    ek_app app = {.broker = b};
    char sp[256], kp[256];
    snprintf(sp, sizeof sp, "{\"server\":\"tcp://localhost:%d\"}", ek_broker_port(b));
    snprintf(kp, sizeof kp, "{\"server\":\"tcp://127.0.0.1:%d\",\"topic\":\"in/{{.k}}\"}", ek_broker_port(b));
    endpoint e = {0};
    CU_ASSERT_EQUAL_FATAL(open_source(&e, &app, sp, "in/#"), 0);
    CU_ASSERT_EQUAL_FATAL(open_sink(&e, &app, kp), 0);
    CU_ASSERT_EQUAL(e.col.last_status, 1); /* in-process: connected at once */
    CU_ASSERT_EQUAL(send_json(&e, "{\"k\":\"a\"}"), 0);
    CU_ASSERT_TRUE(tc_wait(&e.col, tc_has_n, 1, 5000));
    if (e.col.n) {
        const ek_value *topic = ek_object_get(&e.col.meta[0], "topic");
        CU_ASSERT(topic && strcmp(ek_str_ptr(topic), "in/a") == 0);
    }
    close_all(&e);
    resend_destination(&app, ek_broker_port(b));
    ek_broker_stop(b);
}

static void test_bad_settings(void)
{
    ek_app app = {0};
    static const char *const bad[] = {
        "{\"server\":\"tcp://127.0.0.1:1\",\"protocolVersion\":\"4.0\"}",
        "{\"server\":\"tcp://127.0.0.1:1\",\"qos\":3}",
        "{\"server\":\"tcp://127.0.0.1:1\",\"decompression\":\"lz4\"}",
        "{\"server\":\"tcp://127.0.0.1:1\",\"connectionSelector\":\"mqtt.nope\"}",
        "{\"server\":\"tcp://127.0.0.1:1\",\"bundled\":true}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        endpoint e = {0};
        CU_ASSERT_NOT_EQUAL(open_source(&e, &app, bad[i], "t"), 0);
        ek_free(e.src);
        ek_value_unref(&e.sprops);
        tc_collector_free(&e.col);
    }
    endpoint e = {0};
    CU_ASSERT_NOT_EQUAL(open_sink(&e, &app, "{\"server\":\"tcp://127.0.0.1:1\"}"), 0); /* no topic */
    ek_free(e.sink);
    ek_value_unref(&e.kprops);
    /* One client id, one server, two different settings: the second is refused. */
    endpoint a = {0}, b = {0};
    CU_ASSERT_EQUAL(open_source(&a, &app, "{\"server\":\"tcp://127.0.0.1:1\",\"clientid\":\"same\"}", "t"), 0);
    CU_ASSERT_NOT_EQUAL(open_source(&b, &app, "{\"server\":\"tcp://127.0.0.1:1\",\"clientid\":\"same\","
                                              "\"username\":\"u\"}", "t"), 0);
    close_all(&a);
    ek_free(b.src);
    ek_value_unref(&b.sprops);
    tc_collector_free(&b.col);
}

void ek_register_tests(void)
{
    signal(SIGPIPE, SIG_IGN);
    static const ek_test_case cases[] = {
        {"mosquitto roundtrip 3.1.1", test_roundtrip_v311},
        {"mosquitto roundtrip 5", test_roundtrip_v5},
        {"mosquitto roundtrip 3.1", test_roundtrip_v31},
        {"shared subscription and gzip", test_shared_and_decompression},
        {"broker goes away and comes back", test_broker_goes_away},
        {"TLS: verified, insecureSkipVerify, unknown CA", test_tls},
        {"sources open and close while messages flow", test_churn},
        {"a slow rule: bounded buffer, Paho never blocked", test_slow_rule},
        {"bundled broker in-process", test_bundled_in_process},
        {"bad settings refused", test_bad_settings},
        {NULL, NULL},
    };
    ek_add_suite("connectors_mqtt", cases);
}
