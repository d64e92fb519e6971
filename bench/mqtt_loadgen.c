/* mqtt_loadgen: the MQTT load generator that bench/broker_bench.sh runs against kuiperd's broker
 * and against Mosquitto, side by side, with the same clients (see bench/README.md).
 *
 * It is self-contained on purpose: its own small MQTT 3.1.1/5.0 encoder and decoder, raw
 * non-blocking sockets and one epoll loop, and no call into the broker's code, so both brokers are
 * measured by the same yardstick. The generator must never be the bottleneck: publishers put many
 * PUBLISH packets in one write(), subscribers read up to 256 KiB at a time, and it reports its own
 * CPU time (getrusage) next to the results so a run where it saturated a core shows. Every run is
 * bounded in time and stops by itself; it only connects to 127.0.0.1. Results go to stdout as one
 * readable line and one "RESULT key=value ..." line for scripts.
 *
 * The e2e scenario (bench/e2e_bench.sh) goes through kuiperd's rule engine instead of measuring a
 * broker alone: publishers send JSON readings to <in-topic>/<n>, rules filter and project them and
 * publish to topics the subscriber matches with --out-filter; each message carries its send time
 * as a fixed-width string field "ts", so latency is measured on what the rules produced. --fanout
 * says how many deliveries one message makes (rules x subscribers). With --rate publishing is
 * paced, otherwise as fast as the window allows. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define LG_READ_CAP (256 * 1024) /* one read() of a subscriber */
#define LG_BATCH (64 * 1024)     /* bytes of PUBLISH packets a publisher writes at once */
#define LG_IDLE_CAP 256          /* buffers of an idle connection */
#define LG_MAX_PENDING 64        /* idle: connections not yet CONNACKed (below listen backlogs) */
#define LG_TIMER_TAG UINT64_MAX  /* epoll tag of the latency timer */
#define LG_MAX_PAYLOAD (1024 * 1024)

enum scenario { SC_FANIN, SC_FANOUT, SC_QOS1, SC_LATENCY, SC_IDLE, SC_E2E };
#define LG_NSCENARIOS 6
/* The e2e payload: the "ts" digits are written into each copy (LG_TS_DIGITS, zero-padded). */
#define LG_E2E_JSON "{\"device\":\"d%04u\",\"temperature\":23.5,\"humidity\":61,\"ts\":\"%020u\"}"
#define LG_TS_DIGITS 20
enum role { R_PUB, R_SUB, R_IDLE };
enum cstate { S_CONNACK, S_SUBACK, S_READY, S_DEAD };
enum phase { P_SETUP, P_WARMUP, P_MEASURE, P_DRAIN, P_SETTLE, P_HOLD, P_DONE };

struct buf {
    uint8_t *p;
    size_t len; /* bytes held */
    size_t off; /* out buffers: bytes already written */
    size_t cap;
};

struct conn {
    int fd;
    int role;
    int state;
    bool writable;
    bool subscribing;   /* SUBSCRIBE sent, SUBACK not yet received */
    struct buf in, out;
    uint64_t sent;      /* PUBLISH packets queued (publishers) */
    uint64_t recv;      /* PUBLISH packets received (subscribers) */
    uint32_t inflight;  /* QoS 1 PUBLISH packets not yet acknowledged */
    uint32_t recv_max;  /* the broker's Receive Maximum (MQTT 5 CONNACK), else 65535 */
    uint16_t next_id;
    uint64_t *next_seq; /* subscribers: the sequence number expected next from each publisher */
    uint32_t pub_index; /* publishers: written into every payload after the sequence number */
    uint8_t *tmpl;      /* one PUBLISH packet, copied for each message */
    size_t tmpl_len, id_off, pay_off;
};

struct opts {
    int port;
    int scenario;
    int mqtt;           /* 4 for 3.1.1, 5 for 5.0 (the CONNECT protocol level) */
    double duration, warmup, hold;
    int pubs, subs, conns;
    size_t payload;
    uint64_t window;    /* published messages not yet delivered to every subscriber */
    uint32_t inflight;  /* QoS 1: PUBLISH packets not yet acknowledged, per publisher */
    uint32_t rate;      /* latency: messages per second */
    int broker_pid;
    const char *dump;   /* latency: write "send time, latency" of every sample to this file */
    const char *in_topic, *out_filter; /* e2e */
    uint32_t fanout;    /* e2e: deliveries per published message */
    bool paced;         /* e2e: --rate given */
    int qos;            /* e2e: the publishers' QoS (0 or 1) */
};

/* A snapshot of the counters at the start and end of the measured interval. */
struct snap {
    double t;
    uint64_t sent, recv, acked;
    double cpu;         /* this process: user + system seconds */
    double bcpu;        /* the broker process, from /proc/<pid>/stat */
};

struct lg {
    struct opts o;
    int ep, timer;
    struct conn *c;
    int n;              /* connections in use */
    int opened, connacked;
    int phase;
    bool sending;
    double t_begin, t_phase, deadline;
    uint64_t sent, recv, acked, written_off, stalls, errors, nack;
    uint64_t bad, gaps, dups; /* deliveries with a wrong payload, missing and repeated sequence numbers */
    double last_progress;
    char prefix[32];
    struct snap s0, s1;
    uint64_t *lat;      /* latency samples in ns */
    uint64_t *lat_at;   /* their send times (ns, CLOCK_MONOTONIC), kept only for --dump */
    size_t nlat, lat_cap;
    long rss0, rss1;    /* broker RSS in kB before and after the idle connections */
    double t_connected;
};

static const char *scenario_names[] = {"fanin", "fanout", "qos1", "latency", "idle", "e2e"};

static bool paced(const struct lg *g) { return g->o.scenario == SC_LATENCY || (g->o.scenario == SC_E2E && g->o.paced); }

/* Publishers send QoS 1 (and keep at most --inflight unacknowledged). */
static bool pub_qos1(const struct lg *g) { return g->o.scenario == SC_QOS1 || (g->o.scenario == SC_E2E && g->o.qos == 1); }

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mqtt_loadgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        die("out of memory (%zu bytes)", n);
    return p;
}

static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

/* The broker's user + system CPU seconds (all threads), or -1 when unknown. */
static double broker_cpu(int pid)
{
    char path[64], line[1024];
    if (pid <= 0)
        return -1;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    /* The command name may hold spaces: fields are counted after its closing parenthesis. */
    char *p = strrchr(line, ')');
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The broker's resident set size in kB, or -1 when unknown. */
static long broker_rss(int pid)
{
    char path[64], line[256];
    long kb = -1;
    if (pid <= 0)
        return -1;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* ---- MQTT encoding: only what the scenarios send ---- */

static size_t put_varint(uint8_t *p, size_t v)
{
    size_t n = 0;
    do {
        uint8_t b = v % 128;
        v /= 128;
        p[n++] = (uint8_t)(b | (v ? 0x80 : 0));
    } while (v);
    return n;
}

static size_t put_str(uint8_t *p, const char *s)
{
    size_t len = strlen(s);
    p[0] = (uint8_t)(len >> 8);
    p[1] = (uint8_t)len;
    memcpy(p + 2, s, len);
    return len + 2;
}

/* Writes the fixed header for a body of body_len bytes, and returns its length. */
static size_t put_header(uint8_t *p, uint8_t type, size_t body_len)
{
    p[0] = type;
    return 1 + put_varint(p + 1, body_len);
}

static void buf_init(struct buf *b, size_t cap)
{
    b->p = xmalloc(cap);
    b->len = b->off = 0;
    b->cap = cap;
}

static uint8_t *buf_room(struct buf *b, size_t n)
{
    if (b->len + n > b->cap) {
        while (b->len + n > b->cap)
            b->cap *= 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            die("out of memory");
    }
    return b->p + b->len;
}

/* Appends a packet: header type, then body (body_len bytes). */
static void put_packet(struct buf *b, uint8_t type, const uint8_t *body, size_t body_len)
{
    uint8_t *p = buf_room(b, body_len + 5);
    size_t h = put_header(p, type, body_len);
    memcpy(p + h, body, body_len);
    b->len += h + body_len;
}

static void put_connect(struct lg *g, struct conn *c, const char *client_id)
{
    uint8_t body[128];
    size_t n = put_str(body, "MQTT");
    body[n++] = (uint8_t)g->o.mqtt;
    body[n++] = 0x02; /* clean session / clean start */
    body[n++] = 0;    /* keep alive 0: the generator never pings */
    body[n++] = 0;
    if (g->o.mqtt == 5)
        body[n++] = 0; /* no properties */
    n += put_str(body + n, client_id);
    put_packet(&c->out, 0x10, body, n);
}

static void put_subscribe(struct lg *g, struct conn *c, const char *filter, int qos)
{
    uint8_t body[128];
    size_t n = 0;
    body[n++] = 0;
    body[n++] = 1; /* packet id */
    if (g->o.mqtt == 5)
        body[n++] = 0;
    n += put_str(body + n, filter);
    body[n++] = (uint8_t)qos;
    put_packet(&c->out, 0x82, body, n);
}

static void put_puback(struct conn *c, uint16_t id)
{
    uint8_t *p = buf_room(&c->out, 4);
    p[0] = 0x40;
    p[1] = 2;
    p[2] = (uint8_t)(id >> 8);
    p[3] = (uint8_t)id;
    c->out.len += 4;
}

/* Builds the publisher's PUBLISH template: a packet copied for every message, with the packet id
 * (QoS 1) and the send timestamp (latency) patched in place. */
static void make_template(struct lg *g, struct conn *c, const char *topic, int qos)
{
    size_t tlen = strlen(topic);
    size_t body = 2 + tlen + (qos ? 2 : 0) + (g->o.mqtt == 5 ? 1 : 0) + g->o.payload;
    c->tmpl = xmalloc(body + 5);
    size_t n = put_header(c->tmpl, (uint8_t)(0x30 | (qos << 1)), body);
    n += put_str(c->tmpl + n, topic);
    c->id_off = qos ? n : 0;
    if (qos) {
        c->tmpl[n++] = 0;
        c->tmpl[n++] = 1;
    }
    if (g->o.mqtt == 5)
        c->tmpl[n++] = 0;
    c->pay_off = n;
    memset(c->tmpl + n, 'x', g->o.payload);
    if (g->o.scenario == SC_E2E) {
        char json[128];
        snprintf(json, sizeof json, LG_E2E_JSON, c->pub_index, 0u);
        memcpy(c->tmpl + n, json, g->o.payload); /* payload is strlen(json) for e2e */
        c->pay_off = n + g->o.payload - 2 - LG_TS_DIGITS; /* where the ts digits go */
    } else if (g->o.payload >= 12)
        memcpy(c->tmpl + n + 8, &c->pub_index, 4);
    c->tmpl_len = n + g->o.payload;
}

/* e2e: the send time in a delivered payload (0 when absent), from its "ts" string field. */
static uint64_t e2e_ts(const uint8_t *p, size_t len)
{
    static const char key[] = "\"ts\":\"";
    for (size_t i = 0; i + sizeof key - 1 + LG_TS_DIGITS <= len; i++) {
        if (memcmp(p + i, key, sizeof key - 1) != 0)
            continue;
        uint64_t v = 0;
        for (size_t k = i + sizeof key - 1; k < len && p[k] >= '0' && p[k] <= '9'; k++)
            v = v * 10 + (uint64_t)(p[k] - '0');
        return v;
    }
    return 0;
}

/* ---- connections ---- */

static void conn_dead(struct lg *g, struct conn *c, const char *why)
{
    if (c->state == S_DEAD)
        return;
    if (g->phase != P_DONE) {
        g->errors++;
        fprintf(stderr, "mqtt_loadgen: connection %d lost: %s\n", (int)(c - g->c), why);
    }
    c->state = S_DEAD;
    close(c->fd);
    c->fd = -1;
}

static void conn_open(struct lg *g, int i, int role)
{
    struct conn *c = &g->c[i];
    memset(c, 0, sizeof *c);
    c->role = role;
    c->state = S_CONNACK;
    c->recv_max = 65535;
    c->next_id = 1;
    size_t cap = role == R_IDLE ? LG_IDLE_CAP : LG_READ_CAP;
    buf_init(&c->in, cap);
    buf_init(&c->out, role == R_IDLE ? LG_IDLE_CAP : LG_BATCH + 2 * (g->o.payload + 512));
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        die("socket: %s (raise the open-file limit?)", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g->o.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS)
        die("connect 127.0.0.1:%d: %s", g->o.port, strerror(errno));
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u64 = (uint64_t)i};
    if (epoll_ctl(g->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        die("epoll_ctl: %s", strerror(errno));
    char id[64];
    snprintf(id, sizeof id, "%s-%c%d", g->prefix, "psi"[role], i);
    put_connect(g, c, id);
    g->opened++;
}

/* Writes what is queued; on EAGAIN waits for EPOLLOUT (edge-triggered, registered once). */
static void conn_flush(struct lg *g, struct conn *c)
{
    while (c->state != S_DEAD && c->writable && c->out.off < c->out.len) {
        ssize_t n = send(c->fd, c->out.p + c->out.off, c->out.len - c->out.off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                c->writable = false;
            else if (errno != EINTR)
                conn_dead(g, c, strerror(errno));
            continue;
        }
        c->out.off += (size_t)n;
    }
    if (c->out.off == c->out.len)
        c->out.off = c->out.len = 0;
}

/* ---- MQTT decoding ---- */

/* Skips MQTT 5 properties starting at p (length prefix included); returns bytes used or 0. If
 * recv_max is not NULL, stores a Receive Maximum property there. */
static size_t skip_props(const uint8_t *p, size_t len, uint32_t *recv_max)
{
    size_t plen = 0, n = 0, shift = 0;
    do {
        if (n >= len || n >= 4)
            return 0;
        plen |= (size_t)(p[n] & 0x7f) << shift;
        shift += 7;
    } while (p[n++] & 0x80);
    if (n + plen > len)
        return 0;
    for (size_t i = n; i < n + plen;) {
        uint8_t id = p[i++];
        size_t end = n + plen;
        switch (id) {
        case 0x01: case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2A:
            i += 1;
            break;
        case 0x13: case 0x21: case 0x22: case 0x23:
            if (id == 0x21 && recv_max && i + 2 <= end)
                *recv_max = (uint32_t)(p[i] << 8 | p[i + 1]);
            i += 2;
            break;
        case 0x02: case 0x11: case 0x18: case 0x27:
            i += 4;
            break;
        case 0x0B:
            while (i < end && (p[i] & 0x80))
                i++;
            i++;
            break;
        default: /* a string or binary; a user property (0x26) is two strings */
            for (int k = 0; k < (id == 0x26 ? 2 : 1); k++) {
                if (i + 2 > end)
                    return 0;
                i += 2 + (size_t)(p[i] << 8 | p[i + 1]);
            }
            break;
        }
    }
    return n + plen;
}

/* Checks a delivered payload: its size, and (throughput scenarios) that each publisher's sequence
 * numbers arrive in order without gaps or repeats, as QoS 0 and 1 on one topic promise. */
static void check_payload(struct lg *g, struct conn *c, const uint8_t *p, size_t len)
{
    uint64_t seq;
    uint32_t pub;
    if (g->o.scenario == SC_E2E)
        return; /* the rules' output: its shape is theirs */
    if (len != g->o.payload) {
        g->bad++;
        return;
    }
    if (g->o.scenario == SC_LATENCY || len < 12)
        return;
    memcpy(&seq, p, 8);
    memcpy(&pub, p + 8, 4);
    if (pub >= (uint32_t)g->o.pubs) {
        g->bad++;
        return;
    }
    if (seq > c->next_seq[pub])
        g->gaps += seq - c->next_seq[pub];
    else if (seq < c->next_seq[pub])
        g->dups++;
    if (seq >= c->next_seq[pub])
        c->next_seq[pub] = seq + 1;
}

static void on_publish(struct lg *g, struct conn *c, uint8_t flags, const uint8_t *p, size_t len)
{
    int qos = (flags >> 1) & 3;
    if (len < 2)
        return;
    size_t i = 2 + (size_t)(p[0] << 8 | p[1]);
    uint16_t id = 0;
    if (i > len || (qos && i + 2 > len)) {
        g->bad++; /* a topic longer than the packet */
        return;
    }
    if (qos) {
        id = (uint16_t)(p[i] << 8 | p[i + 1]);
        i += 2;
        put_puback(c, id);
    }
    if (g->o.mqtt == 5) {
        size_t n = skip_props(p + i, len - i, NULL);
        if (!n) {
            g->bad++;
            return;
        }
        i += n;
    }
    c->recv++;
    g->recv++;
    g->last_progress = 0;
    check_payload(g, c, p + i, len - i);
    if ((g->o.scenario == SC_LATENCY && len - i >= 8) || g->o.scenario == SC_E2E) {
        uint64_t sent_ns;
        if (g->o.scenario == SC_E2E)
            sent_ns = e2e_ts(p + i, len - i);
        else
            memcpy(&sent_ns, p + i, 8);
        if (sent_ns == 0 || g->nlat >= g->lat_cap)
            return;
        double ts = (double)sent_ns / 1e9;
        if (g->phase == P_MEASURE && ts >= g->s0.t) {
            if (g->lat_at)
                g->lat_at[g->nlat] = sent_ns;
            g->lat[g->nlat++] = now_ns() - sent_ns;
        }
    }
}

static void on_packet(struct lg *g, struct conn *c, uint8_t type, const uint8_t *p, size_t len)
{
    switch (type >> 4) {
    case 2: /* CONNACK */
        if (len < 2 || p[1] != 0) {
            conn_dead(g, c, "CONNACK refused");
            return;
        }
        if (g->o.mqtt == 5 && len > 2)
            skip_props(p + 2, len - 2, &c->recv_max);
        c->state = c->role == R_SUB ? S_SUBACK : S_READY;
        g->connacked++;
        break;
    case 9: /* SUBACK */
        if (len < 3 || p[len - 1] >= 0x80) {
            conn_dead(g, c, "SUBACK refused");
            return;
        }
        c->state = S_READY;
        break;
    case 3:
        on_publish(g, c, type & 0x0f, p, len);
        break;
    case 4: /* PUBACK */
        if (len >= 3 && p[2] >= 0x80)
            g->nack++;
        if (c->inflight)
            c->inflight--;
        g->acked++;
        break;
    case 14: /* DISCONNECT from an MQTT 5 broker */
        fprintf(stderr, "mqtt_loadgen: broker sent DISCONNECT reason 0x%02x\n", len ? p[0] : 0);
        conn_dead(g, c, "DISCONNECT");
        break;
    default:
        break;
    }
}

/* Decodes every whole packet in the input buffer and keeps the partial tail. */
static void parse(struct lg *g, struct conn *c)
{
    size_t i = 0;
    while (c->state != S_DEAD) {
        size_t rem = 0, n = 1, shift = 0;
        bool whole = false;
        while (i + n < c->in.len && n <= 4) {
            rem |= (size_t)(c->in.p[i + n] & 0x7f) << shift;
            shift += 7;
            if (!(c->in.p[i + n++] & 0x80)) {
                whole = true;
                break;
            }
        }
        if (!whole) {
            if (n > 4)
                conn_dead(g, c, "bad remaining length");
            break;
        }
        if (i + n + rem > c->in.len) {
            if (n + rem > c->in.cap)
                buf_room(&c->in, n + rem);
            break;
        }
        on_packet(g, c, c->in.p[i], c->in.p + i + n, rem);
        i += n + rem;
    }
    if (c->state == S_DEAD)
        return;
    memmove(c->in.p, c->in.p + i, c->in.len - i);
    c->in.len -= i;
}

static void on_readable(struct lg *g, struct conn *c)
{
    for (;;) {
        if (c->in.len == c->in.cap)
            buf_room(&c->in, c->in.cap);
        ssize_t n = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len, 0);
        if (n == 0) {
            conn_dead(g, c, "closed by the broker");
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                conn_dead(g, c, strerror(errno));
            return;
        }
        c->in.len += (size_t)n;
        parse(g, c);
        if (c->state == S_DEAD)
            return;
        conn_flush(g, c); /* PUBACKs for QoS 1, SUBSCRIBE after CONNACK */
        if ((size_t)n < LG_READ_CAP / 2)
            return; /* a short read: the socket is very likely drained (edge-triggered is fine) */
    }
}

/* ---- publishing ---- */

static uint64_t outstanding(const struct lg *g)
{
    uint64_t per = (uint64_t)(g->o.subs ? g->o.subs : 1) * (g->o.scenario == SC_E2E ? g->o.fanout : 1);
    uint64_t delivered = g->recv / per;
    uint64_t done = delivered + g->written_off;
    return g->sent > done ? g->sent - done : 0;
}

/* Queues up to count PUBLISH packets (one batch) and writes them; returns how many. */
static uint64_t publish_batch(struct lg *g, struct conn *c, uint64_t count)
{
    uint64_t n = 0;
    while (n < count && c->out.len < LG_BATCH) {
        uint8_t *p = buf_room(&c->out, c->tmpl_len);
        memcpy(p, c->tmpl, c->tmpl_len);
        if (c->id_off) {
            p[c->id_off] = (uint8_t)(c->next_id >> 8);
            p[c->id_off + 1] = (uint8_t)c->next_id;
            c->next_id = c->next_id == 65535 ? 1 : c->next_id + 1;
            c->inflight++;
        }
        if (g->o.scenario == SC_LATENCY) {
            uint64_t t = now_ns();
            memcpy(p + c->pay_off, &t, 8);
        } else if (g->o.scenario == SC_E2E) {
            uint64_t t = now_ns();
            for (int k = LG_TS_DIGITS - 1; k >= 0; k--, t /= 10)
                p[c->pay_off + (size_t)k] = (uint8_t)('0' + t % 10);
        } else if (g->o.payload >= 12) {
            uint64_t seq = c->sent + n;
            memcpy(p + c->pay_off, &seq, 8);
        }
        c->out.len += c->tmpl_len;
        n++;
    }
    c->sent += n;
    g->sent += n;
    conn_flush(g, c);
    return n;
}

/* Gives every writable publisher one batch within the window; returns true if anything was sent. */
static bool pump(struct lg *g)
{
    bool progress = false;
    if (!g->sending || paced(g))
        return false;
    for (int i = 0; i < g->n; i++) {
        struct conn *c = &g->c[i];
        if (c->role != R_PUB || c->state != S_READY || !c->writable || c->out.len)
            continue;
        uint64_t out = outstanding(g);
        if (out >= g->o.window)
            break;
        uint64_t credit = g->o.window - out;
        if (pub_qos1(g)) {
            /* Refill the window only once a quarter of it is acknowledged, so that a write carries
             * several packets instead of one per PUBACK (which made the generator the bottleneck). */
            uint32_t max = g->o.inflight < c->recv_max ? g->o.inflight : c->recv_max;
            uint32_t room = c->inflight > max - (max + 3) / 4 ? 0 : max - c->inflight;
            credit = credit < room ? credit : room;
        }
        if (credit && publish_batch(g, c, credit))
            progress = true;
    }
    return progress;
}

/* Latency: the timer fired; sends the messages due by now, each stamped just before it is sent. */
static void on_timer(struct lg *g)
{
    uint64_t ticks;
    if (read(g->timer, &ticks, sizeof ticks) < 0 || !g->sending)
        return;
    uint64_t due = (uint64_t)((now() - g->t_begin) * g->o.rate);
    for (int i = 0; i < g->n; i++) {
        struct conn *c = &g->c[i];
        if (c->role == R_PUB && c->state == S_READY && due > g->sent && !c->out.len)
            publish_batch(g, c, due - g->sent);
    }
}

/* ---- phases ---- */

static void snapshot(struct lg *g, struct snap *s)
{
    s->t = now();
    s->sent = g->sent;
    s->recv = g->recv;
    s->acked = g->acked;
    s->cpu = self_cpu();
    s->bcpu = broker_cpu(g->o.broker_pid);
}

static bool all_ready(const struct lg *g)
{
    for (int i = 0; i < g->n; i++)
        if (g->c[i].state != S_READY)
            return false;
    return true;
}

static void start_sending(struct lg *g, double t)
{
    g->t_begin = t;
    g->phase = P_WARMUP;
    g->sending = true;
    g->last_progress = 0;
    if (paced(g)) {
        long ns = 1000000000L / (long)g->o.rate;
        if (ns < 50000)
            ns = 50000;
        struct itimerspec its = {.it_interval = {0, ns}, .it_value = {0, ns}};
        timerfd_settime(g->timer, 0, &its, NULL);
    }
}

/* Subscribers send SUBSCRIBE once their CONNACK is in. */
static void subscribe_all(struct lg *g)
{
    char filter[64];
    static const char *filters[] = {"in/+", "out", "q1", "lat", "", ""};
    for (int i = 0; i < g->n; i++) {
        struct conn *c = &g->c[i];
        if (c->role != R_SUB || c->state != S_SUBACK || c->subscribing)
            continue;
        if (g->o.scenario == SC_E2E)
            snprintf(filter, sizeof filter, "%s", g->o.out_filter);
        else
            snprintf(filter, sizeof filter, "%s/%s", g->prefix, filters[g->o.scenario]);
        put_subscribe(g, c, filter, g->o.scenario == SC_QOS1 ? 1 : 0);
        c->subscribing = true;
        conn_flush(g, c);
    }
}

static void advance_idle(struct lg *g, double t)
{
    switch (g->phase) {
    case P_SETUP:
        while (g->opened < g->o.conns && g->opened - g->connacked < LG_MAX_PENDING)
            conn_open(g, g->n++, R_IDLE);
        if (g->connacked == g->o.conns) {
            g->t_connected = t - g->t_begin;
            g->phase = P_SETTLE;
            g->t_phase = t;
        }
        break;
    case P_SETTLE:
        if (t - g->t_phase >= 1.0) {
            g->rss1 = broker_rss(g->o.broker_pid);
            g->phase = P_HOLD;
            g->t_phase = t;
        }
        break;
    case P_HOLD:
        if (t - g->t_phase >= g->o.hold)
            g->phase = P_DONE;
        break;
    default:
        break;
    }
}

static void advance(struct lg *g, double t)
{
    if (t > g->deadline && g->phase == P_SETUP) {
        fprintf(stderr, "mqtt_loadgen: setup did not finish (%d of %d connections answered)\n", g->connacked,
                g->opened);
        g->errors++;
        g->phase = P_DONE;
        return;
    }
    if (g->o.scenario == SC_IDLE) {
        advance_idle(g, t);
        return;
    }
    switch (g->phase) {
    case P_SETUP:
        subscribe_all(g);
        if (all_ready(g))
            start_sending(g, t);
        break;
    case P_WARMUP:
        if (t - g->t_begin >= g->o.warmup) {
            snapshot(g, &g->s0);
            g->phase = P_MEASURE;
        }
        break;
    case P_MEASURE:
        if (t - g->s0.t >= g->o.duration) {
            snapshot(g, &g->s1);
            g->sending = false;
            g->phase = P_DRAIN;
            g->t_phase = t;
        }
        break;
    case P_DRAIN:
        /* Everything delivered (and, for QoS 1, acknowledged), or two seconds gone. */
        if (t - g->t_phase >= 2.0 || (outstanding(g) == 0 && (!pub_qos1(g) || g->acked >= g->sent)))
            g->phase = P_DONE;
        break;
    default:
        break;
    }
}

/* A full window with nothing delivered for a second: count the missing messages as lost and go on,
 * rather than waiting for messages a broker has dropped. */
static void check_stall(struct lg *g, double t)
{
    if (!g->sending || paced(g) || outstanding(g) < g->o.window) {
        g->last_progress = 0;
        return;
    }
    if (g->last_progress == 0) {
        g->last_progress = t;
    } else if (t - g->last_progress > 1.0) {
        g->stalls++;
        g->written_off += outstanding(g);
        g->last_progress = 0;
        for (int i = 0; i < g->n; i++)
            g->c[i].inflight = 0;
    }
}

static void loop(struct lg *g)
{
    struct epoll_event ev[256];
    bool progress = false;
    while (g->phase != P_DONE) {
        int n = epoll_wait(g->ep, ev, 256, progress ? 0 : 5);
        if (n < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            if (ev[i].data.u64 == LG_TIMER_TAG) {
                on_timer(g);
                continue;
            }
            struct conn *c = &g->c[ev[i].data.u64];
            if (c->state == S_DEAD)
                continue;
            if (ev[i].events & EPOLLOUT) {
                c->writable = true;
                conn_flush(g, c);
            }
            if (ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                on_readable(g, c);
        }
        double t = now();
        advance(g, t);
        check_stall(g, t);
        progress = pump(g);
    }
}

/* ---- results ---- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const uint64_t *v, size_t n, double p)
{
    return n ? (double)v[(size_t)(p * (double)(n - 1))] / 1000.0 : 0;
}

/* Writes each latency sample as "milliseconds since the measurement began, latency in us", in
 * arrival order, to find periodic stalls. */
static void dump_latency(const struct lg *g)
{
    if (!g->o.dump || !g->lat_at)
        return;
    FILE *f = fopen(g->o.dump, "w");
    if (!f) {
        fprintf(stderr, "mqtt_loadgen: %s: %s\n", g->o.dump, strerror(errno));
        return;
    }
    for (size_t i = 0; i < g->nlat; i++)
        fprintf(f, "%.3f %.1f\n", ((double)g->lat_at[i] / 1e9 - g->s0.t) * 1e3, (double)g->lat[i] / 1e3);
    fclose(f);
}

static void report_idle(struct lg *g, const char *proto)
{
    double per = g->rss0 > 0 && g->rss1 > 0 ? (double)(g->rss1 - g->rss0) * 1024.0 / g->o.conns : -1;
    printf("idle mqtt %s: %d connections in %.2f s, broker RSS %ld -> %ld kB, %.0f bytes/connection\n", proto,
           g->connacked, g->t_connected, g->rss0, g->rss1, per);
    printf("RESULT scenario=idle mqtt=%s conns=%d connect_s=%.3f rss0_kb=%ld rss1_kb=%ld bytes_per_conn=%.0f "
           "errors=%" PRIu64 "\n",
           proto, g->connacked, g->t_connected, g->rss0, g->rss1, per, g->errors);
}

/* Prints the measured interval: rate, latency percentiles, CPU of both sides, and integrity. */
static void report(struct lg *g)
{
    const char *name = scenario_names[g->o.scenario], *proto = g->o.mqtt == 5 ? "5" : "3.1.1";
    if (g->o.scenario == SC_IDLE) {
        report_idle(g, proto);
        return;
    }
    double dt = g->s1.t - g->s0.t;
    uint64_t msgs = g->s1.sent - g->s0.sent, dels = g->s1.recv - g->s0.recv;
    double rate = dt > 0 ? (double)dels / dt : 0, lg_cpu = dt > 0 ? (g->s1.cpu - g->s0.cpu) / dt * 100 : 0;
    double bcpu = g->s0.bcpu >= 0 && g->s1.bcpu >= 0 ? g->s1.bcpu - g->s0.bcpu : -1;
    double b_pct = bcpu >= 0 && dt > 0 ? bcpu / dt * 100 : -1;
    double b_us = bcpu >= 0 && dels ? bcpu * 1e6 / (double)dels : -1;
    uint64_t want = g->sent * (uint64_t)g->o.subs * (g->o.scenario == SC_E2E ? g->o.fanout : 1);
    uint64_t lost = want > g->recv ? want - g->recv : 0;
    double q[4] = {0, 0, 0, 0};
    static const double at[4] = {0.50, 0.99, 0.999, 1.0};
    if (g->o.scenario == SC_LATENCY || g->o.scenario == SC_E2E) {
        dump_latency(g);
        qsort(g->lat, g->nlat, sizeof *g->lat, cmp_u64);
        for (int i = 0; i < 4; i++)
            q[i] = pct(g->lat, g->nlat, at[i]);
        printf("%s mqtt %s: %.0f msg/s sent, %.0f delivered/s, p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us "
               "(%zu samples)",
               name, proto, dt > 0 ? (double)msgs / dt : 0, rate, q[0], q[1], q[2], q[3], g->nlat);
    } else {
        printf("%s mqtt %s: %.0f %s in %.2f s (%" PRIu64 " published, %" PRIu64 " delivered)", name, proto, rate,
               g->o.scenario == SC_FANOUT ? "deliveries/s" : "msg/s", dt, msgs, dels);
    }
    printf("; loadgen CPU %.0f%%, broker CPU %.0f%% (%.2f us/delivery); lost %" PRIu64 ", gaps %" PRIu64
           ", dups %" PRIu64 ", bad %" PRIu64 ", errors %" PRIu64 "\n",
           lg_cpu, b_pct, b_us, lost, g->gaps, g->dups, g->bad, g->errors);
    printf("RESULT scenario=%s mqtt=%s seconds=%.3f published=%" PRIu64 " delivered=%" PRIu64 " rate=%.0f p50_us=%.1f "
           "p99_us=%.1f p999_us=%.1f max_us=%.1f samples=%zu lg_cpu_pct=%.1f broker_cpu_pct=%.1f "
           "broker_us_per_msg=%.3f total_sent=%" PRIu64 " total_acked=%" PRIu64 " lost=%" PRIu64 " gaps=%" PRIu64
           " dups=%" PRIu64 " bad=%" PRIu64 " stalls=%" PRIu64 " nacks=%" PRIu64 " errors=%" PRIu64 "\n",
           name, proto, dt, msgs, dels, rate, q[0], q[1], q[2], q[3], g->nlat, lg_cpu, b_pct, b_us, g->sent, g->acked,
           lost, g->gaps, g->dups, g->bad, g->stalls, g->nack, g->errors);
}

/* ---- setup ---- */

static void usage(void)
{
    fputs("usage: mqtt_loadgen --port N --scenario fanin|fanout|qos1|latency|idle|e2e [options]\n"
          "  --mqtt 3|5          protocol (default 3, i.e. 3.1.1)\n"
          "  --duration S        measured seconds (default 5); --warmup S (default 0.5)\n"
          "  --pubs N --subs N   publishers and subscribers (defaults: by scenario)\n"
          "  --payload BYTES     payload size (default 64)\n"
          "  --window N          messages published but not yet delivered (default 4096)\n"
          "  --inflight N        qos1: unacknowledged PUBLISH per publisher (default 64)\n"
          "  --rate N            latency: messages per second (default 10000)\n"
          "  --conns N --hold S  idle: connections (default 5000), seconds held after (default 1)\n"
          "  --broker-pid PID    read the broker's CPU time and RSS from /proc/PID\n"
          "  --dump FILE         latency: write every sample (ms since start, latency us) to FILE\n"
          "  --in-topic T --out-filter F --fanout K\n"
          "                      e2e: publish JSON to T/<n>, count what F matches, K deliveries per message\n"
          "  --qos 0|1           e2e: the publishers' QoS (default 0; 1 keeps --inflight unacknowledged)\n"
          "Connects to 127.0.0.1 only.\n",
          stderr);
    exit(2);
}

static void parse_args(struct opts *o, int argc, char **argv)
{
    static const struct option longs[] = {
        {"port", 1, 0, 'p'},     {"scenario", 1, 0, 's'}, {"mqtt", 1, 0, 'm'},  {"duration", 1, 0, 'd'},
        {"warmup", 1, 0, 'w'},   {"pubs", 1, 0, 'P'},     {"subs", 1, 0, 'S'},  {"payload", 1, 0, 'l'},
        {"window", 1, 0, 'W'},   {"inflight", 1, 0, 'i'}, {"rate", 1, 0, 'r'},  {"conns", 1, 0, 'c'},
        {"hold", 1, 0, 'h'},     {"broker-pid", 1, 0, 'b'}, {"dump", 1, 0, 'D'}, {"in-topic", 1, 0, 'I'},
        {"out-filter", 1, 0, 'O'}, {"fanout", 1, 0, 'F'},  {"qos", 1, 0, 'Q'}, {0, 0, 0, 0}};
    *o = (struct opts){.scenario = -1, .mqtt = 4, .duration = 5, .warmup = 0.5, .hold = 1, .payload = 64,
                       .window = 4096, .inflight = 64, .rate = 10000, .conns = 5000, .pubs = -1, .subs = -1,
                       .in_topic = "e2e/in", .out_filter = "e2e/out/#", .fanout = 1};
    int ch;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 'p': o->port = atoi(optarg); break;
        case 's':
            for (int i = 0; i < LG_NSCENARIOS; i++)
                if (!strcmp(optarg, scenario_names[i]))
                    o->scenario = i;
            break;
        case 'm': o->mqtt = atoi(optarg) == 5 ? 5 : 4; break;
        case 'd': o->duration = atof(optarg); break;
        case 'w': o->warmup = atof(optarg); break;
        case 'P': o->pubs = atoi(optarg); break;
        case 'S': o->subs = atoi(optarg); break;
        case 'l': o->payload = (size_t)atol(optarg); break;
        case 'W': o->window = (uint64_t)atoll(optarg); break;
        case 'i': o->inflight = (uint32_t)atol(optarg); break;
        case 'r': o->rate = (uint32_t)atol(optarg), o->paced = true; break;
        case 'I': o->in_topic = optarg; break;
        case 'O': o->out_filter = optarg; break;
        case 'F': o->fanout = (uint32_t)atol(optarg); break;
        case 'Q': o->qos = atoi(optarg) == 1; break;
        case 'c': o->conns = atoi(optarg); break;
        case 'h': o->hold = atof(optarg); break;
        case 'b': o->broker_pid = atoi(optarg); break;
        case 'D': o->dump = optarg; break;
        default: usage();
        }
    }
    static const int def_pubs[] = {4, 1, 1, 1, 0, 4}, def_subs[] = {1, 8, 1, 1, 0, 1};
    if (o->port <= 0 || o->port > 65535 || o->scenario < 0 || optind != argc)
        usage();
    if (o->pubs < 0)
        o->pubs = def_pubs[o->scenario];
    if (o->subs < 0)
        o->subs = def_subs[o->scenario];
    if (o->scenario == SC_IDLE)
        o->pubs = o->subs = 0;
    if (o->duration <= 0 || o->duration > 60 || o->warmup < 0 || o->warmup > 10 || o->hold < 0 || o->hold > 600)
        die("--duration must be in (0, 60], --warmup in [0, 10], --hold in [0, 600]");
    if ((o->scenario != SC_IDLE && (o->pubs < 1 || o->subs < 1 || o->pubs + o->subs > 1000)) || o->window < 1 ||
        o->inflight < 1 || o->inflight > 65535 || o->rate < 1 || o->rate > 1000000 || o->conns < 1 ||
        o->conns > 100000 || o->payload > LG_MAX_PAYLOAD || (o->scenario == SC_LATENCY && o->payload < 8) ||
        o->fanout < 1 || strlen(o->in_topic) > 40 || strlen(o->out_filter) > 60)
        die("an option is out of range (see --help)");
    if (o->scenario == SC_E2E) {
        char json[128];
        o->payload = (size_t)snprintf(json, sizeof json, LG_E2E_JSON, 0u, 0u);
    }
}

static void raise_fd_limit(int need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)need + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void setup(struct lg *g)
{
    struct opts *o = &g->o;
    int total = o->scenario == SC_IDLE ? o->conns : o->pubs + o->subs;
    raise_fd_limit(total);
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0); /* latency: wake up within a microsecond or so */
    snprintf(g->prefix, sizeof g->prefix, "lg%d", (int)getpid());
    g->ep = epoll_create1(EPOLL_CLOEXEC);
    g->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (g->ep < 0 || g->timer < 0)
        die("epoll/timerfd: %s", strerror(errno));
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = LG_TIMER_TAG};
    epoll_ctl(g->ep, EPOLL_CTL_ADD, g->timer, &ev);
    g->c = xmalloc(sizeof *g->c * (size_t)total);
    g->t_begin = now();
    g->deadline = g->t_begin + 10 + total / 500.0;
    if (o->scenario == SC_IDLE) {
        g->rss0 = broker_rss(o->broker_pid);
        return;
    }
    if (o->scenario == SC_E2E) {
        g->lat_cap = 4u << 20; /* samples kept: the first 4 Mi deliveries of the measured interval */
        g->lat = xmalloc(g->lat_cap * sizeof *g->lat);
        g->lat_at = o->dump ? xmalloc(g->lat_cap * sizeof *g->lat_at) : NULL;
    }
    if (o->scenario == SC_LATENCY) {
        g->lat_cap = (size_t)(o->rate * (o->duration + 1)) + 1024;
        g->lat = xmalloc(g->lat_cap * sizeof *g->lat);
        g->lat_at = o->dump ? xmalloc(g->lat_cap * sizeof *g->lat_at) : NULL;
    }
    for (int i = 0; i < o->subs; i++) {
        conn_open(g, g->n, R_SUB);
        g->c[g->n++].next_seq = calloc((size_t)o->pubs, sizeof(uint64_t));
    }
    static const char *topics[] = {"in", "out", "q1", "lat"};
    for (int i = 0; i < o->pubs; i++) {
        char topic[64];
        if (o->scenario == SC_FANIN) /* one topic per publisher, matched by the subscriber's "+" */
            snprintf(topic, sizeof topic, "%s/in/%d", g->prefix, i);
        else if (o->scenario == SC_E2E)
            snprintf(topic, sizeof topic, "%s/%d", o->in_topic, i);
        else
            snprintf(topic, sizeof topic, "%s/%s", g->prefix, topics[o->scenario]);
        conn_open(g, g->n, R_PUB);
        g->c[g->n].pub_index = (uint32_t)i;
        make_template(g, &g->c[g->n], topic, pub_qos1(g) ? 1 : 0);
        g->n++;
    }
}

/* Sends DISCONNECT on every live connection and closes it. */
static void teardown(struct lg *g)
{
    static const uint8_t disconnect[2] = {0xe0, 0x00};
    for (int i = 0; i < g->n; i++) {
        struct conn *c = &g->c[i];
        if (c->state != S_DEAD) {
            if (send(c->fd, disconnect, sizeof disconnect, MSG_NOSIGNAL) < 0)
                (void)0; /* the broker may be gone already; closing is all that is left */
            close(c->fd);
        }
        free(c->in.p);
        free(c->out.p);
        free(c->tmpl);
        free(c->next_seq);
    }
    free(g->c);
    free(g->lat);
    free(g->lat_at);
    close(g->ep);
    close(g->timer);
}

int main(int argc, char **argv)
{
    struct lg g;
    memset(&g, 0, sizeof g);
    parse_args(&g.o, argc, argv);
    setup(&g);
    loop(&g);
    report(&g);
    teardown(&g);
    return g.errors ? 1 : 0;
}
