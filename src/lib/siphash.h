/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit hash that an
 * attacker who sees outputs cannot forge, for SYN cookies and anything else
 * an outsider must not predict.
 */
#ifndef AP_SIPHASH_H
#define AP_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/** SipHash-2-4 of @p len bytes at @p data under the 16-byte key @p key. */
uint64_t ap_siphash24(const uint8_t key[16], const void *data, size_t len);

#endif
