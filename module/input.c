// SPDX-License-Identifier: GPL-2.0
/*
 * Receive path: validation, lookup and per-state segment processing,
 * following the event processing of RFC 9293 section 3.10.7 step by step.
 *
 * Every segment is validated before any lookup: length, data offset,
 * checksum, flag combinations and options. A malformed segment is dropped
 * and counted (InErrs, InCsumErrors) and never reaches a socket.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <net/checksum.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/tcp.h>
#include <net/xfrm.h>

#include "xtcp.h"
#include "trace.h"

/**
 * xtcp_oow_rate_limited() - may we answer a segment that does not belong?
 * @net: namespace
 * @last: when the socket or TIME_WAIT entry last answered one, in
 *	jiffies, 0 for never; updated when the answer may go
 * @mib: counter of answers skipped
 *
 * At most one answer per net.xtcp.invalid_ratelimit ms to segments out of
 * window, failing PAWS, RFC 5961 challenges, a SYN repeated in SYN_RCVD
 * and what reaches a TIME_WAIT entry, per socket or entry, as Linux's
 * tcp_oow_rate_limited(): two ends that disagree cannot trade ACKs
 * endlessly, and a forger cannot make us reflect a flood. A host-wide
 * budget would let an off-path attacker count the challenge ACKs of other
 * connections (CVE-2016-5696). The caller leaves data segments alone:
 * their answer is how a lost ACK is repaired.
 *
 * Context: softirq, or backlog processing; socket or entry locked.
 * Return: true if the answer must be skipped.
 */
bool xtcp_oow_rate_limited(struct net *net, u32 *last,
			   enum xtcp_mib_field mib)
{
	unsigned long interval =
		msecs_to_jiffies(xtcp_knob(net, XTCP_KNOB_INVALID_RATELIMIT));
	u32 now = (u32)jiffies;

	if (*last && interval) {
		s32 elapsed = (s32)(now - *last);

		if (elapsed >= 0 && elapsed < interval) {
			XTCP_INC_STATS(net, mib);
			return true;
		}
	}
	*last = now ?: 1;
	return false;
}

/* RFC 5961 section 7: challenge ACKs, rate-limited per socket. */
static void xtcp_challenge_ack(struct sock *sk)
{
	if (!xtcp_oow_rate_limited(sock_net(sk), &xtcp_sk(sk)->last_oow_ack,
				   XTCP_MIB_ACKSKIPPEDCHALLENGE))
		xtcp_send_ack(sk);
}

static void xtcp_rtt_sample(struct sock *sk, long rtt_us)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 rto_min = msecs_to_jiffies(xtcp_knob(sock_net(sk), XTCP_KNOB_RTO_MIN));
	long m = clamp_t(long, rtt_us, 1, jiffies_to_usecs(XTCP_RTO_MAX));

	/* RFC 6298 section 2, in the fixed point of Jacobson's code. */
	if (!xs->srtt_us) {
		xs->srtt_us = m << 3;
		xs->rttvar_us = m << 1;
	} else {
		long err = m - (xs->srtt_us >> 3);

		xs->srtt_us += err;
		xs->rttvar_us += abs(err) - (xs->rttvar_us >> 2);
	}
	minmax_running_min(&xs->rtt_min, 300 * HZ, jiffies, m);
	xs->rto = usecs_to_jiffies((xs->srtt_us >> 3) + xs->rttvar_us);
	xs->rto = clamp_t(u32, xs->rto, rto_min, XTCP_RTO_MAX);
}

/*
 * Congestion window validation (RFC 7661, as Linux's
 * tcp_is_cwnd_limited()): the window grows only when it was what limited
 * the sender; an application-limited flow keeps the window it used, or in
 * slow start twice that, so that a pause cannot end in a burst at a
 * window the path never carried.
 */
static bool xtcp_cwnd_limited(const struct xtcp_sock *xs)
{
	if (xs->cwnd_limited)
		return true;
	if (xs->cwnd < xs->ssthresh)
		return xs->cwnd < 2 * xs->max_packets_out;
	return false;
}

static void xtcp_cong_on_ack(struct xtcp_sock *xs, u32 acked)
{
	if (!xtcp_cwnd_limited(xs))
		return;
	if (xs->cwnd < xs->ssthresh) {
		xs->cwnd += acked;		/* slow start */
		return;
	}
	xs->cwnd_cnt += acked;			/* congestion avoidance */
	if (xs->cwnd_cnt >= xs->cwnd) {
		xs->cwnd_cnt -= xs->cwnd;
		xs->cwnd++;
	}
}

/*
 * Duplicate ACKs that signal a loss. RFC 5827 early retransmit: with two
 * or three segments in flight and nothing new to send, three duplicates
 * can never arrive; one fewer than the segments in flight will do.
 */
static u32 xtcp_dupthresh(const struct xtcp_sock *xs)
{
	if (xs->packets_out >= 2 && xs->packets_out < 4 && !xs->send_head)
		return xs->packets_out - 1;
	return 3;
}

static void xtcp_enter_recovery(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	/* RFC 6582 section 3.2 steps 2-4 (NewReno). */
	xs->ssthresh = max(xs->packets_out / 2, 2U);
	xs->cwnd = xs->ssthresh + 3;
	xs->high_seq = xs->snd_nxt;
	xs->in_recovery = 1;
	xtcp_retransmit_head(sk);
}

/*
 * Free what the ACK covers; return the number of segments acknowledged.
 * An skb of several segments (segmentation offload) that the ACK covers
 * in part stays queued, counting only the segments still unacknowledged
 * in packets_out; its acknowledged part is cut off when it must go again
 * (xtcp_retransmit_head()), as Linux's tcp_tso_acked() trims it at once.
 */
static u32 xtcp_clean_write_queue(struct sock *sk, u32 ack, long *rtt_us)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_skb_cb *cb;
	struct sk_buff *skb;
	u32 acked = 0, left;

	*rtt_us = -1;
	while ((skb = skb_peek(&sk->sk_write_queue)) &&
	       skb != xs->send_head) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

		if (xtcp_after(cb->end_seq, ack))
			break;
		/* Karn: a retransmitted segment gives no RTT sample. */
		if (!cb->retrans)
			*rtt_us = jiffies_to_usecs(jiffies - cb->when);
		__skb_unlink(skb, &sk->sk_write_queue);
		xs->packets_out -= cb->pcount;
		xs->stats.delivered += cb->pcount;
		acked += cb->pcount;
		xtcp_wmem_free_skb(sk, skb);
	}
	if (!skb || skb == xs->send_head)
		return acked;
	cb = XTCP_SKB_CB(skb);
	left = xtcp_skb_pcount(skb, ack);
	if (xtcp_after(ack, cb->seq) && left < cb->pcount) {
		if (!cb->retrans)
			*rtt_us = jiffies_to_usecs(jiffies - cb->when);
		xs->packets_out -= cb->pcount - left;
		xs->stats.delivered += cb->pcount - left;
		acked += cb->pcount - left;
		cb->pcount = left;
	}
	return acked;
}

/*
 * Send buffer auto-tuning, as Linux TCP's tcp_sndbuf_expand(): at
 * establishment, and whenever a writer that ran out of send buffer gets
 * an ACK, the buffer grows to room for twice the congestion window (the
 * initial window at least) in segments of the worst case size TCP
 * assumes, one skb each with a power-of-two head, up to net.xtcp.wmem_max;
 * never less, and not at all once SO_SNDBUF has fixed the size. The same
 * per-segment cost as TCP's gives the same SO_SNDBUF for the same path;
 * queued data fills skbs of up to 64 KiB as TCP's (xtcp_sendmsg()), and
 * only data in flight pays the overhead of one skb per segment.
 */
static void xtcp_sndbuf_expand(struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u32 per_mss, segs;
	u64 want;

	if (sk->sk_userlocks & SOCK_SNDBUF_LOCK)
		return;
	/* The peer's MSS, with the room timestamps take added back. */
	per_mss = xs->mss_cache + (xs->ts_ok ? TCPOLEN_TSTAMP_ALIGNED : 0) +
		  MAX_TCP_HEADER + SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
	per_mss = roundup_pow_of_two(per_mss) +
		  SKB_DATA_ALIGN(sizeof(struct sk_buff));
	segs = max_t(u32, XTCP_INIT_CWND, xs->cwnd);
	want = 2ULL * segs * per_mss;
	want = min_t(u64, want,
		     xtcp_knob(sock_net(sk), XTCP_KNOB_WMEM_MAX));
	if (want > READ_ONCE(sk->sk_sndbuf))
		WRITE_ONCE(sk->sk_sndbuf, want);
}

static void xtcp_new_space(struct sock *sk)
{
	if (sk->sk_socket && test_bit(SOCK_NOSPACE, &sk->sk_socket->flags)) {
		xtcp_sndbuf_expand(sk);
		sk->sk_write_space(sk);
	}
}

/*
 * RFC 9293 3.10.7.4 fifth step for the synchronized states: the ACK field.
 * Returns false when the segment must be dropped.
 */
static bool xtcp_ack(struct sock *sk, struct sk_buff *skb,
		     const struct xtcp_opts *opts)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 ack = cb->ack_seq;
	u32 wnd = ntohs(tcp_hdr(skb)->window) << xs->snd_wscale;
	u32 prior_una = xs->snd_una, dupthresh = 0;
	bool window_changed = false;
	long rtt_us;
	u32 acked;

	if (xtcp_after(ack, xs->snd_nxt)) {
		/* Acknowledges something not yet sent. */
		xtcp_timers_ack_owed(sk, true);
		return false;
	}
	if (xtcp_before(ack, xs->snd_una - xs->max_window)) {
		/* RFC 5961 section 5.2: too old to be believed. */
		xtcp_challenge_ack(sk);
		return false;
	}

	/* Any ACK not older than SND.UNA answers a keepalive or window
	 * probe: the peer is alive, the probe count starts over and the
	 * keepalive idle time restarts (as tcp_ack() does). A probe's answer
	 * acknowledges nothing new. Only here, once the segment passed the
	 * acceptability test and its ACK is valid: segments a blind spoofer
	 * sends outside the window must not keep a dead connection alive.
	 *
	 * TS.Recent likewise (RFC 7323 section 4.3: after the ACK is
	 * validated, and only if SEG.SEQ <= Last.ACK.sent), or one forged
	 * TSval far in the future would make PAWS drop every genuine
	 * segment that follows. The PAWS test already dropped older TSvals.
	 */
	if (!xtcp_before(ack, xs->snd_una)) {
		xs->probes_out = 0;
		WRITE_ONCE(xs->rcv_tstamp, jiffies);
		if (xs->ts_ok && opts->ts_ok &&
		    !xtcp_after(cb->seq, xs->rcv_wup)) {
			xs->ts_recent = opts->tsval;
			xs->ts_recent_stamp = ktime_get_seconds();
		}
	}

	/* Window update (RFC 9293 3.10.7.4, SND.WL1/SND.WL2 rule). The
	 * usable window is counted from SND.UNA, so the window must come
	 * with the ACK that set SND.UNA: an ACK that advances SND.UNA always
	 * brings its window (an old segment retransmitted with a new ACK
	 * fails the WL1 test, yet its window is the newest), and an ACK
	 * below SND.UNA never does (a late segment with a higher SEQ passes
	 * it, but its window was relative to its older ACK). Otherwise the
	 * right edge moves past what the peer offered. Linux does the same
	 * (tcp_may_update_window(), old_ack in tcp_ack()).
	 */
	if (!xtcp_before(ack, xs->snd_una) &&
	    (xtcp_after(ack, xs->snd_una) ||
	     xtcp_before(xs->snd_wl1, cb->seq) ||
	     (xs->snd_wl1 == cb->seq && !xtcp_before(ack, xs->snd_wl2)))) {
		window_changed = xs->snd_wnd != wnd;
		xs->snd_wnd = wnd;
		xs->snd_wl1 = cb->seq;
		xs->snd_wl2 = ack;
		xs->max_window = max(xs->max_window, wnd);
	}

	if (xtcp_after(ack, xs->snd_una)) {
		acked = xtcp_clean_write_queue(sk, ack, &rtt_us);
		/* The SYN counts when SYN_SENT takes its ACK, not here: as
		 * in Linux, a passive open's SYN-ACK is not counted.
		 */
		xs->stats.bytes_acked += ack - xs->snd_una -
					 (xs->snd_una == xs->iss);
		xs->snd_una = ack;
		xs->dup_acks = 0;
		xs->retransmits = 0;
		xs->retrans_stamp = 0;
		xs->backoff = 0;

		if (xs->ts_ok && opts->ts_ok && opts->tsecr) {
			u32 delta = xtcp_ts_now(xs) - opts->tsecr;

			/* A TSecr from the future or from before the RTO
			 * could reach is no echo of ours (forged, or a
			 * broken peer): no sample from it, as Linux's
			 * tcp_rtt_tsopt_us() rejects such values.
			 */
			if (delta <= jiffies_to_msecs(XTCP_RTO_MAX))
				rtt_us = (long)delta * USEC_PER_MSEC;
		}
		if (rtt_us >= 0)
			xtcp_rtt_sample(sk, rtt_us);

		if (xs->in_recovery) {
			if (!xtcp_before(ack, xs->high_seq)) {
				xs->in_recovery = 0;	/* full ACK */
				xs->sack_recovery = 0;
				xs->cwnd = xs->ssthresh;
			} else if (!xs->sack_recovery) {
				/* Partial ACK (RFC 6582 3.2 step 5). */
				xtcp_retransmit_head(sk);
				/* Deflate by the amount acked, add back one
				 * segment; unsigned, so never below 1.
				 */
				xs->cwnd = xs->cwnd > acked ?
					   xs->cwnd - acked + 1 : 1;
			}
		} else {
			xtcp_cong_on_ack(xs, acked);
		}

		xtcp_timers_data_acked(sk);
		if (acked)
			xtcp_new_space(sk);
	} else if (ack == xs->snd_una && xs->packets_out &&
		   skb->len == 0 && !window_changed &&
		   !(cb->flags & (XTCPHDR_SYN | XTCPHDR_FIN))) {
		/* RFC 5681 section 2 duplicate ACK; with SACK, RFC 6675
		 * section 2 counts only those that SACK new data
		 * (xtcp_sack_ack()).
		 */
		dupthresh = xtcp_dupthresh(xs);
		if (!xs->sack_ok) {
			xs->dup_acks++;
			if (xs->in_recovery)
				xs->cwnd++;
			else if (xs->dup_acks >= dupthresh)
				xtcp_enter_recovery(sk);
		}
	}
	/* RFC 6675: with SACK, the scoreboard decides what is lost. */
	if (xs->sack_ok && !xtcp_before(ack, prior_una))
		xtcp_sack_ack(sk, skb, opts, prior_una, dupthresh);

	if (window_changed && xs->snd_wnd)
		xtcp_timers_window_opened(sk);
	return true;
}

static bool xtcp_our_fin_acked(const struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);

	return xs->fin_queued && xs->snd_una == xs->write_seq;
}

/* RFC 9293 3.10.7.4 eighth step: a FIN, now in sequence. */
static void xtcp_fin(struct sock *sk)
{
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | RCV_SHUTDOWN);
	sock_set_flag(sk, SOCK_DONE);
	xtcp_timers_ack_owed(sk, true);

	switch (sk->sk_state) {
	case TCP_SYN_RECV:
	case TCP_ESTABLISHED:
		xtcp_set_state(sk, TCP_CLOSE_WAIT);
		break;
	case TCP_FIN_WAIT1:
		/* Simultaneous close, unless this segment acked our FIN. */
		if (xtcp_our_fin_acked(sk)) {
			xtcp_send_ack(sk);
			xtcp_time_wait(sk);
			return;
		}
		xtcp_set_state(sk, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT2:
		xtcp_send_ack(sk);
		xtcp_time_wait(sk);
		return;
	default:
		/* CLOSE_WAIT, CLOSING, LAST_ACK: a retransmitted FIN. */
		break;
	}

	if (!sock_flag(sk, SOCK_DEAD)) {
		sk->sk_state_change(sk);
		if (sk->sk_shutdown == SHUTDOWN_MASK ||
		    sk->sk_state == TCP_CLOSE)
			sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_HUP);
		else
			sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_IN);
	}
}

/* Drop the bytes before @seq already received; false if @skb was freed. */
static bool xtcp_trim_head(struct sk_buff *skb, u32 seq)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

	if (cb->seq == seq)
		return true;
	if (!pskb_pull(skb, seq - cb->seq)) {
		kfree_skb(skb);
		return false;
	}
	cb->seq = seq;
	return true;
}

/* In order, charged to the socket (skb_set_owner_r()): for the reader. */
/*
 * Append @skb's data to @tail, the last skb of the receive queue, as
 * Linux's tcp_try_coalesce(): the reader then copies from and frees one
 * skb where there were many, and the receive buffer is charged for the
 * data rather than for an skb per segment. Both are charged to @sk; the
 * part of @skb's truesize that @tail takes over is charged again before
 * @skb's own charge is returned with it.
 */
static bool xtcp_try_coalesce(struct sock *sk, struct sk_buff *tail,
			      struct sk_buff *skb)
{
	struct xtcp_skb_cb *tcb = XTCP_SKB_CB(tail);
	bool fragstolen;
	int delta;

	if (tcb->end_seq != XTCP_SKB_CB(skb)->seq ||
	    tcb->flags & XTCPHDR_FIN ||
	    !skb_try_coalesce(tail, skb, &fragstolen, &delta))
		return false;
	tcb->end_seq = XTCP_SKB_CB(skb)->end_seq;
	tcb->flags |= XTCP_SKB_CB(skb)->flags;
	kfree_skb_partial(skb, fragstolen);
	atomic_add(delta, &sk->sk_rmem_alloc);
	sk_mem_charge(sk, delta);
	return true;
}

static void xtcp_queue_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct sk_buff *tail = skb_peek_tail(&sk->sk_receive_queue);
	struct xtcp_sock *xs = xtcp_sk(sk);
	bool fin = XTCP_SKB_CB(skb)->flags & XTCPHDR_FIN;

	xs->stats.bytes_received += XTCP_SKB_CB(skb)->end_seq - xs->rcv_nxt;
	xs->rcv_nxt = XTCP_SKB_CB(skb)->end_seq;
	if (!skb->len && !fin)
		kfree_skb(skb);
	else if (!tail || !xtcp_try_coalesce(sk, tail, skb))
		__skb_queue_tail(&sk->sk_receive_queue, skb);
	if (fin)
		xtcp_fin(sk);
}

/*
 * The out-of-order queue is an rb-tree by sequence number, as Linux's
 * since 4.9: a flood of small segments with holes costs O(log n) each to
 * place (the SegmentSmack class, CVE-2018-5390), and O(1) when each
 * lands after the last, the common case after one loss. Segments in it
 * are charged to the receive buffer, which bounds it.
 */

/**
 * xtcp_ofo_purge() - free the whole out-of-order queue
 * @sk: the socket
 *
 * Context: socket locked.
 */
void xtcp_ofo_purge(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct rb_node *p = rb_first(&xs->out_of_order_queue);

	while (p) {
		struct sk_buff *skb = rb_to_skb(p);

		p = rb_next(p);
		rb_erase(&skb->rbnode, &xs->out_of_order_queue);
		kfree_skb_reason(skb, SKB_DROP_REASON_SOCKET_CLOSE);
	}
	xs->ooo_last_skb = NULL;
	xs->num_sacks = 0;
}

/* Move segments the new rcv_nxt made contiguous from the OOO queue. */
static void xtcp_ofo_drain(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct rb_node *p = rb_first(&xs->out_of_order_queue);

	while (p) {
		struct sk_buff *skb = rb_to_skb(p);
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

		if (xtcp_after(cb->seq, xs->rcv_nxt))
			break;
		p = rb_next(p);
		rb_erase(&skb->rbnode, &xs->out_of_order_queue);
		if (!p)
			xs->ooo_last_skb = NULL;
		if (!xtcp_after(cb->end_seq, xs->rcv_nxt)) {
			kfree_skb(skb);		/* fully duplicate */
			continue;
		}
		/* Charged when it entered the OOO queue; trimming an owned skb
		 * keeps its truesize, and so the charge right.
		 */
		if (!xtcp_trim_head(skb, xs->rcv_nxt))
			continue;
		xtcp_queue_rcv(sk, skb);
		if (sk->sk_state == TCP_CLOSE)
			break;
	}
}

/* Drop the queued segments that @skb, just inserted, covers whole. */
static void xtcp_ofo_merge_right(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 end_seq = XTCP_SKB_CB(skb)->end_seq;
	struct sk_buff *next;

	while ((next = skb_rb_next(skb))) {
		if (!xtcp_after(end_seq, XTCP_SKB_CB(next)->seq) ||
		    xtcp_before(end_seq, XTCP_SKB_CB(next)->end_seq))
			break;
		rb_erase(&next->rbnode, &xs->out_of_order_queue);
		kfree_skb(next);
	}
	if (!next)
		xs->ooo_last_skb = skb;
}

static void xtcp_ofo_insert(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct rb_root *root = &xs->out_of_order_queue;
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct rb_node **p, *parent = NULL;
	struct sk_buff *skb1;

	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_OFOQUEUE);
	skb_set_owner_r(skb, sk);

	/* After the last one: the usual case, no search. */
	skb1 = xs->ooo_last_skb;
	if (skb1 && !xtcp_before(cb->seq, XTCP_SKB_CB(skb1)->end_seq)) {
		parent = &skb1->rbnode;
		p = &parent->rb_right;
		goto insert;
	}

	p = &root->rb_node;
	while (*p) {
		struct xtcp_skb_cb *cb1;

		parent = *p;
		skb1 = rb_to_skb(parent);
		cb1 = XTCP_SKB_CB(skb1);
		if (xtcp_before(cb->seq, cb1->seq)) {
			p = &parent->rb_left;
			continue;
		}
		if (xtcp_before(cb->seq, cb1->end_seq)) {
			if (!xtcp_after(cb->end_seq, cb1->end_seq)) {
				kfree_skb(skb);		/* all present already */
				return;
			}
			if (cb->seq == cb1->seq) {
				/* Covers the one it starts with: replace. */
				rb_replace_node(&skb1->rbnode, &skb->rbnode,
						root);
				if (xs->ooo_last_skb == skb1)
					xs->ooo_last_skb = skb;
				kfree_skb(skb1);
				xtcp_ofo_merge_right(sk, skb);
				return;
			}
			/* A partial overlap: both stay. */
		}
		p = &parent->rb_right;
	}
insert:
	rb_link_node(&skb->rbnode, parent, p);
	rb_insert_color(&skb->rbnode, root);
	xtcp_ofo_merge_right(sk, skb);
}

/*
 * Room for @skb: within the receive buffer (a segment without data always
 * fits it), within net.xtcp.mem (sk_rmem_schedule()) and within the
 * socket's memory cgroup (xtcp_memcg_over_max()). The cgroup is looked
 * at for every segment, not only when new pages are charged: a dropped
 * segment leaves its pages reserved, and the next would use them
 * unchecked, letting every other segment past memory.max.
 */
static bool xtcp_rmem_fits(struct sock *sk, struct sk_buff *skb)
{
	return (!skb->len ||
		atomic_read(&sk->sk_rmem_alloc) <= READ_ONCE(sk->sk_rcvbuf)) &&
	       sk_rmem_schedule(sk, skb, skb->truesize) &&
	       !xtcp_memcg_over_max(sk);
}

/*
 * Make room for in-order data: out-of-order segments go first, from the
 * highest sequence number down (the peer sends them again), as Linux's
 * tcp_prune_ofo_queue(). Returns true if @skb fits now.
 */
static bool xtcp_ofo_prune(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct rb_node *node;

	while (!xtcp_rmem_fits(sk, skb) &&
	       (node = rb_last(&xs->out_of_order_queue))) {
		struct sk_buff *ofo = rb_to_skb(node);

		rb_erase(node, &xs->out_of_order_queue);
		kfree_skb_reason(ofo, SKB_DROP_REASON_PROTO_MEM);
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_OFOPRUNED);
		node = rb_last(&xs->out_of_order_queue);
		xs->ooo_last_skb = node ? rb_to_skb(node) : NULL;
		/* Report nothing pruned (RFC 2018 section 8 reneging). */
		xs->num_sacks = 0;
	}
	return xtcp_rmem_fits(sk, skb);
}

/**
 * xtcp_edemux_wanted() - does early demux look at a segment?
 * @net: the namespace it arrived in
 * @skb: a segment of protocol 253 before routing (a PRE_ROUTING hook)
 *
 * Only one addressed to this host, not yet routed nor given a socket,
 * with net.xtcp.early_demux on and the IP layer's own switch,
 * net.ipv4.ip_early_demux (both families, as for TCP), too; its ports
 * are pulled into the linear data (Documentation/xtcp-internals.rst,
 * "Early demux").
 *
 * Context: softirq, under RCU.
 * Return: true if xtcp_edemux() may take it.
 */
bool xtcp_edemux_wanted(struct net *net, struct sk_buff *skb)
{
	return skb->pkt_type == PACKET_HOST && !skb_dst(skb) && !skb->sk &&
	       READ_ONCE(net->ipv4.sysctl_ip_early_demux) &&
	       xtcp_knob(net, XTCP_KNOB_EARLY_DEMUX) &&
	       pskb_may_pull(skb, skb_transport_offset(skb) +
			     sizeof(struct tcphdr));
}

/**
 * xtcp_edemux() - attach a segment's connection and its cached route
 * @net: the namespace it arrived in
 * @skb: a segment xtcp_edemux_wanted() took
 * @t: its 4-tuple
 * @family: its address family (AF_INET or AF_INET6)
 *
 * The connection of @t, if any, goes into skb->sk with its reference, for
 * xtcp_steal_sock(); its cached input route, if of @family, from the
 * device @skb came by and still valid (dst_check() with the cookie
 * cached with it; 0 and unused for IPv4), becomes @skb's route without a
 * reference, valid under the RCU read lock the receive path holds, so
 * that the IP layer does not look one up.
 *
 * Context: softirq, under RCU.
 */
void xtcp_edemux(struct net *net, struct sk_buff *skb,
		 const struct xtcp_tuple *t, unsigned short family)
{
	struct dst_entry *dst;
	struct sock *sk;

	sk = xtcp_ehash_lookup(net, t);
	if (!sk)
		return;
	skb->sk = sk;
	skb->destructor = sock_edemux;

	dst = rcu_dereference(sk->sk_rx_dst);
	if (!dst || dst->ops->family != family ||
	    READ_ONCE(sk->sk_rx_dst_ifindex) != skb->skb_iif)
		return;
	dst = dst_check(dst, READ_ONCE(sk->sk_rx_dst_cookie));
	if (dst) {
		skb_dst_set_noref(skb, dst);
		XTCP_INC_STATS(net, XTCP_MIB_INEARLYDEMUX);
	}
}

/**
 * xtcp_steal_sock() - take the socket early demux attached to a segment
 * @skb: a segment in the protocol handler
 *
 * xtcp_v4_edemux() and xtcp_v6_edemux() attach a connection with a
 * reference (destructor sock_edemux()); its reference passes to the
 * caller. A socket that has closed since is let go: its 4-tuple may now
 * be in TIME_WAIT, so the caller looks up again.
 *
 * Context: softirq.
 * Return: the socket, or NULL if none is attached or it has closed.
 */
struct sock *xtcp_steal_sock(struct sk_buff *skb)
{
	struct sock *sk = skb->sk;

	if (!sk || skb->destructor != sock_edemux ||
	    sk->sk_protocol != xtcp_protocol || !sk_fullsock(sk))
		return NULL;
	skb->sk = NULL;
	skb->destructor = NULL;
	if (unlikely(READ_ONCE(sk->sk_state) == TCP_CLOSE)) {
		sock_put(sk);
		return NULL;
	}
	return sk;
}

/**
 * xtcp_rx_dst_set() - cache a connection's input route for early demux
 * @sk: the connection a segment belongs to
 * @skb: the segment, routed
 * @cookie: the route's validity cookie (IPv6), 0 for IPv4
 *
 * As inet_sk_rx_dst_set() does for TCP, once @skb has passed the
 * socket's policy, TTL and filter checks, when the route it came with is
 * not the cached one (the first segment, a route gone stale, another
 * device), or is the same IPv6 route under another cookie (the routing
 * tree changed since; the route's memory stays).
 *
 * Without the socket lock: the old route is swapped out with
 * xchg() and released, and dst_release() frees it only after a grace
 * period, so an early demux hook still reading it under RCU is safe.
 *
 * Context: softirq.
 */
void xtcp_rx_dst_set(struct sock *sk, const struct sk_buff *skb, u32 cookie)
{
	struct dst_entry *dst = skb_dst(skb);

	if (!dst || (rcu_access_pointer(sk->sk_rx_dst) == dst &&
		     READ_ONCE(sk->sk_rx_dst_cookie) == cookie) ||
	    !dst_hold_safe(dst))
		return;
	WRITE_ONCE(sk->sk_rx_dst_ifindex, skb->skb_iif);
	WRITE_ONCE(sk->sk_rx_dst_cookie, cookie);
	dst_release(unrcu_pointer(xchg(&sk->sk_rx_dst, RCU_INITIALIZER(dst))));
}

/**
 * xtcp_rightsize() - an skb whose truesize its socket can be charged
 * @net: the namespace that received @skb, for the counter
 * @skb: a received segment, not yet charged; consumed if replaced
 *
 * A segment that a device cut from a GSO skb may carry the whole GSO
 * skb's truesize: skb_segment() hands the last segment the original's,
 * for the sender's accounting. Charged as it is, a 1,448-byte segment
 * takes 64 KiB of the receive buffer, and the window, which counts on at
 * most twice the payload (xtcp_free_window()), overruns it: segments
 * are dropped. Such an skb is copied into one of its own size first, as
 * tcp_collapse() copies under memory pressure; if even that fails it
 * stays as it is. The backlog's limit counts truesize too. A segment
 * without payload is never queued and is left alone.
 *
 * Context: softirq.
 * Return: @skb, or its copy.
 */
struct sk_buff *xtcp_rightsize(struct net *net, struct sk_buff *skb)
{
	struct sk_buff *nskb;

	if (likely(!skb->len || skb->truesize <= 2 * SKB_TRUESIZE(skb->len)))
		return skb;
	nskb = skb_copy(skb, GFP_ATOMIC);
	if (!nskb)
		return skb;
	XTCP_INC_STATS(net, XTCP_MIB_INTRUESIZECOPIES);
	consume_skb(skb);
	return nskb;
}

/* RFC 9293 3.10.7.4 seventh step: segment text (and FIN, eighth step). */
static void xtcp_data_queue(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_sock *xs = xtcp_sk(sk);
	bool in_order;

	if (cb->seq == cb->end_seq) {
		kfree_skb(skb);
		return;
	}

	if (!xtcp_after(cb->end_seq, xs->rcv_nxt)) {
		/* Entirely old: a retransmission; tell the peer again. */
		kfree_skb(skb);
		xtcp_timers_ack_owed(sk, true);
		return;
	}

	/* A slow reader or a flood of holes must not make us hold unbounded
	 * memory: beyond the receive buffer or net.xtcp.mem, drop; the
	 * sender retransmits. Data that fills the hole may push
	 * out-of-order data out first, and the next in-order segment of an
	 * empty receive queue is always taken (xtcp_rmem_force()).
	 */
	in_order = !xtcp_after(cb->seq, xs->rcv_nxt);
	if (in_order && !xtcp_trim_head(skb, xs->rcv_nxt))
		return;
	if (in_order && skb_queue_empty(&sk->sk_receive_queue)) {
		xtcp_rmem_force(sk, skb->truesize);
	} else if (!xtcp_rmem_fits(sk, skb) &&
		   !(in_order && xtcp_ofo_prune(sk, skb))) {
		XTCP_INC_STATS(sock_net(sk), in_order ? XTCP_MIB_RCVQDROP :
							XTCP_MIB_OFODROP);
		kfree_skb_reason(skb, SKB_DROP_REASON_PROTO_MEM);
		xtcp_timers_ack_owed(sk, true);
		return;
	}

	if (!in_order) {
		/* A hole: keep it, and send a duplicate ACK at once. */
		xs->stats.rcv_ooopack++;
		xtcp_sack_new_ofo(sk, cb->seq, cb->end_seq);
		xtcp_ofo_insert(sk, skb);
		xtcp_timers_ack_owed(sk, true);
		return;
	}

	skb_set_owner_r(skb, sk);
	if (skb->len)
		xs->lrcvtime = jiffies;
	/* Several segments in one skb (segmentation offload): more than
	 * one full segment arrived, which RFC 5681 4.2 answers at once,
	 * as Linux's __tcp_ack_snd_check() does beyond one rcv_mss.
	 */
	if (skb_shinfo(skb)->gso_segs > 1)
		xtcp_timers_ack_owed(sk, false);
	xtcp_queue_rcv(sk, skb);
	/* Its FIN took us through TIME_WAIT to CLOSED: the ACK is sent. */
	if (sk->sk_state == TCP_CLOSE)
		return;
	if (!RB_EMPTY_ROOT(&xs->out_of_order_queue)) {
		xtcp_ofo_drain(sk);
		xtcp_sack_remove(sk);
		xtcp_timers_ack_owed(sk, true);
	} else {
		xtcp_timers_ack_owed(sk, false);
	}
	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_data_ready(sk);
}

/*
 * Answer a segment that failed the acceptability or PAWS test (RFC 9293
 * 3.10.7.4 first step, RFC 7323 section 5.3): "send an acknowledgment in
 * reply" now, not when something else is sent. A retransmission of data
 * we already have is the peer's only sign that our ACK of it was lost;
 * without this reply two ends that each retransmit what the other has
 * wait on each other forever. A segment without sequence space (a pure
 * ACK) is answered at most once per net.xtcp.invalid_ratelimit, as Linux
 * does (xtcp_oow_rate_limited()), and a keepalive probe, a bare ACK below
 * our rcv_nxt (RFC 9293 3.8.4), still gets the answer that keeps its
 * connection alive.
 */
static void xtcp_dupack(struct sock *sk, u32 len)
{
	if (!len && xtcp_oow_rate_limited(sock_net(sk),
					  &xtcp_sk(sk)->last_oow_ack,
					  XTCP_MIB_ACKSKIPPEDSEQ)) {
		xtcp_timers_ack_owed(sk, true);
		return;
	}
	xtcp_send_ack(sk);
}

/* RFC 9293 3.10.7.4 first step: is the segment acceptable? */
static bool xtcp_sequence_ok(const struct xtcp_sock *xs,
			     const struct xtcp_skb_cb *cb, u32 len)
{
	u32 wnd = max_t(s32, xs->rcv_wup + xs->rcv_wnd - xs->rcv_nxt, 0);

	if (!len && !wnd)
		return cb->seq == xs->rcv_nxt;
	if (!len)
		return !xtcp_before(cb->seq, xs->rcv_nxt) &&
		       xtcp_before(cb->seq, xs->rcv_nxt + wnd);
	if (!wnd)
		return false;
	/* Any part of the segment inside the window will do. */
	return xtcp_before(cb->seq, xs->rcv_nxt + wnd) &&
	       xtcp_after(cb->end_seq, xs->rcv_nxt);
}

/**
 * xtcp_init_rcv_seq() - the receive sequence space, from the peer's SYN
 * @sk: the socket
 * @irs: the peer's initial sequence number
 *
 * Context: socket locked.
 */
void xtcp_init_rcv_seq(struct sock *sk, u32 irs)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->irs = irs;
	xs->rcv_nxt = irs + 1;
	xs->rcv_wup = xs->rcv_nxt;
	xs->copied_seq = xs->rcv_nxt;
	xs->rcvq_seq = xs->copied_seq;
	xs->rcvq_time = jiffies;
}

/**
 * xtcp_apply_syn_options() - settle the options of the connection
 * @sk: the socket, with ts_ok and wscale_ok saying what we offer (or, on a
 *	passive open, accept)
 * @opts: the options of the peer's SYN or SYN-ACK
 *
 * Window scaling, timestamps and SACK are on only if both ends want them; the
 * send MSS follows the peer's MSS option (RFC 9293 3.7.1: 536 without).
 *
 * Context: socket locked.
 */
void xtcp_apply_syn_options(struct sock *sk, const struct xtcp_opts *opts)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 peer_mss = opts->mss ?: XTCP_DEFAULT_MSS;

	if (opts->wscale >= 0 && xs->wscale_ok) {
		xs->snd_wscale = opts->wscale;
	} else {
		xs->wscale_ok = 0;
		xs->snd_wscale = 0;
		xs->rcv_wscale = 0;
	}
	if (opts->ts_ok && xs->ts_ok) {
		xs->ts_recent = opts->tsval;
		xs->ts_recent_stamp = ktime_get_seconds();
	} else {
		xs->ts_ok = 0;
	}
	/* RFC 2018 section 2: only if both ends sent SACK-permitted. */
	if (!opts->sack_ok)
		xs->sack_ok = 0;
	xtcp_sync_mss(sk, peer_mss);
}

static void xtcp_established(struct sock *sk)
{
	xtcp_set_state(sk, TCP_ESTABLISHED);
	xtcp_sk(sk)->rcv_tstamp = jiffies;
	/* Room for the initial window at once, as tcp_init_buffer_space(). */
	xtcp_sndbuf_expand(sk);
	xtcp_timers_established(sk);
	if (!sock_flag(sk, SOCK_DEAD)) {
		sk->sk_state_change(sk);
		sk_wake_async(sk, SOCK_WAKE_IO, POLL_OUT);
	}
}

/* RFC 9293 3.10.7.3: SYN_SENT. */
static void xtcp_rcv_synsent(struct sock *sk, struct sk_buff *skb,
			     const struct xtcp_opts *opts)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_sock *xs = xtcp_sk(sk);
	bool ack = cb->flags & XTCPHDR_ACK;

	/* First: the ACK must cover our SYN and nothing more. */
	if (ack && (!xtcp_after(cb->ack_seq, xs->iss) ||
		    xtcp_after(cb->ack_seq, xs->snd_nxt))) {
		/* Likely the previous connection on this 4-tuple. */
		xtcp_timers_syn_stale_ack(sk);
		if (!(cb->flags & XTCPHDR_RST))
			xtcp_send_reset(sock_net(sk), skb);
		goto drop;
	}

	/* Second: a RST is only believed with an acceptable ACK. */
	if (cb->flags & XTCPHDR_RST) {
		if (ack)
			xtcp_reset(sk);
		goto drop;
	}

	/* Fourth: SYN. */
	if (!(cb->flags & XTCPHDR_SYN))
		goto drop;

	xtcp_init_rcv_seq(sk, cb->seq);
	xtcp_apply_syn_options(sk, opts);

	if (ack) {
		long rtt_us;

		xs->snd_wnd = ntohs(tcp_hdr(skb)->window);
		xs->snd_wl1 = cb->seq;
		xs->snd_wl2 = cb->ack_seq;
		xs->max_window = xs->snd_wnd;
		xtcp_clean_write_queue(sk, cb->ack_seq, &rtt_us);
		xs->stats.bytes_acked += cb->ack_seq - xs->snd_una;
		xs->snd_una = cb->ack_seq;
		if (rtt_us >= 0)
			xtcp_rtt_sample(sk, rtt_us);
		xs->retransmits = 0;
		xs->retrans_stamp = 0;
		xs->backoff = 0;
		xtcp_timers_syn_acked(sk);
		xtcp_established(sk);
		/* Data in the SYN-ACK is not taken; the peer resends it. */
		xtcp_send_ack(sk);
		xtcp_write_xmit(sk, false);
		goto drop;
	}

	/* Simultaneous open: our SYN becomes a SYN-ACK. */
	xs->snd_wnd = ntohs(tcp_hdr(skb)->window);
	xs->snd_wl1 = cb->seq;
	xtcp_set_state(sk, TCP_SYN_RECV);
	if (!skb_queue_empty(&sk->sk_write_queue))
		XTCP_SKB_CB(skb_peek(&sk->sk_write_queue))->flags |=
			XTCPHDR_ACK;
	xtcp_retransmit_head(sk);
drop:
	kfree_skb(skb);
}

/**
 * xtcp_rcv_state_process() - process a segment for a non-listening socket
 * @sk: the socket, locked
 * @skb: the segment, validated, header pulled, control block filled
 * @opts: its parsed options
 *
 * Consumes @skb.
 *
 * Context: socket locked (softirq, or backlog processing in process context).
 */
void xtcp_rcv_state_process(struct sock *sk, struct sk_buff *skb,
			    const struct xtcp_opts *opts)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 len = cb->end_seq - cb->seq;
	/* An skb of several segments (GSO from veth or loopback) counts
	 * them all, as Linux's tcp_segs_in().
	 */
	u16 segs = max_t(u16, skb_shinfo(skb)->gso_segs, 1);

	xs->stats.segs_in += segs;
	if (skb->len)
		xs->stats.data_segs_in += segs;

	switch (sk->sk_state) {
	case TCP_CLOSE:
		/* RFC 9293 3.10.7.1 */
		if (!(cb->flags & XTCPHDR_RST))
			xtcp_send_reset(sock_net(sk), skb);
		kfree_skb(skb);
		return;
	case TCP_SYN_SENT:
		xtcp_rcv_synsent(sk, skb, opts);
		skb = NULL;
		goto out;
	default:
		break;
	}

	/* Simultaneous open (RFC 9293 figure 8): the peer's SYN-ACK, its SYN
	 * again with an ACK of ours, completes the open as the ACK it
	 * carries; the SYN itself is old news.
	 */
	if (sk->sk_state == TCP_SYN_RECV && !xs->listener &&
	    (cb->flags & (XTCPHDR_SYN | XTCPHDR_ACK | XTCPHDR_RST)) ==
	    (XTCPHDR_SYN | XTCPHDR_ACK) &&
	    cb->seq == xs->irs && cb->end_seq == xs->rcv_nxt &&
	    cb->ack_seq == xs->snd_nxt) {
		cb->seq = cb->end_seq;
		cb->flags &= ~XTCPHDR_SYN;
		len = 0;
	}

	/* A retransmitted SYN while our SYN-ACK is unanswered: the SYN-ACK
	 * again, but not once per copy a forger sends.
	 */
	if (sk->sk_state == TCP_SYN_RECV && cb->flags & XTCPHDR_SYN &&
	    !(cb->flags & XTCPHDR_ACK) && cb->seq == xs->irs) {
		if (!xtcp_oow_rate_limited(sock_net(sk), &xs->last_oow_ack,
					   XTCP_MIB_ACKSKIPPEDSYNRECV))
			xtcp_retransmit_head(sk);
		goto drop;
	}

	/* PAWS (RFC 7323 section 5.3), then the first step. */
	if (xs->ts_ok && opts->ts_ok && !(cb->flags & XTCPHDR_RST) &&
	    (s32)(opts->tsval - xs->ts_recent) < 0 &&
	    ktime_get_seconds() - xs->ts_recent_stamp < 24 * 24 * 3600) {
		xtcp_dupack(sk, len);
		goto drop;
	}
	if (!xtcp_sequence_ok(xs, cb, len)) {
		if (!(cb->flags & XTCPHDR_RST))
			xtcp_dupack(sk, len);
		goto drop;
	}

	/* Second step: RST (RFC 5961 section 3.2). */
	if (cb->flags & XTCPHDR_RST) {
		if (cb->seq != xs->rcv_nxt) {
			xtcp_challenge_ack(sk);
			goto drop;
		}
		trace_xtcp_receive_reset(sk);
		if (sk->sk_state == TCP_SYN_RECV && xs->listener)
			xtcp_child_abort(sk);	/* back to LISTEN */
		else
			xtcp_reset(sk);
		goto drop;
	}

	/* Fourth step: SYN in a synchronized state (RFC 5961 section 4). */
	if (cb->flags & XTCPHDR_SYN) {
		xtcp_challenge_ack(sk);
		goto drop;
	}

	/* Fifth step: ACK. */
	if (!(cb->flags & XTCPHDR_ACK))
		goto drop;

	if (sk->sk_state == TCP_SYN_RECV) {
		if (!xtcp_after(cb->ack_seq, xs->snd_una) ||
		    xtcp_after(cb->ack_seq, xs->snd_nxt)) {
			xtcp_send_reset(sock_net(sk), skb);
			goto drop;
		}
		xs->snd_wl1 = cb->seq - 1;	/* let the ACK set the window */
		xtcp_established(sk);
		xtcp_child_ready(sk);
	}

	if (!xtcp_ack(sk, skb, opts))
		goto drop;

	switch (sk->sk_state) {
	case TCP_FIN_WAIT1:
		/* A FIN in order in this same segment takes us from here
		 * straight to TIME_WAIT (eighth step, xtcp_fin()): no
		 * FIN_WAIT_2 in between.
		 */
		if (xtcp_our_fin_acked(sk) &&
		    !(cb->flags & XTCPHDR_FIN &&
		      !xtcp_after(cb->seq, xs->rcv_nxt))) {
			xtcp_set_state(sk, TCP_FIN_WAIT2);
			WRITE_ONCE(sk->sk_shutdown,
				   sk->sk_shutdown | SEND_SHUTDOWN);
			if (sock_flag(sk, SOCK_DEAD))
				xtcp_timers_orphan_fin_wait2(sk);
			else
				sk->sk_state_change(sk);
		}
		break;
	case TCP_CLOSING:
		if (xtcp_our_fin_acked(sk)) {
			xtcp_time_wait(sk);
			goto drop;
		}
		break;
	case TCP_LAST_ACK:
		if (xtcp_our_fin_acked(sk)) {
			xtcp_done(sk);
			goto drop;
		}
		break;
	}

	/* Seventh step: text. After close() nobody would read it: RST. */
	switch (sk->sk_state) {
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
		if (sk->sk_shutdown & RCV_SHUTDOWN && skb->len &&
		    sock_flag(sk, SOCK_DEAD) &&
		    xtcp_after(cb->end_seq - !!(cb->flags & XTCPHDR_FIN),
			       xs->rcv_nxt)) {
			xtcp_send_active_reset(sk, GFP_ATOMIC);
			xtcp_reset(sk);
			goto drop;
		}
		fallthrough;
	case TCP_ESTABLISHED:
		xtcp_data_queue(sk, skb);
		skb = NULL;
		break;
	default:
		/* CLOSE_WAIT, CLOSING, LAST_ACK: the peer already sent FIN;
		 * a retransmitted FIN still wants its ACK.
		 */
		if (cb->flags & XTCPHDR_FIN)
			xtcp_timers_ack_owed(sk, true);
		break;
	}

out:
	if (sk->sk_state != TCP_CLOSE && sk->sk_state != TCP_SYN_SENT) {
		xtcp_write_xmit(sk, false);
		/* What it sent may take the unsent bytes below
		 * TCP_NOTSENT_LOWAT: a writer waits for that too (Linux's
		 * tcp_check_space() after tcp_data_snd_check()).
		 */
		if (sk->sk_socket &&
		    test_bit(SOCK_NOSPACE, &sk->sk_socket->flags))
			sk->sk_write_space(sk);
		if (xs->ack_quick)
			xtcp_send_ack(sk);
	}
drop:
	kfree_skb(skb);
}

/**
 * xtcp_do_rcv() - process a segment for a locked socket
 * @sk: the socket
 * @skb: the segment, as prepared by xtcp_rcv_prepare() and
 *	xtcp_rcv_pull()
 *
 * Also the backlog handler (struct proto .backlog_rcv).
 *
 * Context: socket locked.
 * Return: 0.
 */
int xtcp_do_rcv(struct sock *sk, struct sk_buff *skb)
{
	const struct xtcp_opts *opts = &XTCP_SKB_CB(skb)->opts;

	if (sk->sk_state == TCP_LISTEN)
		xtcp_listen_rcv(sk, skb, opts);
	else
		xtcp_rcv_state_process(sk, skb, opts);
	return 0;
}

static bool xtcp_flags_valid(u8 flags)
{
	/* Combinations no stack sends: scans and attacks. */
	if ((flags & XTCPHDR_SYN) && (flags & (XTCPHDR_FIN | XTCPHDR_RST)))
		return false;
	return true;
}

/**
 * xtcp_rcv_check_header() - is the whole header there?
 * @skb: a segment, its transport header set
 *
 * Context: softirq.
 * Return: SKB_NOT_DROPPED_YET, or why to drop @skb.
 */
enum skb_drop_reason xtcp_rcv_check_header(struct sk_buff *skb)
{
	const struct tcphdr *th;

	if (!pskb_may_pull(skb, sizeof(struct tcphdr)))
		return SKB_DROP_REASON_PKT_TOO_SMALL;
	th = tcp_hdr(skb);
	if (th->doff < XTCP_BASE_HLEN / 4 || !pskb_may_pull(skb, th->doff * 4))
		return SKB_DROP_REASON_PKT_TOO_SMALL;
	return SKB_NOT_DROPPED_YET;
}

/* The sequence space of @skb, whose data still starts at its header. */
static u32 xtcp_rcv_end_seq(const struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);

	return ntohl(th->seq) + th->syn + th->fin + skb->len - th->doff * 4;
}

/**
 * xtcp_rcv_prepare() - validate flags and options, fill the control block
 * @skb: a segment whose header and checksum were checked
 *
 * The header stays in the skb's data: a socket filter must see it and
 * may still trim the payload (xtcp_rcv_pull()).
 *
 * Context: softirq.
 * Return: SKB_NOT_DROPPED_YET, or why to drop @skb.
 */
enum skb_drop_reason xtcp_rcv_prepare(struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

	if (!xtcp_flags_valid(tcp_flag_byte(th)))
		return SKB_DROP_REASON_TCP_FLAGS;
	if (xtcp_parse_options(th, th->syn, &cb->opts))
		return SKB_DROP_REASON_NOT_SPECIFIED;

	cb->seq = ntohl(th->seq);
	cb->end_seq = xtcp_rcv_end_seq(skb);
	cb->ack_seq = ntohl(th->ack_seq);
	cb->flags = tcp_flag_byte(th);
	cb->when = 0;
	cb->retrans = 0;
	cb->tw_isn = 0;
	return SKB_NOT_DROPPED_YET;
}

/**
 * xtcp_rcv_pull() - leave only the payload in a segment for a socket
 * @skb: a prepared segment that passed the socket's filter
 *
 * The filter may have trimmed the payload, never the header (see
 * xtcp_v4_rcv()): the sequence space is what remains, as Linux TCP
 * computes it after tcp_filter(). Afterwards the skb's data is the
 * payload; tcp_hdr() still finds the header.
 *
 * Context: softirq.
 */
void xtcp_rcv_pull(struct sk_buff *skb)
{
	XTCP_SKB_CB(skb)->end_seq = xtcp_rcv_end_seq(skb);
	__skb_pull(skb, tcp_hdrlen(skb));
}

/*
 * Room in the backlog beyond the buffers, as Linux's tcp_add_backlog()
 * leaves: a sender's GSO skb arrives through veth or loopback whole, up
 * to 64 KiB, and one of them must fit even into small buffers.
 */
#define XTCP_BACKLOG_EXTRA	(64 * 1024)

/*
 * The backlog's limit, as Linux's tcp_add_backlog(): sk_add_backlog()
 * counts the receive queue (sk_rmem_alloc, up to the receive buffer) and
 * the backlog together, and the backlog must take a whole window the
 * peer may send while the owner copies, so twice the receive buffer;
 * half the send buffer for the ACKs of our own data. With segmentation
 * offload a window arrives as a few skbs of up to 64 KiB at once: a
 * smaller limit drops them whole, dozens of segments each.
 */
static u32 xtcp_backlog_limit(const struct sock *sk)
{
	u64 limit = (u64)READ_ONCE(sk->sk_rcvbuf) * 2 +
		    READ_ONCE(sk->sk_sndbuf) / 2 + XTCP_BACKLOG_EXTRA;

	return min_t(u64, limit, UINT_MAX);
}

/**
 * xtcp_rcv_sock() - hand a segment to its socket, or to its backlog
 * @sk: the socket found for it; the caller's reference is dropped
 * @skb: the prepared segment, consumed unless an error is returned
 *
 * Context: softirq.
 * Return: SKB_NOT_DROPPED_YET, or why the caller must drop @skb.
 */
enum skb_drop_reason xtcp_rcv_sock(struct sock *sk, struct sk_buff *skb)
{
	enum skb_drop_reason reason = SKB_NOT_DROPPED_YET;

	bh_lock_sock_nested(sk);
	if (!sock_owned_by_user(sk)) {
		xtcp_do_rcv(sk, skb);
	} else if (sk_add_backlog(sk, skb, xtcp_backlog_limit(sk))) {
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_BACKLOGDROP);
		reason = SKB_DROP_REASON_SOCKET_BACKLOG;
	}
	bh_unlock_sock(sk);
	sock_put(sk);
	return reason;
}
