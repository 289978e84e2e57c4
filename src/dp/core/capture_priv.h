/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal to dp/core: capture control used by dp.c. */
#ifndef AP_DP_CAPTURE_PRIV_H
#define AP_DP_CAPTURE_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int ap_capture_start(uint16_t port, const char *port_name, const char *file, uint64_t count,
		     uint8_t dirs, const char *filter, char *err, size_t err_len);
void ap_capture_stop(void);
void ap_capture_poll(void);
json_t *ap_capture_json(void);
void ap_capture_fini(void);

#endif
