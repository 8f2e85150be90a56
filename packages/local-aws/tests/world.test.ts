import { describe, expect, it } from 'vitest';
import { World } from '../src/world';

const newWorld = () => new World({ accountId: '123456789012', region: 'us-east-1', stage: 'local' });
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("the world's S3", () => {
  it('lists a prefix of one bucket in key order, however the keys came and went', () => {
    // Prepare: thousands of keys in a scrambled order, some deleted, another bucket beside
    const world = newWorld();
    const keys = Array.from({ length: 3_000 }, (_, i) => `runs/r-${(i * 7919) % 3_000}/file-${i % 3}`);
    for (const key of keys) world.putObject('b', key, key, false);
    world.putObject('b-other', 'runs/r-1/file-1', 'elsewhere', false);
    for (const key of keys.filter((_, i) => i % 5 === 0)) world.deleteObject('b', key);
    world.putObject('b', 'runs/r-1/file-1', 'overwritten', false);

    // Act
    const listed = world.listObjects('b', 'runs/r-1');

    // Assess: what a filter and sort over every object would give
    const kept = [...world.objects.keys()]
      .filter((id) => id.startsWith('b/runs/r-1'))
      .map((id) => id.slice(2))
      .sort((a, b) => (a < b ? -1 : 1));
    expect(listed.map(({ key }) => key)).toEqual(kept);
    expect(kept.length).toBeGreaterThan(5);
    expect(world.keys('b')).toHaveLength(world.objects.size - 1);
    expect(text(world.listObjects('b', 'runs/r-1/file-1')[0]?.object.body as Uint8Array)).toBe('overwritten');
    expect(world.listObjects('b', 'zzz')).toEqual([]);
    expect(world.listObjects('nobody', '')).toEqual([]);
  });

  it('keeps the objects set on its map directly listed too', () => {
    const world = newWorld();
    world.putObject('b', 'a/1', 'one', false);
    world.objects.delete('b/a/1');
    expect(world.keys('b')).toEqual([]);
    world.objects.clear();
    expect(world.keys('b')).toEqual([]);
  });

  it('makes a body again from its recipe once it no longer keeps it, byte for byte', () => {
    // Prepare: more remade bodies than the world keeps
    const world = newWorld();
    let made = 0;
    const recipe = (i: number) => () => {
      made++;
      return JSON.stringify({ result: i, padding: 'x'.repeat(100) });
    };
    for (let i = 0; i < 1_000; i++)
      world.putRemadeObject('b', `r/${i}.json`, { bytes: recipe(i)(), again: recipe(i) });
    made = 0;

    // Act
    const first = world.getObject('b', 'r/0.json');
    const last = world.getObject('b', 'r/999.json');

    // Assess: the oldest is made again, the latest is still kept; sizes never need the body
    expect(JSON.parse(text(first?.body as Uint8Array))).toMatchObject({ result: 0 });
    expect(JSON.parse(text(last?.body as Uint8Array))).toMatchObject({ result: 999 });
    expect(made).toBe(1);
    expect(first?.size).toBe(first?.body.length);
    expect(world.changes.at(-1)).toEqual({
      kind: 's3:put',
      uri: 's3://b/r/999.json',
      bytes: last?.size,
    });
  });
});
