/**
 * Where the platform's validator is more lenient or stricter than a standard JSON Schema 2020-12 validator
 * given the published schema file (ajv with ajv-formats, as a producer in another language would use one),
 * over every case of the test/contract corpus: each difference must be one the contract package's README
 * documents (its table "Compared with a standard 2020-12 validator"), and each documented difference must
 * occur in the corpus, so the table can neither miss a difference nor describe one that no longer exists.
 */
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KNOWN_MINOR, SUPPORTED_MAJOR, validateRecord, type ValidationResult } from '@personalization-data-platform/contract';
import { ARRIVAL_MS, HOSTILE_CORPUS, type HostileCase } from './fixtures/hostile-corpus';

const ROOT = join(__dirname, '..', '..');
const schema = JSON.parse(readFileSync(join(ROOT, 'contract', 'event.schema.json'), 'utf8'));
const standard = addFormats(new Ajv2020({ strict: false, allErrors: true })).compile(schema);

type Direction = 'lenient' | 'stricter';

interface Difference {
  readonly direction: Direction;
  /** Whether this documented difference explains the platform's verdict on this case. */
  readonly explains: (value: Record<string, unknown>, ours: ValidationResult) => boolean;
}

const minorOf = (value: Record<string, unknown>): number => Number(String(value.schema_version).split('.')[1]);
const errorRules = (ours: ValidationResult): string[] => (ours.ok ? [] : ours.errors.map((e) => `${e.path}:${e.rule}`));

/** The differences, by the id the README table gives each. */
const DIFFERENCES: Record<string, Difference> = {
  'newer-minor-version': {
    direction: 'lenient',
    explains: (value, ours) => ours.ok && ours.droppedUnknownFields && minorOf(value) > KNOWN_MINOR,
  },
  'normalized-before-validation': {
    direction: 'lenient',
    explains: (_value, ours) => ours.ok && !ours.droppedUnknownFields && standard(ours.event),
  },
  'normalized-to-invalid': {
    direction: 'stricter',
    explains: (_value, ours) => !ours.ok && ours.reason === 'schema_violation' && errorRules(ours).every((r) => r === '/context/search_query:minLength'),
  },
  'record-size': {
    direction: 'stricter',
    explains: (_value, ours) => !ours.ok && ours.reason === 'size_violation',
  },
  'unique-member-names': {
    direction: 'stricter',
    explains: (_value, ours) => !ours.ok && ours.reason === 'ambiguous_json',
  },
  'rfc3339-date-time': {
    direction: 'stricter',
    explains: (_value, ours) => !ours.ok && ours.reason === 'schema_violation' && errorRules(ours).every((r) => r === '/event_time:format'),
  },
  'event-time-window': {
    direction: 'stricter',
    explains: (_value, ours) => !ours.ok && ours.reason === 'timestamp_out_of_range',
  },
  'supported-major-version': {
    direction: 'stricter',
    explains: (value, ours) => !ours.ok && ours.reason === 'unsupported_schema_version' && Number(String(value.schema_version).split('.')[0]) !== SUPPORTED_MAJOR,
  },
};

/** The ids in the first column of the README's comparison table. */
function documentedIds(): string[] {
  const readme = readFileSync(join(ROOT, 'core', 'contract', 'README.md'), 'utf8');
  const section = readme.split('## Compared with a standard 2020-12 validator')[1]?.split('\n## ')[0] ?? '';
  return [...section.matchAll(/^\| `([a-z0-9-]+)` \| (more lenient|stricter) \|/gm)].map((m) => `${m[1]}/${m[2] === 'stricter' ? 'stricter' : 'lenient'}`);
}

interface Observed {
  readonly name: string;
  readonly ours: boolean;
  readonly standard: boolean;
  readonly explainedBy: string[];
}

function compare(c: HostileCase): Observed | undefined {
  const bytes = typeof c.payload === 'string' ? Buffer.from(c.payload, 'utf8') : c.payload;
  let value: unknown;
  try {
    // A byte order mark stays in the text (RFC 8259 forbids sending one), and JSON.parse refuses it.
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
  } catch {
    return undefined; // Not a JSON text: there is nothing for a schema validator to validate; both refuse it.
  }
  const ours = validateRecord(bytes, ARRIVAL_MS);
  const theirs = standard(value);
  if (theirs === ours.ok || typeof value !== 'object' || value === null) return { name: c.name, ours: ours.ok, standard: theirs, explainedBy: [] };
  const direction: Direction = ours.ok ? 'lenient' : 'stricter';
  const explainedBy = Object.entries(DIFFERENCES)
    .filter(([, d]) => d.direction === direction && d.explains(value as Record<string, unknown>, ours))
    .map(([id]) => id);
  return { name: c.name, ours: ours.ok, standard: theirs, explainedBy };
}

describe('the platform compared with a standard JSON Schema 2020-12 validator', () => {
  const observed = HOSTILE_CORPUS.map(compare).filter((o): o is Observed => o !== undefined);
  const differences = observed.filter((o) => o.ours !== o.standard);

  it('agrees on most of the corpus', () => {
    expect(observed.length).toBeGreaterThan(300);
    expect(differences.length).toBeLessThan(observed.length / 5);
  });

  it('differs only where the contract README says, each difference explained by exactly one documented rule', () => {
    const unexplained = differences.filter((d) => d.explainedBy.length !== 1).map((d) => `${d.name} (${d.ours ? 'platform accepts' : 'platform rejects'}; explained by: ${d.explainedBy.join(', ') || 'nothing'})`);
    expect(unexplained).toEqual([]);
  });

  it('documents every difference that occurs, and no difference that does not', () => {
    const occurring = new Set(differences.flatMap((d) => d.explainedBy.map((id) => `${id}/${DIFFERENCES[id]!.direction}`)));
    expect(documentedIds().sort()).toEqual([...occurring].sort());
  });

  it('validates against the file the contract package ships, whose $id is the published address', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toMatch(/^https:\/\/personalization-data-platform\.github\.io\/schemas\/event\/\d+\/event\.schema\.json$/);
    expect(schema.$id).toContain(`/event/${SUPPORTED_MAJOR}/`);
  });
});
