// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failures injected into xtcp (CONFIG_FAILSLAB,
 * CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS and its
 * stacktrace filter; the debug kernel of `make check-debug` has them):
 *
 * - module init: the last INIT_WINDOW allocations of a module load (the
 *   module's init and what follows it), failed one at a time
 *   (/proc/thread-self/fail-nth): each load fails with a clean errno and
 *   leaves nothing behind, or succeeds;
 * - network namespace init, socket(), listen(), connect() and send():
 *   every allocation made from the module's code, failed one at a time;
 * - connections made, accepted, used and closed into TIME_WAIT while one
 *   in ten allocations made from the module's code fails, in any context
 *   (softirq included): every call ends, and afterwards no connection is
 *   left behind and xtcp works.
 *
 * A failure must never leak (kmemleak, checked by the runner), warn or
 * oops (the runner checks the console). Without fault injection the test
 * is skipped.
 */

/*
 * The harness's wrapper around each test keeps its fork() result in a
 * local across the setjmp() that ASSERT_*() return to; once a test body is
 * inlined there, GCC warns that it might be clobbered. Should it be, a
 * failed assertion still fails the test (the process aborts).
 */
#pragma GCC diagnostic ignored "-Wclobbered"

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"

#define FI		"/sys/kernel/debug/"
#define NTH		"/proc/thread-self/fail-nth"
#define MAX_NTH		400	/* more from xtcp in one call: a runaway */
#define INIT_WINDOW	300	/* the last allocations of a module load */

static const char *const caps[] = { "failslab", "fail_page_alloc" };

static int fi_write(const char *cap, const char *knob, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), FI "%s/%s", cap, knob);
	return xtcp_write_file(path, val);
}

static long fi_read(const char *cap, const char *knob)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), FI "%s/%s", cap, knob);
	return xtcp_read_file(path, buf, sizeof(buf)) ? -1 : atol(buf);
}

/*
 * The address range of kernel function @fn: from its symbol to the next
 * one in /proc/kallsyms. 0 or -1.
 */
static int kallsyms_range(const char *fn, unsigned long *start,
			  unsigned long *end)
{
	unsigned long addr, best = 0, next = ~0UL;
	char line[256], name[128];
	FILE *f;

	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx %*s %127s", &addr, name) == 2 &&
		    !strcmp(name, fn))
			best = addr;
	rewind(f);
	while (best && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx", &addr) == 1 && addr > best &&
		    addr < next)
			next = addr;
	fclose(f);
	if (!best || next == ~0UL)
		return -1;
	*start = best;
	*end = next;
	return 0;
}

/*
 * Both capabilities fail what they are asked to, whatever the GFP flags
 * and order, silently, and only allocations made with a frame between
 * @start and @end on the stack. Never inside kmem_cache_create(): the
 * kernel dumps a stack trace when it fails, by design (a module's caches
 * failing to be made is tested all the same, by the allocations after).
 * 0 or -errno.
 */
static int fi_setup(unsigned long start, unsigned long end)
{
	char s[32], e[32], rs[32] = "0", re[32] = "0";
	unsigned long kstart, kend;
	unsigned int i;
	int err = 0;

	snprintf(s, sizeof(s), "%lu", start);
	snprintf(e, sizeof(e), "%lu", end);
	if (!kallsyms_range("__kmem_cache_create_args", &kstart, &kend)) {
		snprintf(rs, sizeof(rs), "%lu", kstart);
		snprintf(re, sizeof(re), "%lu", kend);
	}
	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		err = err ?: fi_write(caps[i], "probability", "0");
		err = err ?: fi_write(caps[i], "verbose", "0");
		err = err ?: fi_write(caps[i], "ignore-gfp-wait", "N");
		err = err ?: fi_write(caps[i], "task-filter", "N");
		err = err ?: fi_write(caps[i], "interval", "1");
		err = err ?: fi_write(caps[i], "space", "0");
		err = err ?: fi_write(caps[i], "stacktrace-depth", "32");
		err = err ?: fi_write(caps[i], "require-start", s);
		err = err ?: fi_write(caps[i], "require-end", e);
		err = err ?: fi_write(caps[i], "reject-start", rs);
		err = err ?: fi_write(caps[i], "reject-end", re);
	}
	err = err ?: fi_write("fail_page_alloc", "min-order", "0");
	err = err ?: fi_write("fail_page_alloc", "ignore-gfp-highmem", "N");
	return err;
}

/* The first and last address of the xtcp module; 0 or -1. */
static int module_range(unsigned long *start, unsigned long *end)
{
	char line[256], name[64];
	unsigned long size, addr;
	int found = -1;
	FILE *f;

	f = fopen("/proc/modules", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %lu %*s %*s %*s %lx", name, &size,
			   &addr) == 3 && !strcmp(name, "xtcp") && addr) {
			*start = addr;
			*end = addr + size;
			found = 0;
		}
	fclose(f);
	return found;
}

/*
 * Fail the @n-th allocation this thread makes next (0: none). Reading
 * back tells whether it was: 0 once injected, else how many remain.
 */
static int nth_set(int n)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", n);
	return xtcp_write_file(NTH, buf);
}

static int nth_left(void)
{
	char buf[16];

	return xtcp_read_file(NTH, buf, sizeof(buf)) ? -1 : atoi(buf);
}

/* Errors an allocation failure may surface as. */
static bool clean_errno(int err)
{
	return err == ENOMEM || err == ENOBUFS || err == EAGAIN ||
	       err == ETIMEDOUT || err == ECONNRESET || err == ECONNREFUSED ||
	       err == EPIPE || err == EHOSTUNREACH || err == ENETUNREACH;
}

static int echo_ok(void)
{
	int cfd, sfd, err;

	sfd = xtcp_lo_pair(IPPROTO_XTCP, &cfd);
	if (sfd < 0)
		return sfd;
	err = xtcp_echo(cfd, sfd) ?: xtcp_echo(sfd, cfd);
	close(cfd);
	close(sfd);
	return err;
}

static const char *module_path(void)
{
	const char *m = getenv("XTCP_MODULE");

	return m ?: "../xtcp.ko";
}

static int unload(void)
{
	__s64 deadline = xp_now_ms() + XTCP_TIMEOUT(30) * 1000;

	/* Sockets of earlier tests may still be closing. */
	while (syscall(SYS_delete_module, "xtcp", O_NONBLOCK)) {
		if (errno != EAGAIN && errno != EBUSY)
			return -errno;
		if (xp_now_ms() > deadline)
			return -EBUSY;
		usleep(50000);
	}
	return 0;
}

static int load(int fd, int nth, int *left)
{
	int ret, err;

	if (nth && nth_set(nth))
		return -EIO;
	ret = syscall(SYS_finit_module, fd, "", 0);
	err = ret ? errno : 0;
	if (nth) {
		*left = nth_left();
		nth_set(0);
	}
	return -err;
}

/* Every timer short, so that what a failure leaves behind ends soon. */
static int short_timers(void)
{
	return xtcp_sysctl_set("rto_min", 20) ?:
	       xtcp_sysctl_set("syn_retries", 2) ?:
	       xtcp_sysctl_set("synack_retries", 2) ?:
	       xtcp_sysctl_set("retries2", 3) ?:
	       xtcp_sysctl_set("orphan_retries", 2) ?:
	       xtcp_sysctl_set("fin_timeout", 1) ?:
	       xtcp_sysctl_set("msl", 1);
}

/* No more failures, and no filter left for others. */
static void fi_off(void)
{
	unsigned int i;

	nth_set(0);
	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		fi_write(caps[i], "probability", "0");
		fi_write(caps[i], "require-start", "0");
		fi_write(caps[i], "require-end", "18446744073709551615");
		fi_write(caps[i], "reject-start", "0");
		fi_write(caps[i], "reject-end", "0");
	}
}

FIXTURE(faults) {
	unsigned long start, end;	/* the module's text and data */
};

FIXTURE_SETUP(faults)
{
	if (access(FI "failslab/require-start", F_OK) ||
	    access(FI "fail_page_alloc/require-start", F_OK) ||
	    access(NTH, F_OK))
		SKIP(return, "needs FAILSLAB, FAIL_PAGE_ALLOC and their debugfs stacktrace filter (make check-debug)");
	ASSERT_EQ(0, module_range(&self->start, &self->end));
	ASSERT_EQ(0, fi_setup(self->start, self->end));
	ASSERT_EQ(0, short_timers());
}

FIXTURE_TEARDOWN(faults)
{
	fi_off();
}

/*
 * The last allocations of a module load, the module's init among them,
 * failed one at a time: the load fails with a clean errno and leaves no
 * module, or succeeds; either way a clean load works after.
 */
TEST_F_TIMEOUT(faults, module_init, XTCP_TIMEOUT(600))
{
	int fd, n, total, left = 0, failed = 0, tolerated = 0, err;

	fd = open(module_path(), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	/* Every allocation counts, the module's range is not known yet. */
	ASSERT_EQ(0, fi_setup(0, ~0UL));
	ASSERT_EQ(0, unload());

	/* How many allocations a load makes. */
	ASSERT_EQ(0, load(fd, 1 << 30, &left));
	total = (1 << 30) - left;
	ASSERT_EQ(0, unload());
	TH_LOG("a load makes %d allocations; the last %d are failed in turn",
	       total, INIT_WINDOW);

	/* The loader's own work (reading the file a page at a time, the
	 * layout) comes first; the module's init and what follows it are
	 * the last allocations of a load.
	 */
	for (n = total > INIT_WINDOW ? total - INIT_WINDOW + 1 : 1;
	     n <= total; n++) {
		err = load(fd, n, &left);
		if (!err) {
			tolerated += !left;
			ASSERT_EQ(0, unload());
			continue;
		}
		EXPECT_TRUE(clean_errno(-err)) {
			TH_LOG("allocation %d failed: load error %d", n, -err);
		}
		EXPECT_NE(0, access("/sys/module/xtcp", F_OK)) {
			TH_LOG("allocation %d failed: module left loaded", n);
			unload();
		}
		failed++;
	}
	TH_LOG("%d loads failed cleanly, %d loaded despite the failure",
	       failed, tolerated);
	EXPECT_LT(0, failed);

	ASSERT_EQ(0, load(fd, 0, &left));
	close(fd);
	EXPECT_EQ(0, echo_ok());
}

/*
 * Fail the @n-th allocation made from the module in a new network
 * namespace. Exit status: 0 failed cleanly, 1 made it anyway,
 * 2 nothing was failed (@n beyond the last), 3 and up: wrong.
 */
static int netns_child(int n)
{
	int left, err;

	if (nth_set(n))
		return 3;
	err = unshare(CLONE_NEWNET) ? errno : 0;
	left = nth_left();
	nth_set(0);
	if (err)
		return left == 0 && clean_errno(err) ? 0 : 4;
	/* It exists: its knobs are there and a socket can be made. */
	if (access(XTCP_SYSCTL_DIR "msl", R_OK) ||
	    access("/proc/net/xtcp", R_OK) ||
	    access("/proc/net/xtcp_stats", R_OK))
		return 5;
	err = socket(AF_INET, SOCK_STREAM, IPPROTO_XTCP);
	if (err < 0)
		return 6;
	close(err);
	return left ? 2 : 1;
}

TEST_F_TIMEOUT(faults, netns_init, XTCP_TIMEOUT(300))
{
	int n, status, counts[3] = { 0 };

	for (n = 1; n < MAX_NTH; n++) {
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (!pid)
			_exit(netns_child(n));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_GT(3, WEXITSTATUS(status)) {
			TH_LOG("allocation %d: status %d", n, WEXITSTATUS(status));
		}
		counts[WEXITSTATUS(status)]++;
		if (WEXITSTATUS(status) == 2)
			break;
	}
	TH_LOG("namespace init: %d allocations, %d failed it cleanly, %d tolerated",
	       n - 1, counts[0], counts[1]);
	EXPECT_LT(0, counts[0]);
	EXPECT_EQ(0, echo_ok());
}

/* The socket calls, each allocation from the module failed in turn. */
enum op { OP_SOCKET, OP_LISTEN, OP_CONNECT, OP_SEND, OP_MAX };
static const char *const op_name[] = { "socket", "listen", "connect", "send" };

#define SEND_LEN	(256 << 10)

/*
 * One call of @op with its @n-th allocation failed; *@left as nth_left().
 * The call must succeed or fail cleanly, and what it made must work:
 * 0, or a description of what went wrong.
 */
static const char *one_op(enum op op, int n, int *left)
{
	struct sockaddr_in sin = xtcp_sin("127.0.0.1", 0);
	static char buf[SEND_LEN], got[SEND_LEN];
	socklen_t len = sizeof(sin);
	int lfd, fd = -1, sfd = -1, err = 0;
	const char *what = NULL;
	ssize_t sent = 0;

	lfd = socket(AF_INET, SOCK_STREAM, IPPROTO_XTCP);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len))
		return "setup";
	if (op != OP_LISTEN && listen(lfd, 8))
		return "setup listen";
	if (op == OP_CONNECT) {
		fd = socket(AF_INET, SOCK_STREAM, IPPROTO_XTCP);
		if (fd < 0)
			return "setup socket";
	}
	if (op == OP_SEND) {
		sfd = xtcp_lo_pair(IPPROTO_XTCP, &fd);
		if (sfd < 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO,
			       &(struct timeval){ .tv_sec = 2 },
			       sizeof(struct timeval)))
			return "setup pair";
	}

	nth_set(n);
	switch (op) {
	case OP_SOCKET:
		fd = socket(AF_INET, SOCK_STREAM, IPPROTO_XTCP);
		err = fd < 0 ? errno : 0;
		break;
	case OP_LISTEN:
		err = listen(lfd, 8) ? errno : 0;
		break;
	case OP_CONNECT:
		err = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) ?
		      errno : 0;
		break;
	case OP_SEND:
		sent = send(fd, buf, sizeof(buf), 0);
		err = sent < 0 ? errno : 0;
		break;
	default:
		break;
	}
	*left = nth_left();
	nth_set(0);

	if (err && !clean_errno(err)) {
		what = "unclean errno";
		goto out;
	}
	switch (op) {
	case OP_SOCKET:
		break;
	case OP_LISTEN:
		/* Listening or not; if so, it serves. */
		if (!err) {
			int c = socket(AF_INET, SOCK_STREAM, IPPROTO_XTCP);

			if (c < 0 ||
			    connect(c, (struct sockaddr *)&sin, sizeof(sin)) ||
			    (sfd = accept(lfd, NULL, NULL)) < 0 ||
			    xtcp_echo(c, sfd))
				what = "listener does not serve";
			if (c >= 0)
				close(c);
		}
		break;
	case OP_CONNECT:
		if (!err) {
			sfd = accept(lfd, NULL, NULL);
			if (sfd < 0 || xtcp_echo(fd, sfd) || xtcp_echo(sfd, fd))
				what = "connection does not work";
		}
		break;
	case OP_SEND: {
		/* What send() took arrives intact, then the rest of it. */
		ssize_t want = sent > 0 ? sent : 0, have = 0, r;

		while (have < want) {
			if (!(xtcp_wait_fd(sfd, POLLIN, 10000) & POLLIN))
				break;
			r = recv(sfd, got + have, want - have, 0);
			if (r <= 0)
				break;
			have += r;
		}
		if (have != want || memcmp(buf, got, want))
			what = "data sent did not arrive intact";
		else if (xtcp_echo(fd, sfd))
			what = "connection does not work after";
		break;
	}
	default:
		break;
	}
out:
	if (fd >= 0)
		close(fd);
	if (sfd >= 0)
		close(sfd);
	close(lfd);
	return what;
}

TEST_F_TIMEOUT(faults, socket_calls, XTCP_TIMEOUT(300))
{
	enum op op;
	int n, left;

	for (op = 0; op < OP_MAX; op++) {
		int failed = 0;

		for (n = 1; n < MAX_NTH; n++) {
			const char *what = one_op(op, n, &left);

			ASSERT_EQ(NULL, what) {
				TH_LOG("%s, allocation %d failed: %s",
				       op_name[op], n, what);
			}
			if (left)
				break;
			failed++;
		}
		TH_LOG("%s: %d allocations from xtcp, each failed in turn",
		       op_name[op], failed);
		/* socket() and listen() allocate nothing of their own. */
		if (op == OP_CONNECT || op == OP_SEND)
			EXPECT_LT(0, failed);
	}
	EXPECT_EQ(0, echo_ok());
}

/*
 * The lines of /proc/net/xtcp that are not TIME_WAIT or LISTEN, into
 * @buf (for the log).
 */
static void live_lines(char *buf, size_t len)
{
	char line[256];
	size_t used = 0;
	unsigned int st;
	FILE *f;

	buf[0] = '\0';
	f = fopen("/proc/net/xtcp", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %x", &st) == 1 && st != 6 &&
		    st != 10 && used + strlen(line) < len) {
			strcpy(buf + used, line);
			used += strlen(line);
		}
	fclose(f);
}

/* Connections that are not TIME_WAIT entries or listeners, or -errno. */
static int live_connections(void)
{
	return xtcp_proc_count("/proc/net/xtcp", -1, -1, -1) -
	       xtcp_proc_count("/proc/net/xtcp", -1, -1, 6 /* TIME_WAIT */) -
	       xtcp_proc_count("/proc/net/xtcp", -1, -1, 10 /* LISTEN */);
}

/*
 * For 3 s (scaled): connect, accept, send "ping", check it, close (the
 * client first). Counts the rounds that worked and those that did not.
 */
static void traffic(int lfd, const struct sockaddr_in *to, long *ok,
		    long *failed)
{
	struct sockaddr_in sin = *to;
	__s64 end;

	end = xp_now_ms() + 3000 * XTCP_TIMEOUT_SCALE;
	while (xp_now_ms() < end) {
		int c, s = -1;
		bool good = false;

		c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_XTCP);
		if (c < 0) {
			(*failed)++;
			continue;
		}
		if (connect(c, (struct sockaddr *)&sin, sizeof(sin)) &&
		    errno != EINPROGRESS)
			goto next;
		if (!(xtcp_wait_fd(c, POLLOUT, 3000) & POLLOUT) ||
		    xtcp_get_int(c, SOL_SOCKET, SO_ERROR))
			goto next;
		if (!(xtcp_wait_fd(lfd, POLLIN, 3000) & POLLIN))
			goto next;
		s = accept(lfd, NULL, NULL);
		if (s < 0)
			goto next;
		if (send(c, "ping", 4, 0) == 4 &&
		    (xtcp_wait_fd(s, POLLIN, 3000) & POLLIN)) {
			char b[8];

			good = recv(s, b, sizeof(b), MSG_DONTWAIT) == 4 &&
			       !memcmp(b, "ping", 4);
		}
next:
		close(c);
		if (s >= 0)
			close(s);
		if (good)
			(*ok)++;
		else
			(*failed)++;
	}
}

/*
 * Connections made, accepted, echoed and closed (the client first, into
 * TIME_WAIT) while one allocation in ten made from the module fails,
 * softirq included: every call returns; then, without failures and with
 * the listener closed, no connection is left once the timers ran out,
 * and xtcp works.
 */
TEST_F_TIMEOUT(faults, random_failures_under_traffic, XTCP_TIMEOUT(300))
{
	struct sockaddr_in sin = xtcp_sin("127.0.0.1", 0);
	long injected, ok = 0, failed = 0;
	socklen_t len = sizeof(sin);
	static char left[4096];
	unsigned int i;
	__s64 end;
	int lfd;

	lfd = socket(AF_INET, SOCK_STREAM, IPPROTO_XTCP);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(lfd, 64));
	ASSERT_EQ(0, getsockname(lfd, (struct sockaddr *)&sin, &len));
	ASSERT_EQ(0, fcntl(lfd, F_SETFL, O_NONBLOCK));

	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		ASSERT_EQ(0, fi_write(caps[i], "times", "1000000"));
		ASSERT_EQ(0, fi_write(caps[i], "probability", "10"));
	}
	traffic(lfd, &sin, &ok, &failed);
	injected = 2000000;
	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		fi_write(caps[i], "probability", "0");
		injected -= fi_read(caps[i], "times");
	}
	TH_LOG("%ld connections served, %ld failed, %ld allocations failed",
	       ok, failed, injected);
	EXPECT_LT(0, ok);
	EXPECT_LT(0, injected);

	/* Without failures, every connection ends within its timers, and
	 * those never accepted with the listener.
	 */
	close(lfd);
	end = xp_now_ms() + XTCP_TIMEOUT(20) * 1000;
	while (live_connections() > 0 && xp_now_ms() < end)
		usleep(100000);
	live_lines(left, sizeof(left));
	EXPECT_EQ(0, live_connections()) {
		TH_LOG("left:\n%s", left);
	}
	EXPECT_EQ(0, echo_ok());
}

TEST_HARNESS_MAIN
