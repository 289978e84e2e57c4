/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An af_packet port's interface kept from the kernel's own stack (see
 * port_claim.h): a two-instruction tc program that drops every frame, on
 * the interface's ingress, and IPv6 off there.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
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

/* The disable_ipv6 sysctl of @p ifname, opened with @p flags. */
static int
v6_open(const char *ifname, int flags)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	return open(path, flags | O_CLOEXEC);
}

/* disable_ipv6 of @p ifname: its value, or -1 (no IPv6 in the kernel). */
static int
v6_get(const char *ifname)
{
	char buf[8] = "";
	ssize_t n;
	int fd;

	fd = v6_open(ifname, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? buf[0] - '0' : -1;
}

static int
v6_set(const char *ifname, int v)
{
	char buf[2] = {(char)('0' + v), '\n'};
	ssize_t n;
	int fd;

	fd = v6_open(ifname, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, sizeof(buf));
	close(fd);
	return n == (ssize_t)sizeof(buf) ? 0 : -EIO;
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
	c->v6_was = v6_get(ifname);
	if (c->v6_was == 0 && v6_set(ifname, 1) < 0) {
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
		v6_set(c->ifname, 0);
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
