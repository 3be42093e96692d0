/*
 * A small JSON reader producing R values (base R has none): object -> named list, array -> list,
 * string -> character(1), number -> double(1), true/false -> logical(1), null -> NULL.
 * Used for the operator schemas and other JSON the core returns. Never calls Rf_error: malformed
 * input gives an mxr_failure object (status MX_ERR_FORMAT).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <R.h>
#include <Rinternals.h>

#include <mx/c_api.h>

#include "mx_glue.h"

typedef struct {
  const char *s;
  const char *err;
} jp;

static void ws(jp *p) {
  while (*p->s == ' ' || *p->s == '\n' || *p->s == '\t' || *p->s == '\r') p->s++;
}

static SEXP jvalue(jp *p, int depth);

static int hex4(const char *s, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; ++i) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return 0;
  }
  *out = v;
  return 1;
}

static char *utf8(char *o, unsigned cp) {
  if (cp < 0x80) *o++ = (char)cp;
  else if (cp < 0x800) {
    *o++ = (char)(0xC0 | (cp >> 6));
    *o++ = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *o++ = (char)(0xE0 | (cp >> 12));
    *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *o++ = (char)(0x80 | (cp & 0x3F));
  } else {
    *o++ = (char)(0xF0 | (cp >> 18));
    *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
    *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *o++ = (char)(0x80 | (cp & 0x3F));
  }
  return o;
}

/* A CHARSXP for the string at p->s (which points at the opening quote). */
static SEXP jstring(jp *p) {
  const char *s = p->s + 1, *q = s;
  while (*q && *q != '"') q += (*q == '\\' && q[1]) ? 2 : 1;
  if (*q != '"') {
    p->err = "unterminated string";
    return R_NilValue;
  }
  char *buf = R_alloc((size_t)(q - s) + 1, 1), *o = buf;
  while (s < q) {
    if (*s != '\\') {
      *o++ = *s++;
      continue;
    }
    s++;
    switch (*s) {
      case '"': *o++ = '"'; break;
      case '\\': *o++ = '\\'; break;
      case '/': *o++ = '/'; break;
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'n': *o++ = '\n'; break;
      case 'r': *o++ = '\r'; break;
      case 't': *o++ = '\t'; break;
      case 'u': {
        unsigned cp;
        if (q - s < 5 || !hex4(s + 1, &cp)) {
          p->err = "bad \\u escape";
          return R_NilValue;
        }
        s += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && q - s >= 7 && s[1] == '\\' && s[2] == 'u') {
          unsigned lo;
          if (hex4(s + 3, &lo) && lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            s += 6;
          }
        }
        if (cp == 0) cp = 0xFFFD; /* R strings cannot hold NUL */
        o = utf8(o, cp);
        break;
      }
      default: p->err = "bad escape"; return R_NilValue;
    }
    s++;
  }
  *o = 0;
  p->s = q + 1;
  return mkCharLenCE(buf, (int)(o - buf), CE_UTF8);
}

/* Growable list (and names) while reading arrays and objects. */
static SEXP grow(SEXP v, R_xlen_t n) {
  SEXP r = PROTECT(allocVector(TYPEOF(v), n));
  for (R_xlen_t i = 0; i < XLENGTH(v); ++i) {
    if (TYPEOF(v) == VECSXP) SET_VECTOR_ELT(r, i, VECTOR_ELT(v, i));
    else SET_STRING_ELT(r, i, STRING_ELT(v, i));
  }
  UNPROTECT(1);
  return r;
}

static SEXP shrink(SEXP v, R_xlen_t n) { return XLENGTH(v) == n ? v : lengthgets(v, n); }

static SEXP jcontainer(jp *p, int depth, int is_obj) {
  char close = is_obj ? '}' : ']';
  p->s++;
  PROTECT_INDEX iv, in;
  SEXP vals = allocVector(VECSXP, 8);
  PROTECT_WITH_INDEX(vals, &iv);
  SEXP names = is_obj ? allocVector(STRSXP, 8) : R_NilValue;
  PROTECT_WITH_INDEX(names, &in);
  R_xlen_t n = 0;
  ws(p);
  if (*p->s == close) {
    p->s++;
  } else {
    for (;;) {
      ws(p);
      if (n == XLENGTH(vals)) {
        REPROTECT(vals = grow(vals, 2 * n), iv);
        if (is_obj) REPROTECT(names = grow(names, 2 * n), in);
      }
      if (is_obj) {
        if (*p->s != '"') {
          p->err = "expected a key";
          break;
        }
        SEXP k = jstring(p);
        if (p->err) break;
        SET_STRING_ELT(names, n, k);
        ws(p);
        if (*p->s != ':') {
          p->err = "expected ':'";
          break;
        }
        p->s++;
      }
      SEXP v = jvalue(p, depth + 1);
      if (p->err) break;
      SET_VECTOR_ELT(vals, n, v);
      n++;
      ws(p);
      if (*p->s == ',') {
        p->s++;
        continue;
      }
      if (*p->s == close) {
        p->s++;
        break;
      }
      p->err = is_obj ? "expected ',' or '}'" : "expected ',' or ']'";
      break;
    }
  }
  if (p->err) {
    UNPROTECT(2);
    return R_NilValue;
  }
  REPROTECT(vals = shrink(vals, n), iv);
  if (is_obj) {
    REPROTECT(names = shrink(names, n), in);
    setAttrib(vals, R_NamesSymbol, names);
  }
  UNPROTECT(2);
  return vals;
}

static SEXP jvalue(jp *p, int depth) {
  if (depth > 200) {
    p->err = "nesting too deep";
    return R_NilValue;
  }
  ws(p);
  char c = *p->s;
  if (c == '{' || c == '[') return jcontainer(p, depth, c == '{');
  if (c == '"') {
    SEXP ch = jstring(p);
    if (p->err) return R_NilValue;
    PROTECT(ch);
    SEXP r = ScalarString(ch);
    UNPROTECT(1);
    return r;
  }
  if (strncmp(p->s, "true", 4) == 0) {
    p->s += 4;
    return ScalarLogical(1);
  }
  if (strncmp(p->s, "false", 5) == 0) {
    p->s += 5;
    return ScalarLogical(0);
  }
  if (strncmp(p->s, "null", 4) == 0) {
    p->s += 4;
    return R_NilValue;
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    char *end = NULL;
    double d = strtod(p->s, &end);
    if (end == p->s) {
      p->err = "bad number";
      return R_NilValue;
    }
    p->s = end;
    return ScalarReal(d);
  }
  p->err = "unexpected character";
  return R_NilValue;
}

SEXP mxr_json_parse(SEXP text) {
  if (TYPEOF(text) != STRSXP || XLENGTH(text) != 1 || STRING_ELT(text, 0) == NA_STRING)
    return mxr_fail_msg(MX_ERR_INVALID_ARGUMENT, "JSON text must be a single string");
  const char *s0 = translateCharUTF8(STRING_ELT(text, 0));
  jp p = {s0, NULL};
  SEXP v = PROTECT(jvalue(&p, 0));
  if (!p.err) {
    ws(&p);
    if (*p.s) p.err = "trailing characters";
  }
  if (p.err) {
    char buf[256];
    snprintf(buf, sizeof buf, "malformed JSON: %s at offset %ld", p.err, (long)(p.s - s0));
    UNPROTECT(1);
    return mxr_fail_msg(MX_ERR_FORMAT, buf);
  }
  UNPROTECT(1);
  return v;
}
