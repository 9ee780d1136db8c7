"""A tiny, hand-built data directory whose every number is known."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def utc(*moments: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(moments), utc=True))


def tiny_tables() -> dict[str, pd.DataFrame]:
    """Two markets; in DE three sessions in January (one converts) and two in February (both convert).

    FR has one session in January without purchase. Sellers: S1 (DE) active Jan-Jun, S2 (DE) active in Jan only,
    S3 (FR) signed up in March.
    """
    rows = [
        # (time, user, session, market, event)
        ("2025-01-05T10:00:00Z", "u1", "u1-1", "DE", "session_start"),
        ("2025-01-05T10:01:00Z", "u1", "u1-1", "DE", "view_item"),
        ("2025-01-05T10:02:00Z", "u1", "u1-1", "DE", "add_to_cart"),
        ("2025-01-05T10:03:00Z", "u1", "u1-1", "DE", "purchase"),
        ("2025-01-06T09:00:00Z", "u2", "u2-1", "DE", "session_start"),
        ("2025-01-20T09:00:00Z", "u2", "u2-2", "DE", "session_start"),
        ("2025-01-20T09:05:00Z", "u2", "u2-2", "DE", "add_to_cart"),
        ("2025-02-01T00:00:00Z", "u1", "u1-2", "DE", "session_start"),
        ("2025-02-01T00:10:00Z", "u1", "u1-2", "DE", "purchase"),
        ("2025-02-28T23:59:00Z", "u3", "u3-1", "DE", "session_start"),
        ("2025-02-28T23:59:30Z", "u3", "u3-1", "DE", "purchase"),
        ("2025-01-10T12:00:00Z", "u9", "u9-1", "FR", "session_start"),
    ]
    events = pd.DataFrame(rows, columns=["event_time", "user_id", "session_id", "market", "event_name"])
    events["event_time"] = pd.to_datetime(events.event_time, utc=True)
    events["device"] = "mobile"
    events["channel"] = "email"
    events["segment"] = "Impulse buyer"
    events["variant"] = pd.Series([None] * len(events), dtype="str")
    markets = pd.DataFrame(
        {
            "market": ["DE", "FR"],
            "name": ["Germany", "France"],
            "region": ["Europe", "Europe"],
            "currency": ["EUR", "EUR"],
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3"],
            "user_id": ["u1", "u1", "u3"],
            "seller_id": ["S1", "S1", "S2"],
            "market": ["DE", "DE", "DE"],
            "order_time": utc("2025-01-05T10:03:00Z", "2025-02-01T00:10:00Z", "2025-02-28T23:59:30Z"),
            "amount": [10.0, 20.5, 30.0],
            "currency": ["EUR", "EUR", "EUR"],
        }
    )
    sellers = pd.DataFrame(
        {
            "seller_id": ["S1", "S2", "S3"],
            "market": ["DE", "DE", "FR"],
            "signup_date": pd.to_datetime(["2024-06-01", "2024-12-01", "2025-03-01"]),
            "last_active_date": pd.to_datetime(["2025-06-30", "2025-01-31", "2025-06-30"]),
            "status": ["active", "churned", "active"],
        }
    )
    return {"events": events, "markets": markets, "orders": orders, "sellers": sellers}


def write_tables(folder: Path, tables: dict[str, pd.DataFrame]) -> Path:
    """Markets as CSV (like the demo data), every other table as parquet."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if name == "markets":
            frame.to_csv(folder / f"{name}.csv", index=False)
        else:
            frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder
