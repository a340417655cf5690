// SPDX-License-Identifier: GPL-2.0
/*
 * net.xtcp.* knobs: defaults, range checks, permissions and per-namespace
 * isolation. One fixture variant per knob, so every knob gets every check.
 */

#include <limits.h>
#include <sched.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"

FIXTURE(knob) {
	long saved;
};

FIXTURE_VARIANT(knob) {
	const char *name;
	long def;
	long min;
	long max;
};

FIXTURE_VARIANT_ADD(knob, msl) {
	.name = "msl", .def = 30000, .min = 1, .max = 600000,
};

FIXTURE_VARIANT_ADD(knob, max_tw_buckets) {
	.name = "max_tw_buckets", .def = 18000, .min = 0, .max = INT_MAX,
};

FIXTURE_VARIANT_ADD(knob, tw_overflow) {
	.name = "tw_overflow", .def = 0, .min = 0, .max = 1,
};

FIXTURE_VARIANT_ADD(knob, tw_reuse) {
	.name = "tw_reuse", .def = 2, .min = 0, .max = 2,
};

FIXTURE_VARIANT_ADD(knob, tw_reuse_delay) {
	.name = "tw_reuse_delay", .def = 1000, .min = 1, .max = 60000,
};

FIXTURE_VARIANT_ADD(knob, rfc1337) {
	.name = "rfc1337", .def = 0, .min = 0, .max = 1,
};

FIXTURE_VARIANT_ADD(knob, fin_timeout) {
	.name = "fin_timeout", .def = 60, .min = 1, .max = 3600,
};

FIXTURE_VARIANT_ADD(knob, keepalive_time) {
	.name = "keepalive_time", .def = 7200, .min = 1, .max = 32767,
};

FIXTURE_VARIANT_ADD(knob, keepalive_intvl) {
	.name = "keepalive_intvl", .def = 75, .min = 1, .max = 32767,
};

FIXTURE_VARIANT_ADD(knob, keepalive_probes) {
	.name = "keepalive_probes", .def = 9, .min = 1, .max = 127,
};

FIXTURE_VARIANT_ADD(knob, timestamps) {
	.name = "timestamps", .def = 1, .min = 0, .max = 1,
};

FIXTURE_VARIANT_ADD(knob, sack) {
	.name = "sack", .def = 1, .min = 0, .max = 1,
};

FIXTURE_VARIANT_ADD(knob, syn_retries) {
	.name = "syn_retries", .def = 6, .min = 1, .max = 127,
};

FIXTURE_VARIANT_ADD(knob, synack_retries) {
	.name = "synack_retries", .def = 5, .min = 1, .max = 127,
};

FIXTURE_VARIANT_ADD(knob, retries2) {
	.name = "retries2", .def = 15, .min = 1, .max = 127,
};

FIXTURE_VARIANT_ADD(knob, orphan_retries) {
	.name = "orphan_retries", .def = 8, .min = 1, .max = 127,
};

FIXTURE_VARIANT_ADD(knob, rto_min) {
	.name = "rto_min", .def = 200, .min = 1, .max = 120000,
};

FIXTURE_VARIANT_ADD(knob, max_syn_backlog) {
	.name = "max_syn_backlog", .def = 1024, .min = 1, .max = 65535,
};

FIXTURE_VARIANT_ADD(knob, max_orphans) {
	.name = "max_orphans", .def = 65536, .min = 0, .max = INT_MAX,
};

FIXTURE_VARIANT_ADD(knob, notsent_lowat) {
	.name = "notsent_lowat", .def = INT_MAX, .min = 1, .max = INT_MAX,
};

FIXTURE_VARIANT_ADD(knob, gso) {
	.name = "gso", .def = 1, .min = 0, .max = 1,
};

FIXTURE_VARIANT_ADD(knob, early_demux) {
	.name = "early_demux", .def = 1, .min = 0, .max = 1,
};

FIXTURE_VARIANT_ADD(knob, syncookies) {
	.name = "syncookies", .def = 1, .min = 0, .max = 2,
};

FIXTURE_VARIANT_ADD(knob, invalid_ratelimit) {
	.name = "invalid_ratelimit", .def = 500, .min = 0, .max = 60000,
};

/*
 * rmem_default <= rmem_max and wmem_default <= wmem_max: with the other
 * knob of the pair at its default, the range ends at that default.
 */
FIXTURE_VARIANT_ADD(knob, rmem_default) {
	.name = "rmem_default", .def = 131072, .min = 4096, .max = 6291456,
};

FIXTURE_VARIANT_ADD(knob, rmem_max) {
	.name = "rmem_max", .def = 6291456, .min = 131072, .max = 1 << 30,
};

FIXTURE_VARIANT_ADD(knob, wmem_default) {
	.name = "wmem_default", .def = 16384, .min = 4096, .max = 4194304,
};

FIXTURE_VARIANT_ADD(knob, wmem_max) {
	.name = "wmem_max", .def = 4194304, .min = 16384, .max = 1 << 30,
};

FIXTURE_SETUP(knob)
{
	ASSERT_EQ(0, xtcp_sysctl_get(variant->name, &self->saved));
}

FIXTURE_TEARDOWN(knob)
{
	EXPECT_EQ(0, xtcp_sysctl_set(variant->name, self->saved));
}

/* A value of the range other than the default. */
static long other_value(const FIXTURE_VARIANT(knob) *v)
{
	return v->def == v->max ? v->min : v->max;
}

TEST_F(knob, default_value)
{
	/* The runner gives each test program a fresh namespace. */
	EXPECT_EQ(variant->def, self->saved);
}

TEST_F(knob, write_within_range)
{
	long val;

	ASSERT_EQ(0, xtcp_sysctl_set(variant->name, variant->min));
	ASSERT_EQ(0, xtcp_sysctl_get(variant->name, &val));
	EXPECT_EQ(variant->min, val);

	ASSERT_EQ(0, xtcp_sysctl_set(variant->name, variant->max));
	ASSERT_EQ(0, xtcp_sysctl_get(variant->name, &val));
	EXPECT_EQ(variant->max, val);

	ASSERT_EQ(0, xtcp_sysctl_set(variant->name, variant->def));
	ASSERT_EQ(0, xtcp_sysctl_get(variant->name, &val));
	EXPECT_EQ(variant->def, val);
}

TEST_F(knob, reject_out_of_range)
{
	long val, set = other_value(variant);

	ASSERT_EQ(0, xtcp_sysctl_set(variant->name, set));

	EXPECT_EQ(-EINVAL, xtcp_sysctl_set(variant->name, variant->min - 1));
	EXPECT_EQ(-EINVAL, xtcp_sysctl_set(variant->name, variant->max + 1));
	EXPECT_EQ(-EINVAL, xtcp_sysctl_set_str(variant->name, "banana\n"));
	EXPECT_EQ(-EINVAL, xtcp_sysctl_set_str(variant->name,
					       "99999999999999999999\n"));

	ASSERT_EQ(0, xtcp_sysctl_get(variant->name, &val));
	EXPECT_EQ(set, val);
}

static int child_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

TEST_F(knob, isolated_per_netns)
{
	long val, set = other_value(variant);
	pid_t pid;

	/* A write in a new namespace is not seen here... */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (unshare(CLONE_NEWNET))
			_exit(1);
		if (xtcp_sysctl_get(variant->name, &val) || val != variant->def)
			_exit(2);
		if (xtcp_sysctl_set(variant->name, set))
			_exit(3);
		if (xtcp_sysctl_get(variant->name, &val) || val != set)
			_exit(4);
		_exit(0);
	}
	ASSERT_EQ(0, child_status(pid));
	ASSERT_EQ(0, xtcp_sysctl_get(variant->name, &val));
	EXPECT_EQ(variant->def, val);

	/* ...and a write here is not seen in a new namespace. */
	ASSERT_EQ(0, xtcp_sysctl_set(variant->name, set));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (unshare(CLONE_NEWNET))
			_exit(1);
		if (xtcp_sysctl_get(variant->name, &val) || val != variant->def)
			_exit(2);
		_exit(0);
	}
	EXPECT_EQ(0, child_status(pid));
}

TEST_F(knob, unprivileged_read_only)
{
	long val;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Leaving uid 0 drops every capability. */
		if (setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(1);
		if (xtcp_sysctl_get(variant->name, &val) ||
		    val != self->saved)
			_exit(2);
		if (xtcp_sysctl_set(variant->name, other_value(variant)) !=
		    -EACCES)
			_exit(3);
		_exit(0);
	}
	EXPECT_EQ(0, child_status(pid));
	ASSERT_EQ(0, xtcp_sysctl_get(variant->name, &val));
	EXPECT_EQ(self->saved, val);
}

/* Each pair of buffer knobs bounds itself: default <= max, both ways. */
FIXTURE(pair) {
	long saved[2];
};

FIXTURE_VARIANT(pair) {
	const char *def;	/* the knob whose upper bound is @max */
	const char *max;
	long limit;		/* the absolute upper bound of both */
};

FIXTURE_VARIANT_ADD(pair, rmem) {
	.def = "rmem_default", .max = "rmem_max", .limit = 1 << 30,
};

FIXTURE_VARIANT_ADD(pair, wmem) {
	.def = "wmem_default", .max = "wmem_max", .limit = 1 << 30,
};

FIXTURE_SETUP(pair)
{
	ASSERT_EQ(0, xtcp_sysctl_get(variant->def, &self->saved[0]));
	ASSERT_EQ(0, xtcp_sysctl_get(variant->max, &self->saved[1]));
}

FIXTURE_TEARDOWN(pair)
{
	/* Lower the default first, so that every step stays valid. */
	EXPECT_EQ(0, xtcp_sysctl_set(variant->def, 4096));
	EXPECT_EQ(0, xtcp_sysctl_set(variant->max, self->saved[1]));
	EXPECT_EQ(0, xtcp_sysctl_set(variant->def, self->saved[0]));
}

TEST_F(pair, default_never_above_max)
{
	long d, m;

	/* The max cannot go below the default: lower that first. */
	EXPECT_EQ(-EINVAL, xtcp_sysctl_set(variant->max, 4096));
	ASSERT_EQ(0, xtcp_sysctl_set(variant->def, 4096));
	ASSERT_EQ(0, xtcp_sysctl_set(variant->max, 65536));
	/* Above the max: refused, both unchanged. */
	EXPECT_EQ(-EINVAL, xtcp_sysctl_set(variant->def, 65537));
	/* Equal: allowed. */
	EXPECT_EQ(0, xtcp_sysctl_set(variant->def, 65536));
	/* The max cannot go below the default now... */
	EXPECT_EQ(-EINVAL, xtcp_sysctl_set(variant->max, 65535));
	ASSERT_EQ(0, xtcp_sysctl_get(variant->def, &d));
	ASSERT_EQ(0, xtcp_sysctl_get(variant->max, &m));
	EXPECT_EQ(65536, d);
	EXPECT_EQ(65536, m);
	/* ...and raising the max lets the default follow to the limit. */
	EXPECT_EQ(0, xtcp_sysctl_set(variant->max, variant->limit));
	EXPECT_EQ(0, xtcp_sysctl_set(variant->def, variant->limit));
	EXPECT_EQ(-EINVAL, xtcp_sysctl_set(variant->max, variant->limit + 1));
}

TEST_HARNESS_MAIN
