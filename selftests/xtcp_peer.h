/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Scripted peer for segment-exact tests.
 *
 * The peer is a tun device (IFF_TUN | IFF_NO_PI) whose other end is the
 * test program: the kernel routes the peer's address through the tun, the
 * test reads the IP packets the kernel sends there and writes crafted
 * ones back. The family is that of the addresses given to xp_open():
 * IPv4 ("10.9.0.1") or IPv6 ("fd00:9::1"), where the segment follows the
 * fixed 40-byte header directly (next header = the protocol). Segments use TCP's header layout (RFC 9293 header and
 * options); only the IP protocol number differs between TCP (6) and xtcp
 * (253), so the same code drives both and can be checked against Linux TCP.
 *
 * Header-only: every function is static inline, so a test just includes
 * this file. Functions return 0 or -errno; nothing exits, so the harness
 * assertions report what went wrong.
 *
 *	struct xp_peer p;
 *	struct xp_seg s;
 *
 *	xp_open(&p, IPPROTO_XTCP, "10.9.0.1", "10.9.0.2");
 *	xp_seg_init(&p, &s);
 *	s.sport = 40000; s.dport = 80; s.seq = 1000; s.flags = XP_SYN;
 *	xp_send(&p, &s);
 *	xp_expect(&p, &s, XP_SYN | XP_ACK | XP_RST, XP_SYN | XP_ACK, 3000);
 *	TH_LOG("got %s", XP_SEG_STR(&s));
 *	xp_close(&p);
 *
 * Addresses are kept in network byte order (struct in_addr, or struct
 * in6_addr in the *6 fields of an IPv6 peer); ports, sequence numbers,
 * window and option values in host byte order. A test that runs for both
 * families makes its kernel-side sockets with xp_socket() and names them
 * with xp_sockaddr().
 */
#ifndef _XTCP_PEER_H
#define _XTCP_PEER_H

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/if_tun.h>
#include <linux/types.h>

#include "xtcp_util.h"

#ifndef __printf
#define __printf(a, b)	__attribute__((format(printf, a, b)))
#endif
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/*
 * Flags as they sit in header bytes 12 (low nibble) and 13; unsigned like
 * xp_seg.flags, so that harness comparisons need no casts.
 */
#define XP_FIN	0x001U
#define XP_SYN	0x002U
#define XP_RST	0x004U
#define XP_PSH	0x008U
#define XP_ACK	0x010U
#define XP_URG	0x020U
#define XP_ECE	0x040U
#define XP_CWR	0x080U
#define XP_AE	0x100U	/* RFC 9768, formerly NS */
#define XP_RES	0xe00U	/* the three reserved bits */

/* Option kinds and lengths (RFC 9293 3.2, RFC 7323, RFC 2018). */
enum {
	XP_OPT_EOL		= 0,
	XP_OPT_NOP		= 1,
	XP_OPT_MSS		= 2,
	XP_OPT_WSCALE		= 3,
	XP_OPT_SACK_PERM	= 4,
	XP_OPT_SACK		= 5,
	XP_OPT_TS		= 8,
	XP_OPTLEN_MSS		= 4,
	XP_OPTLEN_WSCALE	= 3,
	XP_OPTLEN_SACK_PERM	= 2,
	XP_OPTLEN_TS		= 10,
};

/* Knobs for malformed output, in xp_seg.mangle. */
enum {
	XP_MANGLE_CSUM	= 0x1,	/* flip the low bit of the right checksum */
	XP_SET_CSUM	= 0x2,	/* write xp_seg.csum as the checksum */
	XP_SET_DOFF	= 0x4,	/* write xp_seg.doff as the data offset */
};

#define XP_IP_DF	0x4000
#define XP_IP_MF	0x2000
#define XP_IP_OFFSET	0x1fff
#define XP_HDR_LEN	20
#define XP_MAX_OPTLEN	40
#define XP_MAX_SACK	4
#define XP_BUF_SIZE	65536
#define XP_SEG_STRLEN	512

/* The RFC 9293 header layout, network byte order. */
struct xp_hdr {
	__u16 sport;
	__u16 dport;
	__u32 seq;
	__u32 ack;
	__u8 doff_flags;	/* data offset << 4 | reserved | AE */
	__u8 flags;
	__u16 window;
	__u16 check;
	__u16 urg;
};

static_assert(sizeof(struct xp_hdr) == XP_HDR_LEN, "xp_hdr layout");

/* IPv4 header without options (RFC 791), network byte order. */
struct xp_iphdr {
	__u8 ver_ihl;
	__u8 tos;
	__u16 tot_len;
	__u16 id;
	__u16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__u16 check;
	__u32 saddr;
	__u32 daddr;
};

static_assert(sizeof(struct xp_iphdr) == 20, "xp_iphdr layout");

/* IPv6 fixed header (RFC 8200 section 3), network byte order. */
struct xp_ip6hdr {
	__u32 ver_tc_flow;	/* version 6, traffic class, flow label */
	__u16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	struct in6_addr saddr;
	struct in6_addr daddr;
};

static_assert(sizeof(struct xp_ip6hdr) == 40, "xp_ip6hdr layout");

struct xp_peer {
	int fd;			/* tun, O_NONBLOCK */
	int proto;		/* IP protocol number of the segments */
	int family;		/* AF_INET or AF_INET6, from the addresses */
	int ifindex;
	char ifname[IFNAMSIZ];
	struct in_addr kaddr;	/* kernel side address */
	struct in_addr paddr;	/* the address the peer pretends to be */
	struct in6_addr kaddr6;	/* the same for an IPv6 peer */
	struct in6_addr paddr6;
	__u16 ip_id;		/* next IP ID xp_send uses */
	__u16 mss;		/* MSS xp_conn_connect() announces, 0: 1460 */
	bool sack;		/* xp_conn_connect() answers SACK-permitted */
	unsigned int ignored;	/* packets xp_recv passed over */
	unsigned int skipped;	/* segments xp_expect passed over */
	char last_skipped[XP_SEG_STRLEN];
	unsigned char buf[XP_BUF_SIZE];
};

/*
 * One segment. xp_recv() fills every field marked "both" and "recv";
 * xp_send() uses the fields marked "both" and "send". Start from
 * xp_seg_init() or xp_seg_reply(): a zeroed struct means "window scale
 * option present with shift 0", not "absent".
 */
struct xp_seg {
	/* both */
	int family;		/* 0 (as AF_INET) or AF_INET6 */
	struct in_addr saddr;
	struct in_addr daddr;
	struct in6_addr saddr6;	/* addresses of an AF_INET6 segment */
	struct in6_addr daddr6;
	__u16 sport;
	__u16 dport;
	__u32 seq;
	__u32 ack;
	unsigned int flags;	/* XP_FIN ... XP_RES */
	__u16 window;		/* as on the wire, unscaled */
	__u16 urg;
	__u8 ttl;		/* or hop limit; send: 0 means 64 */
	__u8 doff;		/* data offset in 32-bit words */
	__u16 csum;		/* recv: as received; send: see XP_SET_CSUM */

	/* options, both */
	__u16 mss;		/* 0: absent */
	int wscale;		/* -1: absent */
	bool sack_perm;
	bool ts;
	__u32 tsval;
	__u32 tsecr;
	unsigned int nsack;	/* SACK blocks, [i][0] left, [i][1] right */
	__u32 sack[XP_MAX_SACK][2];

	/* payload, both; after xp_recv it points into the peer's buffer */
	const void *data;
	size_t len;

	/* send only */
	const __u8 *opts;	/* if set, these option bytes replace the */
	size_t opts_len;	/* generated ones (padded with EOL to 4n) */
	unsigned int mangle;	/* XP_MANGLE_CSUM, XP_SET_CSUM, XP_SET_DOFF */
	size_t trunc;		/* if set, send only this many bytes after */
				/* the IP header; see xp_build() */

	/* recv only */
	bool rx;		/* filled in by xp_recv()/xp_parse() */
	bool csum_ok;		/* checksum verifies with the pseudo-header */
	bool csum_partial;	/* field holds only the pseudo-header sum */
	bool df;		/* IPv4 only */
	__u8 tos;		/* or traffic class (RFC 8200 section 7) */
	__u16 ip_id;		/* IPv4 only */
	__u32 flowlabel;	/* IPv6 only */
	const __u8 *rx_opts;	/* option bytes as received */
	size_t rx_opts_len;
};

/* Milliseconds on CLOCK_MONOTONIC, for deadlines. */
static inline __s64 xp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__s64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Internet checksum helpers (RFC 1071), over big-endian 16-bit words. */
static inline __u64 xp_csum_add(__u64 sum, const void *buf, size_t len)
{
	const __u8 *b = buf;

	for (; len > 1; b += 2, len -= 2)
		sum += (__u32)b[0] << 8 | b[1];
	if (len)
		sum += (__u32)b[0] << 8;
	return sum;
}

static inline __u16 xp_csum_fold(__u64 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* Sum of the pseudo-header: addresses, zero, protocol, length. */
static inline __u64 xp_pseudo_sum(struct in_addr saddr, struct in_addr daddr,
				  int proto, size_t len)
{
	__u64 sum = 0;

	sum = xp_csum_add(sum, &saddr.s_addr, 4);
	sum = xp_csum_add(sum, &daddr.s_addr, 4);
	return sum + (__u8)proto + len;
}

/*
 * Sum of the IPv6 pseudo-header (RFC 8200 section 8.1): addresses,
 * 32-bit length, zeros, next header. For lengths below 65536 it differs
 * from the IPv4 one only in the addresses.
 */
static inline __u64 xp_pseudo_sum6(const struct in6_addr *saddr,
				   const struct in6_addr *daddr, int proto,
				   size_t len)
{
	__u64 sum = 0;

	sum = xp_csum_add(sum, saddr, sizeof(*saddr));
	sum = xp_csum_add(sum, daddr, sizeof(*daddr));
	return sum + (len >> 16) + (len & 0xffff) + (__u8)proto;
}

/* The pseudo-header sum for @s, by its family. */
static inline __u64 xp_seg_pseudo_sum(const struct xp_seg *s, int proto,
				      size_t len)
{
	if (s->family == AF_INET6)
		return xp_pseudo_sum6(&s->saddr6, &s->daddr6, proto, len);
	return xp_pseudo_sum(s->saddr, s->daddr, proto, len);
}

/*
 * Checksum field value for a TCP-format segment: the complement of the
 * sum over the pseudo-header (with @proto) and the segment, whose checksum
 * field must be zero. Host byte order.
 */
static inline __u16 xp_csum(struct in_addr saddr, struct in_addr daddr,
			    int proto, const void *seg, size_t len)
{
	__u64 sum = xp_pseudo_sum(saddr, daddr, proto, len);

	return ~xp_csum_fold(xp_csum_add(sum, seg, len)) & 0xffff;
}

/* Sequence space a segment occupies: payload plus SYN and FIN. */
static inline __u32 xp_seg_seqlen(const struct xp_seg *s)
{
	return s->len + !!(s->flags & XP_SYN) + !!(s->flags & XP_FIN);
}

/* A segment from the peer to the kernel side with no options. */
static inline void xp_seg_init(const struct xp_peer *p, struct xp_seg *s)
{
	memset(s, 0, sizeof(*s));
	s->family = p->family;
	s->saddr = p->paddr;
	s->daddr = p->kaddr;
	s->saddr6 = p->paddr6;
	s->daddr6 = p->kaddr6;
	s->wscale = -1;
	s->window = 65535;
}

/*
 * The ACK answering @in: addresses and ports swapped, seq = in->ack,
 * ack = end of @in, timestamps echoed if @in had them (tsval is left 0
 * for the caller). No other options, window 65535.
 */
static inline void xp_seg_reply(const struct xp_seg *in, struct xp_seg *out)
{
	struct xp_seg r;

	memset(&r, 0, sizeof(r));
	r.family = in->family;
	r.saddr = in->daddr;
	r.daddr = in->saddr;
	r.saddr6 = in->daddr6;
	r.daddr6 = in->saddr6;
	r.sport = in->dport;
	r.dport = in->sport;
	r.seq = in->ack;
	r.ack = in->seq + xp_seg_seqlen(in);
	r.flags = XP_ACK;
	r.window = 65535;
	r.wscale = -1;
	if (in->ts) {
		r.ts = true;
		r.tsecr = in->tsval;
	}
	*out = r;
}

static inline void xp_put16(__u8 *b, __u16 v)
{
	b[0] = v >> 8;
	b[1] = v;
}

static inline void xp_put32(__u8 *b, __u32 v)
{
	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
}

static inline __u16 xp_get16(const __u8 *b)
{
	return (__u16)b[0] << 8 | b[1];
}

static inline __u32 xp_get32(const __u8 *b)
{
	return (__u32)b[0] << 24 | (__u32)b[1] << 16 |
	       (__u32)b[2] << 8 | b[3];
}

/*
 * Write the options of @s into @b (room for XP_MAX_OPTLEN bytes), in the
 * order and with the padding Linux uses, so that segments look alike on
 * the wire. Returns the length, a multiple of 4, or -EMSGSIZE.
 */
static inline int xp_opts_build(const struct xp_seg *s, __u8 *b)
{
	__u8 tmp[64];
	size_t n = 0;
	unsigned int i;

	if (s->opts) {
		if (s->opts_len > XP_MAX_OPTLEN)
			return -EMSGSIZE;
		memcpy(b, s->opts, s->opts_len);
		n = s->opts_len;
		while (n & 3)
			b[n++] = XP_OPT_EOL;
		return n;
	}
	if (s->nsack > XP_MAX_SACK)
		return -EMSGSIZE;
	if (s->mss) {
		tmp[n++] = XP_OPT_MSS;
		tmp[n++] = XP_OPTLEN_MSS;
		xp_put16(tmp + n, s->mss);
		n += 2;
	}
	if (s->ts) {
		if (s->sack_perm) {
			tmp[n++] = XP_OPT_SACK_PERM;
			tmp[n++] = XP_OPTLEN_SACK_PERM;
		} else {
			tmp[n++] = XP_OPT_NOP;
			tmp[n++] = XP_OPT_NOP;
		}
		tmp[n++] = XP_OPT_TS;
		tmp[n++] = XP_OPTLEN_TS;
		xp_put32(tmp + n, s->tsval);
		xp_put32(tmp + n + 4, s->tsecr);
		n += 8;
	} else if (s->sack_perm) {
		tmp[n++] = XP_OPT_NOP;
		tmp[n++] = XP_OPT_NOP;
		tmp[n++] = XP_OPT_SACK_PERM;
		tmp[n++] = XP_OPTLEN_SACK_PERM;
	}
	if (s->wscale >= 0) {
		tmp[n++] = XP_OPT_NOP;
		tmp[n++] = XP_OPT_WSCALE;
		tmp[n++] = XP_OPTLEN_WSCALE;
		tmp[n++] = s->wscale;
	}
	if (s->nsack) {
		tmp[n++] = XP_OPT_NOP;
		tmp[n++] = XP_OPT_NOP;
		tmp[n++] = XP_OPT_SACK;
		tmp[n++] = 2 + 8 * s->nsack;
		for (i = 0; i < s->nsack; i++, n += 8) {
			xp_put32(tmp + n, s->sack[i][0]);
			xp_put32(tmp + n + 4, s->sack[i][1]);
		}
	}
	if (n > XP_MAX_OPTLEN)
		return -EMSGSIZE;
	memcpy(b, tmp, n);
	return n;
}

/*
 * Parse option bytes into @s strictly: every option but EOL and NOP must
 * have a length byte that fits, and the known kinds their exact length.
 * Unknown kinds are skipped. Returns 0 or -EBADMSG.
 */
static inline int xp_opts_parse(struct xp_seg *s, const __u8 *b,
				size_t len)
{
	size_t i = 0, olen;

	s->mss = 0;
	s->wscale = -1;
	s->sack_perm = false;
	s->ts = false;
	s->tsval = 0;
	s->tsecr = 0;
	s->nsack = 0;
	while (i < len) {
		if (b[i] == XP_OPT_EOL)
			break;
		if (b[i] == XP_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 2 > len)
			return -EBADMSG;
		olen = b[i + 1];
		if (olen < 2 || i + olen > len)
			return -EBADMSG;
		switch (b[i]) {
		case XP_OPT_MSS:
			if (olen != XP_OPTLEN_MSS)
				return -EBADMSG;
			s->mss = xp_get16(b + i + 2);
			break;
		case XP_OPT_WSCALE:
			if (olen != XP_OPTLEN_WSCALE)
				return -EBADMSG;
			s->wscale = b[i + 2];
			break;
		case XP_OPT_SACK_PERM:
			if (olen != XP_OPTLEN_SACK_PERM)
				return -EBADMSG;
			s->sack_perm = true;
			break;
		case XP_OPT_TS:
			if (olen != XP_OPTLEN_TS)
				return -EBADMSG;
			s->ts = true;
			s->tsval = xp_get32(b + i + 2);
			s->tsecr = xp_get32(b + i + 6);
			break;
		case XP_OPT_SACK:
			if ((olen - 2) % 8 || olen == 2 ||
			    (olen - 2) / 8 > XP_MAX_SACK)
				return -EBADMSG;
			for (s->nsack = 0; s->nsack < (olen - 2) / 8;
			     s->nsack++) {
				const __u8 *blk = b + i + 2 + 8 * s->nsack;

				s->sack[s->nsack][0] = xp_get32(blk);
				s->sack[s->nsack][1] = xp_get32(blk + 4);
			}
			break;
		}
		i += olen;
	}
	return 0;
}

/* Write the IPv6 header of a packet for @s whose segment has @seglen bytes. */
static inline void xp_build_ip6(int proto, const struct xp_seg *s,
				size_t seglen, __u8 *buf)
{
	struct xp_ip6hdr ip6h = { 0 };

	ip6h.ver_tc_flow = htonl(6U << 28);
	ip6h.payload_len = htons(seglen);
	ip6h.nexthdr = proto;
	ip6h.hop_limit = s->ttl ? s->ttl : 64;
	ip6h.saddr = s->saddr6;
	ip6h.daddr = s->daddr6;
	memcpy(buf, &ip6h, sizeof(ip6h));
}

/*
 * Build the IP packet for @s into @buf. IPv4: a 20-byte IP header with a
 * right checksum, DF set and protocol @proto; IPv6 (s->family AF_INET6):
 * the 40-byte header with next header @proto and no extension headers.
 * Then the TCP-format header, options and payload, checksummed over the
 * family's pseudo-header with @proto.
 *
 * Bad-input knobs: XP_SET_DOFF writes s->doff (0..15) as the data offset
 * whatever the real header length; XP_MANGLE_CSUM spoils the checksum,
 * XP_SET_CSUM writes s->csum instead. With s->trunc (smaller than the
 * segment) only that many bytes follow the IP header, the IP total length
 * says so, and the checksum is computed over those bytes (if its field
 * fits), so a receiver sees a well-formed but short segment.
 *
 * Returns the packet length or -errno.
 */
static inline int xp_build(int proto, const struct xp_seg *s, __u16 ip_id,
			   __u8 *buf, size_t size)
{
	bool v6 = s->family == AF_INET6;
	size_t nhlen = v6 ? sizeof(struct xp_ip6hdr) : sizeof(struct xp_iphdr);
	struct xp_iphdr iph = { 0 };
	struct xp_hdr h = { 0 };
	size_t hlen, seglen;
	__u8 *th = buf + nhlen;
	int optlen;
	__u16 c;

	if (size < nhlen + XP_HDR_LEN + XP_MAX_OPTLEN)
		return -ENOBUFS;
	optlen = xp_opts_build(s, th + XP_HDR_LEN);
	if (optlen < 0)
		return optlen;
	hlen = XP_HDR_LEN + optlen;
	seglen = hlen + s->len;
	if (nhlen + seglen > size || (v6 ? 0 : nhlen) + seglen > 65535)
		return -EMSGSIZE;
	if (s->len)
		memcpy(th + hlen, s->data, s->len);

	h.sport = htons(s->sport);
	h.dport = htons(s->dport);
	h.seq = htonl(s->seq);
	h.ack = htonl(s->ack);
	h.doff_flags = (s->mangle & XP_SET_DOFF ? s->doff & 0xf : hlen / 4) << 4 |
		       (s->flags >> 8 & 0xf);
	h.flags = s->flags;
	h.window = htons(s->window);
	h.urg = htons(s->urg);
	memcpy(th, &h, sizeof(h));

	if (s->trunc && s->trunc < seglen)
		seglen = s->trunc;
	if (seglen >= offsetof(struct xp_hdr, check) + 2) {
		c = ~xp_csum_fold(xp_csum_add(xp_seg_pseudo_sum(s, proto,
								seglen),
					      th, seglen)) & 0xffff;
		if (s->mangle & XP_MANGLE_CSUM)
			c ^= 1;
		if (s->mangle & XP_SET_CSUM)
			c = s->csum;
		xp_put16(th + offsetof(struct xp_hdr, check), c);
	}

	if (v6) {
		xp_build_ip6(proto, s, seglen, buf);
		return nhlen + seglen;
	}
	iph.ver_ihl = 0x45;
	iph.tot_len = htons(sizeof(iph) + seglen);
	iph.id = htons(ip_id);
	iph.frag_off = htons(XP_IP_DF);
	iph.ttl = s->ttl ? s->ttl : 64;
	iph.protocol = proto;
	iph.saddr = s->saddr.s_addr;
	iph.daddr = s->daddr.s_addr;
	iph.check = htons(~xp_csum_fold(xp_csum_add(0, &iph, sizeof(iph))));
	memcpy(buf, &iph, sizeof(iph));
	return sizeof(iph) + seglen;
}

/*
 * The IPv6 header of @b (@len bytes) into @s: the segment's offset, or
 * -ENOENT (not @proto right after the fixed header: ICMPv6, extension
 * headers) or -EBADMSG (a length that disagrees).
 */
static inline int xp_parse_ip6(int proto, struct xp_seg *s, const __u8 *b,
			       size_t len)
{
	struct xp_ip6hdr ip6h;
	__u32 vtf;

	if (len < sizeof(ip6h) ||
	    b[offsetof(struct xp_ip6hdr, nexthdr)] != proto)
		return -ENOENT;
	memcpy(&ip6h, b, sizeof(ip6h));
	memset(s, 0, sizeof(*s));
	s->wscale = -1;
	s->rx = true;
	s->family = AF_INET6;
	vtf = ntohl(ip6h.ver_tc_flow);
	s->tos = vtf >> 20 & 0xff;
	s->flowlabel = vtf & 0xfffff;
	s->ttl = ip6h.hop_limit;
	s->saddr6 = ip6h.saddr;
	s->daddr6 = ip6h.daddr;
	if (ntohs(ip6h.payload_len) != len - sizeof(ip6h))
		return -EBADMSG;
	return sizeof(ip6h);
}

/*
 * Parse one IPv4 or IPv6 packet carrying a TCP-format segment of protocol
 * @proto (for IPv6, right after the fixed header). Returns -ENOENT for
 * anything else (ICMP, ICMPv6, another protocol, extension headers),
 * -EBADMSG if the packet is malformed (bad IP header, length or checksum,
 * a fragment, a data offset outside the segment, broken options: things a
 * correct sender never emits; @s is filled as far as parsing got), else 0.
 * A wrong segment checksum is not an error: see s->csum_ok. s->data points
 * into @pkt.
 */
static inline int xp_parse(int proto, struct xp_seg *s, const void *pkt,
			   size_t len)
{
	const __u8 *b = pkt, *th;
	struct xp_iphdr iph;
	size_t ihl, seglen;
	struct xp_hdr h;
	__u64 sum;
	int off;

	if (len >= 1 && b[0] >> 4 == 6) {
		off = xp_parse_ip6(proto, s, b, len);
		if (off < 0)
			return off;
		ihl = off;
		goto segment;
	}
	if (len < 1 || b[0] >> 4 != 4)
		return -ENOENT;
	if (len < offsetof(struct xp_iphdr, protocol) + 1 ||
	    b[offsetof(struct xp_iphdr, protocol)] != proto)
		return -ENOENT;
	memset(s, 0, sizeof(*s));
	s->wscale = -1;
	s->rx = true;
	s->family = AF_INET;
	if (len < sizeof(iph))
		return -EBADMSG;
	memcpy(&iph, b, sizeof(iph));
	ihl = (iph.ver_ihl & 0xf) * 4;
	s->saddr.s_addr = iph.saddr;
	s->daddr.s_addr = iph.daddr;
	s->ttl = iph.ttl;
	s->tos = iph.tos;
	s->ip_id = ntohs(iph.id);
	s->df = ntohs(iph.frag_off) & XP_IP_DF;
	if (ihl < sizeof(iph) || ihl > len || ntohs(iph.tot_len) != len)
		return -EBADMSG;
	if (xp_csum_fold(xp_csum_add(0, b, ihl)) != 0xffff)
		return -EBADMSG;
	if (ntohs(iph.frag_off) & (XP_IP_MF | XP_IP_OFFSET))
		return -EBADMSG;

segment:
	th = b + ihl;
	seglen = len - ihl;
	if (seglen < sizeof(h))
		return -EBADMSG;
	memcpy(&h, th, sizeof(h));
	s->sport = ntohs(h.sport);
	s->dport = ntohs(h.dport);
	s->seq = ntohl(h.seq);
	s->ack = ntohl(h.ack);
	s->doff = h.doff_flags >> 4;
	s->flags = (h.doff_flags & 0xf) << 8 | h.flags;
	s->window = ntohs(h.window);
	s->csum = ntohs(h.check);
	s->urg = ntohs(h.urg);

	sum = xp_seg_pseudo_sum(s, proto, seglen);
	s->csum_ok = xp_csum_fold(xp_csum_add(sum, th, seglen)) == 0xffff;
	s->csum_partial = !s->csum_ok && s->csum == xp_csum_fold(sum);

	if (s->doff * 4 < XP_HDR_LEN || s->doff * 4 > seglen)
		return -EBADMSG;
	s->rx_opts = th + XP_HDR_LEN;
	s->rx_opts_len = s->doff * 4 - XP_HDR_LEN;
	s->data = th + s->doff * 4;
	s->len = seglen - s->doff * 4;
	return xp_opts_parse(s, s->rx_opts, s->rx_opts_len);
}

/* Flags in tcpdump's notation: "S.", "F.", "R", "P." ... */
static inline char *xp_flags_str(unsigned int flags, char *buf, size_t size)
{
	static const struct {
		unsigned int bit;
		char c;
	} map[] = {
		{ XP_FIN, 'F' }, { XP_SYN, 'S' }, { XP_RST, 'R' },
		{ XP_PSH, 'P' }, { XP_ACK, '.' }, { XP_URG, 'U' },
		{ XP_ECE, 'E' }, { XP_CWR, 'W' }, { XP_AE, 'e' },
	};
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(map) && n + 1 < size; i++)
		if (flags & map[i].bit)
			buf[n++] = map[i].c;
	if (flags & XP_RES && n + 1 < size)
		buf[n++] = '?';
	if (!n && size > 4) {
		memcpy(buf, "none", 4);
		n = 4;
	}
	buf[n < size ? n : size - 1] = '\0';
	return buf;
}

/* Append to a string of @size bytes at *@pos without overflowing. */
static inline void __printf(4, 5)
xp_strcat(char *buf, size_t size, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, size - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += n;
}

/* Options in wire order, tcpdump style: "mss 1460,sackOK,TS val 1 ecr 0" */
static inline void xp_opts_str(const __u8 *b, size_t len, char *buf,
			       size_t size, size_t *pos)
{
	const char *sep = "";
	size_t i = 0, olen, k;

	while (i < len) {
		xp_strcat(buf, size, pos, "%s", sep);
		sep = ",";
		if (b[i] == XP_OPT_EOL) {
			xp_strcat(buf, size, pos, "eol");
			break;
		}
		if (b[i] == XP_OPT_NOP) {
			xp_strcat(buf, size, pos, "nop");
			i++;
			continue;
		}
		olen = i + 1 < len ? b[i + 1] : 0;
		if (olen < 2 || i + olen > len) {
			xp_strcat(buf, size, pos, "bad opt %u", b[i]);
			break;
		}
		if (b[i] == XP_OPT_MSS && olen == XP_OPTLEN_MSS) {
			xp_strcat(buf, size, pos, "mss %u",
				  xp_get16(b + i + 2));
		} else if (b[i] == XP_OPT_WSCALE &&
			   olen == XP_OPTLEN_WSCALE) {
			xp_strcat(buf, size, pos, "wscale %u", b[i + 2]);
		} else if (b[i] == XP_OPT_SACK_PERM &&
			   olen == XP_OPTLEN_SACK_PERM) {
			xp_strcat(buf, size, pos, "sackOK");
		} else if (b[i] == XP_OPT_TS && olen == XP_OPTLEN_TS) {
			xp_strcat(buf, size, pos, "TS val %u ecr %u",
				  xp_get32(b + i + 2), xp_get32(b + i + 6));
		} else if (b[i] == XP_OPT_SACK && olen > 2 &&
			   (olen - 2) % 8 == 0) {
			xp_strcat(buf, size, pos, "sack %zu", (olen - 2) / 8);
			for (k = i + 2; k < i + olen; k += 8)
				xp_strcat(buf, size, pos, " {%u:%u}",
					  xp_get32(b + k), xp_get32(b + k + 4));
		} else {
			xp_strcat(buf, size, pos, "opt-%u:", b[i]);
			for (k = i + 2; k < i + olen; k++)
				xp_strcat(buf, size, pos, "%02x", b[k]);
		}
		i += olen;
	}
}

/*
 * One line in the spirit of tcpdump -S (absolute sequence numbers):
 * "10.9.0.2.40000 > 10.9.0.1.80: Flags [S], seq 1000, win 65535,
 * options [mss 1460], length 0". A received segment shows its options as
 * they came; one to send, the options xp_build() would write.
 */
static inline char *xp_seg_fmt(const struct xp_seg *s, char *buf,
			       size_t size)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], fl[16];
	__u8 ob[XP_MAX_OPTLEN];
	const __u8 *o = ob;
	size_t pos = 0;
	int olen;

	if (!size)
		return buf;
	buf[0] = '\0';
	if (s->family == AF_INET6) {
		inet_ntop(AF_INET6, &s->saddr6, src, sizeof(src));
		inet_ntop(AF_INET6, &s->daddr6, dst, sizeof(dst));
	} else {
		inet_ntop(AF_INET, &s->saddr, src, sizeof(src));
		inet_ntop(AF_INET, &s->daddr, dst, sizeof(dst));
	}
	xp_strcat(buf, size, &pos, "%s.%u > %s.%u: Flags [%s], seq %u",
		  src, s->sport, dst, s->dport,
		  xp_flags_str(s->flags, fl, sizeof(fl)), s->seq);
	if (s->flags & XP_ACK)
		xp_strcat(buf, size, &pos, ", ack %u", s->ack);
	xp_strcat(buf, size, &pos, ", win %u", s->window);
	if (s->flags & XP_URG || s->urg)
		xp_strcat(buf, size, &pos, ", urg %u", s->urg);
	if (s->rx) {
		o = s->rx_opts;
		olen = s->rx_opts_len;
	} else {
		olen = xp_opts_build(s, ob);
	}
	if (olen > 0) {
		xp_strcat(buf, size, &pos, ", options [");
		xp_opts_str(o, olen, buf, size, &pos);
		xp_strcat(buf, size, &pos, "]");
	}
	xp_strcat(buf, size, &pos, ", length %zu", s->len);
	if (s->rx && !s->csum_ok)
		xp_strcat(buf, size, &pos, ", cksum 0x%04x (%s)", s->csum,
			  s->csum_partial ? "partial" : "incorrect");
	if (!s->rx && s->mangle)
		xp_strcat(buf, size, &pos, ", mangle 0x%x", s->mangle);
	return buf;
}

/* xp_seg_fmt() into a temporary that lives until the end of the block. */
#define XP_SEG_STR(s) \
	xp_seg_fmt((s), (char [XP_SEG_STRLEN]) { 0 }, XP_SEG_STRLEN)

static inline int xp_ifup(int sk, const char *ifname)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	if (ioctl(sk, SIOCGIFFLAGS, &ifr))
		return -errno;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sk, SIOCSIFFLAGS, &ifr))
		return -errno;
	return 0;
}

/*
 * Give @ifname the address @addr/24 (none if @addr is NULL) and bring it
 * up. 0 or -errno.
 */
static inline int xp_ifaddr_up(const char *ifname, const struct in_addr *addr)
{
	struct sockaddr_in *sin;
	struct ifreq ifr;
	int err = 0, sk;

	if (strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	if (addr) {
		sin->sin_addr = *addr;
		if (ioctl(sk, SIOCSIFADDR, &ifr))
			err = -errno;
		sin->sin_addr.s_addr = htonl(0xffffff00);
		if (!err && ioctl(sk, SIOCSIFNETMASK, &ifr))
			err = -errno;
	}
	if (!err)
		err = xp_ifup(sk, ifname);
	close(sk);
	return err;
}

/* struct in6_ifreq of <linux/ipv6.h>, which clashes with <netinet/in.h>. */
struct xp_in6_ifreq {
	struct in6_addr addr;
	__u32 prefixlen;
	int ifindex;
};

/*
 * Is @addr usable yet? A new address is tentative (bind() fails) and
 * without its local route (a datagram to it leaves through the tun)
 * until addrconf's work has run once, even without DAD. A UDP datagram
 * from @addr to itself shows both. 0, -EAGAIN or -errno.
 */
static inline int xp_addr6_ready(const struct in6_addr *addr)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	socklen_t len = sizeof(sin6);
	struct pollfd pfd;
	int sk, err = 0;

	sin6.sin6_addr = *addr;
	sk = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return -errno;
	if (bind(sk, (struct sockaddr *)&sin6, sizeof(sin6)))
		err = errno == EADDRNOTAVAIL ? -EAGAIN : -errno;
	else if (getsockname(sk, (struct sockaddr *)&sin6, &len) ||
		 sendto(sk, "", 1, 0, (struct sockaddr *)&sin6, len) != 1)
		err = -errno;
	pfd.fd = sk;
	pfd.events = POLLIN;
	if (!err && poll(&pfd, 1, 10) != 1)
		err = -EAGAIN;
	close(sk);
	return err;
}

/* Wait up to 3 s until xp_addr6_ready(). 0 or -errno. */
static inline int xp_addr6_wait(const struct in6_addr *addr)
{
	__s64 deadline = xp_now_ms() + 3000;
	int err;

	while ((err = xp_addr6_ready(addr)) == -EAGAIN &&
	       xp_now_ms() < deadline)
		usleep(1000);
	return err;
}

/*
 * Give @ifname the address @addr/64, bring it up and wait until the
 * address is usable. DAD is off on it (conf/@ifname/accept_dad, written
 * before). 0 or -errno.
 */
static inline int xp_ifaddr6_up(const char *ifname, int ifindex,
				const struct in6_addr *addr)
{
	struct xp_in6_ifreq ifr6 = {
		.addr = *addr,
		.prefixlen = 64,
		.ifindex = ifindex,
	};
	int err = 0, sk;

	sk = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return -errno;
	err = xp_ifup(sk, ifname);
	if (!err && ioctl(sk, SIOCSIFADDR, &ifr6))
		err = -errno;
	close(sk);
	return err ?: xp_addr6_wait(addr);
}

/*
 * Move the calling process into a new network namespace with lo up. Call
 * it first in each test (FIXTURE_SETUP runs in the test's own process):
 * sockets a previous test left behind keep retransmitting to the peer's
 * address, and would show up on a new tun with the same addresses; a new
 * namespace also starts with default sysctls and zeroed counters.
 */
static inline int xp_unshare_net(void)
{
	int sk, err;

	if (unshare(CLONE_NEWNET))
		return -errno;
	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return -errno;
	err = xp_ifup(sk, "lo");
	close(sk);
	/*
	 * Sockets a test leaves behind talk to a peer that vanishes with
	 * the tun: as orphans they would retransmit for minutes (15 tries
	 * with backoff) and keep the namespace and the module pinned. A few
	 * tries end them in seconds; a test that needs more sets more.
	 */
	if (!err)
		xtcp_write_file("/proc/sys/net/xtcp/retries2", "3");
	return err;
}

/* Close the tun; being non-persistent, the interface goes with it. */
static inline void xp_close(struct xp_peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

/*
 * Open /dev/net/tun. Where tun is a module and nothing made its node (a
 * minimal VM without udev), make the node: opening it loads the module
 * through the misc device's "char-major-10-200" alias.
 */
static inline int xp_tun_open(void)
{
	int fd;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd < 0 ? -errno : fd;
	if (mkdir("/dev/net", 0755) && errno != EEXIST)
		return -errno;
	if (mknod("/dev/net/tun", S_IFCHR | 0666, makedev(10, 200)) &&
	    errno != EEXIST)
		return -errno;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Drop whatever the kernel has queued on the tun; returns the count. */
static inline int xp_drain(struct xp_peer *p)
{
	int n = 0;

	while (read(p->fd, p->buf, sizeof(p->buf)) >= 0)
		n++;
	return n;
}

/* Parse the addresses of xp_open() into @p, setting p->family. */
static inline int xp_open_addrs(struct xp_peer *p, const char *kernel_addr,
				const char *peer_addr)
{
	if (strchr(kernel_addr, ':')) {
		p->family = AF_INET6;
		if (inet_pton(AF_INET6, kernel_addr, &p->kaddr6) != 1 ||
		    inet_pton(AF_INET6, peer_addr, &p->paddr6) != 1 ||
		    !memcmp(&p->kaddr6, &p->paddr6, sizeof(p->kaddr6)) ||
		    memcmp(&p->kaddr6, &p->paddr6, 8))
			return -EINVAL;
		return 0;
	}
	p->family = AF_INET;
	if (inet_pton(AF_INET, kernel_addr, &p->kaddr) != 1 ||
	    inet_pton(AF_INET, peer_addr, &p->paddr) != 1 ||
	    p->kaddr.s_addr == p->paddr.s_addr ||
	    (ntohl(p->kaddr.s_addr ^ p->paddr.s_addr) & 0xffffff00))
		return -EINVAL;
	return 0;
}

/* Write "@val" to /proc/sys/net/ipv6/conf/@ifname/@knob. */
static inline int xp_conf6(const char *ifname, const char *knob,
			   const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", ifname,
		 knob);
	return xtcp_write_file(path, val);
}

/*
 * Create a tun interface (xp0, xp1, ...) and bring it up with the kernel
 * side's address, so that the kernel routes @peer_addr through it. IPv4
 * addresses ("10.9.0.1", "10.9.0.2"): @kernel_addr/24, the peer in the
 * same /24, and IPv6 kept off the interface. IPv6 addresses ("fd00:9::1",
 * "fd00:9::2"): @kernel_addr/64 without DAD, the peer in the same /64, and
 * no router solicitations; the kernel's own ICMPv6 (MLD reports) is
 * passed over by xp_recv(). The peer then speaks IP protocol @proto. Must
 * run with CAP_NET_ADMIN, normally in a private namespace. Returns 0 or
 * -errno; on error nothing is left behind.
 */
static inline int xp_open(struct xp_peer *p, int proto,
			  const char *kernel_addr, const char *peer_addr)
{
	struct ifreq ifr;
	int err;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->proto = proto;
	err = xp_open_addrs(p, kernel_addr, peer_addr);
	if (err)
		return err;

	p->fd = xp_tun_open();
	if (p->fd < 0) {
		err = p->fd;
		p->fd = -1;
		return err;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "xp%%d");
	if (ioctl(p->fd, TUNSETIFF, &ifr))
		goto fail;
	memcpy(p->ifname, ifr.ifr_name, IFNAMSIZ);
	p->ifname[IFNAMSIZ - 1] = '\0';
	p->ifindex = if_nametoindex(p->ifname);

	if (p->family == AF_INET6) {
		err = xp_conf6(p->ifname, "accept_dad", "0") ?:
		      xp_conf6(p->ifname, "router_solicitations", "0") ?:
		      xp_ifaddr6_up(p->ifname, p->ifindex, &p->kaddr6);
		if (err)
			xp_close(p);
		else
			xp_drain(p);
		return err;
	}

	/* No router solicitations or MLD reports; absent IPv6 is fine. */
	xp_conf6(p->ifname, "disable_ipv6", "1");

	err = xp_ifaddr_up(p->ifname, &p->kaddr);
	if (err)
		xp_close(p);
	return err;

fail:
	err = -errno;
	xp_close(p);
	return err;
}

/* A kernel-side socket of the peer's family and protocol. */
static inline int xp_socket(const struct xp_peer *p, int type)
{
	return socket(p->family, type, p->proto);
}

/*
 * The socket address of the kernel side (@peer_side false) or the peer
 * (true) with @port, in the peer's family. Returns its length.
 */
static inline socklen_t xp_sockaddr(const struct xp_peer *p, bool peer_side,
				    __u16 port, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (p->family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = peer_side ? p->paddr6 : p->kaddr6;
		return sizeof(*sin6);
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr = peer_side ? p->paddr : p->kaddr;
	return sizeof(*sin);
}

/* The /proc/net file that lists the sockets of the peer's kind. */
static inline const char *xp_proc_path(const struct xp_peer *p)
{
	bool v6 = p->family == AF_INET6;

	if (p->proto == IPPROTO_TCP)
		return v6 ? "/proc/net/tcp6" : "/proc/net/tcp";
	return v6 ? "/proc/net/xtcp6" : "/proc/net/xtcp";
}

/* Send @s as built by xp_build() with the peer's protocol. */
static inline int xp_send(struct xp_peer *p, const struct xp_seg *s)
{
	__u8 pkt[XP_BUF_SIZE];
	ssize_t n;
	int len;

	len = xp_build(p->proto, s, p->ip_id++, pkt, sizeof(pkt));
	if (len < 0)
		return len;
	n = write(p->fd, pkt, len);
	if (n < 0)
		return -errno;
	return n == len ? 0 : -EIO;
}

/*
 * Wait up to @timeout_ms (negative: forever, 0: only what is queued) for
 * the next packet of the peer's protocol and family and parse it into @s,
 * passing over everything else. Returns 0, -ETIMEDOUT, -EBADMSG (see xp_parse())
 * or another -errno. s->data stays valid until the next call.
 */
static inline int xp_recv(struct xp_peer *p, struct xp_seg *s, int timeout_ms)
{
	__s64 deadline = xp_now_ms() + timeout_ms, left;
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	ssize_t n;
	int err;

	for (;;) {
		n = read(p->fd, p->buf, sizeof(p->buf));
		if (n >= 0) {
			err = xp_parse(p->proto, s, p->buf, n);
			if (err != -ENOENT &&
			    (s->family == AF_INET6) == (p->family == AF_INET6))
				return err;
			p->ignored++;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		left = timeout_ms < 0 ? -1 : deadline - xp_now_ms();
		if (timeout_ms >= 0 && left <= 0)
			return -ETIMEDOUT;
		if (left > 3600000)
			left = 3600000;
		if (poll(&pfd, 1, left) < 0 && errno != EINTR)
			return -errno;
	}
}

/*
 * Wait up to @timeout_ms for a segment with (flags & @mask) == @flags,
 * passing over others (counted in p->skipped, the last one kept as text
 * in p->last_skipped for diagnostics). Returns as xp_recv().
 */
static inline int xp_expect(struct xp_peer *p, struct xp_seg *s,
			    unsigned int mask, unsigned int flags,
			    int timeout_ms)
{
	__s64 deadline = xp_now_ms() + timeout_ms, left;
	int err;

	for (;;) {
		left = timeout_ms < 0 ? -1 : deadline - xp_now_ms();
		if (timeout_ms >= 0 && left < 0)
			left = 0;
		err = xp_recv(p, s, left);
		if (err)
			return err;
		if ((s->flags & mask) == flags)
			return 0;
		p->skipped++;
		xp_seg_fmt(s, p->last_skipped, sizeof(p->last_skipped));
	}
}

/*
 * One connection between a kernel socket and the peer, as the peer sees
 * it. xp_conn_seg() builds the peer's next segment from it;
 * xp_conn_expect() waits for the kernel's and learns its TSval.
 */
struct xp_conn {
	int fd;			/* the kernel's socket */
	__u16 kport;		/* kernel side port; 0: any, until learnt */
	__u16 pport;		/* peer side port */
	__u32 k_nxt;		/* kernel's next sequence number, acked as */
	__u32 p_nxt;		/* peer's next sequence number */
	bool ts;		/* timestamps in use */
	__u32 p_tsval;		/* the peer's next TSval */
	__u32 k_tsval;		/* the kernel's last TSval, echoed */
	__u16 k_mss;		/* MSS option of the kernel's SYN */
};

/*
 * A segment from the peer on @c with @flags: ports, seq and ack as they
 * stand; with timestamps, TSval c->p_tsval (which then advances by 10)
 * and TSecr the kernel's last TSval.
 */
static inline void xp_conn_seg(const struct xp_peer *p, struct xp_conn *c,
			       struct xp_seg *s, unsigned int flags)
{
	xp_seg_init(p, s);
	s->sport = c->pport;
	s->dport = c->kport;
	s->seq = c->p_nxt;
	s->ack = c->k_nxt;
	s->flags = flags;
	if (c->ts) {
		s->ts = true;
		s->tsval = c->p_tsval;
		s->tsecr = c->k_tsval;
		c->p_tsval += 10;
	}
}

/* Send @len bytes of @data from the peer on @c, advancing c->p_nxt. */
static inline int xp_conn_data(struct xp_peer *p, struct xp_conn *c,
			       const void *data, size_t len)
{
	struct xp_seg s;

	xp_conn_seg(p, c, &s, XP_ACK | XP_PSH);
	s.data = data;
	s.len = len;
	c->p_nxt += len;
	return xp_send(p, &s);
}

/*
 * Wait up to @timeout_ms for the kernel's next segment on @c with
 * (flags & @mask) == @flags. Segments of other connections are passed
 * over silently, others of @c as xp_expect() does; the kernel's TSval is
 * kept from every segment of @c. Returns as xp_recv().
 */
static inline int xp_conn_expect(struct xp_peer *p, struct xp_conn *c,
				 struct xp_seg *r, unsigned int mask,
				 unsigned int flags, int timeout_ms)
{
	__s64 deadline = xp_now_ms() + timeout_ms, left;
	int err;

	for (;;) {
		left = deadline - xp_now_ms();
		err = xp_recv(p, r, left > 0 ? left : 0);
		if (err)
			return err;
		if (r->dport != c->pport || (c->kport && r->sport != c->kport))
			continue;
		if (r->ts)
			c->k_tsval = r->tsval;
		if ((r->flags & mask) == flags)
			return 0;
		p->skipped++;
		xp_seg_fmt(r, p->last_skipped, sizeof(p->last_skipped));
	}
}

/*
 * The kernel's next segment on @c that carries data, within @timeout_ms;
 * a SYN or RST on the way ends the wait (as an error of xp_conn_expect()).
 */
static inline int xp_conn_expect_data(struct xp_peer *p, struct xp_conn *c,
				      struct xp_seg *r, int timeout_ms)
{
	__s64 deadline = xp_now_ms() + timeout_ms;
	int err;

	do {
		__s64 left = deadline - xp_now_ms();

		err = xp_conn_expect(p, c, r, XP_SYN | XP_RST, 0,
				     left > 0 ? left : 0);
	} while (!err && !r->len);
	return err;
}

/* As xp_conn_expect(), for a segment that also acknowledges @ack. */
static inline int xp_conn_expect_ack(struct xp_peer *p, struct xp_conn *c,
				     struct xp_seg *r, unsigned int mask,
				     unsigned int flags, __u32 ack,
				     int timeout_ms)
{
	__s64 deadline = xp_now_ms() + timeout_ms, left;
	int err;

	do {
		left = deadline - xp_now_ms();
		err = xp_conn_expect(p, c, r, mask, flags, left > 0 ? left : 0);
	} while (!err && r->ack != ack);
	return err;
}

/*
 * Active open of @fd, a new socket (bound or not) of the peer's family,
 * to the peer's @pport.
 * The peer answers the SYN with ISN @pisn, window @window, MSS p->mss and,
 * if @ts and the SYN offered them, timestamps; xp_conn_connect() returns
 * once the kernel has ACKed the SYN-ACK and connect() has completed. @fd
 * is left non-blocking. 0 or -errno: -EPROTO if connect() did not start
 * or did not complete, the socket error if it failed.
 */
static inline int xp_conn_connect(struct xp_peer *p, struct xp_conn *c,
				  int fd, __u16 pport, __u32 pisn,
				  __u16 window, bool ts)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int), salen;
	struct sockaddr_storage ss;
	struct xp_seg syn, s, r;
	int err, soerr;

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->pport = pport;
	if (fcntl(fd, F_SETFL, O_NONBLOCK))
		return -errno;
	salen = xp_sockaddr(p, true, pport, &ss);
	if (!connect(fd, (struct sockaddr *)&ss, salen) ||
	    errno != EINPROGRESS)
		return -EPROTO;
	err = xp_conn_expect(p, c, &syn, XP_SYN | XP_ACK | XP_RST | XP_FIN,
			     XP_SYN, 3000);
	if (err)
		return err;
	c->kport = syn.sport;
	c->k_nxt = syn.seq + 1;
	c->p_nxt = pisn;
	c->ts = ts && syn.ts;
	c->p_tsval = 1000;
	c->k_mss = syn.mss;

	xp_conn_seg(p, c, &s, XP_SYN | XP_ACK);
	s.mss = p->mss ?: 1460;
	s.sack_perm = p->sack && syn.sack_perm;
	s.window = window;
	err = xp_send(p, &s);
	if (err)
		return err;
	c->p_nxt++;
	err = xp_conn_expect_ack(p, c, &r, XP_SYN | XP_ACK | XP_RST | XP_FIN,
				 XP_ACK, c->p_nxt, 3000);
	if (err)
		return err;
	if (poll(&pfd, 1, 3000) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
		return -EPROTO;
	return soerr ? -soerr : 0;
}

/*
 * The next data segment of @c starting at @seq within @timeout_ms, passing
 * over others (retransmissions, pure ACKs). 0 or -errno.
 */
static inline int xp_conn_data_at(struct xp_peer *p, struct xp_conn *c,
				  struct xp_seg *r, __u32 seq, int timeout_ms)
{
	__s64 deadline = xp_now_ms() + timeout_ms, left;
	int err;

	do {
		left = deadline - xp_now_ms();
		err = xp_conn_expect(p, c, r, XP_SYN | XP_RST, 0,
				     left > 0 ? left : 0);
	} while (!err && (!r->len || r->seq != seq));
	return err;
}

/* The peer acknowledges everything up to @ack. 0 or -errno. */
static inline int xp_conn_ack_to(struct xp_peer *p, struct xp_conn *c,
				 __u32 ack)
{
	struct xp_seg s;

	c->k_nxt = ack;
	xp_conn_seg(p, c, &s, XP_ACK);
	return xp_send(p, &s);
}

/*
 * xp_conn_connect() of a new socket of the peer's protocol, the peer's
 * window 65535. On failure the socket is closed and c->fd is -1.
 */
static inline int xp_conn_open(struct xp_peer *p, struct xp_conn *c,
			       __u16 pport, __u32 pisn, bool ts)
{
	int fd, err;

	fd = xp_socket(p, SOCK_STREAM | SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = xp_conn_connect(p, c, fd, pport, pisn, 65535, ts);
	if (err) {
		close(fd);
		c->fd = -1;
	}
	return err;
}

#endif /* _XTCP_PEER_H */
