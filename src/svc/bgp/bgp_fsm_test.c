/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * BGP FSM: RFC 4271 §8 transitions and the hold, keepalive, connect-retry
 * and idle-hold timers, as sequences of events and clock ticks.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "svc/bgp/bgp.h"

/* Rows are handed over by index: tests run in a fresh process. */
#define TABLE_PARAMS(suite, name, table)                                                           \
	ParameterizedTestParameters(suite, name)                                                   \
	{                                                                                          \
		static size_t idx[sizeof(table) / sizeof((table)[0])];                             \
                                                                                                   \
		for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)                          \
			idx[i] = i;                                                                \
		return cr_make_param_array(size_t, idx, sizeof(idx) / sizeof(idx[0]));             \
	}

enum op { END, EV, POLL };

struct step {
	enum op op;
	uint64_t at; /* Clock, ms. */
	enum ap_bgp_event ev;
	uint16_t hold; /* Peer hold time for OPEN. */
};

#define E(t, e)                                                                                    \
	{                                                                                          \
		EV, t, AP_BGP_EV_##e, 0                                                            \
	}
#define OPEN(t, h)                                                                                 \
	{                                                                                          \
		EV, t, AP_BGP_EV_OPEN, h                                                           \
	}
#define P(t)                                                                                       \
	{                                                                                          \
		POLL, t, 0, 0                                                                      \
	}
/* Idle -> Established with a peer offering hold time h, at t = 0..3. */
#define UP(h) E(0, START), E(1, TCP_UP), OPEN(2, h), E(3, KEEPALIVE)

struct fsm_case {
	const char *name;
	bool passive;
	uint16_t hold;
	struct step steps[12];
	enum ap_bgp_state state;
	uint32_t acts; /* Of the last step. */
	uint8_t code, subcode;
	uint64_t next; /* Expected ap_bgp_fsm_next() afterwards (UINT64_MAX: not checked). */
};

#define ANY   UINT64_MAX
#define DO(x) AP_BGP_DO_##x

static struct fsm_case cases[] = {
	{"start connects", false, 90, {E(0, START)}, AP_BGP_CONNECT, DO(CONNECT), 0, 0, 120000},
	{"passive start waits", true, 90, {E(0, START)}, AP_BGP_ACTIVE, 0, 0, 0, 120000},
	{"idle ignores messages", false, 90, {E(0, KEEPALIVE)}, AP_BGP_IDLE, 0, 0, 0, 0},
	{"idle refuses connections", false, 90, {E(0, TCP_UP)}, AP_BGP_IDLE, DO(CLOSE), 0, 0, 0},
	{"connect: tcp up sends open",
	 false,
	 90,
	 {E(0, START), E(5, TCP_UP)},
	 AP_BGP_OPENSENT,
	 DO(OPEN),
	 0,
	 0,
	 5 + 240000},
	{"connect: failure goes active",
	 false,
	 90,
	 {E(0, START), E(5, TCP_FAIL)},
	 AP_BGP_ACTIVE,
	 DO(CLOSE),
	 0,
	 0,
	 5 + 120000},
	{"connect: retry timer reconnects",
	 false,
	 90,
	 {E(0, START), P(120000)},
	 AP_BGP_CONNECT,
	 DO(CLOSE) | DO(CONNECT),
	 0,
	 0,
	 240000},
	{"connect: poll before deadline does nothing",
	 false,
	 90,
	 {E(0, START), P(119999)},
	 AP_BGP_CONNECT,
	 0,
	 0,
	 0,
	 120000},
	{"active: retry timer connects",
	 false,
	 90,
	 {E(0, START), E(1, TCP_FAIL), P(120001)},
	 AP_BGP_CONNECT,
	 DO(CONNECT),
	 0,
	 0,
	 240001},
	{"active passive: retry timer waits",
	 true,
	 90,
	 {E(0, START), P(120000)},
	 AP_BGP_ACTIVE,
	 0,
	 0,
	 0,
	 240000},
	{"active: accepted connection sends open",
	 true,
	 90,
	 {E(0, START), E(7, TCP_UP)},
	 AP_BGP_OPENSENT,
	 DO(OPEN),
	 0,
	 0,
	 ANY},
	{"opensent: open negotiates hold",
	 false,
	 90,
	 {E(0, START), E(1, TCP_UP), OPEN(2, 30)},
	 AP_BGP_OPENCONFIRM,
	 DO(KEEPALIVE),
	 0,
	 0,
	 2 + 10000},
	{"opensent: hold time zero disables timers",
	 false,
	 90,
	 {E(0, START), E(1, TCP_UP), OPEN(2, 0)},
	 AP_BGP_OPENCONFIRM,
	 DO(KEEPALIVE),
	 0,
	 0,
	 0},
	{"opensent: keepalive is an fsm error",
	 false,
	 90,
	 {E(0, START), E(1, TCP_UP), E(2, KEEPALIVE)},
	 AP_BGP_IDLE,
	 DO(NOTIFY) | DO(CLOSE),
	 5,
	 1,
	 2 + 5000},
	{"opensent: update is an fsm error",
	 false,
	 90,
	 {E(0, START), E(1, TCP_UP), E(2, UPDATE)},
	 AP_BGP_IDLE,
	 DO(NOTIFY) | DO(CLOSE),
	 5,
	 1,
	 ANY},
	{"opensent: open error notifies",
	 false,
	 90,
	 {E(0, START), E(1, TCP_UP), E(2, MSG_ERR)},
	 AP_BGP_IDLE,
	 DO(NOTIFY) | DO(CLOSE),
	 2,
	 2,
	 ANY},
	{"opensent: hold expires waiting for open",
	 false,
	 90,
	 {E(0, START), E(1, TCP_UP), P(240001)},
	 AP_BGP_IDLE,
	 DO(NOTIFY) | DO(CLOSE),
	 4,
	 0,
	 ANY},
	{"opensent: tcp failure goes active",
	 false,
	 90,
	 {E(0, START), E(1, TCP_UP), E(2, TCP_FAIL)},
	 AP_BGP_ACTIVE,
	 DO(CLOSE),
	 0,
	 0,
	 ANY},
	{"opensent: notification goes idle",
	 false,
	 90,
	 {E(0, START), E(1, TCP_UP), E(2, NOTIFICATION)},
	 AP_BGP_IDLE,
	 DO(CLOSE),
	 0,
	 0,
	 ANY},
	{"openconfirm: keepalive establishes",
	 false,
	 90,
	 {UP(90)},
	 AP_BGP_ESTABLISHED,
	 DO(ESTABLISHED),
	 0,
	 0,
	 2 + 30000},
	{"openconfirm: keepalive timer",
	 false,
	 90,
	 {E(0, START), E(1, TCP_UP), OPEN(2, 90), P(30002)},
	 AP_BGP_OPENCONFIRM,
	 DO(KEEPALIVE),
	 0,
	 0,
	 ANY},
	{"openconfirm: second open is an fsm error",
	 false,
	 90,
	 {E(0, START), E(1, TCP_UP), OPEN(2, 90), OPEN(3, 90)},
	 AP_BGP_IDLE,
	 DO(NOTIFY) | DO(CLOSE),
	 5,
	 2,
	 ANY},
	{"openconfirm: hold expires",
	 false,
	 90,
	 {E(0, START), E(1, TCP_UP), OPEN(2, 9), P(9002)},
	 AP_BGP_IDLE,
	 DO(NOTIFY) | DO(CLOSE),
	 4,
	 0,
	 ANY},
	{"established: keepalive timer fires every third",
	 false,
	 90,
	 {UP(90), P(30002)},
	 AP_BGP_ESTABLISHED,
	 DO(KEEPALIVE),
	 0,
	 0,
	 60002},
	{"established: update restarts hold",
	 false,
	 90,
	 {UP(9), E(8000, UPDATE), P(9003)},
	 AP_BGP_ESTABLISHED,
	 DO(KEEPALIVE),
	 0,
	 0,
	 12003},
	{"established: hold expiry drops the session",
	 false,
	 90,
	 {UP(9), P(9003)},
	 AP_BGP_IDLE,
	 DO(NOTIFY) | DO(CLOSE) | DO(DOWN),
	 4,
	 0,
	 9003 + 5000},
	{"established: keepalives keep it up",
	 false,
	 90,
	 {UP(9), E(8000, KEEPALIVE), P(16000), E(16500, KEEPALIVE), P(25000)},
	 AP_BGP_ESTABLISHED,
	 DO(KEEPALIVE),
	 0,
	 0,
	 ANY},
	{"established: notification drops the session",
	 false,
	 90,
	 {UP(90), E(10, NOTIFICATION)},
	 AP_BGP_IDLE,
	 DO(CLOSE) | DO(DOWN),
	 0,
	 0,
	 10 + 5000},
	{"established: update error drops the session",
	 false,
	 90,
	 {UP(90), E(10, MSG_ERR)},
	 AP_BGP_IDLE,
	 DO(NOTIFY) | DO(CLOSE) | DO(DOWN),
	 2,
	 2,
	 ANY},
	{"established: open is an fsm error",
	 false,
	 90,
	 {UP(90), OPEN(10, 90)},
	 AP_BGP_IDLE,
	 DO(NOTIFY) | DO(CLOSE) | DO(DOWN),
	 5,
	 3,
	 ANY},
	{"established: tcp failure drops the session",
	 false,
	 90,
	 {UP(90), E(10, TCP_FAIL)},
	 AP_BGP_IDLE,
	 DO(CLOSE) | DO(DOWN),
	 0,
	 0,
	 10 + 5000},
	{"established: stop sends cease and stays down",
	 false,
	 90,
	 {UP(90), E(10, STOP)},
	 AP_BGP_IDLE,
	 DO(NOTIFY) | DO(CLOSE) | DO(DOWN),
	 6,
	 2,
	 0},
	{"stop in connect closes quietly",
	 false,
	 90,
	 {E(0, START), E(1, STOP)},
	 AP_BGP_IDLE,
	 DO(CLOSE),
	 0,
	 0,
	 0},
	{"automatic restart after idle hold",
	 false,
	 90,
	 {UP(90), E(10, NOTIFICATION), P(5010)},
	 AP_BGP_CONNECT,
	 DO(CONNECT),
	 0,
	 0,
	 5010 + 120000},
	{"passive automatic restart",
	 true,
	 90,
	 {UP(90), E(10, TCP_FAIL), P(5010)},
	 AP_BGP_ACTIVE,
	 0,
	 0,
	 0,
	 ANY},
	{"our hold time when the peer's is larger",
	 false,
	 30,
	 {UP(240), P(10002)},
	 AP_BGP_ESTABLISHED,
	 DO(KEEPALIVE),
	 0,
	 0,
	 ANY},
};

TABLE_PARAMS(bgp_fsm, transitions, cases)

ParameterizedTest(size_t *row, bgp_fsm, transitions)
{
	const struct fsm_case *c = &cases[*row];
	struct ap_bgp_fsm_cfg cfg = {.passive = c->passive, .hold_time = c->hold};
	struct ap_bgp_err open_err = {.code = 2, .subcode = 2};
	struct ap_bgp_fsm f;
	struct ap_bgp_fsm_out out = {0};

	ap_bgp_fsm_init(&f, &cfg, 0);
	for (size_t i = 0; i < 12 && c->steps[i].op != END; i++) {
		const struct step *s = &c->steps[i];
		struct ap_bgp_fsm_arg arg = {.hold_time = s->hold};

		if (s->ev == AP_BGP_EV_MSG_ERR)
			arg.err = &open_err;

		if (s->op == EV)
			ap_bgp_fsm_event(&f, s->ev, s->at, &arg, &out);
		else
			ap_bgp_fsm_poll(&f, s->at, &out);
	}
	cr_assert_eq(f.state, c->state, "%s: state %s, want %s", c->name,
		     ap_bgp_state_name(f.state), ap_bgp_state_name(c->state));
	cr_assert_eq(out.acts, c->acts, "%s: acts %#x, want %#x", c->name, out.acts, c->acts);
	if (c->acts & AP_BGP_DO_NOTIFY) {
		cr_assert_eq(out.err.code, c->code, "%s: code %u", c->name, out.err.code);
		cr_assert_eq(out.err.subcode, c->subcode, "%s: subcode %u", c->name,
			     out.err.subcode);
	}
	if (c->next != ANY)
		cr_assert_eq(ap_bgp_fsm_next(&f), c->next, "%s: next %lu, want %lu", c->name,
			     (unsigned long)ap_bgp_fsm_next(&f), (unsigned long)c->next);
}

Test(bgp_fsm, counters_and_names)
{
	struct ap_bgp_fsm_cfg cfg = {.hold_time = 90};
	struct ap_bgp_fsm f;
	struct ap_bgp_fsm_out out;
	struct ap_bgp_fsm_arg arg = {.hold_time = 90};

	ap_bgp_fsm_init(&f, &cfg, 0);
	for (int round = 0; round < 2; round++) {
		uint64_t t = (uint64_t)round * 100000;

		ap_bgp_fsm_event(&f, AP_BGP_EV_START, t, NULL, &out);
		ap_bgp_fsm_event(&f, AP_BGP_EV_TCP_UP, t + 1, NULL, &out);
		ap_bgp_fsm_event(&f, AP_BGP_EV_OPEN, t + 2, &arg, &out);
		ap_bgp_fsm_event(&f, AP_BGP_EV_KEEPALIVE, t + 3, NULL, &out);
		cr_assert_eq(f.since, t + 3);
		ap_bgp_fsm_event(&f, AP_BGP_EV_STOP, t + 4, NULL, &out);
	}
	cr_assert_eq(f.n_established, 2);
	cr_assert_eq(f.n_dropped, 2);
	cr_assert_eq(f.last_sent.code, AP_BGP_ERR_CEASE);
	cr_assert_str_eq(ap_bgp_state_name(AP_BGP_OPENCONFIRM), "OpenConfirm");
}

Test(bgp_fsm, stop_with_shutdown_communication)
{
	struct ap_bgp_fsm_cfg cfg = {.hold_time = 90};
	struct ap_bgp_fsm f;
	struct ap_bgp_fsm_out out;
	struct ap_bgp_fsm_arg arg = {.hold_time = 90};
	struct ap_bgp_err e;

	ap_bgp_fsm_init(&f, &cfg, 0);
	ap_bgp_fsm_event(&f, AP_BGP_EV_START, 0, NULL, &out);
	ap_bgp_fsm_event(&f, AP_BGP_EV_TCP_UP, 1, NULL, &out);
	ap_bgp_fsm_event(&f, AP_BGP_EV_OPEN, 2, &arg, &out);
	ap_bgp_err_shutdown(&e, AP_BGP_CEASE_SHUTDOWN, "planned work");
	arg.err = &e;
	ap_bgp_fsm_event(&f, AP_BGP_EV_STOP, 3, &arg, &out);
	cr_assert(out.acts & AP_BGP_DO_NOTIFY);
	cr_assert_eq(out.err.data_len, 13);
	cr_assert_arr_eq(out.err.data + 1, "planned work", 12);
}

Test(bgp_fsm, sending_defers_keepalive)
{
	struct ap_bgp_fsm_cfg cfg = {.hold_time = 90};
	struct ap_bgp_fsm f;
	struct ap_bgp_fsm_out out;
	struct ap_bgp_fsm_arg arg = {.hold_time = 90};

	ap_bgp_fsm_init(&f, &cfg, 0);
	ap_bgp_fsm_event(&f, AP_BGP_EV_START, 0, NULL, &out);
	ap_bgp_fsm_event(&f, AP_BGP_EV_TCP_UP, 0, NULL, &out);
	ap_bgp_fsm_event(&f, AP_BGP_EV_OPEN, 0, &arg, &out);
	ap_bgp_fsm_event(&f, AP_BGP_EV_KEEPALIVE, 0, NULL, &out);
	ap_bgp_fsm_sent(&f, 20000);
	ap_bgp_fsm_poll(&f, 30000, &out);
	cr_assert_eq(out.acts, 0);
	ap_bgp_fsm_poll(&f, 50000, &out);
	cr_assert_eq(out.acts, AP_BGP_DO_KEEPALIVE);
}
