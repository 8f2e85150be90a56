#!/usr/bin/env python3
"""Builds fixtures/freqtrade/backtest-result-2025-10-29_09-42-00.zip the way freqtrade 2025.1+ does.

freqtrade/optimize/optimize_reports/bt_storage.py `store_backtest_results` (read at 4adab37b2a,
2025-10-29) opens `ZipFile(zip_filename, "w", ZIP_DEFLATED)` and `writestr`s, for the stem
`backtest-result-<ts>`: `<stem>.json` (the result), `<stem>_config.json` (the config, secrets
redacted), `<stem>_<Strategy>.py` (the strategy's source), `<stem>_<Strategy>.json` (the parameter
file, in hyperopt_tools.py `export_params`'s layout) and `<stem>_market_change.feather`. The result
is freqtrade's own output (fixtures/freqtrade/backtest-result.json); the other members follow
freqtrade's description of them. The same Python zipfile writes it, with a fixed timestamp so the
file is reproducible. Run: python3 scripts/freqtrade-2025-zip.py
"""
import json
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "freqtrade"
STEM = "backtest-result-2025-10-29_09-42-00"


def member(name: str) -> ZipInfo:
    info = ZipInfo(name, date_time=(2025, 10, 29, 9, 42, 0))
    info.compress_type = ZIP_DEFLATED
    return info


members = {
    f"{STEM}.json": (FIXTURES / "backtest-result.json").read_bytes(),
    f"{STEM}_config.json": json.dumps(
        {
            "strategy": "StrategyTestV3",
            "timeframe": "5m",
            "stake_currency": "BTC",
            "dry_run_wallet": 0.01,
            "max_open_trades": 3,
            "exchange": {"name": "binance", "key": "REDACTED", "secret": "REDACTED", "pair_whitelist": ["ETH/BTC", "ADA/BTC"]},
            "pairlists": [{"method": "StaticPairList"}],
        },
        indent=4,
    ),
    f"{STEM}_StrategyTestV3.py": "class StrategyTestV3(IStrategy):\n    ...\n",
    # StrategyTestV3's declared parameters (freqtrade tests/strategy/strats/strategy_test_v3.py)
    f"{STEM}_StrategyTestV3.json": json.dumps(
        {
            "strategy_name": "StrategyTestV3",
            "params": {
                "buy": {"buy_rsi": 35, "buy_plusdi": 0.4},
                "sell": {"sell_rsi": 74, "sell_minusdi": 0.4},
                "protection": {"protection_enabled": True, "protection_cooldown_lookback": 30},
                "roi": {"0": 0.04, "20": 0.02, "30": 0.01, "40": 0.0},
                "stoploss": {"stoploss": -0.1},
                "max_open_trades": {"max_open_trades": 3},
            },
            "ft_stratparam_v": 1,
            "export_time": "2025-10-29 09:42:00.123456+00:00",
        },
        indent=4,
    ),
    f"{STEM}_market_change.feather": bytes(64),
}

target = FIXTURES / f"{STEM}.zip"
with ZipFile(target, "w", ZIP_DEFLATED) as zipf:
    for name, data in members.items():
        zipf.writestr(member(name), data)
print(f"{target.name}: {target.stat().st_size} bytes")
