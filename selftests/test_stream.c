// SPDX-License-Identifier: GPL-2.0
/*
 * The stream socket API of xtcp against Linux TCP on loopback: connection
 * set-up and refusal, half-close, resets, linger, the accept backlog, bind
 * rules, queue ioctls, receive flags, SIGPIPE and buffer auto-tuning.
 * Every test runs once per protocol and family, over 127.0.0.1 and over
 * ::1, with the same expectations (Linux TCP and TCP6 are the oracles),
 * each in a network namespace of its own, with TCP's and xtcp's knobs set
 * alike.
 */

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
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

/* Longest wait for anything that should happen at once on loopback. */
#define WAIT_MS 3000
#define ST_TIME_WAIT 6

/*
 * The address family of the running test, its variant's: the harness runs
 * each test in a child process of its own, and FIXTURE_SETUP sets it.
 */
static int family = AF_INET;

/* A socket of @proto bound to the loopback address:@port; fd or -errno. */
static int bound_socket(int proto, unsigned short port, int reuse)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, err;

	fd = socket(family, SOCK_STREAM, proto);
	if (fd < 0)
		return -errno;
	if (reuse && xtcp_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1))
		goto fail;
	len = xtcp_lo_sa(family, port, &ss);
	if (bind(fd, (struct sockaddr *)&ss, len))
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

/* A listener on the loopback address (port 0: any); its port goes to *port. */
static int listener(int proto, unsigned short *port, int backlog, int reuse)
{
	int fd, err;

	fd = bound_socket(proto, *port, reuse);
	if (fd < 0)
		return fd;
	if (listen(fd, backlog)) {
		err = -errno;
		close(fd);
		return err;
	}
	*port = xtcp_local_port(fd);
	return fd;
}

/* Connect to the loopback address:@port; with SOCK_NONBLOCK in @type,
 * EINPROGRESS counts as success. Returns the socket or -errno.
 */
static int connect_lo(int proto, int type, unsigned short port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, err;

	fd = socket(family, SOCK_STREAM | type, proto);
	if (fd < 0)
		return -errno;
	len = xtcp_lo_sa(family, port, &ss);
	if (connect(fd, (struct sockaddr *)&ss, len) &&
	    !(errno == EINPROGRESS && (type & SOCK_NONBLOCK))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Wait up to @ms for one of @events on @fd; the revents, 0 on timeout. */
static int wait_poll(int fd, short events, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n = poll(&pfd, 1, ms);

	if (n < 0)
		return -errno;
	return n ? pfd.revents : 0;
}

/*
 * Poll @fd for @events until all of @want are reported or @ms pass; the
 * last revents. State changes are not atomic to a lockless poll, so a
 * mask is only compared once the bit that comes last is there.
 */
static int wait_revents(int fd, short events, int want, int ms)
{
	long long end = xp_now_ms() + ms;
	int ev;

	for (;;) {
		int left = end - xp_now_ms();

		ev = wait_poll(fd, events, left > 0 ? left : 0);
		if (ev < 0 || (ev & want) == want || left <= 0)
			return ev;
		poll(NULL, 0, 5);
	}
}

static int accept_wait(int lfd, int ms)
{
	int fd, ev = wait_poll(lfd, POLLIN, ms);

	if (ev <= 0)
		return ev ? ev : -ETIMEDOUT;
	fd = accept(lfd, NULL, NULL);
	return fd < 0 ? -errno : fd;
}

/* Receive exactly @len bytes within @ms; the count received or -errno. */
static ssize_t recv_full(int fd, void *buf, size_t len, int ms)
{
	long long end = xp_now_ms() + ms;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		int left = end - xp_now_ms();

		if (left <= 0 || wait_poll(fd, POLLIN, left) <= 0)
			break;
		n = recv(fd, (char *)buf + got, len - got, MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < 0)
			return got ? (ssize_t)got : -errno;
		if (!n)
			break;
		got += n;
	}
	return got;
}

static int inq(int fd)
{
	int val;

	return ioctl(fd, SIOCINQ, &val) ? -errno : val;
}

static int outq(int fd)
{
	int val;

	return ioctl(fd, SIOCOUTQ, &val) ? -errno : val;
}

/* Poll @fn(@fd) until it returns @want or @ms pass; returns its last value. */
static int wait_value(int (*fn)(int), int fd, int want, int ms)
{
	long long end = xp_now_ms() + ms;
	int val;

	while ((val = fn(fd)) != want && xp_now_ms() < end)
		poll(NULL, 0, 5);
	return val;
}

/*
 * Sockets of @proto with local port @port (0: any) and state @st (-1:
 * any), or -errno.
 */
static int proc_sockets(int proto, unsigned short port, int st)
{
	return xtcp_proc_count(xtcp_proc_path_family(proto, family),
			       port ? port : -1, -1, st);
}

static int wait_proc(int proto, unsigned short port, int st, int want, int ms)
{
	long long end = xp_now_ms() + ms;
	int n;

	while ((n = proc_sockets(proto, port, st)) != want && xp_now_ms() < end)
		poll(NULL, 0, 5);
	return n;
}

struct lo_conn {
	int lfd;
	int cli;
	int srv;
	unsigned short port;	/* the listener's */
};

static void open_conn(struct __test_metadata *_metadata, int proto,
		      struct lo_conn *c)
{
	c->port = 0;
	c->lfd = listener(proto, &c->port, 16, 0);
	ASSERT_LE(0, c->lfd) TH_LOG("listener: %s", strerror(-c->lfd));
	c->cli = connect_lo(proto, 0, c->port);
	ASSERT_LE(0, c->cli) TH_LOG("connect: %s", strerror(-c->cli));
	c->srv = accept_wait(c->lfd, WAIT_MS);
	ASSERT_LE(0, c->srv) TH_LOG("accept: %s", strerror(-c->srv));
}

static void close_conn(struct lo_conn *c)
{
	if (c->cli >= 0)
		close(c->cli);
	if (c->srv >= 0)
		close(c->srv);
	if (c->lfd >= 0)
		close(c->lfd);
	c->cli = -1;
	c->srv = -1;
	c->lfd = -1;
}

FIXTURE(stream) {
	struct lo_conn c;
};

FIXTURE_VARIANT(stream) {
	int proto;
	int family;
};

/*
 * Every test runs over IPv4 (127.0.0.1) and over IPv6 (::1), with Linux
 * TCP and TCP6 as the oracles: nothing here depends on the family.
 */
FIXTURE_VARIANT_ADD(stream, tcp) {
	.proto = IPPROTO_TCP,
	.family = AF_INET,
};

FIXTURE_VARIANT_ADD(stream, xtcp) {
	.proto = IPPROTO_XTCP,
	.family = AF_INET,
};

FIXTURE_VARIANT_ADD(stream, tcp6) {
	.proto = IPPROTO_TCP,
	.family = AF_INET6,
};

FIXTURE_VARIANT_ADD(stream, xtcp6) {
	.proto = IPPROTO_XTCP,
	.family = AF_INET6,
};

FIXTURE_SETUP(stream)
{
	int fd, err;

	self->c.lfd = -1;
	self->c.cli = -1;
	self->c.srv = -1;
	family = variant->family;
	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("new netns: %s", strerror(-err));
	/* Makes sure net.xtcp exists in the namespace for both variants. */
	fd = socket(AF_INET, SOCK_STREAM, IPPROTO_XTCP);
	ASSERT_LE(0, fd) TH_LOG("xtcp socket: %s", strerror(errno));
	close(fd);
	/* The variant's family is what a socket of it reports. */
	fd = bound_socket(variant->proto, 0, 0);
	ASSERT_LE(0, fd) TH_LOG("bind: %s", strerror(-fd));
	err = xtcp_sock_family(fd);
	close(fd);
	ASSERT_EQ(family, err);
	/*
	 * Linux retransmits the first SYNs at a fixed 1 s before backing
	 * off (tcp_syn_linear_timeouts); xtcp backs off from the start as
	 * RFC 6298 says. Make TCP do the same so the two can be compared.
	 */
	ASSERT_EQ(0, xtcp_tcp_syn_linear_timeouts(0));
}

FIXTURE_TEARDOWN(stream)
{
	close_conn(&self->c);
}

#define MSG_LEN 3000L

/* 1. Bytes go both ways unchanged; both ends agree on the addresses. */
TEST_F(stream, echo)
{
	struct sockaddr_storage cl, cp, sl, sp;
	char msg[MSG_LEN], buf[MSG_LEN];
	socklen_t salen;
	socklen_t len;
	size_t i;

	for (i = 0; i < MSG_LEN; i++)
		msg[i] = 'a' + i % 23;
	open_conn(_metadata, variant->proto, &self->c);
	salen = xtcp_lo_sa(family, 0, &cl);

	ASSERT_EQ(MSG_LEN, send(self->c.cli, msg, MSG_LEN, 0));
	ASSERT_EQ(MSG_LEN, recv_full(self->c.srv, buf, MSG_LEN, WAIT_MS));
	EXPECT_EQ(0, memcmp(msg, buf, MSG_LEN));
	ASSERT_EQ(MSG_LEN, send(self->c.srv, buf, MSG_LEN, 0));
	memset(buf, 0, MSG_LEN);
	ASSERT_EQ(MSG_LEN, recv_full(self->c.cli, buf, MSG_LEN, WAIT_MS));
	EXPECT_EQ(0, memcmp(msg, buf, MSG_LEN));

	len = sizeof(cl);
	ASSERT_EQ(0, getsockname(self->c.cli, (struct sockaddr *)&cl, &len));
	EXPECT_EQ(salen, len);
	len = sizeof(cp);
	ASSERT_EQ(0, getpeername(self->c.cli, (struct sockaddr *)&cp, &len));
	EXPECT_EQ(salen, len);
	len = sizeof(sl);
	ASSERT_EQ(0, getsockname(self->c.srv, (struct sockaddr *)&sl, &len));
	EXPECT_EQ(salen, len);
	len = sizeof(sp);
	ASSERT_EQ(0, getpeername(self->c.srv, (struct sockaddr *)&sp, &len));
	EXPECT_EQ(salen, len);

	EXPECT_EQ(family, cl.ss_family);
	EXPECT_EQ(family, cp.ss_family);
	EXPECT_EQ(family, sl.ss_family);
	EXPECT_EQ(family, sp.ss_family);
	EXPECT_TRUE(xtcp_sa_is_lo(&cl));
	EXPECT_TRUE(xtcp_sa_is_lo(&cp));
	EXPECT_TRUE(xtcp_sa_is_lo(&sl));
	EXPECT_TRUE(xtcp_sa_is_lo(&sp));
	EXPECT_NE(0, xtcp_sa_port(&cl));
	EXPECT_EQ(self->c.port, xtcp_sa_port(&sl));
	EXPECT_EQ(self->c.port, xtcp_sa_port(&cp));
	EXPECT_EQ(xtcp_sa_port(&cl), xtcp_sa_port(&sp));
}

/* A port bound but not listening: nothing answers it but a RST. */
static int closed_port(struct __test_metadata *_metadata, int proto,
		       unsigned short *port)
{
	int fd = bound_socket(proto, 0, 0);

	EXPECT_LE(0, fd) TH_LOG("bind: %s", strerror(-fd));
	*port = fd >= 0 ? xtcp_local_port(fd) : 0;
	return fd;
}

/* 2a. connect() to a port without a listener is refused. */
TEST_F(stream, refused_blocking)
{
	unsigned short port;
	int holder, fd;

	holder = closed_port(_metadata, variant->proto, &port);
	ASSERT_LE(0, holder);
	fd = connect_lo(variant->proto, 0, port);
	EXPECT_EQ(-ECONNREFUSED, fd);
	if (fd >= 0)
		close(fd);
	close(holder);
}

/* 2b. The same without blocking: EINPROGRESS, then the error by poll. */
TEST_F(stream, refused_nonblocking)
{
	struct sockaddr_storage ss;
	unsigned short port;
	int holder, fd, ev;
	socklen_t len;

	holder = closed_port(_metadata, variant->proto, &port);
	ASSERT_LE(0, holder);
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, variant->proto);
	ASSERT_LE(0, fd);
	len = xtcp_lo_sa(family, port, &ss);
	EXPECT_EQ(-1, connect(fd, (struct sockaddr *)&ss, len));
	EXPECT_EQ(EINPROGRESS, errno);

	ev = wait_revents(fd, POLLIN | POLLOUT | POLLRDHUP,
			  POLLIN | POLLRDHUP | POLLERR | POLLHUP, WAIT_MS);
	EXPECT_EQ(POLLIN | POLLOUT | POLLRDHUP | POLLERR | POLLHUP, ev)
		TH_LOG("revents %#x", ev);
	EXPECT_EQ(ECONNREFUSED, xtcp_get_int(fd, SOL_SOCKET, SO_ERROR));
	EXPECT_EQ(0, xtcp_get_int(fd, SOL_SOCKET, SO_ERROR));
	close(fd);
	close(holder);
}

/*
 * 3. A listener whose socket filter drops every segment is a black hole
 * on loopback: no SYN-ACK, no RST. With one SYN retry and the initial
 * RTO of 1 s, connect() gives up after 1 + 2 s with ETIMEDOUT, having
 * retransmitted its SYN exactly once.
 */
TEST_F(stream, black_hole)
{
	struct sock_filter drop_all[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct sock_fprog prog = { .len = 1, .filter = drop_all };
	unsigned short port = 0;
	long retrans;
	long long t0, elapsed;
	int fd;

	ASSERT_EQ(0, xtcp_write_long("/proc/sys/net/ipv4/tcp_syn_retries", 1));
	ASSERT_EQ(0, xtcp_sysctl_set("syn_retries", 1));
	self->c.lfd = listener(variant->proto, &port, 16, 0);
	ASSERT_LE(0, self->c.lfd);
	ASSERT_EQ(0, setsockopt(self->c.lfd, SOL_SOCKET, SO_ATTACH_FILTER,
				&prog, sizeof(prog)));

	retrans = xtcp_proto_counter(variant->proto, "RetransSegs");
	ASSERT_LE(0, retrans);
	t0 = xp_now_ms();
	fd = connect_lo(variant->proto, 0, port);
	elapsed = xp_now_ms() - t0;
	EXPECT_EQ(-ETIMEDOUT, fd);
	EXPECT_LE(2500, elapsed);
	EXPECT_GE(10000, elapsed);
	EXPECT_EQ(retrans + 1, xtcp_proto_counter(variant->proto, "RetransSegs"));
	EXPECT_EQ(0, wait_poll(self->c.lfd, POLLIN, 0));
	TH_LOG("connect failed after %lld ms", elapsed);
	if (fd >= 0)
		close(fd);
}

/* Wait until epoll reports one of @want on @fd; the last events seen. */
static int epoll_wait_for(int fd, int want, int ms)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP,
	};
	long long end = xp_now_ms() + ms;
	int ep, n, seen = 0;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return 0;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
		close(ep);
		return 0;
	}
	do {
		n = epoll_wait(ep, &ev, 1, 0);
		seen = n == 1 ? ev.events : 0;
		if (!want || (seen & want))
			break;
		poll(NULL, 0, 5);
	} while (xp_now_ms() < end);
	close(ep);
	return seen;
}

/*
 * 4. @a shuts down its sending side first, then @b. In between, @b has
 * read EOF but can still send; EPOLLRDHUP shows on the side that got a
 * FIN, EPOLLHUP only once both directions are closed.
 */
static void half_close(struct __test_metadata *_metadata, int a, int b)
{
	static const char msg[] = "after the first FIN";
	char buf[64];
	int ev;

	ASSERT_EQ(0, shutdown(a, SHUT_WR));
	ev = epoll_wait_for(b, EPOLLRDHUP, WAIT_MS);
	EXPECT_TRUE(ev & EPOLLRDHUP) TH_LOG("events %#x", ev);
	EXPECT_TRUE(ev & EPOLLIN) TH_LOG("events %#x", ev);
	EXPECT_TRUE(ev & EPOLLOUT) TH_LOG("events %#x", ev);
	EXPECT_FALSE(ev & EPOLLHUP) TH_LOG("events %#x", ev);
	EXPECT_EQ(0, recv(b, buf, sizeof(buf), MSG_DONTWAIT));

	ev = epoll_wait_for(a, 0, 0);
	EXPECT_EQ(EPOLLOUT, ev) TH_LOG("events %#x", ev);
	EXPECT_EQ(-1, send(a, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);

	ASSERT_EQ((ssize_t)sizeof(msg), send(b, msg, sizeof(msg), 0));
	ASSERT_EQ((ssize_t)sizeof(msg), recv_full(a, buf, sizeof(msg),
						  WAIT_MS));
	EXPECT_EQ(0, memcmp(msg, buf, sizeof(msg)));
	ev = epoll_wait_for(a, 0, 0);
	EXPECT_EQ(EPOLLOUT, ev) TH_LOG("events %#x", ev);

	ASSERT_EQ(0, shutdown(b, SHUT_WR));
	ev = epoll_wait_for(a, EPOLLHUP, WAIT_MS);
	EXPECT_EQ(EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP, ev)
		TH_LOG("events %#x", ev);
	EXPECT_EQ(0, recv(a, buf, sizeof(buf), MSG_DONTWAIT));
	ev = epoll_wait_for(b, EPOLLHUP, WAIT_MS);
	EXPECT_EQ(EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP, ev)
		TH_LOG("events %#x", ev);
	EXPECT_EQ(0, recv(b, buf, sizeof(buf), MSG_DONTWAIT));
}

TEST_F(stream, half_close_client_first)
{
	open_conn(_metadata, variant->proto, &self->c);
	half_close(_metadata, self->c.cli, self->c.srv);
}

TEST_F(stream, half_close_server_first)
{
	open_conn(_metadata, variant->proto, &self->c);
	half_close(_metadata, self->c.srv, self->c.cli);
}

/* The server gets unread bytes and closes: that close sends a RST. */
static void close_with_unread(struct __test_metadata *_metadata,
			      struct lo_conn *c)
{
	int ev;

	ASSERT_EQ(6, send(c->cli, "unread", 6, 0));
	ASSERT_EQ(6, wait_value(inq, c->srv, 6, WAIT_MS));
	ASSERT_EQ(0, close(c->srv));
	c->srv = -1;
	ev = wait_revents(c->cli, POLLIN, POLLIN | POLLERR | POLLHUP, WAIT_MS);
	EXPECT_EQ(POLLIN | POLLERR | POLLHUP, ev) TH_LOG("revents %#x", ev);
}

/* 5a. After the RST: recv() fails once, then reads EOF; send() EPIPE. */
TEST_F(stream, close_unread_recv)
{
	char buf[16];

	open_conn(_metadata, variant->proto, &self->c);
	close_with_unread(_metadata, &self->c);
	EXPECT_EQ(-1, recv(self->c.cli, buf, sizeof(buf), 0));
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_EQ(0, recv(self->c.cli, buf, sizeof(buf), 0));
	EXPECT_EQ(-1, send(self->c.cli, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(0, xtcp_get_int(self->c.cli, SOL_SOCKET, SO_ERROR));
}

/* 5b. The same when the first call after the RST is a send(). */
TEST_F(stream, close_unread_send)
{
	char buf[16];

	open_conn(_metadata, variant->proto, &self->c);
	close_with_unread(_metadata, &self->c);
	EXPECT_EQ(-1, send(self->c.cli, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_EQ(-1, send(self->c.cli, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(0, recv(self->c.cli, buf, sizeof(buf), 0));
}

/*
 * 6. SO_LINGER {1, 0}: close() aborts with a RST and leaves no TIME_WAIT,
 * where a normal active close from the same side leaves one.
 */
TEST_F(stream, linger_zero)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	unsigned short port;
	char buf[16];
	int cport, ev;

	open_conn(_metadata, variant->proto, &self->c);
	port = self->c.port;

	/* Control: the orderly close puts the client port in TIME_WAIT. */
	cport = xtcp_local_port(self->c.cli);
	ASSERT_LT(0, cport);
	ASSERT_EQ(0, close(self->c.cli));
	self->c.cli = -1;
	EXPECT_EQ(0, recv_full(self->c.srv, buf, sizeof(buf), WAIT_MS));
	close(self->c.srv);
	self->c.srv = -1;
	EXPECT_EQ(1, wait_proc(variant->proto, cport, ST_TIME_WAIT, 1,
			       WAIT_MS));

	self->c.cli = connect_lo(variant->proto, 0, port);
	ASSERT_LE(0, self->c.cli);
	self->c.srv = accept_wait(self->c.lfd, WAIT_MS);
	ASSERT_LE(0, self->c.srv);
	cport = xtcp_local_port(self->c.cli);
	ASSERT_LT(0, cport);
	ASSERT_EQ(0, setsockopt(self->c.cli, SOL_SOCKET, SO_LINGER, &lg,
				sizeof(lg)));
	ASSERT_EQ(0, close(self->c.cli));
	self->c.cli = -1;

	ev = wait_revents(self->c.srv, POLLIN, POLLIN | POLLERR | POLLHUP,
			  WAIT_MS);
	EXPECT_EQ(POLLIN | POLLERR | POLLHUP, ev) TH_LOG("revents %#x", ev);
	EXPECT_EQ(-1, recv(self->c.srv, buf, sizeof(buf), 0));
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_EQ(0, proc_sockets(variant->proto, cport, ST_TIME_WAIT));
	EXPECT_EQ(0, proc_sockets(variant->proto, cport, -1));
}

/* 7. Non-blocking connect to a listener: EINPROGRESS, POLLOUT, data. */
TEST_F(stream, nonblocking_connect)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[8];
	int fd, ev;

	self->c.port = 0;
	self->c.lfd = listener(variant->proto, &self->c.port, 16, 0);
	ASSERT_LE(0, self->c.lfd);
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, variant->proto);
	ASSERT_LE(0, fd);
	self->c.cli = fd;
	len = xtcp_lo_sa(family, self->c.port, &ss);
	EXPECT_EQ(-1, connect(fd, (struct sockaddr *)&ss, len));
	EXPECT_EQ(EINPROGRESS, errno);

	ev = wait_poll(fd, POLLIN | POLLOUT, WAIT_MS);
	EXPECT_EQ(POLLOUT, ev) TH_LOG("revents %#x", ev);
	EXPECT_EQ(0, xtcp_get_int(fd, SOL_SOCKET, SO_ERROR));
	/* The classic check for completion, then the socket is connected. */
	EXPECT_EQ(0, connect(fd, (struct sockaddr *)&ss, len));
	EXPECT_EQ(-1, connect(fd, (struct sockaddr *)&ss, len));
	EXPECT_EQ(EISCONN, errno);

	self->c.srv = accept_wait(self->c.lfd, WAIT_MS);
	ASSERT_LE(0, self->c.srv);
	ASSERT_EQ(4, send(fd, "ping", 4, 0));
	ASSERT_EQ(4, recv_full(self->c.srv, buf, 4, WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, "ping", 4));
	ASSERT_EQ(4, send(self->c.srv, "pong", 4, 0));
	ASSERT_EQ(4, recv_full(fd, buf, 4, WAIT_MS));
	EXPECT_EQ(0, memcmp(buf, "pong", 4));
}

/*
 * 8. listen(fd, 1) and more connections than that: the accept queue
 * holds backlog + 1 established connections, further SYNs are dropped
 * (ListenDrops) and retransmitted, and once accept() drains the queue
 * every connection gets through.
 */
#define BACKLOG 1
#define BACKLOG_CONNS 4
/* Well below the initial RTO of 1 s: a connection not established by
 * then had its SYN dropped.
 */
#define ESTAB_MS 300

TEST_F_TIMEOUT(stream, accept_backlog, XTCP_TIMEOUT(60))
{
	int cli[BACKLOG_CONNS], srv[BACKLOG_CONNS];
	int cport[BACKLOG_CONNS], sport[BACKLOG_CONNS];
	int i, j, ev, established = 0, accepted = 0;
	struct sockaddr_storage ss;
	long drops0, drops;
	long long end;
	socklen_t len;
	char c;

	self->c.port = 0;
	self->c.lfd = listener(variant->proto, &self->c.port, BACKLOG, 0);
	ASSERT_LE(0, self->c.lfd);
	drops0 = xtcp_proto_counter(variant->proto, "ListenDrops");
	ASSERT_LE(0, drops0);

	for (i = 0; i < BACKLOG_CONNS; i++) {
		cli[i] = connect_lo(variant->proto, SOCK_NONBLOCK,
				    self->c.port);
		ASSERT_LE(0, cli[i]) TH_LOG("connect %d: %s", i,
					    strerror(-cli[i]));
		cport[i] = xtcp_local_port(cli[i]);
		ev = wait_poll(cli[i], POLLOUT, ESTAB_MS);
		if (ev & POLLOUT)
			established++;
		EXPECT_FALSE(ev & (POLLERR | POLLHUP)) TH_LOG("revents %#x",
							      ev);
	}
	EXPECT_EQ(BACKLOG + 1, established);
	drops = xtcp_proto_counter(variant->proto, "ListenDrops");
	EXPECT_LE(drops0 + BACKLOG_CONNS - BACKLOG - 1, drops);

	/* Drain: the dropped ones get in with their SYN retransmissions. */
	end = xp_now_ms() + 15000;
	while (accepted < BACKLOG_CONNS && xp_now_ms() < end) {
		int fd = accept_wait(self->c.lfd, 100);

		if (fd == -ETIMEDOUT)
			continue;
		ASSERT_LE(0, fd) TH_LOG("accept: %s", strerror(-fd));
		len = sizeof(ss);
		ASSERT_EQ(0, getpeername(fd, (struct sockaddr *)&ss, &len));
		srv[accepted] = fd;
		sport[accepted++] = xtcp_sa_port(&ss);
	}
	ASSERT_EQ(BACKLOG_CONNS, accepted);

	/* Each client is connected to exactly one accepted socket. */
	for (i = 0; i < BACKLOG_CONNS; i++) {
		for (j = 0; j < BACKLOG_CONNS; j++)
			if (sport[j] == cport[i])
				break;
		ASSERT_GT(BACKLOG_CONNS, j) TH_LOG("client %d lost", i);
		EXPECT_EQ(POLLOUT, wait_poll(cli[i], POLLOUT, WAIT_MS));
		EXPECT_EQ(0, xtcp_get_int(cli[i], SOL_SOCKET, SO_ERROR));
		c = 'A' + i;
		EXPECT_EQ(1, send(cli[i], &c, 1, 0));
		c = 0;
		EXPECT_EQ(1, recv_full(srv[j], &c, 1, WAIT_MS));
		EXPECT_EQ('A' + i, c);
	}
	for (i = 0; i < BACKLOG_CONNS; i++) {
		close(cli[i]);
		close(srv[i]);
	}
}

/* 9a. A second bind() to the same address and port. */
TEST_F(stream, bind_in_use)
{
	unsigned short port;
	int a, b;

	a = bound_socket(variant->proto, 0, 0);
	ASSERT_LE(0, a);
	port = xtcp_local_port(a);
	b = bound_socket(variant->proto, port, 0);
	EXPECT_EQ(-EADDRINUSE, b);
	/* One SO_REUSEADDR is not enough. */
	b = bound_socket(variant->proto, port, 1);
	EXPECT_EQ(-EADDRINUSE, b);
	if (b >= 0)
		close(b);
	close(a);
}

/*
 * 9b. SO_REUSEADDR on both and nobody listening: allowed. Then only one
 * of them may listen, and with a listener on the port a new bind fails
 * even with SO_REUSEADDR.
 */
TEST_F(stream, bind_reuseaddr)
{
	unsigned short port;
	int a, b, c;

	a = bound_socket(variant->proto, 0, 1);
	ASSERT_LE(0, a);
	port = xtcp_local_port(a);
	b = bound_socket(variant->proto, port, 1);
	ASSERT_LE(0, b) TH_LOG("bind: %s", strerror(-b));
	EXPECT_EQ(port, xtcp_local_port(b));

	EXPECT_EQ(0, listen(a, 4));
	EXPECT_EQ(-1, listen(b, 4));
	EXPECT_EQ(EADDRINUSE, errno);
	c = bound_socket(variant->proto, port, 1);
	EXPECT_EQ(-EADDRINUSE, c);
	if (c >= 0)
		close(c);
	close(b);
	close(a);
}

/*
 * 9c. The server closes first, so the TIME_WAIT holds the listener's
 * port. With the listener gone, a new bind() needs SO_REUSEADDR (the old
 * listener had it too); with it the server can listen again.
 */
TEST_F(stream, bind_time_wait)
{
	unsigned short port = 0;
	char buf[8];
	int a, b;

	self->c.lfd = listener(variant->proto, &port, 4, 1);
	ASSERT_LE(0, self->c.lfd);
	self->c.port = port;
	self->c.cli = connect_lo(variant->proto, 0, port);
	ASSERT_LE(0, self->c.cli);
	self->c.srv = accept_wait(self->c.lfd, WAIT_MS);
	ASSERT_LE(0, self->c.srv);

	close(self->c.srv);
	self->c.srv = -1;
	EXPECT_EQ(0, recv_full(self->c.cli, buf, sizeof(buf), WAIT_MS));
	close(self->c.cli);
	self->c.cli = -1;
	ASSERT_EQ(1, wait_proc(variant->proto, port, ST_TIME_WAIT, 1,
			       WAIT_MS));
	close(self->c.lfd);
	self->c.lfd = -1;

	a = bound_socket(variant->proto, port, 0);
	EXPECT_EQ(-EADDRINUSE, a);
	if (a >= 0)
		close(a);
	b = bound_socket(variant->proto, port, 1);
	ASSERT_LE(0, b) TH_LOG("bind: %s", strerror(-b));
	EXPECT_EQ(0, listen(b, 4));
	self->c.lfd = b;

	/* And it serves. */
	self->c.cli = connect_lo(variant->proto, 0, port);
	ASSERT_LE(0, self->c.cli);
	self->c.srv = accept_wait(self->c.lfd, WAIT_MS);
	ASSERT_LE(0, self->c.srv);
	EXPECT_EQ(1, proc_sockets(variant->proto, port, ST_TIME_WAIT));
}

/*
 * 9d. bind() to an address of no interface here (documentation
 * addresses: RFC 5737, RFC 3849).
 */
TEST_F(stream, bind_nonlocal)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	fd = socket(family, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, fd);
	len = xtcp_sa(family, family == AF_INET6 ? "2001:db8::1" : "192.0.2.1",
		      0, &ss);
	ASSERT_LT(0U, len);
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&ss, len));
	EXPECT_EQ(EADDRNOTAVAIL, errno);
	close(fd);
}

/* 9e. bind() twice on one socket. */
TEST_F(stream, bind_twice)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, port;

	fd = bound_socket(variant->proto, 0, 0);
	ASSERT_LE(0, fd);
	port = xtcp_local_port(fd);
	len = xtcp_lo_sa(family, 0, &ss);
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&ss, len));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(port, xtcp_local_port(fd));
	close(fd);
}

/* 10a. SIOCINQ (FIONREAD): unread bytes, the FIN not counted. */
TEST_F(stream, siocinq)
{
	char buf[1000];

	memset(buf, 'q', sizeof(buf));
	open_conn(_metadata, variant->proto, &self->c);
	EXPECT_EQ(0, inq(self->c.srv));
	EXPECT_EQ(-EINVAL, inq(self->c.lfd));
	ASSERT_EQ(1000, send(self->c.cli, buf, 1000, 0));
	EXPECT_EQ(1000, wait_value(inq, self->c.srv, 1000, WAIT_MS));
	ASSERT_EQ(300, recv(self->c.srv, buf, 300, 0));
	EXPECT_EQ(700, inq(self->c.srv));
	ASSERT_EQ(0, shutdown(self->c.cli, SHUT_WR));
	ASSERT_EQ(EPOLLRDHUP, epoll_wait_for(self->c.srv, EPOLLRDHUP, WAIT_MS) &
			      EPOLLRDHUP);
	EXPECT_EQ(700, inq(self->c.srv));
	ASSERT_EQ(700, recv_full(self->c.srv, buf, sizeof(buf), WAIT_MS));
	EXPECT_EQ(0, inq(self->c.srv));
}

/*
 * 10b. SIOCOUTQ counts bytes not yet acknowledged: with a stalled reader
 * every byte written is either in the sender's queue or in the reader's,
 * and once the reader takes everything the queue empties.
 */
TEST_F(stream, siocoutq)
{
	char buf[4096], sink[65536];
	struct sockaddr_storage ss;
	socklen_t len;
	int sent = 0, got = 0, q, r;
	long long end;
	ssize_t n;

	memset(buf, 'o', sizeof(buf));
	self->c.lfd = bound_socket(variant->proto, 0, 0);
	ASSERT_LE(0, self->c.lfd);
	ASSERT_EQ(0, xtcp_set_int(self->c.lfd, SOL_SOCKET, SO_RCVBUF, 8192));
	ASSERT_EQ(0, listen(self->c.lfd, 4));
	self->c.port = xtcp_local_port(self->c.lfd);
	self->c.cli = socket(family, SOCK_STREAM | SOCK_NONBLOCK,
			     variant->proto);
	ASSERT_LE(0, self->c.cli);
	ASSERT_EQ(0, xtcp_set_int(self->c.cli, SOL_SOCKET, SO_SNDBUF, 16384));
	len = xtcp_lo_sa(family, self->c.port, &ss);
	ASSERT_EQ(-1, connect(self->c.cli, (struct sockaddr *)&ss, len));
	ASSERT_EQ(EINPROGRESS, errno);
	self->c.srv = accept_wait(self->c.lfd, WAIT_MS);
	ASSERT_LE(0, self->c.srv);
	ASSERT_EQ(POLLOUT, wait_poll(self->c.cli, POLLOUT, WAIT_MS));
	EXPECT_EQ(0, outq(self->c.cli));

	/* Write until the socket stays full. */
	end = xp_now_ms() + 10000;
	while (xp_now_ms() < end) {
		n = send(self->c.cli, buf, sizeof(buf), 0);
		if (n > 0) {
			sent += n;
			continue;
		}
		ASSERT_EQ(EAGAIN, errno);
		if (!wait_poll(self->c.cli, POLLOUT, 500))
			break;
	}
	ASSERT_LT(0, sent);
	end = xp_now_ms() + WAIT_MS;
	while ((q = outq(self->c.cli)) + (r = inq(self->c.srv)) != sent &&
	       xp_now_ms() < end)
		poll(NULL, 0, 5);
	EXPECT_EQ(sent, q + r);
	EXPECT_LT(0, q);
	EXPECT_LT(0, r);
	TH_LOG("stalled: %d bytes sent, %d in the sender's queue", sent, q);

	while (got < sent) {
		n = recv_full(self->c.srv, sink, sent - got < (int)sizeof(sink) ?
			      sent - got : (int)sizeof(sink), WAIT_MS);
		ASSERT_LT(0, n);
		got += n;
	}
	EXPECT_EQ(0, wait_value(outq, self->c.cli, 0, WAIT_MS));
	EXPECT_EQ(0, inq(self->c.srv));
}

/* 11a. MSG_PEEK leaves the data in place. */
TEST_F(stream, msg_peek)
{
	char buf[32];

	open_conn(_metadata, variant->proto, &self->c);
	ASSERT_EQ(10, send(self->c.cli, "0123456789", 10, 0));
	ASSERT_EQ(10, wait_value(inq, self->c.srv, 10, WAIT_MS));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(4, recv(self->c.srv, buf, 4, MSG_PEEK));
	EXPECT_EQ(0, memcmp(buf, "0123", 4));
	EXPECT_EQ(10, recv(self->c.srv, buf, sizeof(buf), MSG_PEEK));
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
	EXPECT_EQ(10, inq(self->c.srv));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(6, recv(self->c.srv, buf, 6, 0));
	EXPECT_EQ(0, memcmp(buf, "012345", 6));
	EXPECT_EQ(4, recv(self->c.srv, buf, sizeof(buf), MSG_PEEK));
	EXPECT_EQ(0, memcmp(buf, "6789", 4));
	EXPECT_EQ(4, recv(self->c.srv, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "6789", 4));
	EXPECT_EQ(0, inq(self->c.srv));
}

/* 11b. MSG_DONTWAIT on an empty queue; SO_RCVTIMEO bounds a blocking
 * recv().
 */
TEST_F(stream, recv_dontwait_rcvtimeo)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	long long t0, elapsed;
	char buf[8];

	open_conn(_metadata, variant->proto, &self->c);
	EXPECT_EQ(-1, recv(self->c.srv, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);

	ASSERT_EQ(0, setsockopt(self->c.srv, SOL_SOCKET, SO_RCVTIMEO, &tv,
				sizeof(tv)));
	t0 = xp_now_ms();
	EXPECT_EQ(-1, recv(self->c.srv, buf, sizeof(buf), 0));
	EXPECT_EQ(EAGAIN, errno);
	elapsed = xp_now_ms() - t0;
	EXPECT_LE(190, elapsed);
	EXPECT_GE(5000, elapsed);
	/* Data that is there comes at once. */
	ASSERT_EQ(2, send(self->c.cli, "hi", 2, 0));
	ASSERT_EQ(2, wait_value(inq, self->c.srv, 2, WAIT_MS));
	EXPECT_EQ(2, recv(self->c.srv, buf, sizeof(buf), 0));
}

struct delayed_send {
	pthread_t thread;
	pid_t tid;		/* the thread that will block in recv() */
	int fd;
	const char *data;
	size_t len;
	int err;
};

/* The state letter of thread @tid, or 0. */
static char thread_state(pid_t tid)
{
	char path[64], buf[256], *p;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	if (xtcp_read_file(path, buf, sizeof(buf)))
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* Send once the receiving thread sleeps, i.e. is blocked in recv(). */
static void *delayed_send_fn(void *arg)
{
	struct delayed_send *ds = arg;
	long long end = xp_now_ms() + WAIT_MS;

	while (thread_state(ds->tid) != 'S' && xp_now_ms() < end)
		poll(NULL, 0, 5);
	/* Let it sleep a little longer, so a short read would be seen. */
	poll(NULL, 0, 50);
	if (send(ds->fd, ds->data, ds->len, 0) != (ssize_t)ds->len)
		ds->err = errno ?: EIO;
	return NULL;
}

/*
 * 11c. MSG_WAITALL waits for the whole length: half the bytes are there
 * when recv() starts, the rest comes while it sleeps. Without the flag
 * the same recv() returns what is there.
 */
TEST_F(stream, msg_waitall)
{
	struct delayed_send ds = { .data = "56789", .len = 5 };
	char buf[16];

	open_conn(_metadata, variant->proto, &self->c);
	ds.fd = self->c.cli;
	ds.tid = gettid();

	ASSERT_EQ(5, send(self->c.cli, "01234", 5, 0));
	ASSERT_EQ(5, wait_value(inq, self->c.srv, 5, WAIT_MS));
	ASSERT_EQ(0, pthread_create(&ds.thread, NULL, delayed_send_fn, &ds));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(10, recv(self->c.srv, buf, 10, MSG_WAITALL));
	ASSERT_EQ(0, pthread_join(ds.thread, NULL));
	EXPECT_EQ(0, ds.err);
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));

	/* Without the flag, recv() returns what is there. */
	ASSERT_EQ(2, send(self->c.cli, "ab", 2, 0));
	ASSERT_EQ(2, wait_value(inq, self->c.srv, 2, WAIT_MS));
	EXPECT_EQ(2, recv(self->c.srv, buf, 10, 0));
	EXPECT_EQ(0, memcmp(buf, "ab", 2));
}

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	sigpipes++;
}

static void catch_sigpipe(struct __test_metadata *_metadata)
{
	struct sigaction sa = { .sa_handler = on_sigpipe };

	sigpipes = 0;
	ASSERT_EQ(0, sigaction(SIGPIPE, &sa, NULL));
}

/* 12a. After our own shutdown(SHUT_WR): EPIPE, SIGPIPE unless told not. */
TEST_F(stream, epipe_after_shutdown)
{
	open_conn(_metadata, variant->proto, &self->c);
	catch_sigpipe(_metadata);
	ASSERT_EQ(0, shutdown(self->c.cli, SHUT_WR));
	EXPECT_EQ(-1, send(self->c.cli, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(0, sigpipes);
	EXPECT_EQ(-1, send(self->c.cli, "x", 1, 0));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(1, sigpipes);
	EXPECT_EQ(-1, write(self->c.cli, "x", 1));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(2, sigpipes);
}

/*
 * 12b. After the peer's RST: the first send() reports the reset without
 * a signal, later ones EPIPE, with SIGPIPE unless MSG_NOSIGNAL.
 */
TEST_F(stream, epipe_after_reset)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int ev;

	open_conn(_metadata, variant->proto, &self->c);
	catch_sigpipe(_metadata);
	ASSERT_EQ(0, setsockopt(self->c.srv, SOL_SOCKET, SO_LINGER, &lg,
				sizeof(lg)));
	ASSERT_EQ(0, close(self->c.srv));
	self->c.srv = -1;
	ev = wait_revents(self->c.cli, POLLIN, POLLIN | POLLERR | POLLHUP,
			  WAIT_MS);
	EXPECT_EQ(POLLIN | POLLERR | POLLHUP, ev) TH_LOG("revents %#x", ev);

	EXPECT_EQ(-1, send(self->c.cli, "x", 1, 0));
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_EQ(0, sigpipes);
	EXPECT_EQ(-1, send(self->c.cli, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(0, sigpipes);
	EXPECT_EQ(-1, send(self->c.cli, "x", 1, 0));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(1, sigpipes);
}

/*
 * 13. Buffer sizes. Both protocols get the same starting sizes and
 * ceilings (tcp_rmem/tcp_wmem, net.xtcp.{r,w}mem_{default,max}).
 */
#define BUF_RMEM_DEF 65536
#define BUF_RMEM_MAX 2097152
#define BUF_WMEM_DEF 16384
#define BUF_WMEM_MAX 1048576
#define BULK_LEN (16L << 20)

static void set_buffer_knobs(struct __test_metadata *_metadata)
{
	char val[64];

	snprintf(val, sizeof(val), "4096 %d %d\n", BUF_RMEM_DEF, BUF_RMEM_MAX);
	ASSERT_EQ(0, xtcp_write_file("/proc/sys/net/ipv4/tcp_rmem", val));
	snprintf(val, sizeof(val), "4096 %d %d\n", BUF_WMEM_DEF, BUF_WMEM_MAX);
	ASSERT_EQ(0, xtcp_write_file("/proc/sys/net/ipv4/tcp_wmem", val));
	ASSERT_EQ(0, xtcp_sysctl_set("rmem_default", BUF_RMEM_DEF));
	ASSERT_EQ(0, xtcp_sysctl_set("rmem_max", BUF_RMEM_MAX));
	ASSERT_EQ(0, xtcp_sysctl_set("wmem_default", BUF_WMEM_DEF));
	ASSERT_EQ(0, xtcp_sysctl_set("wmem_max", BUF_WMEM_MAX));
}

struct bulk_send {
	pthread_t thread;
	int fd;
	long len;
	int err;
};

static unsigned char bulk_byte(long i)
{
	return (i * 7 + (i >> 13)) & 0xff;
}

static void *bulk_send_fn(void *arg)
{
	struct bulk_send *bs = arg;
	static unsigned char buf[65536];
	long sent = 0;

	while (sent < bs->len) {
		size_t n = sizeof(buf);
		ssize_t w;
		size_t i;

		if ((long)n > bs->len - sent)
			n = bs->len - sent;
		for (i = 0; i < n; i++)
			buf[i] = bulk_byte(sent + i);
		w = send(bs->fd, buf, n, 0);
		if (w <= 0) {
			bs->err = w ? errno : EIO;
			break;
		}
		sent += w;
	}
	shutdown(bs->fd, SHUT_WR);
	return NULL;
}

/* Send BULK_LEN bytes cli -> srv; true if all arrived intact. */
static bool bulk_transfer(struct __test_metadata *_metadata, struct lo_conn *c)
{
	struct bulk_send bs = { .fd = c->cli, .len = BULK_LEN };
	static unsigned char buf[262144];
	long got = 0, bad = -1;
	ssize_t n;

	if (pthread_create(&bs.thread, NULL, bulk_send_fn, &bs))
		return false;
	while ((n = recv(c->srv, buf, sizeof(buf), 0)) > 0) {
		ssize_t i;

		for (i = 0; i < n && bad < 0; i++)
			if (buf[i] != bulk_byte(got + i))
				bad = got + i;
		got += n;
	}
	pthread_join(bs.thread, NULL);
	EXPECT_EQ(0, bs.err);
	EXPECT_EQ(BULK_LEN, got);
	EXPECT_EQ(-1, bad);
	return !bs.err && got == BULK_LEN && bad < 0;
}

/*
 * 13a. A new socket starts with the configured buffer sizes; once
 * connected, the send buffer may already have grown to hold the initial
 * window (Linux TCP's tcp_init_buffer_space()), within the ceiling.
 */
TEST_F(stream, buffers_default)
{
	int fd;

	set_buffer_knobs(_metadata);
	fd = socket(family, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, fd);
	EXPECT_EQ(BUF_RMEM_DEF, xtcp_get_int(fd, SOL_SOCKET, SO_RCVBUF));
	EXPECT_EQ(BUF_WMEM_DEF, xtcp_get_int(fd, SOL_SOCKET, SO_SNDBUF));
	close(fd);

	open_conn(_metadata, variant->proto, &self->c);
	EXPECT_EQ(BUF_RMEM_DEF, xtcp_get_int(self->c.srv, SOL_SOCKET, SO_RCVBUF));
	EXPECT_LE(BUF_WMEM_DEF, xtcp_get_int(self->c.cli, SOL_SOCKET, SO_SNDBUF));
	EXPECT_GE(BUF_WMEM_MAX, xtcp_get_int(self->c.cli, SOL_SOCKET, SO_SNDBUF));
}

/*
 * 13b. A bulk transfer grows the receiver's and the sender's buffers,
 * within the ceilings.
 */
TEST_F_TIMEOUT(stream, buffers_grow, XTCP_TIMEOUT(60))
{
	int rcv, snd;

	set_buffer_knobs(_metadata);
	open_conn(_metadata, variant->proto, &self->c);
	ASSERT_TRUE(bulk_transfer(_metadata, &self->c));

	rcv = xtcp_get_int(self->c.srv, SOL_SOCKET, SO_RCVBUF);
	snd = xtcp_get_int(self->c.cli, SOL_SOCKET, SO_SNDBUF);
	EXPECT_LT(BUF_RMEM_DEF, rcv);
	EXPECT_GE(BUF_RMEM_MAX, rcv);
	EXPECT_LT(BUF_WMEM_DEF, snd);
	EXPECT_GE(BUF_WMEM_MAX, snd);
}

/*
 * 13c. SO_RCVBUF and SO_SNDBUF fix the sizes: they stay through a bulk
 * transfer.
 */
TEST_F_TIMEOUT(stream, buffers_locked, XTCP_TIMEOUT(60))
{
	int rcv, snd;

	set_buffer_knobs(_metadata);
	open_conn(_metadata, variant->proto, &self->c);
	ASSERT_EQ(0, xtcp_set_int(self->c.srv, SOL_SOCKET, SO_RCVBUF, 100000));
	ASSERT_EQ(0, xtcp_set_int(self->c.cli, SOL_SOCKET, SO_SNDBUF, 50000));
	rcv = xtcp_get_int(self->c.srv, SOL_SOCKET, SO_RCVBUF);
	snd = xtcp_get_int(self->c.cli, SOL_SOCKET, SO_SNDBUF);
	/* Linux doubles the value asked for, for the skb overhead. */
	EXPECT_EQ(200000, rcv);
	EXPECT_EQ(100000, snd);
	ASSERT_TRUE(bulk_transfer(_metadata, &self->c));

	EXPECT_EQ(rcv, xtcp_get_int(self->c.srv, SOL_SOCKET, SO_RCVBUF));
	EXPECT_EQ(snd, xtcp_get_int(self->c.cli, SOL_SOCKET, SO_SNDBUF));
}

TEST_HARNESS_MAIN
