// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/xtcp and /proc/net/xtcp_stats exist in every namespace with
 * their documented layout.
 */

#include <sched.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"

static const char * const counters[] = {
	"ActiveOpens", "PassiveOpens", "AttemptFails", "EstabResets",
	"CurrEstab", "InSegs", "OutSegs", "RetransSegs", "InErrs",
	"InCsumErrors", "OutRsts", "TimeWait", "TWOverflow", "TWReused",
	"TWKilledByRST", "TWRecycledBySYN", "KeepaliveProbes",
	"KeepaliveTimeouts", "LingerAborts", "ListenDrops",
};

#define SOCKETS_HEADER "  sl  local_address rem_address   st tx_queue " \
	"rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

/* 0 when both files look right in the current namespace, else a code. */
static int check_proc_files(void)
{
	char buf[4096];
	size_t i;

	if (xtcp_read_file("/proc/net/xtcp", buf, sizeof(buf)))
		return 1;
	if (strncmp(buf, SOCKETS_HEADER, strlen(SOCKETS_HEADER)))
		return 2;
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
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
	EXPECT_EQ((int)(sizeof(counters) / sizeof(counters[0])), lines);
}

TEST_HARNESS_MAIN
