// SPDX-License-Identifier: GPL-2.0
/*
 * Segments that do not belong are answered at most once per
 * invalid_ratelimit, per socket or TIME_WAIT entry, against Linux TCP
 * (tcp_invalid_ratelimit) as the oracle: a flood of forged ACKs at a
 * TIME_WAIT entry, and of copies of a SYN at a connection in SYN_RCVD,
 * is not reflected; with the limit at 0 every one is answered.
 */

#include <netinet/in.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"
#include "xtcp_peer.h"

#define KADDR		"10.9.0.1"
#define PADDR		"10.9.0.2"
#define CTL		(XP_SYN | XP_ACK | XP_RST | XP_FIN)
#define FLOOD		20
#define LIMIT_MS	3000	/* longer than any test takes */

FIXTURE(rl) {
	struct xp_peer p;
};

FIXTURE_VARIANT(rl) {
	int proto;
	const char *knob;
};

FIXTURE_VARIANT_ADD(rl, tcp) {
	.proto = IPPROTO_TCP,
	.knob = "/proc/sys/net/ipv4/tcp_invalid_ratelimit",
};

FIXTURE_VARIANT_ADD(rl, xtcp) {
	.proto = IPPROTO_XTCP,
	.knob = "/proc/sys/net/xtcp/invalid_ratelimit",
};

static int set_limit(const char *knob, int ms)
{
	return xtcp_write_long(knob, ms);
}

FIXTURE_SETUP(rl)
{
	int err;

	ASSERT_EQ(0, xp_unshare_net());
	err = xp_open(&self->p, variant->proto, KADDR, PADDR);
	ASSERT_EQ(0, err) TH_LOG("xp_open: %s", strerror(-err));
}

FIXTURE_TEARDOWN(rl)
{
	xp_close(&self->p);
}

/* Segments the kernel sends to @pport within @ms, with @flags in @mask. */
static int count_segs(struct xp_peer *p, __u16 pport, unsigned int mask,
		      unsigned int flags, int ms)
{
	__s64 deadline = xp_now_ms() + ms;
	struct xp_seg r;
	int n = 0;

	for (;;) {
		__s64 left = deadline - xp_now_ms();

		if (left <= 0 || xp_recv(p, &r, left))
			return n;
		if (r.dport == pport && (r.flags & mask) == flags)
			n++;
	}
}

/*
 * The kernel closes first and its side of the connection enters
 * TIME_WAIT; then FLOOD forged ACKs far out of window arrive. Returns the
 * number of answers, or -errno.
 */
static int tw_flood(FIXTURE_DATA(rl) *self, int proto, __u16 pport)
{
	struct xp_conn c;
	struct xp_seg s, r;
	int fd, err, i;

	fd = socket(AF_INET, SOCK_STREAM, proto);
	if (fd < 0)
		return -errno;
	err = xp_conn_connect(&self->p, &c, fd, pport, 0x10000000, 65535,
			      false);
	if (err)
		return err;
	close(fd);
	err = xp_conn_expect(&self->p, &c, &r, XP_FIN, XP_FIN, 3000);
	if (err)
		return err;
	c.k_nxt = r.seq + r.len + 1;
	xp_conn_seg(&self->p, &c, &s, XP_ACK | XP_FIN);
	if (xp_send(&self->p, &s))
		return -EIO;
	c.p_nxt++;
	err = xp_conn_expect_ack(&self->p, &c, &r, CTL, XP_ACK, c.p_nxt,
				 3000);
	if (err)
		return err;

	for (i = 0; i < FLOOD; i++) {
		xp_conn_seg(&self->p, &c, &s, XP_ACK);
		s.seq = c.p_nxt + 0x20000000;
		if (xp_send(&self->p, &s))
			return -EIO;
	}
	return count_segs(&self->p, pport, CTL, XP_ACK, 500);
}

TEST_F(rl, time_wait_answers_one_forged_ack)
{
	int n;

	ASSERT_EQ(0, set_limit(variant->knob, LIMIT_MS));
	n = tw_flood(self, variant->proto, 9101);
	ASSERT_LE(0, n) TH_LOG("setup: %s", strerror(-n));
	EXPECT_EQ(1, n) TH_LOG("%d answers to %d forged ACKs", n, FLOOD);
}

TEST_F(rl, time_wait_answers_all_without_limit)
{
	int n;

	ASSERT_EQ(0, set_limit(variant->knob, 0));
	n = tw_flood(self, variant->proto, 9102);
	ASSERT_LE(0, n) TH_LOG("setup: %s", strerror(-n));
	EXPECT_EQ(FLOOD, n);
}

/*
 * A SYN to a listener, then FLOOD copies of it: the SYN-ACK, and one
 * more at most until the limit lets another go.
 */
TEST_F(rl, syn_recv_answers_one_repeated_syn)
{
	struct sockaddr_in sin = xtcp_sin(KADDR, 9110);
	struct xp_seg syn;
	int lfd, n, i;

	ASSERT_EQ(0, set_limit(variant->knob, LIMIT_MS));
	lfd = socket(AF_INET, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(lfd, 8));

	xp_seg_init(&self->p, &syn);
	syn.sport = 9111;
	syn.dport = 9110;
	syn.seq = 0x30000000;
	syn.flags = XP_SYN;
	syn.window = 65535;
	syn.mss = 1460;
	ASSERT_EQ(0, xp_send(&self->p, &syn));
	ASSERT_EQ(1, count_segs(&self->p, 9111, CTL, XP_SYN | XP_ACK, 300));

	for (i = 0; i < FLOOD; i++)
		ASSERT_EQ(0, xp_send(&self->p, &syn));
	n = count_segs(&self->p, 9111, CTL, XP_SYN | XP_ACK, 500);
	EXPECT_EQ(1, n) TH_LOG("%d SYN-ACKs for %d copies of the SYN", n,
			       FLOOD);
	close(lfd);
}

TEST_HARNESS_MAIN
