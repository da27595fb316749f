'use strict';
// Reads metric names and their label names from the Prometheus text format
// or from the documented list (metrics.txt).

// A metric set: { names: Map(series name -> Set(label names)), families }.

// fromExposition(text): the series and labels of a /metrics scrape. A
// histogram family yields its _bucket (with "le"), _sum and _count series.
function fromExposition(text) {
  const set = { names: new Map(), families: 0 };
  const types = new Map();
  for (const line of text.split('\n')) {
    const t = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)/.exec(line);
    if (t) {
      set.families++;
      types.set(t[1], t[2]);
      addFamily(set, t[1], t[2], []);
      continue;
    }
    const s = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s/.exec(line);
    if (!s || !set.names.has(s[1])) continue;
    const labels = set.names.get(s[1]);
    for (const m of (s[3] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(m[1]);
  }
  return set;
}

// fromDocumented(text): the same from "family type label,label" lines.
function fromDocumented(text) {
  const set = { names: new Map(), families: 0 };
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const [name, type, ls] = line.trim().split(/\s+/);
    set.families++;
    addFamily(set, name, type, ls && ls !== '-' ? ls.split(',') : []);
  }
  return set;
}

function addFamily(set, name, type, labels) {
  const add = (n, extra) => set.names.set(n, new Set([...labels, ...extra]));
  if (type === 'histogram') {
    add(`${name}_bucket`, ['le']);
    add(`${name}_sum`, []);
    add(`${name}_count`, []);
  } else if (type === 'summary') {
    add(name, ['quantile']);
    add(`${name}_sum`, []);
    add(`${name}_count`, []);
  } else {
    add(name, []);
  }
}

module.exports = { fromExposition, fromDocumented };
