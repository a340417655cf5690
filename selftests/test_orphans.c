// SPDX-License-Identifier: GPL-2.0
/*
 * net.xtcp.max_orphans: connections closed by their application count
 * as orphans until they end; beyond the cap close() resets at once
 * (AbortOnMemory), as Linux TCP does beyond tcp_max_orphans. xtcp's cap
 * and count are per network namespace, Linux's host-wide, so TCP is not
 * run here.
 */

#include <netinet/in.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"

#define PAIRS	5
#define CAP	2

TEST(close_beyond_cap_resets)
{
	int cfd[PAIRS], sfd[PAIRS], i;
	long aborts;
	char b;

	ASSERT_EQ(0, xtcp_sysctl_set("max_orphans", CAP));
	ASSERT_EQ(0, xtcp_sysctl_set("fin_timeout", 60));
	aborts = xtcp_counter("AbortOnMemory");
	for (i = 0; i < PAIRS; i++)
		ASSERT_LE(0, sfd[i] = xtcp_lo_pair(IPPROTO_XTCP, &cfd[i]));
	EXPECT_EQ(0, xtcp_counter("Orphans"));

	/* Each client closes first: an orphan in FIN_WAIT_2, while room. */
	for (i = 0; i < PAIRS; i++) {
		ASSERT_EQ(0, close(cfd[i]));
		ASSERT_TRUE(xtcp_wait_fd(sfd[i], POLLIN, 3000) & POLLIN);
	}
	EXPECT_EQ(CAP, xtcp_counter("Orphans"));
	EXPECT_EQ(aborts + PAIRS - CAP, xtcp_counter("AbortOnMemory"));
	/*
	 * The first CAP wait in FIN_WAIT_2 for their peers, in CLOSE_WAIT;
	 * the others were reset: their FIN came first, so the servers read
	 * EOF, but the RST closed them.
	 */
	EXPECT_EQ(CAP, xtcp_proc_count("/proc/net/xtcp", -1, -1, 5));
	EXPECT_TRUE(xtcp_wait_until(xtcp_proc_count("/proc/net/xtcp", -1, -1,
						    8) == CAP, 3000));
	for (i = 0; i < PAIRS; i++)
		EXPECT_EQ(0, recv(sfd[i], &b, 1, 0));

	/* The servers close: the orphans go through TIME_WAIT and end. */
	for (i = 0; i < PAIRS; i++)
		close(sfd[i]);
	EXPECT_TRUE(xtcp_wait_until(xtcp_counter("Orphans") == 0, 5000));
}

/* With the cap at 0 no connection may linger: every close() resets. */
TEST(cap_zero_resets_every_close)
{
	int cfd, sfd, port;
	char b;

	ASSERT_EQ(0, xtcp_sysctl_set("max_orphans", 0));
	ASSERT_LE(0, sfd = xtcp_lo_pair(IPPROTO_XTCP, &cfd));
	port = xtcp_local_port(sfd);
	ASSERT_EQ(0, close(cfd));
	ASSERT_TRUE(xtcp_wait_fd(sfd, POLLIN, 3000) & POLLIN);
	EXPECT_EQ(0, recv(sfd, &b, 1, 0));
	/* Reset: nothing left in /proc, the server's write fails. */
	EXPECT_TRUE(xtcp_wait_until(xtcp_proc_count("/proc/net/xtcp", port,
						    -1, -1) == 0, 3000));
	EXPECT_EQ(-1, send(sfd, &b, 1, MSG_NOSIGNAL));
	EXPECT_EQ(0, xtcp_counter("Orphans"));
	close(sfd);
	ASSERT_EQ(0, xtcp_sysctl_set("max_orphans", 65536));
}

TEST_HARNESS_MAIN
