// SPDX-License-Identifier: GPL-2.0
/*
 * ICMP errors about xtcp's segments, against a scripted peer
 * (xtcp_peer.h) that forges them: the peer quotes a segment the kernel
 * sent it, as a router or the peer's host would (RFC 792, RFC 1122
 * 4.2.3.9). Port and protocol unreachable end a connect() at once; the
 * other errors do too in SYN_SENT, and are soft on an established
 * connection (SO_ERROR reports them, the connection goes on); an error
 * that quotes no sequence number in flight is dropped and counted
 * (RFC 5927); "fragmentation needed" lowers the path MTU and the send MSS
 * and the segments too large go again at once (RFC 1191), within the
 * route's clamp and the MSS floor; an error about a half-open connection
 * drops it.
 *
 * Every test runs for Linux TCP and for xtcp with the same expectations:
 * TCP is the oracle. The one intended difference, documented in
 * Documentation/xtcp.rst "ICMP and path MTU", is the errno of protocol
 * unreachable. Needs root (tun device, sysctls).
 */

#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>

/*
 * The harness's wrapper around each test keeps its fork() result in a
 * local across the setjmp() that ASSERT_*() return to; once a test body is
 * inlined there, GCC warns that it might be clobbered. Should it be, a
 * failed assertion still fails the test (the process aborts).
 */
#pragma GCC diagnostic ignored "-Wclobbered"

#include "kselftest_harness.h"
#include "xtcp_test.h"
#include "xtcp_peer.h"

#define KADDR		"10.9.0.1"
#define PADDR		"10.9.0.2"
#define PEER_ISN	700000
#define CTL		(XP_SYN | XP_ACK | XP_RST | XP_FIN)
/* A long minimum RTO: a retransmission well before it is no timeout's. */
#define RTO_MIN_MS	1500
#define FAST_MS		700
#define TUN_MTU		1500
#define PEER_MSS	1460
#define ICMP_MTU	1280
#define HDRS		40	/* IPv4 and base headers, no options */
#define MIN_PMTU	552	/* net.ipv4.route.min_pmtu default */
#define MSS_FLOOR	48	/* TCP_MIN_SND_MSS, XTCP_MIN_SND_MSS */

/* RFC 792 types and codes. */
#define T_UNREACH	3
#define C_HOST		1
#define C_PROTO		2
#define C_PORT		3
#define C_FRAG		4

FIXTURE(icmp) {
	struct xp_peer p;
};

FIXTURE_VARIANT(icmp) {
	int proto;
	int level;		/* SOL_TCP or SOL_XTCP */
	int proto_unreach;	/* the errno of ICMP protocol unreachable */
	const char *rto_min;	/* knob path */
	long rto_min_val;	/* RTO_MIN_MS in the knob's unit */
};

FIXTURE_VARIANT_ADD(icmp, tcp) {
	.proto = IPPROTO_TCP,
	.level = SOL_TCP,
	.proto_unreach = ENOPROTOOPT,
	.rto_min = "/proc/sys/net/ipv4/tcp_rto_min_us",
	.rto_min_val = RTO_MIN_MS * 1000,
};

/* The peer's host has no xtcp: for xtcp that is a refused connection. */
FIXTURE_VARIANT_ADD(icmp, xtcp) {
	.proto = IPPROTO_XTCP,
	.level = SOL_XTCP,
	.proto_unreach = ECONNREFUSED,
	.rto_min = "/proc/sys/net/xtcp/rto_min",
	.rto_min_val = RTO_MIN_MS,
};

static int knob(const char *path, long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", val);
	return xtcp_write_file(path, buf);
}

FIXTURE_SETUP(icmp)
{
	int err;

	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("unshare: %s", strerror(-err));
	err = knob(variant->rto_min, variant->rto_min_val);
	/* The cases tell an immediate resend from a timeout by the RTO. */
	if (err == -ENOENT && variant->proto == IPPROTO_TCP)
		SKIP(return, XTCP_NO_RTO_MIN_KNOB);
	ASSERT_EQ(0, err);
	err = xp_open(&self->p, variant->proto, KADDR, PADDR);
	ASSERT_EQ(0, err) TH_LOG("xp_open: %s", strerror(-err));
}

FIXTURE_TEARDOWN(icmp)
{
	xp_close(&self->p);
}

/*
 * The IP header and first 8 bytes of the packet xp_recv() read last (the
 * least a router quotes), into @q; @seq_delta is added to the quoted
 * sequence number. Returns the length.
 */
static size_t quote_last(const struct xp_peer *p, __u8 *q, __u32 seq_delta)
{
	size_t len = (p->buf[0] & 0xf) * 4 + 8;

	memcpy(q, p->buf, len);
	xp_put32(q + len - 4, xp_get32(q + len - 4) + seq_delta);
	return len;
}

/* An ICMP error from the peer's address quoting @q. 0 or -errno. */
static int send_icmp(struct xp_peer *p, int type, int code, __u16 mtu,
		     const __u8 *q, size_t qlen)
{
	__u8 pkt[20 + 8 + 128];
	struct xp_iphdr *iph = (struct xp_iphdr *)pkt;
	__u8 *icmp = pkt + 20;
	size_t len = 20 + 8 + qlen;
	ssize_t n;

	if (qlen > 128)
		return -EINVAL;
	memset(pkt, 0, sizeof(pkt));
	iph->ver_ihl = 0x45;
	iph->tot_len = htons(len);
	iph->id = htons(p->ip_id++);
	iph->ttl = 64;
	iph->protocol = IPPROTO_ICMP;
	iph->saddr = p->paddr.s_addr;
	iph->daddr = p->kaddr.s_addr;
	iph->check = htons(~xp_csum_fold(xp_csum_add(0, iph, 20)));
	icmp[0] = type;
	icmp[1] = code;
	xp_put16(icmp + 6, mtu);
	memcpy(icmp + 8, q, qlen);
	xp_put16(icmp + 2, ~xp_csum_fold(xp_csum_add(0, icmp, 8 + qlen)));
	n = write(p->fd, pkt, len);
	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO;
}

/* SO_ERROR, which also takes a soft error. */
static int so_error(int fd)
{
	return xtcp_get_int(fd, SOL_SOCKET, SO_ERROR);
}

/* The first soft or hard error @fd reports within @ms, else 0. */
static int wait_so_error(int fd, int ms)
{
	int e = 0;

	xtcp_wait_until((e = so_error(fd)) != 0, ms);
	return e;
}

/* A non-blocking connect() to the peer; its SYN is in @syn, quoted in @q. */
static int start_connect(FIXTURE_DATA(icmp) *self,
			 const FIXTURE_VARIANT(icmp) *variant,
			 struct xp_seg *syn, __u8 *q, size_t *qlen)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(9000),
		.sin_addr = self->p.paddr,
	};
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    variant->proto);
	if (fd < 0)
		return -errno;
	if (!connect(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    errno != EINPROGRESS) {
		err = -errno;
		close(fd);
		return err ?: -EPROTO;
	}
	err = xp_expect(&self->p, syn, CTL, XP_SYN, 3000);
	if (err) {
		close(fd);
		return err;
	}
	*qlen = quote_last(&self->p, q, 0);
	return fd;
}

/* connect() fails at once with @expect after an ICMP @code. */
static void syn_unreach(struct __test_metadata *_metadata,
			FIXTURE_DATA(icmp) *self,
			const FIXTURE_VARIANT(icmp) *variant, int code,
			int expect)
{
	struct xp_seg syn;
	__u8 q[128];
	size_t qlen;
	int fd;

	fd = start_connect(self, variant, &syn, q, &qlen);
	ASSERT_LE(0, fd) TH_LOG("connect: %s", strerror(-fd));
	ASSERT_EQ(0, send_icmp(&self->p, T_UNREACH, code, 0, q, qlen));
	/* Long before the SYN's first retransmission (1 s). */
	ASSERT_NE(0, xtcp_wait_fd(fd, POLLERR, FAST_MS) & POLLERR);
	EXPECT_EQ(expect, so_error(fd));
	EXPECT_EQ(0, so_error(fd));
	close(fd);
}

/* Port unreachable in SYN_SENT: nobody listens there. */
TEST_F(icmp, syn_port_unreach)
{
	syn_unreach(_metadata, self, variant, C_PORT, ECONNREFUSED);
}

/*
 * Protocol unreachable in SYN_SENT: the peer's host has no xtcp. TCP
 * reports ENOPROTOOPT; xtcp ECONNREFUSED.
 */
TEST_F(icmp, syn_proto_unreach)
{
	syn_unreach(_metadata, self, variant, C_PROTO, variant->proto_unreach);
}

/* Host unreachable in SYN_SENT ends the attempt too, as in Linux TCP. */
TEST_F(icmp, syn_host_unreach)
{
	syn_unreach(_metadata, self, variant, C_HOST, EHOSTUNREACH);
}

/*
 * An error quoting a sequence number that is not in flight (RFC 5927
 * 4.1): dropped and counted; the SYN goes on being retransmitted.
 */
TEST_F(icmp, syn_unreach_out_of_window)
{
	long before = xtcp_proto_counter(variant->proto, "OutOfWindowIcmps");
	struct xp_seg syn, r;
	__u8 q[128];
	size_t qlen;
	int fd;

	ASSERT_LE(0, before);
	fd = start_connect(self, variant, &syn, q, &qlen);
	ASSERT_LE(0, fd) TH_LOG("connect: %s", strerror(-fd));
	qlen = quote_last(&self->p, q, 1000);
	ASSERT_EQ(0, send_icmp(&self->p, T_UNREACH, C_PORT, 0, q, qlen));
	EXPECT_TRUE(xtcp_wait_until(xtcp_proto_counter(variant->proto,
						       "OutOfWindowIcmps") ==
				    before + 1, 2000));
	EXPECT_EQ(0, so_error(fd));
	/* The SYN's retransmission: the attempt goes on. */
	ASSERT_EQ(0, xp_expect(&self->p, &r, CTL, XP_SYN, 3000));
	EXPECT_EQ(syn.seq, r.seq);
	EXPECT_EQ(0, so_error(fd));
	close(fd);
}

/* A new connection of the variant's protocol, no timestamps. */
static int open_conn(FIXTURE_DATA(icmp) *self,
		     const FIXTURE_VARIANT(icmp) *variant, struct xp_conn *c,
		     __u16 pport)
{
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, variant->proto);
	if (fd < 0)
		return -errno;
	err = xtcp_set_int(fd, variant->level, TCP_NODELAY, 1);
	if (!err)
		err = xp_conn_connect(&self->p, c, fd, pport, PEER_ISN, 65535,
				      false);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}


static void fill(char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = 'a' + i % 23;
}

/*
 * An error on an established connection quoting data in flight: soft.
 * SO_ERROR reports it once; the connection carries data both ways after.
 */
static void estab_soft(struct __test_metadata *_metadata,
		       FIXTURE_DATA(icmp) *self,
		       const FIXTURE_VARIANT(icmp) *variant, int code,
		       int expect)
{
	char out[100], in[100];
	struct xp_conn c;
	struct xp_seg r;
	__u8 q[128];
	size_t qlen;
	int fd;

	fill(out, sizeof(out));
	fd = open_conn(self, variant, &c, 9001);
	ASSERT_LE(0, fd) TH_LOG("connect: %s", strerror(-fd));
	ASSERT_EQ((ssize_t)sizeof(out), send(fd, out, sizeof(out), 0));
	ASSERT_EQ(0, xp_conn_expect_data(&self->p, &c, &r, 3000));
	qlen = quote_last(&self->p, q, 0);
	ASSERT_EQ(0, send_icmp(&self->p, T_UNREACH, code, 0, q, qlen));

	EXPECT_EQ(expect, wait_so_error(fd, 2000));
	EXPECT_EQ(0, so_error(fd));
	EXPECT_EQ(0, xtcp_wait_fd(fd, POLLERR | POLLHUP, 0));

	/* Still connected: the peer takes the data and answers. */
	ASSERT_EQ(0, xp_conn_ack_to(&self->p, &c, r.seq + r.len));
	ASSERT_EQ(0, xp_conn_data(&self->p, &c, "pong", 4));
	ASSERT_NE(0, xtcp_wait_fd(fd, POLLIN, 3000) & POLLIN);
	EXPECT_EQ(4, recv(fd, in, sizeof(in), MSG_DONTWAIT));
	ASSERT_EQ(10, send(fd, out, 10, 0));
	ASSERT_EQ(0, xp_conn_expect_data(&self->p, &c, &r, 3000));
	EXPECT_EQ(c.k_nxt, r.seq);
	EXPECT_EQ(10U, r.len);
	close(fd);
}

TEST_F(icmp, estab_host_unreach_soft)
{
	estab_soft(_metadata, self, variant, C_HOST, EHOSTUNREACH);
}

/* Port unreachable too (RFC 1122 4.2.3.9 allows hard; Linux keeps soft). */
TEST_F(icmp, estab_port_unreach_soft)
{
	estab_soft(_metadata, self, variant, C_PORT, ECONNREFUSED);
}

TEST_F(icmp, estab_proto_unreach_soft)
{
	estab_soft(_metadata, self, variant, C_PROTO, variant->proto_unreach);
}

/*
 * Data in flight in segments of the peer's MSS; the first one is quoted
 * in @q. Returns the socket.
 */
static int bulk_in_flight(FIXTURE_DATA(icmp) *self,
			  const FIXTURE_VARIANT(icmp) *variant,
			  struct xp_conn *c, struct xp_seg *first, __u8 *q,
			  size_t *qlen, size_t total)
{
	static char out[8192];
	struct xp_seg r;
	__u32 end;
	int fd, err;

	fill(out, sizeof(out));
	fd = open_conn(self, variant, c, 9002);
	if (fd < 0)
		return fd;
	end = c->k_nxt + total;
	if (send(fd, out, total, 0) != (ssize_t)total)
		goto fail;
	err = xp_conn_expect_data(&self->p, c, first, 3000);
	if (err || first->len != PEER_MSS)
		goto fail;
	*qlen = quote_last(&self->p, q, 0);
	/* The rest of the burst; none of it is acknowledged. */
	r = *first;
	while (r.seq + r.len != end)
		if (xp_conn_expect_data(&self->p, c, &r, 3000))
			goto fail;
	return fd;
fail:
	close(fd);
	return -EPROTO;
}

/*
 * After "fragmentation needed" for @mtu: the segments that follow are no
 * larger than @mss and the first one in flight goes again at once, not at
 * the RTO; all the data arrives.
 */
static void expect_resent(struct __test_metadata *_metadata,
			  FIXTURE_DATA(icmp) *self, struct xp_conn *c,
			  const struct xp_seg *first, __u32 end, __u32 mss,
			  __s64 t0)
{
	__u32 got = first->seq;
	struct xp_seg r;
	bool seen = false;

	while (got != end) {
		ASSERT_EQ(0, xp_conn_expect_data(&self->p, c, &r, 3000))
			TH_LOG("stuck at %u of %u", got - first->seq,
			       end - first->seq);
		ASSERT_GE(mss, r.len) TH_LOG("%s", XP_SEG_STR(&r));
		if (!seen) {
			EXPECT_EQ(first->seq, r.seq);
			EXPECT_GT(FAST_MS, xp_now_ms() - t0);
			seen = true;
		}
		if (r.seq == got) {
			got += r.len;
			ASSERT_EQ(0, xp_conn_ack_to(&self->p, c, got));
		}
	}
}

/*
 * "Fragmentation needed" with @mtu, quoting the first of @segs segments
 * in flight: IP_MTU and the send MSS follow the route's @path_mtu at
 * once, and the dropped segments go again, cut to the new MSS, without
 * waiting for the RTO.
 */
static void frag_needed_resends(struct __test_metadata *_metadata,
				FIXTURE_DATA(icmp) *self,
				const FIXTURE_VARIANT(icmp) *variant,
				size_t segs, int mtu, int path_mtu)
{
	const size_t total = segs * PEER_MSS;
	struct xp_seg first;
	struct xp_conn c;
	__u8 q[128];
	size_t qlen;
	__s64 t0;
	int fd;

	fd = bulk_in_flight(self, variant, &c, &first, q, &qlen, total);
	ASSERT_LE(0, fd);
	EXPECT_EQ(TUN_MTU, xtcp_get_int(fd, IPPROTO_IP, IP_MTU));
	EXPECT_EQ(PEER_MSS, xtcp_get_int(fd, variant->level, TCP_MAXSEG));

	t0 = xp_now_ms();
	ASSERT_EQ(0, send_icmp(&self->p, T_UNREACH, C_FRAG, mtu, q, qlen));
	expect_resent(_metadata, self, &c, &first, first.seq + total,
		      path_mtu - HDRS, t0);
	EXPECT_EQ(path_mtu, xtcp_get_int(fd, IPPROTO_IP, IP_MTU));
	EXPECT_EQ(path_mtu - HDRS,
		  xtcp_get_int(fd, variant->level, TCP_MAXSEG));
	close(fd);
}

/* RFC 1191: a router's "fragmentation needed" with the next hop's MTU. */
TEST_F(icmp, frag_needed)
{
	frag_needed_resends(_metadata, self, variant, 3, ICMP_MTU, ICMP_MTU);
}

/*
 * The path MTU learnt expires (net.ipv4.route.mtu_expires, 1 s here):
 * IP_MTU is the device's again, and so the MSS at the next write.
 */
TEST_F(icmp, frag_needed_expires)
{
	const size_t total = 2 * PEER_MSS;
	static char out[2 * PEER_MSS];
	struct xp_seg first, r;
	struct xp_conn c;
	__u8 q[128];
	size_t qlen;
	int fd;

	ASSERT_EQ(0, knob("/proc/sys/net/ipv4/route/mtu_expires", 1));
	fd = bulk_in_flight(self, variant, &c, &first, q, &qlen, total);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_icmp(&self->p, T_UNREACH, C_FRAG, ICMP_MTU, q, qlen));
	expect_resent(_metadata, self, &c, &first, first.seq + total,
		      ICMP_MTU - HDRS, xp_now_ms());
	EXPECT_EQ(ICMP_MTU - HDRS,
		  xtcp_get_int(fd, variant->level, TCP_MAXSEG));

	ASSERT_TRUE(xtcp_wait_until(xtcp_get_int(fd, IPPROTO_IP, IP_MTU) ==
				    TUN_MTU, 5000));
	fill(out, sizeof(out));
	ASSERT_EQ((ssize_t)total, send(fd, out, total, 0));
	ASSERT_EQ(0, xp_conn_expect_data(&self->p, &c, &r, 3000));
	EXPECT_EQ(c.k_nxt, r.seq);
	EXPECT_EQ((size_t)PEER_MSS, r.len);
	EXPECT_EQ(PEER_MSS, xtcp_get_int(fd, variant->level, TCP_MAXSEG));
	close(fd);
}

/*
 * "Fragmentation needed" quoting sequence numbers not in flight, beyond
 * snd_nxt and before snd_una (RFC 5927 5.2): ignored and counted.
 */
TEST_F(icmp, frag_needed_out_of_window)
{
	const size_t total = 2 * PEER_MSS;
	long before = xtcp_proto_counter(variant->proto, "OutOfWindowIcmps");
	struct xp_seg first;
	struct xp_conn c;
	__u8 q[128];
	size_t qlen;
	int fd;

	ASSERT_LE(0, before);
	fd = bulk_in_flight(self, variant, &c, &first, q, &qlen, total);
	ASSERT_LE(0, fd);
	xp_put32(q + qlen - 4, first.seq + total + 1);
	ASSERT_EQ(0, send_icmp(&self->p, T_UNREACH, C_FRAG, ICMP_MTU, q, qlen));
	xp_put32(q + qlen - 4, first.seq - 1);
	ASSERT_EQ(0, send_icmp(&self->p, T_UNREACH, C_FRAG, ICMP_MTU, q, qlen));
	EXPECT_TRUE(xtcp_wait_until(xtcp_proto_counter(variant->proto,
						       "OutOfWindowIcmps") ==
				    before + 2, 2000));
	EXPECT_EQ(TUN_MTU, xtcp_get_int(fd, IPPROTO_IP, IP_MTU));
	EXPECT_EQ(PEER_MSS, xtcp_get_int(fd, variant->level, TCP_MAXSEG));
	EXPECT_EQ(0, so_error(fd));
	close(fd);
}

/*
 * An absurd MTU (68, the least IPv4 allows): the route takes it as
 * net.ipv4.route.min_pmtu (552) and the MSS follows from that.
 */
TEST_F(icmp, frag_needed_tiny)
{
	frag_needed_resends(_metadata, self, variant, 2, 68, MIN_PMTU);
}

/*
 * With min_pmtu lowered to its least, 68, the route takes an MTU of 68
 * and the send MSS stops at the floor, 48, rather than at 28.
 */
TEST_F(icmp, frag_needed_mss_floor)
{
	const size_t total = 2 * PEER_MSS;
	struct xp_seg first;
	struct xp_conn c;
	__u8 q[128];
	size_t qlen;
	int fd;

	ASSERT_EQ(0, knob("/proc/sys/net/ipv4/route/min_pmtu", 68));
	fd = bulk_in_flight(self, variant, &c, &first, q, &qlen, total);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_icmp(&self->p, T_UNREACH, C_FRAG, 68, q, qlen));
	EXPECT_TRUE(xtcp_wait_until(xtcp_get_int(fd, IPPROTO_IP, IP_MTU) ==
				    68, 2000));
	EXPECT_EQ(MSS_FLOOR, xtcp_get_int(fd, variant->level, TCP_MAXSEG));
	close(fd);
}

/*
 * IP_MTU_DISCOVER as TCP: the default, and IP_PMTUDISC_DONT, with which
 * segments leave without DF and "fragmentation needed" teaches the route
 * but neither changes the send MSS nor resends anything at once; the next
 * write takes the MSS from the route. IP_MTU needs a connection.
 */
TEST_F(icmp, pmtudisc_dont)
{
	static char out[PEER_MSS];
	socklen_t len = sizeof(int);
	struct xp_conn c;
	struct xp_seg r;
	int fd, val;
	__u8 q[128];
	size_t qlen;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, variant->proto);
	ASSERT_LE(0, fd);
	EXPECT_EQ(IP_PMTUDISC_WANT,
		  xtcp_get_int(fd, IPPROTO_IP, IP_MTU_DISCOVER));
	EXPECT_EQ(-1, getsockopt(fd, IPPROTO_IP, IP_MTU, &val, &len));
	EXPECT_EQ(ENOTCONN, errno);
	ASSERT_EQ(0, xtcp_set_int(fd, IPPROTO_IP, IP_MTU_DISCOVER,
				  IP_PMTUDISC_DONT));
	EXPECT_EQ(IP_PMTUDISC_DONT,
		  xtcp_get_int(fd, IPPROTO_IP, IP_MTU_DISCOVER));
	ASSERT_EQ(0, xtcp_set_int(fd, variant->level, TCP_NODELAY, 1));
	ASSERT_EQ(0, xp_conn_connect(&self->p, &c, fd, 9003, PEER_ISN, 65535,
				     false));
	EXPECT_EQ(TUN_MTU, xtcp_get_int(fd, IPPROTO_IP, IP_MTU));

	ASSERT_EQ(10, send(fd, "0123456789", 10, 0));
	ASSERT_EQ(0, xp_conn_expect_data(&self->p, &c, &r, 3000));
	EXPECT_EQ(0, xp_get16(self->p.buf + 6) & XP_IP_DF);
	qlen = quote_last(&self->p, q, 0);
	ASSERT_EQ(0, send_icmp(&self->p, T_UNREACH, C_FRAG, ICMP_MTU, q, qlen));
	EXPECT_TRUE(xtcp_wait_until(xtcp_get_int(fd, IPPROTO_IP, IP_MTU) ==
				    ICMP_MTU, 2000));
	EXPECT_EQ(PEER_MSS, xtcp_get_int(fd, variant->level, TCP_MAXSEG));
	/* Nothing goes again before the RTO. */
	EXPECT_EQ(-ETIMEDOUT, xp_conn_expect_data(&self->p, &c, &r, FAST_MS));

	/* The next write takes the MSS from the route, as TCP's. */
	ASSERT_EQ(0, xp_conn_ack_to(&self->p, &c, c.k_nxt + 10));
	ASSERT_EQ(PEER_MSS, send(fd, out, PEER_MSS, 0));
	ASSERT_EQ(0, xp_conn_expect_data(&self->p, &c, &r, 3000));
	EXPECT_EQ(c.k_nxt, r.seq);
	EXPECT_EQ((size_t)(ICMP_MTU - HDRS), r.len);
	EXPECT_EQ(ICMP_MTU - HDRS,
		  xtcp_get_int(fd, variant->level, TCP_MAXSEG));
	close(fd);
}

/*
 * A half-open connection whose SYN-ACK meets host unreachable is dropped
 * (Linux's tcp_req_err()): the ACK that would have completed it finds
 * nothing and is answered with a RST; accept() gets nothing.
 */
TEST_F(icmp, req_host_unreach)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(9004),
		.sin_addr = self->p.kaddr,
	};
	struct xp_seg s, r;
	__u8 q[128];
	size_t qlen;
	int lfd;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		     variant->proto);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(lfd, 8));

	xp_seg_init(&self->p, &s);
	s.sport = 41000;
	s.dport = 9004;
	s.seq = PEER_ISN;
	s.flags = XP_SYN;
	s.mss = PEER_MSS;
	s.wscale = -1;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(0, xp_expect(&self->p, &r, CTL, XP_SYN | XP_ACK, 3000));
	qlen = quote_last(&self->p, q, 0);
	ASSERT_EQ(0, send_icmp(&self->p, T_UNREACH, C_HOST, 0, q, qlen));

	/* The handshake's last ACK. */
	xp_seg_init(&self->p, &s);
	s.sport = 41000;
	s.dport = 9004;
	s.seq = PEER_ISN + 1;
	s.ack = r.seq + 1;
	s.flags = XP_ACK;
	s.wscale = -1;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(0, xp_expect(&self->p, &r, XP_RST, XP_RST, 3000))
		TH_LOG("last skipped: %s", self->p.last_skipped);
	EXPECT_EQ(r.seq, s.ack);
	EXPECT_EQ(-1, accept(lfd, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
	close(lfd);
}

TEST_HARNESS_MAIN
