/* Auto-subscribe (EMQX's emqx_auto_subscribe): subscriptions the broker makes for every client when
 * its CONNECT is accepted, from the `autoSubscribe:` key, a list of
 * {topic, qos, nl, rap, rh} (no local, retain as published, retain handling; all default 0).
 *
 * The topic may hold ${clientid}, ${username} and ${host} (the client's IP address); an entry whose
 * placeholder has no value (a client without a user name) is skipped for that client. Each entry
 * goes through the same path as a SUBSCRIBE (rewrite, ACL, $share/$queue/$exclusive), without a
 * SUBACK; retained messages follow the retain handling, after the CONNACK. */
#include "broker/broker_int.h"
#include "engine/buf.h"
#include "engine/log.h"
#include "engine/mem.h"

#include <stdio.h>
#include <string.h>

#define MAX_AUTOSUB 64

char *broker__placeholders(const char *tmpl, const char *clientid, const char *username, const char *host)
{
    static const char *names[] = {"${clientid}", "${username}", "${host}"};
    const char *vals[] = {clientid, username, host};
    ek_buf out = EK_BUF_INIT;
    for (const char *p = tmpl; *p;) {
        size_t k = 0;
        while (k < 3 && strncmp(p, names[k], strlen(names[k])) != 0) k++;
        if (k == 3) {
            ek_buf_putc(&out, *p++);
            continue;
        }
        if (!vals[k]) {
            ek_buf_free(&out);
            return NULL;
        }
        ek_buf_puts(&out, vals[k]);
        p += strlen(names[k]);
    }
    return ek_buf_detach(&out);
}

/* Reads integer key name of o into *out, from 0 to max (absent: 0). */
static int small_int(const ek_value *o, const char *name, int max, size_t i, int *out, ek_err *err)
{
    const ek_value *v = ek_object_get_ci(o, name);
    double d = 0;
    *out = 0;
    if (!v || ek_is_null(v)) return 0;
    if (v->type == EK_T_BOOL) d = v->b;
    else if (!ek_value_as_double(v, &d) || d != (double)(int)d || d < 0 || d > max)
        return ek_err_set(err, EK_ECONF, "broker.autoSubscribe[%zu].%s: expected an integer from 0 to %d", i, name,
                          max);
    *out = (int)d;
    return 0;
}

static int entry(const ek_value *o, broker__autosub *a, size_t i, ek_err *err)
{
    const ek_value *t = ek_object_get_ci(o, "topic");
    if (!t || t->type != EK_T_STRING || !ek_str_len(t))
        return ek_err_set(err, EK_ECONF, "broker.autoSubscribe[%zu].topic: expected a topic filter", i);
    int qos, nl, rap, rh, rc;
    if ((rc = small_int(o, "qos", 2, i, &qos, err)) || (rc = small_int(o, "nl", 1, i, &nl, err)) ||
        (rc = small_int(o, "rap", 1, i, &rap, err)) || (rc = small_int(o, "rh", 2, i, &rh, err)))
        return rc;
    /* Checked with the placeholders filled in by a sample, so "${clientid}/#" passes. */
    char *sample = broker__placeholders(ek_str_ptr(t), "c", "u", "h");
    const char *real = broker__share_split(sample, NULL);
    bool ok = real && broker__filter_valid((const uint8_t *)real, strlen(real));
    ek_free(sample);
    if (!ok) return ek_err_set(err, EK_ECONF, "broker.autoSubscribe[%zu].topic: expected a topic filter", i);
    a->topic = ek_strdup(ek_str_ptr(t));
    a->opts = (uint8_t)(qos | nl << 2 | rap << 3 | rh << 4);
    return 0;
}

int broker__autosub_load(broker__cfg *cfg, const ek_value *list, ek_err *err)
{
    if (!list || ek_is_null(list)) return 0;
    if (list->type != EK_T_ARRAY) return ek_err_set(err, EK_ECONF, "broker.autoSubscribe: expected a list");
    if (ek_array_len(list) > MAX_AUTOSUB)
        return ek_err_set(err, EK_ECONF, "broker.autoSubscribe: at most %d entries", MAX_AUTOSUB);
    cfg->autosub = ek_calloc(ek_array_len(list) + 1, sizeof *cfg->autosub);
    for (size_t i = 0; i < ek_array_len(list); i++) {
        const ek_value *o = ek_array_get(list, i);
        if (o->type != EK_T_OBJECT)
            return ek_err_set(err, EK_ECONF, "broker.autoSubscribe[%zu]: expected a mapping", i);
        int rc = entry(o, &cfg->autosub[cfg->nautosub], i, err);
        if (rc) return rc;
        cfg->nautosub++;
    }
    return 0;
}

void broker__autosub_free(broker__cfg *cfg)
{
    for (size_t i = 0; i < cfg->nautosub; i++) ek_free(cfg->autosub[i].topic);
    ek_free(cfg->autosub);
    cfg->autosub = NULL;
    cfg->nautosub = 0;
}

void broker__autosub_apply(broker__conn *c)
{
    ek_broker *b = c->b;
    if (!b->cfg.nautosub || !c->s) return;
    char host[64];
    snprintf(host, sizeof host, "%s", c->peer);
    char *colon = strrchr(host, ':');
    if (colon) *colon = 0;
    for (size_t i = 0; i < b->cfg.nautosub && c->s; i++) {
        const broker__autosub *a = &b->cfg.autosub[i];
        char *topic = broker__placeholders(a->topic, c->s->id, c->username, host[0] ? host : NULL);
        if (!topic) continue;
        broker__sub *sub = NULL;
        bool existed = false;
        uint8_t code = broker__subscribe_one(c, topic, strlen(topic), a->opts, 0, &sub, &existed);
        if (!sub) /* no SUBACK tells the client: say why in the log (0x87 ACL, 0x8F invalid, 0x97 exclusive) */
            ek_debug("broker: autoSubscribe %s for client %s refused (reason 0x%02x)", topic, c->s->id, code);
        uint8_t rh = (a->opts >> 4) & 3;
        if (sub && !sub->group && (rh == 0 || (rh == 1 && !existed)))
            broker__retain_deliver(b, sub, broker__share_split(sub->filter, NULL));
        ek_free(topic);
    }
    c->s->dirty = true;
}
