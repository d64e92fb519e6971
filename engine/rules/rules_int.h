/* Private to engine/rules/: the types shared by the catalog, the rule lifecycle, the actor runtime,
 * the planner and the operators.
 *
 * Data path of one running rule (a rules__run):
 *   feed (one per stream, shared) --mail--> mailbox --worker--> node 0 -> node 1 -> ... -> sinks
 * A node is an operator (ek_op_ops) plus its state and metrics; operators never call a neighbour:
 * they hand batches to rules__emit, which the runtime routes to the next node, counting on the
 * way. A batch is either one event (ntuples 1, window false) or the content of a window firing.
 * Invariant: a rule's nodes run on one worker thread at a time (the actor's scheduled flag), so
 * operator state needs no lock; metrics are atomics because REST reads them concurrently. */
#ifndef EK_RULES_INT_H
#define EK_RULES_INT_H

#include "connectors/connector.h"
#include "engine/app.h"
#include "engine/rules/rules.h"
#include "engine/row.h"
#include "sql/sql.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct rules__run rules__run;
typedef struct rules__node rules__node;
typedef struct rules__feed rules__feed;

/* ------------------------------------------------------------------ catalog (catalog.c) */

typedef struct rules__stream {
    char *name;
    bool table;
    char *sql;                  /* the CREATE statement as given */
    ek_stmt *stmt;              /* parsed: stmt->create */
    ek_sql_schema schema;       /* borrows from stmt */
} rules__stream;

/* Finds a stream (table false) or table by name; caller holds r->lock. */
rules__stream *rules__stream_find(ek_rules *r, const char *name, int table);
/* A property of a stream (NULL when not set). */
static inline const char *rules__prop(const rules__stream *s, ek_stream_prop p) { return s->stmt->create.props[p]; }
int rules__catalog_load(ek_rules *r, ek_err *err);
void rules__catalog_free(ek_rules *r);

/* ------------------------------------------------------------------ metrics (metrics.c) */

typedef struct rules__metrics {
    atomic_llong in, out, processed, latency_us, buffer_len, last_invocation, exceptions, last_exc_time;
    atomic_int conn_status;     /* 1 connected, 0 connecting, -1 disconnected */
    atomic_llong conn_last_connected, conn_last_disconnected, conn_last_try;
    pthread_mutex_t lock;       /* guards the two strings */
    char last_exc[256];
    char conn_last_msg[256];
    char name[96];              /* "source_demo_0", "op_2_project_0", "sink_log_0_0" */
    bool connection;            /* print the connection_* metrics */
    bool cache;                 /* a sink with enableCache: print cache_dropped_total */
    atomic_llong cache_dropped; /* messages the full cache dropped (ek_cache_stats.dropped) */
} rules__metrics;

/* Hot-path metric updates. A node's, source's or sink's counters are written only by the thread
 * running its actor, one at a time, so a relaxed load and store replaces a locked
 * read-modify-write; REST readers see a recent value. */
static inline void rules__m_add(atomic_llong *c, long long d)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + d, memory_order_relaxed);
}
static inline void rules__m_set(atomic_llong *c, long long v) { atomic_store_explicit(c, v, memory_order_relaxed); }
/* Whether this invocation measures process_latency_us: one in 16 (the clock reads cost as much as a
 * simple operator), the first one, and every window firing. */
static inline bool rules__m_timed(rules__metrics *m, bool window)
{
    return window || (atomic_load_explicit(&m->processed, memory_order_relaxed) & 15) == 0;
}
/* Wall clock in ms at the kernel tick's resolution (a few ms): enough for last_invocation. */
int64_t rules__coarse_ms(void);
/* Monotonic clock in µs, for latencies. */
int64_t rules__mono_us(void);

void rules__metrics_init(rules__metrics *m, const char *name, bool connection);
void rules__metrics_destroy(rules__metrics *m);
void rules__metrics_exception(rules__metrics *m, const char *msg);
/* Adds the 9 (or 14 with connection, one more with a cache) "<name>_<metric>" keys to obj. */
void rules__metrics_put(rules__metrics *m, ek_value *obj);

/* ------------------------------------------------------------------ actors (actor.c) */

enum { MAIL_ROW, MAIL_ERROR, MAIL_RESULT };
enum { RULES_POOL_RULE = 1, RULES_POOL_SINK = 2 };

typedef struct rules__mail {
    int kind;
    int src;                    /* source index in the rule's FROM/JOIN list */
    ek_row *row;                /* MAIL_ROW (one reference) */
    char *err;                  /* MAIL_ERROR (owned) */
    ek_value v, meta;           /* MAIL_RESULT to a sink: the result and its metadata (owned) */
    ek_ack *ack;                /* one reference: the publisher's acknowledgement waits for it */
} rules__mail;

#define RULES_CPU_BUCKETS 7

typedef struct rules__actor {
    pthread_mutex_t lock;
    pthread_cond_t cond;        /* space in the ring, or the actor went idle */
    rules__mail *ring;
    size_t cap, head, len;
    size_t limit;               /* bufferLength: the most mails queued */
    bool scheduled;             /* in the run queue or running: no second worker may take it */
    bool tick_pending;
    int64_t tick_at;
    bool closed;                /* refuses new mail */
    int pool_kind;              /* RULES_POOL_RULE (default when 0) or RULES_POOL_SINK */
    int64_t dropped;            /* mail dropped because the ring was full and the poster a worker */
    size_t len_at_take;         /* queue length when the mail being handled was taken (buffer_length) */
    struct rules__actor *next_ready;
    void (*handle)(struct rules__actor *a, rules__mail *m);   /* runs on a worker */
    void (*tick)(struct rules__actor *a, int64_t now);
    /* rule_cpu.c: CPU ns spent in this actor per 5-second bucket, and each bucket's epoch. */
    atomic_llong cpu_ns[RULES_CPU_BUCKETS];
    atomic_llong cpu_epoch[RULES_CPU_BUCKETS];
} rules__actor;

/* rule_cpu.c: around a turn of actor a on a worker (run_turn): begin reads the thread's CPU clock
 * when basic.resourceProfileConfig.enable (else -1), end adds the time spent to a's buckets. */
int64_t rules__cpu_begin(ek_rules *r);
void rules__cpu_end(rules__actor *a, int64_t t0);

typedef struct rules__pool rules__pool;

/* Makes the rule pool (nthreads workers) and the sink pool (at least 2), without threads yet. */
void rules__pool_start(ek_rules *r, int nthreads);
/* Starts the pools' workers that are not running yet: before the first rule runs. 0 or EK_EIO. */
int rules__pool_spawn(ek_rules *r, ek_err *err);
void rules__pool_stop(ek_rules *r);
void rules__actor_init(rules__actor *a, size_t cap);
/* Waits until the actor has handled everything queued (no new mail must be arriving). */
void rules__actor_drain(ek_rules *r, rules__actor *a);
/* Refuses further mail, waits until no worker runs the actor, then drops what is queued. */
void rules__actor_close(ek_rules *r, rules__actor *a);
void rules__actor_destroy(rules__actor *a);
/* Queues mail (taking its row/err). When the ring is full a non-worker thread waits for space
 * (back-pressure to the source); a worker thread drops the oldest mail and returns 1 so the
 * caller counts it (eKuiper's "buffer full"), never blocking the pool on itself. Returns -1
 * when the actor is closed (the mail is freed). */
int rules__actor_post(ek_rules *r, rules__actor *a, rules__mail *m);
void rules__actor_post_tick(ek_rules *r, rules__actor *a, int64_t now);
/* Actors made runnable by posts, to put on their pool's run queue together (one lock round, one
 * wake-up) when a source fans one message out to many rules. All must share one pool. */
typedef struct rules__sched {
    rules__actor **v;
    size_t n, cap;
} rules__sched;
/* rules__actor_post, except that an actor it makes runnable is added to later instead of being
 * queued: the caller must call rules__sched_flush(later) soon (without holding a->lock). */
int rules__actor_post_to(ek_rules *r, rules__actor *a, rules__mail *m, rules__sched *later);
void rules__sched_flush(ek_rules *r, rules__sched *s);
void rules__mail_free(rules__mail *m);

/* ------------------------------------------------------------------ timers (timer.c) */

/* Starts the timer thread (none with manual_timers) unless it runs; before the first rule runs. */
int rules__timer_start(ek_rules *r, ek_err *err);
void rules__timer_stop(ek_rules *r);
/* Asks for a tick at `at` (the earlier of this and a pending request wins); INT64_MAX clears. */
void rules__timer_set(ek_rules *r, rules__run *run, int64_t at);
void rules__timer_remove(ek_rules *r, rules__run *run);

/* ------------------------------------------------------------------ batches and operators */

typedef struct rules__batch {
    ek_row **rows;              /* ntuples * width, NULL for an outer-join miss */
    size_t ntuples, width, cap;
    size_t *groups;             /* after aggregation: ngroups + 1 tuple offsets; NULL before */
    size_t ngroups;
    int64_t wstart, wend;       /* window bounds in ms, 0 outside a window */
    bool window;                /* the content of a window firing (an empty one still reaches sinks) */
    int src;                    /* a single event: the index of its source */
    ek_value out;               /* after project: an array of objects */
} rules__batch;

void rules__batch_init(rules__batch *b, size_t width);
/* Appends one tuple of width rows (each referenced; NULL allowed). */
void rules__batch_push(rules__batch *b, ek_row *const *rows);
void rules__batch_free(rules__batch *b);

/* Where an operator sends its output: the runtime routes it to the next node. */
typedef struct rules__out {
    rules__node *from;
} rules__out;

void rules__emit(rules__out *o, rules__batch *b);       /* b stays the caller's */
void rules__emit_tick(rules__out *o, int64_t t);         /* event time: the watermark moved to t */

typedef struct ek_op_ops {
    const char *name;           /* "filter", "window", "project" ... as in metric names */
    size_t state_size;
    int (*open)(void *st, rules__run *run, ek_err *err);
    int (*on_row)(void *st, rules__batch *in, rules__out *emit, ek_err *err);
    /* Time reached now (processing time from the timer, or the watermark); returns the next time
     * the operator wants a tick, INT64_MAX for none. May be NULL. */
    int64_t (*on_tick)(void *st, int64_t now, rules__out *emit, ek_err *err);
    int (*snapshot)(void *st, ek_value *out);
    int (*restore)(void *st, const ek_value *in, ek_err *err);
    void (*close)(void *st);
} ek_op_ops;

struct rules__node {
    const ek_op_ops *ops;
    void *st;
    rules__run *run;
    rules__node *next;          /* NULL: the sinks */
    rules__metrics m;
    int64_t want_tick;
};

/* An evaluation context for tuple t of b. */
static inline ek_eval_ctx rules__ctx(const rules__run *run, const rules__batch *b, size_t t);

extern const ek_op_ops rules__op_watermark, rules__op_analytic, rules__op_window, rules__op_join, rules__op_filter,
    rules__op_aggregate, rules__op_having, rules__op_order, rules__op_project, rules__op_incagg;

/* op_window.c, shared with op_incagg.c: basic.timezone for window alignment, and the next window
 * boundary after ts on its wall clock. */
struct ek_tz;
struct ek_config;
/* The zone windows align to: the engine's basic.timezone (*own NULL), or one opened from cfg
 * (*own, to free with rules__window_zone_free); *off when neither exists. */
int rules__window_zone(rules__run *run, const struct ek_config *cfg, const struct ek_tz **tz, struct ek_tz **own,
                       int64_t *off, ek_err *err);
void rules__window_zone_free(struct ek_tz *tz);
int64_t rules__window_align(const struct ek_tz *tz, int64_t off, int64_t ts, int64_t len);
struct rules__run;
/* op_incagg.c: whether the run's statement can use the incremental tumbling window. */
bool rules__incagg_fits(const struct rules__run *run);

/* ------------------------------------------------------------------ rules (rule.c, plan.c) */

/* cron.c: a parsed five-field cron expression, one bit per allowed value. */
typedef struct rules__cron {
    uint64_t minute;
    uint32_t hour, dom;
    uint16_t month;             /* bits 1..12 */
    uint8_t dow;                /* bits 0..6, Sunday 0 */
    bool dom_star, dow_star;    /* the day fields were `*` (standard cron: restricted ones OR) */
} rules__cron;

struct ek_tz;
/* Parses "*\/5 * * * *"; EK_EINVAL naming options.cron and the bad field. */
int rules__cron_parse(const char *text, rules__cron *out, ek_err *err);
/* The first whole minute strictly after after_ms (ms since the epoch) that c matches on the wall
 * clock of tz (NULL: UTC); INT64_MAX when none within five years (say "0 0 30 2 *"). */
int64_t rules__cron_next(const rules__cron *c, int64_t after_ms, const struct ek_tz *tz);

typedef struct rules__opts {
    bool event_time, send_meta, send_error, send_nil;
    bool inc_window;            /* planOptimizeStrategy.enableIncrementalWindow */
    int64_t late_tolerance, buffer_length, qos, checkpoint_interval, restart_attempts;
    bool has_cron;              /* options.cron: run for `duration` at each match */
    rules__cron cron;
    int64_t duration;           /* options.duration in ms; 0: from the first match until a stop */
} rules__opts;

/* RS_SCHEDULED: a cron rule that was started and waits for its next match (rule->next_start). */
typedef enum { RS_STOPPED, RS_RUNNING, RS_ERROR, RS_SCHEDULED } rules__state;

typedef struct rules__rule {
    char *id;
    ek_value def;               /* the rule JSON object as stored */
    bool want_running;          /* persisted: start at the next kuiperd start */
    rules__state state;
    char msg[EK_ERR_MSG_MAX];   /* why it stopped */
    int64_t last_start, last_stop;
    rules__run *run;            /* while running */
    int64_t restarts;           /* automatic restarts since the last manual start */
    int64_t next_start;         /* RS_SCHEDULED: when cron next starts it (rule clock, ms) */
    int64_t run_until;          /* a cron rule's run: when it stops (INT64_MAX: no duration) */
    bool cron_firing;           /* the patrol is starting it for its schedule (not a user's start) */
} rules__rule;

typedef struct rules__sink {
    rules__actor actor;         /* first: the sink's mailbox, run on the sink pool */
    rules__run *run;
    atomic_llong want;          /* when the transform or cache next needs a tick (rule clock), or INT64_MAX */
    const ek_sink_ops *ops;
    void *st;
    char *type;
    ek_value props;
    struct ek_sink_transform *tf;   /* sendSingle, omitIfEmpty, dataTemplate, format ... */
    struct ek_sink_cache *cache;    /* enableCache, or NULL */
    bool batches;               /* batchSize or lingerInterval: the transform reads the clock */
    ek_ack_list held;           /* acknowledgements of results in a pending batch or in memory cache */
    bool kept;                  /* the cache took a message since its last sync */
    rules__metrics m;
} rules__sink;

/* One subscription of a run to a stream's feed. */
typedef struct rules__sub {
    rules__feed *feed;
    int src;
    bool table;
} rules__sub;

struct rules__run {
    rules__actor actor;         /* first: a mailbox pointer converts back to the run */
    ek_rules *eng;
    char *id;
    rules__opts opts;
    ek_stmt *stmt;
    ek_sql_program *prog;
    ek_sql_schema *schemas;     /* per source, borrowed from the catalog's copies below */
    ek_stmt **src_stmts;        /* private parses of each source's CREATE (the run outlives drops) */
    size_t nsrc;
    rules__node *nodes;
    size_t nnodes;
    rules__sink *sinks;
    size_t nsinks;
    rules__sub *subs;
    size_t nsubs;
    rules__metrics *src_m;      /* per source */
    int64_t start_ms;
    int64_t next_ckpt;          /* when the next checkpoint is due (qos >= 1) */
    ek_ack *cur_ack;            /* while a row is handled: its acknowledgement (borrowed), for the sinks */
    ek_ack_list ckpt_acks;      /* rows taken into operator state, released by the next checkpoint */
    int64_t ckpt_acks_since;    /* when the oldest of them came (rule clock) */
    int64_t timer_at;           /* guarded by the timer's lock */
    size_t timer_idx;
    /* A graph rule with branches runs as several parts chained here, each its own actor; the
     * first is the rule's run. Node and sink numbers continue from the previous part. */
    rules__run *part_next;
    size_t part, op_base, sink_base;
    int64_t wall_ms;            /* the (coarse) wall clock when the current mail or tick was taken */
};

/* Parses and checks a rule JSON object (id, sql or graph, actions, options with the config's
 * defaults). *opts is filled. */
int rules__rule_parse(ek_rules *r, const ek_value *def, rules__opts *opts, ek_err *err);
/* graph.c: the pipelines a graph rule describes, each a SELECT text and its actions (owned). */
typedef struct rules__gpart {
    char *sql;
    ek_value actions;
} rules__gpart;
/* Checks the graph (node types, edges, cycles, inputs) and translates it into *nparts parts (a new
 * array for rules__graph_parts_free); may create the TEMP streams of inline source nodes. */
int rules__graph_parts(ek_rules *r, const ek_value *graph, rules__gpart **parts, size_t *nparts, ek_err *err);
void rules__graph_parts_free(rules__gpart *parts, size_t n);
/* Plans and opens a run of def (nothing is subscribed yet). */
int rules__plan(ek_rules *r, const char *id, const ek_value *def, rules__run **out, ek_err *err);
/* Subscribes the run to its feeds: data starts flowing. */
int rules__run_go(rules__run *run, ek_err *err);
/* Unsubscribes, stops the actor, closes the nodes and sinks, frees the run. Accepts NULL. */
void rules__run_free(rules__run *run);
/* sink.c: opens the actions' connectors with their transforms and caches; closes them (flushing
 * pending batches); drops a deleted rule's cached data. */
int rules__sinks_open(rules__run *run, const ek_value *actions, ek_err *err);
/* Lets every sink handle what is queued, then closes the sink actors (the rule actor is closed). */
void rules__sinks_stop(rules__run *run);
void rules__sinks_close(rules__run *run);
void rules__sinks_purge(ek_rules *r, const char *id, const ek_value *def);
/* Whether a sink waits for a tick (a batch for lingerInterval, cached data): only then does a
 * rule read the clock for its sinks after each event. */
bool rules__sinks_waiting(const rules__run *run);
/* Flushes batches and resends cached data when due; returns when the sinks next need a tick. */
int64_t rules__sinks_tick(rules__run *run, int64_t now);
/* Delivers a final batch (after project) to the sinks. */
void rules__sinks_collect(rules__run *run, rules__batch *b);
/* Sends {"error": msg} to the sinks when sendError is set. */
void rules__send_error(rules__run *run, const char *msg);
/* Actor callbacks. */
void rules__run_handle(rules__actor *a, rules__mail *m);
void rules__run_tick(rules__actor *a, int64_t now);
/* Adds the node metrics of a run to obj; topo and explain. */
void rules__run_metrics(rules__run *run, ek_value *obj);
void rules__run_topo(rules__run *run, ek_value *out);
/* explain.c: eKuiper's plan description, as an array and as its text form. */
void rules__run_explain(rules__run *run, ek_value *out);
void rules__run_explain_text(rules__run *run, ek_value *out);

/* ------------------------------------------------------------------ checkpoints (end of plan.c) */

#define RULES_NS_CHECKPOINT "checkpoint"

/* With qos >= 1: saves every node's snapshot when checkpointInterval has passed, or earlier when
 * held acknowledgements wait for it (RULES_HELD_CKPT_MS), or when force; then releases them. */
void rules__checkpoint_maybe(rules__run *run, int64_t now, bool force);
/* When the next checkpoint is due (rule clock), held acknowledgements considered. */
int64_t rules__checkpoint_due(const rules__run *run);
/* The longest a publisher's acknowledgement waits for a checkpoint of a stateful rule. */
#define RULES_HELD_CKPT_MS 1000
/* Restores the nodes from the rule's last checkpoint, if any (called before data flows). */
void rules__checkpoint_restore(rules__run *run);
void rules__checkpoint_delete(ek_rules *r, const char *id);
/* A row as a value {"m": fields, "t": ts, "s": src, "e": emitter} and back. */
ek_value rules__row_save(const ek_row *row, int src);
ek_row *rules__row_load(const ek_value *v, int *src);

/* ------------------------------------------------------------------ feeds (feed.c) */

/* Subscribes run (source index src) to the shared feed of stream or table name, opening its source
 * from sql (the CREATE statement) on first use. The caller holds no lock: opening may block. */
int rules__feed_sub(ek_rules *r, const char *name, bool table, const char *sql, rules__run *run, int src,
                    rules__feed **out, ek_err *err);
/* Removes that subscription; the last one closes the source. The caller holds no lock: closing may
 * wait for a message being handed over (to a run whose actor must still be open). */
void rules__feed_unsub(ek_rules *r, rules__feed *f, rules__run *run, int src);
/* Latest rows of a scan table (RETAIN_SIZE), as a new array of row pointers in *rows (refs). */
size_t rules__feed_table_rows(rules__feed *f, ek_row ***rows);
/* A lookup table whose source answers queries (sqlite): its rows whose fields equal keys (an
 * object field -> value), shaped by the table's schema, as a new array of *n new rows. Returns 1
 * when the table keeps its rows in the feed instead (read them with rules__feed_table_rows). */
int rules__feed_lookup(rules__feed *f, const ek_value *keys, ek_row ***rows, size_t *n, ek_err *err);
void rules__feeds_free(ek_rules *r);

/* ------------------------------------------------------------------ the engine */

struct ek_rules {
    ek_app *app;
    ek_rules_opts opts;
    pthread_mutex_t op_lock;    /* serialises rule lifecycle operations (create, start, stop ...) */
    pthread_mutex_t lock;       /* catalog, rules, feeds: held briefly, never while planning */
    rules__stream **streams;
    size_t nstreams, streams_cap;
    rules__rule **rules;
    size_t nrules, rules_cap;
    rules__feed **feeds;
    size_t nfeeds, feeds_cap;
    rules__pool *pool;          /* rule actors */
    rules__pool *sink_pool;     /* sink actors */
    struct rules__timer *timer;
    struct rules__patrol *patrol;
    /* basic.timezone (PATCH /configs changes it): cron schedules, window alignment and the SQL time
     * functions read it through rules__tz. A replaced zone is kept in old_tz until ek_rules_free, so
     * a pointer read once stays valid without any lock. NULL: UTC. */
    struct ek_tz *_Atomic tz;
    struct ek_tz **old_tz;
    size_t nold_tz;
    bool started;
    bool threads_on;            /* the pools', timer's and patrol's threads run (rule.c start_threads) */
    atomic_bool cpu_profile;    /* basic.resourceProfileConfig.enable: measure CPU per rule (rule_cpu.c) */
};

/* timer.c, the patrol: every basic.rulePatrolInterval, restarts rules that failed to start and whose
 * restartStrategy.attempts allow another try. Started (unless it runs) with the first rule started. */
int rules__patrol_start(ek_rules *r, ek_err *err);
void rules__patrol_stop(ek_rules *r);
/* rule.c: the rule named id, or NULL; caller holds r->lock. */
rules__rule *rules__rule_find(ek_rules *r, const char *id);
/* rule.c, for the patrol: one pass over the rules (takes op_lock). */
void rules__restart_failed(ek_rules *r);
/* rule.c, for the patrol: starts the cron rules whose time came and stops those whose duration
 * is over (takes op_lock); returns the next time (rule clock) it has something to do. */
int64_t rules__cron_patrol(ek_rules *r);

static inline int64_t rules__now(const ek_rules *r)
{
    return r->opts.now_ms ? r->opts.now_ms(r->opts.clock_arg) : ek_now_ms();
}

/* A property of the CREATE statement of the run's source i (NULL when not set). */
static inline const char *rules__prop_of(const rules__run *run, size_t i, ek_stream_prop p)
{
    return run->src_stmts[i]->create.props[p];
}
/* The engine's current basic.timezone, or NULL (UTC); valid until ek_rules_free. */
static inline const struct ek_tz *rules__tz(const ek_rules *r) { return atomic_load(&((ek_rules *)r)->tz); }

static inline ek_eval_ctx rules__ctx(const rules__run *run, const rules__batch *b, size_t t)
{
    ek_eval_ctx c = {0};
    c.tz = rules__tz(run->eng);
    c.rows = (const ek_row *const *)&b->rows[t * b->width];
    c.nrows = b->width;
    c.window_start_ms = b->wstart;
    c.window_end_ms = b->wend;
    c.rule_id = run->id;
    c.rule_start_ms = run->start_ms;
    return c;
}

/* Store namespaces. */
#define RULES_NS_STREAM "stream"
#define RULES_NS_TABLE "table"
#define RULES_NS_RULE "rule"

#endif
