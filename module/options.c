// SPDX-License-Identifier: GPL-2.0
/*
 * TCP-format options (RFC 9293 section 3.2, RFC 7323, RFC 2018): parsing
 * with every length checked, and writing the few we send, laid out as
 * Linux TCP lays them out (tcp_options_write()): MSS, then timestamps with
 * SACK-permitted packed in front of them in place of the two NOPs, then
 * the window scale, then the SACK blocks.
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
 * as Linux TCP treats it. A SACK option whose length is no whole number
 * of blocks is skipped, as Linux skips it; only the first SACK option of
 * a segment is taken, so that no segment names more than the four blocks
 * one option has room for.
 *
 * Context: any.
 * Return: 0, or -EINVAL for a malformed option list.
 */
int xtcp_parse_options(const struct tcphdr *th, bool syn,
		       struct xtcp_opts *opts)
{
	const u8 *p = (const u8 *)(th + 1);
	int len = th->doff * 4 - XTCP_BASE_HLEN;

	BUILD_BUG_ON(sizeof(struct xtcp_skb_cb) >
		     sizeof_field(struct sk_buff, cb));
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
			if (syn)
				opts->sack_ok = 1;
			break;
		case TCPOPT_SACK:
			if (olen >= TCPOLEN_SACK_BASE + TCPOLEN_SACK_PERBLOCK &&
			    !((olen - TCPOLEN_SACK_BASE) %
			      TCPOLEN_SACK_PERBLOCK) && !opts->sack_off)
				opts->sack_off = p - (const u8 *)th;
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
	else if (opts->sack_ok)
		size += TCPOLEN_SACKPERM_ALIGNED;
	if (opts->wscale >= 0)
		size += TCPOLEN_WSCALE_ALIGNED;
	if (opts->nr_sack)
		size += TCPOLEN_SACK_BASE_ALIGNED +
			opts->nr_sack * TCPOLEN_SACK_PERBLOCK;
	return size;
}

/**
 * xtcp_sack_room() - SACK blocks that fit beside the other options
 * @opts: the options of a segment without SYN, @nr_sack not yet set
 *
 * Four blocks, or three beside timestamps (RFC 2018 section 3).
 *
 * Context: any.
 * Return: the number of blocks that fit.
 */
unsigned int xtcp_sack_room(const struct xtcp_opts *opts)
{
	unsigned int room = XTCP_MAX_OPT_LEN - xtcp_options_size(opts);

	if (room < TCPOLEN_SACK_BASE_ALIGNED + TCPOLEN_SACK_PERBLOCK)
		return 0;
	return min_t(unsigned int, XTCP_NUM_SACKS,
		     (room - TCPOLEN_SACK_BASE_ALIGNED) /
		     TCPOLEN_SACK_PERBLOCK);
}

/**
 * xtcp_write_options() - write options after a header
 * @ptr: first option word
 * @opts: what to write (MSS, SACK-permitted, timestamps, window scale,
 *	@nr_sack SACK blocks)
 * @sack: the SACK blocks, if @opts->nr_sack
 *
 * Context: any.
 */
void xtcp_write_options(__be32 *ptr, const struct xtcp_opts *opts,
			const struct xtcp_sack_block *sack)
{
	unsigned int i;

	if (opts->mss)
		*ptr++ = htonl((TCPOPT_MSS << 24) | (TCPOLEN_MSS << 16) |
			       opts->mss);
	if (opts->ts_ok) {
		if (opts->sack_ok)
			*ptr++ = htonl((TCPOPT_SACK_PERM << 24) |
				       (TCPOLEN_SACK_PERM << 16) |
				       (TCPOPT_TIMESTAMP << 8) |
				       TCPOLEN_TIMESTAMP);
		else
			*ptr++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
				       (TCPOPT_TIMESTAMP << 8) |
				       TCPOLEN_TIMESTAMP);
		*ptr++ = htonl(opts->tsval);
		*ptr++ = htonl(opts->tsecr);
	} else if (opts->sack_ok) {
		*ptr++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
			       (TCPOPT_SACK_PERM << 8) | TCPOLEN_SACK_PERM);
	}
	if (opts->wscale >= 0)
		*ptr++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_WINDOW << 16) |
			       (TCPOLEN_WINDOW << 8) | opts->wscale);
	if (opts->nr_sack) {
		*ptr++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
			       (TCPOPT_SACK << 8) |
			       (TCPOLEN_SACK_BASE +
				opts->nr_sack * TCPOLEN_SACK_PERBLOCK));
		for (i = 0; i < opts->nr_sack; i++) {
			*ptr++ = htonl(sack[i].start_seq);
			*ptr++ = htonl(sack[i].end_seq);
		}
	}
}
