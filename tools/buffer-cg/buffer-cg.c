// SPDX-License-Identifier: GPL-2.0
/*
 * buffer-cg: see and set the limits and usage of the buffer cgroup
 * controller, and find who holds which dma-buf and who pays for it.
 *
 * Exit status: 0 success, 1 the system refused or lacks something (no such
 * cgroup, no controller, a refused write), 2 bad arguments, 3 partial
 * results (printed, but some processes' file descriptors could not be read).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <drm/drm.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEVICE_MAX 64
#define GPU_LABEL_MAX 160
#define VALUE_MAX 192

static char root[PATH_MAX];

static void die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("buffer-cg: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* snprintf() for paths: a path that does not fit is an error, not a cut. */
static void xsnprintf(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		die(1, "path too long: %s...", out);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		die(1, "out of memory");
	return p;
}

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p)
		die(1, "out of memory");
	return p;
}

/* Read a whole small file; NULL if it cannot be read. */
static char *read_file(const char *path)
{
	size_t len = 0, cap = 4096;
	char *buf;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	buf = xcalloc(1, cap + 1);
	while ((n = read(fd, buf + len, cap - len)) > 0) {
		len += n;
		if (len == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
	}
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/* The cgroup2 mount point, from mountinfo; --root overrides it. */
static void find_root(void)
{
	char *info = read_file("/proc/self/mountinfo"), *line, *save = NULL;

	if (!info)
		die(1, "cannot read /proc/self/mountinfo: %s", strerror(errno));
	for (line = strtok_r(info, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char mnt[PATH_MAX], *sep = strstr(line, " - ");
		char fstype[32];

		if (!sep || sscanf(sep, " - %31s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1) {
			snprintf(root, sizeof(root), "%s", mnt);
			free(info);
			return;
		}
	}
	free(info);
	die(1, "no cgroup2 file system is mounted: the buffer controller is cgroup v2 "
	    "only (mount one with 'mount -t cgroup2 none /sys/fs/cgroup', or name it "
	    "with --root DIR)");
}

/* Whether the space-separated @list holds @word. */
static bool has_word(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += len)
		if ((p == list || isspace((unsigned char)p[-1])) &&
		    (!p[len] || isspace((unsigned char)p[len])))
			return true;
	return false;
}

/*
 * The root's buffer.* files, or why there are none: not a cgroup2
 * directory, a kernel without the controller or booted with it disabled,
 * or the controller not enabled (the real root's files appear only once
 * +buffer is in its own cgroup.subtree_control; another cgroup's once its
 * parent has it).
 */
static void require_controller(void)
{
	char path[PATH_MAX], *text;
	bool listed, disabled = false;

	xsnprintf(path, sizeof(path), "%s/buffer.current", root);
	if (!access(path, R_OK))
		return;
	xsnprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	text = read_file(path);
	if (!text)
		die(1, "%s is not a cgroup2 directory: %s is missing", root, path);
	listed = has_word(text, "buffer");
	free(text);
	if (listed)
		die(1, "the buffer controller is not enabled in %s: enable it with "
		    "'echo +buffer > %s/cgroup.subtree_control'", root, root);
	text = read_file("/proc/cmdline");
	if (text) {
		for (const char *p = text; (p = strstr(p, "cgroup_disable=")); p++) {
			char list[256];

			snprintf(list, sizeof(list), "%.*s", (int)strcspn(p + 15, " \n"), p + 15);
			for (char *c = list; *c; c++)
				if (*c == ',')
					*c = ' ';
			disabled |= has_word(list, "buffer") || has_word(list, "all");
		}
		free(text);
	}
	if (disabled)
		die(1, "the buffer controller is not available: the kernel was booted "
		    "with cgroup_disable=buffer");
	die(1, "the buffer controller is not available in %s: a kernel without "
	    "CONFIG_CGROUP_BUFFER, or a cgroup whose parent does not enable +buffer",
	    root);
}

/* One line of a nested-keyed file: "<device> <value...>". */
struct keyed {
	char device[DEVICE_MAX];
	char value[VALUE_MAX];
};

static int read_keyed(const char *dir, const char *file, struct keyed **out)
{
	char path[PATH_MAX], *text, *line, *save = NULL;
	struct keyed *kv = NULL;
	int n = 0;

	xsnprintf(path, sizeof(path), "%s/%s", dir, file);
	text = read_file(path);
	if (!text)
		return -1;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');

		if (!sp)
			continue;
		kv = xrealloc(kv, (n + 1) * sizeof(*kv));
		snprintf(kv[n].device, DEVICE_MAX, "%.*s", (int)(sp - line), line);
		snprintf(kv[n].value, VALUE_MAX, "%s", sp + 1);
		n++;
	}
	free(text);
	*out = kv;
	return n;
}

static const char *keyed_value(const struct keyed *kv, int n, const char *device)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(kv[i].device, device))
			return kv[i].value;
	return NULL;
}

/* "key=N" inside a value such as "buffers=3 transfers_in=0". */
static const char *keyed_field(const char *value, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	const char *p = value;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			snprintf(buf, size, "%.*s", (int)strcspn(p + klen + 1, " "), p + klen + 1);
			return buf;
		}
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return NULL;
}

/* A CGROUP argument: a path under the mount point, or relative to it. */
static void cgroup_dir(const char *arg, char *out, size_t size)
{
	size_t rlen = strlen(root);
	struct stat st;

	if (!strncmp(arg, root, rlen) && (arg[rlen] == '/' || !arg[rlen]))
		xsnprintf(out, size, "%s", arg);
	else
		xsnprintf(out, size, "%s/%s", root, arg + strspn(arg, "/"));
	if (stat(out, &st) || !S_ISDIR(st.st_mode))
		die(1, "no cgroup '%s' (%s does not exist)", arg, out);
}

/* The cgroup's path as the kernel shows it: "/" for the root. */
static const char *cgroup_name(const char *dir)
{
	const char *rel = dir + strlen(root);

	return *rel ? rel : "/";
}

static void human(unsigned long long bytes, char *buf, size_t size)
{
	static const char units[] = "KMGTPE";
	double v = bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, size, "%llu", bytes);
		return;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f%c", v, units[u]);
}

/* The last component of the symbolic link @path points to, or NULL. */
static const char *link_name(const char *path, char *buf, size_t size)
{
	ssize_t n = readlink(path, buf, size - 1);
	char *slash;

	if (n < 0)
		return NULL;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	return slash ? slash + 1 : buf;
}

/*
 * The DRM driver of card @card, asked through its render node, which any
 * user may open and which makes nobody DRM master; false if it has none.
 * (The driver of the card's parent device may be another one: virtio-pci
 * for virtio_gpu.)
 */
static bool drm_driver(const char *card, char *name, size_t size)
{
	char path[PATH_MAX];
	struct drm_version version = { .name = name, .name_len = size - 1 };
	struct dirent *de;
	bool found = false;
	DIR *dir;
	int fd;

	xsnprintf(path, sizeof(path), "/sys/class/drm/%s/device/drm", card);
	dir = opendir(path);
	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		if (strncmp(de->d_name, "renderD", 7))
			continue;
		xsnprintf(path, sizeof(path), "/dev/dri/%s", de->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(name, 0, size);
		found = !ioctl(fd, DRM_IOCTL_VERSION, &version);
		close(fd);
	}
	closedir(dir);
	return found;
}

/* What a device is: its kind, and the heap, card or video node and driver. */
struct device_info {
	const char *kind;	/* "heap", "drm", "v4l2", or "other" */
	char name[64];		/* the heap's name, the card (card0), the node (video0) */
	char driver[64];	/* the DRM or V4L2 driver; empty for a heap */
	char text[GPU_LABEL_MAX]; /* for people: "system heap", "card0 bochs-drm" */
};

/*
 * The card and kernel driver of the DRM device "drm/<dev_name>", from
 * /sys/class/drm; false if no card has it any more (unbound, its buffers
 * live on).
 */
static bool drm_card(const char *device, struct device_info *info)
{
	char path[PATH_MAX], target[PATH_MAX], drv[PATH_MAX];
	const char *dev_name, *driver;
	struct dirent *de;
	bool found = false;
	DIR *dir;
	int num;
	char end;

	dir = opendir("/sys/class/drm");
	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		/* cardN, not its connectors (cardN-HDMI-A-1) */
		if (sscanf(de->d_name, "card%d%c", &num, &end) != 1)
			continue;
		xsnprintf(path, sizeof(path), "/sys/class/drm/%s/device", de->d_name);
		dev_name = link_name(path, target, sizeof(target));
		if (!dev_name || strcmp(dev_name, device + 4))
			continue;
		xsnprintf(path, sizeof(path), "/sys/class/drm/%s/device/driver", de->d_name);
		/* A device with no driver of its own (vgem) is named for it. */
		driver = drm_driver(de->d_name, drv, 64) ? drv :
			 link_name(path, drv, sizeof(drv));
		snprintf(info->name, sizeof(info->name), "%.32s", de->d_name);
		snprintf(info->driver, sizeof(info->driver), "%.63s", driver ? driver : dev_name);
		found = true;
	}
	closedir(dir);
	return found;
}

/*
 * The video node and driver of the V4L2 device "v4l2/<name>": the
 * /sys/class/video4linux entry of that name, or whose name attribute it is.
 */
static bool v4l2_node(const char *device, struct device_info *info)
{
	char path[PATH_MAX], drv[PATH_MAX], *name;
	const char *driver;
	struct dirent *de;
	bool found = false;
	DIR *dir;

	dir = opendir("/sys/class/video4linux");
	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		xsnprintf(path, sizeof(path), "/sys/class/video4linux/%s/name", de->d_name);
		name = read_file(path);
		if (name)
			name[strcspn(name, "\n")] = '\0';
		found = !strcmp(de->d_name, device + 5) || (name && !strcmp(name, device + 5));
		free(name);
		if (!found)
			continue;
		xsnprintf(path, sizeof(path), "/sys/class/video4linux/%s/device/driver", de->d_name);
		driver = link_name(path, drv, sizeof(drv));
		snprintf(info->name, sizeof(info->name), "%.32s", de->d_name);
		snprintf(info->driver, sizeof(info->driver), "%.63s", driver ? driver : "");
	}
	closedir(dir);
	return found;
}

/* What the device named @device is, from its name and sysfs. */
static const struct device_info *describe(const char *device, struct device_info *info)
{
	memset(info, 0, sizeof(*info));
	if (!strncmp(device, "heap/", 5)) {
		info->kind = "heap";
		snprintf(info->name, sizeof(info->name), "%s", device + 5);
		snprintf(info->text, sizeof(info->text), "%.64s heap", info->name);
	} else if (!strncmp(device, "drm/", 4)) {
		info->kind = "drm";
		if (drm_card(device, info))
			snprintf(info->text, sizeof(info->text), "%.32s %.63s", info->name, info->driver);
	} else if (!strncmp(device, "v4l2/", 5)) {
		info->kind = "v4l2";
		if (v4l2_node(device, info))
			snprintf(info->text, sizeof(info->text), "%.32s %.63s", info->name,
				 info->driver[0] ? info->driver : "v4l2");
	} else {
		info->kind = "other";
	}
	return info;
}

/*
 * What users know the DRM device "drm/<dev_name>" by: its card and kernel
 * driver, as in "card1 bochs-drm". NULL for other devices, or one that no
 * card has any more.
 */
static const char *gpu_label(const char *device, char *label, size_t size)
{
	struct device_info info;

	if (strncmp(device, "drm/", 4) || !describe(device, &info)->text[0])
		return NULL;
	snprintf(label, size, "%s", info.text);
	return label;
}

/* A byte count as shown: raw, or human-readable; "max" and "-" unchanged. */
static void show_bytes(const char *value, bool raw, char *buf, size_t size)
{
	char *end;
	unsigned long long v;

	if (!value) {
		snprintf(buf, size, "-");
		return;
	}
	v = strtoull(value, &end, 10);
	if (raw || end == value || *end)
		snprintf(buf, size, "%s", value);
	else
		human(v, buf, size);
}

/* Who holds which dma-buf: dump, leaks, and the held views of get and top */

struct holder {
	int pid;
	char comm[32];
	char cgroup[PATH_MAX];
	char fds[128];
	bool mapped;
};

struct buffer {
	unsigned long ino;
	unsigned long long size;
	char exporter[64];
	char device[DEVICE_MAX];
	char cgroup[PATH_MAX];
	struct holder *holders;
	int nholders;
};

struct buffers {
	struct buffer *b;
	int n;
	/* processes whose fds or mappings could not be read: a partial result */
	int unreadable;
	int unreadable_pid;
};

/* Exit status of a command whose results are partial. */
#define EXIT_PARTIAL 3

static struct buffer *buffer_get(struct buffers *all, unsigned long ino)
{
	for (int i = 0; i < all->n; i++)
		if (all->b[i].ino == ino)
			return &all->b[i];
	all->b = xrealloc(all->b, (all->n + 1) * sizeof(*all->b));
	memset(&all->b[all->n], 0, sizeof(*all->b));
	all->b[all->n].ino = ino;
	return &all->b[all->n++];
}

static struct holder *holder_get(struct buffer *b, int pid, const char *comm,
				 const char *cgroup)
{
	struct holder *h;

	for (int i = 0; i < b->nholders; i++)
		if (b->holders[i].pid == pid)
			return &b->holders[i];
	b->holders = xrealloc(b->holders, (b->nholders + 1) * sizeof(*b->holders));
	h = &b->holders[b->nholders++];
	memset(h, 0, sizeof(*h));
	h->pid = pid;
	snprintf(h->comm, sizeof(h->comm), "%s", comm);
	snprintf(h->cgroup, sizeof(h->cgroup), "%s", cgroup);
	return h;
}

/* "key:\tvalue" from an fdinfo text. */
static void fdinfo_field(const char *info, const char *key, char *out, size_t size)
{
	char needle[64];
	const char *p;

	snprintf(needle, sizeof(needle), "\n%s:\t", key);
	p = strstr(info, needle);
	if (p)
		snprintf(out, size, "%.*s", (int)strcspn(p + strlen(needle), "\n"),
			 p + strlen(needle));
}

/* A process gone between readdir and now, or one of the kernel's own. */
static bool no_fds(int pid)
{
	char path[64], *stat, *end;
	unsigned long flags = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	stat = read_file(path);
	if (!stat)
		return true;
	/* The flags are the 9th field, the 6th after the ")" that ends comm. */
	end = strrchr(stat, ')');
	if (end)
		sscanf(end + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags);
	free(stat);
	return flags & 0x00200000; /* PF_KTHREAD */
}

static void unreadable(struct buffers *all, int pid)
{
	if (!all->unreadable++)
		all->unreadable_pid = pid;
}

static void scan_process(struct buffers *all, int pid)
{
	char path[PATH_MAX], comm[32] = "?", cgroup[PATH_MAX] = "?", *text;
	struct dirent *de;
	bool partial = false;
	DIR *d;

	if (no_fds(pid))
		return;
	xsnprintf(path, sizeof(path), "/proc/%d/comm", pid);
	text = read_file(path);
	if (text) {
		snprintf(comm, sizeof(comm), "%.*s", (int)strcspn(text, "\n"), text);
		free(text);
	}
	xsnprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	text = read_file(path);
	if (text) {
		char *p = strstr(text, "0::");

		if (p)
			snprintf(cgroup, sizeof(cgroup), "%.*s", (int)strcspn(p + 3, "\n"), p + 3);
		free(text);
	}

	xsnprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d && (errno == EACCES || errno == EPERM))
		partial = true;
	while (d && (de = readdir(d))) {
		char link[PATH_MAX], fdpath[PATH_MAX + 300], info[PATH_MAX + 300];
		struct buffer *b;
		struct holder *h;
		struct stat st;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		xsnprintf(fdpath, sizeof(fdpath), "/proc/%d/fd/%s", pid, de->d_name);
		n = readlink(fdpath, link, sizeof(link) - 1);
		if (n < 0) {
			partial |= errno == EACCES || errno == EPERM;
			continue;
		}
		link[n] = '\0';
		if (strncmp(link, "/dmabuf:", 8) || stat(fdpath, &st))
			continue;
		b = buffer_get(all, st.st_ino);
		b->size = st.st_size;
		xsnprintf(info, sizeof(info), "/proc/%d/fdinfo/%s", pid, de->d_name);
		text = read_file(info);
		if (text) {
			char *full = xcalloc(1, strlen(text) + 2);

			full[0] = '\n';
			strcpy(full + 1, text);
			fdinfo_field(full, "exp_name", b->exporter, sizeof(b->exporter));
			fdinfo_field(full, "charge_device", b->device, sizeof(b->device));
			fdinfo_field(full, "charge_cgroup", b->cgroup, sizeof(b->cgroup));
			free(full);
			free(text);
		} else if (errno == EACCES || errno == EPERM) {
			partial = true;
		}
		h = holder_get(b, pid, comm, cgroup);
		n = strlen(h->fds);
		snprintf(h->fds + n, sizeof(h->fds) - n, "%s%s", n ? "," : "", de->d_name);
	}
	if (d)
		closedir(d);

	xsnprintf(path, sizeof(path), "/proc/%d/maps", pid);
	text = read_file(path);
	if (text) {
		char *line, *save = NULL;

		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			unsigned long ino;
			char file[PATH_MAX] = "";

			if (sscanf(line, "%*s %*s %*s %*s %lu %4095s", &ino, file) != 2 ||
			    strncmp(file, "/dmabuf:", 8))
				continue;
			holder_get(buffer_get(all, ino), pid, comm, cgroup)->mapped = true;
		}
		free(text);
	} else if (errno == EACCES || errno == EPERM) {
		partial = true;
	}
	/* Unless it exited meanwhile, what it holds is unknown. */
	if (partial && !no_fds(pid))
		unreadable(all, pid);
}

/* All dma-bufs: those processes hold, then, from debugfs if readable, the rest. */
static void scan_buffers(struct buffers *all)
{
	struct dirent *de;
	char *text;
	DIR *d = opendir("/proc");

	if (!d)
		die(1, "cannot read /proc: %s", strerror(errno));
	while ((de = readdir(d)))
		if (isdigit((unsigned char)de->d_name[0]))
			scan_process(all, atoi(de->d_name));
	closedir(d);

	text = read_file("/sys/kernel/debug/dma_buf/bufinfo");
	if (text) {
		char *line, *save = NULL;

		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			unsigned long long size;
			unsigned long ino;
			char exporter[64];
			struct buffer *b;

			if (sscanf(line, "%llu %*x %*x %*d %63s %lu", &size, exporter, &ino) != 3)
				continue;
			b = buffer_get(all, ino);
			b->size = size;
			if (!b->exporter[0])
				snprintf(b->exporter, sizeof(b->exporter), "%s", exporter);
		}
		free(text);
	}
}

static bool under(const char *path, const char *top)
{
	size_t len = strlen(top);

	if (!strcmp(top, "/"))
		return true;
	return !strncmp(path, top, len) && (path[len] == '/' || !path[len]);
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static const char *or_dash(const char *s)
{
	return *s ? s : "-";
}

/* Say on stderr that the results are partial; the exit status to return. */
static int partial_status(const struct buffers *all)
{
	if (!all->unreadable)
		return 0;
	fprintf(stderr, "buffer-cg: partial results: could not read the file descriptors "
		"or mappings of %d process%s (pid %d%s), not yours; run as root to see "
		"what they hold\n", all->unreadable, all->unreadable == 1 ? "" : "es",
		all->unreadable_pid, all->unreadable == 1 ? "" : " and others");
	return EXIT_PARTIAL;
}

struct held {
	unsigned long long from_others;	/* held in the subtree, paid for outside it */
	unsigned long long by_others;	/* paid for in the subtree, held outside it */
};

/*
 * What the processes of cgroup @cg and its descendants hold of @device (by
 * fd or mapping) that a cgroup outside that subtree pays for, and what the
 * subtree pays for that processes outside it hold: the same subtree that
 * buffer.current counts. Each buffer counts once, whatever holds it how
 * often. A buffer held only by mappings has no known payer and counts in
 * neither.
 */
static struct held held_of(const struct buffers *all, const char *cg, const char *device)
{
	struct held h = { 0, 0 };

	for (int i = 0; i < all->n; i++) {
		const struct buffer *b = &all->b[i];
		bool pays, held_in = false, held_out = false;

		if (!b->cgroup[0] || strcmp(b->device, device))
			continue;
		pays = under(b->cgroup, cg);
		for (int j = 0; j < b->nholders; j++) {
			if (b->holders[j].cgroup[0] != '/')
				continue;
			if (under(b->holders[j].cgroup, cg))
				held_in = true;
			else
				held_out = true;
		}
		if (!pays && held_in)
			h.from_others += b->size;
		if (pays && held_out)
			h.by_others += b->size;
	}
	return h;
}

/* A cgroup file's value in JSON: a number, "max", or null when absent. */
static void json_value(const char *value)
{
	char *end;

	if (!value) {
		fputs("null", stdout);
		return;
	}
	strtoull(value, &end, 10);
	if (end != value && !*end)
		fputs(value, stdout);
	else
		json_string(value);
}

/* "kind" and what names the device, as JSON members. */
static void json_device(const char *device)
{
	struct device_info info;

	describe(device, &info);
	fputs("\"device\": ", stdout);
	json_string(device);
	fputs(", \"kind\": ", stdout);
	json_string(info.kind);
	if (!strcmp(info.kind, "heap")) {
		fputs(", \"heap\": ", stdout);
		json_string(info.name);
	} else if (info.name[0]) {
		fputs(!strcmp(info.kind, "drm") ? ", \"card\": " : ", \"node\": ", stdout);
		json_string(info.name);
		fputs(", \"driver\": ", stdout);
		json_string(info.driver);
	}
	if (info.text[0]) {
		fputs(", \"what\": ", stdout);
		json_string(info.text);
	}
}

enum format { TABLE, CSV, JSON };

static enum format parse_format(const char *s)
{
	if (!strcmp(s, "table"))
		return TABLE;
	if (!strcmp(s, "csv"))
		return CSV;
	if (!strcmp(s, "json"))
		return JSON;
	die(2, "bad output format '%s': expected table, csv or json", s);
	return TABLE;
}

/* get */

static int cmd_get(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct keyed *cur, *max = NULL, *peak = NULL, *events = NULL, *stat = NULL;
	int ncur, nmax = 0, npeak = 0, nevents = 0, nstat = 0, opt;
	struct buffers all = { 0 };
	enum format fmt = TABLE;
	char dir[PATH_MAX];
	const char *name;

	while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			fmt = parse_format(optarg);
			if (fmt == CSV)
				die(2, "get prints a table or json, not csv");
			break;
		case 'h':
			printf("usage: buffer-cg get [-o table|json] CGROUP\n"
			       "Print, per device, the cgroup's current, max and peak bytes, the\n"
			       "charges its max refused (buffer.events), its live buffers, what its\n"
			       "processes hold that other cgroups pay for (HELD-FROM-OTHERS), what\n"
			       "it pays for that other cgroups' processes hold (HELD-BY-OTHERS), and\n"
			       "what the device is.\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc - 1)
		die(2, "usage: buffer-cg get [-o table|json] CGROUP");
	require_controller();
	cgroup_dir(argv[optind], dir, sizeof(dir));
	name = cgroup_name(dir);
	ncur = read_keyed(dir, "buffer.current", &cur);
	if (ncur < 0)
		die(1, "cgroup '%s' has no buffer.* files: enable +buffer in its "
		    "parent's cgroup.subtree_control", argv[optind]);
	if (strcmp(dir, root)) {
		nmax = read_keyed(dir, "buffer.max", &max);
		npeak = read_keyed(dir, "buffer.peak", &peak);
		nevents = read_keyed(dir, "buffer.events", &events);
	}
	nstat = read_keyed(dir, "buffer.stat", &stat);
	scan_buffers(&all);

	if (fmt == TABLE)
		printf("%-24s %14s %14s %14s %8s %8s %16s %14s %s\n", "DEVICE", "CURRENT",
		       "MAX", "PEAK", "EVENTS", "BUFFERS", "HELD-FROM-OTHERS", "HELD-BY-OTHERS",
		       "WHAT");
	else {
		fputs("{\"cgroup\": ", stdout);
		json_string(name);
		printf(", \"partial\": %s, \"devices\": [", all.unreadable ? "true" : "false");
	}
	for (int i = 0; i < ncur; i++) {
		const char *d = cur[i].device, *ev, *st, *m, *p;
		char evbuf[32] = "-", bufs[32] = "-";
		struct held h = held_of(&all, name, d);
		struct device_info info;

		ev = nevents > 0 ? keyed_value(events, nevents, d) : NULL;
		st = nstat > 0 ? keyed_value(stat, nstat, d) : NULL;
		m = nmax > 0 ? keyed_value(max, nmax, d) : NULL;
		p = npeak > 0 ? keyed_value(peak, npeak, d) : NULL;
		if (ev)
			keyed_field(ev, "max", evbuf, sizeof(evbuf));
		if (st)
			keyed_field(st, "buffers", bufs, sizeof(bufs));
		if (fmt == TABLE) {
			printf("%-24s %14s %14s %14s %8s %8s %16llu %14llu %s\n", d, cur[i].value,
			       m ? m : "-", p ? p : "-", evbuf, bufs, h.from_others, h.by_others,
			       or_dash(describe(d, &info)->text));
			continue;
		}
		printf("%s\n  {", i ? "," : "");
		json_device(d);
		fputs(", \"current\": ", stdout);
		json_value(cur[i].value);
		fputs(", \"max\": ", stdout);
		json_value(m);
		fputs(", \"peak\": ", stdout);
		json_value(p);
		fputs(", \"events_max\": ", stdout);
		json_value(ev ? evbuf : NULL);
		fputs(", \"buffers\": ", stdout);
		json_value(st ? bufs : NULL);
		printf(", \"held_from_others\": %llu, \"held_by_others\": %llu}",
		       h.from_others, h.by_others);
	}
	if (fmt == JSON)
		puts("\n]}");
	else if (all.unreadable)
		printf("# partial: the HELD columns count only the processes buffer-cg "
		       "could read\n");
	free(cur);
	free(max);
	free(peak);
	free(events);
	free(stat);
	return partial_status(&all);
}

/* set */

static int cmd_set(int argc, char **argv)
{
	char dir[PATH_MAX], path[PATH_MAX], *lines;
	size_t len = 0, cap = 1;
	int fd;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: buffer-cg set CGROUP DEVICE=LIMIT...\n"
		       "Set buffer.max of CGROUP for each DEVICE, all or none. LIMIT is a\n"
		       "byte count with an optional K, M, G or T suffix, or max.\n");
		return 0;
	}
	if (argc < 3)
		die(2, "usage: buffer-cg set CGROUP DEVICE=LIMIT...");
	for (int i = 2; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq || eq == argv[i] || !eq[1] || strchr(eq + 1, '=') ||
		    strpbrk(argv[i], " \t\n"))
			die(2, "bad assignment '%s': expected DEVICE=LIMIT (LIMIT: bytes "
			    "with an optional K, M, G or T suffix, or max)", argv[i]);
		cap += strlen(argv[i]) + 1;
	}
	require_controller();
	cgroup_dir(argv[1], dir, sizeof(dir));
	if (!strcmp(dir, root))
		die(1, "the root cgroup has no limits");

	lines = xcalloc(1, cap);
	for (int i = 2; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		len += sprintf(lines + len, "%.*s %s\n", (int)(eq - argv[i]), argv[i], eq + 1);
	}
	xsnprintf(path, sizeof(path), "%s/buffer.max", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die(1, "%s: %s", path, strerror(errno));
	/* One write: the kernel applies all the lines or none. */
	if (write(fd, lines, len) < 0) {
		int err = errno;

		if (err == ENODEV)
			die(1, "unknown device in '%s' (see buffer-cg get %s); nothing changed",
			    argv[2], argv[1]);
		if (err == EINVAL)
			die(1, "invalid limit (bytes with an optional K, M, G or T suffix, "
			    "or max); nothing changed");
		die(1, "%s: %s", path, strerror(err));
	}
	close(fd);
	free(lines);
	return 0;
}

/* top */

struct cgroup_entry {
	char path[PATH_MAX];
	int depth;
};

/* Path order with '/' first, so that children follow their parent. */
static int cmp_entry(const void *a, const void *b)
{
	const char *p = ((const struct cgroup_entry *)a)->path;
	const char *q = ((const struct cgroup_entry *)b)->path;

	for (; *p && *p == *q; p++, q++)
		;
	if (*p == '/' || *q == '/')
		return *p == '/' ? (*q ? -1 : 1) : (*p ? 1 : -1);
	return (unsigned char)*p - (unsigned char)*q;
}

/* Every cgroup under @dir that has the controller's files, depth first. */
static void walk(const char *dir, int depth, struct cgroup_entry **list, int *n)
{
	struct dirent *de;
	char path[PATH_MAX];
	DIR *d;

	xsnprintf(path, sizeof(path), "%s/buffer.current", dir);
	if (access(path, R_OK))
		return;
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	snprintf((*list)[*n].path, PATH_MAX, "%s", dir);
	(*list)[*n].depth = depth;
	(*n)++;

	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		xsnprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		walk(path, depth + 1, list, n);
	}
	closedir(d);
}

/* The devices shown in a table, in order, for the legend under it. */
struct seen {
	char (*device)[DEVICE_MAX];
	int n;
};

static void see(struct seen *seen, const char *device)
{
	for (int i = 0; i < seen->n; i++)
		if (!strcmp(seen->device[i], device))
			return;
	seen->device = xrealloc(seen->device, (seen->n + 1) * sizeof(*seen->device));
	snprintf(seen->device[seen->n++], DEVICE_MAX, "%s", device);
}

/* One snapshot of the tree; false if it is partial. */
static bool print_top(enum format fmt, bool batch)
{
	struct cgroup_entry *list = NULL;
	struct buffers all = { 0 };
	struct seen seen = { 0 };
	bool first = true;
	int n = 0;

	walk(root, 0, &list, &n);
	/* Sort each cgroup's children by name, keeping the tree order. */
	qsort(list + 1, n > 1 ? n - 1 : 0, sizeof(*list), cmp_entry);
	scan_buffers(&all);
	if (fmt == JSON) {
		printf("{\"time\": %lld, \"partial\": %s, \"cgroups\": [",
		       (long long)time(NULL), all.unreadable ? "true" : "false");
	} else {
		if (!batch) {
			time_t now = time(NULL);

			printf("\033[H\033[2Jbuffer-cg top - %s", ctime(&now));
		}
		printf("%-32s %-20s %12s %12s %12s %16s %14s\n", "CGROUP", "DEVICE", "CURRENT",
		       "MAX", "PEAK", "HELD-FROM-OTHERS", "HELD-BY-OTHERS");
	}
	for (int i = 0; i < n; i++) {
		struct keyed *cur, *max = NULL, *peak = NULL;
		int ncur = read_keyed(list[i].path, "buffer.current", &cur);
		int nmax = read_keyed(list[i].path, "buffer.max", &max);
		int npeak = read_keyed(list[i].path, "buffer.peak", &peak);
		const char *base = i ? strrchr(list[i].path, '/') + 1 : "/";
		const char *cgname = cgroup_name(list[i].path);
		char name[PATH_MAX];
		bool shown = false;

		snprintf(name, sizeof(name), "%*s%s", 2 * list[i].depth, "", base);
		if (fmt == JSON) {
			printf("%s{\"cgroup\": ", i ? ", " : "");
			json_string(cgname);
			printf(", \"depth\": %d, \"devices\": [", list[i].depth);
		}
		for (int j = 0; j < ncur; j++) {
			const char *d = cur[j].device;
			const char *m = nmax > 0 ? keyed_value(max, nmax, d) : NULL;
			const char *p = npeak > 0 ? keyed_value(peak, npeak, d) : NULL;
			struct held h = held_of(&all, cgname, d);
			char c[24], mb[24], pb[24], hf[24], hb[24], num[24];

			if (fmt == JSON) {
				fputs(first ? "{" : ", {", stdout);
				first = false;
				json_device(d);
				fputs(", \"current\": ", stdout);
				json_value(cur[j].value);
				fputs(", \"max\": ", stdout);
				json_value(m);
				fputs(", \"peak\": ", stdout);
				json_value(p);
				printf(", \"held_from_others\": %llu, \"held_by_others\": %llu}",
				       h.from_others, h.by_others);
				continue;
			}
			/* Only what is used, limited or held, but every cgroup once. */
			if (!strcmp(cur[j].value, "0") && (!m || !strcmp(m, "max")) &&
			    (!p || !strcmp(p, "0")) && !h.from_others && !h.by_others &&
			    (shown || j < ncur - 1))
				continue;
			show_bytes(cur[j].value, batch, c, sizeof(c));
			show_bytes(m, batch, mb, sizeof(mb));
			show_bytes(p, batch, pb, sizeof(pb));
			snprintf(num, sizeof(num), "%llu", h.from_others);
			show_bytes(num, batch, hf, sizeof(hf));
			snprintf(num, sizeof(num), "%llu", h.by_others);
			show_bytes(num, batch, hb, sizeof(hb));
			printf("%-32s %-20s %12s %12s %12s %16s %14s\n", shown ? "" : name, d, c,
			       mb, pb, hf, hb);
			see(&seen, d);
			shown = true;
		}
		if (fmt == JSON)
			fputs("]}", stdout);
		first = true;
		free(cur);
		free(max);
		free(peak);
	}
	if (fmt == JSON) {
		puts("]}");
	} else {
		struct device_info info;

		/* What each device shown is: the heap, or the card and driver. */
		printf("\n%-20s %s\n", "DEVICE", "WHAT");
		for (int i = 0; i < seen.n; i++)
			printf("%-20s %s\n", seen.device[i],
			       or_dash(describe(seen.device[i], &info)->text));
		if (all.unreadable)
			printf("# partial: the HELD columns count only the processes buffer-cg "
			       "could read (%d could not be)\n", all.unreadable);
	}
	fflush(stdout);
	free(list);
	free(seen.device);
	return !all.unreadable;
}

static int cmd_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "batch", no_argument, NULL, 'b' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	enum format fmt = TABLE;
	double delay = 1;
	long iterations = -1;
	bool batch = false, complete = true;
	int opt;

	while ((opt = getopt_long(argc, argv, "d:n:bo:h", opts, NULL)) != -1) {
		char *end;

		switch (opt) {
		case 'd':
			delay = strtod(optarg, &end);
			if (*end || delay <= 0)
				die(2, "bad delay '%s': expected seconds > 0", optarg);
			break;
		case 'n':
			iterations = strtol(optarg, &end, 10);
			if (*end || iterations < 1)
				die(2, "bad iteration count '%s'", optarg);
			break;
		case 'b':
			batch = true;
			break;
		case 'o':
			fmt = parse_format(optarg);
			if (fmt == CSV)
				die(2, "top prints a table or json, not csv");
			break;
		case 'h':
			printf("usage: buffer-cg top [-d SECS] [-n N] [-b] [-o table|json]\n"
			       "A live tree of cgroups with, per device, current, max and peak\n"
			       "bytes, what the cgroup's processes hold that other cgroups pay for\n"
			       "(HELD-FROM-OTHERS) and what it pays for that other cgroups'\n"
			       "processes hold (HELD-BY-OTHERS); then what each device is.\n"
			       "  -d SECS  refresh every SECS seconds (default 1)\n"
			       "  -n N     stop after N refreshes (default: forever; 1 with -b)\n"
			       "  -b       batch mode: plain output in bytes, for scripts\n"
			       "  -o json  batch mode, one JSON object per refresh and line\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc)
		die(2, "top takes no operands: '%s'", argv[optind]);
	require_controller();
	if (fmt == JSON)
		batch = true;
	if (batch && iterations < 0)
		iterations = 1;
	for (long i = 0; iterations < 0 || i < iterations; i++) {
		if (i) {
			struct timespec ts = { (time_t)delay,
					       (long)((delay - (time_t)delay) * 1e9) };

			nanosleep(&ts, NULL);
			if (batch && fmt == TABLE)
				putchar('\n');
		}
		complete &= print_top(fmt, batch);
	}
	if (!complete)
		fprintf(stderr, "buffer-cg: partial results: could not read the file descriptors "
			"or mappings of some processes, not yours; run as root to see what "
			"they hold\n");
	return complete ? 0 : EXIT_PARTIAL;
}

static void print_holders(const struct buffer *b, char sep)
{
	if (!b->nholders)
		fputs("-", stdout);
	for (int j = 0; j < b->nholders; j++) {
		const struct holder *h = &b->holders[j];

		printf("%s%d(%s):%s%s%s", j ? (sep == ',' ? ";" : " ") : "", h->pid, h->comm,
		       h->fds[0] ? "fd" : "", h->fds, h->mapped ? (h->fds[0] ? "+map" : "map") : "");
	}
}

static void print_buffer(const struct buffer *b, enum format fmt, const char *reason,
			 bool *first)
{
	char label[GPU_LABEL_MAX], device[DEVICE_MAX + GPU_LABEL_MAX + 4];
	const char *gpu = gpu_label(b->device, label, sizeof(label));

	switch (fmt) {
	case TABLE:
		/* The card and driver next to a DRM device, for people. */
		if (gpu)
			snprintf(device, sizeof(device), "%s (%s)", b->device, gpu);
		else
			snprintf(device, sizeof(device), "%s", or_dash(b->device));
		printf("%-10lu %12llu %-14s %-16s %-24s ", b->ino, b->size, or_dash(b->exporter),
		       device, or_dash(b->cgroup));
		print_holders(b, ' ');
		if (reason)
			printf("  %s", reason);
		putchar('\n');
		break;
	case CSV:
		printf("%lu,%llu,%s,%s,%s,", b->ino, b->size, b->exporter, b->device, b->cgroup);
		print_holders(b, ',');
		if (reason)
			printf(",%s", reason);
		putchar('\n');
		break;
	case JSON:
		printf("%s\n  {\"inode\": %lu, \"size\": %llu, \"exporter\": ", *first ? "" : ",",
		       b->ino, b->size);
		json_string(b->exporter);
		fputs(", \"device\": ", stdout);
		json_string(b->device);
		if (gpu) {
			fputs(", \"gpu\": ", stdout);
			json_string(gpu);
		}
		fputs(", \"cgroup\": ", stdout);
		json_string(b->cgroup);
		fputs(", \"holders\": [", stdout);
		for (int j = 0; j < b->nholders; j++) {
			const struct holder *h = &b->holders[j];

			printf("%s{\"pid\": %d, \"comm\": ", j ? ", " : "", h->pid);
			json_string(h->comm);
			fputs(", \"cgroup\": ", stdout);
			json_string(h->cgroup);
			printf(", \"fds\": [%s], \"mapped\": %s}", h->fds, h->mapped ? "true" : "false");
		}
		fputs("]", stdout);
		if (reason) {
			fputs(", \"reason\": ", stdout);
			json_string(reason);
		}
		fputs("}", stdout);
		break;
	}
	*first = false;
}

static void print_header(enum format fmt, bool reason)
{
	if (fmt == TABLE)
		printf("%-10s %12s %-14s %-16s %-24s %s%s\n", "INODE", "SIZE", "EXPORTER",
		       "DEVICE", "CGROUP", "HOLDERS", reason ? "  REASON" : "");
	else if (fmt == CSV)
		printf("inode,size,exporter,device,cgroup,holders%s\n", reason ? ",reason" : "");
	else
		putchar('[');
}

static void print_footer(enum format fmt)
{
	if (fmt == JSON)
		puts("\n]");
}

static int cmd_dump(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "pid", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *cgroup = NULL;
	struct buffers all = { 0 };
	enum format fmt = TABLE;
	bool first = true;
	int pid = 0, opt;

	while ((opt = getopt_long(argc, argv, "c:p:o:h", opts, NULL)) != -1) {
		char *end;

		switch (opt) {
		case 'c':
			cgroup = optarg;
			break;
		case 'p':
			pid = strtol(optarg, &end, 10);
			if (*end || pid <= 0)
				die(2, "bad pid '%s'", optarg);
			break;
		case 'o':
			fmt = parse_format(optarg);
			break;
		case 'h':
			printf("usage: buffer-cg dump [--cgroup PATH] [--pid PID] [-o table|csv|json]\n"
			       "Every dma-buf: inode, size, exporter, the device and cgroup it is\n"
			       "charged to, and the processes holding it by fd or mapping.\n"
			       "  --cgroup PATH  only buffers charged to PATH or below it\n"
			       "  --pid PID      only buffers PID holds\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc)
		die(2, "dump takes no operands: '%s'", argv[optind]);
	require_controller();
	if (cgroup) {
		char dir[PATH_MAX];

		cgroup_dir(cgroup, dir, sizeof(dir));
		cgroup = strdup(cgroup_name(dir));
	}
	if (pid) {
		char path[64];

		xsnprintf(path, sizeof(path), "/proc/%d", pid);
		if (access(path, F_OK))
			die(1, "no process %d", pid);
	}
	scan_buffers(&all);
	print_header(fmt, false);
	for (int i = 0; i < all.n; i++) {
		const struct buffer *b = &all.b[i];
		bool held = !pid;

		for (int j = 0; j < b->nholders && !held; j++)
			held = b->holders[j].pid == pid;
		if (!held || (cgroup && !under(b->cgroup, cgroup)))
			continue;
		print_buffer(b, fmt, NULL, &first);
	}
	print_footer(fmt);
	if (all.unreadable && fmt == TABLE)
		printf("# partial: only the buffers of the processes buffer-cg could read\n");
	return partial_status(&all);
}

/*
 * A leak: a buffer charged to a cgroup that none of its holders is in (the
 * holder moved, or the cgroup was removed), or a buffer no process holds.
 */
static const char *leak_reason(const struct buffer *b, char *buf, size_t size)
{
	char dir[PATH_MAX + 8];
	struct stat st;

	if (!b->nholders)
		return "held by no process";
	if (!b->cgroup[0])
		return NULL;
	xsnprintf(dir, sizeof(dir), "%s%s", root, b->cgroup);
	if (strstr(b->cgroup, " (deleted)") || stat(dir, &st))
		return "its cgroup was removed";
	for (int j = 0; j < b->nholders; j++)
		if (under(b->holders[j].cgroup, b->cgroup))
			return NULL;
	snprintf(buf, size, "held only from %s", b->holders[0].cgroup);
	return buf;
}

static int cmd_leaks(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct buffers all = { 0 };
	enum format fmt = TABLE;
	bool first = true;
	int found = 0, opt;

	while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			fmt = parse_format(optarg);
			break;
		case 'h':
			printf("usage: buffer-cg leaks [-o table|csv|json]\n"
			       "Buffers charged to a cgroup none of whose processes holds them\n"
			       "(their holder moved away, or the cgroup was removed), and buffers\n"
			       "held by no process at all (found through debugfs's bufinfo).\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc)
		die(2, "leaks takes no operands: '%s'", argv[optind]);
	require_controller();
	scan_buffers(&all);
	for (int i = 0; i < all.n; i++) {
		char buf[PATH_MAX + 32];
		const char *why = leak_reason(&all.b[i], buf, sizeof(buf));

		if (!why)
			continue;
		/* A table says so when empty; csv and json stay parseable. */
		if (!found++)
			print_header(fmt, true);
		print_buffer(&all.b[i], fmt, why, &first);
	}
	if (!found && fmt == TABLE)
		printf("no leaks found%s\n", all.unreadable ?
		       " among the processes buffer-cg could read (partial)" : "");
	else if (!found)
		print_header(fmt, true);
	print_footer(fmt);
	if (all.unreadable && found && fmt == TABLE)
		printf("# partial: a buffer listed may be held by a process buffer-cg "
		       "could not read\n");
	return partial_status(&all);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: buffer-cg [--root DIR] COMMAND [ARGS]\n"
		"See and set the buffer cgroup controller's limits and usage.\n\n"
		"  top [-d SECS] [-n N] [-b] [-o table|json]\n"
		"                                  live tree of cgroups: current/max/peak,\n"
		"                                  held from and by other cgroups\n"
		"  get [-o table|json] CGROUP      one cgroup's numbers, per device\n"
		"  set CGROUP DEVICE=LIMIT...      set buffer.max (K/M/G/T or max)\n"
		"  dump [--cgroup P] [--pid N] [-o table|csv|json]\n"
		"                                  every dma-buf, who pays and who holds it\n"
		"  leaks [-o table|csv|json]       buffers whose payer no longer holds them\n\n"
		"  --root DIR  the cgroup2 mount (default: found in /proc/self/mountinfo)\n"
		"'buffer-cg COMMAND --help' explains each command.\n"
		"Exit status: 0 success, 1 the system lacks or refuses something, 2 bad\n"
		"arguments, 3 partial results (some processes' fds could not be read).\n");
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "top", cmd_top }, { "get", cmd_get }, { "set", cmd_set },
		{ "dump", cmd_dump }, { "leaks", cmd_leaks },
	};
	int i = 1;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "--root")) {
		snprintf(root, sizeof(root), "%s", argv[2]);
		i = 3;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
		if (strcmp(argv[i], cmds[c].name))
			continue;
		if (!root[0])
			find_root();
		return cmds[c].fn(argc - i, argv + i);
	}
	fprintf(stderr, "buffer-cg: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
