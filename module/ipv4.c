// SPDX-License-Identifier: GPL-2.0
/*
 * IPv4: everything of xtcp that knows the address family, as
 * net/ipv4/tcp_ipv4.c for TCP. The socket switch entry that makes
 * socket(AF_INET, SOCK_STREAM, proto) create an xtcp socket, the IP
 * protocol handler that receives segments, connect(), the addresses and
 * route of a passive child, and the replies sent without a socket (RSTs,
 * ACKs from TIME_WAIT).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bpf-cgroup.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/skbuff.h>
#include <net/checksum.h>
#include <net/icmp.h>
#include <net/inet_connection_sock.h>
#include <net/inet_common.h>
#include <net/inet_hashtables.h>
#include <net/ip.h>
#include <net/protocol.h>
#include <net/route.h>
#include <net/tcp.h>
#include <net/xfrm.h>

#include "xtcp.h"

static void xtcp_v4_send_reset(struct net *net, struct sk_buff *in);

/**
 * xtcp_v4_pre_connect() - struct proto .pre_connect: cgroup BPF hook
 * @sk: the socket
 * @uaddr: the address connect() was given
 * @addr_len: its length
 *
 * Context: process context, socket not locked.
 * Return: 0 or -errno.
 */
int xtcp_v4_pre_connect(struct sock *sk, struct sockaddr *uaddr, int addr_len)
{
	if (addr_len < sizeof(struct sockaddr_in))
		return -EINVAL;
	return xtcp_bpf_cgroup_inet4_connect(sk, uaddr, &addr_len);
}

/**
 * xtcp_v4_connect() - struct proto .connect: route, port, SYN
 * @sk: the socket
 * @uaddr: the peer's address
 * @addr_len: its length
 *
 * Context: socket locked.
 * Return: 0 once the SYN is queued, or -errno.
 */
int xtcp_v4_connect(struct sock *sk, struct sockaddr *uaddr, int addr_len)
{
	struct sockaddr_in *usin = (struct sockaddr_in *)uaddr;
	struct inet_sock *inet = inet_sk(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);
	__be16 orig_sport, orig_dport;
	__be32 daddr, nexthop;
	struct flowi4 *fl4;
	struct rtable *rt;
	u32 iss;
	int err;

	if (addr_len < sizeof(struct sockaddr_in))
		return -EINVAL;
	if (usin->sin_family != AF_INET)
		return -EAFNOSUPPORT;
	if (!usin->sin_port)
		return -EADDRNOTAVAIL;
	if (sk->sk_state != TCP_CLOSE)
		return -EISCONN;

	daddr = usin->sin_addr.s_addr;
	nexthop = daddr;
	orig_sport = inet->inet_sport;
	orig_dport = usin->sin_port;
	fl4 = &inet->cork.fl.u.ip4;
	rt = ip_route_connect(fl4, nexthop, inet->inet_saddr,
			      sk->sk_bound_dev_if, sk->sk_protocol,
			      orig_sport, orig_dport, sk);
	if (IS_ERR(rt)) {
		err = PTR_ERR(rt);
		if (err == -ENETUNREACH)
			IP_INC_STATS(sock_net(sk), IPSTATS_MIB_OUTNOROUTES);
		return err;
	}
	if (rt->rt_flags & (RTCF_MULTICAST | RTCF_BROADCAST)) {
		ip_rt_put(rt);
		return -ENETUNREACH;
	}

	if (!inet->inet_saddr) {
		inet->inet_saddr = fl4->saddr;
		sk_rcv_saddr_set(sk, fl4->saddr);
	}
	inet->inet_dport = usin->sin_port;
	sk_daddr_set(sk, daddr);

	xtcp_set_state(sk, TCP_SYN_SENT);
	xs->tw_reused = 0;
	err = xtcp_hash_connect(sk);
	if (err)
		goto failure;

	rt = ip_route_newports(fl4, rt, orig_sport, orig_dport,
			       inet->inet_sport, inet->inet_dport, sk);
	if (IS_ERR(rt)) {
		err = PTR_ERR(rt);
		rt = NULL;
		goto failure;
	}
	/* Segmentation offload (offload.c): a type only virtual devices
	 * take whole; sk_setup_caps() tells whether this route's does.
	 */
	sk->sk_gso_type = SKB_GSO_SCTP;
	sk_setup_caps(sk, &rt->dst);
	rt = NULL;

	iss = xtcp_secure_seq(&xs->tuple, &xs->ts_off);
	/* RFC 6191: above anything the TIME_WAIT predecessor sent. */
	xs->iss = xs->tw_reused ? xs->iss : iss;
	xs->tw_reused = 0;
	/* A random flow hash for queue selection and, over IPv6,
	 * the automatic flow label; a timeout draws another.
	 */
	sk_set_txhash(sk);
	atomic_set(&inet->inet_id, get_random_u16());

	err = xtcp_connect(sk);
	if (err)
		goto failure;
	return 0;

failure:
	/*
	 * Not a failed attempt, as in Linux TCP: connect() itself fails
	 * (no free local port, say) and the application gets the error.
	 */
	__xtcp_set_state(sk, TCP_CLOSE, false);
	xtcp_ehash_remove(sk);
	if (!(sk->sk_userlocks & SOCK_BINDPORT_LOCK))
		xtcp_put_port(sk);
	ip_rt_put(rt);
	sk->sk_route_caps = 0;
	inet->inet_dport = 0;
	return err;
}

/**
 * xtcp_v4_send_check() - seed the checksum of a segment of an IPv4 socket
 * @sk: the socket, its addresses set
 * @th: the segment's header
 * @len: the segment's length, header included
 *
 * th->check gets the IPv4 pseudo-header sum (RFC 9293 section 3.1) with
 * our protocol number: what a device finishes for CHECKSUM_PARTIAL, and
 * what the software checksum then covers with the rest.
 *
 * Context: any.
 */
void xtcp_v4_send_check(const struct sock *sk, struct tcphdr *th,
			unsigned int len)
{
	const struct inet_sock *inet = inet_sk(sk);

	th->check = ~csum_tcpudp_magic(inet->inet_saddr, inet->inet_daddr,
				       len, sk->sk_protocol, 0);
}

/**
 * xtcp_v4_child_init() - addresses and ports of a passive child
 * @child: the clone of the listener
 * @skb: the SYN
 *
 * Context: child locked, BHs off.
 */
static void xtcp_v4_child_init(struct sock *child, const struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	const struct iphdr *iph = ip_hdr(skb);
	struct inet_sock *newinet = inet_sk(child);

	RCU_INIT_POINTER(newinet->inet_opt, NULL);
	newinet->mc_list = NULL;
	sk_daddr_set(child, iph->saddr);
	sk_rcv_saddr_set(child, iph->daddr);
	newinet->inet_saddr = iph->daddr;
	newinet->inet_dport = th->source;
	newinet->inet_sport = th->dest;
	newinet->inet_num = ntohs(th->dest);
	atomic_set(&newinet->inet_id, get_random_u16());
}

/**
 * xtcp_v4_child_route() - the route of a passive child back to its peer
 * @child: the child, its addresses set
 *
 * Context: child locked, BHs off.
 * Return: 0 or -errno when there is no route.
 */
static int xtcp_v4_child_route(struct sock *child)
{
	struct inet_sock *newinet = inet_sk(child);
	struct flowi4 *fl4 = &newinet->cork.fl.u.ip4;
	struct rtable *rt;

	rt = ip_route_output_ports(sock_net(child), fl4, child,
				   newinet->inet_daddr, newinet->inet_saddr,
				   newinet->inet_dport, newinet->inet_sport,
				   child->sk_protocol,
				   READ_ONCE(newinet->tos) & INET_DSCP_MASK,
				   child->sk_bound_dev_if);
	if (IS_ERR(rt))
		return PTR_ERR(rt);
	child->sk_gso_type = SKB_GSO_SCTP;
	sk_setup_caps(child, &rt->dst);
	return 0;
}

/**
 * xtcp_v4_tuple_of_skb() - the 4-tuple of a received segment
 * @skb: the segment, its headers valid
 * @t: the 4-tuple, seen from this host
 *
 * Context: any.
 */
static void xtcp_v4_tuple_of_skb(const struct sk_buff *skb,
				 struct xtcp_tuple *t)
{
	const struct tcphdr *th = tcp_hdr(skb);
	const struct iphdr *iph = ip_hdr(skb);

	ipv6_addr_set_v4mapped(iph->daddr, &t->laddr);
	ipv6_addr_set_v4mapped(iph->saddr, &t->raddr);
	t->lport = th->dest;
	t->rport = th->source;
}

/**
 * xtcp_v4_reply_mss() - the MSS to announce in a reply to @skb
 * @skb: a segment received
 *
 * For a SYN-ACK sent without a socket: what the device the SYN came in
 * by takes.
 *
 * Context: softirq.
 * Return: bytes.
 */
static u16 xtcp_v4_reply_mss(const struct sk_buff *skb)
{
	unsigned int mtu = min_t(unsigned int, READ_ONCE(skb->dev->mtu),
				 IP_MAX_MTU);

	return min_t(unsigned int, mtu - sizeof(struct iphdr) - XTCP_BASE_HLEN,
		     65535);
}

/*
 * Early demux (Documentation/xtcp-internals.rst, "Early demux"): Linux's
 * IP layer looks the socket of a TCP or UDP segment up before routing it
 * and takes the input route the socket cached (ip_rcv_finish_core(),
 * tcp_v4_early_demux()), a hook it offers no other protocol. xtcp does
 * the same from netfilter's PRE_ROUTING, after every other hook (NAT
 * included): a segment of a connection leaves it with its socket
 * attached (sock_edemux(), as TPROXY attaches one) and, if the socket's
 * route still holds and came in by the same device, with that route,
 * so that ip_rcv_finish_core() skips its own lookup. xtcp_v4_rcv() takes
 * the socket instead of looking it up again (xtcp_steal_sock()).
 */
static unsigned int xtcp_v4_edemux(void *priv, struct sk_buff *skb,
				   const struct nf_hook_state *state)
{
	const struct iphdr *iph = ip_hdr(skb);
	struct xtcp_tuple t;

	if (iph->protocol != xtcp_protocol || ip_is_fragment(iph) ||
	    !xtcp_edemux_wanted(state->net, skb))
		return NF_ACCEPT;
	xtcp_v4_tuple_of_skb(skb, &t);
	xtcp_edemux(state->net, skb, &t, AF_INET);
	return NF_ACCEPT;
}

static const struct nf_hook_ops xtcp_v4_edemux_ops = {
	.hook = xtcp_v4_edemux,
	.pf = NFPROTO_IPV4,
	.hooknum = NF_INET_PRE_ROUTING,
	.priority = NF_IP_PRI_LAST - 1,
};

/**
 * xtcp_v4_edemux_net_init() - early demux for a namespace
 * @net: the namespace, its connection table ready
 *
 * Context: process, namespace creation or module load.
 * Return: 0 or a negative errno.
 */
int xtcp_v4_edemux_net_init(struct net *net)
{
	return nf_register_net_hook(net, &xtcp_v4_edemux_ops);
}

/**
 * xtcp_v4_edemux_net_exit() - undo xtcp_v4_edemux_net_init()
 * @net: the namespace
 *
 * Segments already past the hook keep their socket's reference, which
 * sock_edemux() or xtcp_v4_rcv() drops.
 *
 * Context: process, namespace exit or module unload.
 */
void xtcp_v4_edemux_net_exit(struct net *net)
{
	nf_unregister_net_hook(net, &xtcp_v4_edemux_ops);
}

/**
 * xtcp_v4_rcv() - IP protocol handler
 * @skb: a segment addressed to this host
 *
 * Every segment is validated before any lookup: length, data offset,
 * checksum, flag combinations and options. A malformed segment is dropped
 * and counted (InErrs, InCsumErrors) and never reaches a socket.
 *
 * Context: softirq.
 * Return: 0 (the segment is always consumed).
 */
int xtcp_v4_rcv(struct sk_buff *skb)
{
	struct net *net = dev_net(skb->dev);
	enum skb_drop_reason reason;
	const struct iphdr *iph;
	struct xtcp_tuple t;
	struct sock *sk;

	reason = SKB_DROP_REASON_NOT_SPECIFIED;
	if (skb->pkt_type != PACKET_HOST)
		goto discard;

	XTCP_INC_STATS(net, XTCP_MIB_INSEGS);
	if (skb_shinfo(skb)->gso_segs > 1)
		XTCP_INC_STATS(net, XTCP_MIB_INGSOSKBS);

	reason = xtcp_rcv_check_header(skb);
	if (reason)
		goto bad_segment;
	if (skb_checksum_init(skb, xtcp_protocol, inet_compute_pseudo) ||
	    (!skb_csum_unnecessary(skb) && __skb_checksum_complete(skb)))
		goto csum_error;
	reason = xtcp_rcv_prepare(skb);
	if (reason)
		goto bad_segment;

	reason = SKB_DROP_REASON_NOT_SPECIFIED;
	iph = ip_hdr(skb);
	if (ipv4_is_multicast(iph->daddr) || ipv4_is_lbcast(iph->daddr) ||
	    ipv4_is_zeronet(iph->saddr))
		goto discard;

	xtcp_v4_tuple_of_skb(skb, &t);
	sk = xtcp_steal_sock(skb);
	if (!sk)
		sk = xtcp_ehash_lookup(net, &t);
	if (!sk) {
		if (xtcp_tw_rcv(net, skb, &t))
			return 0;
		sk = xtcp_listener_lookup(net, &t.laddr, t.lport,
					  inet_iif(skb));
	}
	if (!sk)
		goto no_socket;

	/* IP_MINTTL (RFC 5082, GTSM): nothing from farther away, counted
	 * as tcp_v4_rcv() counts it (MinTTLDrop, TCP's TCPMinTTLDrop).
	 */
	reason = SKB_DROP_REASON_TCP_MINTTL;
	if (unlikely(ip_hdr(skb)->ttl < READ_ONCE(inet_sk(sk)->min_ttl))) {
		XTCP_INC_STATS(net, XTCP_MIB_MINTTLDROP);
		goto discard_put;
	}
	reason = SKB_DROP_REASON_XFRM_POLICY;
	if (!xfrm4_policy_check(sk, XFRM_POLICY_IN, skb))
		goto discard_put;
	nf_reset_ct(skb);
	/*
	 * The socket filter sees the whole segment, header included, and
	 * may trim only the payload (tcp_filter() in Linux TCP): what it
	 * leaves is what the segment carries, so the sequence space is
	 * taken after it. Trimmed payload is then never acknowledged; the
	 * peer retransmits it.
	 */
	reason = SKB_DROP_REASON_SOCKET_FILTER;
	if (sk_filter_trim_cap(sk, skb, tcp_hdrlen(skb)))
		goto discard_put;
	xtcp_rcv_pull(skb);
	if (sk->sk_state != TCP_LISTEN)
		xtcp_rx_dst_set(sk, skb, 0);

	skb = xtcp_rightsize(net, skb);
	reason = xtcp_rcv_sock(sk, skb);
	if (reason)
		goto discard;
	return 0;

no_socket:
	reason = SKB_DROP_REASON_NO_SOCKET;
	if (!xfrm4_policy_check(NULL, XFRM_POLICY_IN, skb))
		goto discard;
	xtcp_v4_send_reset(net, skb);
	goto discard;

csum_error:
	reason = SKB_DROP_REASON_TCP_CSUM;
	XTCP_INC_STATS(net, XTCP_MIB_INCSUMERRORS);
bad_segment:
	XTCP_INC_STATS(net, XTCP_MIB_INERRS);
	goto discard;

discard_put:
	sock_put(sk);
discard:
	kfree_skb_reason(skb, reason);
	return 0;
}

/**
 * xtcp_v4_send_tuple() - send a segment that belongs to no socket
 * @net: namespace
 * @t: the 4-tuple, seen from this host
 * @m: its mark, output device, TOS and flow hash
 * @seq: sequence number
 * @ack: acknowledgment number, used when @flags has ACK
 * @flags: XTCPHDR_* flags
 * @win: window field
 * @opts: options to write, or NULL
 *
 * Replies without a socket, and the segments of half-open entries.
 *
 * Context: softirq or process context with BHs disabled.
 */
static void xtcp_v4_send_tuple(struct net *net, const struct xtcp_tuple *t,
			       const struct xtcp_tx_meta *m, u32 seq, u32 ack,
			       u8 flags, u16 win, const struct xtcp_opts *opts)
{
	unsigned int hlen = XTCP_BASE_HLEN;
	struct sk_buff *skb;
	struct flowi4 fl4;
	struct rtable *rt;
	struct tcphdr *th;
	struct iphdr *iph;

	if (opts)
		hlen += xtcp_options_size(opts);

	memset(&fl4, 0, sizeof(fl4));
	flowi4_init_output(&fl4, m->oif, m->mark, 0, RT_SCOPE_UNIVERSE,
			   xtcp_protocol, 0, xtcp_addr_v4(&t->raddr),
			   xtcp_addr_v4(&t->laddr), t->rport, t->lport,
			   sock_net_uid(net, NULL));
	rt = ip_route_output_key(net, &fl4);
	if (IS_ERR(rt))
		return;

	skb = alloc_skb(MAX_HEADER + hlen, GFP_ATOMIC);
	if (!skb) {
		ip_rt_put(rt);
		return;
	}
	skb_reserve(skb, MAX_HEADER + hlen);
	skb_dst_set(skb, &rt->dst);
	if (m->txhash)
		skb_set_hash(skb, m->txhash, PKT_HASH_TYPE_L4);

	th = xtcp_push_header(skb, t->lport, t->rport, seq, ack, flags,
			      win, opts, NULL);
	th->check = csum_tcpudp_magic(fl4.saddr, fl4.daddr, hlen,
				      xtcp_protocol, csum_partial(th, hlen, 0));

	iph = skb_push(skb, sizeof(*iph));
	skb_reset_network_header(skb);
	iph->version = 4;
	iph->ihl = sizeof(*iph) / 4;
	iph->tos = m->tos;
	iph->frag_off = htons(IP_DF);
	iph->ttl = ip4_dst_hoplimit(&rt->dst);
	iph->protocol = xtcp_protocol;
	iph->saddr = fl4.saddr;
	iph->daddr = fl4.daddr;
	ip_select_ident(net, skb, NULL);

	XTCP_INC_STATS(net, XTCP_MIB_OUTSEGS);
	if (flags & XTCPHDR_RST)
		XTCP_INC_STATS(net, XTCP_MIB_OUTRSTS);
	ip_local_out(net, NULL, skb);
}

/**
 * xtcp_v4_send_reply() - answer a segment without a socket
 * @net: namespace
 * @in: the segment answered; its headers are valid
 * @m: the TIME_WAIT entry's or listener's TOS and flow hash, or NULL for
 *	none (the mark is @in's)
 * @seq: sequence number of the answer
 * @ack: acknowledgment number, used when @flags has ACK
 * @flags: XTCPHDR_* flags
 * @win: window field
 * @opts: options to write, or NULL
 *
 * Used for RSTs to unknown 4-tuples, for ACKs from TIME_WAIT buckets and
 * for SYN-ACKs carrying a SYN cookie.
 *
 * Context: softirq or process context with BHs disabled.
 */
static void xtcp_v4_send_reply(struct net *net, struct sk_buff *in,
			       const struct xtcp_tx_meta *m, u32 seq, u32 ack,
			       u8 flags, u16 win, const struct xtcp_opts *opts)
{
	struct xtcp_tx_meta meta = { };
	struct xtcp_tuple t;

	if (m)
		meta = *m;
	meta.mark = in->mark;
	meta.oif = 0;
	xtcp_v4_tuple_of_skb(in, &t);
	xtcp_v4_send_tuple(net, &t, &meta, seq, ack, flags, win, opts);
}

/**
 * xtcp_v4_req_mss() - the MSS a half-open connection announces
 * @sk: the listener
 * @t: the 4-tuple, seen from this host
 *
 * What the route back to the peer carries, as a child's advmss
 * (xtcp_set_advmss()), within the listener's XTCP_MAXSEG.
 *
 * Context: softirq or backlog processing, listener locked.
 * Return: bytes, or 0 when there is no route.
 */
static u16 xtcp_v4_req_mss(const struct sock *sk, const struct xtcp_tuple *t)
{
	u16 user_mss = xtcp_sk(sk)->user_mss;
	struct flowi4 fl4;
	struct rtable *rt;
	u32 mss;

	rt = ip_route_output_ports(sock_net(sk), &fl4, (struct sock *)sk,
				   xtcp_addr_v4(&t->raddr),
				   xtcp_addr_v4(&t->laddr),
				   t->rport, t->lport, sk->sk_protocol,
				   READ_ONCE(inet_sk(sk)->tos) & INET_DSCP_MASK,
				   sk->sk_bound_dev_if);
	if (IS_ERR(rt))
		return 0;
	mss = min_t(u32, dst_mtu(&rt->dst), IP_MAX_MTU) -
	      sizeof(struct iphdr) - XTCP_BASE_HLEN;
	ip_rt_put(rt);
	if (user_mss)
		mss = min_t(u32, mss, user_mss);
	return min_t(u32, mss, 65535);
}

/**
 * xtcp_v4_send_reset() - RST in answer to a segment (RFC 9293 3.10.7.1)
 * @net: namespace
 * @in: the offending segment, not itself a RST
 *
 * Context: softirq or process context with BHs disabled.
 */
static void xtcp_v4_send_reset(struct net *net, struct sk_buff *in)
{
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(in);

	if (tcp_hdr(in)->rst)
		return;
	/* Never answer broadcast or multicast. */
	if (skb_rtable(in) && skb_rtable(in)->rt_type != RTN_LOCAL)
		return;

	if (tcp_hdr(in)->ack)
		xtcp_v4_send_reply(net, in, NULL, cb->ack_seq, 0, XTCPHDR_RST,
				   0, NULL);
	else
		xtcp_v4_send_reply(net, in, NULL, 0, cb->end_seq,
				   XTCPHDR_RST | XTCPHDR_ACK, 0, NULL);
}

/**
 * xtcp_v4_mtu_reduced() - act on a smaller path MTU (RFC 1191)
 * @sk: the socket; xs->mtu_info holds the MTU an ICMP error reported
 *
 * As Linux's tcp_v4_mtu_reduced(): the route learns the MTU, which it
 * clamps itself (net.ipv4.route.min_pmtu, 552 by default; a smaller
 * value is taken as that and the route no longer sets DF). If the route
 * now carries less than the send MSS was computed for, the MSS is
 * computed again, floored as any (XTCP_MIN_SND_MSS), and what was too
 * large for it goes again at once (xtcp_retransmit_mtu()). With
 * IP_PMTUDISC_DONT, or INTERFACE and OMIT, which ignore path MTU
 * information, nothing is resent and the MSS follows the route only at
 * the next transmission, as TCP's. Runs at most once per ICMP, or once
 * for any number of them deferred while the user owned the socket.
 *
 * Context: socket locked: from the ICMP handler in softirq, or from
 * xtcp_release_cb().
 */
static void xtcp_v4_mtu_reduced(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct dst_entry *dst;
	u32 mtu, old_mss;

	if ((1 << sk->sk_state) & (TCPF_LISTEN | TCPF_CLOSE))
		return;
	mtu = READ_ONCE(xs->mtu_info);
	dst = inet_csk_update_pmtu(sk, mtu);
	if (!dst)
		return;
	/* Kept for a timeout, should the connection not recover. */
	if (mtu < dst_mtu(dst) && ip_dont_fragment(sk, dst))
		WRITE_ONCE(sk->sk_err_soft, EMSGSIZE);

	/* In SYN_SENT and SYN_RCVD the MSS is set when the handshake
	 * completes, from the route as it then stands.
	 */
	if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV))
		return;
	if (inet->pmtudisc == IP_PMTUDISC_DONT || !ip_sk_accept_pmtu(sk))
		return;
	old_mss = xs->mss_cache;
	xtcp_sync_mss(sk, xs->mss_clamp);
	if (xs->mss_cache < old_mss)
		xtcp_retransmit_mtu(sk);
}

/* An ICMP redirect: the route learns the new gateway (RFC 1122 3.2.2.2). */
static void xtcp_v4_redirect(struct sk_buff *skb, struct sock *sk)
{
	struct dst_entry *dst = __sk_dst_check(sk, 0);

	if (dst)
		dst->ops->redirect(dst, sk, skb);
}

/**
 * xtcp_req_err() - an ICMP or ICMPv6 error about a half-open connection
 * @net: the namespace the error came in
 * @iif: the interface it came in on, for the listener lookup
 * @t: the quoted segment's 4-tuple, seen from here
 * @seq: the quoted sequence number
 * @abort: whether the error says the peer cannot be reached
 *
 * As Linux's tcp_req_err(): one that quotes our SYN-ACK (its ISN) and
 * says the peer cannot be reached drops the entry; over IPv4 a port or
 * protocol unreachable is ignored, as the peer, which sent the SYN, has
 * an xtcp endpoint. Nothing is reported to anyone: the entry has no
 * socket yet, and accept() does not return network errors. The listener
 * is locked only for an error that will drop an entry; with the listener
 * owned by its user the error is dropped and the SYN-ACK retries end the
 * entry in time.
 *
 * Context: softirq, RCU read lock held; no socket lock held.
 */
void xtcp_req_err(struct net *net, int iif, const struct xtcp_tuple *t,
		  u32 seq, bool abort)
{
	struct xtcp_req *req;
	struct sock *sk;
	u32 iss;

	req = xtcp_reqhash_lookup(net, t);
	if (!req || READ_ONCE(req->dead))
		return;
	iss = READ_ONCE(req->iss);
	if (seq != iss) {
		XTCP_INC_STATS(net, XTCP_MIB_OUTOFWINDOWICMPS);
		return;
	}
	if (!abort)
		return;
	sk = xtcp_listener_lookup(net, &t->laddr, t->lport, iif);
	if (!sk)
		return;
	bh_lock_sock(sk);
	/* Looked up again under the lock: it may have gone meanwhile. */
	if (!sock_owned_by_user(sk)) {
		req = xtcp_req_lookup(sk, t);
		if (req && req->iss == iss) {
			xtcp_req_drop(req);
			XTCP_INC_STATS(net, XTCP_MIB_ATTEMPTFAILS);
		}
	}
	bh_unlock_sock(sk);
	sock_put(sk);
}

/*
 * The -errno an ICMP error reports, or 0 for one that reports nothing.
 * As Linux TCP (icmp_err_convert[]), but for protocol unreachable: the
 * host has no xtcp, which for an xtcp connection is what a port without
 * a listener is, so ECONNREFUSED rather than TCP's ENOPROTOOPT
 * (Documentation/xtcp.rst "ICMP and path MTU").
 */
static int xtcp_v4_icmp_errno(int type, int code)
{
	switch (type) {
	case ICMP_PARAMETERPROB:
		return -EPROTO;
	case ICMP_TIME_EXCEEDED:
		return -EHOSTUNREACH;
	case ICMP_DEST_UNREACH:
		if (code > NR_ICMP_UNREACH)
			return 0;
		if (code == ICMP_PROT_UNREACH)
			return -ECONNREFUSED;
		return -icmp_err_convert[code].errno;
	}
	return 0;
}

/*
 * struct net_protocol .err_handler: an ICMP error quoting one of our
 * segments (RFC 1122 4.2.3.9, RFC 5927), as Linux's tcp_v4_err().
 * skb->data is the quoted IP header, followed by at least 8 bytes of our
 * header (ports and sequence number); @info is the MTU of "fragmentation
 * needed".
 *
 * Against forged errors (RFC 5927): the quoted sequence number must be
 * in flight (snd_una to snd_nxt), else the error is dropped and counted
 * (OutOfWindowIcmps). A synchronized connection takes no error as fatal:
 * it is kept as the soft error reported if the connection times out
 * (SO_ERROR reads it too), or at once with IP_RECVERR. Only SYN_SENT, and
 * SYN_RCVD of a simultaneous open, end at once. A smaller MTU is clamped
 * by the route and the send MSS floored (xtcp_v4_mtu_reduced()). Each
 * error does a bounded amount of work: one lookup, one socket, at most a
 * congestion window of retransmissions.
 *
 * Context: softirq, RCU read lock held; no socket lock held.
 */
static int xtcp_v4_err(struct sk_buff *skb, u32 info)
{
	const struct iphdr *iph = (const struct iphdr *)skb->data;
	const struct tcphdr *th = (const struct tcphdr *)(skb->data +
							   (iph->ihl << 2));
	struct net *net = dev_net_rcu(skb->dev);
	const int type = icmp_hdr(skb)->type;
	const int code = icmp_hdr(skb)->code;
	struct xtcp_sock *xs;
	struct xtcp_tuple t;
	struct sock *sk;
	u32 seq;
	int err;

	/* The quoted segment is one we sent: seen from here, its source is
	 * the local end.
	 */
	ipv6_addr_set_v4mapped(iph->saddr, &t.laddr);
	ipv6_addr_set_v4mapped(iph->daddr, &t.raddr);
	t.lport = th->source;
	t.rport = th->dest;
	seq = ntohl(th->seq);

	sk = xtcp_ehash_lookup(net, &t);
	if (!sk) {
		/* A half-open entry, or else TIME_WAIT or nothing: ignored. */
		xtcp_req_err(net, inet_iif(skb), &t, seq,
			     type == ICMP_PARAMETERPROB ||
			     type == ICMP_TIME_EXCEEDED ||
			     (type == ICMP_DEST_UNREACH &&
			      (code == ICMP_NET_UNREACH ||
			       code == ICMP_HOST_UNREACH)));
		return 0;
	}
	xs = xtcp_sk(sk);

	bh_lock_sock(sk);
	if (sk->sk_state == TCP_CLOSE || sk->sk_state == TCP_LISTEN)
		goto out;
	if (unlikely(iph->ttl < READ_ONCE(inet_sk(sk)->min_ttl))) {
		XTCP_INC_STATS(net, XTCP_MIB_MINTTLDROP);
		goto out;
	}
	if (!between(seq, xs->snd_una, xs->snd_nxt)) {
		XTCP_INC_STATS(net, XTCP_MIB_OUTOFWINDOWICMPS);
		goto out;
	}

	switch (type) {
	case ICMP_REDIRECT:
		if (!sock_owned_by_user(sk))
			xtcp_v4_redirect(skb, sk);
		goto out;
	case ICMP_DEST_UNREACH:
		if (code != ICMP_FRAG_NEEDED)
			break;
		WRITE_ONCE(xs->mtu_info, info);
		if (!sock_owned_by_user(sk))
			xtcp_v4_mtu_reduced(sk);
		else
			xtcp_timers_defer(sk, XTCP_EV_MTU_REDUCED);
		goto out;
	}
	/* Source quench (RFC 6633) and the rest report nothing. */
	err = -xtcp_v4_icmp_errno(type, code);
	if (!err)
		goto out;

	if (sk->sk_state == TCP_SYN_SENT ||
	    (sk->sk_state == TCP_SYN_RECV && !xs->listener)) {
		xtcp_ip_icmp_error(sk, skb, err, th->dest, info, (u8 *)th);
		if (!sock_owned_by_user(sk)) {
			WRITE_ONCE(sk->sk_err, err);
			xtcp_done(sk);
			sk_error_report(sk);
		} else {
			WRITE_ONCE(sk->sk_err_soft, err);
		}
		goto out;
	}

	/* Synchronized: keep trying until the timeout or the user gives
	 * up (RFC 1122 4.2.3.9); the error only says why, if it comes to
	 * that. The RTO backoff is not reverted (RFC 6069).
	 */
	if (!sock_owned_by_user(sk) && xtcp_inet_recverr(sk)) {
		WRITE_ONCE(sk->sk_err, err);
		sk_error_report(sk);
	} else {
		WRITE_ONCE(sk->sk_err_soft, err);
	}
out:
	bh_unlock_sock(sk);
	sock_put(sk);
	return 0;
}

static int xtcp_v4_iif(const struct sk_buff *skb)
{
	return inet_iif(skb);
}

const struct xtcp_af_ops xtcp_v4_af_ops = {
	.queue_xmit = ip_queue_xmit,
	.send_check = xtcp_v4_send_check,
	.child_init = xtcp_v4_child_init,
	.child_route = xtcp_v4_child_route,
	.tuple_of_skb = xtcp_v4_tuple_of_skb,
	.reply_mss = xtcp_v4_reply_mss,
	.req_mss = xtcp_v4_req_mss,
	.send_tuple = xtcp_v4_send_tuple,
	.send_reply = xtcp_v4_send_reply,
	.send_reset = xtcp_v4_send_reset,
	.mtu_reduced = xtcp_v4_mtu_reduced,
	.iif = xtcp_v4_iif,
	.net_header_len = sizeof(struct iphdr),
};

static const struct net_protocol xtcp_v4_protocol = {
	.handler = xtcp_v4_rcv,
	.err_handler = xtcp_v4_err,
	.no_policy = 1,
	.icmp_strict_tag_validation = 1,
};

static struct inet_protosw xtcp_v4_protosw = {
	.type = SOCK_STREAM,
	.prot = &xtcp_prot,
	.ops = &xtcp_stream_ops,
};

/**
 * xtcp_v4_init() - register xtcp with IPv4
 *
 * The protocol handler goes first: inet_add_protocol() is the one
 * registration that fails when another module already owns the number,
 * while inet_register_protosw() would silently shadow its socket switch.
 *
 * Context: module init, process context.
 * Return: 0, -EBUSY when the protocol number is taken, or another errno.
 */
int xtcp_v4_init(void)
{
	int err;

	err = proto_register(&xtcp_prot, 1);
	if (err)
		return err;

	if (inet_add_protocol(&xtcp_v4_protocol, xtcp_protocol) < 0) {
		pr_err("IP protocol %d is already registered by another module\n",
		       xtcp_protocol);
		err = -EBUSY;
		goto err_proto;
	}

	err = xtcp_offload_init();
	if (err) {
		pr_err("IP protocol %d already has an offload handler\n",
		       xtcp_protocol);
		goto err_protocol;
	}

	xtcp_v4_protosw.protocol = xtcp_protocol;
	inet_register_protosw(&xtcp_v4_protosw);
	return 0;

err_protocol:
	inet_del_protocol(&xtcp_v4_protocol, xtcp_protocol);
err_proto:
	proto_unregister(&xtcp_prot);
	return err;
}

/**
 * xtcp_v4_exit() - undo xtcp_v4_init()
 *
 * Context: module exit, process context. No xtcp socket exists (each holds
 * a module reference), so nothing can reach the handlers afterwards.
 */
void xtcp_v4_exit(void)
{
	inet_unregister_protosw(&xtcp_v4_protosw);
	xtcp_offload_exit();
	inet_del_protocol(&xtcp_v4_protocol, xtcp_protocol);
	proto_unregister(&xtcp_prot);
}
