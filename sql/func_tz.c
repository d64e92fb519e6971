/* Time zone offsets for convert_tz(): reads the system's IANA database (/usr/share/zoneinfo, TZif
 * files per RFC 8536) without touching the process-wide TZ, so worker threads never race on
 * setenv/localtime. A zone is parsed once per call site and kept in ctx->cache. The same zones
 * serve the rule engine's window alignment through sql/tz.h (end of file).
 * Instants after the file's last transition use its POSIX TZ footer ("EST5EDT,M3.2.0,M11.1.0"),
 * so far-future dates get daylight saving right as well. */
#include "sql/func_int.h"
#include "sql/tz.h"
#include "engine/mem.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest TZif file accepted; real ones are a few KiB. */
#define TZIF_MAX (256 * 1024)

typedef struct tz_rule {  /* one POSIX TZ transition rule: Mm.w.d, Jn or n, plus a time of day */
    char kind;            /* 'M', 'J' or 'D' */
    int m, w, d;
    int32_t secs;
} tz_rule;

typedef struct tz_zone {
    char *name;
    size_t count;         /* transitions */
    int64_t *times;
    int32_t *offs;        /* UTC offset in force from times[i] */
    int32_t first_off;    /* before the first transition */
    bool has_footer, footer_dst;
    int32_t std_off, dst_off;
    tz_rule start, end;
} tz_zone;

static void zone_free(void *p)
{
    tz_zone *z = p;
    ek_free(z->name);
    ek_free(z->times);
    ek_free(z->offs);
    ek_free(z);
}

static uint32_t be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static int64_t be64(const unsigned char *p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

/* ---- POSIX TZ strings ---- */

static const char *tz_name(const char *s)
{
    if (*s == '<') {
        const char *e = strchr(s, '>');
        return e ? e + 1 : NULL;
    }
    const char *b = s;
    while (isalpha((unsigned char)*s)) s++;
    return s - b >= 3 ? s : NULL;
}

/* [+-]hh[:mm[:ss]] as seconds. */
static const char *tz_time(const char *s, int32_t *out)
{
    int sign = 1, h = 0, m = 0, sec = 0;
    if (*s == '+' || *s == '-') sign = *s++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*s)) return NULL;
    h = (int)strtol(s, (char **)&s, 10);
    if (*s == ':') { s++; m = (int)strtol(s, (char **)&s, 10); }
    if (*s == ':') { s++; sec = (int)strtol(s, (char **)&s, 10); }
    *out = sign * (h * 3600 + m * 60 + sec);
    return s;
}

static const char *tz_rule_parse(const char *s, tz_rule *r)
{
    if (*s == 'M') {
        r->kind = 'M';
        if (sscanf(s + 1, "%d.%d.%d", &r->m, &r->w, &r->d) != 3) return NULL;
        s++;
        while (isdigit((unsigned char)*s) || *s == '.') s++;
    } else {
        r->kind = *s == 'J' ? 'J' : 'D';
        if (*s == 'J') s++;
        if (!isdigit((unsigned char)*s)) return NULL;
        r->d = (int)strtol(s, (char **)&s, 10);
    }
    r->secs = 7200;
    if (*s == '/') s = tz_time(s + 1, &r->secs);
    return s;
}

static bool footer_parse(tz_zone *z, const char *s)
{
    int32_t off;
    if (!(s = tz_name(s)) || !(s = tz_time(s, &off))) return false;
    z->std_off = -off;
    z->has_footer = true;
    if (!*s) return true;
    if (!(s = tz_name(s))) return false;
    z->dst_off = z->std_off + 3600;
    if (*s && *s != ',') {
        if (!(s = tz_time(s, &off))) return false;
        z->dst_off = -off;
    }
    if (*s++ != ',' || !(s = tz_rule_parse(s, &z->start)) || *s++ != ',' || !(s = tz_rule_parse(s, &z->end))) return false;
    z->footer_dst = true;
    return true;
}

/* Seconds since the epoch, local time of the rule's day in year y (before the time of day). */
static int64_t rule_day(const tz_rule *r, int64_t y)
{
    int64_t jan1 = func__days_from_civil(y, 1, 1);
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (r->kind == 'J') return jan1 + r->d - 1 + (leap && r->d >= 60);
    if (r->kind == 'D') return jan1 + r->d;
    int64_t first = func__days_from_civil(y, r->m, 1);
    int wday = (int)(((first % 7) + 11) % 7);
    int64_t day = first + (r->d - wday + 7) % 7 + 7 * (r->w - 1);
    int64_t next = r->m == 12 ? func__days_from_civil(y + 1, 1, 1) : func__days_from_civil(y, r->m + 1, 1);
    while (day >= next) day -= 7;
    return day;
}

static int32_t footer_offset(const tz_zone *z, int64_t t)
{
    if (!z->footer_dst) return z->std_off;
    int64_t y, days = t / 86400 - (t % 86400 < 0);
    int m, d;
    func__civil_from_days(days, &y, &m, &d);
    int64_t start = rule_day(&z->start, y) * 86400 + z->start.secs - z->std_off;
    int64_t end = rule_day(&z->end, y) * 86400 + z->end.secs - z->dst_off;
    bool dst = start < end ? (t >= start && t < end) : (t < end || t >= start);
    return dst ? z->dst_off : z->std_off;
}

/* ---- TZif files ---- */

static bool tzif_parse(tz_zone *z, const unsigned char *p, size_t len)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0) return false;
    bool v2 = p[4] >= '2';
    uint32_t c[6];
    for (int i = 0; i < 6; i++) c[i] = be32(p + 20 + 4 * i);
    size_t v1 = 44 + c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
    size_t tsize = 4, off = 44;
    if (v2) {
        if (v1 + 44 > len || memcmp(p + v1, "TZif", 4) != 0) return false;
        for (int i = 0; i < 6; i++) c[i] = be32(p + v1 + 20 + 4 * i);
        tsize = 8;
        off = v1 + 44;
    }
    size_t timecnt = c[3], typecnt = c[4];
    size_t body = timecnt * (tsize + 1) + typecnt * 6 + c[5] + c[2] * (tsize + 4) + c[1] + c[0];
    if (typecnt == 0 || off + body > len) return false;
    const unsigned char *times = p + off, *idx = times + timecnt * tsize, *types = idx + timecnt;
    z->count = timecnt;
    z->times = ek_malloc((timecnt + 1) * sizeof *z->times);
    z->offs = ek_malloc((timecnt + 1) * sizeof *z->offs);
    for (size_t i = 0; i < timecnt; i++) {
        if (idx[i] >= typecnt) return false;
        z->times[i] = tsize == 8 ? be64(times + 8 * i) : (int32_t)be32(times + 4 * i);
        z->offs[i] = (int32_t)be32(types + 6 * idx[i]);
    }
    z->first_off = (int32_t)be32(types);
    if (v2) {
        const char *foot = (const char *)p + off + body;
        size_t left = len - off - body;
        if (left > 2 && foot[0] == '\n') {
            char buf[128];
            size_t n = 0;
            for (size_t i = 1; i < left && foot[i] != '\n' && n + 1 < sizeof buf; i++) buf[n++] = foot[i];
            buf[n] = 0;
            if (n && !footer_parse(z, buf)) z->has_footer = false;
        }
    }
    return true;
}

static bool valid_name(const char *name)
{
    if (!*name || *name == '/' || strstr(name, "..") || strlen(name) > 100) return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p)) return false;
    return true;
}

static tz_zone *zone_load(const char *name, ek_err *e)
{
    tz_zone *z = ek_calloc(1, sizeof *z);
    z->name = ek_strdup(name);
    if (strcmp(name, "UTC") == 0 || strcmp(name, "") == 0) return z;
    char path[256];
    if (strcmp(name, "Local") == 0) {
        const char *tz = getenv("TZ");
        if (tz && *tz == ':') tz++;
        if (tz && valid_name(tz)) snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tz);
        else snprintf(path, sizeof path, "/etc/localtime");
    } else {
        if (!valid_name(name)) goto bad;
        snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
    }
    FILE *f = fopen(path, "rb");
    if (!f) goto bad;
    unsigned char *buf = ek_malloc(TZIF_MAX);
    size_t len = fread(buf, 1, TZIF_MAX, f);
    fclose(f);
    bool ok = tzif_parse(z, buf, len);
    ek_free(buf);
    if (ok) return z;
bad:
    zone_free(z);
    ek_err_set(e, EK_EINVAL, "convert_tz: unknown time zone \"%s\"", name);
    return NULL;
}

static int32_t zone_offset(const tz_zone *z, int64_t t)
{
    if (z->count == 0) return z->has_footer ? footer_offset(z, t) : z->first_off;
    if (t < z->times[0]) return z->first_off;
    size_t lo = 0, hi = z->count;  /* last i with times[i] <= t */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (z->times[mid] <= t) lo = mid; else hi = mid;
    }
    if (lo == z->count - 1 && z->has_footer) return footer_offset(z, t);
    return z->offs[lo];
}

/* convert_tz(t, zone): the wall-clock time in zone, as a datetime (see docs/sql-functions.md). */
int func__tz_convert(ek_func_ctx *ctx, const char *name, int64_t ns, int64_t *out, ek_err *e)
{
    tz_zone *z = ctx ? ctx->cache : NULL;
    if (!z || strcmp(z->name, name) != 0) {
        z = zone_load(name, e);
        if (!z) return e->code;
        if (ctx) {
            if (ctx->cache && ctx->cache_free) ctx->cache_free(ctx->cache);
            ctx->cache = z;
            ctx->cache_free = zone_free;
        }
    }
    int64_t secs = ns / EK_NS_PER_SEC - (ns % EK_NS_PER_SEC < 0);
    bool over = __builtin_add_overflow(ns, (int64_t)zone_offset(z, secs) * EK_NS_PER_SEC, out);
    if (!ctx) zone_free(z);
    if (over) return ek_err_set(e, EK_EINVAL, "convert_tz: the result is out of the datetime range");
    return 0;
}

/* ---------------------------------------------------------------- sql/tz.h */

struct ek_tz {
    tz_zone *zone;
};

int ek_tz_open(const char *name, ek_tz **out, ek_err *err)
{
    ek_err e = {0};
    tz_zone *z = zone_load(name ? name : "", &e);
    if (!z) return ek_err_set(err, EK_EINVAL, "unknown time zone \"%s\"", name ? name : "");
    *out = ek_calloc(1, sizeof **out);
    (*out)->zone = z;
    return 0;
}

int64_t ek_tz_offset_ms(const ek_tz *z, int64_t utc_ms)
{
    int64_t secs = utc_ms / 1000 - (utc_ms % 1000 < 0);
    return (int64_t)zone_offset(z->zone, secs) * 1000;
}

void ek_tz_free(ek_tz *z)
{
    if (!z) return;
    zone_free(z->zone);
    ek_free(z);
}
