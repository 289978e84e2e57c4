/* SPDX-License-Identifier: BSD-3-Clause */
/* Wire cursor tests: byte order, bounds, the sticky error, sub-cursors, writer. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lib/wire.h"

static const uint8_t seq[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
			      0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};

Test(wire, reads_network_order)
{
	struct ap_wire w;

	ap_wire_init(&w, seq, sizeof(seq));
	cr_assert_eq(ap_wire_u8(&w), 0x01);
	cr_assert_eq(ap_wire_u16(&w), 0x0203);
	cr_assert_eq(ap_wire_u32(&w), 0x04050607u);
	cr_assert_eq(ap_wire_u64(&w), 0x08090a0b0c0d0e0full);
	cr_assert_eq(ap_wire_tell(&w), 15);
	cr_assert_eq(ap_wire_avail(&w), 1);
	cr_assert_eq(ap_wire_u8(&w), 0x10);
	cr_assert_eq(ap_wire_avail(&w), 0);
	cr_assert(ap_wire_ok(&w));
}

/* Each row reads one field from a buffer of a given size after a prefix skip. */
struct read_row {
	uint32_t len;  /* buffer length */
	uint32_t skip; /* bytes skipped first */
	int width;     /* 1, 2, 4, 8 */
	bool ok;
	uint64_t value;
};

static const struct read_row read_rows[] = {
	{0, 0, 1, false, 0},
	{1, 0, 1, true, 0x01},
	{1, 0, 2, false, 0},
	{2, 1, 2, false, 0},
	{3, 1, 2, true, 0x0203},
	{3, 0, 4, false, 0},
	{4, 0, 4, true, 0x01020304},
	{7, 4, 4, false, 0},
	{8, 4, 4, true, 0x05060708},
	{7, 0, 8, false, 0},
	{8, 0, 8, true, 0x0102030405060708ull},
	{12, 5, 8, false, 0},
	{16, 8, 8, true, 0x090a0b0c0d0e0f10ull},
};

static uint64_t
read_width(struct ap_wire *w, int width)
{
	switch (width) {
	case 1:
		return ap_wire_u8(w);
	case 2:
		return ap_wire_u16(w);
	case 4:
		return ap_wire_u32(w);
	default:
		return ap_wire_u64(w);
	}
}

Test(wire, read_bounds_table)
{
	size_t i;

	for (i = 0; i < sizeof(read_rows) / sizeof(read_rows[0]); i++) {
		const struct read_row *r = &read_rows[i];
		/* Exactly sized heap copy: ASan flags any read past len. */
		uint8_t *b = malloc(r->len ? r->len : 1);
		struct ap_wire w;
		uint64_t v;

		memcpy(b, seq, r->len);
		ap_wire_init(&w, b, r->len);
		cr_assert(ap_wire_skip(&w, r->skip), "row %zu", i);
		v = read_width(&w, r->width);
		cr_expect_eq(ap_wire_ok(&w), r->ok, "row %zu", i);
		cr_expect_eq(v, r->value, "row %zu: %#llx", i, (unsigned long long)v);
		/* A failed read does not advance. */
		cr_expect_eq(ap_wire_tell(&w), r->ok ? r->skip + (uint32_t)r->width : r->skip,
			     "row %zu", i);
		free(b);
	}
}

Test(wire, error_is_sticky)
{
	struct ap_wire w;
	uint8_t dst[4] = {0xaa, 0xbb, 0xcc, 0xdd};

	ap_wire_init(&w, seq, 3);
	cr_assert_eq(ap_wire_u16(&w), 0x0102);
	cr_assert_eq(ap_wire_u16(&w), 0, "read past the end returns 0");
	cr_assert_not(ap_wire_ok(&w));
	cr_assert_eq(w.err, AP_WIRE_ENODATA);
	cr_assert_eq(ap_wire_tell(&w), 2);
	/* One byte is left, but after the error nothing reads or moves. */
	cr_assert_eq(ap_wire_u8(&w), 0);
	cr_assert_eq(ap_wire_peek_u8(&w), 0);
	cr_assert_eq(ap_wire_avail(&w), 0);
	cr_assert_null(ap_wire_ptr(&w, 0));
	cr_assert_null(ap_wire_cur(&w));
	cr_assert_not(ap_wire_skip(&w, 0));
	cr_assert_not(ap_wire_bytes(&w, dst, 1));
	cr_assert_eq(dst[0], 0, "failed copy zero-fills");
	cr_assert_eq(dst[1], 0xbb, "bytes beyond n untouched");
	cr_assert_not(ap_wire_seek(&w, 0));
	cr_assert_eq(ap_wire_tell(&w), 2);
	/* The first error wins. */
	ap_wire_fail(&w, -EINVAL);
	cr_assert_eq(w.err, AP_WIRE_ENODATA);
}

Test(wire, fail_stops_a_healthy_cursor)
{
	struct ap_wire w;

	ap_wire_init(&w, seq, sizeof(seq));
	ap_wire_u8(&w);
	ap_wire_fail(&w, -EBADMSG);
	cr_assert_eq(w.err, -EBADMSG);
	cr_assert_eq(ap_wire_u8(&w), 0);
	cr_assert_eq(ap_wire_tell(&w), 1);
}

Test(wire, bytes_ptr_skip)
{
	struct ap_wire w;
	uint8_t dst[5];
	const uint8_t *p;

	ap_wire_init(&w, seq, sizeof(seq));
	cr_assert(ap_wire_bytes(&w, dst, 5));
	cr_assert_arr_eq(dst, seq, 5);
	p = ap_wire_ptr(&w, 3);
	cr_assert_eq(p, seq + 5);
	cr_assert(ap_wire_skip(&w, 7));
	cr_assert_eq(ap_wire_avail(&w), 1);
	cr_assert_eq(ap_wire_cur(&w), seq + 15);
	cr_assert_null(ap_wire_ptr(&w, 2));
	cr_assert_eq(w.err, AP_WIRE_ENODATA);
}

Test(wire, ptr_of_huge_length_does_not_wrap)
{
	struct ap_wire w;

	ap_wire_init(&w, seq, sizeof(seq));
	ap_wire_u8(&w);
	cr_assert_null(ap_wire_ptr(&w, UINT32_MAX));
	cr_assert_eq(ap_wire_tell(&w), 1);
	ap_wire_init(&w, seq, sizeof(seq));
	ap_wire_skip(&w, 4);
	cr_assert_not(ap_wire_skip(&w, UINT32_MAX - 2));
}

Test(wire, peek_does_not_advance)
{
	struct ap_wire w;

	ap_wire_init(&w, seq, 5);
	cr_assert_eq(ap_wire_peek_u8(&w), 0x01);
	cr_assert_eq(ap_wire_peek_u16(&w), 0x0102);
	cr_assert_eq(ap_wire_peek_u32(&w), 0x01020304u);
	cr_assert_eq(ap_wire_tell(&w), 0);
	ap_wire_skip(&w, 2);
	cr_assert_eq(ap_wire_peek_u16(&w), 0x0304);
	cr_assert_eq(ap_wire_peek_u32(&w), 0, "peek past the end is an error");
	cr_assert_not(ap_wire_ok(&w));
	cr_assert_eq(ap_wire_tell(&w), 2);
}

Test(wire, sub_cursor_is_truncated_and_parent_advances)
{
	/* A TLV list: type 1 len 3 "abc", type 2 len 1 "d". */
	static const uint8_t tlv[] = {1, 3, 'a', 'b', 'c', 2, 1, 'd'};
	struct ap_wire w, s;

	ap_wire_init(&w, tlv, sizeof(tlv));
	cr_assert_eq(ap_wire_u8(&w), 1);
	s = ap_wire_sub(&w, ap_wire_u8(&w));
	cr_assert_eq(ap_wire_tell(&w), 5, "parent skipped the value");
	cr_assert_eq(ap_wire_avail(&s), 3);
	cr_assert_eq(ap_wire_u16(&s), ('a' << 8 | 'b'));
	cr_assert_eq(ap_wire_u16(&s), 0, "cannot read into the next TLV");
	cr_assert_not(ap_wire_ok(&s));
	cr_assert(ap_wire_ok(&w), "sub-cursor error stays in the sub-cursor");
	cr_assert_eq(ap_wire_u8(&w), 2);
	cr_assert_eq(ap_wire_u8(&w), 1);
	s = ap_wire_sub(&w, 1);
	cr_assert_eq(ap_wire_u8(&s), 'd');
	cr_assert(ap_wire_ok(&s));
	cr_assert_eq(ap_wire_avail(&w), 0);
}

Test(wire, sub_cursor_longer_than_parent)
{
	static const uint8_t tlv[] = {7, 200, 1, 2, 3};
	struct ap_wire w, s;

	ap_wire_init(&w, tlv, sizeof(tlv));
	ap_wire_u8(&w);
	s = ap_wire_sub(&w, ap_wire_u8(&w));
	cr_assert_not(ap_wire_ok(&w));
	cr_assert_not(ap_wire_ok(&s));
	cr_assert_eq(ap_wire_avail(&s), 0);
	cr_assert_eq(ap_wire_u8(&s), 0);
	cr_assert_eq(ap_wire_tell(&w), 2);
}

Test(wire, seek)
{
	struct ap_wire w;

	ap_wire_init(&w, seq, 8);
	cr_assert(ap_wire_seek(&w, 6));
	cr_assert_eq(ap_wire_u16(&w), 0x0708);
	cr_assert(ap_wire_seek(&w, 8), "seek to the end is allowed");
	cr_assert_eq(ap_wire_avail(&w), 0);
	cr_assert(ap_wire_seek(&w, 1));
	cr_assert_eq(ap_wire_u8(&w), 0x02);
	cr_assert_not(ap_wire_seek(&w, 9));
	cr_assert_eq(w.err, AP_WIRE_ERANGE);
	cr_assert_eq(ap_wire_tell(&w), 2);
}

Test(wire, null_and_empty_buffers)
{
	struct ap_wire w;
	struct ap_wire_w o;
	uint8_t dst[2] = {9, 9};

	ap_wire_init(&w, NULL, 100);
	cr_assert_eq(ap_wire_avail(&w), 0, "NULL buffer is empty whatever the length");
	cr_assert_not_null(ap_wire_ptr(&w, 0));
	cr_assert(ap_wire_bytes(&w, dst, 0));
	cr_assert_eq(ap_wire_u8(&w), 0);
	cr_assert_not(ap_wire_ok(&w));

	ap_wire_w_init(&o, NULL, 100);
	cr_assert_eq(ap_wire_w_avail(&o), 0);
	cr_assert(ap_wire_put_bytes(&o, NULL, 0));
	cr_assert_not(ap_wire_put_u8(&o, 1));
	cr_assert_eq(o.err, AP_WIRE_ENOSPC);
}

Test(wire, writer_network_order)
{
	uint8_t buf[32];
	static const uint8_t want[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
				       0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xab, 0xcd, 0x00, 0x00, 0x00};
	struct ap_wire_w o;

	memset(buf, 0xee, sizeof(buf));
	ap_wire_w_init(&o, buf, sizeof(buf));
	cr_assert(ap_wire_put_u8(&o, 0x01));
	cr_assert(ap_wire_put_u16(&o, 0x0203));
	cr_assert(ap_wire_put_u32(&o, 0x04050607));
	cr_assert(ap_wire_put_u64(&o, 0x08090a0b0c0d0e0full));
	cr_assert(ap_wire_put_bytes(&o, "\xab\xcd", 2));
	cr_assert(ap_wire_put_zero(&o, 3));
	cr_assert(ap_wire_w_ok(&o));
	cr_assert_eq(ap_wire_w_used(&o), sizeof(want));
	cr_assert_eq(ap_wire_w_avail(&o), sizeof(buf) - sizeof(want));
	cr_assert_arr_eq(buf, want, sizeof(want));
	cr_assert_eq(buf[sizeof(want)], 0xee, "nothing written past used");
}

Test(wire, writer_overflow_is_sticky_and_writes_nothing)
{
	uint8_t buf[8];
	struct ap_wire_w o;

	memset(buf, 0xee, sizeof(buf));
	ap_wire_w_init(&o, buf, 5);
	cr_assert(ap_wire_put_u16(&o, 0x1122));
	cr_assert_not(ap_wire_put_u32(&o, 0x33445566), "4 bytes do not fit in 3");
	cr_assert_eq(o.err, AP_WIRE_ENOSPC);
	cr_assert_eq(ap_wire_w_used(&o), 2);
	cr_assert_eq(buf[2], 0xee, "a put that does not fit writes nothing");
	cr_assert_not(ap_wire_put_u8(&o, 0x77), "sticky even though 1 byte fits");
	cr_assert_eq(buf[2], 0xee);
	cr_assert_null(ap_wire_w_reserve(&o, 0));
	cr_assert_eq(ap_wire_w_avail(&o), 0);
	ap_wire_w_fail(&o, -EINVAL);
	cr_assert_eq(o.err, AP_WIRE_ENOSPC, "first error wins");
	cr_assert_eq(buf[5], 0xee, "never past len");
}

Test(wire, writer_exact_fit)
{
	uint8_t buf[8];
	struct ap_wire_w o;

	ap_wire_w_init(&o, buf, sizeof(buf));
	cr_assert(ap_wire_put_u64(&o, 1));
	cr_assert_eq(ap_wire_w_avail(&o), 0);
	cr_assert(ap_wire_put_bytes(&o, buf, 0), "zero bytes always fit");
	cr_assert(ap_wire_w_ok(&o));
	cr_assert_not(ap_wire_put_zero(&o, 1));
}

Test(wire, reserve_and_poke_back_patch_a_length)
{
	uint8_t buf[16];
	struct ap_wire_w o;
	struct ap_wire r;
	uint8_t *len_at;

	ap_wire_w_init(&o, buf, sizeof(buf));
	ap_wire_put_u8(&o, 0x42);
	len_at = ap_wire_w_reserve(&o, 2);
	cr_assert_eq(len_at, buf + 1);
	ap_wire_put_bytes(&o, "hello", 5);
	cr_assert(ap_wire_poke_u16(&o, 1, (uint16_t)(ap_wire_w_used(&o) - 3)));
	cr_assert_not(ap_wire_poke_u16(&o, 7, 0), "poke beyond what was written");
	cr_assert_eq(o.err, AP_WIRE_ERANGE);

	ap_wire_init(&r, buf, 8);
	cr_assert_eq(ap_wire_u8(&r), 0x42);
	cr_assert_eq(ap_wire_u16(&r), 5);
	cr_assert_eq(memcmp(ap_wire_ptr(&r, 5), "hello", 5), 0);
}

Test(wire, round_trip_random_fields)
{
	uint8_t buf[4096];
	uint64_t vals[512];
	int widths[512];
	struct ap_wire_w o;
	struct ap_wire r;
	unsigned i, n = 0;

	srand(42);
	ap_wire_w_init(&o, buf, sizeof(buf));
	for (i = 0; i < 512; i++) {
		static const int ws[] = {1, 2, 4, 8};
		uint64_t v = (uint64_t)rand() << 33 ^ (uint64_t)rand() << 11 ^ (uint64_t)rand();

		widths[i] = ws[rand() % 4];
		switch (widths[i]) {
		case 1:
			v &= 0xff;
			ap_wire_put_u8(&o, (uint8_t)v);
			break;
		case 2:
			v &= 0xffff;
			ap_wire_put_u16(&o, (uint16_t)v);
			break;
		case 4:
			v &= 0xffffffff;
			ap_wire_put_u32(&o, (uint32_t)v);
			break;
		default:
			ap_wire_put_u64(&o, v);
			break;
		}
		vals[i] = v;
		if (ap_wire_w_ok(&o))
			n = i + 1;
	}
	ap_wire_init(&r, buf, ap_wire_w_used(&o));
	for (i = 0; i < n; i++)
		cr_assert_eq(read_width(&r, widths[i]), vals[i], "field %u", i);
	cr_assert(ap_wire_ok(&r));
	cr_assert_eq(ap_wire_avail(&r), 0);
}

Test(wire, random_walk_never_passes_len)
{
	uint8_t *b;
	unsigned iter, step;

	srand(4);
	for (iter = 0; iter < 2000; iter++) {
		uint32_t len = (uint32_t)rand() % 64;
		struct ap_wire w;
		uint8_t tmp[16];

		b = malloc(len ? len : 1);
		memset(b, 0x5a, len);
		ap_wire_init(&w, b, len);
		for (step = 0; step < 40; step++) {
			uint32_t before = ap_wire_tell(&w);
			bool was_ok = ap_wire_ok(&w);

			switch (rand() % 9) {
			case 0:
				ap_wire_u8(&w);
				break;
			case 1:
				ap_wire_u16(&w);
				break;
			case 2:
				ap_wire_u32(&w);
				break;
			case 3:
				ap_wire_u64(&w);
				break;
			case 4:
				ap_wire_bytes(&w, tmp, (uint32_t)rand() % 16);
				break;
			case 5:
				ap_wire_skip(&w, (uint32_t)rand() % 16);
				break;
			case 6:
				ap_wire_ptr(&w, (uint32_t)rand() % 16);
				break;
			case 7:
				ap_wire_peek_u32(&w);
				break;
			default: {
				struct ap_wire s = ap_wire_sub(&w, (uint32_t)rand() % 16);

				cr_assert_leq(ap_wire_avail(&s), len);
				ap_wire_u32(&s);
				break;
			}
			}
			cr_assert_leq(ap_wire_tell(&w), len);
			if (!was_ok)
				cr_assert_eq(ap_wire_tell(&w), before, "moved after an error");
		}
		free(b);
	}
}
