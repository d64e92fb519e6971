/* Authorization: an ordered list of rules from the `acl:` key of the broker configuration,
 * checked when a client subscribes and when it publishes.
 *
 * Each rule has a permission (allow or deny), an action (publish, subscribe or all), a topic
 * filter, and optionally the client id or user name it applies to. The first rule that matches
 * decides; when none matches the request is allowed. A denied SUBSCRIBE gets SUBACK 0x80 (3.1.1)
 * or 0x87 (5.0); a denied PUBLISH is dropped (0x87 in a v5 PUBACK/PUBREC). In-process clients are
 * trusted and never checked. */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <stdio.h>
#include <string.h>

bool broker__filter_match(const char *filter, const char *topic)
{
    if (topic[0] == '$' && (filter[0] == '+' || filter[0] == '#')) return false;
    for (;;) {
        if (filter[0] == '#') return true;
        const char *fe = strchr(filter, '/'), *te = strchr(topic, '/');
        size_t fl = fe ? (size_t)(fe - filter) : strlen(filter);
        size_t tl = te ? (size_t)(te - topic) : strlen(topic);
        if (!(fl == 1 && filter[0] == '+') && (fl != tl || memcmp(filter, topic, fl) != 0)) return false;
        if (!fe && !te) return true;
        if (!te) return fe[1] == '#' && fe[2] == 0; /* "a/#" matches "a" */
        if (!fe) return false;
        filter = fe + 1;
        topic = te + 1;
    }
}

static bool has_wildcard(const char *s)
{
    return strpbrk(s, "+#") != NULL;
}

bool broker__acl_allow(ek_broker *b, const broker__conn *c, int action, const char *topic)
{
    const broker__cfg *cfg = &b->cfg;
    for (size_t i = 0; i < cfg->nacl; i++) {
        const broker__acl_rule *r = &cfg->acl[i];
        if (!(r->actions & action)) continue;
        if (r->clientid && (!c->s || strcmp(r->clientid, c->s->id) != 0)) continue;
        if (r->username && (!c->username || strcmp(r->username, c->username) != 0)) continue;
        bool hit;
        if (action == BROKER_ACL_SUB)
            hit = strcmp(r->topic, topic) == 0 || (!has_wildcard(topic) && broker__filter_match(r->topic, topic));
        else
            hit = broker__filter_match(r->topic, topic);
        if (hit) return r->allow;
    }
    return true;
}

static int rule(const ek_value *o, broker__acl_rule *r, size_t i, ek_err *err)
{
    const ek_value *perm = ek_object_get_ci(o, "permission"), *act = ek_object_get_ci(o, "action");
    const ek_value *topic = ek_object_get_ci(o, "topic"), *cid = ek_object_get_ci(o, "clientid");
    const ek_value *user = ek_object_get_ci(o, "username");
    if (!perm || perm->type != EK_T_STRING || (strcmp(ek_str_ptr(perm), "allow") && strcmp(ek_str_ptr(perm), "deny")))
        return ek_err_set(err, EK_ECONF, "broker.acl[%zu].permission: expected allow or deny", i);
    r->allow = strcmp(ek_str_ptr(perm), "allow") == 0;
    const char *a = act && act->type == EK_T_STRING ? ek_str_ptr(act) : "all";
    if (!strcmp(a, "publish")) r->actions = BROKER_ACL_PUB;
    else if (!strcmp(a, "subscribe")) r->actions = BROKER_ACL_SUB;
    else if (!strcmp(a, "all")) r->actions = BROKER_ACL_PUB | BROKER_ACL_SUB;
    else return ek_err_set(err, EK_ECONF, "broker.acl[%zu].action: expected publish, subscribe or all", i);
    if (!topic || topic->type != EK_T_STRING ||
        !broker__filter_valid((const uint8_t *)ek_str_ptr(topic), ek_str_len(topic)))
        return ek_err_set(err, EK_ECONF, "broker.acl[%zu].topic: expected a topic filter", i);
    r->topic = ek_strdup(ek_str_ptr(topic));
    r->clientid = cid && cid->type == EK_T_STRING ? ek_strdup(ek_str_ptr(cid)) : NULL;
    r->username = user && user->type == EK_T_STRING ? ek_strdup(ek_str_ptr(user)) : NULL;
    return 0;
}

int broker__acl_load(broker__cfg *cfg, const ek_value *list, ek_err *err)
{
    if (!list || ek_is_null(list)) return 0;
    if (list->type != EK_T_ARRAY) return ek_err_set(err, EK_ECONF, "broker.acl: expected a list of rules");
    cfg->acl = ek_calloc(ek_array_len(list) + 1, sizeof *cfg->acl);
    for (size_t i = 0; i < ek_array_len(list); i++) {
        const ek_value *o = ek_array_get(list, i);
        if (o->type != EK_T_OBJECT) return ek_err_set(err, EK_ECONF, "broker.acl[%zu]: expected a mapping", i);
        int rc = rule(o, &cfg->acl[cfg->nacl], i, err);
        if (rc) return rc;
        cfg->nacl++;
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
    broker__listeners_free(cfg);
    broker__bridges_free(cfg);
}
