/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Structured logger for the control plane.
 *
 * One record per line, either text:
 *
 *     2026-11-25T14:53:38.123Z info  [bgp] session up peer=192.0.2.1
 *
 * or one JSON object per line:
 *
 *     {"ts":"2026-11-25T14:53:38.123Z","level":"info","module":"bgp","msg":"session up",
 *      "peer":"192.0.2.1"}
 *
 * Each module can have its own level; modules without one use the default
 * level. A record is built in a local buffer and written with a single
 * fwrite(), so lines from a few threads do not interleave.
 *
 * Never call this from the packet path: it formats, takes a lock and writes.
 */
#ifndef AP_LOG_H
#define AP_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* jansson's object type; declared here so that users of the logger need not include it. */
struct json_t;

/** Severity, most severe first; a record passes when its level <= the module's level. */
enum ap_log_level {
	AP_LOG_LEVEL_ERROR,
	AP_LOG_LEVEL_WARNING,
	AP_LOG_LEVEL_INFO,
	AP_LOG_LEVEL_DEBUG,
};

/** Output format. */
enum ap_log_format {
	AP_LOG_FORMAT_TEXT, /**< `TS LEVEL [module] message key=value` (default). */
	AP_LOG_FORMAT_JSON, /**< One JSON object per line. */
};

/** One structured field of a record; @p value is printed as a string. */
struct ap_log_field {
	const char *key;
	const char *value;
};

/** Longest module name kept in the per-module level table (longer names are refused). */
#define AP_LOG_MODULE_MAX 32
/** Number of modules that can have their own level. */
#define AP_LOG_MAX_MODULES 64
/** Longest formatted message; longer ones are truncated. */
#define AP_LOG_MSG_MAX 1024
/** Number of recent records kept in memory for ap_log_recent_json(). */
#define AP_LOG_RECENT_MAX 1000

/**
 * Parse a level name ("error", "warning", "info", "debug"; "warn" and "err" are
 * accepted as aliases).
 * @return the level, or -EINVAL.
 */
int ap_log_level_parse(const char *name);

/** Name of @p level ("error", "warning", "info", "debug"), or "?" when out of range. */
const char *ap_log_level_name(enum ap_log_level level);

/**
 * Parse a format name ("text" or "json").
 * @return the format, or -EINVAL.
 */
int ap_log_format_parse(const char *name);

/**
 * Set the level of @p module, or the default level when @p module is NULL.
 * @return 0, -EINVAL (bad level or module name) or -ENOSPC (module table full).
 */
int ap_log_set_level(const char *module, enum ap_log_level level);

/** Level in force for @p module (its own, else the default). */
enum ap_log_level ap_log_get_level(const char *module);

/** Forget every per-module level and set the default back to info. */
void ap_log_reset_levels(void);

/** Choose the output format (default text). */
void ap_log_set_format(enum ap_log_format format);

/** Write records to @p out; NULL means stderr (the default). The caller keeps ownership. */
void ap_log_set_output(FILE *out);

/** True when a record of @p level from @p module would be written. */
bool ap_log_enabled(enum ap_log_level level, const char *module);

/** Log a printf-style message. */
void ap_log(enum ap_log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * Log a printf-style message with @p n_fields structured fields, printed as
 * `key=value` in text (quoted when needed) and as extra members in JSON.
 * Fields whose key is NULL are skipped; a NULL value prints as an empty string.
 */
void ap_log_fields(enum ap_log_level level, const char *module, const struct ap_log_field *fields,
		   size_t n_fields, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/**
 * The most recent records written (at most AP_LOG_RECENT_MAX are kept, in a
 * ring allocated on first use), as
 * `{"records":[{"ts":"2026-11-25T14:53:38.123Z","level":"info","module":"bgp","msg":"..."}]}`,
 * oldest first, newest last. Structured fields are not kept.
 *
 * @param max at most this many records (the newest ones); 0 means all kept.
 * @param min_level only records at this level or more severe (a value past
 *        AP_LOG_LEVEL_DEBUG keeps every level).
 * @param module only records of this module; NULL for all.
 * @return a new reference, or NULL when out of memory.
 */
struct json_t *ap_log_recent_json(unsigned max, int min_level, const char *module);

/** Forget every record kept for ap_log_recent_json(). */
void ap_log_recent_clear(void);

#define AP_LOG_ERR(mod, ...)   ap_log(AP_LOG_LEVEL_ERROR, mod, __VA_ARGS__)
#define AP_LOG_WARN(mod, ...)  ap_log(AP_LOG_LEVEL_WARNING, mod, __VA_ARGS__)
#define AP_LOG_INFO(mod, ...)  ap_log(AP_LOG_LEVEL_INFO, mod, __VA_ARGS__)
#define AP_LOG_DEBUG(mod, ...) ap_log(AP_LOG_LEVEL_DEBUG, mod, __VA_ARGS__)

/**
 * Format an error message into @p err (@p len bytes) and return @p rc: for
 * functions that report failures as a negative errno plus a message.
 */
int ap_errf(char *err, size_t len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
