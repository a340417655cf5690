// SPDX-License-Identifier: GPL-2.0
/*
 * Memory accounting, for TCP (tcp_mem) and xtcp (net.xtcp.mem) alike:
 *
 * - the pages all sockets of the protocol hold are counted against one
 *   host-wide limit (low, pressure, high), and shown in
 *   /proc/net/protocols; with the limit low, writers wait, the total
 *   stays near the limit, and every byte still arrives;
 * - socket memory is charged to the memory cgroup of the sockets' owner,
 *   both ends of a connection (the accepted one too), so that an
 *   unprivileged user in a user namespace cannot queue more in socket
 *   buffers than its cgroup's memory.max.
 */

#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"

#define PAIRS		4
#define BUF		(4 << 20)	/* SO_{RCV,SND}BUFFORCE of each socket */
#define PCPU_RSV	256		/* pages a CPU may hold back uncounted */
#define DRAIN_MS	15000		/* longest wait for a retransmission */

struct proto_line {
	int sockets;
	long memory;		/* pages; -1: not accounted */
	char press[8];		/* "yes", "no", "NI" */
};

/* The line of @proto in /proc/net/protocols; 0 or -1. */
static int proto_line(const char *proto, struct proto_line *p)
{
	char line[512], name[32];
	int found = -1, size;
	FILE *f;

	f = fopen("/proc/net/protocols", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%31s %d %d %ld %7s", name, &size, &p->sockets,
			   &p->memory, p->press) == 5 && !strcmp(name, proto)) {
			found = 0;
			break;
		}
	fclose(f);
	return found;
}

/*
 * Read (@len > 0) or write a host-wide knob (tcp_mem, net.xtcp.mem,
 * net.core.rmem_max), which exists in the initial network namespace only:
 * the runner leaves that open as XTCP_INIT_NETNS_FD (by hand, PID 1's
 * namespace serves). 0 or -errno.
 */
static int init_ns_knob(const char *path, char *val, size_t len)
{
	const char *fd = getenv("XTCP_INIT_NETNS_FD");
	int self = open("/proc/self/ns/net", O_RDONLY);
	int init = fd ? dup(atoi(fd)) : open("/proc/1/ns/net", O_RDONLY);
	int err = -EBADF;

	if (self < 0 || init < 0 || setns(init, CLONE_NEWNET))
		goto out;
	if (len)
		err = xtcp_read_file(path, val, len);
	else
		err = xtcp_write_file(path, val);
	if (setns(self, CLONE_NEWNET))
		err = -EBADF;
out:
	if (self >= 0)
		close(self);
	if (init >= 0)
		close(init);
	return err;
}

static char pattern(int pair, long off)
{
	return (char)(off * 13 + pair * 7 + 1);
}

struct pairs {
	int cfd[PAIRS];
	int sfd[PAIRS];
	long sent[PAIRS];
};

/*
 * @n connected pairs of @proto, the clients non-blocking; the accepted
 * ends get @rcvbuf and the clients @sndbuf (SO_*BUFFORCE if @force).
 */
static int pairs_open(struct pairs *p, int proto, int rcvbuf, int sndbuf,
		      bool force)
{
	int i;

	for (i = 0; i < PAIRS; i++) {
		p->sfd[i] = xtcp_lo_pair(proto, &p->cfd[i]);
		p->sent[i] = 0;
		if (p->sfd[i] < 0)
			return p->sfd[i];
		if (xtcp_set_int(p->sfd[i], SOL_SOCKET,
				 force ? SO_RCVBUFFORCE : SO_RCVBUF, rcvbuf) ||
		    xtcp_set_int(p->cfd[i], SOL_SOCKET,
				 force ? SO_SNDBUFFORCE : SO_SNDBUF, sndbuf) ||
		    fcntl(p->cfd[i], F_SETFL, O_NONBLOCK))
			return -errno;
	}
	return 0;
}

static void pairs_close(struct pairs *p)
{
	int i;

	for (i = 0; i < PAIRS; i++) {
		if (p->cfd[i] >= 0)
			close(p->cfd[i]);
		if (p->sfd[i] >= 0)
			close(p->sfd[i]);
	}
}

/*
 * Each client writes what it can, until none could write for @quiet_ms
 * (poll() would not tell: it reports room in the buffer, not in the
 * protocol's or the cgroup's memory). The total written.
 */
static long pairs_fill(struct pairs *p, int quiet_ms)
{
	__s64 last = xp_now_ms();
	char buf[16384];
	long total = 0;
	int i, k;

	while (xp_now_ms() - last < quiet_ms) {
		bool any = false;

		for (i = 0; i < PAIRS; i++) {
			ssize_t n;

			for (k = 0; k < (int)sizeof(buf); k++)
				buf[k] = pattern(i, p->sent[i] + k);
			n = send(p->cfd[i], buf, sizeof(buf), 0);
			if (n > 0) {
				p->sent[i] += n;
				any = true;
			}
		}
		if (any)
			last = xp_now_ms();
		else
			usleep(5000);
	}
	for (i = 0; i < PAIRS; i++)
		total += p->sent[i];
	return total;
}

/* Read everything each client wrote, and check it; 0 or -errno. */
static int pairs_drain(struct pairs *p)
{
	char buf[16384];
	int i;

	for (i = 0; i < PAIRS; i++) {
		long got = 0;

		while (got < p->sent[i]) {
			ssize_t n, k;

			if (!(xtcp_wait_fd(p->sfd[i], POLLIN, DRAIN_MS) & POLLIN))
				return -ETIMEDOUT;
			n = recv(p->sfd[i], buf, sizeof(buf), MSG_DONTWAIT);
			if (n <= 0)
				return -EIO;
			for (k = 0; k < n; k++)
				if (buf[k] != pattern(i, got + k))
					return -EBADMSG;
			got += n;
		}
	}
	return 0;
}

FIXTURE(mem) {
	char saved[128];
	struct pairs p;
};

FIXTURE_VARIANT(mem) {
	int proto;
	const char *name;	/* in /proc/net/protocols */
	const char *knob;	/* the host-wide limit */
};

FIXTURE_VARIANT_ADD(mem, tcp) {
	.proto = IPPROTO_TCP,
	.name = "TCP",
	.knob = "/proc/sys/net/ipv4/tcp_mem",
};

FIXTURE_VARIANT_ADD(mem, xtcp) {
	.proto = IPPROTO_XTCP,
	.name = "XTCP",
	.knob = "/proc/sys/net/xtcp/mem",
};

FIXTURE_SETUP(mem)
{
	ASSERT_EQ(0, init_ns_knob(variant->knob, self->saved,
				  sizeof(self->saved)));
	ASSERT_EQ(0, xtcp_sysctl_set("rto_min", 20));
	ASSERT_EQ(0, pairs_open(&self->p, variant->proto, BUF, BUF, true));
}

FIXTURE_TEARDOWN(mem)
{
	pairs_close(&self->p);
	EXPECT_EQ(0, init_ns_knob(variant->knob, self->saved, 0));
}

/* Without a tight limit the queued data shows in the protocol's total. */
TEST_F(mem, counted_in_proc_net_protocols)
{
	struct proto_line p;
	long total;

	ASSERT_EQ(0, proto_line(variant->name, &p));
	EXPECT_LE(2 * PAIRS, p.sockets);
	total = pairs_fill(&self->p, 300);
	ASSERT_EQ(0, proto_line(variant->name, &p));
	TH_LOG("%s: %ld bytes queued, %ld pages counted, pressure %s",
	       variant->name, total, p.memory, p.press);
	/* Each CPU may hold PCPU_RSV pages back from the total. */
	EXPECT_LE(total / 4096 - 2 * PCPU_RSV, p.memory);
	EXPECT_STRNE("NI", p.press);
	ASSERT_EQ(0, pairs_drain(&self->p));
}

/*
 * The limit at 64/128/256 pages: the writers stop near it (far below the
 * 32 MiB the buffers allow), and everything they wrote arrives once the
 * readers read.
 */
TEST_F(mem, limit_holds_and_nothing_is_lost)
{
	struct proto_line p;
	long total;

	ASSERT_EQ(0, init_ns_knob(variant->knob, "64 128 256", 0));
	total = pairs_fill(&self->p, 500);
	ASSERT_EQ(0, proto_line(variant->name, &p));
	TH_LOG("%s: %ld bytes queued under the limit, %ld pages counted, pressure %s",
	       variant->name, total, p.memory, p.press);
	EXPECT_GE((256 + 2 * PCPU_RSV) * 4096L + PAIRS * 65536L, total);
	EXPECT_GE(256 + 2 * PCPU_RSV, p.memory);
	EXPECT_STREQ("yes", p.press);
	ASSERT_EQ(0, pairs_drain(&self->p));
}

/*
 * net.xtcp.mem takes three page counts, each at least 1, in order; any
 * other write fails with EINVAL and changes nothing (tcp_mem takes them
 * all).
 */
TEST(mem_knob_rejects_bad_values)
{
	static const char *const bad[] = {
		"3 2 1", "10 20 15", "0 1 2", "-1 2 3", "1 2 x",
	};
	char saved[128], now[128];
	unsigned int i;

	ASSERT_EQ(0, init_ns_knob("/proc/sys/net/xtcp/mem", saved,
				  sizeof(saved)));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, init_ns_knob("/proc/sys/net/xtcp/mem",
						(char *)bad[i], 0)) {
			TH_LOG("\"%s\" taken", bad[i]);
		}
		ASSERT_EQ(0, init_ns_knob("/proc/sys/net/xtcp/mem", now,
					  sizeof(now)));
		EXPECT_STREQ(saved, now);
	}
	ASSERT_EQ(0, init_ns_knob("/proc/sys/net/xtcp/mem", "5 5 5", 0));
	ASSERT_EQ(0, init_ns_knob("/proc/sys/net/xtcp/mem", now, sizeof(now)));
	EXPECT_STREQ("5\t5\t5\n", now);
	EXPECT_EQ(0, init_ns_knob("/proc/sys/net/xtcp/mem", saved, 0));
}

/* --- memory cgroups -------------------------------------------------------- */

#define CG_MAX		(16L << 20)	/* memory.max of the test's cgroup */
#define CG_CONNS	PAIRS		/* half accepted, half connected */
#define CG_RCVBUF	(32 << 20)	/* each reader's SO_RCVBUF: 4 x 64 MiB */
#define CG_SNDBUF	(256 << 10)	/* each writer's SO_SNDBUF, outside */

FIXTURE(memcg) {
	char root[64];		/* the cgroup2 mount */
	char dir[128];		/* the test's cgroup */
	char saved_rmem_max[32];
	bool mounted;
	bool made;		/* the cgroup exists, rmem_max saved */
};

FIXTURE_VARIANT(memcg) {
	int proto;
	const char *name;
	/*
	 * TCP charges what arrives from softirq even beyond memory.max (the
	 * cgroup lets atomic charges through) and counts on pressure to slow
	 * the peer: its total is charged, not bounded. xtcp drops instead.
	 */
	bool bounded;
};

FIXTURE_VARIANT_ADD(memcg, tcp) {
	.proto = IPPROTO_TCP,
	.name = "TCP",
	.bounded = false,
};

FIXTURE_VARIANT_ADD(memcg, xtcp) {
	.proto = IPPROTO_XTCP,
	.name = "XTCP",
	.bounded = true,
};

static int cg_write(const char *dir, const char *file, const char *val)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return xtcp_write_file(path, val);
}

/* The number in the single-value file @file of @dir, or -1. */
static long cg_val(const char *dir, const char *file)
{
	char path[192], buf[64];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return xtcp_read_file(path, buf, sizeof(buf)) ? -1 : atol(buf);
}

/* The value of @key in the flat-keyed file @file of @dir, or -1. */
static long cg_key(const char *dir, const char *file, const char *key)
{
	char path[192], buf[8192], *line;
	size_t klen = strlen(key);

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (xtcp_read_file(path, buf, sizeof(buf)))
		return -1;
	for (line = buf; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (!strncmp(line, key, klen) && line[klen] == ' ')
			return atol(line + klen + 1);
	}
	return -1;
}

FIXTURE_SETUP(memcg)
{
	char val[128];

	/* A cgroup2 hierarchy with the memory controller for children. */
	if (!access("/sys/fs/cgroup/cgroup.controllers", F_OK)) {
		strcpy(self->root, "/sys/fs/cgroup");
	} else {
		strcpy(self->root, "/tmp/xtcp-cg.XXXXXX");
		ASSERT_NE(NULL, mkdtemp(self->root));
		ASSERT_EQ(0, mount("none", self->root, "cgroup2", 0, NULL));
		self->mounted = true;
	}
	snprintf(self->dir, sizeof(self->dir), "%s/cgroup.controllers",
		 self->root);
	ASSERT_EQ(0, xtcp_read_file(self->dir, val, sizeof(val)));
	if (!strstr(val, "memory"))
		SKIP(return, "no memory cgroup controller (CONFIG_MEMCG)");
	ASSERT_EQ(0, cg_write(self->root, "cgroup.subtree_control", "+memory"));
	snprintf(self->dir, sizeof(self->dir), "%s/xtcp-test-%d", self->root,
		 getpid());
	ASSERT_EQ(0, mkdir(self->dir, 0755));
	snprintf(val, sizeof(val), "%ld", CG_MAX);
	ASSERT_EQ(0, cg_write(self->dir, "memory.max", val));

	/* What an unprivileged SO_RCVBUF may ask for. */
	ASSERT_EQ(0, init_ns_knob("/proc/sys/net/core/rmem_max",
				  self->saved_rmem_max,
				  sizeof(self->saved_rmem_max)));
	self->made = true;
	snprintf(val, sizeof(val), "%d", CG_RCVBUF);
	ASSERT_EQ(0, init_ns_knob("/proc/sys/net/core/rmem_max", val, 0));
	ASSERT_EQ(0, xtcp_sysctl_set("rmem_max", 2 * CG_RCVBUF));
	ASSERT_EQ(0, xtcp_sysctl_set("rto_min", 20));
}

FIXTURE_TEARDOWN(memcg)
{
	if (self->made) {
		EXPECT_EQ(0, rmdir(self->dir));
		EXPECT_EQ(0, init_ns_knob("/proc/sys/net/core/rmem_max",
					  self->saved_rmem_max, 0));
	}
	if (self->mounted) {
		EXPECT_EQ(0, umount(self->root));
		EXPECT_EQ(0, rmdir(self->root));
	}
}

/*
 * The reader, in the cgroup as nobody in a new user namespace: a
 * listener the parent connects to twice (accepted ends), and two
 * connections to the parent's listener at @port (connected ends), all
 * with large receive buffers, none read until the parent has written
 * all it could. Then each is read to its end and checked; the total goes
 * back to the parent. Exit status 0, or the step that failed.
 */
static int memcg_child(const char *dir, int proto, int port, int tx, int rx)
{
	static char buf[16384];
	struct sockaddr_in sin = xtcp_sin("127.0.0.1", 0);
	socklen_t len = sizeof(sin);
	int fd[CG_CONNS], lfd, i, p;
	long total = 0;
	char c;

	memset(buf, 0, sizeof(buf));	/* faulted in before the cgroup fills */
	if (cg_write(dir, "cgroup.procs", "0"))
		return 1;
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534) || unshare(CLONE_NEWUSER))
		return 2;
	lfd = socket(AF_INET, SOCK_STREAM, proto);
	if (lfd < 0 || xtcp_set_int(lfd, SOL_SOCKET, SO_RCVBUF, CG_RCVBUF) ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) || listen(lfd, 2) ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len))
		return 3;
	p = ntohs(sin.sin_port);
	if (write(tx, &p, sizeof(p)) != sizeof(p))
		return 4;
	sin = xtcp_sin("127.0.0.1", port);
	for (i = 0; i < CG_CONNS / 2; i++) {
		fd[i] = socket(AF_INET, SOCK_STREAM, proto);
		if (fd[i] < 0 ||
		    xtcp_set_int(fd[i], SOL_SOCKET, SO_RCVBUF, CG_RCVBUF) ||
		    connect(fd[i], (struct sockaddr *)&sin, sizeof(sin)))
			return 5;
	}
	for (; i < CG_CONNS; i++) {
		fd[i] = accept(lfd, NULL, NULL);
		if (fd[i] < 0)
			return 6;
	}
	close(lfd);
	if (write(tx, &p, sizeof(p)) != sizeof(p) || read(rx, &c, 1) != 1)
		return 7;

	for (i = 0; i < CG_CONNS; i++) {
		long got = 0;
		int pair = -1;
		ssize_t n, k;

		do {
			if (!(xtcp_wait_fd(fd[i], POLLIN, DRAIN_MS) & POLLIN))
				return 8;
			n = recv(fd[i], buf, sizeof(buf), MSG_DONTWAIT);
			if (n < 0)
				return 9;
			/* Which writer: its stream starts with pattern(pair, 0). */
			for (k = 0; pair < 0 && n && k < PAIRS; k++)
				if (buf[0] == pattern(k, 0))
					pair = k;
			for (k = 0; k < n; k++)
				if (buf[k] != pattern(pair, got + k))
					return 10;
			got += n;
		} while (n > 0);
		total += got;
		close(fd[i]);
	}
	return write(tx, &total, sizeof(total)) == sizeof(total) ? 0 : 11;
}

/*
 * What an unprivileged reader holds in socket buffers is charged to its
 * cgroup (memory.stat "sock"), on the connections it accepted as on those
 * it made; with xtcp it cannot make the kernel hold more for it than its
 * cgroup's memory.max, though the buffer sizes allow 16 times as much.
 * Then everything written arrives intact, and nothing was killed. (TCP
 * holds several times memory.max here, and its reader is OOM-killed when
 * it starts reading.)
 */
TEST_F(memcg, socket_memory_charged_and_bounded)
{
	struct sockaddr_in sin = xtcp_sin("127.0.0.1", 0);
	socklen_t len = sizeof(sin);
	int up[2], down[2], lfd, port, status, i;
	int fd[CG_CONNS];
	long sent = 0, got = -1, sock, oom;
	struct pairs w;
	pid_t pid;

	lfd = socket(AF_INET, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(lfd, CG_CONNS));
	ASSERT_EQ(0, getsockname(lfd, (struct sockaddr *)&sin, &len));
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(up[0]);
		close(down[1]);
		_exit(memcg_child(self->dir, variant->proto,
				  ntohs(sin.sin_port), up[1], down[0]));
	}
	close(up[1]);
	close(down[0]);

	/* The writers, outside the cgroup: two connect, two are accepted. */
	ASSERT_EQ((ssize_t)sizeof(port), read(up[0], &port, sizeof(port)));
	sin = xtcp_sin("127.0.0.1", port);
	for (i = 0; i < CG_CONNS; i++) {
		if (i < CG_CONNS / 2) {
			fd[i] = accept(lfd, NULL, NULL);
		} else {
			fd[i] = socket(AF_INET, SOCK_STREAM, variant->proto);
			ASSERT_LE(0, fd[i]);
			ASSERT_EQ(0, connect(fd[i], (struct sockaddr *)&sin,
					     sizeof(sin)));
		}
		ASSERT_LE(0, fd[i]);
		ASSERT_EQ(0, xtcp_set_int(fd[i], SOL_SOCKET, SO_SNDBUFFORCE,
					  CG_SNDBUF));
		ASSERT_EQ(0, fcntl(fd[i], F_SETFL, O_NONBLOCK));
	}
	close(lfd);
	ASSERT_EQ((ssize_t)sizeof(port), read(up[0], &port, sizeof(port)));

	/* pairs_fill() writes pattern(i, ...) to cfd[i]: one stream each. */
	for (i = 0; i < PAIRS; i++) {
		w.cfd[i] = fd[i];
		w.sfd[i] = -1;
		w.sent[i] = 0;
	}
	sent = pairs_fill(&w, 500);
	sock = cg_key(self->dir, "memory.stat", "sock");
	oom = cg_key(self->dir, "memory.events", "oom_kill");
	TH_LOG("%s: %ld bytes written, %ld charged as sock, memory.max %ld, peak %ld",
	       variant->name, sent, sock, CG_MAX,
	       cg_val(self->dir, "memory.peak"));
	/* Besides what the writers' own buffers hold. */
	if (variant->bounded)
		EXPECT_GE(CG_MAX + CG_CONNS * 2L * CG_SNDBUF, sent);
	EXPECT_LE((sent - CG_CONNS * 2L * CG_SNDBUF) / 2, sock);
	EXPECT_EQ(0, oom);

	if (!variant->bounded) {
		/* Reading, the reader meets its cgroup far over the limit:
		 * TCP's reader is killed there. Only the charge is checked.
		 */
		kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		goto out;
	}
	for (i = 0; i < CG_CONNS; i++)
		EXPECT_EQ(0, shutdown(fd[i], SHUT_WR));
	ASSERT_EQ(1, write(down[1], "g", 1));
	EXPECT_EQ((ssize_t)sizeof(got), read(up[0], &got, sizeof(got)));
	EXPECT_EQ(sent, got);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
out:
	for (i = 0; i < CG_CONNS; i++)
		close(fd[i]);
	close(up[0]);
	close(down[1]);
}

TEST_HARNESS_MAIN
