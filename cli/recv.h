/* The HTTP receiver of `kuiper query` (recv.c): where the temporary query rule's rest sink posts
 * its results. Private to cli/. */
#ifndef EK_CLI_RECV_H
#define EK_CLI_RECV_H

#include "engine/buf.h"

#include <stddef.h>

typedef struct cli_recv cli_recv;

/* Listens on ip (IPv4 or IPv6 literal), port chosen by the kernel; url receives
 * "http://ip:port/". Returns 0 or -1 with errno set. */
int cli__recv_open(const char *ip, cli_recv **out, char *url, size_t urlsz);
/* Waits up to timeout_ms for one request; returns 1 with its body in body (reset first), 2 when
 * watch_fd (if >= 0) became readable first, 0 on timeout or signal, -1 on a listener failure.
 * Each request is answered 200. */
int cli__recv_wait(cli_recv *r, int timeout_ms, int watch_fd, ek_buf *body);
void cli__recv_close(cli_recv *r);

#endif
