/*
 * client.c: the lecture's TCP echo client.
 *
 *   usage: client HOST PORT [LINE...]
 *
 * socket, connect to HOST:PORT (a dotted IPv4 address), then for each LINE
 * (default: two lines) write it, read the echo back and print it; close.
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
	if (argc < 3) {
		fprintf(stderr, "usage: %s HOST PORT [LINE...]\n", argv[0]);
		return 2;
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	struct sockaddr_in addr;
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_port = htons(atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
		fprintf(stderr, "%s: not an IPv4 address\n", argv[1]);
		return 2;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		perror("connect");
		return 1;
	}

	static char *deflines[] = {"hello, TCP", "network byte order is big-endian"};
	char **lines = argc > 3 ? argv + 3 : deflines;
	int nlines = argc > 3 ? argc - 3 : 2;
	for (int i = 0; i < nlines; i++) {
		char msg[1024];
		int len = snprintf(msg, sizeof msg, "%s\n", lines[i]);
		if (write(fd, msg, len) != len) {
			perror("write");
			return 1;
		}
		/* TCP is a byte stream: read until the whole line is back. */
		char buf[1024];
		int got = 0;
		while (got < len) {
			ssize_t n = read(fd, buf + got, sizeof buf - got);
			if (n <= 0) {
				fprintf(stderr, n == 0 ? "server closed the connection\n" : "read failed\n");
				return 1;
			}
			got += n;
		}
		printf("echo: %.*s", got, buf);
	}
	close(fd);
	return 0;
}
