/**
 * Reads Prometheus text exposition back into samples: for tests that scrape a proxy as
 * Prometheus would, and for anything in the mesh that reads a proxy's metrics (the service
 * graph) without a Prometheus server. Strict about what the writer emits: a malformed line throws.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** `# TYPE` per family name. */
  types: Map<string, string>;
  /** `# HELP` per family name. */
  help: Map<string, string>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/;

export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    if (line.startsWith('# TYPE ')) {
      const [name = '', type = ''] = line.slice(7).split(' ');
      types.set(name, type);
      return;
    }
    if (line.startsWith('# HELP ')) {
      const rest = line.slice(7);
      const sp = rest.indexOf(' ');
      help.set(rest.slice(0, sp), rest.slice(sp + 1).replace(/\\n/g, '\n').replace(/\\\\/g, '\\'));
      return;
    }
    if (line.startsWith('#')) return;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`line ${i + 1}: not a sample: ${line}`);
    const raw = m[3] ?? '';
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (raw !== 'NaN' && Number.isNaN(value)) throw new Error(`line ${i + 1}: bad value ${raw}`);
    samples.push({ name: m[1] ?? '', labels: parseLabels(m[2] ?? '', i + 1), value });
  });
  return { samples, types, help };
}

function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('="', i);
    if (eq < 0) throw new Error(`line ${line}: bad labels: ${text}`);
    const name = text.slice(i, eq);
    let j = eq + 2;
    let value = '';
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const next = text[++j];
        value += next === 'n' ? '\n' : (next ?? '');
      } else value += text[j];
    }
    if (j >= text.length) throw new Error(`line ${line}: unterminated label value: ${text}`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
  }
  return labels;
}

/** Sum of the samples named `name` whose labels include every pair in `match`. */
export function sum(samples: readonly Sample[], name: string, match: Record<string, string> = {}): number {
  let total = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}
