/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test helper: replay one peer's routes from an MRT RIB dump to a BGP speaker.
 *
 *   bgp_mrt_feed DUMP[.gz] PEER_ADDR LOCAL_ADDR REMOTE_ADDR PORT
 *
 * Connects from LOCAL_ADDR, opens a session as the dump's PEER_ADDR (its AS,
 * hold time 0), sends every route that peer had in the dump as one UPDATE,
 * then End-of-RIB, prints "sent N routes" and stays connected until the other
 * side closes. Blocking sockets: it is a test tool, not product code.
 *
 *   bgp_mrt_feed --print DUMP[.gz]
 *
 * prints every route of the dump as `bgpdump -m` would, through our reader.
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

static int
print_dump(const char *path)
{
	static char line[16384];
	struct ap_bgp_mrt_reader *r;
	struct ap_bgp_mrt_entry e;
	size_t len;
	uint8_t *dump = ap_feed_slurp(path, &len);
	int rc;

	if (dump == NULL || (r = ap_bgp_mrt_open(dump, len)) == NULL) {
		fprintf(stderr, "cannot read %s\n", path);
		return 1;
	}
	while ((rc = ap_bgp_mrt_next(r, &e)) == 1)
		printf("%s\n", ap_bgp_mrt_line(&e, line, sizeof(line)));
	ap_bgp_mrt_close(r);
	free(dump);
	if (rc < 0)
		fprintf(stderr, "%s: malformed record\n", path);
	return rc < 0 || fflush(stdout) != 0 ? 1 : 0;
}

int
main(int argc, char **argv)
{
	static uint8_t msg[AP_BGP_EXT_MAX_LEN];
	struct sockaddr_in local = {.sin_family = AF_INET}, remote = {.sin_family = AF_INET};
	struct ap_bgp_sess_opts so = {.as4 = true};
	struct ap_bgp_mrt_reader *r;
	struct ap_bgp_mrt_entry e;
	struct in_addr peer;
	struct ap_wire_w w;
	size_t len;
	uint8_t *dump;
	unsigned long sent = 0;
	uint32_t asn = 0;
	int fd, rc;

	if (argc == 3 && strcmp(argv[1], "--print") == 0)
		return print_dump(argv[2]);
	if (argc != 6 || inet_pton(AF_INET, argv[2], &peer) != 1 ||
	    inet_pton(AF_INET, argv[3], &local.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[4], &remote.sin_addr) != 1) {
		fprintf(stderr, "usage: %s DUMP[.gz] PEER_ADDR LOCAL_ADDR REMOTE_ADDR PORT\n",
			argv[0]);
		return 2;
	}
	remote.sin_port = htons((uint16_t)atoi(argv[5]));
	dump = ap_feed_slurp(argv[1], &len);
	if (dump == NULL) {
		fprintf(stderr, "cannot read %s\n", argv[1]);
		return 1;
	}
	/* The peer's AS, from its first route. */
	r = ap_bgp_mrt_open(dump, len);
	while ((rc = ap_bgp_mrt_next(r, &e)) == 1)
		if (!e.peer_v6 && memcmp(e.peer_addr, &peer, 4) == 0) {
			asn = e.peer_as;
			break;
		}
	ap_bgp_mrt_close(r);
	if (asn == 0) {
		fprintf(stderr, "no routes from %s in the dump\n", argv[2]);
		return 1;
	}

	fd = ap_feed_session(&local, &remote, asn, false, "bgp_mrt_feed");
	if (fd < 0)
		return 1;

	r = ap_bgp_mrt_open(dump, len);
	while ((rc = ap_bgp_mrt_next(r, &e)) == 1) {
		if (e.peer_v6 || memcmp(e.peer_addr, &peer, 4) != 0 || e.pfx.af != AP_BGP_IPV4)
			continue;
		ap_wire_w_init(&w, msg, AP_BGP_MAX_LEN);
		if (ap_bgp_update_encode(&w, &so, e.attrs, AP_BGP_IPV4, &e.pfx, 1, false) != 1 ||
		    ap_feed_send_all(fd, msg, ap_wire_w_used(&w)) < 0)
			return 1;
		sent++;
	}
	ap_bgp_mrt_close(r);
	ap_wire_w_init(&w, msg, sizeof(msg));
	ap_bgp_update_encode(&w, &so, NULL, AP_BGP_IPV4, NULL, 0, true);
	ap_feed_send_all(fd, msg, ap_wire_w_used(&w));
	printf("sent %lu routes\n", sent);
	fflush(stdout);
	while (read(fd, msg, sizeof(msg)) > 0)
		;
	close(fd);
	free(dump);
	return rc < 0 ? 1 : 0;
}
