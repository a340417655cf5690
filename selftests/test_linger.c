// SPDX-License-Identifier: GPL-2.0
/*
 * close() and what follows it (Documentation/xtcp.rst, "TIME_WAIT"): SO_LINGER with a
 * zero and a nonzero time, and the life of an orphaned FIN_WAIT_2
 * (fin_timeout, TCP_LINGER2/XTCP_LINGER2). Every test runs for Linux TCP,
 * the oracle, and for xtcp with the same expectations; counters only TCP
 * or only xtcp has are checked for that one.
 *
 * A live peer is a socket over loopback; a peer that never acknowledges
 * is the scripted peer of xtcp_peer.h.
 */

#include <netinet/tcp.h>

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

#define KADDR		"10.9.0.1"
#define PADDR		"10.9.0.2"
#define LOOPBACK	"127.0.0.1"
#define PEER_ISN	0x60000000u
#define IPV4_SYSCTL	"/proc/sys/net/ipv4/"
#define ANY_FLAGS	(XP_SYN | XP_ACK | XP_RST | XP_FIN)
#define ST_FIN_WAIT1	0x04
#define ST_FIN_WAIT2	0x05
#define ST_TIME_WAIT	0x06
#define ST_CLOSE_WAIT	0x08

static_assert(XTCP_LINGER2 == TCP_LINGER2, "option numbers");

FIXTURE(lg) {
	struct xp_peer p;
};

FIXTURE_VARIANT(lg) {
	int proto;
	int level;
	const char *proc;
	const char *fin_timeout;
	const char *aborts;	/* counter of SO_LINGER {1, 0} aborts */
};

FIXTURE_VARIANT_ADD(lg, tcp) {
	.proto = IPPROTO_TCP,
	.level = SOL_TCP,
	.proc = "/proc/net/tcp",
	.fin_timeout = IPV4_SYSCTL "tcp_fin_timeout",
	.aborts = "TCPAbortOnData",	/* TcpExt; Linux counts it there */
};

FIXTURE_VARIANT_ADD(lg, xtcp) {
	.proto = IPPROTO_XTCP,
	.level = SOL_XTCP,
	.proc = "/proc/net/xtcp",
	.fin_timeout = XTCP_SYSCTL_DIR "fin_timeout",
	.aborts = "LingerAborts",
};

FIXTURE_SETUP(lg)
{
	int err;

	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("unshare: %s", strerror(-err));
	/* Orphans left retransmitting to the peer die quickly. */
	ASSERT_EQ(0, xtcp_short_retries(variant->proto, 2));
	err = xp_open(&self->p, variant->proto, KADDR, PADDR);
	ASSERT_EQ(0, err) TH_LOG("xp_open: %s", strerror(-err));
}

FIXTURE_TEARDOWN(lg)
{
	xp_close(&self->p);
}

static int set_linger(int fd, int onoff, int secs)
{
	struct linger l = { .l_onoff = onoff, .l_linger = secs };

	return setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) ? -errno : 0;
}

static long aborts(const FIXTURE_VARIANT(lg) *variant)
{
	if (variant->proto == IPPROTO_TCP)
		return xtcp_tcpext(variant->aborts);
	return xtcp_counter(variant->aborts);
}

/* recv() on @fd once it is readable: 0 (EOF), a byte count, or -errno. */
static int recv_ready(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[16];
	int n;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -ETIMEDOUT;
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	return n < 0 ? -errno : n;
}

/* SO_LINGER {1, 0}: close() aborts with a RST and leaves nothing. */
TEST_F(lg, zero_linger_aborts)
{
	int cfd, sfd, cport, sport;
	long before;
	__s64 t0;

	sfd = xtcp_lo_pair(variant->proto, &cfd);
	ASSERT_LE(0, sfd) TH_LOG("pair: %s", strerror(-sfd));
	cport = xtcp_local_port(cfd);
	sport = xtcp_local_port(sfd);
	before = aborts(variant);
	ASSERT_LE(0, before);
	ASSERT_EQ(0, set_linger(cfd, 1, 0));

	t0 = xp_now_ms();
	EXPECT_EQ(0, close(cfd));
	EXPECT_GE(500, xp_now_ms() - t0);
	EXPECT_EQ(-ECONNRESET, recv_ready(sfd, 2000));
	EXPECT_EQ(0, xtcp_proc_count(variant->proc, cport, sport, -1));
	EXPECT_EQ(0, xtcp_proc_count(variant->proc, -1, -1, ST_TIME_WAIT));
	EXPECT_EQ(before + 1, aborts(variant));
	close(sfd);
}

/* On the wire: SO_LINGER {1, 0} sends a RST at snd_nxt instead of a FIN. */
TEST_F(lg, zero_linger_sends_rst)
{
	struct xp_seg r;
	struct xp_conn c;
	int err;

	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 6002, PEER_ISN, true));
	ASSERT_EQ(0, set_linger(c.fd, 1, 0));
	EXPECT_EQ(0, close(c.fd));
	err = xp_conn_expect(&self->p, &c, &r, 0, 0, 3000);
	ASSERT_EQ(0, err) TH_LOG("nothing sent: %s", strerror(-err));
	TH_LOG("close() sent %s", XP_SEG_STR(&r));
	EXPECT_EQ(XP_RST, r.flags & (XP_RST | XP_FIN | XP_SYN));
	EXPECT_EQ(c.k_nxt, r.seq);
	EXPECT_EQ(0, xtcp_proc_count(variant->proc, c.kport, c.pport, -1));
	EXPECT_EQ(-ETIMEDOUT, xp_conn_expect(&self->p, &c, &r, 0, 0, 300));
}

/* SO_LINGER {1, 2} with a live peer: close() returns once the FIN is
 * acknowledged, which loopback does at once; FIN_WAIT_2 follows.
 */
TEST_F(lg, linger_returns_when_fin_acked)
{
	int cfd, sfd, cport, sport;
	__s64 t0, took;

	sfd = xtcp_lo_pair(variant->proto, &cfd);
	ASSERT_LE(0, sfd);
	cport = xtcp_local_port(cfd);
	sport = xtcp_local_port(sfd);
	ASSERT_EQ(0, set_linger(cfd, 1, 2));

	t0 = xp_now_ms();
	EXPECT_EQ(0, close(cfd));
	took = xp_now_ms() - t0;
	TH_LOG("close() took %lld ms", (long long)took);
	EXPECT_GE(1000, took);
	/* Returned because the FIN was acknowledged, not for the time. */
	EXPECT_EQ(1, xtcp_proc_count(variant->proc, cport, sport, ST_FIN_WAIT2));
	EXPECT_EQ(0, recv_ready(sfd, 1000));
	close(sfd);
}

/*
 * SO_LINGER {1, 2} with a peer that never acknowledges: close() gives up
 * after about 2 s and the connection goes on closing in the background.
 */
TEST_F(lg, linger_times_out_unacked)
{
	struct xp_seg r, s;
	struct xp_conn c;
	__s64 t0, took;
	int err;

	/* Enough retransmissions of the FIN to outlast the linger time. */
	ASSERT_EQ(0, xtcp_short_retries(variant->proto, 6));
	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 6001, PEER_ISN, true));
	/* Blocking, so that close() lingers. */
	ASSERT_EQ(0, fcntl(c.fd, F_SETFL, 0));
	ASSERT_EQ(0, set_linger(c.fd, 1, 2));
	t0 = xp_now_ms();
	EXPECT_EQ(0, close(c.fd));
	took = xp_now_ms() - t0;
	TH_LOG("close() took %lld ms", (long long)took);
	EXPECT_LE(1800, took);
	EXPECT_GE(4000, took);

	err = xp_conn_expect(&self->p, &c, &r, ANY_FLAGS, XP_FIN | XP_ACK, 0);
	ASSERT_EQ(0, err) TH_LOG("no FIN: %s", strerror(-err));
	EXPECT_EQ(c.k_nxt, r.seq);
	EXPECT_EQ(1, xtcp_proc_count(variant->proc, c.kport, c.pport,
				     ST_FIN_WAIT1));

	/* The peer resets it: the orphan is gone. */
	xp_conn_seg(&self->p, &c, &s, XP_RST);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	EXPECT_TRUE(xtcp_wait_until(!xtcp_proc_count(variant->proc, c.kport, c.pport,
						     -1), 1000));
}

/*
 * An orphaned FIN_WAIT_2 (the peer acknowledged our FIN but keeps its
 * side open) lasts fin_timeout; the peer's CLOSE_WAIT is its own affair
 * and stays (Documentation/xtcp.rst, "Related lifetimes").
 */
TEST_F(lg, orphan_fin_wait2_fin_timeout)
{
	int cfd, sfd, cport, sport;
	__s64 t0, took;

	ASSERT_EQ(0, xtcp_write_file(variant->fin_timeout, "1"));
	sfd = xtcp_lo_pair(variant->proto, &cfd);
	ASSERT_LE(0, sfd);
	cport = xtcp_local_port(cfd);
	sport = xtcp_local_port(sfd);

	t0 = xp_now_ms();
	close(cfd);
	EXPECT_EQ(0, recv_ready(sfd, 1000));
	ASSERT_TRUE(xtcp_wait_until(xtcp_proc_count(variant->proc, cport, sport,
						    ST_FIN_WAIT2) == 1, 1000));
	ASSERT_TRUE(xtcp_wait_until(!xtcp_proc_count(variant->proc, cport, sport, -1),
				    5000));
	took = xp_now_ms() - t0;
	TH_LOG("orphaned FIN_WAIT_2 lasted about %lld ms (fin_timeout 1 s)",
	       (long long)took);
	EXPECT_LE(700, took);
	EXPECT_GE(3000, took);

	/*
	 * xtcp ends the orphan silently: the peer's CLOSE_WAIT stays. Linux
	 * TCP is no oracle for this part: an orphan whose FIN is acked while
	 * close() still owns the socket keeps a full socket and, with a
	 * fin_timeout below 60 s, ends with a RST (tcp_rcv_state_process(),
	 * sock_owned_by_user() branch); otherwise it becomes a timewait
	 * socket that expires silently. On loopback either can happen.
	 */
	if (variant->proto != IPPROTO_TCP) {
		EXPECT_EQ(1, xtcp_proc_count(variant->proc, sport, cport,
					     ST_CLOSE_WAIT));
		EXPECT_EQ(0, xtcp_get_int(sfd, SOL_SOCKET, SO_ERROR));
	}
	close(sfd);
}

/*
 * TCP_LINGER2/XTCP_LINGER2 on the socket overrides fin_timeout; another
 * orphan, without it, is still there when the first one is gone.
 */
TEST_F(lg, linger2_option_overrides)
{
	int cfd, sfd, cfd2, sfd2, cport, sport, cport2, sport2;
	__s64 t0, took;

	ASSERT_EQ(0, xtcp_write_file(variant->fin_timeout, "30"));
	sfd = xtcp_lo_pair(variant->proto, &cfd);
	ASSERT_LE(0, sfd);
	sfd2 = xtcp_lo_pair(variant->proto, &cfd2);
	ASSERT_LE(0, sfd2);
	cport = xtcp_local_port(cfd);
	sport = xtcp_local_port(sfd);
	cport2 = xtcp_local_port(cfd2);
	sport2 = xtcp_local_port(sfd2);
	EXPECT_EQ(30, xtcp_get_int(cfd, variant->level, TCP_LINGER2));
	ASSERT_EQ(0, xtcp_set_int(cfd, variant->level, TCP_LINGER2, 1));
	EXPECT_EQ(1, xtcp_get_int(cfd, variant->level, TCP_LINGER2));

	t0 = xp_now_ms();
	close(cfd);
	close(cfd2);
	ASSERT_TRUE(xtcp_wait_until(xtcp_proc_count(variant->proc, cport, sport,
						    ST_FIN_WAIT2) == 1, 1000));
	ASSERT_TRUE(xtcp_wait_until(!xtcp_proc_count(variant->proc, cport, sport, -1),
				    5000));
	took = xp_now_ms() - t0;
	TH_LOG("FIN_WAIT_2 with LINGER2=1 (fin_timeout 30) lasted about %lld ms",
	       (long long)took);
	EXPECT_LE(700, took);
	EXPECT_GE(3000, took);
	EXPECT_EQ(1, xtcp_proc_count(variant->proc, cport2, sport2, ST_FIN_WAIT2));
	/* As above: Linux TCP may end the orphan with a RST. */
	if (variant->proto != IPPROTO_TCP)
		EXPECT_EQ(1, xtcp_proc_count(variant->proc, sport, cport,
					     ST_CLOSE_WAIT));
	close(sfd);
	close(sfd2);
}

/*
 * LINGER2 < 0: no FIN_WAIT_2 at all; once the FIN is acknowledged the
 * connection is reset, and the peer's CLOSE_WAIT ends with EPIPE.
 */
TEST_F(lg, negative_linger2_resets)
{
	int cfd, sfd, cport, sport;

	sfd = xtcp_lo_pair(variant->proto, &cfd);
	ASSERT_LE(0, sfd);
	cport = xtcp_local_port(cfd);
	sport = xtcp_local_port(sfd);
	ASSERT_EQ(0, xtcp_set_int(cfd, variant->level, TCP_LINGER2, -1));
	EXPECT_EQ(-1, xtcp_get_int(cfd, variant->level, TCP_LINGER2));

	close(cfd);
	EXPECT_TRUE(xtcp_wait_until(!xtcp_proc_count(variant->proc, sport, cport, -1),
				    2000));
	EXPECT_EQ(0, xtcp_proc_count(variant->proc, cport, sport, -1));
	EXPECT_EQ(EPIPE, xtcp_get_int(sfd, SOL_SOCKET, SO_ERROR));
	close(sfd);
}

TEST_HARNESS_MAIN
