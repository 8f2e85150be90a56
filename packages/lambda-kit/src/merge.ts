type Json = Record<string, unknown>;

export const isPlainObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `overrides` laid over `base`: objects merge key by key, arrays and scalars replace. Used wherever
 * settings are layered (a run's config over the strategy's, a sweep variant over the sweep's base),
 * so a variant that sets `buy.rsi_low` keeps the base's `buy.rsi_high`.
 */
export const deepMerge = (base: Json, overrides: Json): Json => {
  const merged: Json = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    // JSON.parse output can carry a `__proto__` own key; never let it reach an object's prototype.
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    const current = merged[key];
    merged[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return merged;
};
