/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Benchmark tool: a full-size IPv4 table derived from an MRT RIB dump, for
 * bench/bgp.sh.
 *
 *   bgp_table bird DUMP[.gz] N
 *   bgp_table parse DUMP[.gz] N [ROUNDS]
 *   bgp_table load DUMP[.gz] N [ROUNDS]
 *
 * The routes of the dump's largest IPv4 peer are the base table. When it
 * holds fewer than N prefixes, copies of it are added until N distinct ones
 * exist: copy k moves each prefix to first octet 1 + (a - 1 + 23k) mod 223,
 * skipping 10/8 and 127/8 and prefixes already taken, and keeps the route's
 * attributes. So the table keeps the dump's prefix lengths, AS paths,
 * origins, MEDs and communities, and its attribute sets are shared the way a
 * real table's are.
 *
 * bird: prints a BIRD 2 configuration fragment: one function per attribute
 * set (ORIGIN, AS_PATH sequences, MED, communities; AS_SETs are left out, BIRD
 * cannot write them) and a "static" protocol body with one blackhole route per
 * prefix calling its set's function.
 *
 * parse: packs the table into UPDATEs (4096 bytes, 4-byte ASNs, routes
 * grouped by attribute set) in one buffer, then decodes every UPDATE and walks
 * its NLRI, ROUNDS times (default 5), on the calling thread. Prints
 * "prefixes N updates M bytes B best_s S rate R" with R in prefixes per second
 * of the fastest round.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "svc/bgp/bgp.h"
#include "bgp_feed.h"

/* One route of the base table: its prefix and its attribute set. */
struct base {
	uint32_t addr; /* Host order. */
	uint8_t len;
	uint32_t set;
};

/* A distinct attribute set, with its arrays copied out of the dump. */
struct set {
	uint64_t hash;
	struct ap_bgp_attrs a;
};

struct table {
	struct base *base;
	uint32_t n_base;
	struct set *sets;
	uint32_t n_sets, cap_sets;
	/* The derived table: prefix and set per route. */
	uint32_t *addr;
	uint8_t *len;
	uint32_t *set;
	uint32_t n;
};

static void *
xalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (p == NULL) {
		fprintf(stderr, "bgp_table: out of memory\n");
		exit(1);
	}
	return p;
}

static void *
xdup(const void *p, size_t n)
{
	return n ? memcpy(xalloc(n), p, n) : NULL;
}

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* The attributes that matter for the table, hashed; equal hashes are one set. */
static uint64_t
attrs_hash(const struct ap_bgp_attrs *a)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint32_t med = ap_bgp_attr_has(a, AP_BGP_ATTR_MED) ? a->med + 1 : 0;

	h = fnv(h, &a->origin, 1);
	h = fnv(h, &a->next_hop, 4);
	h = fnv(h, &med, 4);
	h = fnv(h, &a->as_path_len, 4);
	h = fnv(h, a->as_path, a->as_path_len);
	h = fnv(h, a->communities, 4u * a->n_communities);
	return fnv(h, a->large_communities, 12u * a->n_large_communities);
}

static uint32_t
set_find(struct table *t, const struct ap_bgp_attrs *a)
{
	uint64_t h = attrs_hash(a);
	struct set *s;

	/* Open addressing over set index + 1 (0: free). */
	static uint32_t *slots;
	static uint32_t nslots;

	if (slots == NULL) {
		nslots = 1u << 20;
		slots = xalloc(nslots * sizeof(*slots));
	}
	for (uint32_t i = (uint32_t)h & (nslots - 1);; i = (i + 1) & (nslots - 1)) {
		if (slots[i] == 0)
			break;
		if (t->sets[slots[i] - 1].hash == h)
			return slots[i] - 1;
	}
	if (t->n_sets == t->cap_sets) {
		t->cap_sets = t->cap_sets ? 2 * t->cap_sets : 4096;
		t->sets = realloc(t->sets, t->cap_sets * sizeof(*t->sets));
		if (t->sets == NULL || t->n_sets >= nslots / 2) {
			fprintf(stderr, "bgp_table: too many attribute sets\n");
			exit(1);
		}
	}
	s = &t->sets[t->n_sets];
	s->hash = h;
	s->a = *a;
	s->a.as_path = xdup(a->as_path, a->as_path_len);
	s->a.communities = xdup(a->communities, 4u * a->n_communities);
	s->a.large_communities = xdup(a->large_communities, 12u * a->n_large_communities);
	s->a.ext_communities = xdup(a->ext_communities, 8u * a->n_ext_communities);
	s->a.cluster_list = NULL;
	s->a.n_cluster = 0;
	s->a.n_unknown = 0;
	s->a.present &= ~(1ull << AP_BGP_ATTR_CLUSTER_LIST | 1ull << AP_BGP_ATTR_ORIGINATOR_ID |
			  1ull << AP_BGP_ATTR_LOCAL_PREF);
	for (uint32_t i = (uint32_t)h & (nslots - 1);; i = (i + 1) & (nslots - 1))
		if (slots[i] == 0) {
			slots[i] = ++t->n_sets;
			break;
		}
	return t->n_sets - 1;
}

/* The base table: the IPv4 routes of the peer with the most of them. */
static void
load_base(struct table *t, const uint8_t *dump, size_t len)
{
	struct {
		uint8_t addr[16];
		uint32_t n;
	} peers[256];
	unsigned n_peers = 0, best = 0;
	struct ap_bgp_mrt_reader *r = ap_bgp_mrt_open(dump, len);
	struct ap_bgp_mrt_entry e;
	uint32_t cap = 0;
	int rc;

	while ((rc = ap_bgp_mrt_next(r, &e)) == 1) {
		unsigned i;

		if (e.pfx.af != AP_BGP_IPV4)
			continue;
		for (i = 0; i < n_peers && memcmp(peers[i].addr, e.peer_addr, 16) != 0; i++)
			;
		if (i == n_peers && n_peers < 256)
			memcpy(peers[n_peers++].addr, e.peer_addr, 16), peers[i].n = 0;
		if (i < n_peers && ++peers[i].n > peers[best].n)
			best = i;
	}
	ap_bgp_mrt_close(r);
	if (n_peers == 0) {
		fprintf(stderr, "bgp_table: no IPv4 routes in the dump (rc %d)\n", rc);
		exit(1);
	}
	r = ap_bgp_mrt_open(dump, len);
	while (ap_bgp_mrt_next(r, &e) == 1) {
		if (e.pfx.af != AP_BGP_IPV4 || memcmp(e.peer_addr, peers[best].addr, 16) != 0)
			continue;
		if (t->n_base == cap) {
			cap = cap ? 2 * cap : 1 << 17;
			t->base = realloc(t->base, cap * sizeof(*t->base));
			if (t->base == NULL)
				exit(1);
		}
		t->base[t->n_base++] = (struct base){
			.addr = (uint32_t)e.pfx.addr[0] << 24 | (uint32_t)e.pfx.addr[1] << 16 |
				(uint32_t)e.pfx.addr[2] << 8 | e.pfx.addr[3],
			.len = e.pfx.len,
			.set = set_find(t, e.attrs),
		};
	}
	ap_bgp_mrt_close(r);
}

/* Copies of the base table until n distinct prefixes (see the top comment). */
static void
derive(struct table *t, uint32_t n)
{
	uint32_t nslots = 1;
	uint64_t *seen;

	while (nslots < 2 * n)
		nslots <<= 1;
	seen = xalloc(nslots * sizeof(*seen));
	t->addr = xalloc(n * sizeof(*t->addr));
	t->len = xalloc(n);
	t->set = xalloc(n * sizeof(*t->set));
	for (uint32_t k = 0; k < 223 && t->n < n; k++)
		for (uint32_t i = 0; i < t->n_base && t->n < n; i++) {
			const struct base *b = &t->base[i];
			uint32_t a = b->addr >> 24, mask, addr;
			uint64_t key, h;

			if (a == 0 || a >= 224)
				continue;
			a = 1 + (a - 1 + 23 * k) % 223;
			if (a == 10 || a == 127)
				continue;
			mask = b->len ? ~0u << (32 - b->len) : 0;
			addr = ((a << 24) | (b->addr & 0xffffff)) & mask;
			key = (uint64_t)addr << 8 | b->len;
			h = (key + 1) * 0x9e3779b97f4a7c15ull;
			uint32_t s = (uint32_t)(h >> 32) & (nslots - 1);
			while (seen[s] != 0 && seen[s] != key + 1)
				s = (s + 1) & (nslots - 1);
			if (seen[s] != 0)
				continue;
			seen[s] = key + 1;
			t->addr[t->n] = addr;
			t->len[t->n] = b->len;
			t->set[t->n] = b->set;
			t->n++;
		}
	free(seen);
	if (t->n < n) {
		fprintf(stderr, "bgp_table: only %u distinct prefixes can be derived\n", t->n);
		exit(1);
	}
}

static void
print_bird(const struct table *t)
{
	static const char *const origin[] = {"ORIGIN_IGP", "ORIGIN_EGP", "ORIGIN_INCOMPLETE"};

	for (uint32_t s = 0; s < t->n_sets; s++) {
		const struct ap_bgp_attrs *a = &t->sets[s].a;
		uint32_t asns[512], n = 0;

		printf("function a%u() {\n  bgp_origin = %s;\n", s, origin[a->origin % 3]);
		/* AS_SEQUENCE segments in order; prepend them last to first. */
		for (uint32_t off = 0; off + 2 <= a->as_path_len;) {
			uint8_t type = a->as_path[off], cnt = a->as_path[off + 1];

			for (uint32_t j = 0; j < cnt && off + 6 + 4 * j <= a->as_path_len; j++) {
				const uint8_t *p = a->as_path + off + 2 + 4 * j;

				if (type == 2 && n < 512)
					asns[n++] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
						    (uint32_t)p[2] << 8 | p[3];
			}
			off += 2 + 4u * cnt;
		}
		while (n > 0)
			printf("  bgp_path.prepend(%u);\n", asns[--n]);
		if (ap_bgp_attr_has(a, AP_BGP_ATTR_MED))
			printf("  bgp_med = %u;\n", a->med);
		for (uint16_t c = 0; c < a->n_communities; c++) {
			const uint8_t *p = a->communities + 4 * c;

			printf("  bgp_community.add((%u,%u));\n", (unsigned)p[0] << 8 | p[1],
			       (unsigned)p[2] << 8 | p[3]);
		}
		printf("}\n");
	}
	printf("protocol static table4 {\n  ipv4;\n");
	for (uint32_t i = 0; i < t->n; i++)
		printf("  route %u.%u.%u.%u/%u blackhole { a%u(); };\n", t->addr[i] >> 24,
		       t->addr[i] >> 16 & 0xff, t->addr[i] >> 8 & 0xff, t->addr[i] & 0xff,
		       t->len[i], t->set[i]);
	printf("}\n");
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Room for one more UPDATE at 'used' in the buffer: NULL when out of memory. */
static uint8_t *
room(uint8_t *buf, size_t *cap, size_t used)
{
	if (used + AP_BGP_MAX_LEN <= *cap)
		return buf;
	*cap *= 2;
	return realloc(buf, *cap);
}

/* Prefix 'a'/'len' (host order) as the encoder takes it. */
static struct ap_bgp_prefix
v4_prefix(uint32_t a, uint8_t len)
{
	struct ap_bgp_prefix p = {.af = AP_BGP_IPV4, .len = len};

	p.addr[0] = (uint8_t)(a >> 24);
	p.addr[1] = (uint8_t)(a >> 16);
	p.addr[2] = (uint8_t)(a >> 8);
	p.addr[3] = (uint8_t)a;
	return p;
}

static int
parse_bench(const struct table *t, unsigned rounds)
{
	const struct ap_bgp_sess_opts so = {.as4 = true};
	struct ap_bgp_prefix *pfx = xalloc(t->n * sizeof(*pfx));
	uint32_t *order = xalloc(t->n * sizeof(*order)), *start;
	size_t cap = (size_t)t->n * 8 + (1 << 20), used = 0;
	uint8_t *buf = xalloc(cap);
	struct ap_bgp_update *u = xalloc(sizeof(*u));
	uint32_t n_msgs = 0;
	double best = 0;

	/* Routes ordered by attribute set (a counting sort keeps it linear). */
	start = xalloc((t->n_sets + 1) * sizeof(*start));
	for (uint32_t i = 0; i < t->n; i++)
		start[t->set[i] + 1]++;
	for (uint32_t s = 0; s < t->n_sets; s++)
		start[s + 1] += start[s];
	for (uint32_t i = 0; i < t->n; i++)
		order[start[t->set[i]]++] = i;
	for (uint32_t i = 0; i < t->n; i++)
		pfx[i] = v4_prefix(t->addr[order[i]], t->len[order[i]]);
	for (uint32_t i = 0; i < t->n;) {
		uint32_t s = t->set[order[i]], j = i;

		while (j < t->n && t->set[order[j]] == s)
			j++;
		while (i < j) {
			struct ap_wire_w w;
			int k;

			buf = room(buf, &cap, used);
			if (buf == NULL)
				return 1;
			ap_wire_w_init(&w, buf + used, AP_BGP_MAX_LEN);
			k = ap_bgp_update_encode(&w, &so, &t->sets[s].a, AP_BGP_IPV4, &pfx[i],
						 j - i, false);
			if (k <= 0) {
				fprintf(stderr, "bgp_table: cannot encode set %u\n", s);
				return 1;
			}
			used += ap_wire_w_used(&w);
			n_msgs++;
			i += (uint32_t)k;
		}
	}

	for (unsigned r = 0; r < rounds; r++) {
		uint64_t seen = 0;
		double t0 = now(), dt;

		for (size_t off = 0; off < used;) {
			uint32_t len = (uint32_t)buf[off + 16] << 8 | buf[off + 17];
			struct ap_bgp_prefix p;
			struct ap_wire w;

			if (ap_bgp_update_decode(buf + off, len, &so, u) != AP_BGP_ACT_OK) {
				fprintf(stderr, "bgp_table: UPDATE at %zu not accepted\n", off);
				return 1;
			}
			ap_wire_init(&w, u->nlri.p, u->nlri.len);
			while (ap_bgp_nlri_next(&w, AP_BGP_IPV4, &p))
				seen++;
			off += len;
		}
		dt = now() - t0;
		if (seen != t->n) {
			fprintf(stderr, "bgp_table: decoded %lu of %u prefixes\n",
				(unsigned long)seen, t->n);
			return 1;
		}
		if (best == 0 || dt < best)
			best = dt;
	}
	printf("prefixes %u updates %u bytes %zu sets %u best_s %.6f rate %.0f\n", t->n, n_msgs,
	       used, t->n_sets, best, t->n / best);
	return 0;
}

/*
 * load: the table the way the feeder of bench/bgp.sh sends it, one prefix per
 * UPDATE in a shuffled order, put into an empty RIB from one peer: each
 * UPDATE decoded, its attribute set interned and its prefix updated in the
 * RIB, on the calling thread. Once without and once with the read-ahead the
 * speaker does over the messages of a read (bucket PF_FAR messages ahead,
 * chain PF_NEAR ahead). Prints the rate of each, best of ROUNDS.
 */
#define PF_FAR	AP_BGP_PF_FAR
#define PF_NEAR AP_BGP_PF_NEAR

static int
load_bench(const struct table *t, unsigned rounds)
{
	const struct ap_bgp_sess_opts so = {.as4 = true};
	const struct ap_bgp_peer_info pi = {.addr = {192, 0, 2, 1}, .asn = 64512, .router_id = 1};
	uint32_t *order = xalloc(t->n * sizeof(*order)), *moff = xalloc(t->n * sizeof(*moff));
	size_t cap = (size_t)t->n * 128, used = 0;
	uint8_t *buf = xalloc(cap);
	struct ap_bgp_update *u = xalloc(sizeof(*u));
	struct ap_bgp_prefix *ahead = xalloc(t->n * sizeof(*ahead));
	uint8_t *have = xalloc(t->n);
	double best[2] = {0, 0};
	uint64_t x = 88172645463325252ull;

	for (uint32_t i = 0; i < t->n; i++)
		order[i] = i;
	for (uint32_t i = t->n - 1; i > 0; i--) { /* Fisher-Yates, xorshift64. */
		uint32_t j, tmp;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = (uint32_t)(x % (i + 1));
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (uint32_t i = 0; i < t->n; i++) {
		uint32_t r = order[i];
		struct ap_bgp_prefix p = v4_prefix(t->addr[r], t->len[r]);
		struct ap_wire_w w;

		buf = room(buf, &cap, used);
		if (buf == NULL)
			return 1;
		ap_wire_w_init(&w, buf + used, AP_BGP_MAX_LEN);
		if (ap_bgp_update_encode(&w, &so, &t->sets[t->set[r]].a, AP_BGP_IPV4, &p, 1,
					 false) != 1) {
			fprintf(stderr, "bgp_table: cannot encode route %u\n", r);
			return 1;
		}
		moff[i] = (uint32_t)used;
		used += ap_wire_w_used(&w);
	}
	for (unsigned r = 0; r < 2 * rounds; r++) {
		const struct ap_bgp_rib_opts ro = {0};
		struct ap_bgp_rib *rib = ap_bgp_rib_new(&ro);
		int peer = rib ? ap_bgp_rib_peer_add(rib, &pi) : -1;
		bool pf = r % 2;
		struct ap_bgp_rib_stats st;
		double t0, dt;

		if (peer < 0)
			return 1;
		t0 = now();
		for (uint32_t i = 0; i < t->n; i++) {
			const uint8_t *m = buf + moff[i];
			uint32_t len = (uint32_t)m[16] << 8 | m[17];
			struct ap_bgp_pattr *pa;
			struct ap_bgp_prefix p;
			struct ap_wire w;

			if (pf && i + PF_FAR < t->n) {
				const uint8_t *f = buf + moff[i + PF_FAR];

				have[i + PF_FAR] = ap_bgp_update_peek_prefix(
					f, (uint32_t)f[16] << 8 | f[17], &ahead[i + PF_FAR]);
				if (have[i + PF_FAR])
					ap_bgp_rib_prefetch(rib, &ahead[i + PF_FAR], false);
			}
			if (pf && i + PF_NEAR < t->n && i + PF_NEAR >= PF_FAR && have[i + PF_NEAR])
				ap_bgp_rib_prefetch(rib, &ahead[i + PF_NEAR], true);
			if (ap_bgp_update_decode(m, len, &so, u) != AP_BGP_ACT_OK) {
				fprintf(stderr, "bgp_table: UPDATE %u not accepted\n", i);
				return 1;
			}
			pa = ap_bgp_pattr_intern(rib, &u->attrs);
			ap_wire_init(&w, u->nlri.p, u->nlri.len);
			while (pa && ap_bgp_nlri_next(&w, AP_BGP_IPV4, &p))
				ap_bgp_rib_update(rib, (uint16_t)peer, &p, ap_bgp_pattr_ref(pa),
						  false, 0);
			ap_bgp_pattr_unref(rib, pa);
		}
		dt = now() - t0;
		ap_bgp_rib_stats(rib, &st);
		if (st.best != t->n) {
			fprintf(stderr, "bgp_table: Loc-RIB holds %lu of %u prefixes\n",
				(unsigned long)st.best, t->n);
			return 1;
		}
		ap_bgp_rib_free(rib);
		if (best[pf] == 0 || dt < best[pf])
			best[pf] = dt;
	}
	printf("prefixes %u updates %u rate %.0f read_ahead_rate %.0f\n", t->n, t->n,
	       t->n / best[0], t->n / best[1]);
	return 0;
}

int
main(int argc, char **argv)
{
	struct table t = {0};
	size_t len;
	uint8_t *dump;
	long n;

	if (argc < 4 ||
	    (strcmp(argv[1], "bird") != 0 && strcmp(argv[1], "parse") != 0 &&
	     strcmp(argv[1], "load") != 0) ||
	    (n = atol(argv[3])) <= 0) {
		fprintf(stderr, "usage: %s bird|parse|load DUMP[.gz] N [ROUNDS]\n", argv[0]);
		return 2;
	}
	dump = ap_feed_slurp(argv[2], &len);
	if (dump == NULL) {
		fprintf(stderr, "bgp_table: cannot read %s\n", argv[2]);
		return 1;
	}
	load_base(&t, dump, len);
	derive(&t, (uint32_t)n);
	fprintf(stderr, "bgp_table: %u base routes, %u attribute sets, %u prefixes\n", t.n_base,
		t.n_sets, t.n);
	if (argv[1][0] == 'b') {
		print_bird(&t);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (argv[1][0] == 'l')
		return load_bench(&t, argc > 4 ? (unsigned)atoi(argv[4]) : 3);
	return parse_bench(&t, argc > 4 ? (unsigned)atoi(argv[4]) : 5);
}
