#!/usr/bin/env python3
"""Generates capmem's man pages from their one source each (docs/man.md).

  man3: one page per public header, capmem_<header>(3), from the header
        itself: its opening comment, every function with its prototype and
        its comment, the statuses that comment names (ERRORS), its types and
        constants; plus one alias per function (cm_vmo_create(3) -> .so).
        Every include/capmem/*.h is read, so a new header or a new function
        gets its page without an edit here.
  man1, man7: docs/man/<name>.<section>.md, a small markdown subset (below).

Usage: gen-man.py [--include DIR] [--docs DIR] [--out DIR]
(defaults: include/capmem, docs/man, build/man). Python 3 standard library
only. Prints nothing on success; a malformed source is an error (exit 1)
naming file and line. An undocumented function is not an error here: its
page says "(undocumented)", and tests/man/check_man.py fails on it.
"""
import argparse
import glob
import os
import re
import sys

DATE = "capmem"  # no build date: pages are reproducible


class SourceError(Exception):
    pass


# ---------------------------------------------------------------- roff text

def esc(text):
    """Escapes text for roff: backslashes, and a leading . or ' ."""
    text = text.replace("\\", "\\e")
    return text


def line_out(text):
    text = esc(text)
    if text.startswith((".", "'")):
        text = "\\&" + text
    return text


def code_lines(lines):
    """A preformatted block (no fill), indented."""
    out = [".PP", ".RS 4", ".nf"]
    out += [line_out(l.rstrip()) if l.strip() else "" for l in lines]
    out += [".fi", ".RE"]
    # an empty line in .nf mode is a blank line; roff accepts it, but -ww
    # does not warn either way: keep them as .sp for clarity
    return [".sp" if l == "" else l for l in out]


def text_block(lines):
    """Comment or markdown text: paragraphs on blank lines; a paragraph
    whose lines carry alignment (indented lines, runs of spaces: tables and
    numbered lists in the headers) is kept preformatted, others are filled."""
    out = []
    para = []

    def flush():
        if not para:
            return
        ind = min(len(l) - len(l.lstrip()) for l in para)
        body = [l[ind:] for l in para]
        aligned = any(l.startswith(" ") or re.search(r"\S {3,}\S", l) for l in body[1:]) \
            or any(re.search(r"\S {3,}\S", l) for l in body[:1])
        if aligned:
            out.extend(code_lines(body))
        else:
            out.append(".PP")
            out.extend(line_out(l.strip()) for l in body)
        para.clear()

    for l in lines:
        if l.strip():
            para.append(l.rstrip())
        else:
            flush()
    flush()
    return out


# ---------------------------------------------------------------- headers

TOKEN = re.compile(r"/\*.*?\*/|//[^\n]*|\n|[^/\n]+|/", re.S)


def comment_text(raw):
    """The lines of a /* */ comment without the delimiters and ' * '."""
    body = raw[2:-2]
    lines = body.split("\n")
    res = []
    for i, l in enumerate(lines):
        s = l.rstrip()
        if i > 0:
            m = re.match(r"^\s*\* ?(.*)$", s)
            if m:
                s = m.group(1)
            else:
                s = s.strip() if not s.startswith(" " * 4) else s[1:]
        else:
            s = s.lstrip()
        res.append(s)
    while res and not res[0].strip():
        res.pop(0)
    while res and not res[-1].strip():
        res.pop()
    return res


class Header:
    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)[:-2]
        self.intro = []        # lines of the header's opening comment(s)
        self.functions = []    # (names, [prototypes], doc lines, line)
        self.types = []        # (raw statement, doc lines)
        self.constants = []    # (name, value, doc lines)
        self.status_table = [] # (name, value, message) from CM_STATUS_TABLE


def split_items(text, path):
    """Yields (kind, text, line, blank_before) at top level, kind one of
    comment, pp (a preprocessor line, continuations joined), stmt (a
    declaration up to ';' at brace depth 0, comments inside kept)."""
    items = []
    pos = 0
    line = 1
    stmt = []
    stmt_line = 0
    depth = 0
    blank = True        # a blank line since the previous item
    at_bol = True
    n = len(text)
    while pos < n:
        c = text[pos]
        if c == "\n":
            if at_bol and not stmt:
                blank = True
            at_bol = True
            line += 1
            pos += 1
            if stmt:
                stmt.append("\n")
            continue
        if c in " \t":
            pos += 1
            if stmt:
                stmt.append(c)
            continue
        if at_bol and c == "#" and not stmt:
            end = pos
            while True:
                e = text.find("\n", end)
                if e < 0:
                    e = n
                if e > 0 and text[e - 1] == "\\":
                    end = e + 1
                    continue
                break
            raw = text[pos:e]
            # a comment opened on a pp line may run past it
            while raw.count("/*") > raw.count("*/"):
                e2 = text.find("*/", e)
                if e2 < 0:
                    raise SourceError(f"{path}:{line}: unterminated comment")
                e = text.find("\n", e2)
                e = n if e < 0 else e
                raw = text[pos:e]
            items.append(("pp", raw, line, blank))
            line += raw.count("\n")
            blank = False
            pos = e
            at_bol = False
            continue
        at_bol = False
        if text.startswith("/*", pos):
            e = text.find("*/", pos + 2)
            if e < 0:
                raise SourceError(f"{path}:{line}: unterminated comment")
            raw = text[pos:e + 2]
            if stmt:
                stmt.append(raw)
            else:
                items.append(("comment", raw, line, blank))
                blank = False
            line += raw.count("\n")
            pos = e + 2
            continue
        if text.startswith("//", pos):
            e = text.find("\n", pos)
            e = n if e < 0 else e
            raw = text[pos:e]
            if stmt:
                stmt.append(raw)
            else:
                items.append(("comment", "/*" + raw[2:] + "*/", line, blank))
                blank = False
            pos = e
            continue
        m = re.match(r'extern\s+"C"\s*\{', text[pos:])
        if m and not stmt:
            line += m.group(0).count("\n")
            pos += m.end()
            continue
        if c == "}" and depth == 0:
            pos += 1       # closes an extern "C" block
            continue
        if not stmt:
            stmt_line = line
        stmt.append(c)
        pos += 1
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                # a body: a struct's is followed by its declarators and ';',
                # an inline function's ends the statement here
                s = "".join(stmt)
                if re.search(r"\)\s*\{", s) and not s.lstrip().startswith(("typedef", "struct", "union", "enum")):
                    items.append(("stmt", s, stmt_line, blank))
                    stmt = []
                    blank = False
        elif c == ";" and depth == 0:
            items.append(("stmt", "".join(stmt), stmt_line, blank))
            stmt = []
            blank = False
    if stmt and "".join(stmt).strip():
        raise SourceError(f"{path}:{stmt_line}: declaration not ended by ';'")
    return items


STRIP_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
ATTRS = re.compile(r"__attribute__\s*\(\(.*?\)\)|\b__extension__\b|\bCM_API\b|\bextern\b", re.S)


def strip_macro_calls(code):
    """Removes upper-case macro calls before the declarator, such as
    CM_DEPRECATED("use x"), so that they are not taken for the function."""
    m = re.search(r"\b[a-z_]\w*\s*\(", code)
    if not m:
        return code
    head = re.sub(r"\b[A-Z][A-Z0-9_]*\s*\((?:[^()]|\([^()]*\))*\)", " ", code[:m.start()])
    return head + code[m.start():]


def function_name(stmt):
    """The name a declaration declares as a function, or None."""
    code = STRIP_COMMENTS.sub(" ", stmt)
    code = strip_macro_calls(ATTRS.sub(" ", code)).strip()
    if code.startswith("typedef") or "(" not in code:
        return None
    if re.match(r"(struct|union|enum)\b[^(]*\{", code):
        return None
    m = re.match(r"[^(]*?\b([A-Za-z_]\w*)\s*\(", code)
    if not m:
        return None
    before = code[:m.start(1)]
    if "(" in before or "=" in before:
        return None
    return m.group(1)


def prototype(stmt):
    code = STRIP_COMMENTS.sub(" ", stmt)
    code = re.sub(r"\b__attribute__\s*\(\(.*?\)\)", " ", code, flags=re.S)
    code = strip_macro_calls(code)
    if "{" in code:
        code = code[:code.index("{")].rstrip() + ";"
    code = re.sub(r"\s+", " ", code).strip()
    code = code.replace("( ", "(").replace(" )", ")")
    return code


def parse_header(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    # The licence line (scripts/spdx.sh) is not the header's documentation;
    # blank it, keeping line numbers.
    text = re.sub(r"\A/\* SPDX-License-Identifier: [^*]*\*/", "", text)
    h = Header(path)
    items = split_items(text, path)
    pending = None      # lines of the comment just read, not yet attached
    last_fn = None      # the function group the previous item added to
    intro_done = False
    for kind, raw, line, blank in items:
        if kind == "comment":
            doc = comment_text(raw)
            if pending is not None and not blank:
                pending = pending + [""] + doc    # adjacent comments: one
            else:
                if pending is not None and not intro_done:
                    h.intro += ([""] if h.intro else []) + pending
                pending = doc
            last_fn = None
            continue
        attached = pending is not None and not blank
        doc = pending if attached else []
        is_define = kind == "pp" and re.match(r"#\s*define\s", raw) \
            and not re.fullmatch(r"#\s*define\s+CAPMEM_\w+_H\s*", raw)
        if pending is not None and not intro_done and (not attached or (kind == "pp" and not is_define)):
            h.intro += ([""] if h.intro else []) + pending
        pending = None
        if kind == "pp":
            last_fn = None
            if not is_define:
                continue
            m = re.match(r"#\s*define\s+(\w+)(\([^)]*\))?(.*)$", raw, re.S)
            name, params, rest = m.group(1), m.group(2) or "", m.group(3)
            trailing = re.findall(r"/\*(.*?)\*/", rest, re.S)
            value = re.sub(r"\s+", " ", STRIP_COMMENTS.sub(" ", rest.replace("\\\n", " "))).strip()
            intro_done = True
            if name == "CM_STATUS_TABLE":
                for r in re.finditer(r'X\(\s*(\w+)\s*,\s*(-?\d+)\s*,\s*"((?:[^"\\]|\\.)*)"\s*\)', rest):
                    h.status_table.append((r.group(1), int(r.group(2)), r.group(3)))
            elif not name.startswith(("CM__", "CAPMEM__", "_")):   # private
                tdoc = [re.sub(r"\s+", " ", t).strip() for t in trailing]
                h.constants.append((name + params, value, doc + ([""] if doc and tdoc else []) + tdoc))
            continue
        intro_done = True
        name = function_name(raw)
        if name:
            proto = prototype(raw)
            if doc or last_fn is None or blank:
                last_fn = ([name], [proto], doc, line)
                h.functions.append(last_fn)
            else:     # right after another declaration: shares its comment
                last_fn[0].append(name)
                last_fn[1].append(proto)
            continue
        last_fn = None
        code = raw.strip()
        if code.startswith("typedef"):
            h.types.append((code, doc))
    return h


def status_mentions(doc, statuses):
    """Statuses named in a comment, each with the explanations that follow
    its mentions ('(...)' or ': ...'). When the comment has an "Errors" list,
    mentions from there on come first, in order, and only they explain;
    statuses named only in the prose before it follow, unexplained."""
    text = " ".join(l.strip() for l in doc)
    names = sorted((s for s in statuses if s != "OK"), key=len, reverse=True)
    pat = re.compile(r"(?<![\w])(?:CM_ERR_)?(" + "|".join(names) + r")(?![\w])")
    marker = re.search(r"\bErrors\b", text)
    start = marker.start() if marker else 0
    found = {}
    order = []
    for region, explain in ((text[start:], True), (text[:start], False)):
        for m in pat.finditer(region):
            name = m.group(1)
            if name not in found:
                found[name] = []
                order.append(name)
            if explain:
                why = explanation(region[m.end():])
                if why and why not in found[name]:
                    found[name].append(why)
    return [(n, found[n]) for n in order]


def explanation(rest):
    r = re.match(r"\s*\(", rest)
    if r:
        d = 0
        for i, ch in enumerate(rest):
            if ch == "(":
                d += 1
            elif ch == ")":
                d -= 1
                if d == 0:
                    return re.sub(r"\s+", " ", rest[r.end():i]).strip()
        return None
    r = re.match(r":\s*(.+?)(?:[.;](?:\s|$)|$)", rest)
    return re.sub(r"\s+", " ", r.group(1)).strip() if r else None


def inherited(doc):
    """'Errors: as cm_x' / 'Errors: as for cm_x': the function whose list
    this one repeats."""
    text = " ".join(l.strip() for l in doc)
    m = re.search(r"Errors(?:[^.]{0,40}?):?\s+as\s+(?:for\s+)?(cm_\w+)", text)
    return m.group(1) if m else None


def wrap_proto(proto, width=78):
    """A long prototype broken after commas, continuation lines aligned
    after its opening parenthesis (as the headers write them)."""
    if len(proto) <= width or "(" not in proto:
        return [proto]
    indent = " " * (proto.index("(") + 1)
    lines, cur = [], ""
    for part in re.split(r"(?<=,) ", proto):
        cand = part if not cur else cur + " " + part
        if cur and len(cand) > width:
            lines.append(cur)
            cur = indent + part
        else:
            cur = cand
    lines.append(cur)
    return lines


def family_page(h, statuses, all_docs):
    page = "capmem_" + h.name
    out = [f'.TH {page.upper()} 3 "{DATE}" "capmem" "capmem manual"', ".nh", ".ad l"]
    summary = first_sentence(h.intro) or f"the <capmem/{h.name}.h> interface"
    out += [".SH NAME", f"{page} \\- {esc(summary)}"]
    out += [".SH SYNOPSIS", ".nf", f".B #include <capmem/{h.name}.h>", ".PP"]
    for names, protos, _, _ in h.functions:
        for p in protos:
            for l in wrap_proto(p):
                out.append(".BI \"" + l.replace("\\", "\\e").replace('"', '\\(dq') + "\"")
    out += [".fi"]
    if not h.functions:
        out += [".PP", "This header declares no functions."]
    out += [".SH DESCRIPTION"]
    out += text_block(h.intro) if h.intro else [".PP", f"<capmem/{h.name}.h>."]
    for names, protos, doc, _ in h.functions:
        out.append(".SS " + ", ".join(n + "()" for n in names))
        out += code_lines([l for p in protos for l in wrap_proto(p)])
        out += text_block(doc) if doc else [".PP", "(undocumented)"]
    if h.status_table:
        out += [".SH STATUS CODES", ".PP",
                "Every function returns a cm_status_t: CM_OK (0) or one of these (negative):"]
        for name, value, msg in h.status_table:
            sym = "CM_OK" if name == "OK" else "CM_ERR_" + name
            out += [".TP", f".B {sym}", f"{value}: {esc(msg)}"]
    if h.types:
        out += [".SH TYPES"]
        for code, doc in h.types:
            if doc:
                out += text_block(doc)
            out += code_lines(code.split("\n"))
    if h.constants:
        out += [".SH CONSTANTS"]
        for name, value, doc in h.constants:
            out += [".TP", ".B " + esc(name)]
            out.append(line_out(value) if value else "(defined)")
            if doc:
                out += [".IP"] + [line_out(l.strip()) if l.strip() else ".br" for l in doc]
    if h.functions:
        out += [".SH RETURN VALUE", ".PP",
                "Functions returning cm_status_t return CM_OK on success and a negative "
                "CM_ERR_* status on failure (capmem_status(3)); errno is never the error channel. "
                "The other functions return what their description says."]
        out += [".SH ERRORS", ".PP",
                "The statuses each function's header comment names, with the condition it gives; "
                "the description above has the full text and any order of precedence."]
        for names, protos, doc, _ in h.functions:
            out.append(".SS " + ", ".join(n + "()" for n in names))
            found = status_mentions(doc, statuses)
            base = inherited(doc)
            if base and base in all_docs:
                have = {n for n, _ in found}
                for n, whys in status_mentions(all_docs[base], statuses):
                    if n not in have:
                        found.append((n, [f"as for {base}()"] + whys))
            if not found:
                out += [".PP", "No status is named: see the description."]
            for n, whys in found:
                out += [".TP", ".B CM_ERR_" + n]
                out.append(line_out("; ".join(whys)) if whys else esc(statuses.get(n, "")))
    out += [".SH SEE ALSO", ".BR capmem (7),", ".BR capmem_status (3)"]
    return page, "\n".join(out) + "\n"


def first_sentence(lines):
    text = " ".join(l.strip() for l in lines if l.strip())
    m = re.match(r"(.+?[.:])(\s|$)", text)
    s = (m.group(1) if m else text).rstrip(".:")
    if len(s) > 100:
        s = s[:97].rsplit(" ", 1)[0] + "..."
    return s


# ---------------------------------------------------------------- markdown

def md_inline(text):
    out = []
    pos = 0
    for m in re.finditer(r"`([^`]+)`|\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*|\[([^\]]+)\]\(([^)]+)\)", text):
        out.append(esc(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append("\\fB" + esc(m.group(1)).replace("-", "\\-") + "\\fR")
        elif m.group(2) is not None:
            out.append("\\fB" + esc(m.group(2)) + "\\fR")
        elif m.group(3) is not None:
            out.append("\\fI" + esc(m.group(3)) + "\\fR")
        else:
            out.append(esc(m.group(4)) + " (" + esc(m.group(5)) + ")")
        pos = m.end()
    out.append(esc(text[pos:]))
    s = "".join(out)
    if s.startswith((".", "'")):
        s = "\\&" + s
    return s


def markdown_page(path, man3_pages):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    m = re.match(r"#\s+(\S+)\((\d)\)\s+-+\s+(.+)$", lines[0])
    if not m:
        raise SourceError(f"{path}:1: first line must be '# name(section) - summary'")
    name, sect, summary = m.groups()
    out = [f'.TH {name.upper()} {sect} "{DATE}" "capmem" "capmem manual"', ".nh", ".ad l",
           ".SH NAME", f"{esc(name)} \\- {md_inline(summary)}"]
    i = 1
    para = []

    def flush():
        if para:
            out.append(".PP")
            out.extend(md_inline(l.strip()) for l in para)
            para.clear()

    while i < len(lines):
        l = lines[i]
        ln = i + 1
        if l.startswith("```"):
            flush()
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            if j == len(lines):
                raise SourceError(f"{path}:{ln}: unterminated code block")
            out += code_lines(lines[i + 1:j])
            i = j + 1
            continue
        if l.strip() == "@MAN3_PAGES@":
            flush()
            for k, p in enumerate(man3_pages):
                out += [".BR " + p + " (3)" + ("," if k + 1 < len(man3_pages) else "")]
            i += 1
            continue
        h = re.match(r"(#{2,3})\s+(.+)$", l)
        if h:
            flush()
            out.append((".SH " if len(h.group(1)) == 2 else ".SS ") + md_inline(h.group(2).strip()))
            i += 1
            continue
        if l.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                    rows.append(cells)
                i += 1
            for cells in rows[1:]:        # the first row is the heading
                out += [".TP", md_inline(cells[0]), md_inline(" ".join(cells[1:]))]
            continue
        li = re.match(r"- (.*)$", l)
        if li:
            flush()
            item = [li.group(1)]
            i += 1
            while i < len(lines) and lines[i].startswith("  ") and lines[i].strip():
                item.append(lines[i].strip())
                i += 1
            t = re.match(r"`([^`]+)`\s*(.*)$", item[0])
            if t:
                out += [".TP", "\\fB" + esc(t.group(1)).replace("-", "\\-") + "\\fR"]
                rest = [t.group(2)] + item[1:]
                out.extend(md_inline(x) for x in rest if x)
            else:
                out += [".IP \\(bu 2"] + [md_inline(x) for x in item]
            continue
        if not l.strip():
            flush()
        else:
            para.append(l)
        i += 1
    flush()
    return name, sect, "\n".join(out) + "\n"


# ---------------------------------------------------------------- main

WRITTEN = set()


def write(path, text):
    WRITTEN.add(os.path.abspath(path))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    old = None
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            old = f.read()
    if old != text:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--include", default="include/capmem")
    ap.add_argument("--docs", default="docs/man")
    ap.add_argument("--out", default="build/man")
    a = ap.parse_args()
    try:
        headers = [parse_header(p) for p in sorted(glob.glob(os.path.join(a.include, "*.h")))]
        statuses = {}
        for h in headers:
            for name, _, msg in h.status_table:
                statuses[name] = msg
        if not statuses:
            raise SourceError(f"{a.include}: no CM_STATUS_TABLE found")
        all_docs = {}
        for h in headers:
            for names, _, doc, _ in h.functions:
                for n in names:
                    all_docs[n] = doc
        man3 = []
        for h in headers:
            if not (h.functions or h.constants or h.types or h.status_table):
                continue      # an umbrella header (capmem.h): includes only
            page, text = family_page(h, statuses, all_docs)
            write(os.path.join(a.out, "man3", page + ".3"), text)
            man3.append(page)
            for names, _, _, _ in h.functions:
                for n in names:
                    write(os.path.join(a.out, "man3", n + ".3"), f".so man3/{page}.3\n")
        for md in sorted(glob.glob(os.path.join(a.docs, "*.md"))):
            name, sect, text = markdown_page(md, man3)
            write(os.path.join(a.out, "man" + sect, f"{name}.{sect}"), text)
        # a page of a function or header that is gone must not linger
        for old in glob.glob(os.path.join(a.out, "man[0-9]", "*")):
            if os.path.abspath(old) not in WRITTEN:
                os.remove(old)
    except SourceError as e:
        print("gen-man: " + str(e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
