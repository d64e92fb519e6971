/* YAML to ek_value with libyaml's event parser. Used for every etc/ file. Besides the tree it can
 * record where each scalar came from ("etc/kuiper.yaml:12", keyed by its lower-case dotted path) so
 * that configuration errors name the file and the line. */
#include "engine/config.h"
#include "engine/config_int.h"
#include "engine/mem.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define MAX_DEPTH 64

typedef struct loader {
    yaml_parser_t parser;
    const char *path;
    ek_value *origins; /* object: lower-case dotted path -> "file:line", or NULL */
    ek_err *err;
} loader;

ek_value config__scalar(const char *s, size_t len, bool plain)
{
    if (!plain) return ek_string_n(s, len);
    if (len == 0 || (len == 1 && s[0] == '~') || (len == 4 && strncasecmp(s, "null", 4) == 0)) return ek_null();
    if (len == 4 && strncasecmp(s, "true", 4) == 0) return ek_bool(true);
    if (len == 5 && strncasecmp(s, "false", 5) == 0) return ek_bool(false);
    char tmp[64];
    if (len < sizeof tmp) {
        memcpy(tmp, s, len);
        tmp[len] = '\0';
        char *end;
        errno = 0;
        long long i = strtoll(tmp, &end, 10);
        if (*end == '\0' && errno == 0 && (isdigit((unsigned char)tmp[0]) || tmp[0] == '-' || tmp[0] == '+'))
            return ek_int(i);
        double d = strtod(tmp, &end);
        if (*end == '\0' && (isdigit((unsigned char)tmp[0]) || tmp[0] == '-' || tmp[0] == '.' || tmp[0] == '+'))
            return ek_float(d);
    }
    return ek_string_n(s, len);
}

static int fail(loader *l, const yaml_mark_t *m, const char *what)
{
    return ek_err_set(l->err, EK_ECONF, "%s:%zu:%zu: %s", l->path, m->line + 1, m->column + 1, what);
}

static int next(loader *l, yaml_event_t *ev)
{
    if (yaml_parser_parse(&l->parser, ev)) return 0;
    const char *problem = l->parser.problem ? l->parser.problem : "invalid YAML";
    return fail(l, &l->parser.problem_mark, problem);
}

static void note_origin(loader *l, const char *dotted, size_t line)
{
    if (!l->origins || !*dotted) return;
    char *lower = ek_strdup(dotted);
    for (char *p = lower; *p; p++) *p = (char)tolower((unsigned char)*p);
    ek_object_set(l->origins, lower, ek_string_fmt("%s:%zu", l->path, line + 1));
    ek_free(lower);
}

static int node(loader *l, yaml_event_t *ev, const char *dotted, int depth, ek_value *out);

static int mapping(loader *l, const char *dotted, int depth, ek_value *out)
{
    *out = ek_object_new(0);
    for (;;) {
        yaml_event_t kev;
        if (next(l, &kev)) return EK_ECONF;
        if (kev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&kev);
            return 0;
        }
        if (kev.type != YAML_SCALAR_EVENT) {
            int rc = fail(l, &kev.start_mark, "mapping keys must be plain strings");
            yaml_event_delete(&kev);
            return rc;
        }
        char *key = ek_strndup((const char *)kev.data.scalar.value, kev.data.scalar.length);
        yaml_event_delete(&kev);
        char *child = *dotted ? ek_asprintf("%s.%s", dotted, key) : ek_strdup(key);
        yaml_event_t vev;
        ek_value v = ek_null();
        int rc = next(l, &vev);
        if (!rc) {
            rc = node(l, &vev, child, depth + 1, &v);
            yaml_event_delete(&vev);
        }
        if (!rc) ek_object_set(out, key, v);
        else ek_value_unref(&v); /* a nested failure leaves a partly built value */
        ek_free(key);
        ek_free(child);
        if (rc) return rc;
    }
}

static int sequence(loader *l, const char *dotted, int depth, ek_value *out)
{
    *out = ek_array_new(0);
    for (size_t i = 0;; i++) {
        yaml_event_t ev;
        if (next(l, &ev)) return EK_ECONF;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        char *child = ek_asprintf("%s.%zu", dotted, i);
        ek_value v = ek_null();
        int rc = node(l, &ev, child, depth + 1, &v);
        ek_free(child);
        yaml_event_delete(&ev);
        if (rc) {
            ek_value_unref(&v);
            return rc;
        }
        ek_array_push(out, v);
    }
}

static int node(loader *l, yaml_event_t *ev, const char *dotted, int depth, ek_value *out)
{
    if (depth > MAX_DEPTH) return fail(l, &ev->start_mark, "nesting too deep");
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        *out = config__scalar((const char *)ev->data.scalar.value, ev->data.scalar.length,
                              ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE);
        note_origin(l, dotted, ev->start_mark.line);
        return 0;
    case YAML_MAPPING_START_EVENT:
        note_origin(l, dotted, ev->start_mark.line);
        return mapping(l, dotted, depth, out);
    case YAML_SEQUENCE_START_EVENT:
        note_origin(l, dotted, ev->start_mark.line);
        return sequence(l, dotted, depth, out);
    case YAML_ALIAS_EVENT: return fail(l, &ev->start_mark, "YAML aliases are not supported");
    default: return fail(l, &ev->start_mark, "unexpected YAML event");
    }
}

/* Reads the document l->parser delivers into *out (an empty one is an empty mapping). */
static int load(loader *l, ek_value *out)
{
    *out = ek_object_new(0);
    int rc = 0;
    bool done = false;
    while (!rc && !done) {
        yaml_event_t ev;
        rc = next(l, &ev);
        if (rc) break;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT: done = true; break;
        case YAML_MAPPING_START_EVENT: {
            ek_value v;
            rc = mapping(l, "", 0, &v);
            if (rc) {
                ek_value_unref(&v);
            } else {
                ek_value_unref(out);
                *out = v;
            }
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_SCALAR_EVENT:
            if (ev.type == YAML_SCALAR_EVENT && ev.data.scalar.length == 0) break;
            rc = fail(l, &ev.start_mark, "the top level must be a mapping of keys");
            break;
        default: break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&l->parser);
    if (rc) ek_value_unref(out);
    return rc;
}

int config__yaml_load(const char *path, ek_value *out, ek_value *origins, ek_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return ek_err_set(err, EK_ECONF, "%s: cannot open: %s", path, strerror(errno));
    loader l = {.path = path, .origins = origins, .err = err};
    yaml_parser_initialize(&l.parser);
    yaml_parser_set_input_file(&l.parser, f);
    int rc = load(&l, out);
    fclose(f);
    return rc;
}

int ek_yaml_parse(const char *text, size_t len, const char *name, ek_value *out, ek_err *err)
{
    loader l = {.path = name, .err = err};
    yaml_parser_initialize(&l.parser);
    yaml_parser_set_input_string(&l.parser, (const unsigned char *)text, len);
    return load(&l, out);
}

int ek_yaml_load(const char *path, ek_value *out, ek_err *err)
{
    return config__yaml_load(path, out, NULL, err);
}
