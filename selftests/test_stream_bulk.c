// SPDX-License-Identifier: GPL-2.0
/*
 * Big transfers over xtcp and Linux TCP on loopback, the same test for
 * both: 64 MiB each way at once with every byte checked, and a thousand
 * concurrent connections each echoing its own message, after which no
 * connection may be left but TIME_WAIT entries. Each test runs in a
 * network namespace of its own.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

/*
 * -Wclobbered flags the harness's wrapper around each test (its "child"
 * lives across setjmp()); GCC keeps that variable in memory, so the
 * warning is a false positive there.
 */
#pragma GCC diagnostic ignored "-Wclobbered"

#include "kselftest_harness.h"
#include "xtcp_peer.h"
#include "xtcp_test.h"

#define ST_TIME_WAIT 6

/* A listener on 127.0.0.1, any port; the port goes to *port. */
static int listener(int proto, int type, int backlog, unsigned short *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM | type, proto);
	if (fd < 0)
		return -errno;
	sin = xtcp_sin("127.0.0.1", 0);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(fd, backlog) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len)) {
		err = -errno;
		close(fd);
		return err;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Start a connection to 127.0.0.1:@port without waiting for it. */
static int connect_start(int proto, unsigned short port)
{
	struct sockaddr_in sin;
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, proto);
	if (fd < 0)
		return -errno;
	sin = xtcp_sin("127.0.0.1", port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) &&
	    errno != EINPROGRESS) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static long curr_estab(int proto)
{
	return proto == IPPROTO_XTCP ? xtcp_counter("CurrEstab") :
				       xtcp_snmp_tcp("CurrEstab");
}

FIXTURE(bulk) {
	int unused;
};

FIXTURE_VARIANT(bulk) {
	int proto;
};

FIXTURE_VARIANT_ADD(bulk, tcp) {
	.proto = IPPROTO_TCP,
};

FIXTURE_VARIANT_ADD(bulk, xtcp) {
	.proto = IPPROTO_XTCP,
};

FIXTURE_SETUP(bulk)
{
	int fd, err;

	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("new netns: %s", strerror(-err));
	/* Makes sure net.xtcp exists in the namespace for both variants. */
	fd = socket(AF_INET, SOCK_STREAM, IPPROTO_XTCP);
	ASSERT_LE(0, fd) TH_LOG("xtcp socket: %s", strerror(errno));
	close(fd);
}

FIXTURE_TEARDOWN(bulk)
{
}

/*
 * The stream: byte @off is byte (@off % 8) of
 * xtcp_splitmix64(@seed + @off / 8).
 */
static void stream_bytes(__u64 seed, __u64 off, unsigned char *buf,
			 size_t len)
{
	while (len) {
		__u64 w = xtcp_splitmix64(seed + (off >> 3));
		unsigned int skip = off & 7, n = 8 - skip, i;

		if (!skip && len >= 8) {
			/* The same bytes as below on a little-endian CPU;
			 * both ends use this function, so any order works.
			 */
			memcpy(buf, &w, 8);
			buf += 8;
			off += 8;
			len -= 8;
			continue;
		}
		if (n > len)
			n = len;
		w >>= 8 * skip;
		for (i = 0; i < n; i++, w >>= 8)
			buf[i] = w & 0xff;
		buf += n;
		off += n;
		len -= n;
	}
}

#define BULK_BYTES (64ULL << 20)
#define BULK_CHUNK (256 << 10)
/* No progress for this long is a stall. */
#define STALL_MS 10000

/* One direction of the transfer. */
struct flow {
	int wfd;
	int rfd;
	__u64 seed;
	__u64 sent;
	__u64 rcvd;
	__u64 bad_at;	/* offset of the first wrong byte, or ~0 */
	bool shut;
	bool eof;
};

/* Send the next piece of @f's stream; -errno on failure. */
static int flow_send(struct flow *f, unsigned char *buf)
{
	size_t len = BULK_BYTES - f->sent;
	ssize_t n;

	if (len > BULK_CHUNK)
		len = BULK_CHUNK;
	stream_bytes(f->seed, f->sent, buf, len);
	n = send(f->wfd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	f->sent += n;
	if (f->sent == BULK_BYTES && !f->shut) {
		if (shutdown(f->wfd, SHUT_WR))
			return -errno;
		f->shut = true;
	}
	return 0;
}

/* Receive and check what is there; -errno on failure. */
static int flow_recv(struct flow *f, unsigned char *buf, unsigned char *want)
{
	ssize_t n, i;

	n = recv(f->rfd, buf, BULK_CHUNK, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	if (!n) {
		f->eof = true;
		return 0;
	}
	if (f->bad_at == ~0ULL) {
		stream_bytes(f->seed, f->rcvd, want, n);
		if (memcmp(buf, want, n)) {
			for (i = 0; buf[i] == want[i]; i++)
				;
			f->bad_at = f->rcvd + i;
		}
	}
	f->rcvd += n;
	return 0;
}

/*
 * 64 MiB each way at the same time over one connection, every byte of
 * both streams compared with what was sent; the time is only reported.
 */
TEST_F_TIMEOUT(bulk, both_ways_64m, XTCP_TIMEOUT(300))
{
	struct flow up = { .seed = 0x5eed0001ULL << 32, .bad_at = ~0ULL };
	struct flow down = { .seed = 0x5eed0002ULL << 32, .bad_at = ~0ULL };
	unsigned char *sbuf, *rbuf, *want;
	int lfd, cli, srv, err = 0, n;
	unsigned short port;
	long long t0, ms;

	sbuf = malloc(BULK_CHUNK);
	rbuf = malloc(BULK_CHUNK);
	want = malloc(BULK_CHUNK);
	ASSERT_TRUE(sbuf && rbuf && want);

	lfd = listener(variant->proto, 0, 1, &port);
	ASSERT_LE(0, lfd) TH_LOG("listener: %s", strerror(-lfd));
	cli = connect_start(variant->proto, port);
	ASSERT_LE(0, cli) TH_LOG("connect: %s", strerror(-cli));
	srv = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	ASSERT_LE(0, srv) TH_LOG("accept: %s", strerror(errno));
	close(lfd);
	up.wfd = cli;
	up.rfd = srv;
	down.wfd = srv;
	down.rfd = cli;

	t0 = xp_now_ms();
	while (!err && !(up.eof && down.eof)) {
		struct pollfd pfd[2] = {
			{ .fd = cli, .events = (up.shut ? 0 : POLLOUT) |
					       (down.eof ? 0 : POLLIN) },
			{ .fd = srv, .events = (down.shut ? 0 : POLLOUT) |
					       (up.eof ? 0 : POLLIN) },
		};

		n = poll(pfd, 2, STALL_MS);
		if (n <= 0) {
			err = n ? -errno : -ETIMEDOUT;
			break;
		}
		if ((pfd[0].revents | pfd[1].revents) & POLLERR) {
			err = -EIO;
			break;
		}
		if (pfd[0].revents & POLLOUT)
			err = flow_send(&up, sbuf);
		if (!err && pfd[1].revents & POLLOUT)
			err = flow_send(&down, sbuf);
		if (!err && pfd[1].revents & (POLLIN | POLLHUP))
			err = flow_recv(&up, rbuf, want);
		if (!err && pfd[0].revents & (POLLIN | POLLHUP))
			err = flow_recv(&down, rbuf, want);
	}
	ms = xp_now_ms() - t0;

	EXPECT_EQ(0, err) TH_LOG("transfer: %s (up %llu/%llu, down %llu/%llu)",
				 strerror(-err),
				 (unsigned long long)up.sent,
				 (unsigned long long)up.rcvd,
				 (unsigned long long)down.sent,
				 (unsigned long long)down.rcvd);
	EXPECT_EQ(BULK_BYTES, up.rcvd);
	EXPECT_EQ(BULK_BYTES, down.rcvd);
	EXPECT_EQ(~0ULL, up.bad_at);
	EXPECT_EQ(~0ULL, down.bad_at);
	TH_LOG("2 x %llu MiB in %lld ms (%.1f MiB/s each way)",
	       BULK_BYTES >> 20, ms,
	       ms ? (double)(BULK_BYTES >> 20) * 1000 / ms : 0.0);

	close(cli);
	close(srv);
	free(sbuf);
	free(rbuf);
	free(want);
}

#define NCONN 1000
#define ECHO_LEN 100

enum { TAG_LISTENER, TAG_CLIENT, TAG_SERVER };

struct echo_client {
	int fd;
	int got;
	bool sent;
	char msg[ECHO_LEN];
	char buf[ECHO_LEN];
};

struct echo_state {
	int ep;
	int lfd;
	struct echo_client *cli;
	int *srv;		/* accepted sockets, -1 once closed */
	int nsrv;
	int srv_closed;
	int connected;
	int done;
	int errors;
};

static __u64 tag(int kind, int idx)
{
	return (__u64)kind << 32 | (__u32)idx;
}

static void echo_accept(struct echo_state *st)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd;

	while ((fd = accept4(st->lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		if (st->nsrv == NCONN) {
			st->errors++;	/* more than were opened */
			close(fd);
			continue;
		}
		ev.data.u64 = tag(TAG_SERVER, st->nsrv);
		st->srv[st->nsrv++] = fd;
		if (epoll_ctl(st->ep, EPOLL_CTL_ADD, fd, &ev))
			st->errors++;
	}
	if (errno != EAGAIN)
		st->errors++;
}

/* The server echoes what it reads and closes on EOF. */
static void echo_server(struct echo_state *st, int idx)
{
	char buf[512];
	ssize_t n;

	n = recv(st->srv[idx], buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n > 0) {
		if (send(st->srv[idx], buf, n, MSG_DONTWAIT) != n)
			st->errors++;
		return;
	}
	if (n < 0)
		st->errors++;
	close(st->srv[idx]);
	st->srv[idx] = -1;
	st->srv_closed++;
}

static void echo_client(struct echo_state *st, int idx, __u32 events)
{
	struct echo_client *c = &st->cli[idx];
	struct epoll_event ev = {
		.events = EPOLLIN,
		.data.u64 = tag(TAG_CLIENT, idx),
	};
	socklen_t len = sizeof(int);
	int soerr = 0;
	ssize_t n;

	if (!c->sent) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) ||
		    soerr ||
		    send(c->fd, c->msg, ECHO_LEN, MSG_DONTWAIT) != ECHO_LEN ||
		    epoll_ctl(st->ep, EPOLL_CTL_MOD, c->fd, &ev)) {
			st->errors++;
			epoll_ctl(st->ep, EPOLL_CTL_DEL, c->fd, NULL);
			return;
		}
		c->sent = true;
		st->connected++;
		return;
	}
	n = recv(c->fd, c->buf + c->got, ECHO_LEN - c->got, MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		st->errors++;
		epoll_ctl(st->ep, EPOLL_CTL_DEL, c->fd, NULL);
		return;
	}
	c->got += n;
	if (c->got < ECHO_LEN)
		return;
	if (memcmp(c->buf, c->msg, ECHO_LEN))
		st->errors++;
	else
		st->done++;
	epoll_ctl(st->ep, EPOLL_CTL_DEL, c->fd, NULL);
}

/* Handle what epoll has within @ms; false on an epoll error. */
static bool echo_events(struct echo_state *st, int ms)
{
	struct epoll_event evs[256];
	int i, n;

	n = epoll_wait(st->ep, evs, 256, ms);
	if (n < 0)
		return errno == EINTR;
	for (i = 0; i < n; i++) {
		int kind = evs[i].data.u64 >> 32;
		int idx = (__u32)evs[i].data.u64;

		if (kind == TAG_LISTENER)
			echo_accept(st);
		else if (kind == TAG_SERVER)
			echo_server(st, idx);
		else
			echo_client(st, idx, evs[i].events);
	}
	return true;
}

/*
 * A thousand connections at once, each client sending its own message and
 * getting exactly that back from a single-threaded epoll server. Then the
 * clients close, the server closes on EOF, and nothing is left but the
 * clients' TIME_WAIT (which a short MSL clears at once for xtcp).
 */
TEST_F_TIMEOUT(bulk, thousand_echo, XTCP_TIMEOUT(300))
{
	struct rlimit rl = { .rlim_cur = 4096, .rlim_max = 4096 };
	struct epoll_event ev = { .events = EPOLLIN };
	struct echo_state st = { .ep = -1 };
	int i, j, opened = 0, all, tw;
	unsigned short port;
	long long t0, end;
	long estab;

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	ASSERT_EQ(0, xtcp_sysctl_set("msl", 100));
	st.cli = calloc(NCONN, sizeof(*st.cli));
	st.srv = calloc(NCONN, sizeof(*st.srv));
	ASSERT_TRUE(st.cli && st.srv);
	for (i = 0; i < NCONN; i++) {
		st.cli[i].fd = -1;
		snprintf(st.cli[i].msg, ECHO_LEN, "connection %d:", i);
		for (j = strlen(st.cli[i].msg); j < ECHO_LEN; j++)
			st.cli[i].msg[j] = 'a' + (i * 7 + j) % 26;
	}

	st.ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, st.ep);
	st.lfd = listener(variant->proto, SOCK_NONBLOCK, NCONN + 24, &port);
	ASSERT_LE(0, st.lfd) TH_LOG("listener: %s", strerror(-st.lfd));
	ev.data.u64 = tag(TAG_LISTENER, 0);
	ASSERT_EQ(0, epoll_ctl(st.ep, EPOLL_CTL_ADD, st.lfd, &ev));

	/* Open the clients in batches, serving in between. */
	t0 = xp_now_ms();
	end = t0 + 120000;
	while ((opened < NCONN || st.done + st.errors < NCONN) &&
	       xp_now_ms() < end) {
		for (i = 0; i < 50 && opened < NCONN; i++, opened++) {
			struct echo_client *c = &st.cli[opened];

			c->fd = connect_start(variant->proto, port);
			ASSERT_LE(0, c->fd) TH_LOG("connect %d: %s", opened,
						   strerror(-c->fd));
			ev.events = EPOLLOUT;
			ev.data.u64 = tag(TAG_CLIENT, opened);
			ASSERT_EQ(0, epoll_ctl(st.ep, EPOLL_CTL_ADD, c->fd,
					       &ev));
		}
		ASSERT_TRUE(echo_events(&st, opened < NCONN ? 0 : 1000));
	}
	TH_LOG("%d connections echoed in %lld ms", st.done, xp_now_ms() - t0);
	EXPECT_EQ(NCONN, opened);
	EXPECT_EQ(NCONN, st.connected);
	EXPECT_EQ(NCONN, st.nsrv);
	EXPECT_EQ(NCONN, st.done);
	EXPECT_EQ(0, st.errors);
	estab = curr_estab(variant->proto);
	EXPECT_EQ(2 * NCONN, estab);

	/* Clients close first; the server closes on EOF. */
	for (i = 0; i < opened; i++)
		close(st.cli[i].fd);
	end = xp_now_ms() + 60000;
	while (st.srv_closed < st.nsrv && xp_now_ms() < end)
		ASSERT_TRUE(echo_events(&st, 1000));
	EXPECT_EQ(st.nsrv, st.srv_closed);
	close(st.lfd);
	close(st.ep);

	end = xp_now_ms() + 10000;
	while ((estab = curr_estab(variant->proto)) != 0 && xp_now_ms() < end)
		poll(NULL, 0, 10);
	EXPECT_EQ(0, estab);
	/* Only TIME_WAIT left (for xtcp even that goes, with MSL 100 ms). */
	end = xp_now_ms() + 10000;
	do {
		all = xtcp_proc_count(xtcp_proc_path(variant->proto), -1, -1, -1);
		tw = xtcp_proc_count(xtcp_proc_path(variant->proto), -1, -1,
				     ST_TIME_WAIT);
		if (all == tw && (variant->proto == IPPROTO_TCP || !all))
			break;
		poll(NULL, 0, 10);
	} while (xp_now_ms() < end);
	EXPECT_EQ(tw, all);
	if (variant->proto == IPPROTO_XTCP) {
		EXPECT_EQ(0, all);
		EXPECT_EQ(0, xtcp_counter("TimeWait"));
	}
	TH_LOG("left: %d sockets, %d in TIME_WAIT", all, tw);
	free(st.cli);
	free(st.srv);
}

TEST_HARNESS_MAIN
