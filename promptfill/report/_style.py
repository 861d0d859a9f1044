"""The report's inline stylesheet and the colour scale that shades tokens by confidence."""

from __future__ import annotations

# Confidence 0 maps to white and 1 to this blue. Dark text stays readable on the whole scale
# because the strongest shade is a mid blue, not a dark one.
_LOW = (255, 255, 255)
_HIGH = (96, 150, 214)

# Steps of the legend under the best candidates.
LEGEND_STEPS = (0.0, 0.25, 0.5, 0.75, 1.0)


def confidence_colour(confidence: float) -> str:
    """Return the CSS background colour for a token committed with probability ``confidence``."""
    share = min(max(confidence, 0.0), 1.0)
    red, green, blue = (round(low + (high - low) * share) for low, high in zip(_LOW, _HIGH))
    return f"#{red:02x}{green:02x}{blue:02x}"


STYLESHEET = """
:root { color-scheme: light; }
body { margin: 0; background: #f6f7f9; color: #1d2430;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.2rem; margin: 32px 0 10px; border-bottom: 1px solid #d9dde3; padding-bottom: 4px; }
h3 { font-size: 1rem; margin: 0 0 6px; }
.subtitle { color: #5b6472; margin: 0 0 16px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.9em; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
.panel { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 12px 16px; margin: 0 0 12px; }
.template .hole { background: #fde8c8; border: 1px dashed #c27c0e; border-radius: 3px; padding: 0 2px; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 10px 24px; margin: 14px 0 0; }
.facts dt { color: #5b6472; font-size: 0.85rem; }
.facts dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.facts .wide { grid-column: 1 / -1; }
.candidate-head { display: flex; flex-wrap: wrap; gap: 4px 18px; align-items: baseline; margin-bottom: 8px; }
.candidate-head .rank { font-weight: 700; font-size: 1.05rem; }
.candidate-head .metric { color: #3d4654; }
.candidate pre { font-size: 0.95rem; line-height: 1.75; }
.fill { outline: 2px solid #1f4e87; border-radius: 3px; padding: 1px 0; }
.token { border-radius: 2px; }
.token.blank { color: #8a93a0; }
.legend { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 14px; margin: 0 0 12px; color: #3d4654; font-size: 0.9rem; }
.legend .swatch { display: inline-block; width: 2.2em; height: 1.1em; border: 1px solid #b8c0cc; vertical-align: middle; margin-right: 4px; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #dde1e6; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e8ebef; vertical-align: top; }
th { background: #eef1f5; font-weight: 600; }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.failed td { background: #fdf0f0; }
.badge-failed { display: inline-block; background: #b4233c; color: #fff; font-weight: 700; font-size: 0.8rem; padding: 0 6px; border-radius: 3px; }
.error { color: #8d1b2f; overflow-wrap: anywhere; }
.note { color: #5b6472; font-size: 0.9rem; }
.fills-list { margin: 0; padding: 0; list-style: none; }
.plot { max-width: 100%; height: auto; display: block; background: #fff; border: 1px solid #dde1e6; border-radius: 6px; margin: 6px 0 14px; }
.plot text { font-family: inherit; fill: #3d4654; }
.plot .tick { font-size: 11px; }
.plot .label, .plot .axis-label { font-size: 12px; }
details { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 8px 16px; margin-top: 32px; }
details summary { cursor: pointer; font-weight: 600; }
details table { margin: 6px 0 14px; }
details td:first-child { white-space: nowrap; color: #3d4654; width: 16em; }
.problems { background: #fff7e0; border: 1px solid #e5c66e; border-radius: 6px; padding: 8px 16px; }
footer { color: #6b7280; font-size: 0.85rem; margin-top: 28px; }
"""
