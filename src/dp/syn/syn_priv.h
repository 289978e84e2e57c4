/* SPDX-License-Identifier: BSD-3-Clause */
/* What the SYN proxy's files share: TCP flags (big-endian words and the
 * options walk are pkt.h's ap_rd32be() and ap_tcp_opt_next()). */
#ifndef AP_SYN_PRIV_H
#define AP_SYN_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

#endif
