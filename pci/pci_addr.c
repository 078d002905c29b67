/* Parser for BDFs and PCI_SPEC_STRINGs; see pci_addr.h for the grammar. */
#include "pci/pci_addr.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

void pci_addr_sysfs(const struct pci_addr *a, char out[PCI_BDF_TEXT_MAX])
{
	snprintf(out, PCI_BDF_TEXT_MAX, "%04x:%02x:%02x.%01x", a->domain, a->bus, a->dev, a->func);
}

void pci_addr_xs(const struct pci_addr *a, char out[PCI_BDF_TEXT_MAX])
{
	snprintf(out, PCI_BDF_TEXT_MAX, "%04x-%02x-%02x-%01x", a->domain, a->bus, a->dev, a->func);
}

uint32_t pci_addr_sbdf(const struct pci_addr *a)
{
	return ((uint32_t)a->domain << 16) | ((uint32_t)a->bus << 8) | ((uint32_t)(a->dev & 0x1f) << 3) |
	       (a->func & 7u);
}

bool pci_addr_eq(const struct pci_addr *a, const struct pci_addr *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->dev == b->dev &&
	       a->func == b->func && a->all_funcs == b->all_funcs;
}

const char *pci_rdm_policy_name(enum pci_rdm_policy p)
{
	return p == PCI_RDM_RELAXED ? "relaxed" : "strict";
}

/* A field of [len] characters at s: hex digits only, value <= max. */
static int hex_field(const char *what, const char *s, size_t len, unsigned max, unsigned *out,
		     char *err, size_t errlen)
{
	unsigned long v = 0;

	if (len == 0)
		return fail(err, errlen, "invalid %s '': empty", what);
	for (size_t i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return fail(err, errlen, "invalid %s '%.*s': not a hex number", what, (int)len, s);
		v = v * 16 + (unsigned long)(isdigit((unsigned char)s[i]) ? s[i] - '0'
							 : tolower((unsigned char)s[i]) - 'a' + 10);
		if (v > max)
			return fail(err, errlen, "invalid %s '%.*s': out of range (max %x)", what, (int)len,
				    s, max);
	}
	*out = (unsigned)v;
	return 0;
}

int pci_parse_bdf(const char *s, struct pci_addr *out, char *err, size_t errlen)
{
	const char *c1, *c2, *dot, *bus, *dev;
	unsigned dom = 0, b, d, f = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return fail(err, errlen, "empty BDF: expected [DDDD:]BB:DD.F");
	c1 = strchr(s, ':');
	if (!c1)
		return fail(err, errlen, "invalid BDF '%s': expected [DDDD:]BB:DD.F", s);
	c2 = strchr(c1 + 1, ':');
	if (c2 && strchr(c2 + 1, ':'))
		return fail(err, errlen, "invalid BDF '%s': too many ':' (expected [DDDD:]BB:DD.F)", s);
	if (c2) {
		rc = hex_field("domain", s, (size_t)(c1 - s), 0xffff, &dom, err, errlen);
		if (rc)
			return rc;
		bus = c1 + 1;
		dev = c2 + 1;
	} else {
		bus = s;
		dev = c1 + 1;
	}
	rc = hex_field("bus", bus, (size_t)(dev - 1 - bus), 0xff, &b, err, errlen);
	if (rc)
		return rc;
	dot = strchr(dev, '.');
	if (!dot)
		return fail(err, errlen, "invalid BDF '%s': missing '.F' (function)", s);
	rc = hex_field("device", dev, (size_t)(dot - dev), 0x1f, &d, err, errlen);
	if (rc)
		return rc;
	const char *fn = dot + 1;
	size_t flen;
	if (*fn == '*') {
		out->all_funcs = true;
		flen = 1;
	} else {
		flen = strspn(fn, "0123456789abcdefABCDEF");
		if (flen == 0)
			return fail(err, errlen, "invalid function '%s': expected 0-7 or '*'", fn);
		rc = hex_field("function", fn, flen, 7, &f, err, errlen);
		if (rc)
			return rc;
	}
	if (fn[flen])
		return fail(err, errlen, "trailing characters '%s' after BDF '%.*s'", fn + flen,
			    (int)(fn + flen - s), s);
	out->domain = (uint16_t)dom;
	out->bus = (uint8_t)b;
	out->dev = (uint8_t)d;
	out->func = (uint8_t)f;
	return 0;
}

bool pci_parse_sysfs_name(const char *s, struct pci_addr *out)
{
	char canon[PCI_BDF_TEXT_MAX];

	if (strlen(s) != 12 || pci_parse_bdf(s, out, NULL, 0) || out->all_funcs)
		return false;
	pci_addr_sysfs(out, canon);
	return strcasecmp(canon, s) == 0;
}

bool pci_parse_xs_name(const char *s, struct pci_addr *out)
{
	char tmp[PCI_BDF_TEXT_MAX];

	if (strlen(s) != 12 || s[4] != '-' || s[7] != '-' || s[10] != '-')
		return false;
	memcpy(tmp, s, 13);
	tmp[4] = ':';
	tmp[7] = ':';
	tmp[10] = '.';
	return pci_parse_sysfs_name(tmp, out);
}

int pci_check_name(const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name);

	if (n == 0)
		return fail(err, errlen, "invalid name '': empty");
	if (n > PCI_NAME_MAX)
		return fail(err, errlen, "invalid name '%.16s...': longer than %d characters", name,
			    PCI_NAME_MAX);
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)name[i]))
			return fail(err, errlen,
				    "invalid name '%s': only printable characters without spaces allowed",
				    name);
	return 0;
}

static int parse_vslot(const char *s, size_t len, struct pci_spec *out, char *err, size_t errlen)
{
	unsigned v;
	int rc;

	if (out->has_vslot)
		return fail(err, errlen, "vslot given twice");
	rc = hex_field("vslot", s, len, 0x1f, &v, err, errlen);
	if (rc)
		return rc;
	out->has_vslot = true;
	out->vslot = (uint8_t)v;
	return 0;
}

/* BDF[@VSLOT] at the head of a spec, or the value of bdf=. */
static int parse_addr_part(const char *s, size_t len, bool allow_vslot, struct pci_spec *out,
			   char *err, size_t errlen)
{
	char buf[64];
	const char *at;
	int rc;

	if (out->has_addr)
		return fail(err, errlen, "BDF given twice");
	if (len >= sizeof(buf))
		return fail(err, errlen, "invalid BDF '%.*s...': too long", 20, s);
	memcpy(buf, s, len);
	buf[len] = 0;
	at = strchr(buf, '@');
	if (at && !allow_vslot)
		return fail(err, errlen, "invalid bdf '%s': '@VSLOT' not allowed in bdf=, use vslot=", buf);
	if (at) {
		rc = parse_vslot(at + 1, strlen(at + 1), out, err, errlen);
		if (rc)
			return rc;
		buf[at - buf] = 0;
	}
	rc = pci_parse_bdf(buf, &out->addr, err, errlen);
	if (rc)
		return rc;
	out->has_addr = true;
	return 0;
}

static int parse_bool_opt(const char *key, const char *v, size_t len, struct pci_opt *o, char *err,
			  size_t errlen)
{
	if (o->set)
		return fail(err, errlen, "option '%s' given twice", key);
	if (len != 1 || (v[0] != '0' && v[0] != '1'))
		return fail(err, errlen, "invalid %s '%.*s': must be 0 or 1", key, (int)len, v);
	o->set = true;
	o->val = v[0] - '0';
	return 0;
}

static int parse_option(const char *tok, size_t len, struct pci_spec *out, char *err, size_t errlen)
{
	const char *eq = memchr(tok, '=', len);
	char key[32];

	if (!eq)
		return fail(err, errlen, "invalid option '%.*s': expected key=value", (int)len, tok);
	size_t klen = (size_t)(eq - tok);
	const char *v = eq + 1;
	size_t vlen = len - klen - 1;
	if (klen == 0 || klen >= sizeof(key))
		return fail(err, errlen, "Unknown PCI_SPEC_STRING option '%.*s'", (int)klen, tok);
	memcpy(key, tok, klen);
	key[klen] = 0;

	if (!strcmp(key, "bdf"))
		return parse_addr_part(v, vlen, false, out, err, errlen);
	if (!strcmp(key, "vslot"))
		return parse_vslot(v, vlen, out, err, errlen);
	if (!strcmp(key, "permissive"))
		return parse_bool_opt(key, v, vlen, &out->permissive, err, errlen);
	if (!strcmp(key, "msitranslate"))
		return parse_bool_opt(key, v, vlen, &out->msitranslate, err, errlen);
	if (!strcmp(key, "seize"))
		return parse_bool_opt(key, v, vlen, &out->seize, err, errlen);
	if (!strcmp(key, "power_mgmt"))
		return parse_bool_opt(key, v, vlen, &out->power_mgmt, err, errlen);
	if (!strcmp(key, "rdm_policy")) {
		if (out->rdm_set)
			return fail(err, errlen, "option 'rdm_policy' given twice");
		if (vlen == 6 && !memcmp(v, "strict", 6))
			out->rdm_policy = PCI_RDM_STRICT;
		else if (vlen == 7 && !memcmp(v, "relaxed", 7))
			out->rdm_policy = PCI_RDM_RELAXED;
		else
			return fail(err, errlen, "invalid rdm_policy '%.*s': must be strict or relaxed",
				    (int)vlen, v);
		out->rdm_set = true;
		return 0;
	}
	if (!strcmp(key, "name")) {
		char name[PCI_NAME_MAX + 2];
		if (out->name[0])
			return fail(err, errlen, "option 'name' given twice");
		if (vlen > PCI_NAME_MAX)
			return fail(err, errlen, "invalid name '%.*s...': longer than %d characters", 16,
				    v, PCI_NAME_MAX);
		memcpy(name, v, vlen);
		name[vlen] = 0;
		int rc = pci_check_name(name, err, errlen);
		if (rc)
			return rc;
		memcpy(out->name, name, vlen + 1);
		return 0;
	}
	return fail(err, errlen, "Unknown PCI_SPEC_STRING option '%s'", key);
}

int pci_parse_spec(const char *s, struct pci_spec *out, char *err, size_t errlen)
{
	const char *p = s;
	bool first = true;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return fail(err, errlen, "empty PCI_SPEC_STRING");
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == 0)
			return fail(err, errlen, "empty option at offset %zu in '%s'", (size_t)(p - s), s);
		if (first && !memchr(p, '=', len))
			rc = parse_addr_part(p, len, true, out, err, errlen);
		else
			rc = parse_option(p, len, out, err, errlen);
		if (rc)
			return rc;
		first = false;
		if (!end)
			break;
		p = end + 1;
	}
	if (out->has_addr && out->name[0])
		return fail(err, errlen, "both a BDF and name= given: use exactly one");
	if (!out->has_addr && !out->name[0])
		return fail(err, errlen, "no BDF: give BDF, bdf= or name=");
	return 0;
}
