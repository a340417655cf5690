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
#define XTCP_KEEPIDLE		4	/* int, s: idle time before probes */
#define XTCP_KEEPINTVL		5	/* int, s: time between probes */
#define XTCP_KEEPCNT		6	/* int: probes before dropping */
#define XTCP_LINGER2		8	/* int, s: orphaned FIN_WAIT_2 lifetime */
#define XTCP_INFO		11	/* struct xtcp_info, read only */
#define XTCP_MSL		200	/* int, ms: this socket's MSL */

#endif /* _UAPI_LINUX_XTCP_H */
