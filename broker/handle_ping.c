/* PINGREQ: answered with PINGRESP. Any packet already refreshed the keep alive (conn.c). */
#include "broker/broker_int.h"

int broker__handle_ping(broker__conn *c, broker__pkt *p)
{
    broker__pkt r = {.type = BROKER_PINGRESP};
    broker__conn_send(c, &r);
    return 0;
}
