/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the xtcp selftests: knobs, /proc files and small
 * socket utilities. Everything returns -errno instead of exiting so that
 * the harness assertions report what went wrong.
 */
#ifndef _XTCP_TEST_H
#define _XTCP_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include <linux/types.h>
#include <linux/xtcp.h>

#include "xtcp_peer.h"	/* xp_now_ms() */
#include "xtcp_util.h"

#define XTCP_SYSCTL_DIR "/proc/sys/net/xtcp/"

/*
 * Harness timeouts, scaled for slow kernels: the debug lane (KASAN,
 * lockdep) builds the tests with XTCP_TIMEOUT_SCALE=10. Only the harness's
 * limits grow; what a test asserts stays the same.
 */
#ifndef XTCP_TIMEOUT_SCALE
#define XTCP_TIMEOUT_SCALE 1
#endif
#define XTCP_TIMEOUT(s) ((s) * XTCP_TIMEOUT_SCALE)
#ifdef TEST_TIMEOUT_DEFAULT
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT XTCP_TIMEOUT(30)
#endif

static inline int xtcp_sysctl_get(const char *name, long *val)
{
	char path[128], buf[64], *end;
	int err;

	snprintf(path, sizeof(path), XTCP_SYSCTL_DIR "%s", name);
	err = xtcp_read_file(path, buf, sizeof(buf));
	if (err)
		return err;
	errno = 0;
	*val = strtol(buf, &end, 10);
	if (errno || end == buf || (*end != '\n' && *end != '\0'))
		return -EINVAL;
	return 0;
}

static inline int xtcp_sysctl_set_str(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), XTCP_SYSCTL_DIR "%s", name);
	return xtcp_write_file(path, val);
}

static inline int xtcp_sysctl_set(const char *name, long val)
{
	char path[128];

	snprintf(path, sizeof(path), XTCP_SYSCTL_DIR "%s", name);
	return xtcp_write_long(path, val);
}

/*
 * Value of counter @name in /proc/net/xtcp_stats, or -errno. The file
 * names each counter with the Xtcp prefix (XtcpActiveOpens); @name may
 * leave it out, as it does for TCP (ActiveOpens).
 */
static inline long xtcp_counter(const char *name)
{
	char line[128], key[64], full[64];
	long found = -ENOENT;
	unsigned long v;
	FILE *f;

	if (strncmp(name, "Xtcp", 4)) {
		snprintf(full, sizeof(full), "Xtcp%s", name);
		name = full;
	}

	f = fopen("/proc/net/xtcp_stats", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %lu", key, &v) == 2 && !strcmp(key, name)) {
			found = (long)v;
			break;
		}
	}
	fclose(f);
	return found;
}

/*
 * One line of /proc/net/xtcp or /proc/net/tcp. Both share the columns
 * "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt
 * uid timeout inode"; xtcp's file ends with age_ms, TCP's goes on with
 * columns of its own. Addresses are the __be32 as printed, so they compare
 * equal to an s_addr; the 128-bit ones of /proc/net/xtcp6 and tcp6 are
 * read as 0 (the ports are what the tests match).
 */
struct xtcp_proc_entry {
	__u32 laddr;
	unsigned int lport;
	__u32 raddr;
	unsigned int rport;
	unsigned int state;
	unsigned int txq;
	unsigned int rxq;
	unsigned int tr;	/* the timer running */
	unsigned long when;	/* its remaining time in ms (the file: ticks) */
	unsigned int retrnsmt;
	unsigned int uid;
	int timeout;
	unsigned long inode;
	long age_ms;		/* time in this state; -1: no such column */
};

/* The /proc file that lists the sockets of @proto. */
static inline const char *xtcp_proc_path(int proto)
{
	return proto == IPPROTO_TCP ? "/proc/net/tcp" : "/proc/net/xtcp";
}

/* The /proc file that lists the @family (AF_INET or AF_INET6) sockets. */
static inline const char *xtcp_proc_path_family(int proto, int family)
{
	if (family != AF_INET6)
		return xtcp_proc_path(proto);
	return proto == IPPROTO_TCP ? "/proc/net/tcp6" : "/proc/net/xtcp6";
}

/*
 * Parse one socket line of /proc/net/xtcp or /proc/net/tcp (or of their
 * IPv6 files) into @e; the
 * file has an age_ms column if @has_age. Returns the line's "sl" number,
 * or -1 if the line does not parse.
 */
static inline int xtcp_proc_parse(const char *line, bool has_age,
				  struct xtcp_proc_entry *e)
{
	char la[33], ra[33];
	int sl, end = 0;

	memset(e, 0, sizeof(*e));
	e->age_ms = -1;
	if (sscanf(line, " %d: %32[0-9A-Fa-f]:%x %32[0-9A-Fa-f]:%x %x %x:%x "
		   "%x:%lx %x %u %d %lu%n",
		   &sl, la, &e->lport, ra, &e->rport, &e->state,
		   &e->txq, &e->rxq, &e->tr, &e->when, &e->retrnsmt, &e->uid,
		   &e->timeout, &e->inode, &end) != 14)
		return -1;
	if (strlen(la) == 8)
		e->laddr = strtoul(la, NULL, 16);
	if (strlen(ra) == 8)
		e->raddr = strtoul(ra, NULL, 16);
	if (has_age && sscanf(line + end, " %ld", &e->age_ms) != 1)
		return -1;
	/* tm->when counts clock ticks (USER_HZ) in both files. */
	e->when *= 1000 / sysconf(_SC_CLK_TCK);
	return sl;
}

/*
 * Call @fn for each socket line of @path (the layout above) until it
 * returns non-zero. Returns that value, 0 once every line was seen, or
 * -errno.
 */
static inline int
xtcp_proc_foreach(const char *path,
		  int (*fn)(const struct xtcp_proc_entry *e, void *arg),
		  void *arg)
{
	char line[512];
	bool has_age;
	int ret = 0;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -EIO;
	}
	has_age = strstr(line, " age_ms");
	while (!ret && fgets(line, sizeof(line), f)) {
		struct xtcp_proc_entry e;

		if (xtcp_proc_parse(line, has_age, &e) < 0)
			continue;
		ret = fn(&e, arg);
	}
	fclose(f);
	return ret;
}

struct xtcp_proc_match {
	int lport;
	int rport;
	int state;
	int count;
	struct xtcp_proc_entry *first;
};

static inline int xtcp_proc_match(const struct xtcp_proc_entry *e, void *arg)
{
	struct xtcp_proc_match *m = arg;

	if ((m->lport >= 0 && e->lport != (unsigned int)m->lport) ||
	    (m->rport >= 0 && e->rport != (unsigned int)m->rport) ||
	    (m->state >= 0 && e->state != (unsigned int)m->state))
		return 0;
	if (!m->count++ && m->first)
		*m->first = *e;
	return 0;
}

/*
 * Count the lines of @path with local port @lport, remote port @rport
 * (0: a listener) and state @state, each ignored when negative; the first
 * match goes to *@first unless it is NULL. The count or -errno.
 */
static inline int xtcp_proc_scan(const char *path, int lport, int rport,
				 int state, struct xtcp_proc_entry *first)
{
	struct xtcp_proc_match m = {
		.lport = lport,
		.rport = rport,
		.state = state,
		.first = first,
	};
	int err;

	err = xtcp_proc_foreach(path, xtcp_proc_match, &m);
	return err ? err : m.count;
}

static inline int xtcp_proc_count(const char *path, int lport, int rport,
				  int state)
{
	return xtcp_proc_scan(path, lport, rport, state, NULL);
}

/* The line @lport -> @rport in @path into *@e: 0, -ENOENT or -errno. */
static inline int xtcp_proc_find(const char *path, int lport, int rport,
				 struct xtcp_proc_entry *e)
{
	int n = xtcp_proc_scan(path, lport, rport, -1, e);

	return n < 0 ? n : n ? 0 : -ENOENT;
}

/* The st column of @lport -> @rport in @path; -ENOENT: no such line. */
static inline int xtcp_proc_state(const char *path, int lport, int rport)
{
	struct xtcp_proc_entry e;
	int err;

	err = xtcp_proc_find(path, lport, rport, &e);
	return err ? err : (int)e.state;
}

/*
 * Poll until the st column of @lport -> @rport is @want (-ENOENT: until
 * the line is gone) or @timeout_ms pass. Returns the last value seen.
 */
static inline int xtcp_proc_wait_state(const char *path, int lport,
				       int rport, int want, int timeout_ms)
{
	__s64 deadline = xp_now_ms() + timeout_ms;
	int st;

	for (;;) {
		st = xtcp_proc_state(path, lport, rport);
		if (st == want || xp_now_ms() > deadline)
			return st;
		usleep(2000);
	}
}

/*
 * Few retransmissions for @proto in this namespace (retries2, for TCP
 * tcp_retries2 and tcp_orphan_retries 1), so that whatever a test leaves
 * talking to a vanished peer dies within seconds. 0 or -errno.
 */
static inline int xtcp_short_retries(int proto, int retries)
{
	if (proto == IPPROTO_XTCP)
		return xtcp_sysctl_set("retries2", retries);
	return xtcp_write_long("/proc/sys/net/ipv4/tcp_retries2", retries) ?:
	       xtcp_write_file("/proc/sys/net/ipv4/tcp_orphan_retries", "1");
}

/* Is the running kernel older than @major.@minor? */
static inline bool xtcp_kernel_before(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma < major || (ma == major && mi < minor);
}

/*
 * Linux TCP's knobs that 6.1 does not have, where the tests set them.
 * 6.1 keeps TCP's minimum RTO at a fixed 200 ms (TCP_RTO_MIN) and has no
 * net.ipv4.tcp_rto_min_us; it backs off its SYN retransmissions from the
 * first one, as net.ipv4.tcp_syn_linear_timeouts=0 does on 6.12, and has
 * no such knob. Setting either to what 6.1 does anyway succeeds there;
 * any other value gives -ENOENT, for the test to skip with
 * XTCP_NO_RTO_MIN_KNOB as its reason.
 */
#define XTCP_NO_RTO_MIN_KNOB \
	"no net.ipv4.tcp_rto_min_us (Linux 6.1): TCP's minimum RTO is a fixed 200 ms"

static inline int xtcp_tcp_rto_min_ms(int ms)
{
	int err = xtcp_write_long("/proc/sys/net/ipv4/tcp_rto_min_us",
				  ms * 1000L);

	return err == -ENOENT && ms == 200 ? 0 : err;
}

static inline int xtcp_tcp_syn_linear_timeouts(int n)
{
	int err = xtcp_write_long("/proc/sys/net/ipv4/tcp_syn_linear_timeouts",
				  n);

	return err == -ENOENT && n == 0 ? 0 : err;
}

/*
 * Counter @name of the "@prefix:" table in /proc/net/snmp or
 * /proc/net/netstat (a line of names followed by a line of values), or
 * -errno.
 */
static inline long xtcp_snmp(const char *path, const char *prefix,
			     const char *name)
{
	char names[4096], values[4096], *n, *v, *sn, *sv;
	long found = -ENOENT;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(names, sizeof(names), f)) {
		if (!fgets(values, sizeof(values), f))
			break;
		if (strncmp(names, prefix, strlen(prefix)))
			continue;
		n = strtok_r(names, "\n ", &sn);
		v = strtok_r(values, "\n ", &sv);
		while (n && v) {
			if (!strcmp(n, name)) {
				found = strtol(v, NULL, 10);
				break;
			}
			n = strtok_r(NULL, "\n ", &sn);
			v = strtok_r(NULL, "\n ", &sv);
		}
		break;
	}
	fclose(f);
	return found;
}

/* Linux TCP's "Tcp: @name" (RFC 1213 MIB) and "TcpExt: @name" counters. */
static inline long xtcp_snmp_tcp(const char *name)
{
	return xtcp_snmp("/proc/net/snmp", "Tcp:", name);
}

static inline long xtcp_tcpext(const char *name)
{
	return xtcp_snmp("/proc/net/netstat", "TcpExt:", name);
}

/*
 * Counter @name for either protocol: /proc/net/xtcp_stats for xtcp; for
 * TCP the MIB table, then TcpExt, where Linux keeps the same counter.
 */
static inline long xtcp_proto_counter(int proto, const char *name)
{
	long v;

	if (proto == IPPROTO_XTCP)
		return xtcp_counter(name);
	v = xtcp_snmp_tcp(name);
	return v == -ENOENT ? xtcp_tcpext(name) : v;
}

/*
 * Evaluate @cond every 2 ms until it holds or @ms pass; its last value.
 * Tests wait on conditions this way, never with a fixed sleep.
 */
#define xtcp_wait_until(cond, ms) ({					\
	__s64 __deadline = xp_now_ms() + (ms);				\
	bool __ok;							\
									\
	while (!(__ok = (cond)) && xp_now_ms() < __deadline)		\
		usleep(2000);						\
	__ok;								\
})

/* The IPv4 socket address @addr:@port. */
static inline struct sockaddr_in xtcp_sin(const char *addr, __u16 port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
	};

	inet_pton(AF_INET, addr, &sin.sin_addr);
	return sin;
}

/* poll() @fd for @events up to @timeout_ms; the revents, 0 on timeout. */
static inline int xtcp_wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	return poll(&pfd, 1, timeout_ms) == 1 ? pfd.revents : 0;
}

static inline int xtcp_set_int(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val)) ? -errno : 0;
}

/* An int socket option's value, or -errno. */
static inline int xtcp_get_int(int fd, int level, int name)
{
	socklen_t len = sizeof(int);
	int val;

	if (getsockopt(fd, level, name, &val, &len))
		return -errno;
	return val;
}

/*
 * The socket address @addr:@port of @family (AF_INET or AF_INET6) in
 * *@ss; its length for bind() and connect(), 0 if @addr does not parse.
 */
static inline socklen_t xtcp_sa(int family, const char *addr, __u16 port,
				struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1)
			return 0;
		return sizeof(*sin6);
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
		return 0;
	return sizeof(*sin);
}

/* The loopback address of @family, "127.0.0.1" or "::1". */
static inline const char *xtcp_lo_str(int family)
{
	return family == AF_INET6 ? "::1" : "127.0.0.1";
}

/* The loopback address of @family with @port in *@ss; its length. */
static inline socklen_t xtcp_lo_sa(int family, __u16 port,
				   struct sockaddr_storage *ss)
{
	return xtcp_sa(family, xtcp_lo_str(family), port, ss);
}

/* The port of the socket address @ss, of either family. */
static inline int xtcp_sa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/*
 * Is @ss the loopback address of its family (127.0.0.1, ::1)? An
 * IPv4-mapped ::ffff:127.0.0.1 is not: it tells that an AF_INET6 socket
 * went over IPv4.
 */
static inline bool xtcp_sa_is_lo(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

	if (ss->ss_family == AF_INET6)
		return !memcmp(&sin6->sin6_addr, &in6addr_loopback,
			       sizeof(in6addr_loopback));
	return ss->ss_family == AF_INET &&
	       sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
}

/* The local port of @fd, of either family, or -errno. */
static inline int xtcp_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -errno;
	return xtcp_sa_port(&ss);
}

/* The family getsockname() reports for @fd, or -errno. */
static inline int xtcp_sock_family(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -errno;
	return ss.ss_family;
}

/*
 * A connected pair of @proto over the loopback address of @family
 * (127.0.0.1 or ::1): the client in *@cfd, the accepted socket returned;
 * -errno (and *@cfd = -1) on failure.
 */
static inline int xtcp_lo_pair_family(int family, int proto, int *cfd)
{
	struct sockaddr_storage ss;
	socklen_t salen = xtcp_lo_sa(family, 0, &ss);
	socklen_t len = sizeof(ss);
	int lfd, sfd = -1;

	*cfd = -1;
	lfd = socket(family, SOCK_STREAM, proto);
	if (lfd < 0)
		return -errno;
	if (bind(lfd, (struct sockaddr *)&ss, salen) ||
	    listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&ss, &len))
		goto out;
	*cfd = socket(family, SOCK_STREAM, proto);
	if (*cfd < 0 || connect(*cfd, (struct sockaddr *)&ss, salen))
		goto out;
	sfd = accept(lfd, NULL, NULL);
out:
	if (sfd < 0) {
		sfd = -errno;
		if (*cfd >= 0)
			close(*cfd);
		*cfd = -1;
	}
	close(lfd);
	return sfd;
}

/* xtcp_lo_pair_family() over IPv4, 127.0.0.1. */
static inline int xtcp_lo_pair(int proto, int *cfd)
{
	return xtcp_lo_pair_family(AF_INET, proto, cfd);
}

/* "ping" from @a to @b, "pong" back; 0 if both arrived intact. */
static inline int xtcp_echo(int a, int b)
{
	char buf[8];

	if (send(a, "ping", 4, 0) != 4 || recv(b, buf, sizeof(buf), 0) != 4 ||
	    memcmp(buf, "ping", 4))
		return -1;
	if (send(b, "pong", 4, 0) != 4 || recv(a, buf, sizeof(buf), 0) != 4 ||
	    memcmp(buf, "pong", 4))
		return -1;
	return 0;
}

#endif /* _XTCP_TEST_H */
