/*
 * forkserver.c: a concurrent echo server, one process per client.
 *
 *   usage: forkserver PORT
 *
 * After accept the parent forks: the child echoes for its client and
 * exits; the parent closes its copy of the connected socket (no FIN yet:
 * the child still holds it) and goes back to accept.
 */
#include <netinet/in.h>
#include <signal.h>
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
	signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in addr;
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_ANY);
	addr.sin_port = htons(atoi(argv[1]));
	if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 16) < 0) {
		perror("bind/listen");
		return 1;
	}
	for (;;) {
		int cfd = accept(lfd, NULL, NULL);
		if (cfd < 0)
			continue;
		pid_t pid = fork();
		if (pid == 0) {
			close(lfd);
			char buf[1024];
			ssize_t n;
			while ((n = read(cfd, buf, sizeof buf)) > 0)
				write(cfd, buf, n);
			close(cfd);
			_exit(0);
		}
		close(cfd);
	}
}
