//! Reports for people: a replay's [`Summary`] as one self-contained HTML page ([`html`]).
//!
//! The page has the two dashboards of the IAM use cases (alerts by rule description as a pie
//! chart; rule groups stacked over time) and the summary's tables. It needs no network: the
//! data sits in the page as JSON and a small inline script draws both charts as SVG, each
//! slice and bar carrying its numbers in `data-` attributes (which the end-to-end test in
//! headless Chromium reads back).

use serde::Serialize;

use crate::replay::Summary;
use crate::testing::junit::esc;

/// Slices of the pie before the rest is "other rules".
const PIE_SLICES: usize = 12;
/// Groups in the stacked chart before the rest is "other groups".
const STACK_GROUPS: usize = 10;
/// Bars at most in the stacked chart (hours are merged into wider buckets beyond that).
const MAX_BUCKETS: usize = 48;

#[derive(Serialize)]
struct Slice {
    label: String,
    rules: Vec<u32>,
    count: u64,
}

#[derive(Serialize)]
struct Bucket {
    start: i64,
    end: i64,
    counts: Vec<u64>,
}

#[derive(Serialize)]
struct Data {
    pie: Vec<Slice>,
    groups: Vec<String>,
    buckets: Vec<Bucket>,
}

fn utc(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| secs.to_string())
}

/// The chart data: pie slices by description (largest first), groups by total, time buckets.
fn chart_data(s: &Summary) -> Data {
    let mut pie: Vec<Slice> = s
        .by_description
        .iter()
        .map(|(d, c)| Slice { label: d.clone(), rules: c.rules.iter().copied().collect(), count: c.count })
        .collect();
    pie.sort_by(|a, b| b.count.cmp(&a.count).then(a.label.cmp(&b.label)));
    if pie.len() > PIE_SLICES {
        let rest: Vec<Slice> = pie.split_off(PIE_SLICES - 1);
        let mut rules: Vec<u32> = rest.iter().flat_map(|r| r.rules.iter().copied()).collect();
        rules.sort_unstable();
        rules.dedup();
        pie.push(Slice {
            label: format!("{} other descriptions", rest.len()),
            rules,
            count: rest.iter().map(|r| r.count).sum(),
        });
    }

    let mut totals: Vec<(&str, u64)> = s.groups().into_iter().collect();
    totals.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut groups: Vec<String> = totals.iter().take(STACK_GROUPS).map(|g| g.0.to_string()).collect();
    let other = totals.len() > STACK_GROUPS;
    if other {
        groups.push(format!("{} other groups", totals.len() - STACK_GROUPS));
    }
    let slot = |g: &str| groups.iter().take(STACK_GROUPS).position(|x| x == g).unwrap_or(STACK_GROUPS);

    let mut buckets = Vec::new();
    if let (Some((&first, _)), Some((&last, _))) =
        (s.groups_by_hour.first_key_value(), s.groups_by_hour.last_key_value())
    {
        let hours = ((last - first) / 3600 + 1) as usize;
        let per = hours.div_ceil(MAX_BUCKETS).max(1) as i64;
        let n = hours.div_ceil(per as usize);
        for i in 0..n as i64 {
            let start = first + i * per * 3600;
            buckets.push(Bucket { start, end: start + per * 3600, counts: vec![0; groups.len()] });
        }
        for (h, gs) in &s.groups_by_hour {
            let b = &mut buckets[((h - first) / 3600 / per) as usize];
            for (g, c) in gs {
                b.counts[slot(g)] += c;
            }
        }
    }
    Data { pie, groups, buckets }
}

/// The HTML page of a summary.
pub fn html(s: &Summary, title: &str) -> String {
    use std::fmt::Write;
    let data = chart_data(s);
    let json = serde_json::to_string(&data).unwrap_or_else(|_| "{}".into()).replace("</", "<\\/");
    let mut t = String::new();
    let row = |t: &mut String, cells: &[String]| {
        t.push_str("<tr>");
        for c in cells {
            let _ = write!(t, "<td>{}</td>", esc(c));
        }
        t.push_str("</tr>\n");
    };
    let _ = writeln!(
        t,
        "<h2>Alerts by rule</h2><table><tr><th>alerts</th><th>rule</th><th>level</th><th>description</th></tr>"
    );
    let mut rules: Vec<_> = s.by_rule.iter().collect();
    rules.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
    for (id, r) in rules {
        row(&mut t, &[r.count.to_string(), id.to_string(), r.level.to_string(), r.description.clone()]);
    }
    t.push_str("</table>\n<h2>Alerts by level</h2><table><tr><th>alerts</th><th>level</th></tr>\n");
    for (l, n) in s.by_level.iter().rev() {
        row(&mut t, &[n.to_string(), l.to_string()]);
    }
    t.push_str("</table>\n");
    for (title, map) in [("Top users", &s.users), ("Top source IPs", &s.source_ips)] {
        let _ = writeln!(
            t,
            "<h2>{title}</h2><table><tr><th>alerts</th><th>{}</th></tr>",
            if title.contains("users") { "user" } else { "address" }
        );
        for (k, n) in Summary::top(map, 20) {
            row(&mut t, &[n.to_string(), k.to_string()]);
        }
        t.push_str("</table>\n");
    }
    if s.failure_count > 0 {
        let _ = writeln!(
            t,
            "<h2>Inputs that gave no event ({})</h2><table><tr><th>where and why</th></tr>",
            s.failure_count
        );
        for f in &s.failures {
            row(&mut t, std::slice::from_ref(f));
        }
        t.push_str("</table>\n");
    }
    let kinds: Vec<String> = s.events_by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let span = match (s.groups_by_hour.first_key_value(), s.groups_by_hour.last_key_value()) {
        (Some((a, _)), Some((b, _))) => format!(", alerts from {} to {} UTC", utc(*a), utc(*b + 3600)),
        _ => String::new(),
    };
    format!(
        r##"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d2330; background: #fff; }}
h1 {{ font-size: 22px; margin: 0 0 4px; }} h2 {{ font-size: 17px; margin: 28px 0 8px; }}
.meta {{ color: #566; margin-bottom: 16px; }}
.dash {{ display: flex; flex-wrap: wrap; gap: 24px; }}
.card {{ border: 1px solid #d8dde6; border-radius: 8px; padding: 12px 16px; }}
.legend {{ list-style: none; padding: 0; margin: 8px 0 0; max-width: 520px; }}
.legend li {{ margin: 2px 0; }} .sw {{ display: inline-block; width: 11px; height: 11px; margin-right: 6px; border-radius: 2px; }}
table {{ border-collapse: collapse; }} td, th {{ border-bottom: 1px solid #e3e7ee; padding: 3px 10px; text-align: left; }}
td:first-child {{ text-align: right; font-variant-numeric: tabular-nums; }}
svg text {{ font: 11px system-ui, sans-serif; fill: #445; }}
</style></head><body>
<h1>{title}</h1>
<div class="meta">{events} events from {files} files ({kinds}), <b>{alerts}</b> alerts{span}{failures}</div>
<div class="dash">
<div class="card"><h2>Alerts by rule description</h2><svg id="pie" width="360" height="360" viewBox="-180 -180 360 360" role="img" aria-label="pie chart of alerts by rule description"></svg><ul class="legend" id="pie-legend"></ul></div>
<div class="card"><h2>Rule groups over time</h2><svg id="stack" width="720" height="360" role="img" aria-label="rule groups stacked over time"></svg><ul class="legend" id="stack-legend"></ul></div>
</div>
{tables}
<script type="application/json" id="data">{json}</script>
<script>
(function () {{
  var data = JSON.parse(document.getElementById('data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  var colors = ['#4e79a7','#f28e2b','#e15759','#76b7b2','#59a14f','#edc948','#b07aa1','#ff9da7','#9c755f','#bab0ac','#86bcb6','#d37295'];
  function el(tag, attrs, parent) {{
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    parent.appendChild(e); return e;
  }}
  function legend(id, items) {{
    var ul = document.getElementById(id);
    items.forEach(function (it, i) {{
      var li = document.createElement('li');
      var sw = document.createElement('span'); sw.className = 'sw'; sw.style.background = colors[i % colors.length];
      li.appendChild(sw); li.appendChild(document.createTextNode(it)); ul.appendChild(li);
    }});
  }}
  // Pie: one slice per rule description.
  var pie = document.getElementById('pie');
  var total = data.pie.reduce(function (s, x) {{ return s + x.count; }}, 0);
  var a = -Math.PI / 2, r = 170;
  data.pie.forEach(function (s, i) {{
    var attrs = {{ 'class': 'slice', fill: colors[i % colors.length], stroke: '#fff', 'stroke-width': 1,
      'data-label': s.label, 'data-count': s.count, 'data-rules': s.rules.join(' ') }};
    if (s.count === total) {{
      attrs.r = r; el('circle', attrs, pie);
    }} else {{
      var b = a + 2 * Math.PI * s.count / total;
      var large = b - a > Math.PI ? 1 : 0;
      attrs.d = 'M0,0 L' + (r * Math.cos(a)).toFixed(2) + ',' + (r * Math.sin(a)).toFixed(2) +
        ' A' + r + ',' + r + ' 0 ' + large + ' 1 ' + (r * Math.cos(b)).toFixed(2) + ',' + (r * Math.sin(b)).toFixed(2) + ' Z';
      el('path', attrs, pie); a = b;
    }}
    el('title', {{}}, pie.lastChild).textContent = s.label + ': ' + s.count;
  }});
  legend('pie-legend', data.pie.map(function (s) {{
    return s.label + ' (rule ' + s.rules.join(', ') + '): ' + s.count + ' (' + (100 * s.count / total).toFixed(1) + '%)';
  }}));
  // Stacked bars: rule groups per time bucket.
  var svg = document.getElementById('stack');
  var W = 720, H = 360, L = 48, B = 40, T = 10;
  var max = data.buckets.reduce(function (m, b) {{ return Math.max(m, b.counts.reduce(function (s, c) {{ return s + c; }}, 0)); }}, 0) || 1;
  var n = data.buckets.length || 1, bw = (W - L - 10) / n;
  el('line', {{ x1: L, y1: H - B, x2: W - 5, y2: H - B, stroke: '#889' }}, svg);
  el('line', {{ x1: L, y1: T, x2: L, y2: H - B, stroke: '#889' }}, svg);
  for (var k = 0; k <= 4; k++) {{
    var v = Math.round(max * k / 4), y = H - B - (H - B - T) * v / max;
    el('text', {{ x: L - 6, y: y + 4, 'text-anchor': 'end' }}, svg).textContent = v;
  }}
  data.buckets.forEach(function (b, i) {{
    var y = H - B;
    b.counts.forEach(function (c, g) {{
      if (!c) return;
      var h = (H - B - T) * c / max;
      y -= h;
      var rect = el('rect', {{ 'class': 'bar', x: (L + i * bw + 1).toFixed(2), y: y.toFixed(2), width: Math.max(bw - 2, 1).toFixed(2), height: h.toFixed(2),
        fill: colors[g % colors.length], 'data-group': data.groups[g], 'data-bucket': b.start, 'data-count': c }}, svg);
      el('title', {{}}, rect).textContent = data.groups[g] + ': ' + c;
    }});
    if (i % Math.ceil(n / 6) === 0) {{
      var d = new Date(b.start * 1000).toISOString().slice(0, 16).replace('T', ' ');
      el('text', {{ x: L + i * bw, y: H - B + 16 }}, svg).textContent = d;
    }}
  }});
  legend('stack-legend', data.groups);
  document.body.setAttribute('data-drawn', 'yes');
}})();
</script>
</body></html>
"##,
        title = esc(title),
        events = s.events,
        files = s.files,
        kinds = esc(&kinds.join(", ")),
        alerts = s.alerts,
        span = esc(&span),
        failures =
            if s.failure_count > 0 { format!(", {} inputs gave no event", s.failure_count) } else { String::new() },
        tables = t,
        json = json,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::summary::RuleCount;

    #[test]
    fn chart_data_adds_up() {
        let mut s = Summary::default();
        for (id, n, d) in [(1u32, 5u64, "r1"), (2, 3, "same"), (3, 3, "same")] {
            s.by_rule.insert(id, RuleCount { level: 3, description: d.into(), count: n });
            let e = s.by_description.entry(d.into()).or_default();
            e.count += n;
            e.rules.insert(id);
        }
        s.groups_by_hour.insert(0, [("a".to_string(), 4u64)].into());
        s.groups_by_hour.insert(7200, [("a".to_string(), 1u64), ("b".to_string(), 2u64)].into());
        let d = chart_data(&s);
        assert_eq!(d.pie[0].label, "same");
        assert_eq!(d.pie[0].count, 6);
        assert_eq!(d.pie[0].rules, vec![2, 3]);
        assert_eq!(d.groups, vec!["a", "b"]);
        assert_eq!(d.buckets.len(), 3);
        assert_eq!(d.buckets[0].counts, vec![4, 0]);
        assert_eq!(d.buckets[2].counts, vec![1, 2]);
        let page = html(&s, "t</script>");
        assert!(page.contains("t&lt;/script&gt;"));
        assert!(!page.contains("<script>t</script>"));
    }
}
