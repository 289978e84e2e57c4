/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Community ID flow hashing, version 1 (the spec Zeek, Suricata and others
 * share): "1:" and the base64 of SHA-1 over a seed, the endpoints in a fixed
 * order, the protocol and the ports (ICMP: type and its counterpart, or code),
 * so every tool names a flow the same way whichever direction it saw first.
 */
#ifndef AP_COMMUNITY_ID_H
#define AP_COMMUNITY_ID_H

#include <stdint.h>

/** Room for "1:" + 28 base64 characters + NUL. */
#define AP_COMMUNITY_ID_LEN 32

/**
 * The Community ID of a flow from @p src:@p sport to @p dst:@p dport (ports
 * in host order; for ICMP/ICMPv6 @p sport is the type and @p dport the code)
 * of protocol @p proto, addresses of family 4 or 6. @return @p out.
 */
const char *ap_community_id(uint16_t seed, uint8_t family, uint8_t proto, const uint8_t *src,
			    const uint8_t *dst, uint16_t sport, uint16_t dport,
			    char out[AP_COMMUNITY_ID_LEN]);

#endif
