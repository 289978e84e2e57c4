/* SPDX-License-Identifier: BSD-3-Clause */
/* Live capture, control side: open the file, drain the ring, close. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include "dp/core/capture.h"
#include "dp/core/capture_priv.h"

#define CAPTURE_RING  4096
#define CAPTURE_MBUFS 4095
#define DRAIN_BURST   64

struct ap_capture ap_capture;

static struct {
	rte_pcapng_t *png;
	int fd;
	char file[256];
	char port_name[32];
	char filter[256];
	uint64_t written;
	uint64_t count;
	bool done;
} cap = {.fd = -1};

int
ap_capture_start(uint16_t port, const char *port_name, const char *file, uint64_t count,
		 uint8_t dirs, const char *filter, char *err, size_t err_len)
{
	struct rte_bpf *bpf;
	int rc;

	if (ap_capture.active || cap.png) {
		snprintf(err, err_len, "a capture is already running (to %s)", cap.file);
		return -EBUSY;
	}
	rc = ap_filter_compile(filter, &bpf, err, err_len);
	if (rc < 0)
		return rc;
	ap_filter_retire(ap_capture.filter);
	ap_capture.filter = bpf;
	if (!ap_capture.ring) {
		ap_capture.ring =
			rte_ring_create("ap_capture", CAPTURE_RING, SOCKET_ID_ANY, RING_F_SC_DEQ);
		ap_capture.mp = rte_pktmbuf_pool_create(
			"ap_capture", CAPTURE_MBUFS, 0, 0,
			(uint16_t)rte_pcapng_mbuf_size(RTE_MBUF_DEFAULT_DATAROOM), SOCKET_ID_ANY);
		if (!ap_capture.ring || !ap_capture.mp) {
			snprintf(err, err_len, "cannot allocate the capture ring: %s",
				 rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	snprintf(cap.filter, sizeof(cap.filter), "%s", filter ? filter : "");
	cap.fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (cap.fd < 0) {
		snprintf(err, err_len, "%s: %s", file, strerror(errno));
		return -errno;
	}
	cap.png = rte_pcapng_fdopen(cap.fd, NULL, NULL, "aetherd", NULL);
	if (!cap.png) {
		snprintf(err, err_len, "%s: cannot start a pcapng file: %s", file,
			 rte_strerror(rte_errno));
		close(cap.fd);
		cap.fd = -1;
		return -EIO;
	}
	snprintf(cap.file, sizeof(cap.file), "%s", file);
	snprintf(cap.port_name, sizeof(cap.port_name), "%s", port_name);
	cap.written = 0;
	cap.count = count;
	cap.done = false;
	ap_capture.port = port;
	ap_capture.dirs = dirs;
	ap_capture.dropped = 0;
	__atomic_store_n(&ap_capture.remaining, (int64_t)count, __ATOMIC_RELAXED);
	__atomic_store_n(&ap_capture.active, 1, __ATOMIC_RELEASE);
	return 0;
}

static void
drain(void)
{
	struct rte_mbuf *pkts[DRAIN_BURST];
	unsigned n;

	while ((n = rte_ring_sc_dequeue_burst(ap_capture.ring, (void **)pkts, DRAIN_BURST, NULL)) >
	       0) {
		if (rte_pcapng_write_packets(cap.png, pkts, (uint16_t)n) < 0)
			__atomic_fetch_add(&ap_capture.dropped, n, __ATOMIC_RELAXED);
		else
			cap.written += n;
	}
}

void
ap_capture_stop(void)
{
	if (!cap.png)
		return;
	__atomic_store_n(&ap_capture.active, 0, __ATOMIC_RELEASE);
	/* Workers may be finishing a copy: the ring is drained once more by
	 * the caller's next poll too, and whatever is left is freed then. */
	drain();
	rte_pcapng_close(cap.png); /* closes the fd */
	cap.png = NULL;
	cap.fd = -1;
	cap.done = true;
}

void
ap_capture_poll(void)
{
	if (!ap_capture.ring)
		return;
	if (!cap.png) {
		struct rte_mbuf *m;

		/* Stragglers after a stop. */
		while (rte_ring_sc_dequeue(ap_capture.ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		return;
	}
	drain();
	if (__atomic_load_n(&ap_capture.remaining, __ATOMIC_RELAXED) <= 0 &&
	    rte_ring_empty(ap_capture.ring))
		ap_capture_stop();
}

json_t *
ap_capture_json(void)
{
	return json_pack("{s:b, s:s, s:s, s:s, s:I, s:I, s:I}", "active", cap.png != NULL, "port",
			 cap.port_name, "file", cap.file, "filter", cap.filter, "written",
			 (json_int_t)cap.written, "count", (json_int_t)cap.count, "dropped",
			 (json_int_t)__atomic_load_n(&ap_capture.dropped, __ATOMIC_RELAXED));
}

void
ap_capture_fini(void)
{
	ap_capture_stop();
	ap_capture_poll();
	rte_ring_free(ap_capture.ring);
	rte_mempool_free(ap_capture.mp);
	ap_filter_retire(ap_capture.filter);
	ap_filter_retire(NULL);
	ap_capture.filter = NULL;
	ap_capture.ring = NULL;
	ap_capture.mp = NULL;
}
