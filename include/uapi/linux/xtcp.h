/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * xtcp: an experimental TCP variant under its own IP protocol number.
 *
 * Applications open it with socket(AF_INET, SOCK_STREAM, IPPROTO_XTCP) and
 * use the BSD socket API as with TCP. Protocol-level options live at
 * SOL_XTCP; where an option means what a TCP option means, it has the same
 * number as the TCP one so that ports of TCP code stay readable.
 */
#ifndef _UAPI_LINUX_XTCP_H
#define _UAPI_LINUX_XTCP_H

#include <linux/types.h>

/* RFC 3692 experimental number; the module parameter "proto" may pick 254. */
#define IPPROTO_XTCP		253
#define IPPROTO_XTCP_ALT	254

/* setsockopt()/getsockopt() level, whichever protocol number is in use. */
#define SOL_XTCP		253

/* Socket options at SOL_XTCP. */
#define XTCP_NODELAY		1	/* int: disable Nagle */
#define XTCP_MAXSEG		2	/* int: MSS clamp */
#define XTCP_CORK		3	/* int: hold partial segments */
#define XTCP_KEEPIDLE		4	/* int, s: idle time before probes */
#define XTCP_KEEPINTVL		5	/* int, s: time between probes */
#define XTCP_KEEPCNT		6	/* int: probes before dropping */
#define XTCP_LINGER2		8	/* int, s: orphaned FIN_WAIT_2 lifetime */
#define XTCP_INFO		11	/* struct xtcp_info, read only */
#define XTCP_USER_TIMEOUT	18	/* int, ms: unacknowledged data lifetime */
#define XTCP_NOTSENT_LOWAT	25	/* int: unsent bytes poll() allows */
#define XTCP_INQ		36	/* int, 0 or 1: XTCP_CM_INQ on recvmsg() */
#define XTCP_MSL		200	/* int, ms: this socket's MSL */

/* cmsg type at level SOL_XTCP: unread bytes after a recvmsg(), an int */
#define XTCP_CM_INQ		XTCP_INQ

/* xtcpi_options bits */
#define XTCPI_OPT_TIMESTAMPS	1
#define XTCPI_OPT_WSCALE	2
#define XTCPI_OPT_SACK		4

/**
 * struct xtcp_info - what getsockopt(SOL_XTCP, XTCP_INFO) reports
 *
 * Times are in microseconds unless the name says otherwise; windows in
 * bytes; cwnd and ssthresh in segments. Fields are only ever appended:
 * a shorter optlen gets a prefix.
 */
struct xtcp_info {
	__u8	xtcpi_state;		/* TCP_* state number */
	__u8	xtcpi_retransmits;	/* consecutive timeouts */
	__u8	xtcpi_probes;		/* unanswered keepalive/zero-window probes */
	__u8	xtcpi_backoff;		/* RTO backoff shift */
	__u8	xtcpi_options;		/* XTCPI_OPT_* */
	__u8	xtcpi_snd_wscale;
	__u8	xtcpi_rcv_wscale;
	__u8	xtcpi_pad;

	__u32	xtcpi_rto;
	__u32	xtcpi_snd_mss;
	__u32	xtcpi_advmss;
	__u32	xtcpi_unacked;		/* segments in flight */
	__u32	xtcpi_rtt;		/* smoothed */
	__u32	xtcpi_rttvar;
	__u32	xtcpi_snd_ssthresh;
	__u32	xtcpi_snd_cwnd;
	__u32	xtcpi_total_retrans;
	__u32	xtcpi_snd_wnd;
	__u32	xtcpi_rcv_wnd;
	__u32	xtcpi_msl;		/* ms, what TIME_WAIT will use */
	__u32	xtcpi_ts_recent;	/* last timestamp from the peer */
	__u32	xtcpi_ts_val;		/* our timestamp clock now */
	__u32	xtcpi_snd_una;
	__u32	xtcpi_snd_nxt;
	__u32	xtcpi_rcv_nxt;
};

#endif /* _UAPI_LINUX_XTCP_H */
