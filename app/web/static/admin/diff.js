// A line diff of two texts (longest common subsequence), for a draft against the version
// in force. Pure: no DOM.

const MAX_CELLS = 4_000_000; // beyond this the texts are shown as wholly replaced

/** [{op: 'same' | 'add' | 'del', text}] turning `before` into `after`, line by line. */
export function lineDiff(before, after) {
  const a = before.split('\n');
  const b = after.split('\n');
  if (a.length * b.length > MAX_CELLS) {
    return [...a.map((text) => ({ op: 'del', text })), ...b.map((text) => ({ op: 'add', text }))];
  }
  // lengths[i][j]: the longest common subsequence of a[i..] and b[j..]
  const lengths = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      lengths[i][j] = a[i] === b[j]
        ? lengths[i + 1][j + 1] + 1
        : Math.max(lengths[i + 1][j], lengths[i][j + 1]);
    }
  }
  const lines = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      lines.push({ op: 'same', text: a[i] });
      i += 1;
      j += 1;
    } else if (lengths[i + 1][j] >= lengths[i][j + 1]) {
      lines.push({ op: 'del', text: a[i] });
      i += 1;
    } else {
      lines.push({ op: 'add', text: b[j] });
      j += 1;
    }
  }
  for (; i < a.length; i += 1) lines.push({ op: 'del', text: a[i] });
  for (; j < b.length; j += 1) lines.push({ op: 'add', text: b[j] });
  return lines;
}

/** The changed lines with `context` unchanged lines around each run; a gap is
 *  `{op: 'gap', count}`. Empty when nothing changed. */
export function changesOnly(lines, context = 2) {
  const near = lines.map(() => false);
  lines.forEach((line, index) => {
    if (line.op === 'same') return;
    for (let k = Math.max(0, index - context); k <= Math.min(lines.length - 1, index + context); k += 1) {
      near[k] = true;
    }
  });
  if (!lines.some((line) => line.op !== 'same')) return [];
  const shown = [];
  let skipped = 0;
  lines.forEach((line, index) => {
    if (near[index]) {
      if (skipped) shown.push({ op: 'gap', count: skipped });
      skipped = 0;
      shown.push(line);
    } else {
      skipped += 1;
    }
  });
  if (skipped) shown.push({ op: 'gap', count: skipped });
  return shown;
}

/** The JSON text an editor starts from: stable key order, two-space indents. */
export function documentText(document) {
  return JSON.stringify(sortedKeys(document), null, 2);
}

function sortedKeys(value) {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortedKeys(value[key])]));
  }
  return value;
}
