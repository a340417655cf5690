// SPDX-License-Identifier: GPL-2.0
/*
 * Socket creation and the properties of a fresh socket. Where xtcp should
 * look like TCP, both run the same test: Linux TCP is the oracle, TCP6 for
 * the AF_INET6 sockets.
 */

#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* See test_options.c: the harness's setjmp() and inlined test bodies. */
#pragma GCC diagnostic ignored "-Wclobbered"

#include "kselftest_harness.h"
#include "xtcp_test.h"

FIXTURE(fresh) {
	int fd;
};

FIXTURE_VARIANT(fresh) {
	int proto;
	int family;
};

/*
 * AF_INET and AF_INET6 sockets of both protocols. ip_level_options is
 * IPv4's IP_TOS and runs for AF_INET only (test_ipv6 has the SOL_IPV6
 * options).
 */
FIXTURE_VARIANT_ADD(fresh, tcp) {
	.proto = IPPROTO_TCP,
	.family = AF_INET,
};

FIXTURE_VARIANT_ADD(fresh, xtcp) {
	.proto = IPPROTO_XTCP,
	.family = AF_INET,
};

FIXTURE_VARIANT_ADD(fresh, tcp6) {
	.proto = IPPROTO_TCP,
	.family = AF_INET6,
};

FIXTURE_VARIANT_ADD(fresh, xtcp6) {
	.proto = IPPROTO_XTCP,
	.family = AF_INET6,
};

FIXTURE_SETUP(fresh)
{
	self->fd = socket(variant->family, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, self->fd) TH_LOG("socket: %s", strerror(errno));
	ASSERT_EQ(variant->family, xtcp_sock_family(self->fd));
}

FIXTURE_TEARDOWN(fresh)
{
	close(self->fd);
}

static int getsockopt_int(int fd, int level, int name)
{
	socklen_t len = sizeof(int);
	int val;

	if (getsockopt(fd, level, name, &val, &len))
		return -errno;
	return val;
}

TEST_F(fresh, identity)
{
	EXPECT_EQ(variant->proto, getsockopt_int(self->fd, SOL_SOCKET,
						 SO_PROTOCOL));
	EXPECT_EQ(SOCK_STREAM, getsockopt_int(self->fd, SOL_SOCKET, SO_TYPE));
	EXPECT_EQ(variant->family,
		  getsockopt_int(self->fd, SOL_SOCKET, SO_DOMAIN));
	EXPECT_EQ(0, getsockopt_int(self->fd, SOL_SOCKET, SO_ERROR));
}

/* An unbound socket's name: the wildcard address, port 0. */
TEST_F(fresh, unbound_name)
{
	struct sockaddr_storage ss, any;
	socklen_t len = sizeof(ss), want;

	want = xtcp_sa(variant->family,
		       variant->family == AF_INET6 ? "::" : "0.0.0.0", 0, &any);
	ASSERT_LT(0U, want);
	memset(&ss, 0xff, sizeof(ss));
	ASSERT_EQ(0, getsockname(self->fd, (struct sockaddr *)&ss, &len));
	ASSERT_EQ(want, len);
	EXPECT_EQ(0, memcmp(&any, &ss, len));

	len = sizeof(ss);
	EXPECT_EQ(-1, getpeername(self->fd, (struct sockaddr *)&ss, &len));
	EXPECT_EQ(ENOTCONN, errno);
}

TEST_F(fresh, poll_unconnected)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN | POLLOUT };

	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLOUT | POLLHUP, pfd.revents);
}

TEST_F(fresh, ip_level_options)
{
	int tos = 0x10;

	if (variant->family != AF_INET)
		SKIP(return, "IP_TOS is IPv4's (IPV6_TCLASS: test_ipv6)");
	/* SOL_IP options reach the generic IPv4 code for both. */
	ASSERT_EQ(0, setsockopt(self->fd, SOL_IP, IP_TOS, &tos, sizeof(tos)));
	EXPECT_EQ(tos, getsockopt_int(self->fd, SOL_IP, IP_TOS));
}

/* Other socket types: refused with the errno TCP's number gets. */
TEST(xtcp_other_types_refused)
{
	static const int types[] = { SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RDM };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		int tcp_errno;

		ASSERT_EQ(-1, socket(AF_INET, types[i], IPPROTO_TCP));
		tcp_errno = errno;
		EXPECT_EQ(-1, socket(AF_INET, types[i], IPPROTO_XTCP));
		EXPECT_EQ(tcp_errno, errno) TH_LOG("type %d", types[i]);
	}
}

TEST(xtcp_alt_number_unused)
{
	/* Loaded with the default proto=253, nothing serves 254. */
	EXPECT_EQ(-1, socket(AF_INET, SOCK_STREAM, IPPROTO_XTCP_ALT));
	EXPECT_EQ(EPROTONOSUPPORT, errno);
}

TEST(xtcp_unknown_option)
{
	int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_XTCP);
	socklen_t len = sizeof(int);
	int val = 1;

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, setsockopt(fd, SOL_XTCP, 9999, &val, sizeof(val)));
	EXPECT_EQ(ENOPROTOOPT, errno);
	EXPECT_EQ(-1, getsockopt(fd, SOL_XTCP, 9999, &val, &len));
	EXPECT_EQ(ENOPROTOOPT, errno);
	close(fd);
}

/* No urgent data: MSG_OOB is refused both ways, never sent as data. */
TEST(xtcp_no_urgent_data)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(sin);
	int lfd, cfd, afd, avail;
	char c = 'x';

	ASSERT_EQ(0, system("ip link set lo up"));
	lfd = socket(AF_INET, SOCK_STREAM, IPPROTO_XTCP);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(lfd, 1));
	ASSERT_EQ(0, getsockname(lfd, (struct sockaddr *)&sin, &len));
	cfd = socket(AF_INET, SOCK_STREAM, IPPROTO_XTCP);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect(cfd, (struct sockaddr *)&sin, sizeof(sin)));
	afd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, afd);

	EXPECT_EQ(-1, send(cfd, &c, 1, MSG_OOB));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, recv(afd, &c, 1, MSG_OOB | MSG_DONTWAIT));
	EXPECT_EQ(EINVAL, errno);
	/* Nothing reached the peer. */
	EXPECT_EQ(0, ioctl(afd, FIONREAD, &avail));
	EXPECT_EQ(0, avail);
	close(afd);
	close(cfd);
	close(lfd);
}

TEST_HARNESS_MAIN
