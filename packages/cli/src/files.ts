/**
 * Reads documents from YAML or JSON files for `weft apply`: several YAML documents separated by
 * `---`, a top-level list, or `{ documents: [...] }`. Each document is validated locally first, so
 * errors name the file, the document's position and the field before anything is sent.
 */
import { readFileSync } from 'node:fs';
import { type ConfigDocument, validateDocument } from '@weft/core/config';
import { parseAllDocuments } from 'yaml';

export class FileError extends Error {
  readonly issues: readonly string[];
  constructor(message: string, issues: readonly string[]) {
    super(message);
    this.name = 'FileError';
    this.issues = issues;
  }
}

/** Parses and validates every document of `text` (from `file`, used in messages). */
export function parseDocuments(text: string, file: string): ConfigDocument[] {
  const raw: unknown[] = [];
  const issues: string[] = [];
  for (const doc of parseAllDocuments(text)) {
    if ('errors' in doc && doc.errors.length) {
      for (const e of doc.errors) issues.push(`${file}: ${e.message.split('\n')[0]}`);
      continue;
    }
    const value = doc.toJS();
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) raw.push(...value);
    else if (typeof value === 'object' && Array.isArray((value as { documents?: unknown }).documents))
      raw.push(...(value as { documents: unknown[] }).documents);
    else raw.push(value);
  }
  if (issues.length) throw new FileError(`${file}: not valid YAML or JSON`, issues);
  const docs: ConfigDocument[] = [];
  raw.forEach((value, i) => {
    const r = validateDocument(value);
    if (r.ok) docs.push(r.document);
    else for (const issue of r.issues) issues.push(`${file} document ${i + 1}: ${issue}`);
  });
  if (issues.length) throw new FileError(`${file}: invalid document`, issues);
  if (docs.length === 0)
    throw new FileError(`${file}: no documents`, [`${file}: the file holds no documents`]);
  return docs;
}

export function readDocuments(file: string): ConfigDocument[] {
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (error) {
    throw new FileError(`${file}: ${(error as Error).message}`, []);
  }
  return parseDocuments(text, file);
}
