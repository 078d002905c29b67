/* The PCI part of an xl domain config:
 *
 *   pci = [ '03:00.0,permissive=1', "04:00.0@5" ]
 *   pci_permissive = 1        (also pci_msitranslate, pci_power_mgmt, pci_seize)
 *
 * xl's config syntax: `name = value` settings, optionally ended by ';',
 * values are numbers, '...' or "..." strings, or [ lists ]; '#' starts a
 * comment. Settings other than these are skipped but must still parse. */
#include "pci/pci.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lexer {
	const char *p;
	int line;
	char *err;
	size_t errlen;
};

static int lfail(struct lexer *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int lfail(struct lexer *l, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (l->err)
		snprintf(l->err, l->errlen, "line %d: %s", l->line, msg);
	return -EINVAL;
}

static void skip_space(struct lexer *l)
{
	for (;;) {
		if (*l->p == '\n')
			l->line++;
		if (isspace((unsigned char)*l->p)) {
			l->p++;
		} else if (*l->p == '#') {
			while (*l->p && *l->p != '\n')
				l->p++;
		} else {
			return;
		}
	}
}

/* A quoted string into a malloc'd buffer. */
static int lex_string(struct lexer *l, char **out)
{
	char q = *l->p++;
	const char *start = l->p;

	while (*l->p && *l->p != q && *l->p != '\n')
		l->p++;
	if (*l->p != q)
		return lfail(l, "unterminated string");
	*out = strndup(start, (size_t)(l->p - start));
	l->p++;
	return *out ? 0 : -ENOMEM;
}

enum vtype { V_NUM, V_STR, V_LIST };

struct value {
	enum vtype type;
	long num;
	char *str;
	char **items;
	size_t nitems;
};

static void value_free(struct value *v)
{
	free(v->str);
	for (size_t i = 0; i < v->nitems; i++)
		free(v->items[i]);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

static int lex_value(struct lexer *l, struct value *v)
{
	memset(v, 0, sizeof(*v));
	skip_space(l);
	if (*l->p == '\'' || *l->p == '"') {
		v->type = V_STR;
		return lex_string(l, &v->str);
	}
	if (*l->p == '[') {
		l->p++;
		v->type = V_LIST;
		for (;;) {
			skip_space(l);
			if (*l->p == ']') {
				l->p++;
				return 0;
			}
			if (*l->p != '\'' && *l->p != '"')
				return lfail(l, "expected a string in the list");
			char *s, **ni;
			int rc = lex_string(l, &s);
			if (rc)
				return rc;
			ni = realloc(v->items, (v->nitems + 1) * sizeof(*ni));
			if (!ni) {
				free(s);
				return -ENOMEM;
			}
			v->items = ni;
			v->items[v->nitems++] = s;
			skip_space(l);
			if (*l->p == ',')
				l->p++;
			else if (*l->p != ']')
				return lfail(l, "expected ',' or ']' in the list");
		}
	}
	if (isdigit((unsigned char)*l->p) || *l->p == '-') {
		char *end;
		v->type = V_NUM;
		v->num = strtol(l->p, &end, 0);
		if (end == l->p)
			return lfail(l, "bad number");
		l->p = end;
		return 0;
	}
	return lfail(l, "expected a value");
}

static int set_default(struct lexer *l, const char *key, const struct value *v, int *dst)
{
	if (v->type != V_NUM)
		return lfail(l, "%s must be a number", key);
	*dst = v->num != 0;
	return 0;
}

int pci_domcfg_parse(const char *text, struct pci_domcfg *out, char *err, size_t errlen)
{
	struct lexer l = { text, 1, err, errlen };
	int rc = 0;

	memset(out, 0, sizeof(*out));
	for (;;) {
		char key[64];
		size_t n = 0;
		struct value v;

		skip_space(&l);
		if (!*l.p)
			break;
		if (*l.p == ';') {
			l.p++;
			continue;
		}
		while (isalnum((unsigned char)*l.p) || *l.p == '_') {
			if (n + 1 < sizeof(key))
				key[n++] = *l.p;
			l.p++;
		}
		key[n] = 0;
		if (!n) {
			rc = lfail(&l, "expected a setting name");
			break;
		}
		skip_space(&l);
		if (*l.p != '=') {
			rc = lfail(&l, "expected '=' after %s", key);
			break;
		}
		l.p++;
		rc = lex_value(&l, &v);
		if (rc) {
			value_free(&v);
			break;
		}
		if (!strcmp(key, "pci")) {
			if (v.type != V_LIST) {
				rc = lfail(&l, "pci must be a list of strings");
			} else {
				free(out->specs);
				out->specs = calloc(v.nitems ? v.nitems : 1, sizeof(*out->specs));
				out->nspecs = 0;
				for (size_t i = 0; !rc && out->specs && i < v.nitems; i++) {
					char perr[160];
					if (pci_parse_spec(v.items[i], &out->specs[i], perr, sizeof(perr)))
						rc = lfail(&l, "pci entry '%s': %s", v.items[i], perr);
					else
						out->nspecs++;
				}
				if (!out->specs)
					rc = -ENOMEM;
			}
		} else if (!strcmp(key, "pci_permissive")) {
			rc = set_default(&l, key, &v, &out->defs.permissive);
		} else if (!strcmp(key, "pci_msitranslate")) {
			rc = set_default(&l, key, &v, &out->defs.msitranslate);
		} else if (!strcmp(key, "pci_power_mgmt")) {
			rc = set_default(&l, key, &v, &out->defs.power_mgmt);
		} else if (!strcmp(key, "pci_seize")) {
			rc = set_default(&l, key, &v, &out->defs.seize);
		}
		value_free(&v);
		if (rc)
			break;
	}
	if (rc)
		pci_domcfg_free(out);
	return rc;
}

int pci_domcfg_read(const char *path, struct pci_domcfg *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return rc;
	}
	FILE *m = open_memstream(&text, &len);
	char buf[4096];
	size_t n;
	while (m && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, m);
	fclose(f);
	if (!m)
		return -ENOMEM;
	fclose(m);
	rc = pci_domcfg_parse(text, out, err, errlen);
	free(text);
	return rc;
}

void pci_domcfg_free(struct pci_domcfg *c)
{
	free(c->specs);
	memset(c, 0, sizeof(*c));
}
