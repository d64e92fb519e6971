/* Banned clients: a CONNECT whose client id, user name or peer address is banned (authdb.h, kept
 * in SQLite) is refused with CONNACK 0x8A (3.1.1: 5, not authorized), and a ban added while such
 * a client is connected disconnects it (DISCONNECT 0x98, administrative action, in MQTT 5).
 *
 * The REST thread writes the ban, then asks the broker's thread through the post queue to close
 * the matching connections: the connection list is only ever touched on the reactor thread. */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const char *broker__peer_host(const broker__conn *c, char *buf)
{
    snprintf(buf, 64, "%s", c->peer);
    char *colon = strrchr(buf, ':');
    if (colon) *colon = 0;
    return buf;
}

bool broker__banned(broker__conn *c, const char *client_id, const broker__pkt *p)
{
    ek_broker *b = c->b;
    char host[64];
    broker__peer_host(c, host);
    struct in_addr a;
    c->peer_ip = inet_pton(AF_INET, host, &a) == 1 ? ntohl(a.s_addr) : 0;
    if (!b->authdb) return false;
    char *user = p->has_user ? ek_strndup((const char *)p->username.p, p->username.len) : NULL;
    bool hit = ek_authdb_banned(b->authdb, client_id, user, *host ? host : NULL, (int64_t)time(NULL));
    ek_free(user);
    return hit;
}

typedef struct kick {
    char *kind, *who;
} kick;

static bool names(broker__conn *c, const kick *k)
{
    char host[64];
    if (!strcmp(k->kind, "clientid")) return c->s && !strcmp(c->s->id, k->who);
    if (!strcmp(k->kind, "username")) return c->username && !strcmp(c->username, k->who);
    return !strcmp(broker__peer_host(c, host), k->who);
}

static void do_kick(ek_broker *b, void *arg)
{
    kick *k = arg;
    broker__conn *next;
    for (broker__conn *c = b->conns; c; c = next) {
        next = c->next;
        if (c->state == CONN_ACTIVE && names(c, k)) broker__conn_close(c, RC_ADMIN_ACTION);
    }
    ek_free(k->kind);
    ek_free(k->who);
    ek_free(k);
}

void ek_broker_kick_banned(ek_broker *b, const char *kind, const char *who)
{
    if (!b || !ek_authdb_ban_kind_valid(kind) || !who) return;
    kick *k = ek_malloc(sizeof *k);
    k->kind = ek_strdup(kind);
    k->who = ek_strdup(who);
    broker__post(b, do_kick, k);
}

ek_authdb *ek_broker_authdb(ek_broker *b)
{
    return b ? b->authdb : NULL;
}

uint32_t ek_broker_password_iterations(const ek_broker *b)
{
    return b && b->cfg.pw_iterations ? b->cfg.pw_iterations : EK_PASSWD_ITERATIONS;
}

void ek_broker_config_users(const ek_broker *b, ek_value *out)
{
    for (size_t i = 0; b && i < b->cfg.nusers; i++) {
        ek_value o = ek_object_new(3);
        ek_object_set(&o, "username", ek_string(b->cfg.users[i].name));
        ek_object_set(&o, "is_superuser", ek_bool(b->cfg.users[i].superuser));
        ek_object_set(&o, "source", ek_string("config"));
        ek_array_push(out, o);
    }
}
