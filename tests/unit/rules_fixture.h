/* Test fixture for the rule engine (eKuiper's topotest in C): a private etc/ and store, an engine
 * with a fake clock and manual timers, memory streams, and a collector that records what each
 * rule's memory sink publishes (JSON with sorted keys, exactly what a sink would send).
 *
 * A case is a table: the rule SQL and options, steps (set the clock to t, optionally publish one
 * JSON message to a stream's memory topic, fire due timers, wait for the rules to settle) and the
 * expected sink messages in order. Each stream NAME reads memory topic "in/NAME"; each rule's
 * action publishes to "out/<rule id>". */
#ifndef EK_TEST_RULES_FIXTURE_H
#define EK_TEST_RULES_FIXTURE_H

#include "connectors/memory.h"
#include "engine/codec_json.h"
#include "engine/config.h"
#include "engine/mem.h"
#include "engine/rules/rules.h"
#include "tests/unit/test_util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FX_MAX_OUT 4096

typedef struct fx {
    char dir[64];
    ek_app app;
    int64_t now;
    pthread_mutex_t lock;
    char *out[FX_MAX_OUT];
    int nout;
    long sub;
} fx;

static int64_t fx_clock(void *arg) { return __atomic_load_n(&((fx *)arg)->now, __ATOMIC_SEQ_CST); }

static void fx_collect(void *arg, const char *topic, const ek_value *msg)
{
    fx *f = arg;
    char *s = ek_json_encode_str(msg, EK_JSON_SORT_KEYS);
    pthread_mutex_lock(&f->lock);
    if (f->nout < FX_MAX_OUT) f->out[f->nout++] = s;
    else ek_free(s);
    pthread_mutex_unlock(&f->lock);
}

static inline void fx_reset_out(fx *f)
{
    pthread_mutex_lock(&f->lock);
    for (int i = 0; i < f->nout; i++) ek_free(f->out[i]);
    f->nout = 0;
    pthread_mutex_unlock(&f->lock);
}

/* Opens the fixture; keep_dir reuses an existing directory (restart tests); env adds one
 * KUIPER__SECTION__KEY=value override (or NULL). */
static inline void fx_open_env(fx *f, const char *keep_dir, const char *env1)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->lock, NULL);
    if (keep_dir) snprintf(f->dir, sizeof f->dir, "%s", keep_dir);
    else {
        snprintf(f->dir, sizeof f->dir, "/tmp/ek-rules-XXXXXX");
        CU_ASSERT_PTR_NOT_NULL_FATAL(ek_test_mkdtemp(f->dir));
    }
    char etc[512];
    snprintf(etc, sizeof etc, "%s/etc", getenv("EK_SOURCE_DIR") ? getenv("EK_SOURCE_DIR") : ".");
    char patrol[] = "KUIPER__BASIC__RULEPATROLINTERVAL=50ms";  /* restartStrategy tests wait less */
    char *env[] = {patrol, (char *)env1, NULL};
    ek_err err = {0};
    int rc = ek_config_load(etc, env, &f->app.config, &err);
    if (rc) fprintf(stderr, "config: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    char path[128];
    snprintf(path, sizeof path, "%s/kv.db", f->dir);
    rc = ek_store_open(path, &f->app.store, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    f->app.etc_dir = ek_strdup(etc);
    f->app.data_dir = ek_strdup(f->dir);  /* sink caches (cache.db) live beside the store */
    f->now = 1000000;  /* a round number of seconds: windows align to it */
    ek_rules_opts o = {.workers = 2, .now_ms = fx_clock, .clock_arg = f, .manual_timers = true};
    rc = ek_rules_new(&f->app, &o, &f->app.rules, &err);
    if (rc) fprintf(stderr, "rules: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    rc = ek_rules_start(f->app.rules, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    f->sub = ek_memory_subscribe("out/#", fx_collect, f);
}

static inline void fx_open(fx *f, const char *keep_dir) { fx_open_env(f, keep_dir, NULL); }

/* Stops the engine and closes the store; removes the directory unless keep. */
static inline void fx_close(fx *f, bool keep)
{
    ek_memory_unsubscribe(f->sub);
    ek_rules_free(f->app.rules);
    ek_store_close(f->app.store);
    ek_config_free(f->app.config);
    ek_free(f->app.etc_dir);
    ek_free(f->app.data_dir);
    fx_reset_out(f);
    pthread_mutex_destroy(&f->lock);
    if (!keep) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
        if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", f->dir);
    }
}

/* Stops the engine without removing its directory and opens a new one there, as a restart of
 * kuiperd would (what is saved survives; the clock starts again at the default). */
static inline void fx_restart(fx *f)
{
    char dir[sizeof f->dir];
    snprintf(dir, sizeof dir, "%s", f->dir);
    fx_close(f, true);
    fx_open(f, dir);
}

/* An integer of a rule's status object (a metric), or -1 when absent. */
static inline int64_t fx_status_int(fx *f, const char *id, const char *key)
{
    ek_value st;
    ek_err err = {0};
    if (ek_rules_rule_status(f->app.rules, id, &st, &err) != 0) return -1;
    const ek_value *v = ek_object_get(&st, key);
    int64_t out = v && v->type == EK_T_INT ? v->i : -1;
    ek_value_unref(&st);
    return out;
}

static inline void fx_stream(fx *f, const char *sql)
{
    ek_err err = {0};
    char *name = NULL;
    int rc = ek_rules_stream_create(f->app.rules, strstr(sql, "TABLE") != NULL, sql, &name, &err);
    if (rc) fprintf(stderr, "stream: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    ek_free(name);
}

/* Creates a rule writing to memory topic out/<id>; returns the engine's return code. */
static inline int fx_rule(fx *f, const char *id, const char *sql, const char *options, ek_err *err)
{
    ek_value def = ek_object_new(4);
    ek_object_set(&def, "id", ek_string(id));
    ek_object_set(&def, "sql", ek_string(sql));
    ek_value act = ek_array_new(1), mem = ek_object_new(1), props = ek_object_new(1);
    ek_object_set(&props, "topic", ek_string_fmt("out/%s", id));
    ek_object_set(&mem, "memory", props);
    ek_array_push(&act, mem);
    ek_object_set(&def, "actions", act);
    if (options) {
        ek_value o;
        ek_err e = {0};
        CU_ASSERT_EQUAL_FATAL(ek_json_decode(options, strlen(options), 0, &o, &e), 0);
        ek_object_set(&def, "options", o);
    }
    char *text = ek_json_encode_str(&def, 0);
    ek_value_unref(&def);
    int rc = ek_rules_rule_create(f->app.rules, text, strlen(text), NULL, err);
    ek_free(text);
    return rc;
}

/* Publishes one JSON message to stream's memory topic (NULL json: only move the clock). */
static inline void fx_step(fx *f, int64_t t, const char *stream, const char *json)
{
    __atomic_store_n(&f->now, t, __ATOMIC_SEQ_CST);
    if (json) {
        ek_value v;
        ek_err err = {0};
        CU_ASSERT_EQUAL_FATAL(ek_json_decode(json, strlen(json), EK_JSON_FLOAT_NUMBERS, &v, &err), 0);
        char topic[96];
        snprintf(topic, sizeof topic, "in/%s", stream);
        ek_memory_publish(topic, &v);
        ek_value_unref(&v);
    }
    ek_rules_quiesce(f->app.rules);
    ek_rules_fire_timers(f->app.rules);
    ek_rules_quiesce(f->app.rules);
}

typedef struct fx_input {
    int64_t t;                  /* ms after the fixture's start time */
    const char *stream;         /* NULL: only advance the clock */
    const char *json;
} fx_input;

typedef struct fx_case {
    const char *name;
    const char *sql;
    const char *options;        /* rule options JSON or NULL */
    fx_input in[40];
    const char *want[24];       /* expected sink messages, NULL-terminated */
} fx_case;

/* Runs one table case on a fresh rule; prints a diff on mismatch. */
static inline void fx_run_case(fx *f, const fx_case *c, const char *id)
{
    ek_err err = {0};
    fx_reset_out(f);
    int64_t base = f->now;
    int rc = fx_rule(f, id, c->sql, c->options, &err);
    if (rc) fprintf(stderr, "case %s: %s\n", c->name, err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    for (int i = 0; c->in[i].t || c->in[i].json; i++)
        fx_step(f, base + c->in[i].t, c->in[i].stream, c->in[i].json);
    int nwant = 0;
    while (c->want[nwant]) nwant++;
    bool ok = nwant == f->nout;
    for (int i = 0; ok && i < nwant; i++) ok = strcmp(c->want[i], f->out[i]) == 0;
    if (!ok) {
        fprintf(stderr, "\ncase %s:\n  want:", c->name);
        for (int i = 0; i < nwant; i++) fprintf(stderr, " %s", c->want[i]);
        fprintf(stderr, "\n  got: ");
        for (int i = 0; i < f->nout; i++) fprintf(stderr, " %s", f->out[i]);
        fprintf(stderr, "\n");
    }
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_EQUAL(ek_rules_rule_delete(f->app.rules, id, &err), 0);
    /* Leave the clock on a later round second so the next case starts aligned. */
    int64_t last = f->now;
    f->now = (last / 100000 + 1) * 100000;
}

static inline void fx_run_cases(const char *stream_sqls[], const fx_case *cases)
{
    fx f;
    fx_open(&f, NULL);
    for (int i = 0; stream_sqls[i]; i++) fx_stream(&f, stream_sqls[i]);
    for (int i = 0; cases[i].name; i++) {
        char id[32];
        snprintf(id, sizeof id, "r%d", i);
        fx_run_case(&f, &cases[i], id);
    }
    fx_close(&f, false);
}

#endif
