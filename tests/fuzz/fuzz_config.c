/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the YAML config loader: any bytes must give either a config that
 * holds the loader's invariants or one error line that starts with the file name.
 */
#include "lib/config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NAME "fuzz.yaml"

#include "fuzz.h"

static void
check(bool ok)
{
	if (!ok)
		abort();
}

static bool
terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[AP_CFG_ERR_MAX];
	struct ap_config cfg;
	int ret;

	memset(err, 'x', sizeof(err));
	ret = ap_config_load_buf(NAME, (const char *)data, size, &cfg, err);
	if (ret < 0) {
		check(terminated(err, sizeof(err)));
		check(strncmp(err, NAME ":", strlen(NAME) + 1) == 0);
		check(strchr(err, '\n') == NULL);
		return 0;
	}
	check(ret == 0);
	check(cfg.workers >= 1 && cfg.workers <= 64);
	check(cfg.burst >= 1 && cfg.burst <= 256);
	check(cfg.n_ports <= AP_CFG_MAX_PORTS);
	check(cfg.n_xconnects <= AP_CFG_MAX_XCONNECTS);
	check(terminated(cfg.eal_args, sizeof(cfg.eal_args)));
	check(terminated(cfg.api_socket, sizeof(cfg.api_socket)) && cfg.api_socket[0] != '\0');
	for (int i = 0; i < cfg.n_ports; i++) {
		const struct ap_cfg_port *p = &cfg.ports[i];

		check(terminated(p->name, sizeof(p->name)) && p->name[0] != '\0');
		check(terminated(p->iface, sizeof(p->iface)));
		check(terminated(p->rx_pcap, sizeof(p->rx_pcap)));
		check(terminated(p->tx_pcap, sizeof(p->tx_pcap)));
		check(terminated(p->devargs, sizeof(p->devargs)));
		check(ap_config_port_index(&cfg, p->name) == i);
		check(p->rxq_size >= 64 && (p->rxq_size & (p->rxq_size - 1)) == 0);
		check(p->txq_size >= 64 && (p->txq_size & (p->txq_size - 1)) == 0);
		check(strcmp(ap_port_driver_name(p->driver), "?") != 0);
		if (p->driver == AP_DRV_PCAP)
			check(p->rx_pcap[0] != '\0' || p->tx_pcap[0] != '\0');
		if (p->driver == AP_DRV_AF_PACKET || p->driver == AP_DRV_AF_XDP)
			check(p->iface[0] != '\0');
	}
	for (int i = 0; i < cfg.n_xconnects; i++) {
		const struct ap_cfg_xconnect *x = &cfg.xconnects[i];

		check(x->a_idx < cfg.n_ports && x->b_idx < cfg.n_ports);
		check(strcmp(cfg.ports[x->a_idx].name, x->a) == 0);
		check(strcmp(cfg.ports[x->b_idx].name, x->b) == 0);
	}
	return 0;
}
