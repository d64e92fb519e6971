/* Tests of the HTTP connectors against real peers on loopback: a libmicrohttpd server run by the
 * test records what the rest sink sends (templated url and headers, json and form bodies, error
 * mapping: unreachable and 5xx are EK_EIO, 4xx is not) and serves bodies to the httppull source
 * (interval, incremental); the httppush source is driven with libcurl (200, 404, 405). */
#include "connectors/connector.h"
#include "engine/codec_json.h"
#include "engine/config.h"
#include "tests/unit/test_connectors_util.h"
#include "tests/unit/test_util.h"

#include <curl/curl.h>
#include <microhttpd.h>
#include <string.h>
#include <sys/stat.h>

/* ---- the peer server ---- */

typedef struct peer {
    pthread_mutex_t mu;
    int requests;
    char method[16], url[256], content_type[128], xid[64], body[1024];
    unsigned status;       /* what to answer */
    char answer[256];
} peer;

typedef struct upload {
    char body[1024];
    size_t len;
} upload;

static enum MHD_Result peer_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                    const char *version, const char *data, size_t *size, void **con_cls)
{
    peer *p = cls;
    upload *u = *con_cls;
    if (!u) {
        *con_cls = ek_calloc(1, sizeof *u);
        return MHD_YES;
    }
    if (*size) {
        size_t n = *size < sizeof u->body - 1 - u->len ? *size : sizeof u->body - 1 - u->len;
        memcpy(u->body + u->len, data, n);
        u->len += n;
        *size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&p->mu);
    p->requests++;
    snprintf(p->method, sizeof p->method, "%s", method);
    snprintf(p->url, sizeof p->url, "%s", url);
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    const char *xid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Id");
    snprintf(p->content_type, sizeof p->content_type, "%s", ct ? ct : "");
    snprintf(p->xid, sizeof p->xid, "%s", xid ? xid : "");
    snprintf(p->body, sizeof p->body, "%.*s", (int)u->len, u->body);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(p->answer), p->answer, MHD_RESPMEM_MUST_COPY);
    unsigned status = p->status;
    pthread_mutex_unlock(&p->mu);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static void peer_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
    ek_free(*con_cls);
    *con_cls = NULL;
}

static struct MHD_Daemon *peer_start(peer *p, int port)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    p->status = 200;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL, NULL, peer_handler, p,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a, MHD_OPTION_NOTIFY_COMPLETED, peer_done, p,
                            MHD_OPTION_END);
}

/* ---- rest sink ---- */

static int rest_send(const char *props_json, const char *value_json, ek_err *err)
{
    tc_sink s;
    int rc = tc_sink_open(&s, "rest", props_json, err);
    if (!rc) rc = tc_sink_send_json(&s, value_json, err);
    tc_sink_close(&s);
    return rc;
}

static void test_rest_sink(void)
{
    int port = tc_free_port();
    peer p;
    struct MHD_Daemon *d = peer_start(&p, port);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    char props[512];
    snprintf(props, sizeof props,
             "{\"url\":\"http://127.0.0.1:%d/dev/{{.id}}\",\"method\":\"post\",\"headers\":{\"X-Id\":\"id-{{.id}}\"}}",
             port);
    ek_err err = {0};
    CU_ASSERT_EQUAL(rest_send(props, "{\"id\":\"d1\",\"t\":2}", &err), 0);
    CU_ASSERT_STRING_EQUAL(p.method, "POST");
    CU_ASSERT_STRING_EQUAL(p.url, "/dev/d1");
    CU_ASSERT_STRING_EQUAL(p.xid, "id-d1");
    CU_ASSERT_STRING_EQUAL(p.content_type, "application/json");
    CU_ASSERT_STRING_EQUAL(p.body, "{\"id\":\"d1\",\"t\":2}");

    snprintf(props, sizeof props, "{\"url\":\"http://127.0.0.1:%d/f\",\"method\":\"PUT\",\"bodyType\":\"form\"}", port);
    CU_ASSERT_EQUAL(rest_send(props, "{\"a\":1,\"b\":\"x y\"}", &err), 0);
    CU_ASSERT_STRING_EQUAL(p.method, "PUT");
    CU_ASSERT_STRING_EQUAL(p.body, "a=1&b=x%20y");
    CU_ASSERT_STRING_EQUAL(p.content_type, "application/x-www-form-urlencoded");

    snprintf(props, sizeof props, "{\"url\":\"http://127.0.0.1:%d/e\",\"method\":\"post\"}", port);
    p.status = 503;
    CU_ASSERT_EQUAL(rest_send(props, "{}", &err), EK_EIO);
    p.status = 404;
    CU_ASSERT_EQUAL(rest_send(props, "{}", &err), EK_EEXEC);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "404"));
    MHD_stop_daemon(d);
    CU_ASSERT_EQUAL(rest_send(props, "{}", &err), EK_EIO); /* nobody listens */
    CU_ASSERT_NOT_EQUAL(rest_send("{\"url\":\"http://x\",\"method\":\"FETCH\"}", "{}", &err), 0);
    CU_ASSERT_NOT_EQUAL(rest_send("{\"method\":\"post\"}", "{}", &err), 0);
}

/* ---- httppull ---- */

static void test_httppull(void)
{
    int port = tc_free_port();
    peer p;
    struct MHD_Daemon *d = peer_start(&p, port);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    snprintf(p.answer, sizeof p.answer, "{\"v\":1}");
    const ek_source_ops *ops = ek_connector_source("httppull");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
    void *st = ek_calloc(1, ops->state_size);
    char pj[256];
    snprintf(pj, sizeof pj, "{\"url\":\"http://127.0.0.1:%d\",\"interval\":50,\"incremental\":true}", port);
    ek_value props = tc_json(pj);
    tc_collector col;
    ek_ingest in;
    tc_collector_init(&col, &in);
    ek_app app = {0};
    ek_source_conf conf = {.app = &app, .stream = "pull", .datasource = "/data", .props = &props};
    CU_ASSERT_EQUAL_FATAL(ops->open(st, &conf, &in, NULL), 0);
    CU_ASSERT_TRUE(tc_wait(&col, tc_has_n, 1, 3000));
    tc_sleep_ms(300);
    CU_ASSERT_EQUAL(col.n, 1); /* incremental: the same body is not sent again */
    CU_ASSERT(p.requests >= 3);
    CU_ASSERT_STRING_EQUAL(p.url, "/data");
    pthread_mutex_lock(&p.mu);
    snprintf(p.answer, sizeof p.answer, "{\"v\":2}");
    pthread_mutex_unlock(&p.mu);
    CU_ASSERT_TRUE(tc_wait(&col, tc_has_n, 2, 3000));
    if (col.n >= 2) CU_ASSERT_STRING_EQUAL(col.payload[1], "{\"v\":2}");
    ops->close(st);
    MHD_stop_daemon(d);
    ek_free(st);
    ek_value_unref(&props);
    tc_collector_free(&col);
}

/* ---- httppush ---- */

static long curl_send(const char *method, const char *url, const char *body)
{
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
    long code = 0;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    return code;
}

static void test_httppush(void)
{
    char dir[] = "/tmp/ek-push-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(ek_test_mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/kuiper.yaml", dir);
    int port = tc_free_port();
    FILE *f = fopen(path, "w");
    fprintf(f, "source:\n  httpServerIp: 127.0.0.1\n  httpServerPort: %d\n", port);
    fclose(f);
    char *env[] = {NULL};
    ek_config *cfg = NULL;
    CU_ASSERT_EQUAL_FATAL(ek_config_load(dir, env, &cfg, NULL), 0);
    ek_app app = {.config = cfg};
    const ek_source_ops *ops = ek_connector_source("httppush");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
    void *a = ek_calloc(1, ops->state_size), *b = ek_calloc(1, ops->state_size);
    ek_value props = ek_object_new(0);
    tc_collector ca, cb;
    ek_ingest ia, ib;
    tc_collector_init(&ca, &ia);
    tc_collector_init(&cb, &ib);
    ek_source_conf conf = {.app = &app, .stream = "p1", .datasource = "/api/data", .props = &props};
    CU_ASSERT_EQUAL_FATAL(ops->open(a, &conf, &ia, NULL), 0);
    conf.stream = "p2";
    conf.datasource = "/api/other";
    CU_ASSERT_EQUAL_FATAL(ops->open(b, &conf, &ib, NULL), 0);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/data", port);
    CU_ASSERT_EQUAL(curl_send("POST", url, "{\"x\":1}"), 200);
    CU_ASSERT_EQUAL(curl_send("GET", url, NULL), 405);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/nope", port);
    CU_ASSERT_EQUAL(curl_send("POST", url, "{}"), 404);
    CU_ASSERT_TRUE(tc_wait(&ca, tc_has_n, 1, 2000));
    if (ca.n) CU_ASSERT_STRING_EQUAL(ca.payload[0], "{\"x\":1}");
    CU_ASSERT_EQUAL(cb.n, 0);
    ops->close(a);
    ops->close(b);
    CU_ASSERT_FALSE(tc_port_open(port)); /* the last stream stopped the server */
    ek_free(a);
    ek_free(b);
    ek_value_unref(&props);
    tc_collector_free(&ca);
    tc_collector_free(&cb);
    ek_config_free(cfg);
    unlink(path);
    rmdir(dir);
}

void ek_register_tests(void)
{
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    static const ek_test_case cases[] = {
        {"rest sink", test_rest_sink},
        {"httppull source", test_httppull},
        {"httppush source", test_httppush},
        {NULL, NULL},
    };
    ek_add_suite("connectors_http", cases);
}
