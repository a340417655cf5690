// SPDX-License-Identifier: GPL-2.0
/*
 * TCP-format options (RFC 9293 section 3.2, RFC 7323): parsing with every
 * length checked, and writing the few we send.
 */

#include <linux/tcp.h>
#include <net/tcp.h>

#include "xtcp.h"

/**
 * xtcp_parse_options() - parse and validate the options of a segment
 * @th: the header; its data offset was checked against the segment length
 * @syn: the segment carries SYN (MSS and window scale count only then)
 * @opts: result; absent options read as 0 / -1
 *
 * A malformed option list (a length below 2 or running past the header,
 * a known option with the wrong length) makes the whole segment invalid,
 * as Linux TCP treats it.
 *
 * Context: any.
 * Return: 0, or -EINVAL for a malformed option list.
 */
int xtcp_parse_options(const struct tcphdr *th, bool syn,
		       struct xtcp_opts *opts)
{
	const u8 *p = (const u8 *)(th + 1);
	int len = th->doff * 4 - XTCP_BASE_HLEN;

	memset(opts, 0, sizeof(*opts));
	opts->wscale = -1;

	while (len > 0) {
		u8 kind = p[0], olen;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			p++;
			len--;
			continue;
		}
		if (len < 2)
			return -EINVAL;
		olen = p[1];
		if (olen < 2 || olen > len)
			return -EINVAL;

		switch (kind) {
		case TCPOPT_MSS:
			if (olen != TCPOLEN_MSS)
				return -EINVAL;
			if (syn)
				opts->mss = get_unaligned_be16(p + 2);
			break;
		case TCPOPT_WINDOW:
			if (olen != TCPOLEN_WINDOW)
				return -EINVAL;
			/* RFC 7323 section 2.3: a shift above 14 means 14. */
			if (syn)
				opts->wscale = min_t(u8, p[2], TCP_MAX_WSCALE);
			break;
		case TCPOPT_SACK_PERM:
			if (olen != TCPOLEN_SACK_PERM)
				return -EINVAL;
			/* Checked, not acted upon: no SACK yet. */
			break;
		case TCPOPT_TIMESTAMP:
			if (olen != TCPOLEN_TIMESTAMP)
				return -EINVAL;
			opts->ts_ok = 1;
			opts->tsval = get_unaligned_be32(p + 2);
			opts->tsecr = get_unaligned_be32(p + 6);
			break;
		default:
			/* Unknown options are skipped (RFC 9293 3.1). */
			break;
		}
		p += olen;
		len -= olen;
	}
	return 0;
}

/**
 * xtcp_options_size() - bytes of options xtcp_write_options() will write
 * @opts: what to write
 *
 * Context: any.
 * Return: a multiple of 4, at most %XTCP_MAX_OPT_LEN.
 */
unsigned int xtcp_options_size(const struct xtcp_opts *opts)
{
	unsigned int size = 0;

	if (opts->mss)
		size += TCPOLEN_MSS;
	if (opts->ts_ok)
		size += TCPOLEN_TSTAMP_ALIGNED;
	if (opts->wscale >= 0)
		size += TCPOLEN_WSCALE_ALIGNED;
	return size;
}

/**
 * xtcp_write_options() - write options after a header
 * @ptr: first option word
 * @opts: what to write (MSS, timestamps, window scale)
 *
 * Context: any.
 */
void xtcp_write_options(__be32 *ptr, const struct xtcp_opts *opts)
{
	if (opts->mss)
		*ptr++ = htonl((TCPOPT_MSS << 24) | (TCPOLEN_MSS << 16) |
			       opts->mss);
	if (opts->ts_ok) {
		*ptr++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
			       (TCPOPT_TIMESTAMP << 8) | TCPOLEN_TIMESTAMP);
		*ptr++ = htonl(opts->tsval);
		*ptr++ = htonl(opts->tsecr);
	}
	if (opts->wscale >= 0)
		*ptr++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_WINDOW << 16) |
			       (TCPOLEN_WINDOW << 8) | opts->wscale);
}
