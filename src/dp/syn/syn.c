/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SYN proxy's pieces that know no packets or flows of their own: TCP
 * options, segments written from scratch, cookies, the timestamp that keeps
 * a client's options, sequence shifting, and the per-worker guard (arming
 * per destination, source buckets and blocks).
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_hash_crc.h>

#include "dp/syn/syn.h"
#include "dp/syn/syn_priv.h"
#include "lib/siphash.h"
#include "pkt/pkt.h"

struct ap_syn_conf ap_syn_conf;

static inline void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void
ap_syn_parse_opts(const uint8_t *tcp, uint32_t hlen, struct ap_syn_opts *o)
{
	uint8_t len;

	memset(o, 0, sizeof(*o));
	for (uint32_t i = 20; ap_tcp_opt_next(tcp, hlen, &i, &len); i += len) {
		const uint8_t *v = tcp + i + 2;

		if (tcp[i] == 2 && len == 4) {
			o->mss = (uint16_t)(v[0] << 8 | v[1]);
			o->has |= AP_SYN_OPT_MSS;
		} else if (tcp[i] == 3 && len == 3) {
			o->wscale = v[0] > 14 ? 14 : v[0];
			o->has |= AP_SYN_OPT_WSCALE;
		} else if (tcp[i] == 4 && len == 2) {
			o->has |= AP_SYN_OPT_SACK;
		} else if (tcp[i] == 8 && len == 10) {
			o->tsval = ap_rd32be(v);
			o->tsecr = ap_rd32be(v + 4);
			o->has |= AP_SYN_OPT_TS;
		}
	}
}

/* The options of @p o at @p p, aligned on 4 bytes. @return their length. */
static uint32_t
write_opts(uint8_t *p, const struct ap_syn_opts *o)
{
	uint8_t *start = p;

	if (o->has & AP_SYN_OPT_MSS) {
		*p++ = 2;
		*p++ = 4;
		wr16(p, o->mss);
		p += 2;
	}
	if (o->has & AP_SYN_OPT_TS) {
		/* SACK permission (or two NOPs) in front of the timestamps. */
		if (o->has & AP_SYN_OPT_SACK) {
			*p++ = 4;
			*p++ = 2;
		} else {
			*p++ = 1;
			*p++ = 1;
		}
		*p++ = 8;
		*p++ = 10;
		wr32(p, o->tsval);
		wr32(p + 4, o->tsecr);
		p += 8;
	} else if (o->has & AP_SYN_OPT_SACK) {
		*p++ = 1;
		*p++ = 1;
		*p++ = 4;
		*p++ = 2;
	}
	if (o->has & AP_SYN_OPT_WSCALE) {
		*p++ = 1;
		*p++ = 3;
		*p++ = 3;
		*p++ = o->wscale;
	}
	return (uint32_t)(p - start);
}

uint32_t
ap_syn_emit(uint8_t *out, uint32_t cap, const struct ap_syn_seg *s)
{
	uint32_t ihl = s->family == 4 ? 20 : 40, olen, tlen;
	uint8_t *tcp = out + ihl;
	uint16_t ck;

	if (cap < ihl + 60)
		return 0;
	memset(out, 0, ihl + 20);
	olen = write_opts(tcp + 20, &s->o);
	tlen = 20 + olen;
	if (s->family == 4) {
		out[0] = 0x45;
		wr16(out + 2, (uint16_t)(ihl + tlen));
		out[6] = 0x40; /* don't fragment */
		out[8] = 64;
		out[9] = 6;
		memcpy(out + 12, s->src, 4);
		memcpy(out + 16, s->dst, 4);
		ck = ap_csum(out, 20);
		memcpy(out + 10, &ck, 2);
	} else {
		out[0] = 0x60;
		wr16(out + 4, (uint16_t)tlen);
		out[6] = 6;
		out[7] = 64;
		memcpy(out + 8, s->src, 16);
		memcpy(out + 24, s->dst, 16);
	}
	memcpy(tcp, &s->sport, 2);
	memcpy(tcp + 2, &s->dport, 2);
	wr32(tcp + 4, s->seq);
	wr32(tcp + 8, s->ack);
	tcp[12] = (uint8_t)((tlen / 4) << 4);
	tcp[13] = s->flags;
	wr16(tcp + 14, s->window);
	ck = s->family == 4 ? ap_l4_csum_ip4(out, tcp, tlen, 6) : ap_l4_csum_ip6(out, tcp, tlen, 6);
	memcpy(tcp + 16, &ck, 2);
	return ihl + tlen;
}

const uint16_t ap_syn_mss_table[8] = {536, 1220, 1300, 1360, 1400, 1440, 1452, 1460};

static unsigned
mss_index(uint16_t mss)
{
	unsigned i = 7;

	while (i > 0 && ap_syn_mss_table[i] > mss)
		i--;
	return i;
}

/* The keyed 24 bits of a cookie. */
static uint32_t
cookie_hash(const uint8_t key[16], uint8_t family, const uint8_t *src, const uint8_t *dst,
	    uint16_t sport, uint16_t dport, uint32_t cisn, uint32_t count)
{
	struct {
		uint8_t src[16], dst[16];
		uint16_t sport, dport;
		uint32_t cisn, count;
		uint8_t family;
	} __attribute__((packed)) m;
	size_t alen = family == 4 ? 4 : 16;

	memset(&m, 0, sizeof(m));
	memcpy(m.src, src, alen);
	memcpy(m.dst, dst, alen);
	m.sport = sport;
	m.dport = dport;
	m.cisn = cisn;
	m.count = count;
	m.family = family;
	return (uint32_t)ap_siphash24(key, &m, sizeof(m)) & 0xffffff;
}

uint32_t
ap_syn_cookie(const uint8_t key[16], uint8_t family, const uint8_t *src, const uint8_t *dst,
	      uint16_t sport, uint16_t dport, uint32_t cisn, uint32_t count, uint16_t mss)
{
	return (count & 31) << 27 | mss_index(mss) << 24 |
	       cookie_hash(key, family, src, dst, sport, dport, cisn, count);
}

bool
ap_syn_cookie_check(const uint8_t key[16], uint8_t family, const uint8_t *src, const uint8_t *dst,
		    uint16_t sport, uint16_t dport, uint32_t cisn, uint32_t cookie,
		    uint32_t now_count, uint16_t *mss)
{
	uint32_t age = (now_count - (cookie >> 27)) & 31;

	/* Made this count or the two before (two to three minutes). */
	if (age > 2)
		return false;
	if (cookie_hash(key, family, src, dst, sport, dport, cisn, now_count - age) !=
	    (cookie & 0xffffff))
		return false;
	*mss = ap_syn_mss_table[(cookie >> 24) & 7];
	return true;
}

uint32_t
ap_syn_ts_cookie(uint32_t now_ms, const struct ap_syn_opts *client)
{
	uint32_t ts = now_ms & ~0x3fu;

	ts |= (client->has & AP_SYN_OPT_WSCALE) ? client->wscale : 0xf;
	if (client->has & AP_SYN_OPT_SACK)
		ts |= 1u << 4;
	return ts;
}

void
ap_syn_ts_decode(uint32_t tsecr, struct ap_syn_opts *o)
{
	if ((tsecr & 0xf) != 0xf) {
		o->wscale = (uint8_t)(tsecr & 0xf);
		o->has |= AP_SYN_OPT_WSCALE;
	}
	if (tsecr & (1u << 4))
		o->has |= AP_SYN_OPT_SACK;
}

/* Add @p d to the 32-bit word at @p p, keeping the checksum at @p ck right. */
static void
shift32(uint8_t *p, uint32_t d, uint8_t *ck)
{
	uint32_t old, new;
	uint16_t c;

	memcpy(&old, p, 4);
	wr32(p, ap_rd32be(p) + d);
	memcpy(&new, p, 4);
	memcpy(&c, ck, 2);
	c = ap_csum_update32(c, old, new);
	memcpy(ck, &c, 2);
}

void
ap_syn_seqadj(uint8_t *tcp, uint32_t hlen, bool from_server, uint32_t delta, uint32_t tsoff)
{
	uint8_t *ck = tcp + 16, len;

	if (from_server)
		shift32(tcp + 4, (uint32_t)-delta, ck);
	else if (tcp[13] & TCP_ACK)
		shift32(tcp + 8, delta, ck);
	for (uint32_t i = 20; ap_tcp_opt_next(tcp, hlen, &i, &len); i += len) {
		if (tcp[i] == 8 && len == 10 && tsoff != 0) {
			if (from_server)
				shift32(tcp + i + 2, (uint32_t)-tsoff, ck);
			else
				shift32(tcp + i + 6, tsoff, ck);
		} else if (tcp[i] == 5 && !from_server) {
			/* SACK blocks: the client's view of the server's data. */
			for (uint32_t b = i + 2; b + 8 <= i + len; b += 8) {
				shift32(tcp + b, delta, ck);
				shift32(tcp + b + 4, delta, ck);
			}
		}
	}
}

bool
ap_syn_protected(uint8_t family, const uint8_t *dst, uint16_t dport)
{
	for (unsigned i = 0; i < ap_syn_conf.n_prot; i++) {
		unsigned len = ap_syn_conf.prot[i].len, full = len / 8, rest = len % 8;
		const uint8_t *a = ap_syn_conf.prot[i].addr;

		if (ap_syn_conf.prot[i].family != family || dport < ap_syn_conf.prot[i].lo ||
		    dport > ap_syn_conf.prot[i].hi || memcmp(a, dst, full) != 0)
			continue;
		if (rest && ((a[full] ^ dst[full]) & (uint8_t)(0xff << (8 - rest))))
			continue;
		return true;
	}
	return false;
}

static uint32_t
addr_hash(uint8_t family, const uint8_t *a)
{
	return rte_hash_crc(a, family == 4 ? 4 : 16, family);
}

static bool
same(uint8_t fa, const uint8_t *a, uint8_t fb, const uint8_t *b)
{
	return fa == fb && memcmp(a, b, fa == 4 ? 4 : 16) == 0;
}

/* A new second for @p d: the counts move along. */
static void
dst_roll(struct ap_syn_dst *d, uint32_t sec)
{
	if (d->sec == sec)
		return;
	d->syns_last = sec == d->sec + 1 ? d->syns_now : 0;
	d->syns_now = 0;
	d->sec = sec;
}

/* The entry of destination @p a. A slot another destination holds is taken
 * over when that one is idle, else shared (both arm together: the safe
 * side). */
static struct ap_syn_dst *
dst_entry(struct ap_syn_state *s, uint8_t family, const uint8_t *a, uint32_t sec)
{
	struct ap_syn_dst *d = &s->dst[addr_hash(family, a) & (AP_SYN_DSTS - 1)];

	if (!same(d->family, d->addr, family, a) &&
	    (d->family == 0 || (!d->armed && d->half_open == 0 && sec - d->sec > 2))) {
		memset(d, 0, sizeof(*d));
		d->family = family;
		memcpy(d->addr, a, family == 4 ? 4 : 16);
		d->sec = sec;
	}
	dst_roll(d, sec);
	return d;
}

static void
dst_arm_check(struct ap_syn_state *s, struct ap_syn_dst *d, uint32_t sec)
{
	if (d->armed ||
	    (d->syns_now < ap_syn_conf.syn_rate && d->half_open < ap_syn_conf.half_open))
		return;
	d->armed = 1;
	d->armed_at = sec;
	d->calm_since = 0;
	s->st.armed++;
}

/* Take a token from source @p a's bucket; false (and maybe a block) when
 * it is over its rate or blocked. */
static bool
src_allowed(struct ap_syn_state *s, uint8_t family, const uint8_t *a, uint64_t now_tsc,
	    uint32_t sec)
{
	struct ap_syn_src *e = &s->src[addr_hash(family, a) & (AP_SYN_SRCS - 1)];
	uint64_t hz = ap_syn_conf.tsc_hz, burst = (uint64_t)ap_syn_conf.source_burst * 1000;

	if (!same(e->family, e->addr, family, a)) {
		/* Blocked sources keep their slot; a newcomer there goes unmetered. */
		if (e->blocked_until > sec)
			return true;
		memset(e, 0, sizeof(*e));
		e->family = family;
		memcpy(e->addr, a, family == 4 ? 4 : 16);
		e->tokens_milli = (uint32_t)burst;
		e->tokens_tsc = now_tsc;
	}
	if (e->blocked_until > sec) {
		s->st.blocked_drops++;
		return false;
	}
	if (now_tsc - e->tokens_tsc > hz * 60) {
		e->tokens_milli = (uint32_t)burst;
	} else {
		uint64_t add = (now_tsc - e->tokens_tsc) * ap_syn_conf.source_rate * 1000 / hz;

		e->tokens_milli = (uint32_t)RTE_MIN(burst, e->tokens_milli + add);
	}
	e->tokens_tsc = now_tsc;
	if (e->tokens_milli < 1000) {
		e->blocked_until = sec + ap_syn_conf.block_time;
		s->st.src_blocked++;
		s->st.blocked_drops++;
		return false;
	}
	e->tokens_milli -= 1000;
	return true;
}

enum ap_syn_verdict
ap_syn_guard(struct ap_syn_state *s, uint8_t family, const uint8_t *src, const uint8_t *dst,
	     uint16_t sport, uint16_t dport, const uint8_t *tcp, uint32_t hlen, uint64_t now_tsc,
	     uint16_t *mss)
{
	uint32_t sec = (uint32_t)(now_tsc / ap_syn_conf.tsc_hz);
	uint8_t flags = tcp[13];
	struct ap_syn_dst *d;

	RTE_SET_USED(hlen);
	if ((flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) == TCP_SYN) {
		s->st.syn_seen++;
		if (ap_syn_conf.source_rate && !src_allowed(s, family, src, now_tsc, sec))
			return AP_SYN_BLOCKED;
		d = dst_entry(s, family, dst, sec);
		d->syns_now++;
		dst_arm_check(s, d, sec);
		return d->armed || ap_syn_conf.always ? AP_SYN_COOKIE : AP_SYN_PASS;
	}
	if ((flags & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_ACK)
		return AP_SYN_PASS;
	if (ap_syn_cookie_check(ap_syn_conf.key, family, src, dst, sport, dport,
				ap_rd32be(tcp + 4) - 1, ap_rd32be(tcp + 8) - 1, sec >> 6, mss)) {
		s->st.cookie_valid++;
		return AP_SYN_SPLICE;
	}
	d = dst_entry(s, family, dst, sec);
	if (d->armed || ap_syn_conf.always) {
		s->st.cookie_invalid++;
		return AP_SYN_BAD_COOKIE;
	}
	return AP_SYN_PASS;
}

void
ap_syn_half_open(struct ap_syn_state *s, uint8_t family, const uint8_t *dst, bool begins,
		 uint64_t now_tsc)
{
	struct ap_syn_dst *d = &s->dst[addr_hash(family, dst) & (AP_SYN_DSTS - 1)];

	if (begins) {
		uint32_t sec = (uint32_t)(now_tsc / ap_syn_conf.tsc_hz);

		d = dst_entry(s, family, dst, sec);
		d->half_open++;
		dst_arm_check(s, d, sec);
	} else if (same(d->family, d->addr, family, dst) && d->half_open > 0) {
		d->half_open--;
	}
}

bool
ap_syn_armed(const struct ap_syn_state *s, uint8_t family, const uint8_t *dst)
{
	const struct ap_syn_dst *d = &s->dst[addr_hash(family, dst) & (AP_SYN_DSTS - 1)];

	return d->armed && same(d->family, d->addr, family, dst);
}

void
ap_syn_housekeeping(struct ap_syn_state *s, uint64_t now_tsc)
{
	uint32_t sec = (uint32_t)(now_tsc / ap_syn_conf.tsc_hz);

	if (sec == s->last_scan)
		return;
	s->last_scan = sec;
	for (unsigned i = 0; i < AP_SYN_DSTS; i++) {
		struct ap_syn_dst *d = &s->dst[i];

		if (!d->armed)
			continue;
		dst_roll(d, sec);
		if (d->syns_last >= ap_syn_conf.syn_rate / 2 ||
		    d->syns_now >= ap_syn_conf.syn_rate / 2 ||
		    d->half_open >= ap_syn_conf.half_open / 2) {
			d->calm_since = 0;
			continue;
		}
		if (d->calm_since == 0)
			d->calm_since = sec;
		else if (sec - d->calm_since >= ap_syn_conf.disarm_after) {
			d->armed = 0;
			d->calm_since = 0;
			s->st.disarmed++;
		}
	}
}
