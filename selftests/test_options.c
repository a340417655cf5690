// SPDX-License-Identifier: GPL-2.0
/*
 * The segment-shaping socket options, against Linux TCP as the oracle:
 * every test runs for IPPROTO_TCP (TCP_NODELAY, TCP_MAXSEG) and for xtcp
 * (XTCP_NODELAY, XTCP_MAXSEG) with the same expectations, the kernel
 * talking to the scripted peer of xtcp_peer.h, which sees every segment
 * and acknowledges only when a test says so.
 *
 * Nagle (RFC 9293 3.7.4): while data is unacknowledged, a segment smaller
 * than the MSS waits for the ACK; NODELAY sends it at once, and setting
 * NODELAY sends what waits. MAXSEG clamps the MSS the SYN announces and
 * the size of the segments sent, below whatever the peer announced.
 */

#include <netinet/tcp.h>

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
#define PEER_ISN	0x70000000u
#define IPV4_SYSCTL	"/proc/sys/net/ipv4/"
#define ANY_FLAGS	(XP_SYN | XP_ACK | XP_RST | XP_FIN)

/*
 * How long a held segment must stay held: less than either protocol's
 * first retransmission timeout (200 ms), which would send it anyway.
 * A segment that must go at once is waited for longer: should it be held
 * instead, a retransmission timeout resends only the segment in flight,
 * with a window of one, so the test still fails.
 */
#define HELD_MS		120

static_assert(XTCP_NODELAY == TCP_NODELAY, "option numbers");
static_assert(XTCP_MAXSEG == TCP_MAXSEG, "option numbers");

FIXTURE(opt) {
	struct xp_peer p;
};

FIXTURE_VARIANT(opt) {
	int proto;
	int level;
	int maxseg_max;		/* the largest MAXSEG accepted */
};

FIXTURE_VARIANT_ADD(opt, tcp) {
	.proto = IPPROTO_TCP,
	.level = SOL_TCP,
	.maxseg_max = 32767,	/* Linux's MAX_TCP_WINDOW */
};

FIXTURE_VARIANT_ADD(opt, xtcp) {
	.proto = IPPROTO_XTCP,
	.level = SOL_XTCP,
	.maxseg_max = 65535,	/* any MSS the option can carry */
};

FIXTURE_SETUP(opt)
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

FIXTURE_TEARDOWN(opt)
{
	xp_close(&self->p);
}

/* NODELAY reads back as set; malformed values are refused. */
TEST_F(opt, nodelay_option)
{
	int fd = socket(AF_INET, SOCK_STREAM, variant->proto);
	char small = 1;

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, xtcp_get_int(fd, variant->level, TCP_NODELAY));
	EXPECT_EQ(0, xtcp_set_int(fd, variant->level, TCP_NODELAY, 1));
	EXPECT_EQ(1, xtcp_get_int(fd, variant->level, TCP_NODELAY));
	EXPECT_EQ(0, xtcp_set_int(fd, variant->level, TCP_NODELAY, 7));
	EXPECT_EQ(1, xtcp_get_int(fd, variant->level, TCP_NODELAY));
	EXPECT_EQ(0, xtcp_set_int(fd, variant->level, TCP_NODELAY, 0));
	EXPECT_EQ(0, xtcp_get_int(fd, variant->level, TCP_NODELAY));
	EXPECT_EQ(-1, setsockopt(fd, variant->level, TCP_NODELAY, &small,
				 sizeof(small)));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

/*
 * Nagle: with data in flight a small write waits for the ACK; once the
 * ACK comes it is sent.
 */
TEST_F(opt, nagle_holds_small_segment)
{
	struct xp_conn c;
	struct xp_seg r;
	__u32 seq;
	int err;

	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 9001, PEER_ISN, false));
	seq = c.k_nxt;
	ASSERT_EQ(10, send(c.fd, "0123456789", 10, 0));
	ASSERT_EQ(0, xp_conn_data_at(&self->p, &c, &r, seq, 1000));
	EXPECT_EQ(10U, r.len);

	ASSERT_EQ(10, send(c.fd, "abcdefghij", 10, 0));
	err = xp_conn_data_at(&self->p, &c, &r, seq + 10, HELD_MS);
	EXPECT_EQ(-ETIMEDOUT, err) TH_LOG("not held: %s", XP_SEG_STR(&r));

	ASSERT_EQ(0, xp_conn_ack_to(&self->p, &c, seq + 10));
	err = xp_conn_data_at(&self->p, &c, &r, seq + 10, 1000);
	ASSERT_EQ(0, err) TH_LOG("not sent after the ACK: %s", strerror(-err));
	EXPECT_EQ(10U, r.len);
	EXPECT_EQ(0, memcmp(r.data, "abcdefghij", 10));
	close(c.fd);
}

/* NODELAY: the second small write goes out without waiting for an ACK. */
TEST_F(opt, nodelay_sends_at_once)
{
	struct xp_conn c;
	struct xp_seg r;
	__u32 seq;
	int err;

	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 9002, PEER_ISN, false));
	ASSERT_EQ(0, xtcp_set_int(c.fd, variant->level, TCP_NODELAY, 1));
	seq = c.k_nxt;
	ASSERT_EQ(10, send(c.fd, "0123456789", 10, 0));
	ASSERT_EQ(0, xp_conn_data_at(&self->p, &c, &r, seq, 1000));
	ASSERT_EQ(10, send(c.fd, "abcdefghij", 10, 0));
	err = xp_conn_data_at(&self->p, &c, &r, seq + 10, 1000);
	ASSERT_EQ(0, err) TH_LOG("held: %s", strerror(-err));
	EXPECT_EQ(10U, r.len);
	close(c.fd);
}

/* Setting NODELAY sends what Nagle holds, still without an ACK. */
TEST_F(opt, nodelay_pushes_held_data)
{
	struct xp_conn c;
	struct xp_seg r;
	__u32 seq;
	int err;

	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 9003, PEER_ISN, false));
	seq = c.k_nxt;
	ASSERT_EQ(10, send(c.fd, "0123456789", 10, 0));
	ASSERT_EQ(0, xp_conn_data_at(&self->p, &c, &r, seq, 1000));
	ASSERT_EQ(10, send(c.fd, "abcdefghij", 10, 0));
	ASSERT_EQ(-ETIMEDOUT,
		  xp_conn_data_at(&self->p, &c, &r, seq + 10, HELD_MS));
	ASSERT_EQ(0, xtcp_set_int(c.fd, variant->level, TCP_NODELAY, 1));
	err = xp_conn_data_at(&self->p, &c, &r, seq + 10, 1000);
	ASSERT_EQ(0, err) TH_LOG("still held: %s", strerror(-err));
	EXPECT_EQ(10U, r.len);
	close(c.fd);
}

/* MAXSEG's range, and what getsockopt() reports before a connection. */
TEST_F(opt, maxseg_option)
{
	int fd = socket(AF_INET, SOCK_STREAM, variant->proto);

	ASSERT_LE(0, fd);
	/* RFC 9293 3.7.1: 536 until a connection says otherwise. */
	EXPECT_EQ(536, xtcp_get_int(fd, variant->level, TCP_MAXSEG));
	EXPECT_EQ(-EINVAL, xtcp_set_int(fd, variant->level, TCP_MAXSEG, 87));
	EXPECT_EQ(-EINVAL, xtcp_set_int(fd, variant->level, TCP_MAXSEG, -1));
	EXPECT_EQ(-EINVAL, xtcp_set_int(fd, variant->level, TCP_MAXSEG,
					variant->maxseg_max + 1));
	EXPECT_EQ(536, xtcp_get_int(fd, variant->level, TCP_MAXSEG));
	EXPECT_EQ(0, xtcp_set_int(fd, variant->level, TCP_MAXSEG, 88));
	EXPECT_EQ(88, xtcp_get_int(fd, variant->level, TCP_MAXSEG));
	EXPECT_EQ(0, xtcp_set_int(fd, variant->level, TCP_MAXSEG,
				  variant->maxseg_max));
	EXPECT_EQ(variant->maxseg_max,
		  xtcp_get_int(fd, variant->level, TCP_MAXSEG));
	EXPECT_EQ(0, xtcp_set_int(fd, variant->level, TCP_MAXSEG, 1000));
	EXPECT_EQ(1000, xtcp_get_int(fd, variant->level, TCP_MAXSEG));
	/* 0 removes the clamp. */
	EXPECT_EQ(0, xtcp_set_int(fd, variant->level, TCP_MAXSEG, 0));
	EXPECT_EQ(536, xtcp_get_int(fd, variant->level, TCP_MAXSEG));
	close(fd);
}

/*
 * Connect with MAXSEG @clamp to a peer announcing @peer_mss, write 5000
 * bytes and check that they come in segments of @want bytes (the last
 * one possibly shorter), in order and intact.
 */
static void maxseg_transfer(struct __test_metadata *_metadata,
			    FIXTURE_DATA(opt) *self,
			    const FIXTURE_VARIANT(opt) *variant, __u16 pport,
			    int clamp, __u16 peer_mss, int want)
{
	static char out[5000];
	struct xp_conn c;
	struct xp_seg r;
	__u32 seq, got;
	int fd, err;
	size_t i;

	for (i = 0; i < sizeof(out); i++)
		out[i] = 'a' + i % 23;
	fd = socket(AF_INET, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, xtcp_set_int(fd, variant->level, TCP_MAXSEG, clamp));
	ASSERT_EQ(0, xtcp_set_int(fd, variant->level, TCP_NODELAY, 1));
	self->p.mss = peer_mss;
	err = xp_conn_connect(&self->p, &c, fd, pport, PEER_ISN, 65535, false);
	ASSERT_EQ(0, err) TH_LOG("connect: %s", strerror(-err));
	EXPECT_EQ(clamp, c.k_mss) TH_LOG("MSS option of the SYN");
	EXPECT_EQ(want, xtcp_get_int(fd, variant->level, TCP_MAXSEG));

	seq = c.k_nxt;
	ASSERT_EQ((ssize_t)sizeof(out), send(fd, out, sizeof(out), 0));
	for (got = 0; got < sizeof(out); got += r.len) {
		err = xp_conn_data_at(&self->p, &c, &r, seq + got, 2000);
		ASSERT_EQ(0, err) TH_LOG("at %u: %s", got, strerror(-err));
		if (got + want < sizeof(out))
			EXPECT_EQ((size_t)want, r.len);
		EXPECT_GE((size_t)want, r.len);
		ASSERT_GE(sizeof(out) - got, r.len);
		EXPECT_EQ(0, memcmp(r.data, out + got, r.len));
		ASSERT_EQ(0, xp_conn_ack_to(&self->p, &c, seq + got + r.len));
	}
	close(fd);
}

/* The clamp below the peer's MSS: the SYN announces it, segments obey it. */
TEST_F(opt, maxseg_clamps_segments)
{
	maxseg_transfer(_metadata, self, variant, 9004, 1000, 1460, 1000);
}

/* The peer's MSS below the clamp: the peer's wins. */
TEST_F(opt, maxseg_peer_smaller)
{
	maxseg_transfer(_metadata, self, variant, 9005, 1000, 536, 536);
}

TEST_HARNESS_MAIN
