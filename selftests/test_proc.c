// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/xtcp and /proc/net/xtcp_stats exist in every namespace with
 * their documented layout.
 */

#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"

static const char * const counters[] = {
	"ActiveOpens", "PassiveOpens", "AttemptFails", "EstabResets",
	"CurrEstab", "InSegs", "OutSegs", "RetransSegs", "InErrs",
	"InCsumErrors", "OutRsts", "TimeWait", "TWOverflow", "TWReused",
	"TWKilledByRST", "TWRecycledBySYN", "KeepaliveProbes",
	"KeepaliveTimeouts", "LingerAborts", "ListenDrops", "OFOQueue",
	"OFODrop", "OFOPruned", "RcvQDrop", "ACKSkippedSynRecv",
	"ACKSkippedSeq", "ACKSkippedChallenge", "ACKSkippedTimeWait",
	"SyncookiesSent", "SyncookiesRecv", "SyncookiesFailed",
	"AbortOnMemory", "OutOfWindowIcmps", "SackRecovery", "SackRetrans",
	"SackDiscard", "DSackRecv", "OutGsoSkbs",
	"BacklogDrop", "TimeoutRehash", "MinTTLDrop", "InGsoSkbs",
	"InTruesizeCopies", "InEarlyDemux", "Orphans",
};

#define SOCKETS_HEADER "  sl  local_address rem_address   st tx_queue " \
	"rx_queue tr tm->when retrnsmt   uid  timeout inode age_ms\n"

/* 0 when both files look right in the current namespace, else a code. */
static int check_proc_files(void)
{
	char buf[4096];
	size_t i;

	if (xtcp_read_file("/proc/net/xtcp", buf, sizeof(buf)))
		return 1;
	if (strncmp(buf, SOCKETS_HEADER, strlen(SOCKETS_HEADER)))
		return 2;
	for (i = 0; i < ARRAY_SIZE(counters); i++)
		if (xtcp_counter(counters[i]) < 0)
			return 3;
	return 0;
}

TEST(files_in_this_netns)
{
	EXPECT_EQ(0, check_proc_files());
}

TEST(files_in_new_netns)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (unshare(CLONE_NEWNET))
			_exit(10);
		_exit(check_proc_files());
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST(stats_counter_count)
{
	char line[128];
	int lines = 0;
	FILE *f;

	f = fopen("/proc/net/xtcp_stats", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		lines++;
	fclose(f);
	EXPECT_EQ((int)(ARRAY_SIZE(counters)), lines);
}

struct age_query {
	int lport;
	int st;
	long age;
};

static int age_match(const struct xtcp_proc_entry *e, void *arg)
{
	struct age_query *q = arg;

	if ((int)e->lport == q->lport && (int)e->state == q->st)
		q->age = e->age_ms;
	return 0;
}

/* age_ms of the line for local port @lport in state @st, or -1. */
static long age_of(int lport, int st)
{
	struct age_query q = { .lport = lport, .st = st, .age = -1 };

	if (xtcp_proc_foreach("/proc/net/xtcp", age_match, &q))
		return -1;
	return q.age;
}

/*
 * A socket stuck in CLOSE_WAIT is found by its age (Documentation/xtcp.rst,
 * "Related lifetimes"): the age_ms column counts from the state change and keeps growing;
 * the protocol never times it out.
 */
TEST(close_wait_age)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(sin);
	int lfd, cfd, afd, sport;
	long first, second, t0;
	char c;

	ASSERT_EQ(0, system("ip link set lo up"));
	lfd = socket(AF_INET, SOCK_STREAM, IPPROTO_XTCP);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(lfd, 1));
	ASSERT_EQ(0, getsockname(lfd, (struct sockaddr *)&sin, &len));
	sport = ntohs(sin.sin_port);
	cfd = socket(AF_INET, SOCK_STREAM, IPPROTO_XTCP);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect(cfd, (struct sockaddr *)&sin, sizeof(sin)));
	afd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, afd);

	close(cfd);
	ASSERT_EQ(0, recv(afd, &c, 1, 0));	/* EOF: now in CLOSE_WAIT */
	t0 = xp_now_ms();
	first = age_of(sport, 0x08);
	ASSERT_LE(0, first);
	/* Wait for the age to move: a deadline, not a fixed sleep. */
	while ((second = age_of(sport, 0x08)) <= first + 300 &&
	       xp_now_ms() - t0 < 10000)
		usleep(50 * 1000);
	EXPECT_LT(first + 300, second);
	EXPECT_GE(xp_now_ms() - t0 + first + 50, second);
	close(afd);
	close(lfd);
}

TEST_HARNESS_MAIN
