// SPDX-License-Identifier: GPL-2.0
/*
 * Segmentation offload: the callback that cuts one large xtcp skb into
 * segments where a device cannot take it whole
 * (Documentation/xtcp-internals.rst, "Segmentation offload").
 *
 * xtcp_write_xmit() may send an skb of several segments' payload as one
 * GSO skb: gso_size is the segment size, gso_type SKB_GSO_SCTP. No NIC
 * advertises NETIF_F_GSO_SCTP in hardware; virtual devices (veth,
 * loopback, bridges, bonds, VLANs, tunnels) take it through
 * NETIF_F_GSO_SOFTWARE and hand the skb on whole, and before any other
 * device validate_xmit_skb() segments it in software: inet_gso_segment()
 * or ipv6_gso_segment() calls the callback registered here for the
 * protocol number, the same for both families: it sees only the xtcp
 * header and the pseudo-header sum seeded in th->check. SKB_GSO_TCPV4
 * would let a NIC cut it as TCP, seeding the checksums with protocol 6.
 *
 * The skb leaves with CHECKSUM_PARTIAL and the pseudo-header sum of the
 * whole in th->check, as TCP's does; the protocol lives only in that
 * seed, so each segment's sum is the seed corrected for its own length,
 * as __tcp_gso_segment() computes it. A device that cannot sum any
 * protocol from csum_start (no NETIF_F_HW_CSUM) gets the segments summed
 * here in software.
 */

#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <net/checksum.h>
#include <net/ip.h>
#include <net/protocol.h>
#ifdef XTCP_HAVE_NET_GSO_H
#include <net/gso.h>
#endif

#include "xtcp.h"

/* What TCP passes as ~th->check: the seed, complemented, as a sum. */
static __wsum xtcp_gso_seed(const struct tcphdr *th)
{
	return (__force __wsum)~(__force u32)th->check;
}

/*
 * struct net_offload .callbacks.gso_segment: @skb's data starts at its
 * transport header. Every segment but the last loses FIN and PSH, and
 * each gets its sequence number and its checksum.
 */
static struct sk_buff *xtcp_gso_segment(struct sk_buff *skb,
					netdev_features_t features)
{
	struct sk_buff *segs = ERR_PTR(-EINVAL);
	unsigned int thlen, mss, oldlen;
	struct tcphdr *th;
	__sum16 newcheck;
	__wsum delta;
	u32 seq;

	if (!(skb_shinfo(skb)->gso_type & SKB_GSO_SCTP) ||
	    !pskb_may_pull(skb, sizeof(*th)))
		return segs;
	th = tcp_hdr(skb);
	thlen = th->doff * 4;
	if (thlen < sizeof(*th) || !pskb_may_pull(skb, thlen))
		return segs;
	/* Only what xtcp itself built: summed from the transport header. */
	if (skb->ip_summed != CHECKSUM_PARTIAL ||
	    skb_checksum_start(skb) != skb_transport_header(skb))
		return segs;
	th = tcp_hdr(skb);

	oldlen = ~skb->len;
	__skb_pull(skb, thlen);
	mss = skb_shinfo(skb)->gso_size;
	if (unlikely(skb->len <= mss))
		return segs;

	if (skb_gso_ok(skb, features | NETIF_F_GSO_ROBUST)) {
		/* From an untrusted source: count the segments again. */
		skb_shinfo(skb)->gso_segs = DIV_ROUND_UP(skb->len, mss);
		return NULL;
	}

	/* NETIF_F_IP_CSUM promises TCP and UDP only: sum in software. */
	if (!(features & NETIF_F_HW_CSUM))
		features &= ~NETIF_F_CSUM_MASK;

	segs = skb_segment(skb, features);
	if (IS_ERR(segs))
		return segs;

	/* The length in the seed: the whole's out, a segment's in. */
	delta = (__force __wsum)htonl(oldlen + thlen + mss);
	skb = segs;
	th = tcp_hdr(skb);
	seq = ntohl(th->seq);
	newcheck = ~csum_fold(csum_add(csum_unfold(th->check), delta));

	while (skb->next) {
		th->fin = 0;
		th->psh = 0;
		th->check = newcheck;
		if (skb->ip_summed == CHECKSUM_PARTIAL)
			gso_reset_checksum(skb, xtcp_gso_seed(th));
		else
			th->check = gso_make_checksum(skb, xtcp_gso_seed(th));
		seq += mss;
		skb = skb->next;
		th = tcp_hdr(skb);
		th->seq = htonl(seq);
	}

	delta = (__force __wsum)htonl(oldlen +
				      (skb_tail_pointer(skb) -
				       skb_transport_header(skb)) +
				      skb->data_len);
	th->check = ~csum_fold(csum_add(csum_unfold(th->check), delta));
	if (skb->ip_summed == CHECKSUM_PARTIAL)
		gso_reset_checksum(skb, xtcp_gso_seed(th));
	else
		th->check = gso_make_checksum(skb, xtcp_gso_seed(th));
	return segs;
}

static const struct net_offload xtcp_offload = {
	.callbacks = {
		.gso_segment = xtcp_gso_segment,
	},
};

/**
 * xtcp_offload_init() - register the segmentation callback for IPv4 and IPv6
 *
 * Context: module init, process context, after the protocol handler.
 * Return: 0 or -errno.
 */
int xtcp_offload_init(void)
{
	BUILD_BUG_ON(sizeof(struct xtcp_skb_cb) >
		     sizeof_field(struct sk_buff, cb));
	if (inet_add_offload(&xtcp_offload, xtcp_protocol))
		return -EBUSY;
	if (inet6_add_offload(&xtcp_offload, xtcp_protocol)) {
		inet_del_offload(&xtcp_offload, xtcp_protocol);
		return -EBUSY;
	}
	return 0;
}

/**
 * xtcp_offload_exit() - undo xtcp_offload_init()
 *
 * inet_del_offload() and inet6_del_offload() wait for a grace period, so no callback runs
 * afterwards; an xtcp GSO skb still queued somewhere is dropped by
 * inet_gso_segment() or ipv6_gso_segment() if it must be cut later. None is queued by then in
 * practice: each holds its socket, and each socket the module.
 *
 * Context: module exit, process context.
 */
void xtcp_offload_exit(void)
{
	inet6_del_offload(&xtcp_offload, xtcp_protocol);
	inet_del_offload(&xtcp_offload, xtcp_protocol);
}
