/*
 * server.c: the lecture's iterative TCP echo server.
 *
 *   usage: server PORT
 *
 * socket, bind to every local address on PORT, listen, then for ever:
 * accept one client, echo what it sends until it closes, close.
 * Run it under tcpscope to see each call beside the packets it causes:
 *   tcpscope demo --server 'examples/c/server 8080' --client 'examples/c/client 127.0.0.1 8080'
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0) {
		perror("socket");
		return 1;
	}
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);

	struct sockaddr_in addr;
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_ANY);
	addr.sin_port = htons(atoi(argv[1])); /* network byte order on the wire */
	if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		perror("bind");
		return 1;
	}
	if (listen(lfd, 16) < 0) {
		perror("listen");
		return 1;
	}
	printf("listening on port %s\n", argv[1]);
	fflush(stdout);

	for (;;) {
		struct sockaddr_in peer;
		socklen_t len = sizeof peer;
		int cfd = accept(lfd, (struct sockaddr *)&peer, &len);
		if (cfd < 0) {
			perror("accept");
			continue;
		}
		char ip[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
		printf("connection from %s:%d\n", ip, ntohs(peer.sin_port));
		fflush(stdout);

		char buf[1024];
		ssize_t n;
		while ((n = read(cfd, buf, sizeof buf)) > 0) {
			ssize_t off = 0;
			while (off < n) { /* write may send less than asked */
				ssize_t w = write(cfd, buf + off, n - off);
				if (w < 0) {
					perror("write");
					break;
				}
				off += w;
			}
		}
		if (n < 0)
			perror("read");
		close(cfd);
	}
}
