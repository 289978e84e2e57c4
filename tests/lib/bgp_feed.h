/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the BGP feeders of the tests and benches share (tests/interop/
 * bgp_mrt_feed, bench/src/route_feed): a blocking session from a local to a
 * remote address, whole messages in and out. Test tooling, not product code.
 */
#ifndef AP_TEST_BGP_FEED_H
#define AP_TEST_BGP_FEED_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Write all @p n bytes. 0 or -1. */
int ap_feed_send_all(int fd, const uint8_t *p, size_t n);

/** Read one whole message into @p buf (AP_BGP_EXT_MAX_LEN bytes); its type or -1. */
int ap_feed_read_msg(int fd, uint8_t *buf);

/**
 * Connect from @p local to @p remote, send our OPEN (AS @p asn, hold time 0,
 * 4-byte ASN, IPv4 unicast and, with @p v6, IPv6 unicast), answer theirs and
 * wait for their KEEPALIVE. @return the socket, or -1 with a message on
 * stderr prefixed by @p who.
 */
int ap_feed_session(const struct sockaddr_in *local, const struct sockaddr_in *remote, uint32_t asn,
		    bool v6, const char *who);

/**
 * Whole contents of @p path, through `gzip -cd` when it ends in .gz, in a
 * malloc()ed buffer of *@p len bytes. @return NULL when it cannot be read.
 */
uint8_t *ap_feed_slurp(const char *path, size_t *len);

#endif
