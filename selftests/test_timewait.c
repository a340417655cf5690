// SPDX-License-Identifier: GPL-2.0
/*
 * TIME_WAIT (Documentation/xtcp.rst, "TIME_WAIT"), the life cycle: how long it lasts
 * and the MSL knobs, who enters it, and bind() to a port it holds. The
 * cap on entries is in test_tw_cap.c, reuse of a held 4-tuple in
 * test_tw_reuse.c, RST, FIN and SYN segments in test_tw_segments.c, and
 * the memory and teardown of many entries in test_tw_fill.c.
 *
 * Where Linux TCP behaves the same (who enters TIME_WAIT, bind rules),
 * both protocols run the same test, over IPv4 and over IPv6 (TCP6 the
 * oracle); the MSL knobs TCP lacks are tested on xtcp alone, over IPv4.
 * Every test runs in a network namespace of its own.
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

/* ---- xtcp only, over loopback ----------------------------------------- */

FIXTURE(xt) {
	int lfd;
	int sport;
};

FIXTURE_SETUP(xt)
{
	tw_lo_setup(_metadata, IPPROTO_XTCP, 0, &self->lfd, &self->sport);
}

FIXTURE_TEARDOWN(xt)
{
	close(self->lfd);
}

/* TIME_WAIT lasts 2 x net.xtcp.msl and shows its remaining time. */
TEST_F(xt, msl_sysctl_sets_length)
{
	int cfd, sfd, cport;
	__s64 t0, gone;
	struct xtcp_proc_entry e;
	bool seen;
	long first;

	ASSERT_EQ(0, xtcp_sysctl_set("msl", 300));
	cfd = client(IPPROTO_XTCP, NULL, 0, false);
	ASSERT_LE(0, cfd);
	sfd = connect_pair(cfd, self->lfd);
	ASSERT_LE(0, sfd);
	cport = xtcp_local_port(cfd);

	t0 = xp_now_ms();
	ASSERT_EQ(0, close_in_order(cfd, sfd));
	ASSERT_TRUE(xtcp_wait_until(tw_count("/proc/net/xtcp", cport,
					     self->sport) == 1, 200))
		TH_LOG("no TIME_WAIT entry right after the close");
	ASSERT_EQ(1, xtcp_proc_scan("/proc/net/xtcp", cport, self->sport,
				    ST_TIME_WAIT, &e));
	EXPECT_EQ(TR_TIME_WAIT, e.tr);
	EXPECT_GE(600UL, e.when);
	EXPECT_LT(0UL, e.when);
	EXPECT_EQ(1, xtcp_counter("TimeWait"));
	first = e.when;

	/* The column counts down, then the entry goes. */
	seen = xtcp_wait_until(xtcp_proc_scan("/proc/net/xtcp", cport, self->sport,
					      ST_TIME_WAIT, &e) == 1 &&
			  (long)e.when < first - 50, 1000);
	EXPECT_TRUE(seen) TH_LOG("remaining time stuck at %lu", e.when);
	EXPECT_GE(600UL, e.when);
	ASSERT_TRUE(xtcp_wait_until(!tw_count("/proc/net/xtcp", cport, self->sport),
				    5000));
	gone = xp_now_ms() - t0;
	TH_LOG("TIME_WAIT with msl=300 lasted about %lld ms", (long long)gone);
	EXPECT_LE(500, gone);
	EXPECT_GE(1500, gone);
	EXPECT_EQ(0, xtcp_counter("TimeWait"));
}

/* XTCP_MSL on the socket overrides the sysctl for its TIME_WAIT. */
TEST_F(xt, msl_socket_option_overrides)
{
	struct xtcp_info info;
	int cfd, cport, val;
	struct xtcp_proc_entry e;
	__s64 t0, gone;
	socklen_t len;

	ASSERT_EQ(0, xtcp_sysctl_set("msl", 5000));
	cfd = client(IPPROTO_XTCP, NULL, 0, false);
	ASSERT_LE(0, cfd);
	len = sizeof(val);
	ASSERT_EQ(0, getsockopt(cfd, SOL_XTCP, XTCP_MSL, &val, &len));
	EXPECT_EQ(5000, val);
	ASSERT_EQ(0, xtcp_set_int(cfd, SOL_XTCP, XTCP_MSL, 150));
	len = sizeof(val);
	ASSERT_EQ(0, getsockopt(cfd, SOL_XTCP, XTCP_MSL, &val, &len));
	EXPECT_EQ(150, val);
	len = sizeof(info);
	ASSERT_EQ(0, getsockopt(cfd, SOL_XTCP, XTCP_INFO, &info, &len));
	EXPECT_EQ(150U, info.xtcpi_msl);

	t0 = xp_now_ms();
	cport = cycle(_metadata, "/proc/net/xtcp", self->lfd, cfd, true);
	gone = -1;
	if (xtcp_wait_until(!tw_count("/proc/net/xtcp", cport, self->sport), 5000))
		gone = xp_now_ms() - t0;
	TH_LOG("TIME_WAIT with XTCP_MSL=150 (sysctl 5000) lasted about %lld ms",
	       (long long)gone);
	EXPECT_LE(250, gone);
	EXPECT_GE(1500, gone);

	/* Without the option the sysctl governs. */
	cport = xt_cycle(_metadata, self->lfd, NULL, false);
	ASSERT_EQ(1, xtcp_proc_scan("/proc/net/xtcp", cport, self->sport,
				    ST_TIME_WAIT, &e));
	EXPECT_LT(8000UL, e.when);
	EXPECT_GE(10000UL, e.when);
}

/* ---- TCP and xtcp over loopback --------------------------------------- */

FIXTURE(lo) {
	int lfd;
	int sport;
};

FIXTURE_VARIANT(lo) {
	int proto;
	int family;
	const char *proc;
};

/*
 * Over 127.0.0.1 and over ::1 (TCP6 the oracle); an IPv6 connection's
 * entries are listed in the files of IPv6.
 */
FIXTURE_VARIANT_ADD(lo, tcp) {
	.proto = IPPROTO_TCP,
	.family = AF_INET,
	.proc = "/proc/net/tcp",
};

FIXTURE_VARIANT_ADD(lo, xtcp) {
	.proto = IPPROTO_XTCP,
	.family = AF_INET,
	.proc = "/proc/net/xtcp",
};

FIXTURE_VARIANT_ADD(lo, tcp6) {
	.proto = IPPROTO_TCP,
	.family = AF_INET6,
	.proc = "/proc/net/tcp6",
};

FIXTURE_VARIANT_ADD(lo, xtcp6) {
	.proto = IPPROTO_XTCP,
	.family = AF_INET6,
	.proc = "/proc/net/xtcp6",
};

FIXTURE_SETUP(lo)
{
	tw_lo_setup_family(_metadata, variant->family, variant->proto, 20,
			   &self->lfd, &self->sport);
}

FIXTURE_TEARDOWN(lo)
{
	close(self->lfd);
}

/* Whoever closes first, and only that side, holds the TIME_WAIT entry. */
TEST_F(lo, active_closer_only)
{
	int cfd, cport;

	cfd = client_family(variant->family, variant->proto, NULL, 0, false);
	ASSERT_LE(0, cfd);
	cport = cycle(_metadata, variant->proc, self->lfd, cfd, true);
	EXPECT_EQ(1, tw_count(variant->proc, cport, self->sport));
	EXPECT_EQ(0, xtcp_proc_scan(variant->proc, self->sport, cport, -1, NULL));

	cfd = client_family(variant->family, variant->proto, NULL, 0, false);
	ASSERT_LE(0, cfd);
	cport = cycle(_metadata, variant->proc, self->lfd, cfd, false);
	EXPECT_EQ(1, tw_count(variant->proc, self->sport, cport));
	EXPECT_EQ(0, xtcp_proc_scan(variant->proc, cport, self->sport, -1, NULL));

	EXPECT_EQ(2, tw_count(variant->proc, -1, -1));
}

/* bind() to a port held in TIME_WAIT needs SO_REUSEADDR on both sockets. */
TEST_F(lo, bind_needs_reuseaddr)
{
	const char *lo = xtcp_lo_str(variant->family);
	int cfd, port, old_reuse;

	for (old_reuse = 0; old_reuse <= 1; old_reuse++) {
		cfd = client_family(variant->family, variant->proto, lo, 0,
				    old_reuse);
		ASSERT_LE(0, cfd);
		port = cycle(_metadata, variant->proc, self->lfd, cfd, true);
		ASSERT_EQ(1, tw_count(variant->proc, port, self->sport));

		cfd = client_family(variant->family, variant->proto, lo, port,
				    false);
		EXPECT_EQ(-EADDRINUSE, cfd) TH_LOG("old reuse %d", old_reuse);
		if (cfd >= 0)
			close(cfd);
		cfd = client_family(variant->family, variant->proto, lo, port,
				    true);
		if (old_reuse) {
			EXPECT_LE(0, cfd) TH_LOG("bind: %s", strerror(-cfd));
		} else {
			EXPECT_EQ(-EADDRINUSE, cfd);
		}
		if (cfd >= 0)
			close(cfd);
	}
}

TEST_HARNESS_MAIN
