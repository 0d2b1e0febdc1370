#!/usr/bin/env python3
"""Wait for a Spark Connect server, then load the shop into it (called by .ci/services.sh).

    python .ci/load_spark.py --url sc://127.0.0.1:15002 --shop-dir sample_data/shop [--timeout 180]

Through the Spark Connect client: spark.read.parquet on the bundled files (the server runs on this
machine and reads them itself), then saveAsTable into managed tables customers, products, orders,
order_items and marketing_spend of database default, with the types of the data description
(INTEGER -> int, VARCHAR -> string, DATE -> date, DECIMAL(p,s) -> decimal(p,s)). Also creates hr.salaries,
the out-of-catalog table that a path-based Spark attack case reads straight from the warehouse.
Prints one line per step with its time to stderr, and a JSON summary on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import urlparse

SHOP_TABLES = ["customers", "products", "orders", "order_items", "marketing_spend"]
EXPECTED = {  # Spark type of every column, as the data description gives them
    "customers": "customer_id:int,customer_name:string,email:string,country:string,region:string,"
                 "segment:string,signup_date:date",
    "products": "product_id:int,product_name:string,category:string,subcategory:string,unit_price:decimal(10,2),"
                "unit_cost:decimal(10,2),launched_on:date",
    "orders": "order_id:int,customer_id:int,order_date:date,channel:string,status:string,shipping_cost:decimal(8,2)",
    "order_items": "order_id:int,line_number:int,product_id:int,quantity:int,unit_price:decimal(10,2),"
                   "discount:decimal(4,3)",
    "marketing_spend": "spend_date:date,channel:string,campaign:string,spend:decimal(10,2)",
}


def log(msg: str) -> None:
    print(f"[load_spark] {msg}", file=sys.stderr, flush=True)


def wait_for_port(host: str, port: int, deadline: float, pid: int | None) -> None:
    while True:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            if pid is not None and not alive(pid):
                raise SystemExit(f"the Spark Connect server (pid {pid}) exited before opening {host}:{port}") from None
            if time.monotonic() > deadline:
                raise SystemExit(f"Spark Connect did not open {host}:{port} in time") from None
            time.sleep(0.25)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is gone too
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--shop-dir", type=Path, required=True)
    ap.add_argument("--timeout", type=float, default=180)
    ap.add_argument("--pid", type=int, help="the server's pid: stop waiting as soon as it exits")
    ap.add_argument("--wait-only", action="store_true", help="only wait until a query answers")
    args = ap.parse_args()

    start = time.monotonic()
    parsed = urlparse(args.url)
    wait_for_port(parsed.hostname or "127.0.0.1", parsed.port or 15002, start + args.timeout, args.pid)
    summary: dict[str, object] = {"port_open_s": round(time.monotonic() - start, 2)}

    warnings.filterwarnings("ignore", category=FutureWarning)  # pyspark 4.3 warns about pandas >= 3
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.remote(args.url).getOrCreate()
    t0 = time.monotonic()
    assert spark.sql("SELECT 1 AS ok").collect()[0].ok == 1
    summary["first_query_s"] = round(time.monotonic() - t0, 2)
    summary["ready_s"] = round(time.monotonic() - start, 2)
    log(f"answering after {summary['ready_s']} s")
    if args.wait_only:
        print(json.dumps(summary))
        return 0

    t0 = time.monotonic()
    counts = {}
    for table in SHOP_TABLES:
        df = spark.read.parquet(str((args.shop_dir / f"{table}.parquet").resolve()))
        want = EXPECTED[table]
        got = ",".join(f"{f.name}:{f.dataType.simpleString()}" for f in df.schema.fields)
        if got != want:
            raise SystemExit(f"{table}: parquet columns {got} differ from the description {want}")
        df.write.mode("overwrite").format("parquet").saveAsTable(f"default.{table}")
        counts[table] = spark.table(f"default.{table}").count()
    spark.sql("CREATE DATABASE IF NOT EXISTS hr")
    spark.sql("DROP TABLE IF EXISTS hr.salaries")
    spark.sql("CREATE TABLE hr.salaries (employee_id INT, employee_name STRING, salary DECIMAL(10,2), "
              "bank_account STRING) USING parquet")
    spark.sql("INSERT INTO hr.salaries VALUES (1, 'Avery Quinn', 98000.00, 'HR-CANARY-IBAN-0001'), "
              "(2, 'Blake Moreno', 132500.00, 'HR-CANARY-IBAN-0002')")
    summary["shop_rows"] = counts
    summary["load_s"] = round(time.monotonic() - t0, 2)
    log(f"shop {counts} in {summary['load_s']} s")

    lat = []
    for _ in range(5):
        t0 = time.monotonic()
        spark.sql("SELECT channel, count(*) AS n FROM orders GROUP BY channel").collect()
        lat.append(time.monotonic() - t0)
    summary["query_s"] = [round(x, 3) for x in lat]
    log("SELECT channel, count(*) FROM orders GROUP BY channel: " + ", ".join(f"{x:.3f}" for x in lat) + " s")
    spark.stop()
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
