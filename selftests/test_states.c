// SPDX-License-Identifier: GPL-2.0
/*
 * Connection state sequences, held one state at a time by a scripted peer
 * (xtcp_peer.h) and observed through the socket table in /proc (st column)
 * and through the socket's info option (first byte: the state).
 *
 * Each sequence runs against Linux TCP and xtcp with the same
 * expectations: TCP is the oracle. TIME_WAIT's length is xtcp's own knob
 * (Linux holds it a fixed 60 s), so only xtcp is waited out; the
 * xtcp:xtcp_set_state tracepoint is checked on xtcp alone.
 *
 * Needs root (tun device, sysctls); each test makes its own network
 * namespace, so every knob set here dies with it.
 */

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"
#include "xtcp_peer.h"

#define KADDR		"10.9.0.1"
#define PADDR		"10.9.0.2"
#define MSL_MS		200
#define TRACEFS		"/sys/kernel/tracing"

/* TCP_* state numbers as /proc and the info options show them. */
enum {
	ST_ESTABLISHED = 1,
	ST_SYN_SENT,
	ST_SYN_RECV,
	ST_FIN_WAIT1,
	ST_FIN_WAIT2,
	ST_TIME_WAIT,
	ST_CLOSE,
	ST_CLOSE_WAIT,
	ST_LAST_ACK,
	ST_LISTEN,
	ST_CLOSING,
};

/* Timer kinds of the "tr" column. */
#define TR_TIME_WAIT	3

FIXTURE(st) {
	struct xp_peer p;
};

FIXTURE_VARIANT(st) {
	int proto;
	const char *proc;
	int info_level;
	int info_name;
	/* matching knobs: path, value */
	const char *knob[4];
	long val[4];
	/* where AttemptFails is read */
	bool snmp;
};

FIXTURE_VARIANT_ADD(st, tcp) {
	.proto = IPPROTO_TCP,
	.proc = "/proc/net/tcp",
	.info_level = SOL_TCP,
	.info_name = TCP_INFO,
	.knob = {
		"/proc/sys/net/ipv4/tcp_syn_retries",
		"/proc/sys/net/ipv4/tcp_synack_retries",
		"/proc/sys/net/ipv4/tcp_rto_min_us",
		"/proc/sys/net/ipv4/tcp_fin_timeout",
	},
	.val = { 3, 3, 200000, 60 },
	.snmp = true,
};

FIXTURE_VARIANT_ADD(st, xtcp) {
	.proto = IPPROTO_XTCP,
	.proc = "/proc/net/xtcp",
	.info_level = SOL_XTCP,
	.info_name = XTCP_INFO,
	.knob = {
		XTCP_SYSCTL_DIR "syn_retries",
		XTCP_SYSCTL_DIR "synack_retries",
		XTCP_SYSCTL_DIR "rto_min",
		XTCP_SYSCTL_DIR "fin_timeout",
	},
	.val = { 3, 3, 200, 60 },
	.snmp = false,
};

FIXTURE_SETUP(st)
{
	size_t i;
	int err;

	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("unshare: %s", strerror(-err));
	for (i = 0; i < ARRAY_SIZE(variant->knob); i++) {
		err = xtcp_write_long(variant->knob[i], variant->val[i]);
		/* 6.1 has no tcp_rto_min_us, and its fixed floor is 200 ms. */
		if (err == -ENOENT && strstr(variant->knob[i], "tcp_rto_min_us"))
			err = xtcp_tcp_rto_min_ms(variant->val[i] / 1000);
		ASSERT_EQ(0, err) TH_LOG("%s: %s", variant->knob[i],
					 strerror(-err));
	}
	if (variant->proto == IPPROTO_XTCP) {
		err = xtcp_sysctl_set("msl", MSL_MS);
		ASSERT_EQ(0, err) TH_LOG("msl: %s", strerror(-err));
	}
	err = xp_open(&self->p, variant->proto, KADDR, PADDR);
	ASSERT_EQ(0, err) TH_LOG("xp_open: %s", strerror(-err));
}

FIXTURE_TEARDOWN(st)
{
	xp_close(&self->p);
}

/* The state byte of TCP_INFO / XTCP_INFO (both structs start with it). */
static int info_state(const FIXTURE_VARIANT(st) *variant, int fd)
{
	__u8 info[sizeof(struct xtcp_info)];
	socklen_t len = sizeof(info);

	if (getsockopt(fd, variant->info_level, variant->info_name, info, &len))
		return -errno;
	return len ? info[0] : -EINVAL;
}

static long attempt_fails(const FIXTURE_VARIANT(st) *variant)
{
	return variant->snmp ? xtcp_snmp_tcp("AttemptFails") :
			       xtcp_counter("AttemptFails");
}

#define CTL (XP_SYN | XP_ACK | XP_RST | XP_FIN)

/*
 * Client: SYN_SENT (SYN-ACK held back), ESTABLISHED, close() ->
 * FIN_WAIT1 (ACK held back), FIN_WAIT2 (ACK, no FIN), TIME_WAIT (FIN,
 * which the kernel ACKs), and for xtcp gone after 2 x MSL.
 */
TEST_F(st, client_path)
{
	struct sockaddr_in sin = xtcp_sin(PADDR, 8001);
	struct xp_seg syn, fin, s, r;
	const __u32 pisn = 7000;
	struct xtcp_proc_entry ps;
	__s64 t_tw, t_gone;
	struct xp_conn c = { 0 };
	int st;

	c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, variant->proto);
	ASSERT_LE(0, c.fd);
	ASSERT_EQ(-1, connect(c.fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(EINPROGRESS, errno);
	ASSERT_EQ(0, xp_expect(&self->p, &syn, CTL, XP_SYN, 3000));
	TH_LOG("got %s", XP_SEG_STR(&syn));
	c.kport = syn.sport;
	c.pport = 8001;

	EXPECT_EQ(ST_SYN_SENT, xtcp_proc_state(variant->proc, c.kport, c.pport));
	EXPECT_EQ(ST_SYN_SENT, info_state(variant, c.fd));

	xp_seg_reply(&syn, &s);
	s.seq = pisn;
	s.flags = XP_SYN | XP_ACK;
	s.mss = 1460;
	s.ts = false;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c.p_nxt = pisn + 1;
	c.k_nxt = syn.seq + 1;
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &r, CTL, XP_ACK, c.p_nxt,
					3000));
	EXPECT_EQ(c.k_nxt, r.seq);
	EXPECT_EQ(ST_ESTABLISHED, xtcp_proc_wait_state(variant->proc, c.kport, c.pport,
						       ST_ESTABLISHED, 3000));
	EXPECT_EQ(ST_ESTABLISHED, info_state(variant, c.fd));

	/* close(): our FIN goes out; its ACK is held back. */
	ASSERT_EQ(0, close(c.fd));
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &fin, CTL,
					XP_FIN | XP_ACK, c.p_nxt, 3000));
	TH_LOG("got %s", XP_SEG_STR(&fin));
	EXPECT_EQ(c.k_nxt, fin.seq);
	EXPECT_EQ(0U, fin.len);
	EXPECT_EQ(ST_FIN_WAIT1, xtcp_proc_state(variant->proc, c.kport, c.pport));

	/* The peer ACKs the FIN and sends nothing else. */
	c.k_nxt = fin.seq + 1;
	xp_conn_seg(&self->p, &c, &s, XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	EXPECT_EQ(ST_FIN_WAIT2, xtcp_proc_wait_state(variant->proc, c.kport, c.pport,
						     ST_FIN_WAIT2, 3000));

	/* The peer's FIN: the kernel ACKs it and enters TIME_WAIT. */
	xp_conn_seg(&self->p, &c, &s, XP_FIN | XP_ACK);
	t_tw = xp_now_ms();	/* TIME_WAIT cannot start before this */
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c.p_nxt++;
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &r, CTL, XP_ACK, c.p_nxt,
					3000));
	EXPECT_EQ(c.k_nxt, r.seq);
	ASSERT_EQ(ST_TIME_WAIT, xtcp_proc_wait_state(variant->proc, c.kport, c.pport,
						     ST_TIME_WAIT, 3000));
	ASSERT_EQ(0, xtcp_proc_find(variant->proc, c.kport, c.pport, &ps));
	EXPECT_EQ((unsigned int)TR_TIME_WAIT, ps.tr);
	EXPECT_EQ(self->p.kaddr.s_addr, ps.laddr);
	EXPECT_EQ(self->p.paddr.s_addr, ps.raddr);

	if (variant->proto != IPPROTO_XTCP)
		return;		/* Linux: a fixed 60 s */

	EXPECT_GE(2UL * MSL_MS, ps.when);
	st = xtcp_proc_wait_state(variant->proc, c.kport, c.pport, -ENOENT,
				  2 * MSL_MS + 5000);
	t_gone = xp_now_ms();
	EXPECT_EQ(-ENOENT, st);
	TH_LOG("TIME_WAIT gone after %lld ms", (long long)(t_gone - t_tw));
	/* The timer cannot fire early; allow for a partial jiffy. */
	EXPECT_LE(2 * MSL_MS - 10, t_gone - t_tw);
}

/*
 * The same client path with shutdown(SHUT_WR), so that the socket's own
 * view can be read at every step; after TIME_WAIT took over the 4-tuple
 * the socket itself is CLOSED.
 */
TEST_F(st, client_path_shutdown)
{
	struct xp_seg fin, s, r;
	struct xp_conn c = { 0 };
	char buf[8];

	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 8002, 9000, false));
	EXPECT_EQ(ST_ESTABLISHED, info_state(variant, c.fd));

	ASSERT_EQ(0, shutdown(c.fd, SHUT_WR));
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &fin, CTL,
					XP_FIN | XP_ACK, c.p_nxt, 3000));
	EXPECT_EQ(c.k_nxt, fin.seq);
	EXPECT_EQ(ST_FIN_WAIT1, info_state(variant, c.fd));
	EXPECT_EQ(ST_FIN_WAIT1, xtcp_proc_state(variant->proc, c.kport, c.pport));

	c.k_nxt++;
	xp_conn_seg(&self->p, &c, &s, XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	EXPECT_EQ(ST_FIN_WAIT2, xtcp_proc_wait_state(variant->proc, c.kport, c.pport,
						     ST_FIN_WAIT2, 3000));
	EXPECT_EQ(ST_FIN_WAIT2, info_state(variant, c.fd));
	EXPECT_EQ(-1, recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);

	xp_conn_seg(&self->p, &c, &s, XP_FIN | XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c.p_nxt++;
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &r, CTL, XP_ACK, c.p_nxt,
					3000));
	EXPECT_EQ(ST_TIME_WAIT, xtcp_proc_wait_state(variant->proc, c.kport, c.pport,
						     ST_TIME_WAIT, 3000));
	EXPECT_EQ(ST_CLOSE, info_state(variant, c.fd));
	EXPECT_EQ(0, recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT));
	close(c.fd);
}

/*
 * Server: LISTEN, SYN_RCVD (SYN-ACK sent, the peer's ACK held back),
 * ESTABLISHED, CLOSE_WAIT (peer's FIN ACKed, read gives EOF), LAST_ACK
 * (close() sends our FIN), gone when the peer ACKs it.
 */
TEST_F(st, server_path)
{
	struct sockaddr_in sin = xtcp_sin(KADDR, 8010);
	struct xp_seg s, sa, r, fin;
	const __u32 pisn = 0xfffffffeu;	/* wraps */
	struct xp_conn c = { 0 };
	int lfd, cfd;
	char buf[8];

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, variant->proto);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(lfd, 8));
	EXPECT_EQ(ST_LISTEN, xtcp_proc_state(variant->proc, 8010, 0));
	EXPECT_EQ(ST_LISTEN, info_state(variant, lfd));

	c.kport = 8010;
	c.pport = 40010;
	c.p_nxt = pisn;
	c.k_nxt = 0;
	xp_conn_seg(&self->p, &c, &s, XP_SYN);
	s.mss = 1460;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c.p_nxt++;
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &sa, CTL, XP_SYN | XP_ACK,
					c.p_nxt, 3000));
	TH_LOG("got %s", XP_SEG_STR(&sa));
	c.k_nxt = sa.seq + 1;
	EXPECT_EQ(ST_SYN_RECV, xtcp_proc_wait_state(variant->proc, c.kport, c.pport,
						    ST_SYN_RECV, 3000));
	EXPECT_EQ(ST_LISTEN, xtcp_proc_state(variant->proc, 8010, 0));

	xp_conn_seg(&self->p, &c, &s, XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	EXPECT_EQ(ST_ESTABLISHED, xtcp_proc_wait_state(variant->proc, c.kport, c.pport,
						       ST_ESTABLISHED, 3000));
	ASSERT_TRUE(xtcp_wait_fd(lfd, POLLIN, 3000) & POLLIN);
	cfd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, cfd) TH_LOG("accept: %s", strerror(errno));
	EXPECT_EQ(ST_ESTABLISHED, info_state(variant, cfd));

	/* The peer closes first. */
	xp_conn_seg(&self->p, &c, &s, XP_FIN | XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c.p_nxt++;
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &r, CTL, XP_ACK, c.p_nxt,
					3000));
	EXPECT_EQ(c.k_nxt, r.seq);
	EXPECT_EQ(ST_CLOSE_WAIT, xtcp_proc_wait_state(variant->proc, c.kport, c.pport,
						      ST_CLOSE_WAIT, 3000));
	EXPECT_EQ(ST_CLOSE_WAIT, info_state(variant, cfd));
	ASSERT_TRUE(xtcp_wait_fd(cfd, POLLIN, 3000) & POLLIN);
	EXPECT_EQ(0, recv(cfd, buf, sizeof(buf), MSG_DONTWAIT));
	/* Nothing times CLOSE_WAIT out: still there. */
	EXPECT_EQ(ST_CLOSE_WAIT, xtcp_proc_state(variant->proc, c.kport, c.pport));

	ASSERT_EQ(0, close(cfd));
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &fin, CTL,
					XP_FIN | XP_ACK, c.p_nxt, 3000));
	TH_LOG("got %s", XP_SEG_STR(&fin));
	EXPECT_EQ(c.k_nxt, fin.seq);
	EXPECT_EQ(ST_LAST_ACK, xtcp_proc_state(variant->proc, c.kport, c.pport));

	c.k_nxt++;
	xp_conn_seg(&self->p, &c, &s, XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	EXPECT_EQ(-ENOENT, xtcp_proc_wait_state(variant->proc, c.kport, c.pport,
						-ENOENT, 3000));
	EXPECT_EQ(ST_LISTEN, xtcp_proc_state(variant->proc, 8010, 0));
	close(lfd);
}

/*
 * Simultaneous close: our FIN is out and unacknowledged when the peer's
 * FIN arrives: CLOSING (and an ACK of that FIN), then the ACK of ours
 * gives TIME_WAIT.
 */
TEST_F(st, simultaneous_close)
{
	struct xp_seg fin, s, r;
	struct xp_conn c = { 0 };

	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 8020, 12345, false));
	ASSERT_EQ(0, close(c.fd));
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &fin, CTL,
					XP_FIN | XP_ACK, c.p_nxt, 3000));
	EXPECT_EQ(c.k_nxt, fin.seq);
	EXPECT_EQ(ST_FIN_WAIT1, xtcp_proc_state(variant->proc, c.kport, c.pport));

	/* The peer's FIN does not acknowledge ours. */
	xp_conn_seg(&self->p, &c, &s, XP_FIN | XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c.p_nxt++;
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &r, CTL, XP_ACK, c.p_nxt,
					3000));
	TH_LOG("got %s", XP_SEG_STR(&r));
	EXPECT_EQ(fin.seq + 1, r.seq);
	EXPECT_EQ(ST_CLOSING, xtcp_proc_wait_state(variant->proc, c.kport, c.pport,
						   ST_CLOSING, 3000));

	c.k_nxt = fin.seq + 1;
	xp_conn_seg(&self->p, &c, &s, XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	EXPECT_EQ(ST_TIME_WAIT, xtcp_proc_wait_state(variant->proc, c.kport, c.pport,
						     ST_TIME_WAIT, 3000));
}

/* A FIN that also acknowledges our FIN: TIME_WAIT at once. */
TEST_F(st, fin_ack_in_fin_wait1)
{
	struct xp_seg fin, s, r;
	struct xp_conn c = { 0 };

	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 8030, 555, false));
	ASSERT_EQ(0, shutdown(c.fd, SHUT_WR));
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &fin, CTL,
					XP_FIN | XP_ACK, c.p_nxt, 3000));
	EXPECT_EQ(ST_FIN_WAIT1, xtcp_proc_state(variant->proc, c.kport, c.pport));
	EXPECT_EQ(ST_FIN_WAIT1, info_state(variant, c.fd));

	c.k_nxt = fin.seq + 1;
	xp_conn_seg(&self->p, &c, &s, XP_FIN | XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c.p_nxt++;
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &r, CTL, XP_ACK, c.p_nxt,
					3000));
	EXPECT_EQ(c.k_nxt, r.seq);
	EXPECT_EQ(ST_TIME_WAIT, xtcp_proc_wait_state(variant->proc, c.kport, c.pport,
						     ST_TIME_WAIT, 3000));
	EXPECT_EQ(ST_CLOSE, info_state(variant, c.fd));
	close(c.fd);
}

/*
 * Simultaneous open: our SYN is out when the peer's SYN (no ACK) comes:
 * SYN_RCVD and a SYN-ACK repeating our ISN. The peer's SYN-ACK (RFC 9293
 * figure 8) or a plain ACK then completes the open.
 */
#define SIMOPEN_PISN	424242U

/* Up to SYN_RCVD; returns our ISN in *@iss. */
static void simopen_start(struct __test_metadata *_metadata,
			  FIXTURE_DATA(st) *self,
			  const FIXTURE_VARIANT(st) *variant, __u16 pport,
			  struct xp_conn *c, __u32 *iss)
{
	struct sockaddr_in sin = xtcp_sin(PADDR, pport);
	struct xp_seg syn, s, sa;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, variant->proto);
	ASSERT_LE(0, c->fd);
	ASSERT_EQ(-1, connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(EINPROGRESS, errno);
	ASSERT_EQ(0, xp_expect(&self->p, &syn, CTL, XP_SYN, 3000));
	c->kport = syn.sport;
	c->pport = pport;
	c->p_nxt = SIMOPEN_PISN;
	c->k_nxt = 0;
	*iss = syn.seq;

	xp_conn_seg(&self->p, c, &s, XP_SYN);
	s.mss = 1460;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c->p_nxt++;
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, c, &sa, XP_SYN | XP_ACK,
					XP_SYN | XP_ACK, c->p_nxt, 3000));
	TH_LOG("got %s", XP_SEG_STR(&sa));
	EXPECT_EQ(XP_SYN | XP_ACK, sa.flags);
	EXPECT_EQ(*iss, sa.seq);
	EXPECT_EQ(SIMOPEN_PISN + 1U, sa.ack);
	EXPECT_TRUE(sa.csum_ok);
	EXPECT_EQ(ST_SYN_RECV, xtcp_proc_state(variant->proc, c->kport, c->pport));
	EXPECT_EQ(ST_SYN_RECV, info_state(variant, c->fd));
	c->k_nxt = *iss + 1;
}

/* ESTABLISHED, connect() done, and data flows. */
static void simopen_finish(struct __test_metadata *_metadata,
			   FIXTURE_DATA(st) *self,
			   const FIXTURE_VARIANT(st) *variant, struct xp_conn *c)
{
	int soerr = -1;
	socklen_t len = sizeof(soerr);
	struct xp_seg r;

	EXPECT_EQ(ST_ESTABLISHED, xtcp_proc_wait_state(variant->proc, c->kport,
						       c->pport, ST_ESTABLISHED, 3000));
	EXPECT_EQ(ST_ESTABLISHED, info_state(variant, c->fd));
	ASSERT_EQ(POLLOUT, xtcp_wait_fd(c->fd, POLLOUT, 3000));
	ASSERT_EQ(0, getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len));
	EXPECT_EQ(0, soerr);

	ASSERT_EQ(2, send(c->fd, "hi", 2, 0));
	do {
		ASSERT_EQ(0, xp_conn_expect(&self->p, c, &r,
					    XP_SYN | XP_RST | XP_FIN, 0, 3000));
	} while (!r.len);
	EXPECT_EQ(c->k_nxt, r.seq);
	EXPECT_EQ(c->p_nxt, r.ack);
	ASSERT_EQ(2U, r.len);
	EXPECT_EQ(0, memcmp(r.data, "hi", 2));
}

TEST_F(st, simultaneous_open_synack)
{
	struct xp_seg s;
	struct xp_conn c = { 0 };
	__u32 iss;

	simopen_start(_metadata, self, variant, 8040, &c, &iss);
	/* The peer's own SYN-ACK: its SYN again, acknowledging ours. */
	c.p_nxt = SIMOPEN_PISN;
	xp_conn_seg(&self->p, &c, &s, XP_SYN | XP_ACK);
	s.mss = 1460;
	c.p_nxt++;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	simopen_finish(_metadata, self, variant, &c);
	close(c.fd);
}

TEST_F(st, simultaneous_open_ack)
{
	struct xp_seg s;
	struct xp_conn c = { 0 };
	__u32 iss;

	simopen_start(_metadata, self, variant, 8041, &c, &iss);
	xp_conn_seg(&self->p, &c, &s, XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	simopen_finish(_metadata, self, variant, &c);
	close(c.fd);
}

/*
 * A RST in SYN_RCVD of a passive open drops that connection only: the
 * listener stays in LISTEN and accepts the next one; AttemptFails rises.
 */
TEST_F(st, syn_recv_rst)
{
	struct sockaddr_in sin = xtcp_sin(KADDR, 8050);
	struct xp_seg s, sa, r;
	long before, after;
	struct xp_conn c = { 0 };
	int lfd, cfd, err;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, variant->proto);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(lfd, 8));

	c.kport = 8050;
	c.pport = 40050;
	c.p_nxt = 1000;
	c.k_nxt = 0;
	xp_conn_seg(&self->p, &c, &s, XP_SYN);
	s.mss = 1460;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c.p_nxt++;
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &sa, CTL, XP_SYN | XP_ACK,
					c.p_nxt, 3000));
	c.k_nxt = sa.seq + 1;
	ASSERT_EQ(ST_SYN_RECV, xtcp_proc_wait_state(variant->proc, c.kport, c.pport,
						    ST_SYN_RECV, 3000));

	before = attempt_fails(variant);
	ASSERT_LE(0, before);
	xp_conn_seg(&self->p, &c, &s, XP_RST);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	EXPECT_EQ(-ENOENT, xtcp_proc_wait_state(variant->proc, c.kport, c.pport,
						-ENOENT, 3000));
	EXPECT_EQ(ST_LISTEN, xtcp_proc_state(variant->proc, 8050, 0));
	EXPECT_EQ(ST_LISTEN, info_state(variant, lfd));
	after = attempt_fails(variant);
	EXPECT_EQ(before + 1, after);
	/* No answer to a RST, and nothing left to accept. */
	err = xp_recv(&self->p, &r, 300);
	EXPECT_EQ(-ETIMEDOUT, err) TH_LOG("unexpected %s", XP_SEG_STR(&r));
	EXPECT_EQ(-1, accept(lfd, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);

	/* The listener carries on. */
	c.pport = 40051;
	c.p_nxt = 5000;
	xp_conn_seg(&self->p, &c, &s, XP_SYN);
	s.mss = 1460;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c.p_nxt++;
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &sa, CTL, XP_SYN | XP_ACK,
					c.p_nxt, 3000));
	c.k_nxt = sa.seq + 1;
	xp_conn_seg(&self->p, &c, &s, XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_TRUE(xtcp_wait_fd(lfd, POLLIN, 3000) & POLLIN);
	cfd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, cfd) TH_LOG("accept: %s", strerror(errno));
	EXPECT_EQ(ST_ESTABLISHED, info_state(variant, cfd));
	EXPECT_EQ(ST_ESTABLISHED, xtcp_proc_state(variant->proc, c.kport, c.pport));
	close(cfd);
	close(lfd);
}

/* xtcp only: the tracepoint reports each change, TIME_WAIT included. */
FIXTURE(trace) {
	struct xp_peer p;
	char inst[128];
};

FIXTURE_SETUP(trace)
{
	int err;

	self->inst[0] = '\0';
	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("unshare: %s", strerror(-err));
	err = xp_open(&self->p, IPPROTO_XTCP, KADDR, PADDR);
	ASSERT_EQ(0, err) TH_LOG("xp_open: %s", strerror(-err));
	/* Retransmissions within a few tens of ms of an RTT on the tun. */
	ASSERT_EQ(0, xtcp_sysctl_set("rto_min", 20));
}

FIXTURE_TEARDOWN(trace)
{
	char path[256];

	if (self->inst[0]) {
		snprintf(path, sizeof(path), "%s/events/xtcp/enable",
			 self->inst);
		xtcp_write_file(path, "0");
		rmdir(self->inst);
	}
	xp_close(&self->p);
}

/*
 * Trace every xtcp event into a private instance (nothing global is
 * touched); false if this kernel has no tracefs with xtcp events.
 */
static bool trace_start(struct __test_metadata *_metadata,
			FIXTURE_DATA(trace) *self)
{
	char path[256];
	int err;

	if (access(TRACEFS "/instances", W_OK) ||
	    access(TRACEFS "/events/xtcp/xtcp_set_state", F_OK))
		return false;
	snprintf(self->inst, sizeof(self->inst),
		 TRACEFS "/instances/xtcp_states_%d", getpid());
	if (mkdir(self->inst, 0755)) {
		err = errno;
		self->inst[0] = '\0';
		EXPECT_EQ(0, err) TH_LOG("mkdir instance: %s", strerror(err));
		return true;
	}
	snprintf(path, sizeof(path), "%s/events/xtcp/enable", self->inst);
	EXPECT_EQ(0, xtcp_write_file(path, "1"));
	return true;
}

/* Stop tracing and read what the instance holds into @buf. */
static void trace_stop(struct __test_metadata *_metadata,
		       FIXTURE_DATA(trace) *self, char *buf, size_t size)
{
	char path[256];

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/events/xtcp/enable", self->inst);
	ASSERT_EQ(0, xtcp_write_file(path, "0"));
	snprintf(path, sizeof(path), "%s/trace", self->inst);
	ASSERT_EQ(0, xtcp_read_file(path, buf, size));
}

/* The number of lines in @buf with @event and, after it, @detail. */
static int trace_count(const char *buf, const char *event, const char *detail)
{
	const char *line = buf;
	int n = 0;

	while (line && *line) {
		const char *next = strchr(line, '\n');
		const char *ev = strstr(line, event);
		const char *d = ev ? strstr(ev, detail) : NULL;

		if (d && (!next || d < next))
			n++;
		line = next ? next + 1 : NULL;
	}
	return n;
}

/*
 * Append to @out the new states the trace in @buf reports for the
 * connection whose remote port is @rport, as "A>B,B>C,...".
 */
static void trace_states(const char *buf, __u16 rport, char *out,
			 size_t size)
{
	const char *line = buf;
	size_t pos = 0;

	out[0] = '\0';
	while (line && *line) {
		const char *next = strchr(line, '\n');
		const char *ev = strstr(line, "xtcp_set_state: ");
		char from[32], to[32];
		unsigned int lp, rp;

		if (ev && (!next || ev < next) &&
		    sscanf(ev, "xtcp_set_state: sk=%*s %*[0-9.]:%u > %*[0-9.]:%u %31s -> %31s",
			   &lp, &rp, from, to) == 4 && rp == rport)
			xp_strcat(out, size, &pos, "%s%s>%s", pos ? "," : "",
				  from, to);
		line = next ? next + 1 : NULL;
	}
}

/* Close with the peer acking our FIN first, or in the same segment. */
static void trace_close(struct __test_metadata *_metadata,
			FIXTURE_DATA(trace) *self, __u16 pport, bool fin_ack)
{
	struct xp_seg s, r, fin;
	struct xp_conn c = { 0 };

	ASSERT_EQ(0, xp_conn_open(&self->p, &c, pport, 100, false));

	ASSERT_EQ(0, close(c.fd));
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &fin, CTL,
					XP_FIN | XP_ACK, c.p_nxt, 3000));
	c.k_nxt = fin.seq + 1;
	if (!fin_ack) {
		xp_conn_seg(&self->p, &c, &s, XP_ACK);
		ASSERT_EQ(0, xp_send(&self->p, &s));
		ASSERT_EQ(ST_FIN_WAIT2,
			  xtcp_proc_wait_state("/proc/net/xtcp", c.kport, c.pport,
					       ST_FIN_WAIT2, 3000));
	}
	xp_conn_seg(&self->p, &c, &s, XP_FIN | XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c.p_nxt++;
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &r, CTL, XP_ACK, c.p_nxt,
					3000));
	ASSERT_EQ(ST_TIME_WAIT, xtcp_proc_wait_state("/proc/net/xtcp", c.kport, c.pport,
						     ST_TIME_WAIT, 3000));
}

/* The passive side up to LAST_ACK and its end. */
static void trace_server(struct __test_metadata *_metadata,
			 FIXTURE_DATA(trace) *self, __u16 pport)
{
	struct sockaddr_in sin = xtcp_sin(KADDR, 8060);
	struct xp_seg s, sa, r, fin;
	struct xp_conn c = { 0 };
	int lfd, cfd;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_XTCP);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(lfd, 8));
	c.kport = 8060;
	c.pport = pport;
	c.p_nxt = 300;
	c.k_nxt = 0;
	xp_conn_seg(&self->p, &c, &s, XP_SYN);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c.p_nxt++;
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &sa, CTL, XP_SYN | XP_ACK,
					c.p_nxt, 3000));
	c.k_nxt = sa.seq + 1;
	xp_conn_seg(&self->p, &c, &s, XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_TRUE(xtcp_wait_fd(lfd, POLLIN, 3000) & POLLIN);
	cfd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, cfd);
	xp_conn_seg(&self->p, &c, &s, XP_FIN | XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c.p_nxt++;
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &r, CTL, XP_ACK, c.p_nxt,
					3000));
	ASSERT_EQ(0, close(cfd));
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &fin, CTL,
					XP_FIN | XP_ACK, c.p_nxt, 3000));
	c.k_nxt = fin.seq + 1;
	xp_conn_seg(&self->p, &c, &s, XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(-ENOENT, xtcp_proc_wait_state("/proc/net/xtcp", c.kport, c.pport,
						-ENOENT, 3000));
	close(lfd);
}

/* The expected transitions, as trace_states() writes them. */
static const char * const client_seq[] = {
	"CLOSED>SYN_SENT", "SYN_SENT>ESTABLISHED", "ESTABLISHED>FIN_WAIT_1",
	"FIN_WAIT_1>FIN_WAIT_2", "FIN_WAIT_2>TIME_WAIT", "TIME_WAIT>CLOSED",
	NULL
};

static const char * const fin_ack_seq[] = {
	"CLOSED>SYN_SENT", "SYN_SENT>ESTABLISHED", "ESTABLISHED>FIN_WAIT_1",
	"FIN_WAIT_1>TIME_WAIT", "TIME_WAIT>CLOSED", NULL
};

static const char * const server_seq[] = {
	"LISTEN>SYN_RCVD", "SYN_RCVD>ESTABLISHED", "ESTABLISHED>CLOSE_WAIT",
	"CLOSE_WAIT>LAST_ACK", "LAST_ACK>CLOSED", NULL
};

static const char *join(char *buf, size_t size, const char * const *parts)
{
	size_t pos = 0;

	buf[0] = '\0';
	for (; *parts; parts++)
		xp_strcat(buf, size, &pos, "%s%s", pos ? "," : "", *parts);
	return buf;
}

TEST_F(trace, set_state_sequence)
{
	static char buf[1 << 20];
	char seq[1024], exp[1024];

	if (!trace_start(_metadata, self))
		SKIP(return, "no tracefs with xtcp events at " TRACEFS);
	ASSERT_NE(0, self->inst[0]);

	trace_close(_metadata, self, 8061, false);
	trace_close(_metadata, self, 8062, true);
	trace_server(_metadata, self, 40063);
	trace_stop(_metadata, self, buf, sizeof(buf));

	trace_states(buf, 8061, seq, sizeof(seq));
	TH_LOG("client: %s", seq);
	EXPECT_STREQ(join(exp, sizeof(exp), client_seq), seq);

	trace_states(buf, 8062, seq, sizeof(seq));
	TH_LOG("FIN+ACK: %s", seq);
	EXPECT_STREQ(join(exp, sizeof(exp), fin_ack_seq), seq);

	trace_states(buf, 40063, seq, sizeof(seq));
	TH_LOG("server: %s", seq);
	EXPECT_STREQ(join(exp, sizeof(exp), server_seq), seq);
}

/*
 * xtcp_retransmit for a data segment the peer leaves unacked,
 * xtcp_send_reset for an abortive close (SO_LINGER zero) and
 * xtcp_receive_reset for the peer's exact RST, each with the connection
 * it belongs to.
 */
TEST_F(trace, retransmit_and_reset_events)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	static char buf[1 << 20];
	struct xp_conn a = { 0 }, b = { 0 };
	struct xp_seg s, r;
	char what[128];
	__u32 seq;
	int err;

	if (!trace_start(_metadata, self))
		SKIP(return, "no tracefs with xtcp events at " TRACEFS);
	ASSERT_NE(0, self->inst[0]);

	/* Data the peer never acknowledges: retransmitted, then aborted. */
	ASSERT_EQ(0, xp_conn_open(&self->p, &a, 8071, 1000, false));
	ASSERT_EQ(3, send(a.fd, "abc", 3, 0));
	ASSERT_EQ(0, xp_conn_expect(&self->p, &a, &r, CTL, XP_ACK, 3000));
	ASSERT_EQ(3U, r.len);
	seq = r.seq;
	do {
		err = xp_conn_expect(&self->p, &a, &r, CTL, XP_ACK, 3000);
	} while (!err && (r.seq != seq || !r.len));
	ASSERT_EQ(0, err) TH_LOG("no retransmission: %s", strerror(-err));
	ASSERT_EQ(0, setsockopt(a.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	ASSERT_EQ(0, close(a.fd));
	ASSERT_EQ(0, xp_conn_expect(&self->p, &a, &r, XP_RST, XP_RST, 3000));

	/* The peer resets an established connection. */
	ASSERT_EQ(0, xp_conn_open(&self->p, &b, 8072, 5000, false));
	xp_conn_seg(&self->p, &b, &s, XP_RST);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_TRUE(xtcp_wait_fd(b.fd, POLLIN, 3000) & POLLERR);
	close(b.fd);

	trace_stop(_metadata, self, buf, sizeof(buf));
	snprintf(what, sizeof(what), " seq=%u state=ESTABLISHED", seq);
	EXPECT_LE(1, trace_count(buf, "xtcp_retransmit: ", what));
	snprintf(what, sizeof(what), " %s:%u > %s:%u state=", KADDR, a.kport,
		 PADDR, a.pport);
	EXPECT_EQ(1, trace_count(buf, "xtcp_send_reset: ", what));
	EXPECT_EQ(0, trace_count(buf, "xtcp_receive_reset: ", what));
	snprintf(what, sizeof(what), " %s:%u > %s:%u state=ESTABLISHED", KADDR,
		 b.kport, PADDR, b.pport);
	EXPECT_EQ(1, trace_count(buf, "xtcp_receive_reset: ", what));
	EXPECT_EQ(0, trace_count(buf, "xtcp_send_reset: ", what));
	if (_metadata->exit_code)
		TH_LOG("trace:\n%.4000s", buf);
}

TEST_HARNESS_MAIN
