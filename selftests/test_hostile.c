// SPDX-License-Identifier: GPL-2.0
/*
 * Peers that do not play by the rules, against a scripted peer
 * (xtcp_peer.h): an MSS option too small to hold the timestamps option,
 * socket filters that trim or drop segments, spoofed segments carrying
 * timestamps or arriving out of window, a window smaller than a segment
 * that never opens, and segments the local output path refuses.
 *
 * Where TCP defines the behaviour, every test runs for Linux TCP and for
 * xtcp with the same expectations: TCP is the oracle. Each runs over IPv4
 * (variants tcp, xtcp) and over IPv6 (tcp6, xtcp6). Timers are made
 * small through the knobs of each test's own network namespace. Needs
 * root (tun device, sysctls, tc).
 */

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <linux/filter.h>

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
#define KADDR6		"fd00:9::1"
#define PADDR6		"fd00:9::2"
#define RTO_MIN_MS	50
#define PEER_ISN	500000
#define CTL		(XP_SYN | XP_ACK | XP_RST | XP_FIN)

/* Linux's send MSS floor (TCP_MIN_SND_MSS) less the timestamps option. */
#define MSS_FLOOR_TS	(48 - 12)

static_assert(XTCP_NODELAY == TCP_NODELAY, "option numbers");
static_assert(XTCP_MAXSEG == TCP_MAXSEG, "option numbers");
static_assert(XTCP_KEEPIDLE == TCP_KEEPIDLE, "option numbers");
static_assert(XTCP_KEEPINTVL == TCP_KEEPINTVL, "option numbers");
static_assert(XTCP_KEEPCNT == TCP_KEEPCNT, "option numbers");

FIXTURE(h) {
	struct xp_peer p;
};

FIXTURE_VARIANT(h) {
	int proto;
	int level;		/* SOL_TCP or SOL_XTCP */
	const char *kaddr;	/* addresses, and so the family */
	const char *paddr;
	const char *rto_min;	/* knob path */
	long rto_min_val;	/* RTO_MIN_MS in the knob's unit */
	const char *retries2;
	const char *orphan_retries;
};

#define H_TCP \
	.proto = IPPROTO_TCP, \
	.level = SOL_TCP, \
	.rto_min = "/proc/sys/net/ipv4/tcp_rto_min_us", \
	.rto_min_val = RTO_MIN_MS * 1000, \
	.retries2 = "/proc/sys/net/ipv4/tcp_retries2", \
	.orphan_retries = "/proc/sys/net/ipv4/tcp_orphan_retries"

#define H_XTCP \
	.proto = IPPROTO_XTCP, \
	.level = SOL_XTCP, \
	.rto_min = "/proc/sys/net/xtcp/rto_min", \
	.rto_min_val = RTO_MIN_MS, \
	.retries2 = "/proc/sys/net/xtcp/retries2", \
	.orphan_retries = "/proc/sys/net/xtcp/orphan_retries"

FIXTURE_VARIANT_ADD(h, tcp) {
	H_TCP,
	.kaddr = KADDR,
	.paddr = PADDR,
};

FIXTURE_VARIANT_ADD(h, xtcp) {
	H_XTCP,
	.kaddr = KADDR,
	.paddr = PADDR,
};

FIXTURE_VARIANT_ADD(h, tcp6) {
	H_TCP,
	.kaddr = KADDR6,
	.paddr = PADDR6,
};

FIXTURE_VARIANT_ADD(h, xtcp6) {
	H_XTCP,
	.kaddr = KADDR6,
	.paddr = PADDR6,
};

/* Write @val to the knob at @path; 0 or -errno. */
static int knob(const char *path, long val)
{
	char buf[32];
	ssize_t n;
	int fd;

	snprintf(buf, sizeof(buf), "%ld\n", val);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, strlen(buf));
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? n : 0;
}

FIXTURE_SETUP(h)
{
	int err;

	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("unshare: %s", strerror(-err));
	err = knob(variant->rto_min, variant->rto_min_val);
	/* 6.1 has no tcp_rto_min_us: TCP keeps its 200 ms floor there. */
	if (err == -ENOENT && variant->proto == IPPROTO_TCP) {
		TH_LOG("no %s: TCP's minimum RTO stays 200 ms", variant->rto_min);
	} else {
		ASSERT_EQ(0, err);
	}
	ASSERT_EQ(0, knob(variant->retries2, 3));
	/* Orphans a test leaves behind die within seconds. */
	ASSERT_EQ(0, knob(variant->orphan_retries, 1));
	err = xp_open(&self->p, variant->proto, variant->kaddr, variant->paddr);
	ASSERT_EQ(0, err) TH_LOG("xp_open: %s", strerror(-err));
}

FIXTURE_TEARDOWN(h)
{
	xp_close(&self->p);
}

/* A new socket of the variant's protocol connected to the peer. */
static int open_conn(FIXTURE_DATA(h) *self, const FIXTURE_VARIANT(h) *variant,
		     struct xp_conn *c, __u16 pport, __u16 win, bool ts)
{
	int fd, err;

	fd = xp_socket(&self->p, SOCK_STREAM | SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = xtcp_set_int(fd, variant->level, TCP_NODELAY, 1);
	if (!err)
		err = xp_conn_connect(&self->p, c, fd, pport, PEER_ISN, win, ts);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}


/* The peer acknowledges @ack with window @win. */
static int peer_ack(struct xp_peer *p, struct xp_conn *c, __u32 ack,
		    __u16 win)
{
	struct xp_seg s;

	c->k_nxt = ack;
	xp_conn_seg(p, c, &s, XP_ACK);
	s.window = win;
	return xp_send(p, &s);
}

static void fill(char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = 'a' + i % 23;
}

/*
 * An MSS option of 1 with timestamps: the send MSS stops at Linux's
 * floor, 48 bytes less the 12 of the timestamps option, instead of
 * wrapping below zero. Segments carry at most that, and the data
 * arrives intact. TCP sends exactly such segments; so must xtcp.
 */
TEST_F(h, mss_underflow)
{
	static char out[1000];
	struct xp_conn c;
	struct xp_seg r;
	size_t maxlen = 0, sent;
	ssize_t n;
	__u32 got;
	int fd;

	fill(out, sizeof(out));
	self->p.mss = 1;
	fd = open_conn(self, variant, &c, 9100, 65535, true);
	ASSERT_LE(0, fd) TH_LOG("connect: %s", strerror(-fd));
	ASSERT_TRUE(c.ts);
	EXPECT_EQ(MSS_FLOOR_TS, xtcp_get_int(fd, variant->level, TCP_MAXSEG));

	/*
	 * The socket is non-blocking, and with segments this small the
	 * send buffer holds less than the whole buffer: send more as the
	 * peer acknowledges.
	 */
	for (got = 0, sent = 0; got < sizeof(out); got += r.len) {
		n = send(fd, out + sent, sizeof(out) - sent, MSG_DONTWAIT);
		ASSERT_TRUE(n > 0 || (n < 0 && errno == EAGAIN) ||
			    sent == sizeof(out));
		sent += n > 0 ? n : 0;
		ASSERT_EQ(0, xp_conn_expect_data(&self->p, &c, &r, 3000))
			TH_LOG("no data at offset %u", got);
		if (r.seq != c.k_nxt) {
			r.len = 0;	/* a retransmission */
			continue;
		}
		ASSERT_LT(0U, r.len);
		ASSERT_GE((size_t)MSS_FLOOR_TS, r.len)
			TH_LOG("%s", XP_SEG_STR(&r));
		ASSERT_GE(sizeof(out) - got, r.len);
		ASSERT_EQ(0, memcmp(r.data, out + got, r.len));
		maxlen = r.len > maxlen ? r.len : maxlen;
		ASSERT_EQ(0, peer_ack(&self->p, &c, r.seq + r.len, 65535));
	}
	EXPECT_EQ((size_t)MSS_FLOOR_TS, maxlen);
	close(fd);
}

/* Read exactly @len bytes within @ms. */
static int read_all(int fd, char *buf, size_t len, int ms)
{
	__s64 deadline = xp_now_ms() + ms;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if (!xtcp_wait_fd(fd, POLLIN, deadline - xp_now_ms()))
			return -ETIMEDOUT;
		n = recv(fd, buf + got, len - got, MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN)
			return -errno;
		if (!n)
			return -EPIPE;
		if (n > 0)
			got += n;
	}
	return 0;
}

/* The pending error of @fd once it reports one within @ms, else 0. */
static int wait_error(int fd, int ms)
{
	if (!(xtcp_wait_fd(fd, POLLERR, ms) & POLLERR))
		return 0;
	return xtcp_get_int(fd, SOL_SOCKET, SO_ERROR);
}

/*
 * An established connection with timestamps, and a sequence of segments
 * whose TSval lies far in the future: TS.Recent may only take the TSval
 * of a segment that is acceptable and whose ACK is valid (RFC 7323
 * section 4.3, RFC 9293 3.10.7.4). Afterwards a legitimate segment with
 * the ordinary TSval must pass PAWS and be acknowledged, echoing it.
 */
TEST_F(h, ts_recent_unvalidated)
{
	static const struct {
		const char *what;
		__u32 seq_off;		/* from the peer's next seq */
		__u32 ack_off;		/* from the kernel's next seq */
	} bad[] = {
		{ "out of window", 0x40000000, 0 },
		{ "ACK of unsent data", 0, 0x100000 },
		{ "ACK too old (RFC 5961 5.2)", 0, 0xc0000000 },
	};
	struct xtcp_info info;
	socklen_t ilen = sizeof(info);
	struct xp_conn c;
	struct xp_seg s, r;
	char buf[8];
	size_t i;
	int fd;

	fd = open_conn(self, variant, &c, 9101, 65535, true);
	ASSERT_LE(0, fd) TH_LOG("connect: %s", strerror(-fd));
	ASSERT_TRUE(c.ts);

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		xp_conn_seg(&self->p, &c, &s, XP_ACK | XP_PSH);
		s.seq += bad[i].seq_off;
		s.ack += bad[i].ack_off;
		s.tsval = c.p_tsval + 0x70000000;
		s.data = "junkjunk";
		s.len = 8;
		ASSERT_EQ(0, xp_send(&self->p, &s));
	}
	/* What the kernel answers them with echoes the old TS.Recent. */
	while (!xp_conn_expect(&self->p, &c, &r, 0, 0, 300)) {
		EXPECT_FALSE(r.ts && r.tsecr >= c.p_tsval + 0x70000000)
			TH_LOG("TS.Recent taken from a bad segment: %s",
			       XP_SEG_STR(&r));
	}

	ASSERT_EQ(0, xp_conn_data(&self->p, &c, "hello", 5));
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &r, CTL, XP_ACK,
					c.p_nxt, 2000))
		TH_LOG("legitimate data not acknowledged (PAWS drop?)");
	EXPECT_TRUE(r.ts);
	EXPECT_EQ(c.p_tsval - 10, r.tsecr);
	ASSERT_EQ(0, read_all(fd, buf, 5, 1000));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	if (variant->proto == IPPROTO_XTCP) {
		ASSERT_EQ(0, getsockopt(fd, SOL_XTCP, XTCP_INFO, &info, &ilen));
		EXPECT_EQ(c.p_tsval - 10, info.xtcpi_ts_recent);
	}
	close(fd);
}

/*
 * Keepalive with a blind spoofer: the peer is dead, but someone keeps
 * sending segments outside the window. They are not acceptable
 * (RFC 9293 3.10.7.4), so they must not count as a sign of life: the
 * probes go unanswered and the connection ends with ETIMEDOUT.
 */
TEST_F(h, keepalive_junk)
{
	__s64 deadline, next = 0;
	struct xp_conn c;
	struct xp_seg s, r;
	int fd, err = 0, probes = 0;

	fd = open_conn(self, variant, &c, 9102, 65535, false);
	ASSERT_LE(0, fd) TH_LOG("connect: %s", strerror(-fd));
	ASSERT_EQ(0, xtcp_set_int(fd, variant->level, TCP_KEEPIDLE, 1));
	ASSERT_EQ(0, xtcp_set_int(fd, variant->level, TCP_KEEPINTVL, 1));
	ASSERT_EQ(0, xtcp_set_int(fd, variant->level, TCP_KEEPCNT, 2));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1));

	deadline = xp_now_ms() + 10000;
	while (xp_now_ms() < deadline) {
		if (xp_now_ms() >= next) {
			xp_conn_seg(&self->p, &c, &s, XP_ACK);
			s.seq += 0x40000000;
			s.data = "x";
			s.len = 1;
			ASSERT_EQ(0, xp_send(&self->p, &s));
			next = xp_now_ms() + 200;
		}
		if (!xp_conn_expect(&self->p, &c, &r, 0, 0, 50) &&
		    !(r.flags & XP_RST) && r.seq == c.k_nxt - 1)
			probes++;
		err = wait_error(fd, 0);
		if (err)
			break;
	}
	EXPECT_EQ(ETIMEDOUT, err) TH_LOG("%d probes seen", probes);
	EXPECT_LE(2, probes);
	close(fd);
}

/* Wrap-safe sequence comparison (RFC 9293 section 3.4). */
static bool seq_after(__u32 a, __u32 b)
{
	return (__s32)(a - b) > 0;
}

/* A classic BPF filter that returns @keep. */
static int attach_filter(int fd, __u32 keep)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_RET | BPF_K, keep),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(code), .filter = code };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
			  sizeof(prog)) ? -errno : 0;
}

/*
 * A socket filter that keeps @keep bytes of every segment. The filter
 * sees the segment from its header on, and trimming never cuts into the
 * header (tcp_filter(): sk_filter_trim_cap() capped at the header
 * length): kept at 0 or 1 bytes, a data segment loses its payload, so
 * the data is neither acknowledged nor delivered, and it is not lost
 * either: detached, the filter lets the retransmission through intact.
 */
static void filter_case(struct __test_metadata *_metadata,
			FIXTURE_DATA(h) *self,
			const FIXTURE_VARIANT(h) *variant, __u16 pport,
			__u32 keep)
{
	static const char msg[] = "0123456789abcdefghij";
	struct xp_conn c;
	struct xp_seg r;
	char buf[32];
	__u32 seq;
	int fd;

	fd = open_conn(self, variant, &c, pport, 65535, false);
	ASSERT_LE(0, fd) TH_LOG("connect: %s", strerror(-fd));
	ASSERT_EQ(0, attach_filter(fd, keep));

	seq = c.p_nxt;
	ASSERT_EQ(0, xp_conn_data(&self->p, &c, msg, 20));
	while (!xp_conn_expect(&self->p, &c, &r, 0, 0, 300))
		ASSERT_FALSE(seq_after(r.ack, seq))
			TH_LOG("filtered data acknowledged: %s",
			       XP_SEG_STR(&r));
	EXPECT_EQ(-1, recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);

	ASSERT_EQ(0, xtcp_set_int(fd, SOL_SOCKET, SO_DETACH_FILTER, 0));
	c.p_nxt = seq;
	ASSERT_EQ(0, xp_conn_data(&self->p, &c, msg, 20));
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &r, CTL, XP_ACK,
					seq + 20, 2000));
	ASSERT_EQ(0, read_all(fd, buf, 20, 1000));
	EXPECT_EQ(0, memcmp(buf, msg, 20));
	EXPECT_EQ(-1, recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	close(fd);
}

TEST_F(h, filter_drop_all)
{
	filter_case(_metadata, self, variant, 9109, 0);
}

TEST_F(h, filter_keep_one_byte)
{
	filter_case(_metadata, self, variant, 9110, 1);
}

static char tc_dev[IFNAMSIZ];

/* Make every packet out of the peer's tun fail (or stop failing). */
static int block_output(const struct xp_peer *p, bool on)
{
	char cmd[256];

	snprintf(tc_dev, sizeof(tc_dev), "%s", p->ifname);
	if (!on) {
		snprintf(cmd, sizeof(cmd),
			 "tc qdisc del dev %s clsact 2>/dev/null", tc_dev);
		return system(cmd) ? -EIO : 0;
	}
	snprintf(cmd, sizeof(cmd),
		 "tc qdisc add dev %s clsact && "
		 "{ tc filter add dev %s egress matchall action drop || "
		 "tc filter add dev %s egress protocol ip u32 match u32 0 0 "
		 "action drop; } >/dev/null 2>&1", tc_dev, tc_dev, tc_dev);
	return system(cmd) ? -EIO : 0;
}

/* No segment of the peer's protocol reaches the peer for @ms. */
static bool silent(struct xp_peer *p, int ms)
{
	struct xp_seg r;

	return xp_recv(p, &r, ms) == -ETIMEDOUT;
}

/*
 * A SYN that the output path refuses (a tc egress drop, as a netfilter
 * rule or a failed allocation would) is retried as if lost: once output
 * works again the SYN arrives within the initial RTO, and connect()
 * completes.
 */
TEST_F(h, xmit_fail_syn)
{
	struct sockaddr_storage ss;
	socklen_t len = xp_sockaddr(&self->p, true, 9106, &ss);
	struct xp_seg syn, s, r;
	int fd;

	ASSERT_EQ(0, knob(variant->retries2, 8));
	ASSERT_EQ(0, block_output(&self->p, true));
	fd = xp_socket(&self->p, SOCK_STREAM | SOCK_NONBLOCK);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, connect(fd, (struct sockaddr *)&ss, len));
	EXPECT_EQ(EINPROGRESS, errno);
	EXPECT_TRUE(silent(&self->p, 100));
	ASSERT_EQ(0, block_output(&self->p, false));

	ASSERT_EQ(0, xp_expect(&self->p, &syn, CTL, XP_SYN, 3000))
		TH_LOG("the SYN never came");
	xp_seg_reply(&syn, &s);
	s.seq = PEER_ISN;
	s.flags = XP_SYN | XP_ACK;
	s.mss = 1460;
	s.ts = false;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(0, xp_expect(&self->p, &r, CTL, XP_ACK, 2000));
	EXPECT_EQ(PEER_ISN + 1U, r.ack);
	EXPECT_TRUE(xtcp_wait_fd(fd, POLLOUT, 2000) & POLLOUT);
	EXPECT_EQ(0, xtcp_get_int(fd, SOL_SOCKET, SO_ERROR));
	ASSERT_EQ(0, knob(variant->retries2, 3));
	close(fd);
}

/* The same for the SYN-ACK of a listener. */
TEST_F(h, xmit_fail_synack)
{
	struct sockaddr_storage ss;
	socklen_t len = xp_sockaddr(&self->p, false, 9107, &ss);
	struct xp_seg s, r;
	__s64 t;
	int lfd;

	lfd = xp_socket(&self->p, SOCK_STREAM | SOCK_NONBLOCK);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, listen(lfd, 4));
	ASSERT_EQ(0, block_output(&self->p, true));

	xp_seg_init(&self->p, &s);
	s.sport = 40107;
	s.dport = 9107;
	s.seq = PEER_ISN;
	s.flags = XP_SYN;
	s.mss = 1460;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	t = xp_now_ms();
	EXPECT_TRUE(silent(&self->p, 100));
	ASSERT_EQ(0, block_output(&self->p, false));
	TH_LOG("output restored after %lld ms", (long long)(xp_now_ms() - t));
	/*
	 * Linux TCP drops a request whose SYN-ACK retransmission fails
	 * (reqsk_timer_handler()): on a kernel slow enough that the output
	 * was still blocked at the first retransmission, 1 s in, there is
	 * nothing left to answer.
	 */
	if (variant->proto == IPPROTO_TCP && xp_now_ms() - t >= 900) {
		close(lfd);
		SKIP(return, "output blocked past TCP's first retransmission");
	}

	/* The initial RTO is 1 s, doubling: allow for three tries. */
	ASSERT_EQ(0, xp_expect(&self->p, &r, CTL, XP_SYN | XP_ACK, 7000))
		TH_LOG("the SYN-ACK never came");
	TH_LOG("SYN-ACK after %lld ms", (long long)(xp_now_ms() - t));
	EXPECT_EQ(PEER_ISN + 1U, r.ack);
	close(lfd);
}

/* Data and then a FIN that the output path refuses, on a connection. */
TEST_F(h, xmit_fail_data_fin)
{
	static char out[500], in[500];
	struct xp_conn c;
	struct xp_seg r;
	int fd;

	fill(out, sizeof(out));
	/* Each failed transmission counts as a lost one; the tc commands
	 * take a while on a slow machine.
	 */
	ASSERT_EQ(0, knob(variant->retries2, 8));
	fd = open_conn(self, variant, &c, 9108, 65535, false);
	ASSERT_LE(0, fd) TH_LOG("connect: %s", strerror(-fd));

	ASSERT_EQ(0, block_output(&self->p, true));
	ASSERT_EQ((ssize_t)sizeof(out), send(fd, out, sizeof(out), 0));
	EXPECT_TRUE(silent(&self->p, 100));
	ASSERT_EQ(0, block_output(&self->p, false));
	ASSERT_EQ(0, xp_conn_expect_data(&self->p, &c, &r, 3000))
		TH_LOG("the data never came");
	ASSERT_EQ(c.k_nxt, r.seq);
	ASSERT_EQ(sizeof(out), r.len);
	memcpy(in, r.data, r.len);
	EXPECT_EQ(0, memcmp(in, out, sizeof(out)));
	ASSERT_EQ(0, peer_ack(&self->p, &c, r.seq + r.len, 65535));

	ASSERT_EQ(0, block_output(&self->p, true));
	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	EXPECT_TRUE(silent(&self->p, 100));
	ASSERT_EQ(0, block_output(&self->p, false));
	ASSERT_EQ(0, xp_conn_expect(&self->p, &c, &r, XP_FIN, XP_FIN, 3000))
		TH_LOG("the FIN never came");
	EXPECT_EQ(c.k_nxt, r.seq);
	ASSERT_EQ(0, knob(variant->retries2, 3));
	close(fd);
}

/* Is @lport -> @rport still in @path (/proc/net/tcp, xtcp, tcp6, xtcp6)? */
static bool proc_has(const char *path, __u16 lport, __u16 rport)
{
	unsigned int lp, rp;
	char line[512];
	bool found = false;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*d: %*x:%x %*x:%x", &lp, &rp) == 2 &&
		    lp == lport && rp == rport) {
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

/*
 * Connect with a large window, then shrink it to @win bytes (less than a
 * segment and less than half the largest window) and queue @len bytes.
 */
static int small_window(FIXTURE_DATA(h) *self,
			const FIXTURE_VARIANT(h) *variant, struct xp_conn *c,
			__u16 pport, __u16 win, const char *out, size_t len)
{
	int fd, err;

	fd = open_conn(self, variant, c, pport, 65535, false);
	if (fd < 0)
		return fd;
	err = peer_ack(&self->p, c, c->k_nxt, win);
	if (!err && send(fd, out, len, 0) != (ssize_t)len)
		err = -EIO;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/*
 * A window smaller than the head segment that never grows, and a peer
 * that never acknowledges: persist probes carry the window's worth of
 * new data (RFC 9293 3.8.6.1, as tcp_write_wakeup()), are retransmitted
 * with exponential backoff and count toward retries2; the application
 * gets ETIMEDOUT.
 */
TEST_F(h, small_window_timeout)
{
	static char out[2000];
	__s64 t[32], deadline;
	struct xp_conn c;
	struct xp_seg r;
	int fd, n = 0, i, err = 0;
	__u32 start;

	fill(out, sizeof(out));
	ASSERT_EQ(0, knob(variant->retries2, 4));
	fd = small_window(self, variant, &c, 9103, 100, out, sizeof(out));
	ASSERT_LE(0, fd) TH_LOG("setup: %s", strerror(-fd));
	start = c.k_nxt;

	deadline = xp_now_ms() + 15000;
	while (xp_now_ms() < deadline) {
		if (!xp_conn_expect_data(&self->p, &c, &r, 20)) {
			ASSERT_EQ(start, r.seq) TH_LOG("%s", XP_SEG_STR(&r));
			ASSERT_GE(100U, r.len) TH_LOG("%s", XP_SEG_STR(&r));
			ASSERT_EQ(0, memcmp(r.data, out, r.len));
			if (n < (int)ARRAY_SIZE(t))
				t[n++] = xp_now_ms();
		}
		err = wait_error(fd, 0);
		if (err)
			break;
	}
	EXPECT_EQ(ETIMEDOUT, err) TH_LOG("%d probes seen", n);
	ASSERT_LE(4, n) TH_LOG("probes and their retransmissions");
	/* Each interval at least the last, allowing for timer slack. */
	for (i = 2; i < n; i++)
		EXPECT_LE((t[i - 1] - t[i - 2]) * 8 / 10, t[i] - t[i - 1])
			TH_LOG("interval %d: %lld ms after %lld ms", i,
			       (long long)(t[i] - t[i - 1]),
			       (long long)(t[i - 1] - t[i - 2]));
	EXPECT_LE(3 * (t[1] - t[0]), t[n - 1] - t[n - 2]);
	close(fd);
}

/*
 * The same small window, but the peer accepts what the probes carry and
 * keeps offering 100 bytes: the transfer makes progress, byte for byte,
 * and no segment ever exceeds the window.
 */
TEST_F(h, small_window_progress)
{
	static char out[600];
	struct xp_conn c;
	struct xp_seg r;
	__u32 start, acked;
	int fd;

	fill(out, sizeof(out));
	fd = small_window(self, variant, &c, 9104, 100, out, sizeof(out));
	ASSERT_LE(0, fd) TH_LOG("setup: %s", strerror(-fd));
	start = c.k_nxt;

	for (acked = start; acked != start + sizeof(out); ) {
		ASSERT_EQ(0, xp_conn_expect_data(&self->p, &c, &r, 3000))
			TH_LOG("stuck at %u", acked - start);
		ASSERT_FALSE(seq_after(r.seq + r.len, acked + 100))
			TH_LOG("beyond the window: %s", XP_SEG_STR(&r));
		if (r.seq != acked)
			continue;
		ASSERT_EQ(0, memcmp(r.data, out + (acked - start), r.len));
		acked += r.len;
		ASSERT_EQ(0, peer_ack(&self->p, &c, acked, 100));
	}
	close(fd);
}

/*
 * An orphan (closed with data unsent) behind such a window gives up
 * after the orphan retry limit, well before retries2 would end it.
 */
TEST_F(h, small_window_orphan)
{
	static char out[2000];
	struct xp_conn c;
	struct xp_seg r;
	__s64 deadline;
	int fd, n = 0;

	fill(out, sizeof(out));
	ASSERT_EQ(0, knob(variant->retries2, 10));
	ASSERT_EQ(0, knob(variant->orphan_retries, 2));
	fd = small_window(self, variant, &c, 9105, 100, out, sizeof(out));
	ASSERT_LE(0, fd) TH_LOG("setup: %s", strerror(-fd));
	close(fd);

	/* retries2 10 at a 50 ms RTO would take 100 s. */
	deadline = xp_now_ms() + 10000;
	while (xp_now_ms() < deadline &&
	       proc_has(xp_proc_path(&self->p), c.kport, c.pport)) {
		if (!xp_conn_expect_data(&self->p, &c, &r, 20)) {
			ASSERT_GE(100U, r.len);
			n++;
		}
	}
	EXPECT_FALSE(proc_has(xp_proc_path(&self->p), c.kport, c.pport));
	EXPECT_LE(1, n);
	if (variant->proto == IPPROTO_XTCP)
		EXPECT_GE(3, n) TH_LOG("a probe and orphan_retries resends");
}

TEST_HARNESS_MAIN
