"""Benchmark: probabilistic linkage of department records with missing/mistyped IDs against the registry,
through the product's Splink model (fangpin.screening.linkage.link_records, DuckDB backend).

usage: python bench/linkage.py [--dept 100000] [--registry 1000000]
Data as perf/d_splink.py (Zipf surnames, 1-2 character given names, 300 villages, valid IDs), department file =
80 % registry persons + 20 % people outside the registry, with planted noise: 30 % ID missing, 20 % ID mistyped
(one digit changed or two adjacent swapped), 3 % one name character replaced, 2 % a homophone character,
1 % birth date shifted 1-3 days, 5 % another village. Prints time, peak RSS (this process) and precision /
recall / recall on mistyped IDs at the review and accept thresholds of policy/data/defaults.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SUR = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIV = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文云飞鹏辉波宇浩凯俊鑫斌梅琴丹凤春海燕志林"
)


def peak_sampler():
    proc, peak = psutil.Process(), [0]

    def run():
        while True:
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.1)

    threading.Thread(target=run, daemon=True).start()
    return peak


def make(n_a: int, n_b: int, rng):
    from fangpin.screening.testing.depts import HOMOPHONES

    nonreg = int(n_a * 0.2)
    n_all = n_b + nonreg
    ps = 1 / np.arange(1, len(SUR) + 1) ** 0.9
    ps /= ps.sum()
    name = np.char.add(np.char.add(rng.choice(SUR, n_all, p=ps), rng.choice(GIV, n_all)),
                       np.where(rng.random(n_all) < 0.7, rng.choice(GIV, n_all), ""))  # fmt: skip
    dob = (np.datetime64("1930-01-01") + rng.integers(0, 33000, n_all)).astype("datetime64[D]")
    sex = rng.integers(0, 2, n_all)
    village = np.char.add("V", rng.integers(0, 300, n_all).astype(str))
    dobs = pd.Series(dob).dt.strftime("%Y%m%d").to_numpy().astype(str)
    region = np.char.add("41050", rng.integers(0, 10, n_all).astype(str))
    seq = rng.integers(0, 500, n_all)
    body = [f"{a}{b}{(c * 2 + s) % 1000:03d}" for a, b, c, s in zip(region, dobs, seq, sex, strict=True)]
    w = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
    digits = np.frombuffer("".join(body).encode(), dtype=np.uint8).reshape(n_all, 17) - 48
    idc = np.char.add(np.array(body), np.array(list("10X98765432"))[(digits * w).sum(1) % 11])
    allp = pd.DataFrame({"unique_id": np.arange(n_all), "name": name, "birth_date": pd.Series(dob).dt.strftime("%Y-%m-%d"),
                         "sex": np.where(sex == 1, "M", "F"), "village": village, "id_number": idc})  # fmt: skip
    pick = np.concatenate([rng.choice(n_b, n_a - nonreg, replace=False), np.arange(n_b, n_all)])
    a = allp.iloc[pick].copy().reset_index(drop=True)
    a["true_id"] = np.where(a["unique_id"] < n_b, a["unique_id"], -1)
    a["unique_id"] = np.arange(n_a) + 10**9
    b = allp.iloc[:n_b].copy()
    u = rng.random(n_a)
    missing, mistyped = u < 0.30, (u >= 0.30) & (u < 0.50)

    def mistype(s):
        s, k = list(s), int(rng.integers(0, 17))
        if rng.random() < 0.5:
            s[k] = str((int(s[k]) + int(rng.integers(1, 10))) % 10)
        else:
            s[k], s[k + 1] = s[k + 1], s[k]
        return "".join(s)

    orig = a["id_number"].copy()
    a.loc[mistyped, "id_number"] = [mistype(s) for s in a.loc[mistyped, "id_number"]]
    mistyped &= a["id_number"].to_numpy() != orig.to_numpy()
    a.loc[missing, "id_number"] = None
    m = rng.random(n_a) < 0.03
    a.loc[m, "name"] = [s[:-1] + str(rng.choice(GIV)) for s in a.loc[m, "name"]]
    m = rng.random(n_a) < 0.02
    a.loc[m, "name"] = ["".join(HOMOPHONES.get(c, c) for c in s) for s in a.loc[m, "name"]]
    m = rng.random(n_a) < 0.01
    a.loc[m, "birth_date"] = (
        pd.to_datetime(a.loc[m, "birth_date"]) + pd.to_timedelta(rng.integers(1, 4, m.sum()), "D")
    ).dt.strftime("%Y-%m-%d")
    m = rng.random(n_a) < 0.05
    a.loc[m, "village"] = np.char.add("V", rng.integers(0, 300, m.sum()).astype(str))
    return a, b, mistyped


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dept", type=int, default=100_000)
    ap.add_argument("--registry", type=int, default=1_000_000)
    args = ap.parse_args()
    peak = peak_sampler()
    rng = np.random.default_rng(20261123)
    t = time.perf_counter()
    a, b, mistyped = make(args.dept, args.registry, rng)
    t_gen = time.perf_counter() - t

    from splink.backends.duckdb import DuckDBAPI

    from fangpin.screening.linkage import link_records
    from fangpin.screening.sources.parse import name_pinyin

    params = json.loads((ROOT / "fangpin/policy/data/defaults.json").read_text(encoding="utf-8"))[
        "parameters"
    ]
    pv = {p["key"]: p["value"] for p in params if p["key"].startswith("screening.linkage.")}
    review, accept = pv["screening.linkage.review_probability"], pv["screening.linkage.accept_probability"]
    rss_before = psutil.Process().memory_info().rss
    t = time.perf_counter()
    names = pd.unique(pd.concat([a["name"], b["name"]]))
    py = dict(zip(names, map(name_pinyin, names), strict=True))
    for df in (a, b):
        df["name_pinyin"] = df["name"].map(py)
    t_pinyin = time.perf_counter() - t
    t = time.perf_counter()
    res = link_records(DuckDBAPI(), a.drop(columns=["true_id"]), b, min_probability=min(review, 0.5))
    t_link = time.perf_counter() - t
    got = a[["unique_id", "true_id"]].merge(res.links, left_on="unique_id", right_on="uid_a", how="left")
    has = got["true_id"] >= 0
    print(f"LINKAGE dept={args.dept:,} registry={args.registry:,} pairs_scored={res.pairs_scored:,} "
          f"gen_s={t_gen:.1f} pinyin_s={t_pinyin:.1f} splink_s={t_link:.1f} ({res.timings}) "
          f"linkage_total_s={t_pinyin + t_link:.1f} peak_rss_gb={peak[0] / 2**30:.2f} "
          f"(data before linkage {rss_before / 2**30:.2f})")  # fmt: skip
    print(f"  product thresholds: review >= {review}, accept >= {accept}")
    for thr in sorted({0.5, 0.9, review, accept}):
        linked = got["match_probability"] >= thr
        ok = linked & (got["person_id"] == got["true_id"])
        prec = ok.sum() / max(linked.sum(), 1)
        rec = ok.sum() / has.sum()
        rec_mis = (ok & mistyped & has).sum() / max((mistyped & has).sum(), 1)
        rec_missing = (ok & a["id_number"].isna() & has).sum() / max((a["id_number"].isna() & has).sum(), 1)
        print(f"  threshold {thr}: linked={linked.sum():,} precision={prec:.4f} recall={rec:.4f} "
              f"recall_mistyped_id={rec_mis:.4f} recall_missing_id={rec_missing:.4f} "
              f"false_links_of_outsiders={(linked & ~has).sum()}/{(~has).sum()}")  # fmt: skip


if __name__ == "__main__":
    main()
