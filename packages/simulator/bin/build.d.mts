// Types of bin/build.mjs, for the tests that check the bundle the bin runs.
export const DIST: string;
export const CODE_CACHE: string;
export const stale: () => boolean;
export const dynamicImports: (metafile: {
  outputs: Record<string, { imports: { path: string; kind: string }[] }>;
}) => string[];
export const build: () => Promise<number>;
