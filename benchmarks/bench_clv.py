"""Speed of the CLV helpers: rfm_summary against a scan of the columns it reads, and the BG/NBD fit on many customers.

Usage::

    .venv/bin/python benchmarks/bench_clv.py                                  # 10M orders, 1M customers to fit
    .venv/bin/python benchmarks/bench_clv.py --orders 1000000 --customers 100000 --runs 3
    .venv/bin/python benchmarks/bench_clv.py --runs 3 --no-fit                # rfm_summary against the scan only

Synthetic orders (``--orders`` rows over ``--orders / 10`` buyers, two years, UTC) are written once to
``data/bench/`` (git-ignored) as Parquet. Each run times, on a fresh DuckDB connection over that file, the scan (one
aggregation that decodes every value of the three columns the summary reads: the byte length of every ``user_id``,
the latest ``order_time``, the sum of ``amount``; ``count`` or ``min``/``max`` would be answered from Parquet
statistics, see ``bench_experiment.py``) and ``rfm_summary`` (weekly, with amounts, per-customer frame in pandas).
Scan and summary take turns; figures are medians of ``--runs`` runs, the ratio is taken against the scan of the same
run. The target is a summary within 3x the scan. ``customer_floor`` is the engine's floor for any per-customer
summary: the orders grouped by customer and counted, with no other aggregate; no summary can be faster than it.

The BG/NBD fit runs on ``--customers`` customers simulated from the BG/NBD process with known parameters, first
purchases spread uniformly over a year, in continuous time: recency and T in fractional weeks, so hardly two
customers share a row and the fit sees a million distinct rows (the target is under 5 s); the table shows that the
estimates recover the truth. The same customers measured in whole weeks (recency floored, as ``rfm_summary(period=
"W")`` measures it) are fitted too, to show the bias that flooring brings (the model assumes exact times).
"""

from __future__ import annotations

import argparse
import statistics
import time

import ibis
import numpy as np
import pandas as pd

from analysis.config import DATA_DIR

BENCH_DIR = DATA_DIR / "bench"
TRUTH = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
OBSERVATION_END = "2025-12-31"


def orders_file(orders: int):
    """Synthetic orders (cached): buyers with a geometric number of orders at uniform times over 2024-2025."""
    target = BENCH_DIR / f"clv_orders_{orders}.parquet"
    if target.exists():
        return target
    started = time.perf_counter()
    generator = np.random.default_rng(7)
    buyers = max(orders // 10, 1)
    user = generator.integers(0, buyers, size=orders)
    seconds = generator.integers(0, 2 * 365 * 86_400, size=orders)
    frame = pd.DataFrame(
        {
            "user_id": pd.Series([f"u{n:08d}" for n in range(buyers)]).to_numpy()[user],
            "order_time": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(seconds, unit="s"),
            "amount": generator.gamma(2.0, 20.0, size=orders).round(2),
        }
    )
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(target, index=False)
    print(f"wrote {orders:,} orders in {time.perf_counter() - started:.0f} s -> {target}", flush=True)
    return target


@ibis.udf.scalar.builtin
def strlen(value: str) -> int:  # DuckDB's byte length; the benchmark runs on DuckDB
    """Byte length of a string."""


def scan(table) -> float:
    """Decode every value of the columns rfm_summary reads, in one aggregation."""
    started = time.perf_counter()
    table.aggregate(
        user_id=strlen(table.user_id).sum(), order_time=table.order_time.max(), amount=table.amount.sum()
    ).execute()
    return time.perf_counter() - started


def customer_floor(table) -> float:
    """The engine's floor for any per-customer summary: group the orders by customer and count, nothing else."""
    started = time.perf_counter()
    customers = table.group_by("user_id").aggregate(orders=table.count())
    customers.aggregate(orders=customers.orders.sum()).execute()
    return time.perf_counter() - started


def summary(table) -> float:
    """The weekly RFM summary with amounts, per-customer frame included."""
    from analysis.metrics.clv import rfm_summary

    started = time.perf_counter()
    rfm_summary(table, amount="amount", observation_end=OBSERVATION_END, period="W")
    return time.perf_counter() - started


def simulate_bg_nbd(customers: int, seed: int = 11) -> pd.DataFrame:
    """(x, t_x, T) of customers from the BG/NBD process with TRUTH, in continuous weeks after a first purchase."""
    generator = np.random.default_rng(seed)
    rate = generator.gamma(TRUTH["r"], 1 / TRUTH["alpha"], size=customers)
    dropout = generator.beta(TRUTH["a"], TRUTH["b"], size=customers)
    age = generator.uniform(0, 52, size=customers)  # first purchase at any moment of the last 52 weeks
    x, last, now = np.zeros(customers), np.zeros(customers), np.zeros(customers)
    active = np.ones(customers, dtype=bool)
    while active.any():
        now[active] += generator.exponential(1.0, size=active.sum()) / rate[active]
        bought = active & (now <= age)
        x[bought] += 1
        last[bought] = now[bought]
        active = bought & (generator.random(customers) >= dropout)
    return pd.DataFrame({"frequency": x, "recency": last, "T": age})


def in_whole_weeks(customers: pd.DataFrame) -> pd.DataFrame:
    """The same customers as whole-period summaries see them: T and recency floored to whole weeks."""
    age = np.floor(customers["T"])
    return customers.assign(recency=np.minimum(np.floor(customers.recency), age), T=age)


def main() -> None:
    """Time scan and summary, then the BG/NBD fit; print a small table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-fit", action="store_true", help="time rfm_summary against the scan only")
    options = parser.parse_args()
    from analysis.metrics.clv import fit_bg_nbd
    from analysis.sources import connect

    path = orders_file(options.orders)
    timings: dict[str, list[float]] = {"scan": [], "customer_floor": [], "rfm_summary": []}
    for _ in range(options.runs):
        for name, task in (("scan", scan), ("customer_floor", customer_floor), ("rfm_summary", summary)):
            timings[name].append(task(connect().read_parquet(path)))
    medians = {name: statistics.median(values) for name, values in timings.items()}
    print(f"{options.orders:,} orders, median of {options.runs} runs")
    for name, seconds in medians.items():
        print(f"  {name:20s} {seconds:7.2f} s   {seconds / medians['scan']:5.2f} x scan")
    ratios = {
        name: statistics.median(s / c for s, c in zip(timings[name], timings["scan"], strict=True))
        for name in ("customer_floor", "rfm_summary")
    }
    verdict = "within" if ratios["rfm_summary"] <= 3 else "NOT within"
    print(
        f"rfm_summary {verdict} 3x the scan (median per-run ratio {ratios['rfm_summary']:.2f}; "
        f"the group-by by customer alone: {ratios['customer_floor']:.2f})"
    )
    if options.no_fit:
        return

    customers = simulate_bg_nbd(options.customers)
    fits, seconds = {}, {}
    for name, frame in (("continuous", customers), ("whole weeks", in_whole_weeks(customers))):
        runs = []
        for _ in range(options.runs):
            started = time.perf_counter()
            fits[name] = fit_bg_nbd(frame.frequency, frame.recency, frame["T"])
            runs.append(time.perf_counter() - started)
        seconds[name] = statistics.median(runs)
        distinct = len(frame.drop_duplicates(["frequency", "recency", "T"]))
        print(
            f"\nBG/NBD fit on {options.customers:,} simulated customers in {name} ({distinct:,} distinct rows): "
            f"{seconds[name]:.2f} s, median of {options.runs} (target < 5 s)"
        )
    print(f"  {'param':6s} {'truth':>8s} {'continuous':>11s} {'(se)':>8s} {'whole weeks':>12s} {'(se)':>8s}")
    for name, truth in TRUTH.items():
        exact, floored = fits["continuous"], fits["whole weeks"]
        print(
            f"  {name:6s} {truth:8.3f} {exact.params[name]:11.3f} {exact.se[name]:8.3f} "
            f"{floored.params[name]:12.3f} {floored.se[name]:8.3f}"
        )


if __name__ == "__main__":
    main()
