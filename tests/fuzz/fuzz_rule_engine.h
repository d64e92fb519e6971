/* Shared by the engine-level fuzz targets (fuzz_rest_bodies.c, fuzz_rule_run.c): one in-process
 * rule engine, created on the first input and kept for the whole run, with the repository's etc/,
 * a store in a temporary directory and manual timers driven by a fake clock. Inputs must leave it
 * as they found it (drop what they create), so one input never changes what the next one sees and
 * a crash reproduces from its single input. The temporary directory is removed at exit. */
#ifndef EK_FUZZ_RULE_ENGINE_H
#define EK_FUZZ_RULE_ENGINE_H

#include "engine/app.h"
#include "engine/config.h"
#include "engine/err.h"
#include "engine/mem.h"
#include "engine/rules/rules.h"
#include "engine/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fz_engine {
    ek_app app;
    char dir[64];
    int64_t now;
} fz_engine;

static fz_engine fz_eng;  /* the fuzz process's one engine; libFuzzer runs inputs on one thread */

static int64_t fz_clock(void *arg) { return __atomic_load_n(&((fz_engine *)arg)->now, __ATOMIC_SEQ_CST); }

static void fz_engine_close(void)
{
    ek_rules_free(fz_eng.app.rules);
    ek_store_close(fz_eng.app.store);
    ek_config_free(fz_eng.app.config);
    ek_free(fz_eng.app.etc_dir);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", fz_eng.dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", fz_eng.dir);
}

/* The engine, opened on first use; aborts when it cannot be (a broken setup, not a finding). */
static ek_rules *fz_engine_get(void)
{
    if (fz_eng.app.rules) return fz_eng.app.rules;
    snprintf(fz_eng.dir, sizeof fz_eng.dir, "/tmp/ek-fuzz-XXXXXX");
    if (!mkdtemp(fz_eng.dir)) abort();
    /* etc/ of the checkout this target was built from: tests/fuzz/../../etc. */
    char etc[1024];
    snprintf(etc, sizeof etc, "%s", __FILE__);
    char *slash = strrchr(etc, '/');
    if (slash) snprintf(slash, sizeof etc - (size_t)(slash - etc), "/../../etc");
    char quiet[] = "KUIPER__BASIC__CONSOLELOG=false";
    char *env[] = {quiet, NULL};
    ek_err err = {0};
    char path[128];
    snprintf(path, sizeof path, "%s/kv.db", fz_eng.dir);
    if (ek_config_load(etc, env, &fz_eng.app.config, &err) != 0 || ek_store_open(path, &fz_eng.app.store, &err) != 0) {
        fprintf(stderr, "fuzz engine: %s\n", err.msg);
        abort();
    }
    fz_eng.app.etc_dir = ek_strdup(etc);
    fz_eng.app.data_dir = fz_eng.dir;
    fz_eng.now = 1000000;
    ek_rules_opts o = {.workers = 1, .now_ms = fz_clock, .clock_arg = &fz_eng, .manual_timers = true};
    if (ek_rules_new(&fz_eng.app, &o, &fz_eng.app.rules, &err) != 0 || ek_rules_start(fz_eng.app.rules, &err) != 0) {
        fprintf(stderr, "fuzz engine: %s\n", err.msg);
        abort();
    }
    atexit(fz_engine_close);
    return fz_eng.app.rules;
}

#endif
