// SPDX-License-Identifier: GPL-2.0
/*
 * Every timer of an xtcp socket:
 *
 *   retransmit_timer  RTO (RFC 6298), SYN and SYN-ACK retries, zero-window
 *                     probes
 *   delack_timer      delayed ACK (RFC 9293 3.8.6.3, at most 40 ms)
 *   sk->sk_timer      keepalive probes, and the lifetime of an orphaned
 *                     FIN_WAIT_2 socket (fin_timeout, XTCP_LINGER2)
 *
 * TIME_WAIT has no per-socket timer: see timewait.c.
 *
 * No other file arms or stops them: the rest of the module tells this
 * one what happened through the xtcp_timers_*() hooks below, named after
 * events (data sent, data acknowledged, window closed, ACK owed...), and
 * the hooks decide what that means for each timer, as WireGuard's
 * timers.c does.
 *
 * A pending timer holds a socket reference (sk_reset_timer()). A timer
 * that finds the socket owned by the user does not wait: it records the
 * event in xs->deferred, with a reference, and xtcp_release_cb() runs it
 * when the user releases the socket. The same mechanism carries one event
 * that is no timer: the path MTU step of an ICMP error (ipv4.c).
 */

#include <linux/timer.h>
#include <net/sock.h>

#include "xtcp.h"

/*
 * The end of TCP_USER_TIMEOUT for the oldest unacknowledged segment, in
 * jiffies, or 0 if none applies: no user timeout, or nothing
 * retransmitted yet.
 */
static unsigned long xtcp_user_deadline(const struct xtcp_sock *xs)
{
	u32 user_timeout = READ_ONCE(xs->user_timeout);

	if (!user_timeout || !xs->retrans_stamp)
		return 0;
	return (xs->retrans_stamp + msecs_to_jiffies(user_timeout)) ?: 1;
}

/*
 * Restart the retransmission timer (RFC 6298 5.3), no later than the
 * user timeout, so that the connection ends when it says (as Linux's
 * tcp_clamp_rto_to_user_timeout()).
 */
static void xtcp_rearm_rto(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned long when = jiffies + xtcp_rto(xs);
	unsigned long deadline = xtcp_user_deadline(xs);

	if (deadline && time_before(deadline, when))
		when = time_after(deadline, jiffies) ? deadline : jiffies + 1;
	sk_reset_timer(sk, &xs->retransmit_timer, when);
}

/*
 * Has the retransmission of a segment gone on long enough? With
 * TCP_USER_TIMEOUT, when that much time has passed since the segment was
 * first sent, whatever the count; else after @max retransmissions.
 */
static bool xtcp_write_timed_out(const struct sock *sk, int max)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned long deadline;

	if (!READ_ONCE(xs->user_timeout))
		return xs->retransmits >= max;
	deadline = xtcp_user_deadline(xs);
	return xs->retransmits && deadline && !time_before(jiffies, deadline);
}

static void xtcp_timeout_error(struct sock *sk)
{
	WRITE_ONCE(sk->sk_err, READ_ONCE(sk->sk_err_soft) ?: ETIMEDOUT);
	xtcp_done(sk);
	if (!sock_flag(sk, SOCK_DEAD))
		sk_error_report(sk);
}

/*
 * Retransmissions of a segment, or unanswered window probes, after which
 * a synchronized connection is given up: retries2, and for an orphan,
 * which no application waits on, at most orphan_retries (as Linux's
 * tcp_orphan_retries, though never more than retries2).
 */
static int xtcp_retries_max(const struct sock *sk)
{
	const struct net *net = sock_net(sk);
	int max = xtcp_knob(net, XTCP_KNOB_RETRIES2);

	if (sock_flag(sk, SOCK_DEAD))
		max = min(max, xtcp_knob(net, XTCP_KNOB_ORPHAN_RETRIES));
	return max;
}

/*
 * The persist timer (RFC 9293 3.8.6.1): data waits and nothing is in
 * flight. If the window lets nothing out, probe it: with the window's
 * worth of new data if it is open (xtcp_write_wakeup()), which the RTO
 * then looks after; else with a bare probe, backing off each time, and
 * given up after xtcp_retries_max() unanswered probes.
 */
static void xtcp_persist_handler(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xtcp_write_xmit(sk, false);
	if (xs->packets_out || !xs->send_head)
		return;
	if (xs->probes_out >= xtcp_retries_max(sk)) {
		xtcp_timeout_error(sk);
		return;
	}
	if (xtcp_write_wakeup(sk)) {
		/* In flight now: the RTO's own count and backoff start
		 * from zero, as after tcp_send_probe0() sent data.
		 */
		xs->probes_out = 0;
		xs->backoff = 0;
		xtcp_rearm_rto(sk);
		return;
	}
	xs->probes_out++;
	if (xs->backoff < 16)
		xs->backoff++;
	xtcp_rearm_rto(sk);
}

static void xtcp_retransmit_handler(struct sock *sk)
{
	struct net *net = sock_net(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);

	if ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN))
		return;

	if (!xs->packets_out) {
		if (xs->send_head)
			xtcp_persist_handler(sk);
		return;
	}

	switch (sk->sk_state) {
	case TCP_SYN_SENT:
		if (xtcp_write_timed_out(sk,
					 xtcp_knob(net, XTCP_KNOB_SYN_RETRIES))) {
			xtcp_timeout_error(sk);
			return;
		}
		break;
	case TCP_SYN_RECV:
		/* A passive child answers to synack_retries only: its
		 * options are the listener's, as a request is in Linux.
		 */
		if (xs->listener) {
			if (xs->retransmits >=
			    xtcp_knob(net, XTCP_KNOB_SYNACK_RETRIES)) {
				xtcp_child_abort(sk);
				return;
			}
		} else if (xtcp_write_timed_out(sk,
				xtcp_knob(net, XTCP_KNOB_SYNACK_RETRIES))) {
			xtcp_timeout_error(sk);
			return;
		}
		break;
	default:
		if (xtcp_write_timed_out(sk, xtcp_retries_max(sk))) {
			xtcp_timeout_error(sk);
			return;
		}
	}

	/* RFC 5681 section 3.1, equation 4, on the first timeout; then
	 * recover segment by segment as NewReno does after a partial ACK.
	 */
	if (!xs->retransmits) {
		xs->ssthresh = max(xs->packets_out / 2, 2U);
		xs->high_seq = xs->snd_nxt;
		xs->in_recovery = 1;
	}
	xs->cwnd = 1;
	xs->cwnd_cnt = 0;
	xs->dup_acks = 0;
	/* Another path may work better: a new flow hash, and so a new
	 * IPv6 flow label, unless SO_TXREHASH or net.core.txrehash
	 * forbid it, as TCP's tcp_write_timeout().
	 */
	if (sk_rethink_txhash(sk))
		XTCP_INC_STATS(net, XTCP_MIB_TIMEOUTREHASH);
	/* RFC 2018 section 8: SACKs may be reneged; start from scratch. */
	xtcp_sack_clear_scoreboard(sk);

	xtcp_retransmit_head(sk);
	xs->retransmits++;
	if (xs->backoff < 16)
		xs->backoff++;
	xtcp_rearm_rto(sk);
}

static void xtcp_delack_handler(struct sock *sk)
{
	if (xtcp_sk(sk)->ack_pending)
		xtcp_send_ack(sk);
}

static void xtcp_keepalive_handler(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned long idle, idle_max;
	u32 user_timeout;
	bool expired;

	if (sk->sk_state == TCP_FIN_WAIT2 && sock_flag(sk, SOCK_DEAD)) {
		/* fin_timeout: the peer never closed its side. Go quietly,
		 * as Linux does: a RST would end the peer's CLOSE_WAIT, which
		 * is for its application to end (Documentation/xtcp.rst,
		 * "Related lifetimes").
		 */
		xtcp_done(sk);
		return;
	}

	if (!sock_flag(sk, SOCK_KEEPOPEN) ||
	    !((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
				     TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2)))
		return;

	idle_max = xtcp_keepidle(sk) * HZ;
	/* Outstanding data: the retransmit timer is in charge. */
	if (xs->packets_out || xs->send_head) {
		sk_reset_timer(sk, &sk->sk_timer, jiffies + idle_max);
		return;
	}

	idle = jiffies - READ_ONCE(xs->rcv_tstamp);
	if (idle < idle_max && !xs->probes_out) {
		sk_reset_timer(sk, &sk->sk_timer, jiffies + idle_max - idle);
		return;
	}

	/* TCP_USER_TIMEOUT, if set, replaces the probe count: the peer
	 * has that long to answer, counted from the last segment it sent.
	 */
	user_timeout = READ_ONCE(xs->user_timeout);
	if (user_timeout)
		expired = xs->probes_out &&
			  idle >= msecs_to_jiffies(user_timeout);
	else
		expired = xs->probes_out >= xtcp_keepcnt(sk);
	if (expired) {
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_KEEPALIVETIMEOUTS);
		xtcp_send_active_reset(sk, GFP_ATOMIC);
		xtcp_timeout_error(sk);
		return;
	}
	xtcp_send_probe(sk);
	xs->probes_out++;
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_KEEPALIVEPROBES);
	sk_reset_timer(sk, &sk->sk_timer, jiffies + xtcp_keepintvl(sk) * HZ);
}

/* The path MTU step of an ICMP error, deferred while the user owned it. */
static void xtcp_mtu_reduced(struct sock *sk)
{
	xtcp_sk(sk)->af_ops->mtu_reduced(sk);
}

static void (*const xtcp_timer_handlers[])(struct sock *sk) = {
	[XTCP_EV_RETRANS] = xtcp_retransmit_handler,
	[XTCP_EV_DELACK] = xtcp_delack_handler,
	[XTCP_EV_KEEPALIVE] = xtcp_keepalive_handler,
	[XTCP_EV_MTU_REDUCED] = xtcp_mtu_reduced,
};

static void xtcp_timer_fire(struct sock *sk, enum xtcp_timer_event ev)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	bh_lock_sock(sk);
	if (!sock_owned_by_user(sk))
		xtcp_timer_handlers[ev](sk);
	else if (!test_and_set_bit(ev, &xs->deferred))
		sock_hold(sk);
	bh_unlock_sock(sk);
	sock_put(sk);		/* the timer's reference */
}

static void xtcp_retransmit_timer(struct timer_list *t)
{
	struct xtcp_sock *xs = from_timer(xs, t, retransmit_timer);

	xtcp_timer_fire(&xs->inet.sk, XTCP_EV_RETRANS);
}

static void xtcp_delack_timer(struct timer_list *t)
{
	struct xtcp_sock *xs = from_timer(xs, t, delack_timer);

	xtcp_timer_fire(&xs->inet.sk, XTCP_EV_DELACK);
}

static void xtcp_keepalive_timer(struct timer_list *t)
{
	struct sock *sk = from_timer(sk, t, sk_timer);

	xtcp_timer_fire(sk, XTCP_EV_KEEPALIVE);
}

/*
 * A timer that fired while the user owned the socket, and was armed again
 * before the user let go, is due later: the segments processed from the
 * backlog in between (an ACK that restarted the RTO, say) moved it on, and
 * its deferred run would act too early, with a retransmission that is not
 * due, its cwnd collapse and backoff. As Linux's tcp_write_timer_handler()
 * and tcp_delack_timer_handler(), which re-check icsk_timeout, leave it to
 * the timer. A timer stopped meanwhile finds nothing to do in its handler.
 */
static bool xtcp_deferred_stale(struct sock *sk, enum xtcp_timer_event ev)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	switch (ev) {
	case XTCP_EV_RETRANS:
		return timer_pending(&xs->retransmit_timer);
	case XTCP_EV_DELACK:
		return timer_pending(&xs->delack_timer);
	case XTCP_EV_KEEPALIVE:
		return timer_pending(&sk->sk_timer);
	case XTCP_EV_MTU_REDUCED:
		break;
	}
	return false;
}

/**
 * xtcp_timers_defer() - run an event when the user releases the socket
 * @sk: the socket, owned by the user
 * @ev: the event; its handler runs once however often it is deferred
 *
 * For softirq work that needs the socket and finds it owned, such as
 * the path MTU step of an ICMP error (xtcp_v4_mtu_reduced()). Holds a
 * reference until xtcp_release_cb() runs it.
 *
 * Context: softirq, socket spinlock held.
 */
void xtcp_timers_defer(struct sock *sk, enum xtcp_timer_event ev)
{
	lockdep_assert_held(&sk->sk_lock.slock);
	if (!test_and_set_bit(ev, &xtcp_sk(sk)->deferred))
		sock_hold(sk);
}

/**
 * xtcp_release_cb() - struct proto .release_cb: run deferred timer events
 * @sk: the socket, being released by the user
 *
 * Context: release_sock(), socket spinlock held, BHs off.
 */
void xtcp_release_cb(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int ev;

	for (ev = 0; ev < ARRAY_SIZE(xtcp_timer_handlers); ev++) {
		if (test_and_clear_bit(ev, &xs->deferred)) {
			if (!xtcp_deferred_stale(sk, ev))
				xtcp_timer_handlers[ev](sk);
			__sock_put(sk);
		}
	}
}

/**
 * xtcp_timers_init() - set up the timers of a new socket or child
 * @sk: the socket
 *
 * Context: socket not yet visible to anyone else.
 */
void xtcp_timers_init(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	timer_setup(&xs->retransmit_timer, xtcp_retransmit_timer, 0);
	timer_setup(&xs->delack_timer, xtcp_delack_timer, 0);
	timer_setup(&sk->sk_timer, xtcp_keepalive_timer, 0);
}

/**
 * xtcp_timers_stop() - the connection is over: stop every timer
 * @sk: the socket
 *
 * Context: socket locked.
 */
void xtcp_timers_stop(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	sk_stop_timer(sk, &xs->retransmit_timer);
	sk_stop_timer(sk, &xs->delack_timer);
	sk_stop_timer(sk, &sk->sk_timer);
}

/**
 * xtcp_timers_keepalive_changed() - SO_KEEPALIVE or the idle time changed
 * @sk: the socket
 *
 * Context: socket locked.
 */
void xtcp_timers_keepalive_changed(struct sock *sk)
{
	if (sk->sk_state == TCP_FIN_WAIT2 && sock_flag(sk, SOCK_DEAD))
		return;		/* sk_timer counts fin_timeout */
	if (sock_flag(sk, SOCK_KEEPOPEN) &&
	    (1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT))
		sk_reset_timer(sk, &sk->sk_timer,
			       jiffies + xtcp_keepidle(sk) * HZ);
	else
		sk_stop_timer(sk, &sk->sk_timer);
}

/**
 * xtcp_timers_orphan_fin_wait2() - bound the life of an orphaned FIN_WAIT_2
 * @sk: the orphan
 *
 * XTCP_LINGER2 < 0 means no FIN_WAIT_2 at all: reset at once.
 *
 * Context: socket locked.
 */
void xtcp_timers_orphan_fin_wait2(struct sock *sk)
{
	if (READ_ONCE(xtcp_sk(sk)->linger2) < 0) {
		xtcp_send_active_reset(sk, GFP_ATOMIC);
		xtcp_done(sk);
		return;
	}
	sk_reset_timer(sk, &sk->sk_timer,
		       jiffies + xtcp_fin_timeout(sk) * HZ);
}

/**
 * xtcp_timers_ack_owed() - the peer is owed an ACK
 * @sk: the socket
 * @quick: send it when the current segment is processed, not delayed
 *
 * A first segment starts the delayed-ACK timer; a second one is owed an
 * ACK at once (RFC 5681 4.2). But if the data waiting to be read has
 * grown since our last ACK, that ACK would announce a smaller window
 * than the last: the application has yet to read, and its read sends
 * the ACK with the full window (xtcp_cleanup_rbuf()). So does Linux TCP.
 * Answering each pair of segments at once instead lets a sender's Nagle
 * test pass with a partial segment every other time.
 *
 * Context: socket locked.
 */
void xtcp_timers_ack_owed(struct sock *sk, bool quick)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (quick) {
		xs->ack_quick = 1;
	} else if (xs->ack_pending) {
		if (xtcp_free_window(sk) >= xs->rcv_wnd)
			xs->ack_quick = 1;
		else
			xs->ack_deferred = 1;
	} else if (!timer_pending(&xs->delack_timer)) {
		sk_reset_timer(sk, &xs->delack_timer,
			       jiffies + XTCP_DELACK_MAX);
	}
	xs->ack_pending = 1;
}

/**
 * xtcp_timers_ack_sent() - an ACK of rcv_nxt left; nothing is owed any more
 * @sk: the socket
 *
 * Context: socket locked.
 */
void xtcp_timers_ack_sent(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->ack_pending = 0;
	xs->ack_quick = 0;
	xs->ack_deferred = 0;
	if (timer_pending(&xs->delack_timer))
		sk_stop_timer(sk, &xs->delack_timer);
}

/**
 * xtcp_timers_established() - the handshake completed
 * @sk: the socket, now ESTABLISHED
 *
 * Context: socket locked.
 */
void xtcp_timers_established(struct sock *sk)
{
	xtcp_timers_keepalive_changed(sk);
}

/**
 * xtcp_timers_syn_acked() - the peer acknowledged our SYN
 * @sk: the socket, leaving SYN_SENT
 *
 * Context: socket locked.
 */
void xtcp_timers_syn_acked(struct sock *sk)
{
	sk_stop_timer(sk, &xtcp_sk(sk)->retransmit_timer);
}

/**
 * xtcp_timers_syn_stale_ack() - SYN_SENT got an ACK that is not for our SYN
 * @sk: the socket in SYN_SENT
 *
 * Most likely the previous connection on this 4-tuple: a peer still in
 * LAST_ACK resends its FIN, which our RST ends. The SYN it ignored goes
 * again at once rather than after the initial RTO; only before the first
 * resend, so that forged ACKs gain nothing (as Linux TCP).
 *
 * Context: socket locked.
 */
void xtcp_timers_syn_stale_ack(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!xs->retransmits)
		sk_reset_timer(sk, &xs->retransmit_timer,
			       jiffies + XTCP_TIMEOUT_MIN);
}

/**
 * xtcp_timers_data_sent() - a segment from the write queue left
 * @sk: the socket
 *
 * Starts the RTO unless it runs already (RFC 6298 5.1).
 *
 * Context: socket locked.
 */
void xtcp_timers_data_sent(struct sock *sk)
{
	if (!timer_pending(&xtcp_sk(sk)->retransmit_timer))
		xtcp_rearm_rto(sk);
}

/**
 * xtcp_timers_data_acked() - an ACK advanced SND.UNA
 * @sk: the socket
 *
 * The RTO restarts for what is still in flight (RFC 6298 5.3), or stops
 * when nothing is (5.2); with unsent data left the timer stays, as the
 * persist timer.
 *
 * Context: socket locked.
 */
void xtcp_timers_data_acked(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->packets_out)
		xtcp_rearm_rto(sk);
	else if (!xs->send_head)
		sk_stop_timer(sk, &xs->retransmit_timer);
}

/**
 * xtcp_timers_window_closed() - data waits for a window the peer closed
 * @sk: the socket
 *
 * With nothing in flight, the retransmit timer becomes the persist timer
 * and probes the window (RFC 9293 3.8.6.1).
 *
 * Context: socket locked.
 */
void xtcp_timers_window_closed(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!xs->packets_out && !timer_pending(&xs->retransmit_timer))
		xtcp_rearm_rto(sk);
}

/**
 * xtcp_timers_window_opened() - the peer announced a new, open window
 * @sk: the socket
 *
 * A persist timer waiting to probe is no longer needed.
 *
 * Context: socket locked.
 */
void xtcp_timers_window_opened(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->send_head && !xs->packets_out)
		sk_stop_timer(sk, &xs->retransmit_timer);
}
