/* SPDX-License-Identifier: BSD-3-Clause */
/* SipHash-2-4 against the paper's test vectors: key 00 01 .. 0f, messages
 * 00 01 .. (n-1) for n = 0..15 (Appendix A and the reference vectors). */
#include <criterion/criterion.h>

#include "lib/siphash.h"

static const uint64_t want[16] = {
	0x726fdb47dd0e0e31ull, 0x74f839c593dc67fdull, 0x0d6c8009d9a94f5aull, 0x85676696d7fb7e2dull,
	0xcf2794e0277187b7ull, 0x18765564cd99a68dull, 0xcbc9466e58fee3ceull, 0xab0200f58b01d137ull,
	0x93f5f5799a932462ull, 0x9e0082df0ba9e4b0ull, 0x7a5dbbc594ddb9f3ull, 0xf4b32f46226bada7ull,
	0x751e8fbc860ee5fbull, 0x14ea5627c0843d90ull, 0xf723ca908e7af2eeull, 0xa129ca6149be45e5ull,
};

Test(siphash, reference_vectors)
{
	uint8_t key[16], msg[16];

	for (int i = 0; i < 16; i++)
		key[i] = msg[i] = (uint8_t)i;
	for (size_t n = 0; n < 16; n++)
		cr_expect_eq(ap_siphash24(key, msg, n), want[n], "length %zu", n);
}
