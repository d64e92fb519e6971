/* Acknowledgements that wait for the last holder: a small reference-counted completion.
 *
 * The bundled broker's publisher gets its PUBACK only once a message is safe in kuiperd: handed
 * to the destination by every sink of every QoS >= 1 rule reading it, in a sink cache on disk, or
 * in a rule checkpoint (docs/reliability.md, "No loss on kill -9"). The broker creates one ek_ack
 * per held message; the MQTT source, the stream's feed, each rule and each sink take a reference
 * while the message (or what it became) is theirs, and drop it when it is safe or gone. When the
 * last reference is dropped the completion runs once, on the thread that dropped it.
 *
 * Every function accepts NULL (a message nobody waits for), so the data path does not test. */
#ifndef EK_ACK_H
#define EK_ACK_H

typedef struct ek_ack ek_ack;

/* A new acknowledgement with one reference (the caller's); done(arg) runs when the last
 * reference is dropped. It must not block: it may run on a rule worker or a sink thread. */
ek_ack *ek_ack_new(void (*done)(void *arg), void *arg);
/* Takes one more reference; returns a. */
ek_ack *ek_ack_ref(ek_ack *a);
/* Drops one reference; the last one runs done and frees a. */
void ek_ack_unref(ek_ack *a);

/* A growable list of references (each held), released together: what a sink or a rule keeps
 * until its output is on disk. Zero-initialised is empty. Not thread-safe. */
typedef struct ek_ack_list {
    ek_ack **v;
    unsigned len, cap;
} ek_ack_list;

/* Adds a new reference to a (nothing for NULL). */
void ek_ack_list_add(ek_ack_list *l, ek_ack *a);
/* Drops every reference held and empties the list (its memory is kept for reuse). */
void ek_ack_list_release(ek_ack_list *l);
/* Releases and frees the list. */
void ek_ack_list_free(ek_ack_list *l);

#endif
