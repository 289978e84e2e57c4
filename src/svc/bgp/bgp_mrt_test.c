/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MRT RIB dumps from the shared peer data, read route by route and printed
 * as `bgpdump -m` does, compared line by line with bgpdump's own output.
 * Skipped when the folder is absent.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>

#include "svc/bgp/bgp.h"

#define MRT_DIR "../shared/peer-data/bgp-mrt"

/* Whole output of 'gzip -cd FILE'; NULL when the file is not there. */
static uint8_t *
gunzip(const char *path, size_t *len)
{
	char cmd[512];
	size_t cap = 1 << 20, n = 0;
	uint8_t *buf;
	FILE *f;

	if (access(path, R_OK) != 0)
		return NULL;
	snprintf(cmd, sizeof(cmd), "gzip -cd '%s'", path);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	buf = malloc(cap);
	for (;;) {
		size_t r;

		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
		r = fread(buf + n, 1, cap - n, f);
		if (r == 0)
			break;
		n += r;
	}
	cr_assert_eq(pclose(f), 0, "gzip -cd %s failed", path);
	*len = n;
	return buf;
}

struct dump_case {
	const char *file;
	unsigned lines;
};

static struct dump_case cases[] = {
	{"bview.64k_stream_overflow.gz", 23},
	{"bview.ipv4_unicast_add_path.gz", 62},
	{"bview.20020722.2337.gz", 115521},
};

ParameterizedTestParameters(bgp_mrt, bgpdump_lines)
{
	static size_t idx[sizeof(cases) / sizeof(cases[0])];

	for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, sizeof(idx) / sizeof(idx[0]));
}

ParameterizedTest(size_t *row, bgp_mrt, bgpdump_lines)
{
	const struct dump_case *c = &cases[*row];
	char path[512], line[8192];
	size_t mlen, elen;
	uint8_t *mrt, *exp;
	char *cur, *nl;
	struct ap_bgp_mrt_reader *r;
	struct ap_bgp_mrt_entry e;
	unsigned n = 0, bad = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/mrt/%s", MRT_DIR, c->file);
	mrt = gunzip(path, &mlen);
	if (mrt == NULL)
		cr_skip_test("%s is absent: shared peer data not installed", path);
	snprintf(path, sizeof(path), "%s/expected_bgpdump_m/%s.bgp.gz", MRT_DIR, c->file);
	exp = gunzip(path, &elen);
	cr_assert_not_null(exp);
	exp = realloc(exp, elen + 1);
	exp[elen] = '\0';
	r = ap_bgp_mrt_open(mrt, mlen);
	cr_assert_not_null(r);
	cur = (char *)exp;
	while ((rc = ap_bgp_mrt_next(r, &e)) == 1) {
		nl = strchr(cur, '\n');
		cr_assert_not_null(nl, "%s: more routes than bgpdump printed", c->file);
		*nl = '\0';
		ap_bgp_mrt_line(&e, line, sizeof(line));
		if (strcmp(line, cur) != 0 && bad++ < 3)
			cr_log_error("%s line %u:\n  got  %s\n  want %s", c->file, n + 1, line,
				     cur);
		cur = nl + 1;
		n++;
	}
	cr_assert_eq(rc, 0, "%s: read error after %u routes", c->file, n);
	cr_assert_eq(bad, 0, "%s: %u of %u lines differ", c->file, bad, n);
	cr_assert_eq(n, c->lines, "%s: %u routes", c->file, n);
	cr_assert_eq(*cur, '\0', "%s: fewer routes than bgpdump printed", c->file);
	ap_bgp_mrt_close(r);
	free(mrt);
	free(exp);
}

Test(bgp_mrt, truncated_record)
{
	/* A TABLE_DUMP_V2 header announcing more bytes than there are. */
	static const uint8_t bad[] = {0, 0, 0, 1, 0, 13, 0, 2, 0, 0, 0, 50, 0, 0};
	struct ap_bgp_mrt_reader *r = ap_bgp_mrt_open(bad, sizeof(bad));
	struct ap_bgp_mrt_entry e;

	cr_assert_eq(ap_bgp_mrt_next(r, &e), -EBADMSG);
	ap_bgp_mrt_close(r);
}

/*
 * Writing: every route of a dump written again as TABLE_DUMP_V2 (a peer
 * table of the dump's peers, one RIB record per route) must read back to the
 * same bgpdump line, the record type aside.
 */
static struct dump_case rewrite_cases[] = {
	{"bview.64k_stream_overflow.gz", 23},
	{"bview.20020722.2337.gz", 115521},
};

ParameterizedTestParameters(bgp_mrt, rewrite)
{
	static size_t idx[sizeof(rewrite_cases) / sizeof(rewrite_cases[0])];

	for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, sizeof(idx) / sizeof(idx[0]));
}

/* The line without its first field (TABLE_DUMP or TABLE_DUMP2). */
static const char *
after_type(const char *line)
{
	const char *p = strchr(line, '|');

	return p ? p : line;
}

ParameterizedTest(size_t *row, bgp_mrt, rewrite)
{
	const struct dump_case *c = &rewrite_cases[*row];
	static struct ap_bgp_mrt_peer peers[1024];
	uint16_t n_peers = 0;
	size_t mlen, cap, used = 0;
	char path[512], line[8192], line2[8192];
	uint8_t *mrt, *out;
	struct ap_bgp_mrt_reader *r, *r2;
	struct ap_bgp_mrt_entry e, e2;
	struct ap_wire_w w;
	unsigned n = 0;

	snprintf(path, sizeof(path), "%s/mrt/%s", MRT_DIR, c->file);
	mrt = gunzip(path, &mlen);
	if (mrt == NULL)
		cr_skip_test("%s is absent: shared peer data not installed", path);
	cap = 2 * mlen + (1 << 20);
	out = malloc(cap);
	cr_assert_not_null(out);

	/* The peer table first: it precedes the RIB records. */
	r = ap_bgp_mrt_open(mrt, mlen);
	while (ap_bgp_mrt_next(r, &e) == 1) {
		uint16_t i;

		for (i = 0; i < n_peers; i++)
			if (peers[i].v6 == e.peer_v6 && peers[i].as == e.peer_as &&
			    memcmp(peers[i].addr, e.peer_addr, 16) == 0)
				break;
		if (i == n_peers) {
			cr_assert_lt(n_peers, 1024);
			peers[n_peers] = (struct ap_bgp_mrt_peer){
				.bgp_id = n_peers + 1u, .v6 = e.peer_v6, .as = e.peer_as};
			memcpy(peers[n_peers++].addr, e.peer_addr, 16);
		}
	}
	ap_bgp_mrt_close(r);
	ap_wire_w_init(&w, out, (uint32_t)cap);
	cr_assert_eq(ap_bgp_mrt_write_peers(&w, 1, 0x0a000001, "", peers, n_peers), 0);
	used = ap_wire_w_used(&w);

	r = ap_bgp_mrt_open(mrt, mlen);
	while (ap_bgp_mrt_next(r, &e) == 1) {
		struct ap_bgp_mrt_rib_entry re = {.originated = e.ts, .attrs = e.attrs};

		while (re.peer < n_peers &&
		       !(peers[re.peer].v6 == e.peer_v6 && peers[re.peer].as == e.peer_as &&
			 memcmp(peers[re.peer].addr, e.peer_addr, 16) == 0))
			re.peer++;
		ap_wire_w_init(&w, out + used, (uint32_t)(cap - used));
		cr_assert_eq(ap_bgp_mrt_write_rib(&w, e.ts, n, &e.pfx, &re, 1), 0);
		used += ap_wire_w_used(&w);
		n++;
	}
	ap_bgp_mrt_close(r);
	cr_assert_eq(n, c->lines);

	/* Both files side by side, route by route. */
	r = ap_bgp_mrt_open(mrt, mlen);
	r2 = ap_bgp_mrt_open(out, used);
	for (unsigned i = 0; i < n; i++) {
		cr_assert_eq(ap_bgp_mrt_next(r, &e), 1);
		cr_assert_eq(ap_bgp_mrt_next(r2, &e2), 1, "%s: route %u not read back", c->file,
			     i + 1);
		cr_assert_eq(e2.type, 13);
		ap_bgp_mrt_line(&e, line, sizeof(line));
		ap_bgp_mrt_line(&e2, line2, sizeof(line2));
		cr_assert_str_eq(after_type(line2), after_type(line), "%s route %u", c->file,
				 i + 1);
	}
	cr_assert_eq(ap_bgp_mrt_next(r2, &e2), 0);
	ap_bgp_mrt_close(r);
	ap_bgp_mrt_close(r2);
	free(out);
	free(mrt);
}
