// SPDX-License-Identifier: GPL-2.0
/*
 * Connection, listener and port tables, one set per network namespace.
 *
 * ehash   connections by 4-tuple (rhashtable, RCU lookups, one socket
 *         reference held while hashed)
 * reqhash half-open passive connections (struct xtcp_req) by 4-tuple
 *         (rhashtable, RCU lookups; the entry's owner, request.c, keeps
 *         it alive while hashed)
 * lhash   listeners by local port (RCU hlist, no reference: a listener
 *         unhashes itself under bind_lock before it can be freed, and
 *         sockets are freed after an RCU grace period, SOCK_RCU_FREE)
 * bhash   every socket holding a local port, by port (sk_bind_node),
 *         plus the TIME_WAIT port index of timewait.c; under bind_lock
 *
 * bind_lock is the only lock taken here; it nests inside a socket lock
 * and is taken with BHs disabled because the receive path may unhash.
 */

#include <linux/export.h>
#include <linux/rhashtable.h>
#include <linux/siphash.h>
#include <net/inet_hashtables.h>
#include <net/ip.h>
#include <net/sock.h>

#include "xtcp.h"

static const struct rhashtable_params xtcp_ehash_params = {
	.key_len = sizeof(struct xtcp_tuple),
	.hashfn = xtcp_tuple_hashfn,
	.key_offset = offsetof(struct xtcp_sock, tuple),
	.head_offset = offsetof(struct xtcp_sock, node),
	.automatic_shrinking = true,
};

static const struct rhashtable_params xtcp_reqhash_params = {
	.key_len = sizeof(struct xtcp_tuple),
	.hashfn = xtcp_tuple_hashfn,
	.key_offset = offsetof(struct xtcp_req, tuple),
	.head_offset = offsetof(struct xtcp_req, node),
	.automatic_shrinking = true,
};

/**
 * xtcp_hash_net_init() - set up the tables of a namespace
 * @xn: the namespace's state
 *
 * Context: process context, pernet init.
 * Return: 0 or -errno.
 */
int xtcp_hash_net_init(struct xtcp_net *xn)
{
	int i, err;

	spin_lock_init(&xn->bind_lock);
	for (i = 0; i < XTCP_BHASH_SIZE; i++) {
		INIT_HLIST_HEAD(&xn->bhash[i]);
		INIT_HLIST_HEAD(&xn->lhash[i]);
	}
	get_random_bytes(&xn->port_hint, sizeof(xn->port_hint));
	err = rhashtable_init(&xn->ehash, &xtcp_ehash_params);
	if (err)
		return err;
	err = rhashtable_init(&xn->reqhash, &xtcp_reqhash_params);
	if (err)
		rhashtable_destroy(&xn->ehash);
	return err;
}

/**
 * xtcp_hash_net_exit() - free the tables of a namespace
 * @xn: the namespace's state
 *
 * Context: process context, pernet exit. Every socket of the namespace is
 * gone (each holds a namespace reference), and with the listeners their
 * half-open entries, so the tables are empty.
 */
void xtcp_hash_net_exit(struct xtcp_net *xn)
{
	WARN_ON_ONCE(atomic_read(&xn->reqhash.nelems));
	rhashtable_destroy(&xn->reqhash);
	rhashtable_destroy(&xn->ehash);
}

/**
 * xtcp_ehash_insert() - put a connection into the connection table
 * @sk: socket with its four addresses set
 *
 * Context: socket locked.
 * Return: 0, or -EEXIST when another connection has the same 4-tuple.
 */
int xtcp_ehash_insert(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);
	int err;

	if (WARN_ON_ONCE(xs->hashed))
		return -EEXIST;
	xtcp_tuple_of_sk(sk, &xs->tuple);
	err = rhashtable_lookup_insert_fast(&xn->ehash, &xs->node,
					    xtcp_ehash_params);
	if (err)
		return err;
	sock_hold(sk);
	xs->hashed = true;
	/* The "sockets" column of /proc/net/protocols. */
	sock_prot_inuse_add(sock_net(sk), sk->sk_prot, 1);
	return 0;
}

/**
 * xtcp_ehash_remove() - take a connection out of the connection table
 * @sk: the socket; the caller holds a reference of its own
 *
 * Context: socket locked.
 */
void xtcp_ehash_remove(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!xs->hashed)
		return;
	rhashtable_remove_fast(&xn->ehash, &xs->node, xtcp_ehash_params);
	xs->hashed = false;
	sock_prot_inuse_add(sock_net(sk), sk->sk_prot, -1);
	__sock_put(sk);
}

/**
 * xtcp_ehash_lookup() - find the connection a segment belongs to
 * @net: namespace
 * @t: 4-tuple seen from this host
 *
 * Context: any; takes the RCU read lock itself.
 * Return: the socket with a reference held, or NULL.
 */
struct sock *xtcp_ehash_lookup(struct net *net, const struct xtcp_tuple *t)
{
	struct xtcp_net *xn = xtcp_pernet(net);
	struct xtcp_sock *xs;
	struct sock *sk = NULL;

	rcu_read_lock();
	xs = rhashtable_lookup(&xn->ehash, t, xtcp_ehash_params);
	if (xs && refcount_inc_not_zero(&xs->inet.sk.sk_refcnt))
		sk = &xs->inet.sk;
	rcu_read_unlock();
	return sk;
}
EXPORT_SYMBOL_NS_GPL(xtcp_ehash_lookup, XTCP);

/**
 * xtcp_reqhash_insert() - put a half-open connection into the request table
 * @net: namespace
 * @req: the entry, its 4-tuple set
 *
 * Context: listener locked, BHs off.
 * Return: 0, or -EEXIST when another entry has the same 4-tuple.
 */
int xtcp_reqhash_insert(struct net *net, struct xtcp_req *req)
{
	return rhashtable_lookup_insert_fast(&xtcp_pernet(net)->reqhash,
					     &req->node, xtcp_reqhash_params);
}

/**
 * xtcp_reqhash_remove() - take a half-open connection out of the table
 * @net: namespace
 * @req: the entry, hashed
 *
 * Context: its listener locked.
 */
void xtcp_reqhash_remove(struct net *net, struct xtcp_req *req)
{
	rhashtable_remove_fast(&xtcp_pernet(net)->reqhash, &req->node,
			       xtcp_reqhash_params);
}

/**
 * xtcp_reqhash_lookup() - find the half-open connection of a 4-tuple
 * @net: namespace
 * @t: 4-tuple seen from this host
 *
 * Context: RCU read lock held; the entry stays valid only within it.
 * Return: the entry, or NULL.
 */
struct xtcp_req *xtcp_reqhash_lookup(struct net *net,
				     const struct xtcp_tuple *t)
{
	return rhashtable_lookup(&xtcp_pernet(net)->reqhash, t,
				 xtcp_reqhash_params);
}

/*
 * Whether a listener takes segments of a family: an IPv6 segment reaches
 * AF_INET6 listeners only, an IPv4 one AF_INET listeners and AF_INET6
 * ones without IPV6_V6ONLY, as IPv4-mapped (RFC 4291 section 2.5.5.2;
 * an AF_INET6 socket bound to a native address has IPV6_V6ONLY set by
 * inet6_bind()).
 */
static bool xtcp_listener_takes(const struct sock *sk, bool v4)
{
	if (!xtcp_sk_is_v6(sk))
		return v4;
	return !v4 || !ipv6_only_sock(sk);
}

/**
 * xtcp_listener_lookup() - find the listener for a segment
 * @net: namespace
 * @daddr: destination address of the segment
 * @dport: destination port
 * @dif: receiving device index
 *
 * An exact address match wins over a wildcard one. An IPv4 segment
 * (@daddr IPv4-mapped) may find an AF_INET6 listener on :: or on the
 * IPv4-mapped address, unless it has IPV6_V6ONLY; an IPv6 one finds only
 * AF_INET6 listeners, on :: or its address.
 *
 * Context: any; takes the RCU read lock itself.
 * Return: the listener with a reference held, or NULL.
 */
struct sock *xtcp_listener_lookup(struct net *net,
				  const struct in6_addr *daddr,
				  __be16 dport, int dif)
{
	struct xtcp_net *xn = xtcp_pernet(net);
	u16 port = ntohs(dport);
	bool v4 = ipv6_addr_v4mapped(daddr);
	struct sock *sk, *best = NULL;
	struct in6_addr addr;

	rcu_read_lock();
	sk_for_each_rcu(sk, &xn->lhash[xtcp_port_slot(port)]) {
		if (inet_sk(sk)->inet_num != port)
			continue;
		if (!xtcp_listener_takes(sk, v4))
			continue;
		if (sk->sk_bound_dev_if && sk->sk_bound_dev_if != dif)
			continue;
		xtcp_sk_rcv_saddr(sk, &addr);
		if (ipv6_addr_equal(&addr, daddr)) {
			best = sk;
			break;
		}
		if (!best && (v4 ? xtcp_addr_any(&addr) : ipv6_addr_any(&addr)))
			best = sk;
	}
	if (best && !refcount_inc_not_zero(&best->sk_refcnt))
		best = NULL;
	rcu_read_unlock();
	return best;
}
EXPORT_SYMBOL_NS_GPL(xtcp_listener_lookup, XTCP);

static void xtcp_bind_addr_of_sk(const struct sock *sk,
				 struct xtcp_bind_addr *b)
{
	xtcp_sk_rcv_saddr(sk, &b->addr6);
	b->addr4 = inet_sk(sk)->inet_rcv_saddr;
	b->v6 = xtcp_sk_is_v6(sk);
	b->v6only = b->v6 && ipv6_only_sock(sk);
}

/* IPv4 addresses overlap unless @b is IPv6-only or both are different. */
static bool xtcp_bind_addr4_overlap(const struct xtcp_bind_addr *a,
				    const struct xtcp_bind_addr *b)
{
	if (b->v6only)
		return false;
	return a->addr4 == b->addr4 || !a->addr4 || !b->addr4;
}

/**
 * xtcp_bind_addr_overlap() - may two local addresses not share a port?
 * @a: the address being bound
 * @b: the address of a socket or TIME_WAIT bucket holding the port
 *
 * Linux TCP's rule (inet_rcv_saddr_equal() with wildcards): an AF_INET
 * socket overlaps any socket that is not IPv6-only on the same IPv4
 * address or where either is the wildcard (an AF_INET6 socket on ::
 * included). An AF_INET6 socket on an IPv4-mapped address is compared
 * as IPv4 with the other AF_INET6 sockets on one; :: overlaps
 * everything but what IPV6_V6ONLY keeps apart (an IPv6-only :: and an
 * IPv4 or IPv4-mapped address); otherwise the IPv6 addresses must be
 * equal.
 *
 * Context: any.
 * Return: true if they overlap.
 */
bool xtcp_bind_addr_overlap(const struct xtcp_bind_addr *a,
			    const struct xtcp_bind_addr *b)
{
	bool a_any, b_any, a_mapped, b_mapped;

	if (!a->v6)
		return xtcp_bind_addr4_overlap(a, b);

	a_any = ipv6_addr_any(&a->addr6);
	b_any = b->v6 && ipv6_addr_any(&b->addr6);
	a_mapped = ipv6_addr_v4mapped(&a->addr6);
	/* An AF_INET socket's address counts as IPv4-mapped. */
	b_mapped = !b->v6 || ipv6_addr_v4mapped(&b->addr6);

	if (a_mapped && b_mapped)
		return xtcp_bind_addr4_overlap(a, b);
	if (a_any && b_any)
		return true;
	if (b_any && !(b->v6only && a_mapped))
		return true;
	if (a_any && !(a->v6only && b_mapped))
		return true;
	return b->v6 && ipv6_addr_equal(&a->addr6, &b->addr6);
}

/* Whether @sk2 is bound to an address that overlaps @b's. */
static bool xtcp_sk_addr_overlap(const struct xtcp_bind_addr *b,
				 const struct sock *sk2)
{
	struct xtcp_bind_addr b2;

	xtcp_bind_addr_of_sk(sk2, &b2);
	return xtcp_bind_addr_overlap(b, &b2);
}

static bool xtcp_dev_overlap(const struct sock *a, const struct sock *b)
{
	return !a->sk_bound_dev_if || !b->sk_bound_dev_if ||
	       a->sk_bound_dev_if == b->sk_bound_dev_if;
}

/*
 * TCP's bind rule: two sockets may share a port when their addresses
 * do not overlap (xtcp_bind_addr_overlap()), or when both set
 * SO_REUSEADDR and the other is not listening.
 */
static bool xtcp_bind_conflict(struct xtcp_net *xn, const struct sock *sk,
			       u16 port)
{
	struct xtcp_bind_addr addr;
	struct sock *sk2;

	lockdep_assert_held(&xn->bind_lock);

	xtcp_bind_addr_of_sk(sk, &addr);
	sk_for_each_bound(sk2, &xn->bhash[xtcp_port_slot(port)]) {
		if (sk2 == sk || inet_sk(sk2)->inet_num != port)
			continue;
		if (!xtcp_sk_addr_overlap(&addr, sk2) ||
		    !xtcp_dev_overlap(sk, sk2))
			continue;
		if (sk->sk_reuse && sk2->sk_reuse &&
		    sk2->sk_state != TCP_LISTEN)
			continue;
		return true;
	}
	return xtcp_tw_port_conflict(xn, &addr, port, sk->sk_reuse);
}

static void __xtcp_bind_add(struct xtcp_net *xn, struct sock *sk, u16 port)
{
	lockdep_assert_held(&xn->bind_lock);

	inet_sk(sk)->inet_num = port;
	sk_add_bind_node(sk, &xn->bhash[xtcp_port_slot(port)]);
}

/*
 * Walk the local port range from @offset, skipping reserved ports, until
 * @try takes one; @steps says how many ports were looked at before it.
 * RFC 6056 section 3.3: both the random search of bind() and the keyed
 * one of connect() go through here.
 */
static int __xtcp_port_search(struct xtcp_net *xn, struct sock *sk,
			      u32 offset,
			      bool (*try)(struct xtcp_net *xn, struct sock *sk,
					  u16 port),
			      u32 *steps)
{
	int low, high;
	u32 remaining, i;

	lockdep_assert_held(&xn->bind_lock);

	inet_sk_get_local_port_range(sk, &low, &high);
	remaining = high - low + 1;
	offset %= remaining;
	for (i = 0; i < remaining; i++) {
		u16 port = low + (offset + i) % remaining;

		if (inet_is_local_reserved_port(sock_net(sk), port))
			continue;
		if (try(xn, sk, port)) {
			*steps = i;
			return 0;
		}
	}
	return -EADDRINUSE;
}

/* bind() to any port: the first without a conflict. */
static bool __xtcp_bind_try(struct xtcp_net *xn, struct sock *sk, u16 port)
{
	if (xtcp_bind_conflict(xn, sk, port))
		return false;
	__xtcp_bind_add(xn, sk, port);
	return true;
}

/**
 * xtcp_get_port() - struct proto .get_port: bind to a port
 * @sk: the socket
 * @snum: the port, or 0 for any free ephemeral port
 *
 * Context: socket locked, called from inet_bind() and listen().
 * Return: 0, or nonzero when the port is taken (inet_bind() reports
 * EADDRINUSE).
 */
int xtcp_get_port(struct sock *sk, unsigned short snum)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	int err = -EADDRINUSE;
	u32 steps;

	spin_lock_bh(&xn->bind_lock);
	if (snum) {
		if (!xtcp_bind_conflict(xn, sk, snum)) {
			__xtcp_bind_add(xn, sk, snum);
			err = 0;
		}
	} else {
		err = __xtcp_port_search(xn, sk, get_random_u32(),
					 __xtcp_bind_try, &steps);
	}
	spin_unlock_bh(&xn->bind_lock);
	return err;
}

/**
 * xtcp_put_port() - release the local port of a socket
 * @sk: the socket
 *
 * Context: socket locked.
 */
void xtcp_put_port(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));

	spin_lock_bh(&xn->bind_lock);
	hlist_del_init(&sk->sk_bind_node);
	spin_unlock_bh(&xn->bind_lock);
	if (!(sk->sk_userlocks & SOCK_BINDPORT_LOCK))
		inet_sk(sk)->inet_num = 0;
}

/**
 * xtcp_inherit_port() - give a passive child its listener's port
 * @child: the new connection
 *
 * Context: child locked (softirq).
 */
void xtcp_inherit_port(struct sock *child)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(child));

	spin_lock_bh(&xn->bind_lock);
	__xtcp_bind_add(xn, child, inet_sk(child)->inet_num);
	spin_unlock_bh(&xn->bind_lock);
}

/**
 * xtcp_listen_start() - make a bound socket reachable as a listener
 * @sk: the socket, bound, in TCP_CLOSE
 *
 * Context: socket locked.
 * Return: 0 or -EADDRINUSE when another listener owns the address.
 */
int xtcp_listen_start(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	u16 port = inet_sk(sk)->inet_num;
	struct xtcp_bind_addr addr;
	struct sock *sk2;
	int err = 0;

	xtcp_bind_addr_of_sk(sk, &addr);
	spin_lock_bh(&xn->bind_lock);
	sk_for_each(sk2, &xn->lhash[xtcp_port_slot(port)]) {
		if (inet_sk(sk2)->inet_num == port &&
		    xtcp_sk_addr_overlap(&addr, sk2) &&
		    xtcp_dev_overlap(sk, sk2)) {
			err = -EADDRINUSE;
			goto out;
		}
	}
	sk_add_node_rcu(sk, &xn->lhash[xtcp_port_slot(port)]);
	sock_prot_inuse_add(sock_net(sk), sk->sk_prot, 1);
out:
	spin_unlock_bh(&xn->bind_lock);
	return err;
}

/**
 * xtcp_listen_stop() - unhash a listener
 * @sk: the listener
 *
 * Context: socket locked. Lookups may still see @sk until an RCU grace
 * period ends; they take a reference and find it no longer listening.
 */
void xtcp_listen_stop(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));

	spin_lock_bh(&xn->bind_lock);
	if (sk_del_node_init_rcu(sk))
		sock_prot_inuse_add(sock_net(sk), sk->sk_prot, -1);
	spin_unlock_bh(&xn->bind_lock);
}

static bool xtcp_port_shareable(struct xtcp_net *xn, u16 port)
{
	struct sock *sk2;

	lockdep_assert_held(&xn->bind_lock);

	/* An ephemeral port may serve several connections to different
	 * peers, but never shadow a bound or listening socket.
	 */
	sk_for_each_bound(sk2, &xn->bhash[xtcp_port_slot(port)]) {
		if (inet_sk(sk2)->inet_num != port)
			continue;
		if (sk2->sk_userlocks & SOCK_BINDPORT_LOCK ||
		    sk2->sk_state == TCP_LISTEN || sk2->sk_state == TCP_CLOSE)
			return false;
	}
	return true;
}

/*
 * Try one local port for a connect(): the 4-tuple must be unused, or held
 * by a TIME_WAIT bucket that may be reused (timewait.c decides).
 */
static int __xtcp_connect_try(struct xtcp_net *xn, struct sock *sk, u16 port)
{
	struct inet_sock *inet = inet_sk(sk);
	int err;

	lockdep_assert_held(&xn->bind_lock);

	inet->inet_sport = htons(port);
	err = xtcp_tw_check_reuse(sk);
	if (err)
		return err;
	return xtcp_ehash_insert(sk);
}

/* connect() from any port: a shareable one whose 4-tuple is free. */
static bool __xtcp_connect_port_try(struct xtcp_net *xn, struct sock *sk,
				    u16 port)
{
	if (!xtcp_port_shareable(xn, port) || __xtcp_connect_try(xn, sk, port))
		return false;
	__xtcp_bind_add(xn, sk, port);
	return true;
}

/**
 * xtcp_hash_connect() - choose the local port of a connecting socket and
 * hash it
 * @sk: the socket, addresses and destination port set, state SYN_SENT
 *
 * Ephemeral ports follow RFC 6056 algorithm 3: the search starts at a
 * keyed hash of the destination plus a counter, so consecutive connections
 * to one peer use consecutive ports and nobody can guess them.
 *
 * Context: socket locked.
 * Return: 0, or -EADDRNOTAVAIL when no usable 4-tuple is left.
 */
int xtcp_hash_connect(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct inet_sock *inet = inet_sk(sk);
	struct xtcp_tuple t;
	u32 offset, steps;
	int err;

	spin_lock_bh(&xn->bind_lock);
	if (inet->inet_num) {
		err = __xtcp_connect_try(xn, sk, inet->inet_num);
		spin_unlock_bh(&xn->bind_lock);
		return err ? -EADDRNOTAVAIL : 0;
	}

	xtcp_tuple_of_sk(sk, &t);
	offset = xtcp_port_offset(&t) + xn->port_hint;
	err = __xtcp_port_search(xn, sk, offset, __xtcp_connect_port_try,
				 &steps);
	if (err) {
		inet->inet_sport = 0;
		err = -EADDRNOTAVAIL;
	} else {
		xn->port_hint += steps + 2;
	}
	spin_unlock_bh(&xn->bind_lock);
	return err;
}

static siphash_aligned_key_t xtcp_secret;

/**
 * xtcp_port_offset() - RFC 6056 algorithm 3 starting offset
 * @t: the 4-tuple; its addresses and remote port are hashed
 *
 * Context: any.
 * Return: a keyed hash of the destination.
 */
u32 xtcp_port_offset(const struct xtcp_tuple *t)
{
	struct xtcp_tuple dst;

	net_get_random_once(&xtcp_secret, sizeof(xtcp_secret));
	if (xtcp_tuple_is_v4(t))
		return siphash_3u32((__force u32)xtcp_addr_v4(&t->laddr),
				    (__force u32)xtcp_addr_v4(&t->raddr),
				    (__force u32)t->rport, &xtcp_secret);
	dst = *t;
	dst.lport = 0;
	return siphash(&dst, offsetofend(struct xtcp_tuple, rport),
		       &xtcp_secret);
}

/**
 * xtcp_secure_seq() - initial sequence number and timestamp offset
 * @t: the 4-tuple of the connection, seen from this host
 * @ts_off: where to store the timestamp clock offset
 *
 * RFC 6528: ISN = M + F(4-tuple, secret), M a clock ticking every 64 ns
 * (as Linux TCP). The timestamp offset comes from the same keyed
 * hash, so one 4-tuple always gets the same offset: a reincarnation of a
 * connection then sends timestamps above those of its TIME_WAIT ancestor,
 * which is what tw_reuse and RFC 6191 rely on.
 *
 * Context: any.
 * Return: the ISN.
 */
u32 xtcp_secure_seq(const struct xtcp_tuple *t, u32 *ts_off)
{
	u64 h;

	net_get_random_once(&xtcp_secret, sizeof(xtcp_secret));
	if (xtcp_tuple_is_v4(t))
		h = siphash_4u32((__force u32)xtcp_addr_v4(&t->laddr),
				 (__force u32)xtcp_addr_v4(&t->raddr),
				 (__force u32)t->lport << 16 |
				 (__force u32)t->rport,
				 0x78746370, &xtcp_secret);
	else
		h = siphash(t, offsetofend(struct xtcp_tuple, rport),
			    &xtcp_secret);
	*ts_off = h >> 32;
	return (u32)h + (u32)(ktime_get_real_ns() >> 6);
}
