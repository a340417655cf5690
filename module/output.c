// SPDX-License-Identifier: GPL-2.0
/*
 * Building and sending segments: the write queue, data transmission under
 * the send and congestion windows, retransmission, ACK, FIN and RST.
 *
 * The write queue (sk_write_queue) holds every segment from snd_una on:
 * those before send_head were sent and await their ACK, send_head and
 * after are still to go. The payload is held in page fragments behind an
 * empty linear area kept for the headers; sending pushes the header onto
 * a clone. An skb not yet sent may hold several segments' worth (up to
 * the size goal of sendmsg, as TCP's skbs). As it leaves it is cut to
 * what the windows allow: one segment of mss_cache, or, where the route
 * takes segmentation offload (net.xtcp.gso, xtcp_gso_max_segs()), as
 * many as the congestion and send windows allow, sent as one GSO skb
 * that the device or offload.c cuts into segments. A sent skb counts its
 * segments in packets_out (XTCP_SKB_CB()->pcount).
 *
 * The checksum: no device knows protocol 253, but a device with
 * NETIF_F_HW_CSUM (loopback, veth, virtio_net) sums any protocol from
 * csum_start, and loopback and veth hand the skb to the receiver still
 * marked CHECKSUM_PARTIAL, so that nobody sums the data at all. On other
 * routes the payload sum is taken while the data is copied from user
 * space (skb->ip_summed == CHECKSUM_NONE on the queued skb, sum in
 * skb->csum) and completed with the header's in software. Which of the
 * two a segment gets is decided again at each transmission, from the
 * route it leaves by.
 */

#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <net/checksum.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/tcp.h>

#include "xtcp.h"
#include "trace.h"

/**
 * xtcp_free_window() - the receive window the free buffer allows now
 * @sk: the socket
 *
 * Half the free receive buffer (the rest pays for skb overhead), within
 * what the window field can say.
 *
 * Context: socket locked.
 * Return: bytes, a multiple of the window scale unit.
 */
u32 xtcp_free_window(const struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	int space = READ_ONCE(sk->sk_rcvbuf) -
		    atomic_read(&sk->sk_rmem_alloc);
	u32 win;

	win = max(space, 0) / 2;
	win = min_t(u32, win, 65535U << xs->rcv_wscale);
	return round_down(win, 1U << xs->rcv_wscale);
}

static u16 xtcp_select_window(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 win = xtcp_free_window(sk), cur;

	/* Never take back a window already offered (RFC 9293 3.8.6). */
	cur = xs->rcv_wup + xs->rcv_wnd - xs->rcv_nxt;
	if ((s32)cur > 0 && win < cur)
		win = round_up(cur, 1U << xs->rcv_wscale);

	xs->rcv_wnd = win;
	xs->rcv_wup = xs->rcv_nxt;
	return win >> xs->rcv_wscale;
}

static void xtcp_fill_opts(struct sock *sk, u8 flags, struct xtcp_opts *opts)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	memset(opts, 0, sizeof(*opts));
	opts->wscale = -1;
	if (flags & XTCPHDR_SYN) {
		opts->mss = xs->advmss;
		/* A SYN offers; a SYN-ACK answers what the peer offered. */
		if (sk->sk_state == TCP_SYN_SENT || xs->wscale_ok)
			opts->wscale = xs->rcv_wscale;
		/* Fixed at connect() (the knobs) or by the peer's SYN. */
		if (xs->ts_ok)
			opts->ts_ok = 1;
		if (xs->sack_ok)
			opts->sack_ok = 1;
	} else if (xs->ts_ok) {
		opts->ts_ok = 1;
	}
	if (opts->ts_ok) {
		opts->tsval = xtcp_ts_now(xs);
		opts->tsecr = xs->ts_recent;
	}
}

/*
 * May the segments of @sk leave with CHECKSUM_PARTIAL? Only through a
 * device that sums any protocol: NETIF_F_IP_CSUM promises TCP and UDP
 * alone, and the stack would not know to fall back for protocol 253.
 * An IPsec route (header_len) keeps to software.
 */
static bool xtcp_csum_offload(struct sock *sk)
{
	const struct dst_entry *dst = xtcp_sk_dst_check(sk);

	return dst && !dst->header_len && dst->dev &&
	       (dst->dev->features & NETIF_F_HW_CSUM);
}

/*
 * Fill in th->check of @skb, whose transport header is set. A GSO skb
 * always leaves partial: the segmentation sums its segments in software
 * where the device cannot (offload.c).
 */
static void xtcp_set_csum(struct sock *sk, struct sk_buff *skb,
			  bool payload_summed)
{
	unsigned int hlen = skb_transport_offset(skb) + tcp_hdrlen(skb);
	struct tcphdr *th = tcp_hdr(skb);
	__wsum csum;

	xtcp_send_check(sk, th, skb->len);
	if (skb_is_gso(skb) || xtcp_csum_offload(sk)) {
		skb->ip_summed = CHECKSUM_PARTIAL;
		skb->csum_start = skb_transport_header(skb) - skb->head;
		skb->csum_offset = offsetof(struct tcphdr, check);
		return;
	}
	/* The payload sum, if the copy did not take it, covers what
	 * follows the header; skb->csum of a clone is the queued skb's.
	 */
	if (payload_summed)
		csum = skb->csum;
	else
		csum = skb_checksum(skb, hlen, skb->len - hlen, 0);
	th->check = csum_fold(csum_partial(th, tcp_hdrlen(skb), csum));
	skb->ip_summed = CHECKSUM_NONE;
}

/**
 * xtcp_push_header() - write a header in front of a segment's payload
 * @skb: the segment, with headroom for the header and its options
 * @sport: source port
 * @dport: destination port
 * @seq: sequence number
 * @ack: acknowledgment number, written only if @flags has ACK
 * @flags: XTCPHDR_* flags
 * @window: the window field, already scaled
 * @opts: options to write, or NULL
 * @sack: the SACK blocks @opts->nr_sack counts, or NULL
 *
 * Sets the transport header; the checksum is left to the caller.
 *
 * Context: any.
 * Return: the header.
 */
struct tcphdr *xtcp_push_header(struct sk_buff *skb, __be16 sport,
				__be16 dport, u32 seq, u32 ack, u8 flags,
				u16 window, const struct xtcp_opts *opts,
				const struct xtcp_sack_block *sack)
{
	unsigned int hlen = XTCP_BASE_HLEN;
	struct tcphdr *th;

	if (opts)
		hlen += xtcp_options_size(opts);
	th = skb_push(skb, hlen);
	skb_reset_transport_header(skb);
	memset(th, 0, XTCP_BASE_HLEN);
	th->source = sport;
	th->dest = dport;
	th->seq = htonl(seq);
	if (flags & XTCPHDR_ACK)
		th->ack_seq = htonl(ack);
	th->doff = hlen / 4;
	tcp_flag_byte(th) = flags;
	th->window = htons(window);
	if (opts)
		xtcp_write_options((__be32 *)(th + 1), opts, sack);
	return th;
}

/*
 * Push the header onto @oskb and hand it to IP. A queued segment is sent
 * as a clone (@clone_it) and stays in the write queue for retransmission;
 * a pure ACK or RST is sent itself and consumed. A queued skb of several
 * segments (pcount) leaves as one GSO skb of seg_size segments.
 */
static int xtcp_transmit_skb(struct sock *sk, struct sk_buff *oskb,
			     bool clone_it, gfp_t gfp)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(oskb);
	struct inet_sock *inet = inet_sk(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct skb_shared_info *shinfo;
	struct xtcp_opts opts;
	bool payload_summed;
	struct sk_buff *skb;
	u32 payload, segs;
	u16 window;
	int err;

	payload_summed = oskb->ip_summed == CHECKSUM_NONE;
	payload = oskb->len;
	skb = oskb;
	if (clone_it) {
		/* A clone still in flight shares our headroom: copy. */
		if (unlikely(skb_cloned(oskb)))
			skb = pskb_copy(oskb, gfp);
		else
			skb = skb_clone(oskb, gfp);
		if (unlikely(!skb))
			return -ENOBUFS;
	}

	/* Segments of seg_size: the acknowledged part of an skb sent
	 * whole again too. The clone shares the queued skb's shared info,
	 * as TCP's do.
	 */
	segs = 1;
	if (cb->seg_size && payload > cb->seg_size)
		segs = DIV_ROUND_UP(payload, cb->seg_size);
	shinfo = skb_shinfo(skb);
	if (segs > 1) {
		shinfo->gso_type = SKB_GSO_SCTP;
		shinfo->gso_size = cb->seg_size;
		shinfo->gso_segs = segs;
	} else {
		shinfo->gso_size = 0;
		shinfo->gso_segs = 1;
	}

	xtcp_fill_opts(sk, cb->flags, &opts);
	if (!(cb->flags & XTCPHDR_SYN))
		opts.nr_sack = xtcp_sack_blocks_to_send(sk, &opts, payload);
	if (cb->flags & XTCPHDR_SYN)
		window = min(xs->rcv_wnd, 65535U);
	else
		window = xtcp_select_window(sk);
	xtcp_push_header(skb, inet->inet_sport, inet->inet_dport, cb->seq,
			 xs->rcv_nxt, cb->flags, window, &opts,
			 xs->selective_acks);
	xtcp_set_csum(sk, skb, payload_summed);

	if (cb->flags & XTCPHDR_ACK)
		xtcp_timers_ack_sent(sk);

	memset(skb->cb, 0, max(sizeof(struct inet_skb_parm),
			       sizeof(struct inet6_skb_parm)));
	skb_set_owner_w(skb, sk);
	xs->stats.segs_out += segs;
	if (payload) {
		xs->stats.data_segs_out += segs;
		xs->stats.bytes_sent += payload;
	}
	XTCP_ADD_STATS(sock_net(sk), XTCP_MIB_OUTSEGS, segs);
	if (segs > 1)
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_OUTGSOSKBS);
	/* The flow hash picks the queue and, over IPv6, the flow label. */
	skb_set_hash_from_sk(skb, sk);
	err = xtcp_queue_xmit(sk, skb, &inet->cork.fl);
	return net_xmit_eval(err);
}

/*
 * An skb with an empty linear area for the headers. Queued segments come
 * from the fclone cache, so that the clone each transmission takes costs
 * no allocation of its own.
 */
static struct sk_buff *xtcp_alloc_skb(struct sock *sk, bool fclone, gfp_t gfp)
{
	struct sk_buff *skb;

	skb = __alloc_skb(MAX_HEADER + XTCP_MAX_HLEN, gfp,
			  fclone ? SKB_ALLOC_FCLONE : 0, NUMA_NO_NODE);
	if (!skb)
		return NULL;
	skb_reserve(skb, MAX_HEADER + XTCP_MAX_HLEN);
	skb->csum = 0;
	skb->ip_summed = CHECKSUM_NONE;
	memset(skb->cb, 0, sizeof(skb->cb));
	return skb;
}

/*
 * net.xtcp.mem: every skb on the write queue is charged its truesize to
 * the socket, scheduled (sk_wmem_schedule()) before it is queued, so that
 * the protocol's memory and the socket's memory cgroup see it. A SYN or
 * FIN must go even when nothing can be scheduled; then it is queued
 * uncharged and marked so, where Linux forces the charge (the helpers
 * that would charge the memory cgroup by force are not exported).
 */
static bool xtcp_wmem_charge(struct sock *sk, struct sk_buff *skb, bool force)
{
	if (sk_wmem_schedule(sk, skb->truesize)) {
		sk_mem_charge(sk, skb->truesize);
		return true;
	}
	XTCP_SKB_CB(skb)->uncharged = force;
	return force;
}

/**
 * xtcp_wmem_free_skb() - free an skb of the write queue, unlinked
 * @sk: the socket
 * @skb: the skb, its charge returned
 *
 * Context: socket locked.
 */
void xtcp_wmem_free_skb(struct sock *sk, struct sk_buff *skb)
{
	sk_wmem_queued_add(sk, -skb->truesize);
	if (!XTCP_SKB_CB(skb)->uncharged)
		sk_mem_uncharge(sk, skb->truesize);
	__kfree_skb(skb);
}

/* Queue a control or data skb at the tail of the write queue. */
static void xtcp_queue_skb(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	__skb_queue_tail(&sk->sk_write_queue, skb);
	sk_wmem_queued_add(sk, skb->truesize);
	if (!xs->send_head)
		xs->send_head = skb;
	xs->write_seq = XTCP_SKB_CB(skb)->end_seq;
}

/**
 * xtcp_alloc_data_skb() - a new data segment for the write queue
 * @sk: the socket
 * @gfp: allocation flags
 *
 * The payload goes into page fragments. If the route sums the segments
 * (xtcp_csum_offload()) the copy need not: the skb is marked
 * CHECKSUM_PARTIAL, else CHECKSUM_NONE and the copy keeps skb->csum.
 * The skb comes charged to the socket (net.xtcp.mem).
 *
 * Context: socket locked.
 * Return: an empty skb, not yet queued, or NULL without memory.
 */
struct sk_buff *xtcp_alloc_data_skb(struct sock *sk, gfp_t gfp)
{
	struct sk_buff *skb;

	skb = xtcp_alloc_skb(sk, true, gfp);
	if (!skb)
		return NULL;
	if (!xtcp_wmem_charge(sk, skb, false)) {
		__kfree_skb(skb);
		return NULL;
	}
	if (xtcp_csum_offload(sk))
		skb->ip_summed = CHECKSUM_PARTIAL;
	XTCP_SKB_CB(skb)->flags = XTCPHDR_ACK;
	return skb;
}

/**
 * xtcp_queue_data_skb() - append a filled data segment to the write queue
 * @sk: the socket
 * @skb: from xtcp_alloc_data_skb(), still empty: sendmsg fills it queued
 *
 * Context: socket locked.
 */
void xtcp_queue_data_skb(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

	cb->seq = xtcp_sk(sk)->write_seq;
	cb->end_seq = cb->seq + skb->len;
	xtcp_queue_skb(sk, skb);
}

static bool xtcp_nagle_holds(const struct sock *sk, const struct sk_buff *skb)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);

	/* RFC 9293 3.7.4 with Minshall's refinement, as Linux: hold back a
	 * small last segment while an earlier small segment is
	 * unacknowledged, unless it carries our FIN; with TCP_CORK or
	 * MSG_MORE, hold it whatever is in flight.
	 */
	return (xs->cork || xs->more ||
		(!xs->nodelay && xs->packets_out &&
		 xtcp_after(xs->snd_sml, xs->snd_una) &&
		 !xtcp_after(xs->snd_sml, xs->snd_nxt))) &&
	       skb->len < xs->mss_cache &&
	       !(XTCP_SKB_CB(skb)->flags & XTCPHDR_FIN) &&
	       skb == skb_peek_tail(&sk->sk_write_queue);
}

/**
 * xtcp_skb_pcount() - the segments a sent skb counts in packets_out
 * @skb: an skb of the write queue, sent (seg_size set)
 * @una: the first byte not acknowledged
 *
 * Its payload from @una on, in pieces of the size it was sent in; at
 * least 1, so that a SYN or a FIN, or an skb whose payload is all
 * acknowledged but its FIN, counts as one segment.
 *
 * Context: socket locked.
 * Return: the count.
 */
u32 xtcp_skb_pcount(const struct sk_buff *skb, u32 una)
{
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	u32 left = skb->len;

	if (xtcp_after(una, cb->seq))
		left -= min(left, una - cb->seq);
	return max_t(u32, DIV_ROUND_UP(left, max_t(u32, cb->seg_size, 1)), 1);
}

/**
 * xtcp_split_skb() - cut an skb of the write queue in two
 * @sk: the socket
 * @skb: the skb, queued
 * @len: payload bytes it keeps, fewer than it has
 *
 * The rest, with the FIN if there is one, moves to a new skb right behind
 * it. A payload sum kept by the copy is taken again for both. An skb in
 * flight may be cut too (a retransmission, a SACK block's edge, the
 * acknowledged part of the head): then both halves count their own
 * segments in packets_out and keep its SACK scoreboard bits.
 *
 * Context: socket locked.
 * Return: 0, -EBUSY for a SYN or FIN sent uncharged, -ENOBUFS without
 * memory.
 */
int xtcp_split_skb(struct sock *sk, struct sk_buff *skb, u32 len)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	u32 rest = skb->len - len;
	struct xtcp_skb_cb *ncb;
	struct sk_buff *nskb;

	if (cb->uncharged)
		return -EBUSY;
	/* A clone of it in flight (a qdisc's, or a receiver's through veth)
	 * shares its fragment list: the cut gets a list of its own first,
	 * the pages staying shared, as Linux's tcp_fragment() does. The new
	 * head, of the old one's size, leaves the charge as it was.
	 */
	if (skb_cloned(skb)) {
		unsigned int truesize = skb->truesize;

		if (pskb_expand_head(skb, 0, 0, sk_gfp_mask(sk, GFP_ATOMIC)))
			return -ENOBUFS;
		skb->truesize = truesize;
	}
	nskb = xtcp_alloc_skb(sk, true, sk_gfp_mask(sk, GFP_ATOMIC));
	if (!nskb)
		return -ENOBUFS;
	/* The payload moves with its charge; the new head needs one. */
	if (!xtcp_wmem_charge(sk, nskb, false)) {
		__kfree_skb(nskb);
		return -ENOBUFS;
	}
	sk_wmem_queued_add(sk, nskb->truesize);
	skb_split(skb, nskb, len);
	skb->truesize -= rest;
	nskb->truesize += rest;
	nskb->ip_summed = skb->ip_summed;
	if (skb->ip_summed == CHECKSUM_NONE) {
		__wsum whole = skb->csum;

		/* The tail's sum is the whole's less the head's, realigned
		 * if the head is odd: no need to read the tail again.
		 */
		skb->csum = skb_checksum(skb, 0, len, 0);
		nskb->csum = csum_shift(csum_sub(whole, skb->csum), len);
	}
	ncb = XTCP_SKB_CB(nskb);
	ncb->seq = cb->seq + len;
	ncb->end_seq = cb->end_seq;
	ncb->flags = cb->flags;
	/* A segment in flight cut for a smaller MSS (xtcp_retransmit_mtu()):
	 * both halves were sent when it was.
	 */
	ncb->when = cb->when;
	ncb->retrans = cb->retrans;
	ncb->seg_size = cb->seg_size;
	/* The SACK scoreboard (sack.c): both halves are what the whole was. */
	ncb->sacked = cb->sacked;
	ncb->lost = cb->lost;
	ncb->rexmit = cb->rexmit;
	if (cb->pcount) {
		struct xtcp_sock *xs = xtcp_sk(sk);

		xs->packets_out -= cb->pcount;
		cb->end_seq = cb->seq + len;
		cb->pcount = xtcp_skb_pcount(skb, xs->snd_una);
		ncb->pcount = xtcp_skb_pcount(nskb, xs->snd_una);
		xs->packets_out += cb->pcount + ncb->pcount;
	}

	cb->end_seq = cb->seq + len;
	/* The FIN and the push, like the end of a record, go with the tail. */
	cb->flags &= ~(XTCPHDR_FIN | XTCPHDR_PSH);
	ncb->eor = cb->eor;
	cb->eor = 0;

	__skb_queue_after(&sk->sk_write_queue, skb, nskb);
	return 0;
}

/*
 * Sender-side silly window avoidance (RFC 9293 3.8.6.2.1): a segment
 * larger than the usable window is cut to fit once the usable window is
 * at least half the largest window the peer ever offered. Without this a
 * peer whose whole buffer is smaller than one of our segments would never
 * get another byte. Returns true if @skb fits now.
 */
static bool xtcp_fit_window(struct sock *sk, struct sk_buff *skb)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u32 usable = xs->snd_una + xs->snd_wnd - XTCP_SKB_CB(skb)->seq;

	if ((s32)usable <= 0 || usable > skb->len ||
	    usable < xs->max_window / 2)
		return false;
	return !xtcp_split_skb(sk, skb, usable);
}

/*
 * Send @skb, the send head, for the first time. A segment the output path
 * refuses (no route, a netfilter or tc drop, no memory for the clone, a
 * packet too big) counts as sent and lost all the same: it stays in
 * flight and the RTO sends it again, with backoff and within the retry
 * limits, as Linux TCP lets its timers resend a SYN whose first
 * transmission failed (tcp_connect()). Left unsent, with nothing in
 * flight, no timer would ever try it again. Returns the transmission's
 * error.
 */
/*
 * RFC 5681 4.1, as Linux's tcp_cwnd_restart(): data sent after an idle
 * time longer than the RTO finds the congestion window halved once per
 * RTO of idleness, down to the initial window; what the path carried
 * before may no longer hold.
 */
static void xtcp_cwnd_restart(struct xtcp_sock *xs)
{
	long idle = jiffies - xs->lsndtime;
	u32 cwnd = xs->cwnd;

	if (xs->packets_out || idle <= (long)xs->rto || cwnd <= XTCP_INIT_CWND)
		return;
	/* Remember where the window was, as slow start's goal. */
	xs->ssthresh = max(xs->ssthresh, cwnd / 4 * 3);
	while ((idle -= xs->rto) > 0 && cwnd > XTCP_INIT_CWND)
		cwnd >>= 1;
	xs->cwnd = max_t(u32, cwnd, XTCP_INIT_CWND);
	xs->cwnd_cnt = 0;
}

/*
 * After a round of sending, as Linux's tcp_cwnd_validate(): note whether
 * the congestion window was what stopped it, and the most segments in
 * flight, for a round (until what was sent then is acknowledged).
 */
static void xtcp_cwnd_validate(struct xtcp_sock *xs, bool limited)
{
	if (!xtcp_before(xs->snd_una, xs->cwnd_usage_seq) || limited ||
	    (!xs->cwnd_limited && xs->packets_out > xs->max_packets_out)) {
		xs->cwnd_limited = limited;
		xs->max_packets_out = xs->packets_out;
		xs->cwnd_usage_seq = xs->snd_nxt;
	}
}

static int xtcp_xmit_new(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_sock *xs = xtcp_sk(sk);
	int err;

	if (skb->len)
		xtcp_cwnd_restart(xs);
	cb->seg_size = xs->mss_cache;
	cb->pcount = xtcp_skb_pcount(skb, cb->seq);
	err = xtcp_transmit_skb(sk, skb, true, sk_gfp_mask(sk, GFP_ATOMIC));
	cb->when = jiffies;
	if (skb->len)
		xs->lsndtime = jiffies;
	xs->snd_nxt = cb->end_seq;
	/* Minshall: its last segment was a small one. */
	if (skb->len < cb->pcount * xs->mss_cache)
		xs->snd_sml = cb->end_seq;
	xs->packets_out += cb->pcount;
	xs->send_head = skb_queue_is_last(&sk->sk_write_queue, skb) ?
			NULL : skb->next;
	xtcp_timers_data_sent(sk);
	return err;
}

/*
 * The route's MTU is no longer the one the send MSS was computed from: a
 * path MTU learnt from ICMP expired (net.ipv4.route.mtu_expires), or
 * another connection's ICMP or a route change lowered it. The MSS
 * follows, as Linux's tcp_current_mss() has it follow; segments already
 * in flight are cut only if they must go again.
 */
static void xtcp_check_pmtu(struct sock *sk)
{
	const struct dst_entry *dst = __sk_dst_get(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!dst || dst_mtu(dst) == xs->pmtu_cookie || !xs->mss_clamp ||
	    (1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV |
				   TCPF_CLOSE | TCPF_LISTEN))
		return;
	xtcp_sync_mss(sk, xs->mss_clamp);
}

/*
 * GSO on every route, as TCP has it: sk_setup_caps() keeps segmentation
 * offload on for IPPROTO_TCP whatever the device offers ("ethtool -K
 * gso off", or no NETIF_F_GSO_SCTP), because a device that cannot take a
 * GSO skb cuts it in software at its door (validate_xmit_skb(), through
 * offload.c), which costs less than every segment crossing IP, netfilter
 * and the qdisc on its own. Other protocols get only what the device
 * offers; xtcp takes TCP's treatment here, after each sk_setup_caps()
 * (connect(), a new child, a route looked up again by ip_queue_xmit()).
 * An IPsec route (header_len) keeps one segment per skb, as TCP's does
 * without xfrm offload.
 */
static void xtcp_gso_always(struct sock *sk)
{
	const struct dst_entry *dst = __sk_dst_get(sk);

	if (!dst || !dst->dev || dst->header_len)
		return;
	sk->sk_route_caps |= NETIF_F_GSO | NETIF_F_GSO_SOFTWARE;
	sk->sk_gso_max_size = min_t(u32, READ_ONCE(dst->dev->gso_max_size),
				    GSO_LEGACY_MAX_SIZE) - (MAX_TCP_HEADER + 1);
	sk->sk_gso_max_segs = max_t(u32, READ_ONCE(dst->dev->gso_max_segs), 1);
}

/*
 * The most segments one skb may carry on the socket's route: 1 unless
 * net.xtcp.gso is on, then as many as fit in the device's GSO size with
 * room for the headers, as Linux's tcp_tso_autosize() bounds them: the
 * device takes the skb whole or it is cut in software before it
 * (xtcp_gso_always()).
 */
static u32 xtcp_gso_max_segs(struct sock *sk)
{
	u32 mss = xtcp_sk(sk)->mss_cache;
	u32 size;

	if (!xtcp_knob(sock_net(sk), XTCP_KNOB_GSO) ||
	    sk->sk_gso_type != SKB_GSO_SCTP)
		return 1;
	if (!sk_can_gso(sk))
		xtcp_gso_always(sk);
	size = READ_ONCE(sk->sk_gso_max_size);
	if (!sk_can_gso(sk) || size <= MAX_TCP_HEADER + mss)
		return 1;
	return clamp_t(u32, (size - MAX_TCP_HEADER) / mss, 1,
		       READ_ONCE(sk->sk_gso_max_segs));
}

/*
 * How much of @skb, the send head, leaves as one skb now: whole segments
 * within the congestion window (@cwnd) and the send window, at most
 * @max_segs of them, as Linux's tcp_mss_split_point(). A window smaller
 * than one segment is the caller's (xtcp_fit_window()). The small last
 * segment of the queue's tail goes on its own, so that Nagle
 * (xtcp_nagle_holds()) sees it as it would without offload.
 */
static u32 xtcp_send_limit(struct sock *sk, const struct sk_buff *skb,
			   u32 cwnd, u32 max_segs, bool force_push)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u32 mss = xs->mss_cache, limit, room;

	limit = min(cwnd - xtcp_packets_in_flight(xs), max_segs) * mss;
	room = xs->snd_una + xs->snd_wnd - XTCP_SKB_CB(skb)->seq;
	if ((s32)room > 0 && room < limit)
		limit = max(rounddown(room, mss), mss);
	if (limit >= skb->len && skb->len % mss && !force_push &&
	    skb == skb_peek_tail(&sk->sk_write_queue))
		limit = rounddown(skb->len, mss);
	return limit;
}

/**
 * xtcp_write_xmit() - send what the windows allow
 * @sk: the socket
 * @force_push: ignore Nagle (the caller has no more data coming)
 *
 * Context: socket locked.
 */
void xtcp_write_xmit(struct sock *sk, bool force_push)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	bool sent = false, limited = false;
	struct sk_buff *skb;
	u32 cwnd = xs->cwnd;
	u32 max_segs;

	xtcp_check_pmtu(sk);
	max_segs = xtcp_gso_max_segs(sk);
	/* RFC 3042 limited transmit: each of the first two duplicate ACKs
	 * lets one new segment out, so that a small window can still
	 * produce the duplicates fast retransmit needs.
	 */
	if (!xs->in_recovery)
		cwnd += min_t(u32, xs->dup_acks, 2);

	while ((skb = xs->send_head)) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

		if (xtcp_packets_in_flight(xs) >= cwnd) {
			limited = true;
			break;
		}
		/* What the windows allow from a large skb, in one skb.
		 * Without memory for the cut, the persist timer tries again
		 * if nothing else will.
		 */
		if (skb->len > xs->mss_cache) {
			u32 limit = xtcp_send_limit(sk, skb, cwnd, max_segs,
						    force_push);

			if (skb->len > limit &&
			    xtcp_split_skb(sk, skb, limit)) {
				xtcp_timers_window_closed(sk);
				break;
			}
		}
		if (xtcp_after(cb->end_seq, xs->snd_una + xs->snd_wnd) &&
		    !(cb->flags & XTCPHDR_SYN) && !xtcp_fit_window(sk, skb)) {
			xtcp_timers_window_closed(sk);
			break;
		}
		if (!force_push && xtcp_nagle_holds(sk, skb)) {
			/* Corked with nothing in flight: as Linux, the
			 * persist timer sends it after one RTO at most.
			 */
			if (xs->cork || xs->more)
				xtcp_timers_window_closed(sk);
			break;
		}

		/* After a failure, leave the rest to the RTO. */
		sent = true;
		if (xtcp_xmit_new(sk, skb))
			break;
	}
	if (sent || limited)
		xtcp_cwnd_validate(xs, limited);
}

/**
 * xtcp_write_wakeup() - a persist probe: as much new data as the window
 *	takes, else a zero-window probe
 * @sk: a synchronized socket with data waiting for the window
 *
 * A window that is open but smaller than the next segment, and too small
 * for the sender-side silly window rule to cut the segment to it
 * (xtcp_fit_window()), lets nothing out, and the peer may never offer
 * more. RFC 9293 3.8.6.1 has the sender probe it with new data, as
 * Linux's tcp_write_wakeup() sends min(window, MSS) bytes: the segment is
 * cut to the window and sent. It is then in flight like any other:
 * retransmitted on timeout with backoff, and given up after retries2.
 * Only a zero window gets the probe without data (RFC 9293 3.8.4).
 *
 * Context: socket locked.
 * Return: true if new data left.
 */
bool xtcp_write_wakeup(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb = xs->send_head;
	u32 usable;

	if (skb && !(XTCP_SKB_CB(skb)->flags & XTCPHDR_SYN)) {
		usable = xs->snd_una + xs->snd_wnd - XTCP_SKB_CB(skb)->seq;
		if ((s32)usable > 0)
			usable = min(usable, xs->mss_cache);
		if ((s32)usable > 0 &&
		    (usable >= skb->len || !xtcp_split_skb(sk, skb, usable))) {
			xtcp_xmit_new(sk, skb);
			return true;
		}
	}
	xtcp_send_probe(sk);
	return false;
}

/**
 * xtcp_retransmit_skb() - send a segment in flight again
 * @sk: the socket
 * @skb: the segment, in the write queue before the send head
 *
 * One segment, of the size it was sent in or of the send MSS if that fell
 * since (xtcp_v4_mtu_reduced()), as Linux's tcp_retransmit_skb(): an skb
 * of several segments, or one larger than the MSS now, is cut first (a
 * clone of it still held keeps the whole, xtcp_split_skb()). Without
 * memory for the cut it goes whole, as a GSO skb of segments of the MSS
 * now: where the route cannot take it, the stack cuts it in software
 * (offload.c).
 *
 * Context: socket locked.
 * Return: 0 or -errno from the transmission.
 */
int xtcp_retransmit_skb(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 mss = xs->mss_cache;
	int err;

	/* Its first segment as it was sent, unless the MSS fell since. */
	if (cb->seg_size && cb->seg_size < mss)
		mss = cb->seg_size;
	if (skb->len > mss && xtcp_split_skb(sk, skb, mss) &&
	    cb->seg_size != mss) {
		xs->packets_out -= cb->pcount;
		cb->seg_size = mss;
		cb->pcount = xtcp_skb_pcount(skb, xs->snd_una);
		xs->packets_out += cb->pcount;
	}
	err = xtcp_transmit_skb(sk, skb, true, GFP_ATOMIC);
	if (err)
		return err;
	/* TCP_USER_TIMEOUT counts from the first transmission. */
	if (!xs->retrans_stamp)
		xs->retrans_stamp = XTCP_SKB_CB(skb)->when ?: 1;
	xs->stats.bytes_retrans += skb->len;
	XTCP_SKB_CB(skb)->retrans = 1;
	XTCP_SKB_CB(skb)->when = jiffies;
	xs->total_retrans++;
	XTCP_ADD_STATS(sock_net(sk), XTCP_MIB_RETRANSSEGS,
		       skb_shinfo(skb)->gso_segs ?: 1);
	trace_xtcp_retransmit(sk, XTCP_SKB_CB(skb)->seq);
	return 0;
}

/**
 * xtcp_trim_acked() - cut the acknowledged part off the write queue's head
 * @sk: the socket
 *
 * The head of the write queue may be an skb of several segments of which
 * the first were acknowledged (xtcp_clean_write_queue() frees only whole
 * skbs): what was acknowledged is cut off and freed, so that a
 * retransmission starts at snd_una. Without memory for the cut the skb
 * goes whole, what the peer has included.
 *
 * Context: socket locked.
 * Return: the head of the write queue, NULL if it is empty.
 */
struct sk_buff *xtcp_trim_acked(struct sock *sk)
{
	struct sk_buff *skb = skb_peek(&sk->sk_write_queue);
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 acked;

	if (!skb || skb == xs->send_head ||
	    !xtcp_after(xs->snd_una, XTCP_SKB_CB(skb)->seq))
		return skb;
	acked = xs->snd_una - XTCP_SKB_CB(skb)->seq;
	if (acked >= skb->len || xtcp_split_skb(sk, skb, acked))
		return skb;
	xs->packets_out -= XTCP_SKB_CB(skb)->pcount;
	__skb_unlink(skb, &sk->sk_write_queue);
	xtcp_wmem_free_skb(sk, skb);
	return skb_peek(&sk->sk_write_queue);
}

/**
 * xtcp_retransmit_head() - send the oldest unacknowledged segment again
 * @sk: the socket
 *
 * Context: socket locked.
 * Return: 0 or -errno from the transmission.
 */
int xtcp_retransmit_head(struct sock *sk)
{
	struct sk_buff *skb = xtcp_trim_acked(sk);

	if (!skb || skb == xtcp_sk(sk)->send_head)
		return 0;
	return xtcp_retransmit_skb(sk, skb);
}

/**
 * xtcp_retransmit_mtu() - the send MSS fell: resend what was too large
 * @sk: a synchronized socket, its mss_cache just lowered
 *
 * Every segment in flight larger than the new MSS was dropped on the way
 * (RFC 1191: a router said so). Each goes again at once, cut to the MSS
 * (xtcp_retransmit_skb()), as many pieces as the congestion window holds,
 * as Linux's tcp_simple_retransmit() does; segments that were small
 * enough are not resent. The congestion window and ssthresh stay: this is
 * no sign of congestion. What the window does not cover is left to the
 * ACKs and the retransmission timer, which cut it in turn. The work is
 * bounded by the congestion window.
 *
 * Context: socket locked.
 */
void xtcp_retransmit_mtu(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 mss = xs->mss_cache, end = xs->snd_una, sent = 0;
	struct sk_buff *skb;

	xtcp_trim_acked(sk);
	skb_queue_walk(&sk->sk_write_queue, skb) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

		if (skb == xs->send_head || sent >= xs->cwnd)
			break;
		/* Its segments too large, or a piece of one cut here. */
		if (min_t(u32, skb->len, cb->seg_size ?: skb->len) > mss)
			end = cb->end_seq;
		else if (!xtcp_before(cb->seq, end))
			continue;
		if (xtcp_retransmit_skb(sk, skb))
			break;
		sent += cb->pcount;
	}
}

/**
 * xtcp_queue_syn() - queue our SYN or SYN-ACK, not yet sent
 * @sk: the socket in SYN_SENT or SYN_RCVD
 *
 * The SYN sits in the write queue like data, so that the retransmit
 * timer resends it and the ACK of it frees it. xtcp_write_xmit() sends it.
 *
 * Context: socket locked.
 * Return: 0 or -ENOBUFS.
 */
int xtcp_queue_syn(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_skb_cb *cb;
	struct sk_buff *skb;

	skb = xtcp_alloc_skb(sk, true, sk_gfp_mask(sk, GFP_ATOMIC));
	if (!skb)
		return -ENOBUFS;
	cb = XTCP_SKB_CB(skb);
	cb->seq = xs->iss;
	cb->end_seq = xs->iss + 1;
	cb->flags = XTCPHDR_SYN;
	if (sk->sk_state == TCP_SYN_RECV)
		cb->flags |= XTCPHDR_ACK;
	xs->snd_una = xs->iss;
	xs->snd_nxt = xs->iss;
	xs->write_seq = xs->iss;
	xtcp_wmem_charge(sk, skb, true);
	xtcp_queue_skb(sk, skb);
	return 0;
}

/**
 * xtcp_send_syn() - queue and send our SYN or SYN-ACK
 * @sk: the socket in SYN_SENT or SYN_RCVD
 *
 * Context: socket locked.
 * Return: 0 or -ENOBUFS.
 */
int xtcp_send_syn(struct sock *sk)
{
	int err = xtcp_queue_syn(sk);

	if (!err)
		xtcp_write_xmit(sk, true);
	return err;
}

/**
 * xtcp_write_queue_purge() - free the whole write queue
 * @sk: the socket
 *
 * Context: socket locked, or not yet visible to anybody.
 */
void xtcp_write_queue_purge(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(&sk->sk_write_queue)))
		xtcp_wmem_free_skb(sk, skb);
	xs->send_head = NULL;
	xs->packets_out = 0;
	xtcp_sack_clear_scoreboard(sk);
}

/**
 * xtcp_send_fin() - queue our FIN after any data and send what we can
 * @sk: the socket
 *
 * Context: socket locked.
 */
void xtcp_send_fin(struct sock *sk)
{
	struct sk_buff *tail = skb_peek_tail(&sk->sk_write_queue);
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->fin_queued)
		return;
	xs->fin_queued = 1;

	if (tail && xs->send_head && !(XTCP_SKB_CB(tail)->flags &
				       XTCPHDR_SYN)) {
		/* Ride on the last unsent data segment. */
		XTCP_SKB_CB(tail)->flags |= XTCPHDR_FIN;
		XTCP_SKB_CB(tail)->end_seq++;
		xs->write_seq++;
	} else {
		struct sk_buff *skb;

		/* The FIN must be sent: wait for memory as TCP does. */
		skb = xtcp_alloc_skb(sk, true, sk->sk_allocation | __GFP_NOFAIL);
		XTCP_SKB_CB(skb)->seq = xs->write_seq;
		XTCP_SKB_CB(skb)->end_seq = xs->write_seq + 1;
		XTCP_SKB_CB(skb)->flags = XTCPHDR_FIN | XTCPHDR_ACK;
		xtcp_wmem_charge(sk, skb, true);
		xtcp_queue_skb(sk, skb);
	}
	xtcp_write_xmit(sk, true);
}

/**
 * xtcp_send_ack() - send a pure ACK now
 * @sk: a synchronized socket
 *
 * Context: socket locked.
 */
void xtcp_send_ack(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	if (sk->sk_state == TCP_CLOSE || sk->sk_state == TCP_LISTEN)
		return;
	skb = xtcp_alloc_skb(sk, false, GFP_ATOMIC);
	if (!skb) {
		/* Try again from the delayed ACK timer. */
		xtcp_timers_ack_owed(sk, true);
		return;
	}
	XTCP_SKB_CB(skb)->seq = xs->snd_nxt;
	XTCP_SKB_CB(skb)->flags = XTCPHDR_ACK;
	xtcp_transmit_skb(sk, skb, false, GFP_ATOMIC);
}

/**
 * xtcp_send_probe() - keepalive or zero-window probe
 * @sk: a synchronized socket
 *
 * An ACK with seq = snd_una - 1 (RFC 9293 3.8.4): old data, so the peer
 * must answer it with an ACK carrying its current window.
 *
 * Context: socket locked.
 */
void xtcp_send_probe(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	skb = xtcp_alloc_skb(sk, false, GFP_ATOMIC);
	if (!skb)
		return;
	XTCP_SKB_CB(skb)->seq = xs->snd_una - 1;
	XTCP_SKB_CB(skb)->flags = XTCPHDR_ACK;
	xtcp_transmit_skb(sk, skb, false, GFP_ATOMIC);
}

/**
 * xtcp_send_active_reset() - abort: send RST for a synchronized socket
 * @sk: the socket
 * @gfp: allocation flags
 *
 * Context: socket locked.
 */
void xtcp_send_active_reset(struct sock *sk, gfp_t gfp)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	skb = xtcp_alloc_skb(sk, false, gfp);
	if (!skb)
		return;
	XTCP_SKB_CB(skb)->seq = xs->snd_nxt;
	XTCP_SKB_CB(skb)->flags = XTCPHDR_RST | XTCPHDR_ACK;
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_OUTRSTS);
	trace_xtcp_send_reset(sk);
	xtcp_transmit_skb(sk, skb, false, gfp);
}
