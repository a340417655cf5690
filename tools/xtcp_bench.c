// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp_bench - loopback benchmarks of xtcp against Linux TCP.
 *
 * One binary, one subcommand per workload; server and client run as two
 * threads of one process on 127.0.0.0/8, or on ::1 with --ipv6. Every figure comes from
 * clock_gettime(CLOCK_MONOTONIC), which in the test VM booted with qemu's
 * -icount counts guest instructions: the figures are CPU cost, repeatable
 * whatever the host does. scripts/bench.sh runs "suite" in that VM.
 *
 *   bulk     --write SIZE --bytes TOTAL   bulk transfer, Gbit/s
 *   rr       --count N                    1-byte ping-pong, transactions/s
 *   crr      --count N --closer WHO       connect, 1-byte request/response,
 *                                         close (WHO: server or client first)
 *   twrate   --count N --tw ENTRIES       crr (client closes) with no
 *                                         TIME_WAIT entry, then with ENTRIES
 *   sockmem  --count N                    slab memory per connected socket
 *   suite                                 all of the above for TCP and xtcp,
 *                                         then rr with both threads on one
 *                                         CPU, bulk (64 KiB) and rr with
 *                                         the threads unpinned, and bulk
 *                                         (64 KiB), rr and crr (client
 *                                         closes) over IPv6 (the "_v6"
 *                                         workloads); --only NAME,... runs
 *                                         the named ones alone
 *
 * Common options: --proto tcp|xtcp|NUMBER, --ipv6 (AF_INET6 sockets on
 * ::1; twrate's servers are then eight ports of ::1), --netns (run in a new network
 * namespace with lo up), --cpus CLIENT,SERVER (the CPUs of the two
 * threads; default 0,1 where there are two, "any" for wherever the
 * scheduler puts them), --json FILE (suite: where the document goes,
 * default standard output). Each workload prints one JSON object; the
 * suite prints one document with both protocols. Exit status 0 when every
 * workload ran, 1 when one failed, 2 for usage errors.
 */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/xtcp.h>

#include "xtcp_util.h"

#define PROTO_TCP	IPPROTO_TCP
#define IO_TIMEOUT_S	30		/* a stuck workload fails, never hangs */
#define LISTEN_BACKLOG	4096
#define BASE_PORT	5000		/* listeners; below the ephemeral range */
#define EPHEMERAL_RANGE	"10000 65535"
#define TW_SERVERS	8		/* 4 addresses x 2 ports for the fill */
#define TW_ADDRS	4
#define TW_BUCKETS_MAX	"1000000"
#define XTCP_MSL_MAX	"600000"	/* ms: 20 min of TIME_WAIT */
#define SETTLE_TIMEOUT_S 120
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * The caches a finished workload must have given back (settle()); the
 * IPv6 ones only where the kernel has IPv6.
 */
static const char *const settle_caches[] = {
	"tw_sock_TCP", "xtcp_tw", "TCP", "XTCP", "tw_sock_TCPv6", "TCPv6",
	"XTCPv6",
};

struct bench_cfg {
	int proto;
	size_t write_size;
	size_t bytes;
	long count;
	long tw_entries;
	bool server_closes;
};

/* Defaults of the suite, chosen for ~0.3-1 s of guest time per run. */
static const struct bench_cfg suite_defaults = {
	.write_size = 65536,
	.bytes = 256UL << 20,
	.count = 2000,
	.tw_entries = 100000,
};

static unsigned int next_port = BASE_PORT;
/* AF_INET (127.0.0.0/8) or AF_INET6 (::1, --ipv6). */
static int family = AF_INET;

/* A listener's or peer's address, of either family. */
struct bench_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned int port;
};

static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xtcp_bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *proto_name(int proto)
{
	return proto == PROTO_TCP ? "tcp" : "xtcp";
}

/* --- Files: sysctls, /proc counters, slab accounting --------------------- */

static int write_file(const char *path, const char *val)
{
	int err = xtcp_write_file(path, val);

	if (err)
		fail("writing '%s' to %s: %s", val, path, strerror(-err));
	return err ? -1 : 0;
}

static int sysctl_set(const char *name, const char *val)
{
	char path[256];
	size_t i;

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	for (i = strlen("/proc/sys/"); path[i]; i++)
		if (path[i] == '.')
			path[i] = '/';
	return write_file(path, val);
}

/* The /proc/slabinfo line of @cache: 0, or -1 once said why not. */
static int slab_read(const char *cache, struct xtcp_slab *si)
{
	int err = xtcp_slab_read(cache, si);

	if (err == -ENOENT)
		fail("no slab cache '%s' in /proc/slabinfo (merged? boot with slab_nomerge)",
		     cache);
	else if (err)
		fail("/proc/slabinfo: %s", strerror(-err));
	return err ? -1 : 0;
}

/* The TIME_WAIT entries of this namespace: sockstat for TCP, the gauge. */
static long tw_count(int proto)
{
	char line[512];
	long val = -1;
	FILE *f;

	if (proto == PROTO_TCP) {
		f = fopen("/proc/net/sockstat", "r");
		if (!f)
			return -1;
		while (fgets(line, sizeof(line), f)) {
			char *p = strstr(line, " tw ");

			if (!strncmp(line, "TCP:", 4) && p)
				val = strtol(p + 4, NULL, 10);
		}
	} else {
		f = fopen("/proc/net/xtcp_stats", "r");
		if (!f)
			return -1;
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "XtcpTimeWait ", 13))
				val = strtol(line + 13, NULL, 10);
	}
	fclose(f);
	return val;
}

static const char *sock_cache(int proto)
{
	if (family == AF_INET6)
		return proto == PROTO_TCP ? "TCPv6" : "XTCPv6";
	return proto == PROTO_TCP ? "TCP" : "XTCP";
}

/* xtcp keeps the TIME_WAIT entries of both families in one cache. */
static const char *tw_cache(int proto)
{
	if (proto != PROTO_TCP)
		return "xtcp_tw";
	return family == AF_INET6 ? "tw_sock_TCPv6" : "tw_sock_TCP";
}

/* --- Sockets ------------------------------------------------------------- */

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int sock_new(int proto)
{
	int fd = socket(family, SOCK_STREAM, proto);

	if (fd < 0) {
		fail("socket(%s%s): %s", proto_name(proto),
		     family == AF_INET6 ? ", AF_INET6" : "", strerror(errno));
		return -1;
	}
	set_timeouts(fd);
	return fd;
}

/*
 * IPv4: @host_addr (host order) and @port. IPv6: ::1 and @port, whatever
 * @host_addr says (the loopback device has one IPv6 address).
 */
static struct bench_addr addr_of(uint32_t host_addr, unsigned int port)
{
	struct bench_addr a = { .port = port };

	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a.ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = in6addr_loopback;
		a.len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&a.ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(host_addr);
		a.len = sizeof(*sin);
	}
	return a;
}

static int listener_new(int proto, const struct bench_addr *a)
{
	int fd = sock_new(proto), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) ||
	    listen(fd, LISTEN_BACKLOG)) {
		fail("%s listener on port %u: %s", proto_name(proto),
		     a->port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_to(int proto, const struct bench_addr *a)
{
	int fd = sock_new(proto);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len)) {
		fail("%s connect: %s", proto_name(proto), strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int accept_one(int lfd)
{
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0) {
		fail("accept: %s", strerror(errno));
		return -1;
	}
	set_timeouts(fd);
	return fd;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fail("write: %s", n ? strerror(errno) : "wrote 0");
			return -1;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

/* Read exactly one byte; -1 on error or EOF. */
static int read_byte(int fd)
{
	char c;
	ssize_t n;

	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		fail("read: %s", n ? strerror(errno) : "unexpected EOF");
		return -1;
	}
	return 0;
}

/* Read until EOF, discarding; the number of bytes, -1 on error. */
static long long drain(int fd, char *buf, size_t len)
{
	long long total = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail("read: %s", strerror(errno));
			return -1;
		}
		if (!n)
			return total;
		total += n;
	}
}

/* Close with RST: the socket leaves no TIME_WAIT entry behind. */
static void close_abort(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/*
 * A server thread: serve runs its own loop on the accepted connections and
 * sets ok when all of them went well.
 */
struct server {
	pthread_t thread;
	int lfd;
	int proto;
	long count;
	size_t bufsize;
	bool server_closes;
	bool ok;
	long long bytes;
	int cpu;		/* rr: the server's CPU when it last answered */
	void *(*serve)(void *arg);
};

/*
 * The CPUs of the client (the main thread) and of the server thread, -1
 * for any. Left to the scheduler, the two threads of a ping-pong share a
 * CPU in some runs and not in others, and the figures of a run fall into
 * one of two modes (request/response: 29,600 or 37,200 transactions/s for
 * xtcp); pinned, they repeat.
 */
static int client_cpu = -1, server_cpu = -1;

static cpu_set_t cpu_only(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return set;
}

static int server_start(struct server *srv, int proto,
			const struct bench_addr *sin, void *(*fn)(void *))
{
	pthread_attr_t attr;
	int err;

	srv->proto = proto;
	srv->ok = false;
	srv->lfd = listener_new(proto, sin);
	if (srv->lfd < 0)
		return -1;
	err = pthread_attr_init(&attr);
	if (!err && server_cpu >= 0) {
		cpu_set_t set = cpu_only(server_cpu);

		err = pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	if (!err) {
		err = pthread_create(&srv->thread, &attr, fn, srv);
		pthread_attr_destroy(&attr);
	}
	if (err) {
		fail("pthread_create: %s", strerror(err));
		close(srv->lfd);
		return -1;
	}
	return 0;
}

/* Parse --cpus: "C,S" or "any". */
static int parse_cpus(const char *arg)
{
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (!strcmp(arg, "any")) {
		client_cpu = -1;
		server_cpu = -1;
		return 0;
	}
	if (sscanf(arg, "%d,%d", &client_cpu, &server_cpu) != 2 ||
	    client_cpu < 0 || server_cpu < 0 || client_cpu >= ncpus ||
	    server_cpu >= ncpus) {
		fail("bad --cpus '%s': CLIENT,SERVER below %ld, or any", arg,
		     ncpus);
		return -1;
	}
	return 0;
}

/* Pin the calling (client) thread; the threads it creates start there. */
static int pin_client(void)
{
	cpu_set_t set;

	if (client_cpu < 0)
		return 0;
	set = cpu_only(client_cpu);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fail("sched_setaffinity: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Join the thread; true if it served everything. */
static bool server_join(struct server *srv)
{
	pthread_join(srv->thread, NULL);
	close(srv->lfd);
	return srv->ok;
}

/* --- bulk ---------------------------------------------------------------- */

static void *bulk_serve(void *arg)
{
	struct server *srv = arg;
	char *buf = malloc(srv->bufsize);
	int fd;

	if (!buf)
		return NULL;
	fd = accept_one(srv->lfd);
	if (fd >= 0) {
		srv->bytes = drain(fd, buf, srv->bufsize);
		srv->ok = srv->bytes >= 0;
		close(fd);
	}
	free(buf);
	return NULL;
}

/* Bulk transfer: the time from the first write to the receiver's EOF. */
static int run_bulk_once(const struct bench_cfg *cfg, size_t bytes,
			 double *gbps, double *secs)
{
	struct bench_addr sin = addr_of(INADDR_LOOPBACK, next_port++);
	struct server srv = { .bufsize = cfg->write_size };
	char *buf, c;
	size_t left;
	double t0;
	bool ok = false;
	int fd;

	buf = malloc(cfg->write_size);
	if (!buf)
		return -1;
	memset(buf, 'x', cfg->write_size);
	if (server_start(&srv, cfg->proto, &sin, bulk_serve)) {
		free(buf);
		return -1;
	}
	fd = connect_to(cfg->proto, &sin);
	if (fd >= 0) {
		t0 = now_s();
		for (left = bytes; left; ) {
			size_t n = left < cfg->write_size ? left :
				   cfg->write_size;

			if (write_all(fd, buf, n))
				break;
			left -= n;
		}
		/* EOF back from the server: it has read everything. */
		if (!left && !shutdown(fd, SHUT_WR) && read(fd, &c, 1) == 0) {
			*secs = now_s() - t0;
			ok = true;
		}
		close(fd);
	}
	if (!server_join(&srv) || srv.bytes != (long long)bytes)
		ok = false;
	free(buf);
	if (!ok) {
		fail("%s bulk transfer failed", proto_name(cfg->proto));
		return -1;
	}
	*gbps = bytes * 8.0 / *secs / 1e9;
	return 0;
}

static int bench_bulk(const struct bench_cfg *cfg, FILE *out)
{
	double gbps, secs;

	/* Warm-up: slab caches, route, page allocator. */
	if (run_bulk_once(cfg, cfg->bytes / 16, &gbps, &secs) ||
	    run_bulk_once(cfg, cfg->bytes, &gbps, &secs))
		return -1;
	fprintf(out, "{\"value\": %.4f, \"unit\": \"Gbit/s\", "
		"\"write_size\": %zu, \"bytes\": %zu, \"seconds\": %.6f}",
		gbps, cfg->write_size, cfg->bytes, secs);
	return 0;
}

/* --- rr ------------------------------------------------------------------ */

static void *rr_serve(void *arg)
{
	struct server *srv = arg;
	char c = 'r';
	long i;
	int fd;

	fd = accept_one(srv->lfd);
	if (fd < 0)
		return NULL;
	for (i = 0; i < srv->count; i++) {
		if (read_byte(fd))
			break;
		__atomic_store_n(&srv->cpu, sched_getcpu(), __ATOMIC_RELAXED);
		if (write_all(fd, &c, 1))
			break;
	}
	srv->ok = i == srv->count;
	close(fd);
	return NULL;
}

/*
 * One run of @count ping-pongs. @same_cpu: the share of the answers the
 * client read on the CPU the server answered from, which tells, for
 * threads left to the scheduler, which placement the figure measured.
 */
static int run_rr_once(const struct bench_cfg *cfg, long count, double *rate,
		       double *secs, double *same_cpu)
{
	struct bench_addr sin = addr_of(INADDR_LOOPBACK, next_port++);
	struct server srv = { .count = count, .cpu = -1 };
	long i = 0, same = 0;
	char c = 'q';
	double t0;
	int fd;

	if (server_start(&srv, cfg->proto, &sin, rr_serve))
		return -1;
	fd = connect_to(cfg->proto, &sin);
	if (fd >= 0) {
		t0 = now_s();
		for (i = 0; i < count; i++) {
			if (write_all(fd, &c, 1) || read_byte(fd))
				break;
			same += sched_getcpu() ==
				__atomic_load_n(&srv.cpu, __ATOMIC_RELAXED);
		}
		*secs = now_s() - t0;
		close(fd);
	}
	if (!server_join(&srv) || i != count) {
		fail("%s request/response failed after %ld", proto_name(cfg->proto),
		     i);
		return -1;
	}
	*rate = count / *secs;
	*same_cpu = (double)same / count;
	return 0;
}

static int bench_rr(const struct bench_cfg *cfg, FILE *out)
{
	double rate, secs, same_cpu;

	if (run_rr_once(cfg, cfg->count / 10 + 1, &rate, &secs, &same_cpu) ||
	    run_rr_once(cfg, cfg->count, &rate, &secs, &same_cpu))
		return -1;
	fprintf(out, "{\"value\": %.1f, \"unit\": \"transactions/s\", "
		"\"count\": %ld, \"seconds\": %.6f, \"same_cpu\": %.4f}",
		rate, cfg->count, secs, same_cpu);
	return 0;
}

/* --- crr ----------------------------------------------------------------- */

/*
 * One connection per request: read 1 byte, answer 1 byte, then either
 * close at once (server closes first: TIME_WAIT on this side) or wait for
 * the client's FIN (client closes first).
 */
static void *crr_serve(void *arg)
{
	struct server *srv = arg;
	char c = 'r', buf[16];
	long i;

	for (i = 0; i < srv->count; i++) {
		int fd = accept_one(srv->lfd);

		if (fd < 0)
			break;
		if (read_byte(fd) || write_all(fd, &c, 1) ||
		    (!srv->server_closes && drain(fd, buf, sizeof(buf)))) {
			close(fd);
			break;
		}
		close(fd);
	}
	srv->ok = i == srv->count;
	return NULL;
}

static int crr_client(int proto, const struct bench_addr *sin,
		      bool server_closes)
{
	char c = 'q', buf[16];
	int fd = connect_to(proto, sin);

	if (fd < 0)
		return -1;
	if (write_all(fd, &c, 1) || read_byte(fd) ||
	    (server_closes && drain(fd, buf, sizeof(buf)))) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int run_crr_at(int proto, const struct bench_addr *sin, long count,
		      bool server_closes, double *rate, double *secs)
{
	struct server srv = { .count = count, .server_closes = server_closes };
	double t0;
	long i;

	if (server_start(&srv, proto, sin, crr_serve))
		return -1;
	t0 = now_s();
	for (i = 0; i < count; i++)
		if (crr_client(proto, sin, server_closes))
			break;
	*secs = now_s() - t0;
	if (i < count)
		shutdown(srv.lfd, SHUT_RDWR);	/* wake the server up */
	if (!server_join(&srv) || i != count) {
		fail("%s connect/request/response/close failed after %ld",
		     proto_name(proto), i);
		return -1;
	}
	*rate = count / *secs;
	return 0;
}

static int run_crr_once(const struct bench_cfg *cfg, long count,
			double *rate, double *secs)
{
	struct bench_addr sin = addr_of(INADDR_LOOPBACK, next_port++);

	return run_crr_at(cfg->proto, &sin, count, cfg->server_closes, rate,
			  secs);
}

static int bench_crr(const struct bench_cfg *cfg, FILE *out)
{
	double rate, secs;

	if (run_crr_once(cfg, cfg->count / 10 + 1, &rate, &secs) ||
	    run_crr_once(cfg, cfg->count, &rate, &secs))
		return -1;
	fprintf(out, "{\"value\": %.1f, \"unit\": \"connections/s\", "
		"\"closer\": \"%s\", \"count\": %ld, \"seconds\": %.6f}",
		rate, cfg->server_closes ? "server" : "client", cfg->count,
		secs);
	return 0;
}

/* --- twrate: connection rate with many TIME_WAIT entries ----------------- */

/*
 * Sysctls for the TIME_WAIT workload: room for the entries, a long enough
 * TIME_WAIT (TCP's is fixed at 60 s), a wide ephemeral range, and no reuse
 * of TIME_WAIT entries by connect(), so the table only grows.
 */
static int tw_sysctls(void)
{
	return sysctl_set("net.ipv4.ip_local_port_range", EPHEMERAL_RANGE) ||
	       sysctl_set("net.ipv4.tcp_max_tw_buckets", TW_BUCKETS_MAX) ||
	       sysctl_set("net.ipv4.tcp_tw_reuse", "0") ||
	       sysctl_set("net.xtcp.max_tw_buckets", TW_BUCKETS_MAX) ||
	       sysctl_set("net.xtcp.msl", XTCP_MSL_MAX) ||
	       sysctl_set("net.xtcp.tw_reuse", "0");
}

/*
 * Connection rate (client closes first, so every connection adds an
 * entry) with no TIME_WAIT entry, then after filling the table with
 * cfg->tw_entries entries spread over TW_SERVERS servers
 * (127.0.0.1-4 x two ports, or eight ports of ::1; the measured server is
 * one of them), then the slab cost of the entries.
 */
static int bench_twrate(const struct bench_cfg *cfg, FILE *out)
{
	struct bench_addr servers[TW_SERVERS];
	double rate0, secs0, rate1, secs1, fill_rate, fill_secs;
	struct xtcp_slab before, after;
	long tw_before, tw_filled, tw_end, per, i;
	unsigned int port = next_port;
	double delta;

	next_port += TW_SERVERS;
	for (i = 0; i < TW_SERVERS; i++)
		servers[i] = family == AF_INET6 ? addr_of(0, port + i) :
			     addr_of(INADDR_LOOPBACK + i % TW_ADDRS,
				     port + i / TW_ADDRS);

	if (tw_sysctls())
		return -1;
	tw_before = tw_count(cfg->proto);
	if (tw_before) {
		fail("%s: %ld TIME_WAIT entries before the baseline",
		     proto_name(cfg->proto), tw_before);
		return -1;
	}
	/* Warm-up on another server, then the baseline. */
	if (run_crr_at(cfg->proto, &servers[1], cfg->count / 10 + 1, false,
		       &rate0, &secs0) ||
	    run_crr_at(cfg->proto, &servers[0], cfg->count, false, &rate0,
		       &secs0))
		return -1;

	if (slab_read(tw_cache(cfg->proto), &before))
		return -1;
	tw_before = tw_count(cfg->proto);
	per = (cfg->tw_entries + TW_SERVERS - 1) / TW_SERVERS;
	fill_secs = 0;
	for (i = 0; i < TW_SERVERS; i++) {
		double r, s;

		if (run_crr_at(cfg->proto, &servers[i], per, false, &r, &s))
			return -1;
		fill_secs += s;
	}
	fill_rate = per * TW_SERVERS / fill_secs;
	tw_filled = tw_count(cfg->proto);
	if (slab_read(tw_cache(cfg->proto), &after))
		return -1;
	if (tw_filled - tw_before < per * TW_SERVERS) {
		fail("%s: only %ld of %ld TIME_WAIT entries were created",
		     proto_name(cfg->proto), tw_filled - tw_before,
		     per * TW_SERVERS);
		return -1;
	}

	if (run_crr_at(cfg->proto, &servers[0], cfg->count, false, &rate1,
		       &secs1))
		return -1;
	tw_end = tw_count(cfg->proto);

	delta = (double)(after.active - before.active) /
		(tw_filled - tw_before);
	fprintf(out, "{\"rate_none\": %.1f, \"rate_loaded\": %.1f, "
		"\"value\": %.4f, \"unit\": \"loaded/none\", "
		"\"count\": %ld, \"seconds_none\": %.6f, "
		"\"seconds_loaded\": %.6f, \"tw_entries_loaded\": %ld, "
		"\"tw_entries_end\": %ld, \"fill_rate\": %.1f, "
		"\"fill_seconds\": %.3f, \"tw_memory\": {\"cache\": \"%s\", "
		"\"objsize\": %ld, \"active_delta_per_entry\": %.4f, "
		"\"bytes_per_entry\": %.1f, \"slab_bytes_per_entry\": %.1f}}",
		rate0, rate1, rate1 / rate0, cfg->count, secs0, secs1,
		tw_filled, tw_end, fill_rate, fill_secs, tw_cache(cfg->proto),
		after.objsize, delta, delta * after.objsize,
		(double)(after.slabs - before.slabs) * after.pages *
			sysconf(_SC_PAGESIZE) / (tw_filled - tw_before));
	return 0;
}

/* --- sockmem: slab memory per connected socket --------------------------- */

static int bench_sockmem(const struct bench_cfg *cfg, FILE *out)
{
	struct bench_addr sin = addr_of(INADDR_LOOPBACK, next_port++);
	struct xtcp_slab before, after;
	long n = cfg->count, i, made = 0;
	int lfd, *fds;
	int ret = -1;
	double delta;

	fds = calloc(2 * n, sizeof(*fds));
	if (!fds)
		return -1;
	lfd = listener_new(cfg->proto, &sin);
	if (lfd < 0)
		goto out_free;
	if (slab_read(sock_cache(cfg->proto), &before))
		goto out_close;
	/* The backlog holds the children until they are accepted. */
	for (i = 0; i < n; i++) {
		fds[2 * i] = connect_to(cfg->proto, &sin);
		if (fds[2 * i] < 0)
			break;
		fds[2 * i + 1] = accept_one(lfd);
		if (fds[2 * i + 1] < 0) {
			close_abort(fds[2 * i]);
			break;
		}
		made++;
	}
	if (made == n && !slab_read(sock_cache(cfg->proto), &after)) {
		delta = (double)(after.active - before.active) / (2 * n);
		fprintf(out, "{\"cache\": \"%s\", \"objsize\": %ld, "
			"\"sockets\": %ld, \"active_delta_per_socket\": %.4f, "
			"\"bytes_per_socket\": %.1f}",
			sock_cache(cfg->proto), after.objsize, 2 * n, delta,
			delta * after.objsize);
		ret = 0;
	}
	for (i = 0; i < made; i++) {
		close_abort(fds[2 * i]);
		close_abort(fds[2 * i + 1]);
	}
out_close:
	close(lfd);
out_free:
	free(fds);
	return ret;
}

/* --- Namespaces and the suite -------------------------------------------- */

static int lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int err = -1;

	if (fd < 0)
		return -1;
	if (!ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		err = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	if (err)
		fail("bringing lo up: %s", strerror(errno));
	return err;
}

static int new_netns(void)
{
	if (unshare(CLONE_NEWNET)) {
		fail("unshare(CLONE_NEWNET): %s", strerror(errno));
		return -1;
	}
	return lo_up();
}

typedef int (*bench_fn)(const struct bench_cfg *cfg, FILE *out);

/*
 * Run @fn in a child process, in a network namespace of its own, and copy
 * its JSON into @out. The namespace (and every socket and TIME_WAIT entry
 * in it) goes away with the child, so one workload cannot slow the next;
 * the caller waits for that with settle().
 */
static int run_isolated(bench_fn fn, const struct bench_cfg *cfg, FILE *out)
{
	char buf[4096];
	FILE *tmp = tmpfile();
	int status;
	size_t n;
	pid_t pid;

	if (!tmp)
		return -1;
	fflush(out);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		fclose(tmp);
		return -1;
	}
	if (!pid) {
		int ret = new_netns() ? 1 : fn(cfg, tmp) ? 1 : 0;

		fflush(tmp);
		_exit(ret);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fclose(tmp);
		fprintf(out, "null");
		return -1;
	}
	rewind(tmp);
	while ((n = fread(buf, 1, sizeof(buf), tmp)))
		fwrite(buf, 1, n, out);
	fclose(tmp);
	return 0;
}

/*
 * Wait until the namespaces of finished workloads are gone: the TIME_WAIT
 * and socket caches back near their level before the suite, so that their
 * teardown does not run during the next measurement.
 */
static void settle(const struct xtcp_slab *base)
{
	double deadline = now_s() + SETTLE_TIMEOUT_S;
	struct xtcp_slab si;
	bool busy;
	size_t i;

	do {
		busy = false;
		for (i = 0; i < ARRAY_SIZE(settle_caches); i++)
			if (base[i].objsize >= 0 &&
			    !slab_read(settle_caches[i], &si) &&
			    si.active > base[i].active + 512)
				busy = true;
		if (busy)
			usleep(100 * 1000);
	} while (busy && now_s() < deadline);
	if (busy)
		fail("namespace teardown still running after %d s",
		     SETTLE_TIMEOUT_S);
	/* RCU callbacks and deferred frees of the last ones. */
	usleep(200 * 1000);
}

struct suite_item {
	const char *name;
	bench_fn fn;
	size_t write_size;
	bool server_closes;
	enum placement {
		PINNED,		/* client and server as --cpus says */
		SAME_CPU,	/* both on the client's CPU */
		UNPINNED,	/* left to the scheduler */
	} placement;
	int family;
};

static const struct suite_item suite_items[] = {
	{ "bulk_64k", bench_bulk, 65536, false, PINNED, AF_INET },
	{ "bulk_1m", bench_bulk, 1 << 20, false, PINNED, AF_INET },
	{ "rr", bench_rr, 0, false, PINNED, AF_INET },
	{ "crr_server_close", bench_crr, 0, true, PINNED, AF_INET },
	{ "crr_client_close", bench_crr, 0, false, PINNED, AF_INET },
	{ "sockmem", bench_sockmem, 0, false, PINNED, AF_INET },
	{ "twrate", bench_twrate, 0, false, PINNED, AF_INET },
	/* The other mode of a ping-pong: no cross-CPU wake-up. */
	{ "rr_same_cpu", bench_rr, 0, false, SAME_CPU, AF_INET },
	/* Where real programs run: wherever the scheduler puts them. */
	{ "bulk_64k_unpinned", bench_bulk, 65536, false, UNPINNED, AF_INET },
	{ "rr_unpinned", bench_rr, 0, false, UNPINNED, AF_INET },
	/* TCP6 against xtcp's AF_INET6 sockets on ::1. */
	{ "bulk_64k_v6", bench_bulk, 65536, false, PINNED, AF_INET6 },
	{ "rr_v6", bench_rr, 0, false, PINNED, AF_INET6 },
	{ "crr_client_close_v6", bench_crr, 0, false, PINNED, AF_INET6 },
};

/* --only: the suite's workloads to run, comma-separated; NULL for all. */
static const char *suite_only;

/* Is @name one of the --only list (or is there none)? */
static bool suite_selected(const char *name)
{
	size_t len = strlen(name);
	const char *p = suite_only;

	if (!p)
		return true;
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == len && !strncmp(p, name, len))
			return true;
		p += n;
		p += *p == ',';
	}
	return false;
}

/* 0 if every name of --only is a workload of the suite. */
static int suite_check_only(void)
{
	const char *p = suite_only;
	char name[64];
	size_t i;

	while (p && *p) {
		size_t n = strcspn(p, ",");
		bool known = false;

		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		for (i = 0; i < ARRAY_SIZE(suite_items); i++)
			known |= !strcmp(suite_items[i].name, name);
		if (!known) {
			fail("--only: no workload '%s' in the suite", name);
			return -1;
		}
		p += n;
		p += *p == ',';
	}
	return 0;
}

/*
 * Place the client and server threads of the next workload: as --cpus
 * asked (PINNED), both on the client's CPU (SAME_CPU), or wherever the
 * scheduler puts them (UNPINNED). Every other placement is left for
 * PINNED again. Returns -1 if the affinity cannot be set.
 */
static int suite_placement(enum placement where)
{
	static int saved_client = -1, saved_server = -1;
	cpu_set_t all;
	long n, cpu;

	if (where == PINNED) {
		client_cpu = saved_client;
		server_cpu = saved_server;
		return pin_client();
	}
	saved_client = client_cpu;
	saved_server = server_cpu;
	if (where == SAME_CPU) {
		client_cpu = client_cpu < 0 ? 0 : client_cpu;
		server_cpu = client_cpu;
		return pin_client();
	}
	client_cpu = -1;
	server_cpu = -1;
	CPU_ZERO(&all);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	for (cpu = 0; cpu < n && cpu < CPU_SETSIZE; cpu++)
		CPU_SET(cpu, &all);
	if (sched_setaffinity(0, sizeof(all), &all)) {
		fail("sched_setaffinity: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static long suite_count(const char *name)
{
	if (!strncmp(name, "rr", 2))
		return 20000;
	if (!strcmp(name, "sockmem"))
		return 1000;
	return 2000;
}

static int bench_suite(const struct bench_cfg *defaults, FILE *out)
{
	const int protos[] = { PROTO_TCP, defaults->proto };
	struct xtcp_slab base[ARRAY_SIZE(settle_caches)];
	struct utsname uts;
	int failed = 0, items = 0;
	size_t i, p;

	/* A cache the kernel lacks (IPv6 disabled) is not waited for. */
	for (i = 0; i < ARRAY_SIZE(settle_caches); i++)
		if (xtcp_slab_read(settle_caches[i], &base[i]))
			base[i].objsize = -1;
	if (base[0].objsize < 0 || base[1].objsize < 0) {
		fail("no %s or %s in /proc/slabinfo", settle_caches[0],
		     settle_caches[1]);
		return -1;
	}
	uname(&uts);
	fprintf(out, "{\n  \"kernel\": \"%s\",\n  \"nr_cpus\": %ld,\n"
		"  \"client_cpu\": %d,\n  \"server_cpu\": %d,\n"
		"  \"clock\": \"CLOCK_MONOTONIC\",\n  \"xtcp_proto\": %d,\n"
		"  \"results\": {",
		uts.release, sysconf(_SC_NPROCESSORS_ONLN), client_cpu,
		server_cpu, defaults->proto);
	for (i = 0; i < ARRAY_SIZE(suite_items); i++) {
		const struct suite_item *it = &suite_items[i];

		if (!suite_selected(it->name))
			continue;
		fprintf(out, "%s\n    \"%s\": {", items++ ? "," : "",
			it->name);
		family = it->family;
		for (p = 0; p < 2; p++) {
			struct bench_cfg cfg = *defaults;
			double t0 = now_s();
			int err;

			cfg.proto = protos[p];
			cfg.count = suite_count(it->name);
			cfg.server_closes = it->server_closes;
			if (it->write_size)
				cfg.write_size = it->write_size;
			fprintf(out, "%s\n      \"%s\": ", p ? "," : "",
				proto_name(cfg.proto));
			err = it->placement != PINNED ?
				suite_placement(it->placement) : 0;
			if (!err)
				err = run_isolated(it->fn, &cfg, out);
			else
				fprintf(out, "null");
			if (it->placement != PINNED && suite_placement(PINNED))
				err = -1;
			fprintf(stderr, "xtcp_bench: %-19s %-4s %s (%.2f s guest time)\n",
				it->name, proto_name(cfg.proto),
				err ? "FAILED" : "done", now_s() - t0);
			failed |= err;
			settle(base);
		}
		fprintf(out, "\n    }");
	}
	fprintf(out, "\n  },\n  \"failed\": %s\n}\n", failed ? "true" : "false");
	return failed ? -1 : 0;
}

/* --- Command line -------------------------------------------------------- */

static const struct {
	const char *name;
	bench_fn fn;
} commands[] = {
	{ "bulk", bench_bulk },
	{ "rr", bench_rr },
	{ "crr", bench_crr },
	{ "twrate", bench_twrate },
	{ "sockmem", bench_sockmem },
};

/* sockmem keeps 2 x --count descriptors open. */
static void raise_fd_limit(void)
{
	struct rlimit rl = { .rlim_cur = 1 << 16, .rlim_max = 1 << 16 };

	if (setrlimit(RLIMIT_NOFILE, &rl) && !getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xtcp_bench [options] bulk|rr|crr|twrate|sockmem|suite\n"
		"  --proto tcp|xtcp|N  protocol (default xtcp = %d)\n"
		"  --write SIZE        bulk: bytes per write() (default 65536)\n"
		"  --bytes TOTAL       bulk: bytes to send (default 256 MiB)\n"
		"  --count N           rr: transactions; crr, twrate: connections;\n"
		"                      sockmem: connections (default 2000)\n"
		"  --closer server|client  crr: who closes first (default client)\n"
		"  --tw N              twrate: TIME_WAIT entries (default 100000)\n"
		"  --ipv6              AF_INET6 sockets on ::1\n"
		"  --only NAME,...     suite: only these workloads\n"
		"  --netns             run in a new network namespace\n"
		"  --cpus C,S|any      CPUs of the client and server threads\n"
		"                      (default 0,1 with two CPUs or more)\n"
		"  --json FILE         write the JSON there (default stdout)\n"
		"Figures use CLOCK_MONOTONIC: guest instructions under -icount.\n",
		IPPROTO_XTCP);
}

static long parse_num(const char *s, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (errno || end == s || *end || v <= 0) {
		fail("bad %s '%s'", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "proto", required_argument, NULL, 'p' },
		{ "write", required_argument, NULL, 'w' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "count", required_argument, NULL, 'c' },
		{ "closer", required_argument, NULL, 'C' },
		{ "tw", required_argument, NULL, 't' },
		{ "netns", no_argument, NULL, 'n' },
		{ "cpus", required_argument, NULL, 'P' },
		{ "json", required_argument, NULL, 'j' },
		{ "ipv6", no_argument, NULL, '6' },
		{ "only", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct bench_cfg cfg = suite_defaults;
	const char *json = NULL, *cmd;
	bool netns = false;
	FILE *out = stdout;
	int opt, ret;

	cfg.proto = IPPROTO_XTCP;
	if (sysconf(_SC_NPROCESSORS_ONLN) >= 2) {
		client_cpu = 0;
		server_cpu = 1;
	}
	while ((opt = getopt_long(argc, argv, "h6", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (!strcmp(optarg, "tcp"))
				cfg.proto = PROTO_TCP;
			else if (!strcmp(optarg, "xtcp"))
				cfg.proto = IPPROTO_XTCP;
			else
				cfg.proto = parse_num(optarg, "protocol");
			break;
		case 'w':
			cfg.write_size = parse_num(optarg, "write size");
			break;
		case 'b':
			cfg.bytes = parse_num(optarg, "byte count");
			break;
		case 'c':
			cfg.count = parse_num(optarg, "count");
			break;
		case 'C':
			if (strcmp(optarg, "server") && strcmp(optarg, "client")) {
				usage(stderr);
				return 2;
			}
			cfg.server_closes = !strcmp(optarg, "server");
			break;
		case 't':
			cfg.tw_entries = parse_num(optarg, "entry count");
			break;
		case 'n':
			netns = true;
			break;
		case 'P':
			if (parse_cpus(optarg))
				return 2;
			break;
		case 'j':
			json = optarg;
			break;
		case '6':
			family = AF_INET6;
			break;
		case 'o':
			suite_only = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	if (suite_check_only())
		return 2;
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	if (json) {
		out = fopen(json, "w");
		if (!out) {
			fail("%s: %s", json, strerror(errno));
			return 1;
		}
	}
	if (netns && new_netns())
		return 1;
	if (pin_client())
		return 1;

	if (!strcmp(cmd, "suite")) {
		ret = bench_suite(&cfg, out);
	} else {
		bench_fn fn = NULL;
		size_t i;

		for (i = 0; i < ARRAY_SIZE(commands); i++)
			if (!strcmp(cmd, commands[i].name))
				fn = commands[i].fn;
		if (!fn) {
			usage(stderr);
			return 2;
		}
		fprintf(out, "{\"proto\": \"%s\", \"family\": \"%s\", \"workload\": \"%s\", \"result\": ",
			proto_name(cfg.proto),
			family == AF_INET6 ? "ipv6" : "ipv4", cmd);
		ret = fn(&cfg, out);
		fprintf(out, "%s}\n", ret ? "null" : "");
	}
	if (fclose(out))
		ret = -1;
	return ret ? 1 : 0;
}
