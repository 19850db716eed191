/** The pure parts of an erasure: whose rows are whose, rewriting each lake format, the SQL, the request. */
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { rawObjectBody, readRawRecords } from '../../core/lake/raw-framing';
import { countCuratedRowsSql, findObjectsSql, sqlId, unloadCuratedSql } from '../../core/privacy/lake-queries';
import { parseErasureRequest, erasureRequestBody } from '../../core/privacy/erasure';
import { rewriteLineObject } from '../../core/privacy/rewrite';
import { recordSubjectKey, SubjectMatcher, subjectHash } from '../../core/privacy/subject';
import { curationOf, ErasedSubjects, tombstoneHash } from '../../core/privacy/curation';
import { createHash } from 'node:crypto';

const person = new SubjectMatcher({ userId: 'u-1', anonymousIds: ['dev-1'] });
const json = (o: unknown) => Buffer.from(JSON.stringify(o));

describe('whose rows are whose', () => {
  it('an event is the person\'s by its subject: their user id, or no user id and their anonymous id', () => {
    expect(person.isEvent({ user_id: 'u-1' })).toBe(true);
    expect(person.isEvent({ anonymous_id: 'dev-1' })).toBe(true);
    expect(person.isEvent({ user_id: 'u-1', anonymous_id: 'other' })).toBe(true);
    // Someone else's identify on the person's (shared) device is that someone's.
    expect(person.isEvent({ user_id: 'u-2', anonymous_id: 'dev-1' })).toBe(false);
    expect(person.isEvent({ user_id: 'u-10' })).toBe(false);
  });

  it('a record that is not an event is theirs when it holds one of their ids as a JSON string', () => {
    expect(person.isRecord(Buffer.from('{"user_id":"u-1",'))).toBe(true);
    expect(person.isRecord(Buffer.from('{"user_id":"u-10",'))).toBe(false);
    expect(person.isRecord(Buffer.from('not json "dev-1"'))).toBe(true);
  });

  it('the audit hash is stable and is not the id', () => {
    expect(subjectHash('u-1')).toBe(subjectHash('u-1'));
    expect(subjectHash('u-1')).not.toContain('u-1');
    expect(subjectHash('u-1')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('rewriting lake objects', () => {
  it('raw: drops their records, keeps everyone else\'s byte for byte and in order, same framing and compression', () => {
    const keep = [json({ user_id: 'u-2', event_id: 'a' }), Buffer.from('line\nwith a newline'), json({ anonymous_id: 'dev-2' })];
    const records = [keep[0]!, json({ user_id: 'u-1', event_id: 'b' }), keep[1]!, json({ anonymous_id: 'dev-1' }), keep[2]!];
    const out = rewriteLineObject('raw', gzipSync(rawObjectBody(records)), person);
    expect(out.removed).toBe(2);
    expect(readRawRecords(gunzipSync(out.body!)).map((b) => b.toString())).toEqual(keep.map((b) => b.toString()));
  });

  it('raw: an object of theirs only is deleted; an object without them is left as it is', () => {
    expect(rewriteLineObject('raw', gzipSync(rawObjectBody([json({ user_id: 'u-1' })])), person)).toEqual({ body: null, removed: 1, kept: 0 });
    const other = gzipSync(rawObjectBody([json({ user_id: 'u-2' })]));
    expect(rewriteLineObject('raw', other, person).removed).toBe(0);
  });

  it('quarantine: by the payload (base64), or by the partition key when the payload says nothing', () => {
    const line = (payload: string, partition_key: string) => JSON.stringify({ reason: 'not_json', payload_base64: Buffer.from(payload).toString('base64'), partition_key });
    const lines = [line('{"user_id":"u-1","event_type":"hover"}', 'u-1'), line('garbage', 'u-1'), line('garbage', 'u-2'), line('{"user_id":"u-2"}', 'u-1')];
    const out = rewriteLineObject('quarantine', Buffer.from(lines.join('\n') + '\n'), person);
    expect(out.removed).toBe(2);
    expect(out.body!.toString()).toBe(`${lines[2]}\n${lines[3]}\n`);
  });

  it('profile exports: by the item\'s key, the user\'s and the anonymous profile\'s', () => {
    const item = (key: string) => JSON.stringify({ Item: { user_id: { S: key } } });
    const body = gzipSync(Buffer.from([item('u-1'), item('anon#dev-1'), item('u-2'), item('anon#dev-2')].join('\n') + '\n'));
    const out = rewriteLineObject('profileExports', body, person);
    expect(out.removed).toBe(2);
    expect(gunzipSync(out.body!).toString()).toBe(`${item('u-2')}\n${item('anon#dev-2')}\n`);
  });
});

describe('Athena SQL of an erasure', () => {
  it('refuses anything but an id where an id goes', () => {
    expect(sqlId('u-1')).toBe("'u-1'");
    expect(() => sqlId("u'; DROP TABLE x; --")).toThrow(/not an id/);
    expect(() => findObjectsSql('curated', 'db', { userId: "x' OR 1=1", anonymousIds: [] })).toThrow(/not an id/);
  });

  it('finds objects by "$path", and prunes the rewrite of one object to its partition', () => {
    expect(findObjectsSql('curated', 'db', { userId: 'u-1', anonymousIds: ['dev-1'] })).toBe(
      `SELECT DISTINCT "$path" AS path FROM "db"."curated_events" WHERE (user_id = 'u-1' OR (user_id IS NULL AND anonymous_id IN ('dev-1')))`,
    );
    expect(findObjectsSql('profileExports', 'db', { userId: 'u-1', anonymousIds: ['dev-1'] })).toContain(`item.user_id.s IN ('u-1', 'anon#dev-1')`);
    const key = 'events/dt=2026-03-01/hour=14/x.parquet';
    expect(countCuratedRowsSql('db', 'b', key, { userId: 'u-1', anonymousIds: [] })).toContain(`dt = '2026-03-01' AND hour = '14' AND "$path" = 's3://b/${key}'`);
    const unload = unloadCuratedSql('db', 'b', key, { userId: 'u-1', anonymousIds: [] }, 's3://r/erasure-staging/1/');
    expect(unload).toMatch(/^UNLOAD \(SELECT "schema_version", "event_id", "user_id", "anonymous_id", /);
    expect(unload).toContain(`AND NOT coalesce((user_id = 'u-1'), false)) TO 's3://r/erasure-staging/1/' WITH (format = 'PARQUET', compression = 'SNAPPY')`);
  });
});

describe('erasure requests', () => {
  it('round-trip through the queue message, and a bad one says what is wrong', () => {
    const request = { userId: 'u-1', anonymousIds: ['dev-1'], reference: 'ticket-7' };
    expect(parseErasureRequest(erasureRequestBody(request))).toEqual(request);
    expect(() => parseErasureRequest('{}')).toThrow(/names user_id or anonymous_ids/);
    expect(() => parseErasureRequest('{"user_id":"a b"}')).toThrow(/user_id/);
    expect(() => parseErasureRequest('nope')).toThrow(/JSON/);
  });
});

describe('the curated lake gate', () => {
  it('drops events without analytics consent and events of erased subjects; absent consent is granted', () => {
    const erased = new Set([tombstoneHash('u-1'), tombstoneHash('anon#dev-1')]);
    const gate = (e: unknown) => curationOf(e, new ErasedSubjects(erased));
    expect(gate({ user_id: 'u-2' })).toBe('keep');
    expect(gate({ user_id: 'u-2', consent: { personalization: false } })).toBe('keep');
    expect(gate({ user_id: 'u-2', consent: { analytics: false } })).toBe('no_analytics_consent');
    expect(gate({ user_id: 'u-1' })).toBe('erased_subject');
    expect(gate({ anonymous_id: 'dev-1' })).toBe('erased_subject');
    expect(gate({ user_id: 'u-2', anonymous_id: 'dev-1' })).toBe('keep');
  });
});

describe('the gates of the raw and quarantine zones (and the validated stream) after an erasure', () => {
  // The erasure of user u-1 and their linked device dev-1 leaves a tombstone per profile key.
  const erased = new ErasedSubjects(new Set([tombstoneHash('u-1'), tombstoneHash('anon#dev-1')]));

  it('tombstones are keyed by profile key: the user id, or anon#<anonymous id>', () => {
    expect(erased.has('u-1')).toBe(true);
    expect(erased.has('anon#dev-1')).toBe(true);
    // The bare anonymous id is not a profile key: an anonymous id equal to an erased user id is someone else.
    expect(erased.has('dev-1')).toBe(false);
    expect(erased.holds({ anonymous_id: 'u-1' })).toBe(false);
    expect(erased.holds({ user_id: 'dev-1' })).toBe(false);
    // The hash is the audit log's pseudonym (createHash and the one-shot hash agree).
    expect(tombstoneHash('u-1')).toBe(createHash('sha256').update('pdp-erasure:u-1').digest('hex'));
  });

  it('drops a record, valid or not, whose subject is erased: by its user id, else by its anonymous id', () => {
    expect(erased.holds({ user_id: 'u-1', event_type: 'purchase' })).toBe(true);
    expect(erased.holds({ anonymous_id: 'dev-1' })).toBe(true);
    expect(erased.holds({ user_id: 'u-1', anonymous_id: 'dev-9' })).toBe(true);
    // Invalid records: a missing event id, a wrong type elsewhere, an empty or non-string user id beside the device.
    expect(erased.holds({ user_id: 'u-1', event_type: 'hover' })).toBe(true);
    expect(erased.holds({ user_id: '', anonymous_id: 'dev-1', event_time: 'yesterday' })).toBe(true);
    expect(erased.holds({ user_id: 42, anonymous_id: 'dev-1' })).toBe(true);
    expect(erased.holdsBytes(json({ user_id: 'u-1', value: 'NaN' }))).toBe(true);
  });

  it('keeps everyone else, and what cannot be attributed', () => {
    expect(erased.holds({ user_id: 'u-2' })).toBe(false);
    expect(erased.holds({ anonymous_id: 'dev-2' })).toBe(false);
    // Another user's identify on the erased person's (shared) device is that user's: the erasure keeps it too.
    expect(erased.holds({ user_id: 'u-2', anonymous_id: 'dev-1', event_type: 'identify' })).toBe(false);
    for (const value of [undefined, null, 'u-1', ['u-1'], {}, { user_id: 7 }, { anonymous_id: '' }]) expect(erased.holds(value)).toBe(false);
    for (const bytes of [Buffer.from('{"user_id":"u-1"'), Buffer.from('not json u-1'), Buffer.alloc(0), gzipSync(json({ user_id: 'u-1' }))]) expect(erased.holdsBytes(bytes)).toBe(false);
  });

  it('drops exactly the event-shaped records the erasure removes as the person\'s', () => {
    const rows = [
      { user_id: 'u-1' }, { anonymous_id: 'dev-1' }, { user_id: 'u-1', anonymous_id: 'x' }, { user_id: 'u-2', anonymous_id: 'dev-1' },
      { user_id: '', anonymous_id: 'dev-1' }, { user_id: null, anonymous_id: 'dev-1' }, { user_id: 'u-2' }, { anonymous_id: 'u-1' },
    ];
    for (const row of rows) expect(erased.holds(row), JSON.stringify(row)).toBe(person.isEvent(row));
    expect(recordSubjectKey({ user_id: '', anonymous_id: 'dev-1' })).toBe('anon#dev-1');
    expect(recordSubjectKey({ user_id: 3 })).toBeUndefined();
  });

  it('with no tombstone, hashes nothing and keeps everything', () => {
    const none = new ErasedSubjects(new Set());
    expect(none.none).toBe(true);
    expect(none.holds({ user_id: 'u-1' })).toBe(false);
    expect(none.holdsBytes(json({ user_id: 'u-1' }))).toBe(false);
    expect(erased.none).toBe(false);
  });

  it('answers for a set of tombstones read again with the same hashes, not for one with another erasure', () => {
    const hashes = new Set([tombstoneHash('u-1'), tombstoneHash('anon#dev-1')]);
    const gate = new ErasedSubjects(hashes, 2);
    expect(gate.isFor(hashes)).toBe(true);
    expect(gate.isFor(new Set([tombstoneHash('anon#dev-1'), tombstoneHash('u-1')]))).toBe(true);
    expect(gate.isFor(new Set([tombstoneHash('u-1'), tombstoneHash('u-3')]))).toBe(false);
    expect(gate.isFor(new Set([...hashes, tombstoneHash('u-3')]))).toBe(false);
    // Each gate keeps its instance across batches while the tombstones read the same, and only then.
    expect(ErasedSubjects.over(new Set(hashes), gate)).toBe(gate);
    expect(ErasedSubjects.over(new Set([tombstoneHash('u-3')]), gate)).not.toBe(gate);
    expect(ErasedSubjects.over(hashes).isFor(hashes)).toBe(true);
    // Remembered answers are bounded; past the bound they are forgotten, never wrong.
    for (const key of ['u-1', 'u-2', 'u-3', 'anon#dev-1', 'u-1']) expect(gate.has(key)).toBe(key === 'u-1' || key === 'anon#dev-1');
  });

  it('the curated gate decides erasure by the same subject', () => {
    const hashes = new Set([tombstoneHash('u-1'), tombstoneHash('anon#dev-1')]);
    const gate = (e: unknown) => curationOf(e, new ErasedSubjects(hashes));
    for (const row of [{ user_id: 'u-1' }, { anonymous_id: 'dev-1' }, { user_id: 'u-2', anonymous_id: 'dev-1' }, { user_id: '', anonymous_id: 'dev-1' }]) {
      expect(gate(row) === 'erased_subject', JSON.stringify(row)).toBe(erased.holds(row));
    }
  });
});
