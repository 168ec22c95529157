"""How long a hostile Painless script runs before the sandbox stops it, per kind of expensive operation.

Run: PYTHONPATH=src python bench/painless_budget.py
Each script repeats one operation on big strings or collections until a limit stops it; the table shows
the CPU time the run took (thread CPU, so other load on the machine barely matters) and which limit
ended it. With the default limits every row should end in well under a second, most near 100 ms: that
is what ``painless/cost.py``'s weights are calibrated for. The last rows are typical scripts, for scale.
"""

from __future__ import annotations

import random
import time
from typing import Any

from mlgate.painless import ScriptError, compile_script

BIG = "String s = 'ab'; for (int i = 0; i < 21; i++) { s = s + s; } "  # 4 Mi characters
BIG_LIST = "def l = []; for (int i = 0; i < 50000; i++) { l.add(i) } "
LOOP = "int n = 0; while (true) { "

HOSTILE = {
    "issue 11: concat, then replace in a loop": BIG
    + 'int n = 0; for (int i = 0; i < 3000; i++) { n += s.replace("a", "cc").length(); } return n;',
    "concat s + s (a fresh copy each time)": BIG + LOOP + "String t = s + 'x'; }",
    "indexOf of a missing needle": BIG + LOOP + "n += s.indexOf('zz'); }",
    "contains": BIG + LOOP + "if (s.contains('zz')) { n++ } }",
    "equals of two equal big strings": BIG
    + "String t = ('x' + s).substring(1); "
    + LOOP
    + "if (s == t) { n++ } }",
    "substring of most of it": BIG + LOOP + "n += s.substring(1).length(); }",
    "toUpperCase": BIG + LOOP + "n += s.toUpperCase().length(); }",
    "hashCode": BIG + LOOP + "n += s.hashCode(); }",
    "compareTo of equal strings": BIG
    + "String t = ('x' + s).substring(1); "
    + LOOP
    + "n += s.compareTo(t); }",
    "split into 2 characters each": "String s = 'a,'.repeat(400000); " + LOOP + "n += s.split(',').length; }",
    "String.join of a big list": BIG_LIST
    + "def t = []; for (x in l) { t.add('abcdefgh') } "
    + LOOP
    + "n += String.join(',', t).length(); }",
    "escape()": BIG + LOOP + "n += escape(s).length(); }",
    "non-ASCII charAt": "String s = 'é'.repeat(1000000); " + LOOP + "n += s.charAt(5).length(); }",
    "StringBuilder: append then toString": "def b = new StringBuilder(); "
    + LOOP
    + "b.append('abcdefghij'); n += b.toString().length(); }",
    "toString of a list of ints": BIG_LIST + LOOP + "n += l.toString().length(); }",
    "toString of a list of doubles": "def l = []; for (int i = 0; i < 50000; i++) { l.add(0.5 + i) } "
    + LOOP
    + "n += l.toString().length(); }",
    "toString of a shared nested list (a DAG)": "def l = ['abcdefgh']; for (int i = 0; i < 40; i++) { l = [l, l] } "
    "return l.toString().length()",
    "new ArrayList(copy)": BIG_LIST + LOOP + "n += new ArrayList(l).size(); }",
    "addAll doubling": "def l = [1, 2]; while (true) { l.addAll(l) }",
    "list indexOf a missing value": BIG_LIST + LOOP + "n += l.indexOf(-1); }",
    "list remove(0) / add(0, x)": BIG_LIST + LOOP + "l.add(0, l.remove(0)); }",
    "list equals": BIG_LIST + "def m = new ArrayList(l); " + LOOP + "if (l.equals(m)) { n++ } }",
    "HashMap keySet (hash order)": "def m = new HashMap(); for (int i = 0; i < 50000; i++) { m.put('k' + i, i) } "
    + LOOP
    + "n += m.keySet().size(); }",
    "BigDecimal toPlainString / intValue": "def d = new BigDecimal('1e9000000'); "
    + LOOP
    + "n += d.intValue(); n += d.toPlainString().length(); }",
    "an empty loop (steps only)": "while (true) {}",
    "Double.toString in a loop (steps only)": LOOP + "n += Double.toString(n * 0.1).length(); }",
}


def run(label: str, source: str, params: dict[str, Any]) -> None:
    script = compile_script(source)
    started = time.thread_time()
    try:
        result = script.execute(params)
        outcome = f"returned {str(result)[:40]}"
    except ScriptError as error:
        outcome = error.message[:70]
    print(f"{label:<44} {(time.thread_time() - started) * 1000:8.1f} ms  {outcome}")


def main() -> None:
    compile_script("return 1")  # builds the shared parser
    print(f"{'operation':<44} {'CPU':>11}  outcome")
    for label, source in HOSTILE.items():
        run(label, source, {})
    rng = random.Random(7)
    floats = [[rng.uniform(-1, 1) for _ in range(1024)] for _ in range(16)]
    cohere = (
        "def r = params.embeddings.float; def out = new StringBuilder('['); for (int m = 0; m < r.length; m++) {"
        " def e = new StringBuilder('['); for (int i = 0; i < r[m].length; i++) {"
        " e.append(r[m][i].floatValue()); if (i < r[m].length - 1) { e.append(',') } }"
        " out.append(e.toString()).append(']') } return out.append(']').toString()"
    )
    run("typical: 16 x 1,024 floats through StringBuilders", cohere, {"embeddings": {"float": floats}})
    flat = [x for row in floats for x in row]
    run("big: 96 x 1,024 floats to text", "return params.v.toString().length()", {"v": flat * 6})
    run("too big: 96 x 4,096 floats to text", "return params.v.toString().length()", {"v": flat * 24})


if __name__ == "__main__":
    main()
