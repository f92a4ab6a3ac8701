"""Run a provincial checker over a national 监测对象信息 file and over fangpin's export of it; print the difference.

    .venv/bin/python scripts/provincial_checker_compare.py CHECKER_DIR SOURCE.xlsx EXPORT.xlsx

CHECKER_DIR is a local checkout of a checker laid out like the public Gzuwkj/fuping (``rules/*.py`` each with
``process(record)`` raising ``error.Error(no=…)``; ``model.py`` with ``Area``, ``Family``, ``Person``,
``DictRecord``). Nothing of the checker is copied into fangpin: this script only loads it. Each file is
checked in its own process (the checker's rules keep module-level state). It reads the files the checker's
way (pandas, header on row 3, every cell text) and prints the findings (rule, last six characters of the
ID) in one file and not the other, and the rules that crash on one file only. Exit 1 when they differ.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections import Counter


def _findings(checker: str, path: str) -> dict:
    sys.path.insert(0, checker)
    os.chdir(checker)
    import pandas as pd

    error = importlib.import_module("error")
    model = importlib.import_module("model")
    rows = pd.read_excel(path, header=2, dtype=str, keep_default_na=False).to_dict(orient="records")
    area, records = model.Area(), []
    for row in rows:
        row = model.DictRecord(row)
        where = [row.get("县"), row.get("乡"), row.get("村")]
        family = area.get([*where, row.get("户编号")])
        if family is None:
            family = model.Family(row.get("户编号"))
            area.append(where, family)
        person = model.Person(row.get("证件号码"), objectInfo=row)
        person.family = family
        family.append(person)
        records.append(person)
    found, crashes = set(), Counter()
    for name in sorted(os.listdir("rules")):
        if not name.endswith(".py"):
            continue
        try:
            rule = importlib.import_module("rules." + name[:-3])
        except Exception as exc:  # noqa: BLE001 - a rule that cannot load is reported, not fatal
            crashes[f"{name} {type(exc).__name__}"] += 1
            continue
        for r in records:
            try:
                rule.process(r)
            except error.Error as e:
                found.add(f"{e.no} {str(r.idCard)[-6:]}")
            except Exception as exc:  # noqa: BLE001 - the checker's own crash on this file
                crashes[f"{name} {type(exc).__name__}"] += 1
    return {"found": sorted(found), "crashes": sorted(crashes)}


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(_findings(os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3]))))
        return 0
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    checker, source, export = (os.path.abspath(a) for a in sys.argv[1:])
    res = []
    for path in (source, export):
        out = subprocess.run(
            [sys.executable, __file__, "--one", checker, path], capture_output=True, text=True, check=True
        )
        res.append(json.loads(out.stdout.strip().splitlines()[-1]))
    (a, b) = res
    only_a = sorted(set(a["found"]) - set(b["found"]))
    only_b = sorted(set(b["found"]) - set(a["found"]))
    crash_a = sorted(set(a["crashes"]) - set(b["crashes"]))
    crash_b = sorted(set(b["crashes"]) - set(a["crashes"]))
    print(f"findings: source {len(a['found'])}, export {len(b['found'])}")
    print(f"only in source: {only_a}\nonly in export: {only_b}")
    print(f"crashes only on source: {crash_a}\ncrashes only on export: {crash_b}")
    print(f"crashes on both: {sorted(set(a['crashes']) & set(b['crashes']))}")
    return 1 if (only_a or only_b or crash_a or crash_b) else 0


if __name__ == "__main__":
    sys.exit(main())
