// SPDX-License-Identifier: GPL-2.0
/*
 * Selective acknowledgment (RFC 2018) and SACK-based loss recovery
 * (RFC 6675), against Linux TCP as the oracle: every test runs for
 * IPPROTO_TCP (net.ipv4.tcp_sack) and for xtcp (net.xtcp.sack) with the
 * same expectations, the kernel talking to the scripted peer of
 * xtcp_peer.h.
 *
 * - SACK-permitted goes in the SYN and SYN-ACK (a SYN cookie's too) when
 *   the knob is on, and SACK is used only when both ends offered it
 *   (TCP_INFO's TCPI_OPT_SACK); without it no SACK blocks are sent.
 * - The receiver reports its out-of-order queue in SACK blocks, the
 *   block with the latest segment first, then the others most recent
 *   first, merged as segments fill the gaps, and no more than fit: four,
 *   three beside timestamps.
 * - The sender, told of three holes among ten segments, retransmits the
 *   holes and nothing the peer SACKed, two holes without waiting for
 *   another ACK (a recovery without SACK repairs one per round trip);
 *   xtcp counts the three in SackRetrans.
 * - xtcp runs each test again with segmentation offload on, so that the
 *   segments of a window leave as one skb and SACK blocks cover parts of
 *   it: such an skb is cut at the blocks' edges, and a retransmission is
 *   one segment of it.
 * - SACK blocks outside SND.UNA..SND.NXT, inverted or oversized, and a
 *   second SACK option are ignored: nothing is retransmitted for them,
 *   and xtcp counts the blocks (SackDiscard, TCP's TCPSACKDiscard); a
 *   D-SACK block is counted in DSackRecv (TCP's TCPDSACKRecv).
 */

#include <netinet/tcp.h>
#include <sys/socket.h>

#pragma GCC diagnostic ignored "-Wclobbered"

#include "kselftest_harness.h"
#include "xtcp_peer.h"
#include "xtcp_test.h"

#define KADDR		"10.9.0.1"
#define PADDR		"10.9.0.2"
#define PEER_ISN	0x52000000u
#define IPV4_SYSCTL	"/proc/sys/net/ipv4/"
#define SEG		1000	/* the peer's MSS: the kernel's segments */
#define NSEGS		10U	/* the initial window */

FIXTURE(sack) {
	struct xp_peer p;
};

FIXTURE_VARIANT(sack) {
	int proto;
	bool gso;
};

FIXTURE_VARIANT_ADD(sack, tcp) {
	.proto = IPPROTO_TCP,
};

FIXTURE_VARIANT_ADD(sack, xtcp) {
	.proto = IPPROTO_XTCP,
};

/*
 * xtcp with segmentation offload (net.xtcp.gso): the segments of a
 * window leave as one skb, which the stack cuts in software before the
 * tun; SACK blocks then cover parts of an skb in flight.
 */
FIXTURE_VARIANT_ADD(sack, xtcp_gso) {
	.proto = IPPROTO_XTCP,
	.gso = true,
};

static int sack_knob(int proto, bool on)
{
	if (proto == IPPROTO_XTCP)
		return xtcp_sysctl_set("sack", on);
	return xtcp_write_long(IPV4_SYSCTL "tcp_sack", on);
}

FIXTURE_SETUP(sack)
{
	int err;

	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("unshare: %s", strerror(-err));
	ASSERT_EQ(0, xtcp_short_retries(variant->proto, 2));
	ASSERT_EQ(0, sack_knob(variant->proto, true));
	if (variant->proto == IPPROTO_XTCP)
		ASSERT_EQ(0, xtcp_sysctl_set("gso", variant->gso));
	if (variant->proto == IPPROTO_TCP) {
		/* No D-SACK, and a SACK for every segment out of order
		 * (no SACK compression): the blocks of RFC 2018 as such.
		 */
		ASSERT_EQ(0, xtcp_write_file(IPV4_SYSCTL "tcp_dsack", "0"));
		ASSERT_EQ(0, xtcp_write_file(IPV4_SYSCTL "tcp_comp_sack_nr",
					     "0"));
		ASSERT_EQ(0, xtcp_write_file(IPV4_SYSCTL "tcp_autocorking",
					     "0"));
		/* No tail loss probe: xtcp has none (RFC 8985 section 7). */
		ASSERT_EQ(0, xtcp_write_file(IPV4_SYSCTL "tcp_early_retrans",
					     "0"));
	}
	err = xp_open(&self->p, variant->proto, KADDR, PADDR);
	ASSERT_EQ(0, err) TH_LOG("xp_open: %s", strerror(-err));
	self->p.mss = SEG;
}

FIXTURE_TEARDOWN(sack)
{
	xp_close(&self->p);
}

static int tcp_info_of(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	return getsockopt(fd, SOL_TCP, TCP_INFO, ti, &len) ? -errno : 0;
}

/* The kernel's next segment on @c that acknowledges @ack, a pure ACK. */
static int expect_ack(struct xp_peer *p, struct xp_conn *c, struct xp_seg *r,
		      __u32 ack)
{
	return xp_conn_expect_ack(p, c, r, XP_SYN | XP_RST | XP_FIN, 0, ack,
				  1000);
}

/* The peer's data [@off, @off + @len) of its stream, out of order or not. */
static int peer_data_at(struct xp_peer *p, struct xp_conn *c, __u32 off,
			size_t len)
{
	static const char junk[4096];
	struct xp_seg s;

	xp_conn_seg(p, c, &s, XP_ACK | XP_PSH);
	s.seq = PEER_ISN + 1 + off;
	s.data = junk;
	s.len = len;
	return xp_send(p, &s);
}

/* Does @r carry exactly the blocks @want (relative to the peer's ISN)? */
static bool blocks_are(const struct xp_seg *r, const __u32 want[][2],
		       unsigned int n)
{
	unsigned int i;

	if (r->nsack != n)
		return false;
	for (i = 0; i < n; i++)
		if (r->sack[i][0] != PEER_ISN + 1 + want[i][0] ||
		    r->sack[i][1] != PEER_ISN + 1 + want[i][1])
			return false;
	return true;
}

/*
 * Active open with net.*.sack @kernel and a peer that answers SACK-
 * permitted if @peer: the SYN offers it as the knob says, TCP_INFO says
 * SACK only if both did, and an out-of-order segment gets a SACK block
 * only then.
 */
TEST_F(sack, negotiated_active)
{
	int kernel, peer;

	for (kernel = 0; kernel <= 1; kernel++) {
		for (peer = 0; peer <= 1; peer++) {
			__u16 port = 9200 + kernel * 2 + peer;
			struct tcp_info ti;
			struct xp_conn c;
			struct xp_seg r;
			bool on = kernel && peer;

			ASSERT_EQ(0, sack_knob(variant->proto, kernel));
			self->p.sack = peer;
			ASSERT_EQ(0, xp_conn_open(&self->p, &c, port, PEER_ISN,
						  true));
			ASSERT_EQ(0, tcp_info_of(c.fd, &ti));
			EXPECT_EQ(on, !!(ti.tcpi_options & TCPI_OPT_SACK)) {
				TH_LOG("knob %d, peer %d: options %#x", kernel,
				       peer, ti.tcpi_options);
			}
			/* A hole of one segment, then data past it. */
			ASSERT_EQ(0, peer_data_at(&self->p, &c, SEG, SEG));
			ASSERT_EQ(0, expect_ack(&self->p, &c, &r,
						PEER_ISN + 1));
			EXPECT_EQ(on ? 1U : 0U, r.nsack) {
				TH_LOG("knob %d, peer %d: %s", kernel, peer,
				       XP_SEG_STR(&r));
			}
			close(c.fd);
		}
	}
	self->p.sack = false;
}

/* The SYN's SACK-permitted, as the knob says. */
TEST_F(sack, syn_offers_as_knob)
{
	int kernel;

	for (kernel = 0; kernel <= 1; kernel++) {
		struct sockaddr_in sin = xtcp_sin(PADDR, 9210 + kernel);
		struct xp_conn c = { .pport = 9210 + kernel };
		struct xp_seg r;
		int fd;

		ASSERT_EQ(0, sack_knob(variant->proto, kernel));
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK,
			    variant->proto);
		ASSERT_LE(0, fd);
		ASSERT_NE(0, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
		ASSERT_EQ(0, xp_conn_expect(&self->p, &c, &r,
					    XP_SYN | XP_ACK | XP_RST, XP_SYN,
					    3000));
		EXPECT_EQ(kernel, r.sack_perm) TH_LOG("%s", XP_SEG_STR(&r));
		close(fd);
	}
}

static int cookies_knob(int proto, int val)
{
	if (proto == IPPROTO_XTCP)
		return xtcp_sysctl_set("syncookies", val);
	return xtcp_write_long(IPV4_SYSCTL "tcp_syncookies", val);
}

/*
 * Passive open: a listener with net.*.sack @kernel answers a SYN that
 * offers SACK (or not, @peer) with SACK-permitted only if both, and the
 * accepted socket agrees; with SYN cookies too (syncookies 2: always),
 * where the SYN-ACK's TSval carries the choice to the ACK.
 */
TEST_F(sack, negotiated_passive)
{
	int kernel, peer, cookies;

	for (cookies = 0; cookies <= 2; cookies += 2) {
		ASSERT_EQ(0, cookies_knob(variant->proto, cookies));
		for (kernel = 0; kernel <= 1; kernel++) {
			for (peer = 0; peer <= 1; peer++) {
				__u16 kport = 9220 + cookies * 4 + kernel * 2 +
					      peer;
				struct sockaddr_in sin = xtcp_sin(KADDR, kport);
				struct xp_conn c = { 0 };
				struct tcp_info ti;
				struct xp_seg s, r;
				int lfd, fd;

				ASSERT_EQ(0, sack_knob(variant->proto, kernel));
				lfd = socket(AF_INET, SOCK_STREAM,
					     variant->proto);
				ASSERT_LE(0, lfd);
				ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&sin,
						  sizeof(sin)));
				ASSERT_EQ(0, listen(lfd, 8));
				c.kport = kport;
				c.pport = 40000 + kport;
				c.p_nxt = PEER_ISN;
				c.ts = true;
				c.p_tsval = 1000;
				xp_conn_seg(&self->p, &c, &s, XP_SYN);
				s.mss = SEG;
				s.sack_perm = peer;
				ASSERT_EQ(0, xp_send(&self->p, &s));
				ASSERT_EQ(0, xp_conn_expect(&self->p, &c, &r,
							    XP_SYN | XP_ACK |
							    XP_RST,
							    XP_SYN | XP_ACK,
							    3000));
				EXPECT_EQ(kernel && peer, r.sack_perm) {
					TH_LOG("cookies %d, knob %d, peer %d: %s",
					       cookies, kernel, peer,
					       XP_SEG_STR(&r));
				}
				c.p_nxt++;
				c.k_nxt = r.seq + 1;
				xp_conn_seg(&self->p, &c, &s, XP_ACK);
				ASSERT_EQ(0, xp_send(&self->p, &s));
				fd = accept(lfd, NULL, NULL);
				ASSERT_LE(0, fd);
				ASSERT_EQ(0, tcp_info_of(fd, &ti));
				EXPECT_EQ(kernel && peer,
					  !!(ti.tcpi_options & TCPI_OPT_SACK)) {
					TH_LOG("cookies %d, knob %d, peer %d",
					       cookies, kernel, peer);
				}
				close(fd);
				close(lfd);
			}
		}
	}
}

/*
 * The blocks the receiver sends as out-of-order data arrives and fills
 * (RFC 2018 section 4): the block holding the segment that just came
 * first, then the others most recent first; filled gaps merge blocks; an
 * in-order segment drops the blocks it reached. With timestamps three
 * blocks fit, without them four.
 */
static void receiver_blocks(struct __test_metadata *_metadata,
			    struct xp_peer *p, bool ts, __u16 port)
{
	/* Offsets in the peer's stream; each step sends SEG bytes at @off. */
	static const struct {
		__u32 off;
		__u32 ack;
		unsigned int n;
		__u32 blocks[4][2];
	} steps[] = {
		{ 1000, 0, 1, { { 1000, 2000 } } },
		{ 3000, 0, 2, { { 3000, 4000 }, { 1000, 2000 } } },
		{ 2000, 0, 1, { { 1000, 4000 } } },
		{ 5000, 0, 2, { { 5000, 6000 }, { 1000, 4000 } } },
		{ 7000, 0, 3, { { 7000, 8000 }, { 5000, 6000 },
				{ 1000, 4000 } } },
		{ 9000, 0, 4, { { 9000, 10000 }, { 7000, 8000 },
				{ 5000, 6000 }, { 1000, 4000 } } },
		/* Four are kept: the oldest report falls off. */
		{ 11000, 0, 4, { { 11000, 12000 }, { 9000, 10000 },
				 { 7000, 8000 }, { 5000, 6000 } } },
		/* The hole at 0 fills: [1000, 4000) is taken in. */
		{ 0, 4000, 4, { { 11000, 12000 }, { 9000, 10000 },
				{ 7000, 8000 }, { 5000, 6000 } } },
		{ 4000, 6000, 3, { { 11000, 12000 }, { 9000, 10000 },
				   { 7000, 8000 } } },
	};
	unsigned int i, fit = ts ? 3 : 4;
	struct xp_conn c;
	struct xp_seg r;

	p->sack = true;
	ASSERT_EQ(0, xp_conn_open(p, &c, port, PEER_ISN, ts));
	p->sack = false;
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		__u32 ack = PEER_ISN + 1 + steps[i].ack;
		unsigned int n = steps[i].n < fit ? steps[i].n : fit;

		ASSERT_EQ(0, peer_data_at(p, &c, steps[i].off, SEG));
		ASSERT_EQ(0, expect_ack(p, &c, &r, ack)) {
			TH_LOG("step %u: no ACK of %u", i, steps[i].ack);
		}
		EXPECT_TRUE(blocks_are(&r, steps[i].blocks, n)) {
			TH_LOG("step %u (ts %d): %s", i, ts, XP_SEG_STR(&r));
		}
	}
	close(c.fd);
}

TEST_F(sack, receiver_blocks)
{
	receiver_blocks(_metadata, &self->p, false, 9230);
}

TEST_F(sack, receiver_blocks_ts)
{
	receiver_blocks(_metadata, &self->p, true, 9231);
}

/*
 * The peer's dup ACK for the segments received so far of the kernel's
 * NSEGS, @got[i] saying which arrived: cumulative up to the first hole,
 * SACK blocks for the runs above it, the highest (the latest) first.
 */
static int peer_sack(struct xp_peer *p, struct xp_conn *c, __u32 seq0,
		     const bool *got, unsigned int nsent)
{
	unsigned int i = 0, n = 0, start;
	__u32 runs[NSEGS][2];
	struct xp_seg s;

	while (i < nsent && got[i])
		i++;
	xp_conn_seg(p, c, &s, XP_ACK);
	s.ack = seq0 + i * SEG;
	while (i < nsent) {
		while (i < nsent && !got[i])
			i++;
		if (i == nsent)
			break;
		start = i;
		while (i < nsent && got[i])
			i++;
		runs[n][0] = seq0 + start * SEG;
		runs[n][1] = seq0 + i * SEG;
		n++;
	}
	/* In sequence order they arrived: the highest run is the latest. */
	for (i = 0; i < n && s.nsack < XP_MAX_SACK; i++) {
		unsigned int k = n - 1 - i;

		s.sack[s.nsack][0] = runs[k][0];
		s.sack[s.nsack][1] = runs[k][1];
		s.nsack++;
	}
	return xp_send(p, &s);
}

/*
 * Ten segments, of which the 3rd, 6th and 9th are lost; the peer SACKs
 * the others as they come. The sender must retransmit the 3rd and the
 * 6th without another ACK from the peer (two holes in one round trip),
 * then the 9th, and never a segment the peer SACKed.
 */
TEST_F(sack, sender_repairs_holes)
{
	static const bool lost[NSEGS] = {
		[2] = true, [5] = true, [8] = true,
	};
	bool got[NSEGS] = { 0 }, resent[NSEGS] = { 0 };
	char buf[NSEGS * SEG];
	struct tcp_info ti;
	unsigned int i;
	struct xp_conn c;
	struct xp_seg r;
	long retrans0, gso0;
	__u32 seq0;

	retrans0 = xtcp_proto_counter(IPPROTO_XTCP, "SackRetrans");
	gso0 = xtcp_proto_counter(IPPROTO_XTCP, "OutGsoSkbs");
	self->p.sack = true;
	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 9240, PEER_ISN, false));
	ASSERT_EQ(0, tcp_info_of(c.fd, &ti));
	ASSERT_NE(0, ti.tcpi_options & TCPI_OPT_SACK);
	seq0 = c.k_nxt;
	memset(buf, 'x', sizeof(buf));
	ASSERT_EQ((ssize_t)sizeof(buf), send(c.fd, buf, sizeof(buf), 0));
	for (i = 0; i < NSEGS; i++) {
		ASSERT_EQ(0, xp_conn_data_at(&self->p, &c, &r, seq0 + i * SEG,
					     1000)) {
			TH_LOG("segment %u never came", i);
		}
		ASSERT_EQ((size_t)SEG, r.len);
	}
	/* With segmentation offload they left as one skb or a few: the
	 * blocks below cover parts of them.
	 */
	if (variant->gso)
		ASSERT_LT(gso0, xtcp_proto_counter(IPPROTO_XTCP,
						   "OutGsoSkbs"));
	/* The peer's ACKs as the segments arrive: one for each. */
	for (i = 0; i < NSEGS; i++) {
		if (lost[i])
			continue;
		got[i] = true;
		ASSERT_EQ(0, peer_sack(&self->p, &c, seq0, got, NSEGS));
	}
	/* Now the repairs, before the peer says anything more. */
	while (!resent[2] || !resent[5]) {
		ASSERT_EQ(0, xp_conn_expect_data(&self->p, &c, &r, 1000)) {
			TH_LOG("holes 2 and 5 not both resent: %d %d",
			       resent[2], resent[5]);
		}
		i = (r.seq - seq0) / SEG;
		ASSERT_LT(i, NSEGS);
		ASSERT_TRUE(lost[i]) TH_LOG("SACKed segment %u resent", i);
		resent[i] = true;
	}
	/* They arrive: the peer ACKs up to the last hole. */
	got[2] = got[5] = true;
	ASSERT_EQ(0, peer_sack(&self->p, &c, seq0, got, NSEGS));
	while (!resent[8]) {
		ASSERT_EQ(0, xp_conn_expect_data(&self->p, &c, &r, 2000)) {
			TH_LOG("hole 8 not resent");
		}
		i = (r.seq - seq0) / SEG;
		ASSERT_LT(i, NSEGS);
		ASSERT_TRUE(lost[i]) TH_LOG("SACKed segment %u resent", i);
		resent[i] = true;
	}
	ASSERT_EQ(0, xp_conn_ack_to(&self->p, &c, seq0 + NSEGS * SEG));
	ASSERT_TRUE(xtcp_wait_until(!tcp_info_of(c.fd, &ti) &&
				    !ti.tcpi_unacked, 2000));
	/* One retransmission per hole: none by timeout, none of SACKed. */
	EXPECT_EQ(3U, ti.tcpi_total_retrans);
	/* xtcp's own count of them (TCP's has no exact counterpart). */
	if (variant->proto == IPPROTO_XTCP)
		EXPECT_EQ(retrans0 + 3,
			  xtcp_proto_counter(IPPROTO_XTCP, "SackRetrans"));
	close(c.fd);
	self->p.sack = false;
}

/* Loss recoveries on SACK information started, in either protocol. */
#define RECOVERIES(v) \
	((v)->proto == IPPROTO_XTCP ? "SackRecovery" : "TCPSackRecovery")
/* D-SACK blocks received. */
#define DSACKS(v) \
	((v)->proto == IPPROTO_XTCP ? "DSackRecv" : "TCPDSACKRecv")

/*
 * A SACK option of two blocks at @p: [@base, @base + 100) and
 * [@base + 200, @base + 300).
 */
static void put_two_blocks(__u8 *p, __u32 base)
{
	p[0] = 5;
	p[1] = 18;
	xp_put32(p + 2, base);
	xp_put32(p + 6, base + 100);
	xp_put32(p + 10, base + 200);
	xp_put32(p + 14, base + 300);
}

/*
 * Blocks a receiver cannot have sent: beyond SND.NXT, below SND.UNA,
 * inverted, half the sequence space; and two SACK options in one
 * segment. Six duplicate ACKs of them make no recovery; the data is then
 * acknowledged with nothing retransmitted (the RTO raised to 1 s so that
 * a slow kernel does not time out meanwhile).
 */
TEST_F(sack, bogus_blocks_ignored)
{
	long before = 0, after, recoveries, dsacks;
	char buf[4 * SEG];
	struct tcp_info ti;
	struct xp_conn c;
	struct xp_seg r, s;
	__u32 una, nxt;
	unsigned int i;
	__u8 two[40];

	/* No timeout while the peer talks, even on a slow kernel. */
	if (variant->proto == IPPROTO_XTCP) {
		ASSERT_EQ(0, xtcp_sysctl_set("rto_min", 1000));
	} else {
		xtcp_tcp_rto_min_ms(1000);	/* 6.1: 200 ms it is */
	}
	self->p.sack = true;
	ASSERT_EQ(0, xp_conn_open(&self->p, &c, 9250, PEER_ISN, false));
	self->p.sack = false;
	una = c.k_nxt;
	nxt = una + sizeof(buf);
	memset(buf, 'y', sizeof(buf));
	ASSERT_EQ((ssize_t)sizeof(buf), send(c.fd, buf, sizeof(buf), 0));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, xp_conn_data_at(&self->p, &c, &r, una + i * SEG,
					     1000));
	before = xtcp_proto_counter(variant->proto,
				    variant->proto == IPPROTO_XTCP ?
				    "SackDiscard" : "TCPSACKDiscard");
	if (before < 0)
		before = 0;
	recoveries = xtcp_proto_counter(variant->proto, RECOVERIES(variant));
	dsacks = xtcp_proto_counter(variant->proto, DSACKS(variant));
	for (i = 0; i < 6; i++) {
		xp_conn_seg(&self->p, &c, &s, XP_ACK);
		s.ack = una;
		s.nsack = 4;
		s.sack[0][0] = nxt + 1000;	/* beyond SND.NXT */
		s.sack[0][1] = nxt + 2000;
		s.sack[1][0] = una - 2000;	/* below SND.UNA */
		s.sack[1][1] = una - 1000;
		s.sack[2][0] = una + 2 * SEG;	/* inverted */
		s.sack[2][1] = una + SEG;
		s.sack[3][0] = una + SEG;	/* half the space */
		s.sack[3][1] = una + 0x7fff0000u;
		ASSERT_EQ(0, xp_send(&self->p, &s));
	}
	/* Two SACK options of two blocks each, both out of window. */
	memset(two, 1, sizeof(two));
	put_two_blocks(two + 2, nxt + 100);
	put_two_blocks(two + 20, nxt + 500);
	xp_conn_seg(&self->p, &c, &s, XP_ACK);
	s.ack = una;
	s.opts = two;
	s.opts_len = 38;
	ASSERT_EQ(0, xp_send(&self->p, &s));

	ASSERT_EQ(0, xp_conn_ack_to(&self->p, &c, nxt));
	ASSERT_TRUE(xtcp_wait_until(!tcp_info_of(c.fd, &ti) &&
				    !ti.tcpi_unacked, 2000));
	EXPECT_EQ(0U, ti.tcpi_total_retrans);
	EXPECT_EQ(recoveries,
		  xtcp_proto_counter(variant->proto, RECOVERIES(variant)));
	after = xtcp_proto_counter(variant->proto,
				   variant->proto == IPPROTO_XTCP ?
				   "SackDiscard" : "TCPSACKDiscard");
	/* Four per ACK, two for the segment with two options. */
	EXPECT_EQ(before + 6 * 4 + 2, after);
	/* A D-SACK (RFC 2883): its first block below the ACK. */
	xp_conn_seg(&self->p, &c, &s, XP_ACK);
	s.ack = nxt;
	s.nsack = 1;
	s.sack[0][0] = una;
	s.sack[0][1] = una + SEG;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	EXPECT_TRUE(xtcp_wait_until(xtcp_proto_counter(variant->proto,
						       DSACKS(variant)) ==
				    dsacks + 1, 2000));
	close(c.fd);
}

TEST_HARNESS_MAIN
