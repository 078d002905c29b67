#include "sim/xs_perms.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int letter_to_access(char c, unsigned *access)
{
	switch (c) {
	case 'n': *access = XS_PERM_NONE; return 0;
	case 'r': *access = XS_PERM_READ; return 0;
	case 'w': *access = XS_PERM_WRITE; return 0;
	case 'b': *access = XS_PERM_READ | XS_PERM_WRITE; return 0;
	default: return EINVAL;
	}
}

static char access_to_letter(unsigned access)
{
	switch (access & (XS_PERM_READ | XS_PERM_WRITE)) {
	case XS_PERM_READ: return 'r';
	case XS_PERM_WRITE: return 'w';
	case XS_PERM_READ | XS_PERM_WRITE: return 'b';
	default: return 'n';
	}
}

static int parse_domid(const char *s, unsigned *domid)
{
	char *end;
	unsigned long v;

	/* Decimal only; a sign, a blank or a trailing byte is malformed. */
	if (*s < '0' || *s > '9')
		return EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 0xffff)
		return EINVAL;
	*domid = (unsigned)v;
	return 0;
}

int xs_perms_parse(const char *strings, unsigned num, struct xs_perms *out)
{
	struct xs_permissions *p;
	const char *s = strings;

	if (!num)
		return EINVAL;
	p = calloc(num, sizeof(*p));
	if (!p)
		return ENOMEM;
	for (unsigned i = 0; i < num; i++) {
		if (letter_to_access(s[0], &p[i].perms) ||
		    parse_domid(s + 1, &p[i].id)) {
			free(p);
			return EINVAL;
		}
		s += strlen(s) + 1;
	}
	out->num = num;
	out->p = p;
	return 0;
}

char *xs_perms_format(const struct xs_perms *perms, unsigned *len)
{
	/* "b65535" plus NUL is the longest entry. */
	char *buf = malloc((size_t)perms->num * 8 + 1);
	unsigned off = 0;

	if (!buf)
		return NULL;
	for (unsigned i = 0; i < perms->num; i++)
		off += (unsigned)sprintf(buf + off, "%c%u",
					 access_to_letter(perms->p[i].perms),
					 perms->p[i].id) + 1;
	*len = off;
	return buf;
}

unsigned xs_perms_for(const struct xs_perms *perms, unsigned domid)
{
	const unsigned all = XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;

	if (xs_domid_is_privileged(domid) || perms->p[0].id == domid)
		return all;
	for (unsigned i = 1; i < perms->num; i++)
		if (perms->p[i].id == domid)
			return perms->p[i].perms & all;
	return perms->p[0].perms & all;
}

int xs_perms_single(struct xs_perms *out, unsigned owner, unsigned access)
{
	out->p = calloc(1, sizeof(*out->p));
	if (!out->p)
		return ENOMEM;
	out->num = 1;
	out->p[0].id = owner;
	out->p[0].perms = access;
	return 0;
}

int xs_perms_copy(struct xs_perms *dst, const struct xs_perms *src)
{
	dst->p = malloc(src->num * sizeof(*src->p));
	if (!dst->p)
		return ENOMEM;
	memcpy(dst->p, src->p, src->num * sizeof(*src->p));
	dst->num = src->num;
	return 0;
}

void xs_perms_drop_domid(struct xs_perms *perms, unsigned domid)
{
	unsigned out = 1;

	for (unsigned i = 1; i < perms->num; i++)
		if (perms->p[i].id != domid)
			perms->p[out++] = perms->p[i];
	perms->num = out;
}

void xs_perms_free(struct xs_perms *perms)
{
	free(perms->p);
	perms->p = NULL;
	perms->num = 0;
}
