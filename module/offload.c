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
 *
 * The receive half, GRO, coalesces in-order segments of one connection
 * that a device's NAPI poll hands up one by one into one skb of the same
 * shape, as tcp_gro_receive() does for TCP; the kernel exports neither
 * that nor skb_gro_receive(), so xtcp_gro_merge() is xtcp's own.
 */

#include <linux/delay.h>
#include <linux/ipv6.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <net/checksum.h>
#include <net/gro.h>
#include <net/ip.h>
#include <net/ip6_checksum.h>
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

/*
 * GRO. The device's NAPI poll runs napi_gro_receive(), in softirq
 * context, which holds skbs of up to MAX_GRO_SKBS flows per bucket on
 * the NAPI's own lists; inet_gro_receive() or ipv6_gro_receive() checks
 * the network header and calls xtcp_gro4/6_receive() with @skb's GRO
 * offset at the xtcp header. Each held skb is finished by
 * xtcp_gro4/6_complete() when it is flushed: at the end of the poll at
 * the latest, or sooner when a segment ends its run.
 *
 * xtcp_gro_held counts the held skbs of more than one segment, the ones
 * napi_gro_complete() passes to xtcp_gro4/6_complete(), so that module
 * exit can wait for them: the callbacks must outlive every such skb, or
 * inet_gro_complete() would find no callback for the protocol. It is a
 * hint (a device going away frees its held skbs uncompleted), so the
 * wait is bounded.
 */
static atomic_t xtcp_gro_held = ATOMIC_INIT(0);
static bool xtcp_gro_stopped;

/* The held skb of @th's connection, if any; others stop matching. */
static struct sk_buff *xtcp_gro_lookup(struct list_head *head,
				       const struct tcphdr *th)
{
	const struct tcphdr *th2;
	struct sk_buff *p;

	list_for_each_entry(p, head, list) {
		if (!NAPI_GRO_CB(p)->same_flow)
			continue;
		th2 = tcp_hdr(p);
		if (th->source != th2->source || th->dest != th2->dest) {
			NAPI_GRO_CB(p)->same_flow = 0;
			continue;
		}
		return p;
	}
	return NULL;
}

/* The xtcp header, options included, pulled past; NULL if it is bad. */
static struct tcphdr *xtcp_gro_pull_header(struct sk_buff *skb)
{
	unsigned int off = skb_gro_offset(skb);
	unsigned int thlen;
	struct tcphdr *th;

	th = skb_gro_header(skb, off + sizeof(*th), off);
	if (!th)
		return NULL;
	thlen = th->doff * 4;
	if (thlen < sizeof(*th))
		return NULL;
	th = skb_gro_header(skb, off + thlen, off);
	if (!th)
		return NULL;
	skb_gro_pull(skb, thlen);
	return th;
}

/*
 * Append @skb's payload to @p, the held skb of its connection. When the
 * payload lies in page fragments that fit, they move to the last skb of
 * @p's chain and @skb is freed but for its head; otherwise @skb, its
 * headers pulled, joins @p's frag_list. Return: 0, or -errno when it
 * cannot be merged (then nothing changed).
 */
static int xtcp_gro_merge(struct sk_buff *p, struct sk_buff *skb)
{
	struct skb_shared_info *from = skb_shinfo(skb), *to;
	unsigned int headlen = skb_headlen(skb);
	unsigned int off = skb_gro_offset(skb);
	unsigned int len = skb_gro_len(skb);
	struct sk_buff *last = NAPI_GRO_CB(p)->last;
	unsigned int truesize, eat = 0;

	/* Page pool pages must not mix with others in one skb. */
	if (p->pp_recycle != skb->pp_recycle)
		return -ETOOMANYREFS;
	/* 64 KiB at most: the IPv4 length, and no jumbogram for IPv6. */
	if (p->len + len >= min(GRO_LEGACY_MAX_SIZE,
				xtcp_gro_max_size(p->dev, p)))
		return -E2BIG;
	/* Headers ending beyond the head lie in the first fragment. */
	if (off > headlen) {
		eat = off - headlen;
		if (!from->nr_frags || eat >= skb_frag_size(&from->frags[0]))
			return -EINVAL;
	}

	to = skb_shinfo(last);
	if (off >= headlen &&
	    to->nr_frags + from->nr_frags <= MAX_SKB_FRAGS) {
		memcpy(&to->frags[to->nr_frags], from->frags,
		       from->nr_frags * sizeof(skb_frag_t));
		skb_frag_off_add(&to->frags[to->nr_frags], eat);
		skb_frag_size_sub(&to->frags[to->nr_frags], eat);
		to->nr_frags += from->nr_frags;
		from->nr_frags = 0;
		/* What stays with @skb: its head. */
		truesize = SKB_TRUESIZE(skb_end_offset(skb));
		swap(truesize, skb->truesize);
		truesize -= skb->truesize;
		skb->len = headlen;
		skb->data_len = 0;
		NAPI_GRO_CB(skb)->free = NAPI_GRO_FREE;
	} else {
		if (eat) {
			skb_frag_off_add(&from->frags[0], eat);
			skb_frag_size_sub(&from->frags[0], eat);
			skb->data_len -= eat;
			skb->len -= eat;
			off = headlen;
		}
		__skb_pull(skb, off);
		/* A socket's hold, if any, goes with the whole to @p's. */
		skb->destructor = NULL;
		skb->sk = NULL;
		truesize = skb->truesize;
		if (last == p)
			skb_shinfo(p)->frag_list = skb;
		else
			last->next = skb;
		NAPI_GRO_CB(p)->last = skb;
		__skb_header_release(skb);
		last = p;
	}

	if (NAPI_GRO_CB(p)->count == 1)
		atomic_inc(&xtcp_gro_held);
	NAPI_GRO_CB(p)->count += NAPI_GRO_CB(skb)->count;
	p->len += len;
	p->data_len += len;
	p->truesize += truesize;
	if (last != p) {
		last->len += len;
		last->data_len += len;
		last->truesize += truesize;
	}
	NAPI_GRO_CB(skb)->same_flow = 1;
	return 0;
}

/*
 * struct net_offload .callbacks.gro_receive, after the checksum and the
 * network header: TCP's rules (tcp_gro_receive()). @skb joins the held
 * skb of its connection only as the next in sequence, of its segment
 * size or the shorter last, with the same acknowledgment, window, flags
 * (FIN and PSH aside) and options, so that the whole says what each
 * segment said. URG, PSH, RST, SYN, FIN and a short segment end the run.
 * Return: the held skb to flush now, or NULL.
 */
static struct sk_buff *xtcp_gro_receive(struct list_head *head,
					struct sk_buff *skb)
{
	unsigned int len, thlen, mss = 1, i;
	struct sk_buff *p, *pp = NULL;
	struct tcphdr *th, *th2;
	bool flush = true;
	__be32 flags;

	th = xtcp_gro_pull_header(skb);
	if (!th || READ_ONCE(xtcp_gro_stopped) ||
	    NAPI_GRO_CB(skb)->encap_mark) {
		NAPI_GRO_CB(skb)->flush = 1;
		return NULL;
	}
	thlen = th->doff * 4;
	len = skb_gro_len(skb);
	flags = tcp_flag_word(th);

	p = xtcp_gro_lookup(head, th);
	if (!p)
		goto out;

	th2 = tcp_hdr(p);
	flush = !!(flags & TCP_FLAG_CWR);
	flush |= !!((flags ^ tcp_flag_word(th2)) &
		    ~(TCP_FLAG_CWR | TCP_FLAG_FIN | TCP_FLAG_PSH));
	flush |= th->ack_seq != th2->ack_seq;
	for (i = sizeof(*th); i < thlen; i += 4)
		flush |= *(u32 *)((u8 *)th + i) != *(u32 *)((u8 *)th2 + i);
	flush |= xtcp_gro_network_flush(th, th2, p);

	mss = skb_shinfo(p)->gso_size;
	if (skb_is_gso(skb))
		flush |= mss != skb_shinfo(skb)->gso_size;
	else
		flush |= len - 1 >= mss;
	flush |= ntohl(th2->seq) + skb_gro_len(p) != ntohl(th->seq);

	if (flush || xtcp_gro_merge(p, skb)) {
		mss = 1;
		goto out;
	}
	tcp_flag_word(th2) |= flags & (TCP_FLAG_FIN | TCP_FLAG_PSH);

out:
	if (skb_is_gso(skb))
		flush = len != NAPI_GRO_CB(skb)->count *
			       skb_shinfo(skb)->gso_size;
	else
		flush = len < mss;
	flush |= !!(flags & (TCP_FLAG_URG | TCP_FLAG_PSH | TCP_FLAG_RST |
			     TCP_FLAG_SYN | TCP_FLAG_FIN));

	if (p && (!NAPI_GRO_CB(skb)->same_flow || flush))
		pp = p;
	NAPI_GRO_CB(skb)->flush |= flush;
	/* Held as it came, already of several segments (a GSO skb). */
	if (!NAPI_GRO_CB(skb)->same_flow && !NAPI_GRO_CB(skb)->flush &&
	    NAPI_GRO_CB(skb)->count > 1)
		atomic_inc(&xtcp_gro_held);
	return pp;
}

static struct sk_buff *xtcp_gro4_receive(struct list_head *head,
					 struct sk_buff *skb)
{
	/* No need to sum a segment that is not going to be held. */
	if (!NAPI_GRO_CB(skb)->flush &&
	    skb_gro_checksum_validate(skb, xtcp_protocol,
				      inet_gro_compute_pseudo)) {
		NAPI_GRO_CB(skb)->flush = 1;
		return NULL;
	}
	return xtcp_gro_receive(head, skb);
}

static struct sk_buff *xtcp_gro6_receive(struct list_head *head,
					 struct sk_buff *skb)
{
	if (!NAPI_GRO_CB(skb)->flush &&
	    skb_gro_checksum_validate(skb, xtcp_protocol,
				      ip6_gro_compute_pseudo)) {
		NAPI_GRO_CB(skb)->flush = 1;
		return NULL;
	}
	return xtcp_gro_receive(head, skb);
}

/*
 * The coalesced skb leaves as one of xtcp's own GSO skbs: CHECKSUM_PARTIAL
 * from the xtcp header, seeded with the pseudo-header sum of the whole,
 * so that local delivery has nothing to sum and forwarding can cut it
 * again with xtcp_gso_segment(). @seed is that sum, complemented.
 */
static void xtcp_gro_complete(struct sk_buff *skb, int thoff, __sum16 seed)
{
	struct tcphdr *th = (struct tcphdr *)(skb->data + thoff);

	atomic_dec(&xtcp_gro_held);
	th->check = seed;
	skb->csum_start = (unsigned char *)th - skb->head;
	skb->csum_offset = offsetof(struct tcphdr, check);
	skb->ip_summed = CHECKSUM_PARTIAL;
	skb_shinfo(skb)->gso_type |= SKB_GSO_SCTP;
	skb_shinfo(skb)->gso_segs = NAPI_GRO_CB(skb)->count;
}

static int xtcp_gro4_complete(struct sk_buff *skb, int thoff)
{
	const struct iphdr *iph = xtcp_gro_network_header(skb);

	xtcp_gro_complete(skb, thoff,
			  ~csum_tcpudp_magic(iph->saddr, iph->daddr,
					     skb->len - thoff, xtcp_protocol,
					     0));
	return 0;
}

static int xtcp_gro6_complete(struct sk_buff *skb, int thoff)
{
	const struct ipv6hdr *iph = xtcp_gro_network_header(skb);

	xtcp_gro_complete(skb, thoff,
			  ~csum_ipv6_magic(&iph->saddr, &iph->daddr,
					   skb->len - thoff, xtcp_protocol,
					   0));
	return 0;
}

static const struct net_offload xtcp_offload = {
	.callbacks = {
		.gso_segment = xtcp_gso_segment,
		.gro_receive = xtcp_gro4_receive,
		.gro_complete = xtcp_gro4_complete,
	},
};

static const struct net_offload xtcp6_offload = {
	.callbacks = {
		.gso_segment = xtcp_gso_segment,
		.gro_receive = xtcp_gro6_receive,
		.gro_complete = xtcp_gro6_complete,
	},
};

/**
 * xtcp_offload_init() - register the offload callbacks for IPv4 and IPv6
 *
 * Context: module init, process context, after the protocol handler.
 * Return: 0 or -errno.
 */
int xtcp_offload_init(void)
{
	BUILD_BUG_ON(sizeof(struct xtcp_skb_cb) >
		     sizeof_field(struct sk_buff, cb));
	WRITE_ONCE(xtcp_gro_stopped, false);
	if (inet_add_offload(&xtcp_offload, xtcp_protocol))
		return -EBUSY;
	if (inet6_add_offload(&xtcp6_offload, xtcp_protocol)) {
		inet_del_offload(&xtcp_offload, xtcp_protocol);
		return -EBUSY;
	}
	return 0;
}

/**
 * xtcp_offload_exit() - undo xtcp_offload_init()
 *
 * GRO first stops holding skbs; after a grace period no callback still
 * runs with the old answer, and the skbs held before are flushed by the
 * end of their NAPI poll, or a few jiffies later on a NAPI that stays
 * busy or defers its flush (gro_flush_timeout): the wait is for
 * xtcp_gro_held to drop to 0, for one second at most. Then
 * inet_del_offload() and inet6_del_offload() wait for a grace period,
 * so no callback runs afterwards. An xtcp GSO skb still queued somewhere
 * is dropped by inet_gso_segment() or ipv6_gso_segment() if it must be
 * cut later. None is queued by then in practice: each holds its socket,
 * and each socket the module.
 *
 * Context: module exit, process context.
 */
void xtcp_offload_exit(void)
{
	unsigned long deadline = jiffies + HZ;

	WRITE_ONCE(xtcp_gro_stopped, true);
	synchronize_net();
	while (atomic_read(&xtcp_gro_held) > 0 &&
	       time_before(jiffies, deadline))
		msleep(20);
	inet6_del_offload(&xtcp6_offload, xtcp_protocol);
	inet_del_offload(&xtcp_offload, xtcp_protocol);
}
