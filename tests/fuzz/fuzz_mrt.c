/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the MRT reader (RFC 6396 TABLE_DUMP and TABLE_DUMP_V2, with
 * RFC 8050 ADD-PATH entries), given a whole file in memory as the tools that
 * replay MRT dumps give it. Every entry it returns is printed as bgpdump does; a
 * malformed record stops the walk with -EBADMSG, never a crash or a read out
 * of the buffer (ASan watches).
 */
#include <stdlib.h>
#include <string.h>

#include "svc/bgp/bgp.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly the input's size, so any overread is caught. */
	uint8_t *buf = malloc(size ? size : 1);
	struct ap_bgp_mrt_reader *r;
	struct ap_bgp_mrt_entry e;
	char line[8192];
	int rc, n = 0;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	r = ap_bgp_mrt_open(buf, size);
	if (r == NULL) {
		free(buf);
		return 0;
	}
	while ((rc = ap_bgp_mrt_next(r, &e)) == 1 && n++ < 100000) {
		CHECK(e.pfx.len <= (e.pfx.af == AP_BGP_IPV6 ? 128 : 32));
		CHECK(e.attrs != NULL);
		ap_bgp_mrt_line(&e, line, sizeof(line));
		CHECK(memchr(line, '\0', sizeof(line)) != NULL);
	}
	CHECK(rc == 1 || rc == 0 || rc == -EBADMSG);
	ap_bgp_mrt_close(r);
	free(buf);
	return 0;
}
