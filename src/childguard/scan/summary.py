"""summary.json for machines and report.html for the people who act on a scan: a safeguarding lead
should see, without a notebook, how much was found, where, and which conversations to open first. The
page is one file (inline CSS and SVG, no script, no external asset) so it can be mailed or archived,
and it shows redacted excerpts only (5b)."""

from __future__ import annotations

import html
import json
from collections import Counter
from datetime import UTC, datetime
from typing import IO, Any

from ..agebands import AgeBand
from ..taxonomy import get_taxonomy
from .config import ScanConfig
from .fields import roles_guessed, roles_note
from .inputs import Shard
from .output import COUNTED, HIST_BINS, RANK, REVIEW_KEEP, OutputDir, conversation_key, review_key

ACTION_WORDS = {
    "allow": "fine as it is",
    "adapt": "answered with care (a sensitive topic for the age)",
    "redirect": "steered to a safer answer",
    "block": "not suitable for this age",
    "escalate": "a person should look at it soon",
}
BAND_ORDER = [b.value for b in AgeBand]


def _merge(stats: list[dict[str, Any]]) -> dict[str, Any]:
    counts: dict[str, Counter[str]] = {k: Counter() for k in COUNTED}
    hist = [0] * HIST_BINS
    review: list[dict[str, Any]] = []
    convs: list[dict[str, Any]] = []
    rows = bad = n_convs = to_review = 0
    bad_rows: list[dict[str, str]] = []
    workers: dict[str, float] = {}
    for st in stats:
        rows += st.get("rows", 0)
        bad += st.get("bad", 0)
        bad_rows.extend(st.get("bad_rows", []))
        for k in counts:
            counts[k].update(st.get("counts", {}).get(k, {}))
        for i, n in enumerate(st.get("hist", [])):
            hist[i] += n
        review.extend(st.get("review", []))
        convs.extend(st.get("conversation_review", []))
        n_convs += st.get("conversations", 0)
        to_review += st.get("conversations_to_review", 0)
        if "pid" in st:
            workers[str(st["pid"])] = max(workers.get(str(st["pid"]), 0.0), st.get("max_rss_mb", 0.0))
    review.sort(key=review_key, reverse=True)
    convs.sort(key=conversation_key, reverse=True)
    return {"rows": rows, "bad": bad, "bad_rows": bad_rows, "counts": {k: dict(v.most_common()) for k, v in
                                                                        counts.items()},
            "hist": hist, "review": review[:REVIEW_KEEP], "conversation_review": convs[:REVIEW_KEEP],
            "conversations": n_convs, "conversations_to_review": to_review, "workers": workers}


def write_reports(cfg: ScanConfig, out: OutputDir, shards: list[Shard], skipped: int, timings: dict[str, float],
                  err: IO[str]) -> dict[str, Any]:
    decided = out.done_stats("c" if cfg.conversation_mode else "m")
    routing = out.done_stats("r") if cfg.conversation_mode else []
    merged = _merge(decided + [{"bad": r["bad"], "bad_rows": r["bad_rows"]} for r in routing])
    decide_s = timings.get("decide_s", 0.0) + timings.get("route_s", 0.0)
    summary: dict[str, Any] = {
        "mode": "conversations" if cfg.conversation_mode else "messages",
        "inputs": list(cfg.inputs), "files": len({s.path for s in shards}), "shards": len(shards),
        "shards_skipped_on_resume": skipped, "rows": merged["rows"], "bad_rows": merged["bad"],
        "counts": merged["counts"],
        "score_histogram": {"bin_width": 1 / HIST_BINS, "counts": merged["hist"]},
        "review": merged["review"],
        "conversations": merged["conversations"], "conversations_to_review": merged["conversations_to_review"],
        "conversation_review": merged["conversation_review"],
        "workers": merged["workers"], "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "outputs": {"decisions": str(out.decisions), "report": str(out.root / "report.html"),
                    "bad_rows_file": str(out.root / "bad_rows.jsonl")},
        "text_kept": cfg.keep_text,
        "roles": roles_note(merged["counts"].get("role_source", {}), cfg),
    }
    if decide_s > 0 and not skipped:
        summary["rows_per_s"] = round((merged["rows"] + merged["bad"]) / decide_s, 1)
    with (out.root / "bad_rows.jsonl").open("w", encoding="utf-8") as fh:
        for b in merged["bad_rows"]:
            fh.write(json.dumps(b, ensure_ascii=False) + "\n")
    (out.root / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    (out.root / "report.html").write_text(render_html(summary), encoding="utf-8")
    if roles_guessed(merged["counts"].get("role_source", {}), cfg):
        err.write(f"warning: {summary['roles']}\n")
    for b in merged["bad_rows"][:10]:
        err.write(f"bad row {b['location']}: {b['code']}: {b['message']}\n")
    if merged["bad"] > 10:
        err.write(f"... {merged['bad'] - 10} more bad rows in {out.root / 'bad_rows.jsonl'}\n")
    return summary


CSS = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2430}
main{max-width:1040px;margin:0 auto;padding:24px}
h1{font-size:1.7rem;margin:.2em 0}h2{font-size:1.25rem;margin:1.6em 0 .5em}
.lead{font-size:1.1rem;max-width:70ch}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(190px,1fr));gap:12px;margin:16px 0}
.card{background:#fff;border-radius:10px;padding:14px 16px;box-shadow:0 1px 2px #0002}
.card b{display:block;font-size:1.8rem;line-height:1.2}.card span{color:#4a5565}
.card.alert b{color:#b42318}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(460px,100%),1fr));gap:16px}
section.panel{background:#fff;border-radius:10px;padding:12px 16px 16px;box-shadow:0 1px 2px #0002}
section.panel h2{margin-top:.3em}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:8px 10px;border-bottom:1px solid #e4e7ec;vertical-align:top}
th{background:#eef1f5;font-weight:600}
td.ex{font-style:italic;color:#333;max-width:44ch;overflow-wrap:anywhere}
.tag{display:inline-block;border-radius:999px;padding:1px 9px;margin:1px 2px;font-size:.85rem;background:#eef1f5}
.a-escalate{background:#fde2e1;color:#912018}.a-block{background:#fdebd3;color:#93370d}
.a-redirect{background:#fef7c3;color:#713b12}.a-adapt{background:#e0f2fe;color:#0b4a6f}
.a-allow{background:#dcfae6;color:#085d3a}
.note{color:#4a5565;font-size:.9rem}
svg text{font:13px system-ui,sans-serif;fill:#1d2430}
@media (max-width:700px){
main{padding:14px}
table,tbody,tr,td{display:block;width:auto}thead{display:none}
tr{border-bottom:1px solid #e4e7ec;padding:8px 0}td{border:0;padding:3px 10px}
td[data-label]::before{content:attr(data-label) ": ";font-weight:600;font-style:normal;color:#4a5565}
}
"""

BAR_COLOURS = {"escalate": "#d92d20", "block": "#f79009", "redirect": "#eaaa08", "adapt": "#2e90fa",
               "allow": "#12b76a"}


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _bars(title: str, counts: dict[str, int], order: list[str] | None = None, labels: dict[str, str] | None = None,
          colours: dict[str, str] | None = None, limit: int = 12) -> str:
    keys = (order and [k for k in order if k in counts] + [k for k in counts if k not in order]) or list(counts)
    keys = keys[:limit]
    if not keys:
        return f"<section class='panel'><h2>{_e(title)}</h2><p class='note'>Nothing to show.</p></section>"
    top = max(counts[k] for k in keys) or 1
    row_h, label_w, width = 26, 190, 440
    bar_w = width - label_w - 70
    parts = [f"<svg role='img' aria-label='{_e(title)}' width='100%' viewBox='0 0 {width} {row_h * len(keys) + 4}'>"]
    for i, k in enumerate(keys):
        y = i * row_h + 2
        w = max(2, round(bar_w * counts[k] / top))
        name = (labels or {}).get(k, k)
        colour = (colours or {}).get(k, "#7a5af8")
        parts.append(f"<text x='{label_w - 8}' y='{y + 17}' text-anchor='end'>{_e(name[:28])}</text>"
                     f"<rect x='{label_w}' y='{y + 4}' width='{w}' height='{row_h - 8}' rx='3' fill='{colour}'>"
                     f"<title>{_e(name)}: {counts[k]:,}</title></rect>"
                     f"<text x='{label_w + w + 6}' y='{y + 17}'>{counts[k]:,}</text>")
    parts.append("</svg>")
    return f"<section class='panel'><h2>{_e(title)}</h2>{''.join(parts)}</section>"


def _histogram(counts: list[int]) -> str:
    width, height, pad = 440, 180, 30
    top = max(counts) or 1
    bw = (width - 2 * pad) / len(counts)
    parts = [f"<svg role='img' aria-label='Histogram of the highest score per message' width='100%' "
             f"viewBox='0 0 {width} {height + 30}'>"]
    for i, n in enumerate(counts):
        # square-root scale: otherwise the mass of harmless messages hides every other bar
        h = 0 if n == 0 else max(2.0, (height - 10) * (n / top) ** 0.5)
        x = pad + i * bw
        colour = "#12b76a" if i < len(counts) // 2 else "#f79009" if i < 0.8 * len(counts) else "#d92d20"
        parts.append(f"<rect x='{x + 1:.1f}' y='{height - h:.1f}' width='{bw - 2:.1f}' height='{h:.1f}' "
                     f"fill='{colour}'><title>{i / len(counts):.2f}-{(i + 1) / len(counts):.2f}: {n:,}"
                     f"</title></rect>")
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = pad + tick * (width - 2 * pad)
        parts.append(f"<text x='{x:.0f}' y='{height + 18}' text-anchor='middle'>{tick:.2f}</text>")
    parts.append(f"<line x1='{pad}' y1='{height}' x2='{width - pad}' y2='{height}' stroke='#98a2b3'/></svg>")
    return ("<section class='panel'><h2>How strong the signals were</h2>" + "".join(parts) +
            "<p class='note'>The highest harm score of each message, from 0 (nothing) to 1 (certain); bar "
            "heights use a square-root scale so the few strong signals stay visible. Hover a bar for its "
            "count.</p></section>")


def _when(iso: str) -> str:
    at = datetime.fromisoformat(iso)
    return f"{at.day} {at:%B %Y, %H:%M} UTC"


def _tag(action: str) -> str:
    return f"<span class='tag a-{_e(action)}'>{_e(action)}</span>"


def _pretty(kind: str) -> str:
    return kind.replace("topic:", "").replace("_", " ")


def _conversation_table(items: list[dict[str, Any]]) -> str:
    if not items:
        return "<p>No conversation showed a risk across its turns.</p>"
    rows = []
    for c in items[:25]:
        found = " ".join(f"<span class='tag'>{_e(_pretty(k))}</span>" for k in c["findings"]) or "single messages"
        where = f"turn {c['excerpt_turn']}" if c.get("excerpt_turn") else ""
        rows.append(f"<tr><td data-label='Conversation'>{_e(c['conversation'])}</td>"
                    f"<td data-label='Action'>{_tag(c['action'])}</td><td data-label='Found'>{found}</td>"
                    f"<td data-label='Messages'>{c['messages']:,}</td>"
                    f"<td data-label='First sign (turn)'>{_e(c.get('first_turn') or '')}</td>"
                    f"<td class='ex'>{_e(c.get('excerpt') or '')}<br><span class='note'>{_e(where)}</span></td></tr>")
    return ("<table><thead><tr><th>Conversation</th><th>Action</th><th>What was found</th><th>Messages</th>"
            "<th>First sign (turn)</th><th>Strongest message (redacted)</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def _message_table(items: list[dict[str, Any]]) -> str:
    if not items:
        return "<p>No message needed attention.</p>"
    rows = []
    for r in items[:25]:
        cats = " ".join(f"<span class='tag'>{_e(_pretty(c))}</span>" for c in r["flagged"]) or "-"
        rows.append(f"<tr><td data-label='Message'>{_e(r['id'])}</td><td data-label='Action'>{_tag(r['action'])}</td>"
                    f"<td data-label='Categories'>{cats}</td><td data-label='Score'>{r['score']:.2f}</td>"
                    f"<td class='ex'>{_e(r['excerpt'])}</td></tr>")
    return ("<table><thead><tr><th>Message</th><th>Action</th><th>Categories</th><th>Score</th>"
            "<th>Excerpt (redacted)</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def render_html(s: dict[str, Any]) -> str:
    counts = s["counts"]
    actions = counts.get("action", {})
    rows = s["rows"]
    attention = sum(n for a, n in actions.items() if RANK.get(a, 0) >= 2)
    escalate = actions.get("escalate", 0)
    share = f"{100 * attention / rows:.1f}%" if rows else "0%"
    conv_mode = s["mode"] == "conversations"
    tax = get_taxonomy()
    cat_labels = {c: _pretty(c) for c in counts.get("category", {})}
    cards = [(f"{rows:,}", "messages checked", False), (f"{attention:,}", f"need attention ({share})", attention > 0),
             (f"{escalate:,}", "for a person to look at soon", escalate > 0)]
    if conv_mode:
        cards.insert(1, (f"{s['conversations']:,}", "conversations", False))
        cards.append((f"{s['conversations_to_review']:,}", "conversations to review", s["conversations_to_review"] > 0))
    cards.append((f"{s['bad_rows']:,}", "rows that could not be read", False))
    card_html = "".join(f"<div class='card{' alert' if alert else ''}'><b>{_e(v)}</b><span>{_e(t)}</span></div>"
                        for v, t, alert in cards)
    words = "".join(f"<li>{_tag(a)} {_e(w)}</li>" for a, w in ACTION_WORDS.items())
    if conv_mode:
        first = ("<h2>Conversations to review first</h2><p class='note'>Strongest action first, then the number of "
                 "findings that call for a person, then the risk. Findings look across the whole "
                 "conversation (grooming steps, repeated hostility, dependency), not one line.</p>"
                 + _conversation_table(s["conversation_review"]))
    else:
        first = ("<h2>Messages to review first</h2><p class='note'>Strongest action first, then the highest score."
                 "</p>" + _message_table(s["review"]))
    bad = ""
    if s["bad_rows"]:
        bad = (f"<h2>Rows that could not be read</h2><p>{s['bad_rows']:,} rows were skipped and counted; their "
               f"location and the reason are listed in <code>bad_rows.jsonl</code> next to this page.</p>")
    descriptions = "".join(f"<li><b>{_e(_pretty(c))}</b>: {_e(tax.categories[c].description)}</li>"
                           for c in counts.get("category", {}) if c in tax.categories)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>childguard scan report</title><style>{CSS}</style></head>
<body><main>
<h1>Child protection scan</h1>
<p class="lead">We checked <b>{rows:,}</b> messages from {s['files']} file(s){
    f" in {s['conversations']:,} conversations" if conv_mode else ""}. <b>{attention:,}</b> ({share}) need attention
and <b>{escalate:,}</b> should be looked at by a person soon. Finished {_e(_when(s['finished']))}.</p>
<p class="note">How each message's sender was told apart: {_e(s.get('roles', '').removeprefix('roles: '))}.</p>
<div class="cards">{card_html}</div>
{first}
<h2>What was found</h2>
<div class="grid">
{_bars("What the scan decided", actions, order=list(ACTION_WORDS), colours=BAR_COLOURS)}
{_bars("Kinds of harm (messages)", counts.get("category", {}), labels=cat_labels)}
{_bars("Age bands", counts.get("band", {}), order=BAND_ORDER, colours=dict.fromkeys(BAND_ORDER, "#2e90fa"))}
{_bars("Languages", counts.get("lang", {}), colours={k: "#0e9384" for k in counts.get("lang", {})})}
{_histogram(s["score_histogram"]["counts"])}
<section class="panel"><h2>What the actions mean</h2><ul>{words}</ul></section>
</div>
{f"<h2>The kinds of harm</h2><ul>{descriptions}</ul>" if descriptions else ""}
{bad}
<p class="note">Excerpts are shortened and redacted (phone numbers, e-mail and street addresses, handles are
replaced with [private]); the decision files hold no message text unless the scan was run with --keep-text.
Decisions follow the UN Joint Statement on AI and the Rights of the Child (4a, 4i: early detection with human
oversight; 5b: data minimisation).</p>
</main></body></html>
"""
