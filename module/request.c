// SPDX-License-Identifier: GPL-2.0
/*
 * Half-open passive connections (SYN_RCVD): a SYN to a listener creates a
 * small entry, not a socket, as Linux's request_sock (tcp_conn_request(),
 * reqsk_timer_handler()). The entry answers with the SYN-ACK, resends it
 * from its own timer and is replaced by a full socket only when the ACK
 * of it arrives (listen.c). The entries live in xtcp's own request table
 * (hash.c), not in inet's request-sock machinery, which would fall back
 * to TCP's hash table (Documentation/xtcp-internals.rst "Half-open
 * connections").
 *
 * Lifetime: an entry has two references, one for being hashed and on its
 * listener's list, one for its pending timer. Whoever unlinks it (the ACK
 * that completes it, a RST, its timer giving up, the listener's close)
 * marks it dead and drops the first; the timer's goes when the timer is
 * deleted while pending, or when the handler finds the entry dead. The
 * last put frees the entry after an RCU grace period and releases the
 * listener, which pins the namespace and the module.
 *
 * Locking: entries change under their listener's socket lock: in softirq
 * its spinlock with the socket not owned, or as the owner (backlog
 * processing, close()). The timer takes the spinlock and, when the owner
 * has the socket, only tries again later; so an owner that kills an entry
 * sets @dead under the spinlock, where the timer looks.
 */

#include <linux/slab.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "xtcp.h"

/* How soon a timer that found its listener owned tries again. */
#define XTCP_REQ_RETRY	(HZ / 20)

static struct kmem_cache *xtcp_req_cachep __read_mostly;

/* The listener's lock is held in one of its two forms. */
static void xtcp_req_assert_locked(const struct sock *sk)
{
	if (sock_owned_by_user_nocheck(sk))
		sock_owned_by_me(sk);
	else
		lockdep_assert_held(&sk->sk_lock.slock);
}

static void xtcp_req_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(xtcp_req_cachep,
			container_of(head, struct xtcp_req, rcu));
}

static void xtcp_req_put(struct xtcp_req *req)
{
	struct sock *sk = req->listener;

	if (!refcount_dec_and_test(&req->refcnt))
		return;
	call_rcu(&req->rcu, xtcp_req_free_rcu);
	sock_put(sk);
}

/* SYN-ACK timeouts back off from the initial RTO (RFC 6298 2.1, 5.5). */
static unsigned long xtcp_req_timeout(const struct xtcp_req *req)
{
	return min_t(unsigned long,
		     (unsigned long)XTCP_TIMEOUT_INIT << req->retransmits,
		     XTCP_RTO_MAX);
}

/* The window a SYN-ACK or a later ACK of the entry announces, unscaled. */
static u32 xtcp_req_rcv_wnd(const struct xtcp_req *req)
{
	return xtcp_initial_rcv_wnd(req->listener);
}

static void xtcp_req_fill_ts(const struct xtcp_req *req,
			     struct xtcp_opts *opts)
{
	if (req->ts_ok) {
		opts->ts_ok = 1;
		opts->tsval = xtcp_clock_ms() + req->ts_off;
		opts->tsecr = req->ts_recent;
	}
}

/**
 * xtcp_listener_tx_meta() - how a listener's segments of no socket leave
 * @sk: the listener
 * @t: the 4-tuple of the segment, seen from this host
 * @m: filled: the listener's mark, device, TOS or traffic class and flow
 *	label; no flow hash
 *
 * An IPv4-mapped 4-tuple of an AF_INET6 listener leaves as IPv4, with
 * the listener's IPv4 TOS, as TCP's SYN-ACKs do.
 *
 * Context: listener locked, or its fields read once.
 */
void xtcp_listener_tx_meta(const struct sock *sk, const struct xtcp_tuple *t,
			   struct xtcp_tx_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->mark = READ_ONCE(sk->sk_mark);
	m->oif = READ_ONCE(sk->sk_bound_dev_if);
	if (sk->sk_family == AF_INET6 && !ipv6_addr_v4mapped(&t->raddr)) {
		const struct ipv6_pinfo *np = inet6_sk(sk);

		m->tos = READ_ONCE(np->tclass);
		m->flowlabel = np->flow_label;
		m->autolabel = xtcp_ip6_autoflowlabel(sock_net(sk), sk);
	} else {
		m->tos = READ_ONCE(inet_sk(sk)->tos);
	}
}

/* The entry's: the listener's, with its own flow hash and label. */
static void xtcp_req_tx_meta(const struct xtcp_req *req,
			     struct xtcp_tx_meta *m)
{
	xtcp_listener_tx_meta(req->listener, &req->tuple, m);
	m->txhash = req->txhash;
	if (req->flowlabel)
		m->flowlabel = req->flowlabel;
}

/**
 * xtcp_req_send_synack() - send or resend the SYN-ACK of an entry
 * @req: the entry
 *
 * Context: listener locked, BHs off.
 */
void xtcp_req_send_synack(struct xtcp_req *req)
{
	struct xtcp_opts opts = { .wscale = -1 };
	struct sock *sk = req->listener;
	struct xtcp_tx_meta m;

	opts.mss = req->advmss;
	/* A SYN-ACK answers what the peer offered. */
	if (req->snd_wscale >= 0)
		opts.wscale = xtcp_select_wscale(sk);
	opts.sack_ok = req->sack_ok;
	xtcp_req_fill_ts(req, &opts);
	xtcp_req_tx_meta(req, &m);
	xtcp_send_tuple(sock_net(sk), &req->tuple, &m, req->iss,
			req->irs + 1, XTCPHDR_SYN | XTCPHDR_ACK,
			min(xtcp_req_rcv_wnd(req), 65535U), &opts);
}

/**
 * xtcp_req_send_ack() - an ACK of the entry's SYN_RCVD state
 * @req: the entry
 *
 * The answer to a segment out of window or a challenge (RFC 5961), as a
 * SYN_RCVD socket would send it.
 *
 * Context: listener locked, BHs off.
 */
void xtcp_req_send_ack(struct xtcp_req *req)
{
	struct xtcp_opts opts = { .wscale = -1 };
	struct sock *sk = req->listener;
	u8 shift = req->snd_wscale >= 0 ? xtcp_select_wscale(sk) : 0;
	struct xtcp_tx_meta m;

	xtcp_req_fill_ts(req, &opts);
	xtcp_req_tx_meta(req, &m);
	xtcp_send_tuple(sock_net(sk), &req->tuple, &m, req->iss + 1,
			req->irs + 1, XTCPHDR_ACK,
			xtcp_req_rcv_wnd(req) >> shift, &opts);
}

/* Off the table and the list, dead to the timer. */
static void xtcp_req_unlink(struct sock *sk, struct xtcp_req *req)
{
	struct xtcp_sock *lxs = xtcp_sk(sk);

	xtcp_req_assert_locked(sk);
	if (sock_owned_by_user_nocheck(sk)) {
		spin_lock_bh(&sk->sk_lock.slock);
		WRITE_ONCE(req->dead, 1);
		spin_unlock_bh(&sk->sk_lock.slock);
	} else {
		WRITE_ONCE(req->dead, 1);
	}
	xtcp_reqhash_remove(sock_net(sk), req);
	hlist_del(&req->list_node);
	WRITE_ONCE(lxs->req_count, lxs->req_count - 1);
}

/**
 * xtcp_req_drop() - forget a half-open connection
 * @req: the entry, hashed; freed once its timer lets go of it
 *
 * Context: listener locked (softirq or as the owner), not from the
 * entry's own timer.
 */
void xtcp_req_drop(struct xtcp_req *req)
{
	xtcp_req_unlink(req->listener, req);
	/* A running handler finds it dead and drops its own reference. */
	if (timer_delete(&req->timer))
		xtcp_req_put(req);
	xtcp_req_put(req);
}

static void xtcp_req_timer(struct timer_list *t)
{
	struct xtcp_req *req = from_timer(req, t, timer);
	struct sock *sk = req->listener;
	struct net *net = sock_net(sk);
	bool put = true;

	bh_lock_sock(sk);
	if (READ_ONCE(req->dead))
		goto out;
	if (sock_owned_by_user(sk)) {
		mod_timer(&req->timer, jiffies + XTCP_REQ_RETRY);
		put = false;
		goto out;
	}
	/* A passive open answers to synack_retries only (RFC 9293
	 * 3.8.3 R2 for a SYN: give up after a while, back to LISTEN).
	 */
	if (req->retransmits >= xtcp_knob(net, XTCP_KNOB_SYNACK_RETRIES)) {
		XTCP_INC_STATS(net, XTCP_MIB_ATTEMPTFAILS);
		xtcp_req_unlink(sk, req);
		xtcp_req_put(req);	/* the table's; ours below */
		goto out;
	}
	/* As TCP's tcp_rtx_synack(): perhaps another path. */
	if (READ_ONCE(sk->sk_txrehash) == SOCK_TXREHASH_ENABLED)
		req->txhash = net_tx_rndhash();
	xtcp_req_send_synack(req);
	XTCP_INC_STATS(net, XTCP_MIB_RETRANSSEGS);
	req->retransmits++;
	mod_timer(&req->timer, jiffies + xtcp_req_timeout(req));
	put = false;
out:
	bh_unlock_sock(sk);
	if (put)
		xtcp_req_put(req);
}

/**
 * xtcp_req_create() - a SYN for a listener: the half-open entry
 * @sk: the listener
 * @skb: the SYN, control block filled
 * @opts: its options
 *
 * Hashes the entry, puts it on the listener's list, sends the SYN-ACK and
 * arms its timer.
 *
 * Context: listener locked (softirq or backlog processing), BHs off.
 * Return: the entry, or NULL if the SYN is to be dropped (no memory, no
 * route, or the 4-tuple is half-open already).
 */
struct xtcp_req *xtcp_req_create(struct sock *sk, const struct sk_buff *skb,
				 const struct xtcp_opts *opts)
{
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_sock *lxs = xtcp_sk(sk);
	struct xtcp_req *req;

	xtcp_req_assert_locked(sk);
	req = kmem_cache_zalloc(xtcp_req_cachep, GFP_ATOMIC);
	if (!req)
		return NULL;
	xtcp_tuple_of_skb(skb, &req->tuple);
	req->advmss = xtcp_af_ops_of_skb(skb)->req_mss(sk, &req->tuple);
	if (!req->advmss)
		goto free;
	req->iss = xtcp_secure_seq(&req->tuple, &req->ts_off);
	/* RFC 6191: a SYN that replaced a TIME_WAIT bucket gets an ISN
	 * above anything that connection sent (xtcp_tw_rcv() chose it).
	 */
	if (cb->tw_isn)
		req->iss = cb->tw_isn;
	req->irs = cb->seq;
	req->peer_mss = opts->mss;
	/* A passive open takes whatever the peer offers. */
	req->snd_wscale = opts->wscale;
	req->ts_ok = opts->ts_ok;
	/* SACK only if the peer offered it and net.xtcp.sack is on here. */
	req->sack_ok = opts->sack_ok &&
		       xtcp_knob(sock_net(sk), XTCP_KNOB_SACK);
	req->ts_recent = opts->tsval;
	req->txhash = net_tx_rndhash();
	if (sk->sk_family == AF_INET6 && skb->protocol == htons(ETH_P_IPV6) &&
	    xtcp_inet6_repflow(sk))
		req->flowlabel = ip6_flowlabel(ipv6_hdr(skb));
	req->created = (u32)jiffies;
	req->listener = sk;
	refcount_set(&req->refcnt, 2);
	timer_setup(&req->timer, xtcp_req_timer, 0);
	if (xtcp_reqhash_insert(sock_net(sk), req))
		goto free;
	sock_hold(sk);
	hlist_add_head(&req->list_node, &lxs->req_list);
	WRITE_ONCE(lxs->req_count, lxs->req_count + 1);

	xtcp_req_send_synack(req);
	mod_timer(&req->timer, jiffies + xtcp_req_timeout(req));
	return req;

free:
	kmem_cache_free(xtcp_req_cachep, req);
	return NULL;
}

/**
 * xtcp_req_lookup() - the half-open entry of a listener for a 4-tuple
 * @sk: the listener, locked
 * @t: the 4-tuple, seen from this host
 *
 * Context: listener locked, which keeps the entry alive.
 * Return: the entry, or NULL.
 */
struct xtcp_req *xtcp_req_lookup(struct sock *sk, const struct xtcp_tuple *t)
{
	struct xtcp_req *req;

	xtcp_req_assert_locked(sk);
	rcu_read_lock();
	req = xtcp_reqhash_lookup(sock_net(sk), t);
	if (req && (req->listener != sk || READ_ONCE(req->dead)))
		req = NULL;
	rcu_read_unlock();
	return req;
}

/**
 * xtcp_req_flush() - a listener closes: reset and free its entries
 * @sk: the listener, no longer hashed
 *
 * Each half-open peer gets a RST, as a SYN_RCVD socket that is aborted
 * sends it; every timer is shut down before its entry goes.
 *
 * Context: process context, listener owned.
 */
void xtcp_req_flush(struct sock *sk)
{
	struct net *net = sock_net(sk);
	struct xtcp_tx_meta m;
	struct xtcp_req *req;

	sock_owned_by_me(sk);
	while (!hlist_empty(&xtcp_sk(sk)->req_list)) {
		req = hlist_entry(xtcp_sk(sk)->req_list.first,
				  struct xtcp_req, list_node);
		xtcp_req_unlink(sk, req);
		local_bh_disable();
		xtcp_req_tx_meta(req, &m);
		xtcp_send_tuple(net, &req->tuple, &m, req->iss + 1,
				req->irs + 1,
				XTCPHDR_RST | XTCPHDR_ACK, 0, NULL);
		XTCP_INC_STATS(net, XTCP_MIB_ATTEMPTFAILS);
		local_bh_enable();
		if (timer_shutdown_sync(&req->timer))
			xtcp_req_put(req);
		xtcp_req_put(req);
	}
}

/**
 * xtcp_req_init() - create the cache of half-open entries
 *
 * Context: module init.
 * Return: 0 or -ENOMEM.
 */
int xtcp_req_init(void)
{
	/* A fraction of an xtcp_sock, and of Linux's request_sock_TCP;
	 * lockdep makes the timer larger.
	 */
	BUILD_BUG_ON(!IS_ENABLED(CONFIG_LOCKDEP) &&
		     sizeof(struct xtcp_req) > 168);
	xtcp_req_cachep = KMEM_CACHE(xtcp_req, 0);
	return xtcp_req_cachep ? 0 : -ENOMEM;
}

/**
 * xtcp_req_exit() - destroy the cache of half-open entries
 *
 * Context: module exit; no listener is left, so no entry.
 */
void xtcp_req_exit(void)
{
	rcu_barrier();	/* pending xtcp_req_free_rcu() calls */
	kmem_cache_destroy(xtcp_req_cachep);
}
