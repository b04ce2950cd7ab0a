#!/usr/bin/env python3
"""The man pages match the headers (TAP; docs/man.md).

Regenerates the pages (scripts/gen-man.py) into a temporary directory and
checks them against the headers, reading the headers independently of the
generator: the functions come from the compiler (gcc -aux-info lists every
function each header declares, with its line), their comments and the
statuses those name from the header text around that line.

  - every function of include/capmem/*.h is in the SYNOPSIS of exactly one
    man3 page, the one of its header (capmem_<header>(3)), and has an alias
    page cm_<name>(3) that points there;
  - every function has a comment in its header (an undocumented function
    fails here, by name);
  - each status a function's comment names is listed under that function
    in the rendered page's ERRORS;
  - every page renders with groff -man -ww -z and man -l without a warning;
  - capmem(1) names every command and option `capmem --help` prints;
    capmem(7) lists every man3 page.

Then it checks that these checks can fail (negative controls, on copies):
a header gaining an undocumented function, a page losing a status or a
prototype, a page with a roff error; and that a documented new function is
picked up with no edit to the generator.

Usage: check_man.py [--cli PATH]   (run from the top of the tree)
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

GEN = "scripts/gen-man.py"
results = []


def tap(ok, name, diag=None):
    results.append((ok, name, diag or []))


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def generate(include_dir, docs_dir, out):
    r = run([sys.executable, GEN, "--include", include_dir, "--docs", docs_dir, "--out", out])
    return r.returncode == 0, (r.stdout + r.stderr).strip().splitlines()


def declared_functions(include_dir):
    """{name: (header basename, line)} of every function the headers
    declare, from gcc -aux-info on one unit including all of them."""
    root = os.path.dirname(os.path.abspath(include_dir))
    hs = sorted(glob.glob(os.path.join(include_dir, "*.h")))
    by_path = {os.path.realpath(h): os.path.basename(h)[:-2] for h in hs}
    fns = {}
    with tempfile.TemporaryDirectory() as tmp:
        unit = os.path.join(tmp, "all.c")
        with open(unit, "w") as f:
            f.writelines(f'#include "{os.path.abspath(h)}"\n' for h in hs)
        aux = os.path.join(tmp, "all.aux")
        r = run(["gcc", "-std=gnu11", "-D_GNU_SOURCE", "-I" + root, "-fsyntax-only",
                 "-aux-info", aux, unit])
        if r.returncode != 0:
            return {}, [f"the headers do not compile: {r.stderr.strip()[:600]}"]
        with open(aux) as f:
            for line in f:
                m = re.match(r"/\* (\S+):(\d+):\S+ \*/ .*?\b(\w+) \(", line)
                if m and os.path.realpath(m.group(1)) in by_path:
                    fns[m.group(3)] = (by_path[os.path.realpath(m.group(1))], int(m.group(2)))
    return fns, []


def status_names(include_dir):
    with open(os.path.join(include_dir, "status.h")) as f:
        return [n for n in re.findall(r"X\(\s*(\w+)\s*,", f.read()) if n != "OK"]


def comment_before(lines, lineno):
    """The comment that documents the declaration at 1-based `lineno`: the
    nearest comment ending right above it, across the lines of declarations
    grouped with it (no blank line, no preprocessor line between). None if
    there is none."""
    i = lineno - 2
    while i >= 0:
        s = lines[i].rstrip()
        if not s.strip() or s.lstrip().startswith("#"):
            return None
        if s.endswith("*/"):
            end = i
            while i >= 0 and "/*" not in lines[i]:
                i -= 1
            return "\n".join(lines[i:end + 1]) if i >= 0 else None
        i -= 1
    return None


def sections(text):
    """Rendered man text -> {SECTION: [lines]}."""
    out = {}
    cur = None
    for l in text.split("\n"):
        if re.match(r"^[A-Z][A-Z ]+$", l):
            cur = l.strip()
            out[cur] = []
        elif cur:
            out[cur].append(l)
    return out


def render(path):
    env = dict(os.environ, MANWIDTH="100", MANPAGER="cat", PAGER="cat", LC_ALL="C.UTF-8")
    r = run(["man", "-l", path], env=env)
    return r.returncode, r.stdout, r.stderr


def errors_of(rendered, fn):
    """Lines of the ERRORS subsection whose heading names fn()."""
    sec = sections(rendered).get("ERRORS", [])
    out = None
    for l in sec:
        if re.match(r"^ {3}\S", l):
            names = re.findall(r"(\w+)\(\)", l)
            if out is not None:
                break
            if fn in names:
                out = []
            continue
        if out is not None:
            out.append(l)
    return out


CHECKS = ["gen", "decls", "onepage", "documented", "render", "errors", "cli", "limits"]
CONTRACTS = "docs/contracts.md"


def check(include_dir, docs_dir, out, cli, keys=CHECKS, only=None):
    """Runs the checks named in `keys` on a tree; returns {key: (ok, name,
    diagnostics)}. only: limit rendering and ERRORS to these page names
    (the controls, which change one page)."""
    res = {}

    def t(key, ok, name, diag=None):
        res[key] = (ok, name, diag or [])

    ok, diag = generate(include_dir, docs_dir, out)
    t("gen", ok, "generator runs on every header", diag)
    if not ok:
        return res
    fns, cerr = declared_functions(include_dir)
    t("decls", not cerr and len(fns) > 0,
      "the headers compile and gcc lists the functions they declare", cerr)
    statuses = status_names(include_dir)

    man3 = os.path.join(out, "man3")
    family = {}
    for p in sorted(glob.glob(os.path.join(man3, "*.3"))):
        with open(p) as f:
            src = f.read()
        if not src.startswith(".so "):
            family[os.path.basename(p)[:-2]] = src

    def synopsis_names(src):
        m = re.search(r"^\.SH SYNOPSIS\n(.*?)^\.SH ", src, re.S | re.M)
        return re.findall(r"\b(\w+)\(", m.group(1)) if m else []

    if "onepage" in keys:
        syn = {page: synopsis_names(src) for page, src in family.items()}
        bad = []
        for fn, (hdr, _) in sorted(fns.items()):
            pages = [p for p, names in syn.items() if fn in names]
            if pages != ["capmem_" + hdr]:
                bad.append(f"{fn} ({hdr}.h) is in {pages or 'no page'}, expected ['capmem_{hdr}']")
            alias = os.path.join(man3, fn + ".3")
            if not os.path.exists(alias) or open(alias).read().strip() != f".so man3/capmem_{hdr}.3":
                bad.append(f"{fn}: alias page {fn}.3 missing or not pointing at capmem_{hdr}.3")
        extra = sorted({n for names in syn.values() for n in names if n.startswith("cm_")} - set(fns))
        bad += [f"{n} is in a SYNOPSIS but declared by no header" for n in extra]
        t("onepage", not bad,
          f"each of the {len(fns)} functions is in exactly one man3 page, its header's", bad)

    headers = {}
    for h in glob.glob(os.path.join(include_dir, "*.h")):
        with open(h) as f:
            headers[os.path.basename(h)[:-2]] = f.read().split("\n")
    undoc = []
    docs = {}
    for fn, (hdr, line) in sorted(fns.items()):
        c = comment_before(headers[hdr], line)
        if c is None:
            undoc.append(f"{fn} ({hdr}.h:{line}) has no comment: document it in the header")
        else:
            docs[fn] = c
    for page, src in family.items():
        if "(undocumented)" in src:
            undoc.append(f"{page}.3 says (undocumented)")
    if "documented" in keys:
        t("documented", not undoc,
          "every function has its comment in the header and a description in its page", undoc)

    rendered = {}

    def rendered_page(rel):
        if rel not in rendered:
            p = os.path.join(out, rel)
            rendered[rel] = render(p)[1] if os.path.exists(p) else None
        return rendered[rel]

    if "render" in keys:
        bad = []
        pages = [p for p in glob.glob(os.path.join(out, "man[0-9]", "*.[0-9]"))
                 if not open(p).read().startswith(".so ")
                 and (only is None or os.path.basename(p) in only)]
        for p in sorted(pages):
            r = run(["groff", "-man", "-ww", "-z", p])
            if r.returncode != 0 or r.stderr.strip():
                bad.append(f"groff -man -ww -z {os.path.basename(p)}: rc {r.returncode}: {r.stderr.strip()[:400]}")
            rc, text, err = render(p)
            if rc != 0 or err.strip() or not text.strip():
                bad.append(f"man -l {os.path.basename(p)}: rc {rc}: {err.strip()[:400]}")
            rendered[os.path.relpath(p, out)] = text
        t("render", not bad and len(pages) > 0,
          f"all {len(pages)} pages render with groff -man -ww and man -l without a warning", bad)

    if "errors" in keys:
        bad = []
        for fn, c in sorted(docs.items()):
            hdr = fns[fn][0]
            if only is not None and f"capmem_{hdr}.3" not in only:
                continue
            named = sorted({m for m in re.findall(r"\b(?:CM_ERR_)?([A-Z_]+)\b", c) if m in statuses})
            errs = errors_of(rendered_page(f"man3/capmem_{hdr}.3") or "", fn)
            if errs is None:
                if named:
                    bad.append(f"{fn}: no ERRORS entry in capmem_{hdr}(3)")
                continue
            listed = set(re.findall(r"\bCM_ERR_([A-Z_]+)\b", "\n".join(errs)))
            missing = [s for s in named if s not in listed]
            if missing:
                bad.append(f"{fn}: its comment names {', '.join(missing)}, missing from ERRORS of capmem_{hdr}(3)")
        t("errors", not bad, "the ERRORS of each function list every status its header comment names", bad)

    if "cli" in keys:
        bad = []
        man1 = rendered_page("man1/capmem.1")
        if man1 is None:
            bad.append("no man1/capmem.1")
        elif not cli or not os.access(cli, os.X_OK):
            bad.append(f"the CLI {cli} is not built: cannot compare capmem(1) with its --help")
        else:
            r = run([cli, "--help"])
            helptext = r.stdout + r.stderr
            words = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", helptext))
            cmds = set(re.findall(r"^\s*(?:usage:)?\s*capmem ([a-z][a-z-]*)", helptext, re.M))
            plain = man1.replace("\u2010", "-").replace("\u2212", "-")
            bad += [f"capmem --help prints {w}, capmem(1) does not document it"
                    for w in sorted(words) if w not in plain]
            bad += [f"capmem --help shows the command '{c}', capmem(1) has no section for it"
                    for c in sorted(cmds) if not re.search(r"^ {3}" + re.escape(c) + r"\b", plain, re.M)]
            if not words or not cmds:
                bad.append("capmem --help printed no option or no command: cannot compare")
        man7 = rendered_page("man7/capmem.7")
        if man7 is None:
            bad.append("no man7/capmem.7")
        else:
            bad += [f"capmem(7) does not list {p}(3)" for p in sorted(family) if p + "(3)" not in man7]
        t("cli", not bad,
          "capmem(1) covers every command and option of capmem --help; capmem(7) lists every man3 page", bad)
    if "limits" in keys:
        bad = []
        with open(os.path.join(include_dir, "limits.h")) as f:
            limits = re.findall(r"^#define\s+(CM_\w+)\s+(.*?)\s*(?:/\*.*)?$", f.read(), re.M)
        with open(CONTRACTS) as f:
            doc = f.read()
        for name, value in limits:
            row = re.search(r"^\| `" + re.escape(name) + r"` \| `([^`]*)` \|", doc, re.M)
            if row is None:
                bad.append(f"{name} (limits.h) has no row in {CONTRACTS}, 'Limits'")
            elif row.group(1) != value:
                bad.append(f"{name} is {value} in limits.h but {row.group(1)} in {CONTRACTS}")
        t("limits", not bad and len(limits) > 0,
          f"each of the {len(limits)} limits of limits.h is described in {CONTRACTS} with its value", bad)
    return res


def copy_tree(tmp):
    inc = os.path.join(tmp, "include")
    shutil.copytree("include", inc)
    return os.path.join(inc, "capmem")


def add_function(include_dir, header, text):
    """Inserts text after the first function declaration of a header copy
    (not before #endif: that may close an extern "C" block)."""
    path = os.path.join(include_dir, header)
    fns, _ = declared_functions(include_dir)
    line = min(l for (h, l) in fns.values() if h == header[:-2])
    with open(path) as f:
        lines = f.read().split("\n")
    i = line - 1
    while not lines[i].rstrip().endswith(";"):
        i += 1
    lines[i + 1:i + 1] = ["", text, ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def edit_page(out, page, fn):
    path = os.path.join(out, "man3", page)
    with open(path) as f:
        src = f.read()
    with open(path, "w") as f:
        f.write(fn(src))


def drop_status(src):
    """Removes CM_ERR_BAD_STATE from cm_vmo_seal()'s ERRORS entry."""
    head, errs = src.split(".SH ERRORS\n", 1)
    at = errs.index(".SS cm_vmo_seal()\n")
    new = re.sub(r"\.TP\n\.B CM_ERR_BAD_STATE\n.*\n", "", errs[at:], count=1)
    assert new != errs[at:], "control: cm_vmo_seal() lists no BAD_STATE to drop"
    return head + ".SH ERRORS\n" + errs[:at] + new


def control(name, res, expect):
    """expect: {key: ok wanted}; the control passes when every named check
    came out as wanted."""
    got = {k: res.get(k, (None, "", []))[0] for k in expect}
    ok = all(got[k] is v for k, v in expect.items())
    diag = [f"{k}: {'passes' if got[k] else 'fails' if got[k] is False else 'did not run'}"
            f" (wanted: {'pass' if v else 'fail'})" for k, v in expect.items()]
    tap(ok, "control: " + name, diag)


def controls(cli):
    with tempfile.TemporaryDirectory() as tmp:
        inc = copy_tree(os.path.join(tmp, "a"))
        add_function(inc, "vmo.h", "cm_status_t cm_selftest_undocumented(cm_handle_t vmo);")
        res = check(inc, "docs/man", os.path.join(tmp, "a/man"), cli, ["onepage", "documented"])
        control("a header gaining an undocumented function fails the check (and is found)",
                res, {"gen": True, "onepage": True, "documented": False})

        inc = copy_tree(os.path.join(tmp, "b"))
        add_function(inc, "vmo.h", "/* Selftest only. Errors: BAD_HANDLE; PROTOCOL (never). */\n"
                                   "cm_status_t cm_selftest_documented(cm_handle_t vmo);")
        out = os.path.join(tmp, "b/man")
        res = check(inc, "docs/man", out, cli, ["onepage", "documented", "errors"],
                    only=["capmem_vmo.3"])
        page = open(os.path.join(out, "man3/capmem_vmo.3")).read()
        res["picked"] = ("cm_selftest_documented" in page and "CM_ERR_PROTOCOL" in page, "", [])
        control("a documented new function is picked up with no edit to the generator",
                res, {"gen": True, "onepage": True, "documented": True, "errors": True,
                      "picked": True})

        inc = copy_tree(os.path.join(tmp, "d"))
        with open(os.path.join(inc, "limits.h")) as f:
            src = f.read()
        src = src.replace("#define CM_MAX_HANDLES 512u", "#define CM_MAX_HANDLES 1024u")
        src = src.replace("#define CM_PAGE_SIZE", "#define CM_SELFTEST_MAX_THINGS 7u\n#define CM_PAGE_SIZE")
        with open(os.path.join(inc, "limits.h"), "w") as f:
            f.write(src)
        res = check(inc, "docs/man", os.path.join(tmp, "d/man"), cli, ["limits"], only=[])
        diag = res.get("limits", (None, "", []))[2]
        res["both"] = (any("CM_SELFTEST_MAX_THINGS" in d for d in diag) and
                       any("CM_MAX_HANDLES" in d for d in diag), "", [])
        control("a limit added or changed in limits.h but not in docs/contracts.md fails the check",
                res, {"limits": False, "both": True})

        base = os.path.join(tmp, "c/man")
        generate("include/capmem", "docs/man", base)
        for name, page, edit, key in [
            ("a page losing a status of a function's ERRORS", "capmem_vmo.3", drop_status, "errors"),
            ("a page losing a prototype from its SYNOPSIS", "capmem_vmo.3",
             lambda s: re.sub(r"^\.BI .*cm_vmo_map\(.*\n", "", s, count=1, flags=re.M), "onepage"),
            ("a page with a roff error", "capmem_handle.3",
             lambda s: s.replace(".SH DESCRIPTION", ".SH DESCRIPTION\n.nosuchrequest\n\\f[", 1),
             "render"),
        ]:
            edited = os.path.join(tmp, "c/" + key)
            shutil.copytree(base, edited)
            edit_page(edited, page, edit)
            res = check_pages_only(edited, cli, [key], [page])
            control(name + " fails the check", res, {key: False})


def check_pages_only(out, cli, keys, only):
    """check() on the pages in `out` as they are: the generator is replaced
    by a copy of them."""
    with tempfile.TemporaryDirectory() as tmp:
        global GEN
        fake = os.path.join(tmp, "gen.py")
        with open(fake, "w") as f:
            f.write("import shutil, sys\n"
                    "o = sys.argv[sys.argv.index('--out') + 1]\n"
                    f"shutil.rmtree(o, ignore_errors=True); shutil.copytree({out!r}, o)\n")
        saved, GEN = GEN, fake
        try:
            return check("include/capmem", "docs/man", os.path.join(tmp, "out"), cli, keys, only)
        finally:
            GEN = saved


def readme_example():
    """The README's C example compiles against the tree and runs."""
    with open("README.md") as f:
        m = re.search(r"^```c\n(.*?)^```$", f.read(), re.S | re.M)
    if not m:
        tap(False, "README.md has a C example", ["no ```c block"])
        return
    lib = "build/host/libcapmem.a"
    if not os.path.exists(lib):
        tap(False, "the README's example compiles and runs", [f"{lib} not built"])
        return
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = os.path.join(tmp, "example.c"), os.path.join(tmp, "example")
        with open(src, "w") as f:
            f.write(m.group(1))
        r = run(["gcc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-Iinclude", src, lib,
                 "-lcrypto", "-luring", "-lpthread", "-o", exe])
        diag = r.stderr.strip().splitlines()
        ok = r.returncode == 0
        if ok:
            try:
                r = run([exe], timeout=60)
                ok = r.returncode == 0 and "immutable bytes: hello" in r.stdout
                diag = [f"exit {r.returncode}", *r.stdout.splitlines(), *r.stderr.splitlines()]
            except subprocess.TimeoutExpired:
                ok, diag = False, ["the example did not finish within 60 s"]
    tap(ok, "the README's example compiles with -Wall -Wextra -Werror and runs: the consumer gets the sealed VMO", diag)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default="build/host/capmem")
    ap.add_argument("--no-controls", action="store_true")
    a = ap.parse_args()
    for tool in ("gcc", "groff", "man"):
        if shutil.which(tool) is None:
            print(f"1..0 # SKIP {tool} not installed (scripts/install-deps.sh installs it)")
            return 0
    with tempfile.TemporaryDirectory() as tmp:
        res = check("include/capmem", "docs/man", os.path.join(tmp, "man"), a.cli)
    for key in CHECKS:
        if key in res:
            tap(*res[key])
        else:
            tap(False, f"check '{key}' did not run (the generator failed)")
    readme_example()
    if not a.no_controls:
        controls(a.cli)
    print(f"1..{len(results)}")
    for i, (ok, name, diag) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}")
        if not ok:
            for d in diag[:40]:
                print(f"#   {d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
