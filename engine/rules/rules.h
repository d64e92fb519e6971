/* The rule engine: the stream and table catalog, the rules, and the runtime that runs them.
 *
 * One ek_rules per kuiperd (app->rules). It owns:
 *   - the catalog: CREATE STREAM / CREATE TABLE statements, kept in the store (namespaces "stream"
 *     and "table") and reloaded at start;
 *   - the rules: eKuiper's rule JSON, kept in the store (namespace "rule") with whether each was
 *     running, so a restart brings running rules back;
 *   - the runtime: rules are actors (a mailbox each) run by a fixed pool of worker threads, one
 *     timer thread posting window ticks, and one shared source per stream that decodes each
 *     message once for every rule reading it.
 * Every function is safe to call from any thread (the REST server calls them); registries are
 * guarded inside. Errors fill an ek_err whose code maps to eKuiper's REST codes (rest/reply.c):
 * EK_EPARSE (2001) for bad SQL, EK_EPLAN (2101) for a rule that cannot be planned, EK_ENOTFOUND
 * (1002) for an unknown name, EK_EBUSY for a stream a rule still uses. */
#ifndef EK_RULES_H
#define EK_RULES_H

#include "engine/app.h"
#include "engine/err.h"
#include "engine/value.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ek_rules ek_rules;

typedef struct ek_rules_opts {
    int workers;                     /* worker threads; 0: the number of cores */
    int64_t (*now_ms)(void *arg);    /* the clock; NULL: wall clock (ek_now_ms) */
    void *clock_arg;
    bool manual_timers;              /* tests: no timer thread, call ek_rules_fire_timers */
} ek_rules_opts;

/* Creates the engine and loads the catalog and the rule definitions from app->store (nothing runs
 * yet). opts may be NULL. A definition that no longer parses is logged and skipped. */
int ek_rules_new(ek_app *app, const ek_rules_opts *opts, ek_rules **out, ek_err *err);
/* Starts the worker pool and the timer, then every rule that was running when kuiperd stopped
 * (a rule that fails to start is left "stopped: <reason>" and logged). */
int ek_rules_start(ek_rules *r, ek_err *err);
/* Sets the engine's time zone (basic.timezone: "Local", "UTC" or an IANA name), read from then on by
 * cron schedules, windows planned later and the SQL time functions (format_time ...). EK_EINVAL with
 * err naming the zone when it is unknown. Safe from any thread. */
int ek_rules_set_timezone(ek_rules *r, const char *name, ek_err *err);
/* Stops every rule (keeping in the store whether it was running), joins the threads, frees all.
 * Accepts NULL. */
void ek_rules_free(ek_rules *r);

/* ---- catalog: kind is false for streams, true for tables ---- */

/* Creates a stream or table from "CREATE STREAM|TABLE ..." text; *name (ek_free it) gets its name.
 * A statement of the other kind, a taken name or bad SQL (EK_EPARSE, line and column) fail. */
int ek_rules_stream_create(ek_rules *r, bool table, const char *sql, char **name, ek_err *err);
/* Replaces the definition of an existing stream or table (the name in sql must match). */
int ek_rules_stream_replace(ek_rules *r, bool table, const char *name, const char *sql, ek_err *err);
/* Drops a stream or table; EK_EBUSY naming the rule when a rule uses it. */
int ek_rules_stream_drop(ek_rules *r, bool table, const char *name, ek_err *err);
/* The names (details false) or [{name, type, format ...}] (details true) as a new array.
 * kind filters tables: "scan", "lookup" or NULL for all. */
void ek_rules_stream_list(ek_rules *r, bool table, bool details, const char *kind, ek_value *out);
/* eKuiper's describe object {Name, StreamFields, Options, StreamType, StreamKind, Statement}. */
int ek_rules_stream_describe(ek_rules *r, bool table, const char *name, ek_value *out, ek_err *err);
/* The JSON schema {field: {"type": ...}} of a stream or table (empty object when schemaless). */
int ek_rules_stream_schema(ek_rules *r, bool table, const char *name, ek_value *out, ek_err *err);

/* ---- rules ---- */

/* Creates a rule from its JSON; starts it unless "triggered" is false. *id (ek_free it) gets the
 * rule id. A rule that cannot be planned is refused (nothing is stored). */
int ek_rules_rule_create(ek_rules *r, const char *json, size_t len, char **id, ek_err *err);
/* Replaces rule id's definition (creates it when absent). The new version is planned first: if
 * that fails the old one keeps running and the error is returned. */
int ek_rules_rule_update(ek_rules *r, const char *id, const char *json, size_t len, ek_err *err);
/* Sets the "tags" of rule id (an array of strings, borrowed) and stores the definition; the rule
 * keeps running as it is. EK_ENOTFOUND for an unknown id. */
int ek_rules_rule_set_tags(ek_rules *r, const char *id, const ek_value *tags, ek_err *err);
/* Checks a rule JSON without creating it (planning included). */
int ek_rules_rule_validate(ek_rules *r, const char *json, size_t len, ek_err *err);
int ek_rules_rule_delete(ek_rules *r, const char *id, ek_err *err);
int ek_rules_rule_start(ek_rules *r, const char *id, ek_err *err);
int ek_rules_rule_stop(ek_rules *r, const char *id, ek_err *err);
int ek_rules_rule_restart(ek_rules *r, const char *id, ek_err *err);
/* The stored rule JSON as an object. */
int ek_rules_rule_get(ek_rules *r, const char *id, ek_value *out, ek_err *err);
/* [{id, name, status, tags, trace}] for every rule, in id order. */
void ek_rules_rule_list(ek_rules *r, ek_value *out);
/* eKuiper's status object: status, message, timestamps and per-node metrics while running. */
int ek_rules_rule_status(ek_rules *r, const char *id, ek_value *out, ek_err *err);
/* {id: status object} for every rule. */
void ek_rules_rule_status_all(ek_rules *r, ek_value *out);
/* {"sources": [...], "edges": {node: [next...]}} */
int ek_rules_rule_topo(ek_rules *r, const char *id, ek_value *out, ek_err *err);
/* The plan as eKuiper names it, from the top: an array of {"op": "ProjectPlan_0", "info":
 * "Fields:[ a ]", "depth": 0} down to one DataSourcePlan_N per stream (siblings, same depth). */
int ek_rules_rule_explain(ek_rules *r, const char *id, ek_value *out, ek_err *err);
/* The same in eKuiper's text form (what its REST API returns as text/plain): a string of one
 * {"op","info"} JSON object per line, each below the first indented by 2 * depth - 1 tabs. */
int ek_rules_rule_explain_text(ek_rules *r, const char *id, ek_value *out, ek_err *err);
/* The output schema of a running rule, as eKuiper answers GET /rules/{id}/schema: {field:
 * {"hasIndex": true, "index": i}} in SELECT order ("*" and INVISIBLE fields left out).
 * EK_ENOTFOUND for an unknown id, EK_EINVAL when the rule is not running (rule_schema.c). */
int ek_rules_rule_schema(ek_rules *r, const char *id, ek_value *out, ek_err *err);
/* basic.resourceProfileConfig.enable: whether workers measure each rule's CPU time (rule_cpu.c). */
void ek_rules_cpu_profile(ek_rules *r, bool on);
bool ek_rules_cpu_profiling(ek_rules *r);
/* {rule id: CPU ms used in the last 30 seconds} for every running rule (0s until profiling is on). */
void ek_rules_cpu_usage(ek_rules *r, ek_value *out);
/* The rows of the scan tables a running rule joins, as eKuiper answers GET /rules/{id}/scantables:
 * [{"emitter": table, "content": row}] (rule_scantables.c). EK_ENOTFOUND for an unknown id,
 * EK_ESTATE when it is not running, EK_EINVAL ("scan table error: ...") without tables or rows. */
int ek_rules_rule_scan_tables(ek_rules *r, const char *id, ek_value *out, ek_err *err);
/* Whether a rule exists and is running. */
bool ek_rules_rule_running(ek_rules *r, const char *id);

/* ---- tests and benchmarks ---- */

/* Posts a tick to every rule whose timer is due at the clock's now (manual_timers mode). */
void ek_rules_fire_timers(ek_rules *r);
/* Waits until every mailbox is empty and no worker is running a rule. */
void ek_rules_quiesce(ek_rules *r);

#endif
