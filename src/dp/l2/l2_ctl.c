/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * L2 control plane (main lcore): bridges, members and tag bindings built
 * from the config, the MAC table's single writer (learning from the
 * workers' reports, moves, aging, static entries, flush), and the JSON the
 * API shows.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dp/core/dp_core.h"
#include "dp/l2/l2.h"
#include "lib/log.h"

#define MOD	    "l2"
#define LEARN_BURST 256
#define LEARN_RING  4096

struct ap_l2_bind ap_l2_binds[AP_L2_BINDS_MAX];
struct ap_l2_member ap_l2_members[AP_L2_MEMBERS_MAX];
struct ap_bd ap_bds[AP_BD_MAX];
struct ap_l2_tables ap_l2;
struct ap_l2_stats *ap_l2_stats;

/* What the control plane keeps beside the data-plane tables. */
struct member_meta {
	const struct ap_cfg_bridge_member *cfg; /* NULL for a BVI */
	const char *iface;			/* BVI: its interface name */
	uint32_t learn_limit;
	uint32_t learned;
};

struct bd_meta {
	const struct ap_cfg_bridge *cfg;
	uint8_t bvi_mac[6];
	uint16_t bvi_member;
	uint64_t learned, moved, aged, limit_hits, table_full;
};

static struct {
	const struct ap_config *cfg;
	uint16_t n_binds;
	uint16_t n_members;
	struct member_meta members[AP_L2_MEMBERS_MAX];
	struct bd_meta bds[AP_BD_MAX];
	uint16_t *maps[AP_L2_BINDS_MAX]; /* 4096-entry binding maps we allocated */
	unsigned n_maps;
	uint32_t max_pos;
	uint64_t next_age_tsc;
	uint64_t age_every_tsc;
} l2;

static uint32_t
now_tick(void)
{
	return (uint32_t)(rte_rdtsc() >> AP_MAC_TICK_SHIFT);
}

static uint32_t
ticks_of_s(uint32_t s)
{
	uint64_t t = (uint64_t)s * rte_get_tsc_hz() >> AP_MAC_TICK_SHIFT;

	return t > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)t;
}

static uint32_t
vlan_tag(uint16_t tpid, uint16_t vid)
{
	return rte_cpu_to_be_32((uint32_t)tpid << 16 | vid);
}

/* Tags pushed for (vlan, inner): 802.1Q for one, 802.1ad outside 802.1Q for two. */
static uint8_t
tags_of(uint16_t vlan, uint16_t inner, uint32_t tags[2])
{
	if (vlan == 0)
		return 0;
	if (inner == 0) {
		tags[0] = vlan_tag(RTE_ETHER_TYPE_VLAN, vlan);
		return 1;
	}
	tags[0] = vlan_tag(RTE_ETHER_TYPE_QINQ, vlan);
	tags[1] = vlan_tag(RTE_ETHER_TYPE_VLAN, inner);
	return 2;
}

static uint16_t *
new_map(void)
{
	uint16_t *m;

	if (l2.n_maps == RTE_DIM(l2.maps))
		return NULL;
	m = rte_zmalloc("ap_vlan_map", AP_VLAN_IDS * sizeof(*m), RTE_CACHE_LINE_SIZE);
	if (m)
		l2.maps[l2.n_maps++] = m;
	return m;
}

static int
new_bind(enum ap_l2_bind_kind kind, uint8_t n_tags, uint16_t id)
{
	if (l2.n_binds == AP_L2_BINDS_MAX)
		return -ENOSPC;
	ap_l2_binds[l2.n_binds] =
		(struct ap_l2_bind){.kind = (uint8_t)kind, .n_tags = n_tags, .id = id};
	return l2.n_binds++;
}

/* Frames of @p port with tags (vlan, inner) go to (kind, id). The loader
 * made sure each tag stack has one owner. */
static int
bind_tags(uint16_t port, uint16_t vlan, uint16_t inner, enum ap_l2_bind_kind kind, uint16_t id)
{
	struct ap_port_fast *pf = &ap_ports_fast[port];
	uint16_t *outer;
	int b = new_bind(kind, (uint8_t)(vlan ? (inner ? 2 : 1) : 0), id);

	if (b < 0)
		return b;
	pf->l2 = 1;
	if (vlan == 0) {
		pf->untagged = (uint16_t)b;
		return 0;
	}
	if (pf->vlans == NULL) {
		pf->vlans = new_map();
		if (pf->vlans == NULL)
			return -ENOMEM;
	}
	outer = (uint16_t *)(uintptr_t)pf->vlans;
	if (inner == 0) {
		outer[vlan] = (uint16_t)b;
		return 0;
	}
	if (outer[vlan] == 0) {
		int q = new_bind(AP_BIND_QINQ, 1, 0);
		uint16_t *im = new_map();

		if (q < 0 || im == NULL)
			return -ENOMEM;
		ap_l2_binds[q].inner = im;
		outer[vlan] = (uint16_t)q;
	}
	((uint16_t *)(uintptr_t)ap_l2_binds[outer[vlan]].inner)[inner] = (uint16_t)b;
	return 0;
}

static int
new_member(uint16_t bd, const struct ap_cfg_bridge_member *mc, uint32_t learn_limit)
{
	struct ap_bd *b = &ap_bds[bd];

	if (l2.n_members == AP_L2_MEMBERS_MAX || b->n_members == RTE_DIM(b->members))
		return -ENOSPC;
	l2.members[l2.n_members] = (struct member_meta){.cfg = mc, .learn_limit = learn_limit};
	ap_l2_members[l2.n_members].bd = bd;
	b->members[b->n_members++] = l2.n_members;
	return l2.n_members++;
}

/* The MAC table: single writer. */

static int
mac_add(uint16_t bd, uint64_t key, uint16_t member, bool is_static)
{
	struct member_meta *mm = &l2.members[member];
	struct ap_mac_entry *e;
	int32_t pos;

	/* A limit of 0 learns nothing on the member. */
	if (!is_static && mm->learned >= mm->learn_limit) {
		l2.bds[bd].limit_hits++;
		return -ENOSPC;
	}
	pos = rte_hash_add_key(ap_l2.macs, &key);
	if (pos < 0 || (uint32_t)pos > l2.max_pos) {
		l2.bds[bd].table_full++;
		return -ENOSPC;
	}
	e = &ap_l2.entries[pos];
	e->key = key;
	e->is_static = is_static;
	e->seen = now_tick();
	/* Readers that find the key before this store see no member: a miss. */
	__atomic_store_n(&e->member, member, __ATOMIC_RELEASE);
	if (!is_static) {
		mm->learned++;
		l2.bds[bd].learned++;
	}
	return 0;
}

static void
mac_del(int32_t pos)
{
	struct ap_mac_entry *e = &ap_l2.entries[pos];
	uint64_t key = e->key;

	if (!e->is_static)
		l2.members[e->member].learned--;
	__atomic_store_n(&e->member, 0, __ATOMIC_RELEASE);
	/* The position is reused only after every worker's next quiescent state. */
	rte_hash_del_key(ap_l2.macs, &key);
}

static void
learn(const struct ap_l2_learn_ev *ev)
{
	uint16_t bd = (uint16_t)(ev->key >> 48);
	int32_t pos;

	if (ev->member == 0 || ev->member >= l2.n_members || bd >= AP_BD_MAX)
		return;
	pos = rte_hash_lookup(ap_l2.macs, &ev->key);
	if (pos >= 0 && ap_l2.entries[pos].member != 0) {
		struct ap_mac_entry *e = &ap_l2.entries[pos];

		if (e->is_static || e->member == ev->member) {
			e->seen = now_tick();
			return;
		}
		/* A move: the station now sits behind another member. */
		l2.members[e->member].learned--;
		l2.members[ev->member].learned++;
		e->seen = now_tick();
		__atomic_store_n(&e->member, ev->member, __ATOMIC_RELEASE);
		l2.bds[bd].moved++;
		return;
	}
	mac_add(bd, ev->key, ev->member, false);
}

static void
age(void)
{
	uint32_t now = now_tick();

	for (uint32_t pos = 0; pos <= l2.max_pos; pos++) {
		const struct ap_mac_entry *e = &ap_l2.entries[pos];
		uint16_t bd;
		uint32_t age_s;

		if (e->member == 0 || e->is_static)
			continue;
		bd = (uint16_t)(e->key >> 48);
		age_s = l2.bds[bd].cfg->mac_age;
		if (age_s == 0 || (uint32_t)(now - e->seen) < ticks_of_s(age_s))
			continue;
		mac_del((int32_t)pos);
		l2.bds[bd].aged++;
	}
}

void
ap_l2_poll(void)
{
	struct ap_l2_learn_ev ev[LEARN_BURST];
	unsigned n;

	if (ap_l2.macs == NULL)
		return;
	n = rte_ring_sc_dequeue_burst_elem(ap_l2.learn, ev, sizeof(ev[0]), LEARN_BURST, NULL);
	for (unsigned i = 0; i < n; i++)
		learn(&ev[i]);
	if (rte_rdtsc() >= l2.next_age_tsc) {
		age();
		l2.next_age_tsc = rte_rdtsc() + l2.age_every_tsc;
	}
}

static int
key_eq(const void *a, const void *b, size_t len)
{
	uint64_t x, y;

	RTE_SET_USED(len);
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return x != y;
}

static int
tables_create(const struct ap_config *cfg, char *err, size_t err_len)
{
	struct rte_hash_parameters hp = {
		.name = "ap_macs",
		.entries = cfg->mac_table_size,
		.key_len = sizeof(uint64_t),
		.hash_func = rte_hash_crc,
		.socket_id = (int)rte_socket_id(),
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	struct rte_hash_rcu_config rc = {.v = ap_dp_qsbr, .mode = RTE_HASH_QSBR_MODE_DQ};

	ap_l2.macs = rte_hash_create(&hp);
	if (ap_l2.macs == NULL)
		return ap_errf(err, err_len, -rte_errno, "cannot create the MAC table: %s",
			       rte_strerror(rte_errno));
	/* 8-byte keys would be compared with memcmp(): one word compare instead. */
	rte_hash_set_cmp_func(ap_l2.macs, key_eq);
	if (ap_dp_qsbr != NULL && rte_hash_rcu_qsbr_add(ap_l2.macs, &rc) != 0)
		return ap_errf(err, err_len, -rte_errno, "MAC table: RCU: %s",
			       rte_strerror(rte_errno));
	l2.max_pos = rte_hash_max_key_id(ap_l2.macs);
	ap_l2.entries =
		rte_zmalloc("ap_mac_entries", ((size_t)l2.max_pos + 1) * sizeof(*ap_l2.entries),
			    RTE_CACHE_LINE_SIZE);
	ap_l2.learn = rte_ring_create_elem("ap_l2_learn", sizeof(struct ap_l2_learn_ev), LEARN_RING,
					   (int)rte_socket_id(), RING_F_SC_DEQ);
	if (ap_l2.entries == NULL || ap_l2.learn == NULL)
		return ap_errf(err, err_len, -ENOMEM, "out of memory for the MAC table");
	l2.age_every_tsc = rte_get_tsc_hz();
	l2.next_age_tsc = rte_rdtsc() + l2.age_every_tsc;
	return 0;
}

int
ap_l2_start(const struct ap_config *cfg, const uint16_t *port_ids, const uint16_t *tx_edges,
	    char *err, size_t err_len)
{
	int rc;

	memset(&l2, 0, sizeof(l2));
	memset(ap_l2_binds, 0, sizeof(ap_l2_binds));
	memset(ap_l2_members, 0, sizeof(ap_l2_members));
	memset(ap_bds, 0, sizeof(ap_bds));
	l2.cfg = cfg;
	l2.n_binds = 1;
	l2.n_members = 1;
	ap_l2_stats = rte_zmalloc("ap_l2_stats", sizeof(*ap_l2_stats) * RTE_MAX_LCORE,
				  RTE_CACHE_LINE_SIZE);
	if (ap_l2_stats == NULL)
		return ap_errf(err, err_len, -ENOMEM, "out of memory for L2 counters");

	/* VLAN interfaces. */
	for (uint16_t i = 0; i < cfg->n_ifaces; i++) {
		const struct ap_cfg_iface *ci = &cfg->ifaces[i];

		if (ci->bridge[0] != '\0' || ci->vlan == 0)
			continue;
		rc = bind_tags(port_ids[ci->port_idx], ci->vlan, ci->inner_vlan, AP_BIND_L3,
			       (uint16_t)AP_L3_VIRT(i));
		if (rc < 0)
			return ap_errf(err, err_len, rc, "interface '%s': out of VLAN bindings",
				       ci->name);
	}
	if (cfg->n_bridges == 0)
		return 0;
	rc = tables_create(cfg, err, err_len);
	if (rc < 0)
		return rc;
	for (uint16_t b = 0; b < cfg->n_bridges; b++) {
		const struct ap_cfg_bridge *bc = &cfg->bridges[b];
		struct bd_meta *bm = &l2.bds[b];

		bm->cfg = bc;
		ap_bds[b].flood = bc->flood;
		ap_bds[b].learn = bc->learn;
		for (uint16_t i = 0; i < bc->n_members; i++) {
			const struct ap_cfg_bridge_member *mc = &bc->members[i];
			uint16_t port = port_ids[mc->port_idx];
			struct ap_l2_member *m;
			int id = new_member(b, mc, mc->learn_limit);

			if (id < 0)
				return ap_errf(err, err_len, id, "bridge '%s': too many members",
					       bc->name);
			m = &ap_l2_members[id];
			m->port = port;
			m->n_tags = tags_of(mc->vlan, mc->inner_vlan, m->tags);
			m->tx_edge = tx_edges[port];
			rc = bind_tags(port, mc->vlan, mc->inner_vlan, AP_BIND_BRIDGE,
				       (uint16_t)id);
			if (rc < 0)
				return ap_errf(err, err_len, rc,
					       "bridge '%s': out of VLAN bindings", bc->name);
		}
		/* The BVI's MAC: its first port's, as a Linux bridge takes one of its
		 * ports'; without one, a locally administered one. */
		if (bc->n_members > 0) {
			struct rte_ether_addr mac = {{0x02, 0xae, 0x70, 0x62, 0x64, (uint8_t)b}};

			if (rte_eth_dev_is_valid_port(port_ids[bc->members[0].port_idx]))
				rte_eth_macaddr_get(port_ids[bc->members[0].port_idx], &mac);
			memcpy(bm->bvi_mac, mac.addr_bytes, 6);
		} else {
			const uint8_t mac[6] = {0x02, 0xae, 0x70, 0x62, 0x64, (uint8_t)b};

			memcpy(bm->bvi_mac, mac, 6);
		}
		ap_bds[b].enabled = 1;
	}
	for (uint16_t i = 0; i < cfg->n_ifaces; i++) {
		const struct ap_cfg_iface *ci = &cfg->ifaces[i];
		uint16_t b = ci->bridge_idx;
		int id;

		if (ci->bridge[0] == '\0')
			continue;
		id = new_member(b, NULL, 0);
		if (id < 0)
			return ap_errf(err, err_len, id, "bridge '%s': too many members",
				       cfg->bridges[b].name);
		ap_l2_members[id].bvi = 1;
		ap_l2_members[id].l3 = (uint16_t)AP_L3_VIRT(i);
		l2.members[id].iface = ci->name;
		l2.bds[b].bvi_member = (uint16_t)id;
		rc = mac_add(b, ap_l2_key(b, l2.bds[b].bvi_mac), (uint16_t)id, true);
		if (rc < 0)
			return ap_errf(err, err_len, rc, "bridge '%s': MAC table full",
				       cfg->bridges[b].name);
	}
	for (uint16_t b = 0; b < cfg->n_bridges; b++) {
		const struct ap_cfg_bridge *bc = &cfg->bridges[b];

		for (uint16_t s = 0; s < bc->n_static; s++) {
			/* Members of bridge b were numbered in order after those before. */
			uint16_t id = ap_bds[b].members[bc->static_macs[s].member];

			rc = mac_add(b, ap_l2_key(b, bc->static_macs[s].mac), id, true);
			if (rc < 0)
				return ap_errf(err, err_len, rc, "bridge '%s': MAC table full",
					       bc->name);
		}
	}
	AP_LOG_INFO(MOD, "%u bridges, %u members, MAC table of %u", cfg->n_bridges,
		    l2.n_members - 1, cfg->mac_table_size);
	return 0;
}

void
ap_l2_bvi_mac(uint16_t bd, uint8_t mac[6])
{
	memcpy(mac, l2.bds[bd].bvi_mac, 6);
}

uint16_t
ap_l2_bvi_member(uint16_t bd)
{
	return l2.bds[bd].bvi_member;
}

void
ap_l2_stop(void)
{
	for (unsigned i = 0; i < l2.n_maps; i++)
		rte_free(l2.maps[i]);
	rte_hash_free(ap_l2.macs);
	rte_free(ap_l2.entries);
	rte_ring_free(ap_l2.learn);
	rte_free(ap_l2_stats);
	memset(&ap_l2, 0, sizeof(ap_l2));
	ap_l2_stats = NULL;
	memset(&l2, 0, sizeof(l2));
	for (unsigned p = 0; p < RTE_MAX_ETHPORTS; p++) {
		ap_ports_fast[p].l2 = 0;
		ap_ports_fast[p].untagged = 0;
		ap_ports_fast[p].vlans = NULL;
	}
}

int
ap_l2_flush(const char *name)
{
	int n = 0, bd = -1;

	if (name != NULL) {
		bd = l2.cfg ? ap_config_bridge_index(l2.cfg, name) : -1;
		if (bd < 0)
			return -ENOENT;
	}
	if (ap_l2.macs == NULL)
		return 0;
	for (uint32_t pos = 0; pos <= l2.max_pos; pos++) {
		const struct ap_mac_entry *e = &ap_l2.entries[pos];

		if (e->member == 0 || e->is_static || (bd >= 0 && (e->key >> 48) != (uint64_t)bd))
			continue;
		mac_del((int32_t)pos);
		n++;
	}
	return n;
}

/* JSON. */

static void
mac_str(uint64_t key, char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", ap_l2_key_byte(key, 0),
		 ap_l2_key_byte(key, 1), ap_l2_key_byte(key, 2), ap_l2_key_byte(key, 3),
		 ap_l2_key_byte(key, 4), ap_l2_key_byte(key, 5));
}

/* Where a member is: port and VLANs, or the bridge interface. */
static void
member_where(json_t *j, uint16_t id)
{
	const struct member_meta *mm = &l2.members[id];

	if (mm->cfg == NULL) {
		json_object_set_new(j, "interface", json_string(mm->iface));
		return;
	}
	json_object_set_new(j, "port", json_string(mm->cfg->port));
	if (mm->cfg->vlan)
		json_object_set_new(j, "vlan", json_integer(mm->cfg->vlan));
	if (mm->cfg->inner_vlan)
		json_object_set_new(j, "inner_vlan", json_integer(mm->cfg->inner_vlan));
}

json_t *
ap_l2_bridges_json(void)
{
	json_t *arr = json_array();
	uint64_t macs[AP_BD_MAX] = {0};

	if (l2.cfg == NULL)
		return json_pack("{s:o}", "bridges", arr);
	for (uint32_t pos = 0; ap_l2.macs && pos <= l2.max_pos; pos++)
		if (ap_l2.entries[pos].member != 0)
			macs[ap_l2.entries[pos].key >> 48]++;
	for (uint16_t b = 0; b < l2.cfg->n_bridges; b++) {
		const struct bd_meta *bm = &l2.bds[b];
		json_t *members = json_array();
		uint64_t flooded = 0;

		for (unsigned l = 0; l < RTE_MAX_LCORE; l++)
			flooded += ap_l2_stats[l].flooded[b];
		for (uint16_t k = 0; k < ap_bds[b].n_members; k++) {
			uint16_t id = ap_bds[b].members[k];
			uint64_t rx = 0, tx = 0;
			json_t *j = json_object();

			for (unsigned l = 0; l < RTE_MAX_LCORE; l++) {
				rx += ap_l2_stats[l].member_rx[id];
				tx += ap_l2_stats[l].member_tx[id];
			}
			member_where(j, id);
			json_object_set_new(j, "learned", json_integer(l2.members[id].learned));
			if (l2.members[id].cfg)
				json_object_set_new(j, "learn_limit",
						    json_integer(l2.members[id].learn_limit));
			json_object_set_new(j, "rx_packets", json_integer((json_int_t)rx));
			json_object_set_new(j, "tx_packets", json_integer((json_int_t)tx));
			json_array_append_new(members, j);
		}
		json_array_append_new(
			arr,
			json_pack("{s:s, s:i, s:b, s:b, s:I, s:o, s:{s:I, s:I, s:I, s:I, "
				  "s:I, s:I}}",
				  "name", bm->cfg->name, "mac_age", (json_int_t)bm->cfg->mac_age,
				  "learn", bm->cfg->learn, "flood", bm->cfg->flood, "macs",
				  (json_int_t)macs[b], "members", members, "counters", "learned",
				  (json_int_t)bm->learned, "moved", (json_int_t)bm->moved, "aged",
				  (json_int_t)bm->aged, "learn_limit_hits",
				  (json_int_t)bm->limit_hits, "table_full",
				  (json_int_t)bm->table_full, "flooded", (json_int_t)flooded));
	}
	return json_pack("{s:o}", "bridges", arr);
}

json_t *
ap_l2_macs_json(const char *name)
{
	json_t *arr = json_array();
	uint32_t now = now_tick();
	int bd = -1;

	if (name != NULL) {
		bd = l2.cfg ? ap_config_bridge_index(l2.cfg, name) : -1;
		if (bd < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	for (uint32_t pos = 0; ap_l2.macs && pos <= l2.max_pos; pos++) {
		const struct ap_mac_entry *e = &ap_l2.entries[pos];
		uint16_t b = (uint16_t)(e->key >> 48);
		char mac[18];
		json_t *j;

		if (e->member == 0 || (bd >= 0 && b != bd))
			continue;
		mac_str(e->key, mac);
		j = json_pack("{s:s, s:s, s:b}", "bridge", l2.cfg->bridges[b].name, "mac", mac,
			      "static", e->is_static);
		member_where(j, e->member);
		if (!e->is_static)
			json_object_set_new(
				j, "age_s",
				json_integer((json_int_t)(((uint64_t)(uint32_t)(now - e->seen)
							   << AP_MAC_TICK_SHIFT) /
							  rte_get_tsc_hz())));
		json_array_append_new(arr, j);
	}
	return json_pack("{s:o}", "macs", arr);
}
