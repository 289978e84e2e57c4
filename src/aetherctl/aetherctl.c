/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * aetherctl: command-line client of the aetherd REST API.
 *
 * Every command is one row of 'commands': the words that name it, the API
 * call it makes and a renderer for the human output. New management
 * commands are new rows; -j prints what the API returned for all of them.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#define DEFAULT_SOCKET	  "/run/aetherd/api.sock"
#define MAX_WORDS	  4
#define CONNECT_TIMEOUT_S 5L
#define TOTAL_TIMEOUT_S	  60L

/* Exit codes; docs/aetherctl.md lists them for scripts. */
enum {
	EXIT_OK = 0,
	EXIT_API_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,
};

/* One HTTP call to make. */
struct buf {
	char *data;
	size_t len;
};

struct call {
	char method[16];
	const char *path;
	const char *body; /* JSON text or NULL */
	char *owned;	  /* body when the call built it: freed after the call */
};

struct cmd {
	const char *words[MAX_WORDS]; /* NULL terminated */
	const char *args;	      /* argument synopsis, NULL when none */
	unsigned min_args;
	unsigned max_args;
	const char *method;
	const char *path;
	/* Builds the call from the arguments; NULL means method and path as given. */
	int (*prepare)(char **args, unsigned n, struct call *c);
	/* Human output; NULL prints the JSON. Returns -1 when the reply has the wrong shape. */
	int (*render)(json_t *root);
	/* Runs after a successful call (e.g. following a capture); returns an exit code. */
	int (*follow)(const char *sock);
	const char *help;
};

static const char *progname = "aetherctl";
/* TCP transport (--url); NULL: the unix socket. */
static const char *api_url;
static char api_token[128];

__attribute__((format(printf, 1, 2))) static void
errmsg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* --- tables ----------------------------------------------------------- */

struct column {
	const char *head;
	bool right; /* numbers are right-aligned */
};

struct table {
	const struct column *cols;
	unsigned ncols;
	char **cells; /* row-major, ncols per row */
	size_t nrows;
	size_t cap;
};

static void
table_add(struct table *t, char **row)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **nc = realloc(t->cells, cap * t->ncols * sizeof(*nc));

		if (nc == NULL) {
			errmsg("out of memory");
			exit(EXIT_API_ERROR);
		}
		t->cells = nc;
		t->cap = cap;
	}
	for (unsigned c = 0; c < t->ncols; c++) {
		char *s = strdup(row[c] ? row[c] : "-");

		if (s == NULL) {
			errmsg("out of memory");
			exit(EXIT_API_ERROR);
		}
		t->cells[t->nrows * t->ncols + c] = s;
	}
	t->nrows++;
}

static void
table_print(struct table *t)
{
	size_t width[16] = {0};

	for (unsigned c = 0; c < t->ncols; c++) {
		width[c] = strlen(t->cols[c].head);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t w = strlen(t->cells[r * t->ncols + c]);

			if (w > width[c])
				width[c] = w;
		}
	}
	for (size_t r = 0; r <= t->nrows; r++) {
		for (unsigned c = 0; c < t->ncols; c++) {
			const char *s = r == 0 ? t->cols[c].head : t->cells[(r - 1) * t->ncols + c];
			int w = (int)width[c];
			bool last = c + 1 == t->ncols;

			if (t->cols[c].right)
				printf("%*s", w, s);
			else if (last)
				printf("%s", s);
			else
				printf("%-*s", w, s);
			printf("%s", last ? "\n" : "  ");
		}
	}
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

/* Integer or real as a decimal string; "-" when absent or not a number. */
static char *
fmt_num(json_t *v, char *buf, size_t size, int decimals)
{
	if (json_is_integer(v))
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, size, "%.*f", decimals, json_real_value(v));
	else
		snprintf(buf, size, "-");
	return buf;
}

static const char *
str_or_dash(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "-";
}

/* --- renderers -------------------------------------------------------- */

static int
render_ports(json_t *root)
{
	static const struct column cols[] = {
		{"NAME", false},    {"DRIVER", false}, {"LINK", false},	   {"RX-PKTS", true},
		{"RX-BYTES", true}, {"TX-PKTS", true}, {"TX-BYTES", true}, {"DROPS", true},
	};
	static const char *const counters[] = {"rx_packets", "rx_bytes", "tx_packets", "tx_bytes",
					       "drops"};
	struct table t = {.cols = cols, .ncols = 8};
	json_t *ports = json_object_get(root, "ports");
	json_t *p;
	size_t i;

	if (!json_is_array(ports))
		return -1;
	json_array_foreach(ports, i, p)
	{
		char num[5][32];
		char *row[8];
		json_t *up = json_object_get(p, "link_up");

		row[0] = (char *)str_or_dash(p, "name");
		row[1] = (char *)str_or_dash(p, "driver");
		row[2] = json_is_boolean(up) ? (json_is_true(up) ? "up" : "down") : "-";
		for (unsigned k = 0; k < 5; k++)
			row[3 + k] =
				fmt_num(json_object_get(p, counters[k]), num[k], sizeof(num[k]), 0);
		table_add(&t, row);
	}
	table_print(&t);
	return 0;
}

static int
render_nodes(json_t *root)
{
	static const struct column cols[] = {
		{"NAME", false},
		{"CALLS", true},
		{"PACKETS", true},
		{"CYCLES/PKT", true},
	};
	struct table t = {.cols = cols, .ncols = 4};
	json_t *nodes = json_object_get(root, "nodes");
	json_t *n;
	size_t i;

	if (!json_is_array(nodes))
		return -1;
	json_array_foreach(nodes, i, n)
	{
		char calls[32], pkts[32], cpp[32];
		char *row[] = {
			(char *)str_or_dash(n, "name"),
			fmt_num(json_object_get(n, "calls"), calls, sizeof(calls), 0),
			fmt_num(json_object_get(n, "packets"), pkts, sizeof(pkts), 0),
			fmt_num(json_object_get(n, "cycles_per_packet"), cpp, sizeof(cpp), 1),
		};

		table_add(&t, row);
	}
	table_print(&t);
	return 0;
}

static void
fmt_uptime(json_t *v, char *buf, size_t size)
{
	double s = json_number_value(v);
	unsigned long long t;

	if (!json_is_number(v) || s < 0) {
		snprintf(buf, size, "-");
		return;
	}
	t = (unsigned long long)s;
	if (t < 60)
		snprintf(buf, size, "%.1fs", s);
	else if (t < 3600)
		snprintf(buf, size, "%llum %llus", t / 60, t % 60);
	else if (t < 86400)
		snprintf(buf, size, "%lluh %llum %llus", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, size, "%llud %lluh %llum", t / 86400, t / 3600 % 24, t / 60 % 60);
}

struct reason {
	const char *name;
	json_int_t count;
};

static int
cmp_reason(const void *a, const void *b)
{
	const struct reason *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->name, y->name);
}

static int
render_stats(json_t *root)
{
	static const struct column cols[] = {{"REASON", false}, {"COUNT", true}};
	struct table t = {.cols = cols, .ncols = 2};
	json_t *drops = json_object_get(root, "drops");
	json_t *reasons = json_object_get(drops, "reasons");
	struct reason *list = NULL;
	char buf[64];
	const char *key;
	json_t *v;
	size_t n = 0;

	if (!json_is_object(root))
		return -1;
	fmt_uptime(json_object_get(root, "uptime_s"), buf, sizeof(buf));
	printf("%-20s %s\n", "uptime", buf);
	printf("%-20s %s\n", "workers", fmt_num(json_object_get(root, "workers"), buf, 64, 0));
	printf("%-20s %s\n", "rx packets",
	       fmt_num(json_object_get(root, "rx_packets"), buf, 64, 0));
	printf("%-20s %s\n", "tx packets",
	       fmt_num(json_object_get(root, "tx_packets"), buf, 64, 0));
	printf("%-20s %s\n", "packets/s",
	       fmt_num(json_object_get(root, "packets_per_second"), buf, 64, 1));
	printf("%-20s %s\n", "drops", fmt_num(json_object_get(drops, "total"), buf, 64, 0));

	if (json_object_size(reasons) == 0)
		return 0;
	list = calloc(json_object_size(reasons), sizeof(*list));
	if (list == NULL)
		return -1;
	json_object_foreach(reasons, key, v)
	{
		list[n].name = key;
		list[n].count = json_is_integer(v) ? json_integer_value(v) : 0;
		n++;
	}
	qsort(list, n, sizeof(*list), cmp_reason);
	printf("\n");
	for (size_t i = 0; i < n; i++) {
		char count[32];
		char *row[] = {(char *)list[i].name, count};

		snprintf(count, sizeof(count), "%" JSON_INTEGER_FORMAT, list[i].count);
		table_add(&t, row);
	}
	table_print(&t);
	free(list);
	return 0;
}

static int
render_log(json_t *root)
{
	static const struct column cols[] = {{"MODULE", false}, {"LEVEL", false}};
	struct table t = {.cols = cols, .ncols = 2};
	json_t *mods = json_object_get(root, "modules");
	const char *key;
	json_t *v;

	if (!json_is_string(json_object_get(root, "level")))
		return -1;
	printf("%-8s %s\n", "level", str_or_dash(root, "level"));
	printf("%-8s %s\n", "format", str_or_dash(root, "format"));
	if (json_object_size(mods) == 0)
		return 0;
	printf("\n");
	json_object_foreach(mods, key, v)
	{
		char *row[] = {(char *)key,
			       (char *)(json_string_value(v) ? json_string_value(v) : "-")};

		table_add(&t, row);
	}
	table_print(&t);
	return 0;
}

/* Print @p s on the current line: control bytes are escaped, so one record stays one line. */
static void
put_one_line(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
}

/* One line a record, as the daemon writes them: TIME LEVEL [MODULE] MESSAGE. */
static int
render_logs(json_t *root)
{
	json_t *recs = json_object_get(root, "records");
	json_t *r;
	size_t i;

	if (!json_is_array(recs))
		return -1;
	json_array_foreach(recs, i, r)
	{
		printf("%s %-7s [", str_or_dash(r, "ts"), str_or_dash(r, "level"));
		put_one_line(str_or_dash(r, "module"));
		fputs("] ", stdout);
		put_one_line(str_or_dash(r, "msg"));
		putchar('\n');
	}
	return 0;
}

/* --- commands --------------------------------------------------------- */

/* Where an interface, bridge member or MAC sits: "PORT", "PORT.VLAN",
 * "PORT.VLAN.INNER", or "bridge NAME" / the bridge interface's name. */
static const char *
where_str(json_t *o, char *buf, size_t size)
{
	json_t *vlan = json_object_get(o, "vlan"), *inner = json_object_get(o, "inner_vlan");
	const char *port = json_string_value(json_object_get(o, "port"));

	if (port == NULL) {
		const char *br = json_string_value(json_object_get(o, "bridge"));
		const char *ifc = json_string_value(json_object_get(o, "interface"));

		if (br)
			snprintf(buf, size, "bridge %s", br);
		else
			snprintf(buf, size, "%s", ifc ? ifc : "-");
		return buf;
	}
	if (json_is_integer(inner))
		snprintf(buf, size, "%s.%lld.%lld", port, json_integer_value(vlan),
			 json_integer_value(inner));
	else if (json_is_integer(vlan))
		snprintf(buf, size, "%s.%lld", port, json_integer_value(vlan));
	else
		snprintf(buf, size, "%s", port);
	return buf;
}

static int
render_bridges(json_t *root)
{
	static const struct column cols[] = {
		{"BRIDGE", false}, {"MEMBER", false}, {"LEARNED", true},
		{"LIMIT", true},   {"RX-PKTS", true}, {"TX-PKTS", true},
	};
	struct table t = {.cols = cols, .ncols = 6};
	json_t *brs = json_object_get(root, "bridges"), *br, *m;
	size_t i, k;

	if (!json_is_array(brs))
		return -1;
	json_array_foreach(brs, i, br)
	{
		json_t *c = json_object_get(br, "counters");
		char hdr[256];

		json_array_foreach(json_object_get(br, "members"), k, m)
		{
			char where[96], learned[32], limit[32], rx[32], tx[32];
			char *row[6] = {
				k ? "" : (char *)str_or_dash(br, "name"),
				(char *)where_str(m, where, sizeof(where)),
				fmt_num(json_object_get(m, "learned"), learned, sizeof(learned), 0),
				fmt_num(json_object_get(m, "learn_limit"), limit, sizeof(limit), 0),
				fmt_num(json_object_get(m, "rx_packets"), rx, sizeof(rx), 0),
				fmt_num(json_object_get(m, "tx_packets"), tx, sizeof(tx), 0),
			};

			table_add(&t, row);
		}
		snprintf(hdr, sizeof(hdr),
			 "bridge %s: %lld MACs, learned %lld, moved %lld, aged %lld, learn-limit "
			 "hits %lld, flooded %lld",
			 str_or_dash(br, "name"), json_integer_value(json_object_get(br, "macs")),
			 json_integer_value(json_object_get(c, "learned")),
			 json_integer_value(json_object_get(c, "moved")),
			 json_integer_value(json_object_get(c, "aged")),
			 json_integer_value(json_object_get(c, "learn_limit_hits")),
			 json_integer_value(json_object_get(c, "flooded")));
		puts(hdr);
	}
	table_print(&t);
	return 0;
}

static int
render_macs(json_t *root)
{
	static const struct column cols[] = {
		{"BRIDGE", false}, {"MAC", false},  {"MEMBER", false},
		{"TYPE", false},   {"AGE-S", true},
	};
	struct table t = {.cols = cols, .ncols = 5};
	json_t *macs = json_object_get(root, "macs"), *m;
	size_t i;

	if (!json_is_array(macs))
		return -1;
	json_array_foreach(macs, i, m)
	{
		char where[96], age[32];
		char *row[5] = {
			(char *)str_or_dash(m, "bridge"),
			(char *)str_or_dash(m, "mac"),
			(char *)where_str(m, where, sizeof(where)),
			json_is_true(json_object_get(m, "static")) ? "static" : "learned",
			fmt_num(json_object_get(m, "age_s"), age, sizeof(age), 0),
		};

		table_add(&t, row);
	}
	table_print(&t);
	return 0;
}

static int
print_flushed(json_t *root, const char *what)
{
	json_t *n = json_object_get(root, "flushed");

	if (!json_is_integer(n))
		return -1;
	printf("flushed %lld %s\n", json_integer_value(n), what);
	return 0;
}

static int
render_flushed(json_t *root)
{
	return print_flushed(root, "learned MACs");
}

static int
render_ct_flushed(json_t *root)
{
	return print_flushed(root, "connections");
}

static int
prepare_bridge_macs(char **args, unsigned n, struct call *c, const char *method)
{
	static char path[128];

	snprintf(c->method, sizeof(c->method), "%s", method);
	if (n == 0) {
		c->path = "/api/v1/bridges/macs";
		return 0;
	}
	if (strlen(args[0]) > 64 ||
	    strspn(args[0], "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(args[0])) {
		errmsg("not a bridge name: %s", args[0]);
		return -1;
	}
	snprintf(path, sizeof(path), "/api/v1/bridges/macs?bridge=%s", args[0]);
	c->path = path;
	return 0;
}

static int
prepare_show_macs(char **args, unsigned n, struct call *c)
{
	return prepare_bridge_macs(args, n, c, "GET");
}

static int
prepare_flush_macs(char **args, unsigned n, struct call *c)
{
	return prepare_bridge_macs(args, n, c, "DELETE");
}

/* show conntrack [tcp|udp|icmp|icmpv6|other] [ADDRESS] [PORT]: any order. */
/* [tcp|udp|icmp|icmpv6|other] [ADDRESS] [PORT] in any order, as the query of
 * a GET (at most 1000 flows) or a DELETE of /api/v1/conntrack. */
static int
conntrack_call(char **args, unsigned n, struct call *c, const char *method)
{
	static char path[256];
	const char *proto = NULL, *addr = NULL, *port = NULL;
	size_t off;

	for (unsigned i = 0; i < n; i++) {
		const char *a = args[i];

		if (!strcmp(a, "tcp") || !strcmp(a, "udp") || !strcmp(a, "icmp") ||
		    !strcmp(a, "icmpv6") || !strcmp(a, "other"))
			proto = a;
		else if (strspn(a, "0123456789") == strlen(a) && strlen(a) <= 5)
			port = a;
		else if (strspn(a, "0123456789abcdefABCDEF.:") == strlen(a) && strlen(a) < 46)
			addr = a;
		else {
			errmsg("not a protocol, address or port: %s", a);
			return -1;
		}
	}
	off = (size_t)snprintf(path, sizeof(path), "/api/v1/conntrack?limit=%s",
			       strcmp(method, "GET") == 0 ? "1000" : "0");
	if (proto)
		off += (size_t)snprintf(path + off, sizeof(path) - off, "&proto=%s", proto);
	if (addr)
		off += (size_t)snprintf(path + off, sizeof(path) - off, "&address=%s", addr);
	if (port)
		snprintf(path + off, sizeof(path) - off, "&port=%s", port);
	snprintf(c->method, sizeof(c->method), "%s", method);
	c->path = path;
	return 0;
}

static int
prepare_conntrack(char **args, unsigned n, struct call *c)
{
	return conntrack_call(args, n, c, "GET");
}

static int
prepare_clear_conntrack(char **args, unsigned n, struct call *c)
{
	return conntrack_call(args, n, c, "DELETE");
}

static void
ends_str(json_t *e, char *buf, size_t size)
{
	json_t *sp = json_object_get(e, "sport"), *id = json_object_get(e, "id");

	if (json_is_integer(sp))
		snprintf(buf, size, "%s:%lld > %s:%lld", str_or_dash(e, "src"),
			 json_integer_value(sp), str_or_dash(e, "dst"),
			 json_integer_value(json_object_get(e, "dport")));
	else if (json_is_integer(id))
		snprintf(buf, size, "%s > %s id %lld", str_or_dash(e, "src"), str_or_dash(e, "dst"),
			 json_integer_value(id));
	else
		snprintf(buf, size, "%s > %s", str_or_dash(e, "src"), str_or_dash(e, "dst"));
}

static int
render_conntrack(json_t *root)
{
	static const struct column cols[] = {
		{"PROTO", false}, {"ORIGINAL", false}, {"TRANSLATED", false}, {"STATE", false},
		{"FLAGS", false}, {"PKTS", true},      {"BYTES", true},	      {"EXPIRES-S", true},
	};
	struct table t = {.cols = cols, .ncols = 8};
	json_t *flows = json_object_get(root, "flows"), *f, *st = json_object_get(root, "stats");
	size_t i;

	if (!json_is_array(flows))
		return -1;
	json_array_foreach(flows, i, f)
	{
		char orig[160], nat[160] = "-", pk[64], by[64], ex[32];
		const char *flags = json_is_true(json_object_get(f, "assured"))	     ? "assured"
				    : json_is_true(json_object_get(f, "seen_reply")) ? "replied"
										     : "unreplied";
		char *row[8];

		ends_str(json_object_get(f, "orig"), orig, sizeof(orig));
		if (json_object_get(f, "nat"))
			ends_str(json_object_get(f, "nat"), nat, sizeof(nat));
		snprintf(pk, sizeof(pk), "%lld/%lld",
			 json_integer_value(json_object_get(f, "orig_packets")),
			 json_integer_value(json_object_get(f, "reply_packets")));
		snprintf(by, sizeof(by), "%lld/%lld",
			 json_integer_value(json_object_get(f, "orig_bytes")),
			 json_integer_value(json_object_get(f, "reply_bytes")));
		row[0] = (char *)str_or_dash(f, "proto");
		row[1] = orig;
		row[2] = nat;
		row[3] = (char *)str_or_dash(f, "state");
		row[4] = (char *)flags;
		row[5] = pk;
		row[6] = by;
		row[7] = fmt_num(json_object_get(f, "expires_s"), ex, sizeof(ex), 0);
		table_add(&t, row);
	}
	table_print(&t);
	printf("%lld flows shown of %lld tracked (max %lld); created %lld, expired %lld, early "
	       "drops %lld, refused (table full) %lld, invalid %lld\n",
	       (long long)json_array_size(flows), json_integer_value(json_object_get(st, "flows")),
	       json_integer_value(json_object_get(st, "max_flows")),
	       json_integer_value(json_object_get(st, "created")),
	       json_integer_value(json_object_get(st, "expired")),
	       json_integer_value(json_object_get(st, "early_drop")),
	       json_integer_value(json_object_get(st, "table_full")),
	       json_integer_value(json_object_get(st, "invalid")));
	return 0;
}

/* GET /api/v1/conntrack/events: one line an event, oldest first. */
static int
render_ct_events(json_t *root)
{
	json_t *evs = json_object_get(root, "events"), *e;
	size_t i;

	if (!json_is_true(json_object_get(root, "enabled"))) {
		puts("conntrack events: off (conntrack.events: true turns them on)");
		return 0;
	}
	json_array_foreach(evs, i, e)
	{
		time_t t = (time_t)json_number_value(json_object_get(e, "time"));
		char when[32], orig[160], nat[160] = "";

		strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
		ends_str(json_object_get(e, "orig"), orig, sizeof(orig));
		if (json_object_get(e, "nat")) {
			strcpy(nat, " as ");
			ends_str(json_object_get(e, "nat"), nat + 4, sizeof(nat) - 4);
		}
		printf("%s [%s] %s %s%s %s", when, str_or_dash(e, "type"), str_or_dash(e, "proto"),
		       orig, nat, str_or_dash(e, "community_id"));
		if (json_object_get(e, "reason"))
			printf(" %s after %.1fs, %lld/%lld packets", str_or_dash(e, "reason"),
			       json_number_value(json_object_get(e, "duration_s")),
			       json_integer_value(json_object_get(e, "orig_packets")),
			       json_integer_value(json_object_get(e, "reply_packets")));
		putchar('\n');
	}
	printf("new %lld, destroy %lld, lost %lld\n",
	       json_integer_value(json_object_get(root, "new")),
	       json_integer_value(json_object_get(root, "destroy")),
	       json_integer_value(json_object_get(root, "lost")));
	return 0;
}

/* A rule's match value: a set's name or a list of inline values. */
static const char *
match_str(json_t *v, char *buf, size_t size)
{
	json_t *x;
	size_t i, off = 0;

	if (v == NULL)
		return "-";
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, size, "%lld", json_integer_value(v));
		return buf;
	}
	buf[0] = '\0';
	json_array_foreach(v, i, x) off +=
		(size_t)snprintf(buf + off, off < size ? size - off : 0, "%s%s", i ? "," : "",
				 json_is_string(x) ? json_string_value(x) : "?");
	return buf;
}

static int
render_firewall(json_t *root)
{
	static const struct column cols[] = {
		{"#", true},	   {"FROM", false}, {"TO", false},    {"PROTO", false},
		{"SRC", false},	   {"DST", false},  {"DPORT", false}, {"STATE", false},
		{"ACTION", false}, {"HITS", true},
	};
	struct table t = {.cols = cols, .ncols = 10};
	json_t *rules = json_object_get(root, "rules"), *r, *p, *v;
	size_t i;
	const char *k;

	if (!json_is_true(json_object_get(root, "enabled"))) {
		puts("firewall: off");
		return 0;
	}
	if (!json_is_array(rules))
		return -1;
	json_array_foreach(rules, i, r)
	{
		char idx[16], pr[16], src[128], dst[128], dp[128], st[128], hits[32], act[32];
		char *row[10] = {
			fmt_num(json_object_get(r, "index"), idx, sizeof(idx), 0),
			(char *)str_or_dash(r, "from"),
			(char *)str_or_dash(r, "to"),
			(char *)match_str(json_object_get(r, "proto"), pr, sizeof(pr)),
			(char *)match_str(json_object_get(r, "src"), src, sizeof(src)),
			(char *)match_str(json_object_get(r, "dst"), dst, sizeof(dst)),
			(char *)match_str(json_object_get(r, "dport"), dp, sizeof(dp)),
			(char *)match_str(json_object_get(r, "ct_state"), st, sizeof(st)),
			act,
			fmt_num(json_object_get(r, "hits"), hits, sizeof(hits), 0),
		};

		snprintf(act, sizeof(act), "%s%s", str_or_dash(r, "action"),
			 json_is_true(json_object_get(r, "log")) ? ",log" : "");

		table_add(&t, row);
	}
	table_print(&t);
	json_array_foreach(json_object_get(root, "policies"), i, p)
		printf("policy %s -> %s: %s\n", str_or_dash(p, "from"), str_or_dash(p, "to"),
		       str_or_dash(p, "action"));
	printf("default: %s; verdicts:", str_or_dash(root, "default"));
	json_object_foreach(json_object_get(root, "verdicts"), k, v)
		printf(" %s %lld", k, json_integer_value(v));
	printf("; from flow memos: %lld\n", json_integer_value(json_object_get(root, "memo_hits")));
	return 0;
}

/* "20M" for 20000000 bit/s, "-" when absent. */
static const char *
fmt_bps(json_t *v, char *buf, size_t size)
{
	double x = (double)json_integer_value(v);

	if (!json_is_integer(v))
		return "-";
	if (x >= 1e9)
		snprintf(buf, size, "%.4gG", x / 1e9);
	else if (x >= 1e6)
		snprintf(buf, size, "%.4gM", x / 1e6);
	else
		snprintf(buf, size, "%.4gk", x / 1e3);
	return buf;
}

static int
render_qos(json_t *root)
{
	static const struct column cols[] = {
		{"CLASS", false},  {"OUT", false},    {"RATE", true},  {"CEIL", true},
		{"PKTS", true},	   {"BYTES", true},   {"SENT", true},  {"G/Y/R", true},
		{"POLICED", true}, {"HOSTLIM", true}, {"QFULL", true}, {"QUEUE", true},
	};
	struct table t = {.cols = cols, .ncols = 12};
	json_t *classes = json_object_get(root, "classes"), *c, *p;
	size_t i;

	if (!json_is_true(json_object_get(root, "enabled"))) {
		puts("qos: off");
		return 0;
	}
	if (!json_is_array(classes))
		return -1;
	json_array_foreach(classes, i, c)
	{
		json_t *k = json_object_get(c, "counters"), *col = json_object_get(k, "colors");
		json_t *d = json_object_get(k, "drops");
		char rate[16], ceil[16], pk[32], by[32], tx[32], gyr[96], pol[32], host[32], qf[32],
			q[48];
		char *row[12] = {
			(char *)str_or_dash(c, "name"),
			(char *)str_or_dash(c, "out"),
			(char *)fmt_bps(json_object_get(c, "rate_bps"), rate, sizeof(rate)),
			(char *)fmt_bps(json_object_get(c, "ceil_bps"), ceil, sizeof(ceil)),
			fmt_num(json_object_get(k, "packets"), pk, sizeof(pk), 0),
			fmt_num(json_object_get(k, "bytes"), by, sizeof(by), 0),
			fmt_num(json_object_get(k, "tx_packets"), tx, sizeof(tx), 0),
			gyr,
			fmt_num(json_object_get(d, "policer"), pol, sizeof(pol), 0),
			fmt_num(json_object_get(d, "host_limit"), host, sizeof(host), 0),
			fmt_num(json_object_get(d, "queue_full"), qf, sizeof(qf), 0),
			q,
		};

		snprintf(gyr, sizeof(gyr), "%lld/%lld/%lld",
			 json_integer_value(json_object_get(col, "green")),
			 json_integer_value(json_object_get(col, "yellow")),
			 json_integer_value(json_object_get(col, "red")));
		if (json_object_get(c, "queue_limit"))
			snprintf(q, sizeof(q), "%lld/%lld",
				 json_integer_value(json_object_get(c, "queue_depth")),
				 json_integer_value(json_object_get(c, "queue_limit")));
		else
			snprintf(q, sizeof(q), "-");
		table_add(&t, row);
	}
	table_print(&t);
	json_array_foreach(json_object_get(root, "policers"), i, p)
	{
		char cir[16], pir[16];

		printf("policer %s: %s cir %s", str_or_dash(p, "name"), str_or_dash(p, "type"),
		       fmt_bps(json_object_get(p, "cir_bps"), cir, sizeof(cir)));
		if (json_object_get(p, "pir_bps"))
			printf(" pir %s", fmt_bps(json_object_get(p, "pir_bps"), pir, sizeof(pir)));
		printf(", exceed %s, violate %s\n", str_or_dash(p, "exceed"),
		       str_or_dash(p, "violate"));
	}
	return 0;
}

static int
render_synproxy(json_t *root)
{
	static const struct column cols[] = {
		{"ARMED FOR", false},
		{"SINCE-S", true},
		{"SYN/S", true},
		{"HALF-OPEN", true},
	};
	struct table t = {.cols = cols, .ncols = 4};
	json_t *d, *p, *v;
	size_t i;
	const char *k;

	if (!json_is_true(json_object_get(root, "enabled"))) {
		puts("synproxy: off");
		return 0;
	}
	printf("protecting:");
	json_array_foreach(json_object_get(root, "protect"), i, p)
		printf(" %s ports %lld-%lld", str_or_dash(p, "prefix"),
		       json_integer_value(json_object_get(p, "port_lo")),
		       json_integer_value(json_object_get(p, "port_hi")));
	printf("%s\n", json_is_true(json_object_get(root, "always")) ? " (always proxied)" : "");
	json_array_foreach(json_object_get(root, "armed"), i, d)
	{
		char since[32], rate[32], half[32];
		char *row[4] = {
			(char *)str_or_dash(d, "destination"),
			fmt_num(json_object_get(d, "armed_s"), since, sizeof(since), 0),
			fmt_num(json_object_get(d, "syn_rate"), rate, sizeof(rate), 0),
			fmt_num(json_object_get(d, "half_open"), half, sizeof(half), 0),
		};

		table_add(&t, row);
	}
	if (t.nrows > 0)
		table_print(&t);
	else
		puts("armed for no destination");
	json_array_foreach(json_object_get(root, "blocked"), i, d)
		printf("blocked %s for %llds more\n", str_or_dash(d, "source"),
		       json_integer_value(json_object_get(d, "expires_s")));
	printf("counters:");
	json_object_foreach(json_object_get(root, "counters"), k, v)
		printf(" %s %lld", k, json_integer_value(v));
	putchar('\n');
	return 0;
}

/* GET /api/v1/firewall/log: one line a record, oldest first. */
static int
render_firewall_log(json_t *root)
{
	json_t *recs = json_object_get(root, "records"), *r;
	size_t i;

	if (!json_is_true(json_object_get(root, "enabled"))) {
		puts("firewall: off");
		return 0;
	}
	if (!json_is_array(recs))
		return -1;
	json_array_foreach(recs, i, r)
	{
		time_t t = (time_t)json_number_value(json_object_get(r, "time"));
		char when[32];

		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", localtime(&t));
		printf("%s rule %lld%s%s: %s %s %s:%lld -> %s:%lld dscp %lld ct %s %s->%s\n", when,
		       json_integer_value(json_object_get(r, "rule")),
		       json_object_get(r, "comment") ? " " : "",
		       json_object_get(r, "comment") ? str_or_dash(r, "comment") : "",
		       str_or_dash(r, "action"), str_or_dash(r, "proto"), str_or_dash(r, "src"),
		       json_integer_value(json_object_get(r, "sport")), str_or_dash(r, "dst"),
		       json_integer_value(json_object_get(r, "dport")),
		       json_integer_value(json_object_get(r, "dscp")), str_or_dash(r, "ct"),
		       str_or_dash(r, "from"), str_or_dash(r, "to"));
	}
	printf("logged %lld, over the rate limit %lld\n",
	       json_integer_value(json_object_get(root, "logged")),
	       json_integer_value(json_object_get(root, "limited")));
	return 0;
}

static int
render_interfaces(json_t *root)
{
	static const struct column cols[] = {
		{"NAME", false}, {"ON", false}, {"MAC", false}, {"MTU", true}, {"ADDRESSES", false},
	};
	struct table t = {.cols = cols, .ncols = 5};
	json_t *ifs = json_object_get(root, "interfaces");
	json_t *ifc;
	size_t i;

	if (!json_is_array(ifs))
		return -1;
	json_array_foreach(ifs, i, ifc)
	{
		char mtu[32], addrs[512] = "", where[96];
		json_t *a;
		size_t k, off = 0;
		char *row[5];

		json_array_foreach(json_object_get(ifc, "addresses"), k, a) off += (size_t)snprintf(
			addrs + off, off < sizeof(addrs) ? sizeof(addrs) - off : 0, "%s%s",
			k ? " " : "", json_string_value(a) ? json_string_value(a) : "?");
		row[0] = (char *)str_or_dash(ifc, "name");
		row[1] = (char *)where_str(ifc, where, sizeof(where));
		row[2] = (char *)str_or_dash(ifc, "mac");
		row[3] = fmt_num(json_object_get(ifc, "mtu"), mtu, sizeof(mtu), 0);
		row[4] = addrs[0] ? addrs : "-";
		table_add(&t, row);
	}
	table_print(&t);
	return 0;
}

static int
render_routes(json_t *root)
{
	static const struct column cols[] = {
		{"PREFIX", false}, {"ORIGIN", false},	 {"TYPE", false},
		{"VIA", false},	   {"INTERFACE", false},
	};
	struct table t = {.cols = cols, .ncols = 5};
	json_t *routes = json_object_get(root, "routes");
	json_t *r;
	size_t i;

	if (!json_is_array(routes))
		return -1;
	json_array_foreach(routes, i, r)
	{
		char *row[5] = {
			(char *)str_or_dash(r, "prefix"),    (char *)str_or_dash(r, "origin"),
			(char *)str_or_dash(r, "type"),	     (char *)str_or_dash(r, "via"),
			(char *)str_or_dash(r, "interface"),
		};

		table_add(&t, row);
	}
	table_print(&t);
	return 0;
}

static int
render_neighbors(json_t *root)
{
	static const struct column cols[] = {
		{"ADDRESS", false}, {"INTERFACE", false}, {"MAC", false},
		{"STATE", false},   {"AGE-S", true},	  {"QUEUED", true},
	};
	struct table t = {.cols = cols, .ncols = 6};
	json_t *ns = json_object_get(root, "neighbors");
	json_t *n;
	size_t i;

	if (!json_is_array(ns))
		return -1;
	json_array_foreach(ns, i, n)
	{
		char age[32], q[32];
		const char *mac = str_or_dash(n, "mac");
		char *row[6] = {
			(char *)str_or_dash(n, "address"),
			(char *)str_or_dash(n, "interface"),
			(char *)(mac[0] ? mac : "-"),
			(char *)str_or_dash(n, "state"),
			fmt_num(json_object_get(n, "age_s"), age, sizeof(age), 1),
			fmt_num(json_object_get(n, "queued"), q, sizeof(q), 0),
		};

		table_add(&t, row);
	}
	table_print(&t);
	return 0;
}

static int
render_deleted(json_t *root)
{
	const char *p = json_string_value(json_object_get(root, "deleted"));

	if (!p)
		return -1;
	printf("deleted %s\n", p);
	return 0;
}

/* capture PORT -w FILE [-c N] [rx|tx|both] */
/* The call: METHOD PATH with 'body' (taken over) as its JSON text. */
static int
call_json(struct call *c, const char *method, const char *path, json_t *body)
{
	c->owned = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!c->owned) {
		errmsg("out of memory");
		return -1;
	}
	c->body = c->owned;
	snprintf(c->method, sizeof(c->method), "%s", method);
	c->path = path;
	return 0;
}

/* aetherd writes the files it is asked for: 'file' as an absolute path (in
 * 'buf' when it had to be made one), or NULL with a message. */
static const char *
abs_file(const char *what, const char *file, char *buf, size_t size)
{
	char cwd[2048];

	if (file[0] == '/')
		return file;
	if (!getcwd(cwd, sizeof(cwd))) {
		errmsg("%s: cannot get the current directory: %s", what, strerror(errno));
		return NULL;
	}
	snprintf(buf, size, "%s/%s", cwd, file);
	return buf;
}

/* bgp dump FILE: the Loc-RIB as an MRT TABLE_DUMP_V2 file, written by aetherd. */
static int
prepare_bgp_dump(char **args, unsigned n, struct call *c)
{
	char path[4096];
	const char *file = abs_file("bgp dump", args[0], path, sizeof(path));
	json_t *body;

	(void)n;
	if (!file)
		return -1;
	body = json_pack("{s:s}", "file", file);
	return call_json(c, "POST", "/api/v1/bgp/mrt-dump", body);
}

static int
prepare_capture(char **args, unsigned n, struct call *c)
{
	const char *file = NULL, *dir = "both";
	unsigned long count = 1000;
	static char filter[1024];
	char path[4096];
	json_t *body;

	for (unsigned i = 1; i < n; i++) {
		if (strcmp(args[i], "-w") == 0 && i + 1 < n) {
			file = args[++i];
		} else if (strcmp(args[i], "-c") == 0 && i + 1 < n) {
			char *end;

			count = strtoul(args[++i], &end, 10);
			if (*end || count < 1 || count > 10000000) {
				errmsg("capture: -c N must be 1..10000000");
				return -1;
			}
		} else if (!strcmp(args[i], "rx") || !strcmp(args[i], "tx") ||
			   !strcmp(args[i], "both")) {
			dir = args[i];
		} else {
			/* The rest is the filter, as tcpdump takes it. */
			size_t off = strlen(filter);

			snprintf(filter + off, sizeof(filter) - off, "%s%s", off ? " " : "",
				 args[i]);
		}
	}
	if (!file) {
		errmsg("usage: capture PORT -w FILE.pcapng [-c N] [rx|tx|both]");
		return -1;
	}
	file = abs_file("capture", file, path, sizeof(path));
	if (!file)
		return -1;
	body = json_pack("{s:s, s:s, s:I, s:s, s:s}", "port", args[0], "file", file, "count",
			 (json_int_t)count, "direction", dir, "filter", filter);
	return call_json(c, "POST", "/api/v1/capture", body);
}

static volatile sig_atomic_t interrupted;

static void
on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int http_call(const char *sock, const struct call *c, long *status, struct buf *body);

/* Wait for the capture to finish (or Ctrl-C, which stops it), then say how
 * many packets went to the file. */
static int
follow_capture(const char *sock)
{
	struct call get = {.method = "GET", .path = "/api/v1/capture"};
	struct call del = {.method = "DELETE", .path = "/api/v1/capture"};
	json_t *root = NULL;
	int ret = EXIT_OK;

	signal(SIGINT, on_interrupt);
	signal(SIGTERM, on_interrupt);
	for (;;) {
		struct buf body = {0};
		long status = 0;
		bool active;

		ret = http_call(sock, interrupted ? &del : &get, &status, &body);
		json_decref(root);
		root = ret == EXIT_OK ? json_loadb(body.data, body.len, 0, NULL) : NULL;
		free(body.data);
		if (ret != EXIT_OK || !root || status >= 400) {
			ret = ret != EXIT_OK ? ret : EXIT_API_ERROR;
			break;
		}
		active = json_is_true(json_object_get(root, "active"));
		if (!active || interrupted)
			break;
		usleep(100000);
	}
	if (root && ret == EXIT_OK)
		printf("%" JSON_INTEGER_FORMAT " packets written to %s%s\n",
		       json_integer_value(json_object_get(root, "written")),
		       json_string_value(json_object_get(root, "file")),
		       json_integer_value(json_object_get(root, "dropped"))
			       ? " (some dropped: capture ring full)"
			       : "");
	json_decref(root);
	return ret;
}

static int
render_message(json_t *root)
{
	const char *m = json_string_value(json_object_get(root, "message"));

	if (!m)
		return -1;
	printf("%s\n", m);
	return 0;
}

static int
render_bgp_dump(json_t *root)
{
	const char *f = json_string_value(json_object_get(root, "file"));
	json_t *r = json_object_get(root, "routes"), *b = json_object_get(root, "bytes");

	if (!f || !json_is_integer(r) || !json_is_integer(b))
		return -1;
	printf("%s: %" JSON_INTEGER_FORMAT " routes, %" JSON_INTEGER_FORMAT
	       " bytes (MRT TABLE_DUMP_V2)\n",
	       f, json_integer_value(r), json_integer_value(b));
	return 0;
}

/* One block per traced packet: each node it went through, with what it did. */
static int
render_trace(json_t *root)
{
	json_t *pkts = json_object_get(root, "packets"), *p, *st;
	size_t i, k;

	if (!json_is_array(pkts))
		return -1;
	if (json_array_size(pkts) == 0)
		printf("no packet traced yet%s\n",
		       json_is_true(json_object_get(root, "active")) ? " (tracing is on)" : "");
	json_array_foreach(pkts, i, p)
	{
		printf("packet %" JSON_INTEGER_FORMAT " (worker %" JSON_INTEGER_FORMAT ")\n",
		       json_integer_value(json_object_get(p, "id")),
		       json_integer_value(json_object_get(p, "worker")));
		json_array_foreach(json_object_get(p, "path"), k, st)
		{
			const char *ev = str_or_dash(st, "event");

			printf("  %-12s ", str_or_dash(st, "node"));
			if (strcmp(ev, "next") == 0)
				printf("-> %s", str_or_dash(st, "next"));
			else if (strcmp(ev, "drop") == 0 || strcmp(ev, "punt") == 0)
				printf("%s: %s", ev, str_or_dash(st, "reason"));
			else
				printf("%s %s", ev, str_or_dash(st, "port"));
			printf("  (%" JSON_INTEGER_FORMAT " bytes)\n",
			       json_integer_value(json_object_get(st, "len")));
		}
	}
	return 0;
}

/* trace add N */
static int
prepare_trace_add(char **args, unsigned n, struct call *c)
{
	char *end;
	unsigned long count = strtoul(args[0], &end, 10);
	json_t *body;

	(void)n;
	if (*end || count < 1 || count > 1000) {
		errmsg("trace add: N must be 1..1000");
		return -1;
	}
	{
		static char filter[1024];

		for (unsigned i = 1; i < n; i++) {
			size_t off = strlen(filter);

			snprintf(filter + off, sizeof(filter) - off, "%s%s", off ? " " : "",
				 args[i]);
		}
		body = json_pack("{s:I, s:s}", "count", (json_int_t)count, "filter", filter);
	}
	return call_json(c, "POST", "/api/v1/trace", body);
}

/* address add|del IFACE ADDRESS/LEN */
static int
prepare_address(char **args, bool add, struct call *c)
{
	static char path[512];
	CURL *curl = curl_easy_init();
	char *iface = curl ? curl_easy_escape(curl, args[0], 0) : NULL;
	char *addr = curl ? curl_easy_escape(curl, args[1], 0) : NULL;
	int rc = 0;

	if (!iface || !addr) {
		errmsg("out of memory");
		rc = -1;
		goto out;
	}
	if (add) {
		json_t *body = json_pack("{s:s}", "address", args[1]);

		c->owned = body ? json_dumps(body, JSON_COMPACT) : NULL;
		json_decref(body);
		c->body = c->owned;
		snprintf(path, sizeof(path), "/api/v1/interfaces/%s/addresses", iface);
		snprintf(c->method, sizeof(c->method), "POST");
	} else {
		snprintf(path, sizeof(path), "/api/v1/interfaces/%s/addresses?address=%s", iface,
			 addr);
		snprintf(c->method, sizeof(c->method), "DELETE");
	}
	c->path = path;
out:
	curl_free(iface);
	curl_free(addr);
	if (curl)
		curl_easy_cleanup(curl);
	return rc;
}

static int
prepare_address_add(char **args, unsigned n, struct call *c)
{
	(void)n;
	return prepare_address(args, true, c);
}

static int
prepare_address_del(char **args, unsigned n, struct call *c)
{
	(void)n;
	return prepare_address(args, false, c);
}

/* route add PREFIX via ADDRESS|blackhole ; route del PREFIX */
static int
prepare_route_add(char **args, unsigned n, struct call *c)
{
	json_t *body;

	if (n != 3 || strcmp(args[1], "via") != 0) {
		errmsg("usage: route add PREFIX via ADDRESS|blackhole");
		return -1;
	}
	body = json_pack("{s:s, s:s}", "prefix", args[0], "via", args[2]);
	return call_json(c, "POST", "/api/v1/routes", body);
}

static int
prepare_route_del(char **args, unsigned n, struct call *c)
{
	static char path[256];
	CURL *curl = curl_easy_init();
	char *esc = curl ? curl_easy_escape(curl, args[0], 0) : NULL;

	(void)n;
	if (!esc) {
		if (curl)
			curl_easy_cleanup(curl);
		errmsg("out of memory");
		return -1;
	}
	snprintf(path, sizeof(path), "/api/v1/routes?prefix=%s", esc);
	curl_free(esc);
	curl_easy_cleanup(curl);
	snprintf(c->method, sizeof(c->method), "DELETE");
	c->path = path;
	return 0;
}

/* show routes [PREFIX] */
static int
prepare_routes(char **args, unsigned n, struct call *c)
{
	static char path[256];
	CURL *curl;
	char *esc;

	snprintf(c->method, sizeof(c->method), "GET");
	if (n == 0) {
		c->path = "/api/v1/routes";
		return 0;
	}
	curl = curl_easy_init();
	esc = curl ? curl_easy_escape(curl, args[0], 0) : NULL;
	if (!esc) {
		if (curl)
			curl_easy_cleanup(curl);
		errmsg("out of memory");
		return -1;
	}
	snprintf(path, sizeof(path), "/api/v1/routes?prefix=%s", esc);
	curl_free(esc);
	curl_easy_cleanup(curl);
	c->path = path;
	return 0;
}

/* log level LEVEL | log level MODULE LEVEL ("default" puts a module back). */
static int
prepare_log_level(char **args, unsigned n, struct call *c)
{
	const char *level = args[n - 1];
	json_t *body;
	char *text;

	if (n == 2)
		body = json_pack("{s:{s:o}}", "modules", args[0],
				 strcmp(level, "default") == 0 ? json_null() : json_string(level));
	else
		body = json_pack("{s:s}", "level", level);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (text == NULL) {
		errmsg("invalid module or level");
		return -1;
	}
	snprintf(c->method, sizeof(c->method), "PUT");
	c->path = "/api/v1/log";
	c->body = c->owned = text;
	return 0;
}

/* show logs [N] */
static int
prepare_logs(char **args, unsigned n, struct call *c)
{
	static char path[64];
	size_t len = n ? strlen(args[0]) : 0;

	snprintf(c->method, sizeof(c->method), "GET");
	if (n == 0) {
		c->path = "/api/v1/logs";
		return 0;
	}
	if (len == 0 || len > 9 || strspn(args[0], "0123456789") != len) {
		errmsg("N must be a number of records: %s", args[0]);
		return -1;
	}
	snprintf(path, sizeof(path), "/api/v1/logs?max=%s", args[0]);
	c->path = path;
	return 0;
}

static int
prepare_api(char **args, unsigned n, struct call *c)
{
	size_t len = strlen(args[0]);

	if (len == 0 || len >= sizeof(c->method)) {
		errmsg("invalid method '%s'", args[0]);
		return -1;
	}
	for (size_t i = 0; i <= len; i++) {
		char ch = args[0][i];

		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		else if (ch != '\0' && (ch < 'A' || ch > 'Z')) {
			errmsg("invalid method '%s'", args[0]);
			return -1;
		}
		c->method[i] = ch;
	}
	if (args[1][0] != '/') {
		errmsg("path must start with '/': %s", args[1]);
		return -1;
	}
	c->path = args[1];
	if (n == 3) {
		json_error_t err;
		json_t *j = json_loads(args[2], JSON_DECODE_ANY, &err);

		if (j == NULL) {
			errmsg("invalid JSON argument: %s (column %d)", err.text, err.column);
			return -1;
		}
		json_decref(j);
		c->body = args[2];
	}
	return 0;
}

/* --- BGP --------------------------------------------------------------- */

static int
render_bgp_summary(json_t *root)
{
	static const struct column cols[] = {
		{"NEIGHBOR", false}, {"AS", true},	 {"TYPE", false},    {"STATE", false},
		{"FOR-S", true},     {"RECEIVED", true}, {"ACCEPTED", true}, {"SENT", true},
	};
	struct table t = {.cols = cols, .ncols = 8};
	json_t *rib = json_object_get(root, "rib"), *ns = json_object_get(root, "neighbors"), *n;
	char a[32], b[32], c[32], d[32];
	size_t i;

	if (!json_is_object(rib) || !json_is_array(ns))
		return -1;
	printf("AS %s, router id %s; %s prefixes, %s paths, %s attribute sets\n\n",
	       fmt_num(json_object_get(root, "asn"), a, sizeof(a), 0),
	       str_or_dash(root, "router_id"),
	       fmt_num(json_object_get(rib, "prefixes"), b, sizeof(b), 0),
	       fmt_num(json_object_get(rib, "paths"), c, sizeof(c), 0),
	       fmt_num(json_object_get(rib, "attribute_sets"), d, sizeof(d), 0));
	json_array_foreach(ns, i, n)
	{
		char as[32], age[32], rx[32], acc[32], tx[32];
		char *row[8] = {
			(char *)str_or_dash(n, "address"),
			fmt_num(json_object_get(n, "remote_as"), as, sizeof(as), 0),
			(char *)str_or_dash(n, "type"),
			(char *)str_or_dash(n, "state"),
			fmt_num(json_object_get(n, "state_seconds"), age, sizeof(age), 0),
			fmt_num(json_object_get(n, "prefixes_received"), rx, sizeof(rx), 0),
			fmt_num(json_object_get(n, "prefixes_accepted"), acc, sizeof(acc), 0),
			fmt_num(json_object_get(n, "prefixes_sent"), tx, sizeof(tx), 0),
		};

		table_add(&t, row);
	}
	table_print(&t);
	return 0;
}

/* "key: value" lines for one neighbour; nested objects flattened one level. */
static void
print_neighbor(json_t *n)
{
	const char *k;
	json_t *v;

	printf("neighbor %s\n", str_or_dash(n, "address"));
	json_object_foreach(n, k, v)
	{
		char buf[64];

		if (strcmp(k, "address") == 0)
			continue;
		if (json_is_object(v)) {
			const char *k2;
			json_t *v2;

			json_object_foreach(v, k2, v2)
				printf("  %s.%s: %s\n", k, k2, json_is_true(v2) ? "yes" : "no");
		} else if (json_is_array(v)) {
			size_t i;
			json_t *e;

			printf("  %s:", k);
			json_array_foreach(v, i, e)
				printf(" %s", json_string_value(e) ? json_string_value(e) : "?");
			printf("\n");
		} else if (json_is_string(v)) {
			printf("  %s: %s\n", k,
			       json_string_value(v)[0] ? json_string_value(v) : "-");
		} else if (json_is_boolean(v)) {
			printf("  %s: %s\n", k, json_is_true(v) ? "yes" : "no");
		} else {
			printf("  %s: %s\n", k, fmt_num(v, buf, sizeof(buf), 0));
		}
	}
}

static int
render_bgp_neighbors(json_t *root)
{
	json_t *ns = json_object_get(root, "neighbors"), *n;
	size_t i;

	if (json_is_array(ns)) {
		json_array_foreach(ns, i, n)
		{
			if (i)
				printf("\n");
			print_neighbor(n);
		}
		return 0;
	}
	if (!json_is_string(json_object_get(root, "address")))
		return -1;
	print_neighbor(root);
	return 0;
}

static int
render_bgp_routes(json_t *root)
{
	static const struct column cols[] = {
		{"PREFIX", false}, {"FROM", false}, {"BEST", false},	{"NEXT-HOP", false},
		{"MED", true},	   {"LPREF", true}, {"AS-PATH", false}, {"COMMUNITIES", false},
	};
	struct table t = {.cols = cols, .ncols = 8};
	json_t *routes = json_object_get(root, "routes"), *r;
	size_t i;

	if (!json_is_array(routes))
		return -1;
	json_array_foreach(routes, i, r)
	{
		char med[32], lp[32], comms[512] = "", path[512];
		const char *kinds[] = {"communities", "large_communities", "ext_communities"};
		size_t off = 0;
		json_t *best = json_object_get(r, "best");
		char *row[8];

		for (int k = 0; k < 3; k++) {
			size_t j;
			json_t *c;

			json_array_foreach(json_object_get(r, kinds[k]), j, c) off +=
				(size_t)snprintf(comms + off,
						 off < sizeof(comms) ? sizeof(comms) - off : 0,
						 "%s%s", off ? " " : "",
						 json_string_value(c) ? json_string_value(c) : "?");
		}
		snprintf(path, sizeof(path), "%s", str_or_dash(r, "as_path"));
		row[0] = (char *)str_or_dash(r, "prefix");
		row[1] = (char *)str_or_dash(r, "from");
		row[2] = (char *)(best == NULL ? "-" : json_is_true(best) ? "*" : "");
		row[3] = (char *)str_or_dash(r, "next_hop");
		row[4] = fmt_num(json_object_get(r, "med"), med, sizeof(med), 0);
		row[5] = fmt_num(json_object_get(r, "local_pref"), lp, sizeof(lp), 0);
		row[6] = path[0] ? path : "-";
		row[7] = comms[0] ? comms : "-";
		table_add(&t, row);
	}
	table_print(&t);
	if (json_is_true(json_object_get(root, "truncated")))
		printf("(first %zu of %" JSON_INTEGER_FORMAT "; use the API's limit= for more)\n",
		       json_array_size(routes), json_integer_value(json_object_get(root, "total")));
	return 0;
}

/* GET head + escaped argument + tail (or 'bare' without an argument). */
static int
prepare_bgp_path(char **args, unsigned n, struct call *c, const char *bare, const char *head,
		 const char *tail)
{
	static char path[256];
	CURL *curl;
	char *esc;

	snprintf(c->method, sizeof(c->method), "GET");
	if (n == 0) {
		c->path = bare;
		return 0;
	}
	curl = curl_easy_init();
	esc = curl ? curl_easy_escape(curl, args[0], 0) : NULL;
	if (!esc) {
		if (curl)
			curl_easy_cleanup(curl);
		errmsg("out of memory");
		return -1;
	}
	snprintf(path, sizeof(path), "%s%s%s", head, esc, tail);
	curl_free(esc);
	curl_easy_cleanup(curl);
	c->path = path;
	return 0;
}

static int
prepare_bgp_neighbors(char **args, unsigned n, struct call *c)
{
	return prepare_bgp_path(args, n, c, "/api/v1/bgp/neighbors", "/api/v1/bgp/neighbors/", "");
}

static int
prepare_bgp_routes(char **args, unsigned n, struct call *c)
{
	return prepare_bgp_path(args, n, c, "/api/v1/bgp/routes", "/api/v1/bgp/routes?prefix=", "");
}

static int
prepare_bgp_adj_in(char **args, unsigned n, struct call *c)
{
	return prepare_bgp_path(args, n, c, NULL, "/api/v1/bgp/neighbors/", "/adj-rib-in");
}

static int
prepare_bgp_adj_out(char **args, unsigned n, struct call *c)
{
	return prepare_bgp_path(args, n, c, NULL, "/api/v1/bgp/neighbors/", "/adj-rib-out");
}

static const struct cmd commands[] = {
	{
		.words = {"show", "ports"},
		.method = "GET",
		.path = "/api/v1/ports",
		.render = render_ports,
		.help = "ports with link state and traffic counters",
	},
	{
		.words = {"show", "nodes"},
		.method = "GET",
		.path = "/api/v1/nodes",
		.render = render_nodes,
		.help = "graph nodes with calls, packets and cycles per packet",
	},
	{
		.words = {"show", "stats"},
		.method = "GET",
		.path = "/api/v1/stats",
		.render = render_stats,
		.help = "uptime, packet totals and drops by reason",
	},
	{
		.words = {"show", "interfaces"},
		.method = "GET",
		.path = "/api/v1/interfaces",
		.render = render_interfaces,
		.help = "routed interfaces with their addresses and MTU",
	},
	{
		.words = {"show", "routes"},
		.args = "[PREFIX]",
		.max_args = 1,
		.prepare = prepare_routes,
		.render = render_routes,
		.help = "the routing table, or the route for one prefix",
	},
	{
		.words = {"address", "add"},
		.args = "INTERFACE ADDRESS/LEN",
		.min_args = 2,
		.max_args = 2,
		.prepare = prepare_address_add,
		.render = render_interfaces,
		.help = "add an address to a routed interface while traffic flows",
	},
	{
		.words = {"address", "del"},
		.args = "INTERFACE ADDRESS/LEN",
		.min_args = 2,
		.max_args = 2,
		.prepare = prepare_address_del,
		.render = render_interfaces,
		.help = "remove an address from a routed interface",
	},
	{
		.words = {"route", "add"},
		.args = "PREFIX via ADDRESS|blackhole",
		.min_args = 3,
		.max_args = 3,
		.prepare = prepare_route_add,
		.render = render_routes,
		.help = "add or replace a route while traffic flows",
	},
	{
		.words = {"route", "del"},
		.args = "PREFIX",
		.min_args = 1,
		.max_args = 1,
		.prepare = prepare_route_del,
		.render = render_deleted,
		.help = "remove a static or runtime route",
	},
	{
		.words = {"capture"},
		.args = "PORT -w FILE.pcapng [-c N] [rx|tx|both] [FILTER]",
		.min_args = 3,
		.max_args = 40,
		.prepare = prepare_capture,
		.render = NULL,
		.follow = follow_capture,
		.help = "copy the next N packets (default 1000) of PORT to a pcapng file; Ctrl-C "
			"stops",
	},
	{
		.words = {"bgp", "dump"},
		.args = "FILE",
		.min_args = 1,
		.max_args = 1,
		.prepare = prepare_bgp_dump,
		.render = render_bgp_dump,
		.help = "write the BGP Loc-RIB (best paths) to FILE as MRT TABLE_DUMP_V2 (RFC "
			"6396); aetherd writes it",
	},
	{
		.words = {"reload"},
		.method = "POST",
		.path = "/api/v1/reload",
		.render = render_message,
		.help = "re-read the configuration file; a bad one is refused and the running one "
			"stays",
	},
	{
		.words = {"trace", "add"},
		.args = "N [FILTER]",
		.min_args = 1,
		.max_args = 32,
		.prepare = prepare_trace_add,
		.render = render_trace,
		.help = "trace the next N packets each worker receives that match the "
			"tcpdump-style "
			"FILTER (forgets earlier ones)",
	},
	{
		.words = {"trace", "show"},
		.method = "GET",
		.path = "/api/v1/trace",
		.render = render_trace,
		.help = "each traced packet's path through the graph, with drops and reasons",
	},
	{
		.words = {"trace", "clear"},
		.method = "DELETE",
		.path = "/api/v1/trace",
		.render = render_trace,
		.help = "stop tracing and forget the records",
	},
	{
		.words = {"show", "neighbors"},
		.method = "GET",
		.path = "/api/v1/neighbors",
		.render = render_neighbors,
		.help = "ARP and neighbour discovery entries",
	},
	{
		.words = {"show", "bridges"},
		.method = "GET",
		.path = "/api/v1/bridges",
		.render = render_bridges,
		.help = "bridges with their members, learned MACs and counters",
	},
	{
		.words = {"show", "bridge", "macs"},
		.args = "[BRIDGE]",
		.max_args = 1,
		.prepare = prepare_show_macs,
		.render = render_macs,
		.help = "the MAC table: static and learned MACs, the member each sits behind",
	},
	{
		.words = {"clear", "bridge", "macs"},
		.args = "[BRIDGE]",
		.max_args = 1,
		.prepare = prepare_flush_macs,
		.render = render_flushed,
		.help = "forget the learned MACs (static ones stay)",
	},
	{
		.words = {"show", "conntrack"},
		.args = "[tcp|udp|icmp|icmpv6|other] [ADDRESS] [PORT]",
		.max_args = 3,
		.prepare = prepare_conntrack,
		.render = render_conntrack,
		.help = "tracked connections (at most 1000 shown): endpoints, TCP state, packets "
			"and bytes each way, time left",
	},
	{
		.words = {"show", "conntrack", "events"},
		.method = "GET",
		.path = "/api/v1/conntrack/events",
		.render = render_ct_events,
		.help = "the latest flow events (new, destroy with the reason, counters and "
			"duration), with their Community IDs",
	},
	{
		.words = {"clear", "conntrack"},
		.args = "[tcp|udp|icmp|icmpv6|other] [ADDRESS] [PORT]",
		.max_args = 3,
		.prepare = prepare_clear_conntrack,
		.render = render_ct_flushed,
		.help = "forget the tracked connections (all, or those matching)",
	},
	{
		.words = {"show", "firewall"},
		.method = "GET",
		.path = "/api/v1/firewall",
		.render = render_firewall,
		.help = "firewall rules in order with hit counters, zone policies, verdicts",
	},
	{
		.words = {"show", "synproxy"},
		.method = "GET",
		.path = "/api/v1/synproxy",
		.render = render_synproxy,
		.help = "SYN proxy: protected destinations, where it is armed, blocked sources, "
			"counters (cookies sent, valid, invalid, spliced)",
	},
	{
		.words = {"show", "qos"},
		.method = "GET",
		.path = "/api/v1/qos",
		.render = render_qos,
		.help = "QoS classes with rates, counters, policer colours, drops, queue depth",
	},
	{
		.words = {"show", "firewall", "log"},
		.method = "GET",
		.path = "/api/v1/firewall/log",
		.render = render_firewall_log,
		.help = "recent records of firewall rules with log: true",
	},
	{
		.words = {"show", "bgp", "summary"},
		.method = "GET",
		.path = "/api/v1/bgp/summary",
		.render = render_bgp_summary,
		.help = "BGP speaker: RIB sizes and one line per neighbor",
	},
	{
		.words = {"show", "bgp", "neighbors"},
		.args = "[ADDRESS]",
		.max_args = 1,
		.prepare = prepare_bgp_neighbors,
		.render = render_bgp_neighbors,
		.help = "BGP neighbors in detail: state, capabilities, counters, last error",
	},
	{
		.words = {"show", "bgp", "routes"},
		.args = "[PREFIX]",
		.max_args = 1,
		.prepare = prepare_bgp_routes,
		.render = render_bgp_routes,
		.help = "the BGP Loc-RIB (best path first), or one prefix",
	},
	{
		.words = {"show", "bgp", "adj-rib-in"},
		.args = "NEIGHBOR",
		.min_args = 1,
		.max_args = 1,
		.prepare = prepare_bgp_adj_in,
		.render = render_bgp_routes,
		.help = "routes received from a neighbor, accepted or not",
	},
	{
		.words = {"show", "bgp", "adj-rib-out"},
		.args = "NEIGHBOR",
		.min_args = 1,
		.max_args = 1,
		.prepare = prepare_bgp_adj_out,
		.render = render_bgp_routes,
		.help = "routes advertised to a neighbor, with the attributes it gets",
	},
	{
		.words = {"show", "log"},
		.method = "GET",
		.path = "/api/v1/log",
		.render = render_log,
		.help = "log level, format and per-module levels",
	},
	{
		.words = {"show", "logs"},
		.args = "[N]",
		.max_args = 1,
		.prepare = prepare_logs,
		.render = render_logs,
		.help = "the N most recent log records (default 100, at most 1000), newest last",
	},
	{
		.words = {"log", "level"},
		.args = "[MODULE] LEVEL",
		.min_args = 1,
		.max_args = 2,
		.prepare = prepare_log_level,
		.render = render_log,
		.help = "set the default or a module's log level (error..debug; default)",
	},
	{
		.words = {"api"},
		.args = "METHOD PATH [JSON]",
		.min_args = 2,
		.max_args = 3,
		.prepare = prepare_api,
		.help = "raw API call; prints the JSON reply",
	},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* "show ports", "api METHOD PATH [JSON]" */
static const char *
synopsis(const struct cmd *c, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned w = 0; w < MAX_WORDS && c->words[w] && used < size; w++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", w ? " " : "",
					 c->words[w]);
	if (c->args && used < size)
		snprintf(buf + used, size - used, " %s", c->args);
	return buf;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-s SOCKET | -u URL [-t TOKEN_FILE]] [-j] [-h] COMMAND...\n\n"
		"options:\n"
		"  -s, --socket SOCKET  API socket (default: $AETHER_SOCKET, else %s)\n"
		"  -u, --url URL        API over TCP instead, e.g. http://127.0.0.1:8080\n"
		"                       (default: $AETHER_URL)\n"
		"  -t, --token-file F   bearer token for --url (default: $AETHER_TOKEN, else\n"
		"                       /var/lib/aetherd/api.token)\n"
		"  -j, --json           print the API's JSON instead of tables\n"
		"  -h, --help           show this help and exit\n\n"
		"commands:\n",
		progname, DEFAULT_SOCKET);
	for (size_t i = 0; i < N_COMMANDS; i++) {
		char syn[96];

		fprintf(f, "  %-24s %s\n", synopsis(&commands[i], syn, sizeof(syn)),
			commands[i].help);
	}
	fprintf(f, "\nexit status: 0 ok, 1 the API answered an error, 2 usage error,\n"
		   "3 aetherd cannot be reached\n");
}

static unsigned
n_words(const struct cmd *c)
{
	unsigned n = 0;

	while (n < MAX_WORDS && c->words[n])
		n++;
	return n;
}

/* The command whose words all lead argv, the longest such; NULL if none. */
static const struct cmd *
find_command(int argc, char **argv)
{
	const struct cmd *best = NULL;

	for (size_t i = 0; i < N_COMMANDS; i++) {
		unsigned n = n_words(&commands[i]);
		bool match = (unsigned)argc >= n;

		for (unsigned w = 0; match && w < n; w++)
			match = strcmp(argv[w], commands[i].words[w]) == 0;
		if (match && (best == NULL || n > n_words(best)))
			best = &commands[i];
	}
	return best;
}

/* Say which words may follow the longest known prefix of what was typed. */
static void
suggest(int argc, char **argv)
{
	unsigned depth = 0;
	bool any = false;

	for (size_t i = 0; i < N_COMMANDS; i++) {
		unsigned d = 0;

		while (d < n_words(&commands[i]) && (int)d < argc &&
		       strcmp(argv[d], commands[i].words[d]) == 0)
			d++;
		if (d > depth)
			depth = d;
	}
	fprintf(stderr, "%s: unknown command '", progname);
	for (int i = 0; i < argc; i++)
		fprintf(stderr, "%s%s", i ? " " : "", argv[i]);
	fprintf(stderr, "'; expected ");
	for (unsigned w = 0; w < depth; w++)
		fprintf(stderr, "%s ", argv[w]);
	for (size_t i = 0; i < N_COMMANDS; i++) {
		bool prefix = n_words(&commands[i]) > depth;

		for (unsigned w = 0; prefix && w < depth; w++)
			prefix = strcmp(argv[w], commands[i].words[w]) == 0;
		for (size_t j = 0; prefix && j < i; j++) {
			bool same = n_words(&commands[j]) > depth;

			for (unsigned w = 0; same && w <= depth; w++)
				same = strcmp(commands[j].words[w], commands[i].words[w]) == 0;
			prefix = !same; /* already printed */
		}
		if (!prefix)
			continue;
		fprintf(stderr, "%s%s", any ? "|" : "", commands[i].words[depth]);
		any = true;
	}
	fprintf(stderr, "\n");
}

/* --- transport -------------------------------------------------------- */

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	char *nb = realloc(b->data, b->len + size * n + 1);

	if (nb == NULL)
		return 0;
	memcpy(nb + b->len, data, size * n);
	b->len += size * n;
	nb[b->len] = '\0';
	b->data = nb;
	return size * n;
}

/* Why connecting to 'path' fails, in words, for the "cannot reach" message. */
static const char *
connect_failure(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat sb;
	int fd, err = 0;

	if (stat(path, &sb) < 0)
		return errno == ENOENT ? "no such socket (is aetherd running?)" : strerror(errno);
	if (!S_ISSOCK(sb.st_mode))
		return "not a socket";
	if (strlen(path) >= sizeof(sa.sun_path))
		return "socket path too long";
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return strerror(errno);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		err = errno;
	close(fd);
	if (err == ECONNREFUSED)
		return "connection refused (is aetherd running?)";
	return err ? strerror(err) : NULL;
}

/* Performs the call. Returns EXIT_OK with *status set, or EXIT_UNREACHABLE. */
static int
http_call(const char *sock, const struct call *c, long *status, struct buf *body)
{
	char url[2048], errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	CURL *h;
	CURLcode rc;

	if ((size_t)snprintf(url, sizeof(url), "%s%s", api_url ? api_url : "http://localhost",
			     c->path) >= sizeof(url)) {
		errmsg("path too long");
		return EXIT_USAGE;
	}
	h = curl_easy_init();
	if (h == NULL) {
		errmsg("cannot initialise libcurl");
		return EXIT_UNREACHABLE;
	}
	if (api_url == NULL)
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, TOTAL_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "aetherctl");
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (api_url != NULL && api_token[0] != '\0') {
		char auth[sizeof(api_token) + 32];

		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", api_token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	if (strcmp(c->method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
		if (c->body != NULL || strcmp(c->method, "POST") == 0 ||
		    strcmp(c->method, "PUT") == 0) {
			hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body ? c->body : "");
		}
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (rc == CURLE_OK)
		return EXIT_OK;

	if (api_url != NULL) {
		errmsg("cannot reach aetherd at %s: %s", api_url,
		       errbuf[0] ? errbuf : curl_easy_strerror(rc));
	} else if (rc == CURLE_COULDNT_CONNECT) {
		const char *why = connect_failure(sock);

		errmsg("cannot reach aetherd at %s: %s", sock, why ? why : errbuf);
	} else {
		errmsg("cannot reach aetherd at %s: %s", sock,
		       errbuf[0] ? errbuf : curl_easy_strerror(rc));
	}
	return EXIT_UNREACHABLE;
}

/*
 * The bearer token for --url: --token-file, else $AETHER_TOKEN (the token
 * itself), else the daemon's default token file when it is readable.
 */
static int
load_token(const char *path)
{
	const char *env = getenv("AETHER_TOKEN");
	FILE *f;
	size_t n;

	if (path == NULL && env != NULL && env[0] != '\0') {
		snprintf(api_token, sizeof(api_token), "%s", env);
		return 0;
	}
	f = fopen(path ? path : "/var/lib/aetherd/api.token", "r");
	if (f == NULL) {
		if (path == NULL)
			return 0; /* No token: the API answers 401 and says so. */
		errmsg("cannot read token file %s: %s", path, strerror(errno));
		return -1;
	}
	n = fread(api_token, 1, sizeof(api_token) - 1, f);
	fclose(f);
	api_token[n] = '\0';
	while (n > 0 &&
	       (api_token[n - 1] == '\n' || api_token[n - 1] == '\r' || api_token[n - 1] == ' '))
		api_token[--n] = '\0';
	return 0;
}

/* Print the API's error message; the body may not be ours (or JSON) at all. */
static void
report_api_error(const struct call *c, long status, const struct buf *body)
{
	json_t *j = body->len ? json_loadb(body->data, body->len, 0, NULL) : NULL;
	const char *msg =
		json_string_value(json_object_get(json_object_get(j, "error"), "message"));

	if (msg == NULL && body->len > 0 && j == NULL) {
		size_t n = body->len;

		while (n > 0 && (body->data[n - 1] == '\n' || body->data[n - 1] == '\r'))
			n--;
		body->data[n] = '\0';
		msg = body->data;
	}
	errmsg("%s %s: error %ld: %s", c->method, c->path, status,
	       msg && msg[0] ? msg : "no message");
	json_decref(j);
}

static int
run(const char *sock, bool json_out, const struct cmd *cmd, char **args, unsigned nargs)
{
	struct call c = {.path = cmd->path};
	struct buf body = {0};
	json_t *root = NULL;
	json_error_t err;
	long status = 0;
	int ret;

	if (cmd->method)
		snprintf(c.method, sizeof(c.method), "%s", cmd->method);
	if (cmd->prepare && cmd->prepare(args, nargs, &c) < 0) {
		free(c.owned);
		return EXIT_USAGE;
	}

	ret = http_call(sock, &c, &status, &body);
	if (ret != EXIT_OK)
		goto out;
	if (status >= 400 || status < 200) {
		report_api_error(&c, status, &body);
		ret = EXIT_API_ERROR;
		goto out;
	}
	if (body.len == 0)
		goto out; /* 204 and the like: nothing to show */
	root = json_loadb(body.data, body.len, JSON_DECODE_ANY, &err);
	if (root == NULL) {
		errmsg("%s %s: invalid JSON from aetherd: %s", c.method, c.path, err.text);
		ret = EXIT_API_ERROR;
		goto out;
	}
	if (cmd->follow) {
		ret = cmd->follow(sock);
	} else if (json_out || cmd->render == NULL) {
		json_dumpf(root, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
		putchar('\n');
	} else if (cmd->render(root) < 0) {
		errmsg("%s %s: unexpected reply from aetherd (try -j)", c.method, c.path);
		ret = EXIT_API_ERROR;
	}
out:
	if (fflush(stdout) != 0 && ret == EXIT_OK) {
		errmsg("writing output: %s", strerror(errno));
		ret = EXIT_API_ERROR;
	}
	json_decref(root);
	free(body.data);
	free(c.owned);
	return ret;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 's'},
		{"url", required_argument, NULL, 'u'},
		{"token-file", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *sock = getenv("AETHER_SOCKET");
	const char *token_file = NULL;
	const struct cmd *cmd;
	bool json_out = false;
	unsigned nargs;
	int opt, ret;

	if (sock == NULL || sock[0] == '\0')
		sock = DEFAULT_SOCKET;
	opterr = 0; /* errors are reported below, in our own words */
	/* '+': options end at the first word, so JSON arguments are left alone. */
	api_url = getenv("AETHER_URL");
	if (api_url != NULL && api_url[0] == '\0')
		api_url = NULL;
	while ((opt = getopt_long(argc, argv, "+s:u:t:jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			sock = optarg;
			api_url = NULL;
			break;
		case 'u':
			api_url = optarg;
			break;
		case 't':
			token_file = optarg;
			break;
		case 'j':
			json_out = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			if (optopt == 's')
				errmsg("option -s needs a socket path");
			else if (optopt == 'u')
				errmsg("option -u needs a URL");
			else if (optopt == 't')
				errmsg("option -t needs a token file");
			else if (optopt != 0)
				errmsg("unknown option -%c", optopt);
			else
				errmsg("unknown option %s", argv[optind - 1]);
			fprintf(stderr, "try '%s -h'\n", progname);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = find_command(argc, argv);
	if (cmd == NULL) {
		suggest(argc, argv);
		return EXIT_USAGE;
	}
	nargs = (unsigned)argc - n_words(cmd);
	if (nargs < cmd->min_args || nargs > cmd->max_args) {
		char syn[96];

		errmsg("usage: %s [-s SOCKET] [-j] %s", progname, synopsis(cmd, syn, sizeof(syn)));
		return EXIT_USAGE;
	}
	if (sock[0] == '\0') {
		errmsg("empty socket path");
		return EXIT_USAGE;
	}
	if (api_url != NULL && load_token(token_file) < 0)
		return EXIT_USAGE;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		errmsg("cannot initialise libcurl");
		return EXIT_UNREACHABLE;
	}
	ret = run(sock, json_out, cmd, argv + n_words(cmd), nargs);
	curl_global_cleanup();
	return ret;
}
