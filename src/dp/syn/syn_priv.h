/* SPDX-License-Identifier: BSD-3-Clause */
/* What the SYN proxy's files share: TCP flags, big-endian words, and a walk
 * over a TCP header's options. */
#ifndef AP_SYN_PRIV_H
#define AP_SYN_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

static inline uint32_t
syn_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/**
 * The next option of the TCP header at @p tcp (@p hlen bytes) from offset
 * @p *i: its kind, and its offset in @p *i with its length in @p *len.
 * @return false at the end of the list or at an option that does not fit.
 */
static inline bool
syn_opt_next(const uint8_t *tcp, uint32_t hlen, uint32_t *i, uint8_t *len)
{
	while (*i < hlen && tcp[*i] == 1) /* NOP */
		(*i)++;
	if (*i >= hlen || tcp[*i] == 0 || *i + 1 >= hlen)
		return false;
	*len = tcp[*i + 1];
	return *len >= 2 && *i + *len <= hlen;
}

#endif
