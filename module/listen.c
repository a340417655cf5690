// SPDX-License-Identifier: GPL-2.0
/*
 * Passive open: listen(), a SYN reaching a listener, the children it
 * creates and the accept queue they wait on until accept() (RFC 9293
 * 3.10.7.2, after net/ipv4/tcp_minisocks.c and inet_connection_sock.c).
 *
 * A child is a full socket from the first SYN on: created in SYN_RCVD,
 * hashed like any connection and put on its listener's accept list, where
 * it becomes ready for accept() once the handshake completes.
 *
 * Locking: the accept list, the child's place and readiness on it and the
 * listener's two counts change only in the xtcp_acceptq_*() helpers below,
 * under the listener's accept_lock (BHs off): children change state in
 * softirq holding only their own socket lock, and the listener's owner
 * runs accept() and close() holding only the listener's. Whoever takes a
 * child off the list owns its fate: accept(), the listener's close(), or
 * the child's own abort.
 */

#include <linux/sched/signal.h>
#include <net/inet_common.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "xtcp.h"

/*
 * A full accept queue drops the SYN, as Linux does: the peer retries, and
 * by then accept() may have made room. Full means more than the backlog
 * (sk_acceptq_is_full()): listen(fd, n) holds n + 1 connections, and
 * listen(fd, 0) one.
 */
static bool xtcp_acceptq_is_full(const struct sock *sk)
{
	return READ_ONCE(xtcp_sk(sk)->accept_ready) >
	       READ_ONCE(sk->sk_max_ack_backlog);
}

/* All max_syn_backlog half-open slots taken: SYN cookies, or a drop. */
static bool xtcp_synq_is_full(const struct sock *sk)
{
	return READ_ONCE(xtcp_sk(sk)->accept_pending) >=
	       xtcp_knob(sock_net(sk), XTCP_KNOB_MAX_SYN_BACKLOG);
}

/* A new child in SYN_RCVD joins the list. */
static void xtcp_acceptq_add(struct sock *sk, struct sock *child)
{
	struct xtcp_sock *lxs = xtcp_sk(sk);
	struct xtcp_sock *xs = xtcp_sk(child);

	spin_lock_bh(&lxs->accept_lock);
	xs->acceptq_ready = false;
	list_add_tail(&xs->accept_node, &lxs->accept_list);
	WRITE_ONCE(lxs->accept_pending, lxs->accept_pending + 1);
	spin_unlock_bh(&lxs->accept_lock);
}

/* Off the list, with its count; the caller holds accept_lock. */
static void __xtcp_acceptq_del(struct xtcp_sock *lxs, struct xtcp_sock *xs)
{
	lockdep_assert_held(&lxs->accept_lock);

	list_del_init(&xs->accept_node);
	if (xs->acceptq_ready)
		WRITE_ONCE(lxs->accept_ready, lxs->accept_ready - 1);
	else
		WRITE_ONCE(lxs->accept_pending, lxs->accept_pending - 1);
	xs->acceptq_ready = false;
}

/*
 * The child completed its handshake: behind the other ready ones, and
 * counted ready, in one step. False if it is no longer on the list.
 */
static bool xtcp_acceptq_ready(struct sock *sk, struct sock *child)
{
	struct xtcp_sock *lxs = xtcp_sk(sk);
	struct xtcp_sock *xs = xtcp_sk(child);
	bool queued = false;

	spin_lock_bh(&lxs->accept_lock);
	if (!list_empty(&xs->accept_node) && !xs->acceptq_ready) {
		list_move_tail(&xs->accept_node, &lxs->accept_list);
		WRITE_ONCE(lxs->accept_pending, lxs->accept_pending - 1);
		WRITE_ONCE(lxs->accept_ready, lxs->accept_ready + 1);
		xs->acceptq_ready = true;
		queued = true;
	}
	spin_unlock_bh(&lxs->accept_lock);
	return queued;
}

/* Take @child off the list; true if the caller did (and owns it now). */
static bool xtcp_acceptq_unlink(struct sock *sk, struct sock *child)
{
	struct xtcp_sock *lxs = xtcp_sk(sk);
	struct xtcp_sock *xs = xtcp_sk(child);
	bool owned = false;

	spin_lock_bh(&lxs->accept_lock);
	if (!list_empty(&xs->accept_node)) {
		__xtcp_acceptq_del(lxs, xs);
		owned = true;
	}
	spin_unlock_bh(&lxs->accept_lock);
	return owned;
}

/* Take the first child off the list: any, or the first ready one. */
static struct sock *xtcp_acceptq_pop(struct sock *sk, bool ready_only)
{
	struct xtcp_sock *lxs = xtcp_sk(sk);
	struct xtcp_sock *xs, *found = NULL;

	spin_lock_bh(&lxs->accept_lock);
	list_for_each_entry(xs, &lxs->accept_list, accept_node) {
		if (!ready_only || xs->acceptq_ready) {
			found = xs;
			__xtcp_acceptq_del(lxs, xs);
			break;
		}
	}
	spin_unlock_bh(&lxs->accept_lock);
	return found ? &found->inet.sk : NULL;
}

/* With the child locked: forget the listener, drop our reference on it. */
static void xtcp_child_detach(struct sock *child)
{
	struct xtcp_sock *xs = xtcp_sk(child);

	if (xs->listener) {
		sock_put(xs->listener);
		xs->listener = NULL;
	}
}

/**
 * xtcp_child_abort() - drop a passive child still in SYN_RCVD
 * @sk: the child (RST received, or SYN-ACK retries exhausted)
 *
 * RFC 9293 3.10.7.4: a passive open that gets a RST returns to LISTEN,
 * which for us means the child disappears and the listener carries on.
 *
 * Context: child locked; the caller holds a reference.
 */
void xtcp_child_abort(struct sock *sk)
{
	struct sock *listener = xtcp_sk(sk)->listener;
	bool owned = listener && xtcp_acceptq_unlink(listener, sk);

	xtcp_done(sk);
	if (!owned)
		return;		/* the listener's close() disposes of it */
	xtcp_child_detach(sk);
	sock_orphan(sk);
	sock_put(sk);		/* the owner reference */
}

/**
 * xtcp_child_ready() - a passive child reached ESTABLISHED
 * @sk: the child
 *
 * Queues it for accept() and wakes the listener.
 *
 * Context: child locked (softirq, or backlog processing).
 */
void xtcp_child_ready(struct sock *sk)
{
	struct sock *listener = xtcp_sk(sk)->listener;

	if (!listener)
		return;
	if (xtcp_acceptq_ready(listener, sk))
		listener->sk_data_ready(listener);
}

/* Listener close: dispose of every child not yet accepted. */
static void xtcp_listen_flush(struct sock *sk)
{
	struct sock *child;

	while ((child = xtcp_acceptq_pop(sk, false))) {
		local_bh_disable();
		bh_lock_sock(child);
		xtcp_child_detach(child);
		if (child->sk_state != TCP_CLOSE) {
			xtcp_send_active_reset(child, GFP_ATOMIC);
			xtcp_done(child);
		}
		sock_orphan(child);
		bh_unlock_sock(child);
		local_bh_enable();
		sock_put(child);	/* the owner reference */
	}
}

/**
 * xtcp_listen_end() - a listener closes: unhash it, reset its children
 * @sk: the listener
 *
 * Context: socket locked.
 */
void xtcp_listen_end(struct sock *sk)
{
	xtcp_set_state(sk, TCP_CLOSE);
	xtcp_listen_stop(sk);
	xtcp_listen_flush(sk);
	if (!(sk->sk_userlocks & SOCK_BINDPORT_LOCK))
		xtcp_put_port(sk);
}

/*
 * The sequence space, windows and options of a child, from the SYN
 * (RFC 9293 3.10.7.2 third step).
 */
static void xtcp_child_init_seq(struct sock *child, u32 irs, u16 window,
				const struct xtcp_opts *opts)
{
	struct xtcp_sock *xs = xtcp_sk(child);

	/* A passive open takes whatever the peer offers. */
	xs->ts_ok = 1;
	xs->wscale_ok = 1;
	xs->rcv_wscale = xtcp_select_wscale(child);
	xtcp_set_advmss(child);
	xtcp_init_rcv_seq(child, irs);
	xs->snd_wnd = window;
	xs->snd_wl1 = irs;
	xs->max_window = xs->snd_wnd;
	xs->rcv_wnd = xtcp_initial_rcv_wnd(child);
	xtcp_apply_syn_options(child, opts);

	xtcp_tuple_of_sk(child, &xs->tuple);
	xs->iss = xtcp_secure_seq(&xs->tuple, &xs->ts_off);
}

/* Free a child that never made it to the tables. */
static void xtcp_child_free(struct sock *child)
	__releases(&child->sk_lock.slock)
{
	xtcp_write_queue_purge(child);
	sk_dst_reset(child);
	/* inet_sock_destruct() wants a stream socket CLOSED. */
	__xtcp_set_state(child, TCP_CLOSE, false);
	__release(&child->sk_lock.slock);
	sk_free_unlock_clone(child);
}

/*
 * A clone of the listener in SYN_RCVD, with the state of a new connection
 * and its addresses; locked (sk_clone_lock()), or NULL.
 */
static struct sock *xtcp_child_clone(struct sock *sk, struct sk_buff *skb)
{
	struct sock *child;

	child = sk_clone_lock(sk, GFP_ATOMIC);
	if (!child)
		return NULL;
	xtcp_mem_inherit_memcg(child, sk);
	INIT_HLIST_NODE(&child->sk_bind_node);
	xtcp_init_conn(child);
	child->sk_ack_backlog = 0;
	xtcp_v4_child_init(child, skb);
	xtcp_set_state(child, TCP_SYN_RECV);
	return child;
}

/*
 * Into the tables and the accept list, with a reference on the listener;
 * -EEXIST if the 4-tuple is taken.
 */
static int xtcp_child_hash(struct sock *sk, struct sock *child)
{
	if (xtcp_ehash_insert(child))
		return -EEXIST;
	xtcp_inherit_port(child);
	sock_hold(sk);
	xtcp_sk(child)->listener = sk;
	xtcp_acceptq_add(sk, child);
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_PASSIVEOPENS);
	return 0;
}

/*
 * Answer a SYN with a cookie (syncookies.c): a SYN-ACK from no socket,
 * its ISN and TSval carrying what the connection needs.
 */
static void xtcp_send_cookie(struct sock *sk, struct sk_buff *skb,
			     const struct xtcp_opts *opts)
{
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_opts synack = { .wscale = -1 };
	u16 mss = opts->mss ?: XTCP_DEFAULT_MSS;
	struct xtcp_tuple t;
	u32 isn, ts_off;

	xtcp_v4_tuple_of_skb(skb, &t);
	isn = xtcp_cookie_init_seq(&t, cb->seq, &mss);
	synack.mss = xtcp_v4_reply_mss(skb);
	if (xtcp_sk(sk)->user_mss)
		synack.mss = min(synack.mss, xtcp_sk(sk)->user_mss);
	/* Without timestamps the window scale cannot be kept: none. */
	if (opts->ts_ok) {
		xtcp_secure_seq(&t, &ts_off);
		synack.ts_ok = 1;
		synack.tsval = xtcp_cookie_tsval(xtcp_clock_ms() + ts_off,
						 opts->wscale);
		synack.tsecr = opts->tsval;
		if (opts->wscale >= 0)
			synack.wscale = xtcp_select_wscale(sk);
	}
	xtcp_v4_send_reply(sock_net(sk), skb, isn, cb->seq + 1,
			   XTCPHDR_SYN | XTCPHDR_ACK,
			   xtcp_initial_rcv_wnd(sk), &synack);
	WRITE_ONCE(xtcp_sk(sk)->last_cookie, jiffies);
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_SYNCOOKIESSENT);
}

/*
 * An ACK at a listener: if it returns one of our cookies, the connection
 * it stands for is created as if its SYN_RCVD had been kept, and the ACK
 * processed there. Only within two minutes of the last cookie sent, as
 * Linux (tcp_synq_no_recent_overflow()): nobody gets to guess at cookies
 * the rest of the time. Returns true if @skb was consumed.
 */
static bool xtcp_cookie_ack(struct sock *sk, struct sk_buff *skb,
			    const struct xtcp_opts *opts)
{
	int cookies = xtcp_knob(sock_net(sk), XTCP_KNOB_SYNCOOKIES);
	unsigned long last = READ_ONCE(xtcp_sk(sk)->last_cookie);
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_opts syn = { .wscale = -1 };
	struct sock *child;
	struct xtcp_tuple t;
	u16 mss;

	if (!cookies || !last || time_after(jiffies, last + 120 * HZ))
		return false;
	xtcp_v4_tuple_of_skb(skb, &t);
	mss = xtcp_cookie_check(&t, cb->seq - 1, cb->ack_seq - 1);
	if (!mss) {
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_SYNCOOKIESFAILED);
		return false;
	}
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_SYNCOOKIESRECV);
	if (xtcp_acceptq_is_full(sk)) {
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_LISTENDROPS);
		kfree_skb(skb);
		return true;
	}

	syn.mss = mss;
	if (opts->ts_ok) {
		syn.ts_ok = 1;
		syn.tsval = opts->tsval;
		syn.wscale = xtcp_cookie_wscale(opts->tsecr);
	}
	local_bh_disable();
	child = xtcp_child_clone(sk, skb);
	if (!child)
		goto drop;
	__acquire(&child->sk_lock.slock);
	if (xtcp_v4_child_route(child))
		goto free_child;
	/* The window of this ACK is scaled: the ACK itself sets it. */
	xtcp_child_init_seq(child, cb->seq - 1, 0, &syn);
	/* Our SYN-ACK, sent and gone: the ACK acknowledges it. */
	xtcp_sk(child)->iss = cb->ack_seq - 1;
	xtcp_sk(child)->snd_una = cb->ack_seq - 1;
	xtcp_sk(child)->snd_nxt = cb->ack_seq;
	xtcp_sk(child)->write_seq = cb->ack_seq;
	if (xtcp_child_hash(sk, child))
		goto free_child;
	xtcp_rcv_state_process(child, skb, opts);
	bh_unlock_sock(child);
	sock_put(child);
	local_bh_enable();
	return true;

free_child:
	xtcp_child_free(child);
drop:
	local_bh_enable();
	kfree_skb(skb);
	return true;
}

/**
 * xtcp_conn_request() - a SYN reached a listener: create the child
 * @sk: the listener, locked
 * @skb: the SYN, control block and options filled
 * @opts: its options
 *
 * The child is a full socket in SYN_RCVD, hashed like any connection and
 * kept on the listener's accept list until accept() takes it.
 *
 * Context: softirq (listener locked) or backlog processing.
 */
void xtcp_conn_request(struct sock *sk, struct sk_buff *skb,
		       const struct xtcp_opts *opts)
{
	int cookies = xtcp_knob(sock_net(sk), XTCP_KNOB_SYNCOOKIES);
	struct sock *child;

	if (xtcp_acceptq_is_full(sk) ||
	    (!cookies && xtcp_synq_is_full(sk))) {
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_LISTENDROPS);
		return;
	}
	if (cookies == 2 || (cookies && xtcp_synq_is_full(sk))) {
		xtcp_send_cookie(sk, skb, opts);
		return;
	}

	/* From the backlog (release_sock()) this runs with BHs enabled.
	 * The SYN-ACK sent below with the child locked would then run the
	 * receive softirq right here on loopback, and the peer's ACK would
	 * spin forever on the child's lock: keep BHs off until it is free.
	 */
	local_bh_disable();
	child = xtcp_child_clone(sk, skb);
	if (!child)
		goto out;
	/* sk_clone_lock() returned the child locked; tell sparse. */
	__acquire(&child->sk_lock.slock);
	if (xtcp_v4_child_route(child))
		goto free_child;
	xtcp_child_init_seq(child, XTCP_SKB_CB(skb)->seq,
			    ntohs(tcp_hdr(skb)->window), opts);
	/* RFC 6191: a SYN that replaced a TIME_WAIT bucket gets an ISN
	 * above anything that connection sent (xtcp_tw_rcv() chose it).
	 */
	if (XTCP_SKB_CB(skb)->tw_isn)
		xtcp_sk(child)->iss = XTCP_SKB_CB(skb)->tw_isn;
	/* Without a SYN-ACK queued, nothing would ever end the child:
	 * drop the SYN instead, the peer sends it again.
	 */
	if (xtcp_queue_syn(child))
		goto free_child;
	if (xtcp_child_hash(sk, child))
		goto free_child;
	xtcp_write_xmit(child, true);

	bh_unlock_sock(child);
	/* sk_clone_lock() gave two references: one stays with the owner
	 * (the accept list, then the file), the table took its own.
	 */
	sock_put(child);
	goto out;

free_child:
	xtcp_child_free(child);
out:
	local_bh_enable();
}

/**
 * xtcp_listen_rcv() - a segment for a listener (RFC 9293 3.10.7.2)
 * @sk: the listener, locked
 * @skb: the segment, consumed
 * @opts: its options
 *
 * Context: softirq (listener locked) or backlog processing.
 */
void xtcp_listen_rcv(struct sock *sk, struct sk_buff *skb,
		     const struct xtcp_opts *opts)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

	if (cb->flags & XTCPHDR_RST)
		goto drop;
	if (cb->flags & XTCPHDR_ACK) {
		if (!(cb->flags & XTCPHDR_SYN) && xtcp_cookie_ack(sk, skb, opts))
			return;
		xtcp_v4_send_reset(sock_net(sk), skb);
		goto drop;
	}
	if (cb->flags & XTCPHDR_SYN)
		xtcp_conn_request(sk, skb, opts);
drop:
	kfree_skb(skb);
}

/**
 * xtcp_listen() - struct proto_ops .listen
 * @sock: the socket
 * @backlog: the accept queue's length
 *
 * Context: process context.
 * Return: 0 or -errno.
 */
int xtcp_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	int err;

	lock_sock(sk);
	err = -EINVAL;
	if (sock->state != SS_UNCONNECTED || sock->type != SOCK_STREAM)
		goto out;
	WRITE_ONCE(sk->sk_max_ack_backlog, backlog);
	err = 0;
	if (sk->sk_state == TCP_LISTEN)
		goto out;
	err = -EINVAL;
	if (sk->sk_state != TCP_CLOSE)
		goto out;

	if (!inet_sk(sk)->inet_num) {
		err = -EAGAIN;
		if (xtcp_get_port(sk, 0))
			goto out;
		inet_sk(sk)->inet_sport = htons(inet_sk(sk)->inet_num);
	}
	err = xtcp_listen_start(sk);
	if (err)
		goto out;
	sk->sk_ack_backlog = 0;
	xtcp_set_state(sk, TCP_LISTEN);
out:
	release_sock(sk);
	return err;
}

static long xtcp_wait_for_connect(struct sock *sk, long timeo)
{
	struct xtcp_sock *lxs = xtcp_sk(sk);
	DEFINE_WAIT(wait);
	int err;

	for (;;) {
		prepare_to_wait_exclusive(sk_sleep(sk), &wait,
					  TASK_INTERRUPTIBLE);
		release_sock(sk);
		if (!READ_ONCE(lxs->accept_ready))
			timeo = schedule_timeout(timeo);
		sched_annotate_sleep();
		lock_sock(sk);
		err = 0;
		if (READ_ONCE(lxs->accept_ready))
			break;
		err = -EINVAL;
		if (sk->sk_state != TCP_LISTEN)
			break;
		err = sock_intr_errno(timeo);
		if (signal_pending(current))
			break;
		err = -EAGAIN;
		if (!timeo)
			break;
	}
	finish_wait(sk_sleep(sk), &wait);
	return err;
}

/**
 * xtcp_accept() - struct proto .accept
 * @sk: the listener
 * @arg: flags in, errno out
 *
 * Context: process context.
 * Return: the first ready child, or NULL with @arg->err set.
 */
struct sock *xtcp_accept(struct sock *sk, struct proto_accept_arg *arg)
{
	struct xtcp_sock *lxs = xtcp_sk(sk);
	struct sock *child = NULL;
	int err;

	lock_sock(sk);
	err = -EINVAL;
	if (sk->sk_state != TCP_LISTEN)
		goto out;

	if (!READ_ONCE(lxs->accept_ready)) {
		long timeo = sock_rcvtimeo(sk, arg->flags & O_NONBLOCK);

		err = -EAGAIN;
		if (!timeo)
			goto out;
		err = xtcp_wait_for_connect(sk, timeo);
		if (err)
			goto out;
	}

	/* Ready children sit behind the SYN_RCVD ones in arrival order. */
	child = xtcp_acceptq_pop(sk, true);
	err = -EAGAIN;
	if (!child)
		goto out;

	local_bh_disable();
	bh_lock_sock(child);
	xtcp_child_detach(child);
	bh_unlock_sock(child);
	local_bh_enable();
	err = 0;
out:
	release_sock(sk);
	arg->err = err;
	return child;
}
