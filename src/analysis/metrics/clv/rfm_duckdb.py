"""DuckDB's fast path for :func:`~analysis.metrics.clv.rfm.rfm_summary`: one hash aggregation by customer.

The portable summary groups twice, by (customer, period) and then by customer; at ten million orders the first
group-by holds nearly ten million groups and dominates. Here one group-by per customer carries only fixed-size
aggregates: the first and last period, the number of purchases, the total, the amount of one purchase in the first
period, and the set of purchase periods as bitmasks (one unsigned 64-bit word per 64 periods before the observation
end, OR-ed together, so their bit count is the number of distinct periods). Two facts do not fit in such a state
for every customer: the distinct periods of a customer whose history is longer than the bitmasks, and the spend of a
first period with several purchases. The number of purchases in the first period is read from a
double-precision sum of 256 to the power of each purchase's periods before the end (the first period is the leading
base-256 digit; exact with fewer than 128 purchases). Customers beyond the bitmasks, and those whose first period
holds several purchases, and only those, are summed again exactly by a second, filtered aggregation that joins back
on the customer; everyone else's first-period spend is the one first-period amount. Both run in one DuckDB query.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

# Periods before the observation end covered by the bitmasks; longer histories take the exact second aggregation.
MASK_WORDS = 2
BITS_PER_WORD = 64


def _bit_count(word: ir.IntegerValue) -> ir.IntegerValue:
    count = ibis.udf.scalar.builtin(lambda value: None, name="bit_count", signature=((dt.uint64,), dt.int64))
    return count(word)


def _arg_min(value: ir.Column, key: ir.Column) -> ir.Scalar:
    # DuckDB's own arg_min keeps one (value, key) pair per group; Ibis' argmin compiles to FIRST(... ORDER BY ...),
    # an ordered aggregate that sorts every group.
    function = ibis.udf.agg.builtin(
        lambda value, key: None, name="arg_min", signature=((value.type(), key.type()), value.type())
    )
    return function(value, key)


def customer_periods(
    kept: ir.Table,
    customer: str,
    time: str,
    amount: str | None,
    by: Sequence[str],
    end_number: int,
) -> ir.Table:
    """Per customer: first and last period number, distinct purchase periods, and with amounts their sums.

    Parameters
    ----------
    kept
        The purchases up to the observation end's period, on DuckDB, with a ``period_start`` column holding each
        purchase's whole-period number (:func:`~analysis.metrics.clv.rfm.period_number`).
    customer, time, amount, by
        As in :func:`~analysis.metrics.clv.rfm.rfm_summary`.
    end_number
        The observation end's period number (no purchase in ``kept`` has a larger one).

    Returns
    -------
    ibis.expr.types.Table
        One row per customer, sorted by customer, with the columns the portable summary builds:

        - ``customer``;
        - ``first_period``, ``last_period``: the first and last purchase period numbers, int64;
        - ``periods``: the number of distinct purchase periods, int64;
        - ``total_value`` and ``first_value`` (with ``amount``): the sum of every purchase and of those of the first
          period;
        - the ``by`` columns: their values on the customer's earliest purchase.
    """
    back = (ibis.literal(end_number, type="int64") - kept.period_start).cast("int64")  # periods before the end
    one = ibis.literal(1, type="uint64")
    masks = {
        f"mask_{word}": (one << (back % BITS_PER_WORD).cast("uint64")).bit_or(
            where=(back >= word * BITS_PER_WORD) & (back < (word + 1) * BITS_PER_WORD)
        )
        for word in range(MASK_WORDS)
    }
    aggregates = {"first_period": kept.period_start.min(), "last_period": kept.period_start.max()}
    aggregates |= {"purchases": kept.period_start.count(), **masks}
    if amount:
        aggregates |= {"total_value": kept[amount].sum(), "one_first_value": _arg_min(kept[amount], kept.period_start)}
        # Purchases per period in base-256 digits of a double, the first period's the leading one: see first_count.
        aggregates["weighted_count"] = (ibis.literal(2.0) ** (8 * back.clip(upper=MASK_WORDS * BITS_PER_WORD))).sum()
    aggregates |= {name: _arg_min(kept[name], kept[time]) for name in by}
    single = kept.group_by(customer).aggregate(**aggregates)
    single = single.mutate(masked=sum((_bit_count(single[name].fill_null(0)) for name in masks), ibis.literal(0)))

    oldest_masked = end_number - MASK_WORDS * BITS_PER_WORD + 1  # the oldest period the bitmasks hold
    beyond_masks = single.first_period < oldest_masked
    if amount:
        # first_count: with fewer than 128 purchases, later periods add less than half a leading digit.
        leading = ibis.literal(2.0) ** (8 * (end_number - single.first_period))
        first_count = (single.weighted_count / leading).floor()
        several_first = (single.purchases >= 128) | (first_count >= 2)
        needs_exact = beyond_masks | ((single.purchases > single.masked) & several_first)
    else:
        needs_exact = beyond_masks
    flagged = single.filter(needs_exact).select(
        customer, flagged_first=single.first_period, flagged_beyond=beyond_masks
    )

    joined = kept.inner_join(flagged, customer)
    exact = {"exact_periods": joined.period_start.nunique(where=joined.flagged_beyond)}
    if amount:
        exact["exact_first_value"] = joined[amount].sum(where=joined.period_start == joined.flagged_first)
    exact_rows = joined.group_by(customer).aggregate(**exact)

    whole = single.left_join(exact_rows, customer)
    columns = {
        customer: whole[customer],
        "first_period": whole.first_period,
        "last_period": whole.last_period,
        "periods": ibis.ifelse(whole.first_period < oldest_masked, whole.exact_periods, whole.masked).cast("int64"),
    }
    if amount:
        columns |= {
            "total_value": whole.total_value,
            "first_value": ibis.coalesce(whole.exact_first_value, whole.one_first_value),
        }
    columns |= {name: whole[name] for name in by}
    return whole.select(**columns).order_by(customer)
