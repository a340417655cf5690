// SPDX-License-Identifier: GPL-2.0
/*
 * Keepalive (Documentation/xtcp.rst, "Keepalive"), against Linux TCP as the oracle:
 * every test runs for IPPROTO_TCP (SO_KEEPALIVE, TCP_KEEPIDLE/INTVL/CNT,
 * net.ipv4.tcp_keepalive_*) and for xtcp (SO_KEEPALIVE, XTCP_KEEPIDLE/
 * INTVL/CNT, net.xtcp.keepalive_*) with the same expectations.
 *
 * An alive peer is a socket over loopback; a peer that is gone or was
 * restarted is the scripted peer of xtcp_peer.h, which sees every probe
 * and either ignores it or answers with a RST. Times are 1 s, the
 * smallest the options take, so a test lasts a few seconds.
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
#define PEER_ISN	0x50000000u
#define IPV4_SYSCTL	"/proc/sys/net/ipv4/"
#define ANY_FLAGS	(XP_SYN | XP_ACK | XP_RST | XP_FIN)

FIXTURE(ka) {
	struct xp_peer p;
};

FIXTURE_VARIANT(ka) {
	int proto;
	int level;		/* of the KEEPIDLE/KEEPINTVL/KEEPCNT options */
	const char *knob_time;
	const char *knob_intvl;
	const char *knob_probes;
	const char *probes;	/* counter of keepalive probes sent */
};

FIXTURE_VARIANT_ADD(ka, tcp) {
	.proto = IPPROTO_TCP,
	.level = SOL_TCP,
	.knob_time = IPV4_SYSCTL "tcp_keepalive_time",
	.knob_intvl = IPV4_SYSCTL "tcp_keepalive_intvl",
	.knob_probes = IPV4_SYSCTL "tcp_keepalive_probes",
	.probes = "TCPKeepAlive",	/* TcpExt in /proc/net/netstat */
};

FIXTURE_VARIANT_ADD(ka, xtcp) {
	.proto = IPPROTO_XTCP,
	.level = SOL_XTCP,
	.knob_time = XTCP_SYSCTL_DIR "keepalive_time",
	.knob_intvl = XTCP_SYSCTL_DIR "keepalive_intvl",
	.knob_probes = XTCP_SYSCTL_DIR "keepalive_probes",
	.probes = "KeepaliveProbes",
};

/* The option numbers are TCP's for xtcp as well. */
static_assert(XTCP_KEEPIDLE == TCP_KEEPIDLE, "option numbers");
static_assert(XTCP_KEEPINTVL == TCP_KEEPINTVL, "option numbers");
static_assert(XTCP_KEEPCNT == TCP_KEEPCNT, "option numbers");

FIXTURE_SETUP(ka)
{
	int err;

	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("unshare: %s", strerror(-err));
	/* Whatever a test leaves behind dies quickly. */
	ASSERT_EQ(0, xtcp_short_retries(variant->proto, 2));
	err = xp_open(&self->p, variant->proto, KADDR, PADDR);
	ASSERT_EQ(0, err) TH_LOG("xp_open: %s", strerror(-err));
}

FIXTURE_TEARDOWN(ka)
{
	xp_close(&self->p);
}

/* Keepalive probes sent in this namespace so far. */
static long probes_sent(const FIXTURE_VARIANT(ka) *variant)
{
	if (variant->proto == IPPROTO_TCP)
		return xtcp_tcpext(variant->probes);
	return xtcp_counter(variant->probes);
}

/* SO_KEEPALIVE and, if @idle is nonzero, the three per-socket times. */
static int keepalive_on(const FIXTURE_VARIANT(ka) *variant, int fd,
			int idle, int intvl, int cnt)
{
	int err = xtcp_set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1);

	if (!err && idle)
		err = xtcp_set_int(fd, variant->level, TCP_KEEPIDLE, idle) ?:
		      xtcp_set_int(fd, variant->level, TCP_KEEPINTVL, intvl) ?:
		      xtcp_set_int(fd, variant->level, TCP_KEEPCNT, cnt);
	return err;
}

/*
 * The next keepalive probe on @c: a bare ACK one below snd_una (RFC 9293
 * 3.8.4), so that the peer has to answer. Returns 0 or -errno.
 */
static int next_probe(struct __test_metadata *_metadata, struct xp_peer *p,
		      struct xp_conn *c, struct xp_seg *r, int timeout_ms)
{
	int err = xp_conn_expect(p, c, r, ANY_FLAGS, XP_ACK, timeout_ms);

	if (err)
		return err;
	EXPECT_EQ(c->k_nxt - 1, r->seq) TH_LOG("probe %s", XP_SEG_STR(r));
	EXPECT_EQ(c->p_nxt, r->ack);
	EXPECT_EQ(0U, r->len);
	return 0;
}

/* Wait for an error on @fd and read it through recv(). */
static int recv_error(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -ETIMEDOUT;
	if (recv(fd, &c, 1, MSG_DONTWAIT) < 0)
		return errno;
	return 0;
}

/*
 * No answer to the probes: after @cnt of them, @intvl s apart and the
 * first @idle s after the last segment, the connection is reset and the
 * application reads ETIMEDOUT.
 */
static void peer_gone(struct __test_metadata *_metadata,
		      const FIXTURE_VARIANT(ka) *variant, struct xp_peer *p,
		      struct xp_conn *c, int idle, int intvl, int cnt)
{
	long timeouts = xtcp_counter("KeepaliveTimeouts");
	long sent = probes_sent(variant);
	__s64 t0 = xp_now_ms(), t, prev = t0;
	struct xp_seg r;
	int i, err;

	for (i = 0; i < cnt; i++) {
		err = next_probe(_metadata, p, c, &r, 3000 * (idle + intvl));
		ASSERT_EQ(0, err) TH_LOG("probe %d missing: %s", i + 1,
					 strerror(-err));
		t = xp_now_ms();
		TH_LOG("probe %d after %lld ms", i + 1, (long long)(t - prev));
		EXPECT_LE((i ? intvl : idle) * 1000 - 300, t - prev);
		EXPECT_GE((i ? intvl : idle) * 1000 + 1500, t - prev);
		prev = t;
	}
	err = xp_conn_expect(p, c, &r, XP_RST, XP_RST, 3000 * intvl);
	ASSERT_EQ(0, err) TH_LOG("no RST after the probes: %s",
				 strerror(-err));
	TH_LOG("%s %lld ms after the last activity",
	       XP_SEG_STR(&r), (long long)(xp_now_ms() - t0));
	EXPECT_EQ(XP_RST, r.flags & XP_RST);
	EXPECT_EQ(c->k_nxt, r.seq);

	EXPECT_EQ(ETIMEDOUT, recv_error(c->fd, 1000));
	t = xp_now_ms() - t0;
	EXPECT_LE((idle + cnt * intvl) * 1000 - 500, t);
	EXPECT_GE((idle + cnt * intvl) * 1000 + 3000, t);
	EXPECT_EQ(sent + cnt, probes_sent(variant));
	if (variant->proto == IPPROTO_XTCP)
		EXPECT_EQ(timeouts + 1, xtcp_counter("KeepaliveTimeouts"));
}

/*
 * An alive peer answers every probe; the connection outlives idle +
 * cnt x intvl many times over and still carries data.
 */
TEST_F(ka, alive_peer_keeps_connection)
{
	struct pollfd pfd = { .events = POLLIN };
	int cfd, sfd, soerr;
	long before;
	__s64 t0;

	sfd = xtcp_lo_pair(variant->proto, &cfd);
	ASSERT_LE(0, sfd) TH_LOG("pair: %s", strerror(-sfd));
	before = probes_sent(variant);
	ASSERT_LE(0, before);
	ASSERT_EQ(0, keepalive_on(variant, cfd, 1, 1, 1));
	t0 = xp_now_ms();

	/* One probe would be the last with cnt=1 if left unanswered. */
	ASSERT_TRUE(xtcp_wait_until(probes_sent(variant) >= before + 4, 8000))
		TH_LOG("%ld probes in 8 s", probes_sent(variant) - before);
	TH_LOG("4 probes in %lld ms", (long long)(xp_now_ms() - t0));
	pfd.fd = cfd;
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	soerr = xtcp_get_int(cfd, SOL_SOCKET, SO_ERROR);
	EXPECT_EQ(0, soerr) TH_LOG("%s", strerror(soerr));
	EXPECT_EQ(0, xtcp_echo(cfd, sfd));
	close(cfd);
	close(sfd);
}

/* Traffic in both directions keeps the connection from idling. */
TEST_F(ka, traffic_postpones_probes)
{
	int cfd, sfd, i;
	long before;

	sfd = xtcp_lo_pair(variant->proto, &cfd);
	ASSERT_LE(0, sfd);
	ASSERT_EQ(0, keepalive_on(variant, cfd, 1, 1, 1));
	before = probes_sent(variant);
	for (i = 0; i < 6; i++) {
		ASSERT_EQ(0, xtcp_echo(cfd, sfd));
		/* Not idle for more than 300 ms at a time. */
		ASSERT_FALSE(xtcp_wait_until(probes_sent(variant) != before, 300));
	}
	/* Then quiet: the probes start. */
	EXPECT_TRUE(xtcp_wait_until(probes_sent(variant) > before, 3000));
	close(cfd);
	close(sfd);
}

/* The peer is gone: no answer, ETIMEDOUT after idle + cnt x intvl. */
TEST_F(ka, gone_peer_times_out)
{
	struct xp_conn c;

	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 9001, PEER_ISN, true));
	ASSERT_EQ(0, keepalive_on(variant, c.fd, 1, 1, 2));
	peer_gone(_metadata, variant, &self->p, &c, 1, 1, 2);
	close(c.fd);
}

/* The peer restarted: it answers the probe with a RST, ECONNRESET at once. */
TEST_F(ka, restarted_peer_resets)
{
	struct xp_seg r, s;
	struct xp_conn c;
	__s64 t;
	int err;

	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 9002, PEER_ISN, true));
	ASSERT_EQ(0, keepalive_on(variant, c.fd, 1, 1, 3));
	err = next_probe(_metadata, &self->p, &c, &r, 4000);
	ASSERT_EQ(0, err) TH_LOG("no probe: %s", strerror(-err));

	/* A restarted host knows nothing of it: RST, seq = its ACK. */
	xp_seg_init(&self->p, &s);
	s.sport = c.pport;
	s.dport = c.kport;
	s.seq = r.ack;
	s.flags = XP_RST;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	t = xp_now_ms();
	EXPECT_EQ(ECONNRESET, recv_error(c.fd, 1000));
	TH_LOG("error %lld ms after the RST", (long long)(xp_now_ms() - t));
	EXPECT_GE(500, xp_now_ms() - t);
	close(c.fd);
}

/*
 * Without per-socket options the namespace's sysctls apply, SO_KEEPALIVE
 * set on a connected socket starts the timer, and getsockopt() reports
 * the values in effect.
 */
TEST_F(ka, sysctls_apply_without_options)
{
	struct xp_conn c;

	ASSERT_EQ(0, xtcp_write_file(variant->knob_time, "1"));
	ASSERT_EQ(0, xtcp_write_file(variant->knob_intvl, "1"));
	ASSERT_EQ(0, xtcp_write_file(variant->knob_probes, "2"));
	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 9003, PEER_ISN, true));
	ASSERT_EQ(0, keepalive_on(variant, c.fd, 0, 0, 0));
	EXPECT_EQ(1, xtcp_get_int(c.fd, SOL_SOCKET, SO_KEEPALIVE));
	EXPECT_EQ(1, xtcp_get_int(c.fd, variant->level, TCP_KEEPIDLE));
	EXPECT_EQ(1, xtcp_get_int(c.fd, variant->level, TCP_KEEPINTVL));
	EXPECT_EQ(2, xtcp_get_int(c.fd, variant->level, TCP_KEEPCNT));
	peer_gone(_metadata, variant, &self->p, &c, 1, 1, 2);
	close(c.fd);
}

/* getsockopt() reports the option if set, else the current sysctl. */
TEST_F(ka, getsockopt_reports_effective_values)
{
	int fd = socket(AF_INET, SOCK_STREAM, variant->proto);

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, xtcp_get_int(fd, SOL_SOCKET, SO_KEEPALIVE));
	/* Defaults (Linux's): two hours, 75 s, 9 probes. */
	EXPECT_EQ(7200, xtcp_get_int(fd, variant->level, TCP_KEEPIDLE));
	EXPECT_EQ(75, xtcp_get_int(fd, variant->level, TCP_KEEPINTVL));
	EXPECT_EQ(9, xtcp_get_int(fd, variant->level, TCP_KEEPCNT));

	ASSERT_EQ(0, xtcp_write_file(variant->knob_time, "100"));
	ASSERT_EQ(0, xtcp_write_file(variant->knob_intvl, "20"));
	ASSERT_EQ(0, xtcp_write_file(variant->knob_probes, "4"));
	EXPECT_EQ(100, xtcp_get_int(fd, variant->level, TCP_KEEPIDLE));
	EXPECT_EQ(20, xtcp_get_int(fd, variant->level, TCP_KEEPINTVL));
	EXPECT_EQ(4, xtcp_get_int(fd, variant->level, TCP_KEEPCNT));

	ASSERT_EQ(0, xtcp_set_int(fd, variant->level, TCP_KEEPIDLE, 5));
	ASSERT_EQ(0, xtcp_set_int(fd, variant->level, TCP_KEEPINTVL, 3));
	ASSERT_EQ(0, xtcp_set_int(fd, variant->level, TCP_KEEPCNT, 7));
	ASSERT_EQ(0, xtcp_write_file(variant->knob_time, "200"));
	EXPECT_EQ(5, xtcp_get_int(fd, variant->level, TCP_KEEPIDLE));
	EXPECT_EQ(3, xtcp_get_int(fd, variant->level, TCP_KEEPINTVL));
	EXPECT_EQ(7, xtcp_get_int(fd, variant->level, TCP_KEEPCNT));

	/* Out of range: refused, the value stays. */
	EXPECT_EQ(-EINVAL, xtcp_set_int(fd, variant->level, TCP_KEEPIDLE, 0));
	EXPECT_EQ(-EINVAL, xtcp_set_int(fd, variant->level, TCP_KEEPIDLE, 32768));
	EXPECT_EQ(-EINVAL, xtcp_set_int(fd, variant->level, TCP_KEEPINTVL, 0));
	EXPECT_EQ(-EINVAL, xtcp_set_int(fd, variant->level, TCP_KEEPCNT, 0));
	EXPECT_EQ(-EINVAL, xtcp_set_int(fd, variant->level, TCP_KEEPCNT, 128));
	EXPECT_EQ(5, xtcp_get_int(fd, variant->level, TCP_KEEPIDLE));
	EXPECT_EQ(7, xtcp_get_int(fd, variant->level, TCP_KEEPCNT));
	close(fd);
}

TEST_HARNESS_MAIN
