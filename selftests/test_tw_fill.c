// SPDX-License-Identifier: GPL-2.0
/*
 * TIME_WAIT (Documentation/xtcp.rst, "TIME_WAIT") with many entries: 10,000 of them
 * made over loopback by one worker per CPU, their memory per entry in
 * the bucket cache, and their end with the network namespace. xtcp only.
 */

#include <sys/wait.h>

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

#define MANY		10000	/* entries for the memory and teardown tests */

/*
 * Kernel log records since kmsg_open() that report a kernel or memory
 * error (the patterns of XTCP_KERNEL_ERROR_RE in lib.sh).
 */
static int kmsg_errors(struct __test_metadata *_metadata, int fd)
{
	static const char * const bad[] = {
		"BUG:", "WARNING:", "Oops", "KFENCE:", "Call Trace:",
		"Poison overwritten", "general protection fault",
		"Slab cache still has objects", "UBSAN:", "KASAN:",
		"unreferenced object", "blocked for more than",
	};
	char rec[2048], *end;
	int count = 0;
	size_t i;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		end = strchr(rec, '\n');
		if (end)
			*end = '\0';
		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			if (strstr(rec, bad[i])) {
				TH_LOG("kernel: %s", rec);
				count++;
				break;
			}
		}
	}
	return count;
}

/* ---- many entries: memory and teardown (xtcp) -------------------------- */

/* An attribute of a cache in /sys/kernel/slab, or -errno. */
static long slab_attr(const char *cache, const char *attr)
{
	char path[128], buf[64];
	int err;

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/%s", cache, attr);
	err = xtcp_read_file(path, buf, sizeof(buf));
	return err ? err : atol(buf);
}

/*
 * Objects of a cache that may still count as in use after being freed:
 * none where SLUB debugging makes every free go to the node lists (as
 * slub_debug in the test VM does), else what the per-cpu slabs can hold.
 */
static long slab_slack(const struct xtcp_slab *s)
{
	if (slab_attr("xtcp_tw", "sanity_checks") == 1 ||
	    slab_attr("xtcp_tw", "red_zone") == 1 ||
	    slab_attr("xtcp_tw", "poison") == 1 ||
	    slab_attr("xtcp_tw", "store_user") == 1)
		return 0;
	return s->per_slab * 2 * (sysconf(_SC_NPROCESSORS_ONLN) + 1);
}

/*
 * Slab objects KFENCE serves at the moment (kfence.sample_interval): they
 * are missing from /proc/slabinfo, whatever their cache. 0 without KFENCE.
 */
static long kfence_allocated(void)
{
	char buf[1024], *p;
	int err;

	err = xtcp_read_file("/sys/kernel/debug/kfence/stats", buf,
			     sizeof(buf));
	p = err ? NULL : strstr(buf, "currently allocated:");
	return p ? atol(p + strlen("currently allocated:")) : 0;
}

/*
 * One worker: @n connections over loopback to a listener of its own, each
 * closed client first. Returns 0 or an errno.
 */
static int fill_worker(int n)
{
	struct sockaddr_in sin = xtcp_sin(LOOPBACK, 0);
	socklen_t len = sizeof(sin);
	int lfd, cfd, sfd, i;
	char c;

	lfd = socket(AF_INET, SOCK_STREAM, IPPROTO_XTCP);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(lfd, 64) || getsockname(lfd, (struct sockaddr *)&sin, &len))
		return -errno;
	for (i = 0; i < n; i++) {
		cfd = socket(AF_INET, SOCK_STREAM, IPPROTO_XTCP);
		if (cfd < 0 ||
		    connect(cfd, (struct sockaddr *)&sin, sizeof(sin)))
			return -errno;
		sfd = accept(lfd, NULL, NULL);
		if (sfd < 0)
			return -errno;
		close(cfd);
		/* The server reads the EOF first: a passive close. */
		if (recv(sfd, &c, 1, 0) != 0)
			return -EPROTO;
		close(sfd);
	}
	close(lfd);
	return 0;
}

/*
 * @n TIME_WAIT entries in the current namespace, made by one worker
 * process per CPU. Returns 0 or -errno.
 */
static int fill(int n)
{
	int workers = sysconf(_SC_NPROCESSORS_ONLN), i, status, err = 0;

	if (workers < 1 || workers > 8)
		workers = 2;
	if (xtcp_sysctl_set("msl", LONG_MSL) ||
	    xtcp_sysctl_set("max_tw_buckets", 2 * n) ||
	    xtcp_sysctl_set("tw_reuse", 0) ||
	    ipv4_sysctl_set("ip_local_port_range", "1024 65535"))
		return -EIO;
	for (i = 0; i < workers; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return -errno;
		if (!pid)	/* exit status: the errno */
			_exit(-fill_worker(n / workers + (i < n % workers)));
	}
	for (i = 0; i < workers; i++) {
		if (wait(&status) < 0)
			return -errno;
		if (!WIFEXITED(status))
			err = -ECHILD;
		else if (WEXITSTATUS(status))
			err = -WEXITSTATUS(status);
	}
	if (!err && !xtcp_wait_until(xtcp_counter("TimeWait") == n, 10000))
		err = -ENOENT;
	return err;
}

FIXTURE(many) {
	struct xtcp_slab base;
	int kfd;
};

FIXTURE_SETUP(many)
{
	int err;

	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("unshare: %s", strerror(-err));
	if (xtcp_slab_read("xtcp_tw", &self->base) == -ENOENT)
		SKIP(return, "no xtcp_tw in /proc/slabinfo (cache merged; boot with slab_nomerge)");
	self->kfd = kmsg_open();
	ASSERT_LE(0, self->kfd);
}

FIXTURE_TEARDOWN(many)
{
	close(self->kfd);
}

/*
 * The entries of a namespace die with it: the child process making them
 * exits, its namespace goes, and so do the objects of the bucket cache.
 */
TEST_F_TIMEOUT(many, teardown_purges_netns, XTCP_TIMEOUT(150))
{
	int ready[2], go[2], err = -1;
	struct xtcp_slab held, now;
	long slack;
	__s64 t0;
	pid_t pid;
	char c = 0;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(ready[0]);
		close(go[1]);
		err = xp_unshare_net();
		if (!err)
			err = fill(MANY);
		if (write(ready[1], &err, sizeof(err)) != sizeof(err) ||
		    read(go[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	t0 = xp_now_ms();
	ASSERT_EQ((ssize_t)sizeof(err), read(ready[0], &err, sizeof(err)));
	ASSERT_EQ(0, err) TH_LOG("filling: %s", strerror(-err));
	TH_LOG("%d entries in %lld ms", MANY, (long long)(xp_now_ms() - t0));
	ASSERT_EQ(0, xtcp_slab_read("xtcp_tw", &held));
	EXPECT_LE(self->base.active + MANY, held.active + kfence_allocated());

	t0 = xp_now_ms();
	close(go[1]);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	slack = slab_slack(&held);
	EXPECT_TRUE(xtcp_wait_until(xtcp_slab_read("xtcp_tw", &now) == 0 &&
				    now.active <= self->base.active + slack,
			       60000));
	TH_LOG("xtcp_tw objects: %ld before, %ld held, %ld %lld ms after the namespace's end (slack %ld)",
	       self->base.active, held.active, now.active,
	       (long long)(xp_now_ms() - t0), slack);
	EXPECT_EQ(0, kmsg_errors(_metadata, self->kfd));
}

/*
 * Memory per entry, from the bucket cache: the object size must stay
 * within 128 bytes (a Linux tw_sock_TCP takes 256).
 */
TEST_F_TIMEOUT(many, memory_per_entry, XTCP_TIMEOUT(150))
{
	long object_size, slab_size, bytes, kfence;
	struct xtcp_slab now, tcp;
	__s64 t0, took;
	int err;

	t0 = xp_now_ms();
	err = fill(MANY);
	took = xp_now_ms() - t0;
	ASSERT_EQ(0, err) TH_LOG("filling: %s", strerror(-err));
	TH_LOG("%d entries in %lld ms: %lld connections per second", MANY,
	       (long long)took, (long long)(MANY * 1000LL / (took ?: 1)));
	EXPECT_EQ(MANY, tw_count("/proc/net/xtcp", -1, -1));

	ASSERT_EQ(0, xtcp_slab_read("xtcp_tw", &now));
	object_size = slab_attr("xtcp_tw", "object_size");
	slab_size = slab_attr("xtcp_tw", "slab_size");
	bytes = now.slabs * now.pages * sysconf(_SC_PAGESIZE);
	TH_LOG("xtcp_tw: %ld objects in use (%ld before), %ld slabs of %ld page(s)",
	       now.active, self->base.active, now.slabs, now.pages);
	TH_LOG("per entry: object_size %ld bytes, allocated %ld (slabinfo objsize = slab_size %ld, debug metadata included), slab pages %ld",
	       object_size, now.objsize, slab_size,
	       bytes / (now.active ?: 1));
	if (!xtcp_slab_read("tw_sock_TCP", &tcp))
		TH_LOG("for comparison tw_sock_TCP: objsize %ld, object_size %ld",
		       tcp.objsize, slab_attr("tw_sock_TCP", "object_size"));

	kfence = kfence_allocated();
	TH_LOG("KFENCE holds %ld objects of any cache", kfence);
	EXPECT_LE(self->base.active + MANY, now.active + kfence);
	ASSERT_LT(0, object_size) TH_LOG("no /sys/kernel/slab/xtcp_tw");
	EXPECT_GE(128, object_size);
	EXPECT_GE(object_size, (long)sizeof(__u32) * 3);
	EXPECT_LE(object_size, now.objsize);
}

TEST_HARNESS_MAIN
