// SPDX-License-Identifier: GPL-2.0
/*
 * Segment-exact behaviour of xtcp against a scripted peer (xtcp_peer.h):
 * RFC 5961 challenge ACKs, validation of malformed segments, answers for
 * closed ports, SYN, SYN-ACK and data retransmission, out-of-order data,
 * zero-window probes, timestamps and PAWS.
 *
 * Every case runs over IPv4 and over IPv6 (fixture variants ipv4, ipv6):
 * the receive path, the checksum and the answers sent without a socket
 * are the family's own.
 *
 * Timers are made small through net.xtcp.* in each test's own network
 * namespace. Needs root (tun device, sysctls).
 */

#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"
#include "xtcp_peer.h"

#define RTO_MIN_MS	50
#define CTL		(XP_SYN | XP_ACK | XP_RST | XP_FIN)

enum {
	ST_ESTABLISHED = 1,
	ST_SYN_RECV = 3,
	ST_FIN_WAIT2 = 5,
	ST_TIME_WAIT = 6,
	ST_LISTEN = 10,
};

/* Timer kinds of the "tr" column of /proc/net/xtcp. */
#define TR_PROBE	4

/* /proc/net/xtcp or /proc/net/xtcp6, as the test's peer. */
#define PROC		xp_proc_path(&self->p)

static int get_info(int fd, struct xtcp_info *info)
{
	socklen_t len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	if (getsockopt(fd, SOL_XTCP, XTCP_INFO, info, &len))
		return -errno;
	return len == sizeof(*info) ? 0 : -EINVAL;
}

static int info_state(int fd)
{
	struct xtcp_info info;
	int err;

	err = get_info(fd, &info);
	return err ? err : info.xtcpi_state;
}

FIXTURE(peer) {
	struct xp_peer p;
};

FIXTURE_VARIANT(peer) {
	const char *kaddr;
	const char *paddr;
};

FIXTURE_VARIANT_ADD(peer, ipv4) {
	.kaddr = "10.9.0.1",
	.paddr = "10.9.0.2",
};

FIXTURE_VARIANT_ADD(peer, ipv6) {
	.kaddr = "fd00:9::1",
	.paddr = "fd00:9::2",
};

FIXTURE_SETUP(peer)
{
	int err;

	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("unshare: %s", strerror(-err));
	ASSERT_EQ(0, xtcp_sysctl_set("rto_min", RTO_MIN_MS));
	ASSERT_EQ(0, xtcp_sysctl_set("syn_retries", 1));
	ASSERT_EQ(0, xtcp_sysctl_set("synack_retries", 1));
	err = xp_open(&self->p, IPPROTO_XTCP, variant->kaddr, variant->paddr);
	ASSERT_EQ(0, err) TH_LOG("xp_open: %s", strerror(-err));
}

FIXTURE_TEARDOWN(peer)
{
	xp_close(&self->p);
}


/*
 * Active open by xtcp to the peer's @pport; the peer answers with ISN @pisn
 * and window @win, without options but the MSS.
 */
static int open_active(FIXTURE_DATA(peer) *self, __u16 pport, __u32 pisn,
		       __u16 win, struct xp_conn *c)
{
	int fd = xp_socket(&self->p, SOCK_STREAM);

	if (fd < 0)
		return -errno;
	return xp_conn_connect(&self->p, c, fd, pport, pisn, win, false);
}

/* A listener on the kernel side's address, @port; -errno on failure. */
static int listener(const struct xp_peer *p, __u16 port)
{
	struct sockaddr_storage ss;
	socklen_t len = xp_sockaddr(p, false, port, &ss);
	int fd, err;

	fd = xp_socket(p, SOCK_STREAM | SOCK_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 8)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * Pass over what the kernel still sends (window updates after a read,
 * say) until it has been quiet for 200 ms, at most 3 s. Returns the
 * number of segments passed over, or -ETIME if it never went quiet.
 */
static int wait_quiet(struct xp_peer *p)
{
	__s64 deadline = xp_now_ms() + 3000;
	struct xp_seg r;
	int n = 0;

	while (xp_now_ms() < deadline) {
		if (xp_recv(p, &r, 200) == -ETIMEDOUT)
			return n;
		n++;
	}
	return -ETIME;
}

/* Read exactly @len bytes within 3 s. */
static int read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if (!(xtcp_wait_fd(fd, POLLIN, 3000) & POLLIN))
			return -ETIMEDOUT;
		n = recv(fd, buf + got, len - got, MSG_DONTWAIT);
		if (n <= 0)
			return n < 0 ? -errno : -ENODATA;
		got += n;
	}
	return 0;
}

/*
 * RFC 5961 section 3.2: a RST outside the window is dropped in silence,
 * an in-window RST that is not exactly rcv_nxt gets a challenge ACK and
 * changes nothing; the exact one resets.
 */
TEST_F(peer, rst_challenge_then_reset)
{
	long resets_before, resets_after;
	struct xp_seg s, r;
	struct xp_conn c = { 0 };
	char buf[8];

	ASSERT_EQ(0, open_active(self, 9001, 1000, 65535, &c));

	xp_conn_seg(&self->p, &c, &s, XP_RST);
	s.seq = c.p_nxt + 0x40000000;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	EXPECT_EQ(-ETIMEDOUT, xp_recv(&self->p, &r, 300))
		TH_LOG("out-of-window RST answered: %s", XP_SEG_STR(&r));
	EXPECT_EQ(ST_ESTABLISHED, info_state(c.fd));

	xp_conn_seg(&self->p, &c, &s, XP_RST);
	s.seq = c.p_nxt + 1;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(0, xp_conn_expect(&self->p, &c, &r, CTL, XP_ACK, 3000));
	TH_LOG("got %s", XP_SEG_STR(&r));
	EXPECT_EQ(c.p_nxt, r.ack);
	EXPECT_EQ(c.k_nxt, r.seq);
	EXPECT_EQ(0U, r.len);
	EXPECT_TRUE(r.csum_ok);
	EXPECT_EQ(ST_ESTABLISHED, xtcp_proc_state(PROC, c.kport, c.pport));
	EXPECT_EQ(ST_ESTABLISHED, info_state(c.fd));

	/* Both directions still work. */
	ASSERT_EQ(0, xp_conn_data(&self->p, &c, "abc", 3));
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &r, CTL, XP_ACK, c.p_nxt,
					3000));
	ASSERT_EQ(0, read_all(c.fd, buf, 3));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	ASSERT_EQ(3, send(c.fd, "xyz", 3, 0));
	ASSERT_EQ(0, xp_conn_expect_data(&self->p, &c, &r, 3000));
	EXPECT_EQ(c.k_nxt, r.seq);
	ASSERT_EQ(3U, r.len);
	EXPECT_EQ(0, memcmp(r.data, "xyz", 3));
	c.k_nxt += 3;
	xp_conn_seg(&self->p, &c, &s, XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_LE(0, wait_quiet(&self->p));	/* retransmissions in flight */

	/* The exact RST. */
	resets_before = xtcp_counter("EstabResets");
	xp_conn_seg(&self->p, &c, &s, XP_RST);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	EXPECT_EQ(-ENOENT, xtcp_proc_wait_state(PROC, c.kport, c.pport, -ENOENT, 3000));
	ASSERT_TRUE(xtcp_wait_fd(c.fd, POLLIN, 3000) & (POLLERR | POLLHUP));
	EXPECT_EQ(-1, recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(ECONNRESET, errno);
	resets_after = xtcp_counter("EstabResets");
	EXPECT_EQ(resets_before + 1, resets_after);
	/* A RST is never answered. */
	EXPECT_EQ(-ETIMEDOUT, xp_recv(&self->p, &r, 300))
		TH_LOG("unexpected %s", XP_SEG_STR(&r));
	close(c.fd);
}

/* RFC 5961 section 4: a SYN in ESTABLISHED gets a challenge ACK only. */
TEST_F(peer, syn_in_established)
{
	static const __u32 offsets[] = { 0, 1, 0x40000000 };
	struct xp_seg s, r;
	struct xp_conn c = { 0 };
	unsigned int i;
	char buf[8];

	ASSERT_EQ(0, open_active(self, 9002, 0xfffffff0u, 65535, &c));

	/* At the left edge of the window, inside it, far outside it. */
	for (i = 0; i < ARRAY_SIZE(offsets); i++) {
		xp_conn_seg(&self->p, &c, &s, XP_SYN);
		s.seq = c.p_nxt + offsets[i];
		s.mss = 1460;
		ASSERT_EQ(0, xp_send(&self->p, &s));
		ASSERT_EQ(0, xp_recv(&self->p, &r, 3000))
			TH_LOG("no answer to SYN at +%u", offsets[i]);
		TH_LOG("SYN at +%u: got %s", offsets[i], XP_SEG_STR(&r));
		EXPECT_EQ(XP_ACK, r.flags & CTL);
		EXPECT_EQ(c.p_nxt, r.ack);
		EXPECT_EQ(c.k_nxt, r.seq);
		EXPECT_EQ(0U, r.len);
		EXPECT_EQ(ST_ESTABLISHED, xtcp_proc_state(PROC, c.kport, c.pport));
		/* Challenge ACKs are limited to one per 500 ms per socket
		 * (RFC 5961 section 7, as Linux): let the interval pass.
		 */
		usleep(600 * 1000);
	}
	EXPECT_EQ(-ETIMEDOUT, xp_recv(&self->p, &r, 300))
		TH_LOG("unexpected %s", XP_SEG_STR(&r));

	/* Two in-window SYNs at once: the second finds the limit spent. */
	for (i = 0; i < 2; i++) {
		xp_conn_seg(&self->p, &c, &s, XP_SYN);
		s.seq = c.p_nxt + 1;
		s.mss = 1460;
		ASSERT_EQ(0, xp_send(&self->p, &s));
	}
	ASSERT_EQ(0, xp_recv(&self->p, &r, 3000));
	EXPECT_EQ(XP_ACK, r.flags & CTL);
	EXPECT_EQ(-ETIMEDOUT, xp_recv(&self->p, &r, 300))
		TH_LOG("rate limit exceeded: %s", XP_SEG_STR(&r));
	usleep(600 * 1000);

	ASSERT_EQ(0, xp_conn_data(&self->p, &c, "still", 5));
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &r, CTL, XP_ACK, c.p_nxt,
					3000));
	ASSERT_EQ(0, read_all(c.fd, buf, 5));
	EXPECT_EQ(0, memcmp(buf, "still", 5));
	EXPECT_EQ(ST_ESTABLISHED, info_state(c.fd));
	close(c.fd);
}

/* A SYN that would be answered, so that silence means "dropped". */
static void syn_to(const struct xp_peer *p, struct xp_seg *s, __u16 sport,
		   __u16 dport)
{
	xp_seg_init(p, s);
	s->sport = sport;
	s->dport = dport;
	s->seq = 0x1000 * sport;
	s->flags = XP_SYN;
	s->mss = 1460;
}

/* The checksum xp_build() writes for @s. */
static __u16 csum_of(const struct xp_peer *p, const struct xp_seg *s)
{
	size_t nhlen = s->family == AF_INET6 ? sizeof(struct xp_ip6hdr) :
					       sizeof(struct xp_iphdr);
	__u8 pkt[256];

	if (xp_build(p->proto, s, 0, pkt, sizeof(pkt)) < 0)
		return 0;
	return xp_get16(pkt + nhlen + offsetof(struct xp_hdr, check));
}

/*
 * Send @s with the checksum that would be right if its source (@dst
 * false) or destination address differed in byte @byte: the checksum
 * covers the pseudo-header (RFC 9293 3.1, RFC 8200 8.1), so the segment
 * must be dropped as one with a bad checksum.
 */
static int send_csum_of_other_addr(struct xp_peer *p, const struct xp_seg *s,
				   bool dst, unsigned int byte)
{
	struct xp_seg o = *s, bad = *s;
	__u8 *a;

	if (s->family == AF_INET6)
		a = (dst ? o.daddr6.s6_addr : o.saddr6.s6_addr) + byte % 16;
	else
		a = (__u8 *)(dst ? &o.daddr.s_addr : &o.saddr.s_addr) + byte % 4;
	*a ^= 0x10;
	bad.mangle = XP_SET_CSUM;
	bad.csum = csum_of(p, &o);
	if (bad.csum == csum_of(p, s))
		return -EINVAL;
	return xp_send(p, &bad);
}

/*
 * A bad checksum: dropped, InCsumErrors and InErrs up by one, silence.
 * So is one right for another source or destination address.
 */
TEST_F(peer, bad_checksum)
{
	static const struct {
		bool dst;
		unsigned int byte;
	} other[] = { { false, 15 }, { false, 0 }, { true, 3 }, { true, 8 } };
	long csum_before, err_before;
	struct xp_seg s, r;
	unsigned int i;
	int lfd;

	lfd = listener(&self->p, 9010);
	ASSERT_LE(0, lfd);
	csum_before = xtcp_counter("InCsumErrors");
	err_before = xtcp_counter("InErrs");
	ASSERT_LE(0, csum_before);
	ASSERT_LE(0, err_before);

	syn_to(&self->p, &s, 41000, 9010);
	s.mangle = XP_MANGLE_CSUM;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	EXPECT_EQ(-ETIMEDOUT, xp_recv(&self->p, &r, 300))
		TH_LOG("unexpected %s", XP_SEG_STR(&r));
	EXPECT_EQ(csum_before + 1, xtcp_counter("InCsumErrors"));
	EXPECT_EQ(err_before + 1, xtcp_counter("InErrs"));
	EXPECT_EQ(-ENOENT, xtcp_proc_state(PROC, 9010, 41000));

	s.mangle = 0;
	for (i = 0; i < ARRAY_SIZE(other); i++) {
		ASSERT_EQ(0, send_csum_of_other_addr(&self->p, &s,
						     other[i].dst,
						     other[i].byte));
		EXPECT_EQ(-ETIMEDOUT, xp_recv(&self->p, &r, 300))
			TH_LOG("%s byte %u: answered with %s",
			       other[i].dst ? "daddr" : "saddr", other[i].byte,
			       XP_SEG_STR(&r));
		EXPECT_EQ(csum_before + 2 + i, xtcp_counter("InCsumErrors"));
		EXPECT_EQ(err_before + 2 + i, xtcp_counter("InErrs"));
	}
	EXPECT_EQ(-ENOENT, xtcp_proc_state(PROC, 9010, 41000));

	/* The same SYN, checksummed right, is answered. */
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(0, xp_recv(&self->p, &r, 3000));
	EXPECT_EQ(XP_SYN | XP_ACK, r.flags & CTL);
	EXPECT_EQ(s.seq + 1, r.ack);
	EXPECT_TRUE(r.csum_ok);
	EXPECT_EQ(csum_before + 1 + i, xtcp_counter("InCsumErrors"));
	EXPECT_EQ(err_before + 1 + i, xtcp_counter("InErrs"));
	close(lfd);
}

struct bad_seg {
	const char *name;
	unsigned int flags;
	unsigned int mangle;
	__u8 doff;
	const __u8 *opts;
	size_t opts_len;
	size_t len;	/* payload bytes */
	size_t trunc;
};

#define OPTS(...) \
	.opts = (const __u8[]){ __VA_ARGS__ }, \
	.opts_len = sizeof((const __u8[]){ __VA_ARGS__ })

static const struct bad_seg bad_segs[] = {
	{ .name = "doff 4", .flags = XP_SYN, .mangle = XP_SET_DOFF,
	  .doff = 4 },
	{ .name = "doff 0", .flags = XP_SYN, .mangle = XP_SET_DOFF,
	  .doff = 0 },
	{ .name = "doff 6 > 20 bytes", .flags = XP_SYN,
	  .mangle = XP_SET_DOFF, .doff = 6 },
	{ .name = "doff 15 > 20 bytes", .flags = XP_SYN,
	  .mangle = XP_SET_DOFF, .doff = 15 },
	{ .name = "doff 15 > 40 bytes", .flags = XP_SYN | XP_ACK,
	  .mangle = XP_SET_DOFF, .doff = 15, .len = 20 },
	{ .name = "option length 0", .flags = XP_SYN,
	  OPTS(XP_OPT_WSCALE, 0, XP_OPT_NOP, XP_OPT_NOP) },
	{ .name = "option length 1", .flags = XP_SYN,
	  OPTS(XP_OPT_SACK_PERM, 1, XP_OPT_NOP, XP_OPT_NOP) },
	{ .name = "unknown option length 0", .flags = XP_SYN,
	  OPTS(99, 0, XP_OPT_NOP, XP_OPT_NOP) },
	{ .name = "option past the header", .flags = XP_SYN,
	  OPTS(XP_OPT_NOP, XP_OPT_NOP, XP_OPT_TS, XP_OPTLEN_TS) },
	{ .name = "option length byte missing", .flags = XP_SYN,
	  OPTS(XP_OPT_NOP, XP_OPT_NOP, XP_OPT_NOP, XP_OPT_MSS) },
	{ .name = "MSS length 3", .flags = XP_SYN,
	  OPTS(XP_OPT_MSS, 3, 0x05, XP_OPT_NOP) },
	{ .name = "MSS length 6", .flags = XP_SYN,
	  OPTS(XP_OPT_MSS, 6, 0x05, 0xb4, 0, 0, XP_OPT_NOP, XP_OPT_NOP) },
	{ .name = "truncated to 1 byte", .flags = XP_SYN, .trunc = 1 },
	{ .name = "truncated to 10 bytes", .flags = XP_SYN, .trunc = 10 },
	{ .name = "truncated to 19 bytes", .flags = XP_SYN, .trunc = 19 },
	{ .name = "SYN+FIN", .flags = XP_SYN | XP_FIN },
	{ .name = "SYN+RST", .flags = XP_SYN | XP_RST },
	{ .name = "SYN+FIN+ACK", .flags = XP_SYN | XP_FIN | XP_ACK },
};

/*
 * Malformed segments, each sent to a listener (which would answer a good
 * SYN): dropped without an answer, InErrs up by exactly one each, no
 * checksum error counted, and nothing created.
 */
TEST_F(peer, malformed_dropped)
{
	static const char payload[20] = "twenty bytes of data";
	long errs, csum, now;
	struct xp_seg s, r;
	unsigned int i;
	int lfd, err;

	lfd = listener(&self->p, 9020);
	ASSERT_LE(0, lfd);
	errs = xtcp_counter("InErrs");
	csum = xtcp_counter("InCsumErrors");
	ASSERT_LE(0, errs);
	ASSERT_LE(0, csum);

	for (i = 0; i < ARRAY_SIZE(bad_segs); i++) {
		const struct bad_seg *b = &bad_segs[i];

		syn_to(&self->p, &s, 42000 + i, 9020);
		s.flags = b->flags;
		s.mangle = b->mangle;
		s.doff = b->doff;
		s.opts = b->opts;
		s.opts_len = b->opts_len;
		s.mss = 0;
		s.data = payload;
		s.len = b->len;
		s.trunc = b->trunc;
		ASSERT_EQ(0, xp_send(&self->p, &s));
		err = xp_recv(&self->p, &r, 200);
		EXPECT_EQ(-ETIMEDOUT, err)
			TH_LOG("%s: answered with %s", b->name,
			       XP_SEG_STR(&r));
		now = xtcp_counter("InErrs");
		EXPECT_EQ(errs + 1, now) TH_LOG("%s: InErrs", b->name);
		errs = now;
		EXPECT_EQ(-ENOENT, xtcp_proc_state(PROC, 9020, 42000 + i))
			TH_LOG("%s: a connection was created", b->name);
	}
	EXPECT_EQ(csum, xtcp_counter("InCsumErrors"));

	/* The listener is unharmed and answers a good SYN. */
	EXPECT_EQ(ST_LISTEN, xtcp_proc_state(PROC, 9020, 0));
	syn_to(&self->p, &s, 42999, 9020);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(0, xp_recv(&self->p, &r, 3000));
	EXPECT_EQ(XP_SYN | XP_ACK, r.flags & CTL);
	EXPECT_EQ(s.seq + 1, r.ack);
	EXPECT_EQ(errs, xtcp_counter("InErrs"));
	close(lfd);
}

/* RFC 9293 3.10.7.1: what a closed port answers. */
TEST_F(peer, closed_port)
{
	long rsts = xtcp_counter("OutRsts");
	struct xp_seg s, r;

	ASSERT_LE(0, rsts);

	/* SYN: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
	syn_to(&self->p, &s, 43000, 9030);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(0, xp_recv(&self->p, &r, 3000));
	TH_LOG("SYN: got %s", XP_SEG_STR(&r));
	EXPECT_TRUE(r.csum_ok);
	EXPECT_EQ(XP_RST | XP_ACK, r.flags);
	EXPECT_EQ(0U, r.seq);
	EXPECT_EQ(s.seq + 1, r.ack);
	EXPECT_EQ(9030, r.sport);
	EXPECT_EQ(43000, r.dport);
	EXPECT_EQ(0U, r.len);

	/* Data without ACK: the ACK covers the data. */
	xp_seg_init(&self->p, &s);
	s.sport = 43001;
	s.dport = 9030;
	s.seq = 777;
	s.flags = XP_PSH;
	s.data = "12345";
	s.len = 5;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(0, xp_recv(&self->p, &r, 3000));
	TH_LOG("data: got %s", XP_SEG_STR(&r));
	EXPECT_EQ(XP_RST | XP_ACK, r.flags);
	EXPECT_EQ(0U, r.seq);
	EXPECT_EQ(777U + 5, r.ack);

	/* ACK: <SEQ=SEG.ACK><CTL=RST> */
	xp_seg_init(&self->p, &s);
	s.sport = 43002;
	s.dport = 9030;
	s.seq = 5555;
	s.ack = 0xabcdef01;
	s.flags = XP_ACK;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(0, xp_recv(&self->p, &r, 3000));
	TH_LOG("ACK: got %s", XP_SEG_STR(&r));
	EXPECT_EQ(XP_RST, r.flags);
	EXPECT_EQ(0xabcdef01, r.seq);
	EXPECT_EQ(43002, r.dport);

	/* RST: nothing. */
	s.sport = 43003;
	s.flags = XP_RST;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	s.flags = XP_RST | XP_ACK;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	EXPECT_EQ(-ETIMEDOUT, xp_recv(&self->p, &r, 300))
		TH_LOG("unexpected %s", XP_SEG_STR(&r));
	EXPECT_EQ(rsts + 3, xtcp_counter("OutRsts"));
}

/*
 * A lost SYN-ACK is sent again with the same ISN after the initial RTO;
 * with synack_retries=1 the half-open connection is then dropped.
 */
TEST_F(peer, synack_retransmit)
{
	long retrans, fails;
	struct xp_seg s, first, again, r;
	__s64 t0, t1;
	int lfd, err;

	lfd = listener(&self->p, 9040);
	ASSERT_LE(0, lfd);
	retrans = xtcp_counter("RetransSegs");
	fails = xtcp_counter("AttemptFails");

	syn_to(&self->p, &s, 44000, 9040);
	t0 = xp_now_ms();	/* the first SYN-ACK cannot leave before */
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(0, xp_recv(&self->p, &first, 3000));
	TH_LOG("got %s", XP_SEG_STR(&first));
	ASSERT_EQ(XP_SYN | XP_ACK, first.flags & CTL);
	EXPECT_EQ(ST_SYN_RECV, xtcp_proc_state(PROC, 9040, 44000));

	err = xp_recv(&self->p, &again, 5000);
	t1 = xp_now_ms();
	ASSERT_EQ(0, err) TH_LOG("no retransmission");
	TH_LOG("got %s after %lld ms", XP_SEG_STR(&again),
	       (long long)(t1 - t0));
	EXPECT_EQ(XP_SYN | XP_ACK, again.flags & CTL);
	EXPECT_EQ(first.seq, again.seq);
	EXPECT_EQ(first.ack, again.ack);
	EXPECT_EQ(first.mss, again.mss);
	EXPECT_TRUE(again.csum_ok);
	/* The initial RTO is 1 s whatever rto_min says (RFC 6298 2.1). */
	EXPECT_LE(990, t1 - t0);
	EXPECT_EQ(retrans + 1, xtcp_counter("RetransSegs"));

	/* One retry only: after the next (doubled) timeout it is dropped. */
	err = xp_recv(&self->p, &r, 3000);
	EXPECT_EQ(-ETIMEDOUT, err) TH_LOG("unexpected %s", XP_SEG_STR(&r));
	EXPECT_EQ(-ENOENT, xtcp_proc_wait_state(PROC, 9040, 44000, -ENOENT, 3000));
	EXPECT_EQ(fails + 1, xtcp_counter("AttemptFails"));
	EXPECT_EQ(ST_LISTEN, xtcp_proc_state(PROC, 9040, 0));
	EXPECT_EQ(-1, accept(lfd, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);

	/* Completing the handshake now is answered with a RST. */
	xp_seg_reply(&first, &s);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(0, xp_recv(&self->p, &r, 3000));
	TH_LOG("got %s", XP_SEG_STR(&r));
	EXPECT_EQ(XP_RST, r.flags & CTL);
	EXPECT_EQ(s.ack, r.seq);
	close(lfd);
}

/*
 * A lost SYN is sent again with the same ISN; with syn_retries=1 connect
 * then fails with ETIMEDOUT.
 */
TEST_F(peer, syn_retransmit)
{
	struct xp_seg first, again, r;
	int fd, err, soerr = 0;
	socklen_t len = sizeof(soerr), salen;
	struct sockaddr_storage ss;
	long retrans, fails;
	__s64 t0, t1;

	salen = xp_sockaddr(&self->p, true, 9050, &ss);
	retrans = xtcp_counter("RetransSegs");
	fails = xtcp_counter("AttemptFails");
	fd = xp_socket(&self->p, SOCK_STREAM | SOCK_NONBLOCK);
	ASSERT_LE(0, fd);
	t0 = xp_now_ms();	/* the first SYN cannot leave before */
	ASSERT_EQ(-1, connect(fd, (struct sockaddr *)&ss, salen));
	ASSERT_EQ(EINPROGRESS, errno);
	ASSERT_EQ(0, xp_recv(&self->p, &first, 3000));
	TH_LOG("got %s", XP_SEG_STR(&first));
	ASSERT_EQ(XP_SYN, first.flags & CTL);

	err = xp_recv(&self->p, &again, 5000);
	t1 = xp_now_ms();
	ASSERT_EQ(0, err) TH_LOG("no retransmission");
	TH_LOG("got %s after %lld ms", XP_SEG_STR(&again),
	       (long long)(t1 - t0));
	EXPECT_EQ(XP_SYN, again.flags & CTL);
	EXPECT_EQ(first.seq, again.seq);
	EXPECT_EQ(first.sport, again.sport);
	EXPECT_EQ(first.mss, again.mss);
	EXPECT_TRUE(again.csum_ok);
	EXPECT_LE(990, t1 - t0);
	EXPECT_EQ(retrans + 1, xtcp_counter("RetransSegs"));

	/* After the doubled timeout connect() gives up. */
	EXPECT_TRUE(xtcp_wait_fd(fd, POLLOUT, 5000) & (POLLOUT | POLLERR));
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len));
	EXPECT_EQ(ETIMEDOUT, soerr);
	EXPECT_EQ(-ETIMEDOUT, xp_recv(&self->p, &r, 0))
		TH_LOG("unexpected %s", XP_SEG_STR(&r));
	EXPECT_EQ(-ENOENT, xtcp_proc_state(PROC, first.sport, 9050));
	EXPECT_EQ(fails + 1, xtcp_counter("AttemptFails"));
	close(fd);
}

/*
 * Unacknowledged data is sent again (same seq, same bytes) after the RTO,
 * counted in RetransSegs and in XTCP_INFO's total_retrans.
 */
TEST_F(peer, data_retransmit)
{
	struct xp_seg d, again, s, r;
	struct xtcp_info info;
	long before, after;
	struct xp_conn c = { 0 };
	__s64 t0, t1;

	ASSERT_EQ(0, open_active(self, 9060, 50000, 65535, &c));
	before = xtcp_counter("RetransSegs");
	ASSERT_EQ(0, get_info(c.fd, &info));
	EXPECT_EQ(0U, info.xtcpi_total_retrans);

	t0 = xp_now_ms();	/* the first transmission cannot be earlier */
	ASSERT_EQ(5, send(c.fd, "hello", 5, 0));
	ASSERT_EQ(0, xp_conn_expect_data(&self->p, &c, &d, 3000));
	EXPECT_EQ(c.k_nxt, d.seq);
	ASSERT_EQ(5U, d.len);

	/* Not acknowledged: the same segment comes again. */
	ASSERT_EQ(0, xp_conn_expect_data(&self->p, &c, &again, 3000));
	t1 = xp_now_ms();
	TH_LOG("again after %lld ms: %s", (long long)(t1 - t0),
	       XP_SEG_STR(&again));
	EXPECT_EQ(d.seq, again.seq);
	ASSERT_EQ(5U, again.len);
	EXPECT_EQ(0, memcmp(again.data, "hello", 5));
	EXPECT_TRUE(again.csum_ok);
	EXPECT_LE(RTO_MIN_MS - 5, t1 - t0);

	/* Acknowledged at last; then both counters saw it, and agree. */
	c.k_nxt += 5;
	xp_conn_seg(&self->p, &c, &s, XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(0, get_info(c.fd, &info));
	after = xtcp_counter("RetransSegs");
	EXPECT_LE(before + 1, after);
	EXPECT_LE(1U, info.xtcpi_total_retrans);
	EXPECT_EQ(after - before, (long)info.xtcpi_total_retrans);
	EXPECT_EQ(c.k_nxt, info.xtcpi_snd_una);

	/* New data follows in sequence. */
	ASSERT_EQ(5, send(c.fd, "world", 5, 0));
	do {
		ASSERT_EQ(0, xp_conn_expect_data(&self->p, &c, &r, 3000));
	} while (r.seq != c.k_nxt);
	ASSERT_EQ(5U, r.len);
	EXPECT_EQ(0, memcmp(r.data, "world", 5));
	close(c.fd);
}

/*
 * Out of order: the second segment first gets a duplicate ACK for the
 * hole and nothing to read; the first one fills it, and the reader gets
 * the bytes in order.
 */
TEST_F(peer, out_of_order)
{
	struct xp_seg s, r;
	struct xp_conn c = { 0 };
	char buf[16];
	__u32 base;

	ASSERT_EQ(0, open_active(self, 9070, 0x7ffffffd, 65535, &c));
	base = c.p_nxt;

	c.p_nxt = base + 5;
	ASSERT_EQ(0, xp_conn_data(&self->p, &c, "world", 5));
	ASSERT_EQ(0, xp_conn_expect(&self->p, &c, &r, CTL, XP_ACK, 3000));
	TH_LOG("got %s", XP_SEG_STR(&r));
	EXPECT_EQ(base, r.ack);
	EXPECT_EQ(c.k_nxt, r.seq);
	EXPECT_EQ(0U, r.len);
	EXPECT_EQ(-1, recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);

	c.p_nxt = base;
	xp_conn_seg(&self->p, &c, &s, XP_ACK | XP_PSH);
	s.data = "hello";
	s.len = 5;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &r, CTL, XP_ACK,
					base + 10, 3000));
	c.p_nxt = base + 10;
	ASSERT_EQ(0, read_all(c.fd, buf, 10));
	EXPECT_EQ(0, memcmp(buf, "helloworld", 10));
	EXPECT_EQ(-1, recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	close(c.fd);
}

/*
 * Zero window: no data goes out, only probes (seq = snd_una - 1, no
 * payload) from the probe timer; when the window opens the data flows.
 */
TEST_F(peer, zero_window_probe)
{
	struct xtcp_proc_entry ps;
	struct xp_seg s, r;
	int probes = 0;
	struct xp_conn c = { 0 };
	__s64 end;

	ASSERT_EQ(0, open_active(self, 9080, 123456, 0, &c));
	ASSERT_EQ(5, send(c.fd, "data!", 5, 0));

	end = xp_now_ms() + 1500;
	while (xp_now_ms() < end) {
		__s64 left = end - xp_now_ms();

		if (xp_conn_expect(&self->p, &c, &r, XP_SYN | XP_RST | XP_FIN,
				   0, left > 0 ? left : 0))
			break;
		TH_LOG("got %s", XP_SEG_STR(&r));
		ASSERT_EQ(0U, r.len) TH_LOG("data into a zero window");
		EXPECT_EQ(c.k_nxt - 1, r.seq);
		EXPECT_EQ(c.p_nxt, r.ack);
		probes++;
		/* The peer answers: still no room. */
		xp_conn_seg(&self->p, &c, &s, XP_ACK);
		s.window = 0;
		ASSERT_EQ(0, xp_send(&self->p, &s));
	}
	EXPECT_LE(2, probes);
	ASSERT_EQ(0, xtcp_proc_find(PROC, c.kport, c.pport, &ps));
	EXPECT_EQ((unsigned int)TR_PROBE, ps.tr);

	/* The window opens. */
	xp_conn_seg(&self->p, &c, &s, XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(0, xp_conn_expect_data(&self->p, &c, &r, 3000));
	EXPECT_EQ(c.k_nxt, r.seq);
	ASSERT_EQ(5U, r.len);
	EXPECT_EQ(0, memcmp(r.data, "data!", 5));
	close(c.fd);
}

/*
 * Timestamps: the SYN-ACK echoes the SYN's TSval. PAWS: a segment with
 * an older TSval is dropped, but ACKed; its data is not delivered.
 */
TEST_F(peer, timestamps_paws)
{
	struct xp_seg s, sa, r;
	struct xp_conn c = { 0 };
	int lfd, err;
	char buf[8];

	lfd = listener(&self->p, 9090);
	ASSERT_LE(0, lfd);
	c.kport = 9090;
	c.pport = 45000;
	c.p_nxt = 33333;
	xp_conn_seg(&self->p, &c, &s, XP_SYN);
	s.mss = 1460;
	s.ts = true;
	s.tsval = 1000;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c.p_nxt++;
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &sa, CTL, XP_SYN | XP_ACK,
					c.p_nxt, 3000));
	TH_LOG("got %s", XP_SEG_STR(&sa));
	ASSERT_TRUE(sa.ts);
	EXPECT_EQ(1000U, sa.tsecr);
	EXPECT_NE(0U, sa.tsval);

	c.k_nxt = sa.seq + 1;
	c.ts = true;
	c.p_tsval = 1001;
	c.k_tsval = sa.tsval;
	xp_conn_seg(&self->p, &c, &s, XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_TRUE(xtcp_wait_fd(lfd, POLLIN, 3000) & POLLIN);
	c.fd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, c.fd);

	/* In order and newer: delivered. */
	c.p_tsval = 1002;
	ASSERT_EQ(0, xp_conn_data(&self->p, &c, "new", 3));
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &r, CTL, XP_ACK, c.p_nxt,
					3000));
	ASSERT_TRUE(r.ts);
	EXPECT_EQ(1002U, r.tsecr);
	ASSERT_EQ(0, read_all(c.fd, buf, 3));
	EXPECT_EQ(0, memcmp(buf, "new", 3));

	/* In order but older than the last TSval: PAWS drops it. */
	ASSERT_LE(0, wait_quiet(&self->p));
	c.p_tsval = 900;
	c.k_tsval = r.tsval;
	ASSERT_EQ(0, xp_conn_data(&self->p, &c, "old", 3));
	c.p_nxt -= 3;
	err = xp_conn_expect(&self->p, &c, &r, CTL, XP_ACK, 1000);
	ASSERT_EQ(0, err) TH_LOG("no ACK for the PAWS-rejected segment");
	TH_LOG("got %s", XP_SEG_STR(&r));
	EXPECT_EQ(c.p_nxt, r.ack);
	ASSERT_TRUE(r.ts);
	EXPECT_EQ(1002U, r.tsecr);
	EXPECT_EQ(-1, recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);

	/* The same bytes with a fresh TSval are taken. */
	c.p_tsval = 1003;
	ASSERT_EQ(0, xp_conn_data(&self->p, &c, "old", 3));
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &r, CTL, XP_ACK, c.p_nxt,
					3000));
	EXPECT_EQ(1003U, r.tsecr);
	ASSERT_EQ(0, read_all(c.fd, buf, 3));
	EXPECT_EQ(0, memcmp(buf, "old", 3));
	close(c.fd);
	close(lfd);
}

/*
 * Active close (RFC 9293 3.6): FIN, FIN-WAIT-2 once it is ACKed, the
 * peer's FIN ACKed and TIME-WAIT; a retransmitted FIN there is ACKed
 * again (RFC 9293 3.10.7.4) and the entry stays.
 */
TEST_F(peer, fin_time_wait)
{
	struct xp_conn c = { 0 };
	struct xp_seg s, r;
	char buf[4];

	ASSERT_EQ(0, open_active(self, 9100, 0xfffffffe, 65535, &c));
	ASSERT_EQ(0, shutdown(c.fd, SHUT_WR));
	ASSERT_EQ(0, xp_conn_expect(&self->p, &c, &r, CTL, XP_FIN | XP_ACK,
				    3000));
	TH_LOG("got %s", XP_SEG_STR(&r));
	EXPECT_EQ(c.k_nxt, r.seq);
	EXPECT_EQ(c.p_nxt, r.ack);
	EXPECT_TRUE(r.csum_ok);
	c.k_nxt++;
	ASSERT_EQ(0, xp_conn_ack_to(&self->p, &c, c.k_nxt));
	EXPECT_EQ(ST_FIN_WAIT2, xtcp_proc_wait_state(PROC, c.kport, c.pport,
						     ST_FIN_WAIT2, 3000));

	xp_conn_seg(&self->p, &c, &s, XP_FIN | XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c.p_nxt++;
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &r, CTL, XP_ACK, c.p_nxt,
					3000));
	EXPECT_EQ(c.k_nxt, r.seq);
	EXPECT_EQ(ST_TIME_WAIT, xtcp_proc_wait_state(PROC, c.kport, c.pport,
						     ST_TIME_WAIT, 3000));
	ASSERT_TRUE(xtcp_wait_fd(c.fd, POLLIN, 3000) & POLLIN);
	EXPECT_EQ(0, recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT));

	/* The FIN again, as if the ACK had been lost. */
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &r, CTL, XP_ACK, c.p_nxt,
					3000));
	TH_LOG("got %s", XP_SEG_STR(&r));
	EXPECT_EQ(c.k_nxt, r.seq);
	EXPECT_TRUE(r.csum_ok);
	EXPECT_EQ(ST_TIME_WAIT, xtcp_proc_state(PROC, c.kport, c.pport));
	close(c.fd);
}

TEST_HARNESS_MAIN
