/* The engine and the rule lifecycle: create, update, start, stop, restart, delete, status.
 *
 * A rule is its JSON definition (kept in the store under namespace "rule", with "triggered"
 * saying whether it should run) plus, while running, a rules__run (plan.c). Lifecycle operations
 * are serialised by r->op_lock and never plan while holding r->lock, which guards the registry
 * and is what status readers take: a run is detached from its rule under r->lock before it is
 * freed, so a reader never sees a run being torn down.
 * Updating plans the new version first; only when that succeeds is the old run stopped.
 *
 * A rule with options.cron is scheduled rather than run when started (RS_SCHEDULED, "stopped:
 * waiting for next schedule."); the patrol starts it at each match and stops it after
 * options.duration (rules__cron_patrol, cron.c has the expressions).
 *
 * Reading the rule JSON (end of file): options take their defaults from the `rule:` section of
 * kuiper.yaml and the rule's "options" override them; everything wrong is reported naming the key.
 */
#include "engine/codec_json.h"
#include "engine/config.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/rules/rules_int.h"
#include "sql/tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

rules__rule *rules__rule_find(ek_rules *r, const char *id)
{
    for (size_t i = 0; i < r->nrules; i++)
        if (strcmp(r->rules[i]->id, id) == 0) return r->rules[i];
    return NULL;
}

static int not_found(const char *id, ek_err *err)
{
    return ek_err_set(err, EK_ENOTFOUND, "Rule %s is not found.", id);
}

static void rule_free(rules__rule *ru)
{
    ek_free(ru->id);
    ek_value_unref(&ru->def);
    ek_free(ru);
}

/* Writes the definition with "triggered" set to the rule's wish. */
static int persist(ek_rules *r, rules__rule *ru, ek_err *err)
{
    /* A fresh copy swapped in under the lock: readers of the definition never see it change. */
    ek_value def = ek_value_ref(&ru->def);
    ek_value_unshare(&def);
    ek_object_set(&def, "triggered", ek_bool(ru->want_running));
    pthread_mutex_lock(&r->lock);
    ek_value old = ru->def;
    ru->def = def;
    pthread_mutex_unlock(&r->lock);
    ek_value_unref(&old);
    const ek_value *temp = ek_object_get(&ru->def, "temp");
    if (temp && temp->type == EK_T_BOOL && temp->b) return 0;
    char *text = ek_json_encode_str(&ru->def, 0);
    int rc = ek_store_set(r->app->store, RULES_NS_RULE, ru->id, text, strlen(text), err);
    ek_free(text);
    return rc;
}

static void add_rule(ek_rules *r, rules__rule *ru)
{
    if (r->nrules == r->rules_cap) {
        r->rules_cap = r->rules_cap ? r->rules_cap * 2 : 16;
        r->rules = ek_realloc(r->rules, r->rules_cap * sizeof *r->rules);
    }
    r->rules[r->nrules++] = ru;
}

/* Stops the rule's run if any; caller holds op_lock, not lock. */
static void stop_run(ek_rules *r, rules__rule *ru)
{
    pthread_mutex_lock(&r->lock);
    rules__run *run = ru->run;
    ru->run = NULL;
    if (run) {
        ru->state = RS_STOPPED;
        ru->last_stop = ek_now_ms();
    }
    pthread_mutex_unlock(&r->lock);
    rules__run_free(run);
}

/* A cron rule (not being started by its schedule) waits for its next match instead of running:
 * returns true when ru is now scheduled. Caller holds op_lock. */
static bool schedule(ek_rules *r, rules__rule *ru)
{
    rules__opts o;
    ek_err e = {0};
    if (ru->cron_firing || rules__rule_parse(r, &ru->def, &o, &e) != 0 || !o.has_cron) return false;
    int64_t next = rules__cron_next(&o.cron, rules__now(r), rules__tz(r));
    pthread_mutex_lock(&r->lock);
    ru->state = RS_SCHEDULED;
    ru->next_start = next;
    snprintf(ru->msg, sizeof ru->msg, "waiting for next schedule.");
    pthread_mutex_unlock(&r->lock);
    ek_log_rule(EK_LOG_INFO, ru->id, "Rule %s is scheduled by cron (next start %lld)", ru->id, (long long)next);
    return true;
}

/* The worker pools, the timer and the patrol start with the first rule that is started or
 * scheduled, not with the engine, so that an engine without rules keeps no idle threads (their
 * stacks and malloc arenas, bench/RESULTS.md "Idle memory"). Caller holds op_lock. */
static int start_threads(ek_rules *r, ek_err *err)
{
    if (r->threads_on) return 0;
    int rc = rules__pool_spawn(r, err);
    if (rc == 0) rc = rules__timer_start(r, err);
    if (rc == 0) rc = rules__patrol_start(r, err);
    r->threads_on = rc == 0;
    return rc;
}

/* Starts ru with a run planned already (taking it), or plans one when planned is NULL; on failure
 * the rule is "stopped: <why>". A cron rule is scheduled instead (see schedule). Caller holds
 * op_lock. */
static int start_run_with(ek_rules *r, rules__rule *ru, rules__run *planned, ek_err *err)
{
    int rc = start_threads(r, err);
    if (rc == 0 && schedule(r, ru)) {
        rules__run_free(planned);
        return 0;
    }
    rules__run *run = rc == 0 ? planned : NULL;
    if (rc) rules__run_free(planned);
    else if (!run) rc = rules__plan(r, ru->id, &ru->def, &run, err);
    if (rc == 0 && (rc = rules__run_go(run, err)) != 0) {
        rules__run_free(run);
        run = NULL;
    }
    pthread_mutex_lock(&r->lock);
    if (rc == 0) {
        ru->run = run;
        ru->state = RS_RUNNING;
        ru->msg[0] = '\0';
        ru->last_start = ek_now_ms();
    } else {
        ru->state = RS_ERROR;
        snprintf(ru->msg, sizeof ru->msg, "%s", err->msg);
    }
    pthread_mutex_unlock(&r->lock);
    if (rc == 0) ek_log_rule(EK_LOG_INFO, ru->id, "Rule %s was started", ru->id);
    else ek_log_rule(EK_LOG_ERROR, ru->id, "Rule %s failed to start: %s", ru->id, err->msg);
    return rc;
}

static int start_run(ek_rules *r, rules__rule *ru, ek_err *err) { return start_run_with(r, ru, NULL, err); }

/* Parses rule JSON text into an object with a valid id. */
static int parse_def(const char *json, size_t len, ek_value *out, ek_err *err)
{
    if (ek_json_decode(json, len, 0, out, err) != 0) return ek_err_prefix(err, "the rule is not valid JSON");
    if (out->type != EK_T_OBJECT) {
        ek_value_unref(out);
        return ek_err_set(err, EK_EINVAL, "a rule must be a JSON object");
    }
    return 0;
}

static bool triggered(const ek_value *def)
{
    const ek_value *t = ek_object_get(def, "triggered");
    if (!t) t = ek_object_get(def, "triggerd");  /* eKuiper's documented typo */
    return !t || t->type != EK_T_BOOL || t->b;
}

/* Plans def once to check it (sources, SQL, options, sinks), then frees the plan. */
static int check_def(ek_rules *r, const char *id, const ek_value *def, ek_err *err)
{
    rules__run *run = NULL;
    int rc = rules__plan(r, id, def, &run, err);
    rules__run_free(run);
    return rc;
}

int ek_rules_rule_create(ek_rules *r, const char *json, size_t len, char **id_out, ek_err *err)
{
    ek_value def;
    int rc = parse_def(json, len, &def, err);
    if (rc) return rc;
    rules__opts o;
    if ((rc = rules__rule_parse(r, &def, &o, err)) != 0) goto out;
    const char *id = ek_str_ptr(ek_object_get(&def, "id"));
    pthread_mutex_lock(&r->op_lock);
    pthread_mutex_lock(&r->lock);
    bool exists = rules__rule_find(r, id) != NULL;
    pthread_mutex_unlock(&r->lock);
    rules__run *planned = NULL;  /* planning checks everything; the plan is then the first run */
    if (exists) rc = ek_err_set(err, EK_EEXIST, "rule %s already exists", id);
    else rc = rules__plan(r, id, &def, &planned, err);
    if (rc == 0) {
        rules__rule *ru = ek_calloc(1, sizeof *ru);
        ru->id = ek_strdup(id);
        ru->def = ek_value_ref(&def);
        ru->want_running = triggered(&def);
        if ((rc = persist(r, ru, err)) != 0) {
            rule_free(ru);
        } else {
            pthread_mutex_lock(&r->lock);
            add_rule(r, ru);
            pthread_mutex_unlock(&r->lock);
            if (id_out) *id_out = ek_strdup(id);
            ek_err e = {0};
            rules__checkpoint_delete(r, id);  /* a leftover of an earlier rule with this id */
            if (ru->want_running && r->started) {
                start_run_with(r, ru, planned, &e);
                planned = NULL;
            }
        }
    }
    rules__run_free(planned);
    pthread_mutex_unlock(&r->op_lock);
out:
    ek_value_unref(&def);
    return rc;
}

int ek_rules_rule_validate(ek_rules *r, const char *json, size_t len, ek_err *err)
{
    ek_value def;
    int rc = parse_def(json, len, &def, err);
    if (rc) return rc;
    rules__opts o;
    rc = rules__rule_parse(r, &def, &o, err);
    if (rc == 0) rc = check_def(r, ek_str_ptr(ek_object_get(&def, "id")), &def, err);
    ek_value_unref(&def);
    return rc;
}

int ek_rules_rule_set_tags(ek_rules *r, const char *id, const ek_value *tags, ek_err *err)
{
    pthread_mutex_lock(&r->op_lock);
    pthread_mutex_lock(&r->lock);
    rules__rule *ru = rules__rule_find(r, id);
    if (ru) {
        /* A new definition swapped in: readers holding the old one never see it change. */
        ek_value def = ek_value_ref(&ru->def);
        ek_value_unshare(&def);
        ek_object_set(&def, "tags", ek_value_ref(tags));
        ek_value old = ru->def;
        ru->def = def;
        pthread_mutex_unlock(&r->lock);
        ek_value_unref(&old);
    } else {
        pthread_mutex_unlock(&r->lock);
    }
    int rc = ru ? persist(r, ru, err) : not_found(id, err);
    pthread_mutex_unlock(&r->op_lock);
    return rc;
}

int ek_rules_rule_update(ek_rules *r, const char *id, const char *json, size_t len, ek_err *err)
{
    ek_value def;
    int rc = parse_def(json, len, &def, err);
    if (rc) return rc;
    const ek_value *vid = ek_object_get(&def, "id");
    if (!vid) {
        ek_value_unshare(&def);
        ek_object_set(&def, "id", ek_string(id));
    } else if (vid->type != EK_T_STRING || strcmp(ek_str_ptr(vid), id) != 0) {
        ek_value_unref(&def);
        return ek_err_set(err, EK_EINVAL, "the id in the body does not match rule %s", id);
    }
    pthread_mutex_lock(&r->op_lock);
    pthread_mutex_lock(&r->lock);
    rules__rule *ru = rules__rule_find(r, id);
    pthread_mutex_unlock(&r->lock);
    if (!ru) {
        pthread_mutex_unlock(&r->op_lock);
        char *text = ek_json_encode_str(&def, 0);
        rc = ek_rules_rule_create(r, text, strlen(text), NULL, err);
        ek_free(text);
        ek_value_unref(&def);
        return rc;
    }
    rules__opts o;
    rules__run *fresh = NULL;
    rc = rules__rule_parse(r, &def, &o, err);
    if (rc == 0) rc = rules__plan(r, id, &def, &fresh, err);  /* the old run keeps going meanwhile */
    if (rc == 0) {
        bool run_it = ru->run != NULL || triggered(&def);
        stop_run(r, ru);
        pthread_mutex_lock(&r->lock);
        ek_value_unref(&ru->def);
        ru->def = ek_value_ref(&def);
        ru->want_running = run_it;
        pthread_mutex_unlock(&r->lock);
        persist(r, ru, err);
        rules__checkpoint_delete(r, id);  /* a new version starts from a clean state */
        ek_err e = {0};
        if (run_it && r->started) start_run_with(r, ru, fresh, &e);
        else rules__run_free(fresh);
    }
    pthread_mutex_unlock(&r->op_lock);
    ek_value_unref(&def);
    return rc;
}

/* Takes op_lock and finds rule id (the caller unlocks op_lock); NULL with err set when absent. */
static rules__rule *begin_op(ek_rules *r, const char *id, ek_err *err)
{
    pthread_mutex_lock(&r->op_lock);
    pthread_mutex_lock(&r->lock);
    rules__rule *ru = rules__rule_find(r, id);
    pthread_mutex_unlock(&r->lock);
    if (!ru) not_found(id, err);
    return ru;
}

int ek_rules_rule_delete(ek_rules *r, const char *id, ek_err *err)
{
    rules__rule *ru = begin_op(r, id, err);
    int rc = 0;
    if (!ru) {
        rc = EK_ENOTFOUND;
    } else {
        stop_run(r, ru);
        ek_err e = {0};
        ek_store_delete(r->app->store, RULES_NS_RULE, id, &e);
        rules__checkpoint_delete(r, id);
        rules__sinks_purge(r, id, &ru->def);
        pthread_mutex_lock(&r->lock);
        for (size_t i = 0; i < r->nrules; i++) {
            if (r->rules[i] != ru) continue;
            memmove(&r->rules[i], &r->rules[i + 1], (r->nrules - i - 1) * sizeof *r->rules);
            r->nrules--;
            break;
        }
        pthread_mutex_unlock(&r->lock);
        rule_free(ru);
    }
    pthread_mutex_unlock(&r->op_lock);
    return rc;
}

/* start (1), stop (0) or restart (2). */
static int control(ek_rules *r, const char *id, int what, ek_err *err)
{
    rules__rule *ru = begin_op(r, id, err);
    int rc = 0;
    if (!ru) {
        rc = EK_ENOTFOUND;
    } else {
        if (what != 1 || !ru->run) stop_run(r, ru);
        if (what == 0) {
            pthread_mutex_lock(&r->lock);
            ru->state = RS_STOPPED;
            snprintf(ru->msg, sizeof ru->msg, "canceled manually");
            pthread_mutex_unlock(&r->lock);
            ek_log_rule(EK_LOG_INFO, id, "Rule %s was stopped", id);
        }
        ru->want_running = what != 0;
        ru->restarts = 0;
        ek_err e = {0};
        persist(r, ru, &e);
        if (what != 0 && !ru->run && r->started) rc = start_run(r, ru, err);
    }
    pthread_mutex_unlock(&r->op_lock);
    return rc;
}

void rules__restart_failed(ek_rules *r)
{
    pthread_mutex_lock(&r->op_lock);
    for (size_t i = 0; i < r->nrules; i++) {
        rules__rule *ru = r->rules[i];
        if (ru->run || ru->state != RS_ERROR || !ru->want_running) continue;
        rules__opts o;
        ek_err e = {0};
        if (rules__rule_parse(r, &ru->def, &o, &e) != 0 || ru->restarts >= o.restart_attempts) continue;
        ru->restarts++;
        ek_log_rule(EK_LOG_INFO, ru->id, "Rule %s: restart attempt %lld of %lld", ru->id, (long long)ru->restarts,
                    (long long)o.restart_attempts);
        start_run(r, ru, &e);
    }
    pthread_mutex_unlock(&r->op_lock);
}

/* One cron rule at now: starts it when its time came, stops it when its duration is over. Caller
 * holds op_lock. Returns when it next needs the patrol. */
static int64_t cron_one(ek_rules *r, rules__rule *ru, int64_t now)
{
    rules__opts o;
    ek_err e = {0};
    if (!ru->want_running || rules__rule_parse(r, &ru->def, &o, &e) != 0 || !o.has_cron) return INT64_MAX;
    if (ru->run) {
        if (now < ru->run_until) return ru->run_until;
        stop_run(r, ru);
        ek_log_rule(EK_LOG_INFO, ru->id, "Rule %s ran for its duration: waiting for the next schedule", ru->id);
        schedule(r, ru);
        return ru->next_start;
    }
    if (ru->state != RS_SCHEDULED) return INT64_MAX;
    if (now < ru->next_start) return ru->next_start;
    ru->cron_firing = true;
    int rc = start_run(r, ru, &e);
    ru->cron_firing = false;
    if (rc != 0) {  /* tried again at the next match; the status keeps the reason meanwhile */
        schedule(r, ru);
        pthread_mutex_lock(&r->lock);
        snprintf(ru->msg, sizeof ru->msg, "%.400s (waiting for next schedule)", e.msg);
        pthread_mutex_unlock(&r->lock);
        return ru->next_start;
    }
    /* Without a duration the first match starts the rule for good (until a stop). */
    ru->run_until = o.duration > 0 ? now + o.duration : INT64_MAX;
    return ru->run_until;
}

int64_t rules__cron_patrol(ek_rules *r)
{
    int64_t next = INT64_MAX;
    pthread_mutex_lock(&r->op_lock);
    int64_t now = rules__now(r);
    for (size_t i = 0; i < r->nrules; i++) {
        int64_t w = cron_one(r, r->rules[i], now);
        if (w < next) next = w;
    }
    pthread_mutex_unlock(&r->op_lock);
    return next;
}

int ek_rules_rule_start(ek_rules *r, const char *id, ek_err *err) { return control(r, id, 1, err); }
int ek_rules_rule_stop(ek_rules *r, const char *id, ek_err *err) { return control(r, id, 0, err); }
int ek_rules_rule_restart(ek_rules *r, const char *id, ek_err *err) { return control(r, id, 2, err); }

int ek_rules_rule_get(ek_rules *r, const char *id, ek_value *out, ek_err *err)
{
    pthread_mutex_lock(&r->lock);
    rules__rule *ru = rules__rule_find(r, id);
    if (ru) *out = ek_value_ref(&ru->def);
    pthread_mutex_unlock(&r->lock);
    return ru ? 0 : not_found(id, err);
}

bool ek_rules_rule_running(ek_rules *r, const char *id)
{
    pthread_mutex_lock(&r->lock);
    rules__rule *ru = rules__rule_find(r, id);
    bool running = ru && ru->run;
    pthread_mutex_unlock(&r->lock);
    return running;
}

static ek_value status_word(const rules__rule *ru)
{
    if (ru->run) return ek_string("running");
    if (ru->state == RS_ERROR || ru->state == RS_SCHEDULED) return ek_string_fmt("stopped: %s", ru->msg);
    return ek_string("stopped");
}

static int cmp_rule(const void *a, const void *b)
{
    return strcmp((*(rules__rule *const *)a)->id, (*(rules__rule *const *)b)->id);
}

void ek_rules_rule_list(ek_rules *r, ek_value *out)
{
    pthread_mutex_lock(&r->lock);
    rules__rule **sorted = ek_calloc(r->nrules ? r->nrules : 1, sizeof *sorted);
    if (r->nrules) memcpy(sorted, r->rules, r->nrules * sizeof *sorted);
    qsort(sorted, r->nrules, sizeof *sorted, cmp_rule);
    *out = ek_array_new(r->nrules);
    for (size_t i = 0; i < r->nrules; i++) {
        rules__rule *ru = sorted[i];
        ek_value o = ek_object_new(6);
        ek_object_set(&o, "id", ek_string(ru->id));
        const ek_value *name = ek_object_get(&ru->def, "name");
        ek_object_set(&o, "name", name && name->type == EK_T_STRING ? ek_value_ref(name) : ek_string(""));
        ek_object_set(&o, "status", status_word(ru));
        const ek_value *tags = ek_object_get(&ru->def, "tags");
        ek_object_set(&o, "tags", tags ? ek_value_ref(tags) : ek_null());
        ek_object_set(&o, "trace", ek_bool(false));
        ek_array_push(out, o);
    }
    ek_free(sorted);
    pthread_mutex_unlock(&r->lock);
}

/* Status object of one rule; caller holds r->lock. */
static ek_value status_of(rules__rule *ru)
{
    ek_value o = ek_object_new(8);
    ek_object_set(&o, "status", status_word(ru));
    ek_object_set(&o, "message", ek_string(ru->run ? "" : ru->msg));
    ek_object_set(&o, "lastStartTimestamp", ek_int(ru->last_start));
    ek_object_set(&o, "lastStopTimestamp", ek_int(ru->last_stop));
    bool waits = ru->state == RS_SCHEDULED && !ru->run && ru->next_start != INT64_MAX;
    ek_object_set(&o, "nextStartTimestamp", ek_int(waits ? ru->next_start : 0));
    if (ru->run) rules__run_metrics(ru->run, &o);
    return o;
}

int ek_rules_rule_status(ek_rules *r, const char *id, ek_value *out, ek_err *err)
{
    pthread_mutex_lock(&r->lock);
    rules__rule *ru = rules__rule_find(r, id);
    if (ru) *out = status_of(ru);
    pthread_mutex_unlock(&r->lock);
    return ru ? 0 : not_found(id, err);
}

void ek_rules_rule_status_all(ek_rules *r, ek_value *out)
{
    pthread_mutex_lock(&r->lock);
    *out = ek_object_new(r->nrules);
    for (size_t i = 0; i < r->nrules; i++) ek_object_set(out, r->rules[i]->id, status_of(r->rules[i]));
    pthread_mutex_unlock(&r->lock);
}

/* Plans the rule (without running it) when it is not running, to describe it. */
static int with_plan(ek_rules *r, const char *id, void (*fn)(rules__run *, ek_value *), ek_value *out, ek_err *err)
{
    pthread_mutex_lock(&r->op_lock);
    pthread_mutex_lock(&r->lock);
    rules__rule *ru = rules__rule_find(r, id);
    int rc = ru ? 0 : not_found(id, err);
    if (ru && ru->run) fn(ru->run, out);
    ek_value def = ru && !ru->run ? ek_value_ref(&ru->def) : ek_null();
    pthread_mutex_unlock(&r->lock);
    if (def.type == EK_T_OBJECT) {
        rules__run *run = NULL;
        rc = rules__plan(r, id, &def, &run, err);
        if (rc == 0) fn(run, out);
        rules__run_free(run);
    }
    ek_value_unref(&def);
    pthread_mutex_unlock(&r->op_lock);
    return rc;
}

int ek_rules_rule_topo(ek_rules *r, const char *id, ek_value *out, ek_err *err)
{
    return with_plan(r, id, rules__run_topo, out, err);
}

int ek_rules_rule_explain(ek_rules *r, const char *id, ek_value *out, ek_err *err)
{
    return with_plan(r, id, rules__run_explain, out, err);
}

int ek_rules_rule_explain_text(ek_rules *r, const char *id, ek_value *out, ek_err *err)
{
    return with_plan(r, id, rules__run_explain_text, out, err);
}

/* ------------------------------------------------------------------ the engine */

static int load_rule(const char *key, const char *val, size_t len, void *arg)
{
    ek_rules *r = arg;
    ek_value def;
    ek_err e = {0};
    if (parse_def(val, len, &def, &e) != 0) {
        ek_error("rule %s is not loaded: %s", key, e.msg);
        return 0;
    }
    rules__rule *ru = ek_calloc(1, sizeof *ru);
    ru->id = ek_strdup(key);
    ru->def = def;
    ru->want_running = triggered(&def);
    add_rule(r, ru);
    return 0;
}

int ek_rules_new(ek_app *app, const ek_rules_opts *opts, ek_rules **out, ek_err *err)
{
    ek_rules *r = ek_calloc(1, sizeof *r);
    r->app = app;
    if (opts) r->opts = *opts;
    pthread_mutex_init(&r->op_lock, NULL);
    pthread_mutex_init(&r->lock, NULL);
    const char *zone = app->config ? ek_config_str(app->config, "basic.timezone") : NULL;
    ek_err ze = {0};
    ek_tz *tz = NULL;
    if (ek_tz_open(zone && *zone ? zone : "Local", &tz, &ze) != 0)
        ek_warn("basic.timezone: %s; cron schedules and time functions use UTC", ze.msg);
    atomic_store(&r->tz, tz);
    int rc = rules__catalog_load(r, err);
    if (rc == 0) rc = ek_store_foreach(app->store, RULES_NS_RULE, load_rule, r, err);
    if (rc) {
        ek_rules_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int ek_rules_set_timezone(ek_rules *r, const char *name, ek_err *err)
{
    ek_tz *tz = NULL;
    bool local = !name || !*name || strcmp(name, "Local") == 0;
    /* Without a zone database Local is UTC, as ek_rules_new treats it. */
    if (ek_tz_open(local ? "Local" : name, &tz, err) != 0 && !local) return EK_EINVAL;
    pthread_mutex_lock(&r->lock);
    ek_tz *old = atomic_exchange(&r->tz, tz);
    if (old) {
        r->old_tz = ek_realloc(r->old_tz, (r->nold_tz + 1) * sizeof *r->old_tz);
        r->old_tz[r->nold_tz++] = old;
    }
    pthread_mutex_unlock(&r->lock);
    return 0;
}

int ek_rules_start(ek_rules *r, ek_err *err)
{
    int n = r->opts.workers > 0 ? r->opts.workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    rules__pool_start(r, n);  /* the threads start with the first rule (start_threads) */
    r->started = true;
    pthread_mutex_lock(&r->op_lock);
    for (size_t i = 0; i < r->nrules; i++) {
        ek_err e = {0};
        if (r->rules[i]->want_running) start_run(r, r->rules[i], &e);
    }
    pthread_mutex_unlock(&r->op_lock);
    return 0;
}

void ek_rules_free(ek_rules *r)
{
    if (!r) return;
    rules__patrol_stop(r);
    pthread_mutex_lock(&r->op_lock);
    for (size_t i = 0; i < r->nrules; i++) stop_run(r, r->rules[i]);
    pthread_mutex_unlock(&r->op_lock);
    rules__timer_stop(r);
    rules__pool_stop(r);
    rules__feeds_free(r);
    for (size_t i = 0; i < r->nrules; i++) rule_free(r->rules[i]);
    ek_free(r->rules);
    rules__catalog_free(r);
    ek_tz_free(atomic_load(&r->tz));
    for (size_t i = 0; i < r->nold_tz; i++) ek_tz_free(r->old_tz[i]);
    ek_free(r->old_tz);
    pthread_mutex_destroy(&r->lock);
    pthread_mutex_destroy(&r->op_lock);
    ek_free(r);
}

/* ------------------------------------------------------------------ reading the rule JSON */

static int want_bool(const ek_value *opts, const char *key, bool *out, ek_err *err)
{
    const ek_value *v = ek_object_get(opts, key);
    if (!v || v->type == EK_T_NULL) return 0;
    if (v->type == EK_T_BOOL) {
        *out = v->b;
        return 0;
    }
    if (v->type == EK_T_STRING && (strcasecmp(ek_str_ptr(v), "true") == 0 || strcasecmp(ek_str_ptr(v), "false") == 0)) {
        *out = strcasecmp(ek_str_ptr(v), "true") == 0;
        return 0;
    }
    return ek_err_set(err, EK_EINVAL, "options.%s: expected a boolean, got %s", key, ek_type_name(v->type));
}

static int want_int(const ek_value *opts, const char *key, int64_t *out, ek_err *err)
{
    const ek_value *v = ek_object_get(opts, key);
    if (!v || v->type == EK_T_NULL) return 0;
    if (v->type == EK_T_INT) {
        *out = v->i;
        return 0;
    }
    double d;
    /* In range before the cast: converting 1e300 or NaN to int64_t is undefined (fuzz_rule_run). */
    if (ek_value_as_double(v, &d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
        d == (double)(int64_t)d) {
        *out = (int64_t)d;
        return 0;
    }
    return ek_err_set(err, EK_EINVAL, "options.%s: expected an integer, got %s", key, ek_type_name(v->type));
}

static int want_duration(const ek_value *opts, const char *key, int64_t *out, ek_err *err)
{
    const ek_value *v = ek_object_get(opts, key);
    if (!v || v->type == EK_T_NULL) return 0;
    if (v->type == EK_T_STRING) {
        if (ek_parse_duration_ms(ek_str_ptr(v), out)) return 0;
        return ek_err_set(err, EK_EINVAL, "options.%s: \"%s\" is not a duration (e.g. 500ms, 1s, 5m)", key,
                          ek_str_ptr(v));
    }
    return want_int(opts, key, out, err);
}

/* options.cron and options.duration (eKuiper's scheduled rules). */
static int parse_schedule(const ek_value *opts, rules__opts *o, ek_err *err)
{
    const ek_value *cron = ek_object_get(opts, "cron");
    int rc = want_duration(opts, "duration", &o->duration, err);
    if (rc) return rc;
    if (o->duration < 0) return ek_err_set(err, EK_EINVAL, "options.duration: must not be negative");
    if (!cron || cron->type == EK_T_NULL || (cron->type == EK_T_STRING && ek_str_len(cron) == 0)) {
        if (o->duration > 0) return ek_err_set(err, EK_EINVAL, "options.duration: needs options.cron");
        return 0;
    }
    if (cron->type != EK_T_STRING) return ek_err_set(err, EK_EINVAL, "options.cron: expected a string");
    if ((rc = rules__cron_parse(ek_str_ptr(cron), &o->cron, err)) != 0) return rc;
    o->has_cron = true;
    return 0;
}

static void defaults(const ek_config *c, rules__opts *o)
{
    o->event_time = ek_config_bool(c, "rule.isEventTime");
    o->send_meta = ek_config_bool(c, "rule.sendMetaToSink");
    o->send_error = ek_config_bool(c, "rule.sendError");
    o->send_nil = ek_config_bool(c, "rule.sendNilField");
    o->late_tolerance = ek_config_duration_ms(c, "rule.lateTolerance");
    o->buffer_length = ek_config_int(c, "rule.bufferLength");
    o->qos = ek_config_int(c, "rule.qos");
    o->checkpoint_interval = ek_config_duration_ms(c, "rule.checkpointInterval");
    o->restart_attempts = ek_config_int(c, "rule.restartStrategy.attempts");
}

static int parse_options(const ek_value *opts, rules__opts *o, ek_err *err)
{
    int rc;
    if ((rc = want_bool(opts, "isEventTime", &o->event_time, err)) ||
        (rc = want_bool(opts, "sendMetaToSink", &o->send_meta, err)) ||
        (rc = want_bool(opts, "sendError", &o->send_error, err)) ||
        (rc = want_bool(opts, "sendNilField", &o->send_nil, err)) ||
        (rc = want_duration(opts, "lateTolerance", &o->late_tolerance, err)) ||
        (rc = want_int(opts, "bufferLength", &o->buffer_length, err)) ||
        (rc = want_int(opts, "qos", &o->qos, err)) ||
        (rc = want_duration(opts, "checkpointInterval", &o->checkpoint_interval, err)))
        return rc;
    const ek_value *pos = ek_object_get(opts, "planOptimizeStrategy");
    if (pos && pos->type == EK_T_OBJECT && (rc = want_bool(pos, "enableIncrementalWindow", &o->inc_window, err))) return rc;
    const ek_value *rs = ek_object_get(opts, "restartStrategy");
    if (rs && rs->type == EK_T_OBJECT && (rc = want_int(rs, "attempts", &o->restart_attempts, err))) return rc;
    if ((rc = parse_schedule(opts, o, err)) != 0) return rc;
    if (o->qos < 0 || o->qos > 2) return ek_err_set(err, EK_EINVAL, "options.qos: must be 0, 1 or 2");
    if (o->buffer_length <= 0) return ek_err_set(err, EK_EINVAL, "options.bufferLength: must be positive");
    if (o->late_tolerance < 0) return ek_err_set(err, EK_EINVAL, "options.lateTolerance: must not be negative");
    return 0;
}

static int check_actions(const ek_value *actions, ek_err *err)
{
    if (!actions || actions->type != EK_T_ARRAY || ek_array_len(actions) == 0)
        return ek_err_set(err, EK_EINVAL, "Missing rule actions.");
    for (size_t i = 0; i < ek_array_len(actions); i++) {
        const ek_value *a = ek_array_get(actions, i);
        if (a->type != EK_T_OBJECT || ek_object_len(a) != 1)
            return ek_err_set(err, EK_EINVAL, "actions[%zu]: expected an object {\"<sink type>\": {properties}}", i);
        const ek_value *props = ek_object_val(a, 0);
        if (props->type != EK_T_OBJECT && props->type != EK_T_NULL)
            return ek_err_set(err, EK_EINVAL, "actions[%zu].%s: expected an object of properties", i, ek_object_key(a, 0));
    }
    return 0;
}

int rules__rule_parse(ek_rules *r, const ek_value *def, rules__opts *opts, ek_err *err)
{
    if (def->type != EK_T_OBJECT) return ek_err_set(err, EK_EINVAL, "a rule must be a JSON object");
    const ek_value *id = ek_object_get(def, "id");
    if (!id || id->type != EK_T_STRING || ek_str_len(id) == 0) return ek_err_set(err, EK_EINVAL, "Missing rule id.");
    /* An id is a REST path segment (/rules/{id}): a "/" would make the rule unreachable. */
    if (strchr(ek_str_ptr(id), '/'))
        return ek_err_set(err, EK_EINVAL, "rule id \"%s\" must not contain \"/\"", ek_str_ptr(id));
    const ek_value *sql = ek_object_get(def, "sql");
    const ek_value *graph = ek_object_get(def, "graph");
    bool is_graph = (!sql || sql->type == EK_T_NULL) && graph && graph->type == EK_T_OBJECT;
    if (!is_graph && (!sql || sql->type != EK_T_STRING || ek_str_len(sql) == 0))
        return ek_err_set(err, EK_EINVAL, "Missing rule SQL.");
    int rc = is_graph ? 0 : check_actions(ek_object_get(def, "actions"), err);  /* graph: sink nodes */
    if (rc) return rc;
    memset(opts, 0, sizeof *opts);
    defaults(r->app->config, opts);
    const ek_value *o = ek_object_get(def, "options");
    if (o && o->type == EK_T_OBJECT) return parse_options(o, opts, err);
    if (o && o->type != EK_T_NULL) return ek_err_set(err, EK_EINVAL, "options: expected an object");
    return 0;
}
