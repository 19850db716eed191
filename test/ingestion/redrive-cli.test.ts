/** `npm run redrive` refuses numbers it cannot use (NaN, blanks, fractions, exponents, out of range) with a usage error. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors';
import { checkRedriveOptions, parseRedriveArgs, redriveRanges } from '../../scripts/redrive';

const ROOT = join(__dirname, '..', '..');

describe('redrive options', () => {
  it('reads the command line, with its defaults', () => {
    expect(parseRedriveArgs(['--file', 'ranges.jsonl'])).toEqual({ help: false, file: 'ranges.jsonl', dryRun: false, maxMessages: 1000, retentionHours: 24, batchSize: 500 });
    expect(parseRedriveArgs(['--queue-url', 'http://q', '--batch-size', '100', '--retention-hours', '168', '--dry-run'])).toMatchObject({ queueUrl: 'http://q', batchSize: 100, retentionHours: 168, dryRun: true });
  });

  it('rejects NaN and every other number it cannot use, naming the option and the value', () => {
    for (const [option, value] of [
      ['--batch-size', 'NaN'],
      ['--batch-size', ''],
      ['--batch-size', ' 7 '],
      ['--batch-size', '1e3'],
      ['--batch-size', '0x10'],
      ['--batch-size', '2.5'],
      ['--batch-size', '0'],
      ['--batch-size', '10001'],
      ['--max-messages', 'Infinity'],
      ['--max-messages', '-1'],
      ['--retention-hours', '23'],
      ['--retention-hours', 'NaN'],
    ]) {
      let message = '';
      try {
        parseRedriveArgs(['--file', 'f', `${option}=${value}`]);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        message = (err as Error).message;
      }
      expect(message, `${option}=${value}`).toMatch(new RegExp(`^${option} must be an integer from \\d+ to \\d+, got `));
      expect(message.endsWith(`got ${JSON.stringify(value)}`), message).toBe(true);
    }
    expect(() => parseRedriveArgs([])).toThrow(ConfigError);
    expect(() => parseRedriveArgs(['--file', 'f', '--queue-url', 'q'])).toThrow(/exactly one of --queue-url and --file/);
  });

  it('the library refuses NaN too, before it reads or invokes anything', async () => {
    expect(() => checkRedriveOptions({ batchSize: NaN })).toThrow(/batchSize must be an integer from 1 to 10000, got NaN/);
    expect(() => checkRedriveOptions({ retentionHours: 1.5, attempts: 0 })).toThrow(/retentionHours must be .* got 1.5; attempts must be an integer from 1 to 100, got 0/);
    const invoke = () => Promise.reject(new Error('must not be called'));
    await expect(redriveRanges([], { retentionHours: NaN, invoke })).rejects.toThrow(ConfigError);
  });

  it('the command prints the problem and its usage, no stack trace, and exits with 2', () => {
    const out = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'redrive.ts'), '--file', 'none.jsonl', '--batch-size', 'NaN'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(/^--batch-size must be an integer from 1 to 10000, got "NaN"\n\nusage: npm run redrive/);
    expect(out.stderr).not.toMatch(/^\s+at /m);
  }, 90_000);
});
