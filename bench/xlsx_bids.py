"""Benchmark: Excel bids of 10,000 and 50,000 positions (issue 23), beside bench/csv_bids.py.

1. Writing the .xlsx template (bids.xlsx_bids.template), pre-filled with a price in every row.
2. Parse + validate (bids.csv_bids.parse_bid) of that filled workbook, and of the same
   workbook re-saved by openpyxl (shared strings, as Excel saves), against the same rows as
   a CSV file (windows-1251, ";", decimal comma) through the existing CSV parser, measured
   in the same run, interleaved, best of --repeat.
3. Peak memory of one parse of each: the process's peak RSS (VmHWM, reset just before)
   minus its RSS before the parse, in a fresh child process (calamine allocates in Rust, where
   tracemalloc does not look).

    .venv/bin/python bench/xlsx_bids.py [--sizes 10000 50000] [--repeat 5] [--no-openpyxl]

Targets (issue 23): parse + validate <= 2x the CSV time and <= 2x its peak memory; writing
the 50,000-position template <= 3 s. The process's CPU time of each parse is shown beside the
wall-clock time: on a shared machine (other processes running) it is the steadier figure.
"""

from __future__ import annotations

import argparse
import gc
import io
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from csv_bids import filled_file, sheet_of  # noqa: E402

from bids import xlsx_bids  # noqa: E402
from bids.csv_bids import CurrentLine, parse_bid  # noqa: E402


def prices_of(sheet) -> dict[str, CurrentLine]:
    """The prices bench/csv_bids.py fills in (the same rows in both formats)."""
    return {
        p.number: CurrentLine(
            Decimal(f"{100 + int(p.number) % 900}.{int(p.number) % 100:02d}"), Decimal(0)
        )
        for p in sheet.positions
    }


def resaved_by_openpyxl(data: bytes) -> bytes:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def best(times: list[float]) -> float:
    return min(times)


def peak_rss_growth(path: str, n: int) -> float:
    """MB the peak RSS of a fresh process grows by while parsing the file at ``path``."""
    code = (
        "import gc, resource, sys, time\n"
        f"sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'bench')!r}]\n"
        "from csv_bids import sheet_of\n"
        "from bids.csv_bids import parse_bid\n"
        f"sheet = sheet_of({n})\n"
        f"data = open({path!r}, 'rb').read()\n"
        "gc.collect()\n"
        "def status(key):\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith(key):\n"
        "            return int(line.split()[1])\n"
        "open('/proc/self/clear_refs', 'w').write('5')\n"  # resets the peak (VmHWM)
        "before = status('VmRSS:')\n"
        "parsed = parse_bid(data, sheet)\n"
        "assert not parsed.problems\n"
        "print(status('VmHWM:') - before)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024


def run(n: int, repeat: int, with_openpyxl: bool) -> None:
    sheet = sheet_of(n)
    prices = prices_of(sheet)
    write_times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        workbook = xlsx_bids.template(sheet, "unit", current=prices)
        write_times.append(time.perf_counter() - start)
    csv_data = filled_file(sheet)
    files = {"csv": csv_data, "xlsx (ours)": workbook}
    if with_openpyxl:
        files["xlsx (openpyxl)"] = resaved_by_openpyxl(workbook)
    times: dict[str, list[float]] = {name: [] for name in files}
    cpu: dict[str, list[float]] = {name: [] for name in files}
    for _ in range(repeat):
        for name, data in files.items():
            gc.collect()
            start, start_cpu = time.perf_counter(), time.process_time()
            parsed = parse_bid(data, sheet)
            times[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
            assert not parsed.problems and len(parsed.lines) == n, parsed.problems[:3]
    print(f"{n} positions")
    print(f"  write the .xlsx template: {best(write_times):6.3f} s (best of {repeat})")
    peaks = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in files.items():
            path = str(Path(tmp) / "file")
            Path(path).write_bytes(data)
            peaks[name] = peak_rss_growth(path, n)
    base_time, base_cpu, base_peak = best(times["csv"]), best(cpu["csv"]), peaks["csv"]
    for name, data in files.items():
        t, c = best(times[name]), best(cpu[name])
        print(
            f"  parse+validate {name:16s} {len(data) / 1048576:5.1f} MB: {t:6.3f} s "
            f"({t / base_time:4.2f}x csv; CPU {c:5.3f} s, {c / base_cpu:4.2f}x)  "
            f"peak RSS +{peaks[name]:6.1f} MB ({peaks[name] / base_peak if base_peak else 0:4.2f}x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-openpyxl", action="store_true")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, max RSS now {resource.getrusage(0).ru_maxrss} KB")
    for n in args.sizes:
        run(n, args.repeat, not args.no_openpyxl)


if __name__ == "__main__":
    main()
