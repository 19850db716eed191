/**
 * Reading a function's configuration from its environment: every variable is checked, every problem is
 * collected, and one ConfigError names them all (the variable, the value and what it must be), so a
 * misconfigured function fails at its first invocation with a message that says what to fix instead of
 * running with a silent default.
 */
import { ConfigError } from './errors';

export type Env = Readonly<Record<string, string | undefined>>;

export class EnvReader {
  private readonly problems: string[] = [];

  constructor(
    private readonly env: Env,
    /** What is being configured, the start of the error message ("aggregator configuration"). */
    private readonly subject: string,
  ) {}

  /** A required non-empty string. */
  text(name: string): string {
    const v = this.env[name];
    if (!v) this.problems.push(`${name} is not set`);
    return v ?? '';
  }

  /** An optional string (undefined when unset or empty). */
  optionalText(name: string): string | undefined {
    const v = this.env[name];
    return v ? v : undefined;
  }

  /** An integer within [min, max]; `fallback` when unset (required when there is none). */
  int(name: string, options: { min?: number; max?: number; fallback?: number } = {}): number {
    const raw = this.env[name];
    if (raw === undefined || raw === '') {
      if (options.fallback !== undefined) return options.fallback;
      this.problems.push(`${name} is not set`);
      return NaN;
    }
    const min = options.min ?? 0;
    const max = options.max ?? Number.MAX_SAFE_INTEGER;
    const n = Number(raw.trim());
    if (raw.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
      return NaN;
    }
    return n;
  }

  /** A JSON object; `{}` when unset. */
  jsonObject(name: string): Record<string, unknown> {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return {};
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      this.problems.push(`${name} is not JSON, got ${JSON.stringify(raw.slice(0, 80))}`);
      return {};
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.problems.push(`${name} must be a JSON object, got ${JSON.stringify(raw.slice(0, 80))}`);
      return {};
    }
    return value as Record<string, unknown>;
  }

  /** Records a problem found by the caller's own check. */
  report(problem: string): void {
    this.problems.push(problem);
  }

  /** Throws one ConfigError naming every problem found, if any. */
  done(): void {
    if (this.problems.length > 0) throw new ConfigError(`${this.subject}: ${this.problems.join('; ')}`);
  }
}
