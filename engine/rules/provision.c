/* Provisioning from data/init.json and data/rules/<name>.json at start (see provision.h).
 *
 * Each file is read whole, hashed (FNV-1a, 64 bits) and skipped when the hash equals the one kept
 * in the store for its path. Otherwise its streams and tables are created (or replaced when they
 * exist) before its rules are created (or updated), so a rule may use a stream of the same file.
 * Errors name the file and the line: a JSON syntax error by the decoder's line and column, a bad
 * stream or rule by the line where its name appears in the file. The hash is stored only when
 * the whole file went in, so a file that failed is tried, and reported, again at the next start. */
#include "engine/rules/provision.h"
#include "engine/codec_json.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/rules/rules.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS "provision"

typedef struct pfile {
    const char *path;
    const char *text;  /* the whole file, NUL-terminated */
    size_t len;
    int errors;
    int done;
} pfile;

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

/* The line (1-based) of the first "name" in the file, or 0 when it does not appear. */
static int line_of(const pfile *f, const char *name)
{
    char *quoted = ek_asprintf("\"%s\"", name);
    const char *at = strstr(f->text, quoted);
    ek_free(quoted);
    if (!at) return 0;
    int line = 1;
    for (const char *p = f->text; p < at; p++) line += *p == '\n';
    return line;
}

static void bad(pfile *f, const char *what, const char *name, const char *msg)
{
    int line = name ? line_of(f, name) : 0;
    if (line) ek_error("%s:%d: %s %s: %s", f->path, line, what, name, msg);
    else if (name) ek_error("%s: %s %s: %s", f->path, what, name, msg);
    else ek_error("%s: %s", f->path, msg);
    f->errors++;
}

static bool stream_exists(ek_rules *r, bool table, const char *name)
{
    ek_value d;
    if (ek_rules_stream_describe(r, table, name, &d, NULL) != 0) return false;
    ek_value_unref(&d);
    return true;
}

int ek_provision_stream(ek_rules *r, bool table, const char *name, const char *sql, int flags, ek_err *err)
{
    if (stream_exists(r, table, name))
        return (flags & EK_PROVISION_KEEP) ? 1 : ek_rules_stream_replace(r, table, name, sql, err);
    char *created = NULL;
    int rc = ek_rules_stream_create(r, table, sql, &created, err);
    ek_free(created);
    return rc;
}

int ek_provision_rule(ek_rules *r, const char *id, ek_value *def, int flags, ek_err *err)
{
    const ek_value *idv = ek_object_get(def, "id");
    if (idv && (idv->type != EK_T_STRING || strcmp(ek_str_ptr(idv), id) != 0))
        return ek_err_set(err, EK_EINVAL, "the rule's \"id\" differs from %s, its name in the file or request", id);
    if (!idv) ek_object_set(def, "id", ek_string(id));
    ek_value old;
    bool exists = ek_rules_rule_get(r, id, &old, NULL) == 0;
    if (exists) ek_value_unref(&old);
    if (exists && (flags & EK_PROVISION_KEEP)) return 1;
    char *json = ek_json_encode_str(def, 0);
    int rc;
    if (exists) {
        rc = ek_rules_rule_update(r, id, json, strlen(json), err);
    } else {
        char *created = NULL;
        rc = ek_rules_rule_create(r, json, strlen(json), &created, err);
        ek_free(created);
    }
    ek_free(json);
    return rc;
}

static void put_stream(pfile *f, ek_rules *r, bool table, const char *name, const ek_value *sql)
{
    const char *what = table ? "table" : "stream";
    ek_err err = {0};
    if (sql->type != EK_T_STRING) bad(f, what, name, "expected a CREATE statement string");
    else if (ek_provision_stream(r, table, name, ek_str_ptr(sql), 0, &err) < 0) bad(f, what, name, err.msg);
    else f->done++;
}

/* Creates or updates the rule def (an object); id_hint is used when def has no "id". */
static void put_rule(pfile *f, ek_rules *r, const char *id_hint, ek_value *def)
{
    const ek_value *idv = ek_object_get(def, "id");
    ek_err err = {0};
    if (idv && idv->type != EK_T_STRING) bad(f, "rule", id_hint, "\"id\" must be a string");
    else if (ek_provision_rule(r, idv ? ek_str_ptr(idv) : id_hint, def, 0, &err) < 0)
        bad(f, "rule", idv ? ek_str_ptr(idv) : id_hint, err.msg);
    else f->done++;
}

/* A rule given as JSON text (init.json) or as an object. */
static void put_rule_value(pfile *f, ek_rules *r, const char *id, const ek_value *v)
{
    ek_value def = ek_null();
    ek_err err = {0};
    if (v->type == EK_T_STRING) {
        if (ek_json_decode(ek_str_ptr(v), ek_str_len(v), 0, &def, &err) != 0) {
            bad(f, "rule", id, err.msg);
            return;
        }
    } else {
        def = ek_value_deep_copy(v);
    }
    if (def.type != EK_T_OBJECT) bad(f, "rule", id, "expected a rule JSON object");
    else put_rule(f, r, id, &def);
    ek_value_unref(&def);
}

static void import_ruleset(pfile *f, ek_rules *r, const ek_value *doc)
{
    static const char *const keys[] = {"streams", "tables", "rules"};
    for (int k = 0; k < 3; k++) {
        const ek_value *sec = ek_object_get(doc, keys[k]);
        if (!sec) continue;
        if (sec->type != EK_T_OBJECT) {
            bad(f, "section", keys[k], "expected an object of name: definition");
            continue;
        }
        for (size_t i = 0; i < ek_object_len(sec); i++) {
            if (k < 2) put_stream(f, r, k == 1, ek_object_key(sec, i), ek_object_val(sec, i));
            else put_rule_value(f, r, ek_object_key(sec, i), ek_object_val(sec, i));
        }
    }
}

/* The file name without directory and ".json". */
static char *stem(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".json") == 0) n -= 5;
    char *s = ek_malloc(n + 1);
    memcpy(s, base, n);
    s[n] = '\0';
    return s;
}

/* Imports one file if it changed; ruleset selects init.json's format over a single rule. */
static int provision_file(ek_app *app, ek_rules *r, const char *path, bool ruleset)
{
    ek_buf text = EK_BUF_INIT;
    if (ek_buf_read_file(&text, path, 0) != 0) {
        ek_buf_free(&text);
        return 0; /* absent or unreadable: nothing to provision */
    }
    pfile f = {.path = path, .text = text.data ? text.data : "", .len = text.len};
    char hash[24];
    snprintf(hash, sizeof hash, "%016" PRIx64, fnv1a(f.text, f.len));
    char *old = NULL;
    size_t oldlen = 0;
    bool same = app->store && ek_store_get(app->store, NS, path, &old, &oldlen, NULL) == 0 && strcmp(old, hash) == 0;
    ek_free(old);
    if (same) {
        ek_buf_free(&text);
        return 0;
    }
    ek_value doc;
    ek_err err = {0};
    if (ek_json_decode(f.text, f.len, 0, &doc, &err) != 0) {
        bad(&f, NULL, NULL, err.msg);
    } else if (doc.type != EK_T_OBJECT) {
        bad(&f, NULL, NULL, ruleset ? "expected an object with \"streams\", \"tables\" and \"rules\""
                                    : "expected a rule JSON object");
        ek_value_unref(&doc);
    } else {
        char *id = stem(path);
        if (ruleset) import_ruleset(&f, r, &doc);
        else put_rule(&f, r, id, &doc);
        ek_free(id);
        ek_value_unref(&doc);
    }
    if (!f.errors && app->store) ek_store_set(app->store, NS, path, hash, strlen(hash), NULL);
    if (!f.errors) ek_info("provisioned %s: %d definitions", path, f.done);
    ek_buf_free(&text);
    return f.done;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The paths of data/rules/<name>.json in name order (ek_free each and the array). */
static char **rule_files(const char *dir, size_t *count)
{
    char **paths = NULL;
    size_t n = 0, cap = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            paths = ek_realloc(paths, cap * sizeof *paths);
        }
        paths[n++] = ek_asprintf("%s/%s", dir, e->d_name);
    }
    if (d) closedir(d);
    if (n) qsort(paths, n, sizeof *paths, cmp_str);
    *count = n;
    return paths;
}

int ek_provision_run(ek_app *app, ek_rules *r)
{
    if (!r) return 0;
    const char *data = app->data_dir ? app->data_dir : "data";
    char *init = ek_asprintf("%s/init.json", data);
    int done = provision_file(app, r, init, true);
    ek_free(init);
    char *dir = ek_asprintf("%s/rules", data);
    size_t n = 0;
    char **paths = rule_files(dir, &n);
    for (size_t i = 0; i < n; i++) {
        done += provision_file(app, r, paths[i], false);
        ek_free(paths[i]);
    }
    ek_free(paths);
    ek_free(dir);
    return done;
}
