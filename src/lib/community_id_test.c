/* SPDX-License-Identifier: BSD-3-Clause */
/* Community ID v1 against the specification's published vectors (as Zeek's
 * and Suricata's test suites carry them), both directions naming one flow. */
#include <criterion/criterion.h>

#include "lib/community_id.h"

static const uint8_t A[4] = {1, 2, 3, 4}, B[4] = {5, 6, 7, 8};
static const uint8_t A6[16] = {0xfe, 0x80, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
			       0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d};
static const uint8_t B6[16] = {0xfe, 0x80, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
			       0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d};

static void
both_ways(uint16_t seed, uint8_t family, uint8_t proto, const uint8_t *a, const uint8_t *b,
	  uint16_t ap, uint16_t bp, const char *want)
{
	char got[AP_COMMUNITY_ID_LEN];

	cr_expect_str_eq(ap_community_id(seed, family, proto, a, b, ap, bp, got), want);
	if (proto != 1 && proto != 58)
		cr_expect_str_eq(ap_community_id(seed, family, proto, b, a, bp, ap, got), want,
				 "the other way");
}

Test(community_id, spec_vectors)
{
	char got[AP_COMMUNITY_ID_LEN];

	both_ways(0, 4, 6, A, B, 1122, 3344, "1:wCb3OG7yAFWelaUydu0D+125CLM=");
	both_ways(0, 4, 17, A, B, 1122, 3344, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=");
	both_ways(1, 4, 6, A, B, 1122, 3344, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk=");
	/* Echo request one way, its reply the other: one flow. */
	cr_expect_str_eq(ap_community_id(0, 4, 1, A, B, 8, 0, got),
			 "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=");
	cr_expect_str_eq(ap_community_id(0, 4, 1, B, A, 0, 0, got),
			 "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=", "the echo reply");
	cr_expect_str_eq(ap_community_id(0, 6, 58, A6, B6, 128, 0, got),
			 "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=");
}
