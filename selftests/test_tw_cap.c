// SPDX-License-Identifier: GPL-2.0
/*
 * TIME_WAIT (Documentation/xtcp.rst, "TIME_WAIT"): the cap on entries
 * (net.xtcp.max_tw_buckets), its two overflow policies, the TWOverflow
 * counter and the rate-limited kernel message. xtcp only, over loopback;
 * every test runs in a network namespace of its own.
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

#define TW_OVERFLOW_MSG	"xtcp: time wait bucket table overflow"

/* Kernel log records since kmsg_open() whose text is exactly @msg. */
static int kmsg_count(int fd, const char *msg)
{
	char rec[2048], *text, *end;
	int count = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: skip them */
		if (n <= 0)
			break;
		rec[n] = '\0';
		text = strchr(rec, ';');
		if (!text)
			continue;
		end = strchr(++text, '\n');
		if (end)
			*end = '\0';
		if (!strcmp(text, msg))
			count++;
	}
	return count;
}

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

/*
 * Eight connections closed client first against max_tw_buckets=5: the
 * entries that fit stay (@policy 0: the first five; 1: the five newest,
 * the oldest being evicted), each of the other three raises TWOverflow.
 * Returns the kernel log records about it.
 */
static int cap_run(struct __test_metadata *_metadata, FIXTURE_DATA(xt) *self,
		   int policy)
{
	int cport[8], i, kfd, nlog;
	long over;

	ASSERT_EQ(0, xtcp_sysctl_set("max_tw_buckets", 5));
	ASSERT_EQ(0, xtcp_sysctl_set("tw_overflow", policy));
	kfd = kmsg_open();
	ASSERT_LE(0, kfd) TH_LOG("/dev/kmsg: %s", strerror(errno));
	over = xtcp_counter("TWOverflow");
	ASSERT_LE(0, over);

	for (i = 0; i < 8; i++)
		cport[i] = xt_cycle(_metadata, self->lfd, NULL, false);

	EXPECT_EQ(5, tw_count("/proc/net/xtcp", -1, -1));
	EXPECT_EQ(5, xtcp_counter("TimeWait"));
	EXPECT_EQ(over + 3, xtcp_counter("TWOverflow"));
	for (i = 0; i < 8; i++) {
		bool kept = policy ? i >= 3 : i < 5;

		EXPECT_EQ((int)kept,
			  tw_count("/proc/net/xtcp", cport[i], self->sport))
			TH_LOG("connection %d (port %d)", i, cport[i]);
	}
	nlog = kmsg_count(kfd, TW_OVERFLOW_MSG);
	close(kfd);
	return nlog;
}

TEST_F(xt, cap_closes_newcomers)
{
	int nlog = cap_run(_metadata, self, 0);

	/* Rate limited, but the first of a quiet period gets through. */
	EXPECT_LE(1, nlog) TH_LOG("no \"%s\" in the kernel log",
				  TW_OVERFLOW_MSG);
	EXPECT_GE(3, nlog);
}

TEST_F(xt, cap_evicts_oldest)
{
	EXPECT_GE(3, cap_run(_metadata, self, 1));
}

/*
 * max_tw_buckets=0: no entry ever, whatever the policy. The overflow
 * message is rate limited: 25 overflows within one or two windows of
 * net_ratelimit() (10 messages per 5 s) print at most 20 lines.
 */
TEST_F(xt, cap_zero_keeps_none)
{
	int i, kfd, nlog;
	long over;

	ASSERT_EQ(0, xtcp_sysctl_set("max_tw_buckets", 0));
	kfd = kmsg_open();
	ASSERT_LE(0, kfd);
	over = xtcp_counter("TWOverflow");
	for (i = 0; i < 25; i++) {
		ASSERT_EQ(0, xtcp_sysctl_set("tw_overflow", i & 1));
		xt_cycle(_metadata, self->lfd, NULL, false);
		EXPECT_EQ(0, tw_count("/proc/net/xtcp", -1, -1));
	}
	EXPECT_EQ(0, xtcp_counter("TimeWait"));
	EXPECT_EQ(over + 25, xtcp_counter("TWOverflow"));
	nlog = kmsg_count(kfd, TW_OVERFLOW_MSG);
	TH_LOG("%d overflow messages for 25 overflows", nlog);
	EXPECT_LE(1, nlog);
	EXPECT_GE(20, nlog);
	close(kfd);
}

TEST_HARNESS_MAIN
