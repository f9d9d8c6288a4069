/**
 * Tiny hand-written JSON checks for the manifest and contract validators. The SDK must stay
 * small, so no schema library: each check records "path: problem" and returns the value when
 * it is of the right kind, so a bad manifest is reported whole instead of one field per try.
 */

export class Issues {
  readonly list: string[] = [];

  add(path: string, problem: string): void {
    this.list.push(`${path}: ${problem}`);
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function childPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

export function objectAt(
  parent: Record<string, unknown>,
  key: string,
  path: string,
  issues: Issues,
): Record<string, unknown> | undefined {
  const value = parent[key];
  if (isRecord(value)) return value;
  issues.add(childPath(path, key), value === undefined ? 'missing' : 'expected an object');
  return undefined;
}

export function stringAt(
  parent: Record<string, unknown>,
  key: string,
  path: string,
  issues: Issues,
  rule: { pattern?: RegExp; expected?: string; allowEmpty?: boolean } = {},
): string | undefined {
  const value = parent[key];
  const where = childPath(path, key);
  if (typeof value !== 'string') {
    issues.add(where, value === undefined ? 'missing' : 'expected a string');
    return undefined;
  }
  if (value === '' && !rule.allowEmpty) {
    issues.add(where, 'must not be empty');
    return undefined;
  }
  if (rule.pattern && !rule.pattern.test(value)) {
    issues.add(where, `expected ${rule.expected ?? `to match ${rule.pattern}`}, got ${JSON.stringify(value)}`);
    return undefined;
  }
  return value;
}

export function numberAt(
  parent: Record<string, unknown>,
  key: string,
  path: string,
  issues: Issues,
  rule: { integer?: boolean; min?: number; max?: number } = {},
): number | undefined {
  const value = parent[key];
  const where = childPath(path, key);
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    issues.add(where, value === undefined ? 'missing' : 'expected a finite number');
    return undefined;
  }
  if (rule.integer && !Number.isInteger(value)) {
    issues.add(where, `expected an integer, got ${value}`);
    return undefined;
  }
  if ((rule.min !== undefined && value < rule.min) || (rule.max !== undefined && value > rule.max)) {
    issues.add(where, `expected a number in [${rule.min ?? '-∞'}, ${rule.max ?? '∞'}], got ${value}`);
    return undefined;
  }
  return value;
}
