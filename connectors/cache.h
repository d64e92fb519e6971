/* The sink offline cache: data a sink could not deliver waits here and is resent, in order, when
 * the destination is back - across a restart too.
 *
 * The rule engine's sink node delivers every message (from the transform, sink_transform.h)
 * through ek_sink_cache_deliver instead of calling collect directly, and calls
 * ek_sink_cache_resend when ek_sink_cache_deadline says so. When collect returns EK_EIO the message
 * is kept: first in memory (memoryCacheThreshold messages), then in pages of bufferPageSize
 * messages in SQLite (data/cache.db, one row per message, keyed by the sink), at most maxDiskCache
 * more. While anything is cached, new messages queue behind it so order is kept (unless
 * resendAlterQueue). A full cache drops its oldest message, counts it and logs a warning.
 *
 * Beyond eKuiper: a background thread writes whatever the cache holds in memory to disk every
 * sink.cacheSyncInterval (default 1s), so a kill -9 loses nothing that reached the cache more than
 * that long before. Delivery is at-least-once: a message resent just before a crash may be resent
 * again after the restart.
 *
 * Threading: deliver, resend and close are called by one sink node at a time; the cache's own
 * lock protects it from its sync thread. A NULL cache (enableCache false) is valid everywhere: deliver
 * then just calls collect. */
#ifndef EK_CACHE_H
#define EK_CACHE_H

#include "connectors/connector.h"
#include "engine/buf.h"
#include "engine/config.h"
#include "engine/err.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct ek_cache_conf {
    bool enable;                 /* enableCache */
    int64_t memory_threshold;    /* memoryCacheThreshold: messages kept in memory */
    int64_t max_disk;            /* maxDiskCache: messages on disk beyond memory */
    int64_t page_size;           /* bufferPageSize: messages per disk page */
    int64_t resend_interval_ms;  /* resendInterval: pause between resent messages */
    bool clean_at_stop;          /* cleanCacheAtStop */
    bool alter_queue;            /* resendAlterQueue: live data does not wait behind the cache */
    int64_t priority;            /* resendPriority: -1 live first, 0 equal, 1 cache first */
    char indicator[64];          /* resendIndicatorField: set true on resent objects ("" none) */
    int64_t sync_interval_ms;    /* sink.cacheSyncInterval */
} ek_cache_conf;

/* Reads the cache settings: the `sink:` section of kuiper.yaml (cfg may be NULL: eKuiper's
 * defaults), overridden by the action's props (borrowed). EK_EINVAL naming a bad property. */
int ek_cache_conf_load(const ek_config *cfg, const ek_value *props, ek_cache_conf *out, ek_err *err);

typedef struct ek_sink_cache ek_sink_cache;

/* What a cache hands back to be sent: the sink's collect, or a wrapper that also counts metrics.
 * Returns 0 delivered, EK_EIO unreachable (kept), anything else dropped. */
typedef int (*ek_cache_collect_fn)(void *arg, const ek_sink_data *d, ek_err *err);
/* Optional: re-encodes a value as payload (ek_sink_transform_encode), for resendIndicatorField. */
typedef int (*ek_cache_encode_fn)(void *arg, const ek_value *value, ek_buf *out, ek_err *err);

/* Opens the cache of one sink: db_path is data/cache.db (created if absent), key names the sink
 * uniquely and stably across restarts ("<rule id>_<action index>"). Whatever a previous run left
 * under key is loaded for resend. With conf->enable false, *out is NULL and 0 is returned. */
int ek_sink_cache_open(const char *db_path, const char *key, const ek_cache_conf *conf, ek_sink_cache **out,
                       ek_err *err);
/* Stops the sync thread and writes what memory holds to disk (or drops it all with
 * cleanCacheAtStop). Accepts NULL. */
void ek_sink_cache_close(ek_sink_cache *c);
/* Drops everything cached under key in db_path (rule deleted). */
int ek_sink_cache_purge(const char *db_path, const char *key, ek_err *err);

enum { EK_CACHE_SENT = 0, EK_CACHE_KEPT = 1 };

/* Delivers d through collect, or keeps it: returns EK_CACHE_SENT (0), EK_CACHE_KEPT (1) when it
 * went to the cache (destination unreachable, or older data still waiting), or the negative code
 * of collect for data that can never be delivered (dropped; err says why). */
int ek_sink_cache_deliver(ek_sink_cache *c, const ek_sink_data *d, ek_cache_collect_fn collect, void *arg,
                          ek_err *err);
/* Resends cached messages, oldest first, while collect accepts them and the resend interval allows
 * (at most 256 per call so a rule's actor is not held long). Returns the number resent. now_ms is
 * the monotonic clock. encode may be NULL. */
int ek_sink_cache_resend(ek_sink_cache *c, int64_t now_ms, ek_cache_collect_fn collect, ek_cache_encode_fn encode,
                         void *arg);
/* Monotonic ms at which ek_sink_cache_resend should next be called; -1 when empty. */
int64_t ek_sink_cache_deadline(const ek_sink_cache *c);

/* True while the calling thread is inside a resend's collect: a sink with resendDestination
 * (mqtt topic, rest url) sends there instead. */
bool ek_sink_cache_resending(void);

typedef struct ek_cache_stats {
    int64_t memory;   /* messages held in memory */
    int64_t disk;     /* messages only on disk */
    int64_t dropped;  /* oldest messages dropped because the cache was full */
    int64_t cached;   /* messages that entered the cache */
    int64_t resent;   /* messages delivered by resend */
} ek_cache_stats;
void ek_sink_cache_stats(ek_sink_cache *c, ek_cache_stats *out);  /* zeros for NULL */
/* Forces the memory part to disk now (what the sync thread does every sync interval). */
int ek_sink_cache_sync(ek_sink_cache *c, ek_err *err);

#endif
