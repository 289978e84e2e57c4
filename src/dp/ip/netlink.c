/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Minimal rtnetlink for the kernel side of the punt path: bring a TAP up with
 * an MTU and give it the interface's addresses (RFC 3549 message shapes).
 * Runs on the main lcore at start, never on the packet path.
 */
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dp/ip/ip_priv.h"

struct nl_req {
	struct nlmsghdr nh;
	struct ifaddrmsg ifa;
	char attrs[64];
};

static void
nl_attr(struct nl_req *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)r + NLMSG_ALIGN(r->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + (unsigned)RTA_ALIGN(rta->rta_len);
}

/* Send one request and read its acknowledgement: 0 or -errno. */
static int
nl_talk(struct nl_req *r)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	char buf[512];
	int fd, rc = 0;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (sendto(fd, r, r->nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto out;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		rc = -errno;
		goto out;
	}
	for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n);
	     h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			rc = e->error;
			break;
		}
	}
out:
	close(fd);
	return rc;
}

static int
nl_addr(int type, const char *ifname, const struct ap_cfg_prefix *p)
{
	struct nl_req r;
	unsigned idx = if_nametoindex(ifname);
	uint32_t flags = IFA_F_NODAD | IFA_F_PERMANENT;
	size_t alen = p->family == 4 ? 4 : 16;
	int rc;

	if (idx == 0)
		return -ENODEV;
	memset(&r, 0, sizeof(r));
	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	r.nh.nlmsg_type = (unsigned short)type;
	r.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (type == RTM_NEWADDR)
		r.nh.nlmsg_flags |= NLM_F_CREATE | NLM_F_REPLACE;
	r.ifa.ifa_family = p->family == 4 ? AF_INET : AF_INET6;
	r.ifa.ifa_prefixlen = p->len;
	r.ifa.ifa_index = idx;
	nl_attr(&r, IFA_LOCAL, p->addr, alen);
	nl_attr(&r, IFA_ADDRESS, p->addr, alen);
	nl_attr(&r, IFA_FLAGS, &flags, sizeof(flags));
	rc = nl_talk(&r);
	return rc == -EEXIST ? 0 : rc;
}

int
ap_nl_addr_add(const char *ifname, const struct ap_cfg_prefix *p)
{
	return nl_addr(RTM_NEWADDR, ifname, p);
}

int
ap_nl_addr_del(const char *ifname, const struct ap_cfg_prefix *p)
{
	return nl_addr(RTM_DELADDR, ifname, p);
}

int
ap_nl_link_up(const char *ifname, unsigned mtu)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_mtu = (int)mtu;
	if (ioctl(fd, SIOCSIFMTU, &ifr) < 0)
		rc = -errno;
	if (rc == 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		rc = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (rc == 0 && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		rc = -errno;
	close(fd);
	return rc;
}
