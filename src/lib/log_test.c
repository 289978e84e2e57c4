/* SPDX-License-Identifier: BSD-3-Clause */
#include "lib/log.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Each Criterion test runs in its own process, so the logger's globals start fresh. */

static char *cap_buf;
static size_t cap_len;
static FILE *cap;

static void
capture(enum ap_log_format format)
{
	cap = open_memstream(&cap_buf, &cap_len);
	cr_assert_not_null(cap);
	ap_log_set_output(cap);
	ap_log_set_format(format);
}

/* Everything logged so far; the stream stays open for more. */
static const char *
captured(void)
{
	cr_assert_eq(fflush(cap), 0);
	return cap_buf;
}

static void
assert_matches(const char *s, const char *pattern)
{
	regex_t re;

	cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0, "%s", pattern);
	cr_assert_eq(regexec(&re, s, 0, NULL, 0), 0, "'%s' does not match '%s'", s, pattern);
	regfree(&re);
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

#define TS_RE "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"

struct level_case {
	const char *name;
	int level;
};

static const struct level_case level_cases[] = {
	{"error", AP_LOG_LEVEL_ERROR},
	{"warning", AP_LOG_LEVEL_WARNING},
	{"info", AP_LOG_LEVEL_INFO},
	{"debug", AP_LOG_LEVEL_DEBUG},
	{"warn", AP_LOG_LEVEL_WARNING},
	{"err", AP_LOG_LEVEL_ERROR},
	{"", -EINVAL},
	{"INFO", -EINVAL},
	{"verbose", -EINVAL},
	{"info ", -EINVAL},
	{NULL, -EINVAL},
};

Test(log, level_parse_and_name)
{
	for (size_t i = 0; i < sizeof(level_cases) / sizeof(level_cases[0]); i++)
		cr_assert_eq(ap_log_level_parse(level_cases[i].name), level_cases[i].level, "%s",
			     level_cases[i].name ? level_cases[i].name : "(null)");
	cr_assert_str_eq(ap_log_level_name(AP_LOG_LEVEL_ERROR), "error");
	cr_assert_str_eq(ap_log_level_name(AP_LOG_LEVEL_WARNING), "warning");
	cr_assert_str_eq(ap_log_level_name(AP_LOG_LEVEL_INFO), "info");
	cr_assert_str_eq(ap_log_level_name(AP_LOG_LEVEL_DEBUG), "debug");
	cr_assert_str_eq(ap_log_level_name((enum ap_log_level)7), "?");
	cr_assert_eq(ap_log_format_parse("text"), AP_LOG_FORMAT_TEXT);
	cr_assert_eq(ap_log_format_parse("json"), AP_LOG_FORMAT_JSON);
	cr_assert_eq(ap_log_format_parse("xml"), -EINVAL);
	cr_assert_eq(ap_log_format_parse(NULL), -EINVAL);
}

Test(log, text_format)
{
	capture(AP_LOG_FORMAT_TEXT);
	ap_log(AP_LOG_LEVEL_INFO, "bgp", "session up after %d tries", 3);
	assert_matches(captured(), "^" TS_RE " info  \\[bgp\\] session up after 3 tries\n$");

	AP_LOG_ERR("api", "bind failed");
	AP_LOG_WARN("api", "slow");
	assert_matches(captured(), "\n" TS_RE " error \\[api\\] bind failed\n" TS_RE
				   " warning \\[api\\] slow\n$");
	cr_assert_eq(count_lines(captured()), 3);
}

Test(log, text_fields_and_escaping)
{
	const struct ap_log_field fields[] = {
		{"peer", "192.0.2.1"}, {"reason", "hold timer expired"},
		{"q", "a\"b"},	       {"empty", ""},
		{NULL, "skipped"},     {"nullv", NULL},
		{"eq", "a=b"},
	};

	capture(AP_LOG_FORMAT_TEXT);
	ap_log_fields(AP_LOG_LEVEL_WARNING, "bgp", fields, sizeof(fields) / sizeof(fields[0]),
		      "session %s", "down");
	assert_matches(captured(), "^" TS_RE " warning \\[bgp\\] session down peer=192\\.0\\.2\\.1 "
				   "reason=\"hold timer expired\" q=\"a\\\\\"b\" empty=\"\" "
				   "nullv=\"\" eq=\"a=b\"\n$");

	/* A message never spans lines: control bytes are escaped. */
	fclose(cap);
	free(cap_buf);
	capture(AP_LOG_FORMAT_TEXT);
	ap_log(AP_LOG_LEVEL_INFO, "m", "two\nlines\tand\x01 bell \xff");
	cr_assert_eq(count_lines(captured()), 1);
	cr_assert(strstr(captured(), "[m] two\\nlines\\tand\\x01 bell \\xff\n") != NULL, "%s",
		  captured());
}

Test(log, json_format)
{
	const struct ap_log_field fields[] = {{"peer", "192.0.2.1"}, {"as", "65001"}};
	json_error_t jerr;
	json_t *j;

	capture(AP_LOG_FORMAT_JSON);
	ap_log_fields(AP_LOG_LEVEL_INFO, "bgp", fields, 2, "established in %.1f s", 1.5);
	cr_assert_eq(count_lines(captured()), 1);
	cr_assert(strncmp(captured(), "{\"ts\":\"", 7) == 0, "%s", captured());
	assert_matches(captured(),
		       "^\\{\"ts\":\"" TS_RE "\",\"level\":\"info\",\"module\":\"bgp\","
		       "\"msg\":\"established in 1\\.5 s\",\"peer\":\"192\\.0\\.2\\.1\","
		       "\"as\":\"65001\"\\}\n$");

	j = json_loads(captured(), 0, &jerr);
	cr_assert_not_null(j, "%s: %s", jerr.text, captured());
	cr_assert_str_eq(json_string_value(json_object_get(j, "level")), "info");
	cr_assert_str_eq(json_string_value(json_object_get(j, "module")), "bgp");
	cr_assert_str_eq(json_string_value(json_object_get(j, "msg")), "established in 1.5 s");
	cr_assert_str_eq(json_string_value(json_object_get(j, "peer")), "192.0.2.1");
	json_decref(j);
}

struct esc_case {
	const char *in;
	const char *raw;     /* As written on the line. */
	const char *decoded; /* As a JSON reader sees it. */
};

static const struct esc_case esc_cases[] = {
	{"plain", "\"plain\"", "plain"},
	{"q\"b\\s", "\"q\\\"b\\\\s\"", "q\"b\\s"},
	{"n\nr\rt\t", "\"n\\nr\\rt\\t\"", "n\nr\rt\t"},
	{"c\x01\x1f\x7f", "\"c\\u0001\\u001f\\u007f\"", "c\x01\x1f\x7f"},
	{"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	 "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
	 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
	/* Invalid UTF-8 (stray byte, overlong, surrogate, truncated) becomes U+FFFD. */
	{"a\xff", "\"a\\ufffd\"", "a\xef\xbf\xbd"},
	{"\xc0\xaf", "\"\\ufffd\\ufffd\"", "\xef\xbf\xbd\xef\xbf\xbd"},
	{"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
	{"x\xe2\x82", "\"x\\ufffd\\ufffd\"", "x\xef\xbf\xbd\xef\xbf\xbd"},
};

Test(log, json_escaping)
{
	for (size_t i = 0; i < sizeof(esc_cases) / sizeof(esc_cases[0]); i++) {
		const struct esc_case *tc = &esc_cases[i];
		const struct ap_log_field field = {"k\"ey", tc->in};
		char want[128];
		json_error_t jerr;
		json_t *j;

		capture(AP_LOG_FORMAT_JSON);
		ap_log_fields(AP_LOG_LEVEL_ERROR, "m\n", &field, 1, "%s", tc->in);
		snprintf(want, sizeof(want), ",\"msg\":%s,\"k\\\"ey\":%s}\n", tc->raw, tc->raw);
		cr_assert(strstr(captured(), want) != NULL, "case %zu: %s", i, captured());
		cr_assert(strstr(captured(), "\"module\":\"m\\n\"") != NULL, "%s", captured());

		j = json_loads(captured(), 0, &jerr);
		cr_assert_not_null(j, "case %zu: %s: %s", i, jerr.text, captured());
		cr_assert_str_eq(json_string_value(json_object_get(j, "msg")), tc->decoded,
				 "case %zu", i);
		cr_assert_str_eq(json_string_value(json_object_get(j, "k\"ey")), tc->decoded);
		json_decref(j);
		fclose(cap);
		free(cap_buf);
	}
}

Test(log, per_module_levels)
{
	capture(AP_LOG_FORMAT_TEXT);
	cr_assert_eq(ap_log_get_level("bgp"), AP_LOG_LEVEL_INFO);
	AP_LOG_DEBUG("bgp", "hidden 1");
	AP_LOG_INFO("bgp", "shown 1");
	cr_assert_eq(count_lines(captured()), 1);

	cr_assert_eq(ap_log_set_level("bgp", AP_LOG_LEVEL_DEBUG), 0);
	cr_assert_eq(ap_log_set_level(NULL, AP_LOG_LEVEL_WARNING), 0);
	cr_assert(ap_log_enabled(AP_LOG_LEVEL_DEBUG, "bgp"));
	cr_assert_not(ap_log_enabled(AP_LOG_LEVEL_INFO, "dns"));
	cr_assert(ap_log_enabled(AP_LOG_LEVEL_WARNING, "dns"));
	AP_LOG_DEBUG("bgp", "shown 2");
	AP_LOG_INFO("dns", "hidden 2");
	AP_LOG_DEBUG("dns", "hidden 3");
	AP_LOG_WARN("dns", "shown 3");
	AP_LOG_ERR(NULL, "shown 4");

	cr_assert_eq(ap_log_set_level("dns", AP_LOG_LEVEL_ERROR), 0);
	AP_LOG_WARN("dns", "hidden 4");
	cr_assert_eq(ap_log_set_level("bgp", AP_LOG_LEVEL_ERROR), 0);
	AP_LOG_DEBUG("bgp", "hidden 5");

	cr_assert_eq(count_lines(captured()), 4, "%s", captured());
	cr_assert_null(strstr(captured(), "hidden"), "%s", captured());
	cr_assert(strstr(captured(), "debug [bgp] shown 2\n") != NULL);
	cr_assert(strstr(captured(), "warning [dns] shown 3\n") != NULL);
	cr_assert(strstr(captured(), "error [-] shown 4\n") != NULL);

	ap_log_reset_levels();
	cr_assert_eq(ap_log_get_level("bgp"), AP_LOG_LEVEL_INFO);
	cr_assert_eq(ap_log_get_level(NULL), AP_LOG_LEVEL_INFO);
}

Test(log, set_level_errors)
{
	char name[16], big[AP_LOG_MODULE_MAX + 1];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(ap_log_set_level("", AP_LOG_LEVEL_DEBUG), -EINVAL);
	cr_assert_eq(ap_log_set_level(big, AP_LOG_LEVEL_DEBUG), -EINVAL);
	cr_assert_eq(ap_log_set_level("m", (enum ap_log_level)9), -EINVAL);
	for (int i = 0; i < AP_LOG_MAX_MODULES; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		cr_assert_eq(ap_log_set_level(name, AP_LOG_LEVEL_DEBUG), 0);
	}
	cr_assert_eq(ap_log_set_level("one-more", AP_LOG_LEVEL_DEBUG), -ENOSPC);
	/* Changing a known module still works when the table is full. */
	cr_assert_eq(ap_log_set_level("m3", AP_LOG_LEVEL_ERROR), 0);
	cr_assert_eq(ap_log_get_level("m3"), AP_LOG_LEVEL_ERROR);
	cr_assert_eq(ap_log_get_level("m63"), AP_LOG_LEVEL_DEBUG);
}

Test(log, long_records_stay_well_formed)
{
	static char huge[20000];
	struct ap_log_field fields[8];
	json_error_t jerr;
	const char *msg;
	json_t *j;

	memset(huge, '\x01', sizeof(huge) - 1);
	for (size_t i = 0; i < 8; i++)
		fields[i] = (struct ap_log_field){"f", huge};

	/* The message is cut at AP_LOG_MSG_MAX - 1 bytes, each escaped to 6; the fields do
	 * not fit after it and are dropped whole. */
	capture(AP_LOG_FORMAT_JSON);
	ap_log_fields(AP_LOG_LEVEL_INFO, "m", fields, 8, "%s", huge);
	cr_assert_eq(count_lines(captured()), 1);
	j = json_loads(captured(), 0, &jerr);
	cr_assert_not_null(j, "%s", jerr.text);
	msg = json_string_value(json_object_get(j, "msg"));
	cr_assert_not_null(msg);
	cr_assert_eq(strlen(msg), AP_LOG_MSG_MAX - 1);
	cr_assert_null(json_object_get(j, "f"));
	json_decref(j);
	fclose(cap);
	free(cap_buf);

	/* A module name longer than the line: members are dropped, the object is closed. */
	capture(AP_LOG_FORMAT_JSON);
	ap_log(AP_LOG_LEVEL_INFO, huge, "x");
	j = json_loads(captured(), 0, &jerr);
	cr_assert_not_null(j, "%s", jerr.text);
	cr_assert_str_eq(json_string_value(json_object_get(j, "level")), "info");
	json_decref(j);
	fclose(cap);
	free(cap_buf);

	/* Text: cut, still one line. */
	capture(AP_LOG_FORMAT_TEXT);
	ap_log_fields(AP_LOG_LEVEL_INFO, "m", fields, 8, "%s", huge);
	cr_assert_eq(count_lines(captured()), 1);
	cr_assert_lt(strlen(captured()), 8192);
}

Test(log, errno_preserved_and_percent_m)
{
	capture(AP_LOG_FORMAT_TEXT);
	errno = ENOENT;
	ap_log(AP_LOG_LEVEL_ERROR, "cfg", "open: %m");
	cr_assert_eq(errno, ENOENT);
	cr_assert(strstr(captured(), "[cfg] open: No such file or directory\n") != NULL, "%s",
		  captured());
	errno = EACCES;
	AP_LOG_DEBUG("cfg", "filtered");
	cr_assert_eq(errno, EACCES);
}

Test(log, default_output_is_stderr, .init = cr_redirect_stderr)
{
	char line[256] = "";
	FILE *f;

	ap_log_set_output(NULL);
	AP_LOG_INFO("main", "to stderr");
	fflush(stderr);
	f = cr_get_redirected_stderr();
	cr_assert_not_null(fgets(line, sizeof(line), f));
	assert_matches(line, "^" TS_RE " info  \\[main\\] to stderr\n$");
}

#define N_THREADS 4
#define N_LINES	  500

static void *
writer(void *arg)
{
	const struct ap_log_field f = {"pad", "0123456789abcdefghijklmnopqrstuvwxyz0123456789"};

	for (int i = 0; i < N_LINES; i++)
		ap_log_fields(AP_LOG_LEVEL_INFO, "thr", &f, 1, "thread %d line %d",
			      (int)(intptr_t)arg, i);
	return NULL;
}

Test(log, threads_write_whole_lines)
{
	pthread_t th[N_THREADS];
	char line[512];
	int per_thread[N_THREADS] = {0};
	FILE *f = tmpfile();

	cr_assert_not_null(f);
	ap_log_set_output(f);
	ap_log_set_format(AP_LOG_FORMAT_JSON);
	for (intptr_t i = 0; i < N_THREADS; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, writer, (void *)i), 0);
	for (int i = 0; i < N_THREADS; i++)
		pthread_join(th[i], NULL);

	rewind(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		json_error_t jerr;
		json_t *j = json_loads(line, 0, &jerr);
		int t, n;

		cr_assert_not_null(j, "interleaved line: %s", line);
		cr_assert_eq(sscanf(json_string_value(json_object_get(j, "msg")),
				    "thread %d line %d", &t, &n),
			     2);
		cr_assert(t >= 0 && t < N_THREADS);
		per_thread[t]++;
		json_decref(j);
	}
	for (int i = 0; i < N_THREADS; i++)
		cr_assert_eq(per_thread[i], N_LINES);
	fclose(f);
}

/* --- recent records --------------------------------------------------------- */

static json_t *
recent_records(unsigned max, int min_level, const char *module)
{
	json_t *j = ap_log_recent_json(max, min_level, module);
	json_t *records;

	cr_assert_not_null(j);
	records = json_object_get(j, "records");
	cr_assert(json_is_array(records));
	json_incref(records);
	json_decref(j);
	return records;
}

static const char *
rec_str(const json_t *records, size_t i, const char *key)
{
	const char *v = json_string_value(json_object_get(json_array_get(records, i), key));

	cr_assert_not_null(v, "record %zu has no %s", i, key);
	return v;
}

Test(log_recent, empty_before_any_record)
{
	json_t *r = recent_records(0, AP_LOG_LEVEL_DEBUG, NULL);

	cr_assert_eq(json_array_size(r), 0);
	json_decref(r);
}

Test(log_recent, fields_and_order)
{
	json_t *r;

	capture(AP_LOG_FORMAT_TEXT);
	AP_LOG_INFO("bgp", "first %d", 1);
	AP_LOG_WARN("ip", "second");
	AP_LOG_ERR(NULL, "third");
	AP_LOG_DEBUG("bgp", "not written, not kept");

	r = recent_records(0, AP_LOG_LEVEL_DEBUG, NULL);
	cr_assert_eq(json_array_size(r), 3);
	cr_assert_str_eq(rec_str(r, 0, "msg"), "first 1");
	cr_assert_str_eq(rec_str(r, 0, "level"), "info");
	cr_assert_str_eq(rec_str(r, 0, "module"), "bgp");
	cr_assert_str_eq(rec_str(r, 1, "level"), "warning");
	cr_assert_str_eq(rec_str(r, 1, "module"), "ip");
	cr_assert_str_eq(rec_str(r, 2, "msg"), "third");
	cr_assert_str_eq(rec_str(r, 2, "module"), "-");
	for (size_t i = 0; i < 3; i++) {
		assert_matches(rec_str(r, i, "ts"), "^" TS_RE "$");
		cr_assert_eq(json_object_size(json_array_get(r, i)), 4);
	}
	/* The kept timestamp is the one written on the line. */
	cr_assert(strstr(captured(), rec_str(r, 1, "ts")) != NULL);
	json_decref(r);
}

Test(log_recent, ring_wraps_and_keeps_newest)
{
	const unsigned total = AP_LOG_RECENT_MAX + 234;
	char want[32];
	json_t *r;

	capture(AP_LOG_FORMAT_TEXT);
	for (unsigned i = 0; i < total; i++)
		AP_LOG_INFO("m", "rec %u", i);

	r = recent_records(0, AP_LOG_LEVEL_DEBUG, NULL);
	cr_assert_eq(json_array_size(r), AP_LOG_RECENT_MAX);
	for (unsigned k = 0; k < AP_LOG_RECENT_MAX; k++) {
		snprintf(want, sizeof(want), "rec %u", total - AP_LOG_RECENT_MAX + k);
		cr_assert_str_eq(rec_str(r, k, "msg"), want);
	}
	json_decref(r);

	/* max keeps the newest ones, still oldest first; larger than the ring means all. */
	r = recent_records(3, AP_LOG_LEVEL_DEBUG, NULL);
	cr_assert_eq(json_array_size(r), 3);
	snprintf(want, sizeof(want), "rec %u", total - 3);
	cr_assert_str_eq(rec_str(r, 0, "msg"), want);
	snprintf(want, sizeof(want), "rec %u", total - 1);
	cr_assert_str_eq(rec_str(r, 2, "msg"), want);
	json_decref(r);
	r = recent_records(5000, AP_LOG_LEVEL_DEBUG, NULL);
	cr_assert_eq(json_array_size(r), AP_LOG_RECENT_MAX);
	json_decref(r);

	ap_log_recent_clear();
	r = recent_records(0, AP_LOG_LEVEL_DEBUG, NULL);
	cr_assert_eq(json_array_size(r), 0);
	json_decref(r);
	AP_LOG_INFO("m", "after clear");
	r = recent_records(0, AP_LOG_LEVEL_DEBUG, NULL);
	cr_assert_eq(json_array_size(r), 1);
	cr_assert_str_eq(rec_str(r, 0, "msg"), "after clear");
	json_decref(r);
}

struct filter_case {
	unsigned max;
	int min_level;
	const char *module;
	const char *want; /* Messages expected, in order, space separated. */
};

static const struct filter_case filter_cases[] = {
	{0, AP_LOG_LEVEL_DEBUG, NULL, "e1 w1 i1 d1 e2 i2 w2"},
	{0, AP_LOG_LEVEL_INFO, NULL, "e1 w1 i1 e2 i2 w2"},
	{0, AP_LOG_LEVEL_WARNING, NULL, "e1 w1 e2 w2"},
	{0, AP_LOG_LEVEL_ERROR, NULL, "e1 e2"},
	{0, AP_LOG_LEVEL_DEBUG, "bgp", "e1 i1 d1 w2"},
	{0, AP_LOG_LEVEL_WARNING, "bgp", "e1 w2"},
	{0, AP_LOG_LEVEL_DEBUG, "ip", "w1 e2 i2"},
	{0, AP_LOG_LEVEL_DEBUG, "none", ""},
	{0, AP_LOG_LEVEL_DEBUG, "bg", ""},
	/* max counts matching records only. */
	{2, AP_LOG_LEVEL_WARNING, NULL, "e2 w2"},
	{1, AP_LOG_LEVEL_DEBUG, "ip", "i2"},
	{2, AP_LOG_LEVEL_ERROR, "bgp", "e1"},
};

Test(log_recent, filters)
{
	capture(AP_LOG_FORMAT_TEXT);
	ap_log_set_level(NULL, AP_LOG_LEVEL_DEBUG);
	AP_LOG_ERR("bgp", "e1");
	AP_LOG_WARN("ip", "w1");
	AP_LOG_INFO("bgp", "i1");
	AP_LOG_DEBUG("bgp", "d1");
	AP_LOG_ERR("ip", "e2");
	AP_LOG_INFO("ip", "i2");
	AP_LOG_WARN("bgp", "w2");

	for (size_t c = 0; c < sizeof(filter_cases) / sizeof(filter_cases[0]); c++) {
		const struct filter_case *tc = &filter_cases[c];
		json_t *r = recent_records(tc->max, tc->min_level, tc->module);
		char got[64] = "";

		for (size_t i = 0; i < json_array_size(r); i++) {
			if (i > 0)
				strcat(got, " ");
			strcat(got, rec_str(r, i, "msg"));
			if (tc->module != NULL)
				cr_assert_str_eq(rec_str(r, i, "module"), tc->module);
		}
		cr_assert_str_eq(got, tc->want, "case %zu", c);
		json_decref(r);
	}
}

Test(log_recent, escaping_survives_json)
{
	static char huge[AP_LOG_MSG_MAX * 2];
	json_error_t jerr;
	json_t *j, *back, *r;
	char *text;

	memset(huge, 'x', sizeof(huge) - 1);
	capture(AP_LOG_FORMAT_JSON);
	ap_log(AP_LOG_LEVEL_INFO, "m\"od", "q\"b\\s n\nt\t c\x01 caf\xc3\xa9 bad\xff end");
	ap_log(AP_LOG_LEVEL_INFO, "m", "%s", huge);
	/* A module name longer than the kept one is cut, and a cut UTF-8 sequence repaired. */
	ap_log(AP_LOG_LEVEL_INFO, "abcdefghijklmnopqrstuvwxyz0123\xc3\xa9", "long module");

	j = ap_log_recent_json(0, AP_LOG_LEVEL_DEBUG, NULL);
	cr_assert_not_null(j);
	text = json_dumps(j, JSON_COMPACT);
	cr_assert_not_null(text);
	back = json_loads(text, 0, &jerr);
	cr_assert_not_null(back, "%s: %s", jerr.text, text);
	r = json_object_get(back, "records");
	cr_assert_eq(json_array_size(r), 3);
	cr_assert_str_eq(rec_str(r, 0, "msg"),
			 "q\"b\\s n\nt\t c\x01 caf\xc3\xa9 bad\xef\xbf\xbd end");
	cr_assert_str_eq(rec_str(r, 0, "module"), "m\"od");
	cr_assert_eq(strlen(rec_str(r, 1, "msg")), AP_LOG_MSG_MAX - 1);
	cr_assert_str_eq(rec_str(r, 2, "module"), "abcdefghijklmnopqrstuvwxyz0123\xef\xbf\xbd");
	cr_assert(strstr(text, "\\\"b\\\\s n\\nt\\t c\\u0001") != NULL, "%s", text);
	free(text);
	json_decref(back);
	json_decref(j);
}
