import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = path.join(import.meta.dirname, '../../docs/decisions');
const records = readdirSync(DIR).filter((name) => /^\d{4}-.+\.md$/.test(name));

describe('docs/decisions', () => {
  it.each(records)('%s says its status near its top, and the index lists it', (name) => {
    // Act
    const text = readFileSync(path.join(DIR, name), 'utf8');
    const index = readFileSync(path.join(DIR, 'README.md'), 'utf8');

    // Assess
    expect(text.split('\n').slice(0, 6).join('\n')).toMatch(/^Status: (Accepted|Superseded|Proposed)\b/m);
    expect(index).toContain(`(${name})`);
  });
});
