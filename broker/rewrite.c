/* Topic rewrite (EMQX's emqx_rewrite): up to 30 rules from the `rewrite:` key, each
 * {action: publish|subscribe|all, source: <topic filter>, re: <PCRE2 regular expression>,
 *  dest: <topic with $1, $2... and ${clientid}, ${username}>}.
 *
 * A topic is checked against the rules in order; the first rule of the right action whose source
 * filter matches it decides: when its regular expression matches, the topic becomes dest with the
 * captured groups put in, otherwise it stays as it is (later rules are not tried). Publish rules
 * apply to PUBLISH topics (for $delayed/{s}/{topic}, to the topic after the prefix), subscribe rules
 * to SUBSCRIBE and UNSUBSCRIBE filters (for $share/{g}/, $queue/ and $exclusive/, to the filter after
 * the prefix). The callers rewrite before the ACL check, so the ACL sees the rewritten topic, and
 * before retained messages are stored or looked up. Expressions are compiled once, at start. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "broker/broker_int.h"
#include "engine/buf.h"
#include "engine/mem.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str_key(const ek_value *o, const char *a, const char *b)
{
    const ek_value *v = ek_object_get_ci(o, a);
    if (!v && b) v = ek_object_get_ci(o, b);
    return v && v->type == EK_T_STRING ? ek_str_ptr(v) : NULL;
}

static int rule(const ek_value *o, broker__rewrite *r, size_t i, ek_err *err)
{
    const ek_value *act = ek_object_get_ci(o, "action");
    const char *a = act && act->type == EK_T_STRING ? ek_str_ptr(act) : act ? "" : "all";
    if (!strcmp(a, "publish")) r->actions = BROKER_RW_PUB;
    else if (!strcmp(a, "subscribe")) r->actions = BROKER_RW_SUB;
    else if (!strcmp(a, "all")) r->actions = BROKER_RW_PUB | BROKER_RW_SUB;
    else return ek_err_set(err, EK_ECONF, "broker.rewrite[%zu].action: expected publish, subscribe or all", i);
    const char *src = str_key(o, "source", "source_topic"), *re = str_key(o, "re", NULL);
    const char *dest = str_key(o, "dest", "dest_topic");
    if (!src || !broker__filter_valid((const uint8_t *)src, strlen(src)))
        return ek_err_set(err, EK_ECONF, "broker.rewrite[%zu].source: expected a topic filter", i);
    if (!re) return ek_err_set(err, EK_ECONF, "broker.rewrite[%zu].re: expected a regular expression", i);
    if (!dest || !*dest) return ek_err_set(err, EK_ECONF, "broker.rewrite[%zu].dest: expected a topic", i);
    int ecode;
    PCRE2_SIZE eoff;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ecode, &eoff, NULL);
    if (!code) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ecode, msg, sizeof msg);
        return ek_err_set(err, EK_ECONF, "broker.rewrite[%zu].re: %s at offset %zu", i, (const char *)msg,
                          (size_t)eoff);
    }
    r->re = code;
    r->source = ek_strdup(src);
    r->dest = ek_strdup(dest);
    return 0;
}

int broker__rewrite_load(broker__cfg *cfg, const ek_value *list, ek_err *err)
{
    if (!list || ek_is_null(list)) return 0;
    if (list->type != EK_T_ARRAY) return ek_err_set(err, EK_ECONF, "broker.rewrite: expected a list of rules");
    if (ek_array_len(list) > BROKER_MAX_REWRITE)
        return ek_err_set(err, EK_ECONF, "broker.rewrite: at most %d rules, got %zu", BROKER_MAX_REWRITE,
                          ek_array_len(list));
    cfg->rewrite = ek_calloc(ek_array_len(list) + 1, sizeof *cfg->rewrite);
    for (size_t i = 0; i < ek_array_len(list); i++) {
        const ek_value *o = ek_array_get(list, i);
        if (o->type != EK_T_OBJECT) return ek_err_set(err, EK_ECONF, "broker.rewrite[%zu]: expected a mapping", i);
        broker__rewrite r = {0};
        int rc = rule(o, &r, i, err);
        if (rc) return rc;
        cfg->rewrite[cfg->nrewrite++] = r;
    }
    return 0;
}

void broker__rewrite_free(broker__cfg *cfg)
{
    for (size_t i = 0; i < cfg->nrewrite; i++) {
        pcre2_code_free(cfg->rewrite[i].re);
        ek_free(cfg->rewrite[i].source);
        ek_free(cfg->rewrite[i].dest);
    }
    ek_free(cfg->rewrite);
    cfg->rewrite = NULL;
    cfg->nrewrite = 0;
}

/* dest with $N replaced by capture N of topic (ov: n pairs set, ngroups in the pattern; an unset
 * group gives "", a number beyond the pattern's groups stays as written) and ${clientid} and
 * ${username} by theirs. */
static char *expand(const char *dest, const char *topic, const PCRE2_SIZE *ov, int n, uint32_t ngroups,
                    const char *clientid, const char *username)
{
    ek_buf out = EK_BUF_INIT;
    for (const char *p = dest; *p;) {
        if (p[0] == '$' && p[1] >= '0' && p[1] <= '9') {
            char *end;
            long k = strtol(p + 1, &end, 10);
            if (k >= 1 && k < n && ov[2 * k] != PCRE2_UNSET)
                ek_buf_append(&out, topic + ov[2 * k], ov[2 * k + 1] - ov[2 * k]);
            else if (k < 1 || (uint32_t)k > ngroups)
                ek_buf_append(&out, p, (size_t)(end - p));
            p = end;
        } else if (!strncmp(p, "${clientid}", 11)) {
            ek_buf_puts(&out, clientid ? clientid : "");
            p += 11;
        } else if (!strncmp(p, "${username}", 11)) {
            ek_buf_puts(&out, username ? username : "");
            p += 11;
        } else {
            ek_buf_putc(&out, *p++);
        }
    }
    return ek_buf_detach(&out);
}

char *broker__rewrite_apply(const broker__cfg *cfg, int action, const char *topic, const char *clientid,
                            const char *username)
{
    for (size_t i = 0; i < cfg->nrewrite; i++) {
        const broker__rewrite *r = &cfg->rewrite[i];
        if (!(r->actions & action) || !broker__filter_match(r->source, topic)) continue;
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(r->re, NULL);
        int rc = pcre2_match(r->re, (PCRE2_SPTR)topic, strlen(topic), 0, 0, md, NULL);
        char *out = NULL;
        uint32_t ngroups = 0;
        pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, &ngroups);
        if (rc > 0) out = expand(r->dest, topic, pcre2_get_ovector_pointer(md), rc, ngroups, clientid, username);
        pcre2_match_data_free(md);
        return out;
    }
    return NULL;
}

char *broker__rewrite_filter(broker__conn *c, const char *f, size_t flen)
{
    char *fstr = ek_strndup(f, flen);
    const char *real = broker__share_split(fstr, NULL);
    if (!real || !c->b->cfg.nrewrite) return fstr;
    char *nr = broker__rewrite_apply(&c->b->cfg, BROKER_RW_SUB, real, c->s ? c->s->id : NULL, c->username);
    if (!nr) return fstr;
    char *out = ek_asprintf("%.*s%s", (int)(real - fstr), fstr, nr);
    ek_free(nr);
    ek_free(fstr);
    return out;
}
