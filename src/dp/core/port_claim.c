/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An af_packet port's interface kept from the kernel's own stack (see
 * port_claim.h): a two-instruction tc program that drops every frame, on
 * the interface's ingress, and IPv6 off there; an af_xdp port's interface
 * set for preferred busy polling.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "dp/core/port_claim.h"
#include "lib/log.h"

#define MOD "port"

/* The filter's place among the interface's ingress filters. */
#define CLAIM_HANDLE 0xae70
#define CLAIM_PRIO   1

/* An interface's knob: a sysctl or a sysfs attribute holding one integer,
 * at @c dir, the interface's name, then @c leaf. */
struct knob {
	const char *dir, *leaf;
};

static const struct knob knob_disable_ipv6 = {"/proc/sys/net/ipv6/conf/", "/disable_ipv6"};

/* Knob @p k of interface @p ifname: its value, or -1 when it cannot be
 * read. */
static long
knob_get(const struct knob *k, const char *ifname)
{
	char path[128], buf[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s%s%s", k->dir, ifname, k->leaf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && buf[0] >= '0' && buf[0] <= '9' ? strtol(buf, NULL, 10) : -1;
}

/* The same knob to @p v: 0, or a negative errno. */
static int
knob_set(const struct knob *k, const char *ifname, long v)
{
	char path[128], buf[32];
	int fd, len = snprintf(buf, sizeof(buf), "%ld\n", v);
	ssize_t n;

	snprintf(path, sizeof(path), "%s%s%s", k->dir, ifname, k->leaf);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, (size_t)len);
	close(fd);
	return n == len ? 0 : -EIO;
}

static void
hook_of(const struct ap_port_claim *c, struct bpf_tc_hook *h)
{
	memset(h, 0, sizeof(*h));
	h->sz = sizeof(*h);
	h->ifindex = c->ifindex;
	h->attach_point = BPF_TC_INGRESS;
}

int
ap_port_claim(struct ap_port_claim *c, const char *ifname, char *err, size_t err_len)
{
	/* r0 = TC_ACT_SHOT; exit */
	const struct bpf_insn drop[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = TC_ACT_SHOT},
		{.code = BPF_JMP | BPF_EXIT},
	};
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	int rc;

	memset(c, 0, sizeof(*c));
	c->prog_fd = -1;
	c->v6_was = -1;
	snprintf(c->ifname, sizeof(c->ifname), "%s", ifname);
	c->ifindex = (int)if_nametoindex(ifname);
	if (c->ifindex == 0)
		return ap_errf(err, err_len, -ENODEV, "interface '%s': %s", ifname,
			       strerror(errno));
	c->prog_fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "ap_port_claim", "Dual BSD/GPL", drop,
				   sizeof(drop) / sizeof(drop[0]), NULL);
	if (c->prog_fd < 0) {
		rc = c->prog_fd;
		c->ifindex = 0;
		return ap_errf(err, err_len, rc, "interface '%s': cannot load the tc program: %s",
			       ifname, strerror(-rc));
	}
	hook_of(c, &hook);
	rc = bpf_tc_hook_create(&hook);
	if (rc < 0 && rc != -EEXIST) {
		ap_port_release(c);
		return ap_errf(err, err_len, rc, "interface '%s': cannot add a clsact qdisc: %s",
			       ifname, strerror(-rc));
	}
	c->made_hook = rc == 0;
	memset(&opts, 0, sizeof(opts));
	opts.sz = sizeof(opts);
	opts.handle = CLAIM_HANDLE;
	opts.priority = CLAIM_PRIO;
	opts.prog_fd = c->prog_fd;
	opts.flags = BPF_TC_F_REPLACE;
	rc = bpf_tc_attach(&hook, &opts);
	if (rc < 0) {
		ap_port_release(c);
		return ap_errf(err, err_len, rc, "interface '%s': cannot attach the tc program: %s",
			       ifname, strerror(-rc));
	}
	c->v6_was = (int)knob_get(&knob_disable_ipv6, ifname);
	if (c->v6_was == 0 && knob_set(&knob_disable_ipv6, ifname, 1) < 0) {
		AP_LOG_WARN(MOD, "interface '%s': IPv6 stays on in the kernel", ifname);
		c->v6_was = -1;
	}
	return 0;
}

void
ap_port_release(struct ap_port_claim *c)
{
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;

	if (c->ifindex == 0)
		return;
	if (c->v6_was == 0)
		knob_set(&knob_disable_ipv6, c->ifname, 0);
	hook_of(c, &hook);
	memset(&opts, 0, sizeof(opts));
	opts.sz = sizeof(opts);
	opts.handle = CLAIM_HANDLE;
	opts.priority = CLAIM_PRIO;
	bpf_tc_detach(&hook, &opts);
	if (c->made_hook) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	if (c->prog_fd >= 0)
		close(c->prog_fd);
	c->prog_fd = -1;
	c->ifindex = 0;
	c->v6_was = -1;
	c->made_hook = false;
}

/* Preferred busy polling (see port_claim.h): the knobs, and what they take. */
static const struct {
	struct knob k;
	long value;
} busy_knobs[AP_PORT_BUSY_KNOBS] = {
	{{"/sys/class/net/", "/napi_defer_hard_irqs"}, 2},
	{{"/sys/class/net/", "/gro_flush_timeout"}, 200000},
};

void
ap_port_busy_poll(struct ap_port_busy_poll *b, const char *ifname)
{
	snprintf(b->ifname, sizeof(b->ifname), "%s", ifname);
	for (unsigned k = 0; k < AP_PORT_BUSY_KNOBS; k++) {
		b->was[k] = knob_get(&busy_knobs[k].k, ifname);
		if (b->was[k] < 0 || b->was[k] == busy_knobs[k].value)
			b->was[k] = -1;
		else if (knob_set(&busy_knobs[k].k, ifname, busy_knobs[k].value) < 0) {
			AP_LOG_WARN(MOD,
				    "interface '%s': cannot set %s%s%s: the kernel's softirq, not "
				    "the port's polling, receives its frames",
				    ifname, busy_knobs[k].k.dir, ifname, busy_knobs[k].k.leaf);
			b->was[k] = -1;
		}
	}
}

void
ap_port_busy_poll_release(struct ap_port_busy_poll *b)
{
	if (b->ifname[0] == '\0')
		return;
	for (unsigned k = 0; k < AP_PORT_BUSY_KNOBS; k++) {
		if (b->was[k] >= 0)
			knob_set(&busy_knobs[k].k, b->ifname, b->was[k]);
		b->was[k] = -1;
	}
	b->ifname[0] = '\0';
}
