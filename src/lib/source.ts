import { LineCounter, parseAllDocuments, isMap, isSeq, isPair, isScalar, type Node, type Document } from 'yaml';
import type { FieldPath } from './field-path.js';

export interface Position {
  line: number;
  column: number;
}

/** One YAML (or JSON) document of a file, as plain data plus a way to map field paths back to positions. */
export interface SourceDocument {
  file: string;
  /** 0-based index of the document within its file. */
  index: number;
  value: unknown;
  /** Position of the document's start (its first content). */
  start: Position;
  /**
   * Position of the node at `path`. For `at: 'key'` the position of the map key that names the
   * field (useful for unknown fields). Missing nodes resolve to the deepest ancestor that exists.
   */
  locate(path: FieldPath, at?: 'key' | 'value'): Position;
}

export interface SyntaxProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface ParsedSource {
  documents: SourceDocument[];
  problems: SyntaxProblem[];
}

/**
 * Parses a multi-document YAML file (JSON is a subset of YAML 1.2 and goes through the same
 * parser). Documents with syntax errors are reported and left out; the rest are returned.
 */
export function parseSource(file: string, text: string): ParsedSource {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const documents: SourceDocument[] = [];
  const problems: SyntaxProblem[] = [];
  // parseAllDocuments returns an EmptyStream (an array) for input with no documents.
  const list: Document[] = Array.isArray(docs) ? (docs as Document[]) : [];
  list.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        const at = position(err.pos[0]);
        problems.push({ file, ...at, message: firstLine(err.message) });
      }
      return;
    }
    if (doc.contents === null) return; // an empty document between separators
    const root = doc.contents as Node;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      problems.push({ file, ...position(root.range?.[0] ?? 0), message: (err as Error).message });
      return;
    }
    documents.push({
      file,
      index,
      value,
      start: position(root.range?.[0] ?? 0),
      locate: (path, at = 'value') => position(offsetOf(root, path, at)),
    });
  });
  return { documents, problems };
}

function firstLine(message: string): string {
  const cut = message.indexOf(' at line ');
  return (cut > 0 ? message.slice(0, cut) : message.split('\n')[0] ?? message).trim();
}

function offsetOf(root: Node, path: FieldPath, at: 'key' | 'value'): number {
  let node: Node = root;
  let keyOffset: number | undefined;
  for (const part of path) {
    keyOffset = undefined;
    let next: Node | undefined;
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = pair.key;
        const name = isScalar(key) ? String(key.value) : undefined;
        if (name === String(part)) {
          keyOffset = (key as Node | null)?.range?.[0];
          next = (pair.value as Node | null) ?? undefined;
          // A key with no value (`foo:`) still has a position: the key's.
          if (!next) return keyOffset ?? node.range?.[0] ?? 0;
          break;
        }
      }
    } else if (isSeq(node) && typeof part === 'number') {
      const item = node.items[part];
      if (item && typeof item === 'object' && 'range' in item) next = item as Node;
    }
    if (!next) return node.range?.[0] ?? 0;
    node = next;
  }
  if (at === 'key' && keyOffset !== undefined) return keyOffset;
  return node.range?.[0] ?? 0;
}
