// SPDX-License-Identifier: GPL-2.0
/*
 * Passive open: listen(), a SYN reaching a listener, the children it
 * creates and the accept queue they wait on until accept() (RFC 9293
 * 3.10.7.2, after net/ipv4/tcp_minisocks.c and inet_connection_sock.c).
 *
 * A SYN creates only a small half-open entry (request.c); the child, a
 * full socket, is created when the ACK of our SYN-ACK completes the
 * handshake (or returns a SYN cookie), hashed like any connection and put
 * on its listener's accept list, ready for accept().
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
	return READ_ONCE(xtcp_sk(sk)->req_count) +
	       READ_ONCE(xtcp_sk(sk)->accept_pending) >=
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
	xtcp_req_flush(sk);
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
	xs->sack_ok = 1;
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
	xtcp_sk(child)->af_ops = xtcp_af_ops_of_skb(skb);
	xtcp_sk(child)->af_ops->child_init(child, skb);
	/* An IPv4 client of an AF_INET6 listener (IPv4-mapped). */
	if (xtcp_sk_is_v6(child) && skb->protocol == htons(ETH_P_IP))
		xtcp_v6_mapped_child_init(child, skb);
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
	struct xtcp_tx_meta m;
	struct xtcp_tuple t;
	u32 isn, ts_off;

	xtcp_tuple_of_skb(skb, &t);
	isn = xtcp_cookie_init_seq(&t, cb->seq, &mss);
	synack.mss = xtcp_af_ops_of_skb(skb)->reply_mss(skb);
	if (xtcp_sk(sk)->user_mss)
		synack.mss = min(synack.mss, xtcp_sk(sk)->user_mss);
	/* Without timestamps the window scale and SACK cannot be kept:
	 * none (as Linux's cookie_init_timestamp()).
	 */
	if (opts->ts_ok) {
		xtcp_secure_seq(&t, &ts_off);
		synack.ts_ok = 1;
		synack.sack_ok = opts->sack_ok &&
				 xtcp_knob(sock_net(sk), XTCP_KNOB_SACK);
		synack.tsval = xtcp_cookie_tsval(xtcp_clock_ms() + ts_off,
						 opts->wscale,
						 synack.sack_ok);
		synack.tsecr = opts->tsval;
		if (opts->wscale >= 0)
			synack.wscale = xtcp_select_wscale(sk);
	}
	xtcp_listener_tx_meta(sk, &t, &m);
	xtcp_send_reply(sock_net(sk), skb, &m, isn, cb->seq + 1,
			XTCPHDR_SYN | XTCPHDR_ACK,
			xtcp_initial_rcv_wnd(sk), &synack);
	WRITE_ONCE(xtcp_sk(sk)->last_cookie, jiffies);
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_SYNCOOKIESSENT);
}

/*
 * The child of a completed handshake (RFC 9293 3.10.7.4, SYN_RCVD: the ACK
 * of our SYN-ACK), as Linux's tcp_create_openreq_child(): from a half-open
 * entry or from a SYN cookie, with what the SYN said in @syn, our ISN
 * @iss, the peer's @irs, and the flow hash @txhash its segments had.
 * Hashed and on the accept list; then the ACK is processed in SYN_RCVD as
 * for any socket, which establishes it. Consumes @skb; true if the child
 * was created.
 */
static bool xtcp_child_complete(struct sock *sk, struct sk_buff *skb,
				const struct xtcp_opts *opts,
				const struct xtcp_opts *syn, u32 irs, u32 iss,
				u32 txhash)
{
	struct xtcp_sock *xs;
	struct sock *child;

	local_bh_disable();
	child = xtcp_child_clone(sk, skb);
	if (!child)
		goto drop;
	/* sk_clone_lock() returned the child locked; tell sparse. */
	__acquire(&child->sk_lock.slock);
	if (xtcp_sk(child)->af_ops->child_route(child))
		goto free_child;
	/* The window of this ACK is scaled: the ACK itself sets it. */
	xtcp_child_init_seq(child, irs, 0, syn);
	/* Our SYN-ACK, sent and gone: the ACK acknowledges it. */
	xs = xtcp_sk(child);
	child->sk_txhash = txhash;
	xs->iss = iss;
	xs->snd_una = iss;
	xs->snd_nxt = iss + 1;
	xs->write_seq = iss + 1;
	if (xtcp_child_hash(sk, child))
		goto free_child;
	xtcp_rcv_state_process(child, skb, opts);
	bh_unlock_sock(child);
	/* sk_clone_lock() gave two references: one stays with the owner
	 * (the accept list, then the file), the table took its own.
	 */
	sock_put(child);
	local_bh_enable();
	return true;

free_child:
	xtcp_child_free(child);
drop:
	local_bh_enable();
	kfree_skb(skb);
	return false;
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
	struct xtcp_tuple t;
	u16 mss;

	if (!cookies || !last || time_after(jiffies, last + 120 * HZ))
		return false;
	xtcp_tuple_of_skb(skb, &t);
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
		syn.sack_ok = xtcp_cookie_sack(opts->tsecr);
	}
	xtcp_child_complete(sk, skb, opts, &syn, cb->seq - 1,
			    cb->ack_seq - 1, net_tx_rndhash());
	return true;
}

/**
 * xtcp_conn_request() - a SYN reached a listener: a half-open entry
 * @sk: the listener, locked
 * @skb: the SYN, control block and options filled
 * @opts: its options
 *
 * The entry (request.c) sends the SYN-ACK and keeps what the handshake
 * needs; the socket comes with the ACK (xtcp_req_rcv()).
 *
 * Context: softirq (listener locked) or backlog processing.
 */
void xtcp_conn_request(struct sock *sk, struct sk_buff *skb,
		       const struct xtcp_opts *opts)
{
	int cookies = xtcp_knob(sock_net(sk), XTCP_KNOB_SYNCOOKIES);

	if (xtcp_acceptq_is_full(sk) ||
	    (!cookies && xtcp_synq_is_full(sk))) {
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_LISTENDROPS);
		return;
	}
	if (cookies == 2 || (cookies && xtcp_synq_is_full(sk))) {
		xtcp_send_cookie(sk, skb, opts);
		return;
	}

	/* From the backlog (release_sock()) this runs with BHs enabled;
	 * the SYN-ACK on loopback would run the receive softirq right
	 * here, and the peer's ACK spin on the listener's lock.
	 */
	local_bh_disable();
	/* Without an entry the SYN is dropped; the peer sends it again. */
	xtcp_req_create(sk, skb, opts);
	local_bh_enable();
}

/* RFC 9293 3.10.7.4 first step, for an entry: rcv_nxt is irs + 1. */
static bool xtcp_req_sequence_ok(const struct xtcp_req *req, u32 wnd,
				 const struct xtcp_skb_cb *cb, u32 len)
{
	u32 rcv_nxt = req->irs + 1;

	if (!len && !wnd)
		return cb->seq == rcv_nxt;
	if (!len)
		return !xtcp_before(cb->seq, rcv_nxt) &&
		       xtcp_before(cb->seq, rcv_nxt + wnd);
	if (!wnd)
		return false;
	return xtcp_before(cb->seq, rcv_nxt + wnd) &&
	       xtcp_after(cb->end_seq, rcv_nxt);
}

/* An ACK from the entry, at most one per invalid_ratelimit. */
static void xtcp_req_answer(struct xtcp_req *req, enum xtcp_mib_field mib)
{
	if (!xtcp_oow_rate_limited(sock_net(req->listener),
				   &req->last_oow_ack, mib))
		xtcp_req_send_ack(req);
}

/*
 * A segment for a half-open entry, in the order a socket in SYN_RCVD
 * checks it (xtcp_rcv_state_process(), as Linux's tcp_check_req()): only
 * an acceptable ACK of our SYN-ACK creates the socket. Consumes @skb.
 */
static void xtcp_req_rcv(struct sock *sk, struct xtcp_req *req,
			 struct sk_buff *skb, const struct xtcp_opts *opts)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	u32 len = cb->end_seq - cb->seq;
	struct net *net = sock_net(sk);
	struct xtcp_opts syn = {
		.mss = req->peer_mss,
		.wscale = req->snd_wscale,
		.ts_ok = req->ts_ok,
		.sack_ok = req->sack_ok,
		.tsval = req->ts_recent,
	};
	u32 wnd;

	local_bh_disable();
	/* A retransmitted SYN: the SYN-ACK again, but not once per copy a
	 * forger sends.
	 */
	if ((cb->flags & (XTCPHDR_SYN | XTCPHDR_ACK)) == XTCPHDR_SYN &&
	    cb->seq == req->irs) {
		if (!xtcp_oow_rate_limited(net, &req->last_oow_ack,
					   XTCP_MIB_ACKSKIPPEDSYNRECV)) {
			xtcp_req_send_synack(req);
			XTCP_INC_STATS(net, XTCP_MIB_RETRANSSEGS);
		}
		goto drop;
	}

	/* PAWS (RFC 7323 section 5.3), then the first step. */
	if (req->ts_ok && opts->ts_ok && !(cb->flags & XTCPHDR_RST) &&
	    (s32)(opts->tsval - req->ts_recent) < 0) {
		if (len || !xtcp_oow_rate_limited(net, &req->last_oow_ack,
						  XTCP_MIB_ACKSKIPPEDSEQ))
			xtcp_req_send_ack(req);
		goto drop;
	}
	wnd = xtcp_initial_rcv_wnd(sk);
	if (!xtcp_req_sequence_ok(req, wnd, cb, len)) {
		if (!(cb->flags & XTCPHDR_RST) &&
		    (len || !xtcp_oow_rate_limited(net, &req->last_oow_ack,
						   XTCP_MIB_ACKSKIPPEDSEQ)))
			xtcp_req_send_ack(req);
		goto drop;
	}

	/* Second step: RST (RFC 5961 section 3.2): back to LISTEN. */
	if (cb->flags & XTCPHDR_RST) {
		if (cb->seq != req->irs + 1) {
			xtcp_req_answer(req, XTCP_MIB_ACKSKIPPEDCHALLENGE);
			goto drop;
		}
		XTCP_INC_STATS(net, XTCP_MIB_ATTEMPTFAILS);
		xtcp_req_drop(req);
		goto drop;
	}

	/* Fourth step: SYN in a synchronized state (RFC 5961 section 4). */
	if (cb->flags & XTCPHDR_SYN) {
		xtcp_req_answer(req, XTCP_MIB_ACKSKIPPEDCHALLENGE);
		goto drop;
	}

	/* Fifth step: ACK; in SYN_RCVD only the one of our SYN-ACK. */
	if (!(cb->flags & XTCPHDR_ACK))
		goto drop;
	if (cb->ack_seq != req->iss + 1) {
		xtcp_send_reset(net, skb);
		goto drop;
	}
	/* No room to accept: the entry stays, the peer sends its ACK (or
	 * data) again, or the SYN-ACK timer does.
	 */
	if (xtcp_acceptq_is_full(sk)) {
		XTCP_INC_STATS(net, XTCP_MIB_LISTENDROPS);
		goto drop;
	}
	/* The child takes over; segments that wait meanwhile for the
	 * listener's lock find it (xtcp_listen_handover()). Without one
	 * the entry stays, and the peer's next ACK may do better.
	 */
	if (xtcp_child_complete(sk, skb, opts, &syn, req->irs, req->iss,
				req->txhash))
		xtcp_req_drop(req);
	local_bh_enable();
	return;

drop:
	local_bh_enable();
	kfree_skb(skb);
}

/*
 * A segment for a listener that no entry claims, but whose 4-tuple may
 * have just become a connection: the child was created while the segment
 * waited for the listener's lock. Hand it over. True if consumed.
 */
static bool xtcp_listen_handover(struct sock *sk, struct sk_buff *skb,
				 const struct xtcp_tuple *t)
{
	struct sock *child = xtcp_ehash_lookup(sock_net(sk), t);

	if (!child)
		return false;
	local_bh_disable();
	bh_lock_sock(child);
	if (!sock_owned_by_user(child))
		xtcp_do_rcv(child, skb);
	else if (sk_add_backlog(child, skb, READ_ONCE(child->sk_rcvbuf) +
					    READ_ONCE(child->sk_sndbuf)))
		kfree_skb_reason(skb, SKB_DROP_REASON_SOCKET_BACKLOG);
	bh_unlock_sock(child);
	local_bh_enable();
	sock_put(child);
	return true;
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
	struct xtcp_req *req;
	struct xtcp_tuple t;

	xtcp_tuple_of_skb(skb, &t);
	req = xtcp_req_lookup(sk, &t);
	if (req) {
		xtcp_req_rcv(sk, req, skb, opts);
		return;
	}
	if (!(cb->flags & XTCPHDR_SYN) && xtcp_listen_handover(sk, skb, &t))
		return;
	if (cb->flags & XTCPHDR_RST)
		goto drop;
	if (cb->flags & XTCPHDR_ACK) {
		if (!(cb->flags & XTCPHDR_SYN) && xtcp_cookie_ack(sk, skb, opts))
			return;
		xtcp_send_reset(sock_net(sk), skb);
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
