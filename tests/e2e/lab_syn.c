// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-lab-syn: spoofed retransmitted SYNs for the outlier cases (issue #16).
 * For SECONDS it sends RATE SYNs a second to ADDR:PORT (IPv4), each from a
 * source never used before in 198.18.0.0/15 (the benchmarking range: the
 * SYN-ACKs go nowhere), and each once more AGAIN_MS later (default 300): to
 * xlb, every one is a flow whose SYN went unanswered. The sources are
 * random, so they spread over every backend of the VIP as an attacker's
 * would (the hash seed is secret).
 *
 *   xlb-lab-syn ADDR PORT RATE SECONDS [AGAIN_MS]
 *
 * Prints "sent N" (SYNs, the repeats included). Needs CAP_NET_RAW.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <linux/types.h>

struct syn {
	struct iphdr ip;
	struct tcphdr tcp;
} __attribute__((packed));

static __u16 csum(const void *p, size_t n, __u32 sum)
{
	const __u8 *b = p;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (__u32)b[i] << 8 | b[i + 1];
	if (n & 1)
		sum += (__u32)b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((__u16)~sum);
}

static void build(struct syn *s, __u32 src, __u32 dst, __u16 sport, __u16 dport, __u32 seq)
{
	struct {
		__u32 src, dst;
		__u8 zero, proto;
		__u16 len;
	} __attribute__((packed)) ph = {src, dst, 0, IPPROTO_TCP, htons(sizeof(s->tcp))};
	__u8 buf[sizeof(ph) + sizeof(s->tcp)];

	memset(s, 0, sizeof(*s));
	s->ip.version = 4;
	s->ip.ihl = 5;
	s->ip.ttl = 64;
	s->ip.protocol = IPPROTO_TCP;
	s->ip.tot_len = htons(sizeof(*s));
	s->ip.saddr = src;
	s->ip.daddr = dst;
	s->ip.check = csum(&s->ip, sizeof(s->ip), 0);
	s->tcp.source = htons(sport);
	s->tcp.dest = htons(dport);
	s->tcp.seq = htonl(seq);
	s->tcp.doff = 5;
	s->tcp.syn = 1;
	s->tcp.window = htons(64240);
	memcpy(buf, &ph, sizeof(ph));
	memcpy(buf + sizeof(ph), &s->tcp, sizeof(s->tcp));
	s->tcp.check = csum(buf, sizeof(buf), 0);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	double rate, secs, again, t0;
	unsigned long sent = 0, n, total;
	struct syn *ring;
	double *when;
	int fd, one = 1;

	if (argc < 5 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
		fprintf(stderr, "usage: xlb-lab-syn ADDR PORT RATE SECONDS [AGAIN_MS]\n");
		return 2;
	}
	rate = atof(argv[3]);
	secs = atof(argv[4]);
	again = (argc > 5 ? atof(argv[5]) : 300) / 1000;
	if (rate <= 0 || rate > 1e6 || secs <= 0 || secs > 3600 || again < 0 || again > 10) {
		fprintf(stderr,
			"xlb-lab-syn: RATE 1..1000000, SECONDS 1..3600, AGAIN_MS 0..10000\n");
		return 2;
	}
	total = (unsigned long)(rate * secs);
	ring = calloc(total ? total : 1, sizeof(*ring));
	when = calloc(total ? total : 1, sizeof(*when));
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (!ring || !when || fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one))) {
		fprintf(stderr, "xlb-lab-syn: couldn't open a raw socket: %s\n", strerror(errno));
		free(ring);
		free(when);
		if (fd >= 0)
			close(fd);
		return 1;
	}
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	t0 = now_s();
	/* new SYN n at t0 + n / rate; its repeat `again` later */
	for (n = 0, total = total ? total : 1;;) {
		double t = now_s() - t0;
		int did = 0;

		if (n < total && t >= (double)n / rate) {
			__u32 src = htonl(0xc6120000u | ((__u32)random() & 0x1ffff));

			build(&ring[n], src, to.sin_addr.s_addr, (__u16)(1024 + random() % 60000),
			      (__u16)atoi(argv[2]), (__u32)random());
			when[n] = t + again;
			sent += sendto(fd, &ring[n], sizeof(ring[n]), 0, (struct sockaddr *)&to,
				       sizeof(to)) > 0;
			n++;
			did = 1;
		}
		for (unsigned long i = 0; i < n; i++)
			if (when[i] > 0 && t >= when[i]) {
				sent += sendto(fd, &ring[i], sizeof(ring[i]), 0,
					       (struct sockaddr *)&to, sizeof(to)) > 0;
				when[i] = 0;
				did = 1;
			}
		if (n == total && (!n || when[n - 1] == 0))
			break;
		if (!did)
			usleep(500);
	}
	printf("sent %lu\n", sent);
	close(fd);
	free(ring);
	free(when);
	return 0;
}
