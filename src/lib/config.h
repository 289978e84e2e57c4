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
	AP_VALIDATE_NONE, /**< A whole Ethernet header only (cross-connected ports only). */
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
	/** null: capture whose frames are written, round-robin, into every received mbuf. */
	char rx_template[AP_PATH_MAX];
	uint16_t rxq_size;	   /**< Descriptors per RX queue (default 1024). */
	uint16_t txq_size;	   /**< Descriptors per TX queue (default 1024). */
	uint16_t mtu;		   /**< 0: leave the driver's default. */
	enum ap_port_validate validate;
	/**
	 * af_packet: the kernel's own stack still sees the frames the port
	 * receives and runs IPv6 on the interface (default false: the port
	 * keeps it off, see dp/core/port_claim.h).
	 */
	bool kernel_stack;
	/**
	 * af_xdp: the worker's polls run the interface's receive work
	 * (preferred busy polling, default true; see dp/core/port_claim.h).
	 */
	bool busy_poll;
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
/**
 * An L3 interface: on a port (untagged frames), on a VLAN of a port (a
 * sub-interface: frames tagged @c vlan, and @c inner_vlan inside it for
 * QinQ), or on a bridge (its bridge-virtual interface).
 */
struct ap_cfg_iface {
	char name[AP_NAME_MAX];
	char port[AP_NAME_MAX];	  /**< Empty for a bridge interface. */
	char bridge[AP_NAME_MAX]; /**< Empty for a port or VLAN interface. */
	uint16_t port_idx;	  /**< Index into ap_config.ports, resolved by the loader. */
	uint16_t bridge_idx;	  /**< Index into ap_config.bridges, resolved by the loader. */
	uint16_t vlan;		  /**< 0: untagged; else the (outer) VLAN id, 1..4094. */
	uint16_t inner_vlan;	  /**< QinQ: the inner VLAN id, 0 when single-tagged. */
	uint16_t mtu;	   /**< IP MTU; 0 means 1500. */
	struct ap_cfg_prefix addrs[AP_CFG_MAX_ADDRS];
	uint8_t n_addrs;
	bool no_punt; /**< punt: false — no kernel TAP mirror for this interface. */
	bool ra;      /**< Send IPv6 router advertisements (RFC 4861 §6.2). */
	uint16_t ra_interval; /**< Seconds between unsolicited RAs (default 30). */
};

#define AP_CFG_MAX_ECMP 8

/**
 * A static route: to one or more next hops (neighbours on connected subnets;
 * several share the traffic by flow hash, ECMP), or a blackhole.
 */
struct ap_cfg_route {
	struct ap_cfg_prefix prefix;
	struct ap_cfg_prefix via[AP_CFG_MAX_ECMP]; /**< len 32/128; unused for a blackhole. */
	uint8_t n_via;
	bool blackhole;
};

#define AP_CFG_MAX_NEIGHBORS 256

/** A static neighbour (permanent ARP / neighbour cache entry). */
struct ap_cfg_neighbor {
	char iface[AP_NAME_MAX];
	uint16_t iface_idx; /**< Index into ap_config.ifaces, resolved by the loader. */
	struct ap_cfg_prefix addr; /**< len 32/128. */
	uint8_t mac[6];
};

/**
 * Parse "192.0.2.1/24", "2001:db8::1/64", or a plain address (full-length
 * prefix when @p need_len is false). @return 0 or -EINVAL.
 */
int ap_cfg_prefix_parse(const char *s, bool need_len, struct ap_cfg_prefix *out);
/** Format @p p as "addr/len" (or "addr" when @p with_len is false). */
const char *ap_cfg_prefix_fmt(const struct ap_cfg_prefix *p, bool with_len, char *buf, size_t len);
/** True when address @p a (network order, 4 or 16 bytes by @p family 4 or 6) is in @p p. */
bool ap_cfg_prefix_has(const struct ap_cfg_prefix *p, uint8_t family, const uint8_t *a);

#define AP_CFG_MAX_BRIDGES	  16
#define AP_CFG_BRIDGE_MAX_MEMBERS 32
#define AP_CFG_BRIDGE_MAX_STATIC  64

/**
 * A bridge member: untagged frames of a port (an access port), or the frames
 * of one VLAN on it (a trunk carries several VLANs, each in its bridge;
 * @c inner_vlan makes it QinQ: S-tag @c vlan, C-tag @c inner_vlan). Tags
 * are taken off on the way in and put on on the way out, so members on
 * different VLANs can share one bridge.
 */
struct ap_cfg_bridge_member {
	char port[AP_NAME_MAX];
	uint16_t port_idx; /**< Resolved by the loader. */
	uint16_t vlan;	   /**< 0: untagged frames. */
	uint16_t inner_vlan;
	uint32_t learn_limit; /**< MACs learned on this member at most (default: the bridge's). */
	bool has_learn_limit;
	uint32_t line, col;
};

/** A static MAC on a bridge member: never aged, never moved. */
struct ap_cfg_static_mac {
	uint8_t mac[6];
	char port[AP_NAME_MAX];
	uint16_t vlan, inner_vlan;
	uint16_t member; /**< Index into the bridge's members, resolved by the loader. */
	uint32_t line, col;
};

/** A bridge domain (bridges[]). */
struct ap_cfg_bridge {
	char name[AP_NAME_MAX];
	uint32_t mac_age;     /**< Seconds a learned MAC lives unseen (default 300; 0: never). */
	uint32_t learn_limit; /**< Default per-member learn limit (default 4096). */
	bool flood;	      /**< Flood unknown unicast (default true). */
	bool learn;	      /**< Learn source MACs (default true). */
	struct ap_cfg_bridge_member members[AP_CFG_BRIDGE_MAX_MEMBERS];
	uint16_t n_members;
	struct ap_cfg_static_mac static_macs[AP_CFG_BRIDGE_MAX_STATIC];
	uint16_t n_static;
	uint32_t line, col;
};

/** The conntrack: section (connection tracking of routed traffic). */
struct ap_cfg_ct {
	bool enabled;	    /**< The section is present (and not enabled: false). */
	uint32_t max_flows; /**< Per worker (default 65536). */
	bool tcp_loose;	    /**< Pick up TCP connections from the middle (default false). */
	bool tcp_liberal;   /**< Track TCP windows, never mark a segment invalid for them. */
	bool events;	    /**< NEW/DESTROY events to the control plane (default false). */
	uint32_t tcp_max_retrans; /**< Retransmissions before the short timeout (default 3). */
	bool drop_invalid;  /**< Drop what conntrack finds invalid (default false). */
	/* Timeouts in seconds, as netfilter's defaults. */
	uint32_t t_syn_sent, t_syn_recv, t_established, t_fin_wait, t_close_wait, t_last_ack;
	uint32_t t_time_wait, t_close, t_udp, t_udp_stream, t_icmp, t_generic;
	uint32_t t_max_retrans, t_unack;
};

#define AP_CFG_FW_MAX_ZONES    16
#define AP_CFG_FW_ZONE_IFACES  16
#define AP_CFG_FW_MAX_SETS     32
#define AP_CFG_FW_SET_MAX      64
#define AP_CFG_FW_MAX_RULES    1024
#define AP_CFG_FW_MAX_POLICIES 64

/** Firewall actions. */
enum ap_fw_action {
	AP_FW_ACCEPT,
	AP_FW_DROP,
	AP_FW_REJECT, /**< TCP RST, or ICMP administratively prohibited. */
};

/** firewall.zones[]: interfaces that share a policy. */
struct ap_cfg_fw_zone {
	char name[AP_NAME_MAX];
	char ifaces[AP_CFG_FW_ZONE_IFACES][AP_NAME_MAX];
	uint8_t n_ifaces;
	uint32_t line, col;
};

/** Set items in a firewall section: the named sets' and one per inline value. */
#define AP_CFG_FW_MAX_ITEMS (AP_CFG_FW_MAX_SETS * AP_CFG_FW_SET_MAX + 4 * AP_CFG_FW_MAX_RULES)

/** firewall.sets[]: named addresses (prefixes) or ports (ranges). Its items
 * are ap_cfg_fw.addrs (or port_lo, port_hi) [first, first + n). */
struct ap_cfg_fw_set {
	char name[AP_NAME_MAX];
	bool ports; /**< A port set; else an address set. */
	uint8_t n;
	uint16_t first;
};

/** Zone ids in rules and policies beside the zones' indexes. */
#define AP_FW_ZONE_ANY	0xff
#define AP_FW_ZONE_SELF 0xfe /**< The appliance itself. */

/** ct_state bits of a rule (any when 0). */
#define AP_FW_CT_NEW	     (1u << 0)
#define AP_FW_CT_ESTABLISHED (1u << 1)
#define AP_FW_CT_RELATED     (1u << 2)
#define AP_FW_CT_INVALID     (1u << 3)
#define AP_FW_CT_UNTRACKED   (1u << 4)

/** firewall.rules[]: every key given must match; the first matching rule decides. */
struct ap_cfg_fw_rule {
	char from[AP_NAME_MAX], to[AP_NAME_MAX]; /**< Zone names, "any" or "self". */
	uint8_t from_zone, to_zone;		 /**< Resolved. */
	char iif[AP_NAME_MAX], oif[AP_NAME_MAX]; /**< Interface names, empty: any. */
	int16_t iif_idx, oif_idx;		 /**< Resolved interface index, -1: any. */
	uint8_t proto;				 /**< 0: any. */
	int16_t icmp_type;			 /**< -1: any. */
	uint8_t ct_state;			 /**< AP_FW_CT_* bits, 0: any. */
	int16_t dscp;				 /**< DSCP (0-63), -1: any. */
	/* Each is a set's index, or -1: any. Inline values become anonymous sets. */
	int16_t src, dst, sport, dport;
	/* As written: a set's name, an address or prefix, a port or "lo-hi". */
	char src_s[48], dst_s[48];
	char sport_s[48], dport_s[48];
	enum ap_fw_action action;
	bool log; /**< Log the packets it decides (rate-limited), then act. */
	char comment[64];
	uint32_t line, col;
};

/** firewall.policies[]: the action when no rule matched, per zone pair. */
struct ap_cfg_fw_policy {
	char from[AP_NAME_MAX], to[AP_NAME_MAX];
	uint8_t from_zone, to_zone;
	enum ap_fw_action action;
	uint32_t line, col;
};

/** The firewall: section. */
struct ap_cfg_fw {
	bool enabled;
	enum ap_fw_action default_action; /**< No rule, no policy (default drop). */
	uint32_t log_rate;		  /**< Log records per second and worker (default 100). */
	struct ap_cfg_fw_zone zones[AP_CFG_FW_MAX_ZONES];
	uint16_t n_zones;
	/* Named sets first, then the anonymous ones of inline rule values. */
	struct ap_cfg_fw_set sets[AP_CFG_FW_MAX_SETS + 4 * AP_CFG_FW_MAX_RULES];
	uint16_t n_sets;
	/* The sets' items; a set's are consecutive. */
	struct ap_cfg_prefix addrs[AP_CFG_FW_MAX_ITEMS];
	uint16_t port_lo[AP_CFG_FW_MAX_ITEMS], port_hi[AP_CFG_FW_MAX_ITEMS];
	uint16_t n_items;
	struct ap_cfg_fw_policy policies[AP_CFG_FW_MAX_POLICIES];
	uint16_t n_policies;
	struct ap_cfg_fw_rule rules[AP_CFG_FW_MAX_RULES];
	uint16_t n_rules;
};

#define AP_CFG_NAT_MAX_MASQ 8

/** nat.masquerade[]: IPv4 flows leaving this interface take its address. */
struct ap_cfg_nat_masq {
	char iface[AP_NAME_MAX];
	uint16_t iface_idx; /**< Resolved. */
	char ports[24];	    /**< As written, default "1024-65535". */
	uint16_t port_lo, port_hi;
	bool eim; /**< mapping: endpoint-independent (RFC 4787 4.1), else per flow. */
	uint32_t line, col;
};

#define AP_CFG_NAT_MAX_FWD 64

/** nat.forward[]: a port of an interface's address forwarded to an inside host. */
struct ap_cfg_nat_fwd {
	char iface[AP_NAME_MAX];
	uint16_t iface_idx; /**< Resolved. */
	uint8_t proto;	    /**< 6 or 17. */
	uint16_t port;	    /**< Host order, the port on the interface's address. */
	struct ap_cfg_prefix to;
	uint16_t to_port; /**< Host order; 0: the same port. */
	uint32_t line, col;
};

#define AP_CFG_NAT_MAX_ONE 64

/** nat.one_to_one[]: an inside host's own outside address on an interface. */
struct ap_cfg_nat_one {
	char iface[AP_NAME_MAX];
	uint16_t iface_idx; /**< Resolved. */
	struct ap_cfg_prefix internal, external;
	uint32_t line, col;
};

/** The nat: section. */
struct ap_cfg_nat {
	bool enabled;
	bool hairpin; /**< Default true: forwards apply from inside too (NAT reflection). */
	struct ap_cfg_nat_one one[AP_CFG_NAT_MAX_ONE];
	uint16_t n_one;
	struct ap_cfg_nat_masq masq[AP_CFG_NAT_MAX_MASQ];
	uint16_t n_masq;
	struct ap_cfg_nat_fwd fwd[AP_CFG_NAT_MAX_FWD];
	uint16_t n_fwd;
};

#define AP_CFG_SYN_MAX_PROTECT 32

/** synproxy.protect[]: destinations (and a port range) the SYN proxy guards. */
struct ap_cfg_syn_protect {
	struct ap_cfg_prefix prefix;
	char ports[24];		   /**< As written; default all ("1-65535"). */
	uint16_t port_lo, port_hi; /**< Host order. */
};

/** The synproxy: section (SYN-flood protection of TCP servers behind us). */
struct ap_cfg_syn {
	bool enabled;
	struct ap_cfg_syn_protect protect[AP_CFG_SYN_MAX_PROTECT];
	uint16_t n_protect;
	bool always;	       /**< Proxy every new connection, armed or not (default false). */
	uint32_t mss;	       /**< MSS we announce to clients (default 1460). */
	uint32_t wscale;       /**< Window scale we announce: the servers' own (default 7). */
	uint32_t syn_rate;     /**< SYNs per second to one destination that arm it (1000). */
	uint32_t half_open;    /**< Half-open connections to one destination that arm it (1000). */
	uint32_t disarm_after; /**< Seconds of calm before disarming (10). */
	uint32_t source_rate;  /**< New connections per second per source; 0: no limit. */
	uint32_t source_burst; /**< Bucket depth (default: twice the rate). */
	uint32_t block_time;   /**< Seconds an offending source stays blocked (60). */
};

#define AP_CFG_QOS_MAX_CLASSES	64
#define AP_CFG_QOS_MAX_POLICERS 32
#define AP_CFG_QOS_MAX_IFACES	16
/** A DSCP value left unset (any, or no remarking). */
#define AP_QOS_DSCP_NONE 0xffff

/** Policer kinds: RFC 2697 single-rate and RFC 2698 two-rate three-colour markers. */
enum ap_qos_meter {
	AP_QOS_SRTCM,
	AP_QOS_TRTCM,
};

/** What a policer does with a packet of a colour. */
enum ap_qos_action {
	AP_QOS_TRANSMIT,
	AP_QOS_DROP,
	AP_QOS_REMARK, /**< Transmit with the colour's DSCP. */
};

/** qos.policers[]: a meter with an action for yellow (exceed) and red (violate) packets. */
struct ap_cfg_qos_policer {
	char name[AP_NAME_MAX];
	enum ap_qos_meter type;
	uint64_t cir, pir;		    /**< Bit/s (pir: trtcm only). */
	uint64_t cbs, ebs, pbs;		    /**< Bytes (ebs: srtcm, pbs: trtcm). */
	enum ap_qos_action exceed, violate; /**< Default drop, drop. */
	uint16_t exceed_dscp, violate_dscp; /**< For remark, else AP_QOS_DSCP_NONE. */
	uint32_t line, col;
};

/** qos.interfaces[]: the egress rate of an interface, shared by its shaped classes. */
struct ap_cfg_qos_iface {
	char name[AP_NAME_MAX];
	uint16_t iface_idx; /**< Resolved. */
	uint64_t rate;	    /**< Bit/s. */
	uint64_t burst;	    /**< Bytes; 0: derived from the rate. */
	uint32_t line, col;
};

/** qos.classes[]: what a class matches (every key given must match; the first class
 * that matches takes the packet) and what it does with it. */
struct ap_cfg_qos_class {
	char name[AP_NAME_MAX];
	/* match: */
	char in[AP_NAME_MAX], out[AP_NAME_MAX]; /**< Interface names; empty: any. */
	int16_t in_idx, out_idx;		/**< Resolved config indexes; -1: any. */
	char src_s[48], dst_s[48];
	struct ap_cfg_prefix src, dst; /**< Valid when src_s / dst_s is set. */
	char sport_s[16], dport_s[16];
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	uint8_t proto; /**< 0: any. */
	uint16_t dscp; /**< AP_QOS_DSCP_NONE: any. */
	/* actions: */
	uint64_t rate;	   /**< Guaranteed bit/s; 0: not shaped (no queue). */
	uint64_t ceil;	   /**< Most bit/s when borrowing; default the rate. */
	uint64_t burst;	   /**< Bytes; 0: derived from the rate. */
	uint32_t weight;   /**< Share of spare rate among borrowing classes (default 1). */
	uint32_t queue;	   /**< Queue length in packets (default 256). */
	uint16_t set_dscp; /**< Remark to this DSCP; AP_QOS_DSCP_NONE: keep. */
	char policer[AP_NAME_MAX];
	int16_t policer_idx; /**< Resolved; -1: none. */
	uint64_t host_rate;  /**< host_limit: bit/s per host; 0: none. */
	uint64_t host_burst; /**< host_limit: bytes. */
	int host_by;	     /**< host_limit: 0 source address, 1 destination address. */
	uint32_t line, col;
};

/** The qos: section. */
struct ap_cfg_qos {
	bool enabled;
	uint32_t host_table; /**< Hosts tracked per class with a host limit, per worker. */
	struct ap_cfg_qos_iface ifaces[AP_CFG_QOS_MAX_IFACES];
	uint16_t n_ifaces;
	struct ap_cfg_qos_policer policers[AP_CFG_QOS_MAX_POLICERS];
	uint16_t n_policers;
	struct ap_cfg_qos_class classes[AP_CFG_QOS_MAX_CLASSES];
	uint16_t n_classes;
};

#define AP_CFG_BGP_MAX_NEIGHBORS 64
#define AP_CFG_BGP_MAX_NETWORKS	 256
#define AP_CFG_ADDR_MAX		 48

/** A BGP neighbour (bgp.neighbors[]). */
struct ap_cfg_bgp_neighbor {
	char address[AP_CFG_ADDR_MAX]; /**< Peer address as written. */
	uint8_t addr[16];	       /**< Parsed, network order; IPv4 in the first 4 bytes. */
	bool v6;		       /**< Address family of @c addr. */
	uint32_t remote_as;
	uint16_t port;		 /**< Peer's TCP port (default 179). */
	bool passive;		 /**< Never connect, only accept (default false). */
	uint16_t hold_time;	 /**< Seconds offered (default 90; 0 or 3..65535). */
	uint16_t connect_retry;	 /**< Seconds between connection attempts (default 120). */
	char import[AP_NAME_MAX]; /**< "all", "none", a policy name, or empty (RFC 8212 default). */
	char export[AP_NAME_MAX];
	bool families[2];	    /**< ipv4, ipv6 (default: ipv4 and ipv6). */
	bool rr_client;		    /**< Route-reflector client (iBGP only). */
	char next_hop_v6[AP_CFG_ADDR_MAX]; /**< IPv6 next hop to send when we are the next hop. */
	uint32_t line, col;
};

#define AP_CFG_BGP_MAX_PLISTS	 16
#define AP_CFG_BGP_MAX_PLIST_LEN 32
#define AP_CFG_BGP_MAX_POLICIES	 16
#define AP_CFG_BGP_MAX_RULES	 16
#define AP_CFG_BGP_MAX_COMM_SET	 8

/** bgp.prefix_lists[].entries[]: a prefix and the lengths it covers (ge/le as in FRR). */
struct ap_cfg_bgp_pfx_entry {
	char prefix[AP_CFG_ADDR_MAX];
	uint8_t ge, le; /**< 0 when not given. */
};

/** bgp.prefix_lists[]. */
struct ap_cfg_bgp_plist {
	char name[AP_NAME_MAX];
	struct ap_cfg_bgp_pfx_entry e[AP_CFG_BGP_MAX_PLIST_LEN];
	uint16_t n;
};

/** bgp.policies[].rules[]: matches (all present must hold), then the action. */
struct ap_cfg_bgp_rule {
	char prefix_list[AP_NAME_MAX]; /**< Empty: any prefix. */
	char as_path[128];	       /**< Regular expression; empty: any path. */
	bool has_community;
	uint32_t community;
	bool has_large;
	uint32_t large[3];
	bool accept;
	bool set_local_pref;
	uint32_t local_pref;
	bool set_med;
	uint32_t med;
	bool set_next_hop;
	uint32_t next_hop; /**< IPv4, host order. */
	uint32_t comm_add[AP_CFG_BGP_MAX_COMM_SET];
	uint8_t n_comm_add;
	uint32_t comm_del[AP_CFG_BGP_MAX_COMM_SET];
	uint8_t n_comm_del;
	uint8_t prepend;
};

/** bgp.policies[]: rules in order, first match decides, no match rejects. */
struct ap_cfg_bgp_policy {
	char name[AP_NAME_MAX];
	struct ap_cfg_bgp_rule r[AP_CFG_BGP_MAX_RULES];
	uint16_t n;
};

/** The bgp: section. */
struct ap_cfg_bgp {
	bool enabled; /**< The section is present. */
	uint32_t asn;
	uint32_t router_id; /**< Host order. */
	char listen_address[AP_CFG_ADDR_MAX]; /**< Default 0.0.0.0; "none" disables listening. */
	uint16_t listen_port;		      /**< Default 179. */
	bool always_compare_med;
	uint32_t cluster_id; /**< Route reflection; 0: the router id. */
	struct ap_cfg_bgp_neighbor neighbors[AP_CFG_BGP_MAX_NEIGHBORS];
	uint16_t n_neighbors;
	/** Prefixes originated by this speaker ("192.0.2.0/24"). */
	char networks[AP_CFG_BGP_MAX_NETWORKS][AP_CFG_ADDR_MAX];
	uint16_t n_networks;
	struct ap_cfg_bgp_plist plists[AP_CFG_BGP_MAX_PLISTS];
	uint16_t n_plists;
	struct ap_cfg_bgp_policy policies[AP_CFG_BGP_MAX_POLICIES];
	uint16_t n_policies;
};

struct ap_config {
	char path[AP_PATH_MAX]; /**< File it came from ("<built-in>" for the default). */

	/* dataplane: */
	uint16_t workers; /**< Worker lcores, each running one rte_graph (default 1). */
	uint32_t mbufs;	  /**< mbufs in the packet pool (default 16384). */
	bool node_cycles; /**< Per-node TSC cycle accounting (default false: costs cycles). */
	uint16_t neigh_reachable_s; /**< Seconds before a neighbour is re-confirmed (default 30). */
	uint16_t burst;	  /**< RX burst size (default 32, max 256). */
	/** Microseconds a worker sleeps when its graph walks find no work (0:
	 *  busy-poll, the default). */
	uint16_t poll_sleep_us;
	enum ap_hugepages hugepages;
	char eal_args[AP_PATH_MAX]; /**< Extra EAL arguments, space separated (expert use). */
	/** FIB sizes (dataplane.fib4, dataplane.fib6): routes each holds and tbl8
	 *  groups (256 next-hop entries each) for its prefixes longer than /24. */
	struct ap_cfg_fib {
		uint32_t max_routes;
		uint32_t tbl8;
	} fib4, fib6;

	struct ap_cfg_port ports[AP_CFG_MAX_PORTS];
	uint16_t n_ports;
	struct ap_cfg_xconnect xconnects[AP_CFG_MAX_XCONNECTS];
	uint16_t n_xconnects;

	struct ap_cfg_bridge bridges[AP_CFG_MAX_BRIDGES];
	uint16_t n_bridges;
	uint32_t mac_table_size; /**< MAC entries over all bridges (default 65536). */

	struct ap_cfg_iface ifaces[AP_CFG_MAX_IFACES];
	uint16_t n_ifaces;
	struct ap_cfg_route routes[AP_CFG_MAX_ROUTES];
	uint16_t n_routes;
	struct ap_cfg_neighbor neighbors[AP_CFG_MAX_NEIGHBORS];
	uint16_t n_neighbors;

	/* api: */
	char api_socket[AP_PATH_MAX]; /**< Unix socket path (default /run/aetherd/api.sock). */
	/** TCP listener: "ADDR:PORT", "[ADDR6]:PORT" or "none" (default 127.0.0.1:8080). */
	char api_listen[64];
	char api_token_file[AP_PATH_MAX]; /**< Bearer token (default /var/lib/aetherd/api.token). */
	char api_tls_cert[AP_PATH_MAX];	  /**< PEM certificate: HTTPS on TCP (with api_tls_key). */
	char api_tls_key[AP_PATH_MAX];	  /**< PEM private key. */
	char api_web_root[AP_PATH_MAX];	  /**< Dashboard files; empty: the installed ones. */

	/* log: */
	char log_level[16]; /**< error, warning, info, debug (default info). */
	bool log_json;	    /**< One JSON object per line instead of text. */

	/* conntrack: */
	struct ap_cfg_ct conntrack;

	/* firewall: */
	struct ap_cfg_fw firewall;

	/* nat: */
	struct ap_cfg_nat nat;

	/* synproxy: */
	struct ap_cfg_syn synproxy;
	/* qos: */
	struct ap_cfg_qos qos;

	/* bgp: */
	struct ap_cfg_bgp bgp;
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

/** Index of the bridge called @p name, or -1. */
int ap_config_bridge_index(const struct ap_config *cfg, const char *name);

/** Parse "02:00:5e:00:53:01" into @p mac. @return 0 or -EINVAL. */
int ap_cfg_mac_parse(const char *s, uint8_t mac[6]);

/** Index of the port called @p name, or -1. */
int ap_config_port_index(const struct ap_config *cfg, const char *name);

const char *ap_port_driver_name(enum ap_port_driver d);

#endif
