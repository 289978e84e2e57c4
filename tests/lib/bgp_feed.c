/* SPDX-License-Identifier: BSD-3-Clause */
/* See bgp_feed.h. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "svc/bgp/bgp.h"
#include "bgp_feed.h"

int
ap_feed_send_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
ap_feed_read_msg(int fd, uint8_t *buf)
{
	size_t have = 0, need = AP_BGP_HDR_LEN;

	while (have < need) {
		ssize_t r = read(fd, buf + have, need - have);

		if (r <= 0)
			return -1;
		have += (size_t)r;
		if (have == AP_BGP_HDR_LEN)
			need = (size_t)(buf[16] << 8 | buf[17]);
		if (need < AP_BGP_HDR_LEN || need > AP_BGP_EXT_MAX_LEN)
			return -1;
	}
	return buf[18];
}

int
ap_feed_session(const struct sockaddr_in *local, const struct sockaddr_in *remote, uint32_t asn,
		bool v6, const char *who)
{
	static uint8_t msg[AP_BGP_EXT_MAX_LEN];
	struct ap_bgp_open o = {.asn = asn,
				.hold_time = 0,
				.router_id = ntohl(local->sin_addr.s_addr),
				.mp = {true, v6},
				.as4 = true};
	struct ap_wire_w w;
	int fd = socket(AF_INET, SOCK_STREAM, 0), type;

	if (fd < 0 || bind(fd, (const struct sockaddr *)local, sizeof(*local)) < 0 ||
	    connect(fd, (const struct sockaddr *)remote, sizeof(*remote)) < 0) {
		fprintf(stderr, "%s: ", who);
		perror("connect");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ap_wire_w_init(&w, msg, sizeof(msg));
	if (ap_bgp_open_encode(&w, &o) < 0 || ap_feed_send_all(fd, msg, ap_wire_w_used(&w)) < 0)
		goto fail;
	/* Their OPEN, then their KEEPALIVE confirming ours. */
	do {
		type = ap_feed_read_msg(fd, msg);
		if (type == AP_BGP_OPEN) {
			ap_wire_w_init(&w, msg, sizeof(msg));
			ap_bgp_keepalive_encode(&w);
			if (ap_feed_send_all(fd, msg, ap_wire_w_used(&w)) < 0)
				goto fail;
		}
	} while (type == AP_BGP_OPEN);
	if (type == AP_BGP_KEEPALIVE)
		return fd;
	fprintf(stderr, "%s: session did not come up (message type %d)\n", who, type);
fail:
	close(fd);
	return -1;
}

uint8_t *
ap_feed_slurp(const char *path, size_t *len)
{
	char cmd[1024];
	size_t cap = 1 << 20, n = 0, r, plen = strlen(path);
	bool gz = plen > 3 && strcmp(path + plen - 3, ".gz") == 0;
	uint8_t *buf = malloc(cap);
	FILE *f;

	if (buf == NULL || plen + 16 > sizeof(cmd))
		return NULL;
	if (gz) {
		memcpy(cmd, "gzip -cd '", 10);
		memcpy(cmd + 10, path, plen);
		memcpy(cmd + 10 + plen, "'", 2);
		f = popen(cmd, "r");
	} else {
		f = fopen(path, "rb");
	}
	if (f == NULL)
		return NULL;
	while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
				return NULL;
		}
	}
	if (gz ? pclose(f) != 0 : fclose(f) != 0)
		return NULL;
	*len = n;
	return buf;
}
