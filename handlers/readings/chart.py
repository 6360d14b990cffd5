"""The consumption chart of a meter: a PNG drawn with matplotlib's Agg backend.

Drawn on a Figure of its own (no pyplot, no global state), so it may run in a worker
thread (`asyncio.to_thread`) while the bot serves other updates.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

#: the chart's size in pixels (Telegram shows photos up to 1280 px wide)
WIDTH, HEIGHT, DPI = 960, 540, 120


def _plain(text: str) -> str:
    """No mathtext ($…$) and no characters the default font lacks (emoji)."""
    return "".join(c for c in text.replace("$", r"\$") if ord(c) <= 0xFFFF)


def render(
    labels: Sequence[str],
    zones: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    unit: str,
) -> bytes:
    """Bars of consumption per period, stacked by zone; `labels` name the periods."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    bottom = [0.0] * len(labels)
    for name, values in zones:
        axes.bar(positions, values, bottom=bottom, label=_plain(name) or None, width=0.7)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_xticks(positions, [_plain(label) for label in labels], rotation=45, ha="right")
    axes.set_ylabel(_plain(unit))
    axes.set_title(_plain(title))
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    if len(zones) > 1:
        axes.legend()
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
