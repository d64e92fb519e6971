/* JSON codec on cJSON (see codec_json.h).
 * cJSON validates and builds the tree; because it stores every number as a double, the decoder
 * walks the source text alongside the tree (numbers appear in the same order in both) to read each
 * number literal itself, so int64 values survive exactly. Strings and keys that are not valid
 * UTF-8 get U+FFFD for each bad byte, as Go's encoding/json gives eKuiper. Encoding writes the text
 * directly, with numbers formatted here so that printing follows Go rather than cJSON's %g. */
#include "engine/codec_json.h"
#include "engine/mem.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DEPTH 512

/* ---- decoding ---- */

typedef struct scan {
    const char *p, *end;
} scan;

/* Advances to the next number literal outside strings and returns its [start, end). */
static void next_number(scan *s, const char **start, const char **stop)
{
    const char *p = s->p;
    while (p < s->end) {
        char c = *p;
        if (c == '"') {
            for (p++; p < s->end && *p != '"'; p++)
                if (*p == '\\') p++;
            p++;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            break;
        } else {
            p++;
        }
    }
    *start = p;
    while (p < s->end && strchr("+-.eE0123456789", *p) && *p) p++;
    *stop = p;
    s->p = p;
}

static ek_value number_value(scan *s, const cJSON *item, int flags)
{
    const char *a, *b;
    next_number(s, &a, &b);
    size_t n = (size_t)(b - a);
    char tmp[64];
    if (n == 0 || n >= sizeof tmp) return ek_float(item->valuedouble);
    memcpy(tmp, a, n);
    tmp[n] = '\0';
    if (!(flags & EK_JSON_FLOAT_NUMBERS) && !strpbrk(tmp, ".eE")) {
        errno = 0;
        char *endp;
        long long v = strtoll(tmp, &endp, 10);
        if (errno == 0 && *endp == '\0') return ek_int(v);
    }
    return ek_float(item->valuedouble); /* cJSON's strtod of these same characters */
}

/* Length of the well-formed UTF-8 sequence at p (n > 0 bytes left), or 0 when it is not one
 * (overlong forms, surrogates and code points above U+10FFFF are not), as Go's utf8 package
 * decides. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    if (c < 0x80) return 1;
    size_t len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (len == 0 || n < len) return 0;
    unsigned char lo = 0x80, hi = 0xBF; /* the second byte's range */
    if (c == 0xE0) lo = 0xA0;
    else if (c == 0xED) hi = 0x9F;
    else if (c == 0xF0) lo = 0x90;
    else if (c == 0xF4) hi = 0x8F;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return len;
}

/* How many bytes at the start of s (n bytes) are well-formed UTF-8. */
static size_t utf8_valid_prefix(const char *s, size_t n)
{
    size_t i = 0, k;
    while (i < n && (k = utf8_seq((const unsigned char *)s + i, n - i)) > 0) i += k;
    return i;
}

/* A string value of s: as it is when it is valid UTF-8, otherwise with every byte that does not
 * start a well-formed sequence replaced by U+FFFD, one replacement per byte, as Go's
 * encoding/json (and so eKuiper) decodes it. */
static ek_value utf8_string(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = utf8_valid_prefix(s, n), k;
    if (i == n) return ek_string_n(s, n);
    ek_buf b = EK_BUF_INIT;
    ek_buf_append(&b, s, i);
    while (i < n) {
        k = utf8_seq(p + i, n - i);
        if (k) ek_buf_append(&b, s + i, k);
        else ek_buf_append(&b, "\xEF\xBF\xBD", 3);
        i += k ? k : 1;
    }
    ek_value v = ek_string_n(b.data, b.len);
    ek_buf_free(&b);
    return v;
}

static ek_value from_cjson(scan *s, const cJSON *item, int flags)
{
    if (cJSON_IsNumber(item)) return number_value(s, item, flags);
    if (cJSON_IsString(item)) return utf8_string(item->valuestring);
    if (cJSON_IsBool(item)) return ek_bool(cJSON_IsTrue(item));
    if (cJSON_IsArray(item)) {
        ek_value arr = ek_array_new((size_t)cJSON_GetArraySize(item));
        for (const cJSON *c = item->child; c; c = c->next) ek_array_push(&arr, from_cjson(s, c, flags));
        return arr;
    }
    if (cJSON_IsObject(item)) {
        ek_value obj = ek_object_new((size_t)cJSON_GetArraySize(item));
        for (const cJSON *c = item->child; c; c = c->next)
        {
            size_t n = strlen(c->string);
            if (utf8_valid_prefix(c->string, n) == n) {
                ek_object_set_n(&obj, c->string, n, from_cjson(s, c, flags));
                continue;
            }
            ek_value key = utf8_string(c->string);
            ek_object_set_n(&obj, ek_str_ptr(&key), ek_str_len(&key), from_cjson(s, c, flags));
            ek_value_unref(&key);
        }
        return obj;
    }
    return ek_null();
}

static int depth_ok(const char *text, size_t len)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > MAX_DEPTH) return 0;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 1;
}

static int position_error(const char *text, size_t len, const char *at, ek_err *err)
{
    size_t off = at && at >= text && at <= text + len ? (size_t)(at - text) : len;
    int line = 1, col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') { line++; col = 1; } else { col++; }
    }
    if (off >= len)
        return ek_err_set(err, EK_EPARSE, "invalid JSON at line %d, column %d: unexpected end of input", line, col);
    return ek_err_set(err, EK_EPARSE, "invalid JSON at line %d, column %d: unexpected character '%c'", line, col,
                      text[off]);
}

/* cJSON allocates a node for every value and a copy of every key and string, and a message's tree
 * lives only inside one ek_json_decode: malloc and free of those were the largest cost of a rule's
 * path (bench/RESULTS.md, "Profile"). So while a thread parses, cJSON takes memory from that
 * thread's bump arena (a bigger tree goes on with malloc), and the arena is emptied when the next
 * parse starts, its tree long deleted. cJSON is used nowhere else in kuiperd, so its hooks are set
 * once for the process; freeing an arena block is a no-op.
 * The arena is allocated by a thread's first parse and freed when the thread ends (arena_key), not
 * kept in static TLS: a thread that never parses JSON (the broker's, the timers', the HTTP
 * servers' while idle) then does not carry 16 kB (bench/RESULTS.md, "Idle memory"). */
#define ARENA_SIZE 16384

/* This thread's arena: buf is NULL until its first parse; on while it parses. */
static _Thread_local unsigned char *arena_buf;
static _Thread_local size_t arena_used;
static _Thread_local bool arena_on;
static pthread_key_t arena_key; /* frees a thread's arena when it ends */

static void *arena_malloc(size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    if (arena_on && need >= n && need <= ARENA_SIZE - arena_used) {
        void *p = arena_buf + arena_used;
        arena_used += need;
        return p;
    }
    return malloc(n);
}

static void arena_free(void *p)
{
    /* One unsigned compare: true only inside this thread's arena (never without one: no valid
     * pointer is below ARENA_SIZE). */
    if ((uintptr_t)p - (uintptr_t)arena_buf < ARENA_SIZE) return;
    free(p);
}

static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

/* At the end of a thread that parsed: its arena goes. */
static void arena_end(void *p)
{
    arena_buf = NULL;
    ek_free(p);
}

static void hooks_init(void)
{
    pthread_key_create(&arena_key, arena_end);
    cJSON_Hooks h = {.malloc_fn = arena_malloc, .free_fn = arena_free};
    cJSON_InitHooks(&h);
}

int ek_json_decode(const char *text, size_t len, int flags, ek_value *out, ek_err *err)
{
    if (!depth_ok(text, len))
        return ek_err_set(err, EK_EPARSE, "invalid JSON: nesting deeper than %d levels", MAX_DEPTH);
    pthread_once(&hooks_once, hooks_init);
    const char *end = NULL;
    if (!arena_buf) { /* this thread's first parse */
        arena_buf = ek_malloc(ARENA_SIZE); /* malloc's alignment (16) is what cJSON's nodes need */
        pthread_setspecific(arena_key, arena_buf);
    }
    arena_used = 0;
    arena_on = true;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    arena_on = false;
    if (!root) return position_error(text, len, cJSON_GetErrorPtr(), err);
    /* cJSON stops at the first value; anything but white space after it is an error. */
    const char *p = end;
    while (p < text + len && strchr(" \t\r\n", *p) && *p) p++;
    if (p < text + len && *p) {
        cJSON_Delete(root);
        return position_error(text, len, p, err);
    }
    scan s = {text, text + len};
    *out = from_cjson(&s, root, flags);
    cJSON_Delete(root);
    return 0;
}

/* ---- number and time formatting ---- */

void ek_json_format_double(double f, char out[32])
{
    if (isnan(f) || isinf(f)) {
        strcpy(out, "null");
        return;
    }
    if (f == 0) {
        strcpy(out, signbit(f) ? "-0" : "0");
        return;
    }
    /* Whole numbers below 1e15 are their integer digits (what the general case below prints). */
    if (fabs(f) < 1e15 && f == (double)(long long)f) {
        snprintf(out, 32, "%lld", (long long)f);
        return;
    }
    /* The shortest digits that read back exactly. Any double that 15 significant digits identify
     * (DBL_DIG) is f rounded to 15 digits with its trailing zeros dropped, so 15, 16 and 17 are
     * the only precisions to try (trying 1 to 17 in turn cost most of a message's encoding).
     * Subnormal numbers carry fewer bits, so for them every precision is tried. */
    char e[40];
    for (int prec = fabs(f) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, f);
        if (strtod(e, NULL) == f) break;
    }
    /* e is like "-1.2345e+05": split into sign, digits and exponent. */
    bool neg = e[0] == '-';
    char digits[24];
    int nd = 0;
    const char *q = e + (neg ? 1 : 0);
    for (; *q && *q != 'e'; q++)
        if (*q != '.') digits[nd++] = *q;
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    digits[nd] = '\0';
    int exp10 = atoi(q + 1);
    double a = fabs(f);
    char *o = out;
    if (neg) *o++ = '-';
    if (a < 1e-6 || a >= 1e21) {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        sprintf(o, "e%c%d", exp10 < 0 ? '-' : '+', abs(exp10));
        return;
    }
    if (exp10 < 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -exp10 - 1; i++) *o++ = '0';
        memcpy(o, digits, (size_t)nd);
        o += nd;
    } else if (nd <= exp10 + 1) {
        memcpy(o, digits, (size_t)nd);
        o += nd;
        for (int i = 0; i < exp10 + 1 - nd; i++) *o++ = '0';
    } else {
        memcpy(o, digits, (size_t)exp10 + 1);
        o += exp10 + 1;
        *o++ = '.';
        memcpy(o, digits + exp10 + 1, (size_t)(nd - exp10 - 1));
        o += nd - exp10 - 1;
    }
    *o = '\0';
}

void ek_json_format_datetime(int64_t ns, char out[40])
{
    time_t secs = (time_t)(ns / 1000000000);
    long frac = (long)(ns % 1000000000);
    if (frac < 0) { frac += 1000000000; secs -= 1; }
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac) {
        char f[16];
        snprintf(f, sizeof f, ".%09ld", frac);
        size_t fl = strlen(f);
        while (fl > 2 && f[fl - 1] == '0') fl--; /* frac > 0: a digit other than 0 stays */
        f[fl] = '\0';
        memcpy(out + n, f, fl + 1);
        n += fl;
    }
    strcpy(out + n, "Z");
}

/* ---- encoding ---- */

/* Encoding writes straight into the buffer (no intermediate tree: a sink encodes every message).
 * Strings are escaped as cJSON escapes them, so the output is what earlier versions printed. */

static int cmp_keys(const void *a, const void *b, void *ctx)
{
    const ek_object *o = ctx;
    const ek_str *x = o->keys[*(const size_t *)a], *y = o->keys[*(const size_t *)b];
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->data, y->data, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static void put_string(ek_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    ek_buf_reserve(out, len + 2);
    ek_buf_putc(out, '"');
    size_t run = 0; /* bytes copied as they are, pending */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        ek_buf_append(out, s + i - run, run);
        run = 0;
        char esc[6] = {'\\', 0};
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        ek_buf_append(out, esc, n);
    }
    ek_buf_append(out, s + len - run, run);
    ek_buf_putc(out, '"');
}

static void put_value(ek_buf *out, const ek_value *v, int flags);

static void put_object(ek_buf *out, const ek_value *v, int flags)
{
    const ek_object *o = v->o;
    size_t small[16], *order = o->len <= 16 ? small : ek_malloc(o->len * sizeof *order);
    for (size_t i = 0; i < o->len; i++) order[i] = i;
    if ((flags & EK_JSON_SORT_KEYS) && o->len > 1) qsort_r(order, o->len, sizeof *order, cmp_keys, (void *)o);
    ek_buf_putc(out, '{');
    for (size_t i = 0; i < o->len; i++) {
        if (i) ek_buf_putc(out, ',');
        const ek_str *k = o->keys[order[i]];
        put_string(out, k->data, k->len);
        ek_buf_putc(out, ':');
        put_value(out, &o->vals[order[i]], flags);
    }
    ek_buf_putc(out, '}');
    if (order != small) ek_free(order);
}

static void put_bytes(ek_buf *out, const ek_value *v)
{
    size_t n = 4 * ((v->s->len + 2) / 3);
    ek_buf_reserve(out, n + 3);
    ek_buf_putc(out, '"');
    EVP_EncodeBlock((unsigned char *)out->data + out->len, (const unsigned char *)v->s->data, (int)v->s->len);
    out->len += n;
    ek_buf_putc(out, '"');
}

static void put_value(ek_buf *out, const ek_value *v, int flags)
{
    char num[40];
    switch (v->type) {
    case EK_T_NULL: ek_buf_append(out, "null", 4); return;
    case EK_T_BOOL: ek_buf_puts(out, v->b ? "true" : "false"); return;
    case EK_T_INT: {
        int n = snprintf(num, sizeof num, "%lld", (long long)v->i);
        ek_buf_append(out, num, (size_t)n);
        return;
    }
    case EK_T_FLOAT:
        ek_json_format_double(v->f, num);
        ek_buf_puts(out, num);
        return;
    case EK_T_STRING: put_string(out, v->s->data, v->s->len); return;
    case EK_T_BYTES: put_bytes(out, v); return;
    case EK_T_DATETIME:
        ek_json_format_datetime(v->t, num);
        put_string(out, num, strlen(num));
        return;
    case EK_T_ARRAY:
        ek_buf_putc(out, '[');
        for (size_t i = 0; i < v->a->len; i++) {
            if (i) ek_buf_putc(out, ',');
            put_value(out, &v->a->items[i], flags);
        }
        ek_buf_putc(out, ']');
        return;
    case EK_T_OBJECT: put_object(out, v, flags); return;
    }
    ek_buf_append(out, "null", 4);
}

void ek_json_encode(const ek_value *v, int flags, ek_buf *out)
{
    ek_buf_reserve(out, 64);
    put_value(out, v, flags);
}

char *ek_json_encode_str(const ek_value *v, int flags)
{
    ek_buf b = EK_BUF_INIT;
    ek_json_encode(v, flags, &b);
    return ek_buf_detach(&b);
}
