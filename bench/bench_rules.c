/* bench_rules: throughput of one rule fed from a memory stream, and the memory cost of idle rules.
 *
 *   bench_rules [messages] [idle_rules] [shared_rules]     (defaults 200000, 10000 and 300)
 *
 * Each throughput case creates one rule on a schemaless memory stream, publishes `messages`
 * pre-built rows into it from this thread (the memory source does no decoding), waits until the
 * rule has drained its mailbox (a fake clock then closes the window, so a window's firing is part
 * of the measure) and prints rows/second; the sink is a memory topic counted by a
 * subscriber. Cases: a filter, a projection with functions, and a 1 s tumbling-window avg GROUP BY
 * over 1,000 keys. Then `shared_rules` rules (`SELECT id, temp FROM bench WHERE temp > k`, k spread
 * so that half the rows pass on average) on the one shared stream: the input messages per second
 * times the number of rules gives eKuiper's "rule-messages per second". Then it creates
 * `idle_rules` rules on one shared stream and prints the resident
 * memory they added per rule. Run from the source tree (it reads etc/kuiper.yaml) or set
 * EK_SOURCE_DIR. Results go in bench/RESULTS.md under "Rule engine". */
#include "connectors/memory.h"
#include "engine/config.h"
#include "engine/mem.h"
#include "engine/rules/rules.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_long results;
static _Atomic int64_t fake_now = 1000000000;

static int64_t clock_now(void *arg) { return atomic_load(&fake_now); }

static void count(void *arg, const char *topic, const ek_value *msg)
{
    atomic_fetch_add(&results, msg->type == EK_T_ARRAY ? (long)ek_array_len(msg) : 1);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds used by the whole process (every thread): on a machine shared with other work the
 * wall-clock rate understates what the engine does with the cores it gets. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double last_cpu, last_pub_cpu;  /* CPU seconds of the last run(): all threads, the publisher */

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void die(const char *what, const ek_err *err)
{
    fprintf(stderr, "bench_rules: %s: %s\n", what, err->msg);
    exit(1);
}

static void rule_opts(ek_rules *r, const char *id, const char *sql, const char *topic, const char *opts)
{
    char json[1024];
    snprintf(json, sizeof json, "{\"id\":\"%s\",\"sql\":\"%s\",\"actions\":[{\"memory\":{\"topic\":\"%s\"}}]%s%s}", id,
             sql, topic, opts ? ",\"options\":" : "", opts ? opts : "");
    ek_err err = {0};
    if (ek_rules_rule_create(r, json, strlen(json), NULL, &err) != 0) die(id, &err);
}

static void rule(ek_rules *r, const char *id, const char *sql, const char *topic) { rule_opts(r, id, sql, topic, NULL); }

/* Publishes n rows to in/bench and waits for the rule to finish; returns rows/second. */
static double run(ek_rules *r, long n)
{
    static const char *colors[] = {"red", "green", "blue", "yellow"};
    ek_value *rows = ek_calloc((size_t)n, sizeof *rows);
    for (long i = 0; i < n; i++) {
        ek_value o = ek_object_new(4);
        ek_object_set(&o, "id", ek_float((double)i));
        ek_object_set(&o, "key", ek_string_fmt("k%ld", i % 1000));
        ek_object_set(&o, "color", ek_string(colors[i % 4]));
        ek_object_set(&o, "temp", ek_float((double)(i % 100)));
        rows[i] = o;
    }
    double t0 = mono_s(), c0 = cpu_s(), p0 = thread_cpu_s();
    for (long i = 0; i < n; i++) ek_memory_publish("in/bench", &rows[i]);
    last_pub_cpu = thread_cpu_s() - p0;  /* decoding is the source's: here, fanning out to the rules */
    ek_rules_quiesce(r);
    if (getenv("EK_BENCH_VERBOSE"))
        fprintf(stderr, "  (rows in after %.3f s, %.3f CPU-s)\n", mono_s() - t0, cpu_s() - c0);
    /* The clock is ours: close any open window now, so its firing is part of the measure. */
    atomic_fetch_add(&fake_now, 1000);
    ek_rules_fire_timers(r);
    ek_rules_quiesce(r);
    double dt = mono_s() - t0;
    last_cpu = cpu_s() - c0;
    for (long i = 0; i < n; i++) ek_value_unref(&rows[i]);
    ek_free(rows);
    return (double)n / dt;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    long idle = argc > 2 ? atol(argv[2]) : 10000;
    long shared = argc > 3 ? atol(argv[3]) : 300;
    int only_shared = getenv("EK_BENCH_SHARED_ONLY") != NULL;  /* for profiling */
    const char *only_case = getenv("EK_BENCH_CASE");           /* run this single-rule case only */
    const char *src = getenv("EK_SOURCE_DIR") ? getenv("EK_SOURCE_DIR") : ".";
    char etc[512], dir[] = "/tmp/ek-bench-rules-XXXXXX", path[128];
    snprintf(etc, sizeof etc, "%s/etc", src);
    if (!mkdtemp(dir)) return 1;
    snprintf(path, sizeof path, "%s/kv.db", dir);
    ek_app app = {.etc_dir = etc};
    ek_err err = {0};
    char *env[] = {NULL};
    if (ek_config_load(etc, env, &app.config, &err)) die("config", &err);
    if (ek_store_open(path, &app.store, &err)) die("store", &err);
    ek_rules_opts opts = {.now_ms = clock_now, .manual_timers = true};
    if (ek_rules_new(&app, &opts, &app.rules, &err) || ek_rules_start(app.rules, &err)) die("engine", &err);
    ek_rules *r = app.rules;
    const char *stream = "CREATE STREAM bench () WITH (TYPE=\"memory\", DATASOURCE=\"in/bench\")";
    if (ek_rules_stream_create(r, false, stream, NULL, &err)) die("stream", &err);
    ek_memory_subscribe("out/#", count, NULL);

    static const struct { const char *name, *sql, *opts; } cases[] = {
        {"filter", "SELECT * FROM bench WHERE temp > 50", NULL},
        {"projection with functions",
         "SELECT upper(color) AS c, round(temp * 1.8 + 32) AS f, concat(color, \\\"-\\\", key) AS k FROM bench", NULL},
        {"tumbling 1s avg GROUP BY 1000 keys", "SELECT key, avg(temp) AS a FROM bench GROUP BY key, TUMBLINGWINDOW(ss, 1)", NULL},
        {"the same, incremental window", "SELECT key, avg(temp) AS a FROM bench GROUP BY key, TUMBLINGWINDOW(ss, 1)",
         "{\"planOptimizeStrategy\":{\"enableIncrementalWindow\":true}}"},
    };
    printf("Rule engine, one rule, %ld messages from a memory stream:\n", n);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0] && !only_shared; i++) {
        char id[16];
        if (only_case && atoi(only_case) != (int)i) continue;
        snprintf(id, sizeof id, "b%zu", i);
        rule_opts(r, id, cases[i].sql, "out/b", cases[i].opts);
        atomic_store(&results, 0);
        double rate = run(r, n);
        printf("  %-40s %10.0f rows/s, %10.0f rows per CPU-second  (%ld result rows)\n", cases[i].name, rate,
               (double)n / last_cpu, atomic_load(&results));
        if (ek_rules_rule_delete(r, id, &err)) die("delete", &err);
    }

    if (only_case) shared = 0;
    for (long i = 0; i < shared; i++) {
        char id[32], sql[128];
        snprintf(id, sizeof id, "s%ld", i);
        snprintf(sql, sizeof sql, "SELECT id, temp FROM bench WHERE temp > %ld", i % 100);
        rule(r, id, sql, "out/s");
    }
    atomic_store(&results, 0);
    long sn = n / 4 > 1000 ? n / 4 : n;
    double srate = shared ? run(r, sn) : 0;
    if (shared) printf("%ld rules on one shared stream, %ld messages: %.0f messages/s, %.0f rule-messages/s (%ld result rows);\n"
           "  %.2f CPU-seconds: %.0f rule-messages per CPU-second; the publishing thread (fan-out to %ld\n"
           "  mailboxes) used %.2f of them, so one source thread can feed %.0f rule-messages/s\n",
           shared, sn, srate, srate * (double)shared, atomic_load(&results), last_cpu,
           (double)sn * (double)shared / last_cpu, shared, last_pub_cpu, (double)sn * (double)shared / last_pub_cpu);
    for (long i = 0; i < shared; i++) {
        char id[32];
        snprintf(id, sizeof id, "s%ld", i);
        if (ek_rules_rule_delete(r, id, &err)) die("delete", &err);
    }

    if (only_case) idle = 0;
    long before = rss_kb();
    double t0 = mono_s();
    for (long i = 0; i < idle; i++) {
        char id[32];
        snprintf(id, sizeof id, "idle%ld", i);
        rule(r, id, "SELECT temp FROM bench WHERE temp > 1000", "out/idle");
    }
    double dt = mono_s() - t0;
    long after = rss_kb();
    printf("Idle rules on one shared stream: %ld rules created in %.1f s, RSS +%ld KiB (%.1f KiB per rule)\n", idle,
           dt, after - before, idle ? (double)(after - before) / (double)idle : 0.0);
    atomic_store(&results, 0);
    double rate = run(r, 1000);
    printf("  one message fanned out to %ld idle rules: %.0f messages/s\n", idle, rate);

    ek_rules_free(r);
    ek_store_close(app.store);
    ek_config_free(app.config);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
    return 0;
}
