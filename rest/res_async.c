/* eKuiper's asynchronous data import: POST /async/data/import[?partial=1][&stop=1] answers
 * {"id": "dataImport-<unix seconds>"} at once and imports on a thread of its own; GET
 * /async/task/{id} answers the task's {id, status, message, createdTimestamp, updatedTimestamp}
 * (status register, running, finish, error or cancel) and POST /async/task/{id}/cancel marks it
 * cancelled (an import not yet begun is then skipped).
 *
 * Task statuses are kept in the store (namespace async_task), so they survive a restart; a task
 * that was running when kuiperd stopped reads "cancel" afterwards, as in eKuiper. A finished task's
 * thread is joined when the next task starts, so a long-running kuiperd keeps no finished threads;
 * the rest are joined by rest__tasks_free when the REST server stops, before the engine they use
 * goes away. */
#include "engine/codec_json.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "rest/rest_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define NS_TASKS "async_task"

typedef struct task {
    pthread_t thread;
    ek_app *app;
    char id[64];
    ek_value doc;
    bool partial, stop;
    atomic_bool done; /* set by the thread as it ends: it can be joined without waiting */
    struct task *next;
} task;

struct rest_tasks {
    pthread_mutex_t lock; /* the list and every status read-modify-write */
    task *list;
};

/* Reads id's status object into *out; false when there is none. Call with the lock held. */
static bool load(ek_app *app, const char *id, ek_value *out)
{
    char *val = NULL;
    size_t len = 0;
    *out = ek_null();
    if (!app->store || ek_store_get(app->store, NS_TASKS, id, &val, &len, NULL) != 0) return false;
    bool ok = ek_json_decode(val, len, 0, out, NULL) == 0 && out->type == EK_T_OBJECT;
    ek_free(val);
    if (!ok) ek_value_unref(out);
    return ok;
}

/* Writes id's status (creating it when new) with updatedTimestamp now. Call with the lock held. */
static void save(ek_app *app, const char *id, const char *status, const char *message)
{
    ek_value s;
    int64_t now = ek_now_ms() / 1000;
    if (!load(app, id, &s)) {
        s = ek_object_new(5);
        ek_object_set(&s, "id", ek_string(id));
        ek_object_set(&s, "status", ek_string(""));
        ek_object_set(&s, "message", ek_string(""));
        ek_object_set(&s, "createdTimestamp", ek_int(now));
    }
    ek_object_set(&s, "status", ek_string(status));
    if (message) ek_object_set(&s, "message", ek_string(message));
    ek_object_set(&s, "updatedTimestamp", ek_int(now));
    char *text = ek_json_encode_str(&s, 0);
    if (app->store) ek_store_set(app->store, NS_TASKS, id, text, strlen(text), NULL);
    ek_free(text);
    ek_value_unref(&s);
}

/* True when id's status is cancel. Call with the lock held. */
static bool cancelled(ek_app *app, const char *id)
{
    ek_value s;
    if (!load(app, id, &s)) return false;
    const ek_value *st = ek_object_get(&s, "status");
    bool c = st && st->type == EK_T_STRING && strcmp(ek_str_ptr(st), "cancel") == 0;
    ek_value_unref(&s);
    return c;
}

static void import_task(task *t)
{
    struct rest_tasks *ts = t->app->rest_tasks;
    pthread_mutex_lock(&ts->lock);
    bool skip = cancelled(t->app, t->id);
    if (!skip) save(t->app, t->id, "running", NULL);
    pthread_mutex_unlock(&ts->lock);
    if (skip) return;
    ek_value status;
    bool ok = rest__import_doc(t->app, &t->doc, t->partial, &status);
    ek_value_unref(&t->doc); /* only the small task record stays until the server stops */
    t->doc = ek_null();
    char *json = ek_json_encode_str(&status, 0);
    char *msg = ok ? ek_strdup(json) : ek_asprintf("err:some items failed to import, response:%s", json);
    pthread_mutex_lock(&ts->lock);
    if (!cancelled(t->app, t->id)) save(t->app, t->id, ok ? "finish" : "error", msg);
    pthread_mutex_unlock(&ts->lock);
    ek_info("asynchronous import %s: %s", t->id, ok ? "finished" : "some items failed");
    ek_free(msg);
    ek_free(json);
    ek_value_unref(&status);
    if (t->stop) rest__shutdown_later(t->app);
}

static void *run(void *arg)
{
    task *t = arg;
    import_task(t);
    atomic_store(&t->done, true);
    return NULL;
}

static void task_free(task *t)
{
    pthread_join(t->thread, NULL);
    ek_value_unref(&t->doc);
    ek_free(t);
}

/* Joins and frees the tasks whose thread has ended. Call with the lock held. */
static void reap_finished(struct rest_tasks *ts)
{
    for (task **p = &ts->list; *p;) {
        task *t = *p;
        if (!atomic_load(&t->done)) {
            p = &t->next;
            continue;
        }
        *p = t->next;
        task_free(t);
    }
}

/* Collects the ids of tasks left register or running by a previous run. */
static int collect_stale(const char *key, const char *val, size_t len, void *arg)
{
    ek_value s;
    if (ek_json_decode(val, len, 0, &s, NULL) != 0) return 0;
    const ek_value *st = ek_object_get(&s, "status");
    if (st && st->type == EK_T_STRING && (!strcmp(ek_str_ptr(st), "running") || !strcmp(ek_str_ptr(st), "register")))
        ek_array_push(arg, ek_string(key));
    ek_value_unref(&s);
    return 0;
}

void rest__tasks_new(ek_app *app)
{
    struct rest_tasks *ts = ek_calloc(1, sizeof *ts);
    pthread_mutex_init(&ts->lock, NULL);
    app->rest_tasks = ts;
    if (!app->store) return;
    /* Collect first, then write: the store is not changed while it is being iterated. */
    ek_value stale = ek_array_new(0);
    ek_store_foreach(app->store, NS_TASKS, collect_stale, &stale, NULL);
    for (size_t i = 0; i < ek_array_len(&stale); i++) save(app, ek_str_ptr(ek_array_get(&stale, i)), "cancel", NULL);
    ek_value_unref(&stale);
}

void rest__tasks_free(ek_app *app)
{
    struct rest_tasks *ts = app->rest_tasks;
    if (!ts) return;
    for (task *t = ts->list, *next; t; t = next) {
        next = t->next;
        task_free(t);
    }
    pthread_mutex_destroy(&ts->lock);
    ek_free(ts);
    app->rest_tasks = NULL;
}

static void import_async(rest_req *req, rest_resp *resp)
{
    struct rest_tasks *ts = req->app->rest_tasks;
    if (!req->app->rules || !ts) {
        rest__error(resp, 503, 1000, "the rule engine is not running");
        return;
    }
    ek_value doc;
    if (!rest__read_doc(req, resp, "import configuration", &doc)) return;
    task *t = ek_calloc(1, sizeof *t);
    t->app = req->app;
    t->doc = doc;
    t->partial = rest__flag(req, "partial");
    t->stop = rest__flag(req, "stop");
    pthread_mutex_lock(&ts->lock);
    reap_finished(ts);
    /* eKuiper's id is dataImport-<unix seconds>; a second task in the same second gets a suffix. */
    long long now = (long long)(ek_now_ms() / 1000);
    snprintf(t->id, sizeof t->id, "dataImport-%lld", now);
    ek_value old;
    for (int n = 2; load(req->app, t->id, &old); n++) {
        ek_value_unref(&old);
        snprintf(t->id, sizeof t->id, "dataImport-%lld-%d", now, n);
    }
    save(req->app, t->id, "register", NULL);
    int rc = pthread_create(&t->thread, NULL, run, t);
    if (rc == 0) {
        t->next = ts->list;
        ts->list = t;
    } else {
        save(req->app, t->id, "error", "cannot start the import task"); /* not left "register" */
    }
    pthread_mutex_unlock(&ts->lock);
    if (rc != 0) {
        rest__error(resp, 500, 1000, "cannot start the import task");
        ek_value_unref(&t->doc);
        ek_free(t);
        return;
    }
    ek_value out = ek_object_new(1);
    ek_object_set(&out, "id", ek_string(t->id));
    rest__json(resp, 200, &out);
    ek_value_unref(&out);
}

/* Reads the status of task req->params[0] into *s under the tasks' lock and, with cancel, asks the
 * task to stop; when there is no such task, answers 400 and returns false. */
static bool find_task(rest_req *req, rest_resp *resp, bool cancel, ek_value *s)
{
    struct rest_tasks *ts = req->app->rest_tasks;
    bool found = false;
    if (ts) {
        pthread_mutex_lock(&ts->lock);
        found = load(req->app, req->params[0], s);
        if (found && cancel) save(req->app, req->params[0], "cancel", NULL);
        pthread_mutex_unlock(&ts->lock);
    }
    if (!found) rest__error(resp, 400, 1000, "async task: %s not found", req->params[0]);
    return found;
}

static void task_status(rest_req *req, rest_resp *resp)
{
    ek_value s = ek_null();
    if (find_task(req, resp, false, &s)) rest__json(resp, 200, &s);
    ek_value_unref(&s);
}

static void task_cancel(rest_req *req, rest_resp *resp)
{
    ek_value s = ek_null();
    if (find_task(req, resp, true, &s)) rest__text(resp, 200, "cancel success");
    ek_value_unref(&s);
}

const rest_route rest__routes_async[] = {
    {"POST", "/async/data/import", import_async},
    {"GET", "/async/task/{id}", task_status},
    {"POST", "/async/task/{id}/cancel", task_cancel},
    {NULL, NULL, NULL},
};
