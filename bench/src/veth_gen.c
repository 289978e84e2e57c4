/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * veth_gen: a small-packet IPv4/UDP generator for bench/veth.sh.
 *
 *   veth_gen IFACE SRC_MAC DST_MAC SRC_IP DST_IP FLOWS SECONDS
 *
 * Sends 60-byte Ethernet frames (64 on the wire with the FCS) out of IFACE as
 * fast as the kernel takes them, for SECONDS, through an AF_PACKET TX ring
 * (PACKET_TX_RING, TPACKET_V2) that bypasses the qdisc layer
 * (PACKET_QDISC_BYPASS). Flow i of FLOWS has source SRC_IP + i % 64, destination
 * DST_IP + i % 200 and UDP source port 1024 + i (destination port 9): the ring
 * holds a multiple of FLOWS frames, so every slot is written once at start and
 * the send loop only hands slots back to the kernel.
 *
 * Why not trafgen: a veth peer whose receive queue is full keeps the sender's
 * skbs in flight; the socket then runs out of send buffer and the kernel
 * answers EAGAIN, which trafgen treats as fatal. Here the send buffer is
 * raised with SO_SNDBUFFORCE and EAGAIN / ENOBUFS just mean "try again".
 *
 * Prints one JSON object at the end: {"sent": N, "seconds": S, "mpps": R},
 * counting frames the kernel took from the ring.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME_LEN   60
#define FRAME_SIZE  256 /* ring slot: tpacket2_hdr + frame, TPACKET_ALIGNMENT-aligned */
#define BLOCK_SIZE  4096
#define RING_FRAMES 4096 /* a multiple of every FLOWS accepted (powers of two to 4096) */
#define BATCH	    64	 /* slots handed over per sendto() */
/* With TPACKET_V2 and no PACKET_TX_HAS_OFF, the kernel reads the frame here. */
#define DATA_OFF (TPACKET_ALIGN(sizeof(struct tpacket2_hdr)))

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 0xff)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

static uint16_t
ip_csum(const void *hdr, size_t len)
{
	const uint8_t *p = hdr;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* Flow i's frame into buf (FRAME_LEN bytes). */
static void
build_frame(uint8_t *buf, const uint8_t src_mac[6], const uint8_t dst_mac[6], uint32_t src_ip,
	    uint32_t dst_ip, unsigned i)
{
	struct ether_header *eh = (struct ether_header *)buf;
	struct iphdr *ip = (struct iphdr *)(buf + sizeof(*eh));
	struct udphdr *udp = (struct udphdr *)(ip + 1);

	memset(buf, 0, FRAME_LEN);
	memcpy(eh->ether_dhost, dst_mac, 6);
	memcpy(eh->ether_shost, src_mac, 6);
	eh->ether_type = htons(ETHERTYPE_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(FRAME_LEN - sizeof(*eh));
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = htonl(src_ip + i % 64);
	ip->daddr = htonl(dst_ip + i % 200);
	ip->check = ip_csum(ip, sizeof(*ip));
	udp->source = htons((uint16_t)(1024 + i));
	udp->dest = htons(9);
	udp->len = htons(FRAME_LEN - sizeof(*eh) - sizeof(*ip));
	udp->check = 0; /* no checksum: allowed for UDP over IPv4 */
}

int
main(int argc, char **argv)
{
	uint8_t src_mac[6], dst_mac[6];
	struct in_addr sip, dip;
	unsigned flows;
	double seconds;

	if (argc != 8 || parse_mac(argv[2], src_mac) || parse_mac(argv[3], dst_mac) ||
	    inet_pton(AF_INET, argv[4], &sip) != 1 || inet_pton(AF_INET, argv[5], &dip) != 1) {
		fprintf(stderr,
			"usage: veth_gen IFACE SRC_MAC DST_MAC SRC_IP DST_IP FLOWS SECONDS\n");
		return 2;
	}
	flows = (unsigned)strtoul(argv[6], NULL, 10);
	seconds = strtod(argv[7], NULL);
	if (flows == 0 || flows > RING_FRAMES || RING_FRAMES % flows != 0 || seconds <= 0) {
		fprintf(stderr, "veth_gen: FLOWS must divide %d, SECONDS be positive\n",
			RING_FRAMES);
		return 2;
	}

	int fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: send only, never receive */
	if (fd < 0) {
		perror("veth_gen: socket");
		return 1;
	}
	int v = TPACKET_V2, one = 1, sndbuf = 64 << 20;
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0) {
		perror("veth_gen: setsockopt");
		return 1;
	}
	/* Frames queued at a busy peer hold send buffer until they are freed. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		perror("veth_gen: SO_SNDBUFFORCE (continuing with the default)");
	struct tpacket_req req = {
		.tp_block_size = BLOCK_SIZE,
		.tp_block_nr = RING_FRAMES * FRAME_SIZE / BLOCK_SIZE,
		.tp_frame_size = FRAME_SIZE,
		.tp_frame_nr = RING_FRAMES,
	};
	if (setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) < 0) {
		perror("veth_gen: PACKET_TX_RING");
		return 1;
	}
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = (int)if_nametoindex(argv[1]),
	};
	if (sll.sll_ifindex == 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		fprintf(stderr, "veth_gen: bind to %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	size_t ring_len = (size_t)RING_FRAMES * FRAME_SIZE;
	uint8_t *ring = mmap(NULL, ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ring == MAP_FAILED) {
		perror("veth_gen: mmap");
		return 1;
	}
	for (unsigned i = 0; i < RING_FRAMES; i++)
		build_frame(ring + (size_t)i * FRAME_SIZE + DATA_OFF, src_mac, dst_mac,
			    ntohl(sip.s_addr), ntohl(dip.s_addr), i % flows);

	uint64_t queued = 0, pending = 0;
	unsigned slot = 0;
	double start = now_s(), end = start + seconds, t = start;

	while (t < end) {
		struct tpacket2_hdr *h = (struct tpacket2_hdr *)(ring + (size_t)slot * FRAME_SIZE);
		unsigned st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);

		if (st == TP_STATUS_AVAILABLE || st == TP_STATUS_WRONG_FORMAT) {
			h->tp_len = FRAME_LEN;
			__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
			queued++;
			slot = (slot + 1) % RING_FRAMES;
			if (++pending < BATCH)
				continue;
		}
		/* A full batch, or the next slot still in flight: hand over what
		 * is queued. EAGAIN / ENOBUFS: the peer is busy, go round again. */
		pending = 0;
		if (sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN &&
		    errno != ENOBUFS && errno != EINTR) {
			perror("veth_gen: sendto");
			return 1;
		}
		t = now_s();
	}

	/* Let the kernel take what is still queued, then count what it did not. */
	for (int i = 0; i < 100; i++) {
		if (sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
			break;
		poll(NULL, 0, 1);
	}
	double elapsed = now_s() - start;
	uint64_t left = 0;
	for (unsigned i = 0; i < RING_FRAMES; i++) {
		struct tpacket2_hdr *h = (struct tpacket2_hdr *)(ring + (size_t)i * FRAME_SIZE);
		if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) == TP_STATUS_SEND_REQUEST)
			left++;
	}
	uint64_t sent = queued - left;
	printf("{\"sent\": %llu, \"seconds\": %.3f, \"mpps\": %.4f}\n", (unsigned long long)sent,
	       elapsed, (double)sent / elapsed / 1e6);
	munmap(ring, ring_len);
	close(fd);
	return 0;
}
