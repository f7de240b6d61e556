"""One duplicate-detection benchmark run in its own process (peak memory is its own).

``python -m bench.dedup_run --tool crmkit --size 100000`` prints one JSON line.
Tools: ``crmkit``, ``splink`` (DuckDB) and ``recordlinkage``; the last two
only in the ``bench`` dependency group.  Every tool gets the same rows with
canonical values (E.164 numbers, lower-case e-mail addresses); data loading
and the preparation of columns are not timed, blocking, scoring (including
training) and clustering are.
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import sys
import time
from pathlib import Path
from typing import Any, cast

import numpy as np

from bench.dedup_data import generate, split_names, true_pair_count

DATA_DIR = Path(__file__).parent / "data"
#: Probabilities at which each tool's pairs count as matches / reviews.
SPLINK_MATCH = 0.9
REVIEW = 0.5


def dataset(size: int, seed: int) -> dict[str, list[Any]]:
    """The generated columns (made on first use, then read from ``bench/data``)."""
    DATA_DIR.mkdir(exist_ok=True)
    path = DATA_DIR / f"dedup-{size}-{seed}.pickle"
    if path.exists():
        with path.open("rb") as fh:
            data: dict[str, list[Any]] = pickle.load(fh)
            return data
    data = generate(size, seed)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)
    return data


def peak_mb() -> float:
    """Peak resident memory of this process so far, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def evaluate(
    entity: np.ndarray[Any, Any],
    left: np.ndarray[Any, Any],
    right: np.ndarray[Any, Any],
    is_match: np.ndarray[Any, Any],
    true_pairs: int,
) -> dict[str, float]:
    """Precision, recall and F1 of the match pairs; size of the review queue."""
    tp = int((entity[left[is_match]] == entity[right[is_match]]).sum())
    found = int(is_match.sum())
    precision = tp / found if found else 0.0
    recall = tp / true_pairs if true_pairs else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "matches": found,
        "review": int((~is_match).sum()),
    }


def completeness(entity: np.ndarray[Any, Any], left: Any, right: Any, true_pairs: int) -> float:
    """Share of the true pairs among the candidate pairs."""
    return int((entity[left] == entity[right]).sum()) / true_pairs


# --------------------------------------------------------------------------- crmkit


def run_crmkit(data: dict[str, list[Any]]) -> dict[str, Any]:
    from crmkit.dedup import ContactTable, DedupConfig, find_duplicates
    from crmkit.dedup._blocking import candidate_pairs

    bases, forms = split_names(data["name"])
    columns: dict[str, Any] = {
        "ids": data["id"],
        "kinds": data["kind"],
        "first_names": data["first_name"],
        "last_names": data["last_name"],
        "names": data["name"],
        "base_names": bases,
        "legal_forms": forms,
        "emails": [(e,) if e else () for e in data["email"]],
        "phones": [(p,) if p else () for p in data["phone"]],
        "streets": data["street"],
        "postal_codes": data["postal_code"],
        "cities": data["city"],
        "vat_ids": data["vat_id"],
        "websites": data["website"],
    }
    t0 = time.perf_counter()
    table = ContactTable.from_columns(**columns)
    t_table = time.perf_counter() - t0
    report = find_duplicates(table, DedupConfig())
    wall = time.perf_counter() - t0
    peak = peak_mb()
    cols = report.columns()
    entity = np.asarray(data["entity"])
    true_pairs = true_pair_count(data["entity"])
    blocks = candidate_pairs(table, DedupConfig().caps)
    out: dict[str, Any] = {
        "candidates": report.candidates,
        "completeness": completeness(entity, blocks.left, blocks.right, true_pairs),
        **evaluate(entity, cols.left, cols.right, cols.match, true_pairs),
        "wall_s": wall,
        "table_s": t_table,
        "peak_mb": peak,
        "capped_keys": len(report.capped),
        "clusters": len(report.clusters),
    }
    return out


# --------------------------------------------------------------------------- shared keys


def reference_frame(data: dict[str, list[Any]]) -> Any:
    """A pandas frame with folded names and the blocking keys crmkit uses, capped alike.

    Values whose block is larger than crmkit's cap for that key are set to
    None, so the reference tools see the same candidate pairs as far as
    single-column rules can express them (company-name *tokens* reduce to
    the first token).
    """
    import pandas as pd

    from crmkit.dedup import DEFAULT_CAPS, FREE_MAIL_DOMAINS
    from crmkit.dedup._table import street_key
    from crmkit.normalize import fold, koelner_phonetik

    fcache: dict[str, str] = {}
    kcache: dict[str, str] = {}

    def f(v: str) -> str:
        if v not in fcache:
            fcache[v] = fold(v)
        return fcache[v]

    def k(v: str) -> str:
        if v not in kcache:
            kcache[v] = koelner_phonetik(v)
        return kcache[v]

    bases, _forms = split_names(data["name"])
    n = len(data["id"])
    df = pd.DataFrame({
        "unique_id": np.arange(n),
        "kind": data["kind"],
        "first_name_f": [f(v) or None for v in data["first_name"]],
        "last_name_f": [f(v) or None for v in data["last_name"]],
        "base_name_f": [f(v) or None for v in bases],
        "email": [e.lower() or None for e in data["email"]],
        "phone": [p or None for p in data["phone"]],
        "postal_code": [p or None for p in data["postal_code"]],
    })  # fmt: skip
    skeys = [street_key(s) if s else ("", "") for s in data["street"]]
    df["address_key"] = [
        f"{pc}|{s[0]}|{s[1]}" if pc and s[0] else None
        for pc, s in zip(data["postal_code"], skeys, strict=True)
    ]
    name_key: list[str | None] = []
    name_sw: list[str | None] = []
    comp_key: list[str | None] = []
    comp_tok: list[str | None] = []
    dom_key: list[str | None] = []
    for i in range(n):
        fn, ln = df.at[i, "first_name_f"] or "", df.at[i, "last_name_f"] or ""
        base = df.at[i, "base_name_f"] or ""
        email = df.at[i, "email"] or ""
        domain = email.rpartition("@")[2] if email else ""
        if domain in FREE_MAIL_DOMAINS:
            domain = ""
        if data["kind"][i] == "person":
            name_key.append(f"{k(ln)}|{fn[:1]}" if ln else None)
            name_sw.append(f"{k(fn)}|{ln[:1]}" if fn and ln else None)
            comp_key.append(None)
            comp_tok.append(None)
            dom_key.append(f"{domain}|{k(ln)}" if domain and ln else None)
        else:
            name_key.append(None)
            name_sw.append(None)
            comp_key.append(base.replace(" ", "") or None)
            toks = [t for t in base.split() if len(t) >= 3]
            comp_tok.append(toks[0] if toks else None)
            site = data["website"][i].split("www.")[-1].split("/")[0] if data["website"][i] else ""
            dom_key.append(domain or site or None)
    df["name_key"], df["name_key_sw"] = name_key, name_sw
    df["company_key"], df["company_tok"], df["domain_key"] = comp_key, comp_tok, dom_key
    key_kind = {"email": "email", "phone": "phone", "name_key": "name", "name_key_sw": "name",
                "company_key": "company_name", "company_tok": "company_name",
                "domain_key": "domain", "address_key": "address"}  # fmt: skip
    caps = {col: DEFAULT_CAPS[kind] for col, kind in key_kind.items()}
    for col, cap in caps.items():
        counts = df[col].map(df[col].value_counts())
        df.loc[counts > cap, col] = None
    return df


BLOCK_COLUMNS = ("email", "phone", "name_key", "company_key", "company_tok", "domain_key",
                 "address_key")  # fmt: skip


# --------------------------------------------------------------------------- splink


def run_splink(data: dict[str, list[Any]]) -> dict[str, Any]:
    import logging

    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    df = reference_frame(data)
    rules: list[Any] = [block_on("kind", c) for c in BLOCK_COLUMNS]
    rules.append("l.name_key = r.name_key_sw")
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("first_name_f", [0.9, 0.8]),
            cl.JaroWinklerAtThresholds("last_name_f", [0.9, 0.8]),
            cl.JaroWinklerAtThresholds("base_name_f", [0.93, 0.85]),
            cl.ExactMatch("email").configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
            cl.ExactMatch("address_key").configure(term_frequency_adjustments=True),
        ],
        blocking_rules_to_generate_predictions=rules,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )
    t0 = time.perf_counter()
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(df), settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("first_name_f", "last_name_f", "address_key")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name_f", "last_name_f")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("email"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("phone"))
    pred = linker.inference.predict(threshold_match_probability=REVIEW)
    linker.clustering.cluster_pairwise_predictions_at_threshold(pred, SPLINK_MATCH)
    result = cast(Any, pred).as_pandas_dataframe()
    wall = time.perf_counter() - t0
    peak = peak_mb()
    entity = np.asarray(data["entity"])
    true_pairs = true_pair_count(data["entity"])
    left = result["unique_id_l"].to_numpy()
    right = result["unique_id_r"].to_numpy()
    is_match = result["match_probability"].to_numpy() >= SPLINK_MATCH
    cand_l, cand_r = reference_candidates(df)
    return {
        "candidates": len(cand_l),
        "completeness": completeness(entity, cand_l, cand_r, true_pairs),
        **evaluate(entity, left, right, is_match, true_pairs),
        "wall_s": wall,
        "peak_mb": peak,
    }


def reference_candidates(df: Any) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The pairs the reference tools' blocking rules produce (not timed).

    Each rule is an equi-join on (kind, key column), plus last-name key =
    swapped key; computed with crmkit's block helper without a cap (the
    capped values are already None in the frame).
    """
    import pandas as pd

    from crmkit.dedup._blocking import block_pairs

    n = len(df)
    codes = []
    rows = np.arange(n, dtype=np.int64)
    for col in BLOCK_COLUMNS:
        key = (df["kind"] + "|" + df[col].astype("string")).fillna("")
        have = (df[col].notna()).to_numpy()
        k = pd.factorize(key[have])[0].astype(np.int64)
        lo, hi, _b, _s = block_pairs(rows[have], k, n + 1)
        codes.append(lo * n + hi)
    both = pd.concat([df["name_key"], df["name_key_sw"]], ignore_index=True)
    k = pd.factorize(both)[0].astype(np.int64)
    a, b = k[:n], k[n:]
    # pairs (i, j) with name_key[i] == name_key_sw[j]
    order = np.argsort(b, kind="stable")
    sb = b[order]
    ia = np.flatnonzero(a >= 0)
    left = np.searchsorted(sb, a[ia], "left")
    counts = np.searchsorted(sb, a[ia], "right") - left
    i = np.repeat(ia, counts)
    first = np.cumsum(counts) - counts
    j = order[np.repeat(left, counts) + np.arange(int(counts.sum())) - np.repeat(first, counts)]
    keep = i != j
    i, j = i[keep], j[keep]
    codes.append(np.minimum(i, j) * n + np.maximum(i, j))
    allc = np.unique(np.concatenate(codes))
    return allc // n, allc % n


# --------------------------------------------------------------------------- recordlinkage


def run_recordlinkage(data: dict[str, list[Any]]) -> dict[str, Any]:
    import recordlinkage as rl

    df = reference_frame(data).set_index("unique_id")
    t0 = time.perf_counter()
    indexer = rl.Index()
    for col in BLOCK_COLUMNS:
        indexer.block(left_on=["kind", col])
    indexer.add(rl.index.Block(left_on="name_key", right_on="name_key_sw"))
    candidates = indexer.index(df)
    compare = rl.Compare()
    compare.string("first_name_f", "first_name_f", method="jarowinkler", threshold=0.9,
                   label="first")  # fmt: skip
    compare.string("last_name_f", "last_name_f", method="jarowinkler", threshold=0.9,
                   label="last")  # fmt: skip
    compare.string("base_name_f", "base_name_f", method="jarowinkler", threshold=0.93,
                   label="base")  # fmt: skip
    compare.exact("email", "email", label="email")
    compare.exact("phone", "phone", label="phone")
    compare.exact("address_key", "address_key", label="address")
    features = compare.compute(candidates, df)
    ecm = rl.ECMClassifier(binarize=None)
    links = ecm.fit_predict(features)
    proba = ecm.prob(features)
    wall = time.perf_counter() - t0
    peak = peak_mb()
    entity = np.asarray(data["entity"])
    true_pairs = true_pair_count(data["entity"])
    left = features.index.get_level_values(0).to_numpy()
    right = features.index.get_level_values(1).to_numpy()
    in_links = np.zeros(len(features), dtype=bool)
    pos = features.index.get_indexer(links)
    in_links[pos[pos >= 0]] = True
    keep = in_links | (np.asarray(proba) >= REVIEW)
    return {
        "candidates": len(candidates),
        "completeness": completeness(entity, left, right, true_pairs),
        **evaluate(entity, left[keep], right[keep], in_links[keep], true_pairs),
        "wall_s": wall,
        "peak_mb": peak,
    }


TOOLS = {"crmkit": run_crmkit, "splink": run_splink, "recordlinkage": run_recordlinkage}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tool", choices=sorted(TOOLS), required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    data = dataset(args.size, args.seed)
    base_mb = peak_mb()
    result = TOOLS[args.tool](data)
    result.update({"tool": args.tool, "size": args.size, "data_mb": base_mb})
    print(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
