// SPDX-License-Identifier: GPL-2.0
/*
 * Socket calls: the struct proto and struct proto_ops of xtcp, and the
 * state changes they cause.
 *
 * Socket lifetime: the owner reference from sk_alloc() (or the clone of a
 * passive open) belongs to the file, or to the listener's accept queue
 * until accept(); close() drops it. The connection table holds one
 * reference while the socket is hashed and each pending timer holds one,
 * so an orphan lives until it reaches CLOSED, then frees itself.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bpf-cgroup.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/sockios.h>
#include <asm/ioctls.h>
#include <linux/tcp.h>
#include <net/inet_common.h>
#include <net/inet_hashtables.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/tcp_states.h>

#include "xtcp.h"
#include "trace.h"

/**
 * __xtcp_set_state() - change the state of a socket
 * @sk: the socket
 * @state: the new TCP_* state
 * @attempt: a move to CLOSED from SYN_SENT or SYN_RCVD counts as a failed
 *	connection attempt
 *
 * The one place that changes sk_state: it keeps CurrEstab, EstabResets
 * and, if @attempt, AttemptFails right and fires the tracepoints.
 *
 * Context: socket locked, or not yet visible to anyone else.
 */
void __xtcp_set_state(struct sock *sk, int state, bool attempt)
{
	struct net *net = sock_net(sk);
	int old = sk->sk_state;

	if (old == state)
		return;
	trace_xtcp_set_state(sk, old, state);

	/* RFC 1213 tcpCurrEstab: ESTABLISHED or CLOSE_WAIT. */
	if ((old == TCP_ESTABLISHED || old == TCP_CLOSE_WAIT) &&
	    state != TCP_ESTABLISHED && state != TCP_CLOSE_WAIT) {
		XTCP_DEC_STATS(net, XTCP_MIB_CURRESTAB);
		if (state == TCP_CLOSE)
			XTCP_INC_STATS(net, XTCP_MIB_ESTABRESETS);
	} else if (state == TCP_ESTABLISHED && old != TCP_CLOSE_WAIT) {
		XTCP_INC_STATS(net, XTCP_MIB_CURRESTAB);
	}
	if (attempt && state == TCP_CLOSE &&
	    (old == TCP_SYN_SENT || old == TCP_SYN_RECV))
		XTCP_INC_STATS(net, XTCP_MIB_ATTEMPTFAILS);

	xtcp_sk(sk)->state_since = jiffies;
	/* Also fires sock:inet_sock_set_state for generic tools. */
	inet_sk_set_state(sk, state);
}

/**
 * xtcp_set_state() - change the state of a socket
 * @sk: the socket
 * @state: the new TCP_* state
 *
 * Keeps CurrEstab, EstabResets and AttemptFails right and fires the
 * tracepoints.
 *
 * Context: socket locked.
 */
void xtcp_set_state(struct sock *sk, int state)
{
	__xtcp_set_state(sk, state, true);
}

/*
 * The largest payload the route takes without fragmentation, the IP
 * length field's limit included (loopback's MTU is 65536); the route's
 * MTU in *@mtu, 0 without a route.
 */
static u32 xtcp_route_mss(struct sock *sk, u32 *mtu)
{
	const struct dst_entry *dst = __sk_dst_get(sk);

	*mtu = dst ? dst_mtu(dst) : 0;
	if (!dst)
		return XTCP_DEFAULT_MSS;
	return min_t(u32, *mtu, IP_MAX_MTU) -
	       xtcp_sk(sk)->af_ops->net_header_len - XTCP_BASE_HLEN;
}

/**
 * xtcp_sync_mss() - compute the send MSS from the route and the peer
 * @sk: the socket, routed
 * @peer_mss: MSS the peer announced, kept in mss_clamp for when the
 *	route's MTU changes (xtcp_v4_mtu_reduced())
 *
 * Context: socket locked.
 */
void xtcp_sync_mss(struct sock *sk, u32 peer_mss)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 mss = min(xtcp_route_mss(sk, &xs->pmtu_cookie), peer_mss);

	xs->mss_clamp = min_t(u32, peer_mss, 65535);
	if (xs->user_mss)
		mss = min_t(u32, mss, xs->user_mss);
	/*
	 * The MSS option counts no TCP options (RFC 9293 3.7.1, RFC 6691),
	 * and a peer may announce as little as 1. Floor it where Linux does
	 * (TCP_MIN_SND_MSS, tcp_mtu_to_mss()) before the timestamps option
	 * is taken out, so that the subtraction cannot wrap and a segment
	 * still carries data.
	 */
	mss = max_t(u32, mss, XTCP_MIN_SND_MSS);
	if (xs->ts_ok)
		mss -= TCPOLEN_TSTAMP_ALIGNED;
	xs->mss_cache = mss;
}

/**
 * xtcp_set_advmss() - the MSS to announce, from the route and XTCP_MAXSEG
 * @sk: the socket, routed
 *
 * Also starts the send MSS at the default until the peer's is known.
 *
 * Context: socket locked.
 */
void xtcp_set_advmss(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 mtu, mss = xtcp_route_mss(sk, &mtu);

	if (xs->user_mss)
		mss = min_t(u32, mss, xs->user_mss);
	xs->advmss = min_t(u32, mss, 65535);
	xs->mss_cache = XTCP_DEFAULT_MSS;
}

/**
 * xtcp_stream_memory_free() - struct proto .stream_memory_free
 * @sk: the socket
 * @wake: 1 for poll() and wake-ups, 0 for sendmsg()
 *
 * TCP_NOTSENT_LOWAT: the socket takes more data only while its unsent
 * bytes stay below the mark, and poll() reports it writable, and writers
 * are woken, only once they are below half of it (Linux's
 * tcp_stream_memory_free()).
 *
 * Context: any.
 * Return: true if the unsent data leaves room.
 */
static bool xtcp_stream_memory_free(const struct sock *sk, int wake)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u32 notsent = READ_ONCE(xs->write_seq) - READ_ONCE(xs->snd_nxt);

	return ((u64)notsent << wake) < xtcp_notsent_lowat(sk);
}

static void xtcp_write_space(struct sock *sk)
{
	struct socket_wq *wq;

	if (!__sk_stream_is_writeable(sk, 1) || !sk->sk_socket)
		return;
	clear_bit(SOCK_NOSPACE, &sk->sk_socket->flags);

	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_poll(&wq->wait, EPOLLOUT | EPOLLWRNORM |
						      EPOLLWRBAND);
	if (wq && wq->fasync_list && !(sk->sk_shutdown & SEND_SHUTDOWN))
		sock_wake_async(wq, SOCK_WAKE_SPACE, POLL_OUT);
	rcu_read_unlock();
}

/* Connection state, reset for each new connection on a socket. */
static void xtcp_reset_conn(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->rto = XTCP_TIMEOUT_INIT;
	xs->srtt_us = 0;
	xs->rttvar_us = 0;
	xs->backoff = 0;
	xs->retransmits = 0;
	xs->probes_out = 0;
	xs->total_retrans = 0;
	xs->packets_out = 0;
	xs->cwnd = XTCP_INIT_CWND;
	xs->cwnd_cnt = 0;
	xs->cwnd_limited = false;
	xs->max_packets_out = 0;
	xs->cwnd_usage_seq = 0;
	xs->ssthresh = U32_MAX;
	xs->dup_acks = 0;
	xs->in_recovery = 0;
	xs->sack_recovery = 0;
	xs->num_sacks = 0;
	xs->sacked_out = 0;
	xs->lost_out = 0;
	xs->retrans_out = 0;
	xs->fin_queued = 0;
	xs->ack_pending = 0;
	xs->ack_quick = 0;
	xs->ack_deferred = 0;
	xs->snd_wscale = 0;
	xs->rcv_wscale = 0;
	xs->wscale_ok = 1;
	xs->rcv_wnd = 0;
	xs->accept_ready = 0;
	xs->accept_pending = 0;
	INIT_HLIST_HEAD(&xs->req_list);
	xs->req_count = 0;
	xs->last_cookie = 0;
	xs->last_oow_ack = 0;
	xs->retrans_stamp = 0;
	xs->lsndtime = jiffies;
	xs->lrcvtime = jiffies;
	minmax_reset(&xs->rtt_min, jiffies, ~0U);
	memset(&xs->stats, 0, sizeof(xs->stats));
}

/**
 * xtcp_initial_rcv_wnd() - the window a SYN or SYN-ACK announces
 * @sk: the socket
 *
 * Half the receive buffer, within the unscaled field of a SYN.
 *
 * Context: socket locked.
 * Return: bytes.
 */
u32 xtcp_initial_rcv_wnd(const struct sock *sk)
{
	return min_t(u32, max(READ_ONCE(sk->sk_rcvbuf) / 2, 0), 65535);
}

/**
 * xtcp_select_wscale() - the window scale to offer, as Linux chooses it
 * @sk: the socket, or the listener a SYN-ACK answers for
 *
 * The smallest shift that lets the 16-bit window field say the largest
 * window the socket may ever offer (RFC 7323 section 2.3), from the
 * ceiling of its receive buffer, as tcp_select_initial_window() does:
 * the buffer may grow to net.xtcp.rmem_max by auto-tuning, or to
 * net.core.rmem_max by a later SO_RCVBUF, so the larger of the two
 * counts; a buffer that SO_RCVBUF fixed before connect() or listen()
 * never offers more than half its size (xtcp_free_window()), and gets a
 * smaller shift. Linux first rounds that half down to a multiple of the
 * MSS; xtcp does not, so that a cookie SYN-ACK and the connection its ACK
 * creates later agree whatever route each looked up (the two differ only
 * when the half lies within one segment above a power of two).
 *
 * Context: any.
 * Return: 0 to %TCP_MAX_WSCALE.
 */
u8 xtcp_select_wscale(const struct sock *sk)
{
	u32 space = max(READ_ONCE(sk->sk_rcvbuf), 0) / 2;

	if (!(xtcp_sk_userlocks(sk) & SOCK_RCVBUF_LOCK)) {
		space = max_t(u32, space, xtcp_knob(sock_net(sk),
						    XTCP_KNOB_RMEM_MAX));
		space = max_t(u32, space, READ_ONCE(sysctl_rmem_max));
	}
	return clamp_t(int, ilog2(max(space, 1U)) - 15, 0, TCP_MAX_WSCALE);
}

/**
 * xtcp_connect() - start an active open: options, windows, the SYN
 * @sk: the socket, routed and hashed in SYN_SENT, its ISN chosen
 *
 * The part of connect() that does not depend on the address family.
 *
 * Context: socket locked.
 * Return: 0 or -ENOBUFS.
 */
int xtcp_connect(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->ts_ok = !!xtcp_knob(sock_net(sk), XTCP_KNOB_TIMESTAMPS);
	xs->sack_ok = !!xtcp_knob(sock_net(sk), XTCP_KNOB_SACK);
	xs->wscale_ok = 1;
	xs->rcv_wscale = xtcp_select_wscale(sk);
	xtcp_set_advmss(sk);
	xs->rcv_wnd = xtcp_initial_rcv_wnd(sk);
	xs->rcv_wup = 0;
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ACTIVEOPENS);
	return xtcp_send_syn(sk);
}

/**
 * xtcp_init_conn() - set up the structures of a new socket or child
 * @sk: the socket
 *
 * Done once: a socket reused by connect() after disconnect() keeps them,
 * since a deferred timer event may still hold a reference through
 * @deferred.
 *
 * Context: socket not yet visible to anyone else.
 */
void xtcp_init_conn(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->hashed = false;
	xs->send_head = NULL;
	xs->out_of_order_queue = RB_ROOT;
	xs->ooo_last_skb = NULL;
	xs->listener = NULL;
	INIT_LIST_HEAD(&xs->accept_node);
	INIT_LIST_HEAD(&xs->accept_list);
	spin_lock_init(&xs->accept_lock);
	xs->deferred = 0;
	xtcp_timers_init(sk);
	xtcp_reset_conn(sk);
}

static int xtcp_init_sock(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->af_ops = &xtcp_v4_af_ops;
	xtcp_init_conn(sk);
	xs->nodelay = 0;
	xs->cork = 0;
	xs->more = 0;
	xs->pingpong = 0;
	xs->recvmsg_inq = 0;
	xs->inq_xtcp = 0;
	xs->user_timeout = 0;
	xs->notsent_lowat = 0;
	xs->defer_accept = 0;
	xs->user_mss = 0;
	xs->keepidle = 0;
	xs->keepintvl = 0;
	xs->keepcnt = 0;
	xs->linger2 = 0;
	xs->msl = 0;
	/* sock_init_data() made it CLOSED. */
	xs->state_since = jiffies;
	sk->sk_write_space = xtcp_write_space;
	sk->sk_destruct = xtcp_sock_destruct;
	sk_sockets_allocated_inc(sk);
	/* Starting sizes; both grow with the connection's needs. */
	WRITE_ONCE(sk->sk_rcvbuf,
		   xtcp_knob(sock_net(sk), XTCP_KNOB_RMEM_DEFAULT));
	WRITE_ONCE(sk->sk_sndbuf,
		   xtcp_knob(sock_net(sk), XTCP_KNOB_WMEM_DEFAULT));
	/* Freed after a grace period: lookups run under RCU only. */
	sock_set_flag(sk, SOCK_RCU_FREE);
	return 0;
}

static void xtcp_purge_queues(struct sock *sk)
{
	xtcp_write_queue_purge(sk);
	xtcp_ofo_purge(sk);
}

/**
 * xtcp_done() - the connection is over: move to CLOSED and let go
 * @sk: the socket
 *
 * Unhashes the socket, stops its timers and frees its queues. An orphan
 * is then freed when the last reference goes; a socket still owned by the
 * application is woken and stays until close().
 *
 * Context: socket locked; the caller holds a reference.
 */
void xtcp_done(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->orphan_counted) {
		percpu_counter_dec(&xtcp_pernet(sock_net(sk))->orphans);
		xs->orphan_counted = 0;
	}
	xtcp_set_state(sk, TCP_CLOSE);
	xtcp_timers_stop(sk);
	xtcp_ehash_remove(sk);
	xtcp_purge_queues(sk);
	if (!(sk->sk_userlocks & SOCK_BINDPORT_LOCK) ||
	    sock_flag(sk, SOCK_DEAD))
		xtcp_put_port(sk);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);

	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_state_change(sk);
}

/**
 * xtcp_reset() - a RST was accepted: report it and close
 * @sk: the socket
 *
 * Context: socket locked; the caller holds a reference.
 */
void xtcp_reset(struct sock *sk)
{
	int err;

	switch (sk->sk_state) {
	case TCP_SYN_SENT:
		err = ECONNREFUSED;
		break;
	case TCP_CLOSE_WAIT:
		err = EPIPE;
		break;
	case TCP_CLOSE:
		return;
	default:
		err = ECONNRESET;
	}
	WRITE_ONCE(sk->sk_err, err);
	xtcp_done(sk);
	if (!sock_flag(sk, SOCK_DEAD))
		sk_error_report(sk);
}

/*
 * What close() or shutdown(SHUT_WR) does to each state (RFC 9293 3.10.4),
 * and whether a FIN must be sent.
 */
#define XTCP_ACTION_FIN BIT(4)
#define XTCP_STATE_MASK 0x0f

static const unsigned char xtcp_close_table[XTCP_NR_STATES] = {
	[0]			= TCP_CLOSE,
	[TCP_ESTABLISHED]	= TCP_FIN_WAIT1 | XTCP_ACTION_FIN,
	[TCP_SYN_SENT]		= TCP_CLOSE,
	[TCP_SYN_RECV]		= TCP_FIN_WAIT1 | XTCP_ACTION_FIN,
	[TCP_FIN_WAIT1]		= TCP_FIN_WAIT1,
	[TCP_FIN_WAIT2]		= TCP_FIN_WAIT2,
	[TCP_TIME_WAIT]		= TCP_CLOSE,
	[TCP_CLOSE]		= TCP_CLOSE,
	[TCP_CLOSE_WAIT]	= TCP_LAST_ACK | XTCP_ACTION_FIN,
	[TCP_LAST_ACK]		= TCP_LAST_ACK,
	[TCP_LISTEN]		= TCP_CLOSE,
	[TCP_CLOSING]		= TCP_CLOSING,
	[TCP_NEW_SYN_RECV]	= TCP_CLOSE,
	[TCP_BOUND_INACTIVE]	= TCP_CLOSE,
};

static bool xtcp_close_state(struct sock *sk)
{
	int next = xtcp_close_table[sk->sk_state];

	if ((next & XTCP_STATE_MASK) == TCP_CLOSE)
		xtcp_done(sk);
	else
		xtcp_set_state(sk, next & XTCP_STATE_MASK);
	return next & XTCP_ACTION_FIN;
}

static void xtcp_shutdown(struct sock *sk, int how)
{
	if (!(how & SEND_SHUTDOWN))
		return;
	if ((1 << sk->sk_state) &
	    (TCPF_ESTABLISHED | TCPF_SYN_RECV | TCPF_CLOSE_WAIT)) {
		if (xtcp_close_state(sk))
			xtcp_send_fin(sk);
	}
}

static void xtcp_abort_close(struct sock *sk)
{
	/* Before the peer's SYN arrived there is nobody to reset. */
	if (sk->sk_state != TCP_SYN_SENT)
		xtcp_send_active_reset(sk, sk->sk_allocation);
	xtcp_done(sk);
}

/**
 * xtcp_orphans_net_init() - the orphan count of a new namespace
 * @xn: namespace state
 *
 * Context: process context, pernet init.
 * Return: 0 or -ENOMEM.
 */
int xtcp_orphans_net_init(struct xtcp_net *xn)
{
	return percpu_counter_init(&xn->orphans, 0, GFP_KERNEL);
}

/**
 * xtcp_orphans_net_exit() - free the orphan count of a namespace
 * @xn: namespace state
 *
 * Context: process context, pernet exit; every socket of the namespace is
 * gone.
 */
void xtcp_orphans_net_exit(struct xtcp_net *xn)
{
	percpu_counter_destroy(&xn->orphans);
}

/*
 * net.xtcp.max_orphans: a peer that never answers holds each orphan, with
 * its unsent data, for minutes; beyond the cap close() resets at once, as
 * Linux's tcp_check_oom() does. The per-CPU count is summed only near the
 * cap (percpu_counter_compare()).
 */
static bool xtcp_too_many_orphans(struct sock *sk)
{
	return percpu_counter_compare(&xtcp_pernet(sock_net(sk))->orphans,
				      xtcp_knob(sock_net(sk),
						XTCP_KNOB_MAX_ORPHANS)) >= 0;
}

static void xtcp_close(struct sock *sk, long timeout)
{
	bool unread = false;
	struct sk_buff *skb;

	lock_sock(sk);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);

	if (sk->sk_state == TCP_LISTEN) {
		xtcp_listen_end(sk);
		goto adjudge;
	}

	/* Unread data: RFC 2525 section 2.17, reset rather than lose it
	 * silently.
	 */
	while ((skb = __skb_dequeue(&sk->sk_receive_queue))) {
		if (skb->len)
			unread = true;
		kfree_skb(skb);
	}
	sk_mem_reclaim(sk);

	if (sk->sk_state == TCP_CLOSE)
		goto adjudge;

	if (unread && (1 << sk->sk_state) & (TCPF_ESTABLISHED |
					      TCPF_CLOSE_WAIT |
					      TCPF_FIN_WAIT1 |
					      TCPF_FIN_WAIT2 |
					      TCPF_SYN_RECV)) {
		xtcp_abort_close(sk);
	} else if (sock_flag(sk, SOCK_LINGER) && !sk->sk_lingertime) {
		if ((1 << sk->sk_state) & ~(TCPF_SYN_SENT | TCPF_CLOSE))
			XTCP_INC_STATS(sock_net(sk), XTCP_MIB_LINGERABORTS);
		xtcp_abort_close(sk);
	} else if (xtcp_close_state(sk)) {
		xtcp_send_fin(sk);
	}

	/* SO_LINGER > 0: wait for the FIN to be acknowledged. */
	sk_stream_wait_close(sk, timeout);

adjudge:
	sock_hold(sk);
	sock_orphan(sk);

	if (sk->sk_state != TCP_CLOSE && sk->sk_state != TCP_LISTEN) {
		if (xtcp_too_many_orphans(sk)) {
			net_info_ratelimited("too many orphaned sockets\n");
			XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ABORTONMEMORY);
			xtcp_abort_close(sk);
		} else {
			percpu_counter_inc(&xtcp_pernet(sock_net(sk))->orphans);
			xtcp_sk(sk)->orphan_counted = 1;
		}
	}

	if (sk->sk_state == TCP_FIN_WAIT2)
		xtcp_timers_orphan_fin_wait2(sk);
	if (sk->sk_state == TCP_CLOSE)
		xtcp_done(sk);

	release_sock(sk);
	sock_put(sk);
	sock_put(sk);		/* the owner reference */
}

static int xtcp_disconnect(struct sock *sk, int flags)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int old = sk->sk_state;

	if (old == TCP_LISTEN) {
		xtcp_listen_end(sk);
	} else if ((1 << old) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
				 TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 |
				 TCPF_SYN_RECV | TCPF_CLOSING |
				 TCPF_LAST_ACK)) {
		xtcp_send_active_reset(sk, gfp_any());
		WRITE_ONCE(sk->sk_err, ECONNRESET);
		xtcp_done(sk);
	} else if (old == TCP_SYN_SENT) {
		WRITE_ONCE(sk->sk_err, ECONNRESET);
		xtcp_done(sk);
	}

	__skb_queue_purge(&sk->sk_receive_queue);
	xtcp_purge_queues(sk);
	inet_sk(sk)->inet_dport = 0;
	inet_sk(sk)->inet_daddr = 0;
	if (!(sk->sk_userlocks & SOCK_BINDADDR_LOCK))
		inet_reset_saddr(sk);
	WRITE_ONCE(sk->sk_shutdown, 0);
	sock_reset_flag(sk, SOCK_DONE);
	xtcp_reset_conn(sk);
	xs->rcv_nxt = 0;
	xs->copied_seq = 0;
	xs->write_seq = 0;
	sk_dst_reset(sk);
	dst_release(unrcu_pointer(xchg(&sk->sk_rx_dst, NULL)));
	sk_error_report(sk);
	return 0;
}

/* Skip the FIN, if received: it is not a byte the user can read. */
static u32 xtcp_inq(const struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u32 inq = READ_ONCE(xs->rcv_nxt) - READ_ONCE(xs->copied_seq);

	if (inq && sock_flag(sk, SOCK_DONE))
		inq--;
	return inq;
}

/*
 * TCP_INQ's hint: the bytes left to read after a recvmsg(), as Linux's
 * tcp_inq_hint() counts them: a received FIN still unread counts one, and
 * once it is read the hint stays 1, so that the reader goes on to see EOF.
 */
static int xtcp_inq_hint(const struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	int inq = READ_ONCE(xs->rcv_nxt) - READ_ONCE(xs->copied_seq);

	if (!inq && sock_flag(sk, SOCK_DONE))
		inq = 1;
	return inq;
}

/*
 * Receive buffer auto-tuning, after Linux TCP's dynamic right-sizing: at
 * most once per round trip (and per jiffy), the buffer grows to four
 * times what the application read during the last one, so that the
 * window, half the buffer, holds two round trips of the rate the reader
 * keeps up with. Up to net.xtcp.rmem_max, never down, and not at all once
 * SO_RCVBUF has fixed the size.
 */
static void xtcp_rcv_space_adjust(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned long rtt = usecs_to_jiffies(xs->srtt_us >> 3);
	u64 want;
	u32 copied;

	if (time_before(jiffies, xs->rcvq_time + max(rtt, 1UL)))
		return;
	copied = xs->copied_seq - xs->rcvq_seq;
	xs->rcvq_seq = xs->copied_seq;
	xs->rcvq_time = jiffies;
	if (sk->sk_userlocks & SOCK_RCVBUF_LOCK)
		return;
	want = min_t(u64, 4ULL * copied,
		     xtcp_knob(sock_net(sk), XTCP_KNOB_RMEM_MAX));
	if (want > READ_ONCE(sk->sk_rcvbuf))
		WRITE_ONCE(sk->sk_rcvbuf, want);
}

static void xtcp_cleanup_rbuf(struct sock *sk, int copied)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int space, cur;

	if (copied <= 0 || !((1 << sk->sk_state) &
			     (TCPF_ESTABLISHED | TCPF_FIN_WAIT1 |
			      TCPF_FIN_WAIT2)))
		return;
	/* The data path left its ACK to us (xtcp_timers_ack_owed()). */
	if (xs->ack_deferred) {
		xtcp_send_ack(sk);
		return;
	}
	/* Send a window update when reading at least doubled the window
	 * the peer knows of, and moved its right edge by two segments or
	 * by a quarter of the buffer if that is less (RFC 9293 3.8.6.2.2,
	 * receiver-side silly window avoidance: min(Fr * RCV.BUFF,
	 * Eff.snd.MSS)); or when the peer knows of no window at all. The
	 * doubling is Linux TCP's rule: a sender with half its window left
	 * has not stalled, and the ACKs of the data carry the window too.
	 * Without the buffer bound a buffer smaller than two segments would
	 * never announce its space.
	 */
	space = (READ_ONCE(sk->sk_rcvbuf) -
		 atomic_read(&sk->sk_rmem_alloc)) / 2;
	/* Compare what we could announce, not the raw free space. */
	space = min_t(int, space, 65535U << xs->rcv_wscale);
	cur = max_t(int, xs->rcv_wup + xs->rcv_wnd - xs->rcv_nxt, 0);
	if ((space >= 2 * cur &&
	     space - cur >= min(2 * (int)xs->mss_cache,
				READ_ONCE(sk->sk_rcvbuf) / 4)) ||
	    (!cur && space > 0))
		xtcp_send_ack(sk);
}

/*
 * Nothing (more) to read now: does recvmsg() return? 0: wait for data;
 * 1: return what was copied; -errno: return that, nothing was copied.
 */
static int xtcp_recv_stop(struct sock *sk, int copied, long timeo)
{
	int err;

	if (copied)
		return sk->sk_err || sk->sk_state == TCP_CLOSE ||
		       (sk->sk_shutdown & RCV_SHUTDOWN) || !timeo ||
		       signal_pending(current);
	if (sock_flag(sk, SOCK_DONE))
		return 1;
	if (sk->sk_err) {
		err = sock_error(sk);
		return err ?: 1;
	}
	if (sk->sk_shutdown & RCV_SHUTDOWN)
		return 1;
	if (sk->sk_state == TCP_CLOSE)
		return -ENOTCONN;
	if (!timeo)
		return -EAGAIN;
	if (signal_pending(current))
		return sock_intr_errno(timeo);
	return 0;
}

static int xtcp_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
			int flags, int *addr_len)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int copied = 0, target, stop, inq_level = 0;
	u32 peek_seq, *seq;
	long timeo;

	if (flags & MSG_ERRQUEUE)
		return inet_recv_error(sk, msg, len, addr_len);
	if (flags & MSG_OOB)
		return -EINVAL;

	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN) {
		copied = -ENOTCONN;
		goto out;
	}
	if (xs->recvmsg_inq) {
		msg->msg_get_inq = 1;
		inq_level = xs->inq_xtcp ? SOL_XTCP : SOL_TCP;
	}

	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	target = sock_rcvlowat(sk, flags & MSG_WAITALL, len);
	seq = &xs->copied_seq;
	if (flags & MSG_PEEK) {
		peek_seq = xs->copied_seq;
		seq = &peek_seq;
	}

	do {
		struct sk_buff *skb, *last = NULL;
		bool fin = false;
		u32 offset = 0;

		skb_queue_walk(&sk->sk_receive_queue, skb) {
			struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

			last = skb;
			offset = *seq - cb->seq;
			if (offset < skb->len)
				goto found;
			if (cb->flags & XTCPHDR_FIN) {
				fin = true;
				goto found;
			}
			if (WARN_ON_ONCE(!(flags & MSG_PEEK)))
				break;
		}

		if (copied >= target && !READ_ONCE(sk->sk_backlog.tail))
			break;
		stop = xtcp_recv_stop(sk, copied, timeo);
		if (stop) {
			if (stop < 0)
				copied = stop;
			break;
		}

		xtcp_cleanup_rbuf(sk, copied);
		sk_wait_data(sk, &timeo, last);
		continue;

found:
		if (!fin) {
			size_t used = min_t(size_t, skb->len - offset, len);
			int err;

			err = skb_copy_datagram_msg(skb, offset, msg, used);
			if (err) {
				if (!copied)
					copied = -EFAULT;
				break;
			}
			*seq += used;
			copied += used;
			len -= used;
			if (used + offset < skb->len)
				continue;
			if (!(XTCP_SKB_CB(skb)->flags & XTCPHDR_FIN)) {
				if (!(flags & MSG_PEEK))
					sk_eat_skb(sk, skb);
				continue;
			}
		}
		/* The FIN: count it as read, and stop at EOF. */
		++*seq;
		if (!(flags & MSG_PEEK))
			sk_eat_skb(sk, skb);
		break;
	} while (len > 0);

	if (copied > 0 && !(flags & MSG_PEEK))
		xtcp_rcv_space_adjust(sk);
	xtcp_cleanup_rbuf(sk, copied);
out:
	release_sock(sk);

	/* After the backlog: what arrived meanwhile is unread too. */
	if (msg->msg_get_inq && copied >= 0) {
		msg->msg_inq = xtcp_inq_hint(sk);
		if (inq_level)
			put_cmsg(msg, inq_level, XTCP_CM_INQ,
				 sizeof(msg->msg_inq), &msg->msg_inq);
	}
	return copied;
}

/* A failed copy may leave a new segment empty: it must not be sent. */
static void xtcp_remove_empty_skb(struct sock *sk)
{
	struct sk_buff *skb = skb_peek_tail(&sk->sk_write_queue);
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!skb || skb->len || XTCP_SKB_CB(skb)->flags & ~XTCPHDR_ACK)
		return;
	if (xs->send_head == skb)
		xs->send_head = NULL;
	__skb_unlink(skb, &sk->sk_write_queue);
	xtcp_wmem_free_skb(sk, skb);
}

/*
 * How much payload a write puts in one skb, as Linux's
 * tcp_xmit_size_goal() with GSO: up to 64 KiB, bounded by half the
 * largest window the peer offered, in whole segments; never less than
 * one. xtcp_write_xmit() cuts it into segments as they leave, so that
 * the skb overhead a write costs before it is sent is that of a few large
 * skbs, as with TCP, not that of one skb per segment.
 */
#define XTCP_SIZE_GOAL_MAX	(GSO_LEGACY_MAX_SIZE - (MAX_TCP_HEADER + 1))

static u32 xtcp_size_goal(const struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u32 mss = xs->mss_cache;
	u32 goal = XTCP_SIZE_GOAL_MAX;
	u32 cutoff;

	cutoff = xs->max_window > XTCP_DEFAULT_MSS ? xs->max_window / 2 :
		 xs->max_window;
	if (cutoff)
		goal = min(goal, cutoff);
	return max(rounddown(goal, mss), mss);
}

/*
 * The segment a write goes on filling: the last one while it is unsent
 * and below @size_goal, with the frag index to use and whether the copy
 * extends the last frag. NULL when a new segment is needed.
 */
static struct sk_buff *xtcp_send_tail(struct sock *sk, u32 size_goal,
				      const struct page_frag *pfrag, int *i,
				      bool *merge)
{
	struct sk_buff *skb = skb_peek_tail(&sk->sk_write_queue);
	struct xtcp_sock *xs = xtcp_sk(sk);

	*merge = false;
	if (!skb || !xs->send_head || skb->len >= size_goal ||
	    XTCP_SKB_CB(skb)->flags & (XTCPHDR_SYN | XTCPHDR_FIN) ||
	    XTCP_SKB_CB(skb)->eor)
		return NULL;
	*i = skb_shinfo(skb)->nr_frags;
	*merge = skb_can_coalesce(skb, *i, pfrag->page, pfrag->offset);
	if (!*merge && *i >= MAX_SKB_FRAGS)
		return NULL;
	return skb;
}

/*
 * The end of a write: its last segment carries PSH (RFC 9293 3.9.1.2,
 * MUST-61; Linux's tcp_mark_push()) unless MSG_MORE says more data
 * follows, and with MSG_EOR ends a record that later writes do not join.
 */
static void xtcp_mark_push(struct sock *sk, int flags)
{
	struct sk_buff *skb = skb_peek_tail(&sk->sk_write_queue);
	struct xtcp_skb_cb *cb;

	if (!skb || !xtcp_sk(sk)->send_head)
		return;
	cb = XTCP_SKB_CB(skb);
	if (!skb->len || cb->flags & (XTCPHDR_SYN | XTCPHDR_FIN))
		return;
	if (!(flags & MSG_MORE))
		cb->flags |= XTCPHDR_PSH;
	if (flags & MSG_EOR)
		cb->eor = 1;
}

/*
 * Send what the write left, as Linux's tcp_push(): with MSG_MORE, the
 * partial last segment is held as TCP_CORK would hold it, for this push
 * only; the next write without the flag, an ACK that empties the flight
 * under Nagle's rule, or the persist timer sends it.
 */
static void xtcp_push(struct sock *sk, int flags)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xtcp_mark_push(sk, flags);
	xs->more = !!(flags & MSG_MORE);
	xtcp_write_xmit(sk, false);
	xs->more = 0;
}

static int xtcp_sendmsg(struct sock *sk, struct msghdr *msg, size_t size)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int flags = msg->msg_flags;
	int copied = 0, err;
	long timeo;

	/* No urgent data: say so rather than send it as ordinary data. */
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;

	lock_sock(sk);
	timeo = sock_sndtimeo(sk, flags & MSG_DONTWAIT);

	if ((1 << sk->sk_state) & ~(TCPF_ESTABLISHED | TCPF_CLOSE_WAIT)) {
		err = sk_stream_wait_connect(sk, &timeo);
		if (err)
			goto do_error;
	}
	err = -EPIPE;
	if (sk->sk_err || (sk->sk_shutdown & SEND_SHUTDOWN))
		goto do_error;

	while (msg_data_left(msg)) {
		struct page_frag *pfrag = sk_page_frag(sk);
		u32 size_goal = xtcp_size_goal(sk);
		struct sk_buff *skb;
		int copy, i = 0;
		bool merge;

		if (!sk_page_frag_refill(sk, pfrag))
			goto wait_for_space;

		skb = xtcp_send_tail(sk, size_goal, pfrag, &i, &merge);
		if (!skb) {
			if (!sk_stream_memory_free(sk))
				goto wait_for_space;
			skb = xtcp_alloc_data_skb(sk, sk->sk_allocation);
			if (!skb)
				goto wait_for_space;
			xtcp_queue_data_skb(sk, skb);
			i = 0;
			merge = false;
		}

		copy = min_t(size_t, msg_data_left(msg),
			     min_t(u32, size_goal - skb->len,
				   pfrag->size - pfrag->offset));
		/* skb_copy_to_page_nocache() charges what it copies. */
		if (!sk_wmem_schedule(sk, copy)) {
			xtcp_remove_empty_skb(sk);
			goto wait_for_space;
		}
		/* Sums the data as it copies if skb->ip_summed says so. */
		err = skb_copy_to_page_nocache(sk, &msg->msg_iter, skb,
					       pfrag->page, pfrag->offset,
					       copy);
		if (err) {
			xtcp_remove_empty_skb(sk);
			goto do_error;
		}
		if (merge) {
			skb_frag_size_add(&skb_shinfo(skb)->frags[i - 1], copy);
		} else {
			skb_fill_page_desc(skb, i, pfrag->page, pfrag->offset,
					   copy);
			page_ref_inc(pfrag->page);
		}
		pfrag->offset += copy;
		XTCP_SKB_CB(skb)->end_seq += copy;
		xs->write_seq += copy;
		copied += copy;
		continue;

wait_for_space:
		set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		xtcp_write_xmit(sk, true);
		err = sk_stream_wait_memory(sk, &timeo);
		if (err)
			goto do_error;
		if (sk->sk_err || (sk->sk_shutdown & SEND_SHUTDOWN)) {
			err = -EPIPE;
			goto do_error;
		}
	}
	xtcp_push(sk, flags);
	release_sock(sk);
	return copied;

do_error:
	if (copied) {
		xtcp_push(sk, flags);
		release_sock(sk);
		return copied;
	}
	err = sk_stream_error(sk, flags, err);
	release_sock(sk);
	return err;
}

/*
 * As tcp_ioctl(): EINVAL on a listener, and nothing queued either way
 * during the handshake, whose SYN is not data.
 */
static int xtcp_ioctl(struct sock *sk, int cmd, int *karg)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int state = inet_sk_state_load(sk);
	bool handshake = (1 << state) & (TCPF_SYN_SENT | TCPF_SYN_RECV);

	if (state == TCP_LISTEN &&
	    (cmd == SIOCINQ || cmd == SIOCOUTQ || cmd == SIOCOUTQNSD))
		return -EINVAL;

	switch (cmd) {
	case SIOCINQ:
		*karg = handshake ? 0 : xtcp_inq(sk);
		return 0;
	case SIOCOUTQ:
		*karg = handshake ? 0 : READ_ONCE(xs->write_seq) -
					READ_ONCE(xs->snd_una);
		return 0;
	case SIOCOUTQNSD:
		*karg = handshake ? 0 : READ_ONCE(xs->write_seq) -
					READ_ONCE(xs->snd_nxt);
		return 0;
	default:
		return -ENOIOCTLCMD;
	}
}

XTCP_DEFINE_IOCTL_COMPAT(xtcp_ioctl);

static void xtcp_destroy_sock(struct sock *sk)
{
	xtcp_timers_stop(sk);
	xtcp_purge_queues(sk);
}

static void xtcp_unhash(struct sock *sk)
{
	xtcp_ehash_remove(sk);
}

struct proto xtcp_prot = {
	.name = "XTCP",
	.owner = THIS_MODULE,
	.init = xtcp_init_sock,
	.destroy = xtcp_destroy_sock,
	.close = xtcp_close,
	.pre_connect = xtcp_v4_pre_connect,
	.connect = xtcp_v4_connect,
	.disconnect = xtcp_disconnect,
	.accept = XTCP_PROTO_ACCEPT,
	.ioctl = XTCP_PROTO_IOCTL(xtcp_ioctl),
	.shutdown = xtcp_shutdown,
	.sendmsg = xtcp_sendmsg,
	.recvmsg = xtcp_recvmsg,
	.setsockopt = xtcp_setsockopt,
	.getsockopt = xtcp_getsockopt,
	.keepalive = xtcp_keepalive,
	.stream_memory_free = xtcp_stream_memory_free,
	.backlog_rcv = xtcp_do_rcv,
	.release_cb = xtcp_release_cb,
	.unhash = xtcp_unhash,
	.get_port = xtcp_get_port,
	.put_port = xtcp_put_port,
	.memory_allocated = &xtcp_memory_allocated,
	.per_cpu_fw_alloc = &xtcp_memory_per_cpu_fw_alloc,
	.sockets_allocated = &xtcp_sockets_allocated,
	.memory_pressure = &xtcp_memory_pressure,
	.enter_memory_pressure = xtcp_enter_memory_pressure,
	.leave_memory_pressure = xtcp_leave_memory_pressure,
	.sysctl_mem = xtcp_sysctl_mem,
	.sysctl_rmem = xtcp_sysctl_rmem,
	.sysctl_wmem = xtcp_sysctl_wmem,
	.no_autobind = true,
	.obj_size = sizeof(struct xtcp_sock),
	.slab_flags = SLAB_ACCOUNT,
};

static __poll_t xtcp_poll(struct file *file, struct socket *sock,
			  poll_table *wait)
{
	struct sock *sk = sock->sk;
	__poll_t mask = 0;
	u8 shutdown;
	int state;

	sock_poll_wait(file, sock, wait);

	state = inet_sk_state_load(sk);
	if (state == TCP_LISTEN)
		return READ_ONCE(xtcp_sk(sk)->accept_ready) ?
		       EPOLLIN | EPOLLRDNORM : 0;

	/* As tcp_poll(): HUP when both directions are shut or closed. */
	shutdown = READ_ONCE(sk->sk_shutdown);
	if (shutdown == SHUTDOWN_MASK || state == TCP_CLOSE)
		mask |= EPOLLHUP;
	if (shutdown & RCV_SHUTDOWN)
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;

	if (state != TCP_SYN_SENT && state != TCP_SYN_RECV) {
		if (xtcp_inq(sk))
			mask |= EPOLLIN | EPOLLRDNORM;
		if (!(shutdown & SEND_SHUTDOWN)) {
			if (__sk_stream_is_writeable(sk, 1)) {
				mask |= EPOLLOUT | EPOLLWRNORM;
			} else {
				set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
				/* Pairs with the ACK path freeing space before
				 * it tests SOCK_NOSPACE: one of us sees the
				 * other (as in tcp_poll()).
				 */
				smp_mb__after_atomic();
				if (__sk_stream_is_writeable(sk, 1))
					mask |= EPOLLOUT | EPOLLWRNORM;
			}
		} else {
			mask |= EPOLLOUT | EPOLLWRNORM;
		}
	}

	/* sk_err is set before the state change that woke us. */
	smp_rmb();
	if (READ_ONCE(sk->sk_err) ||
	    !skb_queue_empty_lockless(&sk->sk_error_queue))
		mask |= EPOLLERR;
	return mask;
}

const struct proto_ops xtcp_stream_ops = {
	.family = PF_INET,
	.owner = THIS_MODULE,
	.release = inet_release,
	.bind = inet_bind,
	.connect = inet_stream_connect,
	.socketpair = sock_no_socketpair,
	.accept = inet_accept,
	.getname = inet_getname,
	.poll = xtcp_poll,
	.ioctl = inet_ioctl,
	.gettstamp = sock_gettstamp,
	.listen = xtcp_listen,
	.shutdown = inet_shutdown,
	.setsockopt = sock_common_setsockopt,
	.getsockopt = sock_common_getsockopt,
	.sendmsg = inet_sendmsg,
	.recvmsg = inet_recvmsg,
	.mmap = sock_no_mmap,
};

/* The same for AF_INET6: IPv6 names, binding and ioctls (inet6_stream_ops). */
const struct proto_ops xtcp6_stream_ops = {
	.family = PF_INET6,
	.owner = THIS_MODULE,
	.release = inet6_release,
	.bind = inet6_bind,
	.connect = inet_stream_connect,
	.socketpair = sock_no_socketpair,
	.accept = inet_accept,
	.getname = inet6_getname,
	.poll = xtcp_poll,
	.ioctl = inet6_ioctl,
	.gettstamp = sock_gettstamp,
	.listen = xtcp_listen,
	.shutdown = inet_shutdown,
	.setsockopt = sock_common_setsockopt,
	.getsockopt = sock_common_getsockopt,
	.sendmsg = inet_sendmsg,
	.recvmsg = inet_recvmsg,
	.mmap = sock_no_mmap,
};
