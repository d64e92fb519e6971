/* Authorization: an ordered list of rules, checked when a client subscribes and when it publishes.
 *
 * The rules come from the inline `acl:` list of the broker configuration followed by those of
 * `aclFile` (a YAML file holding the same list under `acl:`). Each rule has a permission (allow or deny), an
 * action (publish, subscribe or all), a topic filter (or a list of them, `topics`) in which `%u`
 * and `%c` stand for the client's user name and client id, and optionally the client id, user
 * name or peer address (`ipaddress`, one IPv4 address or a CIDR block) it applies to. A topic
 * written "eq <filter>" matches only that exact string (EMQX's form: "eq #" is the subscription
 * to "#" itself, not everything). The first
 * rule that matches decides; when none matches `aclNoMatch` does (allow by default).
 *
 * A rule's filter matches a publish when the topic matches it, and a subscription when it covers
 * the whole requested filter (every topic the subscription can receive is within the rule). A
 * placeholder whose value is missing or holds '+', '#' or '/' makes its rule not match, so a
 * client cannot widen a rule by choosing its name. Superusers and in-process clients are never
 * checked. A denied SUBSCRIBE gets SUBACK 0x80 (3.1.1) or 0x87 (5.0); a denied PUBLISH is dropped
 * (0x87 in a v5 PUBACK/PUBREC). */
#include "broker/broker_int.h"
#include "engine/config.h"
#include "engine/mem.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool broker__filter_match(const char *filter, const char *topic)
{
    return broker__filter_covers(filter, topic);
}

bool broker__filter_covers(const char *rule, const char *filter)
{
    if (filter[0] == '$' && (rule[0] == '+' || rule[0] == '#')) return false;
    for (;;) {
        if (rule[0] == '#') return true;
        const char *re = strchr(rule, '/'), *fe = strchr(filter, '/');
        size_t rl = re ? (size_t)(re - rule) : strlen(rule);
        size_t fl = fe ? (size_t)(fe - filter) : strlen(filter);
        bool rplus = rl == 1 && rule[0] == '+';
        if (fl == 1 && filter[0] == '#') return false;               /* only '#' covers '#' */
        if (!rplus && fl == 1 && filter[0] == '+') return false;     /* only '+' or '#' cover '+' */
        if (!rplus && (rl != fl || memcmp(rule, filter, rl) != 0)) return false;
        if (!re && !fe) return true;
        if (!fe) return re[1] == '#' && re[2] == 0; /* "a/#" matches "a" */
        if (!re) return false;
        rule = re + 1;
        filter = fe + 1;
    }
}

/* The value of a placeholder, or NULL when it must not match (missing, or able to widen). */
static const char *placeholder(const broker__conn *c, char k)
{
    const char *v = k == 'u' ? c->username : k == 'c' && c->s ? c->s->id : NULL;
    return v && *v && !strpbrk(v, "+#/") ? v : NULL;
}

/* Expands %u and %c of topic into buf (cap bytes) when it fits, else into a fresh string (the
 * caller frees it when it is not buf); NULL when the rule cannot match this client. */
static char *expand(const char *topic, const broker__conn *c, char *buf, size_t cap)
{
    size_t n = 0;
    for (const char *p = topic; *p; p++) {
        const char *v = p[0] == '%' && (p[1] == 'u' || p[1] == 'c') ? placeholder(c, p[1]) : NULL;
        if (p[0] == '%' && (p[1] == 'u' || p[1] == 'c') && !v) return NULL;
        n += v ? strlen(v) : 1;
        if (v) p++;
    }
    char *out = n < cap ? buf : ek_malloc(n + 1), *w = out;
    for (const char *p = topic; *p; p++) {
        if (p[0] == '%' && (p[1] == 'u' || p[1] == 'c')) {
            const char *v = placeholder(c, p[1]);
            memcpy(w, v, strlen(v));
            w += strlen(v);
            p++;
        } else {
            *w++ = *p;
        }
    }
    *w = 0;
    return out;
}

static bool rule_hits(const broker__acl_rule *r, const broker__conn *c, const char *topic)
{
    if (r->clientid && (!c->s || strcmp(r->clientid, c->s->id) != 0)) return false;
    if (r->username && (!c->username || strcmp(r->username, c->username) != 0)) return false;
    if (r->has_ip && (!c->peer_ip || (c->peer_ip & r->mask) != r->ip)) return false;
    if (!strchr(r->topic, '%')) return r->eq ? !strcmp(r->topic, topic) : broker__filter_covers(r->topic, topic);
    char buf[256];
    char *t = expand(r->topic, c, buf, sizeof buf);
    bool hit = t && (r->eq ? !strcmp(t, topic) : broker__filter_covers(t, topic));
    if (t != buf) ek_free(t);
    return hit;
}

bool broker__acl_allow(ek_broker *b, const broker__conn *c, int action, const char *topic)
{
    const broker__cfg *cfg = &b->cfg;
    if (c->superuser) return true;
    for (size_t i = 0; i < cfg->nacl; i++) {
        const broker__acl_rule *r = &cfg->acl[i];
        if ((r->actions & action) && rule_hits(r, c, topic)) return r->allow;
    }
    return !cfg->acl_deny;
}

/* Parses "a.b.c.d" or "a.b.c.d/n" into r. */
static bool ip_rule(const char *s, broker__acl_rule *r)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%s", s);
    char *slash = strchr(buf, '/');
    long bits = 32;
    if (slash) {
        char *end;
        *slash = 0;
        bits = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || bits < 0 || bits > 32) return false;
    }
    struct in_addr a;
    if (inet_pton(AF_INET, buf, &a) != 1) return false;
    r->mask = bits == 0 ? 0 : 0xFFFFFFFFu << (32 - bits);
    r->ip = ntohl(a.s_addr) & r->mask;
    r->has_ip = true;
    return true;
}

static char *opt_str(const ek_value *o, const char *key)
{
    const ek_value *v = ek_object_get_ci(o, key);
    return v && v->type == EK_T_STRING ? ek_strdup(ek_str_ptr(v)) : NULL;
}

/* The filter of a rule's topic, without its "eq " prefix; NULL when it is not a valid filter. */
static const char *topic_of(const ek_value *t, bool *eq)
{
    if (!t || t->type != EK_T_STRING) return NULL;
    const char *f = ek_str_ptr(t);
    *eq = strncmp(f, "eq ", 3) == 0;
    if (*eq) f += 3;
    return broker__filter_valid((const uint8_t *)f, strlen(f)) ? f : NULL;
}

/* Appends the rules of mapping o (one per topic) to cfg. where names it in errors. */
static int rule(broker__cfg *cfg, const ek_value *o, const char *where, ek_err *err)
{
    const ek_value *perm = ek_object_get_ci(o, "permission"), *act = ek_object_get_ci(o, "action");
    const ek_value *topic = ek_object_get_ci(o, "topic"), *topics = ek_object_get_ci(o, "topics");
    const ek_value *ip = ek_object_get_ci(o, "ipaddress");
    broker__acl_rule r = {0};
    if (!perm || perm->type != EK_T_STRING || (strcmp(ek_str_ptr(perm), "allow") && strcmp(ek_str_ptr(perm), "deny")))
        return ek_err_set(err, EK_ECONF, "%s.permission: expected allow or deny", where);
    r.allow = strcmp(ek_str_ptr(perm), "allow") == 0;
    const char *a = act && act->type == EK_T_STRING ? ek_str_ptr(act) : "all";
    if (!strcmp(a, "publish")) r.actions = BROKER_ACL_PUB;
    else if (!strcmp(a, "subscribe")) r.actions = BROKER_ACL_SUB;
    else if (!strcmp(a, "all")) r.actions = BROKER_ACL_PUB | BROKER_ACL_SUB;
    else return ek_err_set(err, EK_ECONF, "%s.action: expected publish, subscribe or all", where);
    if (ip && (ip->type != EK_T_STRING || !ip_rule(ek_str_ptr(ip), &r)))
        return ek_err_set(err, EK_ECONF, "%s.ipaddress: expected an IPv4 address or CIDR block (10.0.0.0/8)", where);
    size_t n = topics && topics->type == EK_T_ARRAY ? ek_array_len(topics) : 1;
    bool eq;
    for (size_t i = 0; i < n; i++) {
        const ek_value *t = topics && topics->type == EK_T_ARRAY ? ek_array_get(topics, i) : topic;
        if (!topic_of(t, &eq)) return ek_err_set(err, EK_ECONF, "%s.topic: expected a topic filter", where);
    }
    cfg->acl = ek_realloc(cfg->acl, (cfg->nacl + n) * sizeof *cfg->acl);
    for (size_t i = 0; i < n; i++) {
        const ek_value *t = topics && topics->type == EK_T_ARRAY ? ek_array_get(topics, i) : topic;
        broker__acl_rule *dst = &cfg->acl[cfg->nacl++];
        *dst = r;
        dst->topic = ek_strdup(topic_of(t, &dst->eq));
        dst->clientid = opt_str(o, "clientid");
        dst->username = opt_str(o, "username");
    }
    return 0;
}

static int rules(broker__cfg *cfg, const ek_value *list, const char *name, ek_err *err)
{
    if (!list || ek_is_null(list)) return 0;
    if (list->type != EK_T_ARRAY) return ek_err_set(err, EK_ECONF, "%s: expected a list of rules", name);
    for (size_t i = 0; i < ek_array_len(list); i++) {
        const ek_value *o = ek_array_get(list, i);
        char where[300];
        snprintf(where, sizeof where, "%s[%zu]", name, i);
        if (o->type != EK_T_OBJECT) return ek_err_set(err, EK_ECONF, "%s: expected a mapping", where);
        int rc = rule(cfg, o, where, err);
        if (rc) return rc;
    }
    return 0;
}

/* The rules of an ACL file: a YAML mapping whose `acl` key holds the list of rules. */
static int acl_file(broker__cfg *cfg, const char *path, ek_err *err)
{
    ek_value doc = ek_null();
    int rc = ek_yaml_load(path, &doc, err);
    if (rc) return ek_err_prefix(err, "broker.aclFile");
    const ek_value *list = doc.type == EK_T_OBJECT ? ek_object_get_ci(&doc, "acl") : NULL;
    char where[300];
    snprintf(where, sizeof where, "%s: acl", path);
    rc = list ? rules(cfg, list, where, err) : ek_err_set(err, EK_ECONF, "%s: expected a list of rules under acl:", path);
    ek_value_unref(&doc);
    return rc;
}

int broker__acl_load(broker__cfg *cfg, const ek_value *sec, ek_err *err)
{
    const ek_value *nm = ek_object_get_ci(sec, "aclNoMatch"), *file = ek_object_get_ci(sec, "aclFile");
    if (nm && !ek_is_null(nm)) {
        if (nm->type != EK_T_STRING || (strcmp(ek_str_ptr(nm), "allow") && strcmp(ek_str_ptr(nm), "deny")))
            return ek_err_set(err, EK_ECONF, "broker.aclNoMatch: expected allow or deny");
        cfg->acl_deny = strcmp(ek_str_ptr(nm), "deny") == 0;
    }
    int rc = rules(cfg, ek_object_get_ci(sec, "acl"), "broker.acl", err);
    if (rc) return rc;
    if (file && !ek_is_null(file)) {
        if (file->type != EK_T_STRING) return ek_err_set(err, EK_ECONF, "broker.aclFile: expected a file name");
        if (ek_str_len(file)) return acl_file(cfg, ek_str_ptr(file), err);
    }
    return 0;
}

void broker__cfg_free(broker__cfg *cfg)
{
    for (size_t i = 0; i < cfg->nacl; i++) {
        ek_free(cfg->acl[i].topic);
        ek_free(cfg->acl[i].clientid);
        ek_free(cfg->acl[i].username);
    }
    ek_free(cfg->acl);
    cfg->acl = NULL;
    cfg->nacl = 0;
    broker__users_free(cfg);
    broker__autosub_free(cfg);
    broker__rewrite_free(cfg);
    broker__jwt_free(cfg);
    broker__listeners_free(cfg);
    broker__bridges_free(cfg);
}
