// SPDX-License-Identifier: GPL-2.0
/*
 * Level SOL_TCP on xtcp sockets, against Linux TCP as the oracle: each
 * fixture test runs for IPPROTO_TCP and for IPPROTO_XTCP over loopback,
 * IPv4 (127.0.0.1) and IPv6 (::1), with the same expectations. The
 * options xtcp has at SOL_XTCP work at SOL_TCP with TCP's ranges and
 * errors and the same value underneath;
 * TCP_INFO, TCP_CORK, TCP_QUICKACK, TCP_USER_TIMEOUT, TCP_DEFER_ACCEPT,
 * TCP_CONGESTION, TCP_NOTSENT_LOWAT (poll() and epoll) and TCP_INQ (its
 * cmsg) behave as on TCP, and so do the ioctls SIOCINQ and SIOCOUTQ;
 * other options fail with ENOPROTOOPT.
 */

#include <linux/filter.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* See test_options.c: the harness's setjmp() and inlined test bodies. */
#pragma GCC diagnostic ignored "-Wclobbered"

#include "kselftest_harness.h"
#include "xtcp_test.h"

#define IPV4_SYSCTL	"/proc/sys/net/ipv4/"
#ifndef SOL_TCP
#define SOL_TCP		IPPROTO_TCP	/* 6, as <netinet/tcp.h> */
#endif
/* Connection states as tcpi_state numbers them (net/tcp_states.h). */
#define ST_ESTABLISHED	1u
#define ST_LISTEN	10u
#ifndef TCP_CA_NAME_MAX
#define TCP_CA_NAME_MAX	16	/* include/net/tcp.h */
#endif

FIXTURE(soltcp) {
	int cfd;	/* the client */
	int sfd;	/* the accepted socket */
};

FIXTURE_VARIANT(soltcp) {
	int proto;
	int family;
};

/*
 * Each test runs over 127.0.0.1 and over ::1, with Linux TCP and TCP6 as
 * the oracles: SOL_TCP is the same level for both families.
 */
FIXTURE_VARIANT_ADD(soltcp, tcp) {
	.proto = IPPROTO_TCP,
	.family = AF_INET,
};

FIXTURE_VARIANT_ADD(soltcp, xtcp) {
	.proto = IPPROTO_XTCP,
	.family = AF_INET,
};

FIXTURE_VARIANT_ADD(soltcp, tcp6) {
	.proto = IPPROTO_TCP,
	.family = AF_INET6,
};

FIXTURE_VARIANT_ADD(soltcp, xtcp6) {
	.proto = IPPROTO_XTCP,
	.family = AF_INET6,
};

/*
 * Both protocols' minimum RTO to @ms in this namespace: it is also when
 * a corked segment with nothing in flight goes out by itself.
 */
static int set_rto_min(int proto, int ms)
{
	if (proto == IPPROTO_XTCP)
		return xtcp_sysctl_set("rto_min", ms);
	return xtcp_tcp_rto_min_ms(ms);
}

FIXTURE_SETUP(soltcp)
{
	ASSERT_EQ(0, xp_unshare_net());
	self->sfd = xtcp_lo_pair_family(variant->family, variant->proto,
					&self->cfd);
	ASSERT_LE(0, self->sfd) TH_LOG("pair: %s", strerror(-self->sfd));
	ASSERT_EQ(variant->family, xtcp_sock_family(self->cfd));
	ASSERT_EQ(variant->family, xtcp_sock_family(self->sfd));
}

FIXTURE_TEARDOWN(soltcp)
{
	close(self->cfd);
	close(self->sfd);
}

static int set_len(int fd, int name, const void *val, socklen_t len)
{
	return setsockopt(fd, SOL_TCP, name, val, len) ? -errno : 0;
}

/* Wait up to @ms for @len bytes on @fd; the bytes read or -errno. */
static int recv_within(int fd, char *buf, int len, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };
	int n;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return -errno;
	n = recv(fd, buf, len, MSG_WAITALL);
	return n < 0 ? -errno : n;
}

static int tcp_info_of(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	return getsockopt(fd, SOL_TCP, TCP_INFO, ti, &len) ? -errno : 0;
}

static __u32 unacked_of(int fd)
{
	struct tcp_info ti;

	return tcp_info_of(fd, &ti) ? ~0u : ti.tcpi_unacked;
}

/* The error a socket ends with, waiting up to @ms; 0 if none came. */
static int wait_error(int fd, int ms)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (!(xtcp_wait_fd(fd, POLLERR, ms) & POLLERR))
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -errno;
	return err;
}

/* Drop every segment that reaches @fd: its peer seems gone. */
static int drop_all(int fd)
{
	struct sock_filter code[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct sock_fprog prog = { .len = 1, .filter = code };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
			  sizeof(prog)) ? -errno : 0;
}

/* The int options both protocols have: values read back as set. */
TEST_F(soltcp, int_options_round_trip)
{
	int fd = self->cfd;

	ASSERT_EQ(0, xtcp_get_int(fd, SOL_TCP, TCP_NODELAY));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_NODELAY, 5));
	ASSERT_EQ(1, xtcp_get_int(fd, SOL_TCP, TCP_NODELAY));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_NODELAY, 0));
	ASSERT_EQ(0, xtcp_get_int(fd, SOL_TCP, TCP_NODELAY));

	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_KEEPIDLE, 77));
	ASSERT_EQ(77, xtcp_get_int(fd, SOL_TCP, TCP_KEEPIDLE));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_KEEPINTVL, 7));
	ASSERT_EQ(7, xtcp_get_int(fd, SOL_TCP, TCP_KEEPINTVL));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_KEEPCNT, 3));
	ASSERT_EQ(3, xtcp_get_int(fd, SOL_TCP, TCP_KEEPCNT));

	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_LINGER2, 30));
	ASSERT_EQ(30, xtcp_get_int(fd, SOL_TCP, TCP_LINGER2));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_LINGER2, -5));
	ASSERT_EQ(-1, xtcp_get_int(fd, SOL_TCP, TCP_LINGER2));
	/* TCP clamps to 120 s. */
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_LINGER2, 500));
	ASSERT_EQ(120, xtcp_get_int(fd, SOL_TCP, TCP_LINGER2));

	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_USER_TIMEOUT, 4321));
	ASSERT_EQ(4321, xtcp_get_int(fd, SOL_TCP, TCP_USER_TIMEOUT));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_USER_TIMEOUT, 0));
	ASSERT_EQ(0, xtcp_get_int(fd, SOL_TCP, TCP_USER_TIMEOUT));

	/* A connection reads its send MSS; an unconnected socket the clamp. */
	ASSERT_LT(500, xtcp_get_int(fd, SOL_TCP, TCP_MAXSEG));
	fd = socket(variant->family, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_MAXSEG, 1000));
	ASSERT_EQ(1000, xtcp_get_int(fd, SOL_TCP, TCP_MAXSEG));
	close(fd);
}

/* Out of range, too short, negative optlen: TCP's errors, value kept. */
TEST_F(soltcp, ranges_and_errors)
{
	int fd = self->cfd, val = 1;
	socklen_t len;
	short s = 1;

	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_KEEPIDLE, 50));
	ASSERT_EQ(-EINVAL, xtcp_set_int(fd, SOL_TCP, TCP_KEEPIDLE, 0));
	ASSERT_EQ(-EINVAL, xtcp_set_int(fd, SOL_TCP, TCP_KEEPIDLE, 32768));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_KEEPIDLE, 32767));
	ASSERT_EQ(-EINVAL, xtcp_set_int(fd, SOL_TCP, TCP_KEEPINTVL, 0));
	ASSERT_EQ(-EINVAL, xtcp_set_int(fd, SOL_TCP, TCP_KEEPINTVL, 32768));
	ASSERT_EQ(-EINVAL, xtcp_set_int(fd, SOL_TCP, TCP_KEEPCNT, 0));
	ASSERT_EQ(-EINVAL, xtcp_set_int(fd, SOL_TCP, TCP_KEEPCNT, 128));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_KEEPCNT, 127));
	ASSERT_EQ(32767, xtcp_get_int(fd, SOL_TCP, TCP_KEEPIDLE));
	ASSERT_EQ(127, xtcp_get_int(fd, SOL_TCP, TCP_KEEPCNT));

	ASSERT_EQ(-EINVAL, xtcp_set_int(fd, SOL_TCP, TCP_MAXSEG, 87));
	ASSERT_EQ(-EINVAL, xtcp_set_int(fd, SOL_TCP, TCP_MAXSEG, 32768));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_MAXSEG, 88));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_MAXSEG, 32767));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_MAXSEG, 0));

	ASSERT_EQ(-EINVAL, xtcp_set_int(fd, SOL_TCP, TCP_USER_TIMEOUT, -1));
	ASSERT_EQ(0, xtcp_get_int(fd, SOL_TCP, TCP_USER_TIMEOUT));

	/* An int option with a shorter optlen. */
	ASSERT_EQ(-EINVAL, set_len(fd, TCP_NODELAY, &s, sizeof(s)));
	ASSERT_EQ(-EINVAL, set_len(fd, TCP_USER_TIMEOUT, &s, sizeof(s)));

	/* A short read gets a prefix; a negative length fails. */
	len = 1;
	val = 0x55555555;
	ASSERT_EQ(0, getsockopt(fd, SOL_TCP, TCP_KEEPCNT, &val, &len));
	ASSERT_EQ(1, (int)len);
	ASSERT_EQ(127, val & 0xff);
	len = -1;
	ASSERT_EQ(-1, getsockopt(fd, SOL_TCP, TCP_KEEPCNT, &val, &len));
	ASSERT_EQ(EINVAL, errno);
}

/* Option numbers TCP does not know fail the same way on both. */
TEST_F(soltcp, unknown_options)
{
	socklen_t len = sizeof(int);
	int val = 1;

	ASSERT_EQ(-ENOPROTOOPT, xtcp_set_int(self->cfd, SOL_TCP, 9999, 1));
	ASSERT_EQ(-ENOPROTOOPT, xtcp_get_int(self->cfd, SOL_TCP, 9999));
	/* XTCP_MSL's number is nothing at SOL_TCP. */
	ASSERT_EQ(-ENOPROTOOPT, xtcp_set_int(self->cfd, SOL_TCP, XTCP_MSL,
					     1000));
	ASSERT_EQ(-ENOPROTOOPT, xtcp_get_int(self->cfd, SOL_TCP, XTCP_MSL));
	ASSERT_EQ(-1, getsockopt(self->cfd, SOL_TCP, 9999, &val, &len));
	ASSERT_EQ(ENOPROTOOPT, errno);
}

/* "reno" works on both; an unknown algorithm is ENOENT. */
TEST_F(soltcp, congestion)
{
	char name[TCP_CA_NAME_MAX + 8];
	socklen_t len = sizeof(name);

	memset(name, 'x', sizeof(name));
	ASSERT_EQ(0, getsockopt(self->cfd, SOL_TCP, TCP_CONGESTION, name,
				&len));
	ASSERT_EQ(TCP_CA_NAME_MAX, (int)len);
	ASSERT_NE(0, name[0]);
	ASSERT_EQ(0, name[TCP_CA_NAME_MAX - 1]);
	if (variant->proto == IPPROTO_XTCP)
		ASSERT_STREQ("reno", name);

	ASSERT_EQ(0, set_len(self->cfd, TCP_CONGESTION, "reno", 4));
	ASSERT_EQ(0, set_len(self->cfd, TCP_CONGESTION, "reno", 5));
	len = sizeof(name);
	ASSERT_EQ(0, getsockopt(self->cfd, SOL_TCP, TCP_CONGESTION, name,
				&len));
	ASSERT_STREQ("reno", name);
	ASSERT_EQ(-ENOENT, set_len(self->cfd, TCP_CONGESTION, "bogus", 5));
	ASSERT_EQ(-EINVAL, set_len(self->cfd, TCP_CONGESTION, "reno", 0));

	/* A short read: a prefix, not terminated. */
	len = 2;
	memset(name, 'x', sizeof(name));
	ASSERT_EQ(0, getsockopt(self->cfd, SOL_TCP, TCP_CONGESTION, name,
				&len));
	ASSERT_EQ(2, (int)len);
	ASSERT_EQ(0, memcmp(name, "rex", 3));
}

/* After a transfer: the state, the bytes counted, an RTT and a window. */
TEST_F(soltcp, tcp_info_after_transfer)
{
	static char buf[100000];
	struct tcp_info ti, si;
	const int n = sizeof(buf);

	memset(buf, 'a', sizeof(buf));
	ASSERT_EQ(n, send(self->cfd, buf, n, 0));
	ASSERT_EQ(n, recv_within(self->sfd, buf, n, 5000));
	ASSERT_TRUE(xtcp_wait_until(unacked_of(self->cfd) == 0, 5000));

	ASSERT_EQ(0, tcp_info_of(self->cfd, &ti));
	ASSERT_EQ(0, tcp_info_of(self->sfd, &si));
	TH_LOG("client: acked %llu sent %llu segs %u/%u data %u rtt %u cwnd %u mss %u pmtu %u min_rtt %u",
	       (unsigned long long)ti.tcpi_bytes_acked,
	       (unsigned long long)ti.tcpi_bytes_sent,
	       ti.tcpi_segs_out, ti.tcpi_segs_in, ti.tcpi_data_segs_out,
	       ti.tcpi_rtt, ti.tcpi_snd_cwnd, ti.tcpi_snd_mss, ti.tcpi_pmtu,
	       ti.tcpi_min_rtt);
	TH_LOG("server: received %llu segs in %u data in %u",
	       (unsigned long long)si.tcpi_bytes_received, si.tcpi_segs_in,
	       si.tcpi_data_segs_in);

	ASSERT_EQ(ST_ESTABLISHED, ti.tcpi_state);
	ASSERT_EQ(ST_ESTABLISHED, si.tcpi_state);
	/* The SYN counts one, as in Linux. */
	ASSERT_EQ(n + 1u, ti.tcpi_bytes_acked);
	ASSERT_EQ((unsigned int)n, si.tcpi_bytes_received);
	ASSERT_EQ((unsigned int)n, ti.tcpi_bytes_sent);
	ASSERT_EQ(0u, ti.tcpi_bytes_retrans);
	ASSERT_EQ(0u, ti.tcpi_total_retrans);
	ASSERT_EQ(0u, ti.tcpi_unacked);
	ASSERT_EQ(0u, ti.tcpi_notsent_bytes);
	ASSERT_NE(0u, ti.tcpi_rtt);
	ASSERT_NE(0u, ti.tcpi_min_rtt);
	ASSERT_LE(ti.tcpi_min_rtt, ti.tcpi_rtt * 8);
	ASSERT_LE(10u, ti.tcpi_snd_cwnd);
	ASSERT_LT(500u, ti.tcpi_snd_mss);
	/*
	 * Loopback's MTU, 65536: IPv4 caps a path MTU at 65535
	 * (IP_MAX_MTU), IPv6 takes it whole.
	 */
	ASSERT_EQ(variant->family == AF_INET6 ? 65536u : 65535u,
		  ti.tcpi_pmtu);
	ASSERT_NE(0u, ti.tcpi_rto);
	ASSERT_NE(0, ti.tcpi_options & TCPI_OPT_TIMESTAMPS);
	ASSERT_NE(0, ti.tcpi_options & TCPI_OPT_WSCALE);
	ASSERT_EQ(7, (int)ti.tcpi_rcv_wscale);
	ASSERT_LT(0u, ti.tcpi_data_segs_out);
	ASSERT_LE(ti.tcpi_data_segs_out, ti.tcpi_segs_out);
	ASSERT_LT(0u, si.tcpi_data_segs_in);
	ASSERT_LE(si.tcpi_data_segs_in, si.tcpi_segs_in);
	ASSERT_EQ(ti.tcpi_data_segs_out, si.tcpi_data_segs_in);
	ASSERT_GT(2147483648u, ti.tcpi_snd_ssthresh);
	ASSERT_GT(5000u, ti.tcpi_last_data_sent);
	ASSERT_GT(5000u, si.tcpi_last_data_recv);
	ASSERT_GT(5000u, ti.tcpi_last_ack_recv);
	ASSERT_EQ(0u, ti.tcpi_bytes_received);
	/* A passive open does not count its SYN-ACK. */
	ASSERT_EQ(0u, si.tcpi_bytes_acked);
}

/* optlen shorter, longer, zero or negative: as TCP treats it. */
TEST_F(soltcp, tcp_info_optlen)
{
	unsigned char full[512], part[512];
	socklen_t len;

	memset(full, 0xa5, sizeof(full));
	len = sizeof(full);
	ASSERT_EQ(0, getsockopt(self->cfd, SOL_TCP, TCP_INFO, full, &len));
	/* The kernel's structure, whatever the headers here say. */
	ASSERT_LE(sizeof(struct tcp_info), len);
	ASSERT_GT(sizeof(full), len);
	ASSERT_EQ(0, (int)len % 8);
	ASSERT_EQ(0xa5, full[len]);
	ASSERT_EQ(ST_ESTABLISHED, full[0]);

	memset(part, 0xa5, sizeof(part));
	len = 8;
	ASSERT_EQ(0, getsockopt(self->cfd, SOL_TCP, TCP_INFO, part, &len));
	ASSERT_EQ(8, (int)len);
	ASSERT_EQ(0, memcmp(part, full, 8));
	ASSERT_EQ(0xa5, part[8]);

	memset(part, 0xa5, sizeof(part));
	len = 0;
	ASSERT_EQ(0, getsockopt(self->cfd, SOL_TCP, TCP_INFO, part, &len));
	ASSERT_EQ(0, (int)len);
	ASSERT_EQ(0xa5, part[0]);

	len = -1;
	ASSERT_EQ(-1, getsockopt(self->cfd, SOL_TCP, TCP_INFO, part, &len));
	ASSERT_EQ(EINVAL, errno);
}

/* A listener: its state, and the backlog in tcpi_sacked. */
TEST_F(soltcp, tcp_info_listener)
{
	struct sockaddr_storage ss;
	socklen_t len = xtcp_lo_sa(variant->family, 0, &ss);
	struct tcp_info ti;
	int lfd;

	lfd = socket(variant->family, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, listen(lfd, 7));
	ASSERT_EQ(0, tcp_info_of(lfd, &ti));
	ASSERT_EQ(ST_LISTEN, ti.tcpi_state);
	ASSERT_EQ(0u, ti.tcpi_unacked);
	ASSERT_EQ(7u, ti.tcpi_sacked);
	close(lfd);
}

/*
 * TCP_CORK holds a small write; uncorking sends it at once. The RTO is
 * 1.5 s, after which a corked segment with nothing in flight would go by
 * itself (the persist timer, on both).
 */
TEST_F(soltcp, cork_holds_until_uncorked)
{
	char buf[16];
	__s64 t0;
	int err;

	err = set_rto_min(variant->proto, 1500);
	if (err == -ENOENT)
		SKIP(return, XTCP_NO_RTO_MIN_KNOB);
	ASSERT_EQ(0, err);
	close(self->cfd);
	close(self->sfd);
	self->sfd = xtcp_lo_pair_family(variant->family, variant->proto,
					&self->cfd);
	ASSERT_LE(0, self->sfd);

	ASSERT_EQ(0, xtcp_get_int(self->cfd, SOL_TCP, TCP_CORK));
	ASSERT_EQ(0, xtcp_set_int(self->cfd, SOL_TCP, TCP_CORK, 1));
	ASSERT_EQ(1, xtcp_get_int(self->cfd, SOL_TCP, TCP_CORK));

	ASSERT_EQ(10, send(self->cfd, "0123456789", 10, 0));
	ASSERT_EQ(-EAGAIN, recv_within(self->sfd, buf, 10, 400));
	ASSERT_EQ(10, send(self->cfd, "abcdefghij", 10, 0));
	ASSERT_EQ(-EAGAIN, recv_within(self->sfd, buf, 1, 200));

	t0 = xp_now_ms();
	ASSERT_EQ(0, xtcp_set_int(self->cfd, SOL_TCP, TCP_CORK, 0));
	ASSERT_EQ(0, xtcp_get_int(self->cfd, SOL_TCP, TCP_CORK));
	ASSERT_EQ(16, recv_within(self->sfd, buf, 16, 2000));
	ASSERT_EQ(0, memcmp(buf, "0123456789abcdef", 16));
	ASSERT_GT(500, xp_now_ms() - t0);
}

/* Corked and left so: one RTO later the segment goes all the same. */
TEST_F(soltcp, cork_persist_ceiling)
{
	char buf[16];
	__s64 t0;
	int err;

	err = set_rto_min(variant->proto, 600);
	if (err == -ENOENT)
		SKIP(return, XTCP_NO_RTO_MIN_KNOB);
	ASSERT_EQ(0, err);
	close(self->cfd);
	close(self->sfd);
	self->sfd = xtcp_lo_pair_family(variant->family, variant->proto,
					&self->cfd);
	ASSERT_LE(0, self->sfd);

	ASSERT_EQ(0, xtcp_set_int(self->cfd, SOL_TCP, TCP_CORK, 1));
	t0 = xp_now_ms();
	ASSERT_EQ(5, send(self->cfd, "hello", 5, 0));
	ASSERT_EQ(5, recv_within(self->sfd, buf, 5, 5000));
	TH_LOG("corked segment after %lld ms", (long long)(xp_now_ms() - t0));
	ASSERT_LE(400, xp_now_ms() - t0);
	ASSERT_GT(3000, xp_now_ms() - t0);
}

/* NODELAY while corked pushes what is held. */
TEST_F(soltcp, nodelay_pushes_corked)
{
	char buf[8];
	int err;

	err = set_rto_min(variant->proto, 1500);
	if (err == -ENOENT)
		SKIP(return, XTCP_NO_RTO_MIN_KNOB);
	ASSERT_EQ(0, err);
	close(self->cfd);
	close(self->sfd);
	self->sfd = xtcp_lo_pair_family(variant->family, variant->proto,
					&self->cfd);
	ASSERT_LE(0, self->sfd);

	ASSERT_EQ(0, xtcp_set_int(self->cfd, SOL_TCP, TCP_CORK, 1));
	ASSERT_EQ(4, send(self->cfd, "cork", 4, 0));
	ASSERT_EQ(-EAGAIN, recv_within(self->sfd, buf, 4, 300));
	ASSERT_EQ(0, xtcp_set_int(self->cfd, SOL_TCP, TCP_NODELAY, 1));
	ASSERT_EQ(4, recv_within(self->sfd, buf, 4, 1000));
	ASSERT_EQ(1, xtcp_get_int(self->cfd, SOL_TCP, TCP_CORK));
}

/* TCP_QUICKACK reads back as on TCP. */
TEST_F(soltcp, quickack)
{
	ASSERT_EQ(1, xtcp_get_int(self->cfd, SOL_TCP, TCP_QUICKACK));
	ASSERT_EQ(0, xtcp_set_int(self->cfd, SOL_TCP, TCP_QUICKACK, 0));
	ASSERT_EQ(0, xtcp_get_int(self->cfd, SOL_TCP, TCP_QUICKACK));
	ASSERT_EQ(0, xtcp_set_int(self->cfd, SOL_TCP, TCP_QUICKACK, 1));
	ASSERT_EQ(1, xtcp_get_int(self->cfd, SOL_TCP, TCP_QUICKACK));
	ASSERT_EQ(0, xtcp_echo(self->cfd, self->sfd));
}

/* TCP_DEFER_ACCEPT is kept in SYN-ACK retransmissions: it rounds up. */
TEST_F(soltcp, defer_accept_rounding)
{
	static const int in[] = { 0, 1, 2, 3, 4, 5, 8, 200, 100000, -3 };
	static const int out[] = { 0, 1, 3, 3, 7, 7, 15, 247, 29887, 0 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(in); i++) {
		ASSERT_EQ(0, xtcp_set_int(self->cfd, SOL_TCP,
					  TCP_DEFER_ACCEPT, in[i]));
		EXPECT_EQ(out[i], xtcp_get_int(self->cfd, SOL_TCP,
					       TCP_DEFER_ACCEPT))
			TH_LOG("%d s", in[i]);
	}
}

/*
 * A peer that vanished: unacknowledged data ends the connection with
 * ETIMEDOUT after TCP_USER_TIMEOUT, long before retries2 would.
 */
TEST_F(soltcp, user_timeout_retransmission)
{
	__s64 t0, dt;

	ASSERT_EQ(0, xtcp_set_int(self->cfd, SOL_TCP, TCP_USER_TIMEOUT,
				  1500));
	ASSERT_EQ(0, drop_all(self->sfd));
	t0 = xp_now_ms();
	ASSERT_EQ(100, send(self->cfd, "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "01234567890123456789", 100, 0));
	ASSERT_EQ(ETIMEDOUT, wait_error(self->cfd, 10000));
	dt = xp_now_ms() - t0;
	TH_LOG("ETIMEDOUT after %lld ms", (long long)dt);
	ASSERT_LE(1400, dt);
	ASSERT_GT(3500, dt);
}

/*
 * Keepalive with TCP_USER_TIMEOUT: the timeout, not TCP_KEEPCNT, ends a
 * connection whose probes go unanswered.
 */
TEST_F(soltcp, user_timeout_keepalive)
{
	__s64 t0, dt;

	ASSERT_EQ(0, xtcp_set_int(self->cfd, SOL_TCP, TCP_KEEPIDLE, 1));
	ASSERT_EQ(0, xtcp_set_int(self->cfd, SOL_TCP, TCP_KEEPINTVL, 1));
	ASSERT_EQ(0, xtcp_set_int(self->cfd, SOL_TCP, TCP_KEEPCNT, 100));
	ASSERT_EQ(0, xtcp_set_int(self->cfd, SOL_TCP, TCP_USER_TIMEOUT,
				  2500));
	ASSERT_EQ(0, drop_all(self->sfd));
	t0 = xp_now_ms();
	ASSERT_EQ(0, xtcp_set_int(self->cfd, SOL_SOCKET, SO_KEEPALIVE, 1));
	ASSERT_EQ(ETIMEDOUT, wait_error(self->cfd, 15000));
	dt = xp_now_ms() - t0;
	TH_LOG("ETIMEDOUT after %lld ms", (long long)dt);
	ASSERT_LE(2400, dt);
	ASSERT_GT(6000, dt);
}

/*
 * TCP_CORK, TCP_USER_TIMEOUT, TCP_NOTSENT_LOWAT and TCP_INQ read back as
 * set, and refuse what TCP refuses; on xtcp the same at SOL_XTCP.
 */
TEST_F(soltcp, api_options_round_trip)
{
	int levels[2] = { SOL_TCP, SOL_XTCP };
	int fd = self->cfd, i;
	short s = 1;

	for (i = 0; i < (variant->proto == IPPROTO_XTCP ? 2 : 1); i++) {
		int lv = levels[i];

		TH_LOG("level %d", lv);
		ASSERT_EQ(0, xtcp_get_int(fd, lv, TCP_CORK));
		ASSERT_EQ(0, xtcp_set_int(fd, lv, TCP_CORK, 7));
		ASSERT_EQ(1, xtcp_get_int(fd, lv, TCP_CORK));
		ASSERT_EQ(0, xtcp_set_int(fd, lv, TCP_CORK, 0));
		ASSERT_EQ(0, xtcp_get_int(fd, lv, TCP_CORK));

		ASSERT_EQ(0, xtcp_get_int(fd, lv, TCP_USER_TIMEOUT));
		ASSERT_EQ(0, xtcp_set_int(fd, lv, TCP_USER_TIMEOUT, 2500));
		ASSERT_EQ(2500, xtcp_get_int(fd, lv, TCP_USER_TIMEOUT));
		ASSERT_EQ(-EINVAL, xtcp_set_int(fd, lv, TCP_USER_TIMEOUT, -1));
		ASSERT_EQ(2500, xtcp_get_int(fd, lv, TCP_USER_TIMEOUT));
		ASSERT_EQ(0, xtcp_set_int(fd, lv, TCP_USER_TIMEOUT, 0));

		/* Any int, a negative one too; 0 is the default. */
		ASSERT_EQ(0, xtcp_get_int(fd, lv, TCP_NOTSENT_LOWAT));
		ASSERT_EQ(0, xtcp_set_int(fd, lv, TCP_NOTSENT_LOWAT, 16384));
		ASSERT_EQ(16384, xtcp_get_int(fd, lv, TCP_NOTSENT_LOWAT));
		ASSERT_EQ(0, xtcp_set_int(fd, lv, TCP_NOTSENT_LOWAT, -1));
		ASSERT_EQ(-1, xtcp_get_int(fd, lv, TCP_NOTSENT_LOWAT));
		ASSERT_EQ(0, xtcp_set_int(fd, lv, TCP_NOTSENT_LOWAT, 0));
		ASSERT_EQ(0, xtcp_get_int(fd, lv, TCP_NOTSENT_LOWAT));

		ASSERT_EQ(0, xtcp_get_int(fd, lv, TCP_INQ));
		ASSERT_EQ(0, xtcp_set_int(fd, lv, TCP_INQ, 1));
		ASSERT_EQ(1, xtcp_get_int(fd, lv, TCP_INQ));
		ASSERT_EQ(-EINVAL, xtcp_set_int(fd, lv, TCP_INQ, 2));
		ASSERT_EQ(-EINVAL, xtcp_set_int(fd, lv, TCP_INQ, -1));
		ASSERT_EQ(1, xtcp_get_int(fd, lv, TCP_INQ));
		ASSERT_EQ(0, xtcp_set_int(fd, lv, TCP_INQ, 0));
		ASSERT_EQ(0, xtcp_get_int(fd, lv, TCP_INQ));

		ASSERT_EQ(-EINVAL, setsockopt(fd, lv, TCP_INQ, &s, sizeof(s)) ?
				   -errno : 0);
		ASSERT_EQ(-EINVAL, setsockopt(fd, lv, TCP_NOTSENT_LOWAT, &s,
					      sizeof(s)) ? -errno : 0);
	}
}

/* recvmsg() on @fd into @buf; the TCP_CM_INQ-type cmsg's value at @level. */
static int recv_inq(int fd, char *buf, size_t len, int level, int *inq)
{
	char ctl[CMSG_SPACE(sizeof(int)) * 2];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	struct cmsghdr *cm;
	int n;

	*inq = -1;
	n = recvmsg(fd, &mh, MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == level && cm->cmsg_type == TCP_CM_INQ &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(inq, CMSG_DATA(cm), sizeof(int));
		else
			*inq = -2;	/* anything else */
	}
	return n;
}

static int ioctl_int(int fd, unsigned long req)
{
	int val;

	return ioctl(fd, req, &val) ? -errno : val;
}

/*
 * TCP_INQ: each recvmsg() carries the bytes left to read, a received FIN
 * counting one until it is read, and 1 once it is (tcp_inq_hint()).
 */
TEST_F(soltcp, inq_cmsg)
{
	char buf[64];
	int inq;

	ASSERT_EQ(11, send(self->cfd, "hello world", 11, 0));
	ASSERT_TRUE(xtcp_wait_until(ioctl_int(self->sfd, SIOCINQ) == 11,
				    2000));
	/* Off: no cmsg. */
	ASSERT_EQ(1, recv_inq(self->sfd, buf, 1, SOL_TCP, &inq));
	ASSERT_EQ(-1, inq);

	ASSERT_EQ(0, xtcp_set_int(self->sfd, SOL_TCP, TCP_INQ, 1));
	ASSERT_EQ(3, recv_inq(self->sfd, buf, 3, SOL_TCP, &inq));
	ASSERT_EQ(7, inq);
	ASSERT_EQ(0, shutdown(self->cfd, SHUT_WR));
	ASSERT_TRUE(xtcp_wait_fd(self->sfd, POLLRDHUP, 2000) & POLLRDHUP);
	ASSERT_EQ(7, ioctl_int(self->sfd, SIOCINQ));
	ASSERT_EQ(3, recv_inq(self->sfd, buf, 3, SOL_TCP, &inq));
	ASSERT_EQ(5, inq);	/* 4 bytes and the FIN */
	ASSERT_EQ(4, ioctl_int(self->sfd, SIOCINQ));
	ASSERT_EQ(4, recv_inq(self->sfd, buf, sizeof(buf), SOL_TCP, &inq));
	ASSERT_EQ(1, inq);
	ASSERT_EQ(0, recv_inq(self->sfd, buf, sizeof(buf), SOL_TCP, &inq));
	ASSERT_EQ(1, inq);
	ASSERT_EQ(0, ioctl_int(self->sfd, SIOCINQ));
}

/* Nothing to read: the cmsg says 0, and comes with EAGAIN not at all. */
TEST_F(soltcp, inq_cmsg_empty)
{
	char buf[8];
	int inq;

	ASSERT_EQ(0, xtcp_set_int(self->sfd, SOL_TCP, TCP_INQ, 1));
	ASSERT_EQ(-EAGAIN, recv_inq(self->sfd, buf, sizeof(buf), SOL_TCP,
				    &inq));
	ASSERT_EQ(-1, inq);
	ASSERT_EQ(4, send(self->cfd, "abcd", 4, 0));
	ASSERT_TRUE(xtcp_wait_until(ioctl_int(self->sfd, SIOCINQ) == 4, 2000));
	ASSERT_EQ(4, recv_inq(self->sfd, buf, sizeof(buf), SOL_TCP, &inq));
	ASSERT_EQ(0, inq);
}

/*
 * SIOCINQ, SIOCOUTQ, SIOCOUTQNSD: EINVAL on a listener; on a connection
 * the unread, unacknowledged and unsent bytes, the FIN counted in the
 * output queue until acknowledged, never in the input queue.
 */
TEST_F(soltcp, inq_outq_ioctls)
{
	struct sockaddr_storage ss;
	socklen_t len = xtcp_lo_sa(variant->family, 0, &ss);
	static char buf[3000];
	int lfd, fd;

	lfd = socket(variant->family, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, ioctl_int(lfd, SIOCINQ));
	ASSERT_EQ(0, ioctl_int(lfd, SIOCOUTQ));
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, listen(lfd, 1));
	ASSERT_EQ(-EINVAL, ioctl_int(lfd, SIOCINQ));
	ASSERT_EQ(-EINVAL, ioctl_int(lfd, SIOCOUTQ));
	ASSERT_EQ(-EINVAL, ioctl_int(lfd, SIOCOUTQNSD));
	close(lfd);

	fd = self->cfd;
	memset(buf, 'o', sizeof(buf));
	ASSERT_EQ(3000, send(fd, buf, 3000, 0));
	ASSERT_TRUE(xtcp_wait_until(ioctl_int(self->sfd, SIOCINQ) == 3000,
				    2000));
	ASSERT_TRUE(xtcp_wait_until(ioctl_int(fd, SIOCOUTQ) == 0, 2000));
	ASSERT_EQ(0, ioctl_int(fd, SIOCOUTQNSD));

	/* The peer hears nothing more: the bytes stay unacknowledged. */
	ASSERT_EQ(0, drop_all(self->sfd));
	ASSERT_EQ(1000, send(fd, buf, 1000, 0));
	ASSERT_EQ(1000, ioctl_int(fd, SIOCOUTQ));
	ASSERT_EQ(0, ioctl_int(fd, SIOCOUTQNSD));
	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	ASSERT_EQ(1001, ioctl_int(fd, SIOCOUTQ));
	ASSERT_EQ(3000, ioctl_int(self->sfd, SIOCINQ));

	/* Corked: queued and not sent. */
	ASSERT_EQ(0, xtcp_set_int(self->sfd, SOL_TCP, TCP_CORK, 1));
	ASSERT_EQ(10, send(self->sfd, buf, 10, 0));
	ASSERT_EQ(10, ioctl_int(self->sfd, SIOCOUTQNSD));
	ASSERT_EQ(10, ioctl_int(self->sfd, SIOCOUTQ));
}

/*
 * TCP_NOTSENT_LOWAT: poll() says POLLOUT only while twice the unsent
 * bytes are below the mark (held here by TCP_CORK); an epoll writer is
 * woken once they leave. The sysctl sets the mark of sockets without one.
 */
TEST_F(soltcp, notsent_lowat_poll)
{
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLET };
	static char buf[600];
	int fd = self->cfd, ep;
	int err;

	memset(buf, 'w', sizeof(buf));
	err = set_rto_min(variant->proto, 5000);
	if (err == -ENOENT)
		SKIP(return, XTCP_NO_RTO_MIN_KNOB);
	ASSERT_EQ(0, err);
	close(self->cfd);
	close(self->sfd);
	self->sfd = xtcp_lo_pair_family(variant->family, variant->proto,
					&self->cfd);
	ASSERT_LE(0, self->sfd);
	fd = self->cfd;

	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_CORK, 1));
	ASSERT_EQ(400, send(fd, buf, 400, 0));
	ASSERT_EQ(400, ioctl_int(fd, SIOCOUTQNSD));
	ASSERT_EQ(POLLOUT, xtcp_wait_fd(fd, POLLOUT, 0));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_NOTSENT_LOWAT, 1000));
	ASSERT_EQ(POLLOUT, xtcp_wait_fd(fd, POLLOUT, 0));	/* 800 < 1000 */
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_NOTSENT_LOWAT, 800));
	ASSERT_EQ(0, xtcp_wait_fd(fd, POLLOUT, 0));		/* 800 */
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_NOTSENT_LOWAT, 1000));
	ASSERT_EQ(200, send(fd, buf, 200, 0));
	ASSERT_EQ(0, xtcp_wait_fd(fd, POLLOUT, 0));		/* 1200 */

	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_CORK, 0));
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 2000));
	ASSERT_NE(0U, ev.events & EPOLLOUT);
	ASSERT_EQ(0, ioctl_int(fd, SIOCOUTQNSD));
	ASSERT_EQ(600, recv_within(self->sfd, buf, 600, 2000));

	/* The mark back to the default: the namespace's sysctl. */
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_NOTSENT_LOWAT, 0));
	if (variant->proto == IPPROTO_XTCP) {
		ASSERT_EQ(0, xtcp_sysctl_set("notsent_lowat", 1000));
	} else {
		ASSERT_EQ(0, xtcp_write_long(IPV4_SYSCTL "tcp_notsent_lowat",
					     1000));
	}
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_CORK, 1));
	ASSERT_EQ(400, send(fd, buf, 400, 0));
	ASSERT_EQ(POLLOUT, xtcp_wait_fd(fd, POLLOUT, 0));
	ASSERT_EQ(200, send(fd, buf, 200, 0));
	ASSERT_EQ(0, xtcp_wait_fd(fd, POLLOUT, 0));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_CORK, 0));
	ASSERT_TRUE(xtcp_wait_fd(fd, POLLOUT, 2000) & POLLOUT);
	close(ep);
}

/* The same value underneath both levels. */
TEST(levels_share_values)
{
	int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_XTCP);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_NODELAY, 1));
	ASSERT_EQ(1, xtcp_get_int(fd, SOL_XTCP, XTCP_NODELAY));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_XTCP, XTCP_NODELAY, 0));
	ASSERT_EQ(0, xtcp_get_int(fd, SOL_TCP, TCP_NODELAY));

	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_KEEPIDLE, 11));
	ASSERT_EQ(11, xtcp_get_int(fd, SOL_XTCP, XTCP_KEEPIDLE));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_XTCP, XTCP_KEEPINTVL, 12));
	ASSERT_EQ(12, xtcp_get_int(fd, SOL_TCP, TCP_KEEPINTVL));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_KEEPCNT, 13));
	ASSERT_EQ(13, xtcp_get_int(fd, SOL_XTCP, XTCP_KEEPCNT));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_XTCP, XTCP_MAXSEG, 1200));
	ASSERT_EQ(1200, xtcp_get_int(fd, SOL_TCP, TCP_MAXSEG));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_LINGER2, 40));
	ASSERT_EQ(40, xtcp_get_int(fd, SOL_XTCP, XTCP_LINGER2));

	/* SOL_XTCP keeps its own ranges. */
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_XTCP, XTCP_MAXSEG, 40000));
	ASSERT_EQ(-EINVAL, xtcp_set_int(fd, SOL_TCP, TCP_MAXSEG, 40000));
	ASSERT_EQ(40000, xtcp_get_int(fd, SOL_TCP, TCP_MAXSEG));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_XTCP, XTCP_LINGER2, 600));
	ASSERT_EQ(600, xtcp_get_int(fd, SOL_TCP, TCP_LINGER2));
	ASSERT_EQ(-EINVAL, xtcp_set_int(fd, SOL_XTCP, XTCP_LINGER2, 4000));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_CORK, 1));
	ASSERT_EQ(1, xtcp_get_int(fd, SOL_XTCP, XTCP_CORK));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_XTCP, XTCP_USER_TIMEOUT, 900));
	ASSERT_EQ(900, xtcp_get_int(fd, SOL_TCP, TCP_USER_TIMEOUT));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_TCP, TCP_NOTSENT_LOWAT, 4096));
	ASSERT_EQ(4096, xtcp_get_int(fd, SOL_XTCP, XTCP_NOTSENT_LOWAT));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_XTCP, XTCP_INQ, 1));
	ASSERT_EQ(1, xtcp_get_int(fd, SOL_TCP, TCP_INQ));
	/* The TCP-only options are not at SOL_XTCP. */
	ASSERT_EQ(-ENOPROTOOPT, xtcp_set_int(fd, SOL_XTCP, TCP_QUICKACK, 1));
	ASSERT_EQ(-ENOPROTOOPT, xtcp_get_int(fd, SOL_XTCP,
					     TCP_DEFER_ACCEPT));
	close(fd);
}

/* XTCP_INQ set at SOL_XTCP: the cmsg is XTCP_CM_INQ at SOL_XTCP. */
TEST(xtcp_inq_cmsg_level)
{
	char buf[16];
	int cfd, sfd, inq;

	ASSERT_EQ(0, xp_unshare_net());
	sfd = xtcp_lo_pair(IPPROTO_XTCP, &cfd);
	ASSERT_LE(0, sfd);
	ASSERT_EQ(0, xtcp_set_int(sfd, SOL_XTCP, XTCP_INQ, 1));
	ASSERT_EQ(6, send(cfd, "abcdef", 6, 0));
	ASSERT_TRUE(xtcp_wait_until(ioctl_int(sfd, SIOCINQ) == 6, 2000));
	ASSERT_EQ(2, recv_inq(sfd, buf, 2, SOL_XTCP, &inq));
	ASSERT_EQ(4, inq);
	ASSERT_EQ(XTCP_CM_INQ, TCP_CM_INQ);
	/* Set again at SOL_TCP: TCP's level. */
	ASSERT_EQ(0, xtcp_set_int(sfd, SOL_TCP, TCP_INQ, 1));
	ASSERT_EQ(2, recv_inq(sfd, buf, 2, SOL_TCP, &inq));
	ASSERT_EQ(2, inq);
	close(cfd);
	close(sfd);
}

/* TCP options xtcp does not have fail rather than do nothing. */
TEST(xtcp_unsupported_tcp_options)
{
	static const int opts[] = { TCP_SYNCNT, TCP_WINDOW_CLAMP,
				    TCP_FASTOPEN, TCP_THIN_LINEAR_TIMEOUTS };
	int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_XTCP);
	unsigned int i;

	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		EXPECT_EQ(-ENOPROTOOPT, xtcp_set_int(fd, SOL_TCP, opts[i], 1))
			TH_LOG("option %d", opts[i]);
		EXPECT_EQ(-ENOPROTOOPT, xtcp_get_int(fd, SOL_TCP, opts[i]))
			TH_LOG("option %d", opts[i]);
	}
	close(fd);
}

TEST_HARNESS_MAIN
