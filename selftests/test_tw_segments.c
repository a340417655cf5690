// SPDX-License-Identifier: GPL-2.0
/*
 * TIME_WAIT (Documentation/xtcp.rst, "TIME_WAIT"): what an entry does with the
 * segments that reach it. RST (and rfc1337), a retransmitted FIN, a new
 * SYN (RFC 6191 recycling, old duplicates, no listener) and reuse against
 * a peer still in LAST_ACK, each against the scripted peer of
 * xtcp_peer.h, on Linux TCP and on xtcp. Every test runs in a network
 * namespace of its own.
 */

/*
 * The harness's wrapper around each test keeps its fork() result in a
 * local across the setjmp() that ASSERT_*() return to; once a test body is
 * inlined there, GCC warns that it might be clobbered. Should it be, a
 * failed assertion still fails the test (the process aborts).
 */
#pragma GCC diagnostic ignored "-Wclobbered"

#include "kselftest_harness.h"
#include "xtcp_peer.h"
#include "xtcp_test.h"
#include "xtcp_tw.h"

#define KADDR		"10.9.0.1"	/* kernel side of the tun */
#define PADDR		"10.9.0.2"	/* the scripted peer */
#define PEER_ISN	0x40000000u

FIXTURE(peer) {
	struct xp_peer p;
};

FIXTURE_VARIANT(peer) {
	int proto;
	const char *proc;
	int tw_len_ms;		/* length of a new TIME_WAIT */
	const char *rfc1337;
};

FIXTURE_VARIANT_ADD(peer, tcp) {
	.proto = IPPROTO_TCP,
	.proc = "/proc/net/tcp",
	.tw_len_ms = 60000,	/* TCP_TIMEWAIT_LEN */
	.rfc1337 = IPV4_SYSCTL "tcp_rfc1337",
};

FIXTURE_VARIANT_ADD(peer, xtcp) {
	.proto = IPPROTO_XTCP,
	.proc = "/proc/net/xtcp",
	.tw_len_ms = 4000,	/* msl=2000 below */
	.rfc1337 = XTCP_SYSCTL_DIR "rfc1337",
};

FIXTURE_SETUP(peer)
{
	int err;

	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("unshare: %s", strerror(-err));
	ASSERT_EQ(0, xtcp_short_retries(variant->proto, 3));
	if (variant->proto == IPPROTO_XTCP) {
		ASSERT_EQ(0, xtcp_sysctl_set("msl", variant->tw_len_ms / 2));
		ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse", 1));
		ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse_delay", 1));
	} else {
		ASSERT_EQ(0, ipv4_sysctl_set("tcp_tw_reuse", "1"));
	}
	err = xp_open(&self->p, variant->proto, KADDR, PADDR);
	ASSERT_EQ(0, err) TH_LOG("xp_open: %s", strerror(-err));
}

FIXTURE_TEARDOWN(peer)
{
	xp_close(&self->p);
}

#define ANY_FLAGS	(XP_SYN | XP_ACK | XP_RST | XP_FIN)

/* Start a connect() of @fd to the peer's port @pport; 0 or -errno. */
static int start_connect(int fd, __u16 pport)
{
	struct sockaddr_in sin = xtcp_sin(PADDR, pport);

	if (fcntl(fd, F_SETFL, O_NONBLOCK))
		return -errno;
	if (!connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		return -EALREADY;
	return errno == EINPROGRESS ? 0 : -errno;
}

/* The connect() of c->fd completes without error. */
static void connect_done(struct __test_metadata *_metadata, struct xp_conn *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int soerr = -1;

	ASSERT_EQ(1, poll(&pfd, 1, 3000));
	ASSERT_EQ(0, getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len));
	ASSERT_EQ(0, soerr) TH_LOG("connect: %s", strerror(soerr));
}

/* Passive open: the peer connects from @pport to the listener @lfd. */
static void peer_connect(struct __test_metadata *_metadata,
			 struct xp_peer *p, struct xp_conn *c, int lfd,
			 __u16 pport, bool ts)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	struct xp_seg s, sa;
	int err;

	memset(c, 0, sizeof(*c));
	c->kport = xtcp_local_port(lfd);
	c->pport = pport;
	c->p_nxt = PEER_ISN;
	c->ts = ts;
	c->p_tsval = 1000;
	xp_conn_seg(p, c, &s, XP_SYN);
	s.ack = 0;
	s.mss = 1460;
	ASSERT_EQ(0, xp_send(p, &s));
	c->p_nxt++;
	err = xp_conn_expect(p, c, &sa, ANY_FLAGS, XP_SYN | XP_ACK, 3000);
	ASSERT_EQ(0, err) TH_LOG("no SYN-ACK: %s", strerror(-err));
	ASSERT_EQ(c->p_nxt, sa.ack);
	c->k_nxt = sa.seq + 1;
	c->ts = ts && sa.ts;
	xp_conn_seg(p, c, &s, XP_ACK);
	ASSERT_EQ(0, xp_send(p, &s));
	ASSERT_EQ(1, poll(&pfd, 1, 3000));
	c->fd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, c->fd);
}

/*
 * The kernel closes first; the peer ACKs the FIN together with its own
 * FIN; the kernel's last ACK leaves it in TIME_WAIT.
 */
static void kernel_close_to_tw(struct __test_metadata *_metadata,
			       struct xp_peer *p, struct xp_conn *c)
{
	struct xp_seg s, r;
	int err;

	close(c->fd);
	c->fd = -1;
	err = xp_conn_expect(p, c, &r, XP_FIN | XP_SYN | XP_RST, XP_FIN, 3000);
	ASSERT_EQ(0, err) TH_LOG("no FIN: %s", strerror(-err));
	EXPECT_EQ(c->k_nxt, r.seq);
	EXPECT_EQ(c->p_nxt, r.ack);
	c->k_nxt++;
	xp_conn_seg(p, c, &s, XP_FIN | XP_ACK);
	ASSERT_EQ(0, xp_send(p, &s));
	c->p_nxt++;
	err = xp_conn_expect(p, c, &r, ANY_FLAGS, XP_ACK, 3000);
	ASSERT_EQ(0, err) TH_LOG("no last ACK: %s", strerror(-err));
	EXPECT_EQ(c->k_nxt, r.seq);
	EXPECT_EQ(c->p_nxt, r.ack);
}

/* A connection from the kernel to the peer's @pport, now in TIME_WAIT. */
static void tw_against_peer(struct __test_metadata *_metadata,
			    FIXTURE_DATA(peer) *self,
			    const FIXTURE_VARIANT(peer) *variant,
			    struct xp_conn *c, __u16 pport)
{
	int fd = socket(AF_INET, SOCK_STREAM, variant->proto);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, xp_conn_connect(&self->p, c, fd, pport, PEER_ISN,
				     65535, true));
	ASSERT_TRUE(c->ts);
	kernel_close_to_tw(_metadata, &self->p, c);
	ASSERT_TRUE(xtcp_wait_until(tw_count(variant->proc, c->kport,
					     c->pport) == 1, 1000));
}

/*
 * A RST with seq = rcv_nxt reaches the entry; then an old ACK probes
 * whether the entry still exists: it answers with an ACK, while without
 * an entry the kernel answers with a RST.
 */
static void rst_in_tw(struct __test_metadata *_metadata,
		      FIXTURE_DATA(peer) *self,
		      const FIXTURE_VARIANT(peer) *variant, bool rfc1337)
{
	long killed = xtcp_counter("TWKilledByRST");
	struct xp_seg s, r;
	struct xp_conn c;
	int err;

	ASSERT_EQ(0, xtcp_write_file(variant->rfc1337, rfc1337 ? "1" : "0"));
	tw_against_peer(_metadata, self, variant, &c, 7001);

	xp_conn_seg(&self->p, &c, &s, XP_RST);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	xp_conn_seg(&self->p, &c, &s, XP_ACK);
	s.seq = c.p_nxt - 1;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	err = xp_conn_expect(&self->p, &c, &r, 0, 0, 3000);
	ASSERT_EQ(0, err) TH_LOG("no answer to the probe: %s", strerror(-err));
	TH_LOG("probe answered by %s", XP_SEG_STR(&r));
	EXPECT_EQ(c.k_nxt, r.seq);
	if (rfc1337) {
		EXPECT_EQ(XP_ACK, r.flags);
		EXPECT_EQ(c.p_nxt, r.ack);
		EXPECT_EQ(1, tw_count(variant->proc, c.kport, c.pport));
	} else {
		EXPECT_EQ(XP_RST, r.flags);
		EXPECT_EQ(0, tw_count(variant->proc, c.kport, c.pport));
	}
	if (variant->proto == IPPROTO_XTCP)
		EXPECT_EQ(killed + !rfc1337, xtcp_counter("TWKilledByRST"));
}

TEST_F(peer, rst_kills_entry)
{
	rst_in_tw(_metadata, self, variant, false);
}

TEST_F(peer, rst_ignored_with_rfc1337)
{
	rst_in_tw(_metadata, self, variant, true);
}

/*
 * The peer lost our last ACK and sends its FIN again: TIME_WAIT ACKs it
 * and starts its 2MSL over.
 */
TEST_F(peer, fin_retransmit_restarts_2msl)
{
	long w0, w1, w2;
	struct xp_seg s, r;
	struct xtcp_proc_entry e;
	struct xp_conn c;
	int err;

	tw_against_peer(_metadata, self, variant, &c, 7002);
	ASSERT_EQ(1, xtcp_proc_scan(variant->proc, c.kport, c.pport, ST_TIME_WAIT,
				    &e));
	EXPECT_EQ(TR_TIME_WAIT, e.tr);
	w0 = e.when;
	EXPECT_GE(variant->tw_len_ms, w0);
	EXPECT_LT(variant->tw_len_ms - 1000, w0);
	ASSERT_TRUE(xtcp_wait_until(xtcp_proc_scan(variant->proc, c.kport, c.pport,
						   ST_TIME_WAIT, &e) == 1 &&
			       (long)e.when <= w0 - 600, 3000));
	w1 = e.when;

	xp_conn_seg(&self->p, &c, &s, XP_FIN | XP_ACK);
	s.seq = c.p_nxt - 1;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	err = xp_conn_expect(&self->p, &c, &r, 0, 0, 3000);
	ASSERT_EQ(0, err) TH_LOG("FIN not answered: %s", strerror(-err));
	EXPECT_EQ(XP_ACK, r.flags) TH_LOG("got %s", XP_SEG_STR(&r));
	EXPECT_EQ(c.k_nxt, r.seq);
	EXPECT_EQ(c.p_nxt, r.ack);

	ASSERT_EQ(1, xtcp_proc_scan(variant->proc, c.kport, c.pport, ST_TIME_WAIT,
				    &e));
	w2 = e.when;
	TH_LOG("remaining %ld ms, %ld ms before the FIN, %ld ms after",
	       w0, w1, w2);
	EXPECT_LE(variant->tw_len_ms - 250, w2);
	EXPECT_LT(w1 + 300, w2);
}

/*
 * The kernel's server side closed first and holds the entry for
 * KPORT <- @pport; the peer sends a new SYN from @pport with sequence
 * number @seq and, if the connection had timestamps, TSval @tsval.
 * Returns the kernel's answer in *@r.
 */
#define KPORT 8080

static void syn_into_tw(struct __test_metadata *_metadata,
			FIXTURE_DATA(peer) *self,
			const FIXTURE_VARIANT(peer) *variant, struct xp_conn *c,
			int lfd, bool ts, __u32 seq, __u32 tsval,
			struct xp_seg *r)
{
	struct xp_seg s;
	int err;

	xp_seg_init(&self->p, &s);
	s.sport = c->pport;
	s.dport = KPORT;
	s.seq = seq;
	s.flags = XP_SYN;
	s.mss = 1460;
	if (ts) {
		s.ts = true;
		s.tsval = tsval;
		c->p_tsval = tsval;
	}
	TH_LOG("new SYN %s", XP_SEG_STR(&s));
	ASSERT_EQ(0, xp_send(&self->p, &s));
	err = xp_conn_expect(&self->p, c, r, 0, 0, 3000);
	ASSERT_EQ(0, err) TH_LOG("SYN not answered: %s", strerror(-err));
	TH_LOG("answer %s", XP_SEG_STR(r));
}

static int tw_server(struct __test_metadata *_metadata,
		     FIXTURE_DATA(peer) *self,
		     const FIXTURE_VARIANT(peer) *variant, struct xp_conn *c,
		     __u16 pport, bool ts)
{
	int lfd = listener(variant->proto, KADDR, KPORT);

	ASSERT_LE(0, lfd) TH_LOG("listener: %s", strerror(-lfd));
	peer_connect(_metadata, &self->p, c, lfd, pport, ts);
	ASSERT_EQ(ts, c->ts);
	kernel_close_to_tw(_metadata, &self->p, c);
	ASSERT_TRUE(xtcp_wait_until(tw_count(variant->proc, KPORT, pport) == 1,
				    1000));
	return lfd;
}

/*
 * RFC 6191 accepted: the SYN-ACK carries the ISN TIME_WAIT chose (as
 * Linux: its snd_nxt + 65535 + 2), and the new connection opens.
 */
static void syn_accepted(struct __test_metadata *_metadata,
			 FIXTURE_DATA(peer) *self,
			 const FIXTURE_VARIANT(peer) *variant,
			 struct xp_conn *c, int lfd, const struct xp_seg *sa,
			 __u32 seq, long recycled)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	struct xp_seg s;
	int fd;

	ASSERT_EQ(XP_SYN | XP_ACK, sa->flags);
	EXPECT_EQ(seq + 1, sa->ack);
	/*
	 * Linux TCP before 6.10 drops the ISN TIME_WAIT chose on the way
	 * to the listener (tcp_v4_fill_cb() clears it) and takes a fresh
	 * one: still above the old snd_nxt, which is all RFC 6191 asks.
	 */
	if (variant->proto == IPPROTO_TCP && xtcp_kernel_before(6, 10)) {
		TH_LOG("Linux TCP before 6.10: ISN %u, old snd_nxt %u",
		       sa->seq, c->k_nxt);
	} else {
		EXPECT_EQ(c->k_nxt + 65535 + 2, sa->seq)
			TH_LOG("ISN %u, old snd_nxt %u", sa->seq, c->k_nxt);
	}
	EXPECT_LT(0, (__s32)(sa->seq - c->k_nxt));

	c->p_nxt = seq + 1;
	c->k_nxt = sa->seq + 1;
	xp_conn_seg(&self->p, c, &s, XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(1, poll(&pfd, 1, 3000));
	fd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, tw_count(variant->proc, KPORT, c->pport));
	EXPECT_EQ(1, xtcp_proc_scan(variant->proc, KPORT, c->pport,
				    ST_ESTABLISHED, NULL));
	if (variant->proto == IPPROTO_XTCP)
		EXPECT_EQ(recycled + 1, xtcp_counter("TWRecycledBySYN"));
	close(fd);
}

/* A SYN with a newer timestamp replaces the entry, even with a low seq. */
TEST_F(peer, syn_newer_timestamp_recycles)
{
	long recycled = xtcp_counter("TWRecycledBySYN");
	struct xp_seg sa;
	struct xp_conn c;
	__u32 seq;
	int lfd;

	lfd = tw_server(_metadata, self, variant, &c, 41001, true);
	seq = c.p_nxt - 100000;
	syn_into_tw(_metadata, self, variant, &c, lfd, true, seq,
		    c.p_tsval + 1000, &sa);
	syn_accepted(_metadata, self, variant, &c, lfd, &sa, seq, recycled);
	close(lfd);
}

/* Without timestamps, a SYN above the old rcv_nxt replaces the entry. */
TEST_F(peer, syn_higher_seq_recycles)
{
	long recycled = xtcp_counter("TWRecycledBySYN");
	struct xp_seg sa;
	struct xp_conn c;
	__u32 seq;
	int lfd;

	lfd = tw_server(_metadata, self, variant, &c, 41002, false);
	seq = c.p_nxt + 100000;
	syn_into_tw(_metadata, self, variant, &c, lfd, false, seq, 0, &sa);
	syn_accepted(_metadata, self, variant, &c, lfd, &sa, seq, recycled);
	close(lfd);
}

/*
 * An old duplicate SYN (older timestamp, seq below rcv_nxt) does not open
 * anything: TIME_WAIT answers with its ACK and stays.
 */
TEST_F(peer, syn_old_duplicate_refused)
{
	long recycled = xtcp_counter("TWRecycledBySYN");
	struct xp_seg r;
	struct xp_conn c;
	int lfd;

	lfd = tw_server(_metadata, self, variant, &c, 41003, true);
	syn_into_tw(_metadata, self, variant, &c, lfd, true,
		    c.p_nxt - 100000, c.p_tsval - 500, &r);
	EXPECT_EQ(XP_ACK, r.flags);
	EXPECT_EQ(c.k_nxt, r.seq);
	EXPECT_EQ(c.p_nxt, r.ack);
	EXPECT_EQ(1, tw_count(variant->proc, KPORT, c.pport));
	if (variant->proto == IPPROTO_XTCP)
		EXPECT_EQ(recycled, xtcp_counter("TWRecycledBySYN"));
	close(lfd);
}

/*
 * A newer SYN for an entry whose port has no listener (the usual case:
 * the client closed first) has nothing to replace it with: TIME_WAIT
 * answers with its ACK and stays.
 */
TEST_F(peer, syn_without_listener_keeps_entry)
{
	long recycled = xtcp_counter("TWRecycledBySYN");
	struct xp_seg s, r;
	struct xp_conn c;
	int err;

	tw_against_peer(_metadata, self, variant, &c, 7004);
	xp_seg_init(&self->p, &s);
	s.sport = c.pport;
	s.dport = c.kport;
	s.seq = c.p_nxt + 100000;
	s.flags = XP_SYN;
	s.mss = 1460;
	s.ts = true;
	s.tsval = c.p_tsval + 1000;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	err = xp_conn_expect(&self->p, &c, &r, 0, 0, 3000);
	ASSERT_EQ(0, err) TH_LOG("SYN not answered: %s", strerror(-err));
	TH_LOG("answer %s", XP_SEG_STR(&r));
	EXPECT_EQ(XP_ACK, r.flags);
	EXPECT_EQ(c.k_nxt, r.seq);
	EXPECT_EQ(c.p_nxt, r.ack);
	EXPECT_EQ(1, tw_count(variant->proc, c.kport, c.pport));
	if (variant->proto == IPPROTO_XTCP)
		EXPECT_EQ(recycled, xtcp_counter("TWRecycledBySYN"));
}

/*
 * Documentation/xtcp.rst, "TIME_WAIT": our last ACK was lost, the peer
 * sits in LAST_ACK, and we reuse the 4-tuple. The peer answers our SYN with its
 * FIN/ACK again; we (SYN_SENT) answer with a RST carrying its ACK number;
 * the peer closes; our retransmitted SYN then opens the connection.
 */
TEST_F(peer, last_ack_peer_reuse)
{
	long reused = xtcp_counter("TWReused");
	struct xp_conn c, old;
	struct xp_seg syn, s, r;
	int fd, err, port;
	__u32 isn;
	__s64 t0;

	fd = client(variant->proto, KADDR, 0, true);
	ASSERT_LE(0, fd);
	port = xtcp_local_port(fd);
	ASSERT_EQ(0, xp_conn_connect(&self->p, &c, fd, 7003, PEER_ISN,
				     65535, true));
	ASSERT_TRUE(c.ts);
	kernel_close_to_tw(_metadata, &self->p, &c);
	ASSERT_TRUE(xtcp_wait_until(tw_older_than(variant->proc, port, 7003,
						  variant->tw_len_ms, 20), 2000));
	old = c;

	/* Same port, same peer: the new SYN is above the old sequence
	 * space and its timestamp above the old ones.
	 */
	fd = client(variant->proto, KADDR, port, true);
	ASSERT_LE(0, fd) TH_LOG("bind: %s", strerror(-fd));
	c.fd = fd;
	err = start_connect(fd, 7003);
	ASSERT_EQ(0, err) TH_LOG("connect: %s", strerror(-err));
	err = xp_conn_expect(&self->p, &c, &syn, ANY_FLAGS, XP_SYN, 3000);
	ASSERT_EQ(0, err) TH_LOG("no SYN: %s", strerror(-err));
	TH_LOG("new SYN %s", XP_SEG_STR(&syn));
	isn = syn.seq;
	EXPECT_EQ(old.k_nxt + 65535 + 2, isn);
	ASSERT_TRUE(syn.ts);
	EXPECT_LT(0, (__s32)(syn.tsval - old.k_tsval));

	/* The peer, in LAST_ACK, sends its FIN again. */
	c = old;
	c.fd = fd;
	xp_conn_seg(&self->p, &c, &s, XP_FIN | XP_ACK);
	s.seq = old.p_nxt - 1;
	s.tsecr = syn.tsval;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	t0 = xp_now_ms();
	err = xp_conn_expect(&self->p, &c, &r, XP_RST | XP_SYN, XP_RST, 3000);
	ASSERT_EQ(0, err) TH_LOG("no RST: %s", strerror(-err));
	TH_LOG("answer %s", XP_SEG_STR(&r));
	EXPECT_EQ(XP_RST, r.flags);
	EXPECT_EQ(old.k_nxt, r.seq);

	/*
	 * The peer is closed now; the SYN comes again, well before the
	 * initial RTO of 1 s, and is answered.
	 */
	err = xp_conn_expect(&self->p, &c, &syn, ANY_FLAGS, XP_SYN, 3000);
	ASSERT_EQ(0, err) TH_LOG("no retransmitted SYN: %s", strerror(-err));
	TH_LOG("SYN again after %lld ms", (long long)(xp_now_ms() - t0));
	EXPECT_GT(500, xp_now_ms() - t0);
	EXPECT_EQ(isn, syn.seq);
	c.k_nxt = isn + 1;
	c.p_nxt = PEER_ISN + 7777;
	xp_conn_seg(&self->p, &c, &s, XP_SYN | XP_ACK);
	s.tsecr = syn.tsval;
	s.mss = 1460;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c.p_nxt++;
	err = xp_conn_expect(&self->p, &c, &r, ANY_FLAGS, XP_ACK, 3000);
	ASSERT_EQ(0, err) TH_LOG("no ACK: %s", strerror(-err));
	EXPECT_EQ(c.k_nxt, r.seq);
	EXPECT_EQ(c.p_nxt, r.ack);
	connect_done(_metadata, &c);
	ASSERT_EQ(2, send(fd, "ok", 2, 0));
	err = xp_conn_expect(&self->p, &c, &r, ANY_FLAGS, XP_ACK, 3000);
	ASSERT_EQ(0, err);
	EXPECT_EQ(2U, r.len);
	if (variant->proto == IPPROTO_XTCP)
		EXPECT_EQ(reused + 1, xtcp_counter("TWReused"));
	close(fd);
}

TEST_HARNESS_MAIN
