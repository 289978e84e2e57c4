/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The bgp: section of the configuration, parsed apart from config.c so the
 * speaker's keys live next to each other. Only config.c calls it.
 */
#ifndef AP_CONFIG_BGP_PRIV_H
#define AP_CONFIG_BGP_PRIV_H

#include <yaml.h>

#include "lib/config.h"

/*
 * Parse node @p v of @p doc into @p out. On error returns -EINVAL with
 * "NAME:LINE:COL: message" in @p err.
 */
int ap_config_bgp_parse(const char *name, yaml_document_t *doc, const yaml_node_t *v,
			struct ap_cfg_bgp *out, char err[AP_CFG_ERR_MAX]);

#endif
