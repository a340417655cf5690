// SPDX-License-Identifier: GPL-2.0
/*
 * SYN cookies (net.xtcp.syncookies), on the pattern of Linux's
 * secure_tcp_syn_cookie(): when a listener's half-open slots are full (or
 * always, with 2), the SYN-ACK's sequence number carries what the
 * connection needs and nothing is kept until the ACK of it comes back:
 *
 *   ISN = H0(4-tuple) + peer's ISN + (t << 24)
 *         + ((H1(4-tuple, t) + MSS index) mod 2^24)
 *
 * t counts minutes, and a cookie is good while t has moved by less than
 * two. The peer's MSS is rounded down to one of four values; its window
 * scale and whether it offered SACK, when timestamps are on, go into the
 * low bits of our TSval, which the peer echoes (Linux's
 * cookie_init_timestamp()); without timestamps a cookie connection goes
 * without both. H0 and H1 are
 * SipHash under two keys of our own, so a cookie of xtcp is never one of
 * TCP's.
 */

#include <linux/ktime.h>
#include <linux/siphash.h>
#include <linux/timekeeping.h>
#include <net/tcp.h>

#include "xtcp.h"

#define XTCP_COOKIE_BITS	24
#define XTCP_COOKIE_MASK	(((u32)1 << XTCP_COOKIE_BITS) - 1)
#define XTCP_COOKIE_MAX_AGE	2	/* minutes */
#define XTCP_COOKIE_WSCALE_MASK	0xfU	/* TSval bits carrying the wscale */
#define XTCP_COOKIE_NO_WSCALE	0xfU
#define XTCP_COOKIE_SACK	0x10U	/* TSval bit: the peer offered SACK */
#define XTCP_COOKIE_TS_MASK	0x1fU	/* every TSval bit a cookie uses */

/* The MSS values a cookie can say (Linux's msstab). */
static const u16 xtcp_cookie_mss[] = { 536, 1300, 1440, 1460 };

static siphash_aligned_key_t xtcp_cookie_secret[2];

static u32 xtcp_cookie_time(void)
{
	return (u32)(ktime_get_seconds() / 60);
}

static u32 xtcp_cookie_hash(const struct xtcp_tuple *t, u32 count, int c)
{
	u64 h;

	net_get_random_once(xtcp_cookie_secret, sizeof(xtcp_cookie_secret));
	if (xtcp_tuple_is_v4(t))
		return (u32)siphash_4u32((__force u32)xtcp_addr_v4(&t->laddr),
					 (__force u32)xtcp_addr_v4(&t->raddr),
					 (__force u32)t->lport << 16 |
					 (__force u32)t->rport, count,
					 &xtcp_cookie_secret[c]);
	h = siphash(t, offsetofend(struct xtcp_tuple, rport),
		    &xtcp_cookie_secret[c]);
	return (u32)siphash_2u64(h, count, &xtcp_cookie_secret[c]);
}

/**
 * xtcp_cookie_init_seq() - the ISN of a SYN-ACK that keeps no state
 * @t: the 4-tuple, seen from this host
 * @peer_isn: the sequence number of the peer's SYN
 * @mss: in: the peer's MSS; out: the value the cookie keeps, not above it
 *
 * Context: any.
 * Return: the ISN.
 */
u32 xtcp_cookie_init_seq(const struct xtcp_tuple *t, u32 peer_isn, u16 *mss)
{
	u32 count = xtcp_cookie_time(), i;

	for (i = ARRAY_SIZE(xtcp_cookie_mss) - 1; i; i--)
		if (*mss >= xtcp_cookie_mss[i])
			break;
	*mss = xtcp_cookie_mss[i];
	return xtcp_cookie_hash(t, 0, 0) + peer_isn +
	       (count << XTCP_COOKIE_BITS) +
	       ((xtcp_cookie_hash(t, count, 1) + i) & XTCP_COOKIE_MASK);
}

/**
 * xtcp_cookie_check() - is an ACK the answer to one of our cookies?
 * @t: the 4-tuple, seen from this host
 * @peer_isn: the ACK's sequence number minus one
 * @cookie: the ACK's acknowledgment number minus one
 *
 * Context: any.
 * Return: the MSS the cookie kept, or 0 if it is not one of ours or too
 * old.
 */
u16 xtcp_cookie_check(const struct xtcp_tuple *t, u32 peer_isn, u32 cookie)
{
	u32 count = xtcp_cookie_time(), age, idx;

	cookie -= xtcp_cookie_hash(t, 0, 0) + peer_isn;
	age = (count - (cookie >> XTCP_COOKIE_BITS)) &
	      ((u32)-1 >> XTCP_COOKIE_BITS);
	if (age >= XTCP_COOKIE_MAX_AGE)
		return 0;
	idx = (cookie - xtcp_cookie_hash(t, count - age, 1)) &
	      XTCP_COOKIE_MASK;
	return idx < ARRAY_SIZE(xtcp_cookie_mss) ? xtcp_cookie_mss[idx] : 0;
}

/**
 * xtcp_cookie_tsval() - our TSval in a cookie SYN-ACK, carrying the
 *	window scale and SACK
 * @tsval: the TSval we would send
 * @wscale: the peer's window scale, -1 if it offered none
 * @sack: SACK is to be on (the peer offered it, net.xtcp.sack is on)
 *
 * Never later than @tsval: the low bits are taken from the past.
 *
 * Context: any.
 * Return: the TSval to send.
 */
u32 xtcp_cookie_tsval(u32 tsval, int wscale, bool sack)
{
	u32 ts = (tsval & ~XTCP_COOKIE_TS_MASK) |
		 (wscale < 0 ? XTCP_COOKIE_NO_WSCALE : (u32)wscale) |
		 (sack ? XTCP_COOKIE_SACK : 0);

	if (xtcp_after(ts, tsval))
		ts -= XTCP_COOKIE_TS_MASK + 1;
	return ts;
}

/**
 * xtcp_cookie_wscale() - the peer's window scale, from its TSecr
 * @tsecr: the TSecr of the ACK that returned a cookie
 *
 * Context: any.
 * Return: the window scale, or -1 for none.
 */
int xtcp_cookie_wscale(u32 tsecr)
{
	u32 v = tsecr & XTCP_COOKIE_WSCALE_MASK;

	return v == XTCP_COOKIE_NO_WSCALE ? -1 : min_t(int, v, TCP_MAX_WSCALE);
}

/**
 * xtcp_cookie_sack() - was SACK agreed, from the peer's TSecr
 * @tsecr: the TSecr of the ACK that returned a cookie
 *
 * Context: any.
 * Return: true if the cookie SYN-ACK offered SACK.
 */
bool xtcp_cookie_sack(u32 tsecr)
{
	return tsecr & XTCP_COOKIE_SACK;
}
