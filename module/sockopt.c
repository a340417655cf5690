// SPDX-License-Identifier: GPL-2.0
/*
 * Socket options at level SOL_XTCP (include/uapi/linux/xtcp.h,
 * Documentation/xtcp.rst "Socket options"), the same and a few more at
 * level SOL_TCP with TCP's ranges and errors, TCP_INFO, and
 * SO_KEEPALIVE's hook. An option that overrides a knob takes the knob's
 * range from sysctl.c.
 */

#include <linux/export.h>
#include <linux/sockptr.h>
#include <linux/uaccess.h>
#include <net/ip.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/tcp_states.h>

#include "xtcp.h"

/*
 * TCP_DEFER_ACCEPT is kept as Linux keeps it, as a number of SYN-ACK
 * retransmissions from a 1 s timeout doubling up to the 120 s maximum,
 * so that it reads back rounded up as on a TCP socket.
 */
static u8 xtcp_defer_secs_to_retrans(int secs)
{
	int timeout = XTCP_TIMEOUT_INIT / HZ, period = timeout;
	u8 retrans;

	if (secs <= 0)
		return 0;
	for (retrans = 1; secs > period && retrans < U8_MAX; retrans++) {
		timeout = min(timeout << 1, XTCP_RTO_MAX / HZ);
		period += timeout;
	}
	return retrans;
}

static int xtcp_defer_retrans_to_secs(u8 retrans)
{
	int timeout = XTCP_TIMEOUT_INIT / HZ, period;

	if (!retrans)
		return 0;
	for (period = timeout; --retrans; period += timeout)
		timeout = min(timeout << 1, XTCP_RTO_MAX / HZ);
	return period;
}

/* TCP_NODELAY, TCP_CORK: a queued segment they no longer hold goes. */
static void xtcp_set_nodelay(struct sock *sk, int val)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->nodelay = !!val;
	/* Pushes even what TCP_CORK holds, as Linux does. */
	if (val)
		xtcp_write_xmit(sk, true);
}

static void xtcp_set_cork(struct sock *sk, int val)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->cork = !!val;
	if (!val)
		xtcp_write_xmit(sk, xs->nodelay);
}

/* TCP_QUICKACK: 0 enters Linux's pingpong mode, else an owed ACK goes. */
static void xtcp_set_quickack(struct sock *sk, int val)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!val) {
		xs->pingpong = 1;
		return;
	}
	xs->pingpong = 0;
	if ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT) &&
	    xs->ack_pending) {
		xtcp_send_ack(sk);
		if (!(val & 1))
			xs->pingpong = 1;
	}
}

/*
 * The options both levels have, with the same number and meaning, under
 * the socket lock; @xtcp_level: set at SOL_XTCP. -ENOPROTOOPT for any
 * other.
 */
static int xtcp_set_common(struct sock *sk, int optname, int val,
			   bool xtcp_level)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	switch (optname) {
	case XTCP_NODELAY:
		xtcp_set_nodelay(sk, val);
		return 0;
	case XTCP_CORK:
		xtcp_set_cork(sk, val);
		return 0;
	case XTCP_USER_TIMEOUT:
		if (val < 0)
			return -EINVAL;
		WRITE_ONCE(xs->user_timeout, val);
		return 0;
	case XTCP_NOTSENT_LOWAT:
		/* Any value, as TCP: a negative one reads back as set and
		 * means a mark that large; 0 returns to the knob.
		 */
		WRITE_ONCE(xs->notsent_lowat, val);
		/* A higher mark may make the socket writable now. */
		sk->sk_write_space(sk);
		return 0;
	case XTCP_INQ:
		if (val < 0 || val > 1)
			return -EINVAL;
		xs->recvmsg_inq = val;
		xs->inq_xtcp = xtcp_level;
		return 0;
	/* An option that overrides a knob takes the knob's range. */
	case XTCP_KEEPIDLE:
		if (!xtcp_knob_valid(XTCP_KNOB_KEEPALIVE_TIME, val))
			return -EINVAL;
		xs->keepidle = val;
		xtcp_timers_keepalive_changed(sk);
		return 0;
	case XTCP_KEEPINTVL:
		if (!xtcp_knob_valid(XTCP_KNOB_KEEPALIVE_INTVL, val))
			return -EINVAL;
		xs->keepintvl = val;
		return 0;
	case XTCP_KEEPCNT:
		if (!xtcp_knob_valid(XTCP_KNOB_KEEPALIVE_PROBES, val))
			return -EINVAL;
		xs->keepcnt = val;
		return 0;
	}
	return -ENOPROTOOPT;
}

/*
 * Level SOL_TCP, for code written for TCP: TCP's options, ranges and
 * errors, as do_tcp_setsockopt() has them (Documentation/xtcp.rst,
 * "SOL_TCP").
 */
static int xtcp_setsockopt_tcp(struct sock *sk, int optname,
			       sockptr_t optval, unsigned int optlen)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	char name[TCP_CA_NAME_MAX];
	int val, err = 0;

	if (optname == TCP_CONGESTION) {
		/* NewReno is the one algorithm; Linux calls it "reno". */
		if (optlen < 1)
			return -EINVAL;
		val = strncpy_from_sockptr(name, optval,
					   min_t(long, sizeof(name) - 1,
						 optlen));
		if (val < 0)
			return -EFAULT;
		name[val] = 0;
		return strcmp(name, "reno") ? -ENOENT : 0;
	}

	if (optlen < sizeof(int))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;

	lock_sock(sk);
	switch (optname) {
	case TCP_MAXSEG:
		/* TCP's bounds: TCP_MIN_MSS to MAX_TCP_WINDOW. */
		if (val && (val < XTCP_MIN_MSS || val > 32767))
			err = -EINVAL;
		else
			xs->user_mss = val;
		break;
	case TCP_LINGER2:
		/* TCP clamps to 120 s where XTCP_LINGER2 refuses. */
		if (val < 0)
			WRITE_ONCE(xs->linger2, -1);
		else
			WRITE_ONCE(xs->linger2, min(val, 120));
		break;
	case TCP_QUICKACK:
		xtcp_set_quickack(sk, val);
		break;
	case TCP_DEFER_ACCEPT:
		WRITE_ONCE(xs->defer_accept, xtcp_defer_secs_to_retrans(val));
		break;
	default:
		err = xtcp_set_common(sk, optname, val, false);
	}
	release_sock(sk);
	return err;
}

/*
 * IPV6_FLOWLABEL_MGR with IPV6_FL_F_REFLECT: the IPv6 code grants flow
 * label reflection to IPPROTO_TCP alone, so xtcp answers it as that code
 * answers TCP (net/ipv6/ip6_flowlabel.c), and passes every other request
 * on. Returns 1 when the request is not ours. Context: process context,
 * socket not locked (6.1 keeps the flag in a bit-field: written locked).
 */
static int xtcp_v6_flowlabel_reflect(struct sock *sk, sockptr_t optval,
				     unsigned int optlen)
{
	struct in6_flowlabel_req freq;
	int err = 0;

	if (optlen < sizeof(freq) ||
	    copy_from_sockptr(&freq, optval, sizeof(freq)) ||
	    !(freq.flr_flags & IPV6_FL_F_REFLECT))
		return 1;
	if (freq.flr_action != IPV6_FL_A_GET && freq.flr_action != IPV6_FL_A_PUT)
		return 1;
	lock_sock(sk);
	if (freq.flr_action == IPV6_FL_A_GET) {
		if (READ_ONCE(sock_net(sk)->ipv6.sysctl.flowlabel_consistency))
			err = -EPERM;
		else
			xtcp_inet6_set_repflow(sk, true);
	} else if (!xtcp_inet6_repflow(sk)) {
		err = -ESRCH;
	} else {
		inet6_sk(sk)->flow_label = 0;
		xtcp_inet6_set_repflow(sk, false);
	}
	release_sock(sk);
	return err;
}

/**
 * xtcp_setsockopt() - struct proto .setsockopt
 * @sk: the socket
 * @level: SOL_XTCP, SOL_TCP, or another level passed on to IP
 * @optname: the option
 * @optval: its value, an int, or a string for TCP_CONGESTION
 * @optlen: its length
 *
 * Context: process context.
 * Return: 0 or -errno.
 */
int xtcp_setsockopt(struct sock *sk, int level, int optname,
		    sockptr_t optval, unsigned int optlen)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int val, err = 0;

	if (level == SOL_TCP)
		return xtcp_setsockopt_tcp(sk, optname, optval, optlen);
	if (level == SOL_IPV6 && optname == IPV6_FLOWLABEL_MGR &&
	    xtcp_sk_is_v6(sk)) {
		err = xtcp_v6_flowlabel_reflect(sk, optval, optlen);
		if (err <= 0)
			return err;
		err = 0;
	}
	if (level != SOL_XTCP && xtcp_sk_is_v6(sk))
		return ipv6_setsockopt(sk, level, optname, optval, optlen);
	if (level != SOL_XTCP)
		return ip_setsockopt(sk, level, optname, optval, optlen);

	if (optlen < sizeof(int))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;

	lock_sock(sk);
	switch (optname) {
	case XTCP_MAXSEG:
		if (val && (val < XTCP_MIN_MSS || val > 65535))
			err = -EINVAL;
		else
			xs->user_mss = val;
		break;
	case XTCP_LINGER2:
		/* Negative: no FIN_WAIT_2 hold; 0: the knob. */
		if (val > 0 && !xtcp_knob_valid(XTCP_KNOB_FIN_TIMEOUT, val))
			err = -EINVAL;
		else
			WRITE_ONCE(xs->linger2, val < 0 ? -1 : val);
		break;
	case XTCP_MSL:
		/* 0: the knob. */
		if (val && !xtcp_knob_valid(XTCP_KNOB_MSL, val))
			err = -EINVAL;
		else
			xs->msl = val;
		break;
	default:
		err = xtcp_set_common(sk, optname, val, true);
	}
	release_sock(sk);
	return err;
}

static void xtcp_get_info(struct sock *sk, struct xtcp_info *info)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	memset(info, 0, sizeof(*info));
	info->xtcpi_state = sk->sk_state;
	info->xtcpi_retransmits = xs->retransmits;
	info->xtcpi_probes = xs->probes_out;
	info->xtcpi_backoff = xs->backoff;
	if (xs->ts_ok)
		info->xtcpi_options |= XTCPI_OPT_TIMESTAMPS;
	if (xs->wscale_ok)
		info->xtcpi_options |= XTCPI_OPT_WSCALE;
	if (xs->sack_ok)
		info->xtcpi_options |= XTCPI_OPT_SACK;
	info->xtcpi_snd_wscale = xs->snd_wscale;
	info->xtcpi_rcv_wscale = xs->rcv_wscale;
	info->xtcpi_rto = jiffies_to_usecs(xs->rto);
	info->xtcpi_snd_mss = xs->mss_cache;
	info->xtcpi_advmss = xs->advmss;
	info->xtcpi_unacked = xs->packets_out;
	info->xtcpi_rtt = xs->srtt_us >> 3;
	info->xtcpi_rttvar = xs->rttvar_us >> 2;
	info->xtcpi_snd_ssthresh = xs->ssthresh;
	info->xtcpi_snd_cwnd = xs->cwnd;
	info->xtcpi_total_retrans = xs->total_retrans;
	info->xtcpi_snd_wnd = xs->snd_wnd;
	info->xtcpi_rcv_wnd = xs->rcv_wnd;
	info->xtcpi_msl = xtcp_msl(sk);
	info->xtcpi_ts_recent = xs->ts_recent;
	info->xtcpi_ts_val = xs->ts_ok ? xtcp_ts_now(xs) : 0;
	info->xtcpi_snd_una = xs->snd_una;
	info->xtcpi_snd_nxt = xs->snd_nxt;
	info->xtcpi_rcv_nxt = xs->rcv_nxt;
}

/* Segments sent again and not yet acknowledged (tcpi_retrans). */
static u32 xtcp_retrans_out(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;
	u32 n = 0;

	skb_queue_walk(&sk->sk_write_queue, skb) {
		if (skb == xs->send_head)
			break;
		n += XTCP_SKB_CB(skb)->retrans;
	}
	return n;
}

/**
 * xtcp_get_tcp_info() - fill a struct tcp_info, for TCP_INFO and sock_diag
 * @sk: the socket
 * @info: the structure to fill
 *
 * Field by field as tcp_get_info() fills it, from what xtcp keeps; what
 * xtcp does not track (SACK, pacing, ECN, delivery rate, receiver RTT...)
 * stays 0.
 *
 * Context: socket locked, unless @sk is a listener (only its accept
 * queue counters and constants are read then, as TCP does).
 */
void xtcp_get_tcp_info(struct sock *sk, struct tcp_info *info)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned long now = jiffies;
	struct dst_entry *dst;

	memset(info, 0, sizeof(*info));
	info->tcpi_state = sk->sk_state;
	info->tcpi_reordering = 3;	/* the fixed duplicate ACK threshold */
	info->tcpi_snd_cwnd = xs->cwnd;
	if (sk->sk_state == TCP_LISTEN) {
		/* As TCP: connections ready for accept(), and the backlog. */
		info->tcpi_unacked = READ_ONCE(xs->accept_ready);
		info->tcpi_sacked = READ_ONCE(sk->sk_max_ack_backlog);
		return;
	}

	if (xs->in_recovery)
		info->tcpi_ca_state = xs->retransmits ? TCP_CA_Loss :
							TCP_CA_Recovery;
	else if (xs->dup_acks)
		info->tcpi_ca_state = TCP_CA_Disorder;
	info->tcpi_retransmits = xs->retransmits;
	info->tcpi_probes = xs->probes_out;
	info->tcpi_backoff = xs->backoff;
	if (xs->ts_ok)
		info->tcpi_options |= TCPI_OPT_TIMESTAMPS;
	if (xs->sack_ok)
		info->tcpi_options |= TCPI_OPT_SACK;
	if (xs->wscale_ok) {
		info->tcpi_options |= TCPI_OPT_WSCALE;
		info->tcpi_snd_wscale = xs->snd_wscale;
		info->tcpi_rcv_wscale = xs->rcv_wscale;
	}
	/* TCP reports the timeout in use, backoff included. */
	info->tcpi_rto = jiffies_to_usecs(xtcp_rto(xs));
	info->tcpi_ato = jiffies_to_usecs(XTCP_DELACK_MAX);
	info->tcpi_snd_mss = xs->mss_cache;
	info->tcpi_unacked = xs->packets_out;
	info->tcpi_sacked = xs->sacked_out;
	info->tcpi_lost = xs->lost_out;
	info->tcpi_retrans = xtcp_retrans_out(sk);
	info->tcpi_last_data_sent = jiffies_to_msecs(now - xs->lsndtime);
	info->tcpi_last_data_recv = jiffies_to_msecs(now - xs->lrcvtime);
	info->tcpi_last_ack_recv =
		jiffies_to_msecs(now - READ_ONCE(xs->rcv_tstamp));
	dst = __sk_dst_get(sk);
	if (dst)
		info->tcpi_pmtu = dst_mtu(dst);
	info->tcpi_rtt = xs->srtt_us >> 3;
	info->tcpi_rttvar = xs->rttvar_us >> 2;
	/* TCP's "infinite" threshold is S32_MAX. */
	info->tcpi_snd_ssthresh = min_t(u32, xs->ssthresh, S32_MAX);
	info->tcpi_advmss = xs->advmss;
	info->tcpi_total_retrans = xs->total_retrans;
	info->tcpi_bytes_acked = xs->stats.bytes_acked;
	info->tcpi_bytes_received = xs->stats.bytes_received;
	info->tcpi_notsent_bytes = max_t(int, 0, xs->write_seq - xs->snd_nxt);
	info->tcpi_segs_out = xs->stats.segs_out;
	info->tcpi_segs_in = xs->stats.segs_in;
	info->tcpi_data_segs_out = xs->stats.data_segs_out;
	info->tcpi_data_segs_in = xs->stats.data_segs_in;
	info->tcpi_min_rtt = minmax_get(&xs->rtt_min);
	info->tcpi_delivered = xs->stats.delivered;
	info->tcpi_bytes_sent = xs->stats.bytes_sent;
	info->tcpi_bytes_retrans = xs->stats.bytes_retrans;
	info->tcpi_rcv_ooopack = xs->stats.rcv_ooopack;
	info->tcpi_snd_wnd = xs->snd_wnd;
	xtcp_tcpi_set_rcv_wnd(info, xs->rcv_wnd);
}
EXPORT_SYMBOL_NS_GPL(xtcp_get_tcp_info, XTCP);

/* The int options both levels have; -ENOPROTOOPT for any other. */
static int xtcp_get_common(struct sock *sk, int optname, int *val)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	switch (optname) {
	case XTCP_NODELAY:
		*val = xs->nodelay;
		break;
	case XTCP_CORK:
		*val = xs->cork;
		break;
	case XTCP_USER_TIMEOUT:
		*val = READ_ONCE(xs->user_timeout);
		break;
	case XTCP_NOTSENT_LOWAT:
		*val = READ_ONCE(xs->notsent_lowat);
		break;
	case XTCP_INQ:
		*val = xs->recvmsg_inq;
		break;
	case XTCP_MAXSEG:
		*val = xs->mss_cache;
		if (sk->sk_state == TCP_CLOSE || sk->sk_state == TCP_LISTEN)
			*val = xs->user_mss ?: XTCP_DEFAULT_MSS;
		break;
	case XTCP_KEEPIDLE:
		*val = xtcp_keepidle(sk);
		break;
	case XTCP_KEEPINTVL:
		*val = xtcp_keepintvl(sk);
		break;
	case XTCP_KEEPCNT:
		*val = xtcp_keepcnt(sk);
		break;
	case XTCP_LINGER2:
		*val = READ_ONCE(xs->linger2);
		if (*val >= 0)
			*val = xtcp_fin_timeout(sk);
		break;
	default:
		return -ENOPROTOOPT;
	}
	return 0;
}

/* Level SOL_TCP, as do_tcp_getsockopt() answers it. */
static int xtcp_getsockopt_tcp(struct sock *sk, int optname,
			       char __user *optval, int __user *optlen,
			       int len)
{
	char name[TCP_CA_NAME_MAX] = "reno";
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct tcp_info info;
	int val, err;

	switch (optname) {
	case TCP_INFO:
		lock_sock(sk);
		xtcp_get_tcp_info(sk, &info);
		release_sock(sk);
		len = min_t(unsigned int, len, sizeof(info));
		if (put_user(len, optlen) || copy_to_user(optval, &info, len))
			return -EFAULT;
		return 0;
	case TCP_CONGESTION:
		len = min_t(unsigned int, len, sizeof(name));
		if (put_user(len, optlen) || copy_to_user(optval, name, len))
			return -EFAULT;
		return 0;
	case TCP_QUICKACK:
		val = !xs->pingpong;
		break;
	case TCP_DEFER_ACCEPT:
		val = xtcp_defer_retrans_to_secs(READ_ONCE(xs->defer_accept));
		break;
	default:
		err = xtcp_get_common(sk, optname, &val);
		if (err)
			return err;
	}

	len = min_t(unsigned int, len, sizeof(int));
	if (put_user(len, optlen) || copy_to_user(optval, &val, len))
		return -EFAULT;
	return 0;
}

/**
 * xtcp_getsockopt() - struct proto .getsockopt
 * @sk: the socket
 * @level: SOL_XTCP, SOL_TCP, or another level passed on to IP
 * @optname: the option
 * @optval: where the value goes
 * @optlen: in: room at @optval; out: its length
 *
 * Context: process context.
 * Return: 0 or -errno.
 */
int xtcp_getsockopt(struct sock *sk, int level, int optname,
		    char __user *optval, int __user *optlen)
{
	struct xtcp_info info;
	int val, len, err;

	if (level != SOL_XTCP && level != SOL_TCP && xtcp_sk_is_v6(sk))
		return ipv6_getsockopt(sk, level, optname, optval, optlen);
	if (level != SOL_XTCP && level != SOL_TCP)
		return ip_getsockopt(sk, level, optname, optval, optlen);
	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	if (level == SOL_TCP)
		return xtcp_getsockopt_tcp(sk, optname, optval, optlen, len);

	switch (optname) {
	case XTCP_INFO:
		lock_sock(sk);
		xtcp_get_info(sk, &info);
		release_sock(sk);
		len = min_t(unsigned int, len, sizeof(info));
		if (put_user(len, optlen) || copy_to_user(optval, &info, len))
			return -EFAULT;
		return 0;
	case XTCP_MSL:
		val = xtcp_msl(sk);
		break;
	default:
		err = xtcp_get_common(sk, optname, &val);
		if (err)
			return err;
	}

	len = min_t(unsigned int, len, sizeof(int));
	if (put_user(len, optlen) || copy_to_user(optval, &val, len))
		return -EFAULT;
	return 0;
}

/**
 * xtcp_keepalive() - struct proto .keepalive: SO_KEEPALIVE changed
 * @sk: the socket
 * @valbool: on or off
 *
 * Context: socket locked (sk_setsockopt()).
 */
void xtcp_keepalive(struct sock *sk, int valbool)
{
	/* sk_setsockopt() calls this before it sets SOCK_KEEPOPEN, and
	 * xtcp_timers_keepalive_changed() goes by the flag: set it first.
	 */
	sock_valbool_flag(sk, SOCK_KEEPOPEN, valbool);
	xtcp_timers_keepalive_changed(sk);
}
