/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The firewall's rulesets: compilation to rte_acl, RCU publication, the
 * per-packet check, log records, and the reference walk (see fw.h).
 *
 * The ACL search key: the protocol alone (rte_acl reads one byte first),
 * then one word of conntrack state, ingress zone, egress zone and DSCP, one
 * of the ingress and egress interfaces, then the addresses and the ports. The state byte carries
 * the packet's AP_FW_CT_* bit, and bit 7 for a fragment after the first, which rules with ports
 * must not match (they cannot see its ports). ICMP keeps type << 8 | code where the source port is,
 * so an ICMP type is a range of that field. A rule becomes the product of its sets and state bits
 * as ACL entries that share its priority (higher for earlier rules, so the first match wins) and
 * its userdata (index + 1; 0 is rte_acl's "no match").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_acl.h>
#include <rte_cycles.h>
#include <rte_malloc.h>

#include "dp/fw/fw.h"
#include "lib/log.h"
#include "pkt/pkt.h"

#define MOD "fw"

struct ap_fw ap_fw;

/* Ingress interfaces and their L3 ids, fixed for the data plane's life. */
static const struct ap_config *fw_ifcfg;
static uint16_t fw_l3_of_iface[AP_CFG_MAX_IFACES];

/* A ruleset replaced but maybe still read by a worker, and its RCU token. */
static struct ap_fw_rs *fw_retired;
static uint64_t fw_retired_token;
static unsigned fw_generation; /* ACL contexts created, for unique names */
static unsigned fw_rulesets;

#define FW_LOG_RING   1024
#define FW_LOG_RECENT 256
#define FW_CT_LATER   0x80 /* state byte: a fragment after the first */
/* ACL entries per family: past this, sets multiply too much. */
#define FW_ACL_MAX (1u << 18)

static struct {
	struct ap_fw_log_rec rec[FW_LOG_RECENT];
	double wall[FW_LOG_RECENT];
	char comment[FW_LOG_RECENT][64];
	unsigned head, n;
} fw_recent;

/* The contexts of one family, in rule order (most rule sets need one). */
#define FW_ACL_CTX_MAX 16
struct fw_acl {
	struct rte_acl_ctx *ctx[FW_ACL_CTX_MAX];
	unsigned n;
};

struct ap_fw_rs {
	struct ap_cfg_fw cfg;
	struct fw_acl acl[2]; /* IPv4, IPv6 */
	unsigned entries[2];
	uint64_t build_us;
	unsigned gen;		    /* rulesets built before it */
	uint8_t zone_of[AP_L3_MAX]; /* zone of each L3 interface, AP_FW_ZONE_ANY: none */
	uint8_t ifno_of[AP_L3_MAX]; /* config interface index + 1 of each L3 interface */
	/* The memo's context bits of each ingress and egress L3 interface
	 * (fw_ctx_pack()); [AP_L3_MAX]: none, out_ctx[AP_L3_MAX + 1]: self. */
	uint32_t in_ctx[AP_L3_MAX + 1], out_ctx[AP_L3_MAX + 2];
	/* Action when no rule matched, [from zone][to zone]; index n_zones is "no
	 * zone", n_zones + 1 is self. */
	uint8_t policy[AP_CFG_FW_MAX_ZONES + 2][AP_CFG_FW_MAX_ZONES + 2];
	uint64_t *hits;	    /* [lcore][rule] */
	uint64_t *last_hit; /* [rule], TSC (racy across workers: the latest wins) */
};

static const char *const action_names[] = {"accept", "drop", "reject"};
static const char *const ct_names[] = {"new", "established", "related", "invalid", "untracked"};

/* The ACL search keys. */
struct fw_key {
	uint8_t proto, pad[3];
	uint8_t ct, from, to, dscp;
	uint8_t iif, oif, pad2[2];
	uint8_t addr[32]; /* source, destination: 4 + 4 or 16 + 16 bytes */
	uint16_t sport, dport;
} __rte_packed;

/* Fields in rule order: protocol, the two words (the second's last two bytes
 * padding, as fields that match anything: rte_acl takes whole 4-byte groups),
 * address words, ports. */
enum { F_PROTO, F_CT, F_FROM, F_TO, F_DSCP, F_IIF, F_OIF, F_PAD0, F_PAD1, F_ADDR };
#define NF4 (F_ADDR + 2 + 2)
#define NF6 (F_ADDR + 8 + 2)

/* Definitions for @p words 32-bit words per address. */
static void
fw_defs(struct rte_acl_field_def *d, unsigned words)
{
	const size_t ports = offsetof(struct fw_key, addr) + 8 * words;
	unsigned f;

	d[F_PROTO] = (struct rte_acl_field_def){RTE_ACL_FIELD_TYPE_BITMASK, 1, F_PROTO, 0, 0};
	for (f = F_CT; f < F_IIF; f++)
		d[f] = (struct rte_acl_field_def){
			RTE_ACL_FIELD_TYPE_BITMASK, 1, (uint8_t)f, 1,
			(uint32_t)(offsetof(struct fw_key, ct) + f - F_CT)};
	for (; f < F_ADDR; f++)
		d[f] = (struct rte_acl_field_def){
			RTE_ACL_FIELD_TYPE_BITMASK, 1, (uint8_t)f, 2,
			(uint32_t)(offsetof(struct fw_key, iif) + f - F_IIF)};
	for (unsigned w = 0; w < 2 * words; w++, f++)
		d[f] = (struct rte_acl_field_def){
			RTE_ACL_FIELD_TYPE_MASK, 4, (uint8_t)f, (uint8_t)(3 + w),
			(uint32_t)(offsetof(struct fw_key, addr) + 4 * w)};
	d[f] = (struct rte_acl_field_def){RTE_ACL_FIELD_TYPE_RANGE, 2, (uint8_t)f,
					  (uint8_t)(3 + 2 * words), (uint32_t)ports};
	f++;
	d[f] = (struct rte_acl_field_def){RTE_ACL_FIELD_TYPE_RANGE, 2, (uint8_t)f,
					  (uint8_t)(3 + 2 * words), (uint32_t)(ports + 2)};
}

/* The reference walk. */

static bool
zone_ok(uint8_t want, uint8_t got)
{
	return want == AP_FW_ZONE_ANY || want == got;
}

static bool
set_has_addr(const struct ap_cfg_fw *fw, int16_t set, uint8_t family, const uint8_t *a)
{
	const struct ap_cfg_fw_set *s;

	if (set < 0)
		return true;
	s = &fw->sets[set];
	for (unsigned i = s->first; i < s->first + s->n; i++)
		if (ap_cfg_prefix_has(&fw->addrs[i], family, a))
			return true;
	return false;
}

static bool
set_has_port(const struct ap_cfg_fw *fw, int16_t set, uint16_t port)
{
	const struct ap_cfg_fw_set *s;

	if (set < 0)
		return true;
	s = &fw->sets[set];
	for (unsigned i = s->first; i < s->first + s->n; i++)
		if (port >= fw->port_lo[i] && port <= fw->port_hi[i])
			return true;
	return false;
}

int
ap_fw_walk(const struct ap_cfg_fw *fw, const struct ap_fw_pkt *p)
{
	for (uint16_t i = 0; i < fw->n_rules; i++) {
		const struct ap_cfg_fw_rule *r = &fw->rules[i];

		if (!zone_ok(r->from_zone, p->from) || !zone_ok(r->to_zone, p->to))
			continue;
		if ((r->iif_idx >= 0 && p->iif != r->iif_idx + 1) ||
		    (r->oif_idx >= 0 && p->oif != r->oif_idx + 1))
			continue;
		if (r->proto && r->proto != p->proto)
			continue;
		if (r->ct_state && !(r->ct_state & p->ct))
			continue;
		if (r->dscp >= 0 && r->dscp != p->dscp)
			continue;
		if (!set_has_addr(fw, r->src, p->family, p->src) ||
		    !set_has_addr(fw, r->dst, p->family, p->dst))
			continue;
		if ((r->sport >= 0 || r->dport >= 0) &&
		    (p->frag_later || !set_has_port(fw, r->sport, p->sport) ||
		     !set_has_port(fw, r->dport, p->dport)))
			continue;
		if (r->icmp_type >= 0 && (p->sport >> 8) != r->icmp_type)
			continue;
		return i;
	}
	return -1;
}

/* Compilation. */

/* The entries of one match dimension: the pool indexes of a set's items of
 * the family, or one wildcard (-1). Returns how many (0: the rule cannot
 * match this family). */
static unsigned
dim_items(const struct ap_cfg_fw *fw, int16_t set, unsigned family, int16_t *out)
{
	const struct ap_cfg_fw_set *s;
	unsigned n = 0;

	if (set < 0) {
		out[0] = -1;
		return 1;
	}
	s = &fw->sets[set];
	for (unsigned i = s->first; i < s->first + s->n; i++)
		if (s->ports || fw->addrs[i].family == family)
			out[n++] = (int16_t)i;
	return n;
}

static void
field_u8(struct rte_acl_field *f, int v, uint8_t mask)
{
	f->value.u8 = v < 0 ? 0 : (uint8_t)v;
	f->mask_range.u8 = v < 0 ? 0 : mask;
}

/* An address in @p words 32-bit fields; @p p NULL: any. */
static void
field_addr(struct rte_acl_field *f, const struct ap_cfg_prefix *p, unsigned words)
{
	for (unsigned w = 0; w < words; w++) {
		int bits = p ? (int)p->len - 32 * (int)w : 0;
		const uint8_t *a = p ? p->addr + 4 * w : NULL;

		f[w].mask_range.u32 = (uint32_t)(bits < 0 ? 0 : bits > 32 ? 32 : bits);
		f[w].value.u32 = f[w].mask_range.u32 == 0
					 ? 0
					 : (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
						   (uint32_t)a[2] << 8 | a[3];
	}
}

static void
field_range(struct rte_acl_field *f, uint16_t lo, uint16_t hi)
{
	f->value.u16 = lo;
	f->mask_range.u16 = hi;
}

/* Item @p k of the port pool, or any (-1). */
static void
field_port(struct rte_acl_field *f, const struct ap_cfg_fw *fw, int16_t k)
{
	if (k < 0)
		field_range(f, 0, 0xffff);
	else
		field_range(f, fw->port_lo[k], fw->port_hi[k]);
}

/* One ACL entry of rule @p i: state bit @p ct (0: any) and pool items. */
static void
fill_entry(struct rte_acl_rule *x, const struct ap_cfg_fw *fw, unsigned i, unsigned words, int ct,
	   const int16_t item[4])
{
	const struct ap_cfg_fw_rule *r = &fw->rules[i];
	const bool ports = r->sport >= 0 || r->dport >= 0;
	struct rte_acl_field *f = x->field;
	const unsigned fp = F_ADDR + 2 * words;

	x->data.category_mask = 1;
	x->data.priority = (int32_t)(AP_CFG_FW_MAX_RULES - i);
	x->data.userdata = i + 1;
	field_u8(&f[F_PROTO], r->proto ? r->proto : -1, 0xff);
	f[F_CT].value.u8 = (uint8_t)ct;
	f[F_CT].mask_range.u8 = (uint8_t)(ct | (ports ? FW_CT_LATER : 0));
	field_u8(&f[F_FROM], r->from_zone == AP_FW_ZONE_ANY ? -1 : r->from_zone, 0xff);
	field_u8(&f[F_TO], r->to_zone == AP_FW_ZONE_ANY ? -1 : r->to_zone, 0xff);
	field_u8(&f[F_DSCP], r->dscp, 0xff);
	field_u8(&f[F_IIF], r->iif_idx >= 0 ? r->iif_idx + 1 : -1, 0xff);
	field_u8(&f[F_OIF], r->oif_idx >= 0 ? r->oif_idx + 1 : -1, 0xff);
	field_u8(&f[F_PAD0], -1, 0);
	field_u8(&f[F_PAD1], -1, 0);
	field_addr(&f[F_ADDR], item[0] < 0 ? NULL : &fw->addrs[item[0]], words);
	field_addr(&f[F_ADDR + words], item[1] < 0 ? NULL : &fw->addrs[item[1]], words);
	/* ICMP: the type's codes where the source port is. */
	if (r->icmp_type >= 0)
		field_range(&f[fp], (uint16_t)(r->icmp_type << 8),
			    (uint16_t)(r->icmp_type << 8 | 0xff));
	else
		field_port(&f[fp], fw, item[2]);
	field_port(&f[fp + 1], fw, item[3]);
}

/*
 * The ACL entries of rule @p i for @p family into @p buf (entries of
 * @p rsz bytes, room for @p room); returns how many it takes, even beyond
 * the room (then nothing past the room is written).
 */
static unsigned
rule_entries(const struct ap_cfg_fw *fw, unsigned i, unsigned family, uint8_t *buf, size_t rsz,
	     unsigned room)
{
	const struct ap_cfg_fw_rule *r = &fw->rules[i];
	int16_t src[AP_CFG_FW_SET_MAX], dst[AP_CFG_FW_SET_MAX];
	int16_t sp[AP_CFG_FW_SET_MAX], dp[AP_CFG_FW_SET_MAX];
	int cts[5], n_ct = 0;
	unsigned ns, nd, nsp, ndp, n = 0;

	ns = dim_items(fw, r->src, family, src);
	nd = dim_items(fw, r->dst, family, dst);
	nsp = dim_items(fw, r->sport, family, sp);
	ndp = dim_items(fw, r->dport, family, dp);
	if (r->ct_state == 0)
		cts[n_ct++] = 0;
	for (unsigned b = 0; b < 5; b++)
		if (r->ct_state & (1u << b))
			cts[n_ct++] = 1 << b;
	for (unsigned a = 0; a < ns; a++)
		for (unsigned b = 0; b < nd; b++)
			for (unsigned c = 0; c < nsp; c++)
				for (unsigned d = 0; d < ndp; d++)
					for (int e = 0; e < n_ct; e++, n++) {
						const int16_t item[4] = {src[a], dst[b], sp[c],
									 dp[d]};

						if (n < room)
							fill_entry((struct rte_acl_rule *)(buf +
											   n * rsz),
								   fw, i, family == 4 ? 1 : 4,
								   cts[e], item);
					}
	return n;
}

/* One ACL context over @p n entries at @p buf; NULL when rte_acl cannot
 * build them (too many tries). */
static struct rte_acl_ctx *
build_ctx(unsigned family, const uint8_t *buf, unsigned n)
{
	const unsigned nf = family == 4 ? NF4 : NF6;
	struct rte_acl_config cfg = {.num_categories = 1, .num_fields = nf};
	struct rte_acl_param prm = {
		.socket_id = SOCKET_ID_ANY, .rule_size = RTE_ACL_RULE_SZ(nf), .max_rule_num = n};
	char name[RTE_ACL_NAMESIZE];
	struct rte_acl_ctx *ctx;

	snprintf(name, sizeof(name), "ap_fw%u_%u", family, fw_generation++);
	prm.name = name;
	ctx = rte_acl_create(&prm);
	if (!ctx)
		return NULL;
	fw_defs(cfg.defs, family == 4 ? 1 : 4);
	if (rte_acl_add_rules(ctx, (const struct rte_acl_rule *)buf, n) != 0 ||
	    rte_acl_build(ctx, &cfg) != 0) {
		rte_acl_free(ctx);
		return NULL;
	}
	return ctx;
}

/*
 * Contexts for rules [@p lo, @p hi) (entries from @p off[lo] in @p buf):
 * one, or when rte_acl cannot build it in its tries, the two halves, each
 * split again as it needs. Contexts stay in rule order, so the first that
 * matches holds the first matching rule.
 */
static int
build_range(struct ap_fw_rs *rs, unsigned family, const uint8_t *buf, const unsigned *off,
	    unsigned lo, unsigned hi)
{
	const size_t rsz = RTE_ACL_RULE_SZ(family == 4 ? NF4 : NF6);
	struct fw_acl *a = &rs->acl[family == 6];
	struct rte_acl_ctx *ctx;
	unsigned mid;
	int rc;

	if (off[hi] == off[lo])
		return 0;
	if (a->n == FW_ACL_CTX_MAX)
		return -E2BIG;
	ctx = build_ctx(family, buf + off[lo] * rsz, off[hi] - off[lo]);
	if (ctx) {
		a->ctx[a->n++] = ctx;
		return 0;
	}
	if (hi - lo == 1)
		return -ENOSPC;
	mid = lo + (hi - lo) / 2;
	rc = build_range(rs, family, buf, off, lo, mid);
	return rc < 0 ? rc : build_range(rs, family, buf, off, mid, hi);
}

static int
build_family(struct ap_fw_rs *rs, unsigned family, char *err, size_t err_len)
{
	const struct ap_cfg_fw *fw = &rs->cfg;
	const size_t rsz = RTE_ACL_RULE_SZ(family == 4 ? NF4 : NF6);
	unsigned off[AP_CFG_FW_MAX_RULES + 1];
	uint8_t *buf;
	int rc;

	off[0] = 0;
	for (unsigned i = 0; i < fw->n_rules; i++)
		off[i + 1] = off[i] + rule_entries(fw, i, family, NULL, rsz, 0);
	if (off[fw->n_rules] > FW_ACL_MAX)
		return ap_errf(err, err_len, -E2BIG,
			       "firewall: the IPv%u rules expand to %u ACL entries (max %u): "
			       "fewer items in the sets of one rule",
			       family, off[fw->n_rules], FW_ACL_MAX);
	rs->entries[family == 6] = off[fw->n_rules];
	if (off[fw->n_rules] == 0)
		return 0;
	buf = calloc(off[fw->n_rules], rsz);
	if (!buf)
		return ap_errf(err, err_len, -ENOMEM, "firewall: out of memory for ACL entries");
	for (unsigned i = 0; i < fw->n_rules; i++)
		rule_entries(fw, i, family, buf + off[i] * rsz, rsz, off[i + 1] - off[i]);
	rc = build_range(rs, family, buf, off, 0, fw->n_rules);
	free(buf);
	if (rc < 0)
		return ap_errf(err, err_len, rc,
			       "firewall: the IPv%u rules do not fit rte_acl in %u contexts",
			       family, FW_ACL_CTX_MAX);
	return 0;
}

struct ap_fw_rs *
ap_fw_rs_build(const struct ap_cfg_fw *fw, char *err, size_t err_len)
{
	uint64_t t0 = rte_get_tsc_cycles();
	struct ap_fw_rs *rs = calloc(1, sizeof(*rs));
	const unsigned nr = fw->n_rules ? fw->n_rules : 1;

	if (!rs) {
		snprintf(err, err_len, "firewall: out of memory for its rules");
		return NULL;
	}
	rs->cfg = *fw;
	rs->gen = fw_rulesets++;
	memset(rs->zone_of, AP_FW_ZONE_ANY, sizeof(rs->zone_of));
	rs->hits = rte_zmalloc("ap_fw_hits", sizeof(uint64_t) * RTE_MAX_LCORE * nr,
			       RTE_CACHE_LINE_SIZE);
	rs->last_hit = rte_zmalloc("ap_fw_last", sizeof(uint64_t) * nr, 0);
	if (!rs->hits || !rs->last_hit) {
		snprintf(err, err_len, "firewall: out of memory for its counters");
		goto fail;
	}
	if (build_family(rs, 4, err, err_len) < 0 || build_family(rs, 6, err, err_len) < 0)
		goto fail;
	rs->build_us = (rte_get_tsc_cycles() - t0) * 1000000 / rte_get_tsc_hz();
	return rs;
fail:
	ap_fw_rs_free(rs);
	return NULL;
}

void
ap_fw_rs_free(struct ap_fw_rs *rs)
{
	if (!rs)
		return;
	for (unsigned f = 0; f < 2; f++)
		for (unsigned c = 0; c < rs->acl[f].n; c++)
			rte_acl_free(rs->acl[f].ctx[c]);
	rte_free(rs->hits);
	rte_free(rs->last_hit);
	free(rs);
}

unsigned
ap_fw_rs_entries(const struct ap_fw_rs *rs, unsigned family)
{
	return rs->entries[family == 6];
}

static __rte_always_inline void
fw_key_fill(const struct ap_fw_pkt *p, struct fw_key *k)
{
	const uint16_t ports[2] = {rte_cpu_to_be_16(p->sport), rte_cpu_to_be_16(p->dport)};

	k->proto = p->proto;
	k->ct = (uint8_t)(p->ct | (p->frag_later ? FW_CT_LATER : 0));
	k->from = p->from;
	k->to = p->to;
	k->dscp = p->dscp;
	k->iif = p->iif;
	k->oif = p->oif;
	/* Copies of a constant size: no call. */
	if (p->family == 4) {
		memcpy(k->addr, p->src, 4);
		memcpy(k->addr + 4, p->dst, 4);
		memcpy(k->addr + 8, ports, sizeof(ports));
	} else {
		memcpy(k->addr, p->src, 16);
		memcpy(k->addr + 16, p->dst, 16);
		memcpy(k->addr + 32, ports, sizeof(ports));
	}
}

/*
 * First matching rule (index + 1, 0: none) of @p n keys of one family into
 * @p res: one rte_acl call per context over the keys still unmatched.
 */
static void
fw_classify(const struct fw_acl *a, const uint8_t **data, uint32_t *res, unsigned n)
{
	const uint8_t *left[AP_FW_BURST];
	uint32_t got[AP_FW_BURST];
	uint16_t at[AP_FW_BURST];
	unsigned nl = 0;

	memset(res, 0, n * sizeof(res[0]));
	for (unsigned c = 0; c < a->n; c++) {
		if (c == 0) {
			rte_acl_classify(a->ctx[0], data, res, n, 1);
			continue;
		}
		nl = 0;
		for (unsigned i = 0; i < n; i++)
			if (res[i] == 0) {
				left[nl] = data[i];
				at[nl++] = (uint16_t)i;
			}
		if (nl == 0)
			return;
		rte_acl_classify(a->ctx[c], left, got, nl, 1);
		for (unsigned i = 0; i < nl; i++)
			res[at[i]] = got[i];
	}
}

int
ap_fw_rs_classify(const struct ap_fw_rs *rs, const struct ap_fw_pkt *p)
{
	struct fw_key k = {0};
	const uint8_t *data = (const uint8_t *)&k;
	uint32_t res;

	fw_key_fill(p, &k);
	fw_classify(&rs->acl[p->family == 6], &data, &res, 1);
	return (int)res - 1;
}

/* The data plane's check. */

/* The policy matrix index of a zone folded to 5 bits as the memo holds it
 * (AP_FW_ZONE_SELF 30, AP_FW_ZONE_ANY 31; an index is below 30 as it is). */
static __rte_always_inline unsigned
pidx5(const struct ap_fw_rs *rs, unsigned z5)
{
	const unsigned nz = rs->cfg.n_zones;

	if (z5 == (AP_FW_ZONE_SELF & 31))
		return nz + 1;
	return z5 < nz ? z5 : nz;
}

/* Index of a zone in the policy matrix. */
static __rte_always_inline unsigned
pidx(const struct ap_fw_rs *rs, uint8_t zone)
{
	return pidx5(rs, zone & 31u);
}

/* A packet that rule @p rule decided: its counters; its action. */
static __rte_always_inline enum ap_fw_action
fw_rule_hit(const struct ap_fw_rs *rs, unsigned rule, unsigned lcore, uint64_t now)
{
	const enum ap_fw_action a = rs->cfg.rules[rule].action;

	rs->hits[lcore * rs->cfg.n_rules + rule]++;
	rs->last_hit[rule] = now;
	ap_fw.stats[lcore * AP_FW_S_COUNT + AP_FW_V_RULE_ACCEPT + a]++;
	return a;
}

/* A packet no rule matched, from zone index @p a to @p b (pidx()): the
 * policy's counter; its action. */
static __rte_always_inline enum ap_fw_action
fw_policy_hit(const struct ap_fw_rs *rs, unsigned a, unsigned b, unsigned lcore)
{
	const enum ap_fw_action act = (enum ap_fw_action)rs->policy[a][b];

	ap_fw.stats[lcore * AP_FW_S_COUNT + AP_FW_V_POLICY_ACCEPT + act]++;
	return act;
}

/* One log record, at most log_rate a second on each worker. */
static void
fw_log(const struct ap_fw_rs *rs, const struct ap_fw_pkt *p, unsigned lcore, int rule, uint64_t now)
{
	uint64_t *st = &ap_fw.stats[lcore * AP_FW_S_COUNT];
	struct ap_fw_log_rec rec;

	if (now - ap_fw.log_window[lcore] >= rte_get_tsc_hz()) {
		ap_fw.log_window[lcore] = now;
		ap_fw.log_count[lcore] = 0;
	}
	if (ap_fw.log_count[lcore] >= rs->cfg.log_rate) {
		st[AP_FW_S_LOG_LIMITED]++;
		return;
	}
	ap_fw.log_count[lcore]++;
	rec = (struct ap_fw_log_rec){.tsc = now,
				     .rule = (uint16_t)rule,
				     .sport = p->sport,
				     .dport = p->dport,
				     .action = (uint8_t)rs->cfg.rules[rule].action,
				     .family = p->family,
				     .proto = p->proto,
				     .dscp = p->dscp,
				     .ct = p->ct,
				     .from = p->from,
				     .to = p->to,
				     .gen = (uint8_t)rs->gen};
	memcpy(rec.src, p->src, 16);
	memcpy(rec.dst, p->dst, 16);
	if (rte_ring_mp_enqueue_elem(ap_fw.log_ring, &rec, sizeof(rec)) != 0)
		st[AP_FW_S_LOG_LIMITED]++;
	else
		st[AP_FW_S_LOGGED]++;
}

/* The memo's context bits (see the memo, below). */
static __rte_always_inline uint32_t
fw_ctx_pack(uint8_t dscp, uint8_t from, uint8_t to, uint8_t iif, uint8_t oif)
{
	return (uint32_t)dscp << 22 | (uint32_t)(to & 31) << 17 | (uint32_t)(from & 31) << 12 |
	       (uint32_t)oif << 6 | iif;
}

/* The DSCP of the IPv4 or IPv6 header @p l3hdr of the packet of @p pv. */
static __rte_always_inline uint8_t
fw_dscp(const struct ap_mbuf_priv *pv, const uint8_t *l3hdr)
{
	if (pv->pi.l3 == AP_L3_IPV4)
		return l3hdr[1] >> 2;
	return (uint8_t)(((l3hdr[0] & 0x0f) << 4 | l3hdr[1] >> 4) >> 2);
}

/* The memo's context bits of the packet of @p pv (IP header @p l3hdr) going
 * out of @p out, from the ruleset's tables (fw_ctx_pack() of its DSCP, zones
 * and interfaces). */
static __rte_always_inline uint64_t
fw_memo_ctx(const struct ap_fw_rs *rs, const struct ap_mbuf_priv *pv, const uint8_t *l3hdr,
	    uint16_t out)
{
	const uint32_t in = rs->in_ctx[RTE_MIN(pv->l3, (uint16_t)AP_L3_MAX)];
	const uint32_t o = rs->out_ctx[out < AP_L3_MAX	      ? out
				       : out == AP_FW_TO_SELF ? AP_L3_MAX + 1
							      : AP_L3_MAX];
	return (uint64_t)(in | o | (uint32_t)fw_dscp(pv, l3hdr) << 22);
}

/* What a packet's memo depends on beside its flow: the zones and interfaces
 * of @p pv going out of L3 interface @p out, and the DSCP of its IP header
 * @p l3hdr; with its family and conntrack state. */
static __rte_always_inline void
fw_pkt_ctx(const struct ap_fw_rs *rs, const struct ap_mbuf_priv *pv, const uint8_t *l3hdr,
	   uint16_t out, struct ap_fw_pkt *p)
{
	const struct ap_pkt_info *pi = &pv->pi;
	const uint8_t from = pv->l3 < AP_L3_MAX ? rs->zone_of[pv->l3] : AP_FW_ZONE_ANY;
	const uint8_t to = out == AP_FW_TO_SELF ? AP_FW_ZONE_SELF
			   : out < AP_L3_MAX	? rs->zone_of[out]
						: AP_FW_ZONE_ANY;
	const uint8_t iif = pv->l3 < AP_L3_MAX ? rs->ifno_of[pv->l3] : 0;
	const uint8_t oif = out < AP_L3_MAX ? rs->ifno_of[out] : 0;

	p->family = pi->l3 == AP_L3_IPV4 ? 4 : 6;
	p->ct = (uint8_t)(pv->ct == AP_CT_NEW				    ? AP_FW_CT_NEW
			  : pv->ct == AP_CT_INVALID || pv->ct == AP_CT_FULL ? AP_FW_CT_INVALID
									    : AP_FW_CT_UNTRACKED);
	p->from = from;
	p->to = to;
	p->iif = iif;
	p->oif = oif;
	p->dscp = fw_dscp(pv, l3hdr);
	p->memo_ctx = fw_memo_ctx(rs, pv, l3hdr, out);
}

/* The rest of what the rules see of @p pv (IP header @p l3hdr) after
 * fw_pkt_ctx(): protocol, ports and addresses. */
static __rte_always_inline void
fw_pkt_rest(const struct ap_mbuf_priv *pv, const uint8_t *l3hdr, struct ap_fw_pkt *p)
{
	const struct ap_pkt_info *pi = &pv->pi;

	p->proto = pi->l4_proto;
	p->frag_later = (pi->frag & AP_PKT_FRAG_LATER) != 0;
	p->sport = pi->l4_sport;
	p->dport = pi->l4_dport;
	if (pi->l3 == AP_L3_IPV4) {
		memcpy(p->src, l3hdr + 12, 4);
		memcpy(p->dst, l3hdr + 16, 4);
	} else {
		memcpy(p->src, l3hdr + 8, 16);
		memcpy(p->dst, l3hdr + 24, 16);
	}
}

/* What the rules see of the packet @p pv with IP header @p l3hdr, going out
 * of L3 interface @p out. */
static __rte_always_inline void
fw_pkt_fill(const struct ap_fw_rs *rs, const struct ap_mbuf_priv *pv, const uint8_t *l3hdr,
	    uint16_t out, struct ap_fw_pkt *p)
{
	fw_pkt_ctx(rs, pv, l3hdr, out, p);
	fw_pkt_rest(pv, l3hdr, p);
}

/* The action for @p p, which matched rule @p rule (-1: none): counters, log.
 * @p now: the TSC, read once for a burst (rdtsc costs more than the rest). */
static __rte_always_inline enum ap_fw_action
fw_decide(const struct ap_fw_rs *rs, const struct ap_fw_pkt *p, int rule, unsigned lcore,
	  uint64_t now)
{
	enum ap_fw_action a;

	if (rule < 0)
		return fw_policy_hit(rs, pidx(rs, p->from), pidx(rs, p->to), lcore);
	a = fw_rule_hit(rs, (unsigned)rule, lcore, now);
	if (unlikely(rs->cfg.rules[rule].log))
		fw_log(rs, p, lcore, rule, now);
	return a;
}

/*
 * The memo. netfilter's rules see every packet of a flow in state new, and so
 * do these; FD.io VPP's stateful ACL classifies a session once. Here a flow's
 * new packets in its original direction are classified once for each
 * combination of what else the answer depends on: the rule that matched
 * (index + 1, 0: none, the zone pair's policy) is kept in the flow
 * (ap_ct_flow_memo(): an IPv4 flow's in the first cache line, with the key)
 * with that combination, and a later packet that shows
 * the same takes the rule without a classification, then gets what
 * fw_decide() gives a classified one (hit counter, last hit, log record,
 * verdict counter, action). A memo whose rule logs is decided in the burst's
 * order with the classified packets, so log records keep the order of the
 * packets; any other is decided at once (fw_decide_memo(): counters alone,
 * whose sums do not depend on the order), from the memo's bits and tables
 * of the ruleset that give a packet's context bits in two reads
 * (fw_memo_ctx()), without filling the packet in for the rules.
 *
 * Why that is exact: rte_acl's answer depends on the ruleset and the search
 * key alone (fw_key_fill). A memo is made and taken only for a packet
 * - that ct found new in its flow's original direction (pv->ct_flow: not a
 *   reply, related, invalid or untracked one), whose state bits here are
 *   new alone (not a later fragment);
 * - of TCP or UDP, with a plain IP header (IPv4 without options, IPv6 with
 *   the transport header next);
 * - of a flow the SYN proxy does not splice (its offsets take the memo's
 *   place);
 * - whose flow is still in the slot ct found it in: no flow left the table
 *   since (n_dels unchanged), so the slot was not given to another flow in
 *   between; a slot given to a new flow starts zeroed (no memo), and a TCP
 *   flow reopened by a new SYN forgets its memo.
 * Every such packet of a flow shows the firewall the same protocol,
 * addresses and ports: the flow key's, in its original direction, with the
 * destination its DNAT gave it (fixed when the flow was made; its source is
 * translated after the firewall), and the ports ct read (the fast parse a
 * plain header takes in ct, and again in ip4/ip6-input, leaves them; the
 * full parse of any other header clears them; ICMP's type and code are not
 * in the key, so ICMP is not memoized). The rest of the key, which may change
 * from one packet to the next (DSCP, ingress and egress interface and zone:
 * routes change), and the ruleset's generation (a reload) are in the memo and
 * compared. The generation is compared in its low 24 bits: a memo would be
 * taken wrongly only by a flow whose memo is a multiple of 16.7 million
 * rulesets old (no packet of it having taken or made one in between).
 *
 * The memo word: iif and oif (6 bits each), from and to (5 bits each; any
 * and self fold to 31 and 30), DSCP (6), rule + 1 (11), generation (24),
 * and a bit set in every memo (a zeroed one is none).
 */
#define FW_MEMO_RULE_SHIFT 28
#define FW_MEMO_RULE	   (UINT64_C(0x7ff) << FW_MEMO_RULE_SHIFT)
#define FW_MEMO_GEN_SHIFT  39
#define FW_MEMO_GEN	   0xffffffu
#define FW_MEMO_SET	   (UINT64_C(1) << 63)

_Static_assert(AP_CFG_MAX_IFACES < 64, "an interface number fits 6 bits");
_Static_assert(AP_CFG_FW_MAX_ZONES <= 30 && (AP_FW_ZONE_ANY & 31) == 31 &&
		       (AP_FW_ZONE_SELF & 31) == 30,
	       "a zone fits 5 bits");
_Static_assert(AP_CFG_FW_MAX_RULES < 0x7ff, "a rule + 1 fits 11 bits");

/* The bits of every memo made under @p rs: its generation, and the set bit. */
static __rte_always_inline uint64_t
fw_memo_gen(const struct ap_fw_rs *rs)
{
	return FW_MEMO_SET | (uint64_t)(rs->gen & FW_MEMO_GEN) << FW_MEMO_GEN_SHIFT;
}

/* The memo word of @p p under @p rs, without a rule. */
static __rte_always_inline uint64_t
fw_memo_word(const struct ap_fw_rs *rs, const struct ap_fw_pkt *p)
{
	return fw_memo_gen(rs) | p->memo_ctx;
}

/* The flow whose memo the packet of @p pv (IP header @p l3hdr) may take or
 * make, or NULL (see above). Read from @p pv alone, before the packet is
 * filled in for the rules, which a memo spares. */
static __rte_always_inline struct ap_ct_flow *
fw_memo_flow(struct ap_ct_table *ct, const struct ap_mbuf_priv *pv, const uint8_t *l3hdr)
{
	const struct ap_pkt_info *pi = &pv->pi;
	struct ap_ct_flow *f;

	if (pv->ct_flow == 0 || ct == NULL || pv->ct_dels != ct->n_dels || pv->ct != AP_CT_NEW ||
	    (pi->frag & AP_PKT_FRAG_LATER) || (pi->l4_proto != 6 && pi->l4_proto != 17))
		return NULL;
	if (pi->l3 == AP_L3_IPV4 ? l3hdr[0] != 0x45 : l3hdr[6] != pi->l4_proto)
		return NULL;
	f = &ct->flows[pv->ct_flow - 1];
	return f->syn == 0 ? f : NULL;
}

enum ap_fw_action
ap_fw_check_slow(const struct ap_mbuf_priv *pv, const uint8_t *l3hdr, uint16_t out)
{
	const struct ap_fw_rs *rs = __atomic_load_n(&ap_fw.rs, __ATOMIC_ACQUIRE);
	struct ap_fw_pkt p;

	fw_pkt_fill(rs, pv, l3hdr, out, &p);
	return fw_decide(rs, &p, ap_fw_rs_classify(rs, &p), rte_lcore_id(), rte_rdtsc());
}

/* The counters of the packets a burst's first pass decided, added up there
 * and written once: verdicts and memo hits (index AP_FW_V_* / AP_FW_S_*),
 * and the run of packets of one rule (the hits of a memo's rule come in
 * runs: a flow's packets, and many flows of one rule), whose verdicts are
 * counted with its hits when the run ends. */
struct fw_tally {
	uint32_t st[AP_FW_S_COUNT];
	unsigned rule1; /* The run's rule + 1, as in a memo; UINT_MAX: no run. */
	uint32_t run;
	enum ap_fw_action action; /* The run's rule's. */
};

/* The run of rule hits of @p t into the ruleset's counters, at TSC @p *now
 * (read here the first time a burst needs it: 0). */
static __rte_always_inline void
fw_tally_run(const struct ap_fw_rs *rs, struct fw_tally *t, unsigned lcore, uint64_t *now)
{
	if (t->run == 0)
		return;
	if (*now == 0)
		*now = rte_rdtsc();
	rs->hits[lcore * rs->cfg.n_rules + t->rule1 - 1] += t->run;
	rs->last_hit[t->rule1 - 1] = *now;
	t->st[AP_FW_V_RULE_ACCEPT + t->action] += t->run;
	t->run = 0;
}

/*
 * fw_decide() for a packet whose memo @p m (context and rule + 1 @p r)
 * decided it, where the rule, if any, does not log: the same counters, into
 * @p t, and action, from the memo's bits. Nothing of it depends on the order
 * of the packets. A packet of the run's rule is only counted in the run.
 */
static __rte_always_inline enum ap_fw_action
fw_decide_memo(const struct ap_fw_rs *rs, uint64_t m, unsigned r, struct fw_tally *t,
	       unsigned lcore, uint64_t *now)
{
	enum ap_fw_action a;

	if (r == 0) {
		a = (enum ap_fw_action)rs->policy[pidx5(rs, (unsigned)(m >> 12) & 31)]
						 [pidx5(rs, (unsigned)(m >> 17) & 31)];
		t->st[AP_FW_V_POLICY_ACCEPT + a]++;
		return a;
	}
	fw_tally_run(rs, t, lcore, now);
	t->rule1 = r;
	t->action = rs->cfg.rules[r - 1].action;
	t->run = 1;
	return t->action;
}

/*
 * The packets of a burst that its first pass left (@p rest, in burst order):
 * classified, or decided by a memo whose rule logs, in packet order, so log
 * records keep the order of the packets. Per family, the packets are decided
 * in order (at), with their rule + 1 (res): from the memo, or from the
 * classification of those in cls.
 */
static __rte_noinline void
fw_check_rest(const struct ap_fw_rs *rs, struct ap_ct_table *ct, struct ap_mbuf_priv **pvs,
	      const uint8_t **l3hdrs, const uint16_t *outs, const uint16_t *rest, unsigned nr,
	      enum ap_fw_action *verdicts, unsigned lcore, uint64_t now)
{
	struct ap_fw_pkt p[AP_FW_BURST];
	struct fw_key keys[AP_FW_BURST];
	struct ap_ct_flow *memo[AP_FW_BURST]; /* a memo to make once classified */
	const uint8_t *data[2][AP_FW_BURST];
	uint32_t res[2][AP_FW_BURST], got[AP_FW_BURST];
	uint16_t at[2][AP_FW_BURST], cls[2][AP_FW_BURST];
	unsigned nf[2] = {0, 0}, nc[2] = {0, 0};

	for (unsigned j = 0; j < nr; j++) {
		const unsigned i = rest[j];
		struct ap_mbuf_priv *pv = pvs[i];
		struct ap_ct_flow *fl = fw_memo_flow(ct, pv, l3hdrs[i]);
		unsigned f, k;
		uint64_t m;

		fw_pkt_fill(rs, pv, l3hdrs[i], outs[i], &p[i]);
		f = p[i].family == 6;
		k = nf[f]++;
		at[f][k] = (uint16_t)i;
		memo[i] = fl;
		if (fl != NULL) {
			memcpy(&m, ap_ct_flow_memo(fl), sizeof(m));
			if (((m ^ fw_memo_word(rs, &p[i])) & ~FW_MEMO_RULE) == 0) {
				ap_fw.stats[lcore * AP_FW_S_COUNT + AP_FW_S_MEMO]++;
				res[f][k] = (uint32_t)((m & FW_MEMO_RULE) >> FW_MEMO_RULE_SHIFT);
				memo[i] = NULL;
				continue;
			}
		}
		fw_key_fill(&p[i], &keys[i]);
		data[f][nc[f]] = (const uint8_t *)&keys[i];
		cls[f][nc[f]++] = (uint16_t)k;
	}
	for (unsigned f = 0; f < 2; f++) {
		if (nc[f] > 0) {
			fw_classify(&rs->acl[f], data[f], got, nc[f]);
			for (unsigned c = 0; c < nc[f]; c++)
				res[f][cls[f][c]] = got[c];
		}
		for (unsigned k = 0; k < nf[f]; k++) {
			const unsigned i = at[f][k];

			verdicts[i] = fw_decide(rs, &p[i], (int)res[f][k] - 1, lcore, now);
			if (memo[i] != NULL) {
				uint64_t m = fw_memo_word(rs, &p[i]) |
					     (uint64_t)res[f][k] << FW_MEMO_RULE_SHIFT;

				memcpy(ap_ct_flow_memo(memo[i]), &m, sizeof(m));
			}
		}
	}
}

void
ap_fw_check_burst(struct ap_ct_table *ct, struct ap_mbuf_priv **pvs, const uint8_t **l3hdrs,
		  const uint16_t *outs, unsigned n, enum ap_fw_action *verdicts)
{
	const struct ap_fw_rs *rs = __atomic_load_n(&ap_fw.rs, __ATOMIC_ACQUIRE);
	const unsigned lcore = rte_lcore_id();
	const uint64_t gen = fw_memo_gen(rs);
	uint64_t *st = &ap_fw.stats[lcore * AP_FW_S_COUNT];
	uint64_t now = 0;
	struct fw_tally t = {.rule1 = UINT_MAX};
	uint32_t established = 0, memos = 0;
	uint16_t rest[AP_FW_BURST];
	unsigned nr = 0;

	/* The first pass decides what ct's state or a memo whose rule does
	 * not log decides, at once; the rest go on to fw_check_rest(). */
	for (unsigned i = 0; i < n; i++) {
		struct ap_mbuf_priv *pv = pvs[i];
		struct ap_ct_flow *fl;
		uint64_t m;

		verdicts[i] = AP_FW_ACCEPT;
		if (pv->fw_done)
			continue;
		pv->fw_done = 1;
		if (likely(pv->ct == AP_CT_ESTABLISHED || pv->ct == AP_CT_RELATED)) {
			established++;
			continue;
		}
		fl = fw_memo_flow(ct, pv, l3hdrs[i]);
		if (fl != NULL) {
			memcpy(&m, ap_ct_flow_memo(fl), sizeof(m));
			if (((m ^ (gen | fw_memo_ctx(rs, pv, l3hdrs[i], outs[i]))) &
			     ~FW_MEMO_RULE) == 0) {
				const unsigned r =
					(unsigned)((m & FW_MEMO_RULE) >> FW_MEMO_RULE_SHIFT);

				/* The run's rule: it does not log, and its
				 * action is known. */
				if (r == t.rule1) {
					memos++;
					t.run++;
					verdicts[i] = t.action;
					continue;
				}
				if (r == 0 || likely(!rs->cfg.rules[r - 1].log)) {
					memos++;
					verdicts[i] = fw_decide_memo(rs, m, r, &t, lcore, &now);
					continue;
				}
			}
		}
		rest[nr++] = (uint16_t)i;
	}
	t.st[AP_FW_V_ESTABLISHED] += established;
	t.st[AP_FW_S_MEMO] += memos;
	fw_tally_run(rs, &t, lcore, &now);
	for (unsigned s = 0; s < AP_FW_S_COUNT; s++)
		st[s] += t.st[s];
	if (nr > 0)
		fw_check_rest(rs, ct, pvs, l3hdrs, outs, rest, nr, verdicts, lcore,
			      now ? now : rte_rdtsc());
}

/* The control plane. */

/* Zones of the interfaces and the policy matrix of @p rs. */
static void
rs_zones(struct ap_fw_rs *rs)
{
	const struct ap_cfg_fw *fw = &rs->cfg;
	const unsigned nz = fw->n_zones;

	for (unsigned f = 0; fw_ifcfg && f < fw_ifcfg->n_ifaces; f++)
		if (fw_l3_of_iface[f] < AP_L3_MAX)
			rs->ifno_of[fw_l3_of_iface[f]] = (uint8_t)(f + 1);
	for (unsigned z = 0; z < nz; z++)
		for (unsigned k = 0; k < fw->zones[z].n_ifaces; k++)
			for (unsigned f = 0; f < fw_ifcfg->n_ifaces; f++)
				if (strcmp(fw_ifcfg->ifaces[f].name, fw->zones[z].ifaces[k]) == 0)
					rs->zone_of[fw_l3_of_iface[f]] = (uint8_t)z;
	for (unsigned l3 = 0; l3 <= AP_L3_MAX; l3++) {
		const bool any = l3 == AP_L3_MAX;

		rs->in_ctx[l3] = fw_ctx_pack(0, any ? AP_FW_ZONE_ANY : rs->zone_of[l3], 0,
					     any ? 0 : rs->ifno_of[l3], 0);
		rs->out_ctx[l3] = fw_ctx_pack(0, 0, any ? AP_FW_ZONE_ANY : rs->zone_of[l3], 0,
					      any ? 0 : rs->ifno_of[l3]);
	}
	rs->out_ctx[AP_L3_MAX + 1] = fw_ctx_pack(0, 0, AP_FW_ZONE_SELF, 0, 0);
	/* The first policy that covers a pair decides, else the default. */
	for (unsigned a = 0; a < nz + 2; a++)
		for (unsigned b = 0; b < nz + 2; b++) {
			uint8_t from = a < nz ? (uint8_t)a : AP_FW_ZONE_ANY;
			uint8_t to = b < nz    ? (uint8_t)b
				     : b == nz ? AP_FW_ZONE_ANY
					       : AP_FW_ZONE_SELF;

			rs->policy[a][b] = (uint8_t)fw->default_action;
			if (a == nz + 1)
				continue; /* nothing comes from self here */
			for (unsigned p = 0; p < fw->n_policies; p++) {
				const struct ap_cfg_fw_policy *pol = &fw->policies[p];

				if (zone_ok(pol->from_zone, from) && zone_ok(pol->to_zone, to)) {
					rs->policy[a][b] = (uint8_t)pol->action;
					break;
				}
			}
		}
}

static bool
same_set(const struct ap_cfg_fw *a, int16_t sa, const struct ap_cfg_fw *b, int16_t sb)
{
	const struct ap_cfg_fw_set *x, *y;

	if (sa < 0 || sb < 0)
		return sa < 0 && sb < 0;
	x = &a->sets[sa];
	y = &b->sets[sb];
	if (x->ports != y->ports || x->n != y->n)
		return false;
	if (x->ports)
		return memcmp(&a->port_lo[x->first], &b->port_lo[y->first],
			      x->n * sizeof(a->port_lo[0])) == 0 &&
		       memcmp(&a->port_hi[x->first], &b->port_hi[y->first],
			      x->n * sizeof(a->port_hi[0])) == 0;
	return memcmp(&a->addrs[x->first], &b->addrs[y->first], x->n * sizeof(a->addrs[0])) == 0;
}

/* Rules that match the same packets with the same outcome (positions aside). */
static bool
same_rule(const struct ap_cfg_fw *a, const struct ap_cfg_fw_rule *x, const struct ap_cfg_fw *b,
	  const struct ap_cfg_fw_rule *y)
{
	return x->from_zone == y->from_zone && x->to_zone == y->to_zone &&
	       x->iif_idx == y->iif_idx && x->oif_idx == y->oif_idx &&
	       strcmp(x->from, y->from) == 0 && strcmp(x->to, y->to) == 0 && x->proto == y->proto &&
	       x->icmp_type == y->icmp_type && x->ct_state == y->ct_state && x->dscp == y->dscp &&
	       x->action == y->action && x->log == y->log && strcmp(x->comment, y->comment) == 0 &&
	       same_set(a, x->src, b, y->src) && same_set(a, x->dst, b, y->dst) &&
	       same_set(a, x->sport, b, y->sport) && same_set(a, x->dport, b, y->dport);
}

/* Hit counters of @p old's rules carried to the same rules in @p rs (on the
 * main lcore's row: workers count on theirs). */
static void
carry_hits(struct ap_fw_rs *rs, const struct ap_fw_rs *old)
{
	const unsigned no = old->cfg.n_rules, main = rte_get_main_lcore();
	bool taken[AP_CFG_FW_MAX_RULES] = {false};

	for (unsigned i = 0; i < rs->cfg.n_rules; i++)
		for (unsigned j = 0; j < no; j++) {
			uint64_t sum = 0;

			if (taken[j] ||
			    !same_rule(&rs->cfg, &rs->cfg.rules[i], &old->cfg, &old->cfg.rules[j]))
				continue;
			taken[j] = true;
			for (unsigned l = 0; l < RTE_MAX_LCORE; l++)
				sum += old->hits[l * no + j];
			rs->hits[main * rs->cfg.n_rules + i] = sum;
			rs->last_hit[i] = old->last_hit[j];
			break;
		}
}

static void
free_retired(bool wait)
{
	if (!fw_retired)
		return;
	if (ap_dp_qsbr) {
		if (wait)
			rte_rcu_qsbr_synchronize(ap_dp_qsbr, RTE_QSBR_THRID_INVALID);
		else if (rte_rcu_qsbr_check(ap_dp_qsbr, fw_retired_token, false) != 1)
			return;
	}
	ap_fw_rs_free(fw_retired);
	fw_retired = NULL;
}

int
ap_fw_reload(const struct ap_cfg_fw *fw, char *err, size_t err_len)
{
	struct ap_fw_rs *rs, *old = ap_fw.rs;

	if (!ap_fw.enabled)
		return 0;
	rs = ap_fw_rs_build(fw, err, err_len);
	if (!rs)
		return -EINVAL;
	rs_zones(rs);
	carry_hits(rs, old);
	/* One ruleset waits at a time: an older one goes first. */
	free_retired(true);
	__atomic_store_n(&ap_fw.rs, rs, __ATOMIC_RELEASE);
	fw_retired = old;
	if (ap_dp_qsbr)
		fw_retired_token = rte_rcu_qsbr_start(ap_dp_qsbr);
	AP_LOG_INFO(MOD,
		    "rules applied: %u rules, %u IPv4 and %u IPv6 ACL entries in %" PRIu64 " us",
		    rs->cfg.n_rules, rs->entries[0], rs->entries[1], rs->build_us);
	return 0;
}

int
ap_fw_start(const struct ap_config *cfg, const uint16_t *l3_of_iface, char *err, size_t err_len)
{
	memset(&ap_fw, 0, sizeof(ap_fw));
	memset(&fw_recent, 0, sizeof(fw_recent));
	if (!cfg->firewall.enabled)
		return 0;
	fw_ifcfg = cfg;
	memcpy(fw_l3_of_iface, l3_of_iface, sizeof(fw_l3_of_iface[0]) * cfg->n_ifaces);
	ap_fw.stats = rte_zmalloc("ap_fw_stats", sizeof(uint64_t) * RTE_MAX_LCORE * AP_FW_S_COUNT,
				  RTE_CACHE_LINE_SIZE);
	ap_fw.log_window = rte_zmalloc("ap_fw_logw", sizeof(uint64_t) * RTE_MAX_LCORE, 0);
	ap_fw.log_count = rte_zmalloc("ap_fw_logc", sizeof(uint32_t) * RTE_MAX_LCORE, 0);
	ap_fw.log_ring = rte_ring_create_elem("ap_fw_log", sizeof(struct ap_fw_log_rec),
					      FW_LOG_RING, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (!ap_fw.stats || !ap_fw.log_window || !ap_fw.log_count || !ap_fw.log_ring) {
		ap_fw_stop();
		snprintf(err, err_len, "firewall: out of memory for its counters");
		return -ENOMEM;
	}
	ap_fw.rs = ap_fw_rs_build(&cfg->firewall, err, err_len);
	if (!ap_fw.rs) {
		ap_fw_stop();
		return -EINVAL;
	}
	rs_zones(ap_fw.rs);
	ap_fw.enabled = true;
	return 0;
}

void
ap_fw_stop(void)
{
	free_retired(true);
	ap_fw_rs_free(ap_fw.rs);
	rte_free(ap_fw.stats);
	rte_free(ap_fw.log_window);
	rte_free(ap_fw.log_count);
	rte_ring_free(ap_fw.log_ring);
	memset(&ap_fw, 0, sizeof(ap_fw));
}

static const char *
proto_name(uint8_t proto, char *b, size_t len)
{
	switch (proto) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58:
		return "icmpv6";
	default:
		snprintf(b, len, "%u", proto);
		return b;
	}
}

static const char *
ct_name(uint8_t bit)
{
	for (unsigned b = 0; b < 5; b++)
		if (bit == (1u << b))
			return ct_names[b];
	return "?";
}

void
ap_fw_poll(void)
{
	struct ap_fw_log_rec recs[32];
	const struct ap_fw_rs *rs = ap_fw.rs;
	unsigned n;

	if (!ap_fw.enabled)
		return;
	free_retired(false);
	while ((n = rte_ring_sc_dequeue_burst_elem(ap_fw.log_ring, recs, sizeof(recs[0]),
						   RTE_DIM(recs), NULL)) > 0) {
		struct timespec ts;
		uint64_t now = rte_rdtsc();
		double wall;

		clock_gettime(CLOCK_REALTIME, &ts);
		wall = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
		for (unsigned i = 0; i < n; i++) {
			const struct ap_fw_log_rec *r = &recs[i];
			unsigned slot = (fw_recent.head + fw_recent.n) % FW_LOG_RECENT;
			/* The rule may be of a ruleset replaced since. */
			const char *comment =
				r->gen == (uint8_t)rs->gen && r->rule < rs->cfg.n_rules
					? rs->cfg.rules[r->rule].comment
					: "";
			char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], pb[8];

			if (fw_recent.n == FW_LOG_RECENT)
				fw_recent.head = (fw_recent.head + 1) % FW_LOG_RECENT;
			else
				fw_recent.n++;
			fw_recent.rec[slot] = *r;
			fw_recent.wall[slot] =
				wall - (double)(now - r->tsc) / (double)rte_get_tsc_hz();
			snprintf(fw_recent.comment[slot], sizeof(fw_recent.comment[slot]), "%s",
				 comment);
			inet_ntop(r->family == 4 ? AF_INET : AF_INET6, r->src, s, sizeof(s));
			inet_ntop(r->family == 4 ? AF_INET : AF_INET6, r->dst, d, sizeof(d));
			AP_LOG_INFO(MOD, "rule %u%s%s: %s %s %s:%u -> %s:%u dscp %u ct %s", r->rule,
				    comment[0] ? " " : "", comment, action_names[r->action],
				    proto_name(r->proto, pb, sizeof(pb)), s, r->sport, d, r->dport,
				    r->dscp, ct_name(r->ct));
		}
	}
}

static const char *
zone_name(const struct ap_cfg_fw *fw, uint8_t z)
{
	if (z == AP_FW_ZONE_ANY)
		return "any";
	if (z == AP_FW_ZONE_SELF)
		return "self";
	return z < fw->n_zones ? fw->zones[z].name : "none";
}

static json_t *
set_json(const struct ap_cfg_fw *fw, int16_t set)
{
	const struct ap_cfg_fw_set *s = &fw->sets[set];
	json_t *arr;
	char b[64];

	if (s->name[0] != '\0')
		return json_string(s->name);
	arr = json_array();
	for (unsigned i = s->first; i < s->first + s->n; i++) {
		if (s->ports) {
			if (fw->port_lo[i] == fw->port_hi[i])
				snprintf(b, sizeof(b), "%u", fw->port_lo[i]);
			else
				snprintf(b, sizeof(b), "%u-%u", fw->port_lo[i], fw->port_hi[i]);
		} else {
			ap_cfg_prefix_fmt(&fw->addrs[i], true, b, sizeof(b));
		}
		json_array_append_new(arr, json_string(b));
	}
	return arr;
}

static uint64_t
stat_sum(unsigned s)
{
	uint64_t n = 0;

	for (unsigned l = 0; l < RTE_MAX_LCORE; l++)
		n += ap_fw.stats[l * AP_FW_S_COUNT + s];
	return n;
}

json_t *
ap_fw_json(void)
{
	static const char *const v_names[] = {"established",  "rule_accept",   "rule_drop",
					      "rule_reject",  "policy_accept", "policy_drop",
					      "policy_reject"};
	const struct ap_fw_rs *rs = ap_fw.rs;
	const struct ap_cfg_fw *fw;
	json_t *zones, *policies, *rules, *verdicts;
	uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();

	if (!ap_fw.enabled)
		return json_pack("{s:b}", "enabled", false);
	fw = &rs->cfg;
	zones = json_array();
	policies = json_array();
	rules = json_array();
	verdicts = json_object();
	for (unsigned z = 0; z < fw->n_zones; z++) {
		json_t *ifs = json_array();

		for (unsigned k = 0; k < fw->zones[z].n_ifaces; k++)
			json_array_append_new(ifs, json_string(fw->zones[z].ifaces[k]));
		json_array_append_new(zones, json_pack("{s:s, s:o}", "name", fw->zones[z].name,
						       "interfaces", ifs));
	}
	for (unsigned p = 0; p < fw->n_policies; p++)
		json_array_append_new(policies,
				      json_pack("{s:s, s:s, s:s}", "from",
						zone_name(fw, fw->policies[p].from_zone), "to",
						zone_name(fw, fw->policies[p].to_zone), "action",
						action_names[fw->policies[p].action]));
	for (unsigned i = 0; i < fw->n_rules; i++) {
		const struct ap_cfg_fw_rule *r = &fw->rules[i];
		uint64_t hits = 0;
		json_t *j;

		for (unsigned l = 0; l < RTE_MAX_LCORE; l++)
			hits += rs->hits[l * fw->n_rules + i];
		j = json_pack("{s:i, s:s, s:s, s:s, s:I}", "index", i, "from",
			      zone_name(fw, r->from_zone), "to", zone_name(fw, r->to_zone),
			      "action", action_names[r->action], "hits", (json_int_t)hits);
		if (r->proto)
			json_object_set_new(j, "proto", json_integer(r->proto));
		if (r->src >= 0)
			json_object_set_new(j, "src", set_json(fw, r->src));
		if (r->dst >= 0)
			json_object_set_new(j, "dst", set_json(fw, r->dst));
		if (r->sport >= 0)
			json_object_set_new(j, "sport", set_json(fw, r->sport));
		if (r->dport >= 0)
			json_object_set_new(j, "dport", set_json(fw, r->dport));
		if (r->icmp_type >= 0)
			json_object_set_new(j, "icmp_type", json_integer(r->icmp_type));
		if (r->iif_idx >= 0)
			json_object_set_new(j, "iif", json_string(r->iif));
		if (r->oif_idx >= 0)
			json_object_set_new(j, "oif", json_string(r->oif));
		if (r->ct_state) {
			json_t *cs = json_array();

			for (unsigned b = 0; b < 5; b++)
				if (r->ct_state & (1u << b))
					json_array_append_new(cs, json_string(ct_names[b]));
			json_object_set_new(j, "ct_state", cs);
		}
		if (r->dscp >= 0)
			json_object_set_new(j, "dscp", json_integer(r->dscp));
		if (r->log)
			json_object_set_new(j, "log", json_true());
		if (r->comment[0])
			json_object_set_new(j, "comment", json_string(r->comment));
		if (rs->last_hit[i])
			json_object_set_new(
				j, "last_hit_s",
				json_integer((json_int_t)((now - rs->last_hit[i]) / hz)));
		json_array_append_new(rules, j);
	}
	for (unsigned v = 0; v < AP_FW_V_COUNT; v++)
		json_object_set_new(verdicts, v_names[v], json_integer((json_int_t)stat_sum(v)));
	return json_pack("{s:b, s:s, s:o, s:o, s:o, s:o, s:I, s:{s:i, s:i, s:i, s:i, s:I}}",
			 "enabled", true, "default", action_names[fw->default_action], "zones",
			 zones, "policies", policies, "rules", rules, "verdicts", verdicts,
			 "memo_hits", (json_int_t)stat_sum(AP_FW_S_MEMO), "acl", "ipv4_entries",
			 rs->entries[0], "ipv6_entries", rs->entries[1], "ipv4_contexts",
			 rs->acl[0].n, "ipv6_contexts", rs->acl[1].n, "build_us",
			 (json_int_t)rs->build_us);
}

json_t *
ap_fw_log_json(void)
{
	const struct ap_cfg_fw *fw;
	json_t *recs;

	if (!ap_fw.enabled)
		return json_pack("{s:b, s:[]}", "enabled", false, "records");
	fw = &ap_fw.rs->cfg;
	recs = json_array();
	for (unsigned k = 0; k < fw_recent.n; k++) {
		unsigned slot = (fw_recent.head + k) % FW_LOG_RECENT;
		const struct ap_fw_log_rec *r = &fw_recent.rec[slot];
		char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], pb[8];
		json_t *j;

		inet_ntop(r->family == 4 ? AF_INET : AF_INET6, r->src, s, sizeof(s));
		inet_ntop(r->family == 4 ? AF_INET : AF_INET6, r->dst, d, sizeof(d));
		j = json_pack("{s:f, s:i, s:s, s:s, s:s, s:i, s:s, s:i, s:i, s:s, s:s, s:s}",
			      "time", fw_recent.wall[slot], "rule", r->rule, "action",
			      action_names[r->action], "proto",
			      proto_name(r->proto, pb, sizeof(pb)), "src", s, "sport", r->sport,
			      "dst", d, "dport", r->dport, "dscp", r->dscp, "ct", ct_name(r->ct),
			      "from", zone_name(fw, r->from), "to", zone_name(fw, r->to));
		if (fw_recent.comment[slot][0])
			json_object_set_new(j, "comment", json_string(fw_recent.comment[slot]));
		json_array_append_new(recs, j);
	}
	return json_pack("{s:b, s:I, s:I, s:o}", "enabled", true, "logged",
			 (json_int_t)stat_sum(AP_FW_S_LOGGED), "limited",
			 (json_int_t)stat_sum(AP_FW_S_LOG_LIMITED), "records", recs);
}
