import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { packageInto } from './package-stack';

/** `sls package` takes ~10 s: every stack test file reads the one folder it fills, removed after. */
export default function setup(project: TestProject) {
  const dir = packageInto();
  project.provide('packagedDir', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    packagedDir: string;
  }
}
