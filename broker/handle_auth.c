/* AUTH: MQTT 5 enhanced authentication. The broker offers no authentication method (a CONNECT
 * naming one gets 0x8C in handle_connect.c), so an AUTH packet is always a protocol error here;
 * username/password checks go through the ek_broker auth hook at CONNECT instead. This file is
 * the place a SCRAM or token exchange would plug in. */
#include "broker/broker_int.h"

int broker__handle_auth(broker__conn *c, broker__pkt *p)
{
    return RC_PROTOCOL;
}
