#!/usr/bin/env python3
"""Turn a terminal screen captured with `tmux capture-pane -p -e` (text with
ANSI SGR escapes) into an HTML page of the same cells, for a screenshot
(scripts/view-picture.sh renders it to PNG with headless Chromium)."""
import html
import re
import sys

BASE = ["#1e1e1e", "#cd3131", "#0dbc79", "#c5a600", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5"]
BRIGHT = ["#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff"]
FG, BG = "#d4d4d4", "#1e1e1e"


def color256(n):
    if n < 8:
        return BASE[n]
    if n < 16:
        return BRIGHT[n - 8]
    if n < 232:
        n -= 16
        v = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (v[n // 36], v[n // 6 % 6], v[n % 6])
    g = 8 + (n - 232) * 10
    return "#%02x%02x%02x" % (g, g, g)


def main():
    text = sys.stdin.read()
    st = {"fg": None, "bg": None, "b": False, "d": False, "u": False, "r": False}
    out = []
    for line in text.rstrip("\n").split("\n"):
        pos = 0
        for m in re.finditer(r"\x1b\[([0-9;]*)m|([^\x1b]+)", line):
            if m.group(2) is not None:
                fg, bg = st["fg"] or FG, st["bg"] or BG
                if st["r"]:
                    fg, bg = bg, fg
                css = "color:%s;background:%s" % (fg, bg)
                if st["b"]:
                    css += ";font-weight:bold"
                if st["d"]:
                    css += ";opacity:0.6"
                if st["u"]:
                    css += ";text-decoration:underline"
                out.append('<span style="%s">%s</span>' % (css, html.escape(m.group(2))))
                continue
            ps = [int(p) if p else 0 for p in m.group(1).split(";")]
            i = 0
            while i < len(ps):
                p = ps[i]
                if p == 0:
                    st = {"fg": None, "bg": None, "b": False, "d": False, "u": False, "r": False}
                elif p == 1:
                    st["b"] = True
                elif p == 2:
                    st["d"] = True
                elif p == 4:
                    st["u"] = True
                elif p == 7:
                    st["r"] = True
                elif p == 22:
                    st["b"] = st["d"] = False
                elif p == 24:
                    st["u"] = False
                elif p == 27:
                    st["r"] = False
                elif 30 <= p <= 37:
                    st["fg"] = BASE[p - 30]
                elif 90 <= p <= 97:
                    st["fg"] = BRIGHT[p - 90]
                elif 40 <= p <= 47:
                    st["bg"] = BASE[p - 40]
                elif 100 <= p <= 107:
                    st["bg"] = BRIGHT[p - 100]
                elif p == 39:
                    st["fg"] = None
                elif p == 49:
                    st["bg"] = None
                elif p in (38, 48) and i + 2 < len(ps) and ps[i + 1] == 5:
                    st["fg" if p == 38 else "bg"] = color256(ps[i + 2])
                    i += 2
                i += 1
        out.append("\n")
    print('<!doctype html><meta charset="utf-8"><body style="margin:0;background:%s">'
          '<pre style="margin:0;padding:8px;font:14px/1.2 \'DejaVu Sans Mono\',monospace;color:%s">%s</pre>'
          % (BG, FG, "".join(out)))


main()
