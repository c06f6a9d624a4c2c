"""The estimate as people read it: a terminal table, an HTML table, and its header (teacher, prices,
token counting, the request cache's ledger)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lemma.cost.rows import Row, totals

if TYPE_CHECKING:  # only for the annotation: the estimator imports no renderer
    from lemma.cost.estimate import Estimator


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _usd(x: float) -> str:
    return f"{x:,.2f}"


def format_table(rows: list[Row], header: str = "") -> str:
    shown = rows + [totals(rows)]
    cols = [
        "stage",
        "calls done",
        "to come",
        "prompt tok done",
        "to come",
        "compl. tok done",
        "to come",
        "USD done",
        "to come",
        "",
    ]
    data = []
    notes = []
    for r in shown:
        mark = ""
        if r.group != "total":
            notes.append(r.basis)
            mark = f"[{len(notes)}]" + ("" if r.exact else " est.")
        data.append(
            [
                r.group,
                _n(r.calls_done),
                _n(r.calls_todo),
                _n(r.prompt_done),
                _n(r.prompt_todo),
                _n(r.completion_done),
                _n(r.completion_todo),
                _usd(r.cost_done),
                _usd(r.cost_todo),
                mark,
            ]
        )
    widths = [max(len(str(row[i])) for row in data + [cols]) for i in range(len(cols))]
    lines = [header] if header else []

    def fmt(row):
        return "  ".join(
            str(c).ljust(widths[0]) if i == 0 else str(c).rjust(widths[i])  # noqa: E731
            for i, c in enumerate(row)
        ).rstrip()

    lines.append(fmt(cols))
    lines.append("-" * len(fmt(cols)))
    for i, row in enumerate(data):
        if i == len(data) - 1:
            lines.append("-" * len(fmt(cols)))
        lines.append(fmt(row))
    lines.append("")
    lines += [f"[{i}] {n}" for i, n in enumerate(notes, 1)]
    return "\n".join(lines)


def html_table(rows: list[Row], header: str) -> str:
    import html

    shown = rows + [totals(rows)]
    head = (
        "<tr><th>stage</th><th>calls done</th><th>calls to come</th><th>prompt tokens done</th><th>to come</th>"
        "<th>completion tokens done</th><th>to come</th><th>USD done</th><th>USD to come</th><th>basis</th></tr>"
    )
    body = "".join(
        f"<tr><td>{html.escape(r.group)}</td><td>{_n(r.calls_done)}</td><td>{_n(r.calls_todo)}</td>"
        f"<td>{_n(r.prompt_done)}</td><td>{_n(r.prompt_todo)}</td><td>{_n(r.completion_done)}</td>"
        f"<td>{_n(r.completion_todo)}</td><td>{_usd(r.cost_done)}</td><td>{_usd(r.cost_todo)}</td>"
        f"<td>{html.escape(r.basis)}</td></tr>"
        for r in shown
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>table{{border-collapse:collapse;font:13px "
        f"sans-serif}}td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}td:first-child,"
        f"td:last-child{{text-align:left}}</style></head><body><p>{html.escape(header)}</p><table>{head}{body}"
        f"</table></body></html>"
    )


def describe(est: Estimator) -> str:
    p = est.prices
    price = (
        (
            f"prices: ${p.input_per_mtok:g} / ${p.output_per_mtok:g} per million input / output tokens"
            + (f", batch mode at {p.batch_discount:g} of that" if est.batch else "")
        )
        if p
        else "no teacher.prices: USD shown as 0"
    )
    budget = est.t.get("budget_usd")
    spent = est.cache.spent_usd() if est.cache is not None else 0.0
    lines = [
        f"teacher {est.model} ({est.engine_kind}, mode {est.t.get('mode', 'live')}); {price}",
        f"prompt tokens counted with {est.counter.method}"
        + (
            f" on built-in world problems standing in for {est.problems().height:,} problems (--problems; "
            "real problems are longer: a lower bound)"
            if est.standin_problems is not None
            else ""
        ),
        f"request cache: {est.cache.path if est.cache else 'none yet'}; ledger total ${spent:,.2f}"
        + (f" of teacher.budget_usd ${budget:,.2f}" if budget else ""),
    ]
    return "\n".join(lines)
