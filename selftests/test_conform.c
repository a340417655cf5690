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
 */

#include <linux/sockios.h>
#include <linux/userfaultfd.h>
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
 * not below the initial window.
 */
TEST_F(cwnd, window_restarts_after_idle)
{
	static char buf[1 << 20];
	__u32 before, after;
	pid_t pid;
	int i, status;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		for (i = 0; i < 16; i++)
			if (read_all(self->sfd, buf, sizeof(buf)))
				_exit(1);
		_exit(0);
	}
	for (i = 0; i < 16; i++)
		ASSERT_EQ((ssize_t)sizeof(buf),
			  send(self->cfd, buf, sizeof(buf), 0));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	before = snd_cwnd(self->cfd);
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
