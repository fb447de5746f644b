// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-lab-udp: a one-process UDP responder for the end-to-end lab. Binds
 * ADDR:PORT and answers every datagram with "NAME\n" from that address, so
 * a reply comes from the VIP. (socat's forking UDP server loses datagrams
 * that arrive while a child holds the port.)
 *
 *   xlb-lab-udp ADDRESS PORT NAME
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST};
	struct addrinfo *ai;
	char reply[64], buf[2048];
	int fd, len;

	if (argc != 4 || getaddrinfo(argv[1], argv[2], &hints, &ai)) {
		fprintf(stderr, "usage: xlb-lab-udp ADDRESS PORT NAME\n");
		return 2;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen)) {
		perror("xlb-lab-udp: bind");
		return 1;
	}
	freeaddrinfo(ai);
	len = snprintf(reply, sizeof(reply), "%s\n", argv[3]);
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);

		if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen) < 0)
			continue;
		sendto(fd, reply, (size_t)len, 0, (struct sockaddr *)&peer, plen);
	}
}
