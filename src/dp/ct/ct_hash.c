/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flow table's hash (ct_hash.h): adds, removals and the walk. An add
 * that finds both buckets full searches breadth first, over the entries'
 * other buckets, for the shortest chain of moves that ends in a free slot
 * (cuckoo hashing's displacement, bounded), and only then moves anything:
 * a failed add leaves the table as it was.
 */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>

#include "dp/ct/ct_hash.h"

/* Buckets the displacement search visits at most: two a key, ten entries
 * each, so a chain of moves is at most three deep (2 + 20 + 200 < 256 <
 * 2 + 20 + 200 + 2000). */
#define CT_HASH_SEARCH 256
_Static_assert(AP_CT_HASH_SLOTS == 10 && CT_HASH_SEARCH <= 2222 &&
		       AP_CT_HASH_OUT_MAX + 4 < 1u << (32 - AP_CT_HASH_OUT_SHIFT),
	       "a chain of moves and the new key keep a primary's count within its bits");

int
ap_ct_hash_init(struct ap_ct_hash *h, uint32_t keys, int socket)
{
	uint32_t nb = RTE_MAX((uint32_t)((uint64_t)keys * 2 / 17) + 1, 2u);

	memset(h, 0, sizeof(*h));
	h->b = rte_zmalloc_socket("ap_ct_hash", (size_t)nb * sizeof(*h->b), RTE_CACHE_LINE_SIZE,
				  socket);
	if (h->b == NULL)
		return -ENOMEM;
	h->nb = nb;
	return 0;
}

void
ap_ct_hash_fini(struct ap_ct_hash *h)
{
	rte_free(h->b);
	h->b = NULL;
}

void
ap_ct_hash_clear(struct ap_ct_hash *h)
{
	memset(h->b, 0, (size_t)h->nb * sizeof(*h->b));
	h->count = 0;
}

/* A free slot of bucket @p b, or -1. */
static int
free_slot(const struct ap_ct_hash_bucket *b)
{
	uint32_t f = ~b->meta & AP_CT_HASH_USED;

	return f ? __builtin_ctz(f) : -1;
}

/* Is the entry in slot @p i of @p b in its secondary bucket? */
static bool
slot_sec(const struct ap_ct_hash_bucket *b, unsigned i)
{
	return (b->meta >> (AP_CT_HASH_SEC_SHIFT + i)) & 1;
}

/* Put an entry in slot @p i of bucket @p bkt, @p sec: its secondary, which
 * counts it out of its primary. */
static void
slot_set(struct ap_ct_hash *h, uint32_t bkt, unsigned i, uint16_t tag, uint32_t val, bool sec)
{
	struct ap_ct_hash_bucket *b = &h->b[bkt];

	b->tag[i] = tag;
	b->val[i] = val;
	b->meta |= 1u << i | (uint32_t)sec << (AP_CT_HASH_SEC_SHIFT + i);
	if (sec)
		h->b[ap_ct_hash_alt(h, bkt, tag)].meta += 1u << AP_CT_HASH_OUT_SHIFT;
}

static void
slot_clear(struct ap_ct_hash *h, uint32_t bkt, unsigned i)
{
	struct ap_ct_hash_bucket *b = &h->b[bkt];

	if (slot_sec(b, i))
		h->b[ap_ct_hash_alt(h, bkt, b->tag[i])].meta -= 1u << AP_CT_HASH_OUT_SHIFT;
	b->meta &= ~(1u << i | 1u << (AP_CT_HASH_SEC_SHIFT + i));
}

/* A bucket the search reached: from slot @p slot of the bucket of node
 * @p parent (-1: one of the new key's own), whose entry can move here. */
struct node {
	uint32_t bkt;
	int16_t parent;
	uint8_t slot;
};

/* Make a free slot in bucket @p p or @p s by moving entries along the
 * shortest chain the search finds; the bucket and slot in @p bkt, @p slot.
 * false: none within CT_HASH_SEARCH buckets. */
static bool
make_room(struct ap_ct_hash *h, uint32_t p, uint32_t s, uint32_t *bkt, unsigned *slot)
{
	struct node q[CT_HASH_SEARCH];
	unsigned head = 0, tail = 0;

	q[tail++] = (struct node){.bkt = p, .parent = -1};
	if (s != p)
		q[tail++] = (struct node){.bkt = s, .parent = -1};
	while (head < tail) {
		unsigned cur = head++;
		const struct ap_ct_hash_bucket *b = &h->b[q[cur].bkt];
		int fs = free_slot(b);

		if (fs >= 0) {
			unsigned to = (unsigned)fs;

			/* Move each entry of the chain one bucket on, from the
			 * free end back to the new key's bucket: from its
			 * primary to its secondary or back. */
			while (q[cur].parent >= 0) {
				const struct node *par = &q[q[cur].parent];
				const struct ap_ct_hash_bucket *pb = &h->b[par->bkt];
				unsigned from = q[cur].slot;
				uint16_t tag = pb->tag[from];
				uint32_t val = pb->val[from];
				bool sec = !slot_sec(pb, from);

				slot_clear(h, par->bkt, from);
				slot_set(h, q[cur].bkt, to, tag, val, sec);
				h->displaced++;
				to = from;
				cur = (unsigned)q[cur].parent;
			}
			*bkt = q[cur].bkt;
			*slot = to;
			return true;
		}
		for (unsigned i = 0; i < AP_CT_HASH_SLOTS && tail < CT_HASH_SEARCH; i++) {
			/* The entry's other bucket (its primary's and its
			 * secondary's are each other's); out of its primary only
			 * while that can count one more. */
			uint32_t alt = ap_ct_hash_alt(h, q[cur].bkt, b->tag[i]);

			if (!slot_sec(b, i) && ap_ct_hash_out(b) >= AP_CT_HASH_OUT_MAX)
				continue;

			q[tail++] = (struct node){
				.bkt = alt, .parent = (int16_t)cur, .slot = (uint8_t)i};
		}
	}
	return false;
}

int
ap_ct_hash_add(struct ap_ct_hash *h, uint32_t sig, uint32_t val)
{
	uint32_t p = ap_ct_hash_prim(h, sig), s = ap_ct_hash_sec(h, sig), bkt;
	int fs = free_slot(&h->b[p]);
	unsigned slot;

	/* A primary that counts all it can out keeps its keys. */
	if (ap_ct_hash_out(&h->b[p]) >= AP_CT_HASH_OUT_MAX)
		s = p;

	/* Its primary while that has room: lookups read one bucket. */
	if (fs >= 0) {
		bkt = p;
		slot = (unsigned)fs;
	} else if ((fs = free_slot(&h->b[s])) >= 0) {
		bkt = s;
		slot = (unsigned)fs;
	} else if (!make_room(h, p, s, &bkt, &slot)) {
		h->full++;
		return -ENOSPC;
	}
	slot_set(h, bkt, slot, ap_ct_hash_tag(sig), val, bkt != p);
	h->count++;
	return 0;
}

int
ap_ct_hash_del(struct ap_ct_hash *h, uint32_t sig, uint32_t val)
{
	uint32_t bkt[2] = {ap_ct_hash_prim(h, sig), ap_ct_hash_sec(h, sig)};

	for (unsigned k = 0; k < 2; k++) {
		const struct ap_ct_hash_bucket *b = &h->b[bkt[k]];
		uint32_t m = ap_ct_hash_match(b, sig);

		for (; m; m &= m - 1) {
			unsigned i = (unsigned)__builtin_ctz(m);

			if (b->val[i] == val) {
				slot_clear(h, bkt[k], i);
				h->count--;
				return 0;
			}
		}
	}
	return -ENOENT;
}

bool
ap_ct_hash_next(const struct ap_ct_hash *h, uint32_t *pos, uint32_t *val)
{
	uint64_t end = (uint64_t)h->nb * AP_CT_HASH_SLOTS;

	for (uint64_t p = *pos; p < end; p++) {
		const struct ap_ct_hash_bucket *b = &h->b[p / AP_CT_HASH_SLOTS];
		unsigned i = (unsigned)(p % AP_CT_HASH_SLOTS);

		if (b->meta & (1u << i)) {
			*val = b->val[i];
			*pos = (uint32_t)(p + 1);
			return true;
		}
	}
	*pos = (uint32_t)end;
	return false;
}
