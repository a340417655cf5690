// SPDX-License-Identifier: GPL-2.0
/*
 * Socket options at level SOL_XTCP (include/uapi/linux/xtcp.h,
 * Documentation/xtcp.rst "Socket options"), and SO_KEEPALIVE's hook. An
 * option that overrides a knob takes the knob's range from sysctl.c.
 */

#include <linux/sockptr.h>
#include <linux/uaccess.h>
#include <net/ip.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "xtcp.h"

/**
 * xtcp_setsockopt() - struct proto .setsockopt
 * @sk: the socket
 * @level: SOL_XTCP, or another level passed on to IP
 * @optname: the option
 * @optval: its value, an int
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

	if (level != SOL_XTCP)
		return ip_setsockopt(sk, level, optname, optval, optlen);

	if (optlen < sizeof(int))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;

	lock_sock(sk);
	switch (optname) {
	case XTCP_NODELAY:
		xs->nodelay = !!val;
		if (val)
			xtcp_write_xmit(sk, true);
		break;
	case XTCP_MAXSEG:
		if (val && (val < XTCP_MIN_MSS || val > 65535))
			err = -EINVAL;
		else
			xs->user_mss = val;
		break;
	/* An option that overrides a knob takes the knob's range. */
	case XTCP_KEEPIDLE:
		if (!xtcp_knob_valid(XTCP_KNOB_KEEPALIVE_TIME, val)) {
			err = -EINVAL;
			break;
		}
		xs->keepidle = val;
		xtcp_timers_keepalive_changed(sk);
		break;
	case XTCP_KEEPINTVL:
		if (!xtcp_knob_valid(XTCP_KNOB_KEEPALIVE_INTVL, val))
			err = -EINVAL;
		else
			xs->keepintvl = val;
		break;
	case XTCP_KEEPCNT:
		if (!xtcp_knob_valid(XTCP_KNOB_KEEPALIVE_PROBES, val))
			err = -EINVAL;
		else
			xs->keepcnt = val;
		break;
	case XTCP_LINGER2:
		/* Negative: no FIN_WAIT_2 hold; 0: the knob. */
		if (val > 0 && !xtcp_knob_valid(XTCP_KNOB_FIN_TIMEOUT, val))
			err = -EINVAL;
		else
			xs->linger2 = val < 0 ? -1 : val;
		break;
	case XTCP_MSL:
		/* 0: the knob. */
		if (val && !xtcp_knob_valid(XTCP_KNOB_MSL, val))
			err = -EINVAL;
		else
			xs->msl = val;
		break;
	default:
		err = -ENOPROTOOPT;
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

/**
 * xtcp_getsockopt() - struct proto .getsockopt
 * @sk: the socket
 * @level: SOL_XTCP, or another level passed on to IP
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
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_info info;
	int val, len;

	if (level != SOL_XTCP)
		return ip_getsockopt(sk, level, optname, optval, optlen);
	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;

	switch (optname) {
	case XTCP_INFO:
		lock_sock(sk);
		xtcp_get_info(sk, &info);
		release_sock(sk);
		len = min_t(unsigned int, len, sizeof(info));
		if (put_user(len, optlen) || copy_to_user(optval, &info, len))
			return -EFAULT;
		return 0;
	case XTCP_NODELAY:
		val = xs->nodelay;
		break;
	case XTCP_MAXSEG:
		val = xs->mss_cache;
		if (sk->sk_state == TCP_CLOSE || sk->sk_state == TCP_LISTEN)
			val = xs->user_mss ?: XTCP_DEFAULT_MSS;
		break;
	case XTCP_KEEPIDLE:
		val = xtcp_keepidle(sk);
		break;
	case XTCP_KEEPINTVL:
		val = xtcp_keepintvl(sk);
		break;
	case XTCP_KEEPCNT:
		val = xtcp_keepcnt(sk);
		break;
	case XTCP_LINGER2:
		val = READ_ONCE(xs->linger2);
		if (val >= 0)
			val = xtcp_fin_timeout(sk);
		break;
	case XTCP_MSL:
		val = xtcp_msl(sk);
		break;
	default:
		return -ENOPROTOOPT;
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
