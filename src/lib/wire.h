/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Bounded cursor over untrusted bytes, with a sticky error.
 *
 * A reader (struct ap_wire) walks a byte buffer field by field. Every access is
 * checked against the buffer length; the first failed access records an error
 * in the cursor and from then on every read returns 0 (or NULL, or zeroed
 * bytes) and nothing advances. Callers therefore read a whole structure and
 * check ap_wire_ok() once at the end, instead of after each field.
 *
 * Multi-byte integers are read and written in network byte order and
 * returned in host order.
 *
 * A length-prefixed element (a TLV, a path attribute, an option) gets its own
 * sub-cursor from ap_wire_sub(), truncated to the declared length, so a
 * malformed element can neither read into its neighbour nor past the end.
 *
 * The writer (struct ap_wire_w) has the same shape over a mutable buffer: a
 * put that does not fit records an error and writes nothing.
 *
 * Everything is static inline and allocation-free; it is safe on the data
 * plane hot path.
 */
#ifndef AP_WIRE_H
#define AP_WIRE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/** Error recorded when a read needs more bytes than remain. */
#define AP_WIRE_ENODATA (-ENODATA)
/** Error recorded when a write does not fit in the output buffer. */
#define AP_WIRE_ENOSPC (-ENOSPC)
/** Error recorded by a seek outside the buffer. */
#define AP_WIRE_ERANGE (-ERANGE)

/** Reader over @c len bytes at @c p; @c off is the next byte to read. */
struct ap_wire {
	const uint8_t *p; /**< Start of the buffer (not owned). */
	uint32_t len;	  /**< Buffer length in bytes. */
	uint32_t off;	  /**< Read position, always <= len. */
	int err;	  /**< 0, or the first error met (negative errno). Sticky. */
};

/** Writer over @c len bytes at @c p; @c off is the next byte to write. */
struct ap_wire_w {
	uint8_t *p;   /**< Start of the output buffer (not owned). */
	uint32_t len; /**< Capacity in bytes. */
	uint32_t off; /**< Bytes written so far, always <= len. */
	int err;      /**< 0, or the first error met (negative errno). Sticky. */
};

/* ---------------------------------------------------------------- reader */

/**
 * Start reading @p len bytes at @p p.
 * @param w   cursor to initialise.
 * @param p   buffer; NULL gives an empty cursor.
 * @param len buffer length in bytes.
 */
static inline void
ap_wire_init(struct ap_wire *w, const void *p, uint32_t len)
{
	/* A NULL buffer becomes an empty one so no pointer arithmetic on NULL. */
	w->p = p ? (const uint8_t *)p : (const uint8_t *)"";
	w->len = p ? len : 0;
	w->off = 0;
	w->err = 0;
}

/**
 * Whether no error has been recorded.
 * @return true while every access so far was in bounds.
 */
static inline bool
ap_wire_ok(const struct ap_wire *w)
{
	return w->err == 0;
}

/**
 * Record an error in the cursor (first error wins) and stop it.
 * Parsers use it to report their own semantic errors through the same
 * sticky path (e.g. a reserved value in a field that was in bounds).
 * @param w   cursor.
 * @param err non-zero error code, conventionally a negative errno.
 */
static inline void
ap_wire_fail(struct ap_wire *w, int err)
{
	if (w->err == 0)
		w->err = err;
}

/**
 * Bytes left to read.
 * @return len - off, or 0 once an error is recorded.
 */
static inline uint32_t
ap_wire_avail(const struct ap_wire *w)
{
	return w->err ? 0 : w->len - w->off;
}

/**
 * Current read position from the start of the buffer.
 * @return the offset of the next byte to read.
 */
static inline uint32_t
ap_wire_tell(const struct ap_wire *w)
{
	return w->off;
}

/**
 * Internal: true when @p n more bytes can be read; records the error if not.
 * The comparison is written so that it cannot overflow.
 */
static inline bool
ap_wire__need(struct ap_wire *w, uint32_t n)
{
	if (w->err)
		return false;
	if (n > w->len - w->off) {
		w->err = AP_WIRE_ENODATA;
		return false;
	}
	return true;
}

/**
 * Read one byte.
 * @return the byte, or 0 on (or after) an error.
 */
static inline uint8_t
ap_wire_u8(struct ap_wire *w)
{
	if (!ap_wire__need(w, 1))
		return 0;
	return w->p[w->off++];
}

/**
 * Read a 16-bit network-order integer.
 * @return the value in host order, or 0 on (or after) an error.
 */
static inline uint16_t
ap_wire_u16(struct ap_wire *w)
{
	const uint8_t *b;

	if (!ap_wire__need(w, 2))
		return 0;
	b = w->p + w->off;
	w->off += 2;
	return (uint16_t)(b[0] << 8 | b[1]);
}

/**
 * Read a 32-bit network-order integer.
 * @return the value in host order, or 0 on (or after) an error.
 */
static inline uint32_t
ap_wire_u32(struct ap_wire *w)
{
	const uint8_t *b;

	if (!ap_wire__need(w, 4))
		return 0;
	b = w->p + w->off;
	w->off += 4;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/**
 * Read a 64-bit network-order integer.
 * @return the value in host order, or 0 on (or after) an error.
 */
static inline uint64_t
ap_wire_u64(struct ap_wire *w)
{
	const uint8_t *b;
	uint64_t v = 0;
	int i;

	if (!ap_wire__need(w, 8))
		return 0;
	b = w->p + w->off;
	w->off += 8;
	for (i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

/**
 * Copy @p n bytes into @p dst and advance.
 * On error @p dst is zero-filled, so it never holds stale or partial data.
 * @param w   cursor.
 * @param dst destination with room for @p n bytes.
 * @param n   bytes to copy.
 * @return true on success.
 */
static inline bool
ap_wire_bytes(struct ap_wire *w, void *dst, uint32_t n)
{
	if (!ap_wire__need(w, n)) {
		if (n)
			memset(dst, 0, n);
		return false;
	}
	if (n)
		memcpy(dst, w->p + w->off, n);
	w->off += n;
	return true;
}

/**
 * Skip @p n bytes.
 * @return true on success; false (and the error recorded) if fewer remain.
 */
static inline bool
ap_wire_skip(struct ap_wire *w, uint32_t n)
{
	if (!ap_wire__need(w, n))
		return false;
	w->off += n;
	return true;
}

/**
 * Borrow a pointer to the next @p n bytes and advance past them.
 * The pointer aliases the input buffer: valid as long as that buffer is.
 * @return the pointer, or NULL (error recorded) if fewer than @p n remain.
 */
static inline const uint8_t *
ap_wire_ptr(struct ap_wire *w, uint32_t n)
{
	const uint8_t *b;

	if (!ap_wire__need(w, n))
		return NULL;
	b = w->p + w->off;
	w->off += n;
	return b;
}

/**
 * Pointer to the read position, without advancing or checking a length.
 * Useful to remember where a structure started (e.g. for a checksum).
 * @return p + off, or NULL once an error is recorded.
 */
static inline const uint8_t *
ap_wire_cur(const struct ap_wire *w)
{
	return w->err ? NULL : w->p + w->off;
}

/**
 * Read one byte without advancing.
 * A peek past the end is an error like a read: the caller asked for a byte
 * that is not there.
 * @return the byte, or 0 on (or after) an error.
 */
static inline uint8_t
ap_wire_peek_u8(struct ap_wire *w)
{
	if (!ap_wire__need(w, 1))
		return 0;
	return w->p[w->off];
}

/**
 * Read a 16-bit network-order integer without advancing.
 * @return the value in host order, or 0 on (or after) an error.
 */
static inline uint16_t
ap_wire_peek_u16(struct ap_wire *w)
{
	const uint8_t *b;

	if (!ap_wire__need(w, 2))
		return 0;
	b = w->p + w->off;
	return (uint16_t)(b[0] << 8 | b[1]);
}

/**
 * Read a 32-bit network-order integer without advancing.
 * @return the value in host order, or 0 on (or after) an error.
 */
static inline uint32_t
ap_wire_peek_u32(struct ap_wire *w)
{
	const uint8_t *b;

	if (!ap_wire__need(w, 4))
		return 0;
	b = w->p + w->off;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/**
 * Split off the next @p n bytes as their own cursor and advance the parent
 * past them. The sub-cursor starts at offset 0 and cannot read beyond @p n.
 * If fewer than @p n bytes remain, the parent records the error and the
 * returned cursor is empty and carries the same error.
 * @param w parent cursor.
 * @param n declared length of the element.
 * @return the sub-cursor (by value).
 */
static inline struct ap_wire
ap_wire_sub(struct ap_wire *w, uint32_t n)
{
	struct ap_wire s = {.p = w->p, .len = 0, .off = 0, .err = 0};

	if (!ap_wire__need(w, n)) {
		s.err = w->err;
		return s;
	}
	s.p = w->p + w->off;
	s.len = n;
	w->off += n;
	return s;
}

/**
 * Move the read position to @p off from the start of the buffer.
 * @p off == len is allowed (nothing left to read).
 * @return true on success; false (AP_WIRE_ERANGE recorded) if @p off > len.
 */
static inline bool
ap_wire_seek(struct ap_wire *w, uint32_t off)
{
	if (w->err)
		return false;
	if (off > w->len) {
		w->err = AP_WIRE_ERANGE;
		return false;
	}
	w->off = off;
	return true;
}

/* ---------------------------------------------------------------- writer */

/**
 * Start writing into @p len bytes at @p p.
 * @param w   writer to initialise.
 * @param p   output buffer; NULL gives a writer with no room.
 * @param len capacity in bytes.
 */
static inline void
ap_wire_w_init(struct ap_wire_w *w, void *p, uint32_t len)
{
	static uint8_t empty;

	w->p = p ? (uint8_t *)p : &empty;
	w->len = p ? len : 0;
	w->off = 0;
	w->err = 0;
}

/**
 * Whether every write so far fitted.
 * @return true while no error is recorded.
 */
static inline bool
ap_wire_w_ok(const struct ap_wire_w *w)
{
	return w->err == 0;
}

/**
 * Record an error in the writer (first error wins).
 * @param w   writer.
 * @param err non-zero error code, conventionally a negative errno.
 */
static inline void
ap_wire_w_fail(struct ap_wire_w *w, int err)
{
	if (w->err == 0)
		w->err = err;
}

/**
 * Bytes written so far (the length of the encoded message).
 * @return the write position.
 */
static inline uint32_t
ap_wire_w_used(const struct ap_wire_w *w)
{
	return w->off;
}

/**
 * Room left in the output buffer.
 * @return len - off, or 0 once an error is recorded.
 */
static inline uint32_t
ap_wire_w_avail(const struct ap_wire_w *w)
{
	return w->err ? 0 : w->len - w->off;
}

/**
 * Internal: claim @p n bytes of output, or record the error.
 * @return where to write them, or NULL.
 */
static inline uint8_t *
ap_wire_w__take(struct ap_wire_w *w, uint32_t n)
{
	uint8_t *b;

	if (w->err)
		return NULL;
	if (n > w->len - w->off) {
		w->err = AP_WIRE_ENOSPC;
		return NULL;
	}
	b = w->p + w->off;
	w->off += n;
	return b;
}

/**
 * Reserve @p n bytes to be filled in later (e.g. a length known only at the
 * end) and advance past them. The bytes are left as they were.
 * @return a pointer to the reserved bytes, or NULL (error recorded).
 */
static inline uint8_t *
ap_wire_w_reserve(struct ap_wire_w *w, uint32_t n)
{
	return ap_wire_w__take(w, n);
}

/**
 * Append one byte.
 * @return true on success; false (AP_WIRE_ENOSPC recorded) if it does not fit.
 */
static inline bool
ap_wire_put_u8(struct ap_wire_w *w, uint8_t v)
{
	uint8_t *b = ap_wire_w__take(w, 1);

	if (b == NULL)
		return false;
	b[0] = v;
	return true;
}

/**
 * Append a 16-bit integer in network order.
 * @return true on success; false (error recorded) if it does not fit.
 */
static inline bool
ap_wire_put_u16(struct ap_wire_w *w, uint16_t v)
{
	uint8_t *b = ap_wire_w__take(w, 2);

	if (b == NULL)
		return false;
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
	return true;
}

/**
 * Append a 32-bit integer in network order.
 * @return true on success; false (error recorded) if it does not fit.
 */
static inline bool
ap_wire_put_u32(struct ap_wire_w *w, uint32_t v)
{
	uint8_t *b = ap_wire_w__take(w, 4);

	if (b == NULL)
		return false;
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
	return true;
}

/**
 * Append a 64-bit integer in network order.
 * @return true on success; false (error recorded) if it does not fit.
 */
static inline bool
ap_wire_put_u64(struct ap_wire_w *w, uint64_t v)
{
	uint8_t *b = ap_wire_w__take(w, 8);
	int i;

	if (b == NULL)
		return false;
	for (i = 7; i >= 0; i--) {
		b[i] = (uint8_t)v;
		v >>= 8;
	}
	return true;
}

/**
 * Append @p n bytes from @p src.
 * @return true on success; false (error recorded, nothing written) if they do
 *         not fit.
 */
static inline bool
ap_wire_put_bytes(struct ap_wire_w *w, const void *src, uint32_t n)
{
	uint8_t *b = ap_wire_w__take(w, n);

	if (b == NULL)
		return false;
	if (n)
		memcpy(b, src, n);
	return true;
}

/**
 * Append @p n zero bytes (padding, reserved fields).
 * @return true on success; false (error recorded) if they do not fit.
 */
static inline bool
ap_wire_put_zero(struct ap_wire_w *w, uint32_t n)
{
	uint8_t *b = ap_wire_w__take(w, n);

	if (b == NULL)
		return false;
	if (n)
		memset(b, 0, n);
	return true;
}

/**
 * Overwrite a 16-bit network-order integer at @p at, already written
 * (back-patch a length or count field). Does not move the write position.
 * @return true on success; false (AP_WIRE_ERANGE recorded) if @p at + 2 is
 *         beyond what was written, or after an earlier error.
 */
static inline bool
ap_wire_poke_u16(struct ap_wire_w *w, uint32_t at, uint16_t v)
{
	if (w->err)
		return false;
	if (at > w->off || w->off - at < 2) {
		w->err = AP_WIRE_ERANGE;
		return false;
	}
	w->p[at] = (uint8_t)(v >> 8);
	w->p[at + 1] = (uint8_t)v;
	return true;
}

#endif
