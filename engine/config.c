/* Loading and reading configuration (see config.h). The trees are built once at start and only
 * read afterwards, so the getters need no lock. Validation against the key table happens after
 * environment overrides, so a bad KUIPER__... value is reported as precisely as a bad YAML line. */
#include "engine/config.h"
#include "engine/config_int.h"
#include "engine/mem.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

extern char **environ;

/* The files an environment prefix can address. */
static const struct {
    const char *id;      /* for ek_config_file */
    const char *prefix;  /* environment prefix before the first "__" */
    const char *rel;     /* path under etc/ */
    bool required;
} files[] = {
    {"kuiper", "KUIPER", "kuiper.yaml", true},
    {"mqtt_source", "MQTT_SOURCE", "mqtt_source.yaml", false},
    {"connection", "CONNECTION", "connections/connection.yaml", false},
};
#define NFILES (sizeof files / sizeof files[0])

struct ek_config {
    ek_value trees[NFILES];
    ek_value origins; /* kuiper.yaml: lower-case path -> "file:line" or "environment NAME" */
    ek_value defaults;/* parsed defaults of the key table, by lower-case path */
};

static ek_value *child_mut(ek_value *obj, const char *key, bool create)
{
    for (size_t i = 0; i < obj->o->len; i++)
        if (strcasecmp(obj->o->keys[i]->data, key) == 0) return &obj->o->vals[i];
    if (!create) return NULL;
    ek_object_set(obj, key, ek_object_new(0));
    return &obj->o->vals[obj->o->len - 1];
}

/* Spelling of segment i of a path as the key table writes it, if the path is a known key. */
static void canonical_segment(const char *dotted, int seg, char *out, size_t cap)
{
    const config_key *k = config__key(dotted);
    const char *src = k ? k->path : NULL;
    if (!src) return;
    for (int i = 0; i < seg && src; i++) {
        src = strchr(src, '.');
        if (src) src++;
    }
    if (!src) return;
    size_t n = strcspn(src, ".");
    if (n < cap) {
        memcpy(out, src, n);
        out[n] = '\0';
    }
}

static void apply_env(ek_config *c, size_t fi, const char *name, const char *rest, const char *val)
{
    char *path = ek_strdup(rest), *dotted = ek_strdup(rest);
    /* Turn A__B__C into a.b.c for the key table and the origin map. */
    size_t n = 0;
    for (const char *p = rest; *p; p++) {
        if (p[0] == '_' && p[1] == '_') { dotted[n++] = '.'; p++; }
        else dotted[n++] = (char)tolower((unsigned char)*p);
    }
    dotted[n] = '\0';
    strcpy(path, dotted);
    ek_value *node = &c->trees[fi];
    int seg = 0;
    char *save = NULL;
    char *tok = strtok_r(path, ".", &save);
    while (tok) {
        char *nexttok = strtok_r(NULL, ".", &save);
        char canon[128];
        snprintf(canon, sizeof canon, "%s", tok);
        if (fi == 0) canonical_segment(dotted, seg, canon, sizeof canon);
        if (node->type != EK_T_OBJECT) break;
        if (!nexttok) {
            ek_value *existing = child_mut(node, canon, false);
            ek_value v = config__scalar(val, strlen(val), true);
            if (existing) {
                ek_value_unref(existing);
                *existing = v;
            } else {
                ek_object_set(node, canon, v);
            }
            if (fi == 0) ek_object_set(&c->origins, dotted, ek_string_fmt("environment %s", name));
        } else {
            node = child_mut(node, canon, true);
        }
        tok = nexttok;
        seg++;
    }
    ek_free(path);
    ek_free(dotted);
}

static void apply_environment(ek_config *c, char **envp)
{
    for (char **e = envp; *e; e++) {
        const char *eq = strchr(*e, '=');
        const char *sep = strstr(*e, "__");
        if (!eq || !sep || sep > eq) continue;
        for (size_t fi = 0; fi < NFILES; fi++) {
            size_t pl = strlen(files[fi].prefix);
            if ((size_t)(sep - *e) != pl || strncasecmp(*e, files[fi].prefix, pl) != 0) continue;
            char *name = ek_strndup(*e, (size_t)(eq - *e));
            char *rest = ek_strndup(sep + 2, (size_t)(eq - sep - 2));
            if (*rest) apply_env(c, fi, name, rest, eq + 1);
            ek_free(name);
            ek_free(rest);
        }
    }
}

const ek_value *ek_config_lookup(const ek_value *tree, const char *path)
{
    const ek_value *node = tree;
    char seg[128];
    while (node && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof seg || node->type != EK_T_OBJECT) return NULL;
        memcpy(seg, path, n);
        seg[n] = '\0';
        node = ek_object_get_ci(node, seg);
        path += n;
        if (*path == '.') path++;
    }
    return node;
}

bool ek_parse_duration_ms(const char *s, int64_t *ms)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno) return false;
    static const struct { const char *unit; double mult; } units[] = {
        {"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].unit) == 0) {
            *ms = (int64_t)(v * units[i].mult);
            return v >= 0;
        }
    }
    return false;
}

static const char *kind_name(config_kind k)
{
    static const char *names[] = {"an integer", "true or false", "a number", "a string",
                                  "a duration such as 10s or 500ms"};
    return names[k];
}

static bool value_fits(const ek_value *v, config_kind k)
{
    int64_t ms;
    switch (k) {
    case CK_INT: return v->type == EK_T_INT;
    case CK_BOOL: return v->type == EK_T_BOOL;
    case CK_FLOAT: return ek_is_number(v);
    case CK_STR: return v->type == EK_T_STRING || ek_is_number(v) || v->type == EK_T_BOOL;
    case CK_DURATION:
        return (v->type == EK_T_INT && v->i >= 0) || (v->type == EK_T_STRING && ek_parse_duration_ms(v->s->data, &ms));
    }
    return false;
}

static int validate(ek_config *c, const char *etc_dir, ek_err *err)
{
    for (const config_key *k = config__keys; k->path; k++) {
        const ek_value *v = ek_config_lookup(&c->trees[0], k->path);
        if (!v || v->type == EK_T_NULL) continue;
        if (value_fits(v, k->kind)) continue;
        char lower[128];
        snprintf(lower, sizeof lower, "%s", k->path);
        for (char *p = lower; *p; p++) *p = (char)tolower((unsigned char)*p);
        const ek_value *o = ek_object_get(&c->origins, lower);
        char *shown = v->type == EK_T_STRING ? ek_asprintf("\"%s\"", v->s->data) : ek_strdup(ek_type_name(v->type));
        ek_err_set(err, EK_ECONF, "%s: %s: expected %s, got %s",
                   o ? o->s->data : etc_dir, k->path, kind_name(k->kind), shown);
        ek_free(shown);
        return EK_ECONF;
    }
    return 0;
}

void ek_config_free(ek_config *c)
{
    if (!c) return;
    for (size_t i = 0; i < NFILES; i++) ek_value_unref(&c->trees[i]);
    ek_value_unref(&c->origins);
    ek_value_unref(&c->defaults);
    ek_free(c);
}

static void load_defaults(ek_config *c)
{
    c->defaults = ek_object_new(0);
    for (const config_key *k = config__keys; k->path; k++) {
        char lower[128];
        snprintf(lower, sizeof lower, "%s", k->path);
        for (char *p = lower; *p; p++) *p = (char)tolower((unsigned char)*p);
        ek_value v = k->kind == CK_STR ? ek_string(k->def) : config__scalar(k->def, strlen(k->def), true);
        ek_object_set(&c->defaults, lower, v);
    }
}

int ek_config_load(const char *etc_dir, char **envp, ek_config **out, ek_err *err)
{
    ek_config *c = ek_calloc(1, sizeof *c);
    c->origins = ek_object_new(0);
    load_defaults(c);
    int rc = 0;
    for (size_t i = 0; i < NFILES && !rc; i++) {
        char *path = ek_asprintf("%s/%s", etc_dir, files[i].rel);
        struct stat st;
        if (!files[i].required && stat(path, &st) != 0) {
            c->trees[i] = ek_object_new(0);
        } else {
            rc = config__yaml_load(path, &c->trees[i], i == 0 ? &c->origins : NULL, err);
            if (rc) c->trees[i] = ek_object_new(0);
        }
        ek_free(path);
    }
    if (!rc) {
        apply_environment(c, envp ? envp : environ);
        rc = validate(c, etc_dir, err);
    }
    if (rc) {
        ek_config_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

const ek_value *ek_config_file(const ek_config *c, const char *file)
{
    for (size_t i = 0; i < NFILES; i++)
        if (strcmp(files[i].id, file) == 0) return &c->trees[i];
    return &c->trees[0];
}

const ek_value *ek_config_get(const ek_config *c, const char *path)
{
    return ek_config_lookup(&c->trees[0], path);
}

/* The configured value if present and well typed, else the table's default. */
static const ek_value *typed(const ek_config *c, const char *path)
{
    const ek_value *v = ek_config_get(c, path);
    const config_key *k = config__key(path);
    if (v && v->type != EK_T_NULL && (!k || value_fits(v, k->kind))) return v;
    char lower[128];
    snprintf(lower, sizeof lower, "%s", path);
    for (char *p = lower; *p; p++) *p = (char)tolower((unsigned char)*p);
    return ek_object_get(&c->defaults, lower);
}

int64_t ek_config_int(const ek_config *c, const char *path)
{
    const ek_value *v = typed(c, path);
    if (!v) return 0;
    if (v->type == EK_T_FLOAT) return (int64_t)v->f;
    return v->type == EK_T_INT ? v->i : 0;
}

bool ek_config_bool(const ek_config *c, const char *path)
{
    const ek_value *v = typed(c, path);
    return v && v->type == EK_T_BOOL && v->b;
}

double ek_config_float(const ek_config *c, const char *path)
{
    const ek_value *v = typed(c, path);
    double d = 0;
    if (v) ek_value_as_double(v, &d);
    return d;
}

const char *ek_config_str(const ek_config *c, const char *path)
{
    const ek_value *v = typed(c, path);
    if (!v) return "";
    if (v->type == EK_T_STRING) return v->s->data;
    /* Numbers and booleans written where a string is expected: keep them printable. */
    static __thread char tmp[64];
    if (v->type == EK_T_INT) snprintf(tmp, sizeof tmp, "%lld", (long long)v->i);
    else if (v->type == EK_T_FLOAT) snprintf(tmp, sizeof tmp, "%g", v->f);
    else if (v->type == EK_T_BOOL) snprintf(tmp, sizeof tmp, "%s", v->b ? "true" : "false");
    else tmp[0] = '\0';
    return tmp;
}

int64_t ek_config_duration_ms(const ek_config *c, const char *path)
{
    const ek_value *v = typed(c, path);
    if (!v) return 0;
    if (v->type == EK_T_INT) return v->i;
    int64_t ms = 0;
    if (v->type == EK_T_STRING) ek_parse_duration_ms(v->s->data, &ms);
    return ms;
}
