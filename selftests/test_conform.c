// SPDX-License-Identifier: GPL-2.0
/*
 * How a write becomes segments, against Linux TCP as the oracle: every
 * test runs for IPPROTO_TCP and for xtcp with the same expectations, the
 * kernel talking to the scripted peer of xtcp_peer.h, which sees every
 * segment and acknowledges only when a test says so.
 *
 * - PSH marks the last segment of each write (RFC 9293 3.9.1.2, MUST-61).
 * - Nagle as Linux implements it, with Minshall's refinement: the short
 *   tail of a write goes at once unless an earlier short segment is
 *   still unacknowledged.
 * - MSG_EOR ends a record: a later write does not join its last segment.
 * - An initial window of 10 segments on a passive open as on an active one.
 * - A listener's IP_TOS on its SYN-ACKs; IP_MINTTL (RFC 5082) dropping and
 *   counting segments from too far.
 * - MSG_MORE holds the partial tail of a write, without PSH, as TCP_CORK
 *   would for that one write: full segments go, and the tail leaves with
 *   the next write without the flag.
 * - A retransmission timer that fires while the application holds the
 *   socket lock, and is restarted by an ACK processed before the lock is
 *   released, does not retransmit when the lock is released (Linux's
 *   tcp_write_timer_handler() checks that the timer is still due).
 * - Congestion window validation (RFC 7661): an application-limited flow
 *   does not grow its window, and after an idle time longer than the RTO
 *   the window restarts (RFC 5681 4.1); seen through TCP_INFO over
 *   loopback.
 * - The send buffer holds what TCP's holds: per-segment overhead does not
 *   make a write that TCP accepts block, or a blocking write that TCP
 *   finishes hang.
 * - The SYN, SYN-ACK and cookie SYN-ACK carry their options in Linux's
 *   order (SACK-permitted packed with the timestamps), with the window
 *   scale Linux picks from the receive buffer's ceiling; a SYN-ACK's
 *   window field is never scaled (RFC 7323 2.2).
 */

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <linux/userfaultfd.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/*
 * The harness's wrapper around each test keeps its fork() result in a
 * local across the setjmp() that ASSERT_*() return to; once a test body is
 * inlined there, GCC warns that it might be clobbered. Should it be, a
 * failed assertion still fails the test (the process aborts).
 */
#pragma GCC diagnostic ignored "-Wclobbered"

#include "kselftest_harness.h"
#include "xtcp_peer.h"
#include "xtcp_test.h"

#define KADDR		"10.9.0.1"
#define PADDR		"10.9.0.2"
#define PEER_ISN	0x71000000u
#define IPV4_SYSCTL	"/proc/sys/net/ipv4/"

/*
 * How long a held segment must stay held: less than either protocol's
 * first retransmission timeout (200 ms), which would resend what is in
 * flight (and is passed over) but never the held segment.
 */
#define HELD_MS		120

FIXTURE(conf) {
	struct xp_peer p;
};

FIXTURE_VARIANT(conf) {
	int proto;
};

FIXTURE_VARIANT_ADD(conf, tcp) {
	.proto = IPPROTO_TCP,
};

FIXTURE_VARIANT_ADD(conf, xtcp) {
	.proto = IPPROTO_XTCP,
};

FIXTURE_SETUP(conf)
{
	int err;

	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("unshare: %s", strerror(-err));
	ASSERT_EQ(0, xtcp_short_retries(variant->proto, 2));
	/* Autocorking would hold small writes for reasons of its own. */
	if (variant->proto == IPPROTO_TCP)
		ASSERT_EQ(0, xtcp_write_file(IPV4_SYSCTL "tcp_autocorking",
					     "0"));
	err = xp_open(&self->p, variant->proto, KADDR, PADDR);
	ASSERT_EQ(0, err) TH_LOG("xp_open: %s", strerror(-err));
}

FIXTURE_TEARDOWN(conf)
{
	xp_close(&self->p);
}

static void fill(char *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (char)(seed + i * 7);
}

/*
 * A 3,000-byte write: all of it leaves without an ACK (its short tail is
 * the only short segment), and its last segment carries PSH.
 */
TEST_F(conf, write_tail_sent_with_psh)
{
	struct xp_conn c;
	struct xp_seg r;
	char buf[3000];
	__u32 seq, at;
	int segs = 0;

	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 9101, PEER_ISN, false));
	seq = c.k_nxt;
	fill(buf, sizeof(buf), 1);
	ASSERT_EQ((ssize_t)sizeof(buf), send(c.fd, buf, sizeof(buf), 0));
	for (at = seq; at != seq + sizeof(buf); at += r.len, segs++) {
		int err = xp_conn_data_at(&self->p, &c, &r, at, 1000);

		ASSERT_EQ(0, err) {
			TH_LOG("bytes from %u never came without an ACK: %s",
			       at - seq, strerror(-err));
		}
		ASSERT_EQ(0, memcmp(r.data, buf + (at - seq), r.len));
		/* Linux may push earlier segments too (forced_push()). */
		if (at + r.len == seq + sizeof(buf)) {
			EXPECT_NE(0U, r.flags & XP_PSH) {
				TH_LOG("last segment without PSH: %s",
				       XP_SEG_STR(&r));
			}
		}
	}
	EXPECT_LE(2, segs);
	close(c.fd);
}

/*
 * Minshall: with a short segment unacknowledged, the next short write
 * waits for its ACK; a full-sized segment in flight does not hold one.
 */
TEST_F(conf, short_segment_waits_for_short_one)
{
	struct xp_conn c;
	struct xp_seg r;
	__u32 seq;
	int err;

	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 9102, PEER_ISN, false));
	seq = c.k_nxt;
	ASSERT_EQ(10, send(c.fd, "0123456789", 10, 0));
	ASSERT_EQ(0, xp_conn_data_at(&self->p, &c, &r, seq, 1000));
	EXPECT_NE(0U, r.flags & XP_PSH);

	ASSERT_EQ(5, send(c.fd, "abcde", 5, 0));
	err = xp_conn_data_at(&self->p, &c, &r, seq + 10, HELD_MS);
	EXPECT_EQ(-ETIMEDOUT, err) TH_LOG("not held: %s", XP_SEG_STR(&r));
	ASSERT_EQ(0, xp_conn_ack_to(&self->p, &c, seq + 10));
	ASSERT_EQ(0, xp_conn_data_at(&self->p, &c, &r, seq + 10, 1000));
	EXPECT_EQ(5U, r.len);
	close(c.fd);
}

/*
 * MSG_EOR: 800 bytes ending a record and 200 more, both held behind a
 * short segment in flight, leave as two segments of 800 and 200, not as
 * one of 1,000.
 */
TEST_F(conf, eor_keeps_record_boundary)
{
	char rec[800], more[200];
	struct xp_conn c;
	struct xp_seg r;
	__u32 seq;

	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 9103, PEER_ISN, false));
	seq = c.k_nxt;
	fill(rec, sizeof(rec), 3);
	fill(more, sizeof(more), 5);
	ASSERT_EQ(10, send(c.fd, "0123456789", 10, 0));
	ASSERT_EQ(0, xp_conn_data_at(&self->p, &c, &r, seq, 1000));
	ASSERT_EQ((ssize_t)sizeof(rec),
		  send(c.fd, rec, sizeof(rec), MSG_EOR));
	ASSERT_EQ((ssize_t)sizeof(more), send(c.fd, more, sizeof(more), 0));

	ASSERT_EQ(0, xp_conn_ack_to(&self->p, &c, seq + 10));
	ASSERT_EQ(0, xp_conn_data_at(&self->p, &c, &r, seq + 10, 1000));
	EXPECT_EQ((__u32)sizeof(rec), r.len) TH_LOG("got %s", XP_SEG_STR(&r));
	EXPECT_EQ(0, memcmp(r.data, rec, sizeof(rec)));
	EXPECT_NE(0U, r.flags & XP_PSH);

	ASSERT_EQ(0, xp_conn_ack_to(&self->p, &c, seq + 10 + sizeof(rec)));
	ASSERT_EQ(0, xp_conn_data_at(&self->p, &c, &r, seq + 10 + sizeof(rec),
				     1000));
	EXPECT_EQ((__u32)sizeof(more), r.len);
	EXPECT_EQ(0, memcmp(r.data, more, sizeof(more)));
	close(c.fd);
}

/* Without MSG_EOR the same two writes may share a segment (they do). */
TEST_F(conf, without_eor_writes_coalesce)
{
	char rec[800], more[200];
	struct xp_conn c;
	struct xp_seg r;
	__u32 seq;

	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 9104, PEER_ISN, false));
	seq = c.k_nxt;
	fill(rec, sizeof(rec), 3);
	fill(more, sizeof(more), 5);
	ASSERT_EQ(10, send(c.fd, "0123456789", 10, 0));
	ASSERT_EQ(0, xp_conn_data_at(&self->p, &c, &r, seq, 1000));
	ASSERT_EQ((ssize_t)sizeof(rec), send(c.fd, rec, sizeof(rec), 0));
	ASSERT_EQ((ssize_t)sizeof(more), send(c.fd, more, sizeof(more), 0));

	ASSERT_EQ(0, xp_conn_ack_to(&self->p, &c, seq + 10));
	ASSERT_EQ(0, xp_conn_data_at(&self->p, &c, &r, seq + 10, 1000));
	EXPECT_EQ((__u32)(sizeof(rec) + sizeof(more)), r.len);
	close(c.fd);
}

/*
 * Initial window 10 on a passive open too (RFC 5681 3.1, RFC 6928): the
 * ACK of the SYN-ACK acknowledges no data and must not grow the window.
 * 15 segments' worth written at once: 10 leave before any ACK.
 */
/*
 * A listener's IP_TOS is the TOS byte of its SYN-ACKs, with a cookie too
 * (tcp_v4_send_synack()).
 */
TEST_F(conf, synack_tos)
{
	struct sockaddr_in sin = xtcp_sin(KADDR, 9111);
	struct xp_seg s, r;
	int lfd, cookies;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, variant->proto);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, xtcp_set_int(lfd, SOL_IP, IP_TOS, 0x48));
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(lfd, 8));

	for (cookies = 0; cookies < 2; cookies++) {
		ASSERT_EQ(0, xtcp_write_file(variant->proto == IPPROTO_TCP ?
					     IPV4_SYSCTL "tcp_syncookies" :
					     "/proc/sys/net/xtcp/syncookies",
					     cookies ? "2" : "1"));
		xp_seg_init(&self->p, &s);
		s.sport = 40111 + cookies;
		s.dport = 9111;
		s.seq = PEER_ISN;
		s.flags = XP_SYN;
		s.mss = 1000;
		ASSERT_EQ(0, xp_send(&self->p, &s));
		ASSERT_EQ(0, xp_expect(&self->p, &r, XP_SYN | XP_ACK | XP_RST,
				       XP_SYN | XP_ACK, 3000));
		EXPECT_EQ(PEER_ISN + 1U, r.ack);
		EXPECT_EQ(0x48, r.tos) TH_LOG("cookies %d: TOS 0x%02x",
					      cookies, r.tos);
	}
	close(lfd);
}

/*
 * IP_MINTTL (RFC 5082): a segment whose TTL is below the socket's minimum
 * is dropped and counted (TCP's TCPMinTTLDrop, xtcp's MinTTLDrop): data
 * is neither acknowledged nor delivered, a RST resets nothing. At the
 * minimum, all goes through.
 */
TEST_F(conf, min_ttl)
{
	const char *name = variant->proto == IPPROTO_TCP ? "TCPMinTTLDrop" :
							   "MinTTLDrop";
	long drops = xtcp_proto_counter(variant->proto, name);
	struct xp_conn c;
	struct xp_seg s, r;
	char buf[8];

	ASSERT_LE(0, drops);
	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 9112, PEER_ISN, false));
	ASSERT_EQ(0, xtcp_set_int(c.fd, SOL_IP, IP_MINTTL, 255));

	xp_conn_seg(&self->p, &c, &s, XP_ACK | XP_PSH);
	s.data = "far";
	s.len = 3;
	s.ttl = 254;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	EXPECT_EQ(-ETIMEDOUT, xp_conn_expect(&self->p, &c, &r, 0, 0, 300))
		TH_LOG("answered: %s", XP_SEG_STR(&r));
	EXPECT_EQ(-1, recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	xp_conn_seg(&self->p, &c, &s, XP_RST);
	s.ttl = 1;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	EXPECT_TRUE(xtcp_wait_until(xtcp_proto_counter(variant->proto, name) ==
				    drops + 2, 1000));
	EXPECT_EQ(0, xtcp_get_int(c.fd, SOL_SOCKET, SO_ERROR));

	xp_conn_seg(&self->p, &c, &s, XP_ACK | XP_PSH);
	s.data = "far";
	s.len = 3;
	s.ttl = 255;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c.p_nxt += 3;
	ASSERT_TRUE(xtcp_wait_fd(c.fd, POLLIN, 3000) & POLLIN);
	EXPECT_EQ(3, recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(0, memcmp(buf, "far", 3));
	EXPECT_EQ(drops + 2, xtcp_proto_counter(variant->proto, name));
	close(c.fd);
}

TEST_F(conf, passive_open_initial_window)
{
	struct sockaddr_in sin = xtcp_sin(KADDR, 9110);
	struct xp_conn c = { 0 };
	static char buf[15 * 1000];
	struct xp_seg s, sa, r;
	int lfd, cfd, segs = 0;
	__u32 next;
	__s64 end;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, variant->proto);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(lfd, 8));

	c.kport = 9110;
	c.pport = 40110;
	c.p_nxt = PEER_ISN;
	xp_conn_seg(&self->p, &c, &s, XP_SYN);
	s.mss = 1000;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c.p_nxt++;
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &sa,
					XP_SYN | XP_ACK | XP_RST | XP_FIN,
					XP_SYN | XP_ACK, c.p_nxt, 3000));
	c.k_nxt = sa.seq + 1;
	xp_conn_seg(&self->p, &c, &s, XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_TRUE(xtcp_wait_fd(lfd, POLLIN, 3000) & POLLIN);
	cfd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, cfd);

	fill(buf, sizeof(buf), 9);
	ASSERT_EQ((ssize_t)sizeof(buf), send(cfd, buf, sizeof(buf), 0));
	/* Before the first retransmission timeout (200 ms at least). */
	next = c.k_nxt;
	end = xp_now_ms() + HELD_MS;
	while (xp_now_ms() < end) {
		__s64 left = end - xp_now_ms();

		if (xp_conn_expect(&self->p, &c, &r, XP_SYN | XP_RST, 0,
				   left > 0 ? left : 0))
			break;
		if (r.len && r.seq == next) {
			next += r.len;
			segs += (r.len + 999) / 1000;
		}
	}
	TH_LOG("%d segments of 1000 bytes before any ACK", segs);
	EXPECT_EQ(10, segs);
	close(cfd);
	close(lfd);
}

/*
 * MSG_MORE with nothing in flight: the short write is held, without a
 * segment, until the next write without the flag; both leave as one
 * segment, with PSH.
 */
TEST_F(conf, msg_more_holds_tail)
{
	struct xp_conn c;
	struct xp_seg r;
	char buf[150];
	__u32 seq;
	int err;

	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 9105, PEER_ISN, false));
	seq = c.k_nxt;
	fill(buf, sizeof(buf), 7);
	ASSERT_EQ(100, send(c.fd, buf, 100, MSG_MORE));
	err = xp_conn_data_at(&self->p, &c, &r, seq, HELD_MS);
	EXPECT_EQ(-ETIMEDOUT, err) TH_LOG("not held: %s", XP_SEG_STR(&r));
	ASSERT_EQ(50, send(c.fd, buf + 100, 50, 0));
	ASSERT_EQ(0, xp_conn_data_at(&self->p, &c, &r, seq, 1000));
	EXPECT_EQ(150U, r.len) TH_LOG("got %s", XP_SEG_STR(&r));
	EXPECT_EQ(0, memcmp(r.data, buf, r.len < 150 ? r.len : 150));
	EXPECT_NE(0U, r.flags & XP_PSH);
	close(c.fd);
}

/*
 * MSG_MORE on a write longer than the MSS: the full segment goes at once,
 * without PSH; the 100-byte tail waits for the next write, though Nagle
 * would let it go behind a full segment. A tail held so goes, without
 * PSH, when an ACK empties the flight (Nagle's rule then applies alone).
 */
TEST_F(conf, msg_more_sends_full_segments)
{
	char buf[1460 + 100 + 10];
	struct xp_conn c;
	struct xp_seg r;
	__u32 seq;
	int err;

	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 9106, PEER_ISN, false));
	seq = c.k_nxt;
	fill(buf, sizeof(buf), 11);
	ASSERT_EQ(1560, send(c.fd, buf, 1560, MSG_MORE));
	ASSERT_EQ(0, xp_conn_data_at(&self->p, &c, &r, seq, 1000));
	EXPECT_EQ(1460U, r.len) TH_LOG("got %s", XP_SEG_STR(&r));
	EXPECT_EQ(0U, r.flags & XP_PSH) TH_LOG("got %s", XP_SEG_STR(&r));
	err = xp_conn_data_at(&self->p, &c, &r, seq + 1460, HELD_MS);
	EXPECT_EQ(-ETIMEDOUT, err) TH_LOG("not held: %s", XP_SEG_STR(&r));

	ASSERT_EQ(10, send(c.fd, buf + 1560, 10, 0));
	ASSERT_EQ(0, xp_conn_data_at(&self->p, &c, &r, seq + 1460, 1000));
	EXPECT_EQ(110U, r.len) TH_LOG("got %s", XP_SEG_STR(&r));
	EXPECT_NE(0U, r.flags & XP_PSH);
	EXPECT_EQ(0, memcmp(r.data, buf + 1460, r.len < 110 ? r.len : 110));

	seq += 1570;
	ASSERT_EQ(0, xp_conn_ack_to(&self->p, &c, seq));
	ASSERT_EQ(1560, send(c.fd, buf, 1560, MSG_MORE));
	ASSERT_EQ(0, xp_conn_data_at(&self->p, &c, &r, seq, 1000));
	EXPECT_EQ(1460U, r.len) TH_LOG("got %s", XP_SEG_STR(&r));
	ASSERT_EQ(0, xp_conn_ack_to(&self->p, &c, seq + 1460));
	ASSERT_EQ(0, xp_conn_data_at(&self->p, &c, &r, seq + 1460, 1000));
	EXPECT_EQ(100U, r.len) TH_LOG("got %s", XP_SEG_STR(&r));
	EXPECT_EQ(0U, r.flags & XP_PSH) TH_LOG("got %s", XP_SEG_STR(&r));
	close(c.fd);
}

static int ioctl_int(int fd, unsigned long req)
{
	int val;

	return ioctl(fd, req, &val) ? -errno : val;
}

/* During the handshake nothing is queued either way: the SYN is not data. */
TEST_F(conf, ioctls_in_syn_sent)
{
	struct sockaddr_in sin = xtcp_sin(PADDR, 9108);
	struct xp_conn c = { .pport = 9108 };
	struct xp_seg r;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, variant->proto);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(EINPROGRESS, errno);
	ASSERT_EQ(0, xp_conn_expect(&self->p, &c, &r, XP_SYN, XP_SYN, 3000));
	EXPECT_EQ(0, ioctl_int(fd, SIOCINQ));
	EXPECT_EQ(0, ioctl_int(fd, SIOCOUTQ));
	EXPECT_EQ(0, ioctl_int(fd, SIOCOUTQNSD));
	close(fd);
}

/* --- a timer that fires while the socket is owned ---------------------- */

/*
 * A send() whose buffer is a page userfaultfd has not filled yet: the
 * kernel's copy waits for the page with the socket lock held, until the
 * test supplies it. The portable way to keep a socket owned for as long
 * as a test needs.
 */
struct owned_send {
	int fd;
	void *page;
	size_t len;
	ssize_t ret;
};

static void *owned_send_run(void *arg)
{
	struct owned_send *o = arg;

	o->ret = send(o->fd, o->page, o->len, 0);
	return NULL;
}

static int uffd_open(void *page, size_t size)
{
	struct uffdio_register reg = {
		.range = { .start = (unsigned long)page, .len = size },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	struct uffdio_api api = { .api = UFFD_API };
	int fd;

	fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, UFFDIO_API, &api) || ioctl(fd, UFFDIO_REGISTER, &reg)) {
		close(fd);
		return -errno;
	}
	return fd;
}

static int tcp_info_of(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	return getsockopt(fd, SOL_TCP, TCP_INFO, ti, &len) ? -errno : 0;
}

/*
 * Two segments in flight; the application then holds the socket lock
 * (a send() blocked in its copy) past the RTO, so that the timer's run is
 * deferred to release_sock(), and meanwhile the peer acknowledges the
 * first segment, which restarts the timer once the backlog is processed.
 * When the lock goes, the second segment must not be retransmitted: its
 * timer is not due. Then the peer acknowledges everything; no
 * retransmission was counted, cwnd was left alone. Skipped on a kernel
 * without userfaultfd (CONFIG_USERFAULTFD).
 */
TEST_F(conf, deferred_rto_rechecks_due)
{
	struct owned_send o = { 0 };
	struct uffdio_copy copy;
	struct uffd_msg msg;
	struct tcp_info ti;
	long psize = sysconf(_SC_PAGESIZE);
	char *src, buf[100];
	struct xp_conn c;
	struct xp_seg r;
	pthread_t th;
	__u32 seq, rto_ms;
	int uffd, err;

	o.page = mmap(NULL, psize, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, o.page);
	uffd = uffd_open(o.page, psize);
	if (uffd == -ENOSYS)
		SKIP(return, "no userfaultfd in this kernel");
	ASSERT_LE(0, uffd) TH_LOG("userfaultfd: %s", strerror(-uffd));

	/* TCP's tail loss probe would retransmit before the RTO. */
	if (variant->proto == IPPROTO_TCP)
		ASSERT_EQ(0, xtcp_write_file(IPV4_SYSCTL "tcp_early_retrans",
					     "0"));
	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 9107, PEER_ISN, false));
	ASSERT_EQ(0, xtcp_set_int(c.fd, SOL_TCP, TCP_NODELAY, 1));
	seq = c.k_nxt;
	fill(buf, sizeof(buf), 13);
	ASSERT_EQ(100, send(c.fd, buf, 100, 0));
	ASSERT_EQ(100, send(c.fd, buf, 100, 0));
	ASSERT_EQ(0, xp_conn_data_at(&self->p, &c, &r, seq, 1000));
	ASSERT_EQ(0, xp_conn_data_at(&self->p, &c, &r, seq + 100, 1000));
	ASSERT_EQ(0, tcp_info_of(c.fd, &ti));
	rto_ms = ti.tcpi_rto / 1000;
	TH_LOG("rto %u ms, cwnd %u", rto_ms, ti.tcpi_snd_cwnd);
	ASSERT_EQ(0U, ti.tcpi_total_retrans);

	o.fd = c.fd;
	o.len = 100;
	ASSERT_EQ(0, pthread_create(&th, NULL, owned_send_run, &o));
	/* The fault: the sender is in its copy, the socket owned. */
	ASSERT_TRUE(xtcp_wait_fd(uffd, POLLIN, 5000) & POLLIN);
	ASSERT_EQ((ssize_t)sizeof(msg), read(uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);

	/* To the backlog; then the RTO passes twice over, deferred. */
	ASSERT_EQ(0, xp_conn_ack_to(&self->p, &c, seq + 100));
	err = xp_conn_data_at(&self->p, &c, &r, seq + 100, 2 * rto_ms + 300);
	ASSERT_EQ(-ETIMEDOUT, err) {
		TH_LOG("sent while owned: %s", XP_SEG_STR(&r));
	}

	src = mmap(NULL, psize, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, src);
	memset(src, 'z', psize);
	copy.dst = (unsigned long)o.page;
	copy.src = (unsigned long)src;
	copy.len = psize;
	copy.mode = 0;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_COPY, &copy));
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_EQ(100, o.ret);

	/* The new data; then everything is acknowledged. */
	ASSERT_EQ(0, xp_conn_data_at(&self->p, &c, &r, seq + 200, 1000));
	ASSERT_EQ(0, xp_conn_ack_to(&self->p, &c, seq + 300));
	ASSERT_TRUE(xtcp_wait_until(!tcp_info_of(c.fd, &ti) &&
				    !ti.tcpi_unacked, 2000));
	TH_LOG("after release: %u retransmissions, cwnd %u, backoff %u",
	       ti.tcpi_total_retrans, ti.tcpi_snd_cwnd, ti.tcpi_backoff);
	EXPECT_EQ(0U, ti.tcpi_total_retrans);
	EXPECT_LE(10U, ti.tcpi_snd_cwnd);
	EXPECT_EQ(0, ti.tcpi_backoff);
	close(uffd);
	munmap(src, psize);
	munmap(o.page, psize);
	close(c.fd);
}

/* --- the send buffer ---------------------------------------------------- */

/*
 * A nonblocking write on a fresh connection: TCP takes 20,000 bytes at
 * once (its buffer grew at establishment for twice the initial window),
 * and so must xtcp, for a peer MSS of 1460 as of 536. The peer does not
 * acknowledge anything.
 */
static void fresh_write(struct __test_metadata *_metadata, struct xp_peer *p,
			__u16 mss, __u16 pport)
{
	static char buf[1 << 20];
	struct xp_conn c;
	ssize_t n;

	p->mss = mss;
	ASSERT_EQ(0, xp_conn_open(p, &c, pport, PEER_ISN, false));
	n = send(c.fd, buf, 20000, MSG_DONTWAIT);
	TH_LOG("MSS %u: a nonblocking write of 20000 takes %zd, SO_SNDBUF %d",
	       mss, n, xtcp_get_int(c.fd, SOL_SOCKET, SO_SNDBUF));
	EXPECT_EQ(20000, n);
	close(c.fd);

	ASSERT_EQ(0, xp_conn_open(p, &c, pport + 1, PEER_ISN, false));
	n = send(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
	TH_LOG("MSS %u: a nonblocking write of 1 MiB takes %zd", mss, n);
	close(c.fd);
}

TEST_F(conf, fresh_write_not_short)
{
	fresh_write(_metadata, &self->p, 1460, 9120);
	fresh_write(_metadata, &self->p, 536, 9122);
}

/*
 * SO_SNDBUF fixes the buffer at twice the value asked for: a blocking
 * write of the value itself completes into it while the peer, which does
 * not read, acknowledges nothing. Small segments make per-segment
 * overhead count most.
 */
static void locked_write(struct __test_metadata *_metadata,
			 struct xp_peer *p, int proto, __u16 mss, int size,
			 __u16 pport)
{
	struct timeval tv = { .tv_sec = 2 };
	static char buf[1 << 20];
	struct xp_conn c;
	int fd, flags;
	ssize_t n;

	fd = socket(AF_INET, SOCK_STREAM, proto);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_SOCKET, SO_SNDBUF, size));
	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	p->mss = mss;
	ASSERT_EQ(0, xp_conn_connect(p, &c, fd, pport, PEER_ISN, 65535,
				     false));
	flags = fcntl(fd, F_GETFL);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, flags & ~O_NONBLOCK));
	n = send(fd, buf, size, 0);
	TH_LOG("MSS %u, SO_SNDBUF %d (%d): a blocking write of %d takes %zd",
	       mss, size, xtcp_get_int(fd, SOL_SOCKET, SO_SNDBUF), size, n);
	EXPECT_EQ(size, n);
	close(fd);
}

TEST_F(conf, sndbuf_sized_write_completes)
{
	locked_write(_metadata, &self->p, variant->proto, 1460, 65536, 9124);
	locked_write(_metadata, &self->p, variant->proto, 536, 65536, 9125);
	locked_write(_metadata, &self->p, variant->proto, 536, 200000, 9126);
}

/* Transmit checksum offload of the peer's tun device on or off. */
static int tun_tx_csum(const struct xp_peer *p, bool on)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_STXCSUM, .data = on };
	struct ifreq ifr;
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, p->ifname, IFNAMSIZ);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		err = -errno;
	close(fd);
	return err;
}

/*
 * Without checksum offload the sum is taken in software: a large write
 * cut into segments of an odd size (no timestamps, MSS 537) arrives with
 * every checksum right and every byte in place.
 */
TEST_F(conf, cut_segments_summed_in_software)
{
	static char buf[20000];
	struct xp_conn c;
	struct xp_seg r;
	__u32 seq, at;
	int segs = 0;

	ASSERT_EQ(0, tun_tx_csum(&self->p, false));
	self->p.mss = 537;
	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 9128, PEER_ISN, false));
	seq = c.k_nxt;
	fill(buf, sizeof(buf), 11);
	ASSERT_EQ((ssize_t)sizeof(buf), send(c.fd, buf, sizeof(buf), 0));
	for (at = seq; at != seq + sizeof(buf); at += r.len, segs++) {
		ASSERT_EQ(0, xp_conn_data_at(&self->p, &c, &r, at, 2000)) {
			TH_LOG("bytes from %u never came", at - seq);
		}
		EXPECT_TRUE(r.csum_ok) TH_LOG("%s", XP_SEG_STR(&r));
		EXPECT_FALSE(r.csum_partial);
		EXPECT_GE(537U, r.len);
		ASSERT_EQ(0, memcmp(r.data, buf + (at - seq), r.len));
		ASSERT_EQ(0, xp_conn_ack_to(&self->p, &c, at + r.len));
	}
	TH_LOG("%d segments", segs);
	close(c.fd);
}

/* --- SYN options and the window scale ----------------------------------- */

#define WSCALE_DEFAULT	7	/* from a ceiling of 6 MiB: ilog2 - 15 */
#define SMALL_RCVBUF	100000	/* buffer 200000, window 100000: shift 1 */
#define WSCALE_SMALL	1

/*
 * The knobs the SYN options depend on, alike for both protocols: SACK on,
 * timestamps @ts, a receive buffer ceiling of 6 MiB, SYN cookies @cookies
 * (2: always).
 */
static int wire_knobs(int proto, bool ts, int cookies)
{
	if (proto == IPPROTO_XTCP)
		return xtcp_sysctl_set("sack", 1) ?:
		       xtcp_sysctl_set("timestamps", ts) ?:
		       xtcp_sysctl_set("rmem_max", 6291456) ?:
		       xtcp_sysctl_set("syncookies", cookies);
	return xtcp_write_file(IPV4_SYSCTL "tcp_sack", "1") ?:
	       xtcp_write_long(IPV4_SYSCTL "tcp_timestamps", ts) ?:
	       xtcp_write_file(IPV4_SYSCTL "tcp_rmem",
			       "4096 131072 6291456") ?:
	       xtcp_write_long(IPV4_SYSCTL "tcp_syncookies", cookies);
}

/*
 * The options of a SYN or SYN-ACK as Linux writes them
 * (tcp_options_write()): MSS; NOP, NOP (or SACK-permitted), timestamps;
 * NOP, NOP, SACK-permitted if there are no timestamps; NOP, window scale;
 * each only if present in @r. Fails unless @r carries exactly these bytes.
 */
static void expect_syn_layout(struct __test_metadata *_metadata,
			      const struct xp_seg *r)
{
	__u8 want[XP_MAX_OPTLEN];
	size_t n = 0;

	ASSERT_NE(0, r->mss) TH_LOG("no MSS: %s", XP_SEG_STR(r));
	want[n++] = 2;
	want[n++] = 4;
	xp_put16(want + n, r->mss);
	n += 2;
	if (r->ts) {
		want[n++] = r->sack_perm ? 4 : 1;
		want[n++] = r->sack_perm ? 2 : 1;
		want[n++] = 8;
		want[n++] = 10;
		xp_put32(want + n, r->tsval);
		xp_put32(want + n + 4, r->tsecr);
		n += 8;
	} else if (r->sack_perm) {
		want[n++] = 1;
		want[n++] = 1;
		want[n++] = 4;
		want[n++] = 2;
	}
	if (r->wscale >= 0) {
		want[n++] = 1;
		want[n++] = 3;
		want[n++] = 3;
		want[n++] = r->wscale;
	}
	EXPECT_EQ(n, r->rx_opts_len) TH_LOG("%s", XP_SEG_STR(r));
	if (n == r->rx_opts_len) {
		EXPECT_EQ(0, memcmp(want, r->rx_opts, n)) {
			TH_LOG("options out of order: %s", XP_SEG_STR(r));
		}
	}
}

/* Our SYN to the peer's @pport from a socket with receive buffer @rcvbuf. */
static int capture_syn(struct xp_peer *p, int proto, int rcvbuf, __u16 pport,
		       struct xp_seg *syn)
{
	struct sockaddr_in sin = xtcp_sin(PADDR, pport);
	struct xp_conn c = { .pport = pport };
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, proto);
	if (fd < 0)
		return -errno;
	if (rcvbuf && xtcp_set_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf)) {
		err = -errno;
		goto out;
	}
	if (!connect(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    errno != EINPROGRESS) {
		err = -EPROTO;
		goto out;
	}
	err = xp_conn_expect(p, &c, syn, XP_SYN | XP_ACK | XP_RST, XP_SYN,
			     3000);
out:
	close(fd);
	return err;
}

TEST_F(conf, syn_options_as_linux)
{
	struct xp_seg r;
	int ts;

	for (ts = 1; ts >= 0; ts--) {
		ASSERT_EQ(0, wire_knobs(variant->proto, ts, 1));
		ASSERT_EQ(0, capture_syn(&self->p, variant->proto, 0,
					 40200 + ts, &r));
		TH_LOG("SYN %s", XP_SEG_STR(&r));
		EXPECT_EQ(ts, r.ts);
		EXPECT_TRUE(r.sack_perm);
		EXPECT_EQ(WSCALE_DEFAULT, r.wscale);
		expect_syn_layout(_metadata, &r);

		ASSERT_EQ(0, capture_syn(&self->p, variant->proto,
					 SMALL_RCVBUF, 40210 + ts, &r));
		TH_LOG("SYN with SO_RCVBUF %d: %s", SMALL_RCVBUF,
		       XP_SEG_STR(&r));
		EXPECT_EQ(WSCALE_SMALL, r.wscale);
		expect_syn_layout(_metadata, &r);
	}
}

/*
 * The SYN-ACK a listener on @kport (receive buffer @rcvbuf) answers the
 * peer's SYN from @pport with, the SYN offering timestamps if @ts.
 */
static int capture_synack(struct xp_peer *p, int proto, int rcvbuf,
			  __u16 kport, __u16 pport, bool ts,
			  struct xp_seg *sa)
{
	struct sockaddr_in sin = xtcp_sin(KADDR, kport);
	struct xp_conn c = { 0 };
	struct xp_seg s;
	int lfd, err;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, proto);
	if (lfd < 0)
		return -errno;
	if ((rcvbuf && xtcp_set_int(lfd, SOL_SOCKET, SO_RCVBUF, rcvbuf)) ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(lfd, 8)) {
		err = -errno;
		goto out;
	}
	c.kport = kport;
	c.pport = pport;
	c.p_nxt = PEER_ISN;
	c.ts = ts;
	c.p_tsval = 1000;
	xp_conn_seg(p, &c, &s, XP_SYN);
	s.mss = 1460;
	s.wscale = 7;
	s.sack_perm = true;
	err = xp_send(p, &s);
	if (!err)
		err = xp_conn_expect(p, &c, sa, XP_SYN | XP_ACK | XP_RST,
				     XP_SYN | XP_ACK, 3000);
out:
	close(lfd);
	return err;
}

static void synack_options(struct __test_metadata *_metadata,
			   struct xp_peer *p, int proto, int cookies)
{
	__u16 port = 9130 + 10 * cookies;
	struct xp_seg r;
	int ts;

	for (ts = 1; ts >= 0; ts--) {
		ASSERT_EQ(0, wire_knobs(proto, true, cookies));
		ASSERT_EQ(0, capture_synack(p, proto, 0, port + ts,
					    40300 + port + ts, ts, &r));
		TH_LOG("SYN-ACK (cookies %d) %s", cookies, XP_SEG_STR(&r));
		EXPECT_EQ(ts, r.ts);
		/* A cookie without timestamps cannot keep a window scale
		 * or SACK.
		 */
		if (cookies && !ts) {
			EXPECT_EQ(-1, r.wscale);
			EXPECT_FALSE(r.sack_perm);
		} else {
			EXPECT_EQ(WSCALE_DEFAULT, r.wscale);
			EXPECT_TRUE(r.sack_perm);
		}
		expect_syn_layout(_metadata, &r);

		ASSERT_EQ(0, capture_synack(p, proto, SMALL_RCVBUF,
					    port + 2 + ts,
					    40302 + port + ts, ts, &r));
		TH_LOG("SYN-ACK (cookies %d) with SO_RCVBUF %d: %s", cookies,
		       SMALL_RCVBUF, XP_SEG_STR(&r));
		if (cookies && !ts) {
			EXPECT_EQ(-1, r.wscale);
		} else {
			EXPECT_EQ(WSCALE_SMALL, r.wscale);
		}
		expect_syn_layout(_metadata, &r);
	}
}

TEST_F(conf, synack_options_as_linux)
{
	synack_options(_metadata, &self->p, variant->proto, 0);
}

TEST_F(conf, cookie_synack_options_as_linux)
{
	synack_options(_metadata, &self->p, variant->proto, 2);
}

/*
 * Simultaneous open (RFC 9293 figure 8): our SYN crosses the peer's, and
 * our SYN becomes a SYN-ACK. Its window field, like any with SYN, is not
 * scaled (RFC 7323 2.2): it says what the SYN said, though the peer's SYN
 * offered a window scale and ours did too.
 */
TEST_F(conf, simultaneous_open_synack_window)
{
	struct sockaddr_in sin = xtcp_sin(KADDR, 9150);
	struct xp_conn c = { .kport = 9150, .pport = 40150 };
	struct xp_seg syn, s, sa;
	int fd;

	ASSERT_EQ(0, wire_knobs(variant->proto, true, 1));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, variant->proto);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
	sin = xtcp_sin(PADDR, c.pport);
	ASSERT_EQ(-1, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(EINPROGRESS, errno);
	ASSERT_EQ(0, xp_conn_expect(&self->p, &c, &syn,
				    XP_SYN | XP_ACK | XP_RST, XP_SYN, 3000));
	/* Before the next segment reuses the buffer its options are in. */
	TH_LOG("SYN %s", XP_SEG_STR(&syn));
	EXPECT_EQ(WSCALE_DEFAULT, syn.wscale);

	c.p_nxt = PEER_ISN;
	c.ts = syn.ts;
	c.p_tsval = 1000;
	xp_conn_seg(&self->p, &c, &s, XP_SYN);
	s.mss = 1460;
	s.wscale = 7;
	s.window = 512;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c.p_nxt++;
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &sa,
					XP_SYN | XP_ACK | XP_RST,
					XP_SYN | XP_ACK, c.p_nxt, 3000));
	TH_LOG("SYN-ACK %s", XP_SEG_STR(&sa));
	EXPECT_EQ(syn.seq, sa.seq);
	EXPECT_EQ(syn.window, sa.window);
	EXPECT_LT(1000, sa.window);
	EXPECT_EQ(WSCALE_DEFAULT, sa.wscale);
	expect_syn_layout(_metadata, &sa);
	close(fd);
}

/* --- the congestion window, over loopback ------------------------------ */

FIXTURE(cwnd) {
	int cfd, sfd;
};

FIXTURE_VARIANT(cwnd) {
	int proto;
};

FIXTURE_VARIANT_ADD(cwnd, tcp) {
	.proto = IPPROTO_TCP,
};

FIXTURE_VARIANT_ADD(cwnd, xtcp) {
	.proto = IPPROTO_XTCP,
};

FIXTURE_SETUP(cwnd)
{
	ASSERT_EQ(0, xp_unshare_net());
	ASSERT_EQ(0, xtcp_write_file("/proc/sys/net/ipv4/tcp_autocorking",
				     "0"));
	self->sfd = xtcp_lo_pair(variant->proto, &self->cfd);
	ASSERT_LE(0, self->sfd);
}

FIXTURE_TEARDOWN(cwnd)
{
	close(self->cfd);
	close(self->sfd);
}

static __u32 snd_cwnd(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, SOL_TCP, TCP_INFO, &ti, &len))
		return 0;
	return ti.tcpi_snd_cwnd;
}

/* @n bytes from @fd, all of them; 0 or -1. */
static int read_all(int fd, char *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		if (!(xtcp_wait_fd(fd, POLLIN, 5000) & POLLIN))
			return -1;
		r = recv(fd, buf + got, n - got, 0);
		if (r <= 0)
			return -1;
		got += r;
	}
	return 0;
}

/*
 * 300 one-segment request/response rounds: one segment in flight at a
 * time never needs more than the initial window, which stays as it was.
 */
TEST_F(cwnd, app_limited_window_stays)
{
	char buf[100];
	__u32 start;
	int i;

	start = snd_cwnd(self->cfd);
	memset(buf, 'q', sizeof(buf));
	for (i = 0; i < 300; i++) {
		ASSERT_EQ((ssize_t)sizeof(buf),
			  send(self->cfd, buf, sizeof(buf), 0));
		ASSERT_EQ(0, read_all(self->sfd, buf, sizeof(buf)));
		ASSERT_EQ((ssize_t)sizeof(buf),
			  send(self->sfd, buf, sizeof(buf), 0));
		ASSERT_EQ(0, read_all(self->cfd, buf, sizeof(buf)));
	}
	TH_LOG("cwnd %u after 300 rounds, %u at the start",
	       snd_cwnd(self->cfd), start);
	EXPECT_GE(start, snd_cwnd(self->cfd));
}

/*
 * A bulk transfer opens the window; after a second of silence (several
 * RTOs) the next write finds it restarted: at most half of what it was,
 * not below the initial window. On loopback the receiver, not the
 * window, often limits the sender, and a window that is not used does not
 * grow (RFC 7661), so the transfer goes on, a MiB at a time, until the
 * window is past 20 segments (or 64 MiB, which fails).
 */
TEST_F(cwnd, window_restarts_after_idle)
{
	static char buf[1 << 20];	/* zeros; the transfer ends with 0xff */
	__u32 before = 0, after;
	const char end = (char)0xff;
	pid_t pid;
	int i, status;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		for (;;) {
			ssize_t r;

			if (!(xtcp_wait_fd(self->sfd, POLLIN, 5000) & POLLIN))
				_exit(1);
			r = recv(self->sfd, buf, sizeof(buf), 0);
			if (r <= 0)
				_exit(1);
			if (buf[r - 1] == end)
				_exit(0);
		}
	}
	for (i = 0; i < 64 && before <= 20; i++) {
		ASSERT_EQ((ssize_t)sizeof(buf),
			  send(self->cfd, buf, sizeof(buf), 0));
		before = snd_cwnd(self->cfd);
	}
	ASSERT_EQ(1, send(self->cfd, &end, 1, 0));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	before = snd_cwnd(self->cfd);
	TH_LOG("%d MiB sent", i);
	ASSERT_LT(20u, before);

	usleep(1000 * 1000);	/* the idle time under test */
	ASSERT_EQ(1, send(self->cfd, "x", 1, 0));
	after = snd_cwnd(self->cfd);
	TH_LOG("cwnd %u after the transfer, %u after a second idle",
	       before, after);
	EXPECT_GE(before / 2, after);
	EXPECT_LE(10u, after);
}

TEST_HARNESS_MAIN
