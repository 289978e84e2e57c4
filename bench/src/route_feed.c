/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Benchmark helper: announce a synthetic table to a BGP speaker over one
 * session, as a full-table feed from a transit peer would.
 *
 *   route_feed N4 N6 NH4 NH6 LOCAL_ADDR REMOTE_ADDR PORT ASN
 *
 * Connects from LOCAL_ADDR to REMOTE_ADDR:PORT, opens a session as ASN (hold
 * time 0, IPv4 and IPv6 unicast), announces N4 IPv4 /24s with next hop NH4
 * and N6 IPv6 prefixes with next hop NH6, all with one set of attributes and
 * packed into as few UPDATEs as fit, then End-of-RIB for both families;
 * prints "sent N4 N6" and stays connected (the routes stay) until the other
 * side closes or the process is killed.
 *
 *   route_feed --print4 N | --print6 N
 *
 * prints the prefixes, one a line, for the traffic generator to aim at.
 *
 * The /24s are spread over the unicast space (every 13th /24 from 1.0.0.0,
 * skipping 10/8 and 127/8), so lookups land all over the FIB's first-level
 * table.
 *
 * The IPv6 table has the length mix of today's Internet table, mostly /48
 * with /32, /44 and /40 next: prefixes come in fours, one allocation each
 * (a /29 slot of 2000::/3 picked by a bijective hash of its number, so no two
 * meet): the first is the allocation's aggregate (a /32, sometimes a /29) or,
 * four times in ten, a more specific of its own; the other three are more
 * specifics (/36 to /48) in distinct quarters of the allocation's /32, as a
 * holder announces its sites. Over the table: about half /48s, 15% /29 and
 * /32, 10% each /44 and /40, 5% /36, the rest /46 and /47. All of it is
 * deterministic.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "svc/bgp/bgp.h"
#include "bgp_feed.h"

#define V4_STRIDE 13

/* The k-th IPv4 /24 of the table, as a host-order address. */
static uint32_t
v4_prefix(uint32_t *state)
{
	uint32_t a;

	do {
		a = (0x010000u + V4_STRIDE * (*state)++) << 8;
	} while (a >> 24 == 10 || a >> 24 == 127);
	return a;
}

static uint64_t
mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* A bijection of [0, 2^26): odd multipliers and xor-shifts, modulo 2^26. */
static uint32_t
perm26(uint32_t x)
{
	const uint32_t m = (1u << 26) - 1;

	x = (x * 0x2545f49u) & m;
	x ^= x >> 13;
	x = (x * 0x1b873593u) & m;
	return x ^ (x >> 11);
}

/* The length of a more specific, per 100: /48 60, /44 12, /40 12, /36 6,
 * /46 5, /47 5. */
static uint8_t
more_specific_len(uint64_t h)
{
	static const struct {
		uint8_t len, upto;
	} mix[] = {{48, 60}, {44, 72}, {40, 84}, {36, 90}, {46, 95}, {47, 100}};
	unsigned r = (unsigned)(h % 100);

	for (unsigned i = 0;; i++)
		if (r < mix[i].upto)
			return mix[i].len;
}

/* The k-th IPv6 prefix (k < 2^28): its address and length. */
static uint8_t
v6_prefix(uint32_t k, uint8_t addr[16])
{
	uint32_t top = 1u << 29 | perm26(k >> 2) << 3; /* The allocation's /29. */
	uint32_t quarter = k & 3;
	uint64_t h = mix64(k);
	uint8_t len;

	memset(addr, 0, 16);
	if (quarter == 0 && h % 10 < 5)
		len = 32;
	else if (quarter == 0 && h % 10 < 6)
		len = 29;
	else
		len = more_specific_len(h >> 8);
	if (len > 32) {
		/* In the allocation's first /32, under its aggregate: bits 32-33
		 * keep the four apart, the rest are the site's. */
		uint64_t low = (uint64_t)quarter << 30 | ((h >> 32) & ((1u << 30) - 1));

		low &= ~0ull << (64 - len); /* Within 32 + 32 bits: clear past len. */
		addr[4] = (uint8_t)(low >> 24);
		addr[5] = (uint8_t)(low >> 16);
		addr[6] = (uint8_t)(low >> 8);
		addr[7] = (uint8_t)low;
	}
	addr[0] = (uint8_t)(top >> 24);
	addr[1] = (uint8_t)(top >> 16);
	addr[2] = (uint8_t)(top >> 8);
	addr[3] = (uint8_t)top;
	return len;
}

/* Announce pfx[0..n) in as many UPDATEs as they need. */
static int
announce(int fd, const struct ap_bgp_sess_opts *so, const struct ap_bgp_attrs *a, uint8_t af,
	 const struct ap_bgp_prefix *pfx, uint32_t n)
{
	static uint8_t msg[AP_BGP_MAX_LEN];
	struct ap_wire_w w;

	for (uint32_t done = 0; done < n;) {
		int k;

		ap_wire_w_init(&w, msg, sizeof(msg));
		k = ap_bgp_update_encode(&w, so, a, af, pfx + done, n - done, false);
		if (k <= 0 || ap_feed_send_all(fd, msg, ap_wire_w_used(&w)) < 0)
			return -1;
		done += (uint32_t)k;
	}
	ap_wire_w_init(&w, msg, sizeof(msg));
	if (ap_bgp_update_encode(&w, so, NULL, af, NULL, 0, true) < 0)
		return -1;
	return ap_feed_send_all(fd, msg, ap_wire_w_used(&w));
}

static int
print_prefixes(const char *what, const char *count)
{
	uint32_t n = (uint32_t)strtoul(count, NULL, 10), st = 0;
	char buf[INET6_ADDRSTRLEN];

	for (uint32_t k = 0; k < n; k++) {
		if (strcmp(what, "--print4") == 0) {
			uint32_t a = htonl(v4_prefix(&st));

			printf("%s/24\n", inet_ntop(AF_INET, &a, buf, sizeof(buf)));
		} else {
			uint8_t a[16], len = v6_prefix(k, a);

			printf("%s/%u\n", inet_ntop(AF_INET6, a, buf, sizeof(buf)), len);
		}
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static uint8_t msg[AP_BGP_EXT_MAX_LEN];
	struct sockaddr_in local = {.sin_family = AF_INET}, remote = {.sin_family = AF_INET};
	struct ap_bgp_sess_opts so = {.as4 = true};
	struct ap_bgp_attrs a4 = {0}, a6;
	struct ap_bgp_prefix *pfx;
	uint8_t as_path[6] = {2, 1};
	struct in_addr nh4;
	uint32_t n4, n6, asn, st = 0;
	int fd;

	if (argc == 3 && (strcmp(argv[1], "--print4") == 0 || strcmp(argv[1], "--print6") == 0))
		return print_prefixes(argv[1], argv[2]);
	if (argc != 9 || inet_pton(AF_INET, argv[3], &nh4) != 1 ||
	    inet_pton(AF_INET6, argv[4], a4.mp_nh) != 1 ||
	    inet_pton(AF_INET, argv[5], &local.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[6], &remote.sin_addr) != 1) {
		fprintf(stderr,
			"usage: %s N4 N6 NH4 NH6 LOCAL_ADDR REMOTE_ADDR PORT ASN\n"
			"       %s --print4 N | --print6 N\n",
			argv[0], argv[0]);
		return 2;
	}
	n4 = (uint32_t)strtoul(argv[1], NULL, 10);
	n6 = (uint32_t)strtoul(argv[2], NULL, 10);
	remote.sin_port = htons((uint16_t)atoi(argv[7]));
	asn = (uint32_t)strtoul(argv[8], NULL, 10);
	if (n6 > 1u << 24 || asn == 0) {
		fprintf(stderr, "route_feed: at most 16777216 IPv6 prefixes, ASN not 0\n");
		return 2;
	}

	/* One attribute set: ORIGIN IGP, AS_PATH "ASN", the next hop. */
	as_path[2] = (uint8_t)(asn >> 24);
	as_path[3] = (uint8_t)(asn >> 16);
	as_path[4] = (uint8_t)(asn >> 8);
	as_path[5] = (uint8_t)asn;
	a4.present = 1u << AP_BGP_ATTR_ORIGIN | 1u << AP_BGP_ATTR_AS_PATH;
	a4.as_path = as_path;
	a4.as_path_len = sizeof(as_path);
	a4.mp_nh_len = 16;
	a6 = a4;
	a4.present |= 1u << AP_BGP_ATTR_NEXT_HOP;
	a4.next_hop = ntohl(nh4.s_addr);

	pfx = calloc(n4 > n6 ? n4 : n6, sizeof(*pfx));
	if (pfx == NULL && (n4 || n6)) {
		fprintf(stderr, "route_feed: out of memory\n");
		return 1;
	}

	fd = ap_feed_session(&local, &remote, asn, true, "route_feed");
	if (fd < 0)
		return 1;

	for (uint32_t k = 0; k < n4; k++) {
		uint32_t a = htonl(v4_prefix(&st));

		pfx[k] = (struct ap_bgp_prefix){.af = AP_BGP_IPV4, .len = 24};
		memcpy(pfx[k].addr, &a, 4);
	}
	if (announce(fd, &so, &a4, AP_BGP_IPV4, pfx, n4) < 0)
		return 1;
	for (uint32_t k = 0; k < n6; k++) {
		pfx[k] = (struct ap_bgp_prefix){.af = AP_BGP_IPV6};
		pfx[k].len = v6_prefix(k, pfx[k].addr);
	}
	if (announce(fd, &so, &a6, AP_BGP_IPV6, pfx, n6) < 0)
		return 1;
	printf("sent %u %u\n", n4, n6);
	fflush(stdout);
	free(pfx);
	while (read(fd, msg, sizeof(msg)) > 0)
		;
	close(fd);
	return 0;
}
