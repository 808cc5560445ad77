#!/usr/bin/env python3
"""Runs the axe-core accessibility audit on pages in headless Chromium.

Used by tests/tests/browser.rs. The pages' Content Security Policy allows no script, and
it stays so: axe is evaluated through the DevTools protocol (Runtime.evaluate, as a
developer's console would), which page policies do not govern. The protocol is spoken
over --remote-debugging-pipe (file descriptors 3 and 4, JSON messages ended by a NUL byte),
so nothing listens on a port and only the standard library is needed.

It also measures the laid-out page (LAYOUT below): nothing sticks out of the viewport
sideways (the document scrolls horizontally, or an element reaches past either edge, which
in a right-to-left page is the left one, where no scroll bar shows it), no element's content
is wider than its box, and no isolated run (`<bdi>`: a shop's or product's name, a number,
a date) inside a heading is broken across lines, where the bidi algorithm reorders each
line on its own and a right-to-left heading reads the halves of a Latin name apart.

usage: axe_audit.py CHROMIUM AXE_JS WIDTH URL...
prints one JSON object: {url: {"violations": [...], "layout": [...]}, ...}; each violation
has id, impact, help and the failing nodes; each layout problem is a sentence.
"""

import json
import os
import subprocess
import sys
import tempfile

AUDIT = """
axe.run(document, {
  runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
  resultTypes: ['violations']
}).then(r => JSON.stringify(r.violations.map(v => ({
  id: v.id, impact: v.impact, help: v.help,
  nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').replace(/\\s+/g, ' '))
}))))
"""

LAYOUT = """
(() => {
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.classList.length ? '.' + [...el.classList].join('.') : '') +
    ' "' + (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40) + '"';
  const root = document.documentElement;
  const vw = root.clientWidth;
  const out = [];
  // Inside a box that scrolls sideways (a wide table's), reaching past the viewport is
  // what the box is for: the box itself is checked.
  const scrolled = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement)
      if (getComputedStyle(p).overflowX !== 'visible') return true;
    return false;
  };
  if (root.scrollWidth > vw) out.push(`the page scrolls sideways: ${root.scrollWidth} px wide in ${vw}`);
  for (const el of document.body.querySelectorAll('*')) {
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden' || cs.opacity === '0') continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if ((r.left < -1 || r.right > vw + 1) && !scrolled(el))
      out.push(`${name(el)} reaches past the viewport: ${Math.round(r.left)}..${Math.round(r.right)} of 0..${vw}`);
    if (cs.display !== 'inline' && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1 && cs.overflowX === 'visible')
      out.push(`${name(el)} overflows its box: content ${el.scrollWidth} px in ${el.clientWidth}`);
  }
  for (const el of document.body.querySelectorAll('h1 bdi, h2 bdi, h1 .ltr, h2 .ltr')) {
    const lines = new Set([...el.getClientRects()].map(r => Math.round(r.top)));
    if (lines.size > 1) out.push(`${name(el)} in a heading is broken across ${lines.size} lines`);
  }
  return JSON.stringify(out);
})()
"""


class Browser:
    def __init__(self, chromium, profile):
        cmd_r, self.cmd_w = os.pipe()
        self.res_r, res_w = os.pipe()

        def child_fds():
            a, b = os.dup(cmd_r), os.dup(res_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            preexec_fn=child_fds,
            close_fds=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(cmd_r)
        os.close(res_w)
        self.next_id = 0
        self.buffer = b""
        self.events = []

    def _read(self):
        while b"\0" not in self.buffer:
            chunk = os.read(self.res_r, 65536)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self.buffer += chunk
        msg, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.cmd_w, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._read()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method, session):
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == method and e.get("sessionId") == session:
                    del self.events[i]
                    return e
            self.events.append(self._read())

    def close(self):
        try:
            self.call("Browser.close")
        except Exception:
            pass
        self.proc.wait(timeout=30)


def main():
    chromium, axe_path, width, urls = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    with open(axe_path, encoding="utf-8") as f:
        axe_source = f.read()
    results = {}
    with tempfile.TemporaryDirectory() as profile:
        b = Browser(chromium, profile)
        try:
            target = b.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            s = b.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            b.call("Page.enable", session=s)
            b.call(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
                session=s,
            )
            for url in urls:
                b.call("Page.navigate", {"url": url}, session=s)
                b.wait_event("Page.loadEventFired", s)
                r = b.call("Runtime.evaluate", {"expression": axe_source}, session=s)
                if "exceptionDetails" in r:
                    raise RuntimeError(f"axe did not load: {r['exceptionDetails']}")
                r = b.call(
                    "Runtime.evaluate",
                    {"expression": AUDIT, "awaitPromise": True, "returnByValue": True},
                    session=s,
                )
                if "exceptionDetails" in r:
                    raise RuntimeError(f"axe.run failed on {url}: {r['exceptionDetails']}")
                violations = json.loads(r["result"]["value"])
                r = b.call(
                    "Runtime.evaluate",
                    {"expression": LAYOUT, "returnByValue": True},
                    session=s,
                )
                if "exceptionDetails" in r:
                    raise RuntimeError(f"the layout check failed on {url}: {r['exceptionDetails']}")
                results[url] = {"violations": violations, "layout": json.loads(r["result"]["value"])}
        finally:
            b.close()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
