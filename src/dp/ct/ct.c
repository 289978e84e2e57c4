/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection tracking tables: one per worker, written only by it. A flow is
 * found by its canonical key from either direction (a translated flow also
 * by its reply tuple's key); TCP follows the state machine and the window
 * check of ct_tcp.c, UDP and ICMP echo become "replied" on the first
 * answer, anything else is tracked by addresses and protocol. Expired flows
 * go lazily: when met again, and a few per burst from a GC cursor. A full
 * table evicts a flow that never saw a reply, as netfilter's early drop; if
 * there is none, the new flow is refused. NAT (both tuples, port slices per
 * worker, endpoint-independent mappings) and the SYN proxy's hooks for new
 * flows live here too.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_ring_elem.h>

#include "dp/ct/ct.h"
#include "dp/syn/syn.h"
#include "pkt/pkt.h"

struct ap_ct_conf ap_ct_conf;
struct ap_nat_conf ap_nat_conf;
uint16_t (*ap_ct_egress4)(uint32_t dst_be);

/* Its timeout from now, for flow @p f of protocol @p proto (the packet's:
 * the flow's key may be out of the cache). */
static uint32_t
flow_timeout(const struct ap_ct_flow *f, uint8_t proto)
{
	switch (proto) {
	case 6: {
		uint32_t to =
			ap_ct_conf.timeout[f->state < AP_TCP_STATES ? f->state : AP_TCP_CLOSE];

		/* A peer that does not answer: netfilter's shorter timeouts. */
		if (ap_ct_conf.tcp_max_retrans && f->retrans >= ap_ct_conf.tcp_max_retrans &&
		    to > ap_ct_conf.tcp_retrans)
			return ap_ct_conf.tcp_retrans;
		if (((f->win[0].scale | f->win[1].scale) & AP_CT_WIN_UNACK) &&
		    ap_ct_conf.tcp_unack && to > ap_ct_conf.tcp_unack)
			return ap_ct_conf.tcp_unack;
		return to;
	}
	case 17:
		return (f->status & AP_CT_SEEN_REPLY) ? ap_ct_conf.udp_stream : ap_ct_conf.udp;
	case 1:
	case 58:
		return ap_ct_conf.icmp;
	default:
		return ap_ct_conf.generic;
	}
}

/* Word @p i of key @p k. */
static inline uint64_t
key_word(const struct ap_ct_key *k, unsigned i)
{
	uint64_t w;

	memcpy(&w, (const uint8_t *)k + 8 * i, 8);
	return w;
}

/* Is flow key @p a packet key @p b? In five words, loaded in place (memcmp()
 * is a call and a loop; copies of the keys cost as much as the compare).
 * Word 2 of an IPv4 key is the flow's memo, not address (ap_ct_flow_memo()):
 * left out when @p b, whose family word 0 compares, is IPv4. */
static inline bool
key_eq(const struct ap_ct_key *a, const struct ap_ct_key *b)
{
	const uint64_t w2 = b->family == 4 ? 0 : UINT64_MAX;

	RTE_BUILD_BUG_ON(sizeof(struct ap_ct_key) != 40);
	RTE_BUILD_BUG_ON(AP_CT_KEY_MEMO_OFF != 8 * 2);
	return ((key_word(a, 0) ^ key_word(b, 0)) | (key_word(a, 1) ^ key_word(b, 1)) |
		((key_word(a, 2) ^ key_word(b, 2)) & w2) | (key_word(a, 3) ^ key_word(b, 3)) |
		(key_word(a, 4) ^ key_word(b, 4))) == 0;
}

static bool
expired(const struct ap_ct_flow *f, uint32_t now)
{
	return (int32_t)(now - f->expires) >= 0;
}

static inline bool key_fill(struct ap_ct_key *k, size_t alen, const uint8_t *src,
			    const uint8_t *dst, uint16_t sp, uint16_t dp);

/* The key a translated flow's replies come in with: the inverse of its
 * originator's packets once translated. */
static void
nat_reply_key(const struct ap_ct_flow *f, struct ap_ct_key *k)
{
	uint8_t sa[4], da[4];

	memcpy(sa, &f->nat_saddr, 4);
	memcpy(da, &f->nat_daddr, 4);
	memset(k, 0, sizeof(*k));
	k->family = f->key.family;
	k->proto = f->key.proto;
	key_fill(k, 4, da, sa, f->nat_dport, f->nat_sport);
}

/*
 * Endpoint-independent mappings (RFC 4787 4.1): an inside endpoint keeps
 * one port on a masquerade address for every destination while any of its
 * flows lives. Two kinds of key in one hash: the inside endpoint (to find
 * its port; data: port << 32 | flows using it) and the port it holds (so no
 * other flow takes it).
 */
struct eim_key {
	uint8_t kind; /* 1: inside endpoint, 2: the mapped port */
	uint8_t proto;
	uint16_t port; /* network order: the inside port, or the mapped one */
	uint32_t in_addr, nat_addr;
};

static bool
eim_port_held(const struct ap_ct_table *t, uint32_t nat_addr, uint16_t port, uint8_t proto)
{
	struct eim_key k = {.kind = 2, .proto = proto, .port = port, .nat_addr = nat_addr};

	return t->eim != NULL && rte_hash_lookup(t->eim, &k) >= 0;
}

/* Flow @p f's inside endpoint's key. */
static void
eim_key_of(const struct ap_ct_flow *f, struct eim_key *k)
{
	const uint8_t *src, *dst;
	uint16_t sport, dport;

	ap_ct_orig_ends(f, &src, &dst, &sport, &dport);
	memset(k, 0, sizeof(*k));
	k->kind = 1;
	k->proto = f->key.proto;
	k->port = sport;
	memcpy(&k->in_addr, src, 4);
	k->nat_addr = f->nat_saddr;
}

/* A flow of an endpoint-independent mapping goes: the mapping with its last. */
static void
eim_release(struct ap_ct_table *t, const struct ap_ct_flow *f)
{
	struct eim_key k, rk = {.kind = 2,
				.proto = f->key.proto,
				.port = f->nat_sport,
				.nat_addr = f->nat_saddr};
	void *data;
	uint64_t d;

	eim_key_of(f, &k);
	if (rte_hash_lookup_data(t->eim, &k, &data) < 0)
		return;
	d = (uint64_t)(uintptr_t)data;
	if ((uint32_t)d > 1) {
		rte_hash_add_key_data(t->eim, &k, (void *)(uintptr_t)(d - 1));
		return;
	}
	rte_hash_del_key(t->eim, &k);
	rte_hash_del_key(t->eim, &rk);
}

/* The flow's originator's destination: where a SYN proxy counts it. */
static const uint8_t *
flow_dst(const struct ap_ct_flow *f)
{
	return f->orig_lo ? f->key.addr_hi : f->key.addr_lo;
}

/* A flow counted half-open at its destination stops being so. */
static void
half_open_done(struct ap_ct_table *t, struct ap_ct_flow *f)
{
	if (!(f->status & AP_CT_HALF_OPEN))
		return;
	f->status &= (uint8_t)~AP_CT_HALF_OPEN;
	if (t->syn)
		ap_syn_half_open(t->syn, f->key.family, flow_dst(f), false, 0);
}

/* Tell the control plane of a flow's birth or end (when it listens). */
static void
flow_event(struct ap_ct_table *t, const struct ap_ct_flow *f, uint8_t type, uint8_t reason,
	   uint32_t now)
{
	struct ap_ct_event ev;

	if (t->events == NULL)
		return;
	ev.type = type;
	ev.reason = reason;
	ev.state = f->state;
	ev.orig_lo = f->orig_lo;
	ev.nat = f->nat;
	ev.status = f->status;
	ev.worker = 0;
	ev.key = f->key;
	ap_ct_key_clean(&ev.key);
	ev.nat_sport = f->nat_sport;
	ev.nat_dport = f->nat_dport;
	ev.nat_saddr = f->nat_saddr;
	ev.nat_daddr = f->nat_daddr;
	memcpy(ev.pkts, f->pkts, sizeof(ev.pkts));
	ev.bytes[AP_CT_ORIG] = ap_ct_flow_bytes(f, AP_CT_ORIG);
	ev.bytes[AP_CT_REPLY] = ap_ct_flow_bytes(f, AP_CT_REPLY);
	ev.created = f->created;
	ev.ended = now;
	if (rte_ring_sp_enqueue_elem(t->events, &ev, sizeof(ev)) != 0)
		t->st.events_lost++;
}

static uint32_t
now_ticks(void)
{
	return (uint32_t)(rte_rdtsc() >> AP_CT_TICK_SHIFT);
}

/* Add a key of hash @p sig for @p val (a flow index, | AP_CT_NAT_KEY for
 * its reply key): the flow holds the key, or the translation it derives
 * from. 0, or < 0 when the hash has no room. */
static int
key_add(struct ap_ct_table *t, uint32_t sig, uint32_t val)
{
	int r = ap_ct_hash_add(&t->hash, sig, val);

	if (r >= 0)
		t->n_adds++;
	return r;
}

/* Is @p key the key of hash value @p val (its flow's, or the reply key of
 * its translation)? */
static __rte_always_inline bool
val_key_eq(const void *ctx, uint32_t val, const void *key)
{
	const struct ap_ct_table *t = ctx;
	const struct ap_ct_flow *f = &t->flows[val & ~AP_CT_NAT_KEY];
	struct ap_ct_key rk;

	if (likely(!(val & AP_CT_NAT_KEY)))
		return key_eq(&f->key, key);
	nat_reply_key(f, &rk);
	return key_eq(&rk, key);
}

/* What val_key_eq() reads: the flow's first line, and the second (its
 * translation) for a reply key. */
static __rte_always_inline void
val_prefetch(const void *ctx, uint32_t val)
{
	const struct ap_ct_table *t = ctx;
	const char *f = (const char *)&t->flows[val & ~AP_CT_NAT_KEY];

	rte_prefetch0(f);
	if (val & AP_CT_NAT_KEY)
		rte_prefetch0(f + RTE_CACHE_LINE_SIZE);
}

/* The hash value of key @p k (hash @p sig), or -1. */
static int64_t
key_lookup(const struct ap_ct_table *t, const struct ap_ct_key *k, uint32_t sig)
{
	return ap_ct_hash_lookup(&t->hash, sig, k, val_key_eq, t);
}

uint64_t
ap_ct_lookup_bulk(const struct ap_ct_table *t, const struct ap_ct_key *const *keys,
		  const uint32_t *sigs, unsigned n, uint32_t *vals)
{
	return ap_ct_hash_lookup_bulk(&t->hash, (const void *const *)keys, sigs, n, vals,
				      val_key_eq, val_prefetch, t);
}

/* Remove flow @p idx, announcing its end for @p reason. */
static void
flow_del(struct ap_ct_table *t, uint32_t idx, enum ap_ct_end reason)
{
	struct ap_ct_flow *f = &t->flows[idx];

	if (reason != AP_CT_END_NONE && t->events != NULL)
		flow_event(t, f, AP_CT_EV_DESTROY, (uint8_t)reason, now_ticks());
	half_open_done(t, f);
	if (unlikely(f->status & AP_CT_EIM))
		eim_release(t, f);
	if (f->nat) {
		struct ap_ct_key rk;

		nat_reply_key(f, &rk);
		ap_ct_hash_del(&t->hash, ap_ct_key_hash(&rk), idx | AP_CT_NAT_KEY);
	}
	ap_ct_hash_del(&t->hash, ap_ct_key_hash(&f->key), idx);
	t->n_dels++;
	f->key.family = 0;
	f->next_free = t->free_head;
	t->free_head = idx;
	t->n_free++;
	t->count--;
}

void
ap_ct_gc(struct ap_ct_table *t, uint32_t now, unsigned budget)
{
	uint32_t ahead = (uint32_t)(((uint64_t)t->gc_cursor + budget) % t->max);

	/* The slots the next call looks at are fetched now: with a large
	 * table each one misses the cache, and the walk would wait for it. */
	for (unsigned i = 0; i < budget; i++) {
		rte_prefetch0(&t->flows[ahead]);
		ahead = ahead + 1 == t->max ? 0 : ahead + 1;
	}
	for (unsigned i = 0; i < budget; i++) {
		uint32_t idx = t->gc_cursor;

		t->gc_cursor = idx + 1 == t->max ? 0 : idx + 1;
		if (!ap_ct_flow_used(&t->flows[idx]))
			continue;
		if (expired(&t->flows[idx], now)) {
			flow_del(t, idx, AP_CT_END_EXPIRED);
			t->st.expired++;
		} else if (unlikely(t->flows[idx].status & AP_CT_HALF_OPEN) && t->syn &&
			   ap_syn_armed(t->syn, t->flows[idx].key.family,
					flow_dst(&t->flows[idx]))) {
			/* The SYN proxy took over its destination: half-open flows
			 * there are the flood's (a real client retries, and gets a
			 * cookie). */
			flow_del(t, idx, AP_CT_END_EVICTED);
			t->st.early_drop++;
		}
	}
}

void
ap_ct_flush(struct ap_ct_table *t, const struct ap_ct_filter *flt)
{
	for (uint32_t i = 0; i < t->max; i++)
		if (ap_ct_flow_used(&t->flows[i]) &&
		    (flt == NULL || ap_ct_flow_match(&t->flows[i], flt))) {
			flow_del(t, i, AP_CT_END_FLUSHED);
			t->st.flushed++;
		}
}

bool
ap_ct_flow_match(const struct ap_ct_flow *f, const struct ap_ct_filter *flt)
{
	const struct ap_ct_key *k = &f->key;
	size_t alen = k->family == 4 ? 4 : 16;

	if (flt->proto == 256) {
		if (k->proto == 6 || k->proto == 17 || k->proto == 1 || k->proto == 58)
			return false;
	} else if (flt->proto >= 0 && k->proto != flt->proto) {
		return false;
	}
	if (flt->family && (flt->family != k->family || (memcmp(flt->addr, k->addr_lo, alen) != 0 &&
							 memcmp(flt->addr, k->addr_hi, alen) != 0)))
		return false;
	if (flt->port && (k->proto == 6 || k->proto == 17) &&
	    rte_be_to_cpu_16(k->port_lo) != flt->port && rte_be_to_cpu_16(k->port_hi) != flt->port)
		return false;
	return true;
}

/* Room for one more flow: a free slot, or a flow that never saw a reply
 * (the oldest kind of state to lose), found near the GC cursor. */
static bool
make_room(struct ap_ct_table *t, uint32_t now)
{
	if (t->n_free > 0)
		return true;
	for (unsigned i = 0; i < 32; i++) {
		uint32_t idx = (t->gc_cursor + i) % t->max;
		const struct ap_ct_flow *f = &t->flows[idx];

		if (expired(f, now)) {
			flow_del(t, idx, AP_CT_END_EXPIRED);
			t->st.expired++;
			return true;
		}
		if (!(f->status & AP_CT_ASSURED)) {
			flow_del(t, idx, AP_CT_END_EVICTED);
			t->st.early_drop++;
			return true;
		}
	}
	return false;
}

/* memcmp() of two addresses of @p alen (4 or 16) bytes, in words. */
static inline int
addr_cmp(const uint8_t *a, const uint8_t *b, size_t alen)
{
	if (alen == 4) {
		uint32_t x, y;

		memcpy(&x, a, 4);
		memcpy(&y, b, 4);
		x = rte_be_to_cpu_32(x);
		y = rte_be_to_cpu_32(y);
		return (x > y) - (x < y);
	}
	for (size_t i = 0; i < alen; i += 8) {
		uint64_t x, y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return rte_be_to_cpu_64(x) < rte_be_to_cpu_64(y) ? -1 : 1;
	}
	return 0;
}

/* Fill @p k from endpoints (ports in network order) and say whether the
 * source is the key's lower endpoint. */
static inline bool
key_fill(struct ap_ct_key *k, size_t alen, const uint8_t *src, const uint8_t *dst, uint16_t sp,
	 uint16_t dp)
{
	int c = addr_cmp(src, dst, alen);
	bool src_lo = c < 0 || (c == 0 && rte_be_to_cpu_16(sp) <= rte_be_to_cpu_16(dp));

	/* Copies of a constant size: no call. */
	if (alen == 4) {
		memcpy(k->addr_lo, src_lo ? src : dst, 4);
		memcpy(k->addr_hi, src_lo ? dst : src, 4);
	} else {
		memcpy(k->addr_lo, src_lo ? src : dst, 16);
		memcpy(k->addr_hi, src_lo ? dst : src, 16);
	}
	k->port_lo = src_lo ? sp : dp;
	k->port_hi = src_lo ? dp : sp;
	return src_lo;
}

/* key_fill() on a key whose family and proto are set, and its hash into
 * @p sig, from the same values (ap_ct_hash_parts()). */
static __rte_always_inline bool
key_fill_hash(struct ap_ct_key *k, size_t alen, const uint8_t *src, const uint8_t *dst, uint16_t sp,
	      uint16_t dp, uint32_t *sig)
{
	bool src_lo = key_fill(k, alen, src, dst, sp, dp);

	*sig = ap_ct_hash_parts(alen == 4 ? 4 : 6, k->proto, 0, src_lo ? sp : dp, src_lo ? dp : sp,
				src_lo ? src : dst, src_lo ? dst : src);
	return src_lo;
}

static bool
icmp_error(uint8_t proto, uint8_t type)
{
	if (proto == 1)
		return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
	return type >= 1 && type <= 4;
}

/*
 * The flow an ICMP error is about: the packet it quotes (RFC 792, RFC 4443)
 * was sent by one of the flow's endpoints, so its tuple is the flow's key.
 * @return false when the quote is too short or not a tracked protocol.
 */
static bool
related_key(const uint8_t *l3, const struct ap_pkt_info *pi, struct ap_ct_key *k,
	    bool *quote_src_lo, uint32_t *sig)
{
	const uint8_t *in = l3 + (pi->l4_off - pi->l3_off) + 8;
	uint32_t avail = pi->l4_len >= 8 ? pi->l4_len - 8u : 0, hl;
	size_t alen = pi->l3 == AP_L3_IPV4 ? 4 : 16;
	uint16_t sp = 0, dp = 0;
	uint8_t proto;

	if (alen == 4) {
		if (avail < 20 || in[0] >> 4 != 4)
			return false;
		hl = (in[0] & 0xfu) * 4u;
		proto = in[9];
	} else {
		if (avail < 40 || in[0] >> 4 != 6)
			return false;
		hl = 40;
		proto = in[6];
	}
	memset(k, 0, sizeof(*k));
	k->family = alen == 4 ? 4 : 6;
	k->proto = proto;
	if (proto == 6 || proto == 17) {
		if (avail < hl + 4)
			return false;
		memcpy(&sp, in + hl, 2);
		memcpy(&dp, in + hl + 2, 2);
	} else if (proto == 1 || proto == 58) {
		if (avail < hl + 8)
			return false;
		memcpy(&sp, in + hl + 4, 2); /* the echo id */
		dp = sp;
	}
	*quote_src_lo = key_fill_hash(k, alen, in + (alen == 4 ? 12 : 8),
				      in + (alen == 4 ? 16 : 24), sp, dp, sig);
	return true;
}

/* The packet's key and whether its source is the key's lower endpoint.
 * @return false for what is not tracked (unknown ICMP; errors are looked
 * up apart). */
static __rte_always_inline bool
key_of(const uint8_t *l3, const struct ap_pkt_info *pi, struct ap_ct_key *k, bool *src_lo,
       bool *icmp_reply, uint32_t *sig)
{
	size_t alen = pi->l3 == AP_L3_IPV4 ? 4 : 16;
	const uint8_t *src = l3 + (alen == 4 ? 12 : 8), *dst = src + alen;
	uint16_t sp = rte_cpu_to_be_16(pi->l4_sport), dp = rte_cpu_to_be_16(pi->l4_dport);

	memset(k, 0, sizeof(*k));
	k->family = alen == 4 ? 4 : 6;
	k->proto = pi->l4_proto;
	*icmp_reply = false;
	switch (pi->l4_proto) {
	case 6:
	case 17:
		break;
	case 1:
	case 58: {
		uint8_t type = (uint8_t)(pi->l4_sport >> 8);
		uint8_t req = pi->l4_proto == 1 ? 8 : 128, rep = pi->l4_proto == 1 ? 0 : 129;

		if (type != req && type != rep)
			return false;
		*icmp_reply = type == rep;
		sp = dp = rte_cpu_to_be_16(pi->l4_dport); /* the echo id */
		break;
	}
	default:
		sp = dp = 0;
		break;
	}
	*src_lo = key_fill_hash(k, alen, src, dst, sp, dp, sig);
	return true;
}

/* A new flow from its first packet (key @p k, its hash @p sig), or why not. */
static enum ap_ct_info
flow_new(struct ap_ct_table *t, const struct ap_ct_key *k, uint32_t sig, bool src_lo, uint8_t state,
	 uint32_t len, uint32_t now, uint32_t *out)
{
	struct ap_ct_flow *f;
	uint32_t idx;

	if (!make_room(t, now)) {
		t->st.table_full++;
		return AP_CT_FULL;
	}
	idx = t->free_head;
	if (key_add(t, sig, idx) < 0) {
		t->st.table_full++;
		return AP_CT_FULL;
	}
	f = &t->flows[idx];
	t->free_head = f->next_free;
	t->n_free--;
	memset(f, 0, sizeof(*f));
	f->key = *k;
	f->orig_lo = src_lo;
	f->state = state;
	f->created = now;
	f->pkts[AP_CT_ORIG] = 1;
	f->bytes_lo[AP_CT_ORIG] = len;
	f->expires = now + flow_timeout(f, k->proto);
	t->count++;
	t->st.created++;
	*out = idx;
	return AP_CT_NEW;
}

/* Worker @p w's slice of the port range [@p lo, @p hi] (several workers
 * share every range; the last one takes the remainder). */
static void
nat_slice(unsigned w, uint16_t *lo, uint16_t *hi)
{
	uint32_t n = ap_nat_conf.n_workers, span;

	if (n <= 1)
		return;
	span = ((uint32_t)*hi - *lo + 1) / n;
	if (span == 0)
		return;
	*lo = (uint16_t)(*lo + w * span);
	if (w + 1 < n)
		*hi = (uint16_t)(*lo + span - 1);
}

/* Is @p port (network order) of address @p addr forwarded for @p proto? */
static bool
nat_forwarded(uint32_t addr, uint16_t port, uint8_t proto)
{
	for (unsigned i = 0; i < ap_nat_conf.n_fwd; i++)
		if (ap_nat_conf.fwd[i].port == port && ap_nat_conf.fwd[i].proto == proto &&
		    ap_nat_conf.if_addr[ap_nat_conf.fwd[i].l3] == addr)
			return true;
	return false;
}

/* The port range flows translated to address @p addr take their ports from:
 * a masquerading interface's, else (hairpin) 1024-65535 on any of ours. */
static bool
nat_range_of(uint32_t addr, uint16_t *lo, uint16_t *hi)
{
	for (unsigned i = 0; i < ap_nat_conf.n_xaddr; i++)
		if (ap_nat_conf.xaddr[i].addr == addr) {
			*lo = ap_nat_conf.xaddr[i].lo;
			*hi = ap_nat_conf.xaddr[i].hi;
			return true;
		}
	return false;
}

static bool
nat_one_external(uint32_t addr)
{
	for (unsigned i = 0; i < ap_nat_conf.n_one; i++)
		if (ap_nat_conf.one[i].external == addr)
			return true;
	return false;
}

static unsigned
end_hash(const uint8_t *addr, uint16_t port)
{
	uint32_t a;

	memcpy(&a, addr, 4);
	return rte_hash_crc_4byte(a, port) % ap_nat_conf.n_workers;
}

unsigned
ap_ct_owner(const struct ap_ct_pkt *cp)
{
	const struct ap_ct_key *k = &cp->k;
	/* An ICMP error travels against the packet it quotes. */
	bool src_lo = cp->kind == AP_CT_PKT_RELATED ? !cp->src_lo : cp->src_lo;
	const uint8_t *src = src_lo ? k->addr_lo : k->addr_hi;
	const uint8_t *dst = src_lo ? k->addr_hi : k->addr_lo;
	uint16_t sport = src_lo ? k->port_lo : k->port_hi, dport = src_lo ? k->port_hi : k->port_lo;
	uint16_t lo, hi, dp = rte_be_to_cpu_16(dport), eg;
	uint32_t d;
	bool in_out, eg_out;

	memcpy(&d, dst, 4);
	/* To a port we gave out: the worker of its slice. To another port of
	 * ours: worker 0, which tracks what the appliance itself sends. */
	if ((k->proto == 6 || k->proto == 17 || k->proto == 1) && nat_range_of(d, &lo, &hi) &&
	    !nat_forwarded(d, dport, k->proto)) {
		uint32_t span = ((uint32_t)hi - lo + 1) / ap_nat_conf.n_workers;
		uint32_t w = span ? (dp - lo) / span : 0;

		if (dp < lo || dp > hi)
			return 0;
		return w < ap_nat_conf.n_workers ? w : ap_nat_conf.n_workers - 1;
	}
	/* To a forwarded port or a 1:1 address: by the outside end, the source. */
	if (nat_one_external(d) || nat_forwarded(d, dport, k->proto))
		return end_hash(src, sport);
	/* Else by the outside end (which no translation changes), or both. */
	eg = ap_ct_egress4 ? ap_ct_egress4(d) : AP_L3_MAX;
	in_out = cp->in_l3 < AP_L3_MAX && ap_nat_conf.outside[cp->in_l3];
	eg_out = eg < AP_L3_MAX && ap_nat_conf.outside[eg];
	if (in_out && !eg_out)
		return end_hash(src, sport);
	if (!in_out && eg_out)
		return end_hash(dst, dport);
	return rte_hash_crc(k, sizeof(*k), 0) % ap_nat_conf.n_workers;
}

/* Take a source port (ICMP: echo id) of [lo, hi] for flow @p f whose reply
 * key is free, and add that key. @return false when the range is exhausted. */
static bool
nat_take_port(struct ap_ct_table *t, struct ap_ct_flow *f, uint32_t idx, uint16_t lo, uint16_t hi)
{
	struct ap_ct_key rk;

	nat_slice(t->worker, &lo, &hi);
	for (unsigned tries = 0; tries < 256; tries++) {
		uint16_t port = (uint16_t)(lo + t->nat_cursor++ % ((uint32_t)hi - lo + 1));

		uint32_t sig;

		if (nat_forwarded(f->nat_saddr, rte_cpu_to_be_16(port), f->key.proto) ||
		    eim_port_held(t, f->nat_saddr, rte_cpu_to_be_16(port), f->key.proto))
			continue; /* the forward's or a mapping's, not ours to give */
		f->nat_sport = rte_cpu_to_be_16(port);
		if (f->key.proto == 1)
			f->nat_dport = f->nat_sport; /* an echo keys on the id alone */
		nat_reply_key(f, &rk);
		sig = ap_ct_key_hash(&rk);
		if (key_lookup(t, &rk, sig) >= 0)
			continue;
		return key_add(t, sig, idx | AP_CT_NAT_KEY) >= 0;
	}
	return false;
}

/* Flow @p f's source port by its inside endpoint's mapping: the one it
 * holds, or a new one of [lo, hi]. */
static bool
nat_eim_take(struct ap_ct_table *t, struct ap_ct_flow *f, uint32_t idx, uint16_t lo, uint16_t hi)
{
	struct eim_key k, rk = {.kind = 2, .proto = f->key.proto, .nat_addr = f->nat_saddr};
	struct ap_ct_key reply;
	void *data;
	uint64_t d;

	eim_key_of(f, &k);
	if (rte_hash_lookup_data(t->eim, &k, &data) >= 0) {
		d = (uint64_t)(uintptr_t)data;
		f->nat_sport = (uint16_t)(d >> 32);
		if (f->key.proto == 1)
			f->nat_dport = f->nat_sport;
		nat_reply_key(f, &reply);
		if (key_add(t, ap_ct_key_hash(&reply), idx | AP_CT_NAT_KEY) < 0)
			return false;
		rte_hash_add_key_data(t->eim, &k, (void *)(uintptr_t)(d + 1));
		f->status |= AP_CT_EIM;
		return true;
	}
	if (!nat_take_port(t, f, idx, lo, hi))
		return false;
	rk.port = f->nat_sport;
	if (rte_hash_add_key_data(t->eim, &k,
				  (void *)(uintptr_t)((uint64_t)f->nat_sport << 32 | 1)) < 0 ||
	    rte_hash_add_key(t->eim, &rk) < 0) {
		rte_hash_del_key(t->eim, &k);
		return true; /* translated, just not mapped: no room for the mapping */
	}
	f->status |= AP_CT_EIM;
	return true;
}

/* The inside host a new flow to @p dst:@p dport goes to, by a port forward
 * (on the interface it came in on, or any with hairpin) or a 1:1 mapping. */
static bool
nat_dst_of(uint8_t proto, uint32_t dst, uint16_t dport, uint16_t in_l3, uint32_t *to,
	   uint16_t *to_port)
{
	for (unsigned i = 0; i < ap_nat_conf.n_fwd; i++) {
		uint16_t l3 = ap_nat_conf.fwd[i].l3;

		if (ap_nat_conf.fwd[i].proto != proto || ap_nat_conf.fwd[i].port != dport ||
		    ap_nat_conf.if_addr[l3] != dst || (l3 != in_l3 && !ap_nat_conf.hairpin))
			continue;
		*to = ap_nat_conf.fwd[i].to;
		*to_port = ap_nat_conf.fwd[i].to_port;
		return true;
	}
	for (unsigned i = 0; i < ap_nat_conf.n_one; i++)
		if (ap_nat_conf.one[i].external == dst &&
		    (ap_nat_conf.one[i].l3 == in_l3 || ap_nat_conf.hairpin)) {
			*to = ap_nat_conf.one[i].internal;
			*to_port = dport;
			return true;
		}
	return false;
}

/*
 * Translation of a new IPv4 flow that came in on @p in_l3, as netfilter's
 * nat table would set it up: the destination by a port forward or 1:1
 * mapping (before routing); then the source by the interface it leaves by
 * (after routing): its 1:1 external address, masquerade to its address, or,
 * when a forwarded flow goes back out where it came in (hairpin), the
 * address of that interface, so the inside host answers through us.
 * @return false when no source port was free.
 */
static bool
nat_setup(struct ap_ct_table *t, struct ap_ct_flow *f, uint32_t idx, uint16_t in_l3)
{
	const uint8_t *src, *dst;
	uint16_t sport, dport, out, lo = AP_NAT_HAIRPIN_LO, hi = AP_NAT_HAIRPIN_HI;
	bool shared = false; /* the new source is an address others use too */
	uint32_t src_be, dst_be;
	struct ap_ct_key rk;
	uint8_t nat = 0;

	ap_ct_orig_ends(f, &src, &dst, &sport, &dport);
	memcpy(&src_be, src, 4);
	memcpy(&dst_be, dst, 4);
	f->nat_saddr = src_be;
	f->nat_sport = sport;
	f->nat_daddr = dst_be;
	f->nat_dport = dport;
	if (nat_dst_of(f->key.proto, dst_be, dport, in_l3, &f->nat_daddr, &f->nat_dport))
		nat = AP_CT_DNAT;
	out = ap_ct_egress4 ? ap_ct_egress4(f->nat_daddr) : AP_L3_MAX;
	if (out < AP_L3_MAX) {
		for (unsigned i = 0; i < ap_nat_conf.n_one && !(nat & AP_CT_SNAT); i++)
			if (ap_nat_conf.one[i].internal == src_be && ap_nat_conf.one[i].l3 == out) {
				f->nat_saddr = ap_nat_conf.one[i].external;
				nat |= AP_CT_SNAT;
			}
		if (!(nat & AP_CT_SNAT) && ap_nat_conf.addr[out] != 0 &&
		    ap_nat_conf.addr[out] != src_be) {
			f->nat_saddr = ap_nat_conf.addr[out];
			lo = ap_nat_conf.lo[out];
			hi = ap_nat_conf.hi[out];
			nat |= AP_CT_SNAT;
			shared = true;
		} else if (nat == AP_CT_DNAT && out == in_l3 && ap_nat_conf.if_addr[out] != 0) {
			f->nat_saddr = ap_nat_conf.if_addr[out];
			nat_range_of(f->nat_saddr, &lo, &hi);
			nat |= AP_CT_SNAT;
			shared = true;
		}
	}
	if (nat == 0)
		return true;
	f->nat = nat;
	if (shared) {
		/* A port of its own on the shared address, or its mapping's. */
		bool eim = t->eim != NULL && out < AP_L3_MAX && ap_nat_conf.eim[out] &&
			   f->nat_saddr == ap_nat_conf.addr[out];

		if (!(eim ? nat_eim_take(t, f, idx, lo, hi) : nat_take_port(t, f, idx, lo, hi))) {
			f->nat = 0;
			t->st.nat_exhausted++;
			return false;
		}
	} else {
		nat_reply_key(f, &rk);
		if (key_add(t, ap_ct_key_hash(&rk), idx | AP_CT_NAT_KEY) < 0) {
			f->nat = 0;
			t->st.nat_exhausted++;
			return false;
		}
	}
	t->st.nat_created++;
	return true;
}

/* The segment's window fields, when its TCP header is at hand. */
static bool
seg_info(const struct ap_ct_pkt *cp, struct ap_ct_tcp_seg_info *si)
{
	return cp->l4 != NULL && cp->l4_avail >= 20 &&
	       ap_ct_tcp_seg_parse(cp->l4, cp->l4_avail, cp->l4_len, si);
}

/* Same segment as the last one this way, with nothing new: a retransmission
 * (netfilter counts them to shorten the timeout of a dead peer). */
static void
retrans_count(struct ap_ct_flow *f, enum ap_ct_dir dir, const struct ap_ct_tcp_seg_info *si)
{
	uint32_t h = rte_hash_crc_4byte(si->seq, si->ack);

	h = rte_hash_crc_4byte(si->len ^ ((uint32_t)si->win << 16) ^ ((uint32_t)dir << 31), h);
	if (h == f->last_seg) {
		if (f->retrans < UINT8_MAX)
			f->retrans++;
	} else {
		f->last_seg = h;
		f->retrans = 0;
	}
}

static enum ap_ct_info
tcp_update(struct ap_ct_table *t, struct ap_ct_flow *f, enum ap_ct_dir dir,
	   const struct ap_ct_pkt *cp)
{
	enum ap_ct_tcp_seg seg = ap_ct_tcp_seg_of(cp->tcp_flags);
	int closer = (f->status & AP_CT_FIN_ORIG)    ? AP_CT_ORIG
		     : (f->status & AP_CT_FIN_REPLY) ? AP_CT_REPLY
						     : -1;
	enum ap_ct_tcp_state old = f->state,
			     n = ap_ct_tcp_next(old, dir, seg, closer, ap_ct_conf.tcp_loose);
	struct ap_ct_tcp_seg_info si;
	bool have = seg_info(cp, &si);

	if (n == AP_TCP_INVALID) {
		t->st.invalid++;
		return AP_CT_INVALID;
	}
	if (n == AP_TCP_IGNORE)
		return AP_CT_ESTABLISHED;
	if (n == AP_TCP_SYN_SENT && (old == AP_TCP_TIME_WAIT || old == AP_TCP_CLOSE)) {
		/* A new connection on the same ports: start over. */
		if (t->events != NULL)
			flow_event(t, f, AP_CT_EV_DESTROY, AP_CT_END_REOPENED, now_ticks());
		half_open_done(t, f);
		f->status = 0;
		f->state = (uint8_t)n;
		memset(f->win, 0, sizeof(f->win));
		memset(f->pkts, 0, sizeof(f->pkts));
		memset(f->bytes_lo, 0, sizeof(f->bytes_lo));
		memset(f->bytes_hi, 0, sizeof(f->bytes_hi));
		if (!f->syn)
			memset(ap_ct_flow_memo(f), 0, 8); /* classified anew */
		f->created = now_ticks();
		if (have)
			ap_ct_tcp_win_new(&f->win[dir], &si);
		else
			f->status |= AP_CT_LIBERAL;
		return AP_CT_NEW;
	}
	if (have) {
		if (!ap_ct_tcp_in_window(&f->win[dir], &f->win[!dir], old, dir == AP_CT_ORIG,
					 &si)) {
			t->st.out_of_window++;
			if (!(f->status & AP_CT_LIBERAL) && !ap_ct_conf.tcp_liberal) {
				t->st.invalid++;
				return AP_CT_INVALID;
			}
		}
		retrans_count(f, dir, &si);
	}
	if (n != AP_TCP_SYN_SENT && n != AP_TCP_SYN_RECV && n != AP_TCP_SYN_SENT2)
		half_open_done(t, f);
	if (seg == AP_SEG_FIN && closer < 0)
		f->status |= dir == AP_CT_ORIG ? AP_CT_FIN_ORIG : AP_CT_FIN_REPLY;
	/* The handshake's last ACK makes the connection worth keeping. */
	if (old == AP_TCP_SYN_RECV && n == AP_TCP_ESTABLISHED)
		f->status |= AP_CT_ASSURED;
	f->state = (uint8_t)n;
	return AP_CT_ESTABLISHED;
}

void
ap_ct_prepare(const uint8_t *l3, const struct ap_pkt_info *pi, uint32_t len, struct ap_ct_pkt *cp)
{
	cp->len = len;
	cp->local = false;
	cp->l4 = l3 + (pi->l4_off - pi->l3_off);
	cp->l4_avail = pi->l4_len;
	cp->l4_len = pi->l4_len;
	cp->tcp_flags = pi->tcp_flags;
	cp->in_l3 = AP_L3_MAX;
	if ((pi->l4_proto == 1 || pi->l4_proto == 58) &&
	    icmp_error(pi->l4_proto, (uint8_t)(pi->l4_sport >> 8))) {
		/* RELATED to the flow it reports on, if we track that flow. */
		cp->kind = related_key(l3, pi, &cp->k, &cp->src_lo, &cp->sig) ? AP_CT_PKT_RELATED
									      : AP_CT_PKT_UNTRACKED;
	} else {
		cp->kind = key_of(l3, pi, &cp->k, &cp->src_lo, &cp->icmp_reply, &cp->sig)
				   ? AP_CT_PKT_FLOW
				   : AP_CT_PKT_UNTRACKED;
	}
}

/* The flow of @p cp's key: @p hint as ap_ct_apply() takes it (a bulk
 * lookup's answer that still holds, or -1 to look it up). -1 when there is
 * none (or it expired). */
static int64_t
flow_find(struct ap_ct_table *t, const struct ap_ct_pkt *cp, int64_t hint, uint32_t now,
	  bool *via_nat)
{
	int64_t idx;

	*via_nat = false;
	if (hint == -1) {
		hint = key_lookup(t, &cp->k, cp->sig);
		if (hint < 0)
			return -1;
	} else if (hint < 0) {
		return -1;
	}
	*via_nat = (hint & AP_CT_NAT_KEY) != 0;
	idx = hint & ~(int64_t)AP_CT_NAT_KEY;
	if (expired(&t->flows[idx], now)) {
		flow_del(t, (uint32_t)idx, AP_CT_END_EXPIRED);
		t->st.expired++;
		return -1;
	}
	return idx;
}

/* What the SYN proxy says of a TCP segment with no flow; @p guarded: its
 * destination is one the proxy protects. */
static enum ap_syn_verdict
syn_guard(struct ap_ct_table *t, struct ap_ct_pkt *cp, bool *guarded)
{
	const uint8_t *src = cp->src_lo ? cp->k.addr_lo : cp->k.addr_hi;
	const uint8_t *dst = cp->src_lo ? cp->k.addr_hi : cp->k.addr_lo;
	uint16_t sport = cp->src_lo ? cp->k.port_lo : cp->k.port_hi;
	uint16_t dport = cp->src_lo ? cp->k.port_hi : cp->k.port_lo;

	*guarded = false;
	if (t->syn == NULL || cp->local || cp->k.proto != 6 || cp->l4_avail < 20 ||
	    !ap_syn_protected(cp->k.family, dst, rte_be_to_cpu_16(dport)))
		return AP_SYN_PASS;
	*guarded = true;
	return ap_syn_guard(t->syn, cp->k.family, src, dst, sport, dport, cp->l4, cp->l4_avail,
			    rte_rdtsc(), &cp->syn_mss);
}

/* A packet with no flow: a new flow (translated as NAT says), or why not. */
static enum ap_ct_info
flow_open(struct ap_ct_table *t, struct ap_ct_pkt *cp, uint32_t now)
{
	enum ap_syn_verdict v = AP_SYN_PASS;
	struct ap_ct_flow *f;
	enum ap_ct_info info;
	bool guarded = false;
	uint8_t state = 0;
	uint32_t fi;

	if (cp->k.proto == 6) {
		enum ap_ct_tcp_state n;

		v = syn_guard(t, cp, &guarded);
		if (v == AP_SYN_COOKIE)
			return AP_CT_SYN_COOKIE;
		if (v == AP_SYN_BLOCKED || v == AP_SYN_BAD_COOKIE)
			return AP_CT_SYN_DROP;
		/* A valid cookie opens the flow as the SYN it becomes. */
		n = v == AP_SYN_SPLICE ? AP_TCP_SYN_SENT
				       : ap_ct_tcp_next(AP_TCP_NONE, AP_CT_ORIG,
							ap_ct_tcp_seg_of(cp->tcp_flags), -1,
							ap_ct_conf.tcp_loose);
		if (n >= AP_TCP_STATES) {
			t->st.invalid++;
			return AP_CT_INVALID;
		}
		state = (uint8_t)n;
	} else if (cp->icmp_reply) {
		/* An echo reply nobody asked for. */
		t->st.invalid++;
		return AP_CT_INVALID;
	}
	info = flow_new(t, &cp->k, cp->sig, cp->src_lo, state, cp->len, now, &fi);
	if (info != AP_CT_NEW)
		return info;
	f = &t->flows[fi];
	if (ap_nat_conf.enabled && cp->k.family == 4 && !cp->local &&
	    !nat_setup(t, f, fi, cp->in_l3)) {
		flow_del(t, fi, AP_CT_END_NONE);
		return AP_CT_FULL;
	}
	cp->flow = fi;
	cp->dir = AP_CT_ORIG;
	if (cp->k.proto == 6) {
		struct ap_ct_tcp_seg_info si;

		/* Its side of the window; picked up mid-stream, proxied (its
		 * numbers are shifted), or without a header to read: liberal. */
		if (v != AP_SYN_SPLICE && seg_info(cp, &si))
			ap_ct_tcp_win_new(&f->win[AP_CT_ORIG], &si);
		if (v == AP_SYN_SPLICE || !(cp->tcp_flags & 0x02) || f->win[AP_CT_ORIG].maxwin == 0)
			f->status |= AP_CT_LIBERAL;
	}
	if (t->events != NULL)
		flow_event(t, f, AP_CT_EV_NEW, 0, now);
	if (v == AP_SYN_SPLICE) {
		f->syn = AP_CT_SYN_WAIT;
		return AP_CT_SYN_SPLICE;
	}
	if (cp->k.proto == 6 && guarded && state == AP_TCP_SYN_SENT) {
		f->status |= AP_CT_HALF_OPEN;
		ap_syn_half_open(t->syn, f->key.family, flow_dst(f), true, rte_rdtsc());
	}
	return AP_CT_NEW;
}

enum ap_ct_info
ap_ct_apply(struct ap_ct_table *t, struct ap_ct_pkt *cp, int64_t hint, uint32_t now)
{
	struct ap_ct_flow *f;
	enum ap_ct_dir dir;
	enum ap_ct_info info;
	int64_t idx;
	uint8_t proto = cp->k.proto;
	bool via_nat;

	cp->flow = -1;
	if (cp->kind == AP_CT_PKT_UNTRACKED)
		return AP_CT_UNTRACKED;
	idx = flow_find(t, cp, hint, now, &via_nat);
	if (cp->kind == AP_CT_PKT_RELATED) {
		if (idx < 0)
			return AP_CT_UNTRACKED;
		/* A quote of a translated originator's packet comes back the
		 * reply's way; any other came from the originator's side. */
		cp->flow = idx;
		cp->dir = via_nat ? AP_CT_REPLY : AP_CT_ORIG;
		t->st.related++;
		return AP_CT_RELATED;
	}
	if (idx < 0)
		return flow_open(t, cp, now);
	f = &t->flows[idx];
	dir = via_nat || cp->src_lo != (bool)f->orig_lo ? AP_CT_REPLY : AP_CT_ORIG;
	cp->flow = idx;
	cp->dir = (uint8_t)dir;
	if (unlikely(f->syn == AP_CT_SYN_WAIT) && !(cp->tcp_flags & 0x04)) {
		/* Proxied, the server not answered yet: its SYN/ACK is the proxy's
		 * to finish; the client has nothing to say until then. */
		if (dir == AP_CT_REPLY && ap_ct_tcp_seg_of(cp->tcp_flags) == AP_SEG_SYNACK) {
			f->state = AP_TCP_ESTABLISHED;
			f->status |= AP_CT_SEEN_REPLY | AP_CT_ASSURED;
			ap_ct_flow_count(f, dir, cp->len);
			f->expires = now + flow_timeout(f, proto);
			return AP_CT_SYN_SERVER;
		}
		t->st.syn_retrans++;
		return AP_CT_SYN_DROP;
	}
	if (proto == 6) {
		info = tcp_update(t, f, dir, cp);
		if (info == AP_CT_INVALID)
			return info;
	} else {
		if ((proto == 1 || proto == 58) && cp->icmp_reply != (dir == AP_CT_REPLY)) {
			t->st.invalid++;
			return AP_CT_INVALID;
		}
		info = (f->status & AP_CT_SEEN_REPLY) || dir == AP_CT_REPLY ? AP_CT_ESTABLISHED
									    : AP_CT_NEW;
		/* A reply to a UDP flow (or ICMP echo) assures it. */
		if (dir == AP_CT_REPLY)
			f->status |= AP_CT_ASSURED;
	}
	if (dir == AP_CT_REPLY)
		f->status |= AP_CT_SEEN_REPLY;
	ap_ct_flow_count(f, dir, cp->len);
	f->expires = now + flow_timeout(f, proto);
	if (info == AP_CT_ESTABLISHED && !(f->status & AP_CT_SEEN_REPLY))
		info = AP_CT_NEW;
	return info;
}

enum ap_ct_info
ap_ct_track(struct ap_ct_table *t, const uint8_t *l3, const struct ap_pkt_info *pi, uint32_t len,
	    uint32_t now)
{
	struct ap_ct_pkt cp;

	ap_ct_prepare(l3, pi, len, &cp);
	return ap_ct_apply(t, &cp, -1, now);
}

/* Rewrite address @p off (12: source, 16: destination) of the IPv4 header
 * at @p ip, without a transport header to follow. */
static void
nat_rewrite_addr4(uint8_t *ip, unsigned off, uint32_t addr)
{
	uint32_t old;
	uint16_t csum;

	memcpy(&old, ip + off, 4);
	memcpy(ip + off, &addr, 4);
	memcpy(&csum, ip + 10, 2);
	csum = ap_csum_update32(csum, old, addr);
	memcpy(ip + 10, &csum, 2);
}

void
ap_nat_rewrite4(uint8_t *ip, uint8_t *l4, uint32_t l4_avail, uint8_t proto, bool src, uint32_t addr,
		uint16_t port)
{
	uint32_t old_addr;
	uint16_t csum, old_port;

	memcpy(&old_addr, ip + (src ? 12 : 16), 4);
	nat_rewrite_addr4(ip, src ? 12 : 16, addr);
	switch (proto) {
	case 6:
	case 17:
		/* The ports; the checksum when it is there (a quote in an ICMP
		 * error may hold only the first 8 bytes). */
		if (l4_avail < 4)
			return;
		memcpy(&old_port, l4 + (src ? 0 : 2), 2);
		memcpy(l4 + (src ? 0 : 2), &port, 2);
		if (l4_avail < (proto == 6 ? 18u : 8u))
			return;
		memcpy(&csum, l4 + (proto == 6 ? 16 : 6), 2);
		if (proto == 17 && csum == 0)
			return; /* no checksum (RFC 768) */
		/* The pseudo-header holds the address. */
		csum = ap_csum_update32(csum, old_addr, addr);
		csum = ap_csum_update16(csum, old_port, port);
		if (proto == 17 && csum == 0)
			csum = 0xffff;
		memcpy(l4 + (proto == 6 ? 16 : 6), &csum, 2);
		return;
	case 1:
		/* An echo's id; ICMP has no pseudo-header. */
		if (l4_avail < 8)
			return;
		memcpy(&old_port, l4 + 4, 2);
		memcpy(l4 + 4, &port, 2);
		memcpy(&csum, l4 + 2, 2);
		csum = ap_csum_update16(csum, old_port, port);
		memcpy(l4 + 2, &csum, 2);
		return;
	default:
		return;
	}
}

void
ap_nat_rewrite4_pi(struct ap_pkt_info *pi, uint8_t *ip, uint8_t *l4, uint32_t l4_avail, bool src,
		   uint32_t addr, uint16_t port)
{
	ap_nat_rewrite4(ip, l4, l4_avail, pi->l4_proto, src, addr, port);
	if ((pi->l4_proto == 6 || pi->l4_proto == 17) && l4_avail >= 4) {
		if (src)
			pi->l4_sport = rte_be_to_cpu_16(port);
		else
			pi->l4_dport = rte_be_to_cpu_16(port);
	} else if (pi->l4_proto == 1 && l4_avail >= 8) {
		pi->l4_dport = rte_be_to_cpu_16(port); /* the echo id */
	}
}

bool
ap_nat_icmp_error4(uint8_t *ip, uint32_t avail, const struct ap_ct_flow *f, bool quoted_orig)
{
	uint32_t hl = (ip[0] & 0xfu) * 4u, tot = (uint32_t)(ip[2] << 8 | ip[3]), qhl;
	const uint8_t *osrc, *odst;
	uint16_t osport, odport, csum;
	uint8_t *icmp = ip + hl, *q;
	uint32_t a;

	if (tot > avail || tot < hl + 8 + 20)
		return false;
	q = icmp + 8;
	qhl = (q[0] & 0xfu) * 4u;
	if (qhl < 20 || hl + 8 + qhl > tot || ap_csum(icmp, tot - hl) != 0)
		return false;
	ap_ct_orig_ends(f, &osrc, &odst, &osport, &odport);
	if (quoted_orig) {
		/* It quotes an originator's packet as it left: back as it was
		 * sent, to the originator, from whom the replies seem to come. */
		if (f->nat & AP_CT_SNAT) {
			memcpy(&a, osrc, 4);
			nat_rewrite_addr4(ip, 16, a);
			ap_nat_rewrite4(q, q + qhl, tot - hl - 8 - qhl, q[9], true, a, osport);
		}
		if (f->nat & AP_CT_DNAT) {
			memcpy(&a, odst, 4);
			nat_rewrite_addr4(ip, 12, a);
			ap_nat_rewrite4(q, q + qhl, tot - hl - 8 - qhl, q[9], false, a, odport);
		}
	} else {
		/* It quotes a reply as the originator got it: as it was sent,
		 * from the originator's translated address. */
		if (f->nat & AP_CT_SNAT) {
			nat_rewrite_addr4(ip, 12, f->nat_saddr);
			ap_nat_rewrite4(q, q + qhl, tot - hl - 8 - qhl, q[9], false, f->nat_saddr,
					f->nat_sport);
		}
		if (f->nat & AP_CT_DNAT) {
			nat_rewrite_addr4(ip, 16, f->nat_daddr);
			ap_nat_rewrite4(q, q + qhl, tot - hl - 8 - qhl, q[9], true, f->nat_daddr,
					f->nat_dport);
		}
	}
	icmp[2] = icmp[3] = 0;
	csum = ap_csum(icmp, tot - hl);
	memcpy(icmp + 2, &csum, 2);
	return true;
}

void
ap_ct_housekeeping(unsigned w)
{
	struct ap_ct_table *t = ap_ct_tables[w];

	if (t == NULL)
		return;
	if (t->flush_req != t->flush_done) {
		uint32_t req = __atomic_load_n(&t->flush_req, __ATOMIC_ACQUIRE);

		ap_ct_flush(t, &t->flush_filter);
		t->flush_done = req;
	}
	if (t->syn)
		ap_syn_housekeeping(t->syn, rte_rdtsc());
	ap_ct_gc(t, (uint32_t)(rte_rdtsc() >> AP_CT_TICK_SHIFT), 64);
}

/* A worker's rte_hash of @p n keys of @p key_len bytes hashed by @p fn,
 * named @p what and the worker. */
static struct rte_hash *
table_hash(const char *what, unsigned w, uint32_t n, uint32_t key_len, rte_hash_function fn)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = n < 8 ? 8 : n,
		.key_len = key_len,
		.hash_func = fn,
		.socket_id = (int)rte_socket_id(),
	};

	snprintf(name, sizeof(name), "%s_%u", what, w);
	return rte_hash_create(&hp);
}

struct ap_ct_table *
ap_ct_table_create(unsigned w, uint32_t max, uint32_t keys)
{
	struct ap_ct_table *t = rte_zmalloc("ap_ct", sizeof(*t), RTE_CACHE_LINE_SIZE);

	if (t == NULL)
		return NULL;
	t->max = max;
	t->worker = (uint16_t)w;
	/* A flow's two lines are a pair the adjacent-line prefetcher fetches
	 * together. */
	t->flows = rte_zmalloc("ap_ct_flows", sizeof(*t->flows) * max, 2 * RTE_CACHE_LINE_SIZE);
	if (ap_ct_hash_init(&t->hash, keys, (int)rte_socket_id()) < 0 || t->flows == NULL) {
		ap_ct_table_free(t);
		return NULL;
	}
	/* The free slots, lowest first. */
	for (uint32_t i = 0; i < max; i++)
		t->flows[i].next_free = i + 1;
	t->free_head = 0;
	t->n_free = max;
	return t;
}

int
ap_ct_eim_create(struct ap_ct_table *t, uint32_t n)
{
	t->eim = table_hash("ap_eim", t->worker, n, sizeof(struct eim_key), rte_hash_crc);
	return t->eim ? 0 : -ENOMEM;
}

void
ap_ct_table_free(struct ap_ct_table *t)
{
	if (t == NULL)
		return;
	rte_hash_free(t->eim);
	ap_ct_hash_fini(&t->hash);
	rte_ring_free(t->events);
	rte_ring_free(t->handoff);
	rte_free(t->syn);
	rte_free(t->flows);
	rte_free(t);
}
