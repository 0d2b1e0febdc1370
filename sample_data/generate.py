#!/usr/bin/env python3
"""Generate the `shop` sample data set (see SAMPLE_DATA in the docs) as Parquet files.

    python sample_data/generate.py --scale 1 --out sample_data/shop

Seeded and deterministic: the same scale gives byte-identical files on every run with the same
DuckDB version. Shape, so that questions and reports have something true to find:

- weekly rhythm (weekends busier online, Saturdays busiest in store);
- a November-December peak;
- about 15 % year-over-year growth (2025 vs 2024);
- a mobile outage in the week of 2025-06-09 .. 2025-06-15 (mobile orders collapse);
- one product (`RETURN_SPIKE_PRODUCT`) whose returns spike during September 2025;
- every customer signs up before their first order;
- three products launch in 2026, so they were never ordered.

Only the standard library and duckdb are used, so it runs from a plain install.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime as dt
import math
import random
import tempfile
from pathlib import Path

SEED = 20240101
START = dt.date(2024, 1, 1)
END = dt.date(2025, 12, 31)
OUTAGE = (dt.date(2025, 6, 9), dt.date(2025, 6, 15))
RETURN_SPIKE = (dt.date(2025, 9, 1), dt.date(2025, 9, 30))
RETURN_SPIKE_PRODUCT = 7  # product_id; see products() — a pair of wireless earbuds

REGIONS: dict[str, list[str]] = {
    "North America": ["United States", "Canada", "Mexico"],
    "Europe": ["Germany", "France", "United Kingdom", "Spain", "Italy", "Netherlands"],
    "Asia Pacific": ["Japan", "Australia", "Singapore", "India", "China"],
    "Latin America": ["Brazil", "Argentina", "Chile", "Colombia"],
}
REGION_WEIGHTS = {"North America": 0.38, "Europe": 0.30, "Asia Pacific": 0.22, "Latin America": 0.10}
SEGMENTS = [("Consumer", 0.62), ("Corporate", 0.23), ("Small Business", 0.15)]
CHANNELS = [("web", 0.50), ("mobile", 0.30), ("store", 0.20)]
WEEKEND_CHANNELS = [("web", 0.45), ("mobile", 0.28), ("store", 0.27)]  # shops are busier
CAMPAIGNS = ["brand", "search", "social"]

FIRST = [
    "Ava",
    "Liam",
    "Olivia",
    "Noah",
    "Emma",
    "Oliver",
    "Sophia",
    "Elijah",
    "Mia",
    "Lucas",
    "Amelia",
    "Mateo",
    "Harper",
    "Leo",
    "Evelyn",
    "Ethan",
    "Luna",
    "Hiro",
    "Yuki",
    "Wei",
    "Mei",
    "Arjun",
    "Priya",
    "Carlos",
    "Sofia",
    "Diego",
    "Valentina",
    "Lukas",
    "Hannah",
    "Pierre",
    "Chloe",
    "Marco",
    "Giulia",
    "Lars",
    "Ingrid",
    "Kenji",
    "Aiko",
    "Rahul",
    "Ananya",
    "Tomas",
    "Lucia",
    "Felipe",
    "Camila",
    "Jonas",
    "Clara",
    "Omar",
    "Layla",
    "Samuel",
    "Grace",
]
LAST = [
    "Smith",
    "Johnson",
    "Garcia",
    "Martinez",
    "Brown",
    "Miller",
    "Davis",
    "Lopez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Martin",
    "Lee",
    "Chen",
    "Wang",
    "Zhang",
    "Liu",
    "Tanaka",
    "Sato",
    "Suzuki",
    "Kumar",
    "Sharma",
    "Patel",
    "Silva",
    "Santos",
    "Rossi",
    "Bianchi",
    "Muller",
    "Schmidt",
    "Schneider",
    "Dubois",
    "Moreau",
    "Lefevre",
    "Novak",
    "Jansen",
    "Visser",
    "Fernandez",
    "Gonzalez",
    "Rodriguez",
    "Perez",
    "Sanchez",
    "Ramirez",
    "Torres",
    "Nguyen",
    "Kim",
    "Park",
    "Singh",
    "Cohen",
]

# category -> subcategory -> (price range, margin range, name stems)
CATALOG: dict[str, dict[str, tuple[tuple[float, float], tuple[float, float], list[str]]]] = {
    "Electronics": {
        "Audio": ((29, 249), (0.55, 0.75), ["Wireless Earbuds", "Headphones", "Speaker", "Soundbar"]),
        "Computers": ((399, 1899), (0.70, 0.85), ["Laptop", "Monitor", "Tablet", "Desktop"]),
        "Accessories": ((9, 89), (0.35, 0.55), ["Charger", "Cable", "Mouse", "Keyboard", "Webcam"]),
        "Cameras": ((149, 1299), (0.65, 0.80), ["Action Camera", "Mirrorless Camera", "Lens"]),
    },
    "Home": {
        "Kitchen": ((15, 349), (0.45, 0.65), ["Blender", "Coffee Maker", "Knife Set", "Pan"]),
        "Furniture": ((79, 899), (0.50, 0.70), ["Desk Chair", "Bookshelf", "Side Table", "Lamp"]),
        "Decor": ((12, 129), (0.35, 0.55), ["Vase", "Throw Pillow", "Wall Art", "Candle Set"]),
    },
    "Clothing": {
        "Men": ((19, 189), (0.30, 0.50), ["Jacket", "Shirt", "Jeans", "Sweater"]),
        "Women": ((19, 229), (0.30, 0.50), ["Dress", "Blouse", "Coat", "Skirt"]),
        "Footwear": ((39, 179), (0.40, 0.60), ["Sneakers", "Boots", "Sandals"]),
    },
    "Sports": {
        "Fitness": ((15, 699), (0.45, 0.65), ["Yoga Mat", "Dumbbells", "Treadmill", "Kettlebell"]),
        "Outdoor": ((25, 449), (0.45, 0.65), ["Tent", "Backpack", "Sleeping Bag", "Hiking Poles"]),
        "Cycling": ((19, 1499), (0.55, 0.75), ["Bike Helmet", "Road Bike", "Bike Light"]),
    },
    "Books": {
        "Fiction": ((8, 29), (0.40, 0.60), ["Novel", "Thriller", "Fantasy Saga"]),
        "Non-fiction": ((10, 45), (0.40, 0.60), ["Biography", "History", "Science Guide"]),
        "Children": ((6, 24), (0.40, 0.60), ["Picture Book", "Story Collection"]),
    },
}
CATEGORY_WEIGHT = {"Electronics": 0.26, "Home": 0.22, "Clothing": 0.24, "Sports": 0.14, "Books": 0.14}
ADJECTIVES = ["Classic", "Pro", "Lite", "Max", "Eco", "Urban", "Prime", "Nova", "Aero", "Zen"]


def _weighted(rng: random.Random, pairs: list[tuple[str, float]]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def products(rng: random.Random, scale: float) -> list[dict]:
    """About 120 products at scale 1 (more at higher scales), spread over all subcategories."""
    target = max(40, round(120 * math.sqrt(scale)))
    subcats = [(c, s) for c, subs in CATALOG.items() for s in subs]
    rows: list[dict] = []
    pid = 0
    while len(rows) < target:
        for cat, sub in subcats:
            if len(rows) >= target:
                break
            (lo, hi), (mlo, mhi), stems = CATALOG[cat][sub]
            pid += 1
            stem = stems[(pid // len(subcats)) % len(stems)]
            name = f"{ADJECTIVES[pid % len(ADJECTIVES)]} {stem} {100 + pid}"
            price = round(math.exp(rng.uniform(math.log(lo), math.log(hi))), 2)
            price = math.floor(price) + 0.99 if price > 5 else price
            cost = round(price * rng.uniform(mlo, mhi), 2)
            # most of the range is on sale from the start; some launch during the two years
            launched = START - dt.timedelta(days=rng.randint(30, 900))
            if rng.random() < 0.2:
                launched = START + dt.timedelta(days=rng.randint(30, 650))
            rows.append(
                {
                    "product_id": pid,
                    "product_name": name,
                    "category": cat,
                    "subcategory": sub,
                    "unit_price": f"{price:.2f}",
                    "unit_cost": f"{cost:.2f}",
                    "launched_on": launched,
                }
            )
    # three products are announced for 2026: in the catalog, never ordered yet
    for offset, prod in enumerate(rows[-3:]):
        prod["launched_on"] = dt.date(2026, 1, 15) + dt.timedelta(days=14 * offset)
    # the returns-spike product must be a long-running, popular product
    spike = rows[RETURN_SPIKE_PRODUCT - 1]
    spike.update(
        category="Electronics",
        subcategory="Audio",
        launched_on=dt.date(2023, 3, 1),
        product_name="Nova Wireless Earbuds 107",
        unit_price="79.99",
        unit_cost="31.20",
    )
    return rows


def customers(rng: random.Random, scale: float) -> list[dict]:
    """About 2,000 customers at scale 1; signups accelerate over time (the business grows)."""
    n = round(2000 * scale)
    span = (END - dt.date(2023, 1, 1)).days
    rows = []
    for cid in range(1, n + 1):
        region = _weighted(rng, list(REGION_WEIGHTS.items()))
        country = rng.choice(REGIONS[region])
        first, last = rng.choice(FIRST), rng.choice(LAST)
        # 40 % signed up before the data starts; the rest spread with growth (sqrt skew)
        if rng.random() < 0.4:
            signup = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 364))
        else:
            signup = dt.date(2023, 1, 1) + dt.timedelta(days=int(span * math.sqrt(rng.random())))
        rows.append(
            {
                "customer_id": cid,
                "customer_name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}{cid}@example.com",
                "country": country,
                "region": region,
                "segment": _weighted(rng, SEGMENTS),
                "signup_date": signup,
            }
        )
    return rows


def daily_orders(day: dt.date, scale: float) -> float:
    """Expected number of orders on a day: growth x season x weekday."""
    years = (day - START).days / 365.0
    growth = 1.15**years
    season = 1.0 + 0.55 * math.exp(-(((day.timetuple().tm_yday - 340) / 22.0) ** 2))
    season += 0.25 if day.month == 11 and day.day >= 20 else 0.0  # Black Friday to Cyber Monday
    season -= 0.10 if day.month in (1, 2) else 0.0
    weekday = [0.92, 0.90, 0.93, 0.97, 1.05, 1.20, 1.13][day.weekday()]
    return 68.0 * scale * growth * season * weekday


def orders_and_items(
    rng: random.Random, scale: float, custs: list[dict], prods: list[dict]
) -> tuple[list[dict], list[dict]]:
    """About 60,000 orders and 150,000 order items at scale 1."""
    by_signup = sorted(custs, key=lambda c: (c["signup_date"], c["customer_id"]))
    signup_days = [c["signup_date"] for c in by_signup]
    cat_names = list(CATEGORY_WEIGHT)
    by_cat = {c: [p for p in prods if p["category"] == c] for c in cat_names}
    # a few best sellers per category (Zipf-like popularity)
    popularity = {p["product_id"]: 1.0 / (1 + (i % 9)) ** 0.8 for c in cat_names for i, p in enumerate(by_cat[c])}
    popularity[RETURN_SPIKE_PRODUCT] = 1.6
    orders: list[dict] = []
    items: list[dict] = []
    order_id = 0
    for day in _days(START, END):
        expected = daily_orders(day, scale)
        count = max(0, round(rng.gauss(expected, math.sqrt(expected))))
        eligible = bisect.bisect_right(signup_days, day)
        if eligible == 0:
            continue
        for _ in range(count):
            channel = _weighted(rng, CHANNELS if day.weekday() < 5 else WEEKEND_CHANNELS)
            if channel == "mobile" and OUTAGE[0] <= day <= OUTAGE[1] and rng.random() < 0.92:
                continue  # the app was down: most mobile orders never happened
            # recent signups order a bit more often than their share
            idx = min(eligible - 1, int(eligible * (1 - rng.random() ** 1.3)))
            cust = by_signup[idx]
            order_id += 1
            lines = min(8, 1 + int(rng.expovariate(0.5)))
            chosen: list[dict] = []
            for _line in range(lines):
                cat = rng.choices(cat_names, weights=[CATEGORY_WEIGHT[c] for c in cat_names])[0]
                pool = [p for p in by_cat[cat] if p["launched_on"] <= day]
                if not pool:
                    continue
                prod = rng.choices(pool, weights=[popularity[p["product_id"]] for p in pool])[0]
                if any(c["product_id"] == prod["product_id"] for c in chosen):
                    continue
                chosen.append(prod)
            if not chosen:
                chosen.append(by_cat["Books"][0])
            r = rng.random()
            status = "completed" if r < 0.90 else ("cancelled" if r < 0.955 else "returned")
            if (
                any(p["product_id"] == RETURN_SPIKE_PRODUCT for p in chosen)
                and RETURN_SPIKE[0] <= day <= RETURN_SPIKE[1]
                and rng.random() < 0.55
            ):
                status = "returned"
            ship = 0.0 if channel == "store" else rng.choice([0.0, 4.99, 4.99, 7.99, 12.50])
            orders.append(
                {
                    "order_id": order_id,
                    "customer_id": cust["customer_id"],
                    "order_date": day,
                    "channel": channel,
                    "status": status,
                    "shipping_cost": f"{ship:.2f}",
                }
            )
            for line, prod in enumerate(chosen, start=1):
                list_price = float(prod["unit_price"])
                paid = round(list_price * rng.uniform(0.92, 1.03), 2)
                qty = 1 if rng.random() < 0.6 else rng.randint(2, 5)
                disc = 0.0
                if rng.random() < 0.25:
                    disc = rng.choice([0.05, 0.1, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5])
                if day.month == 11 and day.day >= 20 and rng.random() < 0.5:
                    disc = max(disc, 0.2)
                items.append(
                    {
                        "order_id": order_id,
                        "line_number": line,
                        "product_id": prod["product_id"],
                        "quantity": qty,
                        "unit_price": f"{paid:.2f}",
                        "discount": f"{disc:.3f}",
                    }
                )
    return orders, items


def marketing(rng: random.Random, scale: float) -> list[dict]:
    """One row per day, channel and campaign."""
    base = {"web": 420.0, "mobile": 260.0, "store": 120.0}
    share = {"brand": 0.3, "search": 0.45, "social": 0.25}
    rows = []
    for day in _days(START, END):
        factor = daily_orders(day, 1.0) / 68.0
        for channel, _w in CHANNELS:
            for camp in CAMPAIGNS:
                spend = base[channel] * share[camp] * factor * scale * rng.uniform(0.8, 1.2)
                if channel == "mobile" and OUTAGE[0] <= day <= OUTAGE[1]:
                    spend *= 0.2  # campaigns paused while the app was down
                rows.append({"spend_date": day, "channel": channel, "campaign": camp, "spend": f"{spend:.2f}"})
    return rows


SCHEMAS = {
    "customers": "customer_id INTEGER, customer_name VARCHAR, email VARCHAR, country VARCHAR, "
    "region VARCHAR, segment VARCHAR, signup_date DATE",
    "products": "product_id INTEGER, product_name VARCHAR, category VARCHAR, subcategory VARCHAR, "
    "unit_price DECIMAL(10,2), unit_cost DECIMAL(10,2), launched_on DATE",
    "orders": "order_id INTEGER, customer_id INTEGER, order_date DATE, channel VARCHAR, "
    "status VARCHAR, shipping_cost DECIMAL(8,2)",
    "order_items": "order_id INTEGER, line_number INTEGER, product_id INTEGER, quantity INTEGER, "
    "unit_price DECIMAL(10,2), discount DECIMAL(4,3)",
    "marketing_spend": "spend_date DATE, channel VARCHAR, campaign VARCHAR, spend DECIMAL(10,2)",
}
ORDER_BY = {
    "customers": "customer_id",
    "products": "product_id",
    "orders": "order_id",
    "order_items": "order_id, line_number",
    "marketing_spend": "spend_date, channel, campaign",
}


def generate(scale: float) -> dict[str, list[dict]]:
    """All five tables as lists of row dicts, from one seeded random stream."""
    rng = random.Random(SEED)
    prods = products(rng, scale)
    custs = customers(rng, scale)
    orders, items = orders_and_items(rng, scale, custs, prods)
    return {
        "customers": custs,
        "products": prods,
        "orders": orders,
        "order_items": items,
        "marketing_spend": marketing(rng, scale),
    }


def write(tables: dict[str, list[dict]], out: Path) -> list[Path]:
    """Write each table as `<out>/<table>.parquet` with the fixed column types."""
    import duckdb

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp, duckdb.connect() as con:
        con.execute("SET threads = 1")  # one writer thread keeps row groups, and bytes, stable
        for name, rows in tables.items():
            csv_path = Path(tmp) / f"{name}.csv"
            with csv_path.open("w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
            cols = _columns_struct(SCHEMAS[name])
            target = out / f"{name}.parquet"
            con.execute(
                f"COPY (SELECT * FROM read_csv(?, header=true, columns={{{cols}}}) "
                f"ORDER BY {ORDER_BY[name]}) TO '{target.as_posix()}' "
                "(FORMAT parquet, COMPRESSION zstd)",
                [str(csv_path)],
            )
            written.append(target)
    return written


def _columns_struct(schema: str) -> str:
    parts = []
    depth = 0
    current = ""
    for ch in schema:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return ", ".join(f"'{p.split(maxsplit=1)[0]}': '{p.split(maxsplit=1)[1]}'" for p in parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = ~60k orders (default)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "shop")
    args = parser.parse_args()
    if args.scale <= 0:
        parser.error("--scale must be positive")
    for path in write(generate(args.scale), args.out):
        print(path)


if __name__ == "__main__":
    main()
