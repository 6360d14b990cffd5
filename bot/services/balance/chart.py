"""The history chart: charged vs paid per month, a PNG (matplotlib, Agg, no pyplot).

CPU work only; it runs in a worker (bot/services/balance/render.py). A Figure with its
own Agg canvas keeps no global state, so several can render at once. Month names come
from Babel in the resident's language; the other labels arrive translated.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from babel.dates import format_date

from bot.services.balance.statement import History, period_date

WIDTH_PX, HEIGHT_PX, DPI = 1000, 600, 100
CHARGED_COLOR, PAID_COLOR = "#d9822b", "#2b7bd9"


@dataclass(frozen=True)
class ChartLabels:
    title: str
    charged: str
    paid: str
    currency: str  # the y axis: "₽"
    locale: str  # month names: "ru" | "en"


def month_label(period: str, locale: str) -> str:
    """'2026-11' → 'нояб.\\n2026' / 'Nov\\n2026'."""
    day = period_date(period)
    return f"{format_date(day, 'LLL', locale=locale)}\n{day.year}"


def render_history(history: History, labels: ChartLabels) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    xs = list(range(len(history.months)))
    charged = [float(m.charged) for m in history.months]  # drawing only: the figures are Decimal
    paid = [float(m.paid) for m in history.months]
    width = 0.4
    ax.bar([x - width / 2 for x in xs], charged, width, label=labels.charged, color=CHARGED_COLOR)
    ax.bar([x + width / 2 for x in xs], paid, width, label=labels.paid, color=PAID_COLOR)
    ax.set_xticks(xs, [month_label(m.period, labels.locale) for m in history.months], fontsize=9)
    ax.yaxis.set_major_formatter(
        FuncFormatter(lambda v, _: f"{v:,.0f}".replace(",", "\u202f") + f" {labels.currency}")
    )
    ax.axhline(0, color="#555555", linewidth=0.8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.set_title(labels.title, fontsize=13)
    ax.legend(loc="upper left", frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()
