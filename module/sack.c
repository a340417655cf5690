// SPDX-License-Identifier: GPL-2.0
/*
 * Selective acknowledgment (RFC 2018) and the loss recovery built on it
 * (RFC 6675), negotiated per connection with net.xtcp.sack.
 *
 * Receiver: the blocks we send describe the out-of-order queue, the block
 * holding the most recently received segment first, then the blocks most
 * recently reported (RFC 2018 section 4), as Linux keeps them in
 * tcp_sack_new_ofo_skb(). At most XTCP_NUM_SACKS are kept; each segment
 * carries as many as its option space allows.
 *
 * Sender: a scoreboard of bits per skb in flight (@sacked, @lost and
 * @rexmit in the skb control block). An skb sent with segmentation
 * offload carries several segments (@pcount of them); a SACK block that
 * covers some of its segments but not all cuts it at the block's edges,
 * on segment boundaries, as Linux's tcp_sacktag_walk() cuts with
 * tcp_fragment(), so that every skb is SACKed whole or not at all, and
 * the counts (sacked_out, lost_out, retrans_out) are in segments, as
 * packets_out is. A segment counts as SACKed only if a block covers it
 * whole, as RFC 6675 section 4 allows. A segment is lost once
 * XTCP_DUPTHRESH segments above it are SACKed (IsLost()); the pipe is
 * xtcp_packets_in_flight(). A retransmission is one segment, cut off the
 * lost skb (xtcp_retransmit_skb()), the rest staying lost. Recovery starts on
 * the third duplicate ACK or when the first unacknowledged segment is
 * lost, and retransmits lost segments, lowest first, while the pipe is
 * below the congestion window (NextSeg() rule 1); new data (rule 2) is
 * left to xtcp_write_xmit(), which counts the same pipe.
 *
 * The cost of an ACK is bounded whatever its options say: only the first
 * SACK option of a segment is read, and its length allows four blocks; a
 * block must lie within SND.UNA..SND.NXT or it is ignored (SackDiscard);
 * the blocks are then sorted and matched against the segments in flight
 * in one walk. Each ACK thus costs at most a few walks of the segments in
 * flight, which the congestion and send windows bound, as Linux's
 * tcp_sacktag_write_queue() walks its queue once per ACK. D-SACK blocks
 * (RFC 2883) are recognised, counted and otherwise ignored; we send none.
 *
 * After a retransmission timeout the scoreboard is cleared (RFC 2018
 * section 8: the receiver may have discarded what it SACKed), and the
 * recovery that follows is the NewReno-style one of a connection without
 * SACK.
 */

#include <linux/skbuff.h>
#include <linux/sort.h>
#include <net/tcp.h>

#include "xtcp.h"

/* RFC 6675 DupThresh: SACKed segments above a hole that make it lost. */
#define XTCP_DUPTHRESH	3

/* Do the two ranges overlap or touch? */
static bool xtcp_sack_touches(const struct xtcp_sack_block *sp, u32 seq,
			      u32 end_seq)
{
	return !xtcp_after(sp->start_seq, end_seq) &&
	       !xtcp_after(seq, sp->end_seq);
}

/**
 * xtcp_sack_new_ofo() - a segment was queued out of order
 * @sk: the socket, SACK negotiated or not
 * @seq: its first sequence number
 * @end_seq: the one after its last
 *
 * The block that now holds the segment goes first: blocks it reaches are
 * merged into it, the others follow in the order they were reported, and
 * the oldest falls off when there are more than XTCP_NUM_SACKS.
 *
 * Context: socket locked.
 */
void xtcp_sack_new_ofo(struct sock *sk, u32 seq, u32 end_seq)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_sack_block *sp = xs->selective_acks;
	struct xtcp_sack_block cur = { seq, end_seq };
	bool merged;
	int i, n;

	if (!xs->sack_ok)
		return;
	n = xs->num_sacks;
	do {
		merged = false;
		for (i = 0; i < n; i++) {
			if (!xtcp_sack_touches(&sp[i], cur.start_seq,
					       cur.end_seq))
				continue;
			if (xtcp_before(sp[i].start_seq, cur.start_seq))
				cur.start_seq = sp[i].start_seq;
			if (xtcp_after(sp[i].end_seq, cur.end_seq))
				cur.end_seq = sp[i].end_seq;
			memmove(&sp[i], &sp[i + 1], (n - i - 1) * sizeof(*sp));
			n--;
			merged = true;
			break;
		}
	} while (merged);

	n = min(n, XTCP_NUM_SACKS - 1);
	memmove(&sp[1], &sp[0], n * sizeof(*sp));
	sp[0] = cur;
	xs->num_sacks = n + 1;
}

/**
 * xtcp_sack_remove() - drop the blocks RCV.NXT has reached
 * @sk: the socket
 *
 * After in-order data, and after the out-of-order queue lost segments to
 * a prune or a purge: what it no longer holds must not be reported.
 *
 * Context: socket locked.
 */
void xtcp_sack_remove(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_sack_block *sp = xs->selective_acks;
	int i = 0, n = xs->num_sacks;

	if (RB_EMPTY_ROOT(&xs->out_of_order_queue)) {
		xs->num_sacks = 0;
		return;
	}
	while (i < n) {
		if (xtcp_after(sp[i].start_seq, xs->rcv_nxt)) {
			i++;
			continue;
		}
		memmove(&sp[i], &sp[i + 1], (n - i - 1) * sizeof(*sp));
		n--;
	}
	xs->num_sacks = n;
}

/**
 * xtcp_sack_blocks_to_send() - how many SACK blocks a segment carries
 * @sk: the socket
 * @opts: the segment's other options
 * @payload: its payload bytes
 *
 * As many as the option space holds (four, three beside timestamps); a
 * segment with data takes only those that keep it within the MSS, as
 * Linux's tcp_current_mss() shrinks the payload instead.
 *
 * Context: socket locked.
 * Return: the number of blocks.
 */
u8 xtcp_sack_blocks_to_send(const struct sock *sk,
			    const struct xtcp_opts *opts, u32 payload)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u32 n;

	if (!xs->sack_ok || !xs->num_sacks)
		return 0;
	n = min_t(u32, xs->num_sacks, xtcp_sack_room(opts));
	while (n && payload && payload + TCPOLEN_SACK_BASE_ALIGNED +
	       n * TCPOLEN_SACK_PERBLOCK > xs->mss_cache)
		n--;
	return n;
}

static int xtcp_sack_cmp(const void *a, const void *b)
{
	const struct xtcp_sack_block *x = a, *y = b;

	if (x->start_seq == y->start_seq)
		return 0;
	return xtcp_before(x->start_seq, y->start_seq) ? -1 : 1;
}

/*
 * The valid blocks of @skb's SACK option into @sp, sorted by sequence.
 * RFC 2883 section 4: a first block below the ACK, or inside the second,
 * reports a duplicate (D-SACK). A block must cover SND.UNA..SND.NXT
 * only: anything else is a broken or hostile peer's.
 */
static int xtcp_sack_read(struct sock *sk, const struct sk_buff *skb,
			  const struct xtcp_opts *opts,
			  struct xtcp_sack_block *sp)
{
	const u8 *ptr = (const u8 *)tcp_hdr(skb) + opts->sack_off;
	int n = (ptr[1] - TCPOLEN_SACK_BASE) / TCPOLEN_SACK_PERBLOCK;
	u32 ack = XTCP_SKB_CB(skb)->ack_seq;
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	int i, used = 0;

	ptr += TCPOLEN_SACK_BASE;
	for (i = 0; i < n; i++, ptr += TCPOLEN_SACK_PERBLOCK) {
		u32 start = get_unaligned_be32(ptr);
		u32 end = get_unaligned_be32(ptr + 4);

		if (!i && (xtcp_before(start, ack) ||
			   (n > 1 &&
			    !xtcp_before(start, get_unaligned_be32(ptr + 8)) &&
			    !xtcp_after(end, get_unaligned_be32(ptr + 12))))) {
			XTCP_INC_STATS(net, XTCP_MIB_DSACKRECV);
			continue;
		}
		if (!xtcp_after(end, start) || xtcp_before(start, xs->snd_una) ||
		    xtcp_after(end, xs->snd_nxt)) {
			XTCP_INC_STATS(net, XTCP_MIB_SACKDISCARD);
			continue;
		}
		sp[used].start_seq = start;
		sp[used].end_seq = end;
		used++;
	}
	sort(sp, used, sizeof(*sp), xtcp_sack_cmp, NULL);
	return used;
}

/*
 * Does @sp cover whole segments of @skb, in flight and not SACKed? If it
 * covers all of them, yes; if only some, @skb is cut at the block's edge
 * on a segment boundary: when the block starts inside it, the head
 * (before the block) stays as it is and the tail is looked at next; when
 * the block ends inside it, the head is covered. Without memory for the
 * cut, nothing is SACKed: the pipe counts it as in flight a while longer.
 */
static bool xtcp_sack_covers(struct sock *sk, struct sk_buff *skb,
			     const struct xtcp_sack_block *sp)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	u32 seg = cb->seg_size, cut;

	if (xtcp_after(sp->start_seq, cb->seq)) {
		if (cb->pcount < 2 || !seg)
			return false;
		cut = roundup(sp->start_seq - cb->seq, seg);
		if (cut < skb->len)
			xtcp_split_skb(sk, skb, cut);
		return false;
	}
	if (!xtcp_after(cb->end_seq, sp->end_seq))
		return true;
	if (cb->pcount < 2 || !seg)
		return false;
	cut = rounddown(sp->end_seq - cb->seq, seg);
	return cut && cut < skb->len && !xtcp_split_skb(sk, skb, cut);
}

/*
 * Mark the skbs in flight the blocks cover whole, cutting those they
 * cover in part; how many segments were newly SACKed.
 */
static u32 xtcp_sack_tag(struct sock *sk, const struct xtcp_sack_block *sp,
			 int used)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;
	u32 newly = 0;
	int j = 0, k;

	skb_queue_walk(&sk->sk_write_queue, skb) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

		if (skb == xs->send_head)
			break;
		/* Sorted by start: a block ending here covers nothing on. */
		while (j < used && !xtcp_after(sp[j].end_seq, cb->seq))
			j++;
		if (j == used)
			break;
		if (cb->sacked)
			continue;
		for (k = j; k < used && xtcp_before(sp[k].start_seq,
						    cb->end_seq); k++) {
			if (!xtcp_sack_covers(sk, skb, &sp[k]))
				continue;
			cb->sacked = 1;
			cb->lost = 0;
			cb->rexmit = 0;
			newly += cb->pcount;
			break;
		}
	}
	return newly;
}

/*
 * Count the scoreboard again, in segments, from the highest skb sent
 * down, and mark lost each skb with XTCP_DUPTHRESH SACKed segments above
 * it (RFC 6675 IsLost()). Returns the lost segments not yet
 * retransmitted.
 */
static u32 xtcp_sack_mark_lost(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 sacked = 0, lost = 0, retrans = 0, todo = 0;
	struct sk_buff *skb;

	/* The send head's predecessor is the list head when none was sent. */
	skb = xs->send_head ? xs->send_head->prev :
			      (struct sk_buff *)sk->sk_write_queue.prev;
	for (; skb != (struct sk_buff *)&sk->sk_write_queue; skb = skb->prev) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

		if (cb->sacked) {
			sacked += cb->pcount;
			continue;
		}
		if (sacked >= XTCP_DUPTHRESH)
			cb->lost = 1;
		if (!cb->lost)
			continue;
		lost += cb->pcount;
		if (cb->rexmit)
			retrans += cb->pcount;
		else
			todo += cb->pcount;
	}
	xs->sacked_out = sacked;
	xs->lost_out = lost;
	xs->retrans_out = retrans;
	return todo;
}

/*
 * NextSeg() rule 1 (RFC 6675 section 4): retransmit lost segments, lowest
 * first, while the pipe is below the congestion window; the first of them
 * whatever the pipe if @force (section 5 step 4.3). Each is one segment,
 * cut off its skb; the rest, still lost, comes next.
 */
static void xtcp_sack_retransmit(struct sock *sk, u32 todo, bool force)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	/* A retransmission of the head starts at SND.UNA. */
	xtcp_trim_acked(sk);
	skb_queue_walk(&sk->sk_write_queue, skb) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

		if (skb == xs->send_head || !todo)
			break;
		if (!cb->lost || cb->sacked || cb->rexmit)
			continue;
		if (!force && xtcp_packets_in_flight(xs) >= xs->cwnd)
			break;
		force = false;
		if (xtcp_retransmit_skb(sk, skb))
			break;
		todo -= min_t(u32, todo, cb->pcount);
		cb->rexmit = 1;
		xs->retrans_out += cb->pcount;
		XTCP_ADD_STATS(sock_net(sk), XTCP_MIB_SACKRETRANS, cb->pcount);
	}
}

/* Mark the first unacknowledged segment lost, unless SACKed. */
static void xtcp_sack_head_lost(struct sock *sk)
{
	struct sk_buff *skb = skb_peek(&sk->sk_write_queue);

	if (skb && skb != xtcp_sk(sk)->send_head &&
	    !XTCP_SKB_CB(skb)->sacked)
		XTCP_SKB_CB(skb)->lost = 1;
}

/**
 * xtcp_sack_ack() - the SACK part of an acceptable ACK
 * @sk: a synchronized socket with SACK negotiated
 * @skb: the segment, its cumulative ACK processed (SND.UNA moved)
 * @opts: its options
 * @prior_una: SND.UNA before the segment
 * @dupthresh: 0, or the segment is a duplicate ACK (RFC 5681) and this
 *	many of them start a recovery (three, fewer for RFC 5827 early
 *	retransmit); it counts only if it SACKs new data (RFC 6675
 *	section 2)
 *
 * Takes the blocks into the scoreboard, starts RFC 6675 loss recovery
 * (section 5) when a loss shows and none is in progress, and during it
 * retransmits what the pipe allows. The caller ends the recovery on the
 * ACK of RecoveryPoint (@high_seq).
 *
 * Context: socket locked.
 */
void xtcp_sack_ack(struct sock *sk, const struct sk_buff *skb,
		   const struct xtcp_opts *opts, u32 prior_una, u32 dupthresh)
{
	struct xtcp_sack_block sp[XTCP_NUM_SACKS];
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 newly = 0, todo;
	int used = 0;

	if (opts->sack_off)
		used = xtcp_sack_read(sk, skb, opts, sp);
	if (used)
		newly = xtcp_sack_tag(sk, sp, used);
	if (!newly && !xs->sacked_out && !xs->lost_out && !xs->retrans_out &&
	    !xs->sack_recovery)
		return;
	if (dupthresh && newly && xs->dup_acks < U8_MAX)
		xs->dup_acks++;

	/* A partial ACK in recovery: the new first segment was lost too. */
	if (xs->sack_recovery && xtcp_after(xs->snd_una, prior_una))
		xtcp_sack_head_lost(sk);
	todo = xtcp_sack_mark_lost(sk);

	if (!xs->in_recovery) {
		struct sk_buff *head = skb_peek(&sk->sk_write_queue);

		if (!head || head == xs->send_head ||
		    ((!dupthresh || xs->dup_acks < dupthresh) &&
		     !XTCP_SKB_CB(head)->lost))
			return;
		/* RFC 6675 section 5 steps 4.1 and 4.2. */
		xs->high_seq = xs->snd_nxt;
		xs->ssthresh = max(xs->packets_out / 2, 2U);
		xs->cwnd = xs->ssthresh;
		xs->cwnd_cnt = 0;
		xs->in_recovery = 1;
		xs->sack_recovery = 1;
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_SACKRECOVERY);
		if (!XTCP_SKB_CB(head)->lost) {
			xtcp_sack_head_lost(sk);
			todo = xtcp_sack_mark_lost(sk);
		}
		xtcp_sack_retransmit(sk, todo, true);
		return;
	}
	if (xs->sack_recovery)
		xtcp_sack_retransmit(sk, todo, false);
}

/**
 * xtcp_sack_clear_scoreboard() - forget what the peer SACKed
 * @sk: the socket
 *
 * On a retransmission timeout (RFC 2018 section 8) and when the write
 * queue is purged; the recovery in progress, if any, is no longer
 * RFC 6675's.
 *
 * Context: socket locked.
 */
void xtcp_sack_clear_scoreboard(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	if (xs->sacked_out || xs->lost_out || xs->retrans_out ||
	    xs->sack_recovery)
		skb_queue_walk(&sk->sk_write_queue, skb) {
			struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

			if (skb == xs->send_head)
				break;
			cb->sacked = 0;
			cb->lost = 0;
			cb->rexmit = 0;
		}
	xs->sacked_out = 0;
	xs->lost_out = 0;
	xs->retrans_out = 0;
	xs->sack_recovery = 0;
}
