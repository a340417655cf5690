// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp_xfer - bulk transfer checker for the xtcp selftests.
 *
 *	xtcp_xfer --server --port PORT [--bind ADDR] [options]
 *	xtcp_xfer --client ADDR --port PORT [options]
 *
 * options: --proto 6|253 (default 253), --conns N (default 1),
 *	    --bytes M (default 1 MiB), --timeout SEC (default 120),
 *	    --progress SEC (state of every connection every SEC s on stderr),
 *	    --ipv6 (AF_INET6 sockets; a server without --bind listens on ::)
 *
 * ADDR is a numeric IPv4 or IPv6 address; an IPv6 one (it has a colon)
 * implies --ipv6.
 *
 * Every connection carries M bytes in each direction at the same time.
 * The client opens N connections in parallel and starts each with an
 * 8-byte header (magic, connection index); the server accepts N
 * connections and reads the header. Then both ends send M bytes of a
 * pseudo-random stream seeded by the connection index and the direction
 * (xorshift64*), shut down their write side and read the peer's stream,
 * regenerating it and comparing every byte; EOF must follow the M-th
 * byte. Nothing needs hashing: a mismatch is reported at its offset.
 *
 * One thread multiplexes every connection with poll() and non-blocking
 * sockets, so neither direction can block the other. The whole run has
 * one deadline (--timeout). The server prints "listening" once it
 * accepts connections. Per connection it prints the result, the bytes
 * each way, its duration and the retransmissions the stack counted
 * (TCP_INFO or XTCP_INFO); then the total time.
 *
 * Exit status: 0 only if every byte of every connection matched in both
 * directions, 1 on a mismatch, error or timeout, 2 on bad usage.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/xtcp.h>

#include "xtcp_util.h"

#define XFER_MAGIC	0x78746370u	/* "xtcp" */
#define XFER_HDR_LEN	8
#define XFER_CHUNK	65536
#define XFER_MAX_CONNS	256

/* A byte stream from xorshift64* (Vigna), eight bytes per step. */
struct stream {
	__u64 s;
	__u8 word[8];
	unsigned int pos;	/* next byte of @word; 8: empty */
};

/* Direction 0: client to server; 1: server to client. */
static void stream_init(struct stream *st, unsigned int idx, unsigned int dir)
{
	st->s = xtcp_splitmix64(((__u64)idx << 1 | dir) + 1) | 1;
	st->pos = 8;
}

static __u64 stream_next(struct stream *st)
{
	st->s ^= st->s >> 12;
	st->s ^= st->s << 25;
	st->s ^= st->s >> 27;
	return st->s * 0x2545f4914f6cdd1dull;
}

static void stream_fill(struct stream *st, __u8 *p, size_t n)
{
	while (n) {
		__u64 w;

		if (st->pos == 8 && n >= 8) {
			w = stream_next(st);
			memcpy(p, &w, 8);
			p += 8;
			n -= 8;
			continue;
		}
		if (st->pos == 8) {
			w = stream_next(st);
			memcpy(st->word, &w, 8);
			st->pos = 0;
		}
		*p++ = st->word[st->pos++];
		n--;
	}
}

struct conn {
	int fd;
	int idx;		/* -1 until known (server: from the header) */
	bool connecting;
	bool need_hdr;		/* client: the header is still to be queued */
	bool wr_shut;		/* all sent, write side shut down */
	bool eof;		/* all received, then EOF */
	bool done;
	bool failed;
	char why[160];

	__u8 hdr_in[XFER_HDR_LEN];
	size_t hdr_in_len;

	struct stream tx, rx;
	__u8 txbuf[XFER_CHUNK];
	size_t tx_len, tx_off;	/* bytes in @txbuf, bytes of it sent */
	size_t tx_hdr;		/* header bytes at the start of @txbuf */
	__u64 tx_gen;	/* data bytes generated into @txbuf so far */
	__u64 sent;		/* data bytes sent */
	__u64 rcvd;		/* data bytes received and verified */
	__u32 retrans;
	double t_start, t_end;
};

static struct {
	bool server;
	const char *addr;
	int family;
	int port;
	int proto;
	int nconns;
	__u64 bytes;
	double timeout;
	double progress;
} opt = {
	.proto = IPPROTO_XTCP,
	.family = AF_INET,
	.nconns = 1,
	.bytes = 1 << 20,
	.timeout = 120,
};

static struct conn *conns;
static int nconns_open;	/* entries of @conns in use */
static __u8 rxbuf[XFER_CHUNK], expect[XFER_CHUNK];
static double t0;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "xtcp_xfer: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void conn_fail(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	c->failed = true;
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		die("fcntl: %s", strerror(errno));
}

/* What the stack reports about a connection, for the log. */
struct conn_info {
	__u32 retrans, cwnd, rto_us, unacked, backoff;
	__u32 snd_una, snd_nxt, rcv_nxt, snd_wnd, rcv_wnd;
};

/* TCP_INFO or XTCP_INFO; false if the stack would not tell. */
static bool conn_info(int fd, struct conn_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	if (opt.proto == IPPROTO_TCP) {
		struct tcp_info ti;
		socklen_t len = sizeof(ti);

		memset(&ti, 0, sizeof(ti));
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
			return false;
		ci->retrans = ti.tcpi_total_retrans;
		ci->cwnd = ti.tcpi_snd_cwnd;
		ci->rto_us = ti.tcpi_rto;
		ci->unacked = ti.tcpi_unacked;
		ci->backoff = ti.tcpi_backoff;
		ci->rcv_wnd = ti.tcpi_rcv_space;
	} else {
		struct xtcp_info xi;
		socklen_t len = sizeof(xi);

		memset(&xi, 0, sizeof(xi));
		if (getsockopt(fd, SOL_XTCP, XTCP_INFO, &xi, &len))
			return false;
		ci->retrans = xi.xtcpi_total_retrans;
		ci->cwnd = xi.xtcpi_snd_cwnd;
		ci->rto_us = xi.xtcpi_rto;
		ci->unacked = xi.xtcpi_unacked;
		ci->backoff = xi.xtcpi_backoff;
		ci->snd_una = xi.xtcpi_snd_una;
		ci->snd_nxt = xi.xtcpi_snd_nxt;
		ci->rcv_nxt = xi.xtcpi_rcv_nxt;
		ci->snd_wnd = xi.xtcpi_snd_wnd;
		ci->rcv_wnd = xi.xtcpi_rcv_wnd;
	}
	return true;
}

static void conn_start_streams(struct conn *c)
{
	stream_init(&c->tx, c->idx, opt.server);
	stream_init(&c->rx, c->idx, !opt.server);
}

/* Refill the send buffer: the header first (client), then data. */
static void conn_refill(struct conn *c)
{
	size_t n = 0, room = sizeof(c->txbuf), data;

	if (c->need_hdr) {
		__u32 hdr[2] = { htonl(XFER_MAGIC), htonl(c->idx) };

		memcpy(c->txbuf, hdr, XFER_HDR_LEN);
		n = XFER_HDR_LEN;
		room -= n;
		c->need_hdr = false;
	}
	c->tx_hdr = n;
	data = opt.bytes - c->tx_gen < room ? opt.bytes - c->tx_gen : room;
	stream_fill(&c->tx, c->txbuf + n, data);
	c->tx_gen += data;
	c->tx_len = n + data;
	c->tx_off = 0;
}

static void conn_send(struct conn *c)
{
	while (!c->wr_shut) {
		size_t hdr;
		ssize_t n;

		if (c->tx_off == c->tx_len) {
			if (c->tx_gen == opt.bytes && !c->need_hdr) {
				if (shutdown(c->fd, SHUT_WR)) {
					conn_fail(c, "shutdown: %s",
						  strerror(errno));
					return;
				}
				c->wr_shut = true;
				return;
			}
			conn_refill(c);
		}
		n = send(c->fd, c->txbuf + c->tx_off, c->tx_len - c->tx_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			conn_fail(c, "send after %llu bytes: %s",
				  (unsigned long long)c->sent,
				  strerror(errno));
			return;
		}
		/* Only data bytes count, not the header. */
		hdr = c->tx_off < c->tx_hdr ? c->tx_hdr - c->tx_off : 0;
		c->sent += (size_t)n > hdr ? n - hdr : 0;
		c->tx_off += n;
	}
}

/* Server: the client's header names the connection. */
static void conn_header(struct conn *c, const __u8 *p, size_t n,
			size_t *used)
{
	__u32 hdr[2];
	int i;

	*used = XFER_HDR_LEN - c->hdr_in_len < n ?
		XFER_HDR_LEN - c->hdr_in_len : n;
	memcpy(c->hdr_in + c->hdr_in_len, p, *used);
	c->hdr_in_len += *used;
	if (c->hdr_in_len < XFER_HDR_LEN)
		return;
	memcpy(hdr, c->hdr_in, sizeof(hdr));
	if (ntohl(hdr[0]) != XFER_MAGIC) {
		conn_fail(c, "bad header magic 0x%08x", ntohl(hdr[0]));
		return;
	}
	c->idx = ntohl(hdr[1]);
	if (c->idx < 0 || c->idx >= opt.nconns) {
		conn_fail(c, "connection index %d out of range", c->idx);
		return;
	}
	for (i = 0; i < nconns_open; i++) {
		if (&conns[i] != c && conns[i].idx == c->idx) {
			conn_fail(c, "connection index %d seen twice",
				  c->idx);
			return;
		}
	}
	conn_start_streams(c);
}

static void conn_verify(struct conn *c, const __u8 *p, size_t n)
{
	size_t i;

	if (c->rcvd + n > opt.bytes) {
		conn_fail(c, "%llu bytes beyond the %llu expected",
			  (unsigned long long)(c->rcvd + n - opt.bytes),
			  (unsigned long long)opt.bytes);
		return;
	}
	stream_fill(&c->rx, expect, n);
	if (memcmp(p, expect, n)) {
		for (i = 0; i < n && p[i] == expect[i]; i++)
			;
		conn_fail(c, "byte %llu is 0x%02x, expected 0x%02x",
			  (unsigned long long)(c->rcvd + i), p[i],
			  expect[i]);
		return;
	}
	c->rcvd += n;
}

static void conn_recv(struct conn *c)
{
	while (!c->eof && !c->failed) {
		ssize_t n = recv(c->fd, rxbuf, sizeof(rxbuf), MSG_DONTWAIT);
		size_t used = 0;

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			conn_fail(c, "recv after %llu bytes: %s",
				  (unsigned long long)c->rcvd,
				  strerror(errno));
			return;
		}
		if (n == 0) {
			if (c->idx < 0 || c->rcvd < opt.bytes)
				conn_fail(c, "EOF after %llu of %llu bytes",
					  (unsigned long long)c->rcvd,
					  (unsigned long long)opt.bytes);
			c->eof = true;
			return;
		}
		if (c->idx < 0) {
			conn_header(c, rxbuf, n, &used);
			if (c->failed || c->idx < 0)
				continue;
		}
		conn_verify(c, rxbuf + used, n - used);
	}
}

static void conn_finish(struct conn *c)
{
	struct conn_info ci;

	if (conn_info(c->fd, &ci))
		c->retrans = ci.retrans;
	c->t_end = now();
	close(c->fd);
	c->fd = -1;
	c->done = true;
}

static void conn_connected(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
		conn_fail(c, "connect: %s", strerror(err ?: errno));
		return;
	}
	c->connecting = false;
}

static int make_socket(void)
{
	int fd = socket(opt.family, SOCK_STREAM, opt.proto);

	if (fd < 0)
		die("socket(%s, SOCK_STREAM, %d): %s",
		    opt.family == AF_INET6 ? "AF_INET6" : "AF_INET", opt.proto,
		    strerror(errno));
	return fd;
}

/* @addr (NULL: the wildcard) and --port in opt.family's sockaddr. */
static socklen_t sockaddr_of(struct sockaddr_storage *ss, const char *addr)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (opt.family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(opt.port);
		if (addr && inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1)
			die("bad IPv6 address '%s'", addr);
		return sizeof(*sin6);
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons(opt.port);
	if (addr && inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
		die("bad IPv4 address '%s'", addr);
	return sizeof(*sin);
}

static void client_open(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int i;

	len = sockaddr_of(&ss, opt.addr);
	for (i = 0; i < opt.nconns; i++) {
		struct conn *c = &conns[i];

		c->fd = make_socket();
		c->idx = i;
		c->need_hdr = true;
		c->t_start = now();
		set_nonblock(c->fd);
		conn_start_streams(c);
		nconns_open++;
		if (!connect(c->fd, (struct sockaddr *)&ss, len))
			continue;
		if (errno != EINPROGRESS)
			conn_fail(c, "connect: %s", strerror(errno));
		c->connecting = true;
	}
}

static int server_listen(void)
{
	struct sockaddr_storage ss;
	int fd = make_socket(), one = 1;
	socklen_t len;

	len = sockaddr_of(&ss, opt.addr);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die("SO_REUSEADDR: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&ss, len))
		die("bind port %d: %s", opt.port, strerror(errno));
	if (listen(fd, opt.nconns))
		die("listen: %s", strerror(errno));
	set_nonblock(fd);
	if (opt.family == AF_INET6)
		printf("listening on [%s]:%d proto %d\n", opt.addr ?: "::",
		       opt.port, opt.proto);
	else
		printf("listening on %s:%d proto %d\n",
		       opt.addr ?: "0.0.0.0", opt.port, opt.proto);
	fflush(stdout);
	return fd;
}

static void server_accept(int lfd)
{
	while (nconns_open < opt.nconns) {
		int fd = accept(lfd, NULL, NULL);
		struct conn *c;

		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			die("accept: %s", strerror(errno));
		}
		set_nonblock(fd);
		c = &conns[nconns_open++];
		c->fd = fd;
		c->idx = -1;
		c->t_start = now();
	}
}

static void print_progress(void)
{
	int i;

	fprintf(stderr, "xtcp_xfer %s: %.1f s\n",
		opt.server ? "server" : "client", now() - t0);
	for (i = 0; i < nconns_open; i++) {
		struct conn *c = &conns[i];
		struct conn_info ci;

		fprintf(stderr, "  conn %d: sent %llu rcvd %llu%s%s%s",
			c->idx, (unsigned long long)c->sent,
			(unsigned long long)c->rcvd,
			c->wr_shut ? " shut" : "", c->eof ? " eof" : "",
			c->done ? " done" : "");
		if (c->fd < 0 || !conn_info(c->fd, &ci)) {
			fprintf(stderr, " retrans %u\n", c->retrans);
			continue;
		}
		fprintf(stderr,
			" retrans %u cwnd %u rto %u ms backoff %u unacked %u snd_wnd %u rcv_wnd %u",
			ci.retrans, ci.cwnd, ci.rto_us / 1000, ci.backoff,
			ci.unacked, ci.snd_wnd, ci.rcv_wnd);
		if (opt.proto != IPPROTO_TCP)
			fprintf(stderr, " snd_una %u snd_nxt %u rcv_nxt %u",
				ci.snd_una, ci.snd_nxt, ci.rcv_nxt);
		fprintf(stderr, "\n");
	}
}

/* The event loop; returns when every connection is done or at the deadline. */
static void run(int lfd)
{
	struct pollfd pfd[XFER_MAX_CONNS + 1];
	int map[XFER_MAX_CONNS + 1];
	double deadline = t0 + opt.timeout, next_progress = t0 + opt.progress;

	for (;;) {
		int i, n = 0, left = 0, ms;
		double t = now();

		if (opt.progress > 0 && t >= next_progress) {
			print_progress();
			next_progress = t + opt.progress;
		}
		if (lfd >= 0 && nconns_open < opt.nconns) {
			pfd[n].fd = lfd;
			pfd[n].events = POLLIN;
			map[n++] = -1;
			left++;
		}
		for (i = 0; i < nconns_open; i++) {
			struct conn *c = &conns[i];

			if (c->done)
				continue;
			if (c->failed || (c->wr_shut && c->eof)) {
				conn_finish(c);
				continue;
			}
			left++;
			pfd[n].fd = c->fd;
			pfd[n].events = 0;
			if (c->connecting) {
				pfd[n].events = POLLOUT;
			} else {
				if (!c->eof)
					pfd[n].events |= POLLIN;
				if (!c->wr_shut && c->idx >= 0)
					pfd[n].events |= POLLOUT;
			}
			map[n++] = i;
		}
		if (!left)
			return;
		if (t >= deadline) {
			for (i = 0; i < nconns_open; i++)
				if (!conns[i].done)
					conn_fail(&conns[i],
						  "timeout after %.0f s", opt.timeout);
			if (nconns_open < opt.nconns)
				fprintf(stderr,
					"xtcp_xfer: timeout: %d of %d connections accepted\n",
					nconns_open, opt.nconns);
			print_progress();
			for (i = 0; i < nconns_open; i++)
				if (!conns[i].done)
					conn_finish(&conns[i]);
			return;
		}
		ms = (int)((deadline - t) * 1000) + 1;
		if (opt.progress > 0 && ms > opt.progress * 1000)
			ms = opt.progress * 1000;
		if (poll(pfd, n, ms) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		for (i = 0; i < n; i++) {
			struct conn *c;

			if (!pfd[i].revents)
				continue;
			if (map[i] < 0) {
				server_accept(lfd);
				continue;
			}
			c = &conns[map[i]];
			if (c->connecting) {
				conn_connected(c);
				continue;
			}
			if (pfd[i].revents & (POLLIN | POLLERR | POLLHUP))
				conn_recv(c);
			if (!c->failed && !c->wr_shut && c->idx >= 0 &&
			    pfd[i].revents & (POLLOUT | POLLERR))
				conn_send(c);
		}
	}
}

static int report(void)
{
	int i, bad = 0;
	__u64 total_retrans = 0;

	for (i = 0; i < nconns_open; i++) {
		struct conn *c = &conns[i];

		total_retrans += c->retrans;
		if (c->failed)
			bad++;
		printf("conn %d: %s sent %llu received %llu in %.2f s, retrans %u%s%s\n",
		       c->idx, c->failed ? "FAIL" : "ok",
		       (unsigned long long)c->sent,
		       (unsigned long long)c->rcvd, c->t_end - c->t_start,
		       c->retrans, c->failed ? ": " : "", c->why);
	}
	bad += opt.nconns - nconns_open;
	printf("%s proto %d: %d connections x %llu bytes each way, %d failed, retrans %llu, total %.2f s\n",
	       opt.server ? "server" : "client", opt.proto, opt.nconns,
	       (unsigned long long)opt.bytes, bad,
	       (unsigned long long)total_retrans, now() - t0);
	return bad ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: xtcp_xfer --server --port PORT [--bind ADDR] [options]\n"
		"       xtcp_xfer --client ADDR --port PORT [options]\n"
		"options: --proto 6|253 --conns N --bytes M --timeout SEC --progress SEC\n"
		"         --ipv6\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", no_argument, NULL, 's' },
		{ "client", required_argument, NULL, 'c' },
		{ "bind", required_argument, NULL, 'b' },
		{ "port", required_argument, NULL, 'p' },
		{ "proto", required_argument, NULL, 'P' },
		{ "conns", required_argument, NULL, 'n' },
		{ "bytes", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "progress", required_argument, NULL, 'r' },
		{ "ipv6", no_argument, NULL, '6' },
		{ NULL, 0, NULL, 0 },
	};
	bool client = false;
	char *end;
	int ch;

	while ((ch = getopt_long(argc, argv, "6", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			opt.server = true;
			break;
		case 'c':
			client = true;
			opt.addr = optarg;
			break;
		case 'b':
			opt.addr = optarg;
			break;
		case 'p':
			opt.port = atoi(optarg);
			break;
		case 'P':
			opt.proto = atoi(optarg);
			break;
		case 'n':
			opt.nconns = atoi(optarg);
			break;
		case 'm':
			opt.bytes = strtoull(optarg, &end, 0);
			if (*end == 'k' || *end == 'K')
				opt.bytes <<= 10;
			else if (*end == 'M')
				opt.bytes <<= 20;
			break;
		case 't':
			opt.timeout = atof(optarg);
			break;
		case 'r':
			opt.progress = atof(optarg);
			break;
		case '6':
			opt.family = AF_INET6;
			break;
		default:
			usage();
		}
	}
	if (opt.addr && strchr(opt.addr, ':'))
		opt.family = AF_INET6;
	if (optind != argc || opt.server == client || opt.port <= 0 ||
	    opt.port > 65535 || opt.nconns < 1 ||
	    opt.nconns > XFER_MAX_CONNS || opt.timeout <= 0 ||
	    (opt.proto != IPPROTO_TCP && opt.proto != IPPROTO_XTCP &&
	     opt.proto != IPPROTO_XTCP_ALT))
		usage();
}

int main(int argc, char **argv)
{
	int i, lfd = -1;

	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	conns = calloc(opt.nconns, sizeof(*conns));
	if (!conns)
		die("out of memory");
	for (i = 0; i < opt.nconns; i++)
		conns[i].fd = -1;

	t0 = now();
	if (opt.server)
		lfd = server_listen();
	else
		client_open();
	run(lfd);
	if (lfd >= 0)
		close(lfd);
	return report();
}
