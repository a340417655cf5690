// SPDX-License-Identifier: GPL-2.0
/*
 * Native IPv6 connections over ::1: socket(AF_INET6, SOCK_STREAM, proto),
 * bind, listen, connect, accept, names, data both ways, orderly close,
 * TIME_WAIT holding the port, RST for a port without a listener; and
 * dual stack, AF_INET6 sockets with IPv4 peers. Linux TCP over IPv6 is the
 * oracle.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"

/* The harness's fork()ed child may be clobbered by its longjmp(): it is
 * not used after one.
 */
#pragma GCC diagnostic ignored "-Wclobbered"

#define V6_BULK (256 * 1024)

FIXTURE(v6) {
	int lfd;
	struct sockaddr_in6 laddr;
};

FIXTURE_VARIANT(v6) {
	int proto;
};

FIXTURE_VARIANT_ADD(v6, tcp6) {
	.proto = IPPROTO_TCP,
};

FIXTURE_VARIANT_ADD(v6, xtcp6) {
	.proto = IPPROTO_XTCP,
};

FIXTURE_SETUP(v6)
{
	socklen_t len = sizeof(self->laddr);

	ASSERT_EQ(0, system("ip link set lo up"));
	memset(&self->laddr, 0, sizeof(self->laddr));
	self->laddr.sin6_family = AF_INET6;
	self->laddr.sin6_addr = in6addr_loopback;
	self->lfd = socket(AF_INET6, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, self->lfd) TH_LOG("socket: %s", strerror(errno));
	ASSERT_EQ(0, bind(self->lfd, (struct sockaddr *)&self->laddr,
			  sizeof(self->laddr)));
	ASSERT_EQ(0, listen(self->lfd, 8));
	ASSERT_EQ(0, getsockname(self->lfd, (struct sockaddr *)&self->laddr,
				 &len));
}

FIXTURE_TEARDOWN(v6)
{
	close(self->lfd);
}

static int v6_sockopt_int(int fd, int level, int name)
{
	socklen_t len = sizeof(int);
	int val;

	if (getsockopt(fd, level, name, &val, &len))
		return -errno;
	return val;
}

/* A connection to the fixture's listener from @cport (0: any). */
static int v6_connect(int proto, const struct sockaddr_in6 *to, in_port_t cport)
{
	struct sockaddr_in6 me = {
		.sin6_family = AF_INET6,
		.sin6_addr = IN6ADDR_LOOPBACK_INIT,
		.sin6_port = cport,
	};
	int fd = socket(AF_INET6, SOCK_STREAM, proto);

	if (fd < 0)
		return -errno;
	if ((cport && bind(fd, (struct sockaddr *)&me, sizeof(me))) ||
	    connect(fd, (const struct sockaddr *)to, sizeof(*to))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static bool v6_same(const struct sockaddr_in6 *a, const struct sockaddr_in6 *b)
{
	return a->sin6_family == b->sin6_family &&
	       a->sin6_port == b->sin6_port &&
	       !memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr));
}

TEST_F(v6, identity)
{
	int fd = socket(AF_INET6, SOCK_STREAM, variant->proto);

	ASSERT_LE(0, fd);
	EXPECT_EQ(AF_INET6, v6_sockopt_int(fd, SOL_SOCKET, SO_DOMAIN));
	EXPECT_EQ(variant->proto, v6_sockopt_int(fd, SOL_SOCKET,
						 SO_PROTOCOL));
	/* IPv6-level options reach the generic IPv6 code. */
	EXPECT_EQ(0, v6_sockopt_int(fd, SOL_IPV6, IPV6_V6ONLY));
	close(fd);
}

/* Names, data both ways (its checksums on the way), orderly close. */
TEST_F(v6, connect_data_close)
{
	struct sockaddr_in6 cname, cpeer, aname, apeer;
	socklen_t len;
	static unsigned char out[V6_BULK], in[V6_BULK];
	size_t i, got = 0, sent = 0;
	int cfd, afd;
	char c;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (unsigned char)(i * 7 + i / 251);
	cfd = v6_connect(variant->proto, &self->laddr, 0);
	ASSERT_LE(0, cfd) TH_LOG("connect: %s", strerror(-cfd));
	afd = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, afd);

	len = sizeof(cname);
	ASSERT_EQ(0, getsockname(cfd, (struct sockaddr *)&cname, &len));
	len = sizeof(cpeer);
	ASSERT_EQ(0, getpeername(cfd, (struct sockaddr *)&cpeer, &len));
	len = sizeof(aname);
	ASSERT_EQ(0, getsockname(afd, (struct sockaddr *)&aname, &len));
	len = sizeof(apeer);
	ASSERT_EQ(0, getpeername(afd, (struct sockaddr *)&apeer, &len));
	EXPECT_TRUE(v6_same(&cpeer, &self->laddr));
	EXPECT_TRUE(v6_same(&aname, &self->laddr));
	EXPECT_TRUE(v6_same(&apeer, &cname));
	EXPECT_EQ(0, memcmp(&cname.sin6_addr, &in6addr_loopback,
			    sizeof(in6addr_loopback)));
	EXPECT_NE(0, cname.sin6_port);
	/* The MSS comes from the route: loopback's 64 KiB MTU. */
	EXPECT_LT(16384, v6_sockopt_int(cfd, SOL_TCP, TCP_MAXSEG));
	EXPECT_LT(16384, v6_sockopt_int(afd, SOL_TCP, TCP_MAXSEG));

	/* Client to server, interleaved so that neither buffer fills. */
	while (got < sizeof(in)) {
		ssize_t n;

		if (sent < sizeof(out)) {
			n = send(cfd, out + sent, sizeof(out) - sent,
				 MSG_DONTWAIT);
			if (n > 0)
				sent += n;
			else
				ASSERT_EQ(EAGAIN, errno);
		}
		n = recv(afd, in + got, sizeof(in) - got, MSG_DONTWAIT);
		if (n > 0)
			got += n;
		else
			ASSERT_TRUE(n < 0 && errno == EAGAIN);
	}
	EXPECT_EQ(0, memcmp(in, out, sizeof(in)));

	/* Server to client. */
	ASSERT_EQ(5, send(afd, "hello", 5, 0));
	memset(in, 0, 5);
	ASSERT_EQ(5, recv(cfd, in, 5, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(in, "hello", 5));

	/* Orderly close, the client first. */
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	EXPECT_EQ(0, recv(afd, &c, 1, 0));
	close(afd);
	EXPECT_EQ(0, recv(cfd, &c, 1, 0));
	close(cfd);
}

/* The active closer's port stays held in TIME_WAIT. */
TEST_F(v6, time_wait_holds_port)
{
	struct sockaddr_in6 cname = {
		.sin6_family = AF_INET6,
		.sin6_addr = IN6ADDR_LOOPBACK_INIT,
	};
	socklen_t len = sizeof(cname);
	int cfd, afd, fd;
	char c;

	cfd = v6_connect(variant->proto, &self->laddr, 0);
	ASSERT_LE(0, cfd);
	afd = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, getsockname(cfd, (struct sockaddr *)&cname, &len));

	close(cfd);
	EXPECT_EQ(0, recv(afd, &c, 1, 0));
	close(afd);

	/* The client's end is in TIME_WAIT once the server's FIN is in:
	 * the port cannot be bound again, with or without a connection.
	 */
	fd = socket(AF_INET6, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&cname, sizeof(cname)));
	EXPECT_EQ(EADDRINUSE, errno);
	close(fd);
}

/* No listener: the SYN is answered with a RST. */
TEST_F(v6, refused)
{
	struct sockaddr_in6 to = self->laddr;
	int fd;

	close(self->lfd);
	self->lfd = -1;
	fd = v6_connect(variant->proto, &to, 0);
	EXPECT_EQ(-ECONNREFUSED, fd);
	if (fd >= 0)
		close(fd);
}

/* An IPv4 listener does not see IPv6 connections, nor the reverse. */
TEST_F(v6, families_apart)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		.sin_port = self->laddr.sin6_port,
	};
	int fd = socket(AF_INET, SOCK_STREAM, variant->proto);

	ASSERT_LE(0, fd);
	/* Only ::1 listens on the port: 127.0.0.1 has no listener. */
	EXPECT_EQ(-1, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	EXPECT_EQ(ECONNREFUSED, errno);
	close(fd);
}

/*
 * Dual stack: AF_INET6 sockets with IPv4 peers, as IPv4-mapped addresses
 * (RFC 4291 section 2.5.5.2, RFC 3493 section 3.7), over 127.0.0.1.
 */
FIXTURE(dual) {
	int fds[8];
	int nfds;
};

FIXTURE_VARIANT(dual) {
	int proto;
};

FIXTURE_VARIANT_ADD(dual, tcp6) {
	.proto = IPPROTO_TCP,
};

FIXTURE_VARIANT_ADD(dual, xtcp6) {
	.proto = IPPROTO_XTCP,
};

FIXTURE_SETUP(dual)
{
	ASSERT_EQ(0, system("ip link set lo up"));
	self->nfds = 0;
}

FIXTURE_TEARDOWN(dual)
{
	while (self->nfds)
		close(self->fds[--self->nfds]);
}

/* A socket of @family, IPv6-only or not, closed by the teardown. */
static int dual_socket(struct __test_metadata *_metadata,
		       FIXTURE_DATA(dual) *self, int proto, int family,
		       int v6only)
{
	int fd = socket(family, SOCK_STREAM, proto);

	ASSERT_LE(0, fd) TH_LOG("socket: %s", strerror(errno));
	ASSERT_GT((int)(sizeof(self->fds) / sizeof(self->fds[0])), self->nfds);
	self->fds[self->nfds++] = fd;
	if (family == AF_INET6)
		ASSERT_EQ(0, setsockopt(fd, SOL_IPV6, IPV6_V6ONLY, &v6only,
					sizeof(v6only)));
	return fd;
}

/* A socket address of @family for the text address @addr and @port. */
static socklen_t dual_addr(struct sockaddr_storage *ss, int family,
			   const char *addr, in_port_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = port;
		inet_pton(AF_INET, addr, &sin->sin_addr);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = port;
	inet_pton(AF_INET6, addr, &sin6->sin6_addr);
	return sizeof(*sin6);
}

/* bind() to @addr and @port: 0 or -errno. */
static int dual_bind(int fd, int family, const char *addr, in_port_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = dual_addr(&ss, family, addr, port);

	return bind(fd, (struct sockaddr *)&ss, len) ? -errno : 0;
}

/* connect() to @addr and @port: 0 or -errno. */
static int dual_connect(int fd, int family, const char *addr, in_port_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = dual_addr(&ss, family, addr, port);

	return connect(fd, (struct sockaddr *)&ss, len) ? -errno : 0;
}

/* The local port of a bound socket. */
static in_port_t dual_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	if (ss.ss_family == AF_INET)
		return ((struct sockaddr_in *)&ss)->sin_port;
	return ((struct sockaddr_in6 *)&ss)->sin6_port;
}

/* Whether @sa is AF_INET6 ::ffff:127.0.0.1 at @port. */
static bool dual_is_mapped_lo(const struct sockaddr_in6 *sa, in_port_t port)
{
	struct in6_addr lo;

	inet_pton(AF_INET6, "::ffff:127.0.0.1", &lo);
	return sa->sin6_family == AF_INET6 && sa->sin6_port == port &&
	       !memcmp(&sa->sin6_addr, &lo, sizeof(lo));
}

/* Whether @sa is AF_INET 127.0.0.1 at @port. */
static bool dual_is_lo(const struct sockaddr_in *sa, in_port_t port)
{
	return sa->sin_family == AF_INET && sa->sin_port == port &&
	       sa->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
}

/* Data both ways, then an orderly close with @cfd closing first. */
static void dual_exchange(struct __test_metadata *_metadata, int cfd, int afd)
{
	static char out[64 * 1024], in[64 * 1024];
	size_t i;
	char c;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 13 + i / 253);
	ASSERT_EQ((ssize_t)sizeof(out), send(cfd, out, sizeof(out), 0));
	ASSERT_EQ((ssize_t)sizeof(in), recv(afd, in, sizeof(in), MSG_WAITALL));
	EXPECT_EQ(0, memcmp(in, out, sizeof(in)));
	ASSERT_EQ(5, send(afd, "hello", 5, 0));
	ASSERT_EQ(5, recv(cfd, in, 5, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(in, "hello", 5));
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	EXPECT_EQ(0, recv(afd, &c, 1, 0));
	ASSERT_EQ(0, shutdown(afd, SHUT_WR));
	EXPECT_EQ(0, recv(cfd, &c, 1, 0));
}

/*
 * An AF_INET6 listener on @laddr takes an AF_INET client: the names
 * reported on its side are IPv4-mapped, on the client's IPv4.
 */
static void dual_v4_client(struct __test_metadata *_metadata,
			   FIXTURE_DATA(dual) *self, int proto,
			   const char *laddr)
{
	struct sockaddr_in6 peer6, name6;
	struct sockaddr_in name4, peer4;
	int lfd, cfd, afd;
	in_port_t lport;
	socklen_t len;

	lfd = dual_socket(_metadata, self, proto, AF_INET6, 0);
	ASSERT_EQ(0, dual_bind(lfd, AF_INET6, laddr, 0));
	ASSERT_EQ(0, listen(lfd, 4));
	lport = dual_port(lfd);
	cfd = dual_socket(_metadata, self, proto, AF_INET, 0);
	ASSERT_EQ(0, dual_connect(cfd, AF_INET, "127.0.0.1", lport));

	len = sizeof(peer6);
	afd = accept(lfd, (struct sockaddr *)&peer6, &len);
	ASSERT_LE(0, afd) TH_LOG("accept: %s", strerror(errno));
	self->fds[self->nfds++] = afd;
	len = sizeof(name4);
	ASSERT_EQ(0, getsockname(cfd, (struct sockaddr *)&name4, &len));
	len = sizeof(peer4);
	ASSERT_EQ(0, getpeername(cfd, (struct sockaddr *)&peer4, &len));
	EXPECT_TRUE(dual_is_lo(&peer4, lport));
	EXPECT_TRUE(dual_is_mapped_lo(&peer6, name4.sin_port));
	len = sizeof(peer6);
	ASSERT_EQ(0, getpeername(afd, (struct sockaddr *)&peer6, &len));
	EXPECT_TRUE(dual_is_mapped_lo(&peer6, name4.sin_port));
	len = sizeof(name6);
	ASSERT_EQ(0, getsockname(afd, (struct sockaddr *)&name6, &len));
	EXPECT_TRUE(dual_is_mapped_lo(&name6, lport));
	/* The IPv4 route's MSS: loopback's 64 KiB MTU. */
	EXPECT_LT(16384, v6_sockopt_int(afd, SOL_TCP, TCP_MAXSEG));

	dual_exchange(_metadata, cfd, afd);
}

/* An AF_INET6 listener on :: takes IPv4 clients (without IPV6_V6ONLY). */
TEST_F(dual, v4_client_wildcard_listener)
{
	dual_v4_client(_metadata, self, variant->proto, "::");
}

/* So does one on the IPv4-mapped address. */
TEST_F(dual, v4_client_mapped_listener)
{
	dual_v4_client(_metadata, self, variant->proto, "::ffff:127.0.0.1");
}

/* With IPV6_V6ONLY the IPv4 SYN finds no listener: a RST. */
TEST_F(dual, v6only_listener_refuses_v4)
{
	int lfd, cfd, fd6;
	in_port_t lport;

	lfd = dual_socket(_metadata, self, variant->proto, AF_INET6, 1);
	ASSERT_EQ(0, dual_bind(lfd, AF_INET6, "::", 0));
	ASSERT_EQ(0, listen(lfd, 4));
	lport = dual_port(lfd);
	cfd = dual_socket(_metadata, self, variant->proto, AF_INET, 0);
	EXPECT_EQ(-ECONNREFUSED, dual_connect(cfd, AF_INET, "127.0.0.1",
					      lport));
	/* IPv6 clients still reach it. */
	fd6 = dual_socket(_metadata, self, variant->proto, AF_INET6, 0);
	EXPECT_EQ(0, dual_connect(fd6, AF_INET6, "::1", lport));
}

/*
 * connect() of an AF_INET6 socket to an IPv4-mapped address: an IPv4
 * connection through its life: names, data, close, TIME_WAIT.
 */
TEST_F(dual, mapped_connect)
{
	struct sockaddr_in6 name6, peer6;
	struct sockaddr_in peer4;
	int lfd, cfd, afd, fd;
	in_port_t lport, cport;
	socklen_t len;

	lfd = dual_socket(_metadata, self, variant->proto, AF_INET, 0);
	ASSERT_EQ(0, dual_bind(lfd, AF_INET, "127.0.0.1", 0));
	ASSERT_EQ(0, listen(lfd, 4));
	lport = dual_port(lfd);
	cfd = dual_socket(_metadata, self, variant->proto, AF_INET6, 0);
	ASSERT_EQ(0, dual_connect(cfd, AF_INET6, "::ffff:127.0.0.1", lport));
	len = sizeof(peer4);
	afd = accept(lfd, (struct sockaddr *)&peer4, &len);
	ASSERT_LE(0, afd) TH_LOG("accept: %s", strerror(errno));
	self->fds[self->nfds++] = afd;

	len = sizeof(name6);
	ASSERT_EQ(0, getsockname(cfd, (struct sockaddr *)&name6, &len));
	cport = name6.sin6_port;
	EXPECT_NE(0, cport);
	EXPECT_TRUE(dual_is_mapped_lo(&name6, cport));
	len = sizeof(peer6);
	ASSERT_EQ(0, getpeername(cfd, (struct sockaddr *)&peer6, &len));
	EXPECT_TRUE(dual_is_mapped_lo(&peer6, lport));
	EXPECT_TRUE(dual_is_lo(&peer4, cport));
	EXPECT_LT(16384, v6_sockopt_int(cfd, SOL_TCP, TCP_MAXSEG));

	dual_exchange(_metadata, cfd, afd);

	/* The client closed first: its port stays in TIME_WAIT, for IPv4
	 * and IPv4-mapped binds alike, and an IPv6-only :: may take it.
	 */
	close(cfd);
	self->fds[1] = -1;
	fd = dual_socket(_metadata, self, variant->proto, AF_INET, 0);
	EXPECT_EQ(-EADDRINUSE, dual_bind(fd, AF_INET, "127.0.0.1", cport));
	fd = dual_socket(_metadata, self, variant->proto, AF_INET6, 0);
	EXPECT_EQ(-EADDRINUSE, dual_bind(fd, AF_INET6, "::ffff:127.0.0.1",
					 cport));
	fd = dual_socket(_metadata, self, variant->proto, AF_INET6, 0);
	EXPECT_EQ(-EADDRINUSE, dual_bind(fd, AF_INET6, "::", cport));
	fd = dual_socket(_metadata, self, variant->proto, AF_INET6, 1);
	EXPECT_EQ(0, dual_bind(fd, AF_INET6, "::", cport));
}

/* Both ends AF_INET6, the connection IPv4. */
TEST_F(dual, mapped_connect_to_v6_listener)
{
	struct sockaddr_in6 peer6, name6;
	int lfd, cfd, afd;
	in_port_t lport;
	socklen_t len;

	lfd = dual_socket(_metadata, self, variant->proto, AF_INET6, 0);
	ASSERT_EQ(0, dual_bind(lfd, AF_INET6, "::", 0));
	ASSERT_EQ(0, listen(lfd, 4));
	lport = dual_port(lfd);
	cfd = dual_socket(_metadata, self, variant->proto, AF_INET6, 0);
	ASSERT_EQ(0, dual_connect(cfd, AF_INET6, "::ffff:127.0.0.1", lport));
	len = sizeof(peer6);
	afd = accept(lfd, (struct sockaddr *)&peer6, &len);
	ASSERT_LE(0, afd) TH_LOG("accept: %s", strerror(errno));
	self->fds[self->nfds++] = afd;
	len = sizeof(name6);
	ASSERT_EQ(0, getsockname(cfd, (struct sockaddr *)&name6, &len));
	EXPECT_TRUE(dual_is_mapped_lo(&peer6, name6.sin6_port));
	dual_exchange(_metadata, cfd, afd);
}

/* An IPv6-only socket cannot reach an IPv4-mapped address. */
TEST_F(dual, v6only_mapped_connect_fails)
{
	int fd = dual_socket(_metadata, self, variant->proto, AF_INET6, 1);

	EXPECT_EQ(-ENETUNREACH, dual_connect(fd, AF_INET6, "::ffff:127.0.0.1",
					     htons(9)));
	/* So cannot one bound to a native IPv6 address. */
	fd = dual_socket(_metadata, self, variant->proto, AF_INET6, 0);
	ASSERT_EQ(0, dual_bind(fd, AF_INET6, "::1", 0));
	EXPECT_EQ(-ENETUNREACH, dual_connect(fd, AF_INET6, "::ffff:127.0.0.1",
					     htons(9)));
}

/*
 * bind() of a second socket to the port of a first, across the families,
 * with and without IPV6_V6ONLY; where both binds succeed, both sockets
 * listen. The expected results are Linux TCP's, which the tcp6 variant
 * checks.
 */
static const struct dual_bind_case {
	int family1, v6only1;
	const char *addr1;
	int family2, v6only2;
	const char *addr2;
	int err;
} dual_bind_cases[] = {
	{ AF_INET6, 0, "::", AF_INET, 0, "0.0.0.0", -EADDRINUSE },
	{ AF_INET6, 0, "::", AF_INET, 0, "127.0.0.1", -EADDRINUSE },
	{ AF_INET6, 1, "::", AF_INET, 0, "0.0.0.0", 0 },
	{ AF_INET6, 1, "::", AF_INET, 0, "127.0.0.1", 0 },
	{ AF_INET, 0, "0.0.0.0", AF_INET6, 0, "::", -EADDRINUSE },
	{ AF_INET, 0, "0.0.0.0", AF_INET6, 1, "::", 0 },
	{ AF_INET, 0, "127.0.0.1", AF_INET6, 0, "::", -EADDRINUSE },
	{ AF_INET, 0, "127.0.0.1", AF_INET6, 1, "::", 0 },
	{ AF_INET, 0, "127.0.0.1", AF_INET6, 0, "::ffff:127.0.0.1",
	  -EADDRINUSE },
	{ AF_INET, 0, "0.0.0.0", AF_INET6, 0, "::ffff:127.0.0.1",
	  -EADDRINUSE },
	{ AF_INET, 0, "127.0.0.1", AF_INET6, 0, "::1", 0 },
	{ AF_INET, 0, "0.0.0.0", AF_INET6, 0, "::1", 0 },
	{ AF_INET6, 0, "::1", AF_INET, 0, "0.0.0.0", 0 },
	{ AF_INET6, 0, "::ffff:127.0.0.1", AF_INET, 0, "127.0.0.1",
	  -EADDRINUSE },
	{ AF_INET6, 0, "::ffff:127.0.0.1", AF_INET, 0, "127.0.0.2", 0 },
	{ AF_INET6, 0, "::ffff:127.0.0.1", AF_INET6, 0, "::",
	  -EADDRINUSE },
	{ AF_INET6, 0, "::ffff:127.0.0.1", AF_INET6, 1, "::", 0 },
	{ AF_INET6, 1, "::", AF_INET6, 0, "::ffff:127.0.0.1", 0 },
	{ AF_INET6, 1, "::", AF_INET6, 0, "::1", -EADDRINUSE },
	{ AF_INET6, 0, "::1", AF_INET6, 0, "::ffff:127.0.0.1", 0 },
};

TEST_F(dual, bind_conflicts)
{
	size_t i;

	for (i = 0; i < sizeof(dual_bind_cases) / sizeof(dual_bind_cases[0]);
	     i++) {
		const struct dual_bind_case *c = &dual_bind_cases[i];
		int fd1, fd2, err;
		in_port_t port;

		fd1 = dual_socket(_metadata, self, variant->proto, c->family1,
				  c->v6only1);
		fd2 = dual_socket(_metadata, self, variant->proto, c->family2,
				  c->v6only2);
		ASSERT_EQ(0, dual_bind(fd1, c->family1, c->addr1, 0));
		port = dual_port(fd1);
		err = dual_bind(fd2, c->family2, c->addr2, port);
		EXPECT_EQ(c->err, err)
			TH_LOG("case %zu: %s then %s%s", i, c->addr1, c->addr2,
			       c->v6only2 ? " (IPV6_V6ONLY)" : "");
		if (!err) {
			EXPECT_EQ(0, listen(fd1, 1)) TH_LOG("case %zu", i);
			EXPECT_EQ(0, listen(fd2, 1)) TH_LOG("case %zu", i);
		}
		close(self->fds[--self->nfds]);
		close(self->fds[--self->nfds]);
	}
}

TEST_HARNESS_MAIN
