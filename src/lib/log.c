/* SPDX-License-Identifier: BSD-3-Clause */
#include "lib/log.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Long enough for a full message escaped as JSON plus a few fields; records that do not fit
 * are cut, but the line always stays well formed. */
#define LINE_MAX_LEN 8192
/* Room kept back for the closing bytes of a record ("...\"}\n" or "\n"). */
#define LINE_RESERVE 16

struct module_level {
	char name[AP_LOG_MODULE_MAX];
	enum ap_log_level level;
};

/* One record kept for ap_log_recent_json(): fixed size, so the ring is allocated once. */
struct recent_record {
	struct timespec ts;
	enum ap_log_level level;
	char module[AP_LOG_MODULE_MAX];
	char msg[AP_LOG_MSG_MAX];
};

static struct {
	pthread_mutex_t lock;
	enum ap_log_level default_level;
	enum ap_log_format format;
	FILE *out;
	struct module_level modules[AP_LOG_MAX_MODULES];
	unsigned n_modules;
	/* Recent records: AP_LOG_RECENT_MAX slots, allocated by the first record written. */
	struct recent_record *recent;
	unsigned recent_head; /* Next slot to write. */
	unsigned recent_count;
} logger = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.default_level = AP_LOG_LEVEL_INFO,
	.format = AP_LOG_FORMAT_TEXT,
};

static const char *const level_names[] = {
	[AP_LOG_LEVEL_ERROR] = "error",
	[AP_LOG_LEVEL_WARNING] = "warning",
	[AP_LOG_LEVEL_INFO] = "info",
	[AP_LOG_LEVEL_DEBUG] = "debug",
};

int
ap_log_level_parse(const char *name)
{
	if (name == NULL)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	if (strcmp(name, "warn") == 0)
		return AP_LOG_LEVEL_WARNING;
	if (strcmp(name, "err") == 0)
		return AP_LOG_LEVEL_ERROR;
	return -EINVAL;
}

const char *
ap_log_level_name(enum ap_log_level level)
{
	if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0]))
		return "?";
	return level_names[level];
}

int
ap_log_format_parse(const char *name)
{
	if (name == NULL)
		return -EINVAL;
	if (strcmp(name, "text") == 0)
		return AP_LOG_FORMAT_TEXT;
	if (strcmp(name, "json") == 0)
		return AP_LOG_FORMAT_JSON;
	return -EINVAL;
}

static struct module_level *
find_module(const char *module)
{
	for (unsigned i = 0; i < logger.n_modules; i++)
		if (strcmp(logger.modules[i].name, module) == 0)
			return &logger.modules[i];
	return NULL;
}

int
ap_log_set_level(const char *module, enum ap_log_level level)
{
	struct module_level *m;
	int ret = 0;

	if ((unsigned)level > AP_LOG_LEVEL_DEBUG)
		return -EINVAL;
	if (module != NULL && (module[0] == '\0' || strlen(module) >= AP_LOG_MODULE_MAX))
		return -EINVAL;

	pthread_mutex_lock(&logger.lock);
	if (module == NULL) {
		logger.default_level = level;
		goto out;
	}
	m = find_module(module);
	if (m == NULL) {
		if (logger.n_modules == AP_LOG_MAX_MODULES) {
			ret = -ENOSPC;
			goto out;
		}
		m = &logger.modules[logger.n_modules++];
		strcpy(m->name, module);
	}
	m->level = level;
out:
	pthread_mutex_unlock(&logger.lock);
	return ret;
}

static enum ap_log_level
level_of_locked(const char *module)
{
	const struct module_level *m = module != NULL ? find_module(module) : NULL;

	return m != NULL ? m->level : logger.default_level;
}

enum ap_log_level
ap_log_get_level(const char *module)
{
	enum ap_log_level l;

	pthread_mutex_lock(&logger.lock);
	l = level_of_locked(module);
	pthread_mutex_unlock(&logger.lock);
	return l;
}

void
ap_log_reset_levels(void)
{
	pthread_mutex_lock(&logger.lock);
	logger.n_modules = 0;
	logger.default_level = AP_LOG_LEVEL_INFO;
	pthread_mutex_unlock(&logger.lock);
}

void
ap_log_set_format(enum ap_log_format format)
{
	pthread_mutex_lock(&logger.lock);
	logger.format = format == AP_LOG_FORMAT_JSON ? AP_LOG_FORMAT_JSON : AP_LOG_FORMAT_TEXT;
	pthread_mutex_unlock(&logger.lock);
}

void
ap_log_set_output(FILE *out)
{
	pthread_mutex_lock(&logger.lock);
	logger.out = out;
	pthread_mutex_unlock(&logger.lock);
}

bool
ap_log_enabled(enum ap_log_level level, const char *module)
{
	return level <= ap_log_get_level(module);
}

/* Bounded line builder: appends stop once the buffer is full (minus the reserve), so a
 * record is cut rather than overflowing, and the closing bytes always fit. */
struct line {
	char buf[LINE_MAX_LEN];
	size_t len;
	bool full;
};

static void
put(struct line *l, const char *s, size_t n)
{
	if (l->full || l->len + n > sizeof(l->buf) - LINE_RESERVE) {
		l->full = true;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void
puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

/* Closing bytes use the reserve, so they are written even when the line is full. */
static void
put_final(struct line *l, const char *s)
{
	size_t n = strlen(s);

	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629 section 4: no overlongs, no surrogates,
 * nothing above U+10FFFF), or 0 when the bytes there are not one. */
static size_t
utf8_seq_len(const unsigned char *s, size_t avail)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

enum esc_mode {
	ESC_JSON,  /* RFC 8259 section 7 string body. */
	ESC_TEXT,  /* Keep the record on one line: control bytes become \n, \t, \xNN. */
	ESC_QUOTE, /* As text, inside double quotes: also escape '"' and '\'. */
};

static void
put_escaped(struct line *l, const char *str, enum esc_mode mode)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str);
	char tmp[8];

	for (size_t i = 0; i < n && !l->full;) {
		unsigned char c = s[i];
		size_t sl;

		if (c == '"' || c == '\\') {
			if (mode == ESC_TEXT) {
				put(l, (const char *)&s[i], 1);
			} else {
				tmp[0] = '\\';
				tmp[1] = (char)c;
				put(l, tmp, 2);
			}
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			switch (c) {
			case '\n':
				puts_(l, "\\n");
				break;
			case '\r':
				puts_(l, "\\r");
				break;
			case '\t':
				puts_(l, "\\t");
				break;
			default:
				snprintf(tmp, sizeof(tmp), mode == ESC_JSON ? "\\u%04x" : "\\x%02x",
					 c);
				puts_(l, tmp);
				break;
			}
			i++;
			continue;
		}
		sl = utf8_seq_len(&s[i], n - i);
		if (sl == 0) {
			/* Invalid UTF-8: JSON must stay valid, so use U+FFFD there; text shows
			 * the byte. */
			if (mode == ESC_JSON) {
				puts_(l, "\\ufffd");
			} else {
				snprintf(tmp, sizeof(tmp), "\\x%02x", c);
				puts_(l, tmp);
			}
			i++;
			continue;
		}
		put(l, (const char *)&s[i], sl);
		i += sl;
	}
}

/* A text value needs quotes when it is empty or holds a space, '"', '=', '\' or a byte that
 * would be escaped anyway. */
static bool
needs_quotes(const char *v)
{
	if (*v == '\0')
		return true;
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
			return true;
	return false;
}

/* ISO 8601 / RFC 3339 UTC with milliseconds: 2026-11-25T14:53:38.123Z. */
static void
format_timestamp(const struct timespec *ts, char *buf, size_t size)
{
	struct tm tm;
	size_t n;

	gmtime_r(&ts->tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%03ldZ", ts->tv_nsec / 1000000);
}

static void
put_timestamp(struct line *l, const struct timespec *ts)
{
	char buf[40];

	format_timestamp(ts, buf, sizeof(buf));
	puts_(l, buf);
}

static void
build_text(struct line *l, const struct timespec *ts, enum ap_log_level level, const char *module,
	   const char *msg, const struct ap_log_field *fields, size_t n_fields)
{
	char head[24];

	put_timestamp(l, ts);
	snprintf(head, sizeof(head), " %-5s [", ap_log_level_name(level));
	puts_(l, head);
	put_escaped(l, module, ESC_TEXT);
	puts_(l, "] ");
	put_escaped(l, msg, ESC_TEXT);
	for (size_t i = 0; i < n_fields; i++) {
		const char *v = fields[i].value != NULL ? fields[i].value : "";

		if (fields[i].key == NULL)
			continue;
		puts_(l, " ");
		put_escaped(l, fields[i].key, ESC_TEXT);
		puts_(l, "=");
		if (needs_quotes(v)) {
			puts_(l, "\"");
			put_escaped(l, v, ESC_QUOTE);
			puts_(l, "\"");
		} else {
			put_escaped(l, v, ESC_TEXT);
		}
	}
	put_final(l, "\n");
}

/* Escaped units are appended whole (put() refuses a unit that does not fit), so a cut line
 * never ends inside an escape or a UTF-8 sequence. A member that does not fit is rolled back,
 * except the message, which is cut and closed so the reader still gets its start. */
static void
put_json_member(struct line *l, const char *key, const char *value, bool may_cut)
{
	size_t start = l->len;
	bool opened;

	if (l->full)
		return;
	puts_(l, ",\"");
	put_escaped(l, key, ESC_JSON);
	puts_(l, "\":\"");
	opened = !l->full;
	put_escaped(l, value, ESC_JSON);
	if (l->full && may_cut && opened) {
		put_final(l, "\"");
		return;
	}
	puts_(l, "\"");
	if (l->full)
		l->len = start;
}

static void
build_json(struct line *l, const struct timespec *ts, enum ap_log_level level, const char *module,
	   const char *msg, const struct ap_log_field *fields, size_t n_fields)
{
	puts_(l, "{\"ts\":\"");
	put_timestamp(l, ts);
	puts_(l, "\"");
	put_json_member(l, "level", ap_log_level_name(level), false);
	put_json_member(l, "module", module, false);
	put_json_member(l, "msg", msg, true);
	for (size_t i = 0; i < n_fields; i++) {
		if (fields[i].key == NULL)
			continue;
		put_json_member(l, fields[i].key, fields[i].value != NULL ? fields[i].value : "",
				false);
	}
	put_final(l, "}\n");
}

/* Copy at most size - 1 bytes and terminate; a cut UTF-8 sequence is repaired on output. */
static void
copy_cut(char *dst, const char *src, size_t size)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Keep a copy of the record in the ring. The ring is allocated by the first record; when
 * that fails, records are simply not kept. */
static void
remember(const struct timespec *ts, enum ap_log_level level, const char *module, const char *msg)
{
	struct recent_record *r;

	pthread_mutex_lock(&logger.lock);
	if (logger.recent == NULL) {
		logger.recent = calloc(AP_LOG_RECENT_MAX, sizeof(*logger.recent));
		if (logger.recent == NULL)
			goto out;
	}
	r = &logger.recent[logger.recent_head];
	r->ts = *ts;
	r->level = level;
	copy_cut(r->module, module, sizeof(r->module));
	copy_cut(r->msg, msg, sizeof(r->msg));
	logger.recent_head = (logger.recent_head + 1) % AP_LOG_RECENT_MAX;
	if (logger.recent_count < AP_LOG_RECENT_MAX)
		logger.recent_count++;
out:
	pthread_mutex_unlock(&logger.lock);
}

static void __attribute__((format(printf, 5, 0)))
vlog(enum ap_log_level level, const char *module, const struct ap_log_field *fields,
     size_t n_fields, const char *fmt, va_list ap)
{
	int saved_errno = errno;
	enum ap_log_format format;
	char msg[AP_LOG_MSG_MAX];
	struct timespec ts;
	struct line l;
	FILE *out;

	if (module == NULL)
		module = "-";
	pthread_mutex_lock(&logger.lock);
	if (level > level_of_locked(module)) {
		pthread_mutex_unlock(&logger.lock);
		return;
	}
	format = logger.format;
	out = logger.out != NULL ? logger.out : stderr;
	pthread_mutex_unlock(&logger.lock);

	/* %m in fmt must see the caller's errno. */
	errno = saved_errno;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &ts);

	l.len = 0;
	l.full = false;
	if (format == AP_LOG_FORMAT_JSON)
		build_json(&l, &ts, level, module, msg, fields, n_fields);
	else
		build_text(&l, &ts, level, module, msg, fields, n_fields);
	/* One write per record: stdio locks the stream, so records from several threads do
	 * not interleave. */
	fwrite(l.buf, 1, l.len, out);
	fflush(out);
	remember(&ts, level, module, msg);
	errno = saved_errno;
}

void
ap_log(enum ap_log_level level, const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, module, NULL, 0, fmt, ap);
	va_end(ap);
}

void
ap_log_fields(enum ap_log_level level, const char *module, const struct ap_log_field *fields,
	      size_t n_fields, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, module, fields, n_fields, fmt, ap);
	va_end(ap);
}

/* A JSON string of @p s: invalid UTF-8 becomes U+FFFD, as in the JSON log lines, because
 * jansson refuses strings that are not UTF-8. */
static json_t *
utf8_string(const char *s)
{
	char buf[3 * AP_LOG_MSG_MAX];
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), len = 0;

	for (size_t i = 0; i < n && len + 4 <= sizeof(buf);) {
		size_t sl = utf8_seq_len(&p[i], n - i);

		if (sl == 0) {
			memcpy(buf + len, "\xef\xbf\xbd", 3);
			len += 3;
			i++;
		} else {
			memcpy(buf + len, &p[i], sl);
			len += sl;
			i += sl;
		}
	}
	return json_stringn(buf, len);
}

static json_t *
record_json(const struct recent_record *r)
{
	char ts[40];

	format_timestamp(&r->ts, ts, sizeof(ts));
	return json_pack("{s:s,s:s,s:o,s:o}", "ts", ts, "level", ap_log_level_name(r->level),
			 "module", utf8_string(r->module), "msg", utf8_string(r->msg));
}

static bool
record_matches(const struct recent_record *r, int min_level, const char *module)
{
	return (int)r->level <= min_level && (module == NULL || strcmp(r->module, module) == 0);
}

json_t *
ap_log_recent_json(unsigned max, int min_level, const char *module)
{
	json_t *records = json_array(), *rec;
	unsigned n = 0, first = 0;

	if (records == NULL)
		return NULL;
	if (max == 0 || max > AP_LOG_RECENT_MAX)
		max = AP_LOG_RECENT_MAX;

	pthread_mutex_lock(&logger.lock);
	/* Walk back from the newest to find where the 'max' newest matches start, then emit
	 * them oldest first. */
	for (unsigned k = 0; k < logger.recent_count && n < max; k++) {
		unsigned i = (logger.recent_head + AP_LOG_RECENT_MAX - 1 - k) % AP_LOG_RECENT_MAX;

		if (record_matches(&logger.recent[i], min_level, module)) {
			n++;
			first = k;
		}
	}
	for (unsigned k = first + 1; k-- > 0 && n > 0;) {
		unsigned i = (logger.recent_head + AP_LOG_RECENT_MAX - 1 - k) % AP_LOG_RECENT_MAX;

		if (!record_matches(&logger.recent[i], min_level, module))
			continue;
		rec = record_json(&logger.recent[i]);
		if (rec == NULL || json_array_append_new(records, rec) < 0)
			goto fail;
		n--;
	}
	pthread_mutex_unlock(&logger.lock);
	return json_pack("{s:o}", "records", records);
fail:
	pthread_mutex_unlock(&logger.lock);
	json_decref(records);
	return NULL;
}

void
ap_log_recent_clear(void)
{
	pthread_mutex_lock(&logger.lock);
	logger.recent_head = 0;
	logger.recent_count = 0;
	pthread_mutex_unlock(&logger.lock);
}

int
ap_errf(char *err, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return rc;
}
