#include "sim/xs_path.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/io/xs_wire.h>

static bool valid_chars(const char *path)
{
	static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "abcdefghijklmnopqrstuvwxyz"
				      "0123456789-/_@";

	return path[strspn(path, allowed)] == '\0';
}

bool xs_path_is_valid(const char *path)
{
	size_t len = strlen(path);
	unsigned domid;
	int prefix = 0;

	if (path[0] != '/')
		return false;
	if (len > 1 && path[len - 1] == '/')
		return false;
	if (strstr(path, "//"))
		return false;
	/* Paths in a domain's home are measured from the home, like
	 * relative ones, so a guest gets the full relative budget. */
	if (sscanf(path, "/local/domain/%5u/%n", &domid, &prefix) != 1)
		prefix = 0;
	if (len > (size_t)prefix + XENSTORE_REL_PATH_MAX || len > XENSTORE_ABS_PATH_MAX)
		return false;
	return valid_chars(path);
}

bool xs_path_is_special(const char *path)
{
	return path[0] == '@';
}

char *xs_path_domain(unsigned domid)
{
	char *s;

	if (asprintf(&s, "/local/domain/%u", domid) < 0)
		return NULL;
	return s;
}

char *xs_path_canonical(unsigned domid, const char *path)
{
	char *s;

	if (path[0] == '/' || path[0] == '@')
		return strdup(path);
	if (asprintf(&s, "/local/domain/%u/%s", domid, path) < 0)
		return NULL;
	return s;
}

char *xs_path_parent(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash || slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

const char *xs_path_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

char *xs_path_child(const char *parent, const char *child)
{
	char *s;

	if (asprintf(&s, "%s/%s", strcmp(parent, "/") ? parent : "", child) < 0)
		return NULL;
	return s;
}

bool xs_path_is_below(const char *child, const char *parent)
{
	size_t len = strlen(parent);

	if (!strcmp(parent, "/"))
		return true;
	if (strncmp(child, parent, len))
		return false;
	return child[len] == '/' || child[len] == '\0';
}
