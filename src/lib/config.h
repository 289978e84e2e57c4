/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * AetherPacket configuration: the YAML file parsed into plain structs.
 *
 * No DPDK here. The loader validates the whole document (types, ranges,
 * references between objects) and reports the first error as
 * `file:line:col: message`, so `aetherd --check` and reload share one path.
 */
#ifndef AP_CONFIG_H
#define AP_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define AP_NAME_MAX	     32
#define AP_PATH_MAX	     256
#define AP_CFG_MAX_PORTS     32
#define AP_CFG_MAX_XCONNECTS AP_CFG_MAX_PORTS
#define AP_CFG_ERR_MAX	     512

/** Port driver kinds; `devargs` passes a DPDK device string through. */
enum ap_port_driver {
	AP_DRV_AF_PACKET,
	AP_DRV_AF_XDP,
	AP_DRV_PCAP,
	AP_DRV_TAP,
	AP_DRV_NULL,
	AP_DRV_RING,
	AP_DRV_DEVARGS,
};

/** How much of each received frame eth-input validates before forwarding. */
enum ap_port_validate {
	AP_VALIDATE_L2,	  /**< Ethernet and VLAN headers only (default). */
	AP_VALIDATE_FULL, /**< The whole header chain down to L4; malformed frames drop. */
};

/** Hugepage use for the EAL. */
enum ap_hugepages {
	AP_HUGE_AUTO, /**< Use hugepages when the system has free ones, else --no-huge. */
	AP_HUGE_ON,
	AP_HUGE_OFF,
};

struct ap_cfg_port {
	char name[AP_NAME_MAX];
	enum ap_port_driver driver;
	char iface[AP_NAME_MAX];   /**< af_packet, af_xdp: kernel interface; tap: tap name. */
	char rx_pcap[AP_PATH_MAX]; /**< pcap: capture to read (may be empty: tx only). */
	char tx_pcap[AP_PATH_MAX]; /**< pcap: capture to write (may be empty: rx only). */
	char devargs[AP_PATH_MAX]; /**< devargs: full DPDK device string or PCI address. */
	uint16_t rxq_size;	   /**< Descriptors per RX queue (default 1024). */
	uint16_t txq_size;	   /**< Descriptors per TX queue (default 1024). */
	uint16_t mtu;		   /**< 0: leave the driver's default. */
	enum ap_port_validate validate;
	uint32_t line; /**< Where the object starts in the file, for messages. */
	uint32_t col;
};

/** Bidirectional L2 cross-connect; a == b loops a port to itself. */
struct ap_cfg_xconnect {
	char a[AP_NAME_MAX];
	char b[AP_NAME_MAX];
	uint16_t a_idx; /**< Index into ap_config.ports, resolved by the loader. */
	uint16_t b_idx;
};

#define AP_CFG_MAX_IFACES AP_CFG_MAX_PORTS
#define AP_CFG_MAX_ADDRS 8
#define AP_CFG_MAX_ROUTES 1024

/** An IPv4 or IPv6 address with a prefix length; IPv4 in addr[0..3], network order. */
struct ap_cfg_prefix {
	uint8_t family; /**< 4 or 6. */
	uint8_t len;	/**< Prefix length (32/128 for a plain address). */
	uint8_t addr[16];
};

/** An L3 interface on a port: the router's addresses and connected subnets. */
struct ap_cfg_iface {
	char name[AP_NAME_MAX];
	char port[AP_NAME_MAX];
	uint16_t port_idx; /**< Index into ap_config.ports, resolved by the loader. */
	uint16_t mtu;	   /**< IP MTU; 0 means 1500. */
	struct ap_cfg_prefix addrs[AP_CFG_MAX_ADDRS];
	uint8_t n_addrs;
};

/** A static route: to 'via' (a neighbour on a connected subnet), or a blackhole. */
struct ap_cfg_route {
	struct ap_cfg_prefix prefix;
	struct ap_cfg_prefix via; /**< len 32/128; unused for a blackhole. */
	bool blackhole;
};

/**
 * Parse "192.0.2.1/24", "2001:db8::1/64", or a plain address (full-length
 * prefix when @p need_len is false). @return 0 or -EINVAL.
 */
int ap_cfg_prefix_parse(const char *s, bool need_len, struct ap_cfg_prefix *out);
/** Format @p p as "addr/len" (or "addr" when @p with_len is false). */
const char *ap_cfg_prefix_fmt(const struct ap_cfg_prefix *p, bool with_len, char *buf, size_t len);

struct ap_config {
	char path[AP_PATH_MAX]; /**< File it came from ("<built-in>" for the default). */

	/* dataplane: */
	uint16_t workers; /**< Worker lcores, each running one rte_graph (default 1). */
	uint32_t mbufs;	  /**< mbufs in the packet pool (default 16384). */
	bool node_cycles; /**< Per-node TSC cycle accounting (default false: costs cycles). */
	uint16_t burst;	  /**< RX burst size (default 32, max 256). */
	enum ap_hugepages hugepages;
	char eal_args[AP_PATH_MAX]; /**< Extra EAL arguments, space separated (expert use). */

	struct ap_cfg_port ports[AP_CFG_MAX_PORTS];
	uint16_t n_ports;
	struct ap_cfg_xconnect xconnects[AP_CFG_MAX_XCONNECTS];
	uint16_t n_xconnects;

	struct ap_cfg_iface ifaces[AP_CFG_MAX_IFACES];
	uint16_t n_ifaces;
	struct ap_cfg_route routes[AP_CFG_MAX_ROUTES];
	uint16_t n_routes;

	/* api: */
	char api_socket[AP_PATH_MAX]; /**< Unix socket path (default /run/aetherd/api.sock). */

	/* log: */
	char log_level[16]; /**< error, warning, info, debug (default info). */
	bool log_json;	    /**< One JSON object per line instead of text. */
};

/** Fill @p cfg with defaults (no ports). */
void ap_config_defaults(struct ap_config *cfg);

/**
 * Parse and validate the YAML file at @p path into @p cfg.
 *
 * @return 0 on success; on failure a negative errno with @p err holding
 *   "file:line:col: message" (-EINVAL: invalid content) or "file: message"
 *   (the file cannot be read: -ENOENT, -EACCES, -EFBIG...). @p cfg is only
 *   written on success. Relative pcap paths are made absolute against the
 *   directory of @p path.
 */
int ap_config_load_file(const char *path, struct ap_config *cfg, char err[AP_CFG_ERR_MAX]);

/**
 * Same as ap_config_load_file() over a buffer; @p name is used in messages
 * (and stored in ap_config.path). Relative pcap paths stay as given.
 */
int ap_config_load_buf(const char *name, const char *buf, size_t len, struct ap_config *cfg,
		       char err[AP_CFG_ERR_MAX]);

/** Fill @p port with the defaults of a new port (af_packet, queues of 1024, validate l2). */
void ap_config_port_defaults(struct ap_cfg_port *port);

/** Index of the port called @p name, or -1. */
int ap_config_port_index(const struct ap_config *cfg, const char *name);

const char *ap_port_driver_name(enum ap_port_driver d);

#endif
