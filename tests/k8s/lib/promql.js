'use strict';
// A small PromQL reader: enough to list the metric names and label names an
// expression uses (not a full parser).

const FUNCTIONS = new Set([
  'abs', 'absent', 'avg_over_time', 'ceil', 'changes', 'clamp_max', 'clamp_min', 'delta', 'deriv', 'exp',
  'floor', 'histogram_quantile', 'increase', 'irate', 'label_replace', 'ln', 'max_over_time',
  'min_over_time', 'predict_linear', 'rate', 'resets', 'round', 'scalar', 'sort', 'sort_desc', 'sqrt',
  'sum_over_time', 'time', 'timestamp', 'vector', 'label_values',
]);
const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'count', 'stddev', 'stdvar', 'topk', 'bottomk',
  'quantile', 'count_values', 'group']);
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and',
  'or', 'unless', 'offset']);

// analyze(expr): { metrics: [...], labels: [...], errors: [...] } for one
// expression. Grafana variables ($x, ${x}) are treated as opaque values.
function analyze(expr) {
  const errors = [];
  const metrics = [];
  const labels = [];
  let depth = 0;
  for (const ch of expr) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0) break;
  }
  if (depth !== 0) errors.push('unbalanced parentheses');
  // Quoted strings first: label values may hold anything.
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  // Label matchers: {name op "value", ...}.
  s = s.replace(/\{([^{}]*)\}/g, (all, body) => {
    for (const part of body.split(',')) {
      const m = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*""\s*$/.exec(part);
      if (m) labels.push(m[1]);
      else if (part.trim()) errors.push(`bad label matcher "${part.trim()}"`);
    }
    return ' ';
  });
  // Range selectors and durations: [5m], [$__rate_interval].
  s = s.replace(/\[[^\]]*\]/g, ' ');
  // Grouping clauses: by (a, b), without (...), on (...), ignoring (...).
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)/g, (all, kw, body) => {
    for (const l of body.split(',').map((x) => x.trim()).filter(Boolean)) labels.push(l);
    return ' ';
  });
  // Grafana's label_values(metric, label) names a label as its last argument.
  s = s.replace(/\blabel_values\s*\(([^,()]*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)/g, (all, sel, l) => {
    labels.push(l);
    return ` ${sel} `;
  });
  s = s.replace(/\$\{?[a-zA-Z_][a-zA-Z0-9_]*\}?/g, ' ');
  const re = /([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g;
  let m;
  while ((m = re.exec(s)) !== null) {
    const id = m[1];
    const prev = s[m.index - 1];
    if (prev && /[0-9.]/.test(prev)) continue; // exponent or unit of a number
    if (m[2]) {
      if (!FUNCTIONS.has(id) && !AGGREGATIONS.has(id)) errors.push(`unknown function ${id}`);
    } else if (KEYWORDS.has(id) || AGGREGATIONS.has(id)) {
      // "sum by (x) (...)" leaves "sum" before "by".
    } else {
      metrics.push(id);
    }
  }
  return { metrics, labels, errors };
}

module.exports = { analyze };
