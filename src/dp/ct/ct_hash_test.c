/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flow table's hash (ct_hash.h) against a reference (an array of which
 * keys are in): adds, lookups and removals of many random keys, a table
 * filled until it refuses (moves made room on the way; a refusal changes
 * nothing), keys chosen for one primary bucket (lookups find them in the
 * secondaries), bulk lookups equal to single ones, the walk with removals,
 * and a conntrack table's translated flows (a reply key finds its flow with
 * AP_CT_NAT_KEY, and goes with it).
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include <rte_hash_crc.h>

#include "dp/core/eal_test.h"
#include "dp/core/dp_core.h"
#include "dp/ct/ct.h"
#include "dp/ct/ct_hash.h"

static void
setup(void)
{
	cr_assert_geq(ap_test_eal_init("ct_hash_test", "256"), 0, "EAL init failed");
}

static void
teardown(void)
{
	ap_eal_cleanup();
}

TestSuite(ct_hash, .init = setup, .fini = teardown);

/* The keys of a test: 64-bit words, value i is keys[i]; a key's hash is
 * what sig_of() says (a real hash, or one made to collide). */
static uint64_t *keys;
static uint32_t (*sig_of)(uint64_t k);

static uint32_t
crc_sig(uint64_t k)
{
	return rte_hash_crc_8byte(k, 0x12345678);
}

static bool
eq(const void *ctx, uint32_t val, const void *key)
{
	RTE_SET_USED(ctx);
	return keys[val] == *(const uint64_t *)key;
}

static void
pf(const void *ctx, uint32_t val)
{
	RTE_SET_USED(ctx);
	rte_prefetch0(&keys[val]);
}

static int64_t
lookup(const struct ap_ct_hash *h, uint32_t i)
{
	return ap_ct_hash_lookup(h, sig_of(keys[i]), &keys[i], eq, NULL);
}

static uint64_t
rnd64(void)
{
	return (uint64_t)random() << 42 ^ (uint64_t)random() << 21 ^ (uint64_t)random();
}

/* @p n random keys (seed @p seed) hashed by @p fn. */
static void
keys_new(uint32_t n, unsigned seed, uint32_t (*fn)(uint64_t))
{
	srandom(seed);
	keys = malloc(n * sizeof(*keys));
	sig_of = fn;
	cr_assert_not_null(keys);
	for (uint32_t i = 0; i < n; i++)
		keys[i] = rnd64();
}

/* The hash of value @p val's key: keys[val]'s. */
static uint32_t
key_sig(uint32_t val)
{
	return sig_of(keys[val]);
}

/* Every bucket's count of keys out in their secondary is right, every
 * entry sits in one of its two buckets (with @p sig_fn, the hash of a
 * value's key: the buckets and tag of that hash, the one it says it is in),
 * and the entries number count. */
static void
check_invariants(const struct ap_ct_hash *h, uint32_t (*sig_fn)(uint32_t val))
{
	uint32_t nb = h->nb, n = 0;
	uint32_t *out = calloc(nb, sizeof(*out));

	cr_assert_not_null(out);
	for (uint32_t b = 0; b < nb; b++)
		for (unsigned i = 0; i < AP_CT_HASH_SLOTS; i++) {
			const struct ap_ct_hash_bucket *bk = &h->b[b];
			bool sec = (bk->meta >> (AP_CT_HASH_SEC_SHIFT + i)) & 1;
			uint32_t prim = sec ? ap_ct_hash_alt(h, b, bk->tag[i]) : b;

			if (!(bk->meta & (1u << i))) {
				cr_assert(!sec, "a free slot marked secondary");
				continue;
			}
			n++;
			if (sig_fn != NULL) {
				uint32_t sig = sig_fn(bk->val[i]);

				cr_assert_eq(bk->tag[i], ap_ct_hash_tag(sig), "another's tag");
				cr_assert_eq(prim, ap_ct_hash_prim(h, sig),
					     "an entry in neither of its buckets");
			}
			if (sec)
				out[prim]++;
		}
	for (uint32_t b = 0; b < nb; b++)
		cr_assert_eq(ap_ct_hash_out(&h->b[b]), out[b], "bucket %u counts %u out, has %u", b,
			     ap_ct_hash_out(&h->b[b]), out[b]);
	cr_assert_eq(n, h->count);
	free(out);
}

Test(ct_hash, random_keys_against_a_reference)
{
	const uint32_t n = 100000;
	struct ap_ct_hash h;
	bool *in = calloc(n, sizeof(*in));

	cr_assert_not_null(in);
	keys_new(n, 1, crc_sig);
	cr_assert_eq(ap_ct_hash_init(&h, n, SOCKET_ID_ANY), 0);
	for (uint32_t i = 0; i < n; i++) {
		cr_assert_eq(ap_ct_hash_add(&h, sig_of(keys[i]), i), 0, "add %u", i);
		in[i] = true;
	}
	cr_expect_eq(h.count, n);
	for (uint32_t i = 0; i < n; i++)
		cr_assert_eq(lookup(&h, i), i);
	check_invariants(&h, key_sig);
	/* Rounds of removals and adds of random keys. */
	for (unsigned round = 0; round < 5; round++) {
		for (uint32_t k = 0; k < n / 2; k++) {
			uint32_t i = (uint32_t)random() % n;

			if (in[i]) {
				cr_assert_eq(ap_ct_hash_del(&h, sig_of(keys[i]), i), 0);
				in[i] = false;
			} else {
				cr_assert_eq(ap_ct_hash_del(&h, sig_of(keys[i]), i), -ENOENT);
				keys[i] = rnd64(); /* a new key in that place */
				cr_assert_eq(ap_ct_hash_add(&h, sig_of(keys[i]), i), 0);
				in[i] = true;
			}
		}
		for (uint32_t i = 0; i < n; i++)
			cr_assert_eq(lookup(&h, i), in[i] ? (int64_t)i : -1, "round %u, key %u",
				     round, i);
		check_invariants(&h, key_sig);
	}
	ap_ct_hash_fini(&h);
	free(keys);
	free(in);
}

Test(ct_hash, fills_until_full_then_refuses_without_a_change)
{
	const uint32_t n = 60000;
	struct ap_ct_hash h;
	uint32_t added = 0, slots;

	keys_new(n, 2, crc_sig);
	/* Room for 30000 (8.5 of 10 slots): 3530 buckets, 35300 slots. */
	cr_assert_eq(ap_ct_hash_init(&h, 30000, SOCKET_ID_ANY), 0);
	slots = h.nb * AP_CT_HASH_SLOTS;
	cr_expect_eq(h.nb, 3530);
	while (added < n && ap_ct_hash_add(&h, sig_of(keys[added]), added) == 0)
		added++;
	cr_expect_lt(added, n, "a full table refuses");
	cr_expect_eq(h.full, 1);
	cr_expect_gt(h.displaced, 0, "entries moved to make room");
	/* Moves fill most of the table before it refuses (cuckoo hashing with
	 * buckets of 10 reaches well past 90%). */
	cr_expect_gt(added, slots * 9 / 10, "%u of %u slots", added, slots);
	cr_expect_eq(h.count, added);
	check_invariants(&h, key_sig);
	for (uint32_t i = 0; i < added; i++)
		cr_assert_eq(lookup(&h, i), i);
	/* More refusals leave every key where it can be found. */
	for (uint32_t i = added; i < added + 100 && i < n; i++)
		if (ap_ct_hash_add(&h, sig_of(keys[i]), i) == 0) {
			/* Another may fit where the first did not; take it out. */
			cr_assert_eq(ap_ct_hash_del(&h, sig_of(keys[i]), i), 0);
		} else {
			cr_expect_eq(lookup(&h, i), -1);
		}
	cr_expect_eq(h.count, added);
	check_invariants(&h, key_sig);
	for (uint32_t i = 0; i < added; i++)
		cr_assert_eq(lookup(&h, i), i);
	ap_ct_hash_fini(&h);
	free(keys);
}

/* check_invariants(), every key of the @p n not zeroed (in no table) found,
 * then the table and the keys freed. */
static void
check_and_free(struct ap_ct_hash *h, uint32_t n)
{
	check_invariants(h, key_sig);
	for (uint32_t i = 0; i < n; i++)
		if (keys[i] != 0)
			cr_assert_eq(lookup(h, i), i);
	ap_ct_hash_fini(h);
	free(keys);
}

/* @p n random keys (seed @p seed) whose primary bucket in @p h is @p bkt
 * (their secondaries differ). */
static void
keys_of_bucket(const struct ap_ct_hash *h, uint32_t n, unsigned seed, uint32_t bkt)
{
	keys_new(n, seed, crc_sig);
	for (uint32_t i = 0; i < n; i++)
		while (ap_ct_hash_prim(h, crc_sig(keys[i])) != bkt)
			keys[i] = rnd64();
}

Test(ct_hash, keys_of_one_primary_bucket)
{
	const uint32_t n = 200, bkt = 0x123;
	struct ap_ct_hash h;
	uint32_t in_prim = 0;

	cr_assert_eq(ap_ct_hash_init(&h, 10000, SOCKET_ID_ANY), 0);
	keys_of_bucket(&h, n, 3, bkt);
	for (uint32_t i = 0; i < n; i++)
		cr_assert_eq(ap_ct_hash_add(&h, sig_of(keys[i]), i), 0);
	for (unsigned i = 0; i < AP_CT_HASH_SLOTS; i++)
		in_prim += (h.b[bkt].meta >> i) & 1;
	cr_expect_eq(in_prim, AP_CT_HASH_SLOTS, "the primary is full");
	cr_expect_eq(ap_ct_hash_out(&h.b[bkt]), n - AP_CT_HASH_SLOTS, "the rest are out");
	check_invariants(&h, key_sig);
	for (uint32_t i = 0; i < n; i++)
		cr_assert_eq(lookup(&h, i), i);
	/* The ones in the primary go: the rest still found, the count kept. */
	for (unsigned i = 0; i < AP_CT_HASH_SLOTS; i++) {
		uint32_t v = h.b[bkt].val[i];

		cr_assert_eq(ap_ct_hash_del(&h, sig_of(keys[v]), v), 0);
		keys[v] = 0; /* in no table */
	}
	check_and_free(&h, n);
}

Test(ct_hash, a_primary_counts_out_no_more_than_it_can)
{
	const uint32_t n = AP_CT_HASH_OUT_MAX + AP_CT_HASH_SLOTS + 100, bkt = 0x321;
	struct ap_ct_hash h;
	uint32_t added = 0;

	cr_assert_eq(ap_ct_hash_init(&h, 50000, SOCKET_ID_ANY), 0);
	keys_of_bucket(&h, n, 7, bkt);
	for (uint32_t i = 0; i < n; i++)
		if (ap_ct_hash_add(&h, sig_of(keys[i]), i) == 0)
			added++;
		else
			keys[i] = 0; /* refused: in no table */
	/* The primary full, its count at the most, every other key refused. */
	cr_expect_eq(added, AP_CT_HASH_OUT_MAX + AP_CT_HASH_SLOTS);
	cr_expect_eq(ap_ct_hash_out(&h.b[bkt]), AP_CT_HASH_OUT_MAX);
	cr_expect_eq(h.full, n - added);
	check_and_free(&h, n);
}

Test(ct_hash, bulk_lookup_equals_single_lookups)
{
	const uint32_t n = 20000;
	struct ap_ct_hash h;

	for (unsigned pass = 0; pass < 2; pass++) {
		cr_assert_eq(ap_ct_hash_init(&h, n, SOCKET_ID_ANY), 0);
		if (pass == 0)
			keys_new(2 * n, 4, crc_sig);
		else
			keys_of_bucket(&h, 600, 5, 0x123);
		/* Half the keys in (a few in the one-bucket pass). */
		for (uint32_t i = 0; i < (pass == 0 ? n : 300); i++)
			cr_assert_eq(ap_ct_hash_add(&h, sig_of(keys[2 * i]), 2 * i), 0);
		for (unsigned round = 0; round < 2000; round++) {
			const void *kp[AP_CT_HASH_BULK_MAX];
			uint32_t sigs[AP_CT_HASH_BULK_MAX], vals[AP_CT_HASH_BULK_MAX], idx[64];
			unsigned m = 1 + (unsigned)random() % AP_CT_HASH_BULK_MAX;
			uint64_t hits;

			for (unsigned k = 0; k < m; k++) {
				idx[k] = (uint32_t)random() % (pass == 0 ? 2 * n : 600);
				kp[k] = &keys[idx[k]];
				sigs[k] = sig_of(keys[idx[k]]);
			}
			hits = ap_ct_hash_lookup_bulk(&h, kp, sigs, m, vals, eq, pf, NULL);
			for (unsigned k = 0; k < m; k++) {
				int64_t one = lookup(&h, idx[k]);

				cr_assert_eq((hits >> k) & 1, one >= 0, "key %u of %u", k, m);
				if (one >= 0)
					cr_assert_eq(vals[k], one);
				cr_assert_eq(one >= 0, idx[k] % 2 == 0);
			}
			if (m < 64)
				cr_assert_eq(hits >> m, 0);
		}
		ap_ct_hash_fini(&h);
		free(keys);
	}
}

Test(ct_hash, walk_with_removals)
{
	const uint32_t n = 5000;
	struct ap_ct_hash h;
	uint8_t *seen = calloc(n, 1);
	uint32_t pos = 0, val, walked = 0;

	cr_assert_not_null(seen);
	keys_new(n, 6, crc_sig);
	cr_assert_eq(ap_ct_hash_init(&h, n, SOCKET_ID_ANY), 0);
	for (uint32_t i = 0; i < n; i++)
		cr_assert_eq(ap_ct_hash_add(&h, sig_of(keys[i]), i), 0);
	while (ap_ct_hash_next(&h, &pos, &val)) {
		cr_assert_lt(val, n);
		cr_assert_eq(seen[val], 0, "value %u walked twice", val);
		seen[val] = 1;
		walked++;
		cr_assert_eq(ap_ct_hash_del(&h, sig_of(keys[val]), val), 0);
	}
	cr_expect_eq(walked, n);
	cr_expect_eq(h.count, 0);
	check_invariants(&h, key_sig);
	ap_ct_hash_fini(&h);
	free(keys);
	free(seen);
}

/* A conntrack table's translated flows: two keys each in its hash. */

static uint16_t
egress_is_1(uint32_t dst_be)
{
	RTE_SET_USED(dst_be);
	return 1;
}

/* The key and hash of a UDP packet @p src:@p sp -> @p dst:@p dp. */
static void
pkt_key(uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp, struct ap_ct_pkt *cp, uint8_t *ip,
	struct ap_pkt_info *pi)
{
	memset(ip, 0, 20);
	memset(pi, 0, sizeof(*pi));
	ip[0] = 0x45;
	ip[9] = 17;
	for (int i = 0; i < 4; i++) {
		ip[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		ip[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	pi->l3 = AP_L3_IPV4;
	pi->l4_proto = 17;
	pi->l4_sport = sp;
	pi->l4_dport = dp;
	ap_ct_prepare(ip, pi, 100, cp);
}

Test(ct_hash, translated_flows_reply_keys)
{
	const uint32_t n = 3000, nat = 0xc6336401; /* 198.51.100.1 */
	struct ap_ct_table *t = ap_ct_table_create(0, n, 2 * n);
	uint8_t ip[20];
	struct ap_pkt_info pi;
	struct ap_ct_pkt cp;
	uint32_t *flow = malloc(n * sizeof(*flow));

	cr_assert(t && flow);
	ap_ct_conf.udp = ap_ct_conf.udp_stream = 1000;
	/* Masquerade out of interface 1, where every flow goes. */
	ap_nat_conf = (struct ap_nat_conf){
		.enabled = true, .addr[1] = rte_cpu_to_be_32(nat), .lo[1] = 10000, .hi[1] = 60000};
	ap_ct_egress4 = egress_is_1;
	for (uint32_t i = 0; i < n; i++) {
		pkt_key(0x0a000000 + i, 0xc0000201, 5000, 53, &cp, ip, &pi);
		cr_assert_eq(ap_ct_apply(t, &cp, -1, 1), AP_CT_NEW, "flow %u", i);
		flow[i] = (uint32_t)cp.flow;
	}
	cr_expect_eq(t->hash.count, 2 * n, "two keys a flow");
	check_invariants(&t->hash, NULL);
	/* Each flow's reply key, from the translated port, finds it in bulk as
	 * a reply; its original key as itself. */
	for (uint32_t i = 0; i < n; i += 32) {
		struct ap_ct_pkt c[64];
		const struct ap_ct_key *kp[64];
		uint32_t sigs[64], vals[64];
		uint64_t hits;
		unsigned m = 0;

		for (uint32_t j = i; j < i + 32 && j < n; j++) {
			const struct ap_ct_flow *f = &t->flows[flow[j]];

			pkt_key(0x0a000000 + j, 0xc0000201, 5000, 53, &c[m], ip, &pi);
			kp[m] = &c[m].k;
			sigs[m] = c[m].sig;
			m++;
			pkt_key(0xc0000201, nat, 53, rte_be_to_cpu_16(f->nat_sport), &c[m], ip,
				&pi);
			kp[m] = &c[m].k;
			sigs[m] = c[m].sig;
			m++;
		}
		hits = ap_ct_lookup_bulk(t, kp, sigs, m, vals);
		for (unsigned k = 0; k < m; k++) {
			cr_assert((hits >> k) & 1, "key %u of flow %u", k, i + k / 2);
			cr_assert_eq(vals[k], flow[i + k / 2] | (k % 2 ? AP_CT_NAT_KEY : 0));
		}
	}
	/* The reply itself, tracked. */
	pkt_key(0xc0000201, nat, 53, rte_be_to_cpu_16(t->flows[flow[7]].nat_sport), &cp, ip, &pi);
	cr_expect_eq(ap_ct_apply(t, &cp, -1, 2), AP_CT_ESTABLISHED);
	cr_expect_eq(cp.flow, flow[7]);
	cr_expect_eq(cp.dir, AP_CT_REPLY);
	/* A flush takes both keys of every flow. */
	ap_ct_flush(t, NULL);
	cr_expect_eq(t->hash.count, 0);
	check_invariants(&t->hash, NULL);
	ap_nat_conf.enabled = false;
	ap_ct_table_free(t);
	free(flow);
}
