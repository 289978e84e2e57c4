/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The loader reads the whole document with libyaml's document API, then walks it with
 * tables: each section is a list of keys, each key says how its value is parsed (integer
 * range, string check, enum names, sub-section or a custom handler) and where it is stored.
 * A new section is one more table and one line in top_fields[].
 *
 * Only keys listed in a table are visited, so the walk is bounded by the schema even when
 * anchors and aliases make the node graph cyclic.
 */
#include "lib/config.h"
#include "lib/config_bgp_priv.h"
#include "lib/log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/un.h>
#include <yaml.h>

/* A configuration larger than this is certainly a mistake (or an attack on the parser). */
#define CFG_FILE_MAX (16u << 20)
/* Most keys a table may hold. */
#define MAX_FIELDS 16
/* Longest piece of user text quoted back in a message. */
#define SHOW_MAX       48
#define WHERE_MAX      48
#define API_SOCKET_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

_Static_assert(sizeof(enum ap_port_driver) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum ap_port_validate) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum ap_hugepages) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum ap_fw_action) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum ap_qos_meter) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum ap_qos_action) == sizeof(int), "enum stored as int");

struct ctx {
	const char *name; /* Shown at the start of every message. */
	const char *dir;  /* Directory for relative pcap paths; NULL keeps them as given. */
	char *err;	  /* AP_CFG_ERR_MAX bytes. */
	yaml_document_t *doc;
	struct ap_config *cfg;
	/* api: where listen and tls_* were, for the check made once the section is read. */
	yaml_mark_t api_listen_mark, api_tls_mark;
	bool api_listen_remote;
	/* Positions of xconnect values, for errors found once every port is known. */
	yaml_mark_t xc_marks[AP_CFG_MAX_XCONNECTS][2];
	/* Positions of the ports' `validate: none`, checked against the cross-connects. */
	yaml_mark_t validate_marks[AP_CFG_MAX_PORTS];
	/* Positions of interface port references, checked at the end too. */
	yaml_mark_t if_marks[AP_CFG_MAX_IFACES];
	yaml_mark_t route_marks[AP_CFG_MAX_ROUTES];
	yaml_mark_t neigh_marks[AP_CFG_MAX_NEIGHBORS][2]; /* interface, address */
	struct ap_cfg_bridge *cur_bridge; /* whose members and static MACs are parsed */
};

enum ftype {
	FT_UINT,    /* Decimal integer in [min, max], stored in 'size' bytes. */
	FT_STRING,  /* Scalar copied into a char['size'] buffer, then 'check'ed. */
	FT_ENUM,    /* One of 'names', stored as an int index. */
	FT_BOOL,    /* true or false, stored as a bool. */
	FT_SECTION, /* Mapping parsed with the 'sub' table into the same object. */
	FT_CUSTOM,  /* Anything else: 'custom' does the work. */
	FT_RATE,    /* "20mbit": bit/s in a uint64_t (units bit, kbit, mbit, gbit of 1000). */
	FT_SIZE,    /* "32k": bytes in a uint64_t (units k, m of 1024; optional b). */
};

/* Field flags. */
#define F_REQUIRED (1u << 0)
#define F_POW2	   (1u << 1) /* FT_UINT: must be a power of two. */
#define F_PATH	   (1u << 2) /* FT_STRING: relative paths resolve against the file's dir. */

#define DRV(d) (1u << (d))

struct field;

struct table {
	const struct field *fields;
	size_t n;
};

struct field {
	const char *key;
	enum ftype type;
	size_t off;
	size_t size;
	uint32_t min, max;
	unsigned flags;
	const char *const *names;
	int (*check)(struct ctx *c, const yaml_node_t *v, const char *what, const char *s);
	int (*custom)(struct ctx *c, const yaml_node_t *v, void *obj, const char *what);
	const struct table *sub;
	unsigned drivers;     /* ports: drivers that accept this key; 0: all. */
	unsigned req_drivers; /* ports: drivers that need this key. */
};

#define TABLE(f)                                                                                   \
	{                                                                                          \
		f, sizeof(f) / sizeof((f)[0])                                                      \
	}

static const char *const driver_names[] = {
	[AP_DRV_AF_PACKET] = "af_packet", [AP_DRV_AF_XDP] = "af_xdp",
	[AP_DRV_PCAP] = "pcap",		  [AP_DRV_TAP] = "tap",
	[AP_DRV_NULL] = "null",		  [AP_DRV_RING] = "ring",
	[AP_DRV_DEVARGS] = "devargs",	  [AP_DRV_DEVARGS + 1] = NULL,
};

static const char *const validate_names[] = {
	[AP_VALIDATE_L2] = "l2",
	[AP_VALIDATE_FULL] = "full",
	[AP_VALIDATE_NONE] = "none",
	NULL,
};

static const char *const hugepages_names[] = {
	[AP_HUGE_AUTO] = "auto",
	[AP_HUGE_ON] = "on",
	[AP_HUGE_OFF] = "off",
	NULL,
};

static const char *const log_level_names[] = {"error", "warning", "info", "debug", NULL};
static const char *const log_format_names[] = {"text", "json", NULL};

/* Copy user text for a message: at most SHOW_MAX bytes, control bytes as '?'. */
static const char *
show(const char *s, size_t len, char out[SHOW_MAX])
{
	size_t n = len < SHOW_MAX - 4 ? len : SHOW_MAX - 4;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		out[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (n < len) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

static int __attribute__((format(printf, 3, 4)))
fail(struct ctx *c, yaml_mark_t m, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(c->err, AP_CFG_ERR_MAX, "%s:%zu:%zu: ", c->name, m.line + 1, m.column + 1);
	if (n >= 0 && n < AP_CFG_ERR_MAX) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, AP_CFG_ERR_MAX - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* "a, b, c" from a NULL-terminated list. */
static const char *
join(const char *const *names, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; names[i] != NULL && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", names[i]);
	return buf;
}

static const char *
join_keys(const struct table *t, char *buf, size_t size)
{
	const char *names[MAX_FIELDS + 1];

	for (size_t i = 0; i < t->n; i++)
		names[i] = t->fields[i].key;
	names[t->n] = NULL;
	return join(names, buf, size);
}

static void
full_name(char *buf, size_t size, const char *where, const char *key)
{
	if (where[0] == '\0')
		snprintf(buf, size, "%s", key);
	else
		snprintf(buf, size, "%s.%s", where, key);
}

static yaml_node_t *
node_at(struct ctx *c, yaml_node_item_t i)
{
	return yaml_document_get_node(c->doc, i);
}

/* YAML 1.1 null: an empty plain scalar, '~' or null. */
static bool
is_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return n->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	       strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* Strings are scalars read as text, so "driver: null" names the null driver; only a value
 * left empty counts as missing. Control characters are refused: an embedded NUL ("\0" in double
 * quotes) would silently cut the value, and a newline (from a "|" block) in a name or path is
 * always a mistake. */
static int
get_string(struct ctx *c, const yaml_node_t *v, const char *what, const char **s)
{
	if (v->type != YAML_SCALAR_NODE ||
	    (v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && v->data.scalar.length == 0))
		return fail(c, v->start_mark, "expected a string for %s", what);
	for (size_t i = 0; i < v->data.scalar.length; i++) {
		unsigned char ch = v->data.scalar.value[i];

		if (ch < 0x20 || ch == 0x7f)
			return fail(c, v->start_mark,
				    "%s contains a control character (byte 0x%02x)", what, ch);
	}
	*s = (const char *)v->data.scalar.value;
	return 0;
}

/* Plain decimal only: no sign, no leading zero (YAML 1.1 would read 010 as octal), no
 * underscores or hex. Overflow yields UINT64_MAX so the range check reports it. */
static int
get_uint(struct ctx *c, const yaml_node_t *v, const char *what, uint64_t *out)
{
	uint64_t x = 0;
	const char *s;
	size_t len;

	if (v->type != YAML_SCALAR_NODE || v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		goto bad;
	s = (const char *)v->data.scalar.value;
	len = v->data.scalar.length;
	if (len == 0 || (s[0] == '0' && len > 1))
		goto bad;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		if (x > (UINT64_MAX - 9) / 10)
			x = UINT64_MAX;
		else
			x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*out = x;
	return 0;
bad:
	return fail(c, v->start_mark, "expected an integer for %s", what);
}

static int
get_enum(struct ctx *c, const yaml_node_t *v, const char *what, const char *const *names, int *out)
{
	char list[128], sh[SHOW_MAX];
	const char *s;
	int ret;

	ret = get_string(c, v, what, &s);
	if (ret < 0)
		return ret;
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return fail(c, v->start_mark, "invalid value '%s' for %s (expected one of: %s)",
		    show(s, strlen(s), sh), what, join(names, list, sizeof(list)));
}

static int
resolve_path(struct ctx *c, const yaml_node_t *v, const char *what, const char *s, char *dst,
	     size_t size)
{
	int n;

	if (c->dir == NULL || s[0] == '/')
		n = snprintf(dst, size, "%s", s);
	else
		n = snprintf(dst, size, "%s/%s", c->dir, s);
	if (n < 0 || (size_t)n >= size)
		return fail(c, v->start_mark, "%s is too long once resolved (max %zu bytes)", what,
			    size - 1);
	return 0;
}

static int parse_value(struct ctx *c, const struct field *f, const yaml_node_t *v, void *obj,
		       const char *what);

/* A number with a unit from @p units (suffix, multiplier; the first entry is the
 * unit of a bare number), in [lo, hi]. */
struct unit {
	const char *suffix;
	uint64_t mult;
};

static int
get_scaled(struct ctx *c, const yaml_node_t *v, const char *what, const struct unit *units,
	   uint64_t lo, uint64_t hi, const char *example, uint64_t *out)
{
	char sh[SHOW_MAX];
	unsigned long long x;
	const char *s;
	char *end;
	int ret = get_string(c, v, what, &s);

	if (ret < 0)
		return ret;
	if (s[0] < '0' || s[0] > '9')
		goto bad;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno != 0)
		goto bad;
	for (const struct unit *u = units; u->suffix != NULL; u++) {
		if (strcmp(end, u->suffix) != 0)
			continue;
		if (x > hi / u->mult || x * u->mult < lo || x * u->mult > hi)
			return fail(c, v->start_mark, "%s '%s' is out of range", what,
				    show(s, strlen(s), sh));
		*out = x * u->mult;
		return 0;
	}
bad:
	return fail(c, v->start_mark, "%s: '%s' is not %s", what, show(s, strlen(s), sh), example);
}

static const struct unit rate_units[] = {
	{"", 1}, {"bit", 1}, {"kbit", 1000}, {"mbit", 1000000}, {"gbit", 1000000000}, {NULL, 0},
};
static const struct unit size_units[] = {
	{"", 1}, {"b", 1}, {"k", 1024}, {"kb", 1024}, {"m", 1 << 20}, {"mb", 1 << 20}, {NULL, 0},
};

/*
 * Walk mapping 'map' with table 't' into 'obj'. 'seen[i]' gets the pair that set field i
 * (NULL when absent), for checks that need the whole object. 'where' names the mapping in
 * messages ("" for the top level).
 */
static int
parse_map(struct ctx *c, const yaml_node_t *map, const struct table *t, void *obj,
	  const char *where, const yaml_node_pair_t **seen)
{
	char what[WHERE_MAX + 32], sh[SHOW_MAX], list[256];
	const char *in = where[0] != '\0' ? where : "the top level";
	const yaml_node_pair_t *pair;
	int ret;

	if (map->type != YAML_MAPPING_NODE)
		return fail(c, map->start_mark, "expected a mapping for %s", in);
	for (size_t i = 0; i < t->n; i++)
		seen[i] = NULL;

	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		const yaml_node_t *k = node_at(c, pair->key);
		const yaml_node_t *v = node_at(c, pair->value);
		const struct field *f = NULL;
		size_t i;

		if (k == NULL || v == NULL)
			return fail(c, map->start_mark, "broken mapping in %s", in);
		if (k->type != YAML_SCALAR_NODE)
			return fail(c, k->start_mark, "expected a scalar key in %s", in);
		for (i = 0; i < t->n; i++) {
			if (k->data.scalar.length == strlen(t->fields[i].key) &&
			    memcmp(k->data.scalar.value, t->fields[i].key, k->data.scalar.length) ==
				    0) {
				f = &t->fields[i];
				break;
			}
		}
		if (f == NULL)
			return fail(
				c, k->start_mark, "unknown key '%s' in %s (expected one of: %s)",
				show((const char *)k->data.scalar.value, k->data.scalar.length, sh),
				in, join_keys(t, list, sizeof(list)));
		if (seen[i] != NULL)
			return fail(c, k->start_mark, "duplicate key '%s' in %s (first at %zu:%zu)",
				    f->key, in, node_at(c, seen[i]->key)->start_mark.line + 1,
				    node_at(c, seen[i]->key)->start_mark.column + 1);
		seen[i] = pair;
		full_name(what, sizeof(what), where, f->key);
		ret = parse_value(c, f, v, obj, what);
		if (ret < 0)
			return ret;
	}

	for (size_t i = 0; i < t->n; i++)
		if ((t->fields[i].flags & F_REQUIRED) && seen[i] == NULL)
			return fail(c, map->start_mark, "missing key '%s' in %s", t->fields[i].key,
				    in);
	return 0;
}

static int
parse_value(struct ctx *c, const struct field *f, const yaml_node_t *v, void *obj, const char *what)
{
	const yaml_node_pair_t *seen[MAX_FIELDS];
	char *dst = (char *)obj + f->off;
	const char *s;
	uint64_t x = 0;
	int ret, e;

	switch (f->type) {
	case FT_UINT:
		ret = get_uint(c, v, what, &x);
		if (ret < 0)
			return ret;
		if (x < f->min || x > f->max || ((f->flags & F_POW2) && (x & (x - 1)) != 0))
			return fail(c, v->start_mark, "%s must be %sbetween %u and %u", what,
				    (f->flags & F_POW2) ? "a power of two " : "", f->min, f->max);
		if (f->size == sizeof(uint16_t)) {
			uint16_t u16 = (uint16_t)x;

			memcpy(dst, &u16, sizeof(u16));
		} else {
			uint32_t u32 = (uint32_t)x;

			memcpy(dst, &u32, sizeof(u32));
		}
		return 0;
	case FT_STRING:
		ret = get_string(c, v, what, &s);
		if (ret < 0)
			return ret;
		if (v->data.scalar.length >= f->size)
			return fail(c, v->start_mark, "%s is too long (max %zu bytes)", what,
				    f->size - 1);
		if (f->check != NULL) {
			ret = f->check(c, v, what, s);
			if (ret < 0)
				return ret;
		}
		if (f->flags & F_PATH)
			return resolve_path(c, v, what, s, dst, f->size);
		memcpy(dst, s, v->data.scalar.length + 1);
		return 0;
	case FT_ENUM:
		ret = get_enum(c, v, what, f->names, &e);
		if (ret < 0)
			return ret;
		memcpy(dst, &e, sizeof(e));
		return 0;
	case FT_BOOL: {
		bool b;

		ret = get_string(c, v, what, &s);
		if (ret < 0)
			return ret;
		if (strcmp(s, "true") == 0)
			b = true;
		else if (strcmp(s, "false") == 0)
			b = false;
		else
			return fail(c, v->start_mark, "%s must be true or false", what);
		memcpy(dst, &b, sizeof(b));
		return 0;
	}
	case FT_SECTION:
		/* "section:" with nothing under it keeps the defaults. */
		if (is_null(v))
			return 0;
		return parse_map(c, v, f->sub, obj, what, seen);
	case FT_CUSTOM:
		return f->custom(c, v, obj, what);
	case FT_RATE:
		ret = get_scaled(c, v, what, rate_units, 8000, 400000000000ull,
				 "a rate (8000 bit/s to 400gbit, e.g. 20mbit, 512kbit)", &x);
		goto scaled;
	case FT_SIZE:
		ret = get_scaled(c, v, what, size_units, 64, 64u << 20,
				 "a size in bytes (64 to 64m, e.g. 1500, 32k)", &x);
	scaled:
		if (ret == 0)
			memcpy(dst, &x, sizeof(x));
		return ret;
	}
	return -EINVAL;
}

/* String checks. */

static int
check_nonempty(struct ctx *c, const yaml_node_t *v, const char *what, const char *s)
{
	if (s[0] == '\0')
		return fail(c, v->start_mark, "%s must not be empty", what);
	return 0;
}

static int
check_name(struct ctx *c, const yaml_node_t *v, const char *what, const char *s, bool dots)
{
	char sh[SHOW_MAX];
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		bool ok = (s[i] >= 'a' && s[i] <= 'z') ||
			  (i > 0 && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' ||
				     (dots && s[i] == '.')));
		if (!ok)
			break;
	}
	if (i == 0 || s[i] != '\0' || i >= AP_NAME_MAX)
		return fail(c, v->start_mark,
			    "invalid name '%s' for %s (1 to %d of a-z, 0-9, '_', '-'%s, "
			    "starting with a letter)",
			    show(s, strlen(s), sh), what, AP_NAME_MAX - 1, dots ? ", '.'" : "");
	return 0;
}

static int
check_port_name(struct ctx *c, const yaml_node_t *v, const char *what, const char *s)
{
	return check_name(c, v, what, s, false);
}

/* Interfaces may be named after their port and VLAN: "trunk.10". */
static int
check_iface_name(struct ctx *c, const yaml_node_t *v, const char *what, const char *s)
{
	return check_name(c, v, what, s, true);
}

/* The kernel's own rule for interface names (dev_valid_name()). */
static int
check_ifname(struct ctx *c, const yaml_node_t *v, const char *what, const char *s)
{
	char sh[SHOW_MAX];
	size_t len = strlen(s);

	if (len == 0 || len >= IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ||
	    strpbrk(s, "/: \t\n\r\v\f") != NULL)
		return fail(c, v->start_mark,
			    "invalid interface name '%s' for %s (1 to %d bytes, no '/', ':' or "
			    "spaces)",
			    show(s, len, sh), what, IFNAMSIZ - 1);
	return 0;
}

static int
check_devargs(struct ctx *c, const yaml_node_t *v, const char *what, const char *s)
{
	if (s[0] == '\0' || strpbrk(s, " \t\n\r\v\f") != NULL)
		return fail(c, v->start_mark, "%s must be a non-empty device string without spaces",
			    what);
	return 0;
}

static int
check_api_socket(struct ctx *c, const yaml_node_t *v, const char *what, const char *s)
{
	if (s[0] == '\0')
		return fail(c, v->start_mark, "%s must not be empty", what);
	if (strlen(s) >= API_SOCKET_MAX)
		return fail(c, v->start_mark, "%s is too long for a unix socket (max %zu bytes)",
			    what, API_SOCKET_MAX - 1);
	return 0;
}

/* "ADDR:PORT" with a numeric IPv4 address, or "[ADDR6]:PORT"; "none" turns TCP off. */
static int
check_api_listen(struct ctx *c, const yaml_node_t *v, const char *what, const char *s)
{
	char host[INET6_ADDRSTRLEN], sh[SHOW_MAX];
	struct in6_addr a6;
	struct in_addr a4;
	const char *colon, *h = s;
	unsigned long port;
	size_t hlen;
	char *end = NULL;

	c->api_listen_mark = v->start_mark;
	c->api_listen_remote = false;
	if (strcmp(s, "none") == 0)
		return 0;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		colon = close != NULL && close[1] == ':' ? close + 1 : NULL;
		h = s + 1;
		hlen = close != NULL ? (size_t)(close - h) : 0;
	} else {
		colon = strrchr(s, ':');
		hlen = colon != NULL ? (size_t)(colon - s) : 0;
	}
	port = colon != NULL && colon[1] >= '0' && colon[1] <= '9' ? strtoul(colon + 1, &end, 10)
								   : 70000;
	if (hlen == 0 || hlen >= sizeof(host) || port > 65535 || *end != '\0')
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (s[0] != '[' && inet_pton(AF_INET, host, &a4) == 1) {
		c->api_listen_remote = (ntohl(a4.s_addr) >> 24) != 127;
		return 0;
	}
	if (s[0] == '[' && inet_pton(AF_INET6, host, &a6) == 1) {
		c->api_listen_remote = !IN6_IS_ADDR_LOOPBACK(&a6);
		return 0;
	}
bad:
	return fail(c, v->start_mark,
		    "invalid %s '%s' (expected ADDR:PORT, [ADDR6]:PORT or none, e.g. "
		    "127.0.0.1:8080)",
		    what, show(s, strlen(s), sh));
}

static int
check_api_tls(struct ctx *c, const yaml_node_t *v, const char *what, const char *s)
{
	c->api_tls_mark = v->start_mark;
	if (s[0] == '\0')
		return fail(c, v->start_mark, "%s must not be empty", what);
	return 0;
}

/* A bearer token in clear text must not leave the host (issue: TLS beyond loopback). */
static int
check_api(struct ctx *c)
{
	const struct ap_config *cfg = c->cfg;
	bool cert = cfg->api_tls_cert[0] != '\0', key = cfg->api_tls_key[0] != '\0';

	if (cert != key)
		return fail(c, c->api_tls_mark, "api.tls_cert and api.tls_key go together");
	if (c->api_listen_remote && !cert)
		return fail(c, c->api_listen_mark,
			    "api.listen '%s' is not a loopback address: it needs api.tls_cert and "
			    "api.tls_key (the bearer token must not travel in clear text)",
			    cfg->api_listen);
	return 0;
}

/* Custom handlers. */

static int
parse_log_level(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	struct ap_config *cfg = obj;
	int ret, e;

	ret = get_enum(c, v, what, log_level_names, &e);
	if (ret < 0)
		return ret;
	snprintf(cfg->log_level, sizeof(cfg->log_level), "%s", log_level_names[e]);
	return 0;
}

static int
parse_log_format(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	struct ap_config *cfg = obj;
	int ret, e;

	ret = get_enum(c, v, what, log_format_names, &e);
	if (ret < 0)
		return ret;
	cfg->log_json = e == 1;
	return 0;
}

#define PORT_FIELD(k, t, m)                                                                        \
	.key = k, .type = t, .off = offsetof(struct ap_cfg_port, m),                               \
	.size = sizeof(((struct ap_cfg_port *)0)->m)

/* Indexes into port_fields[], for checks that look at one key's position. */
enum { PF_NAME, PF_DRIVER, PF_IFACE, PF_VALIDATE };

static const struct field port_fields[] = {
	[PF_NAME] = {PORT_FIELD("name", FT_STRING, name), .flags = F_REQUIRED,
		     .check = check_port_name},
	[PF_DRIVER] = {PORT_FIELD("driver", FT_ENUM, driver), .flags = F_REQUIRED,
		       .names = driver_names},
	[PF_IFACE] = {PORT_FIELD("iface", FT_STRING, iface), .check = check_ifname,
		      .drivers = DRV(AP_DRV_AF_PACKET) | DRV(AP_DRV_AF_XDP) | DRV(AP_DRV_TAP),
		      .req_drivers = DRV(AP_DRV_AF_PACKET) | DRV(AP_DRV_AF_XDP)},
	[PF_VALIDATE] = {PORT_FIELD("validate", FT_ENUM, validate), .names = validate_names},
	{PORT_FIELD("rx_pcap", FT_STRING, rx_pcap), .flags = F_PATH, .check = check_nonempty,
	 .drivers = DRV(AP_DRV_PCAP)},
	{PORT_FIELD("tx_pcap", FT_STRING, tx_pcap), .flags = F_PATH, .check = check_nonempty,
	 .drivers = DRV(AP_DRV_PCAP)},
	{PORT_FIELD("devargs", FT_STRING, devargs), .check = check_devargs,
	 .drivers = DRV(AP_DRV_DEVARGS), .req_drivers = DRV(AP_DRV_DEVARGS)},
	{PORT_FIELD("rx_template", FT_STRING, rx_template), .flags = F_PATH,
	 .check = check_nonempty, .drivers = DRV(AP_DRV_NULL)},
	{PORT_FIELD("rxq_size", FT_UINT, rxq_size), .min = 64, .max = 16384, .flags = F_POW2},
	{PORT_FIELD("txq_size", FT_UINT, txq_size), .min = 64, .max = 16384, .flags = F_POW2},
	{PORT_FIELD("mtu", FT_UINT, mtu), .min = 68, .max = 9600},
	{PORT_FIELD("kernel_stack", FT_BOOL, kernel_stack), .drivers = DRV(AP_DRV_AF_PACKET)},
	{PORT_FIELD("busy_poll", FT_BOOL, busy_poll), .drivers = DRV(AP_DRV_AF_XDP)},
};
static const struct table port_table = TABLE(port_fields);

/* Checks that need the whole port and the ports before it. */
static int
check_port(struct ctx *c, const struct ap_cfg_port *p, const yaml_node_t *item,
	   const yaml_node_pair_t **seen, const char *where)
{
	const struct ap_config *cfg = c->cfg;
	unsigned d = DRV(p->driver);
	char list[128];

	for (size_t i = 0; i < port_table.n; i++) {
		const struct field *f = &port_table.fields[i];
		const char *ok[AP_DRV_DEVARGS + 2];
		size_t n = 0;

		if (seen[i] == NULL || f->drivers == 0 || (f->drivers & d))
			continue;
		for (int k = 0; k <= AP_DRV_DEVARGS; k++)
			if (f->drivers & DRV(k))
				ok[n++] = driver_names[k];
		ok[n] = NULL;
		return fail(c, node_at(c, seen[i]->key)->start_mark,
			    "key '%s' is not valid for driver %s in %s (only for: %s)", f->key,
			    driver_names[p->driver], where, join(ok, list, sizeof(list)));
	}
	for (size_t i = 0; i < port_table.n; i++)
		if ((port_table.fields[i].req_drivers & d) && seen[i] == NULL)
			return fail(c, item->start_mark,
				    "missing key '%s' in %s (required for driver %s)",
				    port_table.fields[i].key, where, driver_names[p->driver]);
	if (p->driver == AP_DRV_PCAP && p->rx_pcap[0] == '\0' && p->tx_pcap[0] == '\0')
		return fail(c, item->start_mark,
			    "missing key 'rx_pcap' or 'tx_pcap' in %s (driver pcap needs at least "
			    "one)",
			    where);

	for (uint16_t i = 0; i < cfg->n_ports; i++) {
		const struct ap_cfg_port *q = &cfg->ports[i];

		if (strcmp(q->name, p->name) == 0)
			return fail(c, node_at(c, seen[PF_NAME]->value)->start_mark,
				    "duplicate port name '%s' (first defined at %u:%u)", p->name,
				    q->line, q->col);
		/* Two ports on one kernel interface would each see the other's traffic. */
		if (p->iface[0] != '\0' && strcmp(q->iface, p->iface) == 0)
			return fail(c, node_at(c, seen[PF_IFACE]->value)->start_mark,
				    "interface '%s' is already used by port '%s'", p->iface,
				    q->name);
	}
	return 0;
}

static void
port_defaults(struct ap_cfg_port *p)
{
	memset(p, 0, sizeof(*p));
	p->driver = AP_DRV_AF_PACKET;
	p->rxq_size = 1024;
	p->txq_size = 1024;
	p->validate = AP_VALIDATE_L2;
	p->busy_poll = true;
}

/* Lists of mappings share their shape checks and messages; @p fn parses one
 * item (its position in @p where, e.g. "ports[2]") and appends it. */
typedef int (*item_fn)(struct ctx *c, const yaml_node_t *item, const char *where,
		       struct ap_config *cfg);

static int
parse_list(struct ctx *c, const yaml_node_t *v, const char *what, const uint16_t *count,
	   unsigned max, const char *noun, item_fn fn, struct ap_config *cfg)
{
	char where[WHERE_MAX];
	yaml_node_item_t *it;
	int ret;

	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(c, v->start_mark, "expected a list for %s", what);
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		const yaml_node_t *item = node_at(c, *it);

		if (item == NULL)
			return fail(c, v->start_mark, "broken list in %s", what);
		if (*count == max)
			return fail(c, item->start_mark, "too many %s (max %u)", noun, max);
		snprintf(where, sizeof(where), "%s[%u]", what, *count);
		ret = fn(c, item, where, cfg);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* The custom field parser @p fn for the list cfg->@p field of at most
 * @p max @p noun, each entry by @p item. */
#define CFG_LIST(fn, field, max, noun, item)                                                       \
	static int fn(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)            \
	{                                                                                          \
		struct ap_config *cfg = obj;                                                       \
                                                                                                   \
		return parse_list(c, v, what, &cfg->field, max, noun, item, cfg);                  \
	}

static int
port_item(struct ctx *c, const yaml_node_t *item, const char *where, struct ap_config *cfg)
{
	const yaml_node_pair_t *seen[MAX_FIELDS];
	struct ap_cfg_port port;
	int ret;

	port_defaults(&port);
	port.line = (uint32_t)item->start_mark.line + 1;
	port.col = (uint32_t)item->start_mark.column + 1;
	ret = parse_map(c, item, &port_table, &port, where, seen);
	if (ret < 0)
		return ret;
	ret = check_port(c, &port, item, seen, where);
	if (ret == 0 && port.validate == AP_VALIDATE_NONE)
		c->validate_marks[cfg->n_ports] = node_at(c, seen[PF_VALIDATE]->value)->start_mark;
	if (ret < 0)
		return ret;
	cfg->ports[cfg->n_ports++] = port;
	return 0;
}

CFG_LIST(parse_ports, n_ports, AP_CFG_MAX_PORTS, "ports", port_item)

static const struct field xconnect_fields[] = {
	{.key = "a",
	 .type = FT_STRING,
	 .off = offsetof(struct ap_cfg_xconnect, a),
	 .size = AP_NAME_MAX,
	 .flags = F_REQUIRED},
	{.key = "b",
	 .type = FT_STRING,
	 .off = offsetof(struct ap_cfg_xconnect, b),
	 .size = AP_NAME_MAX,
	 .flags = F_REQUIRED},
};
static const struct table xconnect_table = TABLE(xconnect_fields);

static int
xconnect_item(struct ctx *c, const yaml_node_t *item, const char *where, struct ap_config *cfg)
{
	const yaml_node_pair_t *seen[MAX_FIELDS];
	struct ap_cfg_xconnect xc = {0};
	int ret = parse_map(c, item, &xconnect_table, &xc, where, seen);

	if (ret < 0)
		return ret;
	c->xc_marks[cfg->n_xconnects][0] = node_at(c, seen[0]->value)->start_mark;
	c->xc_marks[cfg->n_xconnects][1] = node_at(c, seen[1]->value)->start_mark;
	cfg->xconnects[cfg->n_xconnects++] = xc;
	return 0;
}

CFG_LIST(parse_xconnects, n_xconnects, AP_CFG_MAX_XCONNECTS, "cross-connects", xconnect_item)

/* L3: interfaces and static routes. */

int
ap_cfg_prefix_parse(const char *s, bool need_len, struct ap_cfg_prefix *out)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	struct ap_cfg_prefix p = {0};
	unsigned long len;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, p.addr) == 1) {
		p.family = 4;
		p.len = 32;
	} else if (inet_pton(AF_INET6, buf, p.addr) == 1) {
		p.family = 6;
		p.len = 128;
	} else {
		return -EINVAL;
	}
	if (slash) {
		if (!isdigit((unsigned char)slash[1]) || (slash[1] == '0' && slash[2]))
			return -EINVAL;
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno || *end || len > p.len)
			return -EINVAL;
		p.len = (uint8_t)len;
	} else if (need_len) {
		return -EINVAL;
	}
	*out = p;
	return 0;
}

bool
ap_cfg_prefix_has(const struct ap_cfg_prefix *p, uint8_t family, const uint8_t *a)
{
	unsigned bytes = p->len / 8, bits = p->len % 8;

	if (p->family != family || memcmp(p->addr, a, bytes) != 0)
		return false;
	return bits == 0 || ((p->addr[bytes] ^ a[bytes]) & (0xff00 >> bits)) == 0;
}

const char *
ap_cfg_prefix_fmt(const struct ap_cfg_prefix *p, bool with_len, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (with_len)
		snprintf(buf, len, "%s/%u", a, p->len);
	else
		snprintf(buf, len, "%s", a);
	return buf;
}

static bool
prefix_host_bits_zero(const struct ap_cfg_prefix *p)
{
	unsigned bytes = p->family == 4 ? 4 : 16;

	for (unsigned bit = p->len; bit < bytes * 8; bit++)
		if (p->addr[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

static int
get_prefix(struct ctx *c, const yaml_node_t *v, const char *what, bool need_len,
	   struct ap_cfg_prefix *out)
{
	char sh[SHOW_MAX];
	const char *s;
	int ret;

	ret = get_string(c, v, what, &s);
	if (ret < 0)
		return ret;
	if (ap_cfg_prefix_parse(s, need_len, out) < 0)
		return fail(
			c, v->start_mark, "%s: '%s' is not %s", what, show(s, strlen(s), sh),
			need_len ? "an address with a prefix length (192.0.2.1/24, 2001:db8::1/64)"
				 : "an IPv4 or IPv6 address");
	return 0;
}

static int
parse_iface_addrs(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	struct ap_cfg_iface *ifc = obj;
	char where[WHERE_MAX];
	yaml_node_item_t *it;
	int ret;

	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(c, v->start_mark, "expected a list for %s", what);
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		const yaml_node_t *item = node_at(c, *it);
		struct ap_cfg_prefix p;

		if (item == NULL)
			return fail(c, v->start_mark, "broken list in %s", what);
		if (ifc->n_addrs == AP_CFG_MAX_ADDRS)
			return fail(c, item->start_mark, "too many addresses in %s (max %d)", what,
				    AP_CFG_MAX_ADDRS);
		snprintf(where, sizeof(where), "%s[%u]", what, ifc->n_addrs);
		ret = get_prefix(c, item, where, true, &p);
		if (ret < 0)
			return ret;
		if ((p.family == 4 && p.len > 31) || (p.family == 6 && p.len > 127))
			return fail(c, item->start_mark,
				    "%s: a /%u leaves no room for neighbours on the subnet", where,
				    p.len);
		for (unsigned i = 0; i < ifc->n_addrs; i++)
			if (ifc->addrs[i].family == p.family &&
			    memcmp(ifc->addrs[i].addr, p.addr, 16) == 0)
				return fail(c, item->start_mark, "%s: duplicate address", where);
		ifc->addrs[ifc->n_addrs++] = p;
	}
	return 0;
}

static int
parse_iface_punt(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	struct ap_cfg_iface *ifc = obj;
	const char *s;
	int ret = get_string(c, v, what, &s);

	if (ret < 0)
		return ret;
	if (strcmp(s, "true") == 0)
		ifc->no_punt = false;
	else if (strcmp(s, "false") == 0)
		ifc->no_punt = true;
	else
		return fail(c, v->start_mark, "%s must be true or false", what);
	return 0;
}

static const struct field iface_fields[] = {
	{.key = "name",
	 .type = FT_STRING,
	 .off = offsetof(struct ap_cfg_iface, name),
	 .size = AP_NAME_MAX,
	 .flags = F_REQUIRED,
	 .check = check_iface_name},
	{.key = "port",
	 .type = FT_STRING,
	 .off = offsetof(struct ap_cfg_iface, port),
	 .size = AP_NAME_MAX,
	 .check = check_nonempty},
	{.key = "bridge",
	 .type = FT_STRING,
	 .off = offsetof(struct ap_cfg_iface, bridge),
	 .size = AP_NAME_MAX,
	 .check = check_nonempty},
	{.key = "vlan",
	 .type = FT_UINT,
	 .off = offsetof(struct ap_cfg_iface, vlan),
	 .size = sizeof(uint16_t),
	 .min = 1,
	 .max = 4094},
	{.key = "inner_vlan",
	 .type = FT_UINT,
	 .off = offsetof(struct ap_cfg_iface, inner_vlan),
	 .size = sizeof(uint16_t),
	 .min = 1,
	 .max = 4094},
	{.key = "mtu",
	 .type = FT_UINT,
	 .off = offsetof(struct ap_cfg_iface, mtu),
	 .size = sizeof(uint16_t),
	 .min = 68,
	 .max = 9600},
	{.key = "addresses", .type = FT_CUSTOM, .custom = parse_iface_addrs},
	{.key = "punt", .type = FT_CUSTOM, .custom = parse_iface_punt},
	{.key = "router_advertisements",
	 .type = FT_BOOL,
	 .off = offsetof(struct ap_cfg_iface, ra),
	 .size = sizeof(bool)},
	{.key = "ra_interval",
	 .type = FT_UINT,
	 .off = offsetof(struct ap_cfg_iface, ra_interval),
	 .size = sizeof(uint16_t),
	 .min = 4,
	 .max = 1800},
};
static const struct table iface_table = TABLE(iface_fields);

static int
iface_item(struct ctx *c, const yaml_node_t *item, const char *where, struct ap_config *cfg)
{
	const yaml_node_pair_t *seen[MAX_FIELDS];
	struct ap_cfg_iface ifc = {0};
	int ret = parse_map(c, item, &iface_table, &ifc, where, seen);

	if (ret < 0)
		return ret;
	for (unsigned i = 0; i < cfg->n_ifaces; i++)
		if (strcmp(cfg->ifaces[i].name, ifc.name) == 0)
			return fail(c, node_at(c, seen[0]->value)->start_mark,
				    "duplicate interface name '%s'", ifc.name);
	/* seen[]: 1 port, 2 bridge, 3 vlan, 4 inner_vlan (iface_fields order). */
	if ((seen[1] == NULL) == (seen[2] == NULL))
		return fail(c, item->start_mark, "%s needs exactly one of 'port' or 'bridge'",
			    where);
	if (seen[2] != NULL && (seen[3] != NULL || seen[4] != NULL))
		return fail(c, node_at(c, seen[seen[3] ? 3 : 4]->key)->start_mark,
			    "%s: a bridge interface takes no VLAN (put the VLAN on the bridge's "
			    "members)",
			    where);
	if (seen[4] != NULL && seen[3] == NULL)
		return fail(c, node_at(c, seen[4]->key)->start_mark,
			    "%s: 'inner_vlan' needs the outer 'vlan'", where);
	c->if_marks[cfg->n_ifaces] = node_at(c, seen[seen[1] ? 1 : 2]->value)->start_mark;
	cfg->ifaces[cfg->n_ifaces++] = ifc;
	return 0;
}

CFG_LIST(parse_ifaces, n_ifaces, AP_CFG_MAX_IFACES, "interfaces", iface_item)

static int
parse_route_prefix(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	struct ap_cfg_route *r = obj;
	int ret = get_prefix(c, v, what, true, &r->prefix);

	if (ret < 0)
		return ret;
	if (!prefix_host_bits_zero(&r->prefix))
		return fail(c, v->start_mark, "%s: host bits set beyond the prefix length", what);
	return 0;
}

static int
parse_route_via(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	struct ap_cfg_route *r = obj;
	char where[WHERE_MAX];
	yaml_node_item_t *it;
	const char *s;
	int ret;

	if (v->type == YAML_SEQUENCE_NODE) {
		/* Equal-cost next hops. */
		for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
			const yaml_node_t *item = node_at(c, *it);

			if (item == NULL)
				return fail(c, v->start_mark, "broken list in %s", what);
			if (r->n_via == AP_CFG_MAX_ECMP)
				return fail(c, item->start_mark, "%s: at most %d next hops", what,
					    AP_CFG_MAX_ECMP);
			snprintf(where, sizeof(where), "%s[%u]", what, r->n_via);
			ret = get_prefix(c, item, where, false, &r->via[r->n_via]);
			if (ret < 0)
				return ret;
			for (unsigned i = 0; i < r->n_via; i++)
				if (memcmp(r->via[i].addr, r->via[r->n_via].addr, 16) == 0)
					return fail(c, item->start_mark, "%s: duplicate next hop",
						    where);
			r->n_via++;
		}
		if (r->n_via == 0)
			return fail(c, v->start_mark, "%s: empty list of next hops", what);
		return 0;
	}
	ret = get_string(c, v, what, &s);
	if (ret < 0)
		return ret;
	if (strcmp(s, "blackhole") == 0) {
		r->blackhole = true;
		return 0;
	}
	r->n_via = 1;
	return get_prefix(c, v, what, false, &r->via[0]);
}

static const struct field route_fields[] = {
	{.key = "prefix", .type = FT_CUSTOM, .custom = parse_route_prefix, .flags = F_REQUIRED},
	{.key = "via", .type = FT_CUSTOM, .custom = parse_route_via, .flags = F_REQUIRED},
};
static const struct table route_table = TABLE(route_fields);

static int
route_item(struct ctx *c, const yaml_node_t *item, const char *where, struct ap_config *cfg)
{
	const yaml_node_pair_t *seen[MAX_FIELDS];
	struct ap_cfg_route r = {0};
	int ret = parse_map(c, item, &route_table, &r, where, seen);

	if (ret < 0)
		return ret;
	for (unsigned i = 0; i < r.n_via; i++)
		if (r.via[i].family != r.prefix.family)
			return fail(c, node_at(c, seen[1]->value)->start_mark,
				    "%s.via: IPv%u next hop for an IPv%u prefix", where,
				    r.via[i].family, r.prefix.family);
	for (unsigned i = 0; i < cfg->n_routes; i++)
		if (cfg->routes[i].prefix.family == r.prefix.family &&
		    cfg->routes[i].prefix.len == r.prefix.len &&
		    memcmp(cfg->routes[i].prefix.addr, r.prefix.addr, 16) == 0)
			return fail(c, item->start_mark, "%s: duplicate route", where);
	c->route_marks[cfg->n_routes] = item->start_mark;
	cfg->routes[cfg->n_routes++] = r;
	return 0;
}

CFG_LIST(parse_routes, n_routes, AP_CFG_MAX_ROUTES, "static routes", route_item)

static int
parse_neigh_addr(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	return get_prefix(c, v, what, false, &((struct ap_cfg_neighbor *)obj)->addr);
}

static int
parse_neigh_mac(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	struct ap_cfg_neighbor *n = obj;
	char sh[SHOW_MAX];
	const char *s;
	int ret;

	ret = get_string(c, v, what, &s);
	if (ret < 0)
		return ret;
	if (ap_cfg_mac_parse(s, n->mac) < 0)
		return fail(c, v->start_mark, "%s: '%s' is not a MAC address (02:00:5e:00:53:01)",
			    what, show(s, strlen(s), sh));
	if (n->mac[0] & 1)
		return fail(c, v->start_mark, "%s: a neighbour's MAC cannot be a group address",
			    what);
	return 0;
}

static const struct field neigh_fields[] = {
	{.key = "interface",
	 .type = FT_STRING,
	 .off = offsetof(struct ap_cfg_neighbor, iface),
	 .size = AP_NAME_MAX,
	 .flags = F_REQUIRED},
	{.key = "address", .type = FT_CUSTOM, .custom = parse_neigh_addr, .flags = F_REQUIRED},
	{.key = "mac", .type = FT_CUSTOM, .custom = parse_neigh_mac, .flags = F_REQUIRED},
};
static const struct table neigh_table = TABLE(neigh_fields);

static int
neighbor_item(struct ctx *c, const yaml_node_t *item, const char *where, struct ap_config *cfg)
{
	const yaml_node_pair_t *seen[MAX_FIELDS];
	struct ap_cfg_neighbor n = {0};
	int ret = parse_map(c, item, &neigh_table, &n, where, seen);

	if (ret < 0)
		return ret;
	c->neigh_marks[cfg->n_neighbors][0] = node_at(c, seen[0]->value)->start_mark;
	c->neigh_marks[cfg->n_neighbors][1] = node_at(c, seen[1]->value)->start_mark;
	cfg->neighbors[cfg->n_neighbors++] = n;
	return 0;
}

CFG_LIST(parse_neighbors, n_neighbors, AP_CFG_MAX_NEIGHBORS, "static neighbours", neighbor_item)

/* L2: bridges, their members and static MACs. */

int
ap_cfg_mac_parse(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	char end;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
				      &b[4], &b[5], &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

#define MEMBER_FIELD(k, t, m)                                                                      \
	.key = k, .type = t, .off = offsetof(struct ap_cfg_bridge_member, m),                      \
	.size = sizeof(((struct ap_cfg_bridge_member *)0)->m)

enum { MF_PORT, MF_VLAN, MF_INNER, MF_LIMIT };

static const struct field member_fields[] = {
	[MF_PORT] = {MEMBER_FIELD("port", FT_STRING, port), .flags = F_REQUIRED,
		     .check = check_nonempty},
	[MF_VLAN] = {MEMBER_FIELD("vlan", FT_UINT, vlan), .min = 1, .max = 4094},
	[MF_INNER] = {MEMBER_FIELD("inner_vlan", FT_UINT, inner_vlan), .min = 1, .max = 4094},
	[MF_LIMIT] = {MEMBER_FIELD("learn_limit", FT_UINT, learn_limit), .min = 0, .max = 1u << 24},
};
static const struct table member_table = TABLE(member_fields);

static int
member_item(struct ctx *c, const yaml_node_t *item, const char *where, struct ap_config *cfg)
{
	struct ap_cfg_bridge *br = c->cur_bridge;
	const yaml_node_pair_t *seen[MAX_FIELDS];
	struct ap_cfg_bridge_member m = {0};
	int ret = parse_map(c, item, &member_table, &m, where, seen);

	(void)cfg;
	if (ret < 0)
		return ret;
	if (seen[MF_INNER] != NULL && seen[MF_VLAN] == NULL)
		return fail(c, node_at(c, seen[MF_INNER]->key)->start_mark,
			    "%s: 'inner_vlan' needs the outer 'vlan'", where);
	m.has_learn_limit = seen[MF_LIMIT] != NULL;
	m.line = (uint32_t)item->start_mark.line + 1;
	m.col = (uint32_t)item->start_mark.column + 1;
	br->members[br->n_members++] = m;
	return 0;
}

static int
parse_bridge_members(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	struct ap_cfg_bridge *br = obj;

	c->cur_bridge = br;
	return parse_list(c, v, what, &br->n_members, AP_CFG_BRIDGE_MAX_MEMBERS, "bridge members",
			  member_item, c->cfg);
}

#define SMAC_FIELD(k, t, m)                                                                        \
	.key = k, .type = t, .off = offsetof(struct ap_cfg_static_mac, m),                         \
	.size = sizeof(((struct ap_cfg_static_mac *)0)->m)

static int
parse_static_mac_addr(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	struct ap_cfg_static_mac *sm = obj;
	char sh[SHOW_MAX];
	const char *s;
	int ret = get_string(c, v, what, &s);

	if (ret < 0)
		return ret;
	if (ap_cfg_mac_parse(s, sm->mac) < 0)
		return fail(c, v->start_mark, "%s: '%s' is not a MAC address (02:00:5e:00:53:01)",
			    what, show(s, strlen(s), sh));
	if (sm->mac[0] & 1)
		return fail(c, v->start_mark, "%s: a static MAC cannot be a group address", what);
	return 0;
}

static const struct field static_mac_fields[] = {
	{.key = "mac", .type = FT_CUSTOM, .custom = parse_static_mac_addr, .flags = F_REQUIRED},
	{SMAC_FIELD("port", FT_STRING, port), .flags = F_REQUIRED, .check = check_nonempty},
	{SMAC_FIELD("vlan", FT_UINT, vlan), .min = 1, .max = 4094},
	{SMAC_FIELD("inner_vlan", FT_UINT, inner_vlan), .min = 1, .max = 4094},
};
static const struct table static_mac_table = TABLE(static_mac_fields);

static int
static_mac_item(struct ctx *c, const yaml_node_t *item, const char *where, struct ap_config *cfg)
{
	struct ap_cfg_bridge *br = c->cur_bridge;
	const yaml_node_pair_t *seen[MAX_FIELDS];
	struct ap_cfg_static_mac sm = {0};
	int ret = parse_map(c, item, &static_mac_table, &sm, where, seen);

	(void)cfg;
	if (ret < 0)
		return ret;
	for (unsigned i = 0; i < br->n_static; i++)
		if (memcmp(br->static_macs[i].mac, sm.mac, 6) == 0)
			return fail(c, item->start_mark, "%s: duplicate static MAC", where);
	sm.line = (uint32_t)item->start_mark.line + 1;
	sm.col = (uint32_t)item->start_mark.column + 1;
	br->static_macs[br->n_static++] = sm;
	return 0;
}

static int
parse_bridge_static(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	struct ap_cfg_bridge *br = obj;

	c->cur_bridge = br;
	return parse_list(c, v, what, &br->n_static, AP_CFG_BRIDGE_MAX_STATIC, "static MACs",
			  static_mac_item, c->cfg);
}

#define BRIDGE_FIELD(k, t, m)                                                                      \
	.key = k, .type = t, .off = offsetof(struct ap_cfg_bridge, m),                             \
	.size = sizeof(((struct ap_cfg_bridge *)0)->m)

static const struct field bridge_fields[] = {
	{BRIDGE_FIELD("name", FT_STRING, name), .flags = F_REQUIRED, .check = check_port_name},
	{BRIDGE_FIELD("mac_age", FT_UINT, mac_age), .min = 0, .max = 1000000},
	{BRIDGE_FIELD("learn_limit", FT_UINT, learn_limit), .min = 0, .max = 1u << 24},
	{BRIDGE_FIELD("flood", FT_BOOL, flood)},
	{BRIDGE_FIELD("learn", FT_BOOL, learn)},
	{.key = "members", .type = FT_CUSTOM, .custom = parse_bridge_members, .flags = F_REQUIRED},
	{.key = "static_macs", .type = FT_CUSTOM, .custom = parse_bridge_static},
};
static const struct table bridge_table = TABLE(bridge_fields);

static int
bridge_item(struct ctx *c, const yaml_node_t *item, const char *where, struct ap_config *cfg)
{
	const yaml_node_pair_t *seen[MAX_FIELDS];
	struct ap_cfg_bridge *br = &cfg->bridges[cfg->n_bridges];
	int ret;

	memset(br, 0, sizeof(*br));
	br->mac_age = 300;
	br->learn_limit = 4096;
	br->flood = true;
	br->learn = true;
	ret = parse_map(c, item, &bridge_table, br, where, seen);
	if (ret < 0)
		return ret;
	for (unsigned i = 0; i < cfg->n_bridges; i++)
		if (strcmp(cfg->bridges[i].name, br->name) == 0)
			return fail(c, node_at(c, seen[0]->value)->start_mark,
				    "duplicate bridge name '%s'", br->name);
	br->line = (uint32_t)item->start_mark.line + 1;
	br->col = (uint32_t)item->start_mark.column + 1;
	cfg->n_bridges++;
	return 0;
}

CFG_LIST(parse_bridges, n_bridges, AP_CFG_MAX_BRIDGES, "bridges", bridge_item)

static yaml_mark_t
mark_at(uint32_t line, uint32_t col)
{
	yaml_mark_t m = {.line = line ? line - 1 : 0, .column = col ? col - 1 : 0};

	return m;
}

/* What owns each (port, vlan, inner vlan) once everything is read: one
 * interface or one bridge member, never two. */
struct l2_owner {
	uint16_t port_idx, vlan, inner;
	char what[64];
};

static int
claim(struct ctx *c, struct l2_owner *own, unsigned *n, uint16_t port_idx, uint16_t vlan,
      uint16_t inner, yaml_mark_t m, const char *what)
{
	const char *pname = c->cfg->ports[port_idx].name;

	for (unsigned i = 0; i < *n; i++) {
		if (own[i].port_idx != port_idx || own[i].vlan != vlan)
			continue;
		if (own[i].inner == inner) {
			if (vlan == 0)
				return fail(c, m, "untagged frames of port '%s' already go to %s",
					    pname, own[i].what);
			return fail(c, m, "VLAN %u%s%.0u on port '%s' already goes to %s", vlan,
				    inner ? "." : "", inner, pname, own[i].what);
		}
		if (vlan != 0 && (own[i].inner == 0 || inner == 0))
			return fail(c, m,
				    "VLAN %u on port '%s' cannot be both single-tagged and QinQ "
				    "(see %s)",
				    vlan, pname, own[i].what);
	}
	for (uint16_t x = 0; x < c->cfg->n_xconnects; x++)
		if (c->cfg->xconnects[x].a_idx == port_idx ||
		    c->cfg->xconnects[x].b_idx == port_idx)
			return fail(c, m, "port '%s' is cross-connected and cannot be in %s", pname,
				    what);
	own[*n].port_idx = port_idx;
	own[*n].vlan = vlan;
	own[*n].inner = inner;
	snprintf(own[*n].what, sizeof(own[*n].what), "%s", what);
	(*n)++;
	return 0;
}

/* Bridge members and interfaces name ports that may be listed later; each
 * tag stack of a port belongs to one of them. */
static int
resolve_l2(struct ctx *c)
{
	static struct l2_owner
		own[AP_CFG_MAX_BRIDGES * AP_CFG_BRIDGE_MAX_MEMBERS + AP_CFG_MAX_IFACES];
	struct ap_config *cfg = c->cfg;
	unsigned n_own = 0;
	char what[64];
	int ret;

	for (uint16_t b = 0; b < cfg->n_bridges; b++) {
		struct ap_cfg_bridge *br = &cfg->bridges[b];

		for (uint16_t i = 0; i < br->n_members; i++) {
			struct ap_cfg_bridge_member *m = &br->members[i];
			int idx = ap_config_port_index(cfg, m->port);

			if (idx < 0)
				return fail(c, mark_at(m->line, m->col),
					    "unknown port '%s' in bridges[%u].members[%u]", m->port,
					    b, i);
			m->port_idx = (uint16_t)idx;
			if (!m->has_learn_limit)
				m->learn_limit = br->learn_limit;
			snprintf(what, sizeof(what), "bridge '%s'", br->name);
			ret = claim(c, own, &n_own, m->port_idx, m->vlan, m->inner_vlan,
				    mark_at(m->line, m->col), what);
			if (ret < 0)
				return ret;
		}
		for (uint16_t s = 0; s < br->n_static; s++) {
			struct ap_cfg_static_mac *sm = &br->static_macs[s];
			bool found = false;

			for (uint16_t i = 0; i < br->n_members && !found; i++) {
				const struct ap_cfg_bridge_member *m = &br->members[i];

				if (strcmp(m->port, sm->port) == 0 && m->vlan == sm->vlan &&
				    m->inner_vlan == sm->inner_vlan) {
					sm->member = i;
					found = true;
				}
			}
			if (!found)
				return fail(c, mark_at(sm->line, sm->col),
					    "bridges[%u].static_macs[%u]: port '%s' with that VLAN "
					    "is no member of bridge '%s'",
					    b, s, sm->port, br->name);
		}
	}
	for (uint16_t i = 0; i < cfg->n_ifaces; i++) {
		struct ap_cfg_iface *ifc = &cfg->ifaces[i];
		int idx;

		if (ifc->bridge[0] != '\0') {
			idx = ap_config_bridge_index(cfg, ifc->bridge);
			if (idx < 0)
				return fail(c, c->if_marks[i],
					    "unknown bridge '%s' in interfaces[%u]", ifc->bridge,
					    i);
			for (uint16_t j = 0; j < i; j++)
				if (cfg->ifaces[j].bridge[0] != '\0' &&
				    cfg->ifaces[j].bridge_idx == idx)
					return fail(c, c->if_marks[i],
						    "bridge '%s' already has interface '%s'",
						    ifc->bridge, cfg->ifaces[j].name);
			ifc->bridge_idx = (uint16_t)idx;
			continue;
		}
		idx = ap_config_port_index(cfg, ifc->port);
		if (idx < 0)
			return fail(c, c->if_marks[i], "unknown port '%s' in interfaces[%u]",
				    ifc->port, i);
		ifc->port_idx = (uint16_t)idx;
		snprintf(what, sizeof(what), "interface '%s'", ifc->name);
		ret = claim(c, own, &n_own, ifc->port_idx, ifc->vlan, ifc->inner_vlan,
			    c->if_marks[i], what);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Is @p a inside the subnet @p net (an interface address with its length)? */
static bool
prefix_contains(const struct ap_cfg_prefix *net, const struct ap_cfg_prefix *a)
{
	if (net->family != a->family)
		return false;
	for (unsigned bit = 0; bit < net->len; bit++) {
		uint8_t m = (uint8_t)(0x80 >> (bit % 8));

		if ((net->addr[bit / 8] & m) != (a->addr[bit / 8] & m))
			return false;
	}
	return true;
}

/* Next hops must sit on a connected subnet (recursive next hops come with
 * the routing protocols). */
static int
resolve_l3(struct ctx *c)
{
	struct ap_config *cfg = c->cfg;

	for (uint16_t i = 0; i < cfg->n_neighbors; i++) {
		struct ap_cfg_neighbor *n = &cfg->neighbors[i];
		bool found = false, on_link = false;
		char b[64];

		for (uint16_t f = 0; f < cfg->n_ifaces && !found; f++) {
			if (strcmp(cfg->ifaces[f].name, n->iface) != 0)
				continue;
			found = true;
			n->iface_idx = f;
			for (unsigned a = 0; a < cfg->ifaces[f].n_addrs && !on_link; a++)
				on_link = prefix_contains(&cfg->ifaces[f].addrs[a], &n->addr);
		}
		if (!found)
			return fail(c, c->neigh_marks[i][0],
				    "unknown interface '%s' in neighbors[%u]", n->iface, i);
		if (!on_link)
			return fail(c, c->neigh_marks[i][1],
				    "neighbors[%u]: %s is on no subnet of interface '%s'", i,
				    ap_cfg_prefix_fmt(&n->addr, false, b, sizeof(b)), n->iface);
		for (uint16_t j = 0; j < i; j++)
			if (cfg->neighbors[j].iface_idx == n->iface_idx &&
			    memcmp(cfg->neighbors[j].addr.addr, n->addr.addr, 16) == 0)
				return fail(c, c->neigh_marks[i][1],
					    "neighbors[%u]: duplicate of "
					    "neighbors[%u]",
					    i, j);
	}
	for (uint16_t r = 0; r < cfg->n_routes; r++) {
		const struct ap_cfg_route *rt = &cfg->routes[r];

		for (unsigned v = 0; v < rt->n_via; v++) {
			const struct ap_cfg_prefix *via = &rt->via[v];
			bool on_link = false;
			char b[64];

			for (uint16_t i = 0; i < cfg->n_ifaces && !on_link; i++)
				for (unsigned a = 0; a < cfg->ifaces[i].n_addrs && !on_link; a++)
					on_link = prefix_contains(&cfg->ifaces[i].addrs[a], via);
			if (!on_link)
				return fail(c, c->route_marks[r],
					    "routes[%u]: next hop %s is on no interface's subnet",
					    r, ap_cfg_prefix_fmt(via, false, b, sizeof(b)));
			for (uint16_t i = 0; i < cfg->n_ifaces; i++)
				for (unsigned a = 0; a < cfg->ifaces[i].n_addrs; a++)
					if (cfg->ifaces[i].addrs[a].family == via->family &&
					    memcmp(cfg->ifaces[i].addrs[a].addr, via->addr, 16) ==
						    0)
						return fail(
							c, c->route_marks[r],
							"routes[%u]: next hop %s is the router's "
							"own address",
							r,
							ap_cfg_prefix_fmt(via, false, b,
									  sizeof(b)));
		}
	}
	return 0;
}

/* Ports may be listed after the cross-connects, so references resolve at the end. */
static int
resolve_xconnects(struct ctx *c)
{
	struct ap_config *cfg = c->cfg;
	int used_by[AP_CFG_MAX_PORTS];

	for (int i = 0; i < AP_CFG_MAX_PORTS; i++)
		used_by[i] = -1;
	for (uint16_t i = 0; i < cfg->n_xconnects; i++) {
		struct ap_cfg_xconnect *xc = &cfg->xconnects[i];
		const char *names[2] = {xc->a, xc->b};
		int idx[2];

		for (int s = 0; s < 2; s++) {
			char sh[SHOW_MAX];

			idx[s] = ap_config_port_index(cfg, names[s]);
			if (idx[s] < 0)
				return fail(c, c->xc_marks[i][s],
					    "unknown port '%s' in xconnect[%u].%c",
					    show(names[s], strlen(names[s]), sh), i, "ab"[s]);
			if (s == 1 && idx[1] == idx[0])
				break;
			if (used_by[idx[s]] >= 0)
				return fail(c, c->xc_marks[i][s],
					    "port '%s' is already in xconnect[%d]", names[s],
					    used_by[idx[s]]);
			used_by[idx[s]] = i;
		}
		xc->a_idx = (uint16_t)idx[0];
		xc->b_idx = (uint16_t)idx[1];
	}
	/* Without the tags, eth-input could not pick a VLAN interface or a bridge. */
	for (uint16_t i = 0; i < cfg->n_ports; i++)
		if (cfg->ports[i].validate == AP_VALIDATE_NONE && used_by[i] < 0)
			return fail(c, c->validate_marks[i],
				    "validate: none is only for cross-connected ports, and port "
				    "'%s' is in no xconnect",
				    cfg->ports[i].name);
	return 0;
}

#define CFG_FIELD(k, t, m)                                                                         \
	.key = k, .type = t, .off = offsetof(struct ap_config, m),                                 \
	.size = sizeof(((struct ap_config *)0)->m)

#define FIB_FIELDS(fam, routes_max)                                                                \
	{CFG_FIELD("max_routes", FT_UINT, fam.max_routes), .min = 1024, .max = routes_max},        \
	{                                                                                          \
		CFG_FIELD("tbl8", FT_UINT, fam.tbl8), .min = 256, .max = 1u << 22                  \
	}
static const struct field fib4_fields[] = {FIB_FIELDS(fib4, 1u << 24)};
static const struct table fib4_table = TABLE(fib4_fields);
static const struct field fib6_fields[] = {FIB_FIELDS(fib6, 1u << 22)};
static const struct table fib6_table = TABLE(fib6_fields);

static const struct field dataplane_fields[] = {
	{CFG_FIELD("workers", FT_UINT, workers), .min = 1, .max = 64},
	{CFG_FIELD("mbufs", FT_UINT, mbufs), .min = 1024, .max = 4194304},
	{CFG_FIELD("burst", FT_UINT, burst), .min = 1, .max = 256},
	{CFG_FIELD("hugepages", FT_ENUM, hugepages), .names = hugepages_names},
	{CFG_FIELD("eal_args", FT_STRING, eal_args)},
	{CFG_FIELD("node_cycles", FT_BOOL, node_cycles)},
	{CFG_FIELD("poll_sleep_us", FT_UINT, poll_sleep_us), .max = 10000},
	{CFG_FIELD("neighbor_reachable_time", FT_UINT, neigh_reachable_s), .min = 1, .max = 3600},
	{CFG_FIELD("mac_table_size", FT_UINT, mac_table_size), .min = 1024, .max = 1u << 24,
	 .flags = F_POW2},
	{.key = "fib4", .type = FT_SECTION, .sub = &fib4_table},
	{.key = "fib6", .type = FT_SECTION, .sub = &fib6_table},
};
static const struct table dataplane_table = TABLE(dataplane_fields);

static const struct field api_fields[] = {
	{CFG_FIELD("socket", FT_STRING, api_socket), .check = check_api_socket},
	{CFG_FIELD("listen", FT_STRING, api_listen), .check = check_api_listen},
	{CFG_FIELD("token_file", FT_STRING, api_token_file), .flags = F_PATH},
	{CFG_FIELD("tls_cert", FT_STRING, api_tls_cert), .flags = F_PATH, .check = check_api_tls},
	{CFG_FIELD("tls_key", FT_STRING, api_tls_key), .flags = F_PATH, .check = check_api_tls},
	{CFG_FIELD("web_root", FT_STRING, api_web_root), .flags = F_PATH},
};
static const struct table api_table = TABLE(api_fields);

static const struct field log_fields[] = {
	{.key = "level", .type = FT_CUSTOM, .custom = parse_log_level},
	{.key = "format", .type = FT_CUSTOM, .custom = parse_log_format},
};
static const struct table log_table = TABLE(log_fields);

/* The bgp: section has its own walker (config_bgp.c). */
/* firewall: zones, sets, policies, rules. */

static const char *const fw_action_names[] = {
	[AP_FW_ACCEPT] = "accept",
	[AP_FW_DROP] = "drop",
	[AP_FW_REJECT] = "reject",
	NULL,
};

static int
parse_name_list(struct ctx *c, const yaml_node_t *v, const char *what, char (*out)[AP_NAME_MAX],
		unsigned max, uint8_t *n)
{
	yaml_node_item_t *it;

	if (v->type != YAML_SEQUENCE_NODE)
		return fail(c, v->start_mark, "expected a list for %s", what);
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		const yaml_node_t *item = node_at(c, *it);
		const char *str;
		int ret;

		if (item == NULL)
			return fail(c, v->start_mark, "broken list in %s", what);
		if (*n == max)
			return fail(c, item->start_mark, "too many entries in %s (max %u)", what,
				    max);
		ret = get_string(c, item, what, &str);
		if (ret < 0)
			return ret;
		if (item->data.scalar.length >= AP_NAME_MAX)
			return fail(c, item->start_mark, "%s: '%s' is too long", what, str);
		memcpy(out[(*n)++], str, item->data.scalar.length + 1);
	}
	return 0;
}

static int
parse_zone_ifaces(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	struct ap_cfg_fw_zone *z = obj;

	return parse_name_list(c, v, what, z->ifaces, AP_CFG_FW_ZONE_IFACES, &z->n_ifaces);
}

static const struct field zone_fields[] = {
	{.key = "name",
	 .type = FT_STRING,
	 .off = offsetof(struct ap_cfg_fw_zone, name),
	 .size = AP_NAME_MAX,
	 .flags = F_REQUIRED,
	 .check = check_port_name},
	{.key = "interfaces", .type = FT_CUSTOM, .custom = parse_zone_ifaces, .flags = F_REQUIRED},
};
static const struct table zone_table = TABLE(zone_fields);

/* "80" or "8000-8080". */
static bool
port_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	unsigned a, b;
	char end;

	if (sscanf(s, "%u-%u%c", &a, &b, &end) == 2 && a <= b && b <= 65535) {
		*lo = (uint16_t)a;
		*hi = (uint16_t)b;
		return true;
	}
	if (sscanf(s, "%u%c", &a, &end) == 1 && a <= 65535 &&
	    strspn(s, "0123456789") == strlen(s)) {
		*lo = *hi = (uint16_t)a;
		return true;
	}
	return false;
}

/* One item of a set: false when @p str is not a port (range) or an address
 * (prefix without host bits), as @p ports says. */
static bool
set_item(struct ap_cfg_fw *fw, bool ports, const char *str)
{
	const unsigned i = fw->n_items;

	if (ports ? !port_range(str, &fw->port_lo[i], &fw->port_hi[i])
		  : ap_cfg_prefix_parse(str, false, &fw->addrs[i]) < 0 ||
			    !prefix_host_bits_zero(&fw->addrs[i]))
		return false;
	fw->n_items++;
	return true;
}

static int
parse_set_items(struct ctx *c, const yaml_node_t *v, struct ap_cfg_fw_set *set, bool ports,
		const char *what)
{
	struct ap_cfg_fw *fw = &c->cfg->firewall;
	yaml_node_item_t *it;
	char sh[SHOW_MAX];

	if (v->type != YAML_SEQUENCE_NODE)
		return fail(c, v->start_mark, "expected a list for %s", what);
	set->ports = ports;
	set->first = fw->n_items;
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		const yaml_node_t *item = node_at(c, *it);
		const char *str;
		int ret;

		if (item == NULL)
			return fail(c, v->start_mark, "broken list in %s", what);
		if (set->n == AP_CFG_FW_SET_MAX)
			return fail(c, item->start_mark, "too many entries in %s (max %d)", what,
				    AP_CFG_FW_SET_MAX);
		ret = get_string(c, item, what, &str);
		if (ret < 0)
			return ret;
		if (!set_item(fw, ports, str))
			return fail(c, item->start_mark, "%s: '%s' is not %s", what,
				    show(str, strlen(str), sh),
				    ports ? "a port or a range (8000-8080)"
					  : "an address or a prefix without host bits");
		set->n++;
	}
	return 0;
}

static int
parse_set_addrs(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	return parse_set_items(c, v, obj, false, what);
}

static int
parse_set_ports(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	return parse_set_items(c, v, obj, true, what);
}

static const struct field set_fields[] = {
	{.key = "name",
	 .type = FT_STRING,
	 .off = offsetof(struct ap_cfg_fw_set, name),
	 .size = AP_NAME_MAX,
	 .flags = F_REQUIRED,
	 .check = check_port_name},
	{.key = "addresses", .type = FT_CUSTOM, .custom = parse_set_addrs},
	{.key = "ports", .type = FT_CUSTOM, .custom = parse_set_ports},
};
static const struct table set_table = TABLE(set_fields);

static int
get_proto(struct ctx *c, const yaml_node_t *v, const char *what, uint8_t *out)
{
	static const struct {
		const char *name;
		uint8_t num;
	} protos[] = {{"any", 0}, {"tcp", 6}, {"udp", 17}, {"icmp", 1}, {"icmpv6", 58}};
	char sh[SHOW_MAX];
	const char *str;
	unsigned n;
	char end;
	int ret = get_string(c, v, what, &str);

	if (ret < 0)
		return ret;
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (strcmp(str, protos[i].name) == 0) {
			*out = protos[i].num;
			return 0;
		}
	if (sscanf(str, "%u%c", &n, &end) == 1 && n >= 1 && n <= 255) {
		*out = (uint8_t)n;
		return 0;
	}
	return fail(c, v->start_mark,
		    "%s: '%s' is not tcp, udp, icmp, icmpv6, any or a protocol number", what,
		    show(str, strlen(str), sh));
}

static int
parse_fw_proto(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	return get_proto(c, v, what, &((struct ap_cfg_fw_rule *)obj)->proto);
}

static int
parse_fw_ct_state(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	static const char *const names[] = {"new",     "established", "related",
					    "invalid", "untracked",   NULL};
	struct ap_cfg_fw_rule *r = obj;
	char list[AP_CFG_FW_ZONE_IFACES][AP_NAME_MAX];
	uint8_t n = 0;
	int ret = parse_name_list(c, v, what, list, AP_CFG_FW_ZONE_IFACES, &n);

	if (ret < 0)
		return ret;
	for (unsigned i = 0; i < n; i++) {
		unsigned k;

		for (k = 0; names[k] && strcmp(names[k], list[i]) != 0; k++)
			;
		if (!names[k])
			return fail(c, v->start_mark,
				    "%s: '%s' is not new, established, related, invalid or "
				    "untracked",
				    what, list[i]);
		r->ct_state |= (uint8_t)(1u << k);
	}
	return 0;
}

/* A rule's small number (ICMP type, DSCP): 0 to @p max, else -1 stays. */
static int
parse_fw_small(struct ctx *c, const yaml_node_t *v, const char *what, unsigned max, int16_t *out)
{
	uint64_t x = 0;
	int ret = get_uint(c, v, what, &x);

	if (ret < 0)
		return ret;
	if (x > max)
		return fail(c, v->start_mark, "%s must be between 0 and %u", what, max);
	*out = (int16_t)x;
	return 0;
}

static int
parse_fw_icmp_type(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	return parse_fw_small(c, v, what, 255, &((struct ap_cfg_fw_rule *)obj)->icmp_type);
}

static int
parse_fw_dscp(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	return parse_fw_small(c, v, what, 63, &((struct ap_cfg_fw_rule *)obj)->dscp);
}

#define RULE_FIELD(k, t, m)                                                                        \
	.key = k, .type = t, .off = offsetof(struct ap_cfg_fw_rule, m),                            \
	.size = sizeof(((struct ap_cfg_fw_rule *)0)->m)

enum { RF_FROM, RF_TO, RF_SRC, RF_DST, RF_SPORT, RF_DPORT };

static const struct field rule_fields[] = {
	[RF_FROM] = {RULE_FIELD("from", FT_STRING, from)},
	[RF_TO] = {RULE_FIELD("to", FT_STRING, to)},
	[RF_SRC] = {RULE_FIELD("src", FT_STRING, src_s)},
	[RF_DST] = {RULE_FIELD("dst", FT_STRING, dst_s)},
	[RF_SPORT] = {RULE_FIELD("sport", FT_STRING, sport_s)},
	[RF_DPORT] = {RULE_FIELD("dport", FT_STRING, dport_s)},
	{.key = "proto", .type = FT_CUSTOM, .custom = parse_fw_proto},
	{.key = "icmp_type", .type = FT_CUSTOM, .custom = parse_fw_icmp_type},
	{.key = "ct_state", .type = FT_CUSTOM, .custom = parse_fw_ct_state},
	{.key = "dscp", .type = FT_CUSTOM, .custom = parse_fw_dscp},
	{RULE_FIELD("action", FT_ENUM, action), .names = fw_action_names, .flags = F_REQUIRED},
	{RULE_FIELD("log", FT_BOOL, log)},
	{RULE_FIELD("comment", FT_STRING, comment)},
	{RULE_FIELD("iif", FT_STRING, iif)},
	{RULE_FIELD("oif", FT_STRING, oif)},
};
static const struct table rule_table = TABLE(rule_fields);

static const struct field policy_fields[] = {
	{.key = "from",
	 .type = FT_STRING,
	 .off = offsetof(struct ap_cfg_fw_policy, from),
	 .size = AP_NAME_MAX,
	 .flags = F_REQUIRED},
	{.key = "to",
	 .type = FT_STRING,
	 .off = offsetof(struct ap_cfg_fw_policy, to),
	 .size = AP_NAME_MAX,
	 .flags = F_REQUIRED},
	{.key = "action",
	 .type = FT_ENUM,
	 .off = offsetof(struct ap_cfg_fw_policy, action),
	 .size = sizeof(enum ap_fw_action),
	 .names = fw_action_names,
	 .flags = F_REQUIRED},
};
static const struct table policy_table = TABLE(policy_fields);

/* One mapping of a firewall list into @p obj, with its table. */
static int
fw_item(struct ctx *c, const yaml_node_t *item, const char *where, const struct table *t, void *obj,
	size_t size)
{
	const yaml_node_pair_t *seen[MAX_FIELDS];
	int ret;

	uint32_t line = (uint32_t)item->start_mark.line + 1,
		 col = (uint32_t)item->start_mark.column + 1;

	memset(obj, 0, size);
	if (t == &rule_table) {
		struct ap_cfg_fw_rule *r = obj;

		r->icmp_type = -1;
		r->dscp = -1;
		r->line = line;
		r->col = col;
	}
	ret = parse_map(c, item, t, obj, where, seen);
	if (t == &zone_table) {
		((struct ap_cfg_fw_zone *)obj)->line = line;
		((struct ap_cfg_fw_zone *)obj)->col = col;
	} else if (t == &policy_table) {
		((struct ap_cfg_fw_policy *)obj)->line = line;
		((struct ap_cfg_fw_policy *)obj)->col = col;
	}
	if (ret == 0 && t == &set_table && (seen[1] == NULL) == (seen[2] == NULL))
		return fail(c, item->start_mark, "%s needs exactly one of 'addresses' or 'ports'",
			    where);
	return ret;
}

static int
fw_zone_item(struct ctx *c, const yaml_node_t *item, const char *where, struct ap_config *cfg)
{
	struct ap_cfg_fw *fw = &cfg->firewall;
	int ret =
		fw_item(c, item, where, &zone_table, &fw->zones[fw->n_zones], sizeof(fw->zones[0]));

	if (ret == 0)
		fw->n_zones++;
	return ret;
}

static int
fw_set_item(struct ctx *c, const yaml_node_t *item, const char *where, struct ap_config *cfg)
{
	struct ap_cfg_fw *fw = &cfg->firewall;
	struct ap_cfg_fw_set *set = &fw->sets[fw->n_sets];
	int ret = fw_item(c, item, where, &set_table, set, sizeof(*set));

	if (ret < 0)
		return ret;
	for (uint16_t k = 0; k < fw->n_sets; k++)
		if (strcmp(fw->sets[k].name, set->name) == 0)
			return fail(c, item->start_mark, "duplicate set name '%s'", set->name);
	fw->n_sets++;
	return 0;
}

static int
fw_policy_item(struct ctx *c, const yaml_node_t *item, const char *where, struct ap_config *cfg)
{
	struct ap_cfg_fw *fw = &cfg->firewall;
	int ret = fw_item(c, item, where, &policy_table, &fw->policies[fw->n_policies],
			  sizeof(fw->policies[0]));

	if (ret == 0)
		fw->n_policies++;
	return ret;
}

static int
fw_rule_item(struct ctx *c, const yaml_node_t *item, const char *where, struct ap_config *cfg)
{
	struct ap_cfg_fw *fw = &cfg->firewall;
	int ret =
		fw_item(c, item, where, &rule_table, &fw->rules[fw->n_rules], sizeof(fw->rules[0]));

	if (ret == 0)
		fw->n_rules++;
	return ret;
}

CFG_LIST(parse_fw_zones, firewall.n_zones, AP_CFG_FW_MAX_ZONES, "zones", fw_zone_item)

CFG_LIST(parse_fw_sets, firewall.n_sets, AP_CFG_FW_MAX_SETS, "sets", fw_set_item)

CFG_LIST(parse_fw_policies, firewall.n_policies, AP_CFG_FW_MAX_POLICIES, "policies", fw_policy_item)

CFG_LIST(parse_fw_rules, firewall.n_rules, AP_CFG_FW_MAX_RULES, "rules", fw_rule_item)

#define FW_FIELD(k, t, m)                                                                          \
	.key = k, .type = t, .off = offsetof(struct ap_config, firewall.m),                        \
	.size = sizeof(((struct ap_config *)0)->firewall.m)

static const struct field fw_fields[] = {
	{FW_FIELD("default", FT_ENUM, default_action), .names = fw_action_names},
	{FW_FIELD("log_rate", FT_UINT, log_rate), .min = 1, .max = 1000000},
	{.key = "zones", .type = FT_CUSTOM, .custom = parse_fw_zones},
	{.key = "sets", .type = FT_CUSTOM, .custom = parse_fw_sets},
	{.key = "policies", .type = FT_CUSTOM, .custom = parse_fw_policies},
	{.key = "rules", .type = FT_CUSTOM, .custom = parse_fw_rules},
};
static const struct table fw_table = TABLE(fw_fields);

static int
parse_firewall(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	const yaml_node_pair_t *seen[MAX_FIELDS];
	struct ap_config *cfg = obj;

	cfg->firewall.enabled = true;
	/* Stateful rules need connection tracking. */
	cfg->conntrack.enabled = true;
	if (is_null(v))
		return 0;
	return parse_map(c, v, &fw_table, cfg, what, seen);
}

/* A zone reference: a zone's name, "any", or (@p self_ok) "self". */
static int
fw_zone_ref(struct ctx *c, const struct ap_cfg_fw *fw, const char *name, bool self_ok,
	    yaml_mark_t m, const char *what, uint8_t *out)
{
	if (name[0] == '\0' || strcmp(name, "any") == 0) {
		*out = AP_FW_ZONE_ANY;
		return 0;
	}
	if (strcmp(name, "self") == 0) {
		if (!self_ok)
			return fail(c, m, "%s: traffic does not come from 'self'", what);
		*out = AP_FW_ZONE_SELF;
		return 0;
	}
	for (uint8_t z = 0; z < fw->n_zones; z++)
		if (strcmp(fw->zones[z].name, name) == 0) {
			*out = z;
			return 0;
		}
	return fail(c, m, "%s: unknown zone '%s'", what, name);
}

/* A rule's address or port: a set's name, else an inline value that
 * becomes an anonymous set of one. */
static int
fw_match_ref(struct ctx *c, struct ap_cfg_fw *fw, const char *s, bool ports, yaml_mark_t m,
	     const char *what, int16_t *out)
{
	struct ap_cfg_fw_set *set;
	char sh[SHOW_MAX];

	*out = -1;
	if (s[0] == '\0')
		return 0;
	for (uint16_t i = 0; i < fw->n_sets; i++)
		if (fw->sets[i].name[0] != '\0' && strcmp(fw->sets[i].name, s) == 0) {
			if (fw->sets[i].ports != ports)
				return fail(c, m, "%s: set '%s' holds %s", what, s,
					    ports ? "addresses" : "ports");
			*out = (int16_t)i;
			return 0;
		}
	if (fw->n_sets == sizeof(fw->sets) / sizeof(fw->sets[0]) ||
	    fw->n_items == AP_CFG_FW_MAX_ITEMS)
		return fail(c, m, "%s: too many inline addresses and ports", what);
	set = &fw->sets[fw->n_sets];
	memset(set, 0, sizeof(*set));
	set->ports = ports;
	set->n = 1;
	set->first = fw->n_items;
	if (!set_item(fw, ports, s))
		return fail(c, m, "%s: '%s' is no set and not %s", what, show(s, strlen(s), sh),
			    ports ? "a port or a range (8000-8080)"
				  : "an address or a prefix without host bits");
	*out = (int16_t)fw->n_sets++;
	return 0;
}

/* A rule's iif/oif: an interface's index, -1 for none given. */
static int
fw_iface_ref(struct ctx *c, const char *name, yaml_mark_t m, const char *what, const char *key,
	     int16_t *idx)
{
	*idx = -1;
	if (name[0] == '\0')
		return 0;
	for (uint16_t f = 0; f < c->cfg->n_ifaces; f++)
		if (strcmp(c->cfg->ifaces[f].name, name) == 0) {
			*idx = (int16_t)f;
			return 0;
		}
	return fail(c, m, "%s.%s: unknown interface '%s'", what, key, name);
}

static int
resolve_fw(struct ctx *c)
{
	struct ap_cfg_fw *fw = &c->cfg->firewall;
	char what[64];
	int ret;

	if (!fw->enabled)
		return 0;
	for (uint8_t z = 0; z < fw->n_zones; z++) {
		const struct ap_cfg_fw_zone *zone = &fw->zones[z];

		if (strcmp(zone->name, "any") == 0 || strcmp(zone->name, "self") == 0)
			return fail(c, mark_at(zone->line, zone->col),
				    "firewall: '%s' is a reserved zone name", zone->name);
		for (uint8_t i = 0; i < zone->n_ifaces; i++) {
			bool found = false;

			for (uint16_t f = 0; f < c->cfg->n_ifaces && !found; f++)
				found = strcmp(c->cfg->ifaces[f].name, zone->ifaces[i]) == 0;
			if (!found)
				return fail(c, mark_at(zone->line, zone->col),
					    "firewall.zones '%s': unknown interface '%s'",
					    zone->name, zone->ifaces[i]);
			for (uint8_t y = 0; y < z; y++)
				for (uint8_t k = 0; k < fw->zones[y].n_ifaces; k++)
					if (strcmp(fw->zones[y].ifaces[k], zone->ifaces[i]) == 0)
						return fail(c, mark_at(zone->line, zone->col),
							    "firewall: interface '%s' is in zones "
							    "'%s' and '%s'",
							    zone->ifaces[i], fw->zones[y].name,
							    zone->name);
		}
	}
	for (uint16_t p = 0; p < fw->n_policies; p++) {
		struct ap_cfg_fw_policy *pol = &fw->policies[p];

		snprintf(what, sizeof(what), "firewall.policies[%u]", p);
		ret = fw_zone_ref(c, fw, pol->from, false, mark_at(pol->line, pol->col), what,
				  &pol->from_zone);
		if (ret == 0)
			ret = fw_zone_ref(c, fw, pol->to, true, mark_at(pol->line, pol->col), what,
					  &pol->to_zone);
		if (ret < 0)
			return ret;
	}
	for (uint16_t i = 0; i < fw->n_rules; i++) {
		struct ap_cfg_fw_rule *r = &fw->rules[i];
		yaml_mark_t m = mark_at(r->line, r->col);

		snprintf(what, sizeof(what), "firewall.rules[%u]", i);
		ret = fw_zone_ref(c, fw, r->from, false, m, what, &r->from_zone);
		if (ret == 0)
			ret = fw_zone_ref(c, fw, r->to, true, m, what, &r->to_zone);
		if (ret == 0)
			ret = fw_match_ref(c, fw, r->src_s, false, m, what, &r->src);
		if (ret == 0)
			ret = fw_match_ref(c, fw, r->dst_s, false, m, what, &r->dst);
		if (ret == 0)
			ret = fw_match_ref(c, fw, r->sport_s, true, m, what, &r->sport);
		if (ret == 0)
			ret = fw_match_ref(c, fw, r->dport_s, true, m, what, &r->dport);
		if (ret == 0)
			ret = fw_iface_ref(c, r->iif, m, what, "iif", &r->iif_idx);
		if (ret == 0)
			ret = fw_iface_ref(c, r->oif, m, what, "oif", &r->oif_idx);
		if (ret < 0)
			return ret;
		if ((r->sport >= 0 || r->dport >= 0) && r->proto != 6 && r->proto != 17)
			return fail(c, m, "%s: ports need proto tcp or udp", what);
		if (r->icmp_type >= 0 && r->proto != 1 && r->proto != 58)
			return fail(c, m, "%s: icmp_type needs proto icmp or icmpv6", what);
	}
	return 0;
}

/* qos: interfaces, policers, classes. */

static const char *const qos_meter_names[] = {
	[AP_QOS_SRTCM] = "srtcm",
	[AP_QOS_TRTCM] = "trtcm",
	NULL,
};

static const char *const qos_action_names[] = {
	[AP_QOS_TRANSMIT] = "transmit",
	[AP_QOS_DROP] = "drop",
	[AP_QOS_REMARK] = "remark",
	NULL,
};

static const char *const qos_host_by_names[] = {"src", "dst", NULL};

#define QIF_FIELD(k, t, m)                                                                         \
	.key = k, .type = t, .off = offsetof(struct ap_cfg_qos_iface, m),                          \
	.size = sizeof(((struct ap_cfg_qos_iface *)0)->m)

static const struct field qos_iface_fields[] = {
	{QIF_FIELD("name", FT_STRING, name), .flags = F_REQUIRED},
	{QIF_FIELD("rate", FT_RATE, rate), .flags = F_REQUIRED},
	{QIF_FIELD("burst", FT_SIZE, burst)},
};
static const struct table qos_iface_table = TABLE(qos_iface_fields);

#define POL_FIELD(k, t, m)                                                                         \
	.key = k, .type = t, .off = offsetof(struct ap_cfg_qos_policer, m),                        \
	.size = sizeof(((struct ap_cfg_qos_policer *)0)->m)

enum {
	PF_TYPE = 1,
	PF_CIR,
	PF_CBS,
	PF_EBS,
	PF_PIR,
	PF_PBS,
	PF_EXCEED,
	PF_EXCEED_DSCP,
	PF_VIOLATE,
	PF_VIOLATE_DSCP
};

static const struct field qos_policer_fields[] = {
	{POL_FIELD("name", FT_STRING, name), .flags = F_REQUIRED, .check = check_port_name},
	[PF_TYPE] = {POL_FIELD("type", FT_ENUM, type), .names = qos_meter_names,
		     .flags = F_REQUIRED},
	[PF_CIR] = {POL_FIELD("cir", FT_RATE, cir), .flags = F_REQUIRED},
	[PF_CBS] = {POL_FIELD("cbs", FT_SIZE, cbs), .flags = F_REQUIRED},
	[PF_EBS] = {POL_FIELD("ebs", FT_SIZE, ebs)},
	[PF_PIR] = {POL_FIELD("pir", FT_RATE, pir)},
	[PF_PBS] = {POL_FIELD("pbs", FT_SIZE, pbs)},
	[PF_EXCEED] = {POL_FIELD("exceed", FT_ENUM, exceed), .names = qos_action_names},
	[PF_EXCEED_DSCP] = {POL_FIELD("exceed_dscp", FT_UINT, exceed_dscp), .max = 63},
	[PF_VIOLATE] = {POL_FIELD("violate", FT_ENUM, violate), .names = qos_action_names},
	[PF_VIOLATE_DSCP] = {POL_FIELD("violate_dscp", FT_UINT, violate_dscp), .max = 63},
};
static const struct table qos_policer_table = TABLE(qos_policer_fields);

#define QC_FIELD(k, t, m)                                                                          \
	.key = k, .type = t, .off = offsetof(struct ap_cfg_qos_class, m),                          \
	.size = sizeof(((struct ap_cfg_qos_class *)0)->m)

static int
parse_qos_proto(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	return get_proto(c, v, what, &((struct ap_cfg_qos_class *)obj)->proto);
}

static const struct field qos_match_fields[] = {
	{QC_FIELD("in", FT_STRING, in)},
	{QC_FIELD("out", FT_STRING, out)},
	{QC_FIELD("src", FT_STRING, src_s)},
	{QC_FIELD("dst", FT_STRING, dst_s)},
	{QC_FIELD("sport", FT_STRING, sport_s)},
	{QC_FIELD("dport", FT_STRING, dport_s)},
	{.key = "proto", .type = FT_CUSTOM, .custom = parse_qos_proto},
	{QC_FIELD("dscp", FT_UINT, dscp), .max = 63},
};
static const struct table qos_match_table = TABLE(qos_match_fields);

static const struct field qos_host_fields[] = {
	{QC_FIELD("rate", FT_RATE, host_rate), .flags = F_REQUIRED},
	{QC_FIELD("burst", FT_SIZE, host_burst)},
	{QC_FIELD("by", FT_ENUM, host_by), .names = qos_host_by_names},
};
static const struct table qos_host_table = TABLE(qos_host_fields);

enum { CF_MATCH = 1, CF_RATE, CF_CEIL, CF_BURST, CF_WEIGHT, CF_QUEUE };

static const struct field qos_class_fields[] = {
	{QC_FIELD("name", FT_STRING, name), .flags = F_REQUIRED, .check = check_port_name},
	[CF_MATCH] = {.key = "match", .type = FT_SECTION, .sub = &qos_match_table},
	[CF_RATE] = {QC_FIELD("rate", FT_RATE, rate)},
	[CF_CEIL] = {QC_FIELD("ceil", FT_RATE, ceil)},
	[CF_BURST] = {QC_FIELD("burst", FT_SIZE, burst)},
	[CF_WEIGHT] = {QC_FIELD("weight", FT_UINT, weight), .min = 1, .max = 1000},
	[CF_QUEUE] = {QC_FIELD("queue", FT_UINT, queue), .min = 1, .max = 65536},
	{QC_FIELD("set_dscp", FT_UINT, set_dscp), .max = 63},
	{QC_FIELD("policer", FT_STRING, policer)},
	{.key = "host_limit", .type = FT_SECTION, .sub = &qos_host_table},
};
static const struct table qos_class_table = TABLE(qos_class_fields);

/* Where key @p i of an item was given, else the item. */
static yaml_mark_t
seen_mark(struct ctx *c, const yaml_node_pair_t *const *seen, unsigned i, const yaml_node_t *item)
{
	return seen[i] ? node_at(c, seen[i]->value)->start_mark : item->start_mark;
}

static int
qos_iface_item(struct ctx *c, const yaml_node_t *item, const char *where, struct ap_config *cfg)
{
	const yaml_node_pair_t *seen[MAX_FIELDS];
	struct ap_cfg_qos_iface *q = &cfg->qos.ifaces[cfg->qos.n_ifaces];
	int ret;

	memset(q, 0, sizeof(*q));
	q->line = (uint32_t)item->start_mark.line + 1;
	q->col = (uint32_t)item->start_mark.column + 1;
	ret = parse_map(c, item, &qos_iface_table, q, where, seen);
	if (ret == 0)
		cfg->qos.n_ifaces++;
	return ret;
}

static int
qos_policer_item(struct ctx *c, const yaml_node_t *item, const char *where, struct ap_config *cfg)
{
	const yaml_node_pair_t *seen[MAX_FIELDS];
	struct ap_cfg_qos_policer *p = &cfg->qos.policers[cfg->qos.n_policers];
	bool tr;
	int ret;

	memset(p, 0, sizeof(*p));
	p->exceed = AP_QOS_DROP;
	p->violate = AP_QOS_DROP;
	p->exceed_dscp = AP_QOS_DSCP_NONE;
	p->violate_dscp = AP_QOS_DSCP_NONE;
	p->line = (uint32_t)item->start_mark.line + 1;
	p->col = (uint32_t)item->start_mark.column + 1;
	ret = parse_map(c, item, &qos_policer_table, p, where, seen);
	if (ret < 0)
		return ret;
	tr = p->type == AP_QOS_TRTCM;
	/* RFC 2697 §2: CIR, CBS and EBS; RFC 2698 §2: PIR >= CIR, PBS and CBS. */
	if (tr && (!seen[PF_PIR] || !seen[PF_PBS]))
		return fail(c, item->start_mark, "%s: a trtcm policer needs pir and pbs", where);
	if (tr && seen[PF_EBS])
		return fail(c, seen_mark(c, seen, PF_EBS, item),
			    "%s.ebs: only an srtcm policer has ebs (trtcm: pir and pbs)", where);
	if (!tr && (seen[PF_PIR] || seen[PF_PBS]))
		return fail(c, seen_mark(c, seen, seen[PF_PIR] ? PF_PIR : PF_PBS, item),
			    "%s: pir and pbs belong to a trtcm policer", where);
	if (tr && p->pir < p->cir)
		return fail(c, seen_mark(c, seen, PF_PIR, item), "%s.pir must be at least cir",
			    where);
	if ((p->exceed == AP_QOS_REMARK) != (p->exceed_dscp != AP_QOS_DSCP_NONE))
		return fail(c,
			    seen_mark(c, seen, seen[PF_EXCEED] ? PF_EXCEED : PF_EXCEED_DSCP, item),
			    "%s: exceed: remark goes with exceed_dscp", where);
	if ((p->violate == AP_QOS_REMARK) != (p->violate_dscp != AP_QOS_DSCP_NONE))
		return fail(
			c,
			seen_mark(c, seen, seen[PF_VIOLATE] ? PF_VIOLATE : PF_VIOLATE_DSCP, item),
			"%s: violate: remark goes with violate_dscp", where);
	for (uint16_t i = 0; i < cfg->qos.n_policers; i++)
		if (strcmp(cfg->qos.policers[i].name, p->name) == 0)
			return fail(c, item->start_mark, "duplicate policer name '%s'", p->name);
	cfg->qos.n_policers++;
	return 0;
}

static int
qos_class_item(struct ctx *c, const yaml_node_t *item, const char *where, struct ap_config *cfg)
{
	const yaml_node_pair_t *seen[MAX_FIELDS];
	struct ap_cfg_qos_class *k = &cfg->qos.classes[cfg->qos.n_classes];
	char sh[SHOW_MAX];
	int ret;

	memset(k, 0, sizeof(*k));
	k->dscp = AP_QOS_DSCP_NONE;
	k->set_dscp = AP_QOS_DSCP_NONE;
	k->weight = 1;
	k->queue = 256;
	k->sport_hi = k->dport_hi = 65535;
	k->line = (uint32_t)item->start_mark.line + 1;
	k->col = (uint32_t)item->start_mark.column + 1;
	ret = parse_map(c, item, &qos_class_table, k, where, seen);
	if (ret < 0)
		return ret;
	if (k->src_s[0] &&
	    (ap_cfg_prefix_parse(k->src_s, false, &k->src) < 0 || !prefix_host_bits_zero(&k->src)))
		return fail(c, item->start_mark,
			    "%s.match.src: '%s' is not an address or a prefix without host bits",
			    where, show(k->src_s, strlen(k->src_s), sh));
	if (k->dst_s[0] &&
	    (ap_cfg_prefix_parse(k->dst_s, false, &k->dst) < 0 || !prefix_host_bits_zero(&k->dst)))
		return fail(c, item->start_mark,
			    "%s.match.dst: '%s' is not an address or a prefix without host bits",
			    where, show(k->dst_s, strlen(k->dst_s), sh));
	if ((k->sport_s[0] && !port_range(k->sport_s, &k->sport_lo, &k->sport_hi)) ||
	    (k->dport_s[0] && !port_range(k->dport_s, &k->dport_lo, &k->dport_hi)))
		return fail(c, item->start_mark,
			    "%s.match: a port must be N or a range (8000-8080)", where);
	if ((k->sport_s[0] || k->dport_s[0]) && k->proto != 6 && k->proto != 17)
		return fail(c, item->start_mark, "%s.match: ports need proto tcp or udp", where);
	if (k->rate == 0 && (seen[CF_CEIL] || seen[CF_BURST] || seen[CF_WEIGHT] || seen[CF_QUEUE]))
		return fail(c, item->start_mark,
			    "%s: ceil, burst, weight and queue shape a class: they need a rate",
			    where);
	if (k->ceil == 0)
		k->ceil = k->rate;
	if (k->ceil < k->rate)
		return fail(c, seen_mark(c, seen, CF_CEIL, item), "%s.ceil must be at least rate",
			    where);
	for (uint16_t i = 0; i < cfg->qos.n_classes; i++)
		if (strcmp(cfg->qos.classes[i].name, k->name) == 0)
			return fail(c, item->start_mark, "duplicate class name '%s'", k->name);
	cfg->qos.n_classes++;
	return 0;
}

CFG_LIST(parse_qos_ifaces, qos.n_ifaces, AP_CFG_QOS_MAX_IFACES, "interfaces", qos_iface_item)

CFG_LIST(parse_qos_policers, qos.n_policers, AP_CFG_QOS_MAX_POLICERS, "policers", qos_policer_item)

CFG_LIST(parse_qos_classes, qos.n_classes, AP_CFG_QOS_MAX_CLASSES, "classes", qos_class_item)

static const struct field qos_fields[] = {
	{.key = "host_table",
	 .type = FT_UINT,
	 .off = offsetof(struct ap_config, qos.host_table),
	 .size = sizeof(uint32_t),
	 .min = 64,
	 .max = 1u << 20,
	 .flags = F_POW2},
	{.key = "interfaces", .type = FT_CUSTOM, .custom = parse_qos_ifaces},
	{.key = "policers", .type = FT_CUSTOM, .custom = parse_qos_policers},
	{.key = "classes", .type = FT_CUSTOM, .custom = parse_qos_classes},
};
static const struct table qos_table = TABLE(qos_fields);

static int
parse_qos(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	const yaml_node_pair_t *seen[MAX_FIELDS];
	struct ap_config *cfg = obj;

	cfg->qos.enabled = true;
	if (is_null(v))
		return 0;
	return parse_map(c, v, &qos_table, cfg, what, seen);
}

/* An interface name of the qos section: its config index, or -1 for "". */
static int
qos_iface_ref(struct ctx *c, const char *name, yaml_mark_t m, const char *what, int16_t *out)
{
	*out = -1;
	if (name[0] == '\0')
		return 0;
	for (uint16_t f = 0; f < c->cfg->n_ifaces; f++)
		if (strcmp(c->cfg->ifaces[f].name, name) == 0) {
			*out = (int16_t)f;
			return 0;
		}
	return fail(c, m, "%s: unknown interface '%s'", what, name);
}

static int
resolve_qos(struct ctx *c)
{
	struct ap_cfg_qos *q = &c->cfg->qos;
	char what[64];
	int16_t idx;
	int ret;

	if (!q->enabled)
		return 0;
	for (uint16_t i = 0; i < q->n_ifaces; i++) {
		struct ap_cfg_qos_iface *qi = &q->ifaces[i];

		snprintf(what, sizeof(what), "qos.interfaces[%u]", i);
		ret = qos_iface_ref(c, qi->name, mark_at(qi->line, qi->col), what, &idx);
		if (ret < 0)
			return ret;
		if (c->cfg->ifaces[idx].bridge[0] != '\0')
			return fail(c, mark_at(qi->line, qi->col),
				    "%s: '%s' is a bridge interface: shape its members' ports "
				    "instead",
				    what, qi->name);
		for (uint16_t k = 0; k < i; k++)
			if (q->ifaces[k].iface_idx == (uint16_t)idx)
				return fail(c, mark_at(qi->line, qi->col),
					    "%s: interface '%s' is listed twice", what, qi->name);
		qi->iface_idx = (uint16_t)idx;
	}
	for (uint16_t i = 0; i < q->n_classes; i++) {
		struct ap_cfg_qos_class *k = &q->classes[i];
		yaml_mark_t m = mark_at(k->line, k->col);

		snprintf(what, sizeof(what), "qos.classes[%u]", i);
		ret = qos_iface_ref(c, k->in, m, what, &k->in_idx);
		if (ret == 0)
			ret = qos_iface_ref(c, k->out, m, what, &k->out_idx);
		if (ret < 0)
			return ret;
		if (k->rate && k->out_idx < 0)
			return fail(c, m,
				    "%s: a shaped class (rate) needs match.out, the interface "
				    "whose queue it is",
				    what);
		if (k->rate && c->cfg->ifaces[k->out_idx].bridge[0] != '\0')
			return fail(c, m, "%s: '%s' is a bridge interface: it has no queues", what,
				    k->out);
		k->policer_idx = -1;
		if (k->policer[0] == '\0')
			continue;
		for (uint16_t p = 0; p < q->n_policers; p++)
			if (strcmp(q->policers[p].name, k->policer) == 0)
				k->policer_idx = (int16_t)p;
		if (k->policer_idx < 0)
			return fail(c, m, "%s: unknown policer '%s'", what, k->policer);
	}
	return 0;
}

/* nat: masquerade. */

static int
parse_masq_mapping(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	struct ap_cfg_nat_masq *m = obj;
	const char *str;
	int ret = get_string(c, v, what, &str);

	if (ret < 0)
		return ret;
	if (strcmp(str, "endpoint-independent") == 0)
		m->eim = true;
	else if (strcmp(str, "address-and-port-dependent") == 0)
		m->eim = false;
	else
		return fail(c, v->start_mark,
			    "%s must be endpoint-independent or address-and-port-dependent", what);
	return 0;
}

static const struct field masq_fields[] = {
	{.key = "interface",
	 .type = FT_STRING,
	 .off = offsetof(struct ap_cfg_nat_masq, iface),
	 .size = AP_NAME_MAX,
	 .flags = F_REQUIRED},
	{.key = "ports",
	 .type = FT_STRING,
	 .off = offsetof(struct ap_cfg_nat_masq, ports),
	 .size = sizeof(((struct ap_cfg_nat_masq *)0)->ports)},
	{.key = "mapping", .type = FT_CUSTOM, .custom = parse_masq_mapping},
};
static const struct table masq_table = TABLE(masq_fields);

static int
masq_item(struct ctx *c, const yaml_node_t *item, const char *where, struct ap_config *cfg)
{
	const yaml_node_pair_t *seen[MAX_FIELDS];
	struct ap_cfg_nat_masq *m = &cfg->nat.masq[cfg->nat.n_masq];
	char sh[SHOW_MAX];
	int ret;

	memset(m, 0, sizeof(*m));
	snprintf(m->ports, sizeof(m->ports), "1024-65535");
	m->line = (uint32_t)item->start_mark.line + 1;
	m->col = (uint32_t)item->start_mark.column + 1;
	ret = parse_map(c, item, &masq_table, m, where, seen);
	if (ret < 0)
		return ret;
	if (!port_range(m->ports, &m->port_lo, &m->port_hi) || m->port_lo == 0)
		return fail(c, seen[1] ? node_at(c, seen[1]->value)->start_mark : item->start_mark,
			    "%s.ports: '%s' is not a range of ports (1024-65535)", where,
			    show(m->ports, strlen(m->ports), sh));
	for (uint16_t i = 0; i < cfg->n_ifaces; i++)
		if (strcmp(cfg->ifaces[i].name, m->iface) == 0) {
			m->iface_idx = i;
			cfg->nat.n_masq++;
			return 0;
		}
	/* Interfaces may come later in the file: resolved again at the end. */
	m->iface_idx = UINT16_MAX;
	cfg->nat.n_masq++;
	return 0;
}

CFG_LIST(parse_nat_masq, nat.n_masq, AP_CFG_NAT_MAX_MASQ, "masquerade entries", masq_item)

static int
parse_fwd_proto(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	struct ap_cfg_nat_fwd *f = obj;
	const char *str;
	int ret = get_string(c, v, what, &str);

	if (ret < 0)
		return ret;
	if (strcmp(str, "tcp") == 0)
		f->proto = 6;
	else if (strcmp(str, "udp") == 0)
		f->proto = 17;
	else
		return fail(c, v->start_mark, "%s must be tcp or udp", what);
	return 0;
}

static int
parse_fwd_to(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	struct ap_cfg_nat_fwd *f = obj;
	int ret = get_prefix(c, v, what, false, &f->to);

	if (ret == 0 && f->to.family != 4)
		return fail(c, v->start_mark, "%s: port forwarding is IPv4 only", what);
	return ret;
}

static const struct field fwd_fields[] = {
	{.key = "interface",
	 .type = FT_STRING,
	 .off = offsetof(struct ap_cfg_nat_fwd, iface),
	 .size = AP_NAME_MAX,
	 .flags = F_REQUIRED},
	{.key = "proto", .type = FT_CUSTOM, .custom = parse_fwd_proto, .flags = F_REQUIRED},
	{.key = "port",
	 .type = FT_UINT,
	 .off = offsetof(struct ap_cfg_nat_fwd, port),
	 .size = sizeof(uint16_t),
	 .min = 1,
	 .max = 65535,
	 .flags = F_REQUIRED},
	{.key = "to", .type = FT_CUSTOM, .custom = parse_fwd_to, .flags = F_REQUIRED},
	{.key = "to_port",
	 .type = FT_UINT,
	 .off = offsetof(struct ap_cfg_nat_fwd, to_port),
	 .size = sizeof(uint16_t),
	 .min = 1,
	 .max = 65535},
};
static const struct table fwd_table = TABLE(fwd_fields);

static int
fwd_item(struct ctx *c, const yaml_node_t *item, const char *where, struct ap_config *cfg)
{
	const yaml_node_pair_t *seen[MAX_FIELDS];
	struct ap_cfg_nat_fwd *f = &cfg->nat.fwd[cfg->nat.n_fwd];
	int ret;

	memset(f, 0, sizeof(*f));
	f->iface_idx = UINT16_MAX;
	f->line = (uint32_t)item->start_mark.line + 1;
	f->col = (uint32_t)item->start_mark.column + 1;
	ret = parse_map(c, item, &fwd_table, f, where, seen);
	if (ret < 0)
		return ret;
	if (f->to_port == 0)
		f->to_port = f->port;
	for (uint16_t k = 0; k < cfg->nat.n_fwd; k++)
		if (strcmp(cfg->nat.fwd[k].iface, f->iface) == 0 &&
		    cfg->nat.fwd[k].proto == f->proto && cfg->nat.fwd[k].port == f->port)
			return fail(c, item->start_mark, "%s: port %u is already forwarded", where,
				    f->port);
	cfg->nat.n_fwd++;
	return 0;
}

CFG_LIST(parse_nat_fwd, nat.n_fwd, AP_CFG_NAT_MAX_FWD, "forwarded ports", fwd_item)

/* nat: one_to_one. */

static int
parse_one_addr(struct ctx *c, const yaml_node_t *v, const char *what, struct ap_cfg_prefix *p)
{
	int ret = get_prefix(c, v, what, false, p);

	if (ret == 0 && (p->family != 4 || p->len != 32))
		return fail(c, v->start_mark, "%s: 1:1 NAT maps one IPv4 address", what);
	return ret;
}

static int
parse_one_internal(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	return parse_one_addr(c, v, what, &((struct ap_cfg_nat_one *)obj)->internal);
}

static int
parse_one_external(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	return parse_one_addr(c, v, what, &((struct ap_cfg_nat_one *)obj)->external);
}

static const struct field one_fields[] = {
	{.key = "interface",
	 .type = FT_STRING,
	 .off = offsetof(struct ap_cfg_nat_one, iface),
	 .size = AP_NAME_MAX,
	 .flags = F_REQUIRED},
	{.key = "internal", .type = FT_CUSTOM, .custom = parse_one_internal, .flags = F_REQUIRED},
	{.key = "external", .type = FT_CUSTOM, .custom = parse_one_external, .flags = F_REQUIRED},
};
static const struct table one_table = TABLE(one_fields);

static int
one_item(struct ctx *c, const yaml_node_t *item, const char *where, struct ap_config *cfg)
{
	const yaml_node_pair_t *seen[MAX_FIELDS];
	struct ap_cfg_nat_one *o = &cfg->nat.one[cfg->nat.n_one];
	int ret;

	memset(o, 0, sizeof(*o));
	o->iface_idx = UINT16_MAX;
	o->line = (uint32_t)item->start_mark.line + 1;
	o->col = (uint32_t)item->start_mark.column + 1;
	ret = parse_map(c, item, &one_table, o, where, seen);
	if (ret == 0)
		cfg->nat.n_one++;
	return ret;
}

CFG_LIST(parse_nat_one, nat.n_one, AP_CFG_NAT_MAX_ONE, "1:1 entries", one_item)

static const struct field nat_fields[] = {
	{.key = "masquerade", .type = FT_CUSTOM, .custom = parse_nat_masq},
	{.key = "forward", .type = FT_CUSTOM, .custom = parse_nat_fwd},
	{.key = "one_to_one", .type = FT_CUSTOM, .custom = parse_nat_one},
	{.key = "hairpin",
	 .type = FT_BOOL,
	 .off = offsetof(struct ap_config, nat.hairpin),
	 .size = sizeof(bool)},
};
static const struct table nat_table = TABLE(nat_fields);

static int
parse_nat(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	const yaml_node_pair_t *seen[MAX_FIELDS];
	struct ap_config *cfg = obj;

	cfg->nat.enabled = true;
	cfg->nat.hairpin = true;
	cfg->conntrack.enabled = true; /* translations live in the flows */
	if (is_null(v))
		return 0;
	return parse_map(c, v, &nat_table, cfg, what, seen);
}

/* The interface entry @p k of nat.@p list names: its index in @p idx, and
 * it must have an IPv4 address when @p need_v4. */
static int
nat_iface(struct ctx *c, const char *list, unsigned k, const char *name, uint32_t line,
	  uint32_t col, bool need_v4, uint16_t *idx)
{
	const struct ap_config *cfg = c->cfg;

	for (uint16_t i = 0; i < cfg->n_ifaces; i++) {
		if (strcmp(cfg->ifaces[i].name, name) != 0)
			continue;
		*idx = i;
		for (unsigned a = 0; a < cfg->ifaces[i].n_addrs; a++)
			if (cfg->ifaces[i].addrs[a].family == 4)
				return 0;
		if (!need_v4)
			return 0;
		return fail(c, mark_at(line, col), "nat.%s[%u]: interface '%s' has no IPv4 address",
			    list, k, name);
	}
	return fail(c, mark_at(line, col), "nat.%s[%u]: unknown interface '%s'", list, k, name);
}

static int
resolve_nat(struct ctx *c)
{
	struct ap_config *cfg = c->cfg;

	if (!cfg->nat.enabled)
		return 0;
	for (uint16_t k = 0; k < cfg->nat.n_fwd; k++) {
		struct ap_cfg_nat_fwd *f = &cfg->nat.fwd[k];

		int ret =
			nat_iface(c, "forward", k, f->iface, f->line, f->col, true, &f->iface_idx);

		if (ret < 0)
			return ret;
	}
	for (uint16_t k = 0; k < cfg->nat.n_masq; k++) {
		struct ap_cfg_nat_masq *m = &cfg->nat.masq[k];

		int ret = nat_iface(c, "masquerade", k, m->iface, m->line, m->col, true,
				    &m->iface_idx);

		if (ret < 0)
			return ret;
	}
	for (uint16_t k = 0; k < cfg->nat.n_one; k++) {
		struct ap_cfg_nat_one *o = &cfg->nat.one[k];

		int ret = nat_iface(c, "one_to_one", k, o->iface, o->line, o->col, false,
				    &o->iface_idx);

		if (ret < 0)
			return ret;
		for (uint16_t j = 0; j < k; j++)
			if (memcmp(cfg->nat.one[j].internal.addr, o->internal.addr, 4) == 0 ||
			    memcmp(cfg->nat.one[j].external.addr, o->external.addr, 4) == 0)
				return fail(c, mark_at(o->line, o->col),
					    "nat.one_to_one[%u]: an address of entry %u again", k,
					    j);
	}
	return 0;
}

#define CT_FIELD(k, t, m)                                                                          \
	.key = k, .type = t, .off = offsetof(struct ap_config, conntrack.m),                       \
	.size = sizeof(((struct ap_config *)0)->conntrack.m)
#define CT_TIMEOUT(k, m)                                                                           \
	{                                                                                          \
		CT_FIELD(k, FT_UINT, m), .min = 1, .max = 1000000                                  \
	}

static const struct field ct_timeout_fields[] = {
	CT_TIMEOUT("tcp_syn_sent", t_syn_sent),
	CT_TIMEOUT("tcp_syn_recv", t_syn_recv),
	CT_TIMEOUT("tcp_established", t_established),
	CT_TIMEOUT("tcp_fin_wait", t_fin_wait),
	CT_TIMEOUT("tcp_close_wait", t_close_wait),
	CT_TIMEOUT("tcp_last_ack", t_last_ack),
	CT_TIMEOUT("tcp_time_wait", t_time_wait),
	CT_TIMEOUT("tcp_close", t_close),
	CT_TIMEOUT("udp", t_udp),
	CT_TIMEOUT("udp_stream", t_udp_stream),
	CT_TIMEOUT("icmp", t_icmp),
	CT_TIMEOUT("generic", t_generic),
	CT_TIMEOUT("tcp_max_retrans", t_max_retrans),
	CT_TIMEOUT("tcp_unacknowledged", t_unack),
};
static const struct table ct_timeout_table = TABLE(ct_timeout_fields);

static const struct field ct_fields[] = {
	{CT_FIELD("enabled", FT_BOOL, enabled)},
	{CT_FIELD("max_flows", FT_UINT, max_flows), .min = 16, .max = 1u << 26},
	{CT_FIELD("tcp_loose", FT_BOOL, tcp_loose)},
	{CT_FIELD("tcp_liberal", FT_BOOL, tcp_liberal)},
	{CT_FIELD("events", FT_BOOL, events)},
	{CT_FIELD("tcp_max_retrans", FT_UINT, tcp_max_retrans), .min = 1, .max = 255},
	{CT_FIELD("drop_invalid", FT_BOOL, drop_invalid)},
	{.key = "timeouts", .type = FT_SECTION, .sub = &ct_timeout_table},
};
static const struct table ct_table = TABLE(ct_fields);

/* conntrack: being there turns tracking on, unless it says enabled: false. */
static int
parse_conntrack(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	const yaml_node_pair_t *seen[MAX_FIELDS];
	struct ap_config *cfg = obj;

	cfg->conntrack.enabled = true;
	if (is_null(v))
		return 0;
	return parse_map(c, v, &ct_table, cfg, what, seen);
}

/* synproxy: */

static int
parse_syn_prefix(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	return get_prefix(c, v, what, true, &((struct ap_cfg_syn_protect *)obj)->prefix);
}

static const struct field syn_protect_fields[] = {
	{.key = "prefix", .type = FT_CUSTOM, .custom = parse_syn_prefix, .flags = F_REQUIRED},
	{.key = "ports",
	 .type = FT_STRING,
	 .off = offsetof(struct ap_cfg_syn_protect, ports),
	 .size = sizeof(((struct ap_cfg_syn_protect *)0)->ports)},
};
static const struct table syn_protect_table = TABLE(syn_protect_fields);

static int
syn_protect_item(struct ctx *c, const yaml_node_t *item, const char *where, struct ap_config *cfg)
{
	const yaml_node_pair_t *seen[MAX_FIELDS];
	struct ap_cfg_syn_protect *p = &cfg->synproxy.protect[cfg->synproxy.n_protect];
	char sh[SHOW_MAX];
	int ret;

	memset(p, 0, sizeof(*p));
	snprintf(p->ports, sizeof(p->ports), "1-65535");
	ret = parse_map(c, item, &syn_protect_table, p, where, seen);
	if (ret < 0)
		return ret;
	if (!port_range(p->ports, &p->port_lo, &p->port_hi) || p->port_lo == 0)
		return fail(c, seen[1] ? node_at(c, seen[1]->value)->start_mark : item->start_mark,
			    "%s.ports: '%s' is not a port or a range of ports (80, 8000-8099)",
			    where, show(p->ports, strlen(p->ports), sh));
	cfg->synproxy.n_protect++;
	return 0;
}

CFG_LIST(parse_syn_protect, synproxy.n_protect, AP_CFG_SYN_MAX_PROTECT, "protected destinations",
	 syn_protect_item)

#define SYN_FIELD(k, t, m)                                                                         \
	.key = k, .type = t, .off = offsetof(struct ap_config, synproxy.m),                        \
	.size = sizeof(((struct ap_config *)0)->synproxy.m)

static const struct field syn_fields[] = {
	{.key = "protect", .type = FT_CUSTOM, .custom = parse_syn_protect, .flags = F_REQUIRED},
	{SYN_FIELD("always", FT_BOOL, always)},
	{SYN_FIELD("mss", FT_UINT, mss), .min = 536, .max = 65495},
	{SYN_FIELD("wscale", FT_UINT, wscale), .min = 0, .max = 14},
	{SYN_FIELD("syn_rate", FT_UINT, syn_rate), .min = 1, .max = 100000000},
	{SYN_FIELD("half_open", FT_UINT, half_open), .min = 1, .max = 100000000},
	{SYN_FIELD("disarm_after", FT_UINT, disarm_after), .min = 1, .max = 86400},
	{SYN_FIELD("source_rate", FT_UINT, source_rate), .min = 0, .max = 100000000},
	{SYN_FIELD("source_burst", FT_UINT, source_burst), .min = 1, .max = 100000000},
	{SYN_FIELD("block_time", FT_UINT, block_time), .min = 1, .max = 86400},
};
static const struct table syn_table = TABLE(syn_fields);

static int
parse_synproxy(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	const yaml_node_pair_t *seen[MAX_FIELDS];
	struct ap_config *cfg = obj;
	int ret;

	cfg->synproxy.enabled = true;
	cfg->conntrack.enabled = true; /* proxied connections live in the flows */
	ret = parse_map(c, v, &syn_table, cfg, what, seen);
	if (ret == 0 && cfg->synproxy.source_burst == 0)
		cfg->synproxy.source_burst = 2 * cfg->synproxy.source_rate;
	return ret;
}

static int
parse_bgp(struct ctx *c, const yaml_node_t *v, void *obj, const char *what)
{
	(void)what;
	return ap_config_bgp_parse(c->name, c->doc, v, &((struct ap_config *)obj)->bgp, c->err);
}

static const struct field top_fields[] = {
	{.key = "dataplane", .type = FT_SECTION, .sub = &dataplane_table},
	{.key = "ports", .type = FT_CUSTOM, .custom = parse_ports},
	{.key = "xconnect", .type = FT_CUSTOM, .custom = parse_xconnects},
	{.key = "bridges", .type = FT_CUSTOM, .custom = parse_bridges},
	{.key = "interfaces", .type = FT_CUSTOM, .custom = parse_ifaces},
	{.key = "routes", .type = FT_CUSTOM, .custom = parse_routes},
	{.key = "neighbors", .type = FT_CUSTOM, .custom = parse_neighbors},
	{.key = "api", .type = FT_SECTION, .sub = &api_table},
	{.key = "log", .type = FT_SECTION, .sub = &log_table},
	{.key = "conntrack", .type = FT_CUSTOM, .custom = parse_conntrack},
	{.key = "firewall", .type = FT_CUSTOM, .custom = parse_firewall},
	{.key = "nat", .type = FT_CUSTOM, .custom = parse_nat},
	{.key = "synproxy", .type = FT_CUSTOM, .custom = parse_synproxy},
	{.key = "qos", .type = FT_CUSTOM, .custom = parse_qos},
	{.key = "bgp", .type = FT_CUSTOM, .custom = parse_bgp},
};
static const struct table top_table = TABLE(top_fields);

#define FITS(f) (sizeof(f) / sizeof((f)[0]) <= MAX_FIELDS)
_Static_assert(FITS(top_fields) && FITS(dataplane_fields) && FITS(port_fields) &&
		       FITS(xconnect_fields) && FITS(api_fields) && FITS(log_fields) &&
		       FITS(bridge_fields) && FITS(member_fields) && FITS(static_mac_fields) &&
		       FITS(ct_fields) && FITS(ct_timeout_fields) && FITS(rule_fields) &&
		       FITS(fw_fields) && FITS(zone_fields) && FITS(set_fields) &&
		       FITS(iface_fields) && FITS(syn_fields) && FITS(qos_fields) && FITS(qos_class_fields) &&
		       FITS(qos_policer_fields) && FITS(qos_match_fields),
	       "a table holds more keys than parse_map() tracks");

/* libyaml reports reader errors (bad encoding) by byte offset only. */
static yaml_mark_t
offset_mark(const char *buf, size_t len, size_t off)
{
	yaml_mark_t m = {.index = off};
	size_t line_start = 0;

	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			m.line++;
			line_start = i + 1;
		}
	}
	m.column = off - line_start;
	return m;
}

static int
syntax_error(struct ctx *c, const yaml_parser_t *p, const char *buf, size_t len)
{
	const char *problem = p->problem != NULL ? p->problem : "syntax error";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		snprintf(c->err, AP_CFG_ERR_MAX, "%s: out of memory while parsing", c->name);
		return -ENOMEM;
	case YAML_READER_ERROR:
		if (p->problem_value != -1)
			return fail(c, offset_mark(buf, len, p->problem_offset), "%s (byte 0x%02x)",
				    problem, (unsigned)p->problem_value & 0xff);
		return fail(c, offset_mark(buf, len, p->problem_offset), "%s", problem);
	default:
		if (p->context != NULL)
			return fail(c, p->problem_mark, "%s (%s at %zu:%zu)", problem, p->context,
				    p->context_mark.line + 1, p->context_mark.column + 1);
		return fail(c, p->problem_mark, "%s", problem);
	}
}

static int
load(const char *name, const char *dir, const char *buf, size_t len, struct ap_config *out,
     char err[AP_CFG_ERR_MAX])
{
	const yaml_node_pair_t *seen[MAX_FIELDS];
	struct ap_config *cfg = NULL;
	struct ctx c = {.name = name, .dir = dir, .err = err};
	yaml_document_t doc, next;
	bool have_doc = false;
	yaml_parser_t parser;
	yaml_node_t *root;
	int ret;

	err[0] = '\0';
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, AP_CFG_ERR_MAX, "%s: out of memory", name);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		ret = syntax_error(&c, &parser, buf, len);
		goto fail;
	}
	have_doc = true;

	cfg = malloc(sizeof(*cfg));
	if (cfg == NULL) {
		snprintf(err, AP_CFG_ERR_MAX, "%s: out of memory", name);
		ret = -ENOMEM;
		goto fail;
	}
	ap_config_defaults(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", name);
	c.doc = &doc;
	c.cfg = cfg;

	/* No document, or an empty one, is a valid configuration of defaults. */
	root = yaml_document_get_root_node(&doc);
	if (root != NULL && !is_null(root)) {
		if (root->type != YAML_MAPPING_NODE) {
			ret = fail(&c, root->start_mark, "the top level must be a mapping");
			goto fail;
		}
		ret = parse_map(&c, root, &top_table, cfg, "", seen);
		if (ret < 0)
			goto fail;
	}

	/* A second document would be ignored silently: refuse it. */
	if (!yaml_parser_load(&parser, &next)) {
		ret = syntax_error(&c, &parser, buf, len);
		goto fail;
	}
	root = yaml_document_get_root_node(&next);
	if (root != NULL) {
		ret = fail(&c, next.start_mark, "expected a single YAML document");
		yaml_document_delete(&next);
		goto fail;
	}
	yaml_document_delete(&next);

	ret = resolve_xconnects(&c);
	if (ret < 0)
		goto fail;
	ret = check_api(&c);
	if (ret < 0)
		goto fail;
	ret = resolve_l2(&c);
	if (ret < 0)
		goto fail;
	ret = resolve_l3(&c);
	if (ret < 0)
		goto fail;
	ret = resolve_fw(&c);
	if (ret < 0)
		goto fail;
	ret = resolve_nat(&c);
	if (ret < 0)
		goto fail;
	ret = resolve_qos(&c);
	if (ret < 0)
		goto fail;

	*out = *cfg;
	ret = 0;
fail:
	free(cfg);
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return ret;
}

void
ap_config_defaults(struct ap_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->path, sizeof(cfg->path), "<built-in>");
	cfg->workers = 1;
	cfg->mbufs = 16384;
	cfg->burst = 32;
	cfg->neigh_reachable_s = 30;
	cfg->mac_table_size = 65536;
	cfg->fib4 = (struct ap_cfg_fib){.max_routes = 1u << 20, .tbl8 = 1u << 14};
	cfg->fib6 = (struct ap_cfg_fib){.max_routes = 1u << 16, .tbl8 = 1u << 14};
	cfg->firewall.default_action = AP_FW_DROP;
	cfg->qos.host_table = 4096;
	cfg->firewall.log_rate = 100;
	cfg->conntrack.max_flows = 65536;
	cfg->conntrack.t_syn_sent = 120;
	cfg->conntrack.t_syn_recv = 60;
	cfg->conntrack.t_established = 432000;
	cfg->conntrack.t_fin_wait = 120;
	cfg->conntrack.t_close_wait = 60;
	cfg->conntrack.t_last_ack = 30;
	cfg->conntrack.t_time_wait = 120;
	cfg->conntrack.t_close = 10;
	cfg->conntrack.t_udp = 30;
	cfg->conntrack.t_udp_stream = 120;
	cfg->conntrack.t_icmp = 30;
	cfg->conntrack.t_generic = 600;
	cfg->conntrack.t_max_retrans = 300;
	cfg->conntrack.t_unack = 300;
	cfg->conntrack.tcp_max_retrans = 3;
	cfg->synproxy.mss = 1460;
	cfg->synproxy.wscale = 7;
	cfg->synproxy.syn_rate = 1000;
	cfg->synproxy.half_open = 1000;
	cfg->synproxy.disarm_after = 10;
	cfg->synproxy.block_time = 60;
	cfg->hugepages = AP_HUGE_AUTO;
	snprintf(cfg->api_socket, sizeof(cfg->api_socket), "/run/aetherd/api.sock");
	snprintf(cfg->api_listen, sizeof(cfg->api_listen), "127.0.0.1:8080");
	snprintf(cfg->api_token_file, sizeof(cfg->api_token_file), "/var/lib/aetherd/api.token");
	snprintf(cfg->log_level, sizeof(cfg->log_level), "%s",
		 ap_log_level_name(AP_LOG_LEVEL_INFO));
	cfg->log_json = false;
}

void
ap_config_port_defaults(struct ap_cfg_port *port)
{
	port_defaults(port);
}

int
ap_config_load_buf(const char *name, const char *buf, size_t len, struct ap_config *cfg,
		   char err[AP_CFG_ERR_MAX])
{
	return load(name != NULL ? name : "<buffer>", NULL, buf, len, cfg, err);
}

int
ap_config_load_file(const char *path, struct ap_config *cfg, char err[AP_CFG_ERR_MAX])
{
	char *buf = NULL, *dir = NULL, *copy = NULL, *slash;
	size_t len = 0, cap = 0;
	FILE *f = NULL;
	int ret;

	if (strlen(path) >= AP_PATH_MAX) {
		snprintf(err, AP_CFG_ERR_MAX, "%.64s...: path too long (max %d bytes)", path,
			 AP_PATH_MAX - 1);
		return -ENAMETOOLONG;
	}
	f = fopen(path, "rb");
	if (f == NULL) {
		ret = -errno;
		snprintf(err, AP_CFG_ERR_MAX, "%s: cannot open: %s", path, strerror(-ret));
		goto fail;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			char *nb;

			if (cap >= CFG_FILE_MAX) {
				snprintf(err, AP_CFG_ERR_MAX, "%s: file too large (max %u MiB)",
					 path, CFG_FILE_MAX >> 20);
				ret = -EFBIG;
				goto fail;
			}
			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				snprintf(err, AP_CFG_ERR_MAX, "%s: out of memory", path);
				ret = -ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		ret = errno ? -errno : -EIO;
		snprintf(err, AP_CFG_ERR_MAX, "%s: cannot read: %s", path, strerror(-ret));
		goto fail;
	}

	/* Relative pcap paths are relative to the file, made absolute so a later chdir()
	 * does not change them. */
	copy = strdup(path);
	if (copy == NULL) {
		snprintf(err, AP_CFG_ERR_MAX, "%s: out of memory", path);
		ret = -ENOMEM;
		goto fail;
	}
	slash = strrchr(copy, '/');
	if (slash == copy)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	dir = realpath(slash != NULL ? copy : ".", NULL);
	if (dir == NULL) {
		ret = -errno;
		snprintf(err, AP_CFG_ERR_MAX, "%s: cannot resolve its directory: %s", path,
			 strerror(-ret));
		goto fail;
	}
	/* realpath("/") is "/": avoid "//in.pcap". */
	ret = load(path, strcmp(dir, "/") == 0 ? "" : dir, buf, len, cfg, err);
fail:
	if (f != NULL)
		fclose(f);
	free(copy);
	free(dir);
	free(buf);
	return ret;
}

int
ap_config_bridge_index(const struct ap_config *cfg, const char *name)
{
	for (uint16_t i = 0; i < cfg->n_bridges; i++)
		if (strcmp(cfg->bridges[i].name, name) == 0)
			return i;
	return -1;
}

int
ap_config_port_index(const struct ap_config *cfg, const char *name)
{
	for (uint16_t i = 0; i < cfg->n_ports; i++)
		if (strcmp(cfg->ports[i].name, name) == 0)
			return i;
	return -1;
}

const char *
ap_port_driver_name(enum ap_port_driver d)
{
	if ((unsigned)d > AP_DRV_DEVARGS)
		return "?";
	return driver_names[d];
}
