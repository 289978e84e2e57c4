/* SPDX-License-Identifier: BSD-3-Clause */
#include "lib/config.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct bad_case {
	const char *yaml;
	const char *want; /* Substring of the error, starting at "t.yaml:LINE:COL: ". */
};

/* Every rule of the schema, each with the position the message must point at. */
static const struct bad_case bad_cases[] = {
	/* dataplane: integers, ranges, enums, types */
	{"dataplane:\n  workers: 0\n", "t.yaml:2:12: dataplane.workers must be between 1 and 64"},
	{"dataplane:\n  workers: 65\n", "t.yaml:2:12: dataplane.workers must be between 1 and 64"},
	{"dataplane:\n  workers: -1\n", "t.yaml:2:12: expected an integer for dataplane.workers"},
	{"dataplane:\n  workers: +1\n", "t.yaml:2:12: expected an integer for dataplane.workers"},
	{"dataplane:\n  workers: 4x\n", "t.yaml:2:12: expected an integer for dataplane.workers"},
	{"dataplane:\n  workers: \"4\"\n",
	 "t.yaml:2:12: expected an integer for dataplane.workers"},
	{"dataplane:\n  workers: 04\n", "t.yaml:2:12: expected an integer for dataplane.workers"},
	{"dataplane:\n  workers: 1.5\n", "t.yaml:2:12: expected an integer for dataplane.workers"},
	{"dataplane:\n  workers: 0x4\n", "t.yaml:2:12: expected an integer for dataplane.workers"},
	{"dataplane:\n  workers: [1]\n", "t.yaml:2:12: expected an integer for dataplane.workers"},
	{"dataplane:\n  workers:\n", "t.yaml:2:11: expected an integer for dataplane.workers"},
	{"dataplane:\n  workers: 99999999999999999999999999\n",
	 "t.yaml:2:12: dataplane.workers must be between 1 and 64"},
	{"dataplane:\n  workers: 18446744073709551617\n",
	 "t.yaml:2:12: dataplane.workers must be between 1 and 64"},
	{"dataplane:\n  mbufs: 1023\n",
	 "t.yaml:2:10: dataplane.mbufs must be between 1024 and 4194304"},
	{"dataplane:\n  mbufs: 4194305\n",
	 "t.yaml:2:10: dataplane.mbufs must be between 1024 and 4194304"},
	{"dataplane:\n  burst: 257\n", "t.yaml:2:10: dataplane.burst must be between 1 and 256"},
	{"dataplane:\n  fib6: {tbl8: 255}\n",
	 "t.yaml:2:16: dataplane.fib6.tbl8 must be between 256 and 4194304"},
	{"dataplane:\n  fib6:\n    max_routes: 4194305\n",
	 "t.yaml:3:17: dataplane.fib6.max_routes must be between 1024 and 4194304"},
	{"dataplane:\n  fib4: {max_routes: 1000}\n",
	 "t.yaml:2:22: dataplane.fib4.max_routes must be between 1024 and 16777216"},
	{"dataplane:\n  fib4: {tbl8s: 1024}\n",
	 "t.yaml:2:10: unknown key 'tbl8s' in dataplane.fib4"},
	{"dataplane:\n  fib6: 65536\n", "t.yaml:2:9: expected a mapping for dataplane.fib6"},
	{"dataplane:\n  hugepages: yes\n", "t.yaml:2:14: invalid value 'yes' for "
					   "dataplane.hugepages (expected one of: auto, on, off)"},
	{"dataplane:\n  eal_args: [a]\n", "t.yaml:2:13: expected a string for dataplane.eal_args"},
	{"dataplane: [1]\n", "t.yaml:1:12: expected a mapping for dataplane"},
	/* unknown and duplicate keys, top-level shape */
	{"foo: 1\n", "t.yaml:1:1: unknown key 'foo' in the top level (expected one of: dataplane, "
		     "ports, xconnect"},
	{"dataplane:\n  worker: 1\n", "t.yaml:2:3: unknown key 'worker' in dataplane"},
	{"ports:\n  - name: lan\n    driver: null\n    foo: 1\n",
	 "t.yaml:4:5: unknown key 'foo' in ports[0]"},
	{"log: {}\nlog: {}\n", "t.yaml:2:1: duplicate key 'log' in the top level (first at 1:1)"},
	{"ports:\n  - name: a\n    name: b\n", "t.yaml:3:5: duplicate key 'name' in ports[0]"},
	{"- a\n- b\n", "t.yaml:1:1: the top level must be a mapping"},
	{"hello\n", "t.yaml:1:1: the top level must be a mapping"},
	{"? [a]\n: 1\n", "t.yaml:1:3: expected a scalar key in the top level"},
	{"log: {}\n---\nlog: {}\n", "t.yaml:2:1: expected a single YAML document"},
/* interfaces and routes */
#define FW_BASE                                                                                    \
	"ports: [{name: a, driver: null}, {name: b, driver: null}]\n"                              \
	"interfaces: [{name: lan, port: a}, {name: wan, port: b}]\n"
#define L3_PORTS "ports:\n  - {name: a, driver: null}\n  - {name: b, driver: null}\n"
	{L3_PORTS "interfaces:\n  - {name: x, port: c}\n",
	 "t.yaml:5:21: unknown port 'c' in interfaces[0]"},
	{L3_PORTS "interfaces:\n  - {name: x, port: a}\n  - {name: y, port: a}\n",
	 "t.yaml:6:21: untagged frames of port 'a' already go to interface 'x'"},
	{L3_PORTS "interfaces:\n  - {name: x, port: a}\n  - {name: x, port: b}\n",
	 "t.yaml:6:12: duplicate interface name 'x'"},
	{L3_PORTS "xconnect: [{a: a, b: b}]\ninterfaces:\n  - {name: x, port: a}\n",
	 "t.yaml:6:21: port 'a' is cross-connected and cannot be in interface 'x'"},
	{L3_PORTS "interfaces:\n  - {name: x, port: a, addresses: [10.0.0.1]}\n",
	 "t.yaml:5:36: interfaces[0].addresses[0]: '10.0.0.1' is not an address with a prefix "
	 "length"},
	{L3_PORTS "interfaces:\n  - {name: x, port: a, addresses: [10.0.0.1/33]}\n",
	 "t.yaml:5:36: interfaces[0].addresses[0]: '10.0.0.1/33' is not"},
	{L3_PORTS "interfaces:\n  - {name: x, port: a, addresses: [10.0.0.1/032]}\n",
	 "t.yaml:5:36: interfaces[0].addresses[0]: '10.0.0.1/032' is not"},
	{L3_PORTS "interfaces:\n  - {name: x, port: a, addresses: [10.0.0.1/32]}\n",
	 "t.yaml:5:36: interfaces[0].addresses[0]: a /32 leaves no room"},
	{L3_PORTS "interfaces:\n  - {name: x, port: a, addresses: [\"fd00::1/128\"]}\n",
	 "t.yaml:5:36: interfaces[0].addresses[0]: a /128 leaves no room"},
	{L3_PORTS "interfaces:\n  - {name: x, port: a, addresses: [10.0.0.1/24, 10.0.0.1/16]}\n",
	 "t.yaml:5:49: interfaces[0].addresses[1]: duplicate address"},
	{L3_PORTS "interfaces:\n  - {name: x, port: a, addresses: 10.0.0.1/24}\n",
	 "t.yaml:5:35: expected a list for interfaces[0].addresses"},
	{L3_PORTS "interfaces:\n  - {name: x, port: a, mtu: 67}\n",
	 "t.yaml:5:29: interfaces[0].mtu must be between 68 and 9600"},
	{L3_PORTS "interfaces:\n  - {name: x}\n",
	 "t.yaml:5:5: interfaces[0] needs exactly one of 'port' or 'bridge'"},
	/* Bridges and VLANs. */
	{L3_PORTS "bridges:\n  - {name: br, members: [{port: c}]}\n",
	 "t.yaml:5:26: unknown port 'c' in bridges[0].members[0]"},
	{L3_PORTS "bridges:\n  - {name: br, members: [{port: a, vlan: 10}]}\n"
		  "interfaces:\n  - {name: a.10, port: a, vlan: 10}\n",
	 "t.yaml:7:24: VLAN 10 on port 'a' already goes to bridge 'br'"},
	{L3_PORTS "bridges:\n  - {name: br, members: [{port: a, vlan: 10}, "
		  "{port: a, vlan: 10, inner_vlan: 5}]}\n",
	 "t.yaml:5:47: VLAN 10 on port 'a' cannot be both single-tagged and QinQ (see bridge "
	 "'br')"},
	{L3_PORTS "bridges:\n  - {name: br, members: [{port: a, inner_vlan: 5}]}\n",
	 "t.yaml:5:36: bridges[0].members[0]: 'inner_vlan' needs the outer 'vlan'"},
	{L3_PORTS "bridges:\n  - {name: br, members: [{port: a, vlan: 4095}]}\n",
	 "t.yaml:5:42: bridges[0].members[0].vlan must be between 1 and 4094"},
	{L3_PORTS "bridges:\n  - {name: br, members: [{port: a}],\n"
		  "     static_macs: [{mac: '02:00:00:00:00:01', port: a, vlan: 3}]}\n",
	 "t.yaml:6:20: bridges[0].static_macs[0]: port 'a' with that VLAN is no member of bridge "
	 "'br'"},
	{L3_PORTS "bridges:\n  - {name: br, members: [{port: a}],\n"
		  "     static_macs: [{mac: '01:00:5e:00:00:01', port: a}]}\n",
	 "t.yaml:6:26: bridges[0].static_macs[0].mac: a static MAC cannot be a group address"},
	{L3_PORTS "bridges:\n  - {name: br, members: [{port: a}]}\n"
		  "  - {name: br, members: [{port: b}]}\n",
	 "t.yaml:6:12: duplicate bridge name 'br'"},
	{L3_PORTS "bridges:\n  - {name: br, members: [{port: a}]}\n"
		  "interfaces:\n  - {name: x, bridge: br, vlan: 3}\n",
	 "t.yaml:7:27: interfaces[0]: a bridge interface takes no VLAN"},
	{L3_PORTS "bridges:\n  - {name: br, members: [{port: a}]}\n"
		  "interfaces:\n  - {name: x, bridge: br}\n  - {name: y, bridge: br}\n",
	 "t.yaml:8:23: bridge 'br' already has interface 'x'"},
	{L3_PORTS "interfaces:\n  - {name: x, bridge: nope}\n",
	 "t.yaml:5:23: unknown bridge 'nope' in interfaces[0]"},
	{L3_PORTS "interfaces:\n  - {name: x, port: a, bridge: nope}\n",
	 "t.yaml:5:5: interfaces[0] needs exactly one of 'port' or 'bridge'"},
	{L3_PORTS "xconnect: [{a: a, b: b}]\nbridges:\n  - {name: br, members: [{port: a}]}\n",
	 "t.yaml:6:26: port 'a' is cross-connected and cannot be in bridge 'br'"},
	{"conntrack: {max_flows: 8}\n",
	 "t.yaml:1:24: conntrack.max_flows must be between 16 and 67108864"},
	{"conntrack: {timeouts: {tcp_syn: 5}}\n",
	 "t.yaml:1:24: unknown key 'tcp_syn' in conntrack.timeouts"},
	{"conntrack: {timeouts: {udp: 0}}\n",
	 "t.yaml:1:29: conntrack.timeouts.udp must be between 1 and 1000000"},
	{FW_BASE "firewall: {rules: [{from: nowhere, action: accept}]}\n",
	 "t.yaml:3:20: firewall.rules[0]: unknown zone 'nowhere'"},
	{FW_BASE "firewall: {rules: [{from: self, action: accept}]}\n",
	 "t.yaml:3:20: firewall.rules[0]: traffic does not come from 'self'"},
	{FW_BASE "firewall: {rules: [{iif: eth9, action: accept}]}\n",
	 "t.yaml:3:20: firewall.rules[0].iif: unknown interface 'eth9'"},
	{FW_BASE "firewall: {rules: [{dport: '22', action: accept}]}\n",
	 "t.yaml:3:20: firewall.rules[0]: ports need proto tcp or udp"},
	{FW_BASE "firewall: {rules: [{proto: tcp, dport: web, action: accept}]}\n",
	 "t.yaml:3:20: firewall.rules[0]: 'web' is no set and not a port or a range"},
	{FW_BASE "firewall: {rules: [{proto: gre2, action: accept}]}\n",
	 "t.yaml:3:28: firewall.rules[0].proto: 'gre2' is not tcp, udp"},
	{FW_BASE "firewall: {rules: [{action: allow}]}\n",
	 "t.yaml:3:29: invalid value 'allow' for firewall.rules[0].action"},
	{FW_BASE "firewall: {sets: [{name: s, ports: ['99999']}]}\n",
	 "t.yaml:3:37: firewall.sets[0].ports: '99999' is not a port or a range"},
	{FW_BASE "firewall: {sets: [{name: s, ports: ['1'], addresses: [10.0.0.0/8]}]}\n",
	 "t.yaml:3:19: firewall.sets[0] needs exactly one of 'addresses' or 'ports'"},
	{FW_BASE "firewall: {zones: [{name: z, interfaces: [nope]}]}\n",
	 "t.yaml:3:20: firewall.zones 'z': unknown interface 'nope'"},
	{FW_BASE "firewall: {rules: [{ct_state: [fresh], action: accept}]}\n",
	 "firewall.rules[0].ct_state: 'fresh' is not new, established"},
	{FW_BASE "nat: {masquerade: [{interface: nope}]}\n",
	 "t.yaml:3:20: nat.masquerade[0]: unknown interface 'nope'"},
	{FW_BASE "nat: {masquerade: [{interface: wan}]}\n",
	 "t.yaml:3:20: nat.masquerade[0]: interface 'wan' has no IPv4 address"},
	{FW_BASE "nat: {masquerade: [{interface: wan, mapping: full-cone}]}\n",
	 "t.yaml:3:46: nat.masquerade[0].mapping must be endpoint-independent or"},
	{FW_BASE "nat: {masquerade: [{interface: wan, ports: '10-5'}]}\n",
	 "nat.masquerade[0].ports: '10-5' is not a range of ports"},
	{FW_BASE "nat: {forward: [{interface: wan, proto: icmp, port: 1, to: 10.0.0.1}]}\n",
	 "nat.forward[0].proto must be tcp or udp"},
	{FW_BASE "nat: {forward: [{interface: wan, proto: tcp, port: 1, to: 'fd00::1'}]}\n",
	 "nat.forward[0].to: port forwarding is IPv4 only"},
	{FW_BASE
	 "nat: {one_to_one: [{interface: wan, internal: 10.0.0.0/24, external: 1.2.3.4}]}\n",
	 "t.yaml:3:47: nat.one_to_one[0].internal: 1:1 NAT maps one IPv4 address"},
	{FW_BASE "nat: {one_to_one: [{interface: lan2, internal: 10.0.0.5, external: 1.2.3.4}]}\n",
	 "t.yaml:3:20: nat.one_to_one[0]: unknown interface 'lan2'"},
	{FW_BASE
	 "nat:\n  one_to_one:\n    - {interface: wan, internal: 10.0.0.5, external: 1.2.3.4}\n"
	 "    - {interface: wan, internal: 10.0.0.6, external: 1.2.3.4}\n",
	 "t.yaml:6:7: nat.one_to_one[1]: an address of entry 0 again"},
	{FW_BASE "nat: {hairpin: maybe}\n", "t.yaml:3:16: nat.hairpin must be true or false"},
	{FW_BASE "nat: {forward: [{interface: wan, proto: tcp, port: 1, to: 10.0.0.1},\n"
		 "  {interface: wan, proto: tcp, port: 1, to: 10.0.0.2}]}\n",
	 "nat.forward[1]: port 1 is already forwarded"},
	{L3_PORTS "dataplane: {mac_table_size: 1000}\n",
	 "t.yaml:4:29: dataplane.mac_table_size must be a power of two between 1024 and"},
	{L3_PORTS "dataplane: {poll_sleep_us: 10001}\n",
	 "t.yaml:4:28: dataplane.poll_sleep_us must be"},
	{L3_PORTS "interfaces:\n  - {name: x, port: a, addresses: [10.0.0.1/24]}\n"
		  "routes:\n  - {prefix: 0.0.0.0/0, via: 10.0.1.1}\n",
	 "t.yaml:7:5: routes[0]: next hop 10.0.1.1 is on no interface's subnet"},
	{"routes:\n  - {prefix: 10.0.0.1/8, via: blackhole}\n",
	 "t.yaml:2:14: routes[0].prefix: host bits set beyond the prefix length"},
	{"routes:\n  - {prefix: 10.0.0.0, via: blackhole}\n",
	 "t.yaml:2:14: routes[0].prefix: '10.0.0.0' is not an address with a prefix length"},
	{"routes:\n  - {prefix: \"2001:db8::/32\", via: 10.0.0.1}\n",
	 "t.yaml:2:36: routes[0].via: IPv4 next hop for an IPv6 prefix"},
	{"routes:\n  - {prefix: 10.0.0.0/8, via: nowhere}\n",
	 "t.yaml:2:31: routes[0].via: 'nowhere' is not an IPv4 or IPv6 address"},
	{"routes:\n  - {prefix: 10.0.0.0/8, via: blackhole}\n  - {prefix: 10.0.0.0/8, via: "
	 "blackhole}\n",
	 "t.yaml:3:5: routes[1]: duplicate route"},
	{"routes:\n  - {via: blackhole}\n", "t.yaml:2:5: missing key 'prefix' in routes[0]"},
	{"routes: {a: 1}\n", "t.yaml:1:9: expected a list for routes"},
	{L3_PORTS "interfaces:\n  - {name: x, port: a, addresses: [10.0.0.1/24]}\n"
		  "neighbors:\n  - {interface: y, address: 10.0.0.2, mac: \"02:00:00:00:00:02\"}\n",
	 "t.yaml:7:17: unknown interface 'y' in neighbors[0]"},
	{L3_PORTS "interfaces:\n  - {name: x, port: a, addresses: [10.0.0.1/24]}\n"
		  "neighbors:\n  - {interface: x, address: 10.0.1.2, mac: \"02:00:00:00:00:02\"}\n",
	 "t.yaml:7:29: neighbors[0]: 10.0.1.2 is on no subnet of interface 'x'"},
	{L3_PORTS "interfaces:\n  - {name: x, port: a, addresses: [10.0.0.1/24]}\n"
		  "neighbors:\n  - {interface: x, address: 10.0.0.2, mac: \"02:00:00:00:00\"}\n",
	 "t.yaml:7:44: neighbors[0].mac: '02:00:00:00:00' is not a MAC address"},
	{L3_PORTS "interfaces:\n  - {name: x, port: a, addresses: [10.0.0.1/24]}\n"
		  "neighbors:\n  - {interface: x, address: 10.0.0.2, mac: \"01:00:5e:00:00:01\"}\n",
	 "t.yaml:7:44: neighbors[0].mac: a neighbour's MAC cannot be a group address"},
	{L3_PORTS "interfaces:\n  - {name: x, port: a, addresses: [10.0.0.1/24]}\n"
		  "routes:\n  - {prefix: 0.0.0.0/0, via: 10.0.0.1}\n",
	 "t.yaml:7:5: routes[0]: next hop 10.0.0.1 is the router's own address"},
	{L3_PORTS "interfaces:\n  - {name: x, port: a, addresses: [10.0.0.1/24]}\n"
		  "routes:\n  - {prefix: 0.0.0.0/0, via: [10.0.0.2, 10.0.0.2]}\n",
	 "t.yaml:7:41: routes[0].via[1]: duplicate next hop"},
	{L3_PORTS "interfaces:\n  - {name: x, port: a, addresses: [10.0.0.1/24]}\n"
		  "routes:\n  - {prefix: 0.0.0.0/0, via: []}\n",
	 "t.yaml:7:30: routes[0].via: empty list of next hops"},
	{L3_PORTS "interfaces:\n  - {name: x, port: a, addresses: [10.0.0.1/24]}\n"
		  "routes:\n  - {prefix: 0.0.0.0/0, via: [10.0.0.2, 10.9.0.3]}\n",
	 "t.yaml:7:5: routes[0]: next hop 10.9.0.3 is on no interface's subnet"},
#undef L3_PORTS
	/* ports */
	{"ports: {}\n", "t.yaml:1:8: expected a list for ports"},
	{"ports:\n  - lan\n", "t.yaml:2:5: expected a mapping for ports[0]"},
	{"ports:\n  - driver: tap\n", "t.yaml:2:5: missing key 'name' in ports[0]"},
	{"ports:\n  - name: a\n", "t.yaml:2:5: missing key 'driver' in ports[0]"},
	{"ports:\n  - {name: a, driver: dpdk}\n",
	 "t.yaml:2:23: invalid value 'dpdk' for ports[0].driver (expected one of: af_packet, "
	 "af_xdp, "
	 "pcap, tap, null, ring, devargs)"},
	{"ports:\n  - {name: Lan, driver: tap}\n", "t.yaml:2:12: invalid name 'Lan' for "
						   "ports[0].name"},
	{"ports:\n  - {name: 1lan, driver: tap}\n", "t.yaml:2:12: invalid name '1lan'"},
	{"ports:\n  - {name: \"la n\", driver: tap}\n", "t.yaml:2:12: invalid name 'la n'"},
	{"ports:\n  - {name: \"\", driver: tap}\n", "t.yaml:2:12: invalid name ''"},
	{"ports:\n  - {name: abcdefghijabcdefghijabcdefghijab, driver: tap}\n",
	 "t.yaml:2:12: ports[0].name is too long (max 31 bytes)"},
	{"ports:\n  - name:\n    driver: null\n",
	 "t.yaml:2:10: expected a string for ports[0].name"},
	{"ports:\n  - {name: \"a\\0b\", driver: null}\n",
	 "t.yaml:2:12: ports[0].name contains a control character (byte 0x00)"},
	{"api:\n  socket: |\n    /run/x.sock\n",
	 "t.yaml:2:11: api.socket contains a control character (byte 0x0a)"},
	{"ports:\n  - {name: a, driver: af_packet}\n",
	 "t.yaml:2:5: missing key 'iface' in ports[0] (required for driver af_packet)"},
	{"ports:\n  - {name: a, driver: af_xdp}\n",
	 "t.yaml:2:5: missing key 'iface' in ports[0] (required for driver af_xdp)"},
	{"ports:\n  - {name: a, driver: devargs}\n",
	 "t.yaml:2:5: missing key 'devargs' in ports[0] (required for driver devargs)"},
	{"ports:\n  - {name: a, driver: pcap}\n",
	 "t.yaml:2:5: missing key 'rx_pcap' or 'tx_pcap' in ports[0]"},
	{"ports:\n  - name: a\n    driver: af_packet\n    iface: eth0\n    rx_pcap: x.pcap\n",
	 "t.yaml:5:5: key 'rx_pcap' is not valid for driver af_packet in ports[0] (only for: "
	 "pcap)"},
	{"ports:\n  - name: a\n    iface: eth0\n    driver: null\n",
	 "t.yaml:3:5: key 'iface' is not valid for driver null in ports[0] (only for: af_packet, "
	 "af_xdp, tap)"},
	{"ports:\n  - name: a\n    driver: pcap\n    tx_pcap: o.pcap\n    devargs: x\n",
	 "t.yaml:5:5: key 'devargs' is not valid for driver pcap in ports[0] (only for: devargs)"},
	{"ports:\n  - name: a\n    driver: ring\n    tx_pcap: o.pcap\n",
	 "t.yaml:4:5: key 'tx_pcap' is not valid for driver ring in ports[0]"},
	{"ports:\n  - {name: a, driver: pcap, rx_pcap: \"\"}\n",
	 "t.yaml:2:38: ports[0].rx_pcap must not be empty"},
	{"ports:\n  - name: a\n    driver: pcap\n    rx_pcap: in.pcap\n    rx_template: t.pcap\n",
	 "t.yaml:5:5: key 'rx_template' is not valid for driver pcap in ports[0] (only for: "
	 "null)"},
	{"ports:\n  - {name: a, driver: devargs, devargs: net_null0, rx_template: t.pcap}\n",
	 "t.yaml:2:52: key 'rx_template' is not valid for driver devargs in ports[0] (only for: "
	 "null)"},
	{"ports:\n  - {name: a, driver: null, rx_template: \"\"}\n",
	 "t.yaml:2:42: ports[0].rx_template must not be empty"},
	{"ports:\n  - {name: a, driver: af_xdp, iface: x, kernel_stack: true}\n",
	 "t.yaml:2:41: key 'kernel_stack' is not valid for driver af_xdp in ports[0] (only for: "
	 "af_packet)"},
	{"ports:\n  - {name: a, driver: af_packet, iface: x, kernel_stack: yes}\n",
	 "t.yaml:2:58: ports[0].kernel_stack must be true or false"},
	{"ports:\n  - {name: a, driver: af_packet, iface: x, busy_poll: true}\n",
	 "t.yaml:2:44: key 'busy_poll' is not valid for driver af_packet in ports[0] (only for: "
	 "af_xdp)"},
	{"ports:\n  - {name: a, driver: af_xdp, iface: x, busy_poll: 1}\n",
	 "t.yaml:2:52: ports[0].busy_poll must be true or false"},
	{"ports:\n  - {name: a, driver: null, rx_template: [a.pcap]}\n",
	 "t.yaml:2:42: expected a string for ports[0].rx_template"},
	{"ports:\n  - {name: a, driver: devargs, devargs: \"a b\"}\n",
	 "t.yaml:2:41: ports[0].devargs must be a non-empty device string without spaces"},
	{"ports:\n  - {name: a, driver: af_packet, iface: abcdefghijklmnop}\n",
	 "t.yaml:2:41: invalid interface name 'abcdefghijklmnop' for ports[0].iface"},
	{"ports:\n  - {name: a, driver: af_packet, iface: a/b}\n",
	 "t.yaml:2:41: invalid interface name 'a/b'"},
	{"ports:\n  - {name: a, driver: tap, iface: \"..\"}\n",
	 "t.yaml:2:35: invalid interface name '..'"},
	{"ports:\n  - {name: a, driver: null, rxq_size: 1000}\n",
	 "t.yaml:2:39: ports[0].rxq_size must be a power of two between 64 and 16384"},
	{"ports:\n  - {name: a, driver: null, rxq_size: 32}\n",
	 "t.yaml:2:39: ports[0].rxq_size must be a power of two between 64 and 16384"},
	{"ports:\n  - {name: a, driver: null, txq_size: 32768}\n",
	 "t.yaml:2:39: ports[0].txq_size must be a power of two between 64 and 16384"},
	{"ports:\n  - {name: a, driver: null, mtu: 67}\n",
	 "t.yaml:2:34: ports[0].mtu must be between 68 and 9600"},
	{"ports:\n  - {name: a, driver: null, mtu: 9601}\n",
	 "t.yaml:2:34: ports[0].mtu must be between 68 and 9600"},
	{"ports:\n  - {name: a, driver: null, validate: l3}\n",
	 "t.yaml:2:39: invalid value 'l3' for ports[0].validate (expected one of: l2, full, none)"},
	{"ports:\n  - {name: a, driver: null}\n  - {name: a, driver: ring}\n",
	 "t.yaml:3:12: duplicate port name 'a' (first defined at 2:5)"},
	{"ports:\n  - {name: a, driver: af_packet, iface: eth0}\n"
	 "  - {name: b, driver: af_xdp, iface: eth0}\n",
	 "t.yaml:3:38: interface 'eth0' is already used by port 'a'"},
	/* xconnect */
	{"xconnect: {a: x}\n", "t.yaml:1:11: expected a list for xconnect"},
	{"xconnect:\n  - a\n", "t.yaml:2:5: expected a mapping for xconnect[0]"},
	{"ports:\n  - {name: a, driver: null}\nxconnect:\n  - {a: a, b: zz}\n",
	 "t.yaml:4:15: unknown port 'zz' in xconnect[0].b"},
	{"xconnect:\n  - {a: nope, b: nope}\n", "t.yaml:2:9: unknown port 'nope' in xconnect[0].a"},
	{"ports:\n  - {name: a, driver: null}\nxconnect:\n  - {a: a}\n",
	 "t.yaml:4:5: missing key 'b' in xconnect[0]"},
	{"ports:\n  - {name: a, driver: null}\nxconnect:\n  - {a: a, b: a, c: a}\n",
	 "t.yaml:4:18: unknown key 'c' in xconnect[0] (expected one of: a, b)"},
	{"ports:\n  - {name: a, driver: null}\n  - {name: b, driver: null}\n"
	 "  - {name: c, driver: null}\n"
	 "xconnect:\n  - {a: a, b: b}\n  - {a: c, b: a}\n",
	 "t.yaml:7:15: port 'a' is already in xconnect[0]"},
	{"ports:\n  - {name: a, driver: null}\nxconnect:\n  - {a: a, b: a}\n  - {a: a, b: a}\n",
	 "t.yaml:5:9: port 'a' is already in xconnect[0]"},
	{"ports:\n  - {name: a, driver: null}\n  - {name: b, driver: null, validate: none}\n"
	 "xconnect:\n  - {a: a, b: a}\n",
	 "t.yaml:3:39: validate: none is only for cross-connected ports, and port 'b' is in no "
	 "xconnect"},
	{"ports:\n  - {name: a, driver: null}\n  - {name: b, driver: null, validate: none}\n"
	 "interfaces:\n  - {name: x, port: b}\n",
	 "t.yaml:3:39: validate: none is only for cross-connected ports, and port 'b' is in no "
	 "xconnect"},
	/* api, log */
	{"api:\n  socket: \"\"\n", "t.yaml:2:11: api.socket must not be empty"},
	{"api:\n  socket: "
	 "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
	 "t.yaml:2:11: api.socket is too long for a unix socket (max 107 bytes)"},
	{"api:\n  port: 8080\n", "t.yaml:2:3: unknown key 'port' in api (expected one of: "
				 "socket, listen, token_file, tls_cert, tls_key, web_root)"},
	{"api:\n  listen: 1.2.3.4\n", "t.yaml:2:11: invalid api.listen '1.2.3.4' (expected "
				      "ADDR:PORT, [ADDR6]:PORT or none, e.g. 127.0.0.1:8080)"},
	{"api:\n  listen: '[::1:80'\n", "t.yaml:2:11: invalid api.listen '[::1:80' (expected "
					"ADDR:PORT, [ADDR6]:PORT or none, e.g. 127.0.0.1:8080)"},
	{"api:\n  listen: 127.0.0.1:65536\n", "t.yaml:2:11: invalid api.listen '127.0.0.1:65536' "
					      "(expected ADDR:PORT, [ADDR6]:PORT or none, e.g. "
					      "127.0.0.1:8080)"},
	{"api:\n  listen: 192.0.2.1:8080\n",
	 "t.yaml:2:11: api.listen '192.0.2.1:8080' is not a loopback address: it needs "
	 "api.tls_cert and api.tls_key (the bearer token must not travel in clear text)"},
	{"api:\n  listen: '[2001:db8::1]:443'\n  tls_cert: c.pem\n",
	 "t.yaml:3:13: api.tls_cert and api.tls_key go together"},
	{"log:\n  level: verbose\n", "t.yaml:2:10: invalid value 'verbose' for log.level (expected "
				     "one of: error, warning, info, debug)"},
	{"log: {format: xml}\n",
	 "t.yaml:1:15: invalid value 'xml' for log.format (expected one of: text, json)"},
	/* YAML syntax */
	{"dataplane:\n  workers: 1\n bad\n", "t.yaml:3:2: did not find expected key"},
	{"ports: [a, b\n", "t.yaml:2:1: did not find expected ',' or ']'"},
	{"dataplane:\n\tworkers: 1\n", "t.yaml:2:1: found character that cannot start any token"},
	{"log: *x\n", "t.yaml:1:6: found undefined alias"},
	{"log: {}\nfoo: \xff\n", "t.yaml:2:6: invalid leading UTF-8 octet (byte 0xff)"},
	/* An alias reports the position of the node it refers to. */
	{"log: &a {level: *a}\n", "t.yaml:1:6: expected a string for log.level"},
};

#define N_BAD_CASES (sizeof(bad_cases) / sizeof(bad_cases[0]))

/* Criterion runs each parameter in a fresh worker process, where pointers into this one's
 * data are meaningless, so the parameters are indexes into bad_cases[]. */
static size_t bad_case_idx[N_BAD_CASES];

ParameterizedTestParameters(config, rejects)
{
	for (size_t i = 0; i < N_BAD_CASES; i++)
		bad_case_idx[i] = i;
	return cr_make_param_array(size_t, bad_case_idx, N_BAD_CASES);
}

ParameterizedTest(size_t *idx, config, rejects)
{
	const struct bad_case *tc = &bad_cases[*idx];
	struct ap_config cfg, before;
	char err[AP_CFG_ERR_MAX];
	int ret;

	memset(&cfg, 0xa5, sizeof(cfg));
	before = cfg;
	ret = ap_config_load_buf("t.yaml", tc->yaml, strlen(tc->yaml), &cfg, err);
	cr_assert_eq(ret, -EINVAL, "yaml:\n%s\nreturned %d", tc->yaml, ret);
	cr_assert(strstr(err, tc->want) != NULL, "yaml:\n%s\ngot:  %s\nwant: %s", tc->yaml, err,
		  tc->want);
	/* The first error only, on one line. */
	cr_assert_null(strchr(err, '\n'), "%s", err);
	cr_assert_eq(memcmp(&cfg, &before, sizeof(cfg)), 0, "cfg written on error");
}

static struct ap_config
load_ok(const char *yaml)
{
	struct ap_config cfg;
	char err[AP_CFG_ERR_MAX];
	int ret;

	ret = ap_config_load_buf("t.yaml", yaml, strlen(yaml), &cfg, err);
	cr_assert_eq(ret, 0, "yaml:\n%s\nerror: %s", yaml, err);
	return cfg;
}

static void
assert_defaults(const struct ap_config *cfg)
{
	cr_assert_eq(cfg->workers, 1);
	cr_assert_eq(cfg->mbufs, 16384);
	cr_assert_eq(cfg->burst, 32);
	cr_assert_eq(cfg->hugepages, AP_HUGE_AUTO);
	cr_assert_eq(cfg->fib4.max_routes, 1u << 20);
	cr_assert_eq(cfg->fib4.tbl8, 1u << 14);
	cr_assert_eq(cfg->fib6.max_routes, 1u << 16);
	cr_assert_eq(cfg->fib6.tbl8, 1u << 14);
	cr_assert_str_eq(cfg->eal_args, "");
	cr_assert_eq(cfg->n_ports, 0);
	cr_assert_eq(cfg->n_xconnects, 0);
	cr_assert_str_eq(cfg->api_socket, "/run/aetherd/api.sock");
	cr_assert_str_eq(cfg->log_level, "info");
	cr_assert_eq(cfg->log_json, false);
}

Test(config, defaults)
{
	struct ap_config cfg;

	ap_config_defaults(&cfg);
	assert_defaults(&cfg);
	cr_assert_str_eq(cfg.path, "<built-in>");
}

static const char *const empty_docs[] = {
	"",
	"{}",
	"{}\n",
	"# only a comment\n",
	"---\n",
	"---\n...\n",
	"~\n",
	"dataplane:\nports:\nxconnect:\napi:\nlog:\n",
	"ports: []\nxconnect: []\n",
};

Test(config, empty_documents_give_defaults)
{
	for (size_t i = 0; i < sizeof(empty_docs) / sizeof(empty_docs[0]); i++) {
		struct ap_config cfg = load_ok(empty_docs[i]);

		assert_defaults(&cfg);
		cr_assert_str_eq(cfg.path, "t.yaml");
	}
}

static const char full_yaml[] = "dataplane:\n"
				"  workers: 4\n"
				"  mbufs: 65536\n"
				"  burst: 64\n"
				"  hugepages: off\n"
				"  eal_args: \"--log-level=pmd.net.af_packet:debug\"\n"
				"ports:\n"
				"  - name: lan\n"
				"    driver: af_packet\n"
				"    iface: veth-lan\n"
				"    rxq_size: 2048\n"
				"    txq_size: 512\n"
				"    mtu: 9000\n"
				"    validate: full\n"
				"  - {name: wan, driver: af_xdp, iface: veth-wan}\n"
				"  - name: cap\n"
				"    driver: pcap\n"
				"    rx_pcap: in.pcap\n"
				"    tx_pcap: /tmp/out.pcap\n"
				"  - {name: t0, driver: tap}\n"
				"  - {name: t1, driver: tap, iface: ap-tap1}\n"
				"  - {name: n0, driver: null, validate: none}\n"
				"  - {name: r0, driver: ring}\n"
				"  - {name: nic_0, driver: devargs, devargs: \"0000:3b:00.0\"}\n"
				"xconnect:\n"
				"  - {a: lan, b: wan}\n"
				"  - {a: n0, b: n0}\n"
				"api:\n"
				"  socket: /tmp/ap.sock\n"
				"log:\n"
				"  level: debug\n"
				"  format: json\n";

Test(config, full_example)
{
	struct ap_config cfg = load_ok(full_yaml);
	const struct ap_cfg_port *p;

	cr_assert_eq(cfg.workers, 4);
	cr_assert_eq(cfg.mbufs, 65536);
	cr_assert_eq(cfg.burst, 64);
	cr_assert_eq(cfg.hugepages, AP_HUGE_OFF);
	cr_assert_str_eq(cfg.eal_args, "--log-level=pmd.net.af_packet:debug");
	cr_assert_eq(cfg.n_ports, 8);

	p = &cfg.ports[0];
	cr_assert_str_eq(p->name, "lan");
	cr_assert_eq(p->driver, AP_DRV_AF_PACKET);
	cr_assert_str_eq(p->iface, "veth-lan");
	cr_assert_eq(p->rxq_size, 2048);
	cr_assert_eq(p->txq_size, 512);
	cr_assert_eq(p->mtu, 9000);
	cr_assert_eq(p->validate, AP_VALIDATE_FULL);
	cr_assert(!p->kernel_stack, "an af_packet port keeps the kernel's stack off by default");
	cr_assert_eq(p->line, 8);
	cr_assert_eq(p->col, 5);

	p = &cfg.ports[1];
	cr_assert_str_eq(p->name, "wan");
	cr_assert_eq(p->driver, AP_DRV_AF_XDP);
	cr_assert_str_eq(p->iface, "veth-wan");
	cr_assert_eq(p->rxq_size, 1024);
	cr_assert_eq(p->txq_size, 1024);
	cr_assert_eq(p->mtu, 0);
	cr_assert_eq(p->validate, AP_VALIDATE_L2);
	cr_assert_eq(p->line, 15);
	cr_assert_eq(p->col, 5);

	p = &cfg.ports[2];
	cr_assert_eq(p->driver, AP_DRV_PCAP);
	/* A buffer has no directory: relative paths stay as given. */
	cr_assert_str_eq(p->rx_pcap, "in.pcap");
	cr_assert_str_eq(p->tx_pcap, "/tmp/out.pcap");

	cr_assert_eq(cfg.ports[3].driver, AP_DRV_TAP);
	cr_assert_str_eq(cfg.ports[3].iface, "");
	cr_assert_str_eq(cfg.ports[4].iface, "ap-tap1");
	/* "null" is read as text here, not as the YAML null. */
	cr_assert_eq(cfg.ports[5].driver, AP_DRV_NULL);
	cr_assert_str_eq(cfg.ports[5].rx_template, "");
	cr_assert_eq(cfg.ports[5].validate, AP_VALIDATE_NONE);
	cr_assert_eq(cfg.ports[6].driver, AP_DRV_RING);
	cr_assert_eq(cfg.ports[7].driver, AP_DRV_DEVARGS);
	cr_assert_str_eq(cfg.ports[7].devargs, "0000:3b:00.0");
	cr_assert_str_eq(cfg.ports[7].name, "nic_0");

	cr_assert_eq(cfg.n_xconnects, 2);
	cr_assert_str_eq(cfg.xconnects[0].a, "lan");
	cr_assert_str_eq(cfg.xconnects[0].b, "wan");
	cr_assert_eq(cfg.xconnects[0].a_idx, 0);
	cr_assert_eq(cfg.xconnects[0].b_idx, 1);
	cr_assert_eq(cfg.xconnects[1].a_idx, 5);
	cr_assert_eq(cfg.xconnects[1].b_idx, 5);

	cr_assert_str_eq(cfg.api_socket, "/tmp/ap.sock");
	cr_assert_str_eq(cfg.log_level, "debug");
	cr_assert_eq(cfg.log_json, true);

	cr_assert_eq(ap_config_port_index(&cfg, "cap"), 2);
	cr_assert_eq(ap_config_port_index(&cfg, "nic_0"), 7);
	cr_assert_eq(ap_config_port_index(&cfg, "nope"), -1);
	cr_assert_eq(ap_config_port_index(&cfg, ""), -1);
}

Test(config, range_limits_accepted)
{
	struct ap_config cfg = load_ok("dataplane: {workers: 64, mbufs: 4194304, burst: 256}\n"
				       "ports:\n"
				       "  - {name: a, driver: null, rxq_size: 16384, txq_size: 64,"
				       " mtu: 9600}\n"
				       "  - {name: b, driver: null, rxq_size: 64, mtu: 68}\n");

	cr_assert_eq(cfg.workers, 64);
	cr_assert_eq(cfg.mbufs, 4194304);
	cr_assert_eq(cfg.burst, 256);
	cr_assert_eq(cfg.ports[0].rxq_size, 16384);
	cr_assert_eq(cfg.ports[0].txq_size, 64);
	cr_assert_eq(cfg.ports[0].mtu, 9600);
	cr_assert_eq(cfg.ports[1].rxq_size, 64);
	cr_assert_eq(cfg.ports[1].mtu, 68);

	cfg = load_ok("dataplane: {workers: 1, mbufs: 1024, burst: 1, hugepages: on}\n");
	cr_assert_eq(cfg.workers, 1);
	cr_assert_eq(cfg.mbufs, 1024);
	cr_assert_eq(cfg.burst, 1);
	cr_assert_eq(cfg.hugepages, AP_HUGE_ON);
}

Test(config, kernel_stack_of_an_af_packet_port)
{
	struct ap_config cfg =
		load_ok("ports:\n"
			"  - {name: a, driver: af_packet, iface: x0, kernel_stack: true}\n"
			"  - {name: b, driver: af_packet, iface: x1, kernel_stack: false}\n"
			"  - {name: c, driver: af_packet, iface: x2}\n");

	cr_assert(cfg.ports[0].kernel_stack);
	cr_assert(!cfg.ports[1].kernel_stack);
	cr_assert(!cfg.ports[2].kernel_stack);
}

Test(config, busy_poll_of_an_af_xdp_port)
{
	struct ap_config cfg =
		load_ok("ports:\n"
			"  - {name: a, driver: af_xdp, iface: x0, busy_poll: false}\n"
			"  - {name: b, driver: af_xdp, iface: x1, busy_poll: true}\n"
			"  - {name: c, driver: af_xdp, iface: x2}\n");

	cr_assert(!cfg.ports[0].busy_poll);
	cr_assert(cfg.ports[1].busy_poll);
	cr_assert(cfg.ports[2].busy_poll, "busy polling is on by default");
}

Test(config, fib_sizes)
{
	struct ap_config cfg = load_ok("dataplane:\n"
				       "  fib6: {max_routes: 262144, tbl8: 655360}\n");

	/* A section given in part keeps the defaults of the keys it leaves out. */
	cr_assert_eq(cfg.fib6.max_routes, 262144);
	cr_assert_eq(cfg.fib6.tbl8, 655360);
	cr_assert_eq(cfg.fib4.max_routes, 1u << 20);
	cr_assert_eq(cfg.fib4.tbl8, 1u << 14);

	cfg = load_ok("dataplane:\n"
		      "  fib4: {max_routes: 16777216, tbl8: 256}\n"
		      "  fib6:\n"
		      "    max_routes: 1024\n");
	cr_assert_eq(cfg.fib4.max_routes, 1u << 24);
	cr_assert_eq(cfg.fib4.tbl8, 256);
	cr_assert_eq(cfg.fib6.max_routes, 1024);
	cr_assert_eq(cfg.fib6.tbl8, 1u << 14);
}

Test(config, xconnect_before_ports_and_self_loop)
{
	struct ap_config cfg = load_ok("xconnect:\n"
				       "  - {a: y, b: x}\n"
				       "  - {a: z, b: z}\n"
				       "ports:\n"
				       "  - {name: x, driver: ring}\n"
				       "  - {name: y, driver: ring}\n"
				       "  - {name: z, driver: null}\n");

	cr_assert_eq(cfg.n_xconnects, 2);
	cr_assert_eq(cfg.xconnects[0].a_idx, 1);
	cr_assert_eq(cfg.xconnects[0].b_idx, 0);
	cr_assert_eq(cfg.xconnects[1].a_idx, 2);
	cr_assert_eq(cfg.xconnects[1].b_idx, 2);
}

Test(config, bridges_and_vlans)
{
	struct ap_config cfg = load_ok(
		"bridges:\n"
		"  - name: office\n"
		"    mac_age: 60\n"
		"    learn_limit: 100\n"
		"    members:\n"
		"      - {port: lan}\n"
		"      - {port: trunk, vlan: 10, learn_limit: 5}\n"
		"      - {port: trunk, vlan: 100, inner_vlan: 20}\n"
		"    static_macs:\n"
		"      - {mac: '02:00:00:00:00:aa', port: trunk, vlan: 10}\n"
		"  - {name: lab, flood: false, learn: false, members: [{port: trunk, vlan: 30}]}\n"
		"interfaces:\n"
		"  - {name: office, bridge: office, addresses: [10.1.0.1/24]}\n"
		"  - {name: trunk.40, port: trunk, vlan: 40, addresses: [10.4.0.1/24]}\n"
		"  - {name: trunk.100.21, port: trunk, vlan: 100, inner_vlan: 21}\n"
		"  - {name: wan, port: trunk, addresses: [192.0.2.1/24]}\n"
		"ports:\n"
		"  - {name: lan, driver: null}\n"
		"  - {name: trunk, driver: null}\n");
	const struct ap_cfg_bridge *br = &cfg.bridges[0];

	cr_assert_eq(cfg.n_bridges, 2);
	cr_assert_eq(cfg.mac_table_size, 65536);
	cr_assert_str_eq(br->name, "office");
	cr_assert_eq(br->mac_age, 60);
	cr_assert(br->flood && br->learn);
	cr_assert_eq(br->n_members, 3);
	cr_assert_eq(br->members[0].port_idx, 0);
	cr_assert_eq(br->members[0].vlan, 0);
	cr_assert_eq(br->members[0].learn_limit, 100, "the bridge's limit by default");
	cr_assert_eq(br->members[1].port_idx, 1);
	cr_assert_eq(br->members[1].vlan, 10);
	cr_assert_eq(br->members[1].learn_limit, 5);
	cr_assert_eq(br->members[2].vlan, 100);
	cr_assert_eq(br->members[2].inner_vlan, 20);
	cr_assert_eq(br->n_static, 1);
	cr_assert_eq(br->static_macs[0].member, 1);
	cr_assert_eq(br->static_macs[0].mac[5], 0xaa);
	cr_assert(!cfg.bridges[1].flood && !cfg.bridges[1].learn);
	cr_assert_eq(cfg.bridges[1].mac_age, 300);
	cr_assert_eq(cfg.bridges[1].members[0].learn_limit, 4096);
	cr_assert_eq(cfg.n_ifaces, 4);
	cr_assert_str_eq(cfg.ifaces[0].bridge, "office");
	cr_assert_eq(cfg.ifaces[0].bridge_idx, 0);
	cr_assert_eq(cfg.ifaces[1].port_idx, 1);
	cr_assert_eq(cfg.ifaces[1].vlan, 40);
	cr_assert_eq(cfg.ifaces[2].inner_vlan, 21, "another inner VLAN of a QinQ outer tag");
	cr_assert_eq(cfg.ifaces[3].vlan, 0, "untagged frames of a trunk may be routed");
}

Test(config, conntrack)
{
	struct ap_config off = load_ok("ports: []\n");
	struct ap_config on = load_ok("conntrack:\n");
	struct ap_config set = load_ok("conntrack:\n"
				       "  max_flows: 1000\n"
				       "  tcp_loose: true\n"
				       "  drop_invalid: true\n"
				       "  timeouts: {udp: 5, tcp_established: 3600}\n");

	cr_assert(!off.conntrack.enabled);
	cr_assert(on.conntrack.enabled, "the section alone turns it on");
	cr_assert_eq(on.conntrack.max_flows, 65536);
	cr_assert_eq(on.conntrack.t_established, 432000);
	cr_assert_eq(on.conntrack.t_udp, 30);
	cr_assert(!on.conntrack.tcp_loose && !on.conntrack.drop_invalid);
	cr_assert_eq(set.conntrack.max_flows, 1000);
	cr_assert(set.conntrack.tcp_loose && set.conntrack.drop_invalid);
	cr_assert_eq(set.conntrack.t_udp, 5);
	cr_assert_eq(set.conntrack.t_established, 3600);
	cr_assert_eq(set.conntrack.t_udp_stream, 120, "the others keep their defaults");
	cr_assert(!load_ok("conntrack: {enabled: false}\n").conntrack.enabled);
}

Test(config, firewall)
{
	struct ap_config cfg = load_ok(
		FW_BASE
		"firewall:\n"
		"  default: reject\n"
		"  zones: [{name: inside, interfaces: [lan]}, {name: outside, interfaces: [wan]}]\n"
		"  sets:\n"
		"    - {name: web, ports: ['80', '8000-8080']}\n"
		"    - {name: admins, addresses: [10.0.0.0/8, 'fd00::/8']}\n"
		"  policies: [{from: inside, to: any, action: accept}]\n"
		"  rules:\n"
		"    - {from: outside, to: inside, proto: tcp, dport: web, src: admins, "
		"action: accept}\n"
		"    - {from: outside, to: self, proto: icmp, icmp_type: 8, ct_state: [new], "
		"action: accept}\n"
		"    - {to: inside, proto: udp, dport: '53', src: 192.0.2.7, action: drop}\n");
	const struct ap_cfg_fw *fw = &cfg.firewall;

	cr_assert(fw->enabled);
	cr_assert(cfg.conntrack.enabled, "the firewall turns conntrack on");
	cr_assert_eq(fw->default_action, AP_FW_REJECT);
	cr_assert_eq(fw->n_zones, 2);
	cr_assert_eq(fw->n_rules, 3);
	cr_assert_eq(fw->rules[0].from_zone, 1);
	cr_assert_eq(fw->rules[0].to_zone, 0);
	cr_assert_eq(fw->rules[0].proto, 6);
	cr_assert_eq(fw->rules[0].dport, 0, "the named set");
	cr_assert_eq(fw->rules[0].src, 1);
	cr_assert_eq(fw->port_lo[fw->sets[0].first + 1], 8000);
	cr_assert_eq(fw->port_hi[fw->sets[0].first + 1], 8080);
	cr_assert_eq(fw->rules[1].to_zone, AP_FW_ZONE_SELF);
	cr_assert_eq(fw->rules[1].icmp_type, 8);
	cr_assert_eq(fw->rules[1].ct_state, AP_FW_CT_NEW);
	cr_assert_eq(fw->rules[2].from_zone, AP_FW_ZONE_ANY);
	cr_assert_geq(fw->rules[2].dport, 2, "an anonymous set");
	cr_assert_eq(fw->port_lo[fw->sets[fw->rules[2].dport].first], 53);
	cr_assert_eq(fw->addrs[fw->sets[fw->rules[2].src].first].len, 32);
	cr_assert_eq(fw->policies[0].to_zone, AP_FW_ZONE_ANY);
}

Test(config, nat)
{
	struct ap_config cfg =
		load_ok("nat:\n  masquerade: [{interface: wan, ports: '2000-2999'}]\n"
			"ports: [{name: b, driver: null}]\n"
			"interfaces: [{name: wan, port: b, addresses: [192.0.2.1/24]}]\n");

	cr_assert(cfg.nat.enabled);
	cr_assert(cfg.conntrack.enabled, "nat turns conntrack on");
	cr_assert_eq(cfg.nat.n_masq, 1);
	cr_assert_eq(cfg.nat.masq[0].iface_idx, 0, "resolved although listed later");
	cr_assert_eq(cfg.nat.masq[0].port_lo, 2000);
	cr_assert_eq(cfg.nat.masq[0].port_hi, 2999);
	cfg = load_ok("nat:\n  forward:\n"
		      "    - {interface: wan, proto: tcp, port: 8080, to: 10.0.0.5, to_port: 80}\n"
		      "    - {interface: wan, proto: udp, port: 53, to: 10.0.0.6}\n"
		      "ports: [{name: b, driver: null}]\n"
		      "interfaces: [{name: wan, port: b, addresses: [192.0.2.1/24]}]\n");
	cr_assert_eq(cfg.nat.n_fwd, 2);
	cr_assert_eq(cfg.nat.fwd[0].proto, 6);
	cr_assert_eq(cfg.nat.fwd[0].port, 8080);
	cr_assert_eq(cfg.nat.fwd[0].to_port, 80);
	cr_assert_eq(cfg.nat.fwd[0].to.addr[3], 5);
	cr_assert_eq(cfg.nat.fwd[1].to_port, 53, "the same port by default");
	cfg = load_ok("ports: [{name: a, driver: null}]\n"
		      "interfaces: [{name: lan, port: a, addresses: [10.0.0.1/24]}]\n"
		      "nat: {masquerade: [{interface: lan}]}\n");
	cr_assert_eq(cfg.nat.masq[0].port_lo, 1024, "the default range");
}

Test(config, anchors_and_quoted_strings)
{
	struct ap_config cfg = load_ok("ports:\n"
				       "  - &p {name: 'a', driver: \"null\", mtu: 1500}\n"
				       "  - {name: b, driver: tap, iface: 'x'}\n"
				       "dataplane: {eal_args: ''}\n"
				       "log: {level: 'warning', format: text}\n");

	cr_assert_eq(cfg.n_ports, 2);
	cr_assert_eq(cfg.ports[0].driver, AP_DRV_NULL);
	cr_assert_eq(cfg.ports[0].mtu, 1500);
	cr_assert_str_eq(cfg.ports[1].iface, "x");
	cr_assert_str_eq(cfg.eal_args, "");
	cr_assert_str_eq(cfg.log_level, "warning");
	cr_assert_eq(cfg.log_json, false);
}

/* Builds "ports:" with n null ports, and n/2 xconnects pairing them. */
static char *
many_ports(int n)
{
	size_t cap = 64 + (size_t)n * 64;
	char *s = malloc(cap);
	size_t len = 0;

	cr_assert_not_null(s);
	len += (size_t)snprintf(s + len, cap - len, "ports:\n");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "  - {name: p%d, driver: null}\n", i);
	len += (size_t)snprintf(s + len, cap - len, "xconnect:\n");
	for (int i = 0; i + 1 < n && i + 1 < AP_CFG_MAX_PORTS; i += 2)
		len += (size_t)snprintf(s + len, cap - len, "  - {a: p%d, b: p%d}\n", i, i + 1);
	return s;
}

Test(config, port_count_limit)
{
	char err[AP_CFG_ERR_MAX];
	struct ap_config cfg;
	char *yaml;

	yaml = many_ports(AP_CFG_MAX_PORTS);
	cfg = load_ok(yaml);
	cr_assert_eq(cfg.n_ports, AP_CFG_MAX_PORTS);
	cr_assert_eq(cfg.n_xconnects, AP_CFG_MAX_PORTS / 2);
	cr_assert_str_eq(cfg.ports[31].name, "p31");
	cr_assert_eq(cfg.xconnects[15].b_idx, 31);
	free(yaml);

	yaml = many_ports(AP_CFG_MAX_PORTS + 1);
	cr_assert_eq(ap_config_load_buf("t.yaml", yaml, strlen(yaml), &cfg, err), -EINVAL);
	cr_assert_str_eq(err, "t.yaml:34:5: too many ports (max 32)");
	free(yaml);
}

Test(config, buffer_name_and_nul_inside_buffer)
{
	char err[AP_CFG_ERR_MAX];
	struct ap_config cfg;
	static const char yaml[] = "log: {level: debug}\n\0junk";

	/* Length counts: bytes after an embedded NUL are still parsed. */
	cr_assert_lt(ap_config_load_buf(NULL, yaml, sizeof(yaml) - 1, &cfg, err), 0);
	cr_assert(strncmp(err, "<buffer>:2:1: ", 14) == 0, "%s", err);
	cr_assert_eq(ap_config_load_buf("x", yaml, strlen(yaml), &cfg, err), 0);
	cr_assert_str_eq(cfg.path, "x");
	cr_assert_str_eq(cfg.log_level, "debug");
}

Test(config, driver_names)
{
	cr_assert_str_eq(ap_port_driver_name(AP_DRV_AF_PACKET), "af_packet");
	cr_assert_str_eq(ap_port_driver_name(AP_DRV_AF_XDP), "af_xdp");
	cr_assert_str_eq(ap_port_driver_name(AP_DRV_PCAP), "pcap");
	cr_assert_str_eq(ap_port_driver_name(AP_DRV_TAP), "tap");
	cr_assert_str_eq(ap_port_driver_name(AP_DRV_NULL), "null");
	cr_assert_str_eq(ap_port_driver_name(AP_DRV_RING), "ring");
	cr_assert_str_eq(ap_port_driver_name(AP_DRV_DEVARGS), "devargs");
	cr_assert_str_eq(ap_port_driver_name((enum ap_port_driver)99), "?");
}

Test(config, port_defaults)
{
	struct ap_cfg_port p;

	memset(&p, 0xff, sizeof(p));
	ap_config_port_defaults(&p);
	cr_assert_eq(p.rxq_size, 1024);
	cr_assert_eq(p.txq_size, 1024);
	cr_assert_eq(p.mtu, 0);
	cr_assert_eq(p.validate, AP_VALIDATE_L2);
	cr_assert_str_eq(p.name, "");
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fputs(text, f) >= 0, 1);
	cr_assert_eq(fclose(f), 0);
}

Test(config, load_file_resolves_relative_pcap_paths)
{
	char tmpl[] = "/tmp/ap-config-test-XXXXXX";
	char path[PATH_MAX], want[PATH_MAX + 16], err[AP_CFG_ERR_MAX];
	char *dir = mkdtemp(tmpl), *real;
	struct ap_config cfg;

	cr_assert_not_null(dir);
	real = realpath(dir, NULL);
	cr_assert_not_null(real);
	snprintf(path, sizeof(path), "%s/aetherd.yaml", dir);
	write_file(path, "ports:\n"
			 "  - name: cap\n"
			 "    driver: pcap\n"
			 "    rx_pcap: in.pcap\n"
			 "    tx_pcap: /var/tmp/out.pcap\n"
			 "  - {name: cap2, driver: pcap, tx_pcap: sub/../o2.pcap}\n"
			 "  - {name: gen, driver: null, rx_template: frames.pcap}\n");

	cr_assert_eq(ap_config_load_file(path, &cfg, err), 0, "%s", err);
	cr_assert_str_eq(cfg.path, path);
	snprintf(want, sizeof(want), "%s/in.pcap", real);
	cr_assert_str_eq(cfg.ports[0].rx_pcap, want);
	cr_assert_str_eq(cfg.ports[0].tx_pcap, "/var/tmp/out.pcap");
	snprintf(want, sizeof(want), "%s/sub/../o2.pcap", real);
	cr_assert_str_eq(cfg.ports[1].tx_pcap, want);
	snprintf(want, sizeof(want), "%s/frames.pcap", real);
	cr_assert_str_eq(cfg.ports[2].rx_template, want);

	/* A relative config path resolves against the current directory. */
	cr_assert_eq(chdir(dir), 0);
	cr_assert_eq(ap_config_load_file("aetherd.yaml", &cfg, err), 0, "%s", err);
	snprintf(want, sizeof(want), "%s/in.pcap", real);
	cr_assert_str_eq(cfg.ports[0].rx_pcap, want);

	/* Errors name the file as given. */
	write_file(path, "log:\n  level: loud\n");
	cr_assert_eq(ap_config_load_file("aetherd.yaml", &cfg, err), -EINVAL);
	cr_assert(strncmp(err, "aetherd.yaml:2:10: invalid value 'loud' for log.level", 53) == 0,
		  "%s", err);

	unlink(path);
	cr_assert_eq(rmdir(dir), 0);
	free(real);
}

Test(config, null_port_rx_template)
{
	struct ap_config cfg = load_ok("ports:\n"
				       "  - {name: gen, driver: null, rx_template: frames.pcap}\n"
				       "  - {name: sink, driver: null}\n");

	/* A buffer has no directory: the path stays as given. */
	cr_assert_str_eq(cfg.ports[0].rx_template, "frames.pcap");
	cr_assert_str_eq(cfg.ports[1].rx_template, "");
}

Test(config, interfaces_and_routes)
{
	struct ap_config cfg = load_ok("ports:\n  - {name: a, driver: null}\n  - {name: b, driver: null}\n"
				       "interfaces:\n"
				       "  - {name: lan, port: b, mtu: 9000, addresses: [192.168.1.1/24, "
				       "\"fd00:1::1/64\"]}\n"
				       "routes:\n"
				       "  - {prefix: 0.0.0.0/0, via: 192.168.1.254}\n"
				       "  - {prefix: \"2001:db8::/32\", via: \"fd00:1::fe\"}\n"
				       "  - {prefix: 10.0.0.0/8, via: blackhole}\n");
	char b[64];

	cr_assert_eq(cfg.n_ifaces, 1);
	cr_expect_str_eq(cfg.ifaces[0].name, "lan");
	cr_expect_eq(cfg.ifaces[0].port_idx, 1);
	cr_expect_eq(cfg.ifaces[0].mtu, 9000);
	cr_assert_eq(cfg.ifaces[0].n_addrs, 2);
	cr_expect_str_eq(ap_cfg_prefix_fmt(&cfg.ifaces[0].addrs[0], true, b, sizeof(b)),
			 "192.168.1.1/24");
	cr_expect_str_eq(ap_cfg_prefix_fmt(&cfg.ifaces[0].addrs[1], true, b, sizeof(b)),
			 "fd00:1::1/64");
	cr_assert_eq(cfg.n_routes, 3);
	cr_expect_str_eq(ap_cfg_prefix_fmt(&cfg.routes[0].prefix, true, b, sizeof(b)), "0.0.0.0/0");
	cr_expect_eq(cfg.routes[0].n_via, 1);
	cr_expect_str_eq(ap_cfg_prefix_fmt(&cfg.routes[0].via[0], false, b, sizeof(b)),
			 "192.168.1.254");
	cr_expect_eq(cfg.routes[1].prefix.family, 6);
	cr_expect_eq(cfg.routes[1].prefix.len, 32);
	cr_expect(cfg.routes[2].blackhole);
}

Test(config, ecmp_routes)
{
	struct ap_config cfg = load_ok("ports:\n  - {name: a, driver: null}\n"
				       "interfaces:\n  - {name: x, port: a, addresses: [10.0.0.1/24]}\n"
				       "routes:\n"
				       "  - {prefix: 0.0.0.0/0, via: [10.0.0.2, 10.0.0.3]}\n");
	char b[64];

	cr_assert_eq(cfg.routes[0].n_via, 2);
	cr_expect_str_eq(ap_cfg_prefix_fmt(&cfg.routes[0].via[1], false, b, sizeof(b)),
			 "10.0.0.3");
}

Test(config, load_file_errors)
{
	char err[AP_CFG_ERR_MAX];
	struct ap_config cfg;

	cr_assert_eq(ap_config_load_file("/nonexistent/aetherd.yaml", &cfg, err), -ENOENT);
	cr_assert_str_eq(err, "/nonexistent/aetherd.yaml: cannot open: No such file or directory");

	cr_assert_lt(ap_config_load_file("/", &cfg, err), 0);
	cr_assert(strncmp(err, "/: cannot read: ", 16) == 0, "%s", err);
}
