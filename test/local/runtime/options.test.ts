/** `npm start -- [options]`: every option of the help text, its defaults, and a usage error for each kind of mistake. */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS, HELP, parseOptions } from '../../../local/runtime/options';

const run = (...argv: string[]) => {
  const r = parseOptions(argv, '/work');
  if (r.kind !== 'run') throw new Error(JSON.stringify(r));
  return r.options;
};
const error = (...argv: string[]) => {
  const r = parseOptions(argv, '/work');
  if (r.kind !== 'error') throw new Error(`expected an error for ${argv.join(' ')}, got ${JSON.stringify(r)}`);
  return r.message;
};

describe('npm start options', () => {
  it('defaults to the documented values, the data directory resolved against the working directory', () => {
    expect(run()).toEqual({ ...DEFAULT_OPTIONS, dataDir: resolve('/work', DEFAULT_OPTIONS.dataDir) });
  });

  it('accepts every option the help text lists, as --name value and as --name=value', () => {
    const listed = [...HELP.matchAll(/^\s+(?:-h, )?(--[a-z-]+)/gm)].map((m) => m[1]);
    expect(listed).toEqual(['--rate', '--users', '--duration', '--window', '--seed', '--invalid-ratio', '--duplicate-ratio', '--anonymous-ratio', '--buffer', '--stage', '--data-dir', '--keep-running', '--plain', '--help']);
    const options = run('--rate', '50', '--users=10', '--duration', '2.5', '--window=0', '--seed', '7', '--invalid-ratio', '0.1', '--duplicate-ratio=0.2', '--anonymous-ratio', '0.5', '--buffer', '0.5', '--stage', 'prod', '--data-dir=data', '--keep-running', '--plain');
    expect(options).toEqual({
      rate: 50,
      users: 10,
      durationSeconds: 2.5,
      windowSeconds: 0,
      seed: 7,
      invalidRatio: 0.1,
      duplicateRatio: 0.2,
      anonymousRatio: 0.5,
      bufferSeconds: 0.5,
      stage: 'prod',
      dataDir: '/work/data',
      keepRunning: true,
      plain: true,
    });
    expect(parseOptions(['--help'])).toEqual({ kind: 'help' });
    expect(parseOptions(['-h'])).toEqual({ kind: 'help' });
  });

  it('names the option and the value of every bad number', () => {
    expect(error('--rate', 'NaN')).toBe('--rate must be a number from 1 to 5000, got "NaN"');
    expect(error('--rate=')).toBe('--rate must be a number from 1 to 5000, got ""');
    expect(error('--users', '2.5')).toBe('--users must be an integer from 1 to 1000000, got "2.5"');
    expect(error('--window', '901')).toBe('--window must be an integer from 0 to 900, got "901"');
    expect(error('--seed=-1')).toBe('--seed must be an integer from 0 to 4294967295, got "-1"');
    expect(error('--anonymous-ratio', '1.5')).toBe('--anonymous-ratio must be a number from 0 to 1, got "1.5"');
    expect(error('--invalid-ratio', '0.6', '--duplicate-ratio', '0.6')).toBe('--invalid-ratio plus --duplicate-ratio must not exceed 1, got 1.2');
  });

  it('reports unknown options, missing values, values given to switches and stray arguments', () => {
    expect(error('--rte', '5')).toBe('unknown option --rte (see --help)');
    expect(error('--rate')).toBe('--rate needs a value');
    expect(error('--stage', '--plain')).toBe("--stage needs a value (write --stage=<value> for a value that starts with '-')");
    expect(error('--stage=')).toBe('--stage needs a value');
    expect(error('--plain=yes')).toBe('--plain takes no value');
    expect(error('fast')).toBe('unexpected argument fast (see --help)');
  });
});
