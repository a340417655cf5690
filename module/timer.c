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
 * A pending timer holds a socket reference (sk_reset_timer()). A timer
 * that finds the socket owned by the user does not wait: it records the
 * event in xs->deferred, with a reference, and xtcp_release_cb() runs it
 * when the user releases the socket.
 */

#include <linux/timer.h>
#include <net/sock.h>

#include "xtcp.h"

static void xtcp_timeout_error(struct sock *sk)
{
	WRITE_ONCE(sk->sk_err, READ_ONCE(sk->sk_err_soft) ?: ETIMEDOUT);
	xtcp_done(sk);
	if (!sock_flag(sk, SOCK_DEAD))
		sk_error_report(sk);
}

static void xtcp_retransmit_handler(struct sock *sk)
{
	struct net *net = sock_net(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);

	if ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN))
		return;

	if (!xs->packets_out) {
		if (!xs->send_head)
			return;
		if (xs->snd_wnd) {
			xtcp_write_xmit(sk, false);
			return;
		}
		/* Persist: probe the zero window (RFC 9293 3.8.6.1). */
		if (xs->probes_out >= xtcp_knob(net, XTCP_KNOB_RETRIES2)) {
			xtcp_timeout_error(sk);
			return;
		}
		xtcp_send_probe(sk);
		xs->probes_out++;
		if (xs->backoff < 16)
			xs->backoff++;
		xtcp_rearm_rto(sk);
		return;
	}

	switch (sk->sk_state) {
	case TCP_SYN_SENT:
		if (xs->retransmits >= xtcp_knob(net, XTCP_KNOB_SYN_RETRIES)) {
			xtcp_timeout_error(sk);
			return;
		}
		break;
	case TCP_SYN_RECV:
		if (xs->retransmits >=
		    xtcp_knob(net, XTCP_KNOB_SYNACK_RETRIES)) {
			if (xs->listener)
				xtcp_child_abort(sk);
			else
				xtcp_timeout_error(sk);
			return;
		}
		break;
	default:
		if (xs->retransmits >= xtcp_knob(net, XTCP_KNOB_RETRIES2)) {
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

	if (xs->probes_out >= xtcp_keepcnt(sk)) {
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

static void (*const xtcp_timer_handlers[])(struct sock *sk) = {
	[XTCP_EV_RETRANS] = xtcp_retransmit_handler,
	[XTCP_EV_DELACK] = xtcp_delack_handler,
	[XTCP_EV_KEEPALIVE] = xtcp_keepalive_handler,
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
			xtcp_timer_handlers[ev](sk);
			__sock_put(sk);
		}
	}
}

/**
 * xtcp_init_timers() - set up the timers of a new socket or child
 * @sk: the socket
 *
 * Context: socket not yet visible to anyone else.
 */
void xtcp_init_timers(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	timer_setup(&xs->retransmit_timer, xtcp_retransmit_timer, 0);
	timer_setup(&xs->delack_timer, xtcp_delack_timer, 0);
	timer_setup(&sk->sk_timer, xtcp_keepalive_timer, 0);
}

/**
 * xtcp_clear_timers() - stop every timer of a socket
 * @sk: the socket
 *
 * Context: socket locked.
 */
void xtcp_clear_timers(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	sk_stop_timer(sk, &xs->retransmit_timer);
	sk_stop_timer(sk, &xs->delack_timer);
	sk_stop_timer(sk, &sk->sk_timer);
}

/**
 * xtcp_keepalive_reset() - (re)start or stop keepalive after a change
 * @sk: the socket
 *
 * Context: socket locked.
 */
void xtcp_keepalive_reset(struct sock *sk)
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
 * xtcp_fin_wait2_start() - bound the life of an orphaned FIN_WAIT_2
 * @sk: the orphan
 *
 * XTCP_LINGER2 < 0 means no FIN_WAIT_2 at all: reset at once.
 *
 * Context: socket locked.
 */
void xtcp_fin_wait2_start(struct sock *sk)
{
	if (READ_ONCE(xtcp_sk(sk)->linger2) < 0) {
		xtcp_send_active_reset(sk, GFP_ATOMIC);
		xtcp_done(sk);
		return;
	}
	sk_reset_timer(sk, &sk->sk_timer,
		       jiffies + xtcp_fin_timeout(sk) * HZ);
}
