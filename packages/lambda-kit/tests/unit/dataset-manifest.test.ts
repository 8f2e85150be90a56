import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ccxtSymbolSchema, check, datasetManifestKey, s3Prefix, symbolKeySegment } from '../../src';

describe('dataset manifest keys', () => {
  it('names the manifest of one (exchange, symbol, timeframe)', () => {
    expect(datasetManifestKey(s3Prefix('datasets'), 'binance', 'BTC/USDT:USDT', '1h')).toBe(
      'datasets/binance/BTC_USDT_USDT/1h/manifest.json',
    );
  });

  it('maps distinct valid symbols to distinct key segments', () => {
    const part = fc.stringMatching(/^[A-Z0-9]{1,5}$/);
    const symbol = fc
      .tuple(part, part, fc.option(part, { nil: undefined }))
      .map(([base, quote, settle]) => (settle ? `${base}/${quote}:${settle}` : `${base}/${quote}`));
    fc.assert(
      fc.property(symbol, symbol, (a, b) => {
        expect(check(ccxtSymbolSchema, a).ok).toBe(true);
        expect(symbolKeySegment(a) === symbolKeySegment(b)).toBe(a === b);
      }),
      { numRuns: 1_000 },
    );
  });
});
