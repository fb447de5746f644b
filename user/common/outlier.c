// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Outlier detection from retransmitted SYNs; see outlier.h. */
#include <string.h>

#include "outlier.h"

void xlb_ol_geometry(__u32 window_ms, __u32 *nb, __u32 *bucket_ms)
{
	__u32 n = window_ms / XLB_OL_MIN_BUCKET_MS;

	n = n < 1 ? 1 : n > XLB_OL_BUCKETS ? XLB_OL_BUCKETS : n;
	*nb = n;
	*bucket_ms = window_ms / n;
}

/* The spans judged: 1, 2, 4, ... buckets, then the whole window. */
static __u32 next_span(__u32 span, __u32 nb)
{
	return span >= nb ? 0 : span * 2 < nb ? span * 2 : nb;
}

void xlb_ol_win_init(struct xlb_ol_win *w, __u32 nb)
{
	memset(w, 0, sizeof(*w));
	w->nb = nb < 1 ? 1 : nb > XLB_OL_BUCKETS ? XLB_OL_BUCKETS : nb;
	for (__u32 span = 1; span && w->nspans < XLB_OL_SPANS; span = next_span(span, w->nb))
		w->span[w->nspans++] = span;
}

/* Each span gains the new bucket and loses the one now one past its length
 * (for the whole window, the bucket the new one replaces): read before the
 * write. */
void xlb_ol_win_push(struct xlb_ol_win *w, __u32 first, __u32 retr)
{
	__u32 head = (w->head + 1) % w->nb;

	for (__u32 s = 0; s < w->nspans; s++) {
		__u32 out = (head + w->nb - w->span[s] % w->nb) % w->nb;

		w->sf[s] += first - (__u64)w->first[out];
		w->sr[s] += retr - (__u64)w->retr[out];
	}
	w->head = head;
	w->first[head] = first;
	w->retr[head] = retr;
}

__u32 xlb_ol_first_syns(__u64 syn, __u64 retr, __u64 rerouted)
{
	__u64 again = retr > rerouted ? retr - rerouted : 0, first;

	first = syn > again ? syn - again : 0;
	return first > 0xffffffffu ? 0xffffffffu : (__u32)first;
}

static __u32 pct(__u64 num, __u64 den)
{
	if (!den)
		return num ? 100 : 0;
	return num >= den ? 100 : (__u32)(num * 100 / den);
}

/* Its first and retransmitted SYNs over each span (the newest 1, 2, 4, ...
 * buckets of a window of nb), in one pass; returns the spans. */
static __u32 span_sums(struct xlb_ol_be *b, __u32 nb)
{
	const struct xlb_ol_win *w = b->win;
	__u64 f = 0, r = 0;
	__u32 s = 0;

	if (w->nb == nb) { /* the same spans: the window keeps their sums */
		memcpy(b->f, w->sf, sizeof(b->f));
		memcpy(b->r, w->sr, sizeof(b->r));
		return w->nspans;
	}
	for (__u32 k = 0, span = 1; span && s < XLB_OL_SPANS; k++) {
		if (k < w->nb) {
			__u32 at = (w->head + w->nb - k) % w->nb;

			f += w->first[at];
			r += w->retr[at];
		}
		if (k + 1 == span) {
			b->f[s] = f;
			b->r[s++] = r;
			span = next_span(span, nb);
		}
	}
	return s;
}

size_t xlb_ol_judge(struct xlb_ol_be *b, size_t n, __u32 threshold_pct, __u32 min_samples,
		    __u32 bucket_ms, struct xlb_ol_verdict *out)
{
	size_t found = 0;
	__u32 nb = 0, nspans = 0;

	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		if (b[i].win->nb > nb)
			nb = b[i].win->nb;
	}
	for (size_t i = 0; i < n; i++)
		nspans = span_sums(&b[i], nb);
	/* Span by span: the peers' pooled counts, then each backend. */
	for (__u32 s = 0, span = 1; s < nspans; s++, span = next_span(span, nb)) {
		__u64 pf = 0, pr = 0;

		for (size_t i = 0; i < n; i++)
			if (b[i].peer) {
				pf += b[i].f[s];
				pr += b[i].r[s];
			}
		for (size_t i = 0; i < n; i++) {
			struct xlb_ol_verdict *v = &out[i];
			__u64 f = b[i].f[s], r = b[i].r[s];
			__u32 ratio, peers;

			if (v->outlier || !b[i].judge || f < min_samples)
				continue;
			ratio = pct(r, f);
			peers = b[i].peer ? pct(pr - r, pf - f) : pct(pr, pf);
			if (ratio < v->ratio_pct) /* keep the worst span, for status */
				continue;
			*v = (struct xlb_ol_verdict){.ratio_pct = ratio,
						     .peers_pct = peers,
						     .span_ms = span * bucket_ms,
						     .first = f,
						     .retr = r};
			if (ratio >= threshold_pct && peers * 2 < ratio) {
				v->outlier = 1;
				found++;
			}
		}
	}
	return found;
}

__u32 xlb_ol_cap(__u32 usable, __u32 max_percent)
{
	return (__u32)((__u64)usable * max_percent / 100);
}

__u64 xlb_ol_ejection_ms(__u32 base_ms, __u32 max_ms, __u32 n)
{
	__u64 t = (__u64)base_ms * (n ? n : 1);

	return t > max_ms ? max_ms : t;
}
