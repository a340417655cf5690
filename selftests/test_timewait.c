// SPDX-License-Identifier: GPL-2.0
/*
 * TIME_WAIT (behaviour.md section 3): how long it lasts and the MSL knobs,
 * who enters it, the cap on entries, reuse of a held 4-tuple by connect(),
 * what an entry does with RST, FIN and SYN segments, and the memory and
 * teardown of many entries.
 *
 * Loopback tests need no peer; segment-exact tests use the scripted peer
 * of xtcp_peer.h. Where Linux TCP behaves the same (who enters TIME_WAIT,
 * bind rules, ephemeral port reuse, RST/FIN/SYN in TIME_WAIT, the LAST_ACK
 * peer on reuse), both protocols run the same test; knobs TCP lacks (MSL,
 * the cap policies, tw_reuse on bound ports) are tested on xtcp alone.
 * Every test runs in a network namespace of its own.
 */

#include <sched.h>
#include <signal.h>
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

#define KADDR		"10.9.0.1"	/* kernel side of the tun */
#define PADDR		"10.9.0.2"	/* the scripted peer */
#define VETH_A		"10.0.1.1"	/* this namespace, on a veth */
#define VETH_B		"10.0.1.2"	/* the other end, another namespace */
#define LOOPBACK	"127.0.0.1"
#define PEER_ISN	0x40000000u
#define IPV4_SYSCTL	"/proc/sys/net/ipv4/"
#define TW_OVERFLOW_MSG	"xtcp: time wait bucket table overflow"
#define MANY		10000	/* entries for the memory and teardown tests */
#define LONG_MSL	600000	/* ms, the maximum: nothing expires in a test */
#define ST_ESTABLISHED	0x01
#define ST_TIME_WAIT	0x06
#define TR_TIME_WAIT	3U

static int ipv4_sysctl_set(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), IPV4_SYSCTL "%s", name);
	return xtcp_write_file(path, val);
}

/* A listener of @proto on @addr:@port (0: any); -errno on failure. */
static int listener(int proto, const char *addr, __u16 port)
{
	struct sockaddr_in sin = xtcp_sin(addr, port);
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM, proto);
	if (fd < 0)
		return -errno;
	if (xtcp_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(fd, 16)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * A client of @proto bound to @addr:@bport (0: any port; no bind at all
 * if @addr is NULL), with SO_REUSEADDR if @reuse. -errno on failure.
 */
static int client(int proto, const char *addr, __u16 bport, bool reuse)
{
	struct sockaddr_in sin = xtcp_sin(addr ? addr : LOOPBACK, bport);
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM, proto);
	if (fd < 0)
		return -errno;
	if ((reuse && xtcp_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)) ||
	    (addr && bind(fd, (struct sockaddr *)&sin, sizeof(sin)))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Connect @cfd to @lfd's address and accept: the accepted fd or -errno. */
static int connect_pair(int cfd, int lfd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int sfd;

	if (getsockname(lfd, (struct sockaddr *)&sin, &len) ||
	    connect(cfd, (struct sockaddr *)&sin, sizeof(sin)))
		return -errno;
	sfd = accept(lfd, NULL, NULL);
	return sfd < 0 ? -errno : sfd;
}

/*
 * Close a connection active closer first: @first sends its FIN, @second
 * reads the EOF (so its close is a passive one) and closes too. Returns 0
 * or -errno.
 */
static int close_in_order(int first, int second)
{
	struct pollfd pfd = { .fd = second, .events = POLLIN };
	char c;

	close(first);
	if (poll(&pfd, 1, 5000) != 1 || recv(second, &c, 1, 0) != 0) {
		close(second);
		return -EIO;
	}
	close(second);
	return 0;
}

/* The TIME_WAIT lines of local port @lport toward @rport in @path. */
static int tw_count(const char *path, int lport, int rport)
{
	return xtcp_proc_scan(path, lport, rport, ST_TIME_WAIT, NULL);
}

/*
 * The connection lport -> rport is over on this side: only a TIME_WAIT
 * entry may remain of it.
 */
static bool tuple_settled(const char *path, int lport, int rport)
{
	return xtcp_proc_scan(path, lport, rport, -1, NULL) ==
	       tw_count(path, lport, rport);
}

/* /dev/kmsg positioned at its end, to read what is logged from now on. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

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

/*
 * A connection from @cfd to the listener @lfd, an echo over it, then the
 * close, by the client first if @client_first, else by the server. Waits
 * until only TIME_WAIT (if anything) is left of it on both sides and
 * returns the client's port.
 */
static int cycle(struct __test_metadata *_metadata, const char *proc,
		 int lfd, int cfd, bool client_first)
{
	int sfd, cport, sport;

	sfd = connect_pair(cfd, lfd);
	ASSERT_LE(0, sfd) TH_LOG("connect: %s", strerror(-sfd));
	cport = xtcp_local_port(cfd);
	sport = xtcp_local_port(lfd);
	EXPECT_EQ(0, xtcp_echo(cfd, sfd));
	if (client_first) {
		ASSERT_EQ(0, close_in_order(cfd, sfd));
	} else {
		ASSERT_EQ(0, close_in_order(sfd, cfd));
	}
	ASSERT_TRUE(xtcp_wait_until(tuple_settled(proc, cport, sport) &&
				    tuple_settled(proc, sport, cport), 3000))
		TH_LOG("connection %d -> %d still closing", cport, sport);
	return cport;
}

/*
 * The entry lport -> rport has lived @age_ms of its @len_ms; the tm->when
 * column counts in units of @unit_ms.
 */
static bool tw_older_than(const char *proc, int lport, int rport,
			  long len_ms, long age_ms, long unit_ms)
{
	struct xtcp_proc_entry e;

	return xtcp_proc_scan(proc, lport, rport, ST_TIME_WAIT, &e) == 1 &&
	       (long)e.when * unit_ms <= len_ms - age_ms;
}

/*
 * A new client bound to @addr:@port with SO_REUSEADDR connects to @lfd:
 * the accepted socket (the client in *@cfd) or -errno (*@cfd closed).
 */
static int reconnect(int proto, const char *addr, int port, int lfd,
		     int *cfd)
{
	int sfd;

	*cfd = client(proto, addr, port, true);
	if (*cfd < 0)
		return *cfd;
	sfd = connect_pair(*cfd, lfd);
	if (sfd < 0) {
		close(*cfd);
		*cfd = -1;
	}
	return sfd;
}

/* ---- xtcp only, over loopback ----------------------------------------- */

FIXTURE(xt) {
	int lfd;
	int sport;
};

FIXTURE_SETUP(xt)
{
	int err;

	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("unshare: %s", strerror(-err));
	ASSERT_EQ(0, xtcp_sysctl_set("msl", LONG_MSL));
	self->lfd = listener(IPPROTO_XTCP, LOOPBACK, 0);
	ASSERT_LE(0, self->lfd) TH_LOG("listener: %s", strerror(-self->lfd));
	self->sport = xtcp_local_port(self->lfd);
}

FIXTURE_TEARDOWN(xt)
{
	close(self->lfd);
}

/* A fresh xtcp client connected, echoed and closed client first. */
static int xt_cycle(struct __test_metadata *_metadata,
		    FIXTURE_DATA(xt) *self, const char *addr, bool reuse)
{
	int cfd = client(IPPROTO_XTCP, addr, 0, reuse);

	ASSERT_LE(0, cfd) TH_LOG("client: %s", strerror(-cfd));
	return cycle(_metadata, "/proc/net/xtcp", self->lfd, cfd, true);
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
	cport = xt_cycle(_metadata, self, NULL, false);
	ASSERT_EQ(1, xtcp_proc_scan("/proc/net/xtcp", cport, self->sport,
				    ST_TIME_WAIT, &e));
	EXPECT_LT(8000UL, e.when);
	EXPECT_GE(10000UL, e.when);
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
		cport[i] = xt_cycle(_metadata, self, NULL, false);

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
		xt_cycle(_metadata, self, NULL, false);
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

/*
 * A client bound to port P reconnects to the same server after closing
 * first. bind() itself needs SO_REUSEADDR on the old and the new socket
 * while P is held in TIME_WAIT (as in TCP, see bind_needs_reuseaddr);
 * connect() then needs tw_reuse: refused with 0, granted with 1, and the
 * new connection works.
 */
TEST_F(xt, reuse_bound_port)
{
	int cfd, sfd, port;
	long reused;

	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse_delay", 1));
	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse", 0));
	port = xt_cycle(_metadata, self, LOOPBACK, true);
	ASSERT_TRUE(xtcp_wait_until(tw_older_than("/proc/net/xtcp", port,
						  self->sport, 2 * LONG_MSL,
						  20, 1),
				    2000));
	reused = xtcp_counter("TWReused");

	sfd = reconnect(IPPROTO_XTCP, LOOPBACK, port, self->lfd, &cfd);
	EXPECT_EQ(-EADDRNOTAVAIL, sfd);
	EXPECT_EQ(1, tw_count("/proc/net/xtcp", port, self->sport));
	EXPECT_EQ(reused, xtcp_counter("TWReused"));

	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse", 1));
	sfd = reconnect(IPPROTO_XTCP, LOOPBACK, port, self->lfd, &cfd);
	ASSERT_LE(0, sfd) TH_LOG("reuse refused: %s", strerror(-sfd));
	EXPECT_EQ(port, xtcp_local_port(cfd));
	EXPECT_EQ(0, xtcp_echo(cfd, sfd));
	EXPECT_EQ(reused + 1, xtcp_counter("TWReused"));
	EXPECT_EQ(0, tw_count("/proc/net/xtcp", port, self->sport));
	EXPECT_EQ(1, xtcp_proc_scan("/proc/net/xtcp", port, self->sport,
				    ST_ESTABLISHED, NULL));
	close(cfd);
	close(sfd);
}

/* tw_reuse=2 means loopback only: 127.0.0.1 qualifies. */
TEST_F(xt, reuse_loopback_mode_on_lo)
{
	int cfd, sfd, port;
	long reused;

	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse_delay", 1));
	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse", 2));
	port = xt_cycle(_metadata, self, LOOPBACK, true);
	ASSERT_TRUE(xtcp_wait_until(tw_older_than("/proc/net/xtcp", port,
						  self->sport, 2 * LONG_MSL,
						  20, 1),
				    2000));
	reused = xtcp_counter("TWReused");
	sfd = reconnect(IPPROTO_XTCP, LOOPBACK, port, self->lfd, &cfd);
	ASSERT_LE(0, sfd) TH_LOG("reuse refused: %s", strerror(-sfd));
	EXPECT_EQ(0, xtcp_echo(cfd, sfd));
	EXPECT_EQ(reused + 1, xtcp_counter("TWReused"));
	close(cfd);
	close(sfd);
}

/* Run a shell command made from @fmt; 0 or -EIO. */
static __printf(1, 2) int sh(const char *fmt, ...)
{
	char cmd[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) ? -EIO : 0;
}

/*
 * A second network namespace joined to this one by a veth pair, VETH_A
 * here and VETH_B there. Returns a descriptor of the other namespace or
 * -errno.
 */
static int veth_peer_ns(void)
{
	int pipefd[2], nsfd = -1, here = -1, err = 0;
	char path[64], c = 0;
	pid_t pid;

	/* A child makes the namespace and holds it until we have it. */
	if (pipe(pipefd))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		close(pipefd[0]);
		c = unshare(CLONE_NEWNET) ? 'e' : 'k';
		if (write(pipefd[1], &c, 1) == 1)
			pause();
		_exit(0);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &c, 1) != 1 || c != 'k')
		err = -ECHILD;
	close(pipefd[0]);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	if (!err) {
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0)
			err = -errno;
	}
	if (!err)
		err = sh("ip link add veth0 type veth peer name veth1 netns %d",
			 pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (!err)
		err = sh("ip addr add %s/24 dev veth0 && ip link set veth0 up",
			 VETH_A);
	if (!err) {
		here = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (here < 0 || setns(nsfd, CLONE_NEWNET))
			err = -errno;
	}
	if (!err)
		err = sh("ip link set lo up && ip addr add %s/24 dev veth1 && ip link set veth1 up",
			 VETH_B);
	if (here >= 0 && setns(here, CLONE_NEWNET) && !err)
		err = -errno;
	if (here >= 0)
		close(here);
	if (err && nsfd >= 0)
		close(nsfd);
	return err ? err : nsfd;
}

/*
 * tw_reuse=2 refuses a 4-tuple between two non-loopback addresses (here a
 * veth between two namespaces); tw_reuse=1 grants it.
 */
TEST_F(xt, reuse_loopback_mode_on_veth)
{
	int nsb, here, lfd, cfd, sfd, port, sport;
	long reused;

	nsb = veth_peer_ns();
	ASSERT_LE(0, nsb) TH_LOG("veth: %s", strerror(-nsb));
	here = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, here);
	ASSERT_EQ(0, setns(nsb, CLONE_NEWNET));
	lfd = listener(IPPROTO_XTCP, VETH_B, 0);
	ASSERT_EQ(0, setns(here, CLONE_NEWNET));
	ASSERT_LE(0, lfd) TH_LOG("listener there: %s", strerror(-lfd));
	sport = xtcp_local_port(lfd);

	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse_delay", 1));
	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse", 2));
	cfd = client(IPPROTO_XTCP, VETH_A, 0, true);
	ASSERT_LE(0, cfd);
	port = cycle(_metadata, "/proc/net/xtcp", lfd, cfd, true);
	ASSERT_TRUE(xtcp_wait_until(tw_older_than("/proc/net/xtcp", port, sport,
						  2 * LONG_MSL, 20, 1), 2000));
	reused = xtcp_counter("TWReused");

	sfd = reconnect(IPPROTO_XTCP, VETH_A, port, lfd, &cfd);
	EXPECT_EQ(-EADDRNOTAVAIL, sfd);
	EXPECT_EQ(1, tw_count("/proc/net/xtcp", port, sport));

	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse", 1));
	sfd = reconnect(IPPROTO_XTCP, VETH_A, port, lfd, &cfd);
	ASSERT_LE(0, sfd) TH_LOG("reuse refused: %s", strerror(-sfd));
	EXPECT_EQ(0, xtcp_echo(cfd, sfd));
	EXPECT_EQ(reused + 1, xtcp_counter("TWReused"));
	close(cfd);
	close(sfd);
	close(lfd);
	close(here);
	close(nsb);
}

/* No reuse of an entry whose connection did not use timestamps. */
TEST_F(xt, reuse_needs_timestamps)
{
	struct xtcp_info info;
	socklen_t len = sizeof(info);
	int cfd, sfd, port;
	long reused;

	ASSERT_EQ(0, xtcp_sysctl_set("timestamps", 0));
	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse_delay", 1));
	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse", 1));
	cfd = client(IPPROTO_XTCP, LOOPBACK, 0, true);
	ASSERT_LE(0, cfd);
	sfd = connect_pair(cfd, self->lfd);
	ASSERT_LE(0, sfd);
	port = xtcp_local_port(cfd);
	ASSERT_EQ(0, getsockopt(cfd, SOL_XTCP, XTCP_INFO, &info, &len));
	EXPECT_FALSE(info.xtcpi_options & XTCPI_OPT_TIMESTAMPS);
	ASSERT_EQ(0, close_in_order(cfd, sfd));
	ASSERT_TRUE(xtcp_wait_until(tw_older_than("/proc/net/xtcp", port,
						  self->sport, 2 * LONG_MSL,
						  20, 1),
				    2000));
	reused = xtcp_counter("TWReused");

	sfd = reconnect(IPPROTO_XTCP, LOOPBACK, port, self->lfd, &cfd);
	EXPECT_EQ(-EADDRNOTAVAIL, sfd);
	EXPECT_EQ(1, tw_count("/proc/net/xtcp", port, self->sport));
	EXPECT_EQ(reused, xtcp_counter("TWReused"));
	if (sfd >= 0) {
		close(cfd);
		close(sfd);
	}
}

/* An entry younger than tw_reuse_delay is not reused; once older it is. */
TEST_F(xt, reuse_waits_for_delay)
{
	int cfd, sfd, port;
	__s64 t0;

	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse_delay", 5000));
	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse", 1));
	port = xt_cycle(_metadata, self, LOOPBACK, true);
	sfd = reconnect(IPPROTO_XTCP, LOOPBACK, port, self->lfd, &cfd);
	EXPECT_EQ(-EADDRNOTAVAIL, sfd);
	/* ... and that attempt was made inside the 5 s. */
	EXPECT_FALSE(tw_older_than("/proc/net/xtcp", port, self->sport,
				   2 * LONG_MSL, 4000, 1));
	EXPECT_EQ(1, tw_count("/proc/net/xtcp", port, self->sport));

	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse_delay", 200));
	t0 = xp_now_ms();
	ASSERT_TRUE(xtcp_wait_until((sfd = reconnect(IPPROTO_XTCP, LOOPBACK,
						     port, self->lfd,
						     &cfd)) >= 0, 3000))
		TH_LOG("still refused: %s", strerror(-sfd));
	TH_LOG("reused %lld ms after lowering the delay to 200 ms",
	       (long long)(xp_now_ms() - t0));
	EXPECT_EQ(0, xtcp_echo(cfd, sfd));
	close(cfd);
	close(sfd);
}

/* ---- TCP and xtcp over loopback --------------------------------------- */

FIXTURE(lo) {
	int lfd;
	int sport;
};

FIXTURE_VARIANT(lo) {
	int proto;
	const char *proc;
	const char *reuse_knob;
	int reuse_wait_ms;	/* when a reusable entry surely is reusable */
};

FIXTURE_VARIANT_ADD(lo, tcp) {
	.proto = IPPROTO_TCP,
	.proc = "/proc/net/tcp",
	.reuse_knob = IPV4_SYSCTL "tcp_tw_reuse",
	/* Linux 6.12: one second after the last timestamp, in seconds. */
	.reuse_wait_ms = 2100,
};

FIXTURE_VARIANT_ADD(lo, xtcp) {
	.proto = IPPROTO_XTCP,
	.proc = "/proc/net/xtcp",
	.reuse_knob = XTCP_SYSCTL_DIR "tw_reuse",
	.reuse_wait_ms = 200,	/* tw_reuse_delay=20 below */
};

FIXTURE_SETUP(lo)
{
	int err;

	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("unshare: %s", strerror(-err));
	if (variant->proto == IPPROTO_XTCP) {
		ASSERT_EQ(0, xtcp_sysctl_set("msl", LONG_MSL));
		ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse_delay", 20));
	}
	self->lfd = listener(variant->proto, LOOPBACK, 0);
	ASSERT_LE(0, self->lfd) TH_LOG("listener: %s", strerror(-self->lfd));
	self->sport = xtcp_local_port(self->lfd);
}

FIXTURE_TEARDOWN(lo)
{
	close(self->lfd);
}

/* Whoever closes first, and only that side, holds the TIME_WAIT entry. */
TEST_F(lo, active_closer_only)
{
	int cfd, cport;

	cfd = client(variant->proto, NULL, 0, false);
	ASSERT_LE(0, cfd);
	cport = cycle(_metadata, variant->proc, self->lfd, cfd, true);
	EXPECT_EQ(1, tw_count(variant->proc, cport, self->sport));
	EXPECT_EQ(0, xtcp_proc_scan(variant->proc, self->sport, cport, -1, NULL));

	cfd = client(variant->proto, NULL, 0, false);
	ASSERT_LE(0, cfd);
	cport = cycle(_metadata, variant->proc, self->lfd, cfd, false);
	EXPECT_EQ(1, tw_count(variant->proc, self->sport, cport));
	EXPECT_EQ(0, xtcp_proc_scan(variant->proc, cport, self->sport, -1, NULL));

	EXPECT_EQ(2, tw_count(variant->proc, -1, -1));
}

/* bind() to a port held in TIME_WAIT needs SO_REUSEADDR on both sockets. */
TEST_F(lo, bind_needs_reuseaddr)
{
	int cfd, port, old_reuse;

	for (old_reuse = 0; old_reuse <= 1; old_reuse++) {
		cfd = client(variant->proto, LOOPBACK, 0, old_reuse);
		ASSERT_LE(0, cfd);
		port = cycle(_metadata, variant->proc, self->lfd, cfd, true);
		ASSERT_EQ(1, tw_count(variant->proc, port, self->sport));

		cfd = client(variant->proto, LOOPBACK, port, false);
		EXPECT_EQ(-EADDRINUSE, cfd) TH_LOG("old reuse %d", old_reuse);
		if (cfd >= 0)
			close(cfd);
		cfd = client(variant->proto, LOOPBACK, port, true);
		if (old_reuse) {
			EXPECT_LE(0, cfd) TH_LOG("bind: %s", strerror(-cfd));
		} else {
			EXPECT_EQ(-EADDRINUSE, cfd);
		}
		if (cfd >= 0)
			close(cfd);
	}
}

/*
 * With a single ephemeral port, a second connection to the same server
 * after an active close needs that port's TIME_WAIT 4-tuple: refused while
 * reuse is off (even once the entry is old enough), granted once it is on.
 */
TEST_F(lo, ephemeral_port_reuse)
{
	int cfd, sfd, port;
	__s64 end;
	long fails;

	ASSERT_EQ(0, ipv4_sysctl_set("ip_local_port_range", "40000 40000"));
	ASSERT_EQ(0, xtcp_write_file(variant->reuse_knob, "0"));
	cfd = client(variant->proto, NULL, 0, false);
	ASSERT_LE(0, cfd);
	port = cycle(_metadata, variant->proc, self->lfd, cfd, true);
	ASSERT_EQ(40000, port);
	ASSERT_EQ(1, tw_count(variant->proc, port, self->sport));

	fails = xtcp_proto_counter(variant->proto, "AttemptFails");
	ASSERT_LE(0, fails);
	end = xp_now_ms() + variant->reuse_wait_ms;
	do {
		sfd = reconnect(variant->proto, NULL, 0, self->lfd, &cfd);
		ASSERT_EQ(-EADDRNOTAVAIL, sfd);
		usleep(20000);
	} while (xp_now_ms() < end);
	/* A connect() that fails itself is not a failed attempt. */
	EXPECT_EQ(fails, xtcp_proto_counter(variant->proto, "AttemptFails"));

	ASSERT_EQ(0, xtcp_write_file(variant->reuse_knob, "1"));
	sfd = reconnect(variant->proto, NULL, 0, self->lfd, &cfd);
	ASSERT_LE(0, sfd) TH_LOG("reuse refused: %s", strerror(-sfd));
	EXPECT_EQ(40000, xtcp_local_port(cfd));
	EXPECT_EQ(0, xtcp_echo(cfd, sfd));
	EXPECT_EQ(0, tw_count(variant->proc, port, self->sport));
	close(cfd);
	close(sfd);
}

/* ---- TCP and xtcp against the scripted peer ---------------------------- */

FIXTURE(peer) {
	struct xp_peer p;
};

FIXTURE_VARIANT(peer) {
	int proto;
	const char *proc;
	int tw_len_ms;		/* length of a new TIME_WAIT */
	int when_unit_ms;	/* unit of the tm->when column */
	const char *rfc1337;
};

FIXTURE_VARIANT_ADD(peer, tcp) {
	.proto = IPPROTO_TCP,
	.proc = "/proc/net/tcp",
	.tw_len_ms = 60000,	/* TCP_TIMEWAIT_LEN */
	.when_unit_ms = 10,	/* clock_t */
	.rfc1337 = IPV4_SYSCTL "tcp_rfc1337",
};

FIXTURE_VARIANT_ADD(peer, xtcp) {
	.proto = IPPROTO_XTCP,
	.proc = "/proc/net/xtcp",
	.tw_len_ms = 4000,	/* msl=2000 below */
	.when_unit_ms = 1,
	.rfc1337 = XTCP_SYSCTL_DIR "rfc1337",
};

FIXTURE_SETUP(peer)
{
	int err;

	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("unshare: %s", strerror(-err));
	ASSERT_EQ(0, xtcp_short_retries(variant->proto, 3));
	if (variant->proto == IPPROTO_XTCP) {
		ASSERT_EQ(0, xtcp_sysctl_set("msl", variant->tw_len_ms / 2));
		ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse", 1));
		ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse_delay", 1));
	} else {
		ASSERT_EQ(0, ipv4_sysctl_set("tcp_tw_reuse", "1"));
	}
	err = xp_open(&self->p, variant->proto, KADDR, PADDR);
	ASSERT_EQ(0, err) TH_LOG("xp_open: %s", strerror(-err));
}

FIXTURE_TEARDOWN(peer)
{
	xp_close(&self->p);
}

#define ANY_FLAGS	(XP_SYN | XP_ACK | XP_RST | XP_FIN)

/* Start a connect() of @fd to the peer's port @pport; 0 or -errno. */
static int start_connect(int fd, __u16 pport)
{
	struct sockaddr_in sin = xtcp_sin(PADDR, pport);

	if (fcntl(fd, F_SETFL, O_NONBLOCK))
		return -errno;
	if (!connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		return -EALREADY;
	return errno == EINPROGRESS ? 0 : -errno;
}

/* The connect() of c->fd completes without error. */
static void connect_done(struct __test_metadata *_metadata, struct xp_conn *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int soerr = -1;

	ASSERT_EQ(1, poll(&pfd, 1, 3000));
	ASSERT_EQ(0, getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len));
	ASSERT_EQ(0, soerr) TH_LOG("connect: %s", strerror(soerr));
}

/* Passive open: the peer connects from @pport to the listener @lfd. */
static void peer_connect(struct __test_metadata *_metadata,
			 struct xp_peer *p, struct xp_conn *c, int lfd,
			 __u16 pport, bool ts)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	struct xp_seg s, sa;
	int err;

	memset(c, 0, sizeof(*c));
	c->kport = xtcp_local_port(lfd);
	c->pport = pport;
	c->p_nxt = PEER_ISN;
	c->ts = ts;
	c->p_tsval = 1000;
	xp_conn_seg(p, c, &s, XP_SYN);
	s.ack = 0;
	s.mss = 1460;
	ASSERT_EQ(0, xp_send(p, &s));
	c->p_nxt++;
	err = xp_conn_expect(p, c, &sa, ANY_FLAGS, XP_SYN | XP_ACK, 3000);
	ASSERT_EQ(0, err) TH_LOG("no SYN-ACK: %s", strerror(-err));
	ASSERT_EQ(c->p_nxt, sa.ack);
	c->k_nxt = sa.seq + 1;
	c->ts = ts && sa.ts;
	xp_conn_seg(p, c, &s, XP_ACK);
	ASSERT_EQ(0, xp_send(p, &s));
	ASSERT_EQ(1, poll(&pfd, 1, 3000));
	c->fd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, c->fd);
}

/*
 * The kernel closes first; the peer ACKs the FIN together with its own
 * FIN; the kernel's last ACK leaves it in TIME_WAIT.
 */
static void kernel_close_to_tw(struct __test_metadata *_metadata,
			       struct xp_peer *p, struct xp_conn *c)
{
	struct xp_seg s, r;
	int err;

	close(c->fd);
	c->fd = -1;
	err = xp_conn_expect(p, c, &r, XP_FIN | XP_SYN | XP_RST, XP_FIN, 3000);
	ASSERT_EQ(0, err) TH_LOG("no FIN: %s", strerror(-err));
	EXPECT_EQ(c->k_nxt, r.seq);
	EXPECT_EQ(c->p_nxt, r.ack);
	c->k_nxt++;
	xp_conn_seg(p, c, &s, XP_FIN | XP_ACK);
	ASSERT_EQ(0, xp_send(p, &s));
	c->p_nxt++;
	err = xp_conn_expect(p, c, &r, ANY_FLAGS, XP_ACK, 3000);
	ASSERT_EQ(0, err) TH_LOG("no last ACK: %s", strerror(-err));
	EXPECT_EQ(c->k_nxt, r.seq);
	EXPECT_EQ(c->p_nxt, r.ack);
}

/* A connection from the kernel to the peer's @pport, now in TIME_WAIT. */
static void tw_against_peer(struct __test_metadata *_metadata,
			    FIXTURE_DATA(peer) *self,
			    const FIXTURE_VARIANT(peer) *variant,
			    struct xp_conn *c, __u16 pport)
{
	int fd = socket(AF_INET, SOCK_STREAM, variant->proto);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, xp_conn_connect(&self->p, c, fd, pport, PEER_ISN,
				     65535, true));
	ASSERT_TRUE(c->ts);
	kernel_close_to_tw(_metadata, &self->p, c);
	ASSERT_TRUE(xtcp_wait_until(tw_count(variant->proc, c->kport,
					     c->pport) == 1, 1000));
}

/*
 * A RST with seq = rcv_nxt reaches the entry; then an old ACK probes
 * whether the entry still exists: it answers with an ACK, while without
 * an entry the kernel answers with a RST.
 */
static void rst_in_tw(struct __test_metadata *_metadata,
		      FIXTURE_DATA(peer) *self,
		      const FIXTURE_VARIANT(peer) *variant, bool rfc1337)
{
	long killed = xtcp_counter("TWKilledByRST");
	struct xp_seg s, r;
	struct xp_conn c;
	int err;

	ASSERT_EQ(0, xtcp_write_file(variant->rfc1337, rfc1337 ? "1" : "0"));
	tw_against_peer(_metadata, self, variant, &c, 7001);

	xp_conn_seg(&self->p, &c, &s, XP_RST);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	xp_conn_seg(&self->p, &c, &s, XP_ACK);
	s.seq = c.p_nxt - 1;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	err = xp_conn_expect(&self->p, &c, &r, 0, 0, 3000);
	ASSERT_EQ(0, err) TH_LOG("no answer to the probe: %s", strerror(-err));
	TH_LOG("probe answered by %s", XP_SEG_STR(&r));
	EXPECT_EQ(c.k_nxt, r.seq);
	if (rfc1337) {
		EXPECT_EQ(XP_ACK, r.flags);
		EXPECT_EQ(c.p_nxt, r.ack);
		EXPECT_EQ(1, tw_count(variant->proc, c.kport, c.pport));
	} else {
		EXPECT_EQ(XP_RST, r.flags);
		EXPECT_EQ(0, tw_count(variant->proc, c.kport, c.pport));
	}
	if (variant->proto == IPPROTO_XTCP)
		EXPECT_EQ(killed + !rfc1337, xtcp_counter("TWKilledByRST"));
}

TEST_F(peer, rst_kills_entry)
{
	rst_in_tw(_metadata, self, variant, false);
}

TEST_F(peer, rst_ignored_with_rfc1337)
{
	rst_in_tw(_metadata, self, variant, true);
}

/*
 * The peer lost our last ACK and sends its FIN again: TIME_WAIT ACKs it
 * and starts its 2MSL over.
 */
TEST_F(peer, fin_retransmit_restarts_2msl)
{
	long w0, w1, w2, unit = variant->when_unit_ms;
	struct xp_seg s, r;
	struct xtcp_proc_entry e;
	struct xp_conn c;
	int err;

	tw_against_peer(_metadata, self, variant, &c, 7002);
	ASSERT_EQ(1, xtcp_proc_scan(variant->proc, c.kport, c.pport, ST_TIME_WAIT,
				    &e));
	EXPECT_EQ(TR_TIME_WAIT, e.tr);
	w0 = e.when * unit;
	EXPECT_GE(variant->tw_len_ms, w0);
	EXPECT_LT(variant->tw_len_ms - 1000, w0);
	ASSERT_TRUE(xtcp_wait_until(xtcp_proc_scan(variant->proc, c.kport, c.pport,
						   ST_TIME_WAIT, &e) == 1 &&
			       (long)e.when * unit <= w0 - 600, 3000));
	w1 = e.when * unit;

	xp_conn_seg(&self->p, &c, &s, XP_FIN | XP_ACK);
	s.seq = c.p_nxt - 1;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	err = xp_conn_expect(&self->p, &c, &r, 0, 0, 3000);
	ASSERT_EQ(0, err) TH_LOG("FIN not answered: %s", strerror(-err));
	EXPECT_EQ(XP_ACK, r.flags) TH_LOG("got %s", XP_SEG_STR(&r));
	EXPECT_EQ(c.k_nxt, r.seq);
	EXPECT_EQ(c.p_nxt, r.ack);

	ASSERT_EQ(1, xtcp_proc_scan(variant->proc, c.kport, c.pport, ST_TIME_WAIT,
				    &e));
	w2 = e.when * unit;
	TH_LOG("remaining %ld ms, %ld ms before the FIN, %ld ms after",
	       w0, w1, w2);
	EXPECT_LE(variant->tw_len_ms - 250, w2);
	EXPECT_LT(w1 + 300, w2);
}

/*
 * The kernel's server side closed first and holds the entry for
 * KPORT <- @pport; the peer sends a new SYN from @pport with sequence
 * number @seq and, if the connection had timestamps, TSval @tsval.
 * Returns the kernel's answer in *@r.
 */
#define KPORT 8080

static void syn_into_tw(struct __test_metadata *_metadata,
			FIXTURE_DATA(peer) *self,
			const FIXTURE_VARIANT(peer) *variant, struct xp_conn *c,
			int lfd, bool ts, __u32 seq, __u32 tsval,
			struct xp_seg *r)
{
	struct xp_seg s;
	int err;

	xp_seg_init(&self->p, &s);
	s.sport = c->pport;
	s.dport = KPORT;
	s.seq = seq;
	s.flags = XP_SYN;
	s.mss = 1460;
	if (ts) {
		s.ts = true;
		s.tsval = tsval;
		c->p_tsval = tsval;
	}
	TH_LOG("new SYN %s", XP_SEG_STR(&s));
	ASSERT_EQ(0, xp_send(&self->p, &s));
	err = xp_conn_expect(&self->p, c, r, 0, 0, 3000);
	ASSERT_EQ(0, err) TH_LOG("SYN not answered: %s", strerror(-err));
	TH_LOG("answer %s", XP_SEG_STR(r));
}

static int tw_server(struct __test_metadata *_metadata,
		     FIXTURE_DATA(peer) *self,
		     const FIXTURE_VARIANT(peer) *variant, struct xp_conn *c,
		     __u16 pport, bool ts)
{
	int lfd = listener(variant->proto, KADDR, KPORT);

	ASSERT_LE(0, lfd) TH_LOG("listener: %s", strerror(-lfd));
	peer_connect(_metadata, &self->p, c, lfd, pport, ts);
	ASSERT_EQ(ts, c->ts);
	kernel_close_to_tw(_metadata, &self->p, c);
	ASSERT_TRUE(xtcp_wait_until(tw_count(variant->proc, KPORT, pport) == 1,
				    1000));
	return lfd;
}

/*
 * RFC 6191 accepted: the SYN-ACK carries the ISN TIME_WAIT chose (as
 * Linux: its snd_nxt + 65535 + 2), and the new connection opens.
 */
static void syn_accepted(struct __test_metadata *_metadata,
			 FIXTURE_DATA(peer) *self,
			 const FIXTURE_VARIANT(peer) *variant,
			 struct xp_conn *c, int lfd, const struct xp_seg *sa,
			 __u32 seq, long recycled)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	struct xp_seg s;
	int fd;

	ASSERT_EQ(XP_SYN | XP_ACK, sa->flags);
	EXPECT_EQ(seq + 1, sa->ack);
	EXPECT_EQ(c->k_nxt + 65535 + 2, sa->seq)
		TH_LOG("ISN %u, old snd_nxt %u", sa->seq, c->k_nxt);
	EXPECT_LT(0, (__s32)(sa->seq - c->k_nxt));

	c->p_nxt = seq + 1;
	c->k_nxt = sa->seq + 1;
	xp_conn_seg(&self->p, c, &s, XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(1, poll(&pfd, 1, 3000));
	fd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, tw_count(variant->proc, KPORT, c->pport));
	EXPECT_EQ(1, xtcp_proc_scan(variant->proc, KPORT, c->pport,
				    ST_ESTABLISHED, NULL));
	if (variant->proto == IPPROTO_XTCP)
		EXPECT_EQ(recycled + 1, xtcp_counter("TWRecycledBySYN"));
	close(fd);
}

/* A SYN with a newer timestamp replaces the entry, even with a low seq. */
TEST_F(peer, syn_newer_timestamp_recycles)
{
	long recycled = xtcp_counter("TWRecycledBySYN");
	struct xp_seg sa;
	struct xp_conn c;
	__u32 seq;
	int lfd;

	lfd = tw_server(_metadata, self, variant, &c, 41001, true);
	seq = c.p_nxt - 100000;
	syn_into_tw(_metadata, self, variant, &c, lfd, true, seq,
		    c.p_tsval + 1000, &sa);
	syn_accepted(_metadata, self, variant, &c, lfd, &sa, seq, recycled);
	close(lfd);
}

/* Without timestamps, a SYN above the old rcv_nxt replaces the entry. */
TEST_F(peer, syn_higher_seq_recycles)
{
	long recycled = xtcp_counter("TWRecycledBySYN");
	struct xp_seg sa;
	struct xp_conn c;
	__u32 seq;
	int lfd;

	lfd = tw_server(_metadata, self, variant, &c, 41002, false);
	seq = c.p_nxt + 100000;
	syn_into_tw(_metadata, self, variant, &c, lfd, false, seq, 0, &sa);
	syn_accepted(_metadata, self, variant, &c, lfd, &sa, seq, recycled);
	close(lfd);
}

/*
 * An old duplicate SYN (older timestamp, seq below rcv_nxt) does not open
 * anything: TIME_WAIT answers with its ACK and stays.
 */
TEST_F(peer, syn_old_duplicate_refused)
{
	long recycled = xtcp_counter("TWRecycledBySYN");
	struct xp_seg r;
	struct xp_conn c;
	int lfd;

	lfd = tw_server(_metadata, self, variant, &c, 41003, true);
	syn_into_tw(_metadata, self, variant, &c, lfd, true,
		    c.p_nxt - 100000, c.p_tsval - 500, &r);
	EXPECT_EQ(XP_ACK, r.flags);
	EXPECT_EQ(c.k_nxt, r.seq);
	EXPECT_EQ(c.p_nxt, r.ack);
	EXPECT_EQ(1, tw_count(variant->proc, KPORT, c.pport));
	if (variant->proto == IPPROTO_XTCP)
		EXPECT_EQ(recycled, xtcp_counter("TWRecycledBySYN"));
	close(lfd);
}

/*
 * A newer SYN for an entry whose port has no listener (the usual case:
 * the client closed first) has nothing to replace it with: TIME_WAIT
 * answers with its ACK and stays.
 */
TEST_F(peer, syn_without_listener_keeps_entry)
{
	long recycled = xtcp_counter("TWRecycledBySYN");
	struct xp_seg s, r;
	struct xp_conn c;
	int err;

	tw_against_peer(_metadata, self, variant, &c, 7004);
	xp_seg_init(&self->p, &s);
	s.sport = c.pport;
	s.dport = c.kport;
	s.seq = c.p_nxt + 100000;
	s.flags = XP_SYN;
	s.mss = 1460;
	s.ts = true;
	s.tsval = c.p_tsval + 1000;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	err = xp_conn_expect(&self->p, &c, &r, 0, 0, 3000);
	ASSERT_EQ(0, err) TH_LOG("SYN not answered: %s", strerror(-err));
	TH_LOG("answer %s", XP_SEG_STR(&r));
	EXPECT_EQ(XP_ACK, r.flags);
	EXPECT_EQ(c.k_nxt, r.seq);
	EXPECT_EQ(c.p_nxt, r.ack);
	EXPECT_EQ(1, tw_count(variant->proc, c.kport, c.pport));
	if (variant->proto == IPPROTO_XTCP)
		EXPECT_EQ(recycled, xtcp_counter("TWRecycledBySYN"));
}

/*
 * behaviour.md section 3: our last ACK was lost, the peer sits in
 * LAST_ACK, and we reuse the 4-tuple. The peer answers our SYN with its
 * FIN/ACK again; we (SYN_SENT) answer with a RST carrying its ACK number;
 * the peer closes; our retransmitted SYN then opens the connection.
 */
TEST_F(peer, last_ack_peer_reuse)
{
	long reused = xtcp_counter("TWReused");
	struct xp_conn c, old;
	struct xp_seg syn, s, r;
	int fd, err, port;
	__u32 isn;
	__s64 t0;

	fd = client(variant->proto, KADDR, 0, true);
	ASSERT_LE(0, fd);
	port = xtcp_local_port(fd);
	ASSERT_EQ(0, xp_conn_connect(&self->p, &c, fd, 7003, PEER_ISN,
				     65535, true));
	ASSERT_TRUE(c.ts);
	kernel_close_to_tw(_metadata, &self->p, &c);
	ASSERT_TRUE(xtcp_wait_until(tw_older_than(variant->proc, port, 7003,
						  variant->tw_len_ms, 20,
					     variant->when_unit_ms), 2000));
	old = c;

	/* Same port, same peer: the new SYN is above the old sequence
	 * space and its timestamp above the old ones.
	 */
	fd = client(variant->proto, KADDR, port, true);
	ASSERT_LE(0, fd) TH_LOG("bind: %s", strerror(-fd));
	c.fd = fd;
	err = start_connect(fd, 7003);
	ASSERT_EQ(0, err) TH_LOG("connect: %s", strerror(-err));
	err = xp_conn_expect(&self->p, &c, &syn, ANY_FLAGS, XP_SYN, 3000);
	ASSERT_EQ(0, err) TH_LOG("no SYN: %s", strerror(-err));
	TH_LOG("new SYN %s", XP_SEG_STR(&syn));
	isn = syn.seq;
	EXPECT_EQ(old.k_nxt + 65535 + 2, isn);
	ASSERT_TRUE(syn.ts);
	EXPECT_LT(0, (__s32)(syn.tsval - old.k_tsval));

	/* The peer, in LAST_ACK, sends its FIN again. */
	c = old;
	c.fd = fd;
	xp_conn_seg(&self->p, &c, &s, XP_FIN | XP_ACK);
	s.seq = old.p_nxt - 1;
	s.tsecr = syn.tsval;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	t0 = xp_now_ms();
	err = xp_conn_expect(&self->p, &c, &r, XP_RST | XP_SYN, XP_RST, 3000);
	ASSERT_EQ(0, err) TH_LOG("no RST: %s", strerror(-err));
	TH_LOG("answer %s", XP_SEG_STR(&r));
	EXPECT_EQ(XP_RST, r.flags);
	EXPECT_EQ(old.k_nxt, r.seq);

	/*
	 * The peer is closed now; the SYN comes again, well before the
	 * initial RTO of 1 s, and is answered.
	 */
	err = xp_conn_expect(&self->p, &c, &syn, ANY_FLAGS, XP_SYN, 3000);
	ASSERT_EQ(0, err) TH_LOG("no retransmitted SYN: %s", strerror(-err));
	TH_LOG("SYN again after %lld ms", (long long)(xp_now_ms() - t0));
	EXPECT_GT(500, xp_now_ms() - t0);
	EXPECT_EQ(isn, syn.seq);
	c.k_nxt = isn + 1;
	c.p_nxt = PEER_ISN + 7777;
	xp_conn_seg(&self->p, &c, &s, XP_SYN | XP_ACK);
	s.tsecr = syn.tsval;
	s.mss = 1460;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c.p_nxt++;
	err = xp_conn_expect(&self->p, &c, &r, ANY_FLAGS, XP_ACK, 3000);
	ASSERT_EQ(0, err) TH_LOG("no ACK: %s", strerror(-err));
	EXPECT_EQ(c.k_nxt, r.seq);
	EXPECT_EQ(c.p_nxt, r.ack);
	connect_done(_metadata, &c);
	ASSERT_EQ(2, send(fd, "ok", 2, 0));
	err = xp_conn_expect(&self->p, &c, &r, ANY_FLAGS, XP_ACK, 3000);
	ASSERT_EQ(0, err);
	EXPECT_EQ(2U, r.len);
	if (variant->proto == IPPROTO_XTCP)
		EXPECT_EQ(reused + 1, xtcp_counter("TWReused"));
	close(fd);
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
