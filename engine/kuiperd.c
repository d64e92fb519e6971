/* kuiperd: the server. Parses eKuiper's flags, loads etc/ configuration, opens the store in
 * data/, starts the bundled MQTT broker, the rule engine and the REST API, then waits for SIGINT
 * or SIGTERM and stops them in reverse order so that what must be kept is flushed. While it waits,
 * the main thread also watches the REST and dashboard ports, bound at start, and starts their HTTP
 * servers when the first connection arrives (rest/rest.h): libmicrohttpd is loaded only then.
 * Exit status: 0 after a clean stop, 1 when start-up fails (the reason is printed on stderr and,
 * when logging is up, in log/stream.log), 2 for bad command-line usage. */
#include "broker/broker.h"
#include "engine/app.h"
#include "engine/config.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/rules/plugins.h"
#include "engine/rules/provision.h"
#include "engine/rules/rules.h"
#include "engine/store.h"
#include "rest/dashboard.h"
#include "rest/prometheus.h"
#include "rest/rest.h"

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct options {
    const char *etc, *data, *log, *plugins;
    const char *rest_upstream, *tap_upstream;
    bool broker_only, dashboard_only;
    int cmd;          /* index in argv of a subcommand ("user"), 0 without one */
} options;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: kuiperd [options]\n"
            "\n"
            "The kuiper stream-processing engine with a bundled MQTT broker.\n"
            "\n"
            "Options:\n"
            "  --etc DIR        configuration directory (default: etc)\n"
            "  --data DIR       data directory: stores, caches, init.json, rules/ (default: data)\n"
            "  --log DIR        log directory for stream.log (default: log)\n"
            "  --plugins DIR    plugin directory (default: plugins)\n"
            "  --broker-only    run only the MQTT broker (no rule engine, no REST API)\n"
            "  --dashboard-only serve only the dashboard, forwarding its REST calls to\n"
            "                   --rest-upstream URL (dashboard.restUpstream) and its live\n"
            "                   message views to --tap-upstream URL (dashboard.tapUpstream)\n"
            "  --version        print the version and exit\n"
            "  --help           print this help and exit\n"
            "\n"
            "Commands:\n"
            "  user add|passwd|del|list|hash ...  manage the MQTT broker's users (kuiperd user for help)\n"
            "\n"
            "Settings come from DIR/kuiper.yaml and may be overridden from the environment,\n"
            "e.g. KUIPER__BASIC__RESTPORT=9090 (see docs/configuration.md).\n");
}

/* Accepts --name VALUE, --name=VALUE and eKuiper's single-dash -name VALUE. */
static int parse_args(int argc, char **argv, options *o)
{
    static const struct { const char *name; size_t off; } dirs[] = {
        {"etc", offsetof(options, etc)}, {"data", offsetof(options, data)},
        {"log", offsetof(options, log)}, {"plugins", offsetof(options, plugins)},
        {"rest-upstream", offsetof(options, rest_upstream)}, {"tap-upstream", offsetof(options, tap_upstream)},
    };
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "user")) {
            o->cmd = i;
            return 0;
        }
        if (a[0] != '-') goto bad;
        a += a[1] == '-' ? 2 : 1;
        const char *eq = strchr(a, '=');
        size_t n = eq ? (size_t)(eq - a) : strlen(a);
        if (n == 7 && !strncmp(a, "version", n)) { printf("kuiperd version %s\n", EK_VERSION); exit(0); }
        if (n == 4 && !strncmp(a, "help", n)) { usage(stdout); exit(0); }
        if (n == 11 && !strncmp(a, "broker-only", n)) { o->broker_only = true; continue; }
        if (n == 14 && !strncmp(a, "dashboard-only", n)) { o->dashboard_only = true; continue; }
        bool matched = false;
        for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
            if (strlen(dirs[d].name) != n || strncmp(a, dirs[d].name, n) != 0) continue;
            const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!val || !*val) {
                fprintf(stderr, "kuiperd: --%s needs a value\n", dirs[d].name);
                return 2;
            }
            *(const char **)((char *)o + dirs[d].off) = val;
            matched = true;
        }
        if (n == 12 && !strncmp(a, "loadFileType", n)) { if (!eq) i++; matched = true; } /* eKuiper compat */
        if (!matched) goto bad;
    }
    return 0;
bad:
    fprintf(stderr, "kuiperd: unknown argument \"%s\"\n\n", argv[i]);
    usage(stderr);
    return 2;
}

static int make_dir(const char *path, ek_err *err)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST) return 0;
    return ek_err_set(err, EK_EIO, "cannot create directory %s: %s", path, strerror(errno));
}

/* kuiperd user ...: the broker's user database, with broker.passwordIterations when etc/ loads. */
static int user_cmd(const options *o, int argc, char **argv)
{
    ek_config *cfg = NULL;
    ek_err err = {0};
    uint32_t iterations = 0;
    if (ek_config_load(o->etc, NULL, &cfg, &err) == 0) {
        int64_t n = ek_config_int(cfg, "broker.passwordIterations");
        if (n > 0 && n <= 10000000) iterations = (uint32_t)n;
    }
    ek_config_free(cfg);
    if (make_dir(o->data, &err)) {
        fprintf(stderr, "kuiperd: %s\n", err.msg);
        return 1;
    }
    return ek_broker_user_cmd(argc - o->cmd - 1, argv + o->cmd + 1, o->data, iterations);
}

static int start_logging(const ek_app *app, ek_err *err)
{
    ek_log_conf lc = {
        .console = ek_config_bool(app->config, "basic.consoleLog"),
        .file = ek_config_bool(app->config, "basic.fileLog"),
        .dir = app->log_dir,
        .disable_timestamp = ek_config_bool(app->config, "basic.logDisableTimestamp"),
        .rotate_hours = ek_config_int(app->config, "basic.rotateTime"),
        .rotate_size = ek_config_int(app->config, "basic.rotateSize"),
        .rotate_count = ek_config_int(app->config, "basic.rotateCount"),
        .max_age_hours = ek_config_int(app->config, "basic.maxAge"),
    };
    const char *lvl = ek_config_str(app->config, "basic.logLevel");
    if (!ek_log_parse_level(lvl, &lc.level))
        return ek_err_set(err, EK_ECONF, "basic.logLevel: unknown level \"%s\" (debug, info, warn, error)", lvl);
    if (ek_config_bool(app->config, "basic.debug")) lc.level = EK_LOG_DEBUG;
    return ek_log_init(&lc, err);
}

static int start_store(ek_app *app, ek_err *err)
{
    if (make_dir(app->data_dir, err)) return err->code;
    char *uploads = ek_asprintf("%s/uploads", app->data_dir);
    int rc = make_dir(uploads, err);
    ek_free(uploads);
    if (rc) return rc;
    char *path = ek_asprintf("%s/%s", app->data_dir, ek_config_str(app->config, "store.sqlite.name"));
    rc = ek_store_open(path, &app->store, err);
    ek_free(path);
    return rc;
}

static int start_broker(ek_app *app, ek_err *err)
{
    const ek_value *section = ek_config_get(app->config, "broker");
    const ek_value *enable = section ? ek_config_lookup(section, "enable") : NULL;
    if (enable && enable->type == EK_T_BOOL && !enable->b) {
        ek_info("the bundled MQTT broker is disabled (broker.enable: false)");
        return 0;
    }
    ek_value none = ek_null();
    return ek_broker_start(section ? section : &none, app->data_dir, &app->broker, err);
}

/* The web dashboard (dashboard.enable), started after the REST API whose routes it serves. */
static int start_dashboard(ek_app *app, ek_dashboard **out, ek_err *err)
{
    if (!ek_config_bool(app->config, "dashboard.enable")) return 0;
    const char *ip = ek_config_str(app->config, "dashboard.ip");
    if (ek_dashboard_start(app, ip, (int)ek_config_int(app->config, "dashboard.port"), out, err)) return err->code;
    printf("Dashboard on http://%s:%d.\n", ip, ek_dashboard_port(*out));
    return 0;
}

/* --dashboard-only: the dashboard alone, forwarding to dashboard.restUpstream (proxy.c). */
static int start_dashboard_only(ek_app *app, ek_dashboard **out, ek_err *err)
{
    const char *upstream = ek_config_str(app->config, "dashboard.restUpstream");
    if (!*upstream)
        return ek_err_set(err, EK_ECONF, "--dashboard-only needs --rest-upstream URL (or dashboard.restUpstream)");
    const char *ip = ek_config_str(app->config, "dashboard.ip");
    if (ek_dashboard_start(app, ip, (int)ek_config_int(app->config, "dashboard.port"), out, err)) return err->code;
    printf("Dashboard on http://%s:%d, forwarding to %s.\n", ip, ek_dashboard_port(*out), upstream);
    return 0;
}

/* The HTTP servers of a full kuiperd, stopped in reverse order. */
typedef struct servers {
    ek_rest *rest;
    ek_dashboard *dashboard;
    ek_prometheus *prom;
} servers;

/* The rule engine, its REST API, the dashboard and Prometheus. */
static int start_engine(ek_app *app, servers *sv, ek_err *err)
{
    ek_plugins_load_all(app); /* before rules are restored; a bad plugin is logged, not fatal */
    if (ek_rules_new(app, NULL, &app->rules, err)) return err->code;
    if (ek_rest_restore_configs(app, err)) return err->code; /* PATCH /configs changes, before rules run */
    ek_rules_cpu_profile(app->rules, ek_config_bool(app->config, "basic.resourceProfileConfig.enable"));
    if (ek_rules_start(app->rules, err)) return err->code;
    ek_provision_run(app, app->rules); /* data/init.json, data/rules/: a bad file is logged, not fatal */
    const char *ip = ek_config_str(app->config, "basic.restIp");
    int port = (int)ek_config_int(app->config, "basic.restPort");
    if (ek_rest_start(app, ip, port, &sv->rest, err)) return err->code;
    printf("Serving kuiper (version - %s) on port %d, and restful api on http://%s:%d.\n", EK_VERSION,
           (int)ek_config_int(app->config, "basic.port"), ip, ek_rest_port(sv->rest));
    if (start_dashboard(app, &sv->dashboard, err)) return err->code;
    if (ek_config_bool(app->config, "basic.prometheus") &&
        ek_prometheus_start(app, ip, (int)ek_config_int(app->config, "basic.prometheusPort"), &sv->prom, err))
        return err->code;
    return 0;
}

/* What only start-up needed goes back to the system before the long wait: the pages the store
 * cached while every definition was read, and the free memory malloc keeps (bench/RESULTS.md,
 * "Idle memory"). */
static void trim_after_start(ek_app *app)
{
    ek_store_release_memory(app->store);
    malloc_trim(0);
}

/* Starts the HTTP servers still waiting for a first connection whose socket poll found ready
 * (revents of the REST and dashboard sockets; every one when ready is NULL). */
static int serve_ready(servers *sv, const struct pollfd *ready, ek_err *err)
{
    if (sv->rest && (!ready || ready[0].revents) && ek_rest_serve(sv->rest, err)) return err->code;
    if (sv->dashboard && (!ready || ready[1].revents) && ek_dashboard_serve(sv->dashboard, err)) return err->code;
    return 0;
}

/* Waits for SIGINT or SIGTERM (blocked in every thread, read here through a signalfd) and, until
 * then, for the first connection to the REST API and the dashboard, starting each server when its
 * own arrives. Fails only when a server cannot start: kuiperd then stops as at start-up. */
static int wait_for_signal(servers *sv, ek_err *err)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    int sig = 0;
    if (sfd < 0) { /* cannot watch both: serve at once and wait as before */
        if (serve_ready(sv, NULL, err)) return err->code;
        sigwait(&set, &sig);
    }
    while (sfd >= 0) {
        struct pollfd p[3] = {{.fd = sv->rest ? ek_rest_idle_fd(sv->rest) : -1, .events = POLLIN},
                              {.fd = sv->dashboard ? ek_dashboard_idle_fd(sv->dashboard) : -1, .events = POLLIN},
                              {.fd = sfd, .events = POLLIN}};
        if (poll(p, 3, -1) < 0) continue; /* EINTR only: every fd is valid */
        if (serve_ready(sv, p, err)) {
            close(sfd);
            return err->code;
        }
        struct signalfd_siginfo si;
        if (p[2].revents && read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
            sig = (int)si.ssi_signo;
            close(sfd);
            sfd = -1;
        }
    }
    ek_info("received signal %d, stopping", sig);
    return 0;
}

int main(int argc, char **argv)
{
    options o = {.etc = "etc", .data = "data", .log = "log", .plugins = "plugins"};
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc;
    if (o.cmd) return user_cmd(&o, argc, argv);
    if (o.broker_only && o.dashboard_only) {
        fprintf(stderr, "kuiperd: --broker-only and --dashboard-only exclude each other\n");
        return 2;
    }
    /* The flags win over kuiper.yaml and the environment: they become the environment overrides
     * ek_config_load reads (no other thread runs yet). */
    if (o.rest_upstream) setenv("KUIPER__DASHBOARD__RESTUPSTREAM", o.rest_upstream, 1);
    if (o.tap_upstream) setenv("KUIPER__DASHBOARD__TAPUPSTREAM", o.tap_upstream, 1);

    /* Signals are taken by sigwait in the main thread; every thread started later inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    ek_app app = {.started_ms = ek_now_ms()};
    app.etc_dir = ek_strdup(o.etc);
    app.data_dir = ek_strdup(o.data);
    app.log_dir = ek_strdup(o.log);
    app.plugins_dir = ek_strdup(o.plugins);
    ek_err err = {0};
    servers sv = {0};
    int status = 1;

    if (ek_config_load(app.etc_dir, NULL, &app.config, &err)) goto out;
    if (start_logging(&app, &err)) goto out;
    if (o.dashboard_only) {
        if (start_dashboard_only(&app, &sv.dashboard, &err)) goto out;
        goto started;
    }
    if (start_store(&app, &err)) goto out;
    if (start_broker(&app, &err)) goto out;
    if (o.broker_only) {
        if (ek_rest_restore_configs(&app, &err)) goto out; /* PATCH /configs log settings */
        if (start_dashboard(&app, &sv.dashboard, &err)) goto out; /* its /tap: live views of this broker */
    } else if (start_engine(&app, &sv, &err)) {
        goto out;
    }
    if (app.broker) printf("MQTT broker listening on port %d.\n", ek_broker_port(app.broker));
started:
    fflush(stdout);
    ek_info("kuiperd %s started", EK_VERSION);
    trim_after_start(&app);

    if (wait_for_signal(&sv, &err)) goto out;
    status = 0;
out:
    if (err.code) {
        fprintf(stderr, "kuiperd: %s\n", err.msg);
        ek_error("%s", err.msg);
    }
    ek_prometheus_stop(sv.prom);
    ek_dashboard_stop(sv.dashboard);
    ek_rest_stop(sv.rest);
    ek_rules_free(app.rules);
    ek_broker_stop(app.broker);
    ek_store_close(app.store);
    if (!err.code) ek_info("kuiperd stopped");
    ek_log_close();
    ek_config_free(app.config);
    ek_free(app.etc_dir);
    ek_free(app.data_dir);
    ek_free(app.log_dir);
    ek_free(app.plugins_dir);
    return status;
}
