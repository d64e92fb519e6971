/* The plugin manager (see plugins.h): dlopen, the checks that keep a bad plugin from hurting
 * kuiperd, the registry of loaded plugins, and the install / delete / persist operations the REST
 * API uses. A plugin is checked completely (entry symbol, ABI version, every name) before
 * anything of it is registered, so a refused plugin leaves no trace but a log line.
 * Invariant: a loaded plugin's handle is never closed, so the ek_func_def and connector vtables
 * it handed out stay valid while rules compiled against them run. */
#include "engine/rules/plugins.h"

#include "connectors/connector.h"
#include "engine/codec_json.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "plugins/plugin.h"
#include "sql/bind.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define STORE_NS "plugin"

typedef struct loaded {
    char *name;
    char *path;
    void *handle;
    const ek_plugin *desc;
    unsigned kinds;        /* bit per ek_plugin_kind */
    bool deleted;
    ek_value registered;   /* the function list given by /register, or null */
} loaded;

/* The registry: filled at start and by REST, read by the binder on rule creation. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static loaded **plugins;
static size_t nplugins, cap;

/* The functions plugin.h promises: referenced here so the static link keeps them in kuiperd,
 * which exports them (-rdynamic) for plugins to call. */
__attribute__((used)) static void *const abi_exports[] = {
    (void *)ek_string, (void *)ek_string_n, (void *)ek_string_fmt, (void *)ek_bytes, (void *)ek_array_new,
    (void *)ek_array_push, (void *)ek_object_new, (void *)ek_object_set, (void *)ek_object_get,
    (void *)ek_object_get_ci, (void *)ek_value_ref, (void *)ek_value_unref, (void *)ek_value_as_double,
    (void *)ek_type_name, (void *)ek_err_set, (void *)ek_malloc, (void *)ek_calloc, (void *)ek_realloc,
    (void *)ek_free, (void *)ek_strdup, (void *)ek_asprintf, (void *)ek_log, (void *)ek_json_encode_str,
    (void *)ek_json_decode,
};

static const char *const kind_dirs[] = {"sources", "sinks", "functions"};
static const char *const kind_words[] = {"source", "sink", "function"};

const char *ek_plugin_kind_dir(ek_plugin_kind k) { return kind_dirs[k]; }
const char *ek_plugin_kind_word(ek_plugin_kind k) { return kind_words[k]; }

static unsigned content_kinds(const ek_plugin *d)
{
    return (d->nsources ? 1u << EK_PLUGIN_SOURCE : 0) | (d->nsinks ? 1u << EK_PLUGIN_SINK : 0) |
           (d->nfunctions ? 1u << EK_PLUGIN_FUNCTION : 0);
}

/* A live plugin by name; lock held. */
static loaded *find(const char *name)
{
    for (size_t i = 0; i < nplugins; i++)
        if (!plugins[i]->deleted && strcmp(plugins[i]->name, name) == 0) return plugins[i];
    return NULL;
}

static const ek_func_def *find_func(const char *name, const loaded **owner)
{
    for (size_t i = 0; i < nplugins; i++) {
        const loaded *p = plugins[i];
        if (p->deleted) continue;
        for (size_t f = 0; f < p->desc->nfunctions; f++) {
            if (strcasecmp(p->desc->functions[f].name, name) != 0) continue;
            if (owner) *owner = p;
            return &p->desc->functions[f];
        }
    }
    return NULL;
}

/* Every name the plugin brings must be free (or already its own, after a delete and re-create). */
static int check_names(const char *path, const ek_plugin *d, ek_err *err)
{
    if (!d->name || !*d->name) return ek_err_set(err, EK_EINVAL, "plugin %s: the descriptor has no name", path);
    if (find(d->name)) return ek_err_set(err, EK_EEXIST, "plugin %s: a plugin named %s is already loaded", path, d->name);
    for (size_t i = 0; i < d->nfunctions; i++) {
        const ek_func_def *f = &d->functions[i];
        if (!f->name || !f->exec || (f->kind != EK_FUNC_SCALAR && f->kind != EK_FUNC_AGGREGATE))
            return ek_err_set(err, EK_EINVAL, "plugin %s: function #%zu needs a name, an exec and kind scalar or aggregate",
                              path, i);
        if (ek_func_lookup(f->name) || ek_sql_is_window_name(f->name))
            return ek_err_set(err, EK_EEXIST, "plugin %s: function %s clashes with a built-in function", path, f->name);
        const loaded *owner = NULL;
        if (find_func(f->name, &owner))
            return ek_err_set(err, EK_EEXIST, "plugin %s: function %s clashes with plugin %s", path, f->name, owner->name);
        for (size_t j = 0; j < i; j++)
            if (strcasecmp(d->functions[j].name, f->name) == 0)
                return ek_err_set(err, EK_EEXIST, "plugin %s: function %s is defined twice", path, f->name);
    }
    for (size_t i = 0; i < d->nsources; i++) {
        const ek_source_ops *o = d->sources[i];
        if (!o || !o->type || !o->open || !o->close)
            return ek_err_set(err, EK_EINVAL, "plugin %s: source #%zu needs a type, open and close", path, i);
        const ek_source_ops *have = ek_connector_source(o->type);
        if (have && have != o)
            return ek_err_set(err, EK_EEXIST, "plugin %s: source type %s is already registered", path, o->type);
    }
    for (size_t i = 0; i < d->nsinks; i++) {
        const ek_sink_ops *o = d->sinks[i];
        if (!o || !o->type || !o->open || !o->collect || !o->close)
            return ek_err_set(err, EK_EINVAL, "plugin %s: sink #%zu needs a type, open, collect and close", path, i);
        const ek_sink_ops *have = ek_connector_sink(o->type);
        if (have && have != o)
            return ek_err_set(err, EK_EEXIST, "plugin %s: sink type %s is already registered", path, o->type);
    }
    return 0;
}

/* Registers the connector types of d; the names were checked, so only a race could fail. */
static int register_types(const ek_plugin *d, ek_err *err)
{
    for (size_t i = 0; i < d->nsources; i++)
        if (ek_connector_source(d->sources[i]->type) != d->sources[i] &&
            ek_connector_register_source(d->sources[i], err))
            return err->code;
    for (size_t i = 0; i < d->nsinks; i++)
        if (ek_connector_sink(d->sinks[i]->type) != d->sinks[i] && ek_connector_register_sink(d->sinks[i], err))
            return err->code;
    return 0;
}

/* Opens path and returns its checked descriptor; lock held. */
static int open_plugin(const char *path, void **handle, const ek_plugin **desc, ek_err *err)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) return ek_err_set(err, EK_EINVAL, "plugin %s: cannot load: %s", path, dlerror());
    ek_plugin_entry_fn entry = (ek_plugin_entry_fn)dlsym(h, EK_PLUGIN_ENTRY_SYMBOL);
    if (!entry) {
        dlclose(h);
        return ek_err_set(err, EK_EINVAL, "plugin %s: missing symbol %s (not a kuiperd plugin?)", path,
                          EK_PLUGIN_ENTRY_SYMBOL);
    }
    const ek_plugin *d = entry();
    if (!d) {
        dlclose(h);
        return ek_err_set(err, EK_EINVAL, "plugin %s: %s returned no descriptor", path, EK_PLUGIN_ENTRY_SYMBOL);
    }
    if (d->abi_version != EK_PLUGIN_ABI_VERSION) {
        int v = d->abi_version;
        dlclose(h);
        return ek_err_set(err, EK_EINVAL, "plugin %s: ABI version %d, this kuiperd needs %d (rebuild it against plugins/plugin.h)",
                          path, v, EK_PLUGIN_ABI_VERSION);
    }
    *handle = h;
    *desc = d;
    return 0;
}

int ek_plugins_load_file(const char *path, int kind, const char *name, ek_err *err)
{
    pthread_mutex_lock(&lock);
    void *h = NULL;
    const ek_plugin *d = NULL;
    int rc = open_plugin(path, &h, &d, err);
    if (rc) goto out;
    unsigned kinds = content_kinds(d);
    if (name && (!d->name || strcmp(d->name, name) != 0)) {
        rc = ek_err_set(err, EK_EINVAL, "plugin %s: its name is %s, not %s", path, d->name ? d->name : "(none)", name);
    } else if (kind >= 0 && !(kinds & (1u << kind))) {
        rc = ek_err_set(err, EK_EINVAL, "plugin %s: %s provides no %s", path, d->name, kind_words[kind]);
    } else if (!kinds) {
        rc = ek_err_set(err, EK_EINVAL, "plugin %s: %s provides no function, source or sink", path, d->name);
    }
    if (!rc) rc = check_names(path, d, err);
    if (!rc) rc = register_types(d, err);
    if (rc) {
        dlclose(h);
        goto out;
    }
    loaded *p = ek_calloc(1, sizeof *p);
    p->name = ek_strdup(d->name);
    p->path = ek_strdup(path);
    p->handle = h;
    p->desc = d;
    p->kinds = kind >= 0 ? 1u << kind : kinds;
    p->registered = ek_null();
    if (nplugins == cap) {
        cap = cap ? cap * 2 : 8;
        plugins = ek_realloc(plugins, cap * sizeof *plugins);
    }
    plugins[nplugins++] = p;
    ek_info("plugin %s %s loaded from %s (%zu functions, %zu sources, %zu sinks)", d->name,
            d->version ? d->version : "", path, d->nfunctions, d->nsources, d->nsinks);
out:
    pthread_mutex_unlock(&lock);
    return rc;
}

const ek_func_def *ek_plugins_resolve(const char *name, void *arg)
{
    pthread_mutex_lock(&lock);
    const ek_func_def *d = find_func(name, NULL);
    pthread_mutex_unlock(&lock);
    return d;
}

static bool is_so(const char *file)
{
    size_t n = strlen(file);
    return n > 3 && strcmp(file + n - 3, ".so") == 0;
}

/* Loads every .so of dir (kind < 0: the top-level directory). */
static int load_dir(const char *dir, int kind)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort), count = 0;  /* -1 for a missing directory */
    for (int i = 0; i < n; i++) {
        char *path = ek_asprintf("%s/%s", dir, names[i]->d_name);
        struct stat st;
        if (is_so(names[i]->d_name) && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            ek_err err = {0};
            if (ek_plugins_load_file(path, kind, NULL, &err)) ek_error("%s; the plugin is skipped", err.msg);
            else count++;
        }
        ek_free(path);
        free(names[i]);
    }
    free(names);
    return count;
}

/* Store record of a REST-installed plugin: {"name", "kind", "file", "functions"?}. */
static void persist(ek_app *app, const loaded *p, ek_plugin_kind kind)
{
    if (!app->store) return;
    ek_value v = ek_object_new(4);
    ek_object_set(&v, "name", ek_string(p->name));
    ek_object_set(&v, "kind", ek_string(kind_dirs[kind]));
    ek_object_set(&v, "file", ek_string(p->path));
    if (p->registered.type == EK_T_ARRAY) ek_object_set(&v, "functions", ek_value_ref(&p->registered));
    char *json = ek_json_encode_str(&v, 0);
    char *key = ek_asprintf("%s:%s", kind_dirs[kind], p->name);
    ek_err err = {0};
    if (ek_store_set(app->store, STORE_NS, key, json, strlen(json), &err))
        ek_error("plugin %s: cannot be saved: %s", p->name, err.msg);
    ek_free(key);
    ek_free(json);
    ek_value_unref(&v);
}

typedef struct stored {
    ek_value list;  /* array of records */
} stored;

static int collect_stored(const char *key, const char *val, size_t len, void *arg)
{
    stored *s = arg;
    ek_value v = ek_null();
    ek_err err = {0};
    if (ek_json_decode(val, len, 0, &v, &err) == 0 && v.type == EK_T_OBJECT) ek_array_push(&s->list, v);
    else ek_value_unref(&v);
    return 0;
}

static int kind_of(const char *dir)
{
    for (int k = 0; k < 3; k++)
        if (dir && strcmp(kind_dirs[k], dir) == 0) return k;
    return -1;
}

static const char *str_field(const ek_value *o, const char *key)
{
    const ek_value *v = ek_object_get(o, key);
    return v && v->type == EK_T_STRING ? ek_str_ptr(v) : NULL;
}

/* Reloads REST-installed plugins whose file the directory scan did not find. */
static int load_stored(ek_app *app)
{
    stored s = {ek_array_new(4)};
    ek_err err = {0};
    int count = 0;
    if (app->store) ek_store_foreach(app->store, STORE_NS, collect_stored, &s, &err);
    for (size_t i = 0; i < ek_array_len(&s.list); i++) {
        const ek_value *rec = ek_array_get(&s.list, i);
        const char *name = str_field(rec, "name"), *file = str_field(rec, "file");
        int kind = kind_of(str_field(rec, "kind"));
        if (!name || !file || kind < 0) continue;
        pthread_mutex_lock(&lock);
        loaded *p = find(name);
        pthread_mutex_unlock(&lock);
        ek_err e = {0};
        if (!p && ek_plugins_load_file(file, kind, name, &e)) {
            ek_error("%s; the plugin is skipped", e.msg);
            continue;
        }
        count += !p;
        pthread_mutex_lock(&lock);
        p = find(name);
        const ek_value *fl = ek_object_get(rec, "functions");
        if (p && fl && fl->type == EK_T_ARRAY) {
            ek_value_unref(&p->registered);
            p->registered = ek_value_ref(fl);
        }
        pthread_mutex_unlock(&lock);
    }
    ek_value_unref(&s.list);
    return count;
}

int ek_plugins_load_all(ek_app *app)
{
    const char *root = app->plugins_dir ? app->plugins_dir : "plugins";
    int count = load_dir(root, -1);
    for (int k = 0; k < 3; k++) {
        char *dir = ek_asprintf("%s/%s", root, kind_dirs[k]);
        count += load_dir(dir, k);
        ek_free(dir);
    }
    count += load_stored(app);
    if (count) ek_info("%d plugins loaded", count);
    return count;
}

/* ---- REST operations ---- */

static int make_dirs(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) && errno != EEXIST ? -1 : 0;
}

/* Writes data to path as a fresh inode: a process that loaded an older file of that name keeps its
 * mapping intact. */
static int write_file(const char *path, const void *data, size_t len, ek_err *err)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (fd < 0) return ek_err_set(err, EK_EIO, "cannot write %s: %s", path, strerror(errno));
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int e = errno;
            close(fd);
            return ek_err_set(err, EK_EIO, "cannot write %s: %s", path, strerror(e));
        }
        p += n;
        len -= (size_t)n;
    }
    if (close(fd)) return ek_err_set(err, EK_EIO, "cannot write %s: %s", path, strerror(errno));
    return 0;
}

/* Extracts <name>.so from a zip into dir with unzip(1); 0 when done. */
static int unzip_so(const char *zip, const char *name, const char *dir, ek_err *err)
{
    char *member = ek_asprintf("%s.so", name);
    char *argv[] = {"unzip", "-o", "-q", "-j", (char *)zip, member, "-d", (char *)dir, NULL};
    pid_t pid;
    int status = -1;
    int rc = posix_spawnp(&pid, "unzip", NULL, NULL, argv, NULL);
    if (rc == 0) waitpid(pid, &status, 0);
    ek_free(member);
    if (rc || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return ek_err_set(err, EK_EINVAL, "cannot extract %s.so from %s (needs unzip and a %s.so inside)", name, zip, name);
    return 0;
}

int ek_plugins_install(ek_app *app, ek_plugin_kind kind, const char *name, const void *data, size_t len,
                       ek_err *err)
{
    if (!name || !*name || strchr(name, '/') || name[0] == '.')
        return ek_err_set(err, EK_EINVAL, "invalid plugin name");
    pthread_mutex_lock(&lock);
    bool taken = find(name) != NULL;
    pthread_mutex_unlock(&lock);
    if (taken) return ek_err_set(err, EK_EEXIST, "invalid name %s: duplicate", name);
    bool zip = len >= 4 && memcmp(data, "PK\x03\x04", 4) == 0;
    if (!zip && (len < 4 || memcmp(data, "\x7f" "ELF", 4) != 0))
        return ek_err_set(err, EK_EINVAL, "the file of plugin %s is neither a shared object nor a zip", name);
    char *dir = ek_asprintf("%s/%s", app->plugins_dir ? app->plugins_dir : "plugins", kind_dirs[kind]);
    char *dest = ek_asprintf("%s/%s.so", dir, name);
    char *tmp = ek_asprintf("%s/.%s.zip", dir, name);
    int rc = 0;
    if (make_dirs(dir)) {
        rc = ek_err_set(err, EK_EIO, "cannot create %s: %s", dir, strerror(errno));
        goto out;
    }
    if (zip) {
        unlink(dest);
        rc = write_file(tmp, data, len, err);
        if (!rc) rc = unzip_so(tmp, name, dir, err);
        unlink(tmp);
    } else {
        rc = write_file(dest, data, len, err);
    }
    if (rc) goto out;
    if ((rc = ek_plugins_load_file(dest, (int)kind, name, err)) != 0) {
        unlink(dest);
        goto out;
    }
    pthread_mutex_lock(&lock);
    loaded *p = find(name);
    if (p) persist(app, p, kind);
    pthread_mutex_unlock(&lock);
out:
    ek_free(dir);
    ek_free(dest);
    ek_free(tmp);
    return rc;
}

/* A live plugin of kind by name; lock held. */
static loaded *find_kind(ek_plugin_kind kind, const char *name)
{
    loaded *p = find(name);
    return p && (p->kinds & (1u << kind)) ? p : NULL;
}

int ek_plugins_delete(ek_app *app, ek_plugin_kind kind, const char *name, ek_err *err)
{
    pthread_mutex_lock(&lock);
    loaded *p = find_kind(kind, name);
    if (!p) {
        pthread_mutex_unlock(&lock);
        return ek_err_set(err, EK_ENOTFOUND, "%s plugin %s is not found", kind_words[kind], name);
    }
    p->deleted = true;
    if (unlink(p->path) && errno != ENOENT) ek_warn("plugin %s: cannot remove %s: %s", name, p->path, strerror(errno));
    pthread_mutex_unlock(&lock);
    char *key = ek_asprintf("%s:%s", kind_dirs[kind], name);
    ek_err e = {0};
    if (app->store) ek_store_delete(app->store, STORE_NS, key, &e);
    ek_free(key);
    ek_info("plugin %s deleted; its source and sink types go at the next restart", name);
    return 0;
}

void ek_plugins_list(ek_plugin_kind kind, ek_value *out)
{
    *out = ek_array_new(8);
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nplugins; i++)
        if (!plugins[i]->deleted && (plugins[i]->kinds & (1u << kind))) ek_array_push(out, ek_string(plugins[i]->name));
    pthread_mutex_unlock(&lock);
}

int ek_plugins_describe(ek_plugin_kind kind, const char *name, ek_value *out, ek_err *err)
{
    pthread_mutex_lock(&lock);
    loaded *p = find_kind(kind, name);
    if (!p) {
        pthread_mutex_unlock(&lock);
        return ek_err_set(err, EK_ENOTFOUND, "%s plugin %s is not found", kind_words[kind], name);
    }
    *out = ek_object_new(4);
    ek_object_set(out, "name", ek_string(p->name));
    ek_object_set(out, "version", ek_string(p->desc->version ? p->desc->version : ""));
    ek_object_set(out, "file", ek_string(p->path));
    if (kind == EK_PLUGIN_FUNCTION) {
        ek_value fl = ek_array_new(p->desc->nfunctions);
        for (size_t f = 0; f < p->desc->nfunctions; f++) ek_array_push(&fl, ek_string(p->desc->functions[f].name));
        ek_object_set(out, "functions", fl);
    }
    pthread_mutex_unlock(&lock);
    return 0;
}

void ek_plugins_udfs(ek_value *out)
{
    *out = ek_array_new(8);
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nplugins; i++) {
        const loaded *p = plugins[i];
        if (p->deleted || !(p->kinds & (1u << EK_PLUGIN_FUNCTION))) continue;
        for (size_t f = 0; f < p->desc->nfunctions; f++) ek_array_push(out, ek_string(p->desc->functions[f].name));
    }
    pthread_mutex_unlock(&lock);
}

int ek_plugins_udf(const char *name, ek_value *out, ek_err *err)
{
    pthread_mutex_lock(&lock);
    const loaded *owner = NULL;
    const ek_func_def *d = find_func(name, &owner);
    if (d) {
        *out = ek_object_new(2);
        ek_object_set(out, "name", ek_string(d->name));
        ek_object_set(out, "plugin", ek_string(owner->name));
    }
    pthread_mutex_unlock(&lock);
    return d ? 0 : ek_err_set(err, EK_ENOTFOUND, "function %s is not found", name);
}

int ek_plugins_register_funcs(ek_app *app, const char *name, const ek_value *functions, ek_err *err)
{
    if (!functions || functions->type != EK_T_ARRAY || ek_array_len(functions) == 0)
        return ek_err_set(err, EK_EINVAL, "missing function list");
    pthread_mutex_lock(&lock);
    loaded *p = find_kind(EK_PLUGIN_FUNCTION, name);
    int rc = 0;
    if (!p) {
        rc = ek_err_set(err, EK_ENOTFOUND, "function plugin %s is not found", name);
        goto out;
    }
    for (size_t i = 0; i < ek_array_len(functions); i++) {
        const ek_value *f = ek_array_get(functions, i);
        const loaded *owner = NULL;
        if (f->type != EK_T_STRING || !find_func(ek_str_ptr(f), &owner) || owner != p) {
            rc = ek_err_set(err, EK_EINVAL, "function plugin %s does not export %s", name,
                            f->type == EK_T_STRING ? ek_str_ptr(f) : "a non-string name");
            goto out;
        }
    }
    ek_value_unref(&p->registered);
    p->registered = ek_value_ref(functions);
    persist(app, p, EK_PLUGIN_FUNCTION);
out:
    pthread_mutex_unlock(&lock);
    return rc;
}
