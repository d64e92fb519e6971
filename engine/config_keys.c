/* The keys of etc/kuiper.yaml that kuiperd reads, with their type and eKuiper's default.
 * One table instead of a chain of string comparisons: loading validates every key listed here,
 * the typed getters take their defaults from it, and docs/configuration.md follows it. */
#include "engine/config_int.h"

#include <strings.h>

const config_key config__keys[] = {
    /* basic */
    {"basic.logLevel", CK_STR, "info"},
    {"basic.debug", CK_BOOL, "false"},
    {"basic.consoleLog", CK_BOOL, "false"},
    {"basic.fileLog", CK_BOOL, "true"},
    {"basic.logDisableTimestamp", CK_BOOL, "false"},
    {"basic.rotateTime", CK_INT, "24"},
    {"basic.maxAge", CK_INT, "72"},
    {"basic.rotateSize", CK_INT, "10485760"},
    {"basic.rotateCount", CK_INT, "3"},
    {"basic.ip", CK_STR, "0.0.0.0"},
    {"basic.port", CK_INT, "20498"},
    {"basic.restIp", CK_STR, "0.0.0.0"},
    {"basic.restPort", CK_INT, "9081"},
    {"basic.restTls.certfile", CK_STR, ""},
    {"basic.restTls.keyfile", CK_STR, ""},
    {"basic.timezone", CK_STR, "Local"},
    {"basic.authentication", CK_BOOL, "false"},
    {"basic.prometheus", CK_BOOL, "false"},
    {"basic.prometheusPort", CK_INT, "20499"},
    {"basic.pluginHosts", CK_STR, "https://packages.emqx.net"},
    {"basic.ignoreCase", CK_BOOL, "false"},
    {"basic.sql.maxConnections", CK_INT, "0"},
    {"basic.rulePatrolInterval", CK_DURATION, "10s"},
    {"basic.cfgStorageType", CK_STR, "file"},
    {"basic.gracefulShutdownTimeout", CK_DURATION, "10s"},
    {"basic.enablePrivateNet", CK_BOOL, "false"},
    {"basic.resourceProfileConfig.enable", CK_BOOL, "false"},
    {"basic.allowExternalFileAccess", CK_BOOL, "false"},
    /* rule: default rule options */
    {"rule.qos", CK_INT, "0"},
    {"rule.checkpointInterval", CK_DURATION, "300s"},
    {"rule.sendError", CK_BOOL, "false"},
    {"rule.sendMetaToSink", CK_BOOL, "false"},
    {"rule.sendNilField", CK_BOOL, "false"},
    {"rule.isEventTime", CK_BOOL, "false"},
    {"rule.lateTolerance", CK_DURATION, "1s"},
    {"rule.bufferLength", CK_INT, "1024"},
    {"rule.restartStrategy.attempts", CK_INT, "0"},
    {"rule.restartStrategy.delay", CK_DURATION, "1s"},
    {"rule.restartStrategy.multiplier", CK_FLOAT, "2"},
    {"rule.restartStrategy.maxDelay", CK_DURATION, "30s"},
    {"rule.restartStrategy.jitterFactor", CK_FLOAT, "0.1"},
    /* sink: cache defaults */
    {"sink.enableCache", CK_BOOL, "false"},
    {"sink.memoryCacheThreshold", CK_INT, "1024"},
    {"sink.maxDiskCache", CK_INT, "1024000"},
    {"sink.bufferPageSize", CK_INT, "256"},
    {"sink.resendInterval", CK_DURATION, "0"},
    {"sink.cleanCacheAtStop", CK_BOOL, "false"},
    {"sink.resendAlterQueue", CK_BOOL, "false"},
    {"sink.resendPriority", CK_INT, "0"},
    {"sink.resendIndicatorField", CK_STR, ""},
    {"sink.cacheSyncInterval", CK_DURATION, "1s"},
    /* source */
    {"source.httpServerIp", CK_STR, "0.0.0.0"},
    {"source.httpServerPort", CK_INT, "10081"},
    /* store */
    {"store.type", CK_STR, "sqlite"},
    {"store.extStateType", CK_STR, "sqlite"},
    {"store.sqlite.name", CK_STR, "sqliteKV.db"},
    /* broker: overload protection (the broker reads its whole section itself, broker/config.c;
     * these entries give the keys their spelling for KUIPER__BROKER__... and a type check) */
    {"broker.maxClients", CK_INT, "0"},
    {"broker.maxConnRate", CK_INT, "0"},
    {"broker.maxMessageRate", CK_INT, "0"},
    {"broker.maxInflight", CK_INT, "32"},
    {"broker.maxQueuedMessages", CK_INT, "1000"},
    {"broker.maxTopicLevels", CK_INT, "128"},
    {"broker.maxTopicLength", CK_INT, "0"},
    /* broker: authentication and authorization (the rest of the section: broker/config.c) */
    {"broker.allowAnonymous", CK_BOOL, "true"},
    {"broker.passwordIterations", CK_INT, "10000"},
    {"broker.aclFile", CK_STR, ""},
    {"broker.aclNoMatch", CK_STR, "allow"},
    {"broker.jwt.enable", CK_BOOL, "false"},
    {"broker.jwt.from", CK_STR, "password"},
    {"broker.jwt.secret", CK_STR, ""},
    {"broker.jwt.secretBase64", CK_BOOL, "false"},
    {"broker.jwt.publicKey", CK_STR, ""},
    /* dashboard */
    {"dashboard.enable", CK_BOOL, "true"},
    {"dashboard.ip", CK_STR, "0.0.0.0"},
    {"dashboard.port", CK_INT, "9082"},
    /* broker: the scalar routing keys (the broker validates their values, broker/config.c) */
    {"broker.sharedSubscriptionStrategy", CK_STR, "round_robin"},
    {"broker.exclusiveSubscription", CK_BOOL, "false"},
    {"broker.delayedPublish", CK_BOOL, "true"},
    {"broker.maxDelayedMessages", CK_INT, "0"},
    {"dashboard.restUpstream", CK_STR, ""},
    {"dashboard.tapUpstream", CK_STR, ""},
    {NULL, CK_STR, NULL},
};

const config_key *config__key(const char *path)
{
    for (const config_key *k = config__keys; k->path; k++)
        if (strcasecmp(k->path, path) == 0) return k;
    return NULL;
}
